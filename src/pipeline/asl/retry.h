// retry.h: a Retrier's policy and the wait before each retry, as "Handling errors in Step
// Functions workflows"
// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html, "Retrying
// after an error") defines them.
//
// The wait before retry n (n = 1 for the first retry) is IntervalSeconds × BackoffRate^(n-1),
// capped at MaxDelaySeconds when set; with JitterStrategy FULL it is a uniform random value in
// [0, that wait]. MaxAttempts (default 3) counts retries, and 0 means never retry.
//
// Thread-safety: values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::asl {

struct RetryPolicy {
  enum class Jitter { kNone, kFull };
  std::vector<std::string> error_equals;
  double interval_seconds = 1;              // IntervalSeconds
  int64_t max_attempts = 3;                 // MaxAttempts
  double backoff_rate = 2.0;                // BackoffRate
  std::optional<double> max_delay_seconds;  // MaxDelaySeconds
  Jitter jitter = Jitter::kNone;            // JitterStrategy
};

// Reads one Retrier object with AWS's defaults for absent fields. BadInput naming `where` and
// the field for a wrong type or a value AWS rejects (IntervalSeconds < 1, MaxAttempts < 0,
// BackoffRate < 1.0, MaxDelaySeconds < 1, JitterStrategy other than FULL or NONE).
StatusOr<RetryPolicy> ParseRetryPolicy(const nlohmann::json& retrier, const std::string& where);

// True when `retries_done` retries have used up the policy (no further retry).
bool RetriesExhausted(const RetryPolicy& policy, int64_t retries_done);

// Seconds to wait before retry `attempt` (1-based). `uniform01` gives a value in [0, 1] for
// FULL jitter; empty uses std::random_device. Never negative.
double RetryDelaySeconds(const RetryPolicy& policy, int64_t attempt,
                         const std::function<double()>& uniform01 = {});

}  // namespace sagebox::pipeline::asl
