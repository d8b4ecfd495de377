#include "core/time.h"

#include <date/date.h>
#include <fmt/format.h>

namespace sagebox {

Days DaysFromCivil(int y, unsigned m, unsigned d) {
  return static_cast<Days>(
      date::sys_days(date::year(y) / date::month(m) / date::day(d)).time_since_epoch().count());
}

void CivilFromDays(Days z, int* y, unsigned* m, unsigned* d) {
  date::year_month_day ymd{date::sys_days(date::days(z))};
  *y = static_cast<int>(ymd.year());
  *m = static_cast<unsigned>(ymd.month());
  *d = static_cast<unsigned>(ymd.day());
}

Days MonthStart(Days z) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(z, &y, &m, &d);
  return DaysFromCivil(y, m, 1);
}

Days NextMonthStart(Days z) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(z, &y, &m, &d);
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
}

namespace {
// Reads exactly `n` digits at s[*i].
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + static_cast<size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + static_cast<size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += static_cast<size_t>(n);
  *out = v;
  return true;
}

bool ValidDate(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  return date::year_month_day(date::year(y) / date::month(static_cast<unsigned>(m)) /
                              date::day(static_cast<unsigned>(d)))
      .ok();
}
}  // namespace

std::optional<Days> ParseDate(std::string_view s) {
  size_t i = 0;
  int y = 0, m = 0, d = 0;
  if (!Digits(s, &i, 4, &y) || i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &m) ||
      i >= s.size() || s[i++] != '-' || !Digits(s, &i, 2, &d) || i != s.size())
    return std::nullopt;
  if (!ValidDate(y, m, d)) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<UnixSeconds> ParseTimestamp(std::string_view s) {
  size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &i, 4, &y)) return std::nullopt;
  bool basic = i < s.size() && s[i] != '-';  // 20240101T000000.000Z (manifest)
  if (!basic) ++i;
  if (!Digits(s, &i, 2, &mo)) return std::nullopt;
  if (!basic && (i >= s.size() || s[i++] != '-')) return std::nullopt;
  if (!Digits(s, &i, 2, &d)) return std::nullopt;
  if (!ValidDate(y, mo, d)) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != ' ') return std::nullopt;
    ++i;
    if (!Digits(s, &i, 2, &h)) return std::nullopt;
    if (!basic && (i >= s.size() || s[i++] != ':')) return std::nullopt;
    if (!Digits(s, &i, 2, &mi)) return std::nullopt;
    if (i < s.size() && (s[i] == ':' || (basic && s[i] >= '0' && s[i] <= '9'))) {
      if (!basic) ++i;
      if (!Digits(s, &i, 2, &sec)) return std::nullopt;
      if (i < s.size() && s[i] == '.') {
        ++i;
        size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return std::nullopt;
      }
    }
    if (i < s.size() && s[i] == 'Z') {
      ++i;
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s.substr(i + 1) == "00:00") {
      i += 6;
    }
    if (i != s.size()) return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  Days days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return static_cast<UnixSeconds>(days) * 86400 + h * 3600 + mi * 60 + sec;
}

std::string FormatDate(Days z) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(z, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::string FormatMonth(Days z) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(z, &y, &m, &d);
  return fmt::format("{:04}-{:02}", y, m);
}

std::string FormatTimestamp(UnixSeconds t) {
  Days z = DayOf(t);
  int64_t rem = t - static_cast<int64_t>(z) * 86400;
  return fmt::format("{}T{:02}:{:02}:{:02}Z", FormatDate(z), rem / 3600, rem / 60 % 60, rem % 60);
}

}  // namespace sagebox
