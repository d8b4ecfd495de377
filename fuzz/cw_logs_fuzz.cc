// Fuzz target for ParseLogEvents and FindScriptWindows: never crash; every
// window ends after it starts, was logged by at least one stream, and the
// windows come sorted by job.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cost/findings/cw_logs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<sagebox::findings::LogEvent> events;
  (void)sagebox::findings::ParseLogEvents(text, "fuzz", &events);
  // Short patterns too, so the fuzzer can reach the overlapping-pattern rule.
  for (const auto& p :
       {sagebox::findings::ScriptPatterns{}, sagebox::findings::ScriptPatterns{"S", "E"},
        sagebox::findings::ScriptPatterns{"a", "ab"}}) {
    auto w = sagebox::findings::FindScriptWindows(events, p);
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i].end_ms < w[i].start_ms || w[i].streams < 1) __builtin_trap();
      if (i > 0 && !(w[i - 1].job < w[i].job)) __builtin_trap();
    }
  }
  return 0;
}
