// http_server.h: `sagebox serve`, one HTTP server for every module.
//
// Modules do not own servers. Each registers its routes on a Router, and the
// server owns everything around them: limits, the Host check, who the caller
// is, roles, CSRF, the error shapes, /healthz and /metrics. Routes:
//   GET /healthz                    liveness, never authenticated
//   GET /metrics                    Prometheus text (metrics.h)
//   GET /api/whoami                 the caller's name and role, or 401
//   POST /api/login, /api/logout    password sessions (cookie + CSRF token)
//   /api/<module>/...               a module's JSON API (Router::AddApi)
//   POST / + X-Amz-Target           AWS JSON 1.1, dispatched by target prefix
//                                   (Router::AddAwsJson): Cost Explorer, Kendra…
//   other registered prefixes       REST APIs (Router::AddRest), e.g. SageMaker
//                                   Runtime's /endpoints/NAME/invocations
//   GET /, /assets/*                the web UI, from files built into the binary
// A module handler is a pure function (api.h); HTTP in and out is done here,
// and Status codes become HTTP statuses here and nowhere else.
//
// Security policy, enforced before any handler runs (docs/api.md):
//  - the server is *secured* when its Authenticator says callers must
//    authenticate (users exist, or a credentials file is given). A
//    non-loopback listen address refuses to start unless it is secured;
//  - secured: JSON APIs and /metrics take `Authorization: Bearer TOKEN` or the
//    session cookie (then state-changing methods also need X-CSRF-Token);
//    AWS-shaped routes take a SigV4 signature by a known access key; a
//    viewer may only read (GET/HEAD);
//  - open (loopback, nobody configured): the Host header must name a
//    loopback host, so a web page cannot reach the API by DNS rebinding;
//  - bodies over max_body_bytes get 413, header sections over
//    max_header_bytes or max_headers fields get 431.
//
// Thread-safety: register every route before Bind. Run blocks the calling
// thread and serves requests on a thread pool; Stop may be called from any
// thread (e.g. a signal watcher).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "http/api.h"
#include "http/authenticator.h"
#include "http/metrics.h"

namespace sagebox::http {

class HttplibServer;  // httplib::Server with access to its listening socket

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost"
  int port = 8080;   // 0 = any free port
};

// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (loopback). InvalidArgument otherwise.
StatusOr<ListenAddress> ParseListen(std::string_view text);
// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

using Handler = std::function<ApiResponse(const ApiRequest&)>;

// What modules add to the server. Matching is by longest prefix within a kind.
class Router {
 public:
  // A JSON API: requests whose path starts with `prefix` ("/api/cost/").
  // `name` labels the route in /metrics.
  void AddApi(std::string name, std::string prefix, Handler h);
  // AWS JSON 1.1: POST / whose X-Amz-Target starts with `target_prefix`
  // ("AWSInsightsIndexService."). Signed requests must name
  // `signing_service` ("ce") in their credential scope. The handler sees the
  // target in the X-Amz-Target header and answers in AWS's error shape.
  void AddAwsJson(std::string name, std::string target_prefix, std::string signing_service,
                  Handler h);
  // A REST API outside /api, authenticated by SigV4 for `signing_service`
  // (SageMaker Runtime: "sagemaker"), or, when signing_service is empty, like
  // a JSON API (bearer token or session).
  void AddRest(std::string name, std::string prefix, std::string signing_service, Handler h);

  enum class Kind { kApi, kAwsJson, kRest };
  struct Route {
    Kind kind;
    std::string name;
    std::string prefix;  // path prefix, or X-Amz-Target prefix for kAwsJson
    std::string signing_service;
    Handler handler;
  };
  // The route for a path (kApi, kRest) or a target (kAwsJson); nullptr if none.
  const Route* Match(Kind kind, std::string_view key) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

struct ServerOptions {
  ListenAddress listen{"127.0.0.1", 8080};
  // Null or not Required() = open (loopback only). Must outlive the server.
  Authenticator* auth = nullptr;
  size_t max_body_bytes = size_t{1} << 20;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_headers = 100;
  int threads = 0;  // 0 = enough for 64 keep-alive connections
  // Set when the session cookie should carry `Secure` (served behind TLS).
  bool secure_cookies = false;
};

class HttpServer {
 public:
  // InvalidArgument for a non-loopback address when no caller must
  // authenticate. Add routes through router() before Bind.
  static StatusOr<std::unique_ptr<HttpServer>> Create(Env* env, ServerOptions opt);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Router& router() { return router_; }
  Metrics& metrics() { return metrics_; }

  // Binds the listen address. IoError naming the address if it is taken or
  // cannot be bound.
  Status Bind();
  // The bound port (after Bind).
  int port() const { return port_; }
  // Serves until Stop. IoError if the accept loop fails.
  Status Run();
  void Stop();

 private:
  HttpServer(Env* env, ServerOptions opt);
  void Routes();
  bool Secured() const;

  Env* env_;
  ServerOptions opt_;
  Router router_;
  Metrics metrics_;
  std::unique_ptr<HttplibServer> srv_;
  int port_ = 0;
};

}  // namespace sagebox::http
