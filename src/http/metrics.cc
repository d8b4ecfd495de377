#include "http/metrics.h"

#include <fmt/format.h>

namespace sagebox::http {

namespace {

std::string_view KnownMethod(std::string_view m) {
  for (std::string_view k : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (m == k) return k;
  }
  return "other";
}

// Label values are our own route names and methods, but escape anyway: the
// format needs \\, \" and \n escaped inside quotes.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Observe(std::string_view route, std::string_view method, int status, double seconds) {
  // KnownMethod returns one of its own literals, so the key can keep the view.
  const std::string_view m = KnownMethod(method);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), Route{}).first;
  Route& r = it->second;
  ++r.requests[{m, status}];
  ++r.count;
  r.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++r.counts[i];
      break;
    }
  }
}

std::string Metrics::RenderOwn() const {
  std::string out;
  out += "# HELP sagebox_build_info The running sagebox version.\n";
  out += "# TYPE sagebox_build_info gauge\n";
  out += fmt::format("sagebox_build_info{{version=\"{}\"}} 1\n", SAGEBOX_VERSION);
  out += "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n";
  out += "# TYPE process_start_time_seconds gauge\n";
  out += fmt::format("process_start_time_seconds {}\n", start_);
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP sagebox_http_requests_total HTTP requests answered, by route, method and code.\n";
  out += "# TYPE sagebox_http_requests_total counter\n";
  for (const auto& [route, r] : routes_) {
    for (const auto& [key, n] : r.requests) {
      out +=
          fmt::format("sagebox_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n",
                      Escape(route), key.first, key.second, n);
    }
  }
  out += "# HELP sagebox_http_request_duration_seconds Time from request read to response.\n";
  out += "# TYPE sagebox_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : routes_) {
    uint64_t cumulative = 0;
    const std::string r = Escape(route);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      out +=
          fmt::format("sagebox_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      r, kBuckets[i], cumulative);
    }
    out +=
        fmt::format("sagebox_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                    r, h.count);
    out += fmt::format("sagebox_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", r, h.sum);
    out +=
        fmt::format("sagebox_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", r, h.count);
  }
  return out;
}

std::string Metrics::Render() const {
  std::string out = RenderOwn();
  std::vector<std::function<std::string()>> sources;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sources = sources_;
  }
  // Outside the lock: a module's series may take a while, and requests keep
  // being observed meanwhile.
  for (const auto& source : sources) out += source();
  return out;
}

void Metrics::AddSource(std::function<std::string()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_.push_back(std::move(source));
}

std::string EscapeLabelValue(std::string_view v) { return Escape(v); }

}  // namespace sagebox::http
