// routes.cc: /api/label/ → LabelStore calls (routes.h).
#include "label/api/routes.h"

#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace sagebox::label::api {

namespace {

using http::ApiRequest;
using http::ApiResponse;
using http::ErrorBody;
using http::ErrorResponse;
using http::JsonResponse;
using nlohmann::json;

std::optional<int64_t> ParseId(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

Caller CallerOf(const ApiRequest& req) {
  return Caller{req.principal.name, req.principal.role == "admin"};
}

// The body as a JSON object; InvalidArgument naming what is wrong.
StatusOr<json> BodyObject(const ApiRequest& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return InvalidArgument("the request body must be a JSON object");
  return j;
}

// An optional non-negative integer field; InvalidArgument when of another type.
StatusOr<std::optional<int64_t>> OptSeconds(const json& body) {
  if (!body.contains("active_seconds") || body["active_seconds"].is_null()) {
    return std::optional<int64_t>();
  }
  const json& v = body["active_seconds"];
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return InvalidArgument("active_seconds: expected a non-negative integer");
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

StatusOr<std::string> StringField(const json& body, const char* key, bool required) {
  if (!body.contains(key) || body[key].is_null()) {
    if (required) return InvalidArgument(std::string(key) + ": required");
    return std::string();
  }
  if (!body[key].is_string()) return InvalidArgument(std::string(key) + ": expected a string");
  return body[key].get<std::string>();
}

json CommentsJson(const std::vector<Comment>& comments) {
  json out = json::array();
  for (const Comment& c : comments) {
    out.push_back(
        {{"anchor", c.anchor}, {"text", c.text}, {"author", c.author}, {"round", c.round}});
  }
  return out;
}

std::string MediaUrl(const std::string& sha) {
  return sha.empty() ? std::string() : "/api/label/media/" + sha;
}

// The first bytes of a media file → its MIME type, for the browser's <img>/<video>.
std::string SniffType(std::string_view head) {
  if (head.starts_with("\xFF\xD8\xFF")) return "image/jpeg";
  if (head.starts_with("\x89PNG")) return "image/png";
  if (head.starts_with("GIF8")) return "image/gif";
  if (head.size() >= 12 && head.substr(0, 4) == "RIFF" && head.substr(8, 4) == "WEBP") {
    return "image/webp";
  }
  if (head.size() >= 8 && head.substr(4, 4) == "ftyp") return "video/mp4";
  if (head.starts_with("\x1A\x45\xDF\xA3")) return "video/webm";
  if (head.starts_with("fLaC")) return "audio/flac";
  if (head.starts_with("WEBVTT")) return "text/vtt";
  return "application/octet-stream";
}

// "bytes=A-B", "bytes=A-", "bytes=-N" against `size` → [first, last]; nullopt when the
// header is not one satisfiable range (the caller answers 416).
std::optional<std::pair<uint64_t, uint64_t>> ParseRange(std::string_view h, uint64_t size) {
  if (!h.starts_with("bytes=") || size == 0) return std::nullopt;
  h.remove_prefix(6);
  size_t dash = h.find('-');
  if (dash == std::string_view::npos || h.find(',') != std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s) -> std::optional<uint64_t> {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  };
  std::string_view a = h.substr(0, dash);
  std::string_view b = h.substr(dash + 1);
  if (a.empty()) {  // the last N bytes
    auto n = num(b);
    if (!n || *n == 0) return std::nullopt;
    return std::make_pair(size - std::min(*n, size), size - 1);
  }
  auto first = num(a);
  if (!first || *first >= size) return std::nullopt;
  uint64_t last = size - 1;
  if (!b.empty()) {
    auto l = num(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min(*l, size - 1);
  }
  return std::make_pair(*first, last);
}

}  // namespace

json ProjectJson(const Project& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"kind", KindName(p.config.kind)},
          {"config", ProjectConfigJson(p.config)},
          {"created_by", p.created_by},
          {"created_at", p.created_at},
          {"roles", p.roles}};
}

json AssignmentJson(const Assignment& a) {
  return {{"id", a.id},
          {"project_id", a.project_id},
          {"item_id", a.item_id},
          {"batch_id", a.batch_id},
          {"state", a.state},
          {"round", a.round},
          {"item", a.item},
          {"media", MediaUrl(a.media_sha256)},
          {"draft", a.draft},
          {"comments", CommentsJson(a.comments)},
          {"reserved_until", a.reserved_until},
          {"active_seconds", a.active_seconds}};
}

json ReviewTaskJson(const ReviewTask& t) {
  return {{"annotation_id", t.annotation_id},
          {"assignment_id", t.assignment_id},
          {"item_id", t.item_id},
          {"worker", t.worker},
          {"round", t.round},
          {"gold", t.gold},
          {"escalated", t.escalated},
          {"item", t.item},
          {"media", MediaUrl(t.media_sha256)},
          {"payload", t.payload},
          {"comments", CommentsJson(t.comments)},
          {"checklist", t.checklist}};
}

json BatchJson(const BatchInfo& b) {
  return {{"id", b.id},          {"seq", b.seq},           {"state", b.state},
          {"items", b.items},    {"resolved", b.resolved}, {"feedback", b.feedback},
          {"history", b.history}};
}

void LabelApi::Register(http::Router& router) {
  router.AddApi("label", "/api/label/", [this](const ApiRequest& req) { return Handle(req); });
}

ApiResponse LabelApi::Handle(const ApiRequest& req) {
  std::vector<std::string> seg = http::PathSegments(req.path);  // "api", "label", ...
  if (seg.size() < 3 || seg[0] != "api" || seg[1] != "label") {
    return ErrorBody(404, "NotFound", "no such label API: " + req.path);
  }
  const Caller caller = CallerOf(req);
  const std::string& m = req.method;
  const std::string& what = seg[2];
  auto fail = [](const Status& s) { return ErrorResponse(s); };

  // /api/label/projects
  if (what == "projects" && seg.size() == 3) {
    if (m == "GET") {
      auto ps = store_->ListProjects(caller);
      if (!ps.ok()) return fail(ps.status());
      json out = json::array();
      for (const Project& p : *ps) out.push_back(ProjectJson(p));
      return JsonResponse({{"projects", out}});
    }
    if (m != "POST") return http::MethodNotAllowed("GET or POST", "GET, POST");
    auto body = BodyObject(req);
    if (!body.ok()) return fail(body.status());
    auto name = StringField(*body, "name", true);
    if (!name.ok()) return fail(name.status());
    json cfg = body->contains("config") ? (*body)["config"] : json::object();
    if (!cfg.is_object()) return fail(InvalidArgument("config: expected an object"));
    if (body->contains("kind")) {
      if (cfg.contains("kind") && cfg["kind"] != (*body)["kind"]) {
        return fail(InvalidArgument("kind: differs from config.kind"));
      }
      cfg["kind"] = (*body)["kind"];
    }
    auto config = ParseProjectConfig(cfg, "config");
    if (!config.ok()) return fail(config.status());
    auto p = store_->CreateProject(caller, *name, *config);
    if (!p.ok()) return fail(p.status());
    return JsonResponse(ProjectJson(*p), 201);
  }

  // /api/label/projects/{p}/...
  if (what == "projects") {
    auto project = store_->GetProject(caller, seg[3]);
    if (!project.ok()) return fail(project.status());
    const int64_t id = project->id;
    std::string sub = seg.size() > 4 ? seg[4] : "";
    if (seg.size() == 6 && sub == "reviews" && seg[5] == "next")
      sub = "reviews/next";
    else if (seg.size() > 5)
      return ErrorBody(404, "NotFound", "no such label API: " + req.path);

    if (sub.empty()) {
      if (m != "GET") return http::MethodNotAllowed("GET", "GET");
      return JsonResponse(ProjectJson(*project));
    }
    if (sub == "items") {
      if (m != "POST") return http::MethodNotAllowed("POST (a JSON Lines manifest)", "POST");
      // A source-ref names a file on the server: only an admin (who owns the server's
      // files anyway) may import by path; everyone else sends text items.
      if (!caller.admin && req.body.find("\"source-ref\"") != std::string::npos) {
        return fail(PermissionDenied(
            "items with source-ref name files on the server: only an admin may import them "
            "over the API (or use `sagebox label import` on the server)"));
      }
      auto lines = ParseManifest(env_, req.body, "body", project->config);
      if (!lines.ok()) return fail(lines.status());
      auto r = store_->Import(caller, id, *lines);
      if (!r.ok()) return fail(r.status());
      return JsonResponse({{"items", r->items}, {"batches", r->batches}, {"media", r->media}}, 201);
    }
    if (sub == "members") {
      if (m == "GET") {
        auto ms = store_->ListMembers(caller, id);
        if (!ms.ok()) return fail(ms.status());
        return JsonResponse({{"members", *ms}});
      }
      if (m != "POST") return http::MethodNotAllowed("GET or POST", "GET, POST");
      auto body = BodyObject(req);
      if (!body.ok()) return fail(body.status());
      auto user = StringField(*body, "user", true);
      if (!user.ok()) return fail(user.status());
      auto role = StringField(*body, "role", true);
      if (!role.ok()) return fail(role.status());
      std::optional<Decimal> rate;
      if (body->contains("hourly_rate") && !(*body)["hourly_rate"].is_null()) {
        const json& r = (*body)["hourly_rate"];
        std::string text = r.is_string() ? r.get<std::string>() : r.is_number() ? r.dump() : "";
        Decimal d;
        if (!Decimal::Parse(text, &d)) {
          return fail(InvalidArgument("hourly_rate: expected a decimal number such as \"18.50\""));
        }
        rate = d;
      }
      Status s = store_->AddMember(caller, id, *user, *role, rate);
      if (!s.ok()) return fail(s);
      return JsonResponse({{"user", *user}, {"role", *role}}, 201);
    }
    if (sub == "next") {
      if (m != "POST") return http::MethodNotAllowed("POST", "POST");
      auto a = store_->Next(caller, id);
      if (!a.ok()) return fail(a.status());
      if (!*a) return JsonResponse({{"assignment", nullptr}, {"message", "no work left"}});
      return JsonResponse({{"assignment", AssignmentJson(**a)},
                           {"instructions", project->config.instructions},
                           {"requirements", ProjectConfigJson(project->config)["requirements"]}});
    }
    if (sub == "reviews/next") {
      if (m != "POST") return http::MethodNotAllowed("POST", "POST");
      auto t = store_->NextReview(caller, id);
      if (!t.ok()) return fail(t.status());
      if (!*t) return JsonResponse({{"review", nullptr}, {"message", "nothing to review"}});
      return JsonResponse({{"review", ReviewTaskJson(**t)}});
    }
    if (sub == "batches") {
      if (m != "GET") return http::MethodNotAllowed("GET", "GET");
      auto bs = store_->Batches(caller, id);
      if (!bs.ok()) return fail(bs.status());
      json out = json::array();
      for (const BatchInfo& b : *bs) out.push_back(BatchJson(b));
      return JsonResponse({{"batches", out}});
    }
    if (sub == "metrics" || sub == "status") {
      if (m != "GET") return http::MethodNotAllowed("GET", "GET");
      auto j = sub == "metrics" ? store_->Metrics(caller, id) : store_->Summary(caller, id);
      if (!j.ok()) return fail(j.status());
      return JsonResponse(*j);
    }
    if (sub == "export") {
      if (m != "GET") return http::MethodNotAllowed("GET", "GET");
      auto format = ParseExportFormat(req.Param("format"));
      if (!format.ok()) return fail(format.status());
      ExportOptions o;
      o.format = *format;
      o.style = req.Param("style");
      o.dimension = req.Param("dimension");
      o.closed_book = req.Param("closed_book") == "true" || req.Param("closed_book") == "1";
      if (!req.Param("pairs").empty()) {
        auto pp = ParsePairPolicy(req.Param("pairs"));
        if (!pp.ok()) return fail(pp.status());
        o.pairs = *pp;
      }
      std::string scope = req.Param("scope");
      if (!scope.empty() && scope != "accepted" && scope != "reviewed") {
        return fail(InvalidArgument("scope: expected accepted (the default) or reviewed"));
      }
      auto r = store_->Export(
          caller, id, o, scope == "reviewed" ? ExportScope::kReviewed : ExportScope::kAccepted);
      if (!r.ok()) return fail(r.status());
      std::string body;
      Status s = env_->ReadFileToString(r->path, &body);
      if (!s.ok()) return fail(s);
      bool lines = *format == ExportFormat::kGtManifest || *format == ExportFormat::kSft ||
                   *format == ExportFormat::kPreference;
      ApiResponse resp;
      resp.content_type = lines ? "application/x-ndjson" : "application/json";
      resp.body = std::move(body);
      std::string file = project->name + "-" + std::string(ExportFormatName(*format)) + "-" +
                         std::to_string(r->id) + (lines ? ".jsonl" : ".json");
      resp.headers = {{"X-Sagebox-Export-Id", std::to_string(r->id)},
                      {"X-Sagebox-Export-Sha256", r->sha256},
                      {"X-Sagebox-Export-Items", std::to_string(r->items)},
                      {"Content-Disposition", "attachment; filename=\"" + file + "\""}};
      return resp;
    }
    return ErrorBody(404, "NotFound", "no such label API: " + req.path);
  }

  // /api/label/assignments/{id}[/submit]
  if (what == "assignments" && (seg.size() == 4 || seg.size() == 5)) {
    auto id = ParseId(seg[3]);
    if (!id) return fail(InvalidArgument("assignment id: expected a positive integer"));
    if (seg.size() == 4 && m == "GET") {
      auto a = store_->GetAssignment(caller, *id);
      if (!a.ok()) return fail(a.status());
      return JsonResponse(AssignmentJson(*a));
    }
    bool submit = seg.size() == 5 && seg[4] == "submit";
    if (seg.size() == 5 && !submit) {
      return ErrorBody(404, "NotFound", "no such label API: " + req.path);
    }
    if (submit ? m != "POST" : m != "PUT") {
      return submit ? http::MethodNotAllowed("POST", "POST")
                    : http::MethodNotAllowed("GET or PUT", "GET, PUT");
    }
    auto body = BodyObject(req);
    if (!body.ok()) return fail(body.status());
    if (!body->contains("payload")) return fail(InvalidArgument("payload: required"));
    auto secs = OptSeconds(*body);
    if (!secs.ok()) return fail(secs.status());
    if (!submit) {
      Status s = store_->SaveDraft(caller, *id, (*body)["payload"], *secs);
      if (!s.ok()) return fail(s);
      return JsonResponse({{"id", *id}, {"saved", true}});
    }
    auto r = store_->Submit(caller, *id, (*body)["payload"], *secs);
    if (!r.ok()) return fail(r.status());
    if (!r->failures.empty()) {
      std::string msg = "the work fails " + std::to_string(r->failures.size()) +
                        " requirement(s): " + r->failures.front().requirement + ": " +
                        r->failures.front().message;
      return JsonResponse({{"error", {{"code", "RequirementsFailed"}, {"message", msg}}},
                           {"failures", FailuresJson(r->failures)}},
                          422);
    }
    return JsonResponse(
        {{"annotation_id", r->annotation_id}, {"review", r->reviewed ? "pending" : "accepted"}});
  }

  // /api/label/annotations/{id}/review
  if (what == "annotations" && seg.size() == 5 && seg[4] == "review") {
    if (m != "POST") return http::MethodNotAllowed("POST", "POST");
    auto id = ParseId(seg[3]);
    if (!id) return fail(InvalidArgument("annotation id: expected a positive integer"));
    auto body = BodyObject(req);
    if (!body.ok()) return fail(body.status());
    auto vname = StringField(*body, "verdict", true);
    if (!vname.ok()) return fail(vname.status());
    auto verdict = ParseVerdict(*vname);
    if (!verdict.ok()) return fail(verdict.status());
    std::vector<Comment> comments;
    if (body->contains("comments")) {
      const json& cs = (*body)["comments"];
      if (!cs.is_array()) return fail(InvalidArgument("comments: expected an array"));
      for (size_t i = 0; i < cs.size(); ++i) {
        const json& c = cs[i];
        std::string where = "comments[" + std::to_string(i) + "]";
        if (!c.is_object() || !c.contains("text") || !c["text"].is_string() ||
            (c.contains("anchor") && !c["anchor"].is_string())) {
          return fail(InvalidArgument(where + ": expected {\"anchor\": string, \"text\": string}"));
        }
        comments.push_back(Comment{c.value("anchor", std::string("item")),
                                   c["text"].get<std::string>(), caller.user, 0});
      }
    }
    if (*verdict == Verdict::kRework && comments.empty()) {
      return fail(InvalidArgument("comments: a rework verdict tells the annotator what to fix"));
    }
    std::optional<json> payload;
    if (body->contains("payload") && !(*body)["payload"].is_null()) payload = (*body)["payload"];
    auto secs = OptSeconds(*body);
    if (!secs.ok()) return fail(secs.status());
    Status s = store_->Review(caller, *id, *verdict, comments, payload, *secs);
    if (!s.ok()) return fail(s);
    return JsonResponse({{"annotation_id", *id}, {"verdict", *vname}});
  }

  // /api/label/batches/{id}/accept|reject
  if (what == "batches" && seg.size() == 5 && (seg[4] == "accept" || seg[4] == "reject")) {
    if (m != "POST") return http::MethodNotAllowed("POST", "POST");
    auto id = ParseId(seg[3]);
    if (!id) return fail(InvalidArgument("batch id: expected a positive integer"));
    Status s;
    if (seg[4] == "accept") {
      s = store_->AcceptBatch(caller, *id);
    } else {
      auto body = BodyObject(req);
      if (!body.ok()) return fail(body.status());
      auto feedback = StringField(*body, "feedback", true);
      if (!feedback.ok()) return fail(feedback.status());
      s = store_->RejectBatch(caller, *id, *feedback);
    }
    if (!s.ok()) return fail(s);
    return JsonResponse(
        {{"batch", *id}, {"state", seg[4] == "accept" ? "accepted" : "sent-for-rework"}});
  }

  // /api/label/media/{sha256}
  if (what == "media" && seg.size() == 4) {
    if (m != "GET" && m != "HEAD") return http::MethodNotAllowed("GET", "GET, HEAD");
    auto path = store_->blobs().Path(seg[3]);
    if (!path.ok()) return fail(path.status());
    auto file = env_->OpenRandomAccess(*path);
    if (!file.ok()) return fail(NotFound("no media " + seg[3]));
    uint64_t size = (*file)->Size();
    std::string head(std::min<uint64_t>(size, 16), '\0');
    if (!head.empty()) {
      Status s = (*file)->ReadAt(0, head.size(), head.data());
      if (!s.ok()) return fail(s);
    }
    ApiResponse resp;
    resp.content_type = SniffType(head);
    resp.headers = {{"Accept-Ranges", "bytes"}, {"Cache-Control", "private, max-age=86400"}};
    uint64_t first = 0;
    uint64_t last = size == 0 ? 0 : size - 1;
    std::string range = req.Header("Range");
    if (!range.empty()) {
      auto r = ParseRange(range, size);
      if (!r) {
        ApiResponse bad = ErrorBody(416, "RangeNotSatisfiable", "unsatisfiable range " + range);
        bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        return bad;
      }
      first = r->first;
      last = r->second;
      resp.status = 206;
      resp.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" +
                                                     std::to_string(last) + "/" +
                                                     std::to_string(size));
    }
    if (size > 0 && m == "GET") {
      resp.body.resize(last - first + 1);
      Status s = (*file)->ReadAt(first, resp.body.size(), resp.body.data());
      if (!s.ok()) return fail(s);
    }
    return resp;
  }

  return ErrorBody(404, "NotFound", "no such label API: " + req.path);
}

}  // namespace sagebox::label::api
