// Fuzz target for ParseTimestamp/ParseDate: never crash; accepted values
// format and parse back to themselves, and a strict date formats to its input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  const std::string_view text(reinterpret_cast<const char*>(d), n);
  // (9999-12-31T23:59:60Z, a leap second, lands in year 10000: not printable as YYYY.)
  if (auto t = sagebox::ParseTimestamp(text); t && *t < 253'402'300'800) {
    if (sagebox::ParseTimestamp(sagebox::FormatTimestamp(*t)) != *t) __builtin_trap();
  }
  if (auto day = sagebox::ParseDate(text)) {
    if (sagebox::FormatDate(*day) != text || sagebox::ParseTimestamp(text) != *day * 86400LL) {
      __builtin_trap();
    }
  }
  return 0;
}
