#include "http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <thread>

#include "http/sigv4.h"
#include "http/testing/raw_http.h"
#include "http/testing/test_server.h"

namespace sagebox::http {
namespace {

TEST(ParseListen, Forms) {
  auto a = ParseListen("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = ParseListen("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = ParseListen(":9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_FALSE(ParseListen("8080").ok());
  EXPECT_FALSE(ParseListen("host:port").ok());
  EXPECT_FALSE(ParseListen("host:70000").ok());
  EXPECT_FALSE(ParseListen("[::1]8080").ok());
}

TEST(IsLoopbackHost, OnlyLoopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.5.5.5"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("192.168.1.2"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("localhost.evil.com"));
}

TEST(CookieAndBearer, Parsing) {
  EXPECT_EQ(CookieValue("a=1; sagebox_session=xyz; b=2", "sagebox_session"), "xyz");
  EXPECT_EQ(CookieValue("sagebox_session=\"q\"", "sagebox_session"), "q");
  EXPECT_EQ(CookieValue("  sagebox_session = v1 ;x=y", "sagebox_session"), "v1");
  EXPECT_EQ(CookieValue("xsagebox_session=no", "sagebox_session"), "");
  EXPECT_EQ(CookieValue("", "sagebox_session"), "");
  EXPECT_EQ(CookieValue("sagebox_session", "sagebox_session"), "");
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
}

// Callers known to the test: one token and one session per role, one key.
class FakeAuth : public Authenticator {
 public:
  bool required = true;
  bool Required() override { return required; }
  StatusOr<Principal> Token(std::string_view t) override {
    if (t == "admin-token") return Principal{"alice", "admin", "token", false};
    if (t == "viewer-token") return Principal{"vera", "viewer", "token", false};
    return Unauthenticated("unknown token");
  }
  StatusOr<SessionInfo> Session(std::string_view id) override {
    if (id == "sess-1") return SessionInfo{{"bob", "user", "session", false}, "csrf-1"};
    return Unauthenticated("unknown session");
  }
  StatusOr<NewSession> Login(std::string_view name, std::string_view password) override {
    if (name == "bob" && password == "pw") {
      return NewSession{"sess-1", "csrf-1", 3600, {"bob", "user", "session", false}};
    }
    return Unauthenticated("wrong user name or password");
  }
  Status Logout(std::string_view id) override {
    logged_out = std::string(id);
    return Status::Ok();
  }
  StatusOr<KeySecret> AccessKey(std::string_view id) override {
    if (id == "AKIDEXAMPLE") return KeySecret{"secret", {"carol", "user", "sigv4", false}};
    return NotFound("unknown key");
  }
  std::string logged_out;
};

// A source whose database is down: its error must not read as a wrong token.
class BrokenAuth : public FakeAuth {
 public:
  StatusOr<Principal> Token(std::string_view) override { return IoError("database down"); }
};

TEST(ChainAuthenticator, AsksEachSourceAndKeepsRealErrors) {
  std::vector<std::unique_ptr<Authenticator>> sources;
  Credentials creds;
  creds.secret_by_access_key["AKIDFILE"] = "file-secret";
  sources.push_back(std::make_unique<CredentialsAuthenticator>(creds, "file-token"));
  sources.push_back(std::make_unique<FakeAuth>());
  ChainAuthenticator chain(std::move(sources));
  EXPECT_TRUE(chain.Required());
  EXPECT_EQ(chain.Token("file-token")->via, "credentials-file");
  EXPECT_EQ(chain.Token("admin-token")->name, "alice");
  EXPECT_EQ(chain.Token("nobody").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(chain.AccessKey("AKIDFILE")->secret, "file-secret");
  EXPECT_EQ(chain.AccessKey("AKIDEXAMPLE")->principal.name, "carol");
  EXPECT_EQ(chain.AccessKey("AKIDNONE").status().code(), StatusCode::kNotFound);
  // The credentials file has no passwords (Unimplemented): the next source logs in.
  EXPECT_EQ(chain.Login("bob", "pw")->id, "sess-1");
  EXPECT_EQ(chain.Login("bob", "no").status().code(), StatusCode::kUnauthenticated);

  std::vector<std::unique_ptr<Authenticator>> broken;
  broken.push_back(std::make_unique<BrokenAuth>());
  ChainAuthenticator down(std::move(broken));
  EXPECT_EQ(down.Token("admin-token").status().code(), StatusCode::kIoError);
}

// A module with two API prefixes, an AWS JSON target and a REST path; each
// answers with the route it is and the caller it saw.
void AddFakeModule(Router& r) {
  auto echo = [](std::string name) {
    return [name](const ApiRequest& req) {
      return JsonResponse({{"route", name},
                           {"path", req.path},
                           {"who", req.principal.name},
                           {"role", req.principal.role},
                           {"target", req.Header("X-Amz-Target")},
                           {"body", req.body}});
    };
  };
  r.AddApi("mod", "/api/mod/", echo("mod"));
  r.AddApi("mod-deep", "/api/mod/deep/", echo("mod-deep"));
  r.AddAwsJson("aws:fake", "FakeService.", "fake", echo("aws"));
  r.AddRest("rest", "/endpoints/", "", echo("rest"));
}

// A server with the fake module, open when `auth` is null.
class Running : public testing::TestServer {
 public:
  explicit Running(Authenticator* auth) : TestServer(auth, AddFakeModule) {}
};

nlohmann::json Json(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

TEST(HttpServerCreate, NonLoopbackNeedsAuthentication) {
  ServerOptions o;
  o.listen = {"0.0.0.0", 0};
  auto s = HttpServer::Create(Env::Default(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("users add"), std::string::npos);
  FakeAuth auth;
  auth.required = false;  // an authenticator that knows nobody is still open
  o.auth = &auth;
  EXPECT_FALSE(HttpServer::Create(Env::Default(), o).ok());
  auth.required = true;
  EXPECT_TRUE(HttpServer::Create(Env::Default(), o).ok());
}

TEST(HttpServer, OpenServerRoutesByLongestPrefixAndCountsRequests) {
  Running r(nullptr);
  auto c = r.Client();
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(Json(health)["status"], "ok");

  auto who = c.Get("/api/whoami");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->status, 200);
  EXPECT_EQ(Json(who)["name"], "local");
  EXPECT_EQ(Json(who)["anonymous"], true);

  EXPECT_EQ(Json(c.Get("/api/mod/x"))["route"], "mod");
  EXPECT_EQ(Json(c.Get("/api/mod/deep/y"))["route"], "mod-deep");
  EXPECT_EQ(c.Get("/api/nothing")->status, 404);
  EXPECT_EQ(Json(c.Get("/endpoints/m/invocations"))["route"], "rest");

  httplib::Headers t = {{"X-Amz-Target", "FakeService.DoIt"}};
  auto aws = c.Post("/", t, "{\"a\":1}", kAmzJson);
  ASSERT_TRUE(aws);
  EXPECT_EQ(Json(aws)["route"], "aws");
  EXPECT_EQ(Json(aws)["target"], "FakeService.DoIt");
  EXPECT_EQ(Json(aws)["body"], "{\"a\":1}");
  httplib::Headers other = {{"X-Amz-Target", "OtherService.DoIt"}};
  auto unknown = c.Post("/", other, "{}", kAmzJson);
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(unknown->get_header_value("x-amzn-ErrorType"), "UnknownOperationException");

  // Another Host (DNS rebinding) is refused on an open server.
  EXPECT_EQ(c.Get("/api/mod/x", {{"Host", "evil.example:8080"}})->status, 403);

  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  const std::string& m = metrics->body;
  EXPECT_NE(m.find("sagebox_http_requests_total{route=\"mod\",method=\"GET\",code=\"200\"} 1\n"),
            std::string::npos)
      << m;
  EXPECT_NE(
      m.find("sagebox_http_requests_total{route=\"api-unknown\",method=\"GET\",code=\"404\"} 1"),
      std::string::npos);
  EXPECT_NE(
      m.find("sagebox_http_requests_total{route=\"aws:fake\",method=\"POST\",code=\"200\"} 1"),
      std::string::npos);
  EXPECT_NE(m.find("sagebox_http_request_duration_seconds_count{route=\"healthz\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("sagebox_http_request_duration_seconds_bucket{route=\"mod\",le=\"+Inf\"} 1"),
            std::string::npos);
}

TEST(HttpServer, SecuredServerNeedsACallerAndChecksRolesAndCsrf) {
  FakeAuth auth;
  Running r(&auth);
  auto c = r.Client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // liveness probes carry no credentials
  EXPECT_EQ(c.Get("/api/whoami")->status, 401);
  EXPECT_EQ(c.Get("/api/whoami", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  auto alice = c.Get("/api/whoami", {{"Authorization", "Bearer admin-token"}});
  EXPECT_EQ(alice->status, 200);
  EXPECT_EQ(Json(alice)["name"], "alice");
  EXPECT_EQ(Json(alice)["role"], "admin");
  // A secured server accepts any Host: the caller proved who they are.
  EXPECT_EQ(c.Get("/api/whoami", {{"Authorization", "Bearer admin-token"}, {"Host", "sb.example"}})
                ->status,
            200);

  // Viewers read but do not write.
  httplib::Headers viewer = {{"Authorization", "Bearer viewer-token"}};
  EXPECT_EQ(c.Get("/api/mod/x", viewer)->status, 200);
  EXPECT_EQ(c.Post("/api/mod/x", viewer, "{}", "application/json")->status, 403);

  // Login sets an HttpOnly, SameSite=Strict cookie and hands out the CSRF token.
  EXPECT_EQ(
      c.Post("/api/login", "{\"name\":\"bob\",\"password\":\"no\"}", "application/json")->status,
      401);
  EXPECT_EQ(c.Post("/api/login", "not json", "application/json")->status, 400);
  auto login = c.Post("/api/login", "{\"name\":\"bob\",\"password\":\"pw\"}", "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 200);
  const std::string cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("sagebox_session=sess-1"), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(Json(login)["csrf_token"], "csrf-1");

  httplib::Headers session = {{"Cookie", "sagebox_session=sess-1"}};
  EXPECT_EQ(Json(c.Get("/api/whoami", session))["name"], "bob");
  // A write through the cookie alone (what a cross-site form could send) is refused.
  EXPECT_EQ(c.Post("/api/mod/x", session, "{}", "application/json")->status, 403);
  httplib::Headers wrong = {{"Cookie", "sagebox_session=sess-1"}, {"X-CSRF-Token", "csrf-2"}};
  EXPECT_EQ(c.Post("/api/mod/x", wrong, "{}", "application/json")->status, 403);
  httplib::Headers right = {{"Cookie", "sagebox_session=sess-1"}, {"X-CSRF-Token", "csrf-1"}};
  EXPECT_EQ(c.Post("/api/mod/x", right, "{}", "application/json")->status, 200);
  auto out = c.Post("/api/logout", right, "", "application/json");
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(auth.logged_out, "sess-1");
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);

  // AWS-shaped calls need a signature by a known key.
  httplib::Headers t = {{"X-Amz-Target", "FakeService.DoIt"}};
  auto unsigned_call = c.Post("/", t, "{}", kAmzJson);
  EXPECT_EQ(unsigned_call->status, 403);
  EXPECT_EQ(unsigned_call->get_header_value("x-amzn-ErrorType"),
            "MissingAuthenticationTokenException");
}

TEST(HttpServer, SignedAwsCallReachesTheModuleAsTheKeysOwner) {
  FakeAuth auth;
  Running r(&auth);
  // Sign as botocore does: host, x-amz-date and x-amz-target, scope service "fake".
  const std::string host = "127.0.0.1:" + std::to_string(r.port());
  const std::string body = "{}";
  const std::string amz_date = FormatAmzDate(Env::Default()->Now());
  SigV4Request sr;
  sr.method = "POST";
  sr.target = "/";
  sr.headers = {{"host", host}, {"x-amz-date", amz_date}, {"x-amz-target", "FakeService.DoIt"}};
  sr.body = body;
  const std::vector<std::string> signed_headers = {"host", "x-amz-date", "x-amz-target"};
  const std::string scope = amz_date.substr(0, 8) + "/us-east-1/fake/aws4_request";
  const std::string sig =
      SignatureHex("secret", amz_date.substr(0, 8), "us-east-1", "fake",
                   StringToSign(amz_date, scope, CanonicalRequest(sr, signed_headers)));
  const std::string authz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope +
                            ", SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + sig;
  auto c = r.Client();
  httplib::Headers h = {
      {"X-Amz-Date", amz_date}, {"X-Amz-Target", "FakeService.DoIt"}, {"Authorization", authz}};
  auto res = c.Post("/", h, body, kAmzJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Json(res)["who"], "carol");
  // One changed signature character is refused in AWS's shape.
  httplib::Headers other = h;
  other.erase("Authorization");
  other.emplace("Authorization",
                authz.substr(0, authz.size() - 1) + (sig.back() == '0' ? "1" : "0"));
  auto tampered = c.Post("/", other, body, kAmzJson);
  EXPECT_EQ(tampered->status, 400) << tampered->body;
  EXPECT_EQ(tampered->get_header_value("x-amzn-ErrorType"), "InvalidSignatureException");
}

TEST(HttpServer, RefusesHostileRequestsAndLivesOn) {
  Running r(nullptr);
  auto c = r.Client();
  for (const char* p : {"/../../../../etc/passwd", "/assets/../../CMakeLists.txt",
                        "/%2e%2e/%2e%2e/etc/passwd", "/assets/app.js/..", "/etc/passwd"}) {
    auto res = c.Get(p);
    ASSERT_TRUE(res) << p;
    EXPECT_EQ(res->status, 404) << p;
    EXPECT_EQ(res->body.find("root:"), std::string::npos) << p;
  }
  auto big = c.Put("/api/mod/x", std::string((1 << 20) + 10, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  httplib::Headers many;
  for (int i = 0; i < 150; ++i) many.emplace("X-H" + std::to_string(i), "v");
  EXPECT_EQ(c.Get("/api/mod/x", many)->status, 431);
  for (const std::string& bad :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("\0\0\0\xff\xfe", 5)}) {
    std::string resp = testing::SendRaw(r.port(), bad, 2).value_or("connect failed");
    if (!resp.empty()) {
      EXPECT_TRUE(resp.starts_with("HTTP/1.1 4")) << resp.substr(0, 40);
    }
  }
  EXPECT_EQ(c.Get("/healthz")->status, 200);
}

}  // namespace
}  // namespace sagebox::http
