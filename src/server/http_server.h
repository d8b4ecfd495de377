// http_server.h: `sagebox serve`, the HTTP edge of the library.
//
// One cpp-httplib server with three routes (docs/api.md):
//   GET /, /assets/*          the dashboard, from files built into the binary
//   /api/*                    the dashboard's JSON API (dashboard_api.h)
//   POST / + X-Amz-Target     Cost Explorer, AWS JSON 1.1 (ce_api.h)
// The server only translates: HTTP in, library call, HTTP out. Status codes
// become HTTP statuses here and nowhere else.
//
// Security policy, enforced before any handler runs:
//  - a non-loopback listen address needs credentials (Create refuses);
//  - with credentials, Cost Explorer requests must carry a valid SigV4
//    signature and /api/* requests `Authorization: Bearer <token>`;
//  - without credentials (loopback only), the Host header must name a
//    loopback host, so a web page cannot reach the API by DNS rebinding;
//  - bodies over max_body_bytes get 413, header sections over
//    max_header_bytes or max_headers fields get 431.
//
// Thread-safety: Run blocks the calling thread and serves requests on a
// thread pool; Stop may be called from any thread (e.g. a signal watcher).
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "server/ce_api.h"
#include "server/credentials.h"
#include "server/dashboard_api.h"

namespace httplib {
class Server;
}

namespace sagebox::server {

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", "localhost"
  int port = 8080;   // 0 = any free port
};

// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (loopback). InvalidArgument otherwise.
StatusOr<ListenAddress> ParseListen(std::string_view text);
// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

struct ServerOptions {
  ListenAddress listen{"127.0.0.1", 8080};
  std::string store_dir;
  // Empty = no authentication (allowed on loopback only).
  Credentials credentials;
  std::string dashboard_token;  // required for /api/* when credentials are set
  size_t max_body_bytes = size_t{1} << 20;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_headers = 100;
  int threads = 0;  // 0 = enough for 64 keep-alive connections
  CeContext ce;
};

class HttpServer {
 public:
  // InvalidArgument for a non-loopback address without credentials, or
  // credentials without a dashboard token. `api` must outlive the server.
  static StatusOr<std::unique_ptr<HttpServer>> Create(Env* env, ServerOptions opt,
                                                      DashboardApi* api);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listen address. IoError naming the address if it is taken or
  // cannot be bound.
  Status Bind();
  // The bound port (after Bind).
  int port() const { return port_; }
  // Serves until Stop. IoError if the accept loop fails.
  Status Run();
  void Stop();

 private:
  HttpServer(Env* env, ServerOptions opt, DashboardApi* api);
  void Routes();

  Env* env_;
  ServerOptions opt_;
  DashboardApi* api_;
  std::unique_ptr<httplib::Server> srv_;
  int port_ = 0;
};

}  // namespace sagebox::server
