#include "rag/api/routes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "http/api.h"
#include "http/http_status.h"
#include "rag/ask/ask.h"
#include "rag/question_log.h"
#include "retrieval/providers/provider_spec.h"

namespace sagebox::rag::api {

namespace {

using http::ApiRequest;
using http::ApiResponse;
using nlohmann::json;

constexpr std::string_view kJsonPrefix = "/api/rag/";
constexpr std::string_view kWorkshopPrefix = "/api/v1/llm/";
// The most passages one request may ask for: each is sent back, and a prompt of more
// would not fit any model the workshop names.
constexpr int kMaxDocs = 100;

// ---- the workshop API: FastAPI's shapes -------------------------------------------------

// FastAPI's reply for an error with a message: {"detail": "..."}.
ApiResponse Detail(int status, const std::string& message) {
  return http::JsonResponse(json{{"detail", message}}, status);
}

// The workshop's Request model, parsed as pydantic v1 parses it: every field error is
// collected as {"loc": ["body", field], "msg", "type"} and the lot is a 422.
struct WorkshopRequest {
  std::string q;
  retrieval::GenerationParams params;
  bool verbose = false;
  int max_matching_docs = 3;
  std::string index;  // sagebox's extension
};

class ModelParser {
 public:
  explicit ModelParser(const json& body) : body_(body) {}

  void Error(const std::string& field, const std::string& msg, const std::string& type) {
    errors_.push_back({{"loc", json::array({"body", field})}, {"msg", msg}, {"type", type}});
  }

  // A str field: pydantic v1 takes strings and coerces numbers; anything else is an error.
  std::optional<std::string> Str(const std::string& field, bool required) {
    auto it = body_.find(field);
    if (it == body_.end() || it->is_null()) {
      if (required) Error(field, "field required", "value_error.missing");
      return std::nullopt;
    }
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();
    Error(field, "str type expected", "type_error.str");
    return std::nullopt;
  }

  void Int(const std::string& field, int* out) {
    auto it = body_.find(field);
    if (it == body_.end()) return;
    if (it->is_number_integer() && it->get<int64_t>() >= INT32_MIN &&
        it->get<int64_t>() <= INT32_MAX) {
      *out = static_cast<int>(it->get<int64_t>());
      return;
    }
    if (it->is_string()) {
      const std::string s = it->get<std::string>();
      char* end = nullptr;
      const long v = std::strtol(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && v >= INT32_MIN && v <= INT32_MAX) {
        *out = static_cast<int>(v);
        return;
      }
    }
    Error(field, "value is not a valid integer", "type_error.integer");
  }

  void Float(const std::string& field, double* out) {
    auto it = body_.find(field);
    if (it == body_.end()) return;
    if (it->is_number()) {
      *out = it->get<double>();
      return;
    }
    if (it->is_string()) {
      const std::string s = it->get<std::string>();
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(v)) {
        *out = v;
        return;
      }
    }
    Error(field, "value is not a valid float", "type_error.float");
  }

  // pydantic v1's bool: true/false, 0/1 and their usual spellings.
  void Bool(const std::string& field, bool* out) {
    auto it = body_.find(field);
    if (it == body_.end()) return;
    if (it->is_boolean()) {
      *out = it->get<bool>();
      return;
    }
    if (it->is_number_integer() && (it->get<int64_t>() == 0 || it->get<int64_t>() == 1)) {
      *out = it->get<int64_t>() == 1;
      return;
    }
    if (it->is_string()) {
      const std::string s = it->get<std::string>();
      for (const char* t : {"true", "True", "TRUE", "1", "yes", "on", "y", "t"}) {
        if (s == t) {
          *out = true;
          return;
        }
      }
      for (const char* f : {"false", "False", "FALSE", "0", "no", "off", "n", "f"}) {
        if (s == f) {
          *out = false;
          return;
        }
      }
    }
    Error(field, "value could not be parsed to a boolean", "type_error.bool");
  }

  json errors_ = json::array();

 private:
  const json& body_;
};

// Parses the workshop's request body, or returns the 422 FastAPI would.
std::optional<ApiResponse> ParseWorkshopRequest(const std::string& body, WorkshopRequest* out) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return http::JsonResponse(
        json{{"detail", json::array({{{"loc", json::array({"body"})},
                                      {"msg", "JSON decode error: expected a JSON object"},
                                      {"type", "value_error.jsondecode"}}})}},
        422);
  }
  if (!j.is_object()) {
    return http::JsonResponse(json{{"detail", json::array({{{"loc", json::array({"body"})},
                                                            {"msg", "value is not a valid dict"},
                                                            {"type", "type_error.dict"}}})}},
                              422);
  }
  ModelParser p(j);
  if (auto q = p.Str("q", true)) out->q = *q;
  p.Int("max_length", &out->params.max_length);
  p.Int("num_return_sequences", &out->params.num_return_sequences);
  p.Int("top_k", &out->params.top_k);
  p.Float("top_p", &out->params.top_p);
  p.Bool("do_sample", &out->params.do_sample);
  p.Float("temperature", &out->params.temperature);
  p.Bool("verbose", &out->verbose);
  p.Int("max_matching_docs", &out->max_matching_docs);
  if (out->max_matching_docs < 1) {
    p.Error("max_matching_docs", "ensure this value is greater than or equal to 1",
            "value_error.number.not_ge");
  } else if (out->max_matching_docs > kMaxDocs) {
    p.Error("max_matching_docs",
            fmt::format("ensure this value is less than or equal to {}", kMaxDocs),
            "value_error.number.not_le");
  }
  // Accepted for compatibility; the models and store are serve's (see routes.h).
  (void)p.Str("text_generation_model", false);
  (void)p.Str("embeddings_generation_model", false);
  (void)p.Str("vectordb_s3_path", false);
  if (auto t = p.Str("vectordb_type", false); t && *t != "opensearch" && *t != "faiss") {
    p.Error("vectordb_type",
            "value is not a valid enumeration member; permitted: 'opensearch', 'faiss'",
            "type_error.enum");
  }
  if (auto ix = p.Str("index", false)) out->index = *ix;
  if (!p.errors_.empty()) return http::JsonResponse(json{{"detail", p.errors_}}, 422);
  return std::nullopt;
}

// ---- sagebox's JSON API ---------------------------------------------------------------

// The JSON object of a POST body, or the platform's 400.
StatusOr<json> BodyObject(const ApiRequest& req) {
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body: expected a JSON object");
  }
  return j;
}

StatusOr<std::string> StringField(const json& j, const char* field, bool required) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(fmt::format("\"{}\": required", field));
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(fmt::format("\"{}\": expected a string", field));
  return it->get<std::string>();
}

StatusOr<int64_t> IntField(const json& j, const char* field, int64_t fallback, int64_t lo,
                           int64_t hi) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    return InvalidArgument(fmt::format("\"{}\": expected an integer from {} to {}", field, lo, hi));
  }
  return it->get<int64_t>();
}

json QuestionJson(const QuestionRecord& q) {
  json results = json::array();
  for (const auto& r : q.results) {
    results.push_back({{"chunk_id", r.chunk_id}, {"source", r.source}, {"score", r.score}});
  }
  return {{"id", q.id},
          {"asked_unix_us", q.asked_unix_us},
          {"index", q.index},
          {"question", q.question},
          {"answer", q.answer},
          {"provider", q.provider},
          {"mode", q.mode},
          {"latency_ms", q.latency_ms},
          {"cost_usd", q.cost_usd.has_value() ? json(*q.cost_usd) : json(nullptr)},
          {"feedback", q.feedback.has_value() ? json(*q.feedback) : json(nullptr)},
          {"results", std::move(results)}};
}

}  // namespace

StatusOr<std::unique_ptr<RagApi>> RagApi::Create(db::Database* db, RagApiOptions options) {
  if (options.generator_instance == nullptr && !options.generator.empty()) {
    ASSIGN_OR_RETURN(options.generator_instance, retrieval::MakeGenerator(options.generator));
  }
  if (!options.default_index.empty()) {
    RETURN_IF_ERROR(retrieval::ValidateIndexName(options.default_index));
  }
  std::unique_ptr<RagApi> api(new RagApi(db, std::move(options)));
  api->generator_ = api->options_.generator_instance.get();
  return api;
}

void RagApi::Register(http::Router& router) {
  router.AddApi("rag", std::string(kJsonPrefix), [this](const ApiRequest& r) { return Handle(r); });
  router.AddApi("rag_workshop", std::string(kWorkshopPrefix),
                [this](const ApiRequest& r) { return Handle(r); });
}

ApiResponse RagApi::Handle(const ApiRequest& req) {
  if (req.path.starts_with(kWorkshopPrefix)) return HandleWorkshop(req);
  return HandleJsonApi(req);
}

StatusOr<std::shared_ptr<const retrieval::KnowledgeBase>> RagApi::OpenIndex(
    const std::string& name) {
  RETURN_IF_ERROR(retrieval::ValidateIndexName(name));
  // Read before opening: an ingest that commits while the index opens leaves the cached
  // generation behind, so the next request reopens rather than serving stale results.
  auto generation = retrieval::IndexGeneration(*db_, name);
  std::lock_guard<std::mutex> lock(mu_);
  if (!generation.ok()) {
    open_.erase(name);  // dropped: let the old one go
    if (generation.status().code() == StatusCode::kNotFound) {
      return generation.status().WithContext(
          "see GET /api/rag/indexes, or create it with `sagebox rag ingest " + name + " PATH...`");
    }
    return generation.status();
  }
  auto it = open_.find(name);
  if (it != open_.end() && it->second.generation == *generation) return it->second.kb;
  retrieval::OpenOptions o;
  o.data_dir = options_.data_dir;
  o.read_only = true;
  o.make_embedder = options_.make_embedder;
  ASSIGN_OR_RETURN(auto kb, retrieval::KnowledgeBase::Open(db_, name, o));
  Cached c{*generation, std::shared_ptr<const retrieval::KnowledgeBase>(std::move(kb))};
  open_[name] = c;
  return c.kb;
}

StatusOr<std::string> RagApi::ResolveIndex(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (!options_.default_index.empty()) return options_.default_index;
  ASSIGN_OR_RETURN(auto all, retrieval::ListIndexNames(*db_));
  if (all.size() == 1) return all[0];
  if (all.empty()) {
    return NotFound("no index to search: create one with `sagebox rag ingest NAME PATH...`");
  }
  const std::string names = fmt::format("{}", fmt::join(all, ", "));
  return InvalidArgument(fmt::format(
      "{} indexes exist ({}): name one with \"index\" in the request, or start sagebox serve "
      "with --rag-index NAME",
      all.size(), names));
}

ApiResponse RagApi::HandleWorkshop(const ApiRequest& req) {
  const std::string_view op = std::string_view(req.path).substr(kWorkshopPrefix.size());
  if (op != "rag" && op != "text2text") {
    return Detail(404, "Not Found");  // FastAPI's reply for an unknown path
  }
  if (req.method != "POST") {
    ApiResponse r = Detail(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  WorkshopRequest w;
  if (auto bad = ParseWorkshopRequest(req.body, &w)) return *bad;

  if (op == "text2text") {
    if (generator_ == nullptr) {
      return Detail(503,
                    "no text generator is configured: text2text needs a model; start sagebox "
                    "serve with --rag-generator sagemaker:ENDPOINT[@URL] or openai:MODEL[@URL] "
                    "(/api/v1/llm/rag answers without one)");
    }
    auto gen = generator_->Generate(w.q, w.params);
    if (!gen.ok()) {
      const int status = gen.status().code() == StatusCode::kInvalidArgument ? 422 : 502;
      return Detail(status, gen.status().ToString());
    }
    return http::JsonResponse(
        json{{"question", w.q},
             {"answer", gen->texts.empty() ? std::vector<std::string>{gen->text} : gen->texts}});
  }

  auto index = ResolveIndex(w.index);
  if (!index.ok()) {
    return Detail(http::HttpStatusOf(index.status().code()), index.status().message());
  }
  auto kb = OpenIndex(*index);
  if (!kb.ok()) return Detail(http::HttpStatusOf(kb.status().code()), kb.status().ToString());
  AskRequest ar;
  ar.question = w.q;
  ar.k = w.max_matching_docs;
  ar.generator = generator_;
  ar.params = w.params;
  auto answer = Ask(*db_, **kb, ar);
  if (!answer.ok()) {
    return Detail(http::HttpStatusOf(answer.status().code()), answer.status().ToString());
  }
  json out = {{"question", w.q}, {"answer", answer->answer}};
  if (w.verbose) {
    json docs = json::array();
    for (const auto& h : answer->sources) {
      json meta = {{"source", h.source}, {"chunk_id", h.chunk_id}, {"score", h.score}};
      if (!h.title.empty()) meta["title"] = h.title;
      if (h.page > 0) meta["page"] = h.page;
      docs.push_back({{"page_content", h.text}, {"metadata", std::move(meta)}});
    }
    out["docs"] = std::move(docs);
  }
  return http::JsonResponse(out);
}

ApiResponse RagApi::HandleJsonApi(const ApiRequest& req) {
  const std::string_view op = std::string_view(req.path).substr(kJsonPrefix.size());
  auto require = [&](const char* method) -> std::optional<ApiResponse> {
    if (req.method == method) return std::nullopt;
    return http::MethodNotAllowed(fmt::format("{} takes {}", req.path, method), method);
  };
  if (op == "indexes") {
    if (auto r = require("GET")) return *r;
    auto all = retrieval::ListIndexes(*db_);
    if (!all.ok()) return http::ErrorResponse(all.status());
    json list = json::array();
    for (const auto& i : *all) list.push_back(retrieval::IndexInfoJson(i));
    return http::JsonResponse(json{{"indexes", std::move(list)}});
  }
  if (op == "ask") {
    if (auto r = require("POST")) return *r;
    auto body = BodyObject(req);
    if (!body.ok()) return http::ErrorResponse(body.status());
    auto index = StringField(*body, "index", true);
    auto question = StringField(*body, "question", true);
    auto mode = StringField(*body, "mode", false);
    auto k = IntField(*body, "k", 3, 1, kMaxDocs);
    for (const Status& s : {index.status(), question.status(), mode.status(), k.status()}) {
      if (!s.ok()) return http::ErrorResponse(s);
    }
    auto kb = OpenIndex(*index);
    if (!kb.ok()) return http::ErrorResponse(kb.status());
    AskRequest ar;
    ar.question = *question;
    ar.k = static_cast<int>(*k);
    if (!mode->empty()) ar.mode = *mode;
    ar.generator = generator_;
    auto answer = Ask(*db_, **kb, ar);
    if (!answer.ok()) return http::ErrorResponse(answer.status());
    return http::JsonResponse(AskResultJson(*answer));
  }
  if (op == "feedback") {
    if (auto r = require("POST")) return *r;
    auto body = BodyObject(req);
    if (!body.ok()) return http::ErrorResponse(body.status());
    auto id = IntField(*body, "id", 0, 1, INT64_MAX);
    auto feedback = StringField(*body, "feedback", true);
    for (const Status& s : {id.status(), feedback.status()}) {
      if (!s.ok()) return http::ErrorResponse(s);
    }
    if (*id == 0) return http::ErrorResponse(InvalidArgument("\"id\": required"));
    if (Status s = SetFeedback(*db_, *id, *feedback); !s.ok()) return http::ErrorResponse(s);
    return http::JsonResponse(json{{"id", *id}, {"feedback", *feedback}});
  }
  if (op == "questions") {
    if (auto r = require("GET")) return *r;
    int limit = 50;
    if (const std::string l = req.Param("limit"); !l.empty()) {
      char* end = nullptr;
      const long v = std::strtol(l.c_str(), &end, 10);
      if (end != l.c_str() + l.size() || v < 1 || v > 1000) {
        return http::ErrorResponse(InvalidArgument("limit=" + l + ": expected 1 to 1000"));
      }
      limit = static_cast<int>(v);
    }
    auto qs = RecentQuestions(*db_, req.Param("index"), limit);
    if (!qs.ok()) return http::ErrorResponse(qs.status());
    json list = json::array();
    for (const auto& q : *qs) list.push_back(QuestionJson(q));
    return http::JsonResponse(json{{"questions", std::move(list)}});
  }
  return http::ErrorBody(404, "NotFound", "no such rag API: " + req.path);
}

}  // namespace sagebox::rag::api
