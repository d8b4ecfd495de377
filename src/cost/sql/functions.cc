#include "cost/sql/functions.h"

#include <charconv>
#include <cmath>

#include "core/strings.h"
#include "core/time.h"

namespace sagebox::sql {

namespace {

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* kDayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct Civil {
  int y;
  unsigned m, d;
  int64_t day;  // days since epoch
  int64_t sod;  // second of day
};

Civil ToCivil(int64_t secs) {
  Civil c{};
  c.day = FloorDiv(secs, 86400);
  c.sod = secs - c.day * 86400;
  CivilFromDays(static_cast<Days>(c.day), &c.y, &c.m, &c.d);
  return c;
}

bool IsTime(Kind k) { return k == Kind::kDate || k == Kind::kTimestamp; }
int64_t Secs(const Value& v) { return v.kind == Kind::kDate ? v.i * 86400 : v.i; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Code point boundaries of UTF-8 text.
std::vector<size_t> CodePoints(std::string_view s) {
  std::vector<size_t> b;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) b.push_back(i);
  }
  return b;
}

bool UnitOk(std::string_view u, bool allow_week) {
  return u == "second" || u == "minute" || u == "hour" || u == "day" || u == "month" ||
         u == "quarter" || u == "year" || (allow_week && u == "week");
}

int64_t TruncSecs(int64_t secs, std::string_view unit) {
  Civil c = ToCivil(secs);
  if (unit == "second") return secs;
  if (unit == "minute") return FloorDiv(secs, 60) * 60;
  if (unit == "hour") return FloorDiv(secs, 3600) * 3600;
  if (unit == "day") return c.day * 86400;
  if (unit == "week") {
    // Monday; 1970-01-01 was a Thursday.
    int64_t dow = ((c.day % 7) + 7 + 3) % 7;  // 0 = Monday
    return (c.day - dow) * 86400;
  }
  unsigned m = c.m;
  if (unit == "quarter") m = (c.m - 1) / 3 * 3 + 1;
  if (unit == "year") m = 1;
  return static_cast<int64_t>(DaysFromCivil(c.y, m, 1)) * 86400;
}

int64_t MonthIndex(const Civil& c) { return static_cast<int64_t>(c.y) * 12 + c.m - 1; }

}  // namespace

int64_t AddMonths(int64_t days, int64_t months) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(static_cast<Days>(days), &y, &m, &d);
  int64_t idx = static_cast<int64_t>(y) * 12 + (m - 1) + months;
  int ny = static_cast<int>(FloorDiv(idx, 12));
  unsigned nm = static_cast<unsigned>(idx - static_cast<int64_t>(ny) * 12) + 1;
  static constexpr unsigned kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned len = kLen[nm - 1];
  if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0)) len = 29;
  return DaysFromCivil(ny, nm, std::min(d, len));
}

bool CheckDateFormat(std::string_view f, std::string* err) {
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (i + 1 >= f.size()) return true;  // a trailing % prints itself
    char c = f[++i];
    static constexpr std::string_view kOk = "abcdefHhIijklMmprSsTWwYy%";
    if (kOk.find(c) == std::string_view::npos) {
      if (std::string_view("DUuVvXx").find(c) != std::string_view::npos) {
        *err = "DATE_FORMAT specifier %" + std::string(1, c) +
               " is not supported by cost sql (supported: %Y %y %m %c %d %e %H %k %h %I %l %i "
               "%S %s %f %p %T %r %j %M %b %W %a %w %%)";
        return false;
      }
    }
  }
  return true;
}

std::string DateFormat(int64_t secs, std::string_view f) {
  Civil c = ToCivil(secs);
  int hour = static_cast<int>(c.sod / 3600), minute = static_cast<int>(c.sod / 60 % 60),
      second = static_cast<int>(c.sod % 60);
  int h12 = hour % 12 == 0 ? 12 : hour % 12;
  int dow = static_cast<int>(((c.day % 7) + 7 + 4) % 7);  // 0 = Sunday
  std::string out;
  char buf[32];
  auto put = [&](const char* fmt, int v) {
    (void)std::snprintf(buf, sizeof buf, fmt, v);
    out += buf;
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out.push_back(f[i]);
      continue;
    }
    char k = f[++i];
    switch (k) {
      case 'Y':
        put("%04d", c.y);
        break;
      case 'y':
        put("%02d", ((c.y % 100) + 100) % 100);
        break;
      case 'm':
        put("%02d", static_cast<int>(c.m));
        break;
      case 'c':
        put("%d", static_cast<int>(c.m));
        break;
      case 'd':
        put("%02d", static_cast<int>(c.d));
        break;
      case 'e':
        put("%d", static_cast<int>(c.d));
        break;
      case 'H':
        put("%02d", hour);
        break;
      case 'k':
        put("%d", hour);
        break;
      case 'h':
      case 'I':
        put("%02d", h12);
        break;
      case 'l':
        put("%d", h12);
        break;
      case 'i':
        put("%02d", minute);
        break;
      case 'S':
      case 's':
        put("%02d", second);
        break;
      case 'f':
        out += "000000";
        break;
      case 'p':
        out += hour < 12 ? "AM" : "PM";
        break;
      case 'T':
        (void)std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", hour, minute, second);
        out += buf;
        break;
      case 'r':
        (void)std::snprintf(buf, sizeof buf, "%02d:%02d:%02d %s", h12, minute, second,
                            hour < 12 ? "AM" : "PM");
        out += buf;
        break;
      case 'j': {
        int64_t jan1 = DaysFromCivil(c.y, 1, 1);
        put("%03d", static_cast<int>(c.day - jan1 + 1));
        break;
      }
      case 'M':
        out += kMonthNames[c.m - 1];
        break;
      case 'b':
        out += std::string(kMonthNames[c.m - 1]).substr(0, 3);
        break;
      case 'W':
        out += kDayNames[dow];
        break;
      case 'a':
        out += std::string(kDayNames[dow]).substr(0, 3);
        break;
      case 'w':
        put("%d", dow);
        break;
      default:
        out.push_back(k);  // %% and any other %x print x
        break;
    }
  }
  return out;
}

bool ParseDecimalText(std::string_view t, int scale, int128* out) {
  t = Trim(t);
  if (t.empty()) return false;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  std::string digits;
  int64_t exp = 0;
  bool any = false, dot = false;
  size_t i = 0;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c >= '0' && c <= '9') {
      any = true;
      if (!(digits.empty() && c == '0')) digits.push_back(c);
      if (dot) --exp;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any) return false;
  if (i < t.size()) {
    if (t[i] != 'e' && t[i] != 'E') return false;
    int64_t e = 0;
    std::string_view rest = t.substr(i + 1);
    if (!rest.empty() && rest[0] == '+') rest.remove_prefix(1);
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), e);
    if (ec != std::errc() || p != rest.data() + rest.size() || e > 1000 || e < -1000) return false;
    exp += e;
  }
  // value = digits x 10^exp; want round(value x 10^scale).
  int64_t shift = exp + scale;
  bool round_up = false;
  if (shift < 0) {
    size_t drop = static_cast<size_t>(-shift);
    if (drop > digits.size()) {
      digits.clear();
    } else {
      round_up = digits[digits.size() - drop] >= '5';
      digits.resize(digits.size() - drop);
    }
    shift = 0;
  }
  if (static_cast<int64_t>(digits.size()) + shift > 38) return false;
  int128 x = 0;
  for (char c : digits) x = x * 10 + (c - '0');
  for (int64_t k = 0; k < shift; ++k) x *= 10;
  if (round_up) ++x;
  if (DigitCount(x) > 38) return false;
  *out = neg ? -x : x;
  return true;
}

bool ParseNumberLiteral(const std::string& text, Value* out, std::string* err) {
  std::string_view t = text;
  bool neg = !t.empty() && t[0] == '-';
  std::string_view body = neg ? t.substr(1) : t;
  if (body.find_first_of("eE") != std::string_view::npos) {
    double d = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
    if (ec != std::errc() || p != t.data() + t.size()) {
      *err = "'" + text + "' is not a number";
      return false;
    }
    *out = Value::Double(d);
    return true;
  }
  size_t dot = body.find('.');
  if (dot == std::string_view::npos) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc() && p == t.data() + t.size()) {
      *out = Value::Bigint(v);
      return true;
    }
  }
  int scale = dot == std::string_view::npos ? 0 : static_cast<int>(body.size() - dot - 1);
  int128 x = 0;
  if (scale > 38 || !ParseDecimalText(t, scale, &x)) {
    *err = "number '" + text + "' is out of range for DECIMAL(38)";
    return false;
  }
  *out = Value::Dec(x, scale);
  return true;
}

bool CompileLike(std::string_view p, bool has_escape, std::string_view escape,
                 std::vector<LikeToken>* out, std::string* err) {
  if (has_escape && escape.size() != 1) {
    *err = "ESCAPE must be a single character";
    return false;
  }
  out->clear();
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (has_escape && c == escape[0]) {
      if (i + 1 >= p.size() || (p[i + 1] != '%' && p[i + 1] != '_' && p[i + 1] != escape[0])) {
        *err = "LIKE pattern escape must be followed by %, _ or the escape character";
        return false;
      }
      out->push_back({LikeToken::kChar, p[++i]});
    } else if (c == '%') {
      if (out->empty() || out->back().kind != LikeToken::kAny) out->push_back({LikeToken::kAny, 0});
    } else if (c == '_') {
      out->push_back({LikeToken::kOne, 0});
    } else {
      out->push_back({LikeToken::kChar, c});
    }
  }
  return true;
}

bool LikeMatch(const std::vector<LikeToken>& p, std::string_view s) {
  // Greedy with backtracking to the last %: linear for the usual patterns.
  // '_' matches one UTF-8 code point.
  size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
  auto cp_len = [&](size_t at) {
    size_t n = 1;
    while (at + n < s.size() && (static_cast<unsigned char>(s[at + n]) & 0xC0) == 0x80) ++n;
    return n;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi].kind == LikeToken::kChar && p[pi].c == s[si]) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi].kind == LikeToken::kOne) {
      ++pi;
      si += cp_len(si);
    } else if (pi < p.size() && p[pi].kind == LikeToken::kAny) {
      star_p = pi++;
      star_s = si;
    } else if (star_p != SIZE_MAX) {
      pi = star_p + 1;
      star_s += cp_len(star_s);
      si = star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi].kind == LikeToken::kAny) ++pi;
  return pi == p.size();
}

bool CastTarget(const std::string& n, int p, int s, SqlType* out, std::string* err) {
  auto no_args = [&]() {
    if (p >= 0) {
      *err = "type " + n + " takes no parameters";
      return false;
    }
    return true;
  };
  if (n == "double" || n == "float") {
    *out = {Kind::kDouble};
    return no_args();
  }
  if (n == "decimal" || n == "numeric" || n == "dec") {
    int pp = p < 0 ? 38 : p, ss = s < 0 ? 0 : s;
    if (pp < 1 || pp > 38 || ss > pp) {
      *err = "DECIMAL(" + std::to_string(pp) + "," + std::to_string(ss) +
             ") is not valid (precision 1..38, scale 0..precision)";
      return false;
    }
    *out = {Kind::kDecimal, pp, ss};
    return true;
  }
  if (n == "varchar" || n == "char" || n == "string") {
    if (s >= 0 || (n == "string" && p >= 0)) {
      *err = "type " + n + " takes at most one parameter";
      return false;
    }
    *out = {Kind::kVarchar, p < 0 ? 0 : p, 0};
    if (n == "char") {
      *err = "CAST to CHAR is not supported (use VARCHAR)";
      return false;
    }
    return true;
  }
  if (n == "bigint" || n == "integer" || n == "int") {
    *out = {Kind::kBigint};
    return no_args();
  }
  if (n == "date") {
    *out = {Kind::kDate};
    return no_args();
  }
  if (n == "timestamp") {
    *out = {Kind::kTimestamp};
    if (p > 3) {
      *err = "timestamp precision over 3 is not supported";
      return false;
    }
    return true;
  }
  if (n == "boolean") {
    *out = {Kind::kBool};
    return no_args();
  }
  *err = "CAST to " + n +
         " is not supported (supported: DOUBLE, DECIMAL(p,s), VARCHAR, BIGINT, INTEGER, DATE, "
         "TIMESTAMP, BOOLEAN)";
  return false;
}

bool CastAllowed(const SqlType& from, const SqlType& to) {
  Kind f = from.kind, t = to.kind;
  if (f == Kind::kNull || f == t) return f != Kind::kInterval;
  if (f == Kind::kInterval || t == Kind::kInterval) return false;
  if (t == Kind::kVarchar || f == Kind::kVarchar) return true;
  bool fn = IsNumeric(f) || f == Kind::kBool, tn = IsNumeric(t) || t == Kind::kBool;
  if (fn && tn) return true;
  return IsTime(f) && IsTime(t);
}

bool CastValue(const Value& v, const SqlType& to, Value* out, std::string* err) {
  if (v.null()) {
    *out = Value::Null();
    return true;
  }
  auto fail = [&](const std::string& why) {
    *err = "cannot cast " + (v.kind == Kind::kVarchar ? "'" + v.s + "'" : ToText(v)) + " to " +
           to.Name() + (why.empty() ? "" : ": " + why);
    return false;
  };
  switch (to.kind) {
    case Kind::kVarchar: {
      std::string s = ToText(v);
      if (to.precision > 0) {
        auto cps = CodePoints(s);
        if (cps.size() > static_cast<size_t>(to.precision))
          s.resize(cps[static_cast<size_t>(to.precision)]);
      }
      *out = Value::Varchar(std::move(s));
      return true;
    }
    case Kind::kDouble:
      switch (v.kind) {
        case Kind::kDouble:
          *out = v;
          return true;
        case Kind::kBigint:
        case Kind::kBool:
          *out = Value::Double(static_cast<double>(v.i));
          return true;
        case Kind::kDecimal:
          *out = Value::Double(static_cast<double>(v.x) / static_cast<double>(Pow10(v.scale)));
          return true;
        case Kind::kVarchar: {
          std::string_view t = Trim(v.s);
          double d = 0;
          if (EqualsIgnoreCase(t, "nan")) {
            *out = Value::Double(NAN);
            return true;
          }
          if (EqualsIgnoreCase(t, "infinity") || EqualsIgnoreCase(t, "-infinity")) {
            *out = Value::Double(t[0] == '-' ? -INFINITY : INFINITY);
            return true;
          }
          if (!t.empty() && t[0] == '+') t.remove_prefix(1);
          auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
          if (t.empty() || ec != std::errc() || p != t.data() + t.size())
            return fail("not a number");
          *out = Value::Double(d);
          return true;
        }
        default:
          return fail("");
      }
    case Kind::kDecimal: {
      int128 x = 0;
      switch (v.kind) {
        case Kind::kDecimal:
          if (!Rescale(v.x, v.scale, to.scale, &x)) return fail("out of range");
          break;
        case Kind::kBigint:
        case Kind::kBool:
          if (!Rescale(v.i, 0, to.scale, &x)) return fail("out of range");
          break;
        case Kind::kDouble: {
          if (!std::isfinite(v.d)) return fail("not finite");
          // Trino converts the double's shortest decimal text, then rounds.
          char buf[64];
          auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.d);
          if (ec != std::errc() ||
              !ParseDecimalText(std::string_view(buf, static_cast<size_t>(p - buf)), to.scale,
                                &x)) {
            return fail("out of range");
          }
          break;
        }
        case Kind::kVarchar:
          if (!ParseDecimalText(v.s, to.scale, &x)) return fail("not a number");
          break;
        default:
          return fail("");
      }
      if (x >= Pow10(to.precision) || x <= -Pow10(to.precision)) return fail("out of range");
      *out = Value::Dec(x, to.scale);
      return true;
    }
    case Kind::kBigint: {
      switch (v.kind) {
        case Kind::kBigint:
        case Kind::kBool:
          *out = Value::Bigint(v.i);
          return true;
        case Kind::kDouble: {
          double r = std::round(v.d);
          if (!std::isfinite(r) || r >= 9.2233720368547758e18 || r < -9.2233720368547758e18) {
            return fail("out of range");
          }
          *out = Value::Bigint(static_cast<int64_t>(r));
          return true;
        }
        case Kind::kDecimal: {
          int128 x = 0;
          if (!Rescale(v.x, v.scale, 0, &x) || x > INT64_MAX || x < INT64_MIN) {
            return fail("out of range");
          }
          *out = Value::Bigint(static_cast<int64_t>(x));
          return true;
        }
        case Kind::kVarchar: {
          std::string_view t = Trim(v.s);
          if (!t.empty() && t[0] == '+') t.remove_prefix(1);
          int64_t n = 0;
          auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
          if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
            return fail("not a whole number");
          }
          *out = Value::Bigint(n);
          return true;
        }
        default:
          return fail("");
      }
    }
    case Kind::kDate:
      if (v.kind == Kind::kDate) {
        *out = v;
        return true;
      }
      if (v.kind == Kind::kTimestamp) {
        *out = Value::Date(FloorDiv(v.i, 86400));
        return true;
      }
      if (v.kind == Kind::kVarchar) {
        auto d = ParseDate(Trim(v.s));
        if (!d) return fail("expected YYYY-MM-DD");
        *out = Value::Date(*d);
        return true;
      }
      return fail("");
    case Kind::kTimestamp:
      if (v.kind == Kind::kTimestamp) {
        *out = v;
        return true;
      }
      if (v.kind == Kind::kDate) {
        *out = Value::Timestamp(v.i * 86400);
        return true;
      }
      if (v.kind == Kind::kVarchar) {
        auto t = ParseTimestamp(Trim(v.s));
        if (!t) return fail("expected YYYY-MM-DD HH:MM:SS");
        *out = Value::Timestamp(*t);
        return true;
      }
      return fail("");
    case Kind::kBool:
      if (v.kind == Kind::kBool) {
        *out = v;
        return true;
      }
      if (v.kind == Kind::kVarchar) {
        std::string_view t = Trim(v.s);
        if (EqualsIgnoreCase(t, "true")) {
          *out = Value::Bool(true);
          return true;
        }
        if (EqualsIgnoreCase(t, "false")) {
          *out = Value::Bool(false);
          return true;
        }
        return fail("expected true or false");
      }
      if (v.kind == Kind::kBigint) {
        *out = Value::Bool(v.i != 0);
        return true;
      }
      if (v.kind == Kind::kDouble) {
        *out = Value::Bool(v.d != 0);
        return true;
      }
      if (v.kind == Kind::kDecimal) {
        *out = Value::Bool(v.x != 0);
        return true;
      }
      return fail("");
    default:
      return fail("");
  }
}

bool KnownFunction(const std::string& n) {
  static constexpr std::string_view kNames[] = {"date_format",
                                                "date_trunc",
                                                "from_iso8601_timestamp",
                                                "from_iso8601_date",
                                                "split_part",
                                                "concat",
                                                "round",
                                                "abs",
                                                "lower",
                                                "upper",
                                                "trim",
                                                "length",
                                                "substr",
                                                "substring",
                                                "replace",
                                                "strpos",
                                                "coalesce",
                                                "nullif",
                                                "year",
                                                "month",
                                                "day",
                                                "hour",
                                                "day_of_month",
                                                "date_add",
                                                "date_diff",
                                                "date"};
  for (auto k : kNames) {
    if (k == n) return true;
  }
  return false;
}

bool BindFunction(const std::string& name, const std::vector<SqlType>& t,
                  const std::vector<const Value*>& consts, Fn* fn, SqlType* rt, std::string* err,
                  int* bad) {
  *bad = -1;
  auto nargs = [&](size_t lo, size_t hi) {
    if (t.size() < lo || t.size() > hi) {
      *err = name + "() takes " +
             (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
             " argument(s), found " + std::to_string(t.size());
      return false;
    }
    return true;
  };
  auto want = [&](size_t i, bool ok, const std::string& what) {
    if (ok || t[i].kind == Kind::kNull) return true;
    *bad = static_cast<int>(i);
    *err = name + "() argument " + std::to_string(i + 1) + " must be " + what + ", found " +
           t[i].Name();
    return false;
  };
  auto is_str = [&](size_t i) { return t[i].kind == Kind::kVarchar; };
  auto is_int = [&](size_t i) { return t[i].kind == Kind::kBigint; };
  auto const_unit = [&](size_t i, bool week, std::string* unit) {
    if (!consts[i] || consts[i]->kind != Kind::kVarchar) {
      *bad = static_cast<int>(i);
      *err = name + "() needs a constant unit such as 'month'";
      return false;
    }
    *unit = AsciiLower(consts[i]->s);
    if (!UnitOk(*unit, week)) {
      *bad = static_cast<int>(i);
      *err = "unknown unit '" + consts[i]->s +
             "' (expected second, minute, hour, day, week, month, quarter or year)";
      return false;
    }
    return true;
  };
  std::string unit;
  if (name == "date_format") {
    if (!nargs(2, 2) || !want(0, IsTime(t[0].kind), "a timestamp") ||
        !want(1, is_str(1), "a varchar"))
      return false;
    if (consts[1] && consts[1]->kind == Kind::kVarchar && !CheckDateFormat(consts[1]->s, err)) {
      *bad = 1;
      return false;
    }
    *fn = Fn::kDateFormat;
    *rt = {Kind::kVarchar};
    return true;
  }
  if (name == "date_trunc") {
    if (!nargs(2, 2) || !want(1, IsTime(t[1].kind), "a date or timestamp") ||
        !const_unit(0, true, &unit))
      return false;
    if (t[1].kind == Kind::kDate && (unit == "second" || unit == "minute" || unit == "hour")) {
      *bad = 0;
      *err = "date_trunc('" + unit + "') needs a timestamp, not a date";
      return false;
    }
    *fn = Fn::kDateTrunc;
    *rt = t[1].kind == Kind::kNull ? SqlType{Kind::kTimestamp} : t[1];
    return true;
  }
  if (name == "from_iso8601_timestamp" || name == "from_iso8601_date") {
    if (!nargs(1, 1) || !want(0, is_str(0), "a varchar")) return false;
    bool ts = name == "from_iso8601_timestamp";
    *fn = ts ? Fn::kFromIso8601Timestamp : Fn::kFromIso8601Date;
    *rt = {ts ? Kind::kTimestamp : Kind::kDate};
    return true;
  }
  if (name == "split_part") {
    if (!nargs(3, 3) || !want(0, is_str(0), "a varchar") || !want(1, is_str(1), "a varchar") ||
        !want(2, is_int(2), "a bigint")) {
      return false;
    }
    *fn = Fn::kSplitPart;
    *rt = {Kind::kVarchar};
    return true;
  }
  if (name == "concat") {
    if (t.empty()) return nargs(1, 254);
    for (size_t i = 0; i < t.size(); ++i) {
      if (!want(i, is_str(i), "a varchar")) return false;
    }
    *fn = Fn::kConcat;
    *rt = {Kind::kVarchar};
    return true;
  }
  if (name == "round") {
    if (!nargs(1, 2) || !want(0, IsNumeric(t[0].kind), "a number")) return false;
    if (t.size() == 2 && !want(1, is_int(1), "a bigint")) return false;
    *fn = Fn::kRound;
    *rt = t[0].kind == Kind::kNull ? SqlType{Kind::kDouble} : t[0];
    return true;
  }
  if (name == "abs") {
    if (!nargs(1, 1) || !want(0, IsNumeric(t[0].kind), "a number")) return false;
    *fn = Fn::kAbs;
    *rt = t[0];
    return true;
  }
  if (name == "lower" || name == "upper" || name == "trim" || name == "length") {
    if (!nargs(1, 1) || !want(0, is_str(0), "a varchar")) return false;
    *fn = name == "lower"   ? Fn::kLower
          : name == "upper" ? Fn::kUpper
          : name == "trim"  ? Fn::kTrim
                            : Fn::kLength;
    *rt = {name == "length" ? Kind::kBigint : Kind::kVarchar};
    return true;
  }
  if (name == "substr" || name == "substring") {
    if (!nargs(2, 3) || !want(0, is_str(0), "a varchar") || !want(1, is_int(1), "a bigint"))
      return false;
    if (t.size() == 3 && !want(2, is_int(2), "a bigint")) return false;
    *fn = Fn::kSubstr;
    *rt = {Kind::kVarchar};
    return true;
  }
  if (name == "replace") {
    if (!nargs(2, 3)) return false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (!want(i, is_str(i), "a varchar")) return false;
    }
    *fn = Fn::kReplace;
    *rt = {Kind::kVarchar};
    return true;
  }
  if (name == "strpos") {
    if (!nargs(2, 2) || !want(0, is_str(0), "a varchar") || !want(1, is_str(1), "a varchar"))
      return false;
    *fn = Fn::kStrpos;
    *rt = {Kind::kBigint};
    return true;
  }
  if (name == "coalesce" || name == "nullif") {
    if (name == "nullif" ? !nargs(2, 2) : !nargs(1, 254)) return false;
    SqlType r{Kind::kNull};
    for (size_t i = 0; i < t.size(); ++i) {
      const SqlType& x = t[i];
      if (x.kind == Kind::kNull) continue;
      if (r.kind == Kind::kNull) {
        r = x;
      } else if (r.kind == x.kind) {
        if (r.kind == Kind::kDecimal) r = {Kind::kDecimal, 38, std::max(r.scale, x.scale)};
      } else if (IsNumeric(r.kind) && IsNumeric(x.kind)) {
        r = (r.kind == Kind::kDouble || x.kind == Kind::kDouble)
                ? SqlType{Kind::kDouble}
                : SqlType{Kind::kDecimal, 38,
                          std::max(r.kind == Kind::kDecimal ? r.scale : 0,
                                   x.kind == Kind::kDecimal ? x.scale : 0)};
      } else if (IsTime(r.kind) && IsTime(x.kind)) {
        r = {Kind::kTimestamp};
      } else {
        *bad = static_cast<int>(i);
        *err = name + "() arguments must have one type; found " + r.Name() + " and " + x.Name();
        return false;
      }
    }
    *fn = name == "coalesce" ? Fn::kCoalesce : Fn::kNullif;
    *rt = name == "nullif" && !t.empty() ? t[0] : r;
    return true;
  }
  if (name == "year" || name == "month" || name == "day" || name == "hour" ||
      name == "day_of_month") {
    if (!nargs(1, 1) || !want(0, IsTime(t[0].kind), "a date or timestamp")) return false;
    if (name == "hour" && t[0].kind == Kind::kDate) return want(0, false, "a timestamp");
    *fn = name == "year"    ? Fn::kYear
          : name == "month" ? Fn::kMonth
          : name == "hour"  ? Fn::kHour
                            : Fn::kDay;
    *rt = {Kind::kBigint};
    return true;
  }
  if (name == "date_add") {
    if (!nargs(3, 3) || !want(1, is_int(1), "a bigint") ||
        !want(2, IsTime(t[2].kind), "a date or timestamp") || !const_unit(0, true, &unit)) {
      return false;
    }
    *fn = Fn::kDateAdd;
    *rt = t[2].kind == Kind::kNull ? SqlType{Kind::kTimestamp} : t[2];
    return true;
  }
  if (name == "date_diff") {
    if (!nargs(3, 3) || !want(1, IsTime(t[1].kind), "a date or timestamp") ||
        !want(2, IsTime(t[2].kind), "a date or timestamp") || !const_unit(0, true, &unit)) {
      return false;
    }
    *fn = Fn::kDateDiff;
    *rt = {Kind::kBigint};
    return true;
  }
  if (name == "date") {
    if (!nargs(1, 1) || !want(0, is_str(0) || IsTime(t[0].kind), "a varchar, date or timestamp"))
      return false;
    *fn = Fn::kDate;
    *rt = {Kind::kDate};
    return true;
  }
  if (name == "try") {
    *err = "TRY() is not supported (use TRY_CAST)";
  } else if (name == "current_timestamp" || name == "now" || name == "localtimestamp") {
    *err = name + " is not supported (only current_date, fixed by --as-of)";
  } else {
    *err = "function " + name + "() is not supported by cost sql";
  }
  return false;
}

bool CallFunction(Fn fn, const std::vector<Value>& a, const SqlType& rt, Value* out,
                  std::string* err) {
  if (fn != Fn::kCoalesce && fn != Fn::kNullif && fn != Fn::kConcat) {
    for (const auto& v : a) {
      if (v.null()) {
        *out = Value::Null();
        return true;
      }
    }
  }
  switch (fn) {
    case Fn::kNone:
      break;
    case Fn::kDateFormat:
      if (!CheckDateFormat(a[1].s, err)) return false;
      *out = Value::Varchar(DateFormat(Secs(a[0]), a[1].s));
      return true;
    case Fn::kDateTrunc: {
      int64_t s = TruncSecs(Secs(a[1]), AsciiLower(a[0].s));
      *out = a[1].kind == Kind::kDate ? Value::Date(FloorDiv(s, 86400)) : Value::Timestamp(s);
      return true;
    }
    case Fn::kFromIso8601Timestamp:
    case Fn::kFromIso8601Date: {
      auto t = ParseTimestamp(Trim(a[0].s));
      if (!t) {
        *err = "'" + a[0].s + "' is not an ISO 8601 " +
               (fn == Fn::kFromIso8601Date ? "date" : "timestamp");
        return false;
      }
      *out = fn == Fn::kFromIso8601Date ? Value::Date(FloorDiv(*t, 86400)) : Value::Timestamp(*t);
      return true;
    }
    case Fn::kSplitPart: {
      if (a[2].i < 1) {
        *err = "split_part index must be 1 or more";
        return false;
      }
      if (a[1].s.empty()) {
        *err = "split_part delimiter must not be empty";
        return false;
      }
      std::string_view s = a[0].s;
      int64_t k = 1;
      size_t start = 0;
      while (k < a[2].i) {
        size_t p = s.find(a[1].s, start);
        if (p == std::string_view::npos) {
          *out = Value::Null();
          return true;
        }
        start = p + a[1].s.size();
        ++k;
      }
      size_t end = s.find(a[1].s, start);
      *out = Value::Varchar(std::string(
          s.substr(start, end == std::string_view::npos ? s.size() - start : end - start)));
      return true;
    }
    case Fn::kConcat: {
      std::string r;
      for (const auto& v : a) {
        if (v.null()) {
          *out = Value::Null();
          return true;
        }
        r += v.s;
      }
      *out = Value::Varchar(std::move(r));
      return true;
    }
    case Fn::kRound: {
      int64_t d = a.size() > 1 ? a[1].i : 0;
      if (a[0].kind == Kind::kDouble) {
        if (d > 300 || d < -300) {
          *out = a[0];
          return true;
        }
        double m = std::pow(10.0, static_cast<double>(d));
        double r = std::round(a[0].d * m) / m;
        *out = Value::Double(std::isfinite(r) ? r : a[0].d);
        return true;
      }
      if (a[0].kind == Kind::kBigint) {
        if (d >= 0) {
          *out = a[0];
          return true;
        }
        int128 x = 0;
        if (d < -18 || !Rescale(a[0].i, static_cast<int>(-d), 0, &x)) {
          *out = Value::Bigint(0);
          return true;
        }
        *out = Value::Bigint(static_cast<int64_t>(x * Pow10(static_cast<int>(-d))));
        return true;
      }
      // Decimal: value rounded to d places, type (scale) unchanged, as Trino.
      int s = a[0].scale;
      if (d >= s) {
        *out = a[0];
        return true;
      }
      int drop = static_cast<int>(std::min<int64_t>(s - d, 38));
      int128 x = 0;
      if (!Rescale(a[0].x, drop, 0, &x) || !Rescale(x, 0, drop, &x)) {
        *err = "round overflows DECIMAL(38)";
        return false;
      }
      *out = Value::Dec(x, s);
      return true;
    }
    case Fn::kAbs: {
      *out = a[0];
      if (out->kind == Kind::kBigint) {
        if (out->i == INT64_MIN) {
          *err = "bigint overflow";
          return false;
        }
        out->i = out->i < 0 ? -out->i : out->i;
      }
      if (out->kind == Kind::kDouble) out->d = std::fabs(out->d);
      if (out->kind == Kind::kDecimal && out->x < 0) out->x = -out->x;
      return true;
    }
    case Fn::kLower:
      *out = Value::Varchar(AsciiLower(a[0].s));
      return true;
    case Fn::kUpper: {
      std::string r = a[0].s;
      for (char& c : r) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      *out = Value::Varchar(std::move(r));
      return true;
    }
    case Fn::kTrim: {
      std::string_view s = a[0].s;
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      *out = Value::Varchar(std::string(s));
      return true;
    }
    case Fn::kLength:
      *out = Value::Bigint(static_cast<int64_t>(CodePoints(a[0].s).size()));
      return true;
    case Fn::kSubstr: {
      auto cps = CodePoints(a[0].s);
      int64_t n = static_cast<int64_t>(cps.size());
      int64_t start = a[1].i;
      if (start == 0 || start > n || -start > n) {
        *out = Value::Varchar("");
        return true;
      }
      if (start < 0) start = n + start + 1;
      int64_t len = a.size() > 2 ? a[2].i : n;
      if (len < 0) {
        *err = "substr length must not be negative";
        return false;
      }
      int64_t end = std::min(n, start - 1 + len);
      size_t b = cps[static_cast<size_t>(start - 1)];
      size_t e = end >= n ? a[0].s.size() : cps[static_cast<size_t>(end)];
      *out = Value::Varchar(a[0].s.substr(b, e - b));
      return true;
    }
    case Fn::kReplace: {
      const std::string& s = a[0].s;
      const std::string& from = a[1].s;
      std::string to = a.size() > 2 ? a[2].s : "";
      std::string r;
      if (from.empty()) {
        // Trino inserts the replacement between every character.
        r = to;
        for (char c : s) {
          r.push_back(c);
          r += to;
        }
      } else {
        size_t i = 0;
        for (;;) {
          size_t p = s.find(from, i);
          if (p == std::string::npos) break;
          r.append(s, i, p - i);
          r += to;
          i = p + from.size();
        }
        r.append(s, i, std::string::npos);
      }
      *out = Value::Varchar(std::move(r));
      return true;
    }
    case Fn::kStrpos: {
      size_t p = a[0].s.find(a[1].s);
      if (p == std::string::npos) {
        *out = Value::Bigint(0);
        return true;
      }
      *out = Value::Bigint(static_cast<int64_t>(CodePoints(a[0].s.substr(0, p)).size()) + 1);
      return true;
    }
    case Fn::kCoalesce:
      for (const auto& v : a) {
        if (!v.null()) {
          *out = v;
          return true;
        }
      }
      *out = Value::Null();
      return true;
    case Fn::kNullif:
      if (a[0].null()) {
        *out = Value::Null();
        return true;
      }
      if (!a[1].null() && Compare(a[0], a[1]) == 0) {
        *out = Value::Null();
        return true;
      }
      *out = a[0];
      return true;
    case Fn::kYear:
    case Fn::kMonth:
    case Fn::kDay:
    case Fn::kHour: {
      Civil c = ToCivil(Secs(a[0]));
      int64_t v = fn == Fn::kYear    ? c.y
                  : fn == Fn::kMonth ? c.m
                  : fn == Fn::kDay   ? c.d
                                     : c.sod / 3600;
      *out = Value::Bigint(v);
      return true;
    }
    case Fn::kDateAdd: {
      std::string u = AsciiLower(a[0].s);
      int64_t n = a[1].i;
      if (n > 1000000 || n < -1000000) {
        *err = "date_add amount out of range";
        return false;
      }
      int64_t s = Secs(a[2]);
      if (u == "second" || u == "minute" || u == "hour") {
        if (a[2].kind == Kind::kDate) {
          *err = "date_add('" + u + "') needs a timestamp, not a date";
          return false;
        }
        s += n * (u == "second" ? 1 : u == "minute" ? 60 : 3600);
      } else if (u == "day" || u == "week") {
        s += n * 86400 * (u == "week" ? 7 : 1);
      } else {
        int64_t months = n * (u == "year" ? 12 : u == "quarter" ? 3 : 1);
        int64_t day = FloorDiv(s, 86400);
        s = AddMonths(day, months) * 86400 + (s - day * 86400);
      }
      *out = a[2].kind == Kind::kDate ? Value::Date(FloorDiv(s, 86400)) : Value::Timestamp(s);
      return true;
    }
    case Fn::kDateDiff: {
      std::string u = AsciiLower(a[0].s);
      int64_t x = Secs(a[1]), y = Secs(a[2]);
      int64_t per = u == "second"   ? 1
                    : u == "minute" ? 60
                    : u == "hour"   ? 3600
                    : u == "day"    ? 86400
                    : u == "week"   ? 7 * 86400
                                    : 0;
      if (per > 0) {
        *out = Value::Bigint((y - x) / per);
        return true;
      }
      Civil cx = ToCivil(x), cy = ToCivil(y);
      int64_t months = MonthIndex(cy) - MonthIndex(cx);
      // Whole months only: back off one when the day/time has not been reached.
      int64_t rx = (static_cast<int64_t>(cx.d) * 86400) + cx.sod,
              ry = (static_cast<int64_t>(cy.d) * 86400) + cy.sod;
      if (months > 0 && ry < rx) --months;
      if (months < 0 && ry > rx) ++months;
      int64_t div = u == "year" ? 12 : u == "quarter" ? 3 : 1;
      *out = Value::Bigint(months / div);
      return true;
    }
    case Fn::kDate: {
      std::string e;
      return CastValue(a[0], {Kind::kDate}, out, err);
    }
  }
  (void)rt;
  *err = "internal: unknown function";
  return false;
}

}  // namespace sagebox::sql
