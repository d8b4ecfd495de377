// Fuzz target for Decimal::Parse: never crashes, and whatever it accepts
// prints (ToString) to text that parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/decimal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  sagebox::Decimal v, back;
  if (!sagebox::Decimal::Parse(std::string_view(reinterpret_cast<const char*>(d), n), &v)) return 0;
  if (!sagebox::Decimal::Parse(v.ToString(), &back) || back != v) __builtin_trap();
  for (int k = 0; k <= sagebox::Decimal::kScale; ++k) (void)v.ToFixed(k);
  return 0;
}
