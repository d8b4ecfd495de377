// Fuzz target for ParseMetricSeries and ParseHost: never crash; every
// series has as many values as timestamps, in time order; a parsed Host
// names a job and a positive host.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cost/findings/cloudwatch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto h = sagebox::findings::ParseHost(text); h && (h->job.empty() || h->host <= 0)) {
    __builtin_trap();
  }
  std::vector<sagebox::findings::MetricSeries> out;
  (void)sagebox::findings::ParseMetricSeries(text, "fuzz", &out);
  for (const auto& s : out) {
    if (s.timestamps.size() != s.values.size() || s.period <= 0 || s.ns.empty()) __builtin_trap();
    for (size_t i = 1; i < s.timestamps.size(); ++i) {
      if (s.timestamps[i - 1] > s.timestamps[i]) __builtin_trap();
    }
    for (const auto& [k, v] : s.dimensions) {
      if (auto h = sagebox::findings::ParseHost(v); h && h->job.empty()) __builtin_trap();
    }
  }
  return 0;
}
