#include "endpoint/api/endpoint_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "endpoint/kserve_codec.h"
#include "http/metrics.h"

namespace sagebox::endpoint::api {

using http::ApiRequest;
using http::ApiResponse;
using nlohmann::json;

namespace {

constexpr std::string_view kTritonBinaryContentType =
    "application/vnd.sagemaker-triton.binary+json";

// SageMaker Runtime is a REST-JSON protocol: botocore reads the error code from
// x-amzn-ErrorType, the message from the body.
ApiResponse SageMakerError(int status, std::string_view type, std::string_view message,
                           json extra = json::object()) {
  ApiResponse r = http::AwsJsonError(status, type, message);
  r.content_type = "application/json";
  if (!extra.empty()) {
    json body = json::parse(r.body);
    for (auto& [k, v] : extra.items()) body[k] = v;
    r.body = body.dump();
  }
  return r;
}

ApiResponse KServeError(int status, std::string_view message) {
  return http::JsonResponse(ErrorJson(message), status);
}

int KServeStatusFor(const Status& s) {
  if (IsModelTooLarge(s)) return 507;
  switch (s.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadInput:
      return 400;
    case StatusCode::kResourceExhausted:
      return IsInsufficientMemory(s) ? 507 : 429;
    case StatusCode::kAlreadyExists:
      return 409;
    default:
      return 500;
  }
}

// The optional header length of the binary-data extension: KServe's header, or
// SageMaker's content type ("...binary+json;json-header-size=N").
StatusOr<std::optional<size_t>> HeaderLength(const ApiRequest& req) {
  std::string v = req.Header("Inference-Header-Content-Length");
  const std::string ct = req.Header("Content-Type");
  if (v.empty() && ct.starts_with(kTritonBinaryContentType)) {
    auto pos = ct.find("json-header-size=");
    if (pos == std::string::npos) {
      return InvalidArgument("Content-Type " + ct + " needs json-header-size=N");
    }
    v = ct.substr(pos + 17);
  }
  if (v.empty()) return std::optional<size_t>();
  size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > (size_t{1} << 40)) {
      return InvalidArgument("bad JSON header length '" + v + "'");
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n > req.body.size()) {
    return InvalidArgument(fmt::format("JSON header length {} is larger than the body ({} bytes)",
                                       n, req.body.size()));
  }
  return std::optional<size_t>(n);
}

// A request body decoded: the binary-data extension's header length (HeaderLength)
// and the KServe v2 request, with its parameters.binary_data_output.
struct DecodedInfer {
  InferRequest request;
  bool all_binary = false;
};

StatusOr<DecodedInfer> DecodeInfer(const ApiRequest& req) {
  auto hlen = HeaderLength(req);
  if (!hlen.ok()) return hlen.status();
  DecodedInfer d;
  auto parsed = ParseInferRequest(req.body, *hlen, &d.all_binary);
  if (!parsed.ok()) return parsed.status();
  d.request = std::move(*parsed);
  return d;
}

// `all_binary`: the request's parameters.binary_data_output.
// `outputs`: the outputs the request asked for (empty: all).
ApiResponse EncodeResponse(const InferResponse& resp, const std::vector<RequestedOutput>& outputs,
                           bool all_binary, bool sagemaker) {
  auto enc = EncodeInferResponse(resp, outputs, all_binary);
  if (!enc.ok()) return KServeError(400, enc.status().message());
  ApiResponse r;
  r.body = std::move(enc->body);
  r.content_type = enc->content_type;
  if (enc->header_length) {
    if (sagemaker) {
      r.content_type =
          fmt::format("{};json-header-size={}", kTritonBinaryContentType, *enc->header_length);
    } else {
      r.headers.emplace_back("Inference-Header-Content-Length",
                             std::to_string(*enc->header_length));
    }
  }
  return r;
}

std::chrono::steady_clock::time_point Deadline(const EndpointRegistry& reg) {
  return std::chrono::steady_clock::now() + reg.options().wait_budget;
}

// ---- SageMaker Runtime -----------------------------------------------------

ApiResponse Invocations(EndpointRegistry* reg, const ApiRequest& req) {
  // /endpoints/{EndpointName}/invocations
  std::string_view rest = std::string_view(req.path).substr(std::string_view("/endpoints/").size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || rest.substr(slash) != "/invocations") {
    return SageMakerError(404, "UnknownOperationException", "no operation at " + req.path);
  }
  if (req.method != "POST") {
    return SageMakerError(405, "ValidationError", "InvokeEndpoint takes POST");
  }
  const std::string name(rest.substr(0, slash));
  auto ep = reg->Find(name);
  if (!ep) {
    return SageMakerError(
        400, "ValidationError",
        fmt::format("Endpoint {} of account {} not found.", name, reg->options().account));
  }
  const std::string target = req.Header("X-Amzn-SageMaker-Target-Model");
  if (target.empty()) {
    return SageMakerError(400, "ValidationError",
                          "this is a multi-model endpoint: the X-Amzn-SageMaker-Target-Model "
                          "header (TargetModel) is required");
  }
  auto model_error = [&](int original, const std::string& message) {
    return SageMakerError(424, "ModelError",
                          fmt::format("Received client error ({}) from model with message \"{}\".",
                                      original, message),
                          {{"OriginalStatusCode", original}, {"OriginalMessage", message}});
  };
  auto decoded = DecodeInfer(req);
  if (!decoded.ok()) return model_error(400, decoded.status().message());
  // Only the requested outputs are kept for the answer: the tensors move on.
  const std::vector<RequestedOutput> outputs = decoded->request.outputs;
  InferStage stage = InferStage::kLoad;
  auto resp = ep->server->Infer(target, std::move(decoded->request), Deadline(*reg), &stage);
  if (!resp.ok()) {
    const Status& s = resp.status();
    if (stage == InferStage::kLoad) {
      if (IsModelNotReady(s) || IsInsufficientMemory(s)) {
        return SageMakerError(429, "ModelNotReadyException", s.message());
      }
      if (IsModelTooLarge(s)) return model_error(507, s.message());
      if (s.code() == StatusCode::kNotFound) {
        return SageMakerError(400, "ValidationError",
                              fmt::format("Failed to download model data(bucket: {}, key: {}). "
                                          "Please ensure that there is an object located at the "
                                          "URL and that the role passed to CreateModel has "
                                          "permissions to download the model. ({})",
                                          ep->model_data_url, target, s.message()));
      }
      return model_error(
          s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kBadInput ? 400 : 500,
          s.message());
    }
    return model_error(stage == InferStage::kValidate ? 400 : 500, s.message());
  }
  ApiResponse r = EncodeResponse(*resp, outputs, decoded->all_binary, /*sagemaker=*/true);
  r.headers.emplace_back("X-Amzn-Invoked-Production-Variant", "AllTraffic");
  return r;
}

// ---- SageMaker control plane -----------------------------------------------

ApiResponse ControlPlane(EndpointRegistry* reg, const ApiRequest& req) {
  const std::string target = req.Header("X-Amz-Target");
  const std::string op = target.substr(target.find('.') + 1);
  json in = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return http::AwsJsonError(400, "SerializationException", "the body is not a JSON object");
  }
  auto str = [&](const char* k) {
    return in.contains(k) && in[k].is_string() ? in[k].get<std::string>() : std::string();
  };
  auto validation = [](const std::string& m) {
    return http::AwsJsonError(400, "ValidationException", m);
  };
  const int64_t now = reg->env()->Now();
  if (op == "CreateModel") {
    EndpointRegistry::ModelDef m;
    m.name = str("ModelName");
    if (m.name.empty()) return validation("ModelName is required");
    const json pc = in.value("PrimaryContainer", json::object());
    if (!pc.is_object()) return validation("PrimaryContainer must be an object");
    auto field = [&](const char* k, const char* def) {
      return pc.contains(k) && pc[k].is_string() ? pc[k].get<std::string>() : std::string(def);
    };
    m.model_data_url = field("ModelDataUrl", "");
    m.mode = field("Mode", "SingleModel");
    m.image = field("Image", "");
    m.role = str("ExecutionRoleArn");
    if (m.mode != "MultiModel") {
      return validation(
          "sagebox serves multi-model endpoints: PrimaryContainer.Mode must be MultiModel");
    }
    if (m.model_data_url.empty()) return validation("PrimaryContainer.ModelDataUrl is required");
    if (!m.model_data_url.starts_with("file://") && !m.model_data_url.starts_with("/")) {
      return validation("ModelDataUrl " + m.model_data_url +
                        ": sagebox serves model stores on local disk (a folder or file:// URL); "
                        "copy the archives there first");
    }
    m.created_unix = now;
    Status s = reg->PutModel(m);
    if (s.code() == StatusCode::kAlreadyExists) {
      return validation("Cannot create already existing model \"" + reg->Arn("model", m.name) +
                        "\".");
    }
    if (!s.ok()) return http::AwsJsonError(500, "InternalFailure", s.message());
    return http::JsonResponse({{"ModelArn", reg->Arn("model", m.name)}});
  }
  if (op == "DescribeModel" || op == "DeleteModel") {
    auto m = reg->GetModel(str("ModelName"));
    if (!m.ok()) {
      return validation("Could not find model \"" + reg->Arn("model", str("ModelName")) + "\".");
    }
    if (op == "DeleteModel") {
      Status s = reg->DeleteModel(m->name);
      if (!s.ok()) return http::AwsJsonError(500, "InternalFailure", s.message());
      return http::JsonResponse(json::object());
    }
    return http::JsonResponse(
        {{"ModelName", m->name},
         {"ModelArn", reg->Arn("model", m->name)},
         {"PrimaryContainer",
          {{"Image", m->image}, {"ModelDataUrl", m->model_data_url}, {"Mode", m->mode}}},
         {"ExecutionRoleArn", m->role},
         {"CreationTime", m->created_unix}});
  }
  if (op == "CreateEndpointConfig") {
    EndpointRegistry::ConfigDef c;
    c.name = str("EndpointConfigName");
    if (c.name.empty()) return validation("EndpointConfigName is required");
    const json variants = in.value("ProductionVariants", json::array());
    if (!variants.is_array() || variants.size() != 1 || !variants[0].is_object()) {
      return validation(
          "ProductionVariants must hold exactly one variant (sagebox runs one instance per "
          "endpoint)");
    }
    const json& v = variants[0];
    auto vstr = [&](const char* k, const char* def) {
      return v.contains(k) && v[k].is_string() ? v[k].get<std::string>() : std::string(def);
    };
    c.model_name = vstr("ModelName", "");
    c.instance_type = vstr("InstanceType", "");
    c.variant = vstr("VariantName", "AllTraffic");
    c.instance_count =
        v.contains("InitialInstanceCount") && v["InitialInstanceCount"].is_number_integer()
            ? v["InitialInstanceCount"].get<int64_t>()
            : 1;
    c.created_unix = now;
    if (!reg->GetModel(c.model_name).ok()) {
      return validation("Could not find model \"" + reg->Arn("model", c.model_name) + "\".");
    }
    Status s = reg->PutConfig(c);
    if (s.code() == StatusCode::kAlreadyExists) {
      return validation("Cannot create already existing endpoint configuration \"" +
                        reg->Arn("endpoint-config", c.name) + "\".");
    }
    if (!s.ok()) return http::AwsJsonError(500, "InternalFailure", s.message());
    return http::JsonResponse({{"EndpointConfigArn", reg->Arn("endpoint-config", c.name)}});
  }
  if (op == "DescribeEndpointConfig" || op == "DeleteEndpointConfig") {
    auto c = reg->GetConfig(str("EndpointConfigName"));
    if (!c.ok()) {
      return validation("Could not find endpoint configuration \"" +
                        reg->Arn("endpoint-config", str("EndpointConfigName")) + "\".");
    }
    if (op == "DeleteEndpointConfig") {
      Status s = reg->DeleteConfig(c->name);
      if (!s.ok()) return http::AwsJsonError(500, "InternalFailure", s.message());
      return http::JsonResponse(json::object());
    }
    return http::JsonResponse(
        {{"EndpointConfigName", c->name},
         {"EndpointConfigArn", reg->Arn("endpoint-config", c->name)},
         {"ProductionVariants", json::array({{{"VariantName", c->variant},
                                              {"ModelName", c->model_name},
                                              {"InstanceType", c->instance_type},
                                              {"InitialInstanceCount", c->instance_count}}})},
         {"CreationTime", c->created_unix}});
  }
  if (op == "CreateEndpoint") {
    const std::string name = str("EndpointName");
    const std::string config_name = str("EndpointConfigName");
    auto c = reg->GetConfig(config_name);
    if (!c.ok()) {
      return validation("Could not find endpoint configuration \"" +
                        reg->Arn("endpoint-config", config_name) + "\".");
    }
    auto m = reg->GetModel(c->model_name);
    if (!m.ok()) {
      return validation("Could not find model \"" + reg->Arn("model", c->model_name) + "\".");
    }
    if (name.empty()) return validation("EndpointName is required");
    Status s = reg->Create(name, m->model_data_url, c->instance_type, c->name, m->name,
                           /*persist=*/true);
    if (s.code() == StatusCode::kAlreadyExists) {
      return validation("Cannot create already existing endpoint \"" + reg->Arn("endpoint", name) +
                        "\".");
    }
    if (!s.ok()) return validation(s.message());
    return http::JsonResponse({{"EndpointArn", reg->Arn("endpoint", name)}});
  }
  if (op == "DescribeEndpoint") {
    auto ep = reg->Find(str("EndpointName"));
    if (!ep) {
      return validation("Could not find endpoint \"" + reg->Arn("endpoint", str("EndpointName")) +
                        "\".");
    }
    return http::JsonResponse({{"EndpointName", ep->name},
                               {"EndpointArn", reg->Arn("endpoint", ep->name)},
                               {"EndpointConfigName", ep->config_name},
                               {"ProductionVariants", json::array({{{"VariantName", "AllTraffic"},
                                                                    {"CurrentWeight", 1.0},
                                                                    {"DesiredWeight", 1.0},
                                                                    {"CurrentInstanceCount", 1},
                                                                    {"DesiredInstanceCount", 1}}})},
                               {"EndpointStatus", "InService"},
                               {"CreationTime", ep->created_unix},
                               {"LastModifiedTime", ep->created_unix}});
  }
  if (op == "DeleteEndpoint") {
    Status s = reg->Delete(str("EndpointName"));
    if (!s.ok()) {
      return validation("Could not find endpoint \"" + reg->Arn("endpoint", str("EndpointName")) +
                        "\".");
    }
    return http::JsonResponse(json::object());
  }
  if (op == "ListEndpoints") {
    json list = json::array();
    const std::string contains = str("NameContains");
    for (const auto& ep : reg->List()) {
      if (!contains.empty() && ep->name.find(contains) == std::string::npos) continue;
      list.push_back({{"EndpointName", ep->name},
                      {"EndpointArn", reg->Arn("endpoint", ep->name)},
                      {"CreationTime", ep->created_unix},
                      {"LastModifiedTime", ep->created_unix},
                      {"EndpointStatus", "InService"}});
    }
    return http::JsonResponse({{"Endpoints", list}});
  }
  return http::AwsJsonError(400, "UnknownOperationException",
                            "sagebox does not implement SageMaker." + op);
}

// ---- Triton / KServe v2 ----------------------------------------------------

ApiResponse KServe(EndpointRegistry* reg, const ApiRequest& req) {
  const std::string& path = req.path;
  if (path == "/v2" || path == "/v2/") {
    return http::JsonResponse({{"name", "sagebox"},
                               {"version", SAGEBOX_VERSION},
                               {"extensions", json::array({"binary_tensor_data", "model_repository",
                                                           "model_configuration"})}});
  }
  if (path == "/v2/health/live") return http::JsonResponse(json::object());
  auto ep = reg->Default();
  if (path == "/v2/health/ready") {
    return ep ? http::JsonResponse(json::object()) : KServeError(503, "no endpoint is serving");
  }
  if (!ep) return KServeError(404, "no endpoint is serving");
  ModelServer& server = *ep->server;
  if (path == "/v2/repository/index") {
    if (req.method != "POST" && req.method != "GET") return KServeError(405, "use POST");
    auto models = server.Models();
    if (!models.ok()) return KServeError(500, models.status().message());
    json out = json::array();
    for (const auto& m : *models) {
      json e = {{"name", m.name},
                {"state", m.state == "loaded"    ? "READY"
                          : m.state == "loading" ? "LOADING"
                                                 : "UNAVAILABLE"}};
      if (m.cache.loads > 0 || m.state == "loaded") e["version"] = "1";
      out.push_back(e);
    }
    return http::JsonResponse(out);
  }
  if (path.starts_with("/v2/repository/models/")) {
    std::string rest = path.substr(std::string_view("/v2/repository/models/").size());
    auto cut = rest.rfind('/');
    if (cut == std::string::npos || req.method != "POST") {
      return KServeError(404, "use POST /v2/repository/models/{model}/load or /unload");
    }
    const std::string model = rest.substr(0, cut);
    const std::string action = rest.substr(cut + 1);
    Status s;
    if (action == "load") {
      s = server.Load(model, Deadline(*reg));
      if (s.code() == StatusCode::kAlreadyExists) s = Status::Ok();  // Triton reloads: a no-op here
    } else if (action == "unload") {
      s = server.Unload(model);
    } else {
      return KServeError(404, "unknown repository action " + action);
    }
    if (!s.ok()) return KServeError(KServeStatusFor(s), s.message());
    return http::JsonResponse(json::object());
  }
  if (!path.starts_with("/v2/models/")) return KServeError(404, "no v2 API at " + path);
  // /v2/models/{m}[/versions/{v}][/ready|/config|/infer]
  std::string rest = path.substr(std::string_view("/v2/models/").size());
  std::string action;
  for (const char* a : {"/ready", "/config", "/infer"}) {
    if (rest.ends_with(a)) {
      action = a + 1;
      rest.resize(rest.size() - std::strlen(a));
      break;
    }
  }
  std::string version;
  if (auto v = rest.find("/versions/"); v != std::string::npos) {
    version = rest.substr(v + 10);
    rest.resize(v);
  }
  const std::string model = rest;
  if (model.empty()) return KServeError(404, "no model named in " + path);
  if (action == "infer") {
    if (req.method != "POST") return KServeError(405, "infer takes POST");
    auto decoded = DecodeInfer(req);
    if (!decoded.ok()) return KServeError(400, decoded.status().message());
    const std::vector<RequestedOutput> outputs = decoded->request.outputs;
    auto resp = server.Infer(model, std::move(decoded->request), Deadline(*reg));
    if (!resp.ok()) return KServeError(KServeStatusFor(resp.status()), resp.status().message());
    return EncodeResponse(*resp, outputs, decoded->all_binary, /*sagemaker=*/false);
  }
  if (action == "ready") {
    if (server.IsLoaded(model)) return http::JsonResponse(json::object());
    return KServeError(400, "model " + model + " is not ready (not loaded)");
  }
  auto source = server.Describe(model);
  if (!source.ok()) return KServeError(KServeStatusFor(source.status()), source.status().message());
  if (!version.empty() && version != std::to_string(source->version)) {
    return KServeError(404, fmt::format("model {} has no version {} (serving {})", model, version,
                                        source->version));
  }
  if (action == "config") return http::JsonResponse(ModelConfigJson(source->config));
  json meta = ModelMetadataJson(
      source->config, {std::to_string(source->version)},
      source->config.platform.empty() ? source->config.BackendName() : source->config.platform);
  meta["name"] = model;
  return http::JsonResponse(meta);
}

// ---- the MME container contract --------------------------------------------

ApiResponse MmeError(int status, const std::string& message) {
  return http::JsonResponse({{"error", message}}, status);
}

ApiResponse MmeModels(EndpointRegistry* reg, const ApiRequest& req) {
  auto ep = reg->Default();
  if (!ep) return MmeError(503, "no endpoint is serving");
  ModelServer& server = *ep->server;
  const std::string& path = req.path;
  if (path == "/models" || path == "/models/") {
    if (req.method == "GET") {
      json models = json::array();
      for (const auto& m : server.Cache().models) {
        if (m.state != ModelState::kLoaded) continue;
        models.push_back({{"modelName", m.name}, {"modelUrl", m.name}});
      }
      return http::JsonResponse({{"models", models}});
    }
    if (req.method != "POST") return http::MethodNotAllowed("use GET or POST", "GET, POST");
    json in = json::parse(req.body, nullptr, false);
    if (in.is_discarded() || !in.is_object() || !in.contains("model_name") ||
        !in["model_name"].is_string()) {
      return MmeError(400, "body must be {\"model_name\": ..., \"url\": ...}");
    }
    // SageMaker passes the local folder it downloaded to; sagebox's store is the
    // download, so `url` (or the name) is the TargetModel.
    std::string target = in.value("url", in["model_name"].get<std::string>());
    Status s = server.Load(target, Deadline(*reg));
    if (s.ok()) return http::JsonResponse({{"status", "loaded"}, {"model_name", target}});
    return MmeError(KServeStatusFor(s), s.message());
  }
  std::string rest = path.substr(std::string_view("/models/").size());
  if (req.method == "DELETE") {
    Status s = server.Unload(rest);
    if (!s.ok()) return MmeError(KServeStatusFor(s), s.message());
    return http::JsonResponse({{"status", "unloaded"}, {"model_name", rest}});
  }
  if (rest.ends_with("/invoke") && req.method == "POST") {
    const std::string model = rest.substr(0, rest.size() - 7);
    if (!server.IsLoaded(model)) return MmeError(404, "model " + model + " is not loaded");
    auto decoded = DecodeInfer(req);
    if (!decoded.ok()) return MmeError(400, decoded.status().message());
    const std::vector<RequestedOutput> outputs = decoded->request.outputs;
    auto resp = server.Infer(model, std::move(decoded->request), Deadline(*reg));
    if (!resp.ok()) return MmeError(KServeStatusFor(resp.status()), resp.status().message());
    return EncodeResponse(*resp, outputs, decoded->all_binary, /*sagemaker=*/false);
  }
  return MmeError(404, "no MME API at " + path);
}

// ---- sagebox's own JSON ----------------------------------------------------

json ModelJson(const ModelReport& m) {
  const uint64_t lookups = m.cache.hits + m.cache.misses;
  return {{"name", m.name},
          {"state", m.state},
          {"backend", m.backend},
          {"instances", m.instances},
          {"store_bytes", m.store_bytes},
          {"bytes", m.cache.bytes},
          {"predicted_bytes", m.cache.predicted_bytes},
          {"hits", m.cache.hits},
          {"misses", m.cache.misses},
          {"hit_ratio",
           lookups == 0 ? 0.0 : static_cast<double>(m.cache.hits) / static_cast<double>(lookups)},
          {"loads", m.cache.loads},
          {"evictions", m.cache.evictions},
          {"in_flight", m.cache.in_flight},
          {"requests", m.serving.requests},
          {"errors", m.serving.errors},
          {"queue_depth", m.queue_depth},
          {"busy_us", m.serving.busy_us},
          {"p50_us", m.p50_us},
          {"p99_us", m.p99_us},
          {"last_load_us", m.cache.last_load_us}};
}

ApiResponse OwnApi(EndpointRegistry* reg, const ApiRequest& req) {
  if (req.path == "/api/endpoint/endpoints") {
    json out = json::array();
    for (const auto& ep : reg->List()) {
      CacheStats cs = ep->server->Cache();
      out.push_back({{"name", ep->name},
                     {"model_data_url", ep->model_data_url},
                     {"instance_type", ep->instance_type},
                     {"memory_budget_bytes", cs.budget_bytes},
                     {"memory_used_bytes", cs.used_bytes},
                     {"loaded_models", cs.loaded_count},
                     {"hits", cs.hits},
                     {"misses", cs.misses},
                     {"evictions", cs.evictions}});
    }
    return http::JsonResponse({{"endpoints", out}});
  }
  if (req.path == "/api/endpoint/models") {
    std::string name = req.Param("endpoint");
    auto ep = name.empty() ? reg->Default() : reg->Find(name);
    if (!ep) return http::ErrorBody(404, "NotFound", "no endpoint " + name);
    auto models = ep->server->Models();
    if (!models.ok()) return http::ErrorResponse(models.status());
    auto cost = reg->Cost(ep->name);
    if (!cost.ok()) return http::ErrorResponse(cost.status());
    json list = json::array();
    for (const auto& m : *models) {
      json j = ModelJson(m);
      for (const auto& c : cost->models) {
        if (c.model != m.name) continue;
        j["cost_usd"] = c.shared_usd.ToFixed(6);
        j["cost_per_1000_requests_usd"] =
            c.per_1000_requests ? json(c.per_1000_requests->ToFixed(6)) : json(nullptr);
        j["dedicated_endpoint_usd"] = c.dedicated_usd.ToFixed(6);
      }
      list.push_back(j);
    }
    json out = {{"endpoint", ep->name},
                {"instance_type", ep->instance_type},
                {"uptime_s", cost->uptime_s},
                {"endpoint_cost_usd", cost->endpoint_usd.ToFixed(6)},
                {"dedicated_endpoints_cost_usd", cost->dedicated_total_usd.ToFixed(6)},
                {"price_source", cost->price_source},
                {"models", list}};
    out["usd_per_hour"] = cost->usd_per_hour ? json(cost->usd_per_hour->ToFixed(4)) : json(nullptr);
    return http::JsonResponse(out);
  }
  return http::ErrorBody(404, "NotFound", "no endpoint API at " + req.path);
}

}  // namespace

EndpointCost ShareCost(std::optional<Decimal> usd_per_hour, int64_t uptime_s,
                       const std::vector<ModelReport>& models) {
  EndpointCost c;
  c.usd_per_hour = usd_per_hour;
  c.uptime_s = uptime_s;
  if (!usd_per_hour) return c;
  c.endpoint_usd = Decimal::Div(*usd_per_hour * uptime_s, Decimal::FromInt(3600));
  int64_t busy_total = 0;
  for (const auto& m : models) busy_total += m.serving.busy_us;
  Decimal attributed;
  for (const auto& m : models) {
    if (m.serving.requests == 0 && m.cache.loads == 0) continue;  // never used
    ModelCost mc;
    mc.model = m.name;
    mc.busy_us = m.serving.busy_us;
    mc.requests = m.serving.requests;
    if (busy_total > 0) {
      mc.shared_usd =
          Decimal::Div(c.endpoint_usd * m.serving.busy_us, Decimal::FromInt(busy_total));
    }
    attributed += mc.shared_usd;
    if (mc.requests > 0) {
      mc.per_1000_requests =
          Decimal::Div(mc.shared_usd * 1000, Decimal::FromInt(static_cast<int64_t>(mc.requests)));
    }
    mc.dedicated_usd = c.endpoint_usd;
    c.dedicated_total_usd += mc.dedicated_usd;
    c.models.push_back(mc);
  }
  c.unattributed_usd = c.endpoint_usd - attributed;
  return c;
}

std::vector<db::Migration> Migrations() {
  return {{"endpoint", 1, "control plane: models, endpoint configs, endpoints",
           "CREATE TABLE endpoint_models (\n"
           "  name TEXT NOT NULL PRIMARY KEY,\n"
           "  model_data_url TEXT NOT NULL,\n"
           "  mode TEXT NOT NULL,\n"
           "  image TEXT NOT NULL,\n"
           "  role TEXT NOT NULL,\n"
           "  created_unix BIGINT NOT NULL);\n"
           "CREATE TABLE endpoint_configs (\n"
           "  name TEXT NOT NULL PRIMARY KEY,\n"
           "  model_name TEXT NOT NULL,\n"
           "  instance_type TEXT NOT NULL,\n"
           "  variant TEXT NOT NULL,\n"
           "  instance_count BIGINT NOT NULL,\n"
           "  created_unix BIGINT NOT NULL);\n"
           "CREATE TABLE endpoint_endpoints (\n"
           "  name TEXT NOT NULL PRIMARY KEY,\n"
           "  config_name TEXT NOT NULL,\n"
           "  model_name TEXT NOT NULL,\n"
           "  model_data_url TEXT NOT NULL,\n"
           "  instance_type TEXT NOT NULL,\n"
           "  created_unix BIGINT NOT NULL);\n"}};
}

EndpointRegistry::EndpointRegistry(Env* env, RegistryOptions options,
                                   std::vector<Backend*> backends, const catalog::Catalog* catalog,
                                   db::Database* database)
    : env_(env),
      options_(std::move(options)),
      backends_(std::move(backends)),
      catalog_(catalog),
      db_(database) {}

Status EndpointRegistry::PutModel(const ModelDef& m) {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!models_.emplace(m.name, m).second) return AlreadyExists("model " + m.name);
    return Status::Ok();
  }
  const db::Value p[] = {m.name, m.model_data_url, m.mode, m.image, m.role, m.created_unix};
  return db_->Exec(
      "INSERT INTO endpoint_models (name, model_data_url, mode, image, role, created_unix) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      p);
}

Status EndpointRegistry::PutConfig(const ConfigDef& c) {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!configs_.emplace(c.name, c).second) return AlreadyExists("endpoint config " + c.name);
    return Status::Ok();
  }
  const db::Value p[] = {c.name,    c.model_name,     c.instance_type,
                         c.variant, c.instance_count, c.created_unix};
  return db_->Exec(
      "INSERT INTO endpoint_configs (name, model_name, instance_type, variant, instance_count, "
      "created_unix) VALUES (?, ?, ?, ?, ?, ?)",
      p);
}

StatusOr<EndpointRegistry::ModelDef> EndpointRegistry::GetModel(const std::string& name) const {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound("model " + name);
    return it->second;
  }
  const db::Value p[] = {name};
  auto r = db_->Query(
      "SELECT name, model_data_url, mode, image, role, created_unix FROM endpoint_models WHERE "
      "name = ?",
      p);
  if (!r.ok()) return r.status();
  if (r->empty()) return NotFound("model " + name);
  return ModelDef{r->Text(0, 0), r->Text(0, 1), r->Text(0, 2),
                  r->Text(0, 3), r->Text(0, 4), r->Int(0, 5)};
}

StatusOr<EndpointRegistry::ConfigDef> EndpointRegistry::GetConfig(const std::string& name) const {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = configs_.find(name);
    if (it == configs_.end()) return NotFound("endpoint config " + name);
    return it->second;
  }
  const db::Value p[] = {name};
  auto r = db_->Query(
      "SELECT name, model_name, instance_type, variant, instance_count, created_unix FROM "
      "endpoint_configs WHERE name = ?",
      p);
  if (!r.ok()) return r.status();
  if (r->empty()) return NotFound("endpoint config " + name);
  return ConfigDef{r->Text(0, 0), r->Text(0, 1), r->Text(0, 2),
                   r->Text(0, 3), r->Int(0, 4),  r->Int(0, 5)};
}

Status EndpointRegistry::DeleteModel(const std::string& name) {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    return models_.erase(name) ? Status::Ok() : NotFound("model " + name);
  }
  const db::Value p[] = {name};
  return db_->Exec("DELETE FROM endpoint_models WHERE name = ?", p);
}

Status EndpointRegistry::DeleteConfig(const std::string& name) {
  if (db_ == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    return configs_.erase(name) ? Status::Ok() : NotFound("endpoint config " + name);
  }
  const db::Value p[] = {name};
  return db_->Exec("DELETE FROM endpoint_configs WHERE name = ?", p);
}

StatusOr<std::vector<std::string>> EndpointRegistry::Restore() {
  std::vector<std::string> notes;
  if (db_ == nullptr) return notes;
  auto r = db_->Query(
      "SELECT name, config_name, model_name, model_data_url, instance_type FROM "
      "endpoint_endpoints ORDER BY created_unix, name");
  if (!r.ok()) return r.status();
  for (size_t i = 0; i < r->size(); ++i) {
    Status s = Create(r->Text(i, 0), r->Text(i, 3), r->Text(i, 4), r->Text(i, 1), r->Text(i, 2));
    if (s.code() == StatusCode::kAlreadyExists) continue;  // the command line's endpoint
    if (!s.ok()) notes.push_back("endpoint " + r->Text(i, 0) + " not started: " + s.message());
  }
  return notes;
}

EndpointRegistry::~EndpointRegistry() = default;

std::string EndpointRegistry::Arn(const std::string& kind, const std::string& name) const {
  return fmt::format("arn:aws:sagemaker:{}:{}:{}/{}", options_.region, options_.account, kind,
                     AsciiLower(name));
}

Status EndpointRegistry::Create(const std::string& name, const std::string& model_data_url,
                                const std::string& instance_type, const std::string& config_name,
                                const std::string& model_name, bool persist) {
  if (Find(name)) return AlreadyExists("endpoint " + name + " exists");
  auto ep = std::make_shared<Endpoint>();
  ep->name = name;
  ep->config_name = config_name;
  ep->model_name = model_name;
  ep->model_data_url = model_data_url;
  ep->instance_type = instance_type;
  ep->created_unix = env_->Now();
  ep->started = std::chrono::steady_clock::now();
  ModelStoreOptions so;
  so.store = model_data_url;
  so.cache_dir = JoinPath(options_.cache_root, name);
  so.disk_budget_bytes = options_.disk_budget_bytes;
  auto store = ModelStore::Open(env_, so);
  if (!store.ok()) return store.status();
  ep->store = std::move(*store);
  ModelServerOptions mo;
  mo.endpoint_name = name;
  mo.memory_budget_bytes = options_.memory_budget_bytes;
  mo.loader_threads = options_.loader_threads;
  mo.wait_budget = options_.wait_budget;
  auto server = ModelServer::Create(mo, ep->store.get(), backends_);
  if (!server.ok()) return server.status();
  ep->server = std::move(*server);
  if (persist && db_ != nullptr) {
    const db::Value p[] = {name,           config_name,   model_name,
                           model_data_url, instance_type, ep->created_unix};
    RETURN_IF_ERROR(
        db_->Exec("INSERT INTO endpoint_endpoints (name, config_name, model_name, model_data_url, "
                  "instance_type, created_unix) VALUES (?, ?, ?, ?, ?, ?)",
                  p));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : endpoints_) {
    if (e->name == name) return AlreadyExists("endpoint " + name + " exists");
  }
  endpoints_.push_back(std::move(ep));
  return Status::Ok();
}

Status EndpointRegistry::Delete(const std::string& name) {
  std::shared_ptr<Endpoint> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                           [&](const auto& e) { return e->name == name; });
    if (it == endpoints_.end()) return NotFound("no endpoint " + name);
    gone = *it;
    endpoints_.erase(it);
  }
  if (db_ != nullptr) {
    const db::Value p[] = {name};
    RETURN_IF_ERROR(db_->Exec("DELETE FROM endpoint_endpoints WHERE name = ?", p));
  }
  // Destroyed when the last request holding it lets go.
  return Status::Ok();
}

std::shared_ptr<EndpointRegistry::Endpoint> EndpointRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : endpoints_) {
    if (e->name == name) return e;
  }
  return nullptr;
}

std::shared_ptr<EndpointRegistry::Endpoint> EndpointRegistry::Default() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpoints_.empty() ? nullptr : endpoints_.front();
}

std::vector<std::shared_ptr<EndpointRegistry::Endpoint>> EndpointRegistry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpoints_;
}

StatusOr<EndpointCost> EndpointRegistry::Cost(const std::string& name) const {
  auto ep = Find(name);
  if (!ep) return NotFound("no endpoint " + name);
  auto reports = ep->server->Models();
  if (!reports.ok()) return reports.status();
  std::optional<Decimal> price;
  std::string source;
  if (catalog_ != nullptr && !ep->instance_type.empty()) {
    if (auto q = catalog_->OnDemandPrice(ep->instance_type, options_.region)) {
      price = q->usd_per_hour;
      source = q->source + " (" + q->region + ")";
    }
  }
  const int64_t uptime = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::steady_clock::now() - ep->started)
                             .count();
  EndpointCost c = ShareCost(price, uptime, *reports);
  c.instance_type = ep->instance_type;
  c.price_source = source;
  return c;
}

std::string RenderEndpointMetrics(const EndpointRegistry& registry) {
  std::string o;
  struct Row {
    std::string labels;
    std::string value;
  };
  std::map<std::string, std::pair<std::string, std::vector<Row>>>
      series;  // name -> (help+type, rows)
  auto add = [&](const std::string& name, const char* type, const char* help, std::string labels,
                 std::string value) {
    auto& s = series[name];
    if (s.first.empty())
      s.first = fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    s.second.push_back({std::move(labels), std::move(value)});
  };
  for (const auto& ep : registry.List()) {
    const std::string e = http::EscapeLabelValue(ep->name);
    CacheStats cs = ep->server->Cache();
    const std::string el = fmt::format("endpoint=\"{}\"", e);
    const uint64_t lookups = cs.hits + cs.misses;
    add("sagemaker_LoadedModelCount", "gauge",
        "Models loaded in memory (SageMaker MME LoadedModelCount)", el,
        std::to_string(cs.loaded_count));
    add("sagemaker_ModelCacheHit", "gauge",
        "Share of invocations whose model was already loaded, 0..1 (SageMaker MME ModelCacheHit)",
        el,
        lookups == 0
            ? "0"
            : fmt::format("{:.6f}", static_cast<double>(cs.hits) / static_cast<double>(lookups)));
    add("sagemaker_MemoryUtilization", "gauge",
        "Percent of the memory budget held by models (SageMaker MemoryUtilization)", el,
        cs.budget_bytes == 0 ? "0"
                             : fmt::format("{:.3f}", 100.0 * static_cast<double>(cs.used_bytes) /
                                                         static_cast<double>(cs.budget_bytes)));
    auto disk = ep->store->Stats();
    add("sagemaker_DiskUtilization", "gauge",
        "Percent of the disk budget held by extracted models (SageMaker DiskUtilization; 0 "
        "without a budget)",
        el,
        disk.budget_bytes == 0
            ? "0"
            : fmt::format("{:.3f}", 100.0 * static_cast<double>(disk.used_bytes) /
                                        static_cast<double>(disk.budget_bytes)));
    add("sagemaker_ModelLoadingWaitTime_microseconds_total", "counter",
        "Time invocations waited for a model to load (SageMaker ModelLoadingWaitTime, us)", el,
        std::to_string(cs.loading_wait_us_total));
    add("sagemaker_ModelDownloadingTime_microseconds_total", "counter",
        "Time fetching models from the store to local disk (SageMaker ModelDownloadingTime, us)",
        el, std::to_string(ep->server->DownloadingMicrosTotal()));
    add("sagemaker_ModelLoadingTime_microseconds_total", "counter",
        "Time loading models into memory (SageMaker ModelLoadingTime, us)", el,
        std::to_string(cs.loading_us_total));
    add("sagemaker_ModelUnloadingTime_microseconds_total", "counter",
        "Time unloading models (SageMaker ModelUnloadingTime, us)", el,
        std::to_string(cs.unloading_us_total));
    add("sagebox_endpoint_memory_budget_bytes", "gauge", "The endpoint's memory budget", el,
        std::to_string(cs.budget_bytes));
    add("sagebox_endpoint_memory_used_bytes", "gauge", "Bytes held by loaded and loading models",
        el, std::to_string(cs.used_bytes));
    add("sagebox_endpoint_evictions_total", "counter", "Models unloaded to make room", el,
        std::to_string(cs.evictions));
    auto models = ep->server->Models();
    if (!models.ok()) continue;
    for (const auto& m : *models) {
      const std::string ml = fmt::format("{},model=\"{}\"", el, http::EscapeLabelValue(m.name));
      add("sagebox_endpoint_model_bytes", "gauge", "Bytes a model holds in memory now", ml,
          std::to_string(m.cache.bytes));
      add("sagebox_endpoint_model_queue_depth", "gauge", "Requests waiting for an instance", ml,
          std::to_string(m.queue_depth));
      add("sagebox_endpoint_model_requests_total", "counter", "Invocations completed", ml,
          std::to_string(m.serving.requests));
      add("sagebox_endpoint_model_cache_hits_total", "counter",
          "Invocations that found the model loaded", ml, std::to_string(m.cache.hits));
      add("sagebox_endpoint_model_latency_microseconds", "gauge",
          "Invocation latency percentiles over the newest 4096 requests", ml + ",quantile=\"0.5\"",
          std::to_string(m.p50_us));
      add("sagebox_endpoint_model_latency_microseconds", "gauge",
          "Invocation latency percentiles over the newest 4096 requests", ml + ",quantile=\"0.99\"",
          std::to_string(m.p99_us));
      for (size_t k = 0; k < m.serving.batch_sizes.size(); ++k) {
        if (m.serving.batch_sizes[k] == 0) continue;
        add("sagebox_endpoint_model_batches_total", "counter", "Batches run, by batch size",
            fmt::format("{},size=\"{}\"", ml, k + 1), std::to_string(m.serving.batch_sizes[k]));
      }
    }
  }
  for (const auto& [name, s] : series) {
    o += s.first;
    for (const auto& r : s.second) o += fmt::format("{}{{{}}} {}\n", name, r.labels, r.value);
  }
  return o;
}

void RegisterEndpointRoutes(http::Router& r, http::Metrics* metrics, EndpointRegistry* registry) {
  r.AddRest("sagemaker-runtime", "/endpoints/", "sagemaker",
            [registry](const ApiRequest& req) { return Invocations(registry, req); });
  r.AddAwsJson("sagemaker", "SageMaker.", "sagemaker",
               [registry](const ApiRequest& req) { return ControlPlane(registry, req); });
  r.AddRest("kserve-v2", "/v2", "",
            [registry](const ApiRequest& req) { return KServe(registry, req); });
  r.AddRest("mme-ping", "/ping", "", [registry](const ApiRequest&) {
    return registry->Default() ? http::JsonResponse(json::object())
                               : MmeError(503, "no endpoint is serving");
  });
  r.AddRest("mme-models", "/models", "",
            [registry](const ApiRequest& req) { return MmeModels(registry, req); });
  r.AddApi("endpoint", "/api/endpoint/",
           [registry](const ApiRequest& req) { return OwnApi(registry, req); });
  if (metrics != nullptr) {
    metrics->AddSource([registry] { return RenderEndpointMetrics(*registry); });
  }
}

}  // namespace sagebox::endpoint::api
