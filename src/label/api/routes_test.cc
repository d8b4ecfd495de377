// routes_test.cc: /api/label/'s HTTP shapes (the loop itself is label_store_test's and
// tests/label/loop.py's): statuses, error bodies, the 422 of a failed submit, media with
// ranges, who may import by path.
#include "label/api/routes.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"

namespace sagebox::label::api {
namespace {

using nlohmann::json;

class LabelApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(dir_.Path("sagebox.db"), Migrations());
    ASSERT_NE(db_, nullptr);
    store_ = std::make_unique<LabelStore>(db_.get(), Env::Default(), dir_.path());
    api_ = std::make_unique<LabelApi>(store_.get(), Env::Default());
  }

  http::ApiResponse Call(const std::string& user, const std::string& method,
                         const std::string& path, const std::string& body = "",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ApiRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.headers = std::move(headers);
    req.principal.name = user;
    req.principal.role = user == "root" ? "admin" : "user";
    auto q = path.find('?');
    if (q != std::string::npos) {
      req.path = path.substr(0, q);
      std::string query = path.substr(q + 1);
      size_t i = 0;
      while (i < query.size()) {
        size_t amp = query.find('&', i);
        if (amp == std::string::npos) amp = query.size();
        std::string kv = query.substr(i, amp - i);
        size_t eq = kv.find('=');
        req.params.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
        i = amp + 1;
      }
    }
    return api_->Handle(req);
  }

  static json Body(const http::ApiResponse& r) { return json::parse(r.body); }

  // A ranking project "p" of mia's with ann as annotator and one item.
  void MakeProject() {
    auto r =
        Call("mia", "POST", "/api/label/projects",
             R"({"name":"p","kind":"ranking","config":{"requirements":{"dimensions":["d"]}}})");
    ASSERT_EQ(r.status, 201) << r.body;
    ASSERT_EQ(
        Call("mia", "POST", "/api/label/projects/p/members", R"({"user":"ann","role":"annotator"})")
            .status,
        201);
    r = Call("mia", "POST", "/api/label/projects/p/items",
             R"({"prompt":"q","responses":[{"id":"a","text":"A"},{"id":"b","text":"B"}]})"
             "\n");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  testing::TempDir dir_{"label_api"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<LabelStore> store_;
  std::unique_ptr<LabelApi> api_;
};

TEST_F(LabelApiTest, AFailedSubmitIs422NamingTheRequirement) {
  MakeProject();
  auto next = Call("ann", "POST", "/api/label/projects/p/next");
  ASSERT_EQ(next.status, 200) << next.body;
  int64_t id = Body(next)["assignment"]["id"];
  std::string path = "/api/label/assignments/" + std::to_string(id);
  auto bad = Call("ann", "POST", path + "/submit",
                  R"({"payload":{"rankings":[{"dimension":"d","order":["a"]}]}})");
  EXPECT_EQ(bad.status, 422);
  json b = Body(bad);
  EXPECT_EQ(b["error"]["code"], "RequirementsFailed");
  EXPECT_EQ(b["failures"][0]["requirement"], "all_ranked");
  EXPECT_EQ(Call("ann", "PUT", path, R"({"payload":{},"active_seconds":-1})").status, 400);
  EXPECT_EQ(Call("ann", "PUT", path, R"({"payload":{}})").status, 200);
  auto ok = Call("ann", "POST", path + "/submit",
                 R"({"payload":{"rankings":[{"dimension":"d","order":["b","a"]}]}})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["review"], "pending");
  // Someone else's assignment, a second submit.
  EXPECT_EQ(Call("mia", "PUT", path, R"({"payload":{}})").status, 403);
  EXPECT_EQ(Call("ann", "POST", path + "/submit", R"({"payload":{}})").status, 400);
}

TEST_F(LabelApiTest, MalformedRequestsAreClearErrors) {
  MakeProject();
  EXPECT_EQ(Call("mia", "POST", "/api/label/projects", "{").status, 400);
  EXPECT_EQ(Call("mia", "POST", "/api/label/projects", "[]").status, 400);
  auto noname = Call("mia", "POST", "/api/label/projects", R"({"kind":"ranking"})");
  EXPECT_EQ(noname.status, 400);
  EXPECT_NE(Body(noname)["error"]["message"].get<std::string>().find("name"), std::string::npos);
  EXPECT_EQ(Call("mia", "POST", "/api/label/projects", R"({"name":"q","kind":"poetry"})").status,
            400);
  EXPECT_EQ(Call("mia", "POST", "/api/label/projects",
                 R"({"name":"p","kind":"ranking","config":{"requirements":{"dimensions":["d"]}}})")
                .status,
            409);
  EXPECT_EQ(Call("mia", "GET", "/api/label/projects/nope").status, 404);
  EXPECT_EQ(Call("mia", "DELETE", "/api/label/projects/p").status, 405);
  EXPECT_EQ(Call("mia", "GET", "/api/label/projects/p/unknown").status, 404);
  EXPECT_EQ(Call("mia", "GET", "/api/label/assignments/0").status, 400);
  EXPECT_EQ(Call("mia", "GET", "/api/label/assignments/99").status, 404);
  EXPECT_EQ(Call("mia", "POST", "/api/label/annotations/1/review", R"({"verdict":"maybe"})").status,
            400);
  EXPECT_EQ(Call("mia", "GET", "/api/label/projects/p/export?format=pdf").status, 400);
  // A bad manifest line names the body's line and imports nothing.
  auto bad = Call("mia", "POST", "/api/label/projects/p/items",
                  R"({"prompt":"q","responses":[{"id":"a","text":"A"},{"id":"b","text":"B"}]})"
                  "\n{\"prompt\":\"x\"}\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(Body(bad)["error"]["message"].get<std::string>().find("body:2:"), std::string::npos)
      << bad.body;
  EXPECT_EQ(Body(Call("mia", "GET", "/api/label/projects/p/status"))["items"], 1);
}

TEST_F(LabelApiTest, OnlyAnAdminImportsFilesByPath) {
  MakeProject();
  std::string line = R"({"prompt":"q","source-ref":"/etc/hostname","responses":[)"
                     R"({"id":"a","text":"A"},{"id":"b","text":"B"}]})";
  EXPECT_EQ(Call("mia", "POST", "/api/label/projects/p/items", line).status, 403);
}

TEST_F(LabelApiTest, MediaAreServedWithRanges) {
  auto blob = store_->blobs().PutBytes(std::string("\x89PNG\r\n\x1a\n", 8) + "0123456789");
  ASSERT_TRUE(blob.ok());
  std::string path = "/api/label/media/" + blob->sha256;
  auto all = Call("ann", "GET", path);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.content_type, "image/png");
  EXPECT_EQ(all.body.size(), 18u);
  auto part = Call("ann", "GET", path, "", {{"Range", "bytes=8-11"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "0123");
  bool has_range = false;
  for (const auto& [k, v] : part.headers) {
    if (k == "Content-Range") has_range = v == "bytes 8-11/18";
  }
  EXPECT_TRUE(has_range);
  EXPECT_EQ(Call("ann", "GET", path, "", {{"Range", "bytes=-4"}}).body, "6789");
  EXPECT_EQ(Call("ann", "GET", path, "", {{"Range", "bytes=18-"}}).status, 416);
  EXPECT_EQ(Call("ann", "GET", "/api/label/media/../../etc/passwd").status, 404);
  EXPECT_EQ(Call("ann", "GET", "/api/label/media/..").status, 400);  // not a hash
  EXPECT_EQ(Call("ann", "GET", "/api/label/media/" + std::string(64, 'a')).status, 404);
}

}  // namespace
}  // namespace sagebox::label::api
