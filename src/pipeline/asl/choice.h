// choice.h: evaluation of one Choice rule (a Choices entry, or a nested And/Or/Not operand)
// against a state's input, as "Choice workflow state"
// (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html) defines it.
//
// The rule is assumed statically valid (the definition validator checks its shape); what can
// still go wrong at run time is data: a `Variable` or `...Path` comparand that matches nothing
// is States.Runtime (AWS: "Invalid path ...: The choice state's condition path references an
// invalid value."), except under IsPresent, which is exactly that test. A comparison whose
// operands have the wrong types (StringEquals on a number, ...) is false, not an error.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "pipeline/asl/errors.h"

namespace sagebox::pipeline::asl {

// True/false for the rule; States.Runtime as above, or for a rule with no known operator.
AslOr<bool> EvaluateChoiceRule(const nlohmann::json& rule, const nlohmann::json& input,
                               const nlohmann::json& context);

// StringMatches: `*` matches any run of characters (also none), `\*` a literal star and `\\`
// a backslash; everything else matches itself.
bool StringMatchesPattern(std::string_view pattern, std::string_view text);

// An instant from an RFC 3339 timestamp as Step Functions accepts it: uppercase 'T' between
// date and time, 'Z' or a numeric offset, optional fractional seconds (nanosecond precision).
struct Instant {
  int64_t seconds = 0;  // since the Unix epoch, UTC
  int32_t nanos = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): the defaulted <=> compares with literal 0
  auto operator<=>(const Instant&) const = default;
};
std::optional<Instant> ParseRfc3339(std::string_view text);

}  // namespace sagebox::pipeline::asl
