#include "pipeline/asl/retry.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "fmt/format.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

StatusOr<RetryPolicy> ParseRetryPolicy(const json& retrier, const std::string& where) {
  if (!retrier.is_object()) return BadInput(where + ": a Retrier must be an object");
  RetryPolicy p;
  auto number = [&](const char* field, double min, double* out) -> Status {
    const auto it = retrier.find(field);
    if (it == retrier.end()) return Status::Ok();
    if (!it->is_number() || it->get<double>() < min) {
      return BadInput(
          fmt::format("{}: {} must be a number >= {}, got {}", where, field, min, it->dump()));
    }
    *out = it->get<double>();
    return Status::Ok();
  };
  if (const auto it = retrier.find("ErrorEquals"); it != retrier.end()) {
    if (!it->is_array()) return BadInput(where + ": ErrorEquals must be an array of strings");
    for (const json& e : *it) {
      if (!e.is_string()) return BadInput(where + ": ErrorEquals must be an array of strings");
      p.error_equals.push_back(e.get<std::string>());
    }
  }
  RETURN_IF_ERROR(number("IntervalSeconds", 1, &p.interval_seconds));
  RETURN_IF_ERROR(number("BackoffRate", 1.0, &p.backoff_rate));
  if (const auto it = retrier.find("MaxAttempts"); it != retrier.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return BadInput(
          fmt::format("{}: MaxAttempts must be an integer >= 0, got {}", where, it->dump()));
    }
    p.max_attempts = it->get<int64_t>();
  }
  if (retrier.contains("MaxDelaySeconds")) {
    double d = 0;
    RETURN_IF_ERROR(number("MaxDelaySeconds", 1, &d));
    p.max_delay_seconds = d;
  }
  if (const auto it = retrier.find("JitterStrategy"); it != retrier.end()) {
    if (*it == "FULL") {
      p.jitter = RetryPolicy::Jitter::kFull;
    } else if (*it != "NONE") {
      return BadInput(fmt::format("{}: JitterStrategy must be \"FULL\" or \"NONE\", got {}", where,
                                  it->dump()));
    }
  }
  return p;
}

bool RetriesExhausted(const RetryPolicy& policy, int64_t retries_done) {
  return retries_done >= policy.max_attempts;
}

double RetryDelaySeconds(const RetryPolicy& policy, int64_t attempt,
                         const std::function<double()>& uniform01) {
  const double exponent = static_cast<double>(std::max<int64_t>(attempt, 1) - 1);
  double delay = policy.interval_seconds * std::pow(policy.backoff_rate, exponent);
  if (!std::isfinite(delay)) delay = policy.max_delay_seconds.value_or(1e18);
  if (policy.max_delay_seconds) delay = std::min(delay, *policy.max_delay_seconds);
  if (policy.jitter == RetryPolicy::Jitter::kFull) {
    double u = 0;
    if (uniform01) {
      u = uniform01();
    } else {
      static thread_local std::mt19937_64 gen{std::random_device{}()};
      u = std::uniform_real_distribution<double>(0.0, 1.0)(gen);
    }
    delay *= std::clamp(u, 0.0, 1.0);
  }
  return std::max(delay, 0.0);
}

}  // namespace sagebox::pipeline::asl
