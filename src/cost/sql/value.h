// value.h: SQL values and types of `cost sql` (a Trino subset).
//
// Types: BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s) (exact, unscaled int128),
// VARCHAR, DATE (days), TIMESTAMP (UTC seconds; Athena's CUR timestamps
// are whole seconds) and INTERVAL (only inside date arithmetic).
// Text forms follow Trino/Athena: decimals keep their scale ("1.11360000"),
// doubles print like Java ("24.0", "1.0E7"), timestamps as
// "2024-01-01 00:00:00.000".
//
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/decimal.h"

namespace sagebox::sql {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kBigint,
  kDouble,
  kDecimal,
  kVarchar,
  kDate,
  kTimestamp,
  kInterval
};

struct SqlType {
  Kind kind = Kind::kNull;
  int precision = 0, scale = 0;  // DECIMAL only
  std::string Name() const;      // "decimal(38,8)", "varchar", ...
  bool operator==(const SqlType&) const = default;
};

inline bool IsNumeric(Kind k) {
  return k == Kind::kBigint || k == Kind::kDouble || k == Kind::kDecimal;
}

struct Value {
  Kind kind = Kind::kNull;  // kNull: SQL NULL of any type
  int scale = 0;            // DECIMAL: digits after the point
  int64_t i = 0;            // BOOLEAN, BIGINT, DATE (days), TIMESTAMP (s), INTERVAL months
  int64_t j = 0;            // INTERVAL seconds
  double d = 0;             // DOUBLE
  int128 x = 0;             // DECIMAL unscaled
  std::string s;            // VARCHAR

  bool null() const { return kind == Kind::kNull; }
  static Value Null() { return {}; }
  static Value Bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.i = b;
    return v;
  }
  static Value Bigint(int64_t n) {
    Value v;
    v.kind = Kind::kBigint;
    v.i = n;
    return v;
  }
  static Value Double(double n) {
    Value v;
    v.kind = Kind::kDouble;
    v.d = n;
    return v;
  }
  static Value Dec(int128 unscaled, int scale) {
    Value v;
    v.kind = Kind::kDecimal;
    v.x = unscaled;
    v.scale = scale;
    return v;
  }
  static Value Varchar(std::string t) {
    Value v;
    v.kind = Kind::kVarchar;
    v.s = std::move(t);
    return v;
  }
  static Value Date(int64_t days) {
    Value v;
    v.kind = Kind::kDate;
    v.i = days;
    return v;
  }
  static Value Timestamp(int64_t secs) {
    Value v;
    v.kind = Kind::kTimestamp;
    v.i = secs;
    return v;
  }
};

// 10^n for n in [0, 38].
int128 Pow10(int n);
// Rescales an unscaled decimal, rounding half away from zero when digits
// are dropped. False on overflow of 38 digits.
bool Rescale(int128 x, int from, int to, int128* out);
// Digits of |x| (1 for 0).
int DigitCount(int128 x);

// Text as Trino prints it; NULL is "" here (callers decide how to show it).
std::string ToText(const Value& v);
// Java Double.toString-style text: "24.0", "0.0464", "1.0E7", "NaN".
std::string DoubleText(double d);
// Exact decimal text with `scale` digits after the point.
std::string DecimalText(int128 x, int scale);

// Three-way comparison of two non-null values of comparable kinds (numeric
// with numeric, date/timestamp with each other, same kind otherwise).
int Compare(const Value& a, const Value& b);

// Bytes that identify a value for grouping (equal values, equal bytes for
// one expression's type).
void AppendKey(const Value& v, std::string* out);

}  // namespace sagebox::sql
