#include "cost/api/cost_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "core/testing/temp_dir.h"
#include "cost/ingest.h"
#include "http/assets.h"
#include "http/testing/raw_http.h"
#include "http/testing/test_server.h"

namespace sagebox::cost::api {
namespace {

// The cost routes on a test server over `store`.
class Running {
 public:
  explicit Running(const std::string& store, http::Authenticator* auth = nullptr)
      : api_(Env::Default(), Opts(store)),
        routes_(Env::Default(), {store, 1 << 20, {}}, &api_),
        server_(auth, [this](http::Router& r) { routes_.Register(r); }) {}
  int port() const { return server_.port(); }
  httplib::Client Client() const { return server_.Client(); }

 private:
  static DashboardOptions Opts(const std::string& store) {
    DashboardOptions d;
    d.store_dir = store;
    return d;
  }
  DashboardApi api_;
  CostRoutes routes_;
  testing::TestServer server_;
};

TEST(HttpServer, ServesDashboardApiAndRefusesWhatItShould) {
  testing::TempDir dir("http_server");
  Running r(dir.Path("empty-store"));
  auto c = r.Client();

  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, std::string(http::FindAsset("/")->data));
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  EXPECT_EQ(c.Get("/assets/app.js")->status, 200);

  auto meta = c.Get("/api/meta");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->status, 200);
  EXPECT_EQ(meta->get_header_value("Content-Type"), "application/json");
  // The module's own prefix answers the same (the path before the platform is kept).
  auto meta2 = c.Get("/api/cost/meta");
  ASSERT_TRUE(meta2);
  EXPECT_EQ(meta2->status, 200);
  EXPECT_EQ(meta2->body, meta->body);

  // Only embedded files exist: traversal and unknown paths are 404.
  for (const char* p : {"/../../../../etc/passwd", "/assets/../../CMakeLists.txt",
                        "/%2e%2e/%2e%2e/etc/passwd", "/assets/app.js/..", "/etc/passwd"}) {
    auto res = c.Get(p);
    ASSERT_TRUE(res) << p;
    EXPECT_EQ(res->status, 404) << p;
    EXPECT_EQ(res->body.find("root:"), std::string::npos) << p;
  }

  // Another Host (DNS rebinding) is refused without credentials.
  httplib::Headers evil = {{"Host", "evil.example:8080"}};
  EXPECT_EQ(c.Get("/api/meta", evil)->status, 403);

  // Body over 1 MiB: 413.
  auto big = c.Put("/api/reports/x", std::string((1 << 20) + 10, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);

  // Too many header fields: 431.
  httplib::Headers many;
  for (int i = 0; i < 150; ++i) many.emplace("X-H" + std::to_string(i), "v");
  auto h = c.Get("/api/meta", many);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 431);

  // Cost Explorer without a target: the AWS error shape.
  auto ce = c.Post("/", "{}", "application/x-amz-json-1.1");
  ASSERT_TRUE(ce);
  EXPECT_EQ(ce->status, 400);
  EXPECT_EQ(ce->get_header_value("x-amzn-ErrorType"), "UnknownOperationException");
  EXPECT_NE(ce->body.find("\"__type\":\"UnknownOperationException\""), std::string::npos);

  // Malformed requests get 4xx (or a closed connection), and the server lives on.
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
        std::string(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        std::string("GET /") + std::string(20000, 'a') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ") + std::string(20000, 'b') +
            "\r\n\r\n",
        std::string("\0\0\0\xff\xfe", 5),
        std::string("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Transfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    std::string resp = testing::SendRaw(r.port(), bad, 2).value_or("connect failed");
    if (!resp.empty()) {
      EXPECT_TRUE(resp.starts_with("HTTP/1.1 4"))
          << bad.substr(0, 60) << " -> " << resp.substr(0, 40);
    }
  }
  auto alive = c.Get("/api/meta");
  ASSERT_TRUE(alive);
  EXPECT_EQ(alive->status, 200);
}

TEST(HttpServer, CachedAnswersEndWhenTheStoreChanges) {
  testing::TempDir dir("http_server_cache");
  const std::string store = dir.Path("store");
  Running r(store);
  auto c = r.Client();
  auto first = c.Get("/api/meta");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->get_header_value("X-Sagebox-Cache"), "miss");
  EXPECT_NE(first->body.find("\"data_range\":null"), std::string::npos);
  auto second = c.Get("/api/meta");
  EXPECT_EQ(second->get_header_value("X-Sagebox-Cache"), "hit");
  EXPECT_EQ(second->body, first->body);
  // Saved reports are never cached.
  EXPECT_EQ(c.Get("/api/reports")->get_header_value("X-Sagebox-Cache"), "");

  // An ingest replaces the MANIFEST: the next answer is computed anew.
  auto ing = cost::Ingest(Env::Default(), store,
                          {std::string(SAGEBOX_TESTDATA) +
                           "/real/focus-converters/sample-anonymous-aws-export-dataset.csv"},
                          cost::IngestOptions{});
  ASSERT_TRUE(ing.ok()) << ing.status().ToString();
  auto third = c.Get("/api/meta");
  EXPECT_EQ(third->get_header_value("X-Sagebox-Cache"), "miss");
  EXPECT_NE(third->body.find("\"first\":\"2023-11-01\""), std::string::npos);
}

TEST(HttpServer, TokenGuardsTheApiWhenCredentialsAreSet) {
  testing::TempDir dir("http_server_auth");
  http::Credentials creds;
  creds.secret_by_access_key["AKIDEXAMPLE"] = "secret";
  http::CredentialsAuthenticator auth(creds, "t0ken");
  Running r(dir.Path("store"), &auth);
  auto c = r.Client();
  auto none = c.Get("/api/meta");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(c.Get("/api/meta", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(c.Get("/api/meta", {{"Authorization", "Bearer t0ken"}})->status, 200);
  // The page itself loads without the token (it carries no data).
  EXPECT_EQ(c.Get("/")->status, 200);
  // Unsigned Cost Explorer calls are refused in AWS's shape.
  httplib::Headers t = {{"X-Amz-Target", "AWSInsightsIndexService.GetCostAndUsage"}};
  auto ce = c.Post("/", t, "{}", "application/x-amz-json-1.1");
  ASSERT_TRUE(ce);
  EXPECT_GE(ce->status, 400);
  EXPECT_LT(ce->status, 500);
  EXPECT_FALSE(ce->get_header_value("x-amzn-ErrorType").empty());
}

}  // namespace
}  // namespace sagebox::cost::api
