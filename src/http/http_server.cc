#include "http/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <optional>
#include <variant>

#include "http/assets.h"
#include "http/http_status.h"
#include "http/sigv4.h"

namespace sagebox::http {

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
// into Debian's library), so a burst of connections (wrk opens 64 at once;
// a dashboard opens several) overflows the accept queue and the kernel
// drops SYNs, which clients retry only after 1 s and 3 s. Calling listen()
// again on the bound socket raises the backlog; the socket is a protected
// member, hence this subclass.
class HttplibServer : public httplib::Server {
 public:
  bool RaiseBacklog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }
};

namespace {

constexpr std::string_view kSessionCookie = "sagebox_session";

// The web UI's own origin only; Chart.js sets canvas sizes through
// style attributes, hence 'unsafe-inline' for styles (not for scripts). The
// Label tab plays videos from /api/label/media/ (media-src).
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// One request is handled on one pool thread from pre-routing to the logger,
// so the route name and start time travel in thread-locals rather than
// through httplib, which has no per-request user data.
thread_local int64_t tl_start_ns = 0;  // steady clock
thread_local std::string tl_route;

void Send(httplib::Response& res, const ApiResponse& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

std::string RequestId() {
  static std::atomic<uint64_t> next{1};
  return fmt::format("sagebox-{:016x}", next.fetch_add(1));
}

// The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1",
// "[::1]:8080" -> "::1".
std::string_view HostOf(std::string_view host_header) {
  if (host_header.starts_with('[')) {
    size_t close = host_header.find(']');
    return close == std::string_view::npos ? host_header : host_header.substr(1, close - 1);
  }
  size_t colon = host_header.rfind(':');
  return colon == std::string_view::npos ? host_header : host_header.substr(0, colon);
}

bool IsRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

ApiRequest ToApiRequest(const httplib::Request& req, Principal who) {
  ApiRequest ar;
  ar.method = req.method;
  ar.path = req.path;
  ar.params.insert(req.params.begin(), req.params.end());
  for (const auto& [k, v] : req.headers) ar.headers.emplace_back(k, v);
  ar.body = req.body;
  ar.principal = std::move(who);
  return ar;
}

Principal OpenCaller() { return Principal{"local", "admin", "open", true}; }

ApiResponse NeedLogin() {
  ApiResponse r = ErrorBody(401, "Unauthenticated",
                            "sign in, or send Authorization: Bearer TOKEN (`sagebox users token "
                            "NAME` makes one; docs/api.md)");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sagebox\"");
  return r;
}

}  // namespace

void Router::AddApi(std::string name, std::string prefix, Handler h) {
  routes_.push_back({Kind::kApi, std::move(name), std::move(prefix), "", std::move(h)});
}

void Router::AddAwsJson(std::string name, std::string target_prefix, std::string signing_service,
                        Handler h) {
  routes_.push_back({Kind::kAwsJson, std::move(name), std::move(target_prefix),
                     std::move(signing_service), std::move(h)});
}

void Router::AddRest(std::string name, std::string prefix, std::string signing_service, Handler h) {
  routes_.push_back(
      {Kind::kRest, std::move(name), std::move(prefix), std::move(signing_service), std::move(h)});
}

const Router::Route* Router::Match(Kind kind, std::string_view key) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.kind == kind && key.starts_with(r.prefix) &&
        (!best || r.prefix.size() > best->prefix.size())) {
      best = &r;
    }
  }
  return best;
}

StatusOr<ListenAddress> ParseListen(std::string_view text) {
  ListenAddress a;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find("]:");
    if (close == std::string_view::npos) {
      return InvalidArgument("--listen '" + std::string(text) + "': expected [IPv6]:PORT");
    }
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("--listen '" + std::string(text) +
                             "': expected HOST:PORT, e.g. 127.0.0.1:8080");
    }
    a.host = colon == 0 ? "127.0.0.1" : std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || p != port.data() + port.size() || a.port < 0 || a.port > 65535 ||
      a.host.empty()) {
    return InvalidArgument("--listen '" + std::string(text) +
                           "': the port must be a number from 0 to 65535");
  }
  return a;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

HttpServer::HttpServer(Env* env, ServerOptions opt)
    : env_(env),
      opt_(std::move(opt)),
      metrics_(env->Now()),
      srv_(std::make_unique<HttplibServer>()) {}

HttpServer::~HttpServer() = default;

bool HttpServer::Secured() const { return opt_.auth != nullptr && opt_.auth->Required(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(Env* env, ServerOptions opt) {
  const bool secured = opt.auth != nullptr && opt.auth->Required();
  if (!secured && !IsLoopbackHost(opt.listen.host)) {
    return InvalidArgument(
        "refusing to listen on " + opt.listen.host +
        " without users or credentials: anyone who can reach it could read your data. Add a "
        "user (`sagebox users add NAME --role admin`), or use --credentials FILE (AWS "
        "credentials format; see docs/api.md), or listen on 127.0.0.1");
  }
  std::unique_ptr<HttpServer> s(new HttpServer(env, std::move(opt)));
  s->Routes();
  return s;
}

Status HttpServer::Bind() {
  int port = opt_.listen.port == 0
                 ? srv_->bind_to_any_port(opt_.listen.host)
                 : (srv_->bind_to_port(opt_.listen.host, opt_.listen.port) ? opt_.listen.port : -1);
  if (port <= 0) {
    return IoError(
        fmt::format("cannot listen on {}:{} (in use, or not an address of this "
                    "machine)",
                    opt_.listen.host, opt_.listen.port));
  }
  port_ = port;
  if (!srv_->RaiseBacklog()) return IoError("cannot raise the listen backlog");
  return Status::Ok();
}

Status HttpServer::Run() {
  if (!srv_->listen_after_bind()) return IoError("the server's accept loop failed");
  return Status::Ok();
}

void HttpServer::Stop() { srv_->stop(); }

void HttpServer::Routes() {
  httplib::Server& s = *srv_;
  // A connection holds a pool thread while it is kept alive, so the pool
  // must be larger than the connections expected at once (wrk -c64 in the
  // load test), or idle keep-alives starve new ones.
  const int threads = opt_.threads > 0 ? opt_.threads : 96;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_keep_alive_max_count(1000);
  // Headers and body go out in separate writes; with Nagle's algorithm the
  // body waits for the client's delayed ACK (40 ms on Linux).
  s.set_tcp_nodelay(true);
  s.set_keep_alive_timeout(5);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_payload_max_length(opt_.max_body_bytes);

  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    tl_start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    tl_route = "unmatched";
    size_t bytes = 0;
    for (const auto& [k, v] : req.headers) bytes += k.size() + v.size() + 4;
    if (req.headers.size() > opt_.max_headers || bytes > opt_.max_header_bytes) {
      Send(res, ErrorBody(431, "RequestHeaderFieldsTooLarge",
                          fmt::format("at most {} header fields and {} bytes of headers",
                                      opt_.max_headers, opt_.max_header_bytes)));
      return httplib::Server::HandlerResponse::Handled;
    }
    // httplib reads a Content-Length it cannot parse as 0; a malformed one
    // is the client's error, not an empty body.
    if (req.has_header("Content-Length")) {
      const std::string cl = req.get_header_value("Content-Length");
      if (cl.empty() || cl.size() > 19 ||
          !std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        Send(res, ErrorBody(400, "BadRequest", "malformed Content-Length"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // An open server trusts whoever can reach it, which is only this
    // machine; a page from elsewhere that rebinds its DNS name to 127.0.0.1
    // still sends its own name as Host, and is turned away.
    if (!Secured() && !IsLoopbackHost(HostOf(req.get_header_value("Host")))) {
      Send(res, ErrorBody(403, "Forbidden",
                          "Host must be a loopback name (localhost, 127.0.0.1, [::1]) when the "
                          "server runs without users or credentials"));
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (tl_route.empty()) return;  // not routed by us (httplib refused it while reading)
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    const double secs = static_cast<double>(now_ns - tl_start_ns) / 1e9;
    metrics_.Observe(tl_route, req.method, res.status, secs);
    tl_route.clear();
  });

  // The caller of a JSON API, /metrics or an unsigned REST route: open
  // servers know everyone as the local admin; secured ones take a bearer
  // token, else the session cookie (then a state-changing method must echo
  // the session's CSRF token, which a cross-site form cannot read).
  auto caller = [this](const httplib::Request& req) -> StatusOr<Principal> {
    if (!Secured()) return OpenCaller();
    const std::string bearer = BearerToken(req.get_header_value("Authorization"));
    if (!bearer.empty()) return opt_.auth->Token(bearer);
    const std::string sid = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
    if (sid.empty()) return Unauthenticated("no credentials");
    ASSIGN_OR_RETURN(SessionInfo session, opt_.auth->Session(sid));
    if (!IsRead(req.method) &&
        !ConstantTimeEquals(req.get_header_value("X-CSRF-Token"), session.csrf_token)) {
      return PermissionDenied("missing or wrong X-CSRF-Token header for this session");
    }
    session.principal.via = "session";
    return session.principal;
  };
  // The caller or the response that refuses them.
  auto authorize = [caller](const httplib::Request& req) -> std::variant<Principal, ApiResponse> {
    auto who = caller(req);
    if (!who.ok()) {
      if (who.status().code() == StatusCode::kUnauthenticated) return NeedLogin();
      return ErrorResponse(who.status());
    }
    // Viewers read; writing is for users and admins (modules refine further).
    if (who->role == "viewer" && !IsRead(req.method) && req.path != "/api/logout") {
      return ErrorBody(403, "PermissionDenied", "the viewer role can only read");
    }
    return *who;
  };

  // SigV4 for an AWS-shaped route; the caller, or the AWS-shaped refusal.
  auto sigv4 = [this](const httplib::Request& req, const Router::Route& route,
                      bool must_sign_target) -> std::variant<Principal, ApiResponse> {
    if (!Secured()) return OpenCaller();
    SigV4Request sr;
    sr.method = req.method;
    sr.target = req.target;
    for (const auto& [k, v] : req.headers) sr.headers.emplace_back(k, v);
    sr.body = req.body;
    SigV4Options so;
    so.service = route.signing_service;
    if (must_sign_target) so.must_sign = {"x-amz-target"};
    std::optional<Principal> who;
    Status lookup_error;
    auto secret_of = [&](std::string_view key) -> std::optional<std::string> {
      auto k = opt_.auth->AccessKey(key);
      if (!k.ok()) {
        if (k.status().code() != StatusCode::kNotFound) lookup_error = k.status();
        return std::nullopt;
      }
      who = k->principal;
      return k->secret;
    };
    auto fail = VerifySigV4(sr, secret_of, env_->Now(), so);
    if (!lookup_error.ok()) {
      return AwsJsonError(500, "InternalServerException", lookup_error.message());
    }
    if (fail) return AwsJsonError(fail->http_status, fail->aws_type, fail->message);
    if (who->role == "viewer" && route.kind != Router::Kind::kAwsJson) {
      return AwsJsonError(403, "AccessDeniedException", "the viewer role can only read");
    }
    return *who;
  };

  auto dispatch = [this, authorize, sigv4](const httplib::Request& req, httplib::Response& res) {
    const std::string& path = req.path;
    if (path == "/healthz") {
      tl_route = "healthz";
      Send(res, JsonResponse({{"status", "ok"}, {"version", SAGEBOX_VERSION}}));
      return;
    }
    if (path == "/metrics") {
      tl_route = "metrics";
      auto who = authorize(req);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      ApiResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics_.Render();
      return Send(res, r);
    }
    if (path == "/api/login") {
      tl_route = "login";
      if (req.method != "POST") return Send(res, MethodNotAllowed("use POST", "POST"));
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object() || !body.contains("name") ||
          !body["name"].is_string() || !body.contains("password") ||
          !body["password"].is_string()) {
        return Send(res, ErrorBody(400, "InvalidArgument",
                                   "send {\"name\": \"...\", \"password\": \"...\"}"));
      }
      if (opt_.auth == nullptr) {
        return Send(res, ErrorBody(501, "Unimplemented", "this server has no users"));
      }
      auto session =
          opt_.auth->Login(body["name"].get<std::string>(), body["password"].get<std::string>());
      if (!session.ok()) return Send(res, ErrorResponse(session.status()));
      ApiResponse r = JsonResponse({{"name", session->principal.name},
                                    {"role", session->principal.role},
                                    {"csrf_token", session->csrf_token}});
      r.headers.emplace_back("Set-Cookie",
                             fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
                                         kSessionCookie, session->id, session->max_age_seconds,
                                         opt_.secure_cookies ? "; Secure" : ""));
      r.headers.emplace_back("Cache-Control", "no-store");
      return Send(res, r);
    }
    if (path == "/api/logout") {
      tl_route = "login";
      if (req.method != "POST") return Send(res, MethodNotAllowed("use POST", "POST"));
      auto who = authorize(req);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      const std::string sid = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
      if (!sid.empty() && opt_.auth != nullptr) {
        if (Status st = opt_.auth->Logout(sid); !st.ok()) return Send(res, ErrorResponse(st));
      }
      ApiResponse r = JsonResponse({{"signed_out", true}});
      r.headers.emplace_back(
          "Set-Cookie",
          fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", kSessionCookie));
      return Send(res, r);
    }
    if (path == "/api/whoami") {
      tl_route = "whoami";
      auto who = authorize(req);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      const Principal& p = std::get<Principal>(who);
      nlohmann::json j = {
          {"name", p.name}, {"role", p.role}, {"via", p.via}, {"anonymous", p.anonymous}};
      // A page opened in a new tab has the cookie but not the CSRF token the
      // login returned; hand it back to the session's own caller (a
      // cross-site page cannot read this answer).
      if (p.via == "session") {
        auto session =
            opt_.auth->Session(CookieValue(req.get_header_value("Cookie"), kSessionCookie));
        if (session.ok()) j["csrf_token"] = session->csrf_token;
      }
      ApiResponse r = JsonResponse(j);
      r.headers.emplace_back("Cache-Control", "no-store");
      return Send(res, r);
    }
    if (path.starts_with("/api/")) {
      const Router::Route* route = router_.Match(Router::Kind::kApi, path);
      if (route == nullptr) {
        tl_route = "api-unknown";
        return Send(res, ErrorBody(404, "NotFound", "no API at " + path + " (see docs/api.md)"));
      }
      tl_route = route->name;
      auto who = authorize(req);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      return Send(res, route->handler(ToApiRequest(req, std::get<Principal>(who))));
    }
    if (path == "/" && req.method == "POST") {
      res.set_header("x-amzn-RequestId", RequestId());
      const std::string target = req.get_header_value("X-Amz-Target");
      const Router::Route* route = router_.Match(Router::Kind::kAwsJson, target);
      if (target.empty() || route == nullptr) {
        tl_route = "aws-unknown";
        return Send(res, AwsJsonError(400, "UnknownOperationException",
                                      target.empty() ? "missing X-Amz-Target header"
                                                     : "unknown operation " + target));
      }
      tl_route = route->name;
      auto who = sigv4(req, *route, true);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      return Send(res, route->handler(ToApiRequest(req, std::get<Principal>(who))));
    }
    if (const Router::Route* route = router_.Match(Router::Kind::kRest, path)) {
      tl_route = route->name;
      auto who = route->signing_service.empty() ? authorize(req) : sigv4(req, *route, false);
      if (auto* refusal = std::get_if<ApiResponse>(&who)) return Send(res, *refusal);
      return Send(res, route->handler(ToApiRequest(req, std::get<Principal>(who))));
    }
    // The web UI. Only the embedded files exist; every other path is 404,
    // so nothing a client sends can name a file on disk.
    tl_route = "static";
    if (!IsRead(req.method)) {
      return Send(res, MethodNotAllowed(req.method + " is not allowed on " + path, "GET"));
    }
    const Asset* a = FindAsset(path);
    if (!a) return Send(res, ErrorBody(404, "NotFound", "no such page: " + path));
    res.set_header("Content-Security-Policy", kCsp);
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a->data), std::string(a->content_type));
  };
  s.Get("/.*", dispatch);
  s.Post("/.*", dispatch);
  s.Put("/.*", dispatch);
  s.Delete("/.*", dispatch);
  s.Patch("/.*", dispatch);

  // httplib's own refusals (400 for a malformed request line, 413 over
  // the body limit, 404 for no route) get a JSON body saying so.
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 413   ? "PayloadTooLarge"
                       : res.status == 404 ? "NotFound"
                       : res.status == 405 ? "MethodNotAllowed"
                                           : "BadRequest";
    const char* msg = res.status == 413   ? "request body over the server's limit"
                      : res.status == 404 ? "no such route (see docs/api.md)"
                      : res.status == 405 ? "method not allowed here"
                                          : "malformed request";
    Send(res, ErrorBody(res.status, code, msg));
  });
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr& ep) {
        std::string what = "unknown";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        Send(res, ErrorBody(500, "Internal", "internal error: " + what));
      });
}

}  // namespace sagebox::http
