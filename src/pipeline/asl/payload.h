// payload.h: payload templates (Parameters, ResultSelector, ItemSelector) and the payload size
// limit, for states that use the JSONPath query language.
//
// A template is JSON copied as is, except that an object key ending in ".$" takes a string
// value that is a path into the input ("$.a"), into the context object ("$$.Map.Item.Value") or
// an intrinsic function call; the result is stored under the key without ".$". Nested objects
// and arrays are processed the same way. Source: "InputPath, Parameters and ResultSelector"
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html).
//
// Thread-safety: pure functions; safe from any thread (the IntrinsicEnv callbacks aside).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.h"
#include "pipeline/asl/errors.h"
#include "pipeline/asl/intrinsics.h"

namespace sagebox::pipeline::asl {

// Static check of a template: every "key.$" has a string value that parses as a path or an
// intrinsic call. BadInput naming `field` (e.g. "States.Foo.Parameters"), the JSON Pointer of
// the key and what was expected.
Status CheckPayloadTemplate(const nlohmann::json& tmpl, std::string_view field);

// Builds the payload. States.Runtime when a path matches nothing, worded as AWS does ("The
// JSONPath '$.x' specified for the field 'y.$' could not be found in the input '...'"), or when
// a "key.$" value is not a string; intrinsic failures as EvaluateIntrinsic.
AslOr<nlohmann::json> ApplyPayloadTemplate(const nlohmann::json& tmpl, const nlohmann::json& input,
                                           const nlohmann::json& context, const IntrinsicEnv& env);

// 256 KiB: "the maximum input or output size for a task, activity or state is 256 KiB of data
// as a UTF-8 encoded string" (Step Functions service quotas,
// https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html).
inline constexpr size_t kMaxPayloadBytes = 256 * 1024;

// UTF-8 bytes of the compact serialization (invalid UTF-8 in strings counted as U+FFFD).
size_t PayloadBytes(const nlohmann::json& value);

// The size in bytes when it is within `limit`; States.DataLimitExceeded naming `what` (e.g.
// "the output of state 'Train'"), the size and the limit otherwise.
AslOr<size_t> CheckPayloadSize(const nlohmann::json& value, std::string_view what,
                               size_t limit = kMaxPayloadBytes);

}  // namespace sagebox::pipeline::asl
