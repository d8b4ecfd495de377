// Fuzz target for ParseUsageType: must never crash, and a region code it
// reports must map back to the region it reports.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cost/usage_type.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sagebox::cost::UsageType u = sagebox::cost::ParseUsageType(text);
  if (!u.region_code.empty() && sagebox::cost::RegionForCode(u.region_code) != u.region) {
    __builtin_trap();
  }
  return 0;
}
