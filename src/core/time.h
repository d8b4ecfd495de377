// time.h: timestamps and dates as AWS billing exports write them.
//
// Times are UTC seconds since the Unix epoch (int64); dates are days since
// the epoch (int32). Billing data is always UTC, so no time zones here; the
// schedules of later modules carry their own zone.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sagebox {

using UnixSeconds = int64_t;
using Days = int32_t;

// Accepts "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T00:00Z",
// "2024-01-01T00:00:00.000Z", "2024-09-18 23:00:00", "20240101T000000.000Z"
// and an optional "+00:00" offset. Returns nullopt for anything else,
// including impossible dates (2024-02-30).
std::optional<UnixSeconds> ParseTimestamp(std::string_view text);
// Strict YYYY-MM-DD.
std::optional<Days> ParseDate(std::string_view text);

Days DaysFromCivil(int y, unsigned m, unsigned d);
void CivilFromDays(Days z, int* y, unsigned* m, unsigned* d);
inline Days DayOf(UnixSeconds t) { return static_cast<Days>((t >= 0 ? t : t - 86399) / 86400); }
// First day of the month containing `d`.
Days MonthStart(Days d);
// First day of the month after the one containing `d`.
Days NextMonthStart(Days d);

std::string FormatDate(Days d);              // 2024-01-31
std::string FormatMonth(Days d);             // 2024-01
std::string FormatTimestamp(UnixSeconds t);  // 2024-01-31T05:00:00Z

}  // namespace sagebox
