#include "cost/sql/value.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/time.h"

namespace sagebox::sql {

std::string SqlType::Name() const {
  switch (kind) {
    case Kind::kNull:
      return "unknown";
    case Kind::kBool:
      return "boolean";
    case Kind::kBigint:
      return "bigint";
    case Kind::kDouble:
      return "double";
    case Kind::kDecimal:
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case Kind::kVarchar:
      return "varchar";
    case Kind::kDate:
      return "date";
    case Kind::kTimestamp:
      return "timestamp";
    case Kind::kInterval:
      return "interval";
  }
  return "?";
}

int128 Pow10(int n) {
  static const auto kTable = [] {
    struct T {
      int128 v[39];
    } t{};
    t.v[0] = 1;
    for (int k = 1; k <= 38; ++k) t.v[k] = t.v[k - 1] * 10;
    return t;
  }();
  if (n < 0) return 1;
  if (n > 38) n = 38;
  return kTable.v[n];
}

int DigitCount(int128 x) {
  uint128 u = x < 0 ? static_cast<uint128>(-(x + 1)) + 1 : static_cast<uint128>(x);
  int n = 1;
  while (u >= 10) {
    u /= 10;
    ++n;
  }
  return n;
}

bool Rescale(int128 x, int from, int to, int128* out) {
  if (to == from) {
    *out = x;
    return true;
  }
  if (to > from) {
    if (to - from > 38) return x == 0 ? (*out = 0, true) : false;
    int128 m = Pow10(to - from);
    int128 r = 0;
    if (__builtin_mul_overflow(x, m, &r)) return false;
    if (r >= Pow10(38) || r <= -Pow10(38)) return false;
    *out = r;
    return true;
  }
  if (from - to > 38) {
    *out = 0;
    return true;
  }
  int128 m = Pow10(from - to);
  int128 q = x / m, rem = x % m;
  int128 half = m / 2;
  if (rem >= half && rem > 0) ++q;
  if (rem <= -half && rem < 0) --q;
  *out = q;
  return true;
}

std::string DecimalText(int128 x, int scale) {
  bool neg = x < 0;
  uint128 u = neg ? static_cast<uint128>(-(x + 1)) + 1 : static_cast<uint128>(x);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u > 0);
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::string out = neg ? "-" : "";
  for (size_t k = digits.size(); k-- > 0;) {
    out.push_back(digits[k]);
    if (static_cast<int>(k) == scale && scale > 0) out.push_back('.');
  }
  return out;
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest digits that round-trip, laid out as Java does: plain for
  // 1e-3 <= |d| < 1e7, else d.dddE[-]n.
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  if (ec != std::errc()) return "NaN";
  std::string sci(buf, p);  // -1.2345e+07
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = neg ? "-" : "";
  double a = std::fabs(d);
  if (a >= 1e-3 && a < 1e7) {
    if (exp >= 0) {
      std::string ip = digits.substr(0, std::min(digits.size(), static_cast<size_t>(exp) + 1));
      while (static_cast<int>(ip.size()) < exp + 1) ip.push_back('0');
      std::string fp = digits.size() > static_cast<size_t>(exp) + 1
                           ? digits.substr(static_cast<size_t>(exp) + 1)
                           : "0";
      out += ip + "." + fp;
    } else {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0") + "E" +
         std::to_string(exp);
  return out;
}

std::string ToText(const Value& v) {
  switch (v.kind) {
    case Kind::kNull:
      return "";
    case Kind::kBool:
      return v.i ? "true" : "false";
    case Kind::kBigint:
      return std::to_string(v.i);
    case Kind::kDouble:
      return DoubleText(v.d);
    case Kind::kDecimal:
      return DecimalText(v.x, v.scale);
    case Kind::kVarchar:
      return v.s;
    case Kind::kDate:
      return FormatDate(static_cast<Days>(v.i));
    case Kind::kTimestamp: {
      int64_t day = v.i >= 0 ? v.i / 86400 : (v.i - 86399) / 86400;
      int64_t sec = v.i - day * 86400;
      char buf[32];
      (void)std::snprintf(buf, sizeof buf, " %02d:%02d:%02d.000", static_cast<int>(sec / 3600),
                          static_cast<int>(sec / 60 % 60), static_cast<int>(sec % 60));
      return FormatDate(static_cast<Days>(day)) + buf;
    }
    case Kind::kInterval:
      return std::to_string(v.i) + " months " + std::to_string(v.j) + " seconds";
  }
  return "";
}

namespace {
int Sign(int128 a, int128 b) { return a < b ? -1 : (a > b ? 1 : 0); }

double ToDoubleValue(const Value& v) {
  if (v.kind == Kind::kDouble) return v.d;
  if (v.kind == Kind::kBigint) return static_cast<double>(v.i);
  return static_cast<double>(v.x) / static_cast<double>(Pow10(v.scale));
}

int128 Unscaled(const Value& v, int* scale) {
  if (v.kind == Kind::kBigint) {
    *scale = 0;
    return v.i;
  }
  *scale = v.scale;
  return v.x;
}
}  // namespace

int Compare(const Value& a, const Value& b) {
  if (IsNumeric(a.kind) && IsNumeric(b.kind)) {
    if (a.kind == Kind::kDouble || b.kind == Kind::kDouble) {
      double x = ToDoubleValue(a), y = ToDoubleValue(b);
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) - std::isnan(y);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int sa = 0, sb = 0;
    int128 x = Unscaled(a, &sa), y = Unscaled(b, &sb);
    if (sa == sb) return Sign(x, y);
    // Bring both to the larger scale; on overflow the scaled one is larger
    // in magnitude than anything the other can hold, so its sign decides.
    if (sa < sb) {
      int128 r = 0;
      if (!Rescale(x, sa, sb, &r)) return x < 0 ? -1 : 1;
      return Sign(r, y);
    }
    int128 r = 0;
    if (!Rescale(y, sb, sa, &r)) return y < 0 ? 1 : -1;
    return Sign(x, r);
  }
  auto secs = [](const Value& v) { return v.kind == Kind::kDate ? v.i * 86400 : v.i; };
  if ((a.kind == Kind::kDate || a.kind == Kind::kTimestamp) &&
      (b.kind == Kind::kDate || b.kind == Kind::kTimestamp)) {
    return Sign(secs(a), secs(b));
  }
  if (a.kind == Kind::kVarchar && b.kind == Kind::kVarchar) {
    int c = a.s.compare(b.s);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.kind == Kind::kInterval && b.kind == Kind::kInterval) {
    if (a.i != b.i) return Sign(a.i, b.i);
    return Sign(a.j, b.j);
  }
  return Sign(a.i, b.i);
}

void AppendKey(const Value& v, std::string* out) {
  out->push_back(static_cast<char>(v.kind));
  switch (v.kind) {
    case Kind::kNull:
      return;
    case Kind::kDouble: {
      double d = v.d == 0 ? 0.0 : v.d;  // -0.0 groups with 0.0
      if (std::isnan(d)) d = NAN;
      char b[sizeof d];
      std::memcpy(b, &d, sizeof d);
      out->append(b, sizeof b);
      return;
    }
    case Kind::kDecimal: {
      char b[sizeof v.x];
      std::memcpy(b, &v.x, sizeof v.x);
      out->append(b, sizeof b);
      out->push_back(static_cast<char>(v.scale));
      return;
    }
    case Kind::kVarchar: {
      uint32_t n = static_cast<uint32_t>(v.s.size());
      char b[sizeof n];
      std::memcpy(b, &n, sizeof n);
      out->append(b, sizeof b);
      out->append(v.s);
      return;
    }
    default: {
      char b[2 * sizeof(int64_t)];
      std::memcpy(b, &v.i, sizeof v.i);
      std::memcpy(b + sizeof v.i, &v.j, sizeof v.j);
      out->append(b, sizeof b);
      return;
    }
  }
}

}  // namespace sagebox::sql
