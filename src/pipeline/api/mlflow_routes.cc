#include "pipeline/api/mlflow_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <string_view>

namespace sagebox::pipeline::api {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using nlohmann::json;
using tracking::KeyValue;

// MLflow's LogBatch limits (mlflow/utils/validation.py MAX_METRICS_PER_BATCH, ...; the REST
// reference's "Request Limits" of runs/log-batch).
constexpr size_t kMaxMetricsPerBatch = 1000;
constexpr size_t kMaxParamsPerBatch = 100;
constexpr size_t kMaxTagsPerBatch = 100;
constexpr size_t kMaxEntitiesPerBatch = 1000;

ApiResponse MlflowError(int status, std::string_view code, std::string_view message) {
  return http::JsonResponse({{"error_code", code}, {"message", message}}, status);
}

ApiResponse FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", s.message());
    case StatusCode::kAlreadyExists:
      return MlflowError(400, "RESOURCE_ALREADY_EXISTS", s.message());
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadInput:
      return MlflowError(400, "INVALID_PARAMETER_VALUE", s.message());
    default:
      return MlflowError(500, "INTERNAL_ERROR", s.ToString());
  }
}

// A request's fields: the query string for GET (repeated keys become arrays), else the JSON
// body (the query string when the body is empty, as a DELETE may send it).
struct Input {
  json j = json::object();
};

Status Missing(std::string_view field) {
  return InvalidArgument(fmt::format(
      "Missing value for required parameter '{}'. See the API docs for more information about "
      "request parameters.",
      field));
}

StatusOr<Input> ReadInput(const ApiRequest& req) {
  Input in;
  const bool has_body = req.body.find_first_not_of(" \t\r\n") != std::string::npos;
  if (req.method == "GET" || !has_body) {
    for (const auto& [k, v] : req.params) {
      if (!in.j.contains(k)) {
        in.j[k] = v;
      } else if (in.j[k].is_array()) {
        in.j[k].push_back(v);
      } else {
        in.j[k] = json::array({in.j[k], v});
      }
    }
    return in;
  }
  in.j = json::parse(req.body, nullptr, false);
  if (in.j.is_discarded() || !in.j.is_object()) {
    return InvalidArgument("Malformed request: the body is not a JSON object");
  }
  return in;
}

// A string field; "" when absent. InvalidArgument when it is not a string.
StatusOr<std::string> Str(const Input& in, const char* field, bool required = false) {
  auto it = in.j.find(field);
  if (it == in.j.end() || it->is_null()) {
    if (required) return Missing(field);
    return std::string();
  }
  if (it->is_string()) {
    if (required && it->get<std::string>().empty()) return Missing(field);
    return it->get<std::string>();
  }
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return InvalidArgument(
      fmt::format("Invalid value {} for parameter '{}' supplied: expected a "
                  "string",
                  it->dump(), field));
}

// An int64 field, as a number or proto JSON's decimal string.
StatusOr<std::optional<int64_t>> Int(const Input& in, const char* field) {
  auto it = in.j.find(field);
  if (it == in.j.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) {
      return std::optional<int64_t>(v);
    }
  }
  return InvalidArgument(fmt::format(
      "Invalid value {} for parameter '{}' supplied: expected an integer", it->dump(), field));
}

// A double: a number, or "NaN", "Infinity", "-Infinity" as proto JSON writes them.
StatusOr<double> Double(const json& v, const char* field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return InvalidArgument(fmt::format(
      "Invalid value {} for parameter '{}' supplied: expected a number", v.dump(), field));
}

StatusOr<std::vector<std::string>> List(const Input& in, const char* field) {
  std::vector<std::string> out;
  auto it = in.j.find(field);
  if (it == in.j.end() || it->is_null()) return out;
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) {
    return InvalidArgument(
        fmt::format("Invalid value {} for parameter '{}': expected a list", it->dump(), field));
  }
  for (const auto& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else if (v.is_number_integer()) {
      out.push_back(std::to_string(v.get<int64_t>()));
    } else {
      return InvalidArgument(
          fmt::format("Invalid value {} in parameter '{}': expected strings", v.dump(), field));
    }
  }
  return out;
}

StatusOr<std::vector<KeyValue>> Tags(const json& arr, const char* field) {
  std::vector<KeyValue> out;
  if (arr.is_null()) return out;
  if (!arr.is_array()) {
    return InvalidArgument(
        fmt::format("Invalid value for parameter '{}': expected a list of "
                    "{{\"key\", \"value\"}}",
                    field));
  }
  for (const auto& t : arr) {
    if (!t.is_object() || !t.contains("key") || !t["key"].is_string()) {
      return InvalidArgument(
          fmt::format("Invalid value {} in parameter '{}': expected "
                      "{{\"key\": string, \"value\": string}}",
                      t.dump(), field));
    }
    std::string value;
    if (t.contains("value") && t["value"].is_string()) value = t["value"].get<std::string>();
    out.push_back({t["key"].get<std::string>(), value});
  }
  return out;
}

StatusOr<std::vector<KeyValue>> TagsField(const Input& in, const char* field) {
  auto it = in.j.find(field);
  if (it == in.j.end()) return std::vector<KeyValue>{};
  return Tags(*it, field);
}

// run_id, or the deprecated run_uuid MLflow still accepts.
StatusOr<std::string> RunId(const Input& in) {
  ASSIGN_OR_RETURN(std::string id, Str(in, "run_id"));
  if (id.empty()) {
    ASSIGN_OR_RETURN(id, Str(in, "run_uuid"));
  }
  if (id.empty()) return Missing("run_id");
  return id;
}

json KeyValuesJson(const std::vector<KeyValue>& kvs) {
  json arr = json::array();
  for (const auto& kv : kvs) arr.push_back({{"key", kv.key}, {"value", kv.value}});
  return arr;
}

json DoubleJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

StatusOr<tracking::SearchRequest> SearchFields(const Input& in, int64_t default_max,
                                               const char* view_field) {
  tracking::SearchRequest req;
  ASSIGN_OR_RETURN(req.filter, Str(in, "filter"));
  ASSIGN_OR_RETURN(req.order_by, List(in, "order_by"));
  ASSIGN_OR_RETURN(req.page_token, Str(in, "page_token"));
  ASSIGN_OR_RETURN(auto max, Int(in, "max_results"));
  req.max_results = max.value_or(default_max);
  if (view_field != nullptr) {
    ASSIGN_OR_RETURN(std::string view, Str(in, view_field));
    ASSIGN_OR_RETURN(req.view, tracking::ParseViewType(view));
  }
  return req;
}

template <typename T>
json PageJson(const tracking::Page<T>& page, const char* field,
              const std::function<json(const T&)>& to_json) {
  json out = json::object();
  json items = json::array();
  for (const auto& item : page.items) items.push_back(to_json(item));
  if (!items.empty()) out[field] = items;
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return out;
}

using Endpoint =
    std::function<StatusOr<json>(tracking::TrackingStore*, const Input&, const ApiRequest&)>;

// (method, path below the prefix) → handler.
const std::map<std::pair<std::string, std::string>, Endpoint>& Endpoints() {
  using tracking::TrackingStore;
  static const std::map<std::pair<std::string, std::string>, Endpoint> kEndpoints = [] {
    std::map<std::pair<std::string, std::string>, Endpoint> m;
    // -------------------------------------------------------------- experiments
    m[{"POST", "experiments/create"}] = [](TrackingStore* s, const Input& in,
                                           const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string location, Str(in, "artifact_location"));
      ASSIGN_OR_RETURN(auto tags, TagsField(in, "tags"));
      ASSIGN_OR_RETURN(std::string id, s->CreateExperiment(name, location, tags));
      return json{{"experiment_id", id}};
    };
    m[{"GET", "experiments/get"}] = [](TrackingStore* s, const Input& in,
                                       const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, Str(in, "experiment_id", true));
      ASSIGN_OR_RETURN(auto e, s->GetExperiment(id));
      return json{{"experiment", ExperimentJson(e)}};
    };
    m[{"GET", "experiments/get-by-name"}] = [](TrackingStore* s, const Input& in,
                                               const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "experiment_name", true));
      ASSIGN_OR_RETURN(auto e, s->GetExperimentByName(name));
      return json{{"experiment", ExperimentJson(e)}};
    };
    Endpoint search_experiments = [](TrackingStore* s, const Input& in,
                                     const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(auto req, SearchFields(in, 1000, "view_type"));
      ASSIGN_OR_RETURN(auto page, s->SearchExperiments(req));
      return PageJson<tracking::Experiment>(page, "experiments", ExperimentJson);
    };
    m[{"POST", "experiments/search"}] = search_experiments;
    m[{"GET", "experiments/search"}] = search_experiments;
    m[{"POST", "experiments/update"}] = [](TrackingStore* s, const Input& in,
                                           const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, Str(in, "experiment_id", true));
      ASSIGN_OR_RETURN(std::string name, Str(in, "new_name", true));
      RETURN_IF_ERROR(s->RenameExperiment(id, name));
      return json::object();
    };
    m[{"POST", "experiments/delete"}] = [](TrackingStore* s, const Input& in,
                                           const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, Str(in, "experiment_id", true));
      RETURN_IF_ERROR(s->DeleteExperiment(id));
      return json::object();
    };
    m[{"POST", "experiments/restore"}] = [](TrackingStore* s, const Input& in,
                                            const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, Str(in, "experiment_id", true));
      RETURN_IF_ERROR(s->RestoreExperiment(id));
      return json::object();
    };
    m[{"POST", "experiments/set-experiment-tag"}] = [](TrackingStore* s, const Input& in,
                                                       const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, Str(in, "experiment_id", true));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      ASSIGN_OR_RETURN(std::string value, Str(in, "value"));
      RETURN_IF_ERROR(s->SetExperimentTag(id, {key, value}));
      return json::object();
    };
    // -------------------------------------------------------------- runs
    m[{"POST", "runs/create"}] = [](TrackingStore* s, const Input& in,
                                    const ApiRequest& req) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string experiment, Str(in, "experiment_id"));
      ASSIGN_OR_RETURN(std::string user, Str(in, "user_id"));
      ASSIGN_OR_RETURN(std::string name, Str(in, "run_name"));
      ASSIGN_OR_RETURN(auto start, Int(in, "start_time"));
      ASSIGN_OR_RETURN(auto tags, TagsField(in, "tags"));
      if (user.empty()) user = req.principal.name;
      ASSIGN_OR_RETURN(auto run, s->CreateRun(experiment, user, name, start.value_or(0), tags));
      return json{{"run", RunJson(run)}};
    };
    m[{"GET", "runs/get"}] = [](TrackingStore* s, const Input& in,
                                const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(auto run, s->GetRun(id));
      return json{{"run", RunJson(run)}};
    };
    m[{"POST", "runs/update"}] = [](TrackingStore* s, const Input& in,
                                    const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string status, Str(in, "status"));
      ASSIGN_OR_RETURN(auto end, Int(in, "end_time"));
      ASSIGN_OR_RETURN(std::string name, Str(in, "run_name"));
      ASSIGN_OR_RETURN(auto info, s->UpdateRun(id, status, end, name));
      return json{{"run_info", RunInfoJson(info)}};
    };
    m[{"POST", "runs/delete"}] = [](TrackingStore* s, const Input& in,
                                    const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      RETURN_IF_ERROR(s->DeleteRun(id));
      return json::object();
    };
    m[{"POST", "runs/restore"}] = [](TrackingStore* s, const Input& in,
                                     const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      RETURN_IF_ERROR(s->RestoreRun(id));
      return json::object();
    };
    m[{"POST", "runs/search"}] = [](TrackingStore* s, const Input& in,
                                    const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(auto req, SearchFields(in, 1000, "run_view_type"));
      ASSIGN_OR_RETURN(req.experiment_ids, List(in, "experiment_ids"));
      ASSIGN_OR_RETURN(auto page, s->SearchRuns(req));
      return PageJson<tracking::Run>(page, "runs", RunJson);
    };
    m[{"POST", "runs/log-metric"}] = [](TrackingStore* s, const Input& in,
                                        const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      if (!in.j.contains("value")) return Missing("value");
      ASSIGN_OR_RETURN(double value, Double(in.j["value"], "value"));
      ASSIGN_OR_RETURN(auto ts, Int(in, "timestamp"));
      if (!ts.has_value()) return Missing("timestamp");
      ASSIGN_OR_RETURN(auto step, Int(in, "step"));
      RETURN_IF_ERROR(s->LogBatch(id, {{key, value, *ts, step.value_or(0)}}, {}, {}));
      return json::object();
    };
    m[{"POST", "runs/log-parameter"}] = [](TrackingStore* s, const Input& in,
                                           const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      ASSIGN_OR_RETURN(std::string value, Str(in, "value"));
      RETURN_IF_ERROR(s->LogBatch(id, {}, {{key, value}}, {}));
      return json::object();
    };
    m[{"POST", "runs/set-tag"}] = [](TrackingStore* s, const Input& in,
                                     const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      ASSIGN_OR_RETURN(std::string value, Str(in, "value"));
      RETURN_IF_ERROR(s->LogBatch(id, {}, {}, {{key, value}}));
      return json::object();
    };
    m[{"POST", "runs/delete-tag"}] = [](TrackingStore* s, const Input& in,
                                        const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      RETURN_IF_ERROR(s->DeleteTag(id, key));
      return json::object();
    };
    m[{"POST", "runs/log-batch"}] = [](TrackingStore* s, const Input& in,
                                       const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      const json metrics = in.j.value("metrics", json::array());
      ASSIGN_OR_RETURN(auto params, Tags(in.j.value("params", json::array()), "params"));
      ASSIGN_OR_RETURN(auto tags, Tags(in.j.value("tags", json::array()), "tags"));
      if (!metrics.is_array()) return InvalidArgument("Invalid value for parameter 'metrics'");
      auto over = [](size_t max, size_t got, const char* what) {
        return InvalidArgument(fmt::format(
            "A batch logging request can contain at most {} {}. Got {} {}. Please split up {} "
            "across multiple requests and try again.",
            max, what, got, what, what));
      };
      if (metrics.size() > kMaxMetricsPerBatch) {
        return over(kMaxMetricsPerBatch, metrics.size(), "metrics");
      }
      if (params.size() > kMaxParamsPerBatch) {
        return over(kMaxParamsPerBatch, params.size(), "params");
      }
      if (tags.size() > kMaxTagsPerBatch) return over(kMaxTagsPerBatch, tags.size(), "tags");
      const size_t total = metrics.size() + params.size() + tags.size();
      if (total > kMaxEntitiesPerBatch) {
        return InvalidArgument(fmt::format(
            "A batch logging request can contain at most {} metrics, params, and tags in total. "
            "Got {} total. Please split up across multiple requests and try again.",
            kMaxEntitiesPerBatch, total));
      }
      std::vector<tracking::Metric> ms;
      for (const auto& mj : metrics) {
        if (!mj.is_object() || !mj.contains("key") || !mj["key"].is_string() ||
            !mj.contains("value") || !mj.contains("timestamp")) {
          return InvalidArgument(fmt::format(
              "Invalid metric {}: expected {{\"key\", \"value\", \"timestamp\", \"step\"}}",
              mj.dump()));
        }
        Input one;
        one.j = mj;
        ASSIGN_OR_RETURN(double v, Double(mj["value"], "value"));
        ASSIGN_OR_RETURN(auto ts, Int(one, "timestamp"));
        ASSIGN_OR_RETURN(auto step, Int(one, "step"));
        ms.push_back({mj["key"].get<std::string>(), v, ts.value_or(0), step.value_or(0)});
      }
      RETURN_IF_ERROR(s->LogBatch(id, ms, params, tags));
      return json::object();
    };
    m[{"GET", "metrics/get-history"}] = [](TrackingStore* s, const Input& in,
                                           const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string key, Str(in, "metric_key", true));
      ASSIGN_OR_RETURN(auto history, s->MetricHistory(id, key));
      json arr = json::array();
      for (const auto& mm : history) arr.push_back(MetricJson(mm));
      json out = json::object();
      if (!arr.empty()) out["metrics"] = arr;
      return out;
    };
    m[{"GET", "artifacts/list"}] = [](TrackingStore* s, const Input& in,
                                      const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string id, RunId(in));
      ASSIGN_OR_RETURN(std::string path, Str(in, "path"));
      ASSIGN_OR_RETURN(auto run, s->GetRun(id));
      ASSIGN_OR_RETURN(auto entries, s->ListArtifacts(id, path));
      json files = json::array();
      for (const auto& e : entries) {
        json f = {{"path", e.path}, {"is_dir", e.is_dir}};
        if (!e.is_dir) f["file_size"] = e.file_size;
        files.push_back(f);
      }
      json out = {{"root_uri", run.info.artifact_uri}};
      if (!files.empty()) out["files"] = files;
      return out;
    };
    // -------------------------------------------------------------- registered models
    m[{"POST", "registered-models/create"}] = [](TrackingStore* s, const Input& in,
                                                 const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string description, Str(in, "description"));
      ASSIGN_OR_RETURN(auto tags, TagsField(in, "tags"));
      ASSIGN_OR_RETURN(auto model, s->CreateRegisteredModel(name, description, tags));
      return json{{"registered_model", RegisteredModelJson(model)}};
    };
    m[{"GET", "registered-models/get"}] = [](TrackingStore* s, const Input& in,
                                             const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(auto model, s->GetRegisteredModel(name));
      return json{{"registered_model", RegisteredModelJson(model)}};
    };
    m[{"POST", "registered-models/rename"}] = [](TrackingStore* s, const Input& in,
                                                 const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string new_name, Str(in, "new_name", true));
      ASSIGN_OR_RETURN(auto model, s->RenameRegisteredModel(name, new_name));
      return json{{"registered_model", RegisteredModelJson(model)}};
    };
    m[{"PATCH", "registered-models/update"}] = [](TrackingStore* s, const Input& in,
                                                  const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string description, Str(in, "description"));
      ASSIGN_OR_RETURN(auto model, s->UpdateRegisteredModel(name, description));
      return json{{"registered_model", RegisteredModelJson(model)}};
    };
    m[{"DELETE", "registered-models/delete"}] = [](TrackingStore* s, const Input& in,
                                                   const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      RETURN_IF_ERROR(s->DeleteRegisteredModel(name));
      return json::object();
    };
    m[{"GET", "registered-models/search"}] = [](TrackingStore* s, const Input& in,
                                                const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(auto req, SearchFields(in, 100, nullptr));
      ASSIGN_OR_RETURN(auto page, s->SearchRegisteredModels(req));
      return PageJson<tracking::RegisteredModel>(page, "registered_models", RegisteredModelJson);
    };
    m[{"POST", "registered-models/set-tag"}] = [](TrackingStore* s, const Input& in,
                                                  const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      ASSIGN_OR_RETURN(std::string value, Str(in, "value"));
      RETURN_IF_ERROR(s->SetRegisteredModelTag(name, {key, value}));
      return json::object();
    };
    m[{"POST", "registered-models/alias"}] = [](TrackingStore* s, const Input& in,
                                                const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string alias, Str(in, "alias", true));
      ASSIGN_OR_RETURN(std::string version, Str(in, "version", true));
      RETURN_IF_ERROR(s->SetAlias(name, alias, version));
      return json::object();
    };
    m[{"DELETE", "registered-models/alias"}] = [](TrackingStore* s, const Input& in,
                                                  const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string alias, Str(in, "alias", true));
      RETURN_IF_ERROR(s->DeleteAlias(name, alias));
      return json::object();
    };
    m[{"GET", "registered-models/alias"}] = [](TrackingStore* s, const Input& in,
                                               const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string alias, Str(in, "alias", true));
      ASSIGN_OR_RETURN(auto mv, s->GetVersionByAlias(name, alias));
      return json{{"model_version", ModelVersionJson(mv)}};
    };
    // -------------------------------------------------------------- model versions
    m[{"POST", "model-versions/create"}] = [](TrackingStore* s, const Input& in,
                                              const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string source, Str(in, "source", true));
      ASSIGN_OR_RETURN(std::string run_id, Str(in, "run_id"));
      ASSIGN_OR_RETURN(std::string run_link, Str(in, "run_link"));
      ASSIGN_OR_RETURN(std::string description, Str(in, "description"));
      ASSIGN_OR_RETURN(auto tags, TagsField(in, "tags"));
      ASSIGN_OR_RETURN(auto mv,
                       s->CreateModelVersion(name, source, run_id, run_link, description, tags));
      return json{{"model_version", ModelVersionJson(mv)}};
    };
    m[{"GET", "model-versions/get"}] = [](TrackingStore* s, const Input& in,
                                          const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string version, Str(in, "version", true));
      ASSIGN_OR_RETURN(auto mv, s->GetModelVersion(name, version));
      return json{{"model_version", ModelVersionJson(mv)}};
    };
    m[{"PATCH", "model-versions/update"}] = [](TrackingStore* s, const Input& in,
                                               const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string version, Str(in, "version", true));
      ASSIGN_OR_RETURN(std::string description, Str(in, "description"));
      ASSIGN_OR_RETURN(auto mv, s->UpdateModelVersion(name, version, description));
      return json{{"model_version", ModelVersionJson(mv)}};
    };
    m[{"DELETE", "model-versions/delete"}] = [](TrackingStore* s, const Input& in,
                                                const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string version, Str(in, "version", true));
      RETURN_IF_ERROR(s->DeleteModelVersion(name, version));
      return json::object();
    };
    m[{"GET", "model-versions/search"}] = [](TrackingStore* s, const Input& in,
                                             const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(auto req, SearchFields(in, 10000, nullptr));
      ASSIGN_OR_RETURN(auto page, s->SearchModelVersions(req));
      return PageJson<tracking::ModelVersion>(page, "model_versions", ModelVersionJson);
    };
    m[{"POST", "model-versions/set-tag"}] = [](TrackingStore* s, const Input& in,
                                               const ApiRequest&) -> StatusOr<json> {
      ASSIGN_OR_RETURN(std::string name, Str(in, "name", true));
      ASSIGN_OR_RETURN(std::string version, Str(in, "version", true));
      ASSIGN_OR_RETURN(std::string key, Str(in, "key", true));
      ASSIGN_OR_RETURN(std::string value, Str(in, "value"));
      RETURN_IF_ERROR(s->SetModelVersionTag(name, version, {key, value}));
      return json::object();
    };
    return m;
  }();
  return kEndpoints;
}

}  // namespace

json ExperimentJson(const tracking::Experiment& e) {
  json j = {{"experiment_id", e.experiment_id},         {"name", e.name},
            {"artifact_location", e.artifact_location}, {"lifecycle_stage", e.lifecycle_stage},
            {"last_update_time", e.last_update_time},   {"creation_time", e.creation_time}};
  if (!e.tags.empty()) j["tags"] = KeyValuesJson(e.tags);
  return j;
}

json RunInfoJson(const tracking::RunInfo& i) {
  json j = {{"run_id", i.run_id},
            {"run_uuid", i.run_id},
            {"run_name", i.run_name},
            {"experiment_id", i.experiment_id},
            {"user_id", i.user_id},
            {"status", i.status},
            {"start_time", i.start_time},
            {"artifact_uri", i.artifact_uri},
            {"lifecycle_stage", i.lifecycle_stage}};
  if (i.end_time.has_value()) j["end_time"] = *i.end_time;
  return j;
}

json MetricJson(const tracking::Metric& m) {
  return {
      {"key", m.key}, {"value", DoubleJson(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
}

json RunJson(const tracking::Run& r) {
  json data = json::object();
  if (!r.metrics.empty()) {
    json arr = json::array();
    for (const auto& m : r.metrics) arr.push_back(MetricJson(m));
    data["metrics"] = arr;
  }
  if (!r.params.empty()) data["params"] = KeyValuesJson(r.params);
  if (!r.tags.empty()) data["tags"] = KeyValuesJson(r.tags);
  return {{"info", RunInfoJson(r.info)}, {"data", data}, {"inputs", json::object()}};
}

json ModelVersionJson(const tracking::ModelVersion& v) {
  json j = {{"name", v.name},
            {"version", v.version},
            {"creation_timestamp", v.creation_timestamp},
            {"last_updated_timestamp", v.last_updated_timestamp},
            {"current_stage", v.current_stage},
            {"description", v.description},
            {"source", v.source},
            {"run_id", v.run_id},
            {"status", v.status}};
  if (!v.run_link.empty()) j["run_link"] = v.run_link;
  if (!v.tags.empty()) j["tags"] = KeyValuesJson(v.tags);
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  return j;
}

json RegisteredModelJson(const tracking::RegisteredModel& m) {
  json j = {{"name", m.name},
            {"creation_timestamp", m.creation_timestamp},
            {"last_updated_timestamp", m.last_updated_timestamp},
            {"description", m.description}};
  if (!m.latest_versions.empty()) {
    json arr = json::array();
    for (const auto& v : m.latest_versions) arr.push_back(ModelVersionJson(v));
    j["latest_versions"] = arr;
  }
  if (!m.tags.empty()) j["tags"] = KeyValuesJson(m.tags);
  if (!m.aliases.empty()) {
    json arr = json::array();
    for (const auto& [alias, version] : m.aliases) {
      arr.push_back({{"alias", alias}, {"version", version}});
    }
    j["aliases"] = arr;
  }
  return j;
}

ApiResponse MlflowApi::Handle(const ApiRequest& req) {
  std::string_view path = req.path;
  if (path.starts_with(kMlflowPrefix)) {
    path.remove_prefix(std::string_view(kMlflowPrefix).size());
  } else if (path.starts_with(kMlflowAjaxPrefix)) {
    path.remove_prefix(std::string_view(kMlflowAjaxPrefix).size());
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  const auto& endpoints = Endpoints();
  auto it = endpoints.find({req.method, std::string(path)});
  if (it == endpoints.end()) {
    std::string allowed;
    for (const auto& [key, fn] : endpoints) {
      if (key.second == path) allowed += (allowed.empty() ? "" : ", ") + key.first;
    }
    if (!allowed.empty()) {
      ApiResponse r = MlflowError(405, "BAD_REQUEST",
                                  fmt::format("{} {}: use {}", req.method, req.path, allowed));
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    return MlflowError(404, "ENDPOINT_NOT_FOUND",
                       fmt::format("No API endpoint at {} {}", req.method, req.path));
  }
  auto in = ReadInput(req);
  if (!in.ok()) return FromStatus(in.status());
  try {
    auto out = it->second(store_, *in, req);
    if (!out.ok()) return FromStatus(out.status());
    return http::JsonResponse(*out);
  } catch (const json::exception& e) {  // a field of an unexpected JSON type
    return MlflowError(400, "INVALID_PARAMETER_VALUE", e.what());
  }
}

void MlflowApi::Register(http::Router& router) {
  router.AddApi("mlflow", kMlflowPrefix, [this](const ApiRequest& r) { return Handle(r); });
  router.AddRest("mlflow", kMlflowAjaxPrefix, "",
                 [this](const ApiRequest& r) { return Handle(r); });
}

}  // namespace sagebox::pipeline::api
