// aux_json.h: reading the JSON that the AWS CLI writes, for the auxiliary
// inputs of `cost findings` (SageMaker describe/list output, CloudWatch
// metric series, CloudWatch Logs events).
//
// People save CLI output in whatever shape is at hand: one pretty-printed
// object, a JSON array, JSON Lines, or several `aws ... >> file` outputs
// simply concatenated. ForEachJsonValue reads all of them the same way: a
// stream of top-level JSON values separated by whitespace. Errors name
// "file:line:col" in the whole file, never in a fragment.
//
// The AWS CLI prints timestamps in the local time zone of whoever ran it
// ("2024-01-02T03:05:10.123000+01:00"), and older setups print epoch seconds
// (1704161110.123); ParseAwsTimestamp accepts both.
//
// Thread-safety: pure functions; a FieldReader has one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"

namespace sagebox::findings {

// One top-level JSON value of a file.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct JsonValueAt {
  nlohmann::json value;
  std::string_view raw;  // its text inside the file
  size_t offset = 0;     // of raw in the file
};

// Nesting deeper than this is refused (BadInput) before parsing: no AWS
// response comes close, and it bounds recursion in everything downstream.
inline constexpr int kMaxJsonDepth = 128;

// Calls fn for each top-level JSON value of `text`, in order, and stops at
// the first error fn returns. Malformed JSON is BadInput
// "label:line:col: <what the parser expected>". A UTF-8 byte order mark is
// skipped; blank input calls fn zero times.
Status ForEachJsonValue(std::string_view text, std::string_view label,
                        const std::function<Status(const JsonValueAt&)>& fn);

// "line:col" (1-based; columns count UTF-8 characters) of a byte offset.
std::string LineCol(std::string_view text, size_t offset);

// Seconds since the epoch from an ISO 8601 string with any UTC offset and
// optional fraction ("...Z", "...+05:30", "...-0700") or from epoch seconds
// (a JSON number or a string of digits); fractions are truncated toward the
// past. nullopt for anything else, including years past 9999.
std::optional<UnixSeconds> ParseAwsTimestamp(const nlohmann::json& v);
std::optional<UnixSeconds> ParseIsoTimestamp(std::string_view s);

// Reads typed fields of one top-level value and remembers the first
// mistake, located at the offending key when it can be found in the text
// ("label:line:col: expected 'A.B' to be an integer, got a string").
// Absent and null fields are not mistakes: they read as empty/nullopt.
class FieldReader {
 public:
  FieldReader(std::string_view label, std::string_view file_text, const JsonValueAt& at)
      : label_(label), file_text_(file_text), at_(at) {}

  std::string String(const nlohmann::json& obj, std::string_view key, std::string_view path = {});
  std::optional<int64_t> Int(const nlohmann::json& obj, std::string_view key, int64_t min,
                             int64_t max, std::string_view path = {});
  std::optional<bool> Bool(const nlohmann::json& obj, std::string_view key,
                           std::string_view path = {});
  // 0 when absent.
  UnixSeconds Time(const nlohmann::json& obj, std::string_view key, std::string_view path = {});
  // nullptr when absent; a mistake when present with another type.
  const nlohmann::json* Object(const nlohmann::json& obj, std::string_view key,
                               std::string_view path = {});
  const nlohmann::json* Array(const nlohmann::json& obj, std::string_view key,
                              std::string_view path = {});

  // Records "expected <path> to be <what>[, got <type of got>]" at `key`.
  void Fail(std::string_view key, std::string_view path, std::string_view what,
            const nlohmann::json* got = nullptr);
  // Records `message` verbatim at `key` (or at the value's start).
  void FailWith(std::string_view key, std::string message);
  // Where `key` appears in the value's text, else where the value starts.
  std::string Where(std::string_view key) const;

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  const nlohmann::json* Field(const nlohmann::json& obj, std::string_view key) const;

  std::string_view label_;
  std::string_view file_text_;
  const JsonValueAt& at_;
  Status status_;
};

// "a string", "an object", ... for messages.
std::string_view JsonTypeName(const nlohmann::json& v);

}  // namespace sagebox::findings
