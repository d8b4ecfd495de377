#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>

#include "server/assets.h"
#include "server/sigv4.h"
#include "store/store.h"

namespace sagebox::server {

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

constexpr std::string_view kCeTargetPrefix = "AWSInsightsIndexService.";
constexpr const char* kAmzJson = "application/x-amz-json-1.1";

// The dashboard's own origin only; Chart.js sets canvas sizes through
// style attributes, hence 'unsafe-inline' for styles (not for scripts).
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The API's error shape (dashboard_api.h) on an httplib response.
void SetJsonError(httplib::Response& res, int status, std::string_view code,
                  std::string_view message) {
  ApiResponse r = ErrorBody(status, code, message);
  res.status = r.status;
  res.set_content(r.body, r.content_type);
}

// AWS JSON 1.1 errors: botocore reads the code from "__type" (or the
// x-amzn-ErrorType header) and the text from "message"/"Message".
void SetAwsError(httplib::Response& res, int status, std::string_view type,
                 std::string_view message) {
  nlohmann::json j = {{"__type", type}, {"message", message}};
  res.status = status;
  res.set_header("x-amzn-ErrorType", std::string(type));
  res.set_content(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kAmzJson);
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

}  // namespace

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

HttpServer::HttpServer(Env* env, ServerOptions opt, DashboardApi* api)
    : env_(env),
      opt_(std::move(opt)),
      api_(api),
      srv_(std::make_unique<HttplibServer>()),
      cache_(opt_.cache_bytes) {}

std::string HttpServer::CacheKey(const std::string& request) const {
  return ResponseCache::Key(store::Store::State(env_, opt_.store_dir), request);
}

HttpServer::~HttpServer() = default;

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(Env* env, ServerOptions opt,
                                                         DashboardApi* api) {
  if (opt.credentials.empty() && !IsLoopbackHost(opt.listen.host)) {
    return InvalidArgument(
        "refusing to listen on " + opt.listen.host +
        " without credentials: anyone who can reach it could read your bill. Use "
        "--credentials FILE (AWS credentials format; see docs/api.md), or listen on "
        "127.0.0.1");
  }
  if (!opt.credentials.empty() && opt.dashboard_token.empty()) {
    return InvalidArgument("credentials are set but the dashboard token is empty");
  }
  std::unique_ptr<HttpServer> s(new HttpServer(env, std::move(opt), api));
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
  const bool auth = !opt_.credentials.empty();
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

  s.set_pre_routing_handler([this, auth](const httplib::Request& req, httplib::Response& res) {
    size_t bytes = 0;
    for (const auto& [k, v] : req.headers) bytes += k.size() + v.size() + 4;
    if (req.headers.size() > opt_.max_headers || bytes > opt_.max_header_bytes) {
      SetJsonError(res, 431, "RequestHeaderFieldsTooLarge",
                   fmt::format("at most {} header fields and {} bytes of headers", opt_.max_headers,
                               opt_.max_header_bytes));
      return httplib::Server::HandlerResponse::Handled;
    }
    // httplib reads a Content-Length it cannot parse as 0; a malformed one
    // is the client's error, not an empty body.
    if (req.has_header("Content-Length")) {
      const std::string cl = req.get_header_value("Content-Length");
      if (cl.empty() || cl.size() > 19 ||
          !std::all_of(cl.begin(), cl.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        SetJsonError(res, 400, "BadRequest", "malformed Content-Length");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // Without credentials the server trusts whoever can reach it, which is
    // only this machine; a page from elsewhere that rebinds its DNS name to
    // 127.0.0.1 still sends its own name as Host, and is turned away.
    if (!auth && !IsLoopbackHost(HostOf(req.get_header_value("Host")))) {
      SetJsonError(res, 403, "Forbidden",
                   "Host must be a loopback name (localhost, 127.0.0.1, [::1]) when the server "
                   "runs without credentials");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Cost Explorer: POST / with X-Amz-Target.
  s.Post("/", [this, auth](const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", RequestId());
    const std::string target = req.get_header_value("X-Amz-Target");
    if (!target.starts_with(kCeTargetPrefix)) {
      SetAwsError(res, 400, "UnknownOperationException",
                  target.empty() ? "missing X-Amz-Target header" : "unknown operation " + target);
      return;
    }
    if (auth) {
      SigV4Request sr;
      sr.method = req.method;
      sr.target = req.target;
      for (const auto& [k, v] : req.headers) sr.headers.emplace_back(k, v);
      sr.body = req.body;
      SigV4Options so;
      so.must_sign = {"x-amz-target"};
      if (auto fail = VerifySigV4(sr, opt_.credentials, env_->Now(), so); fail) {
        SetAwsError(res, fail->http_status, fail->aws_type, fail->message);
        return;
      }
    }
    const std::string key = CacheKey("CE " + target + "\n" + req.body);
    if (auto hit = cache_.Get(key)) {
      res.set_header("X-Sagebox-Cache", "hit");
      res.set_content(hit->body, kAmzJson);
      return;
    }
    auto st = store::Store::Open(env_, opt_.store_dir);
    if (!st.ok()) {
      SetAwsError(res, 500, "InternalServerError", st.status().message());
      return;
    }
    CeResponse r = HandleCostExplorer(**st, target, req.body, opt_.ce);
    res.status = r.http_status;
    if (r.http_status >= 400 && r.body.contains("__type") && r.body["__type"].is_string()) {
      res.set_header("x-amzn-ErrorType", r.body["__type"].get<std::string>());
    }
    std::string body = r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (r.http_status == 200) {
      res.set_header("X-Sagebox-Cache", "miss");
      cache_.Put(key, {200, kAmzJson, body, {}});
    }
    res.set_content(body, kAmzJson);
  });

  auto api = [this, auth](const httplib::Request& req, httplib::Response& res) {
    if (auth) {
      const std::string h = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (!h.starts_with(kBearer) ||
          !ConstantTimeEquals(std::string_view(h).substr(kBearer.size()), opt_.dashboard_token)) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"sagebox\"");
        SetJsonError(res, 401, "Unauthenticated",
                     "this server needs the dashboard token: open the URL `sagebox serve` "
                     "printed (with ?token=...), or send Authorization: Bearer TOKEN");
        return;
      }
    }
    // Reads answer from the store alone and can be cached; saved reports
    // are state of their own and never are.
    const bool cacheable = req.method == "GET" && !req.path.starts_with("/api/reports");
    std::string key;
    if (cacheable) {
      std::string request = "GET " + req.path;
      for (const auto& [k, v] : req.params) {
        request += fmt::format("\n{}:{}={}:{}", k.size(), k, v.size(), v);
      }
      key = CacheKey(request);
      if (auto hit = cache_.Get(key)) {
        res.status = hit->status;
        for (const auto& [k, v] : hit->headers) res.set_header(k, v);
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Sagebox-Cache", "hit");
        res.set_content(hit->body, hit->content_type);
        return;
      }
    }
    ApiRequest ar;
    ar.method = req.method;
    ar.path = req.path;
    ar.params.insert(req.params.begin(), req.params.end());
    ar.body = req.body;
    ApiResponse r = api_->Handle(ar);
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_header("Cache-Control", "no-store");
    if (cacheable && r.status == 200) {
      res.set_header("X-Sagebox-Cache", "miss");
      cache_.Put(key, {r.status, r.content_type, r.body, r.headers});
    }
    res.set_content(r.body, r.content_type);
  };
  s.Get("/api/.*", api);
  s.Put("/api/.*", api);
  s.Delete("/api/.*", api);
  s.Post("/api/.*", api);

  // The dashboard. Only the embedded files exist; every other path is 404,
  // so nothing a client sends can name a file on disk.
  s.Get("/.*", [](const httplib::Request& req, httplib::Response& res) {
    const Asset* a = FindAsset(req.path);
    if (!a) {
      SetJsonError(res, 404, "NotFound", "no such page: " + req.path);
      return;
    }
    res.set_header("Content-Security-Policy", kCsp);
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a->data), std::string(a->content_type));
  });

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
    SetJsonError(res, res.status, code, msg);
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
        SetJsonError(res, 500, "Internal", "internal error: " + what);
      });
}

}  // namespace sagebox::server
