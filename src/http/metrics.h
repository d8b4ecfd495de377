// metrics.h: request counts and latencies per route, for `GET /metrics` in the
// Prometheus text exposition format (version 0.0.4: "# HELP", "# TYPE",
// `name{label="value"} number` lines; see prometheus.io/docs/instrumenting/
// exposition_formats).
//
// Series:
//   sagebox_http_requests_total{route,method,code}            counter
//   sagebox_http_request_duration_seconds{route}              histogram
//   sagebox_build_info{version}                               gauge, always 1
//   process_start_time_seconds                                gauge
// `route` is the name a module registered (e.g. "cost", "aws:ce",
// "healthz", "static"), never the raw path: paths carry ids and would make
// the series set unbounded.
//
// Thread-safety: Observe and Render may be called from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sagebox::http {

class Metrics {
 public:
  explicit Metrics(int64_t start_unix_seconds) : start_(start_unix_seconds) {}

  // One finished request. `method` outside the usual set is counted as "other",
  // so a client cannot grow the series set either.
  void Observe(std::string_view route, std::string_view method, int status, double seconds);
  // The whole exposition text: the server's series, then each source's text.
  std::string Render() const;
  // Adds a module's own series (e.g. the endpoint's SageMaker metrics): `source`
  // returns complete exposition lines (# HELP, # TYPE, samples). Called on every
  // scrape, from the scraping thread; must be thread-safe and outlive the server.
  void AddSource(std::function<std::string()> source);

  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};

 private:
  std::string RenderOwn() const;
  // Everything about one route, so a request costs one lookup that allocates
  // nothing (transparent comparator) under a short lock.
  struct Route {
    std::map<std::pair<std::string_view, int>, uint64_t> requests;  // (method, status)
    std::array<uint64_t, kBuckets.size()> counts{};                 // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  const int64_t start_;
  mutable std::mutex mu_;
  std::map<std::string, Route, std::less<>> routes_;
  std::vector<std::function<std::string()>> sources_;
};

// A label value escaped for the exposition format (backslash, quote, newline).
std::string EscapeLabelValue(std::string_view v);

}  // namespace sagebox::http
