// errors.h: Amazon States Language run-time errors, their names, and ErrorEquals matching.
//
// Every run-time function of the ASL layer (paths, payload templates, intrinsic functions,
// Choice rules, payload size) fails with an AslError, an ASL error name such as
// "States.Runtime" plus a human-readable cause, so that the interpreter can route it to a
// state's Retry and Catch exactly as Step Functions does. Static checks (does this path or
// intrinsic parse?) return a plain sagebox::Status instead: they run before any execution.
//
// Thread-safety: values and pure functions; safe from any thread.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::asl {

// The predefined error names. Source: "Handling errors in Step Functions workflows"
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html) and
// Appendix A of the States Language spec (https://states-language.net/spec.html#appendix-a).
inline constexpr std::string_view kStatesAll = "States.ALL";
inline constexpr std::string_view kStatesBranchFailed = "States.BranchFailed";
inline constexpr std::string_view kStatesDataLimitExceeded = "States.DataLimitExceeded";
inline constexpr std::string_view kStatesExceedToleratedFailureThreshold =
    "States.ExceedToleratedFailureThreshold";
inline constexpr std::string_view kStatesHeartbeatTimeout = "States.HeartbeatTimeout";
inline constexpr std::string_view kStatesHttpSocket = "States.Http.Socket";
inline constexpr std::string_view kStatesIntrinsicFailure = "States.IntrinsicFailure";
inline constexpr std::string_view kStatesItemReaderFailed = "States.ItemReaderFailed";
inline constexpr std::string_view kStatesNoChoiceMatched = "States.NoChoiceMatched";
inline constexpr std::string_view kStatesParameterPathFailure = "States.ParameterPathFailure";
inline constexpr std::string_view kStatesPermissions = "States.Permissions";
inline constexpr std::string_view kStatesQueryEvaluationError = "States.QueryEvaluationError";
inline constexpr std::string_view kStatesReferencePathConflict = "States.ReferencePathConflict";
inline constexpr std::string_view kStatesResultPathMatchFailure = "States.ResultPathMatchFailure";
inline constexpr std::string_view kStatesResultWriterFailed = "States.ResultWriterFailed";
inline constexpr std::string_view kStatesRuntime = "States.Runtime";
inline constexpr std::string_view kStatesTaskFailed = "States.TaskFailed";
inline constexpr std::string_view kStatesTimeout = "States.Timeout";

// Every name above, in alphabetical order.
const std::vector<std::string_view>& AllStatesErrorNames();
// True for a name in AllStatesErrorNames().
bool IsPredefinedErrorName(std::string_view name);

// An ASL error: what a Catcher's Error Output carries as "Error" and "Cause".
struct AslError {
  std::string error;  // e.g. "States.Runtime", or a task's own name ("java.lang.Exception")
  std::string cause;  // human readable; names the path, field or function at fault

  // The Error Output object a Catcher passes on: {"Error": ..., "Cause": ...}, as JSON text
  // built by the caller; here only the Status form for logs and the CLI (kBadInput, message
  // "<error>: <cause>").
  Status ToStatus() const;
  bool operator==(const AslError&) const = default;
};

inline AslError RuntimeError(std::string cause) {
  return {std::string(kStatesRuntime), std::move(cause)};
}
inline AslError IntrinsicFailure(std::string cause) {
  return {std::string(kStatesIntrinsicFailure), std::move(cause)};
}

// A value or the AslError explaining why there is none (StatusOr's shape, with an ASL
// error in place of a Status, so the interpreter can match it against ErrorEquals).
template <typename T>
class [[nodiscard]] AslOr {
 public:
  AslOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  AslOr(AslError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; only when !ok().
  const AslError& error() const {
    assert(!ok());
    return std::get<AslError>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, AslError> v_;
};

// Does one ErrorEquals entry match the reported error name? Rules (concepts-error-handling
// page above):
//  - "States.ALL" matches every name except the terminal States.Runtime and
//    States.DataLimitExceeded, which "States.ALL cannot catch";
//  - "States.TaskFailed" is a wildcard for every name except States.Timeout (and, being a
//    wildcard too, not the two terminal errors either);
//  - anything else matches only the identical, case-sensitive name.
bool ErrorNameMatches(std::string_view pattern, std::string_view error);
// True when any entry of an ErrorEquals array matches.
bool ErrorEqualsMatches(const std::vector<std::string>& error_equals, std::string_view error);

}  // namespace sagebox::pipeline::asl

// `ASL_ASSIGN_OR_RETURN(auto x, Foo());` binds the value or returns the AslError.
#define ASL_ASSIGN_OR_RETURN(lhs, expr) \
  ASL_ASSIGN_OR_RETURN_IMPL(SAGEBOX_CONCAT(sagebox_asl_or_, __LINE__), lhs, expr)
#define ASL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
