// intrinsics.h: the Amazon States Language intrinsic functions (States.Format, States.Array,
// States.Hash, ...), parsed once and evaluated against a state's input and context object.
//
// Source: "Intrinsic functions for JSONPath states in Step Functions"
// (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html) and Appendix B
// of https://states-language.net/spec.html. An invocation is a `.$` value such as
// "States.Format('Hello, {}', $.name)"; arguments are string literals in single quotes with the
// escapes \' \{ \} \\, numbers, true, false, null, paths ($ or $$) and nested calls (at most 10
// deep). Every failure at run time is States.IntrinsicFailure naming the function and argument,
// except a path argument that matches nothing, which is the path's own States.Runtime.
//
// Randomness (States.MathRandom without a seed, States.UUID) comes from an IntrinsicEnv so tests
// and replays are deterministic.
//
// Thread-safety: a parsed IntrinsicCall is immutable and shareable; evaluation is pure apart
// from the IntrinsicEnv callbacks, which must themselves be safe if shared between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/asl/errors.h"
#include "pipeline/asl/json_path.h"

namespace sagebox::pipeline::asl {

struct IntrinsicCall;

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct IntrinsicArg {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  nlohmann::json literal;  // kLiteral: the value (escapes resolved for strings)
  // kLiteral strings: the text between the quotes with escapes kept, so that States.Format can
  // tell a placeholder `{}` from an escaped `\{\}`.
  std::string raw;
  std::optional<JsonPath> path;               // kPath
  std::shared_ptr<const IntrinsicCall> call;  // kCall
};

struct IntrinsicCall {
  std::string name;  // "States.Format"
  std::vector<IntrinsicArg> args;
};

// Where randomness comes from. Empty functions use std::random_device.
struct IntrinsicEnv {
  std::function<uint64_t()> random;   // States.MathRandom without a seed
  std::function<std::string()> uuid;  // States.UUID
};

// The names of every intrinsic function AWS documents, sorted.
const std::vector<std::string_view>& IntrinsicFunctionNames();

// True when a `.$` value is an intrinsic invocation rather than a path (it starts "States.").
bool IsIntrinsicInvocation(std::string_view text);

// Syntax check and parse: the function must be one AWS documents, with an allowed number of
// arguments, nesting at most 10 deep. BadInput naming the text, the offset and what was
// expected (no input needed: the static validator calls this).
StatusOr<IntrinsicCall> ParseIntrinsic(std::string_view text);

// Evaluates a parsed call. States.IntrinsicFailure for a wrong argument type or value or one
// of AWS's documented limits (ArrayRange over 1000 items, Base64/Hash input over 10,000
// characters, ...); States.Runtime when a path argument matches nothing.
AslOr<nlohmann::json> EvaluateIntrinsic(const IntrinsicCall& call, const nlohmann::json& input,
                                        const nlohmann::json& context, const IntrinsicEnv& env);

// Parse and evaluate in one step; a parse failure becomes States.IntrinsicFailure.
AslOr<nlohmann::json> EvaluateIntrinsic(std::string_view text, const nlohmann::json& input,
                                        const nlohmann::json& context, const IntrinsicEnv& env);

}  // namespace sagebox::pipeline::asl
