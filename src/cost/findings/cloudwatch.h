// cloudwatch.h: CloudWatch metric series as `cost findings --metrics` reads
// them (spec/cost.md "CloudWatch metrics"): JSON Lines, one series per line,
//   {"namespace": "/aws/sagemaker/ProcessingJobs", "metric": "CPUUtilization",
//    "dimensions": {"Host": "features-daily-001/algo-1"}, "statistic": "Maximum",
//    "period": 60, "unit": "Percent",
//    "timestamps": ["2024-01-02T02:05:00Z", ...], "values": [312.5, ...]}
// docs/findings-inputs.md shows the `aws cloudwatch get-metric-data | jq`
// line that writes it. Pretty-printed series, a JSON array of series, and
// epoch-second timestamps are accepted too.
//
// Facts the rules rely on (AWS "Monitor Amazon SageMaker with CloudWatch"):
// CPUUtilization of jobs and endpoints is summed over cores (100 per vCPU),
// GPUUtilization/GPUMemoryUtilization over GPUs; Memory/DiskUtilization are
// 0-100. Job series carry a Host dimension "<job>/algo-<n>".
//
// Thread-safety: pure functions over values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "core/time.h"

namespace sagebox::findings {

struct MetricSeries {
  std::string ns, metric, statistic, unit;  // statistic/unit "" when not given
  std::map<std::string, std::string> dimensions;
  int period = 60;  // seconds
  // Ascending by time (get-metric-data returns newest first by default);
  // points whose value was null are dropped with their timestamp.
  std::vector<UnixSeconds> timestamps;
  std::vector<double> values;

  // The dimension's value, "" if absent.
  std::string Dimension(std::string_view name) const;
};

// Parses every series of `text` and appends them to *out. "namespace" and
// "metric" are required strings, "timestamps" and "values" required arrays
// of equal length (ISO 8601 strings or epoch seconds; finite numbers or
// null), "period" a positive integer (default 60), "dimensions" an object
// of strings. Anything else is BadInput "label:line:col: expected ..."
// naming the field; on error *out keeps the series before the bad one.
Status ParseMetricSeries(std::string_view text, std::string_view label,
                         std::vector<MetricSeries>* out);
// Reads `path` through env and parses it; IoError/NotFound from env, else as above.
Status LoadMetricSeries(Env* env, const std::string& path, std::vector<MetricSeries>* out);

// A training or processing job's Host dimension:
// "features-daily-001/algo-1" -> {"features-daily-001", 1}. nullopt unless
// it is a non-empty job name, "/algo-" and a positive host number.
struct HostRef {
  std::string job;
  int host = 0;
};
std::optional<HostRef> ParseHost(std::string_view host);

}  // namespace sagebox::findings
