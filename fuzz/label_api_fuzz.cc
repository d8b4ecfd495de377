// Fuzzes /api/label/ (label::api::LabelApi::Handle) over a real store: a SQLite database
// in a temp folder with a ranking project, a qa-pairs project, a member per role, a few
// items, one assignment submitted and one waiting in review, and a media blob, set up
// once. The input is
//   byte 0   the method (GET, POST, PUT, DELETE, HEAD, PATCH)
//   byte 1   the caller (manager, annotator, second annotator, reviewer, requester,
//            stranger, admin, the empty name)
//   byte 2   the route (the routes.h list, ids filled from the first line; past the list
//            the first line is the whole path)
//   line 1   the ids: segments separated by ' ' (an empty one takes a small id from byte
//            2), then optionally '?' and a query (k=v&k=v) and '#' and a Range header
//   the rest the body
// Any input must give an answer, never a crash: a status in 100..599, and every error is
// the platform's {"error": {"code", "message"}} shape. State persists across inputs (a
// fuzzed import or review stays), as it does on a server.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "db/database.h"
#include "http/api.h"
#include "label/api/routes.h"
#include "label/manifest.h"
#include "label/project.h"
#include "label/store/label_store.h"

namespace {

namespace label = sagebox::label;
using nlohmann::json;

struct World {
  std::unique_ptr<sagebox::db::Database> db;
  std::unique_ptr<label::LabelStore> store;
  std::unique_ptr<label::api::LabelApi> api;
  std::string media;
};

void Must(const sagebox::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "label_api_fuzz setup: %s\n", s.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T Must(sagebox::StatusOr<T> v) {
  Must(v.status());
  return std::move(*v);
}

int64_t Project(label::LabelStore& store, const std::string& name, const json& config,
                const std::string& manifest) {
  const label::Caller mia{"mia", false};
  auto cfg = Must(label::ParseProjectConfig(config, name));
  auto p = Must(store.CreateProject(mia, name, cfg));
  for (const auto& [user, role] :
       std::vector<std::pair<std::string, std::string>>{{"ann", "annotator"},
                                                        {"bob", "annotator"},
                                                        {"rita", "reviewer"},
                                                        {"rex", "requester"}}) {
    Must(store.AddMember(mia, p.id, user, role, std::nullopt));
  }
  auto lines = Must(label::ParseManifest(sagebox::Env::Default(), manifest, name, cfg));
  Must(store.Import(mia, p.id, lines).status());
  return p.id;
}

World& TheWorld() {
  static World* w = [] {
    auto* out = new World();
    const std::string dir = "/tmp/sagebox_label_api_fuzz_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    out->db = Must(sagebox::db::Database::Open("sqlite:" + dir + "/sagebox.db"));
    Must(sagebox::db::Migrate(*out->db, label::Migrations()));
    out->store = std::make_unique<label::LabelStore>(out->db.get(), sagebox::Env::Default(), dir);
    out->api = std::make_unique<label::api::LabelApi>(out->store.get(), sagebox::Env::Default());
    const json ranking = {{"kind", "ranking"},
                          {"batch_size", 2},
                          {"max_rework_rounds", 1},
                          {"requirements", {{"dimensions", {"helpfulness"}}}}};
    std::string items;
    for (int i = 0; i < 5; ++i) {
      items += json{{"prompt", "p" + std::to_string(i)},
                    {"responses", {{{"id", "a"}, {"text", "x"}}, {{"id", "b"}, {"text", "y"}}}}}
                   .dump() +
               "\n";
    }
    const int64_t p = Project(*out->store, "prefs", ranking, items);
    const json qa = {{"kind", "qa-pairs"},
                     {"question_types", {"factual", "reasoning"}},
                     {"requirements", {{"min_pairs", 1}}}};
    Project(*out->store, "qa", qa,
            "{\"source\": \"The river runs north through the old town.\"}\n"
            "{\"source\": \"Bees make honey from nectar.\"}\n");
    // One submission waiting for review, so the review and batch routes have work.
    const label::Caller ann{"ann", false};
    auto a = Must(out->store->Next(ann, p));
    if (a) {
      Must(out->store
               ->Submit(ann, a->id,
                        {{"rankings", {{{"dimension", "helpfulness"}, {"order", {"b", "a"}}}}}}, 10)
               .status());
    }
    (void)Must(out->store->Next(ann, p));  // and one live reservation
    out->media = Must(out->store->blobs().PutBytes("\x89PNG\r\n\x1a\nsome image bytes")).sha256;
    return out;
  }();
  return *w;
}

constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
constexpr const char* kUsers[] = {"mia", "ann", "bob", "rita", "rex", "sam", "root", ""};
// {} is the next id segment of line 1.
constexpr const char* kRoutes[] = {
    "/api/label/projects",
    "/api/label/projects/{}",
    "/api/label/projects/{}/items",
    "/api/label/projects/{}/members",
    "/api/label/projects/{}/next",
    "/api/label/assignments/{}",
    "/api/label/assignments/{}/submit",
    "/api/label/projects/{}/reviews/next",
    "/api/label/annotations/{}/review",
    "/api/label/projects/{}/batches",
    "/api/label/batches/{}/accept",
    "/api/label/batches/{}/reject",
    "/api/label/projects/{}/metrics",
    "/api/label/projects/{}/status",
    "/api/label/projects/{}/export",
    "/api/label/media/{}",
};
constexpr size_t kNumRoutes = sizeof(kRoutes) / sizeof(kRoutes[0]);

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  World& w = TheWorld();
  std::string_view in(reinterpret_cast<const char*>(data) + 3, size - 3);
  size_t nl = in.find('\n');
  std::string_view line1 = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  sagebox::http::ApiRequest req;
  req.method = kMethods[data[0] % 6];
  const char* user = kUsers[data[1] % 8];
  req.principal = {user, std::string_view(user) == "root" ? "admin" : "user", "token", false};
  req.body = std::string(body);

  std::string_view ids = line1;
  if (size_t hash = ids.find('#'); hash != std::string_view::npos) {
    req.headers.emplace_back("Range", std::string(ids.substr(hash + 1)));
    ids = ids.substr(0, hash);
  }
  if (size_t q = ids.find('?'); q != std::string_view::npos) {
    for (const std::string& kv : Split(ids.substr(q + 1), '&')) {
      size_t eq = kv.find('=');
      req.params.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
    ids = ids.substr(0, q);
  }
  const size_t route = data[2] % (kNumRoutes + 1);
  if (route == kNumRoutes) {
    req.path = std::string(ids);
  } else {
    std::vector<std::string> segs = Split(ids, ' ');
    size_t next = 0;
    std::string_view tmpl = kRoutes[route];
    for (size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl.substr(i, 2) == "{}") {
        std::string id = next < segs.size() ? segs[next++] : "";
        if (id.empty()) {
          // A small id that exists (or the media blob): reaches past the lookups.
          id = route == kNumRoutes - 1 ? w.media : std::to_string(1 + data[2] / 17 % 4);
        }
        req.path += id;
        ++i;
      } else {
        req.path += tmpl[i];
      }
    }
  }

  sagebox::http::ApiResponse r = w.api->Handle(req);
  if (r.status < 100 || r.status > 599) std::abort();
  if (r.status >= 400) {
    // Every error is {"error": {"code", "message"}}.
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error") || !j["error"].is_object() ||
        !j["error"].contains("code") || !j["error"]["code"].is_string() ||
        !j["error"].contains("message") || !j["error"]["message"].is_string()) {
      std::fprintf(stderr, "%s %s -> %d with a body not in the error shape: %s\n",
                   req.method.c_str(), req.path.c_str(), r.status, r.body.substr(0, 300).c_str());
      std::abort();
    }
  } else if (r.content_type == "application/json") {
    if (json::parse(r.body, nullptr, false).is_discarded()) {
      std::fprintf(stderr, "%s %s -> %d: the JSON body does not parse\n", req.method.c_str(),
                   req.path.c_str(), r.status);
      std::abort();
    }
  }
  return 0;
}
