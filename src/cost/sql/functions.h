// functions.h: scalar functions, casts, LIKE and literals of `cost sql`.
//
// Semantics follow Trino (Athena engine v3) for the subset implemented:
// DATE_FORMAT's MySQL-style specifiers, date_trunc, from_iso8601_*,
// split_part, round (half away from zero), CAST rounding half up to
// DECIMAL(p,s) with a range check, and so on. Functions report failures
// through a message; the engine attaches the query position.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cost/sql/value.h"

namespace sagebox::sql {

enum class Fn {
  kNone,
  kDateFormat,
  kDateTrunc,
  kFromIso8601Timestamp,
  kFromIso8601Date,
  kSplitPart,
  kConcat,
  kRound,
  kAbs,
  kLower,
  kUpper,
  kLength,
  kSubstr,
  kTrim,
  kReplace,
  kCoalesce,
  kNullif,
  kYear,
  kMonth,
  kDay,
  kHour,
  kDateAdd,
  kDateDiff,
  kDate,
  kStrpos,
};

// Resolves a call: checks argument count and types (consts[i] is the value
// of a constant argument, else null) and gives the result type. False with
// a message (and the index of the argument at fault, or -1) otherwise.
bool BindFunction(const std::string& name, const std::vector<SqlType>& types,
                  const std::vector<const Value*>& consts, Fn* fn, SqlType* result,
                  std::string* err, int* bad_arg);
// True if `name` is a scalar function of the subset (checked before its
// arguments, so an unknown function is reported as such).
bool KnownFunction(const std::string& name);
// Evaluates a bound call; NULL in, NULL out except coalesce. False with a
// message on a runtime error (e.g. an unparsable ISO 8601 string).
bool CallFunction(Fn fn, const std::vector<Value>& args, const SqlType& result, Value* out,
                  std::string* err);

// CAST targets: "double", "decimal" (p, s; -1 = default), "varchar", ...
bool CastTarget(const std::string& name, int precision, int scale, SqlType* out, std::string* err);
bool CastAllowed(const SqlType& from, const SqlType& to);
// False with a message when the value does not convert (out of range,
// unparsable text); TRY_CAST turns that into NULL.
bool CastValue(const Value& v, const SqlType& to, Value* out, std::string* err);

// Integer literals are BIGINT (DECIMAL if too large), "1.5" is DECIMAL(2,1),
// "1e3" is DOUBLE.
bool ParseNumberLiteral(const std::string& text, Value* out, std::string* err);
// Exact text -> unscaled decimal at `scale`, rounding half away from zero.
bool ParseDecimalText(std::string_view text, int scale, int128* out);

struct LikeToken {
  enum Kind : uint8_t { kChar, kOne, kAny } kind;
  char c;
};
bool CompileLike(std::string_view pattern, bool has_escape, std::string_view escape,
                 std::vector<LikeToken>* out, std::string* err);
bool LikeMatch(const std::vector<LikeToken>& p, std::string_view s);

// Days plus calendar months, the day clamped to the month's length
// (2024-01-31 + 1 month = 2024-02-29), as Trino does.
int64_t AddMonths(int64_t days, int64_t months);

// Validates a DATE_FORMAT pattern; false with a message for specifiers not
// supported.
bool CheckDateFormat(std::string_view fmt, std::string* err);
std::string DateFormat(int64_t secs, std::string_view fmt);

}  // namespace sagebox::sql
