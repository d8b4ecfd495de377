#include "pipeline/asl/errors.h"

#include <algorithm>

namespace sagebox::pipeline::asl {

const std::vector<std::string_view>& AllStatesErrorNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> v = {kStatesAll,
                                       kStatesBranchFailed,
                                       kStatesDataLimitExceeded,
                                       kStatesExceedToleratedFailureThreshold,
                                       kStatesHeartbeatTimeout,
                                       kStatesHttpSocket,
                                       kStatesIntrinsicFailure,
                                       kStatesItemReaderFailed,
                                       kStatesNoChoiceMatched,
                                       kStatesParameterPathFailure,
                                       kStatesPermissions,
                                       kStatesQueryEvaluationError,
                                       kStatesReferencePathConflict,
                                       kStatesResultPathMatchFailure,
                                       kStatesResultWriterFailed,
                                       kStatesRuntime,
                                       kStatesTaskFailed,
                                       kStatesTimeout};
    std::sort(v.begin(), v.end());
    return v;
  }();
  return kNames;
}

bool IsPredefinedErrorName(std::string_view name) {
  const auto& names = AllStatesErrorNames();
  return std::binary_search(names.begin(), names.end(), name);
}

Status AslError::ToStatus() const { return BadInput(error + ": " + cause); }

namespace {
// Terminal errors: no wildcard catches them (concepts-error-handling: "States.ALL ... can't
// catch the States.DataLimitExceeded terminal error or the Runtime error types").
bool IsTerminal(std::string_view error) {
  return error == kStatesRuntime || error == kStatesDataLimitExceeded;
}
}  // namespace

bool ErrorNameMatches(std::string_view pattern, std::string_view error) {
  if (pattern == error) return true;
  if (pattern == kStatesAll) return !IsTerminal(error);
  if (pattern == kStatesTaskFailed) return error != kStatesTimeout && !IsTerminal(error);
  return false;
}

bool ErrorEqualsMatches(const std::vector<std::string>& error_equals, std::string_view error) {
  return std::any_of(error_equals.begin(), error_equals.end(),
                     [&](const std::string& p) { return ErrorNameMatches(p, error); });
}

}  // namespace sagebox::pipeline::asl
