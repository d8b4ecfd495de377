#include "endpoint/route/router.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "http/metrics.h"
#include "http/sigv4.h"

namespace sagebox::endpoint::route {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using json = nlohmann::json;

// Where the model name sits in a path: the segment after `prefix`.
std::string SegmentAfter(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return "";
  path.remove_prefix(prefix.size());
  return std::string(path.substr(0, path.find('/')));
}

bool IsHopByHop(std::string_view name) {
  // RFC 9110 section 7.6.1 (Connection), plus the framing headers httplib
  // writes itself.
  static constexpr std::string_view kSkip[] = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding",  "te",
      "trailer",    "upgrade",    "content-length",   "proxy-authorization"};
  return std::any_of(std::begin(kSkip), std::end(kSkip),
                     [&](std::string_view s) { return EqualsIgnoreCase(name, s); });
}

// The path and query re-encoded as SigV4's canonical request encodes them, so a
// signature the caller made still verifies on the instance.
std::string Target(const ApiRequest& req) {
  std::string t;
  http::UriEncode(req.path, /*keep_slash=*/true, &t);
  char sep = '?';
  for (const auto& [k, v] : req.params) {
    t += sep;
    http::UriEncode(k, /*keep_slash=*/false, &t);
    t += '=';
    http::UriEncode(v, /*keep_slash=*/false, &t);
    sep = '&';
  }
  return t;
}

// The error a caller of this path understands, when no instance answers.
ApiResponse Unavailable(const ApiRequest& req, const std::string& message) {
  if (req.path.starts_with("/endpoints/") || !req.Header("X-Amz-Target").empty()) {
    ApiResponse r = http::AwsJsonError(503, "ServiceUnavailable", message);
    if (req.path.starts_with("/endpoints/")) r.content_type = "application/json";
    return r;
  }
  return http::JsonResponse({{"error", message}}, 503);
}

}  // namespace

std::string RoutingKey(const ApiRequest& req) {
  const std::string& p = req.path;
  if (p.starts_with("/endpoints/")) return req.Header("X-Amzn-SageMaker-Target-Model");
  if (p.starts_with("/v2/models/")) return SegmentAfter(p, "/v2/models/");
  if (p.starts_with("/v2/repository/models/")) return SegmentAfter(p, "/v2/repository/models/");
  if (p.starts_with("/models/")) return SegmentAfter(p, "/models/");
  if ((p == "/models" || p == "/models/") && req.method == "POST") {
    // The MME contract's load: {"model_name": ..., "url": ...}; the url is the
    // TargetModel on sagebox (endpoint_routes.cc).
    json in = json::parse(req.body, nullptr, false);
    if (in.is_object()) {
      if (in.contains("url") && in["url"].is_string()) return in["url"].get<std::string>();
      if (in.contains("model_name") && in["model_name"].is_string()) {
        return in["model_name"].get<std::string>();
      }
    }
  }
  return "";
}

Fanout FanoutFor(const ApiRequest& req) {
  const std::string target = req.Header("X-Amz-Target");
  if (target.starts_with("SageMaker.Create") || target.starts_with("SageMaker.Delete")) {
    return Fanout::kAll;
  }
  // Unloading a model means everywhere it may be: a hot model has replicas.
  if (req.method == "DELETE" && req.path.starts_with("/models/")) return Fanout::kAll;
  if (req.path.starts_with("/v2/repository/models/") && req.path.ends_with("/unload")) {
    return Fanout::kAll;
  }
  return RoutingKey(req).empty() ? Fanout::kAny : Fanout::kOwner;
}

struct EndpointRouter::Instance {
  std::string url, host;
  int port = 0;
  std::atomic<bool> healthy{true};
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> forwarded{0}, failures{0};
  std::mutex mu;                                       // guards idle
  std::vector<std::unique_ptr<httplib::Client>> idle;  // keep-alive connections
};

StatusOr<std::unique_ptr<EndpointRouter>> EndpointRouter::Create(RouterOptions opt) {
  if (opt.instances.empty()) {
    return InvalidArgument("the router needs at least one instance (--instance http://HOST:PORT)");
  }
  std::set<std::string> seen;
  for (const auto& u : opt.instances) {
    if (!u.starts_with("http://")) {
      return InvalidArgument("instance " + u + ": expected http://HOST:PORT");
    }
    const std::string hp = u.substr(7);
    const auto colon = hp.rfind(':');
    if (colon == std::string::npos || colon + 1 == hp.size() || hp.find('/') != std::string::npos) {
      return InvalidArgument("instance " + u + ": expected http://HOST:PORT");
    }
    if (!seen.insert(u).second) return InvalidArgument("instance " + u + " is listed twice");
  }
  if (opt.hot_replicas == 0) return InvalidArgument("hot replicas must be 1 or more");
  if (opt.window.count() <= 0) return InvalidArgument("the rate window must be positive");
  return std::unique_ptr<EndpointRouter>(new EndpointRouter(std::move(opt)));
}

EndpointRouter::EndpointRouter(RouterOptions opt) : opt_(std::move(opt)), ring_(opt_.instances) {
  for (const auto& u : opt_.instances) {
    auto in = std::make_unique<Instance>();
    in->url = u;
    const std::string hp = u.substr(7);
    const auto colon = hp.rfind(':');
    in->host = hp.substr(0, colon);
    if (in->host.size() > 2 && in->host.front() == '[')
      in->host = in->host.substr(1, in->host.size() - 2);
    in->port = std::atoi(hp.c_str() + colon + 1);
    instances_.push_back(std::move(in));
  }
}

EndpointRouter::~EndpointRouter() { Stop(); }

std::chrono::steady_clock::time_point EndpointRouter::Now() const {
  return opt_.now ? opt_.now() : std::chrono::steady_clock::now();
}

EndpointRouter::Instance* EndpointRouter::Find(const std::string& url) {
  for (auto& in : instances_) {
    if (in->url == url) return in.get();
  }
  return nullptr;
}

size_t EndpointRouter::ReplicasFor(const std::string& model, uint64_t* seq) {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (rates_.size() > 10'000 && !rates_.contains(model)) {
    // Names nobody asked for lately go first: a client inventing TargetModels
    // must not grow the table without bound.
    std::erase_if(rates_,
                  [&](const auto& kv) { return now - kv.second.window_start > 2 * opt_.window; });
  }
  Rate& r = rates_[model];
  if (r.total == 0) r.window_start = now;
  ++r.current;
  *seq = r.total++;
  return PerSecondLocked(r, now) > opt_.hot_requests_per_second ? opt_.hot_replicas : 1;
}

double EndpointRouter::PerSecondLocked(Rate& r, std::chrono::steady_clock::time_point now) const {
  while (now - r.window_start >= opt_.window) {
    r.previous = (now - r.window_start >= 2 * opt_.window) ? 0 : r.current;
    r.current = 0;
    r.window_start += opt_.window;
    if (now - r.window_start >= 2 * opt_.window) r.window_start = now;  // long idle: catch up
  }
  // A sliding window from two fixed ones: the previous window weighted by how
  // much of it still overlaps the last `window` (the estimate rate limiters use).
  const double frac = std::chrono::duration<double>(now - r.window_start) / opt_.window;
  const double in_window =
      static_cast<double>(r.previous) * (1.0 - frac) + static_cast<double>(r.current);
  return in_window / std::chrono::duration<double>(opt_.window).count();
}

std::vector<EndpointRouter::Instance*> EndpointRouter::HealthyOwners(const std::string& key) {
  std::vector<Instance*> owners;
  for (const auto& u : ring_.Owners(key, instances_.size())) {
    Instance* in = Find(u);
    if (in->healthy.load()) owners.push_back(in);
  }
  return owners;
}

std::vector<std::string> EndpointRouter::OwnersOf(const std::string& model) {
  size_t replicas = 1;
  {
    const auto now = Now();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = rates_.find(model);
    if (it != rates_.end() && PerSecondLocked(it->second, now) > opt_.hot_requests_per_second) {
      replicas = opt_.hot_replicas;
    }
  }
  std::vector<std::string> out;
  for (Instance* in : HealthyOwners(model)) {
    if (out.size() == replicas) break;
    out.push_back(in->url);
  }
  return out;
}

ApiResponse EndpointRouter::Forward(Instance& in, const ApiRequest& req, bool* unreachable) {
  *unreachable = false;
  std::unique_ptr<httplib::Client> cli;
  {
    std::lock_guard<std::mutex> lock(in.mu);
    if (!in.idle.empty()) {
      cli = std::move(in.idle.back());
      in.idle.pop_back();
    }
  }
  if (!cli) {
    cli = std::make_unique<httplib::Client>(in.host, in.port);
    cli->set_keep_alive(true);
    cli->set_tcp_nodelay(true);  // else Nagle holds the body behind the headers ~40 ms
    cli->set_url_encode(false);  // Target() encodes, the way the signature expects
    const auto ms = [](std::chrono::milliseconds d) {
      return std::pair<time_t, time_t>(d.count() / 1000, (d.count() % 1000) * 1000);
    };
    cli->set_connection_timeout(ms(opt_.connect_timeout).first, ms(opt_.connect_timeout).second);
    cli->set_read_timeout(ms(opt_.read_timeout).first, ms(opt_.read_timeout).second);
    cli->set_write_timeout(ms(opt_.read_timeout).first, ms(opt_.read_timeout).second);
  }
  httplib::Request out;
  out.method = req.method;
  out.path = Target(req);
  for (const auto& [k, v] : req.headers) {
    if (!IsHopByHop(k)) out.headers.emplace(k, v);
  }
  out.body = req.body;
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  ++in.in_flight;
  const bool ok = cli->send(out, res, err);
  --in.in_flight;
  if (!ok) {
    ++in.failures;
    // Nothing reached the instance when the connection itself failed, so
    // another owner may take the request; after that, retrying could run an
    // inference twice, so the caller gets the error.
    if (err == httplib::Error::Connection) {
      in.healthy = false;
      *unreachable = true;
    }
    return Unavailable(
        req, fmt::format("instance {} did not answer: {}", in.url, httplib::to_string(err)));
  }
  ++in.forwarded;
  {
    std::lock_guard<std::mutex> lock(in.mu);
    if (in.idle.size() < 32) in.idle.push_back(std::move(cli));
  }
  ApiResponse r;
  r.status = res.status;
  r.body = std::move(res.body);
  r.content_type = res.get_header_value("Content-Type");
  for (const auto& [k, v] : res.headers) {
    if (IsHopByHop(k) || EqualsIgnoreCase(k, "Content-Type")) continue;
    r.headers.emplace_back(k, v);
  }
  r.headers.emplace_back("X-Sagebox-Instance", in.url);
  return r;
}

ApiResponse EndpointRouter::Handle(const ApiRequest& req) {
  const Fanout fan = FanoutFor(req);
  std::vector<Instance*> order;
  if (fan == Fanout::kOwner) {
    const std::string key = RoutingKey(req);
    uint64_t seq = 0;
    const size_t replicas = ReplicasFor(key, &seq);
    std::vector<Instance*> owners = HealthyOwners(key);
    // Among the first `replicas` healthy owners, the least busy goes first (ties
    // taken in turn, so sequential callers spread too); the rest follow in ring
    // order as fallbacks.
    const size_t n = std::min(replicas, owners.size());
    if (n > 1) {
      size_t best = seq % n;
      for (size_t i = 0; i < n; ++i) {
        const size_t j = (seq + i) % n;
        if (owners[j]->in_flight.load() < owners[best]->in_flight.load()) best = j;
      }
      std::rotate(owners.begin(), owners.begin() + static_cast<ptrdiff_t>(best),
                  owners.begin() + static_cast<ptrdiff_t>(best) + 1);
    }
    order = std::move(owners);
  } else {
    for (auto& in : instances_) {
      if (in->healthy.load()) order.push_back(in.get());
    }
  }
  if (order.empty()) return Unavailable(req, "no endpoint instance is reachable");

  if (fan == Fanout::kAll) {
    std::optional<ApiResponse> first, failed;
    for (Instance* in : order) {
      bool unreachable = false;
      ApiResponse r = Forward(*in, req, &unreachable);
      if (unreachable) continue;
      if (r.status >= 400 && !failed) failed = r;
      if (!first) first = std::move(r);
    }
    if (failed) return *failed;
    if (first) return *first;
    return Unavailable(req, "no endpoint instance is reachable");
  }
  ApiResponse last;
  for (Instance* in : order) {
    bool unreachable = false;
    last = Forward(*in, req, &unreachable);
    if (!unreachable) return last;
  }
  return last;
}

void EndpointRouter::CheckHealth() {
  for (auto& in : instances_) {
    httplib::Client cli(in->host, in->port);
    cli.set_connection_timeout(1, 0);
    cli.set_read_timeout(2, 0);
    auto res = cli.Get("/ping");
    in->healthy = res && res->status == 200;
  }
}

void EndpointRouter::Start() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (prober_.joinable()) return;
  stopping_ = false;
  prober_ = std::thread([this] {
    std::unique_lock<std::mutex> l(stop_mu_);
    while (!stopping_) {
      l.unlock();
      CheckHealth();
      l.lock();
      stop_cv_.wait_for(l, opt_.health_interval, [this] { return stopping_; });
    }
  });
}

void EndpointRouter::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (prober_.joinable()) prober_.join();
}

json EndpointRouter::StatusJson() {
  json instances = json::array();
  for (auto& in : instances_) {
    instances.push_back({{"url", in->url},
                         {"healthy", in->healthy.load()},
                         {"in_flight", in->in_flight.load()},
                         {"forwarded", in->forwarded.load()},
                         {"failures", in->failures.load()}});
  }
  std::vector<std::pair<std::string, uint64_t>> totals;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, r] : rates_) totals.emplace_back(name, r.total);
  }
  json models = json::array();
  json hot = json::array();
  for (const auto& [name, total] : totals) {
    auto owners = OwnersOf(name);
    if (owners.size() > 1) hot.push_back(name);
    models.push_back({{"name", name}, {"requests", total}, {"owners", owners}});
  }
  return {{"instances", instances},
          {"hot_models", hot},
          {"hot_replicas", opt_.hot_replicas},
          {"hot_requests_per_second", opt_.hot_requests_per_second},
          {"models", models}};
}

std::string EndpointRouter::RenderMetrics() {
  std::string o;
  o += "# HELP sagebox_router_instance_up Whether the router can reach the instance.\n";
  o += "# TYPE sagebox_router_instance_up gauge\n";
  for (auto& in : instances_) {
    o += fmt::format("sagebox_router_instance_up{{instance=\"{}\"}} {}\n",
                     http::EscapeLabelValue(in->url), in->healthy.load() ? 1 : 0);
  }
  o += "# HELP sagebox_router_forwarded_total Requests the instance answered.\n";
  o += "# TYPE sagebox_router_forwarded_total counter\n";
  for (auto& in : instances_) {
    o += fmt::format("sagebox_router_forwarded_total{{instance=\"{}\"}} {}\n",
                     http::EscapeLabelValue(in->url), in->forwarded.load());
  }
  o += "# HELP sagebox_router_failures_total Requests the instance did not answer.\n";
  o += "# TYPE sagebox_router_failures_total counter\n";
  for (auto& in : instances_) {
    o += fmt::format("sagebox_router_failures_total{{instance=\"{}\"}} {}\n",
                     http::EscapeLabelValue(in->url), in->failures.load());
  }
  return o;
}

void EndpointRouter::Register(http::Router& r, http::Metrics* metrics) {
  auto h = [this](const ApiRequest& req) { return Handle(req); };
  r.AddRest("sagemaker-runtime", "/endpoints/", "sagemaker", h);
  r.AddAwsJson("sagemaker", "SageMaker.", "sagemaker", h);
  r.AddRest("kserve-v2", "/v2", "", h);
  r.AddRest("mme-ping", "/ping", "", h);
  r.AddRest("mme-models", "/models", "", h);
  r.AddApi("endpoint", "/api/endpoint/", [this](const ApiRequest& req) {
    if (req.path == "/api/endpoint/route") return http::JsonResponse(StatusJson());
    return http::ErrorBody(404, "NotFound",
                           "this is an endpoint router: /api/endpoint/route describes it; ask an "
                           "instance (" +
                               instances_.front()->url + ") for its models");
  });
  if (metrics != nullptr) metrics->AddSource([this] { return RenderMetrics(); });
}

}  // namespace sagebox::endpoint::route
