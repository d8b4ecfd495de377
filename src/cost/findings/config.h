// config.h: every threshold the findings rules use, with the defaults of
// spec/cost.md. The CLI sets them from flags or a config file (same names);
// the HTTP API will set them from request fields.
//
// Thread-safety: a value type.
#pragma once

#include <string>
#include <vector>

#include "core/time.h"

namespace sagebox::findings {

// A working-hours schedule: resources run on `weekdays` from start_hour to
// end_hour local time in `timezone` (IANA name), and are stopped otherwise.
struct Schedule {
  std::string timezone = "UTC";
  int start_hour = 8;                        // local, inclusive
  int end_hour = 18;                         // local, exclusive
  std::vector<int> weekdays{0, 1, 2, 3, 4};  // 0 = Monday
};

struct FindingsConfig {
  Days from = 0, to = 0;  // billing days examined; both 0 = all data

  // *-always-on: billed >= full_day_hours instance-hours on each of
  // >= min_streak_days consecutive days.
  double full_day_hours = 24;
  int min_streak_days = 3;
  // gpu-notebook: >= gpu_hours_per_day on more than gpu_days_share of the
  // days between first and last use.
  double gpu_hours_per_day = 8;
  double gpu_days_share = 0.5;
  int gpu_min_days = 3;  // and at least this many such days
  // stopped-notebook-storage: storage billed after >= stopped_days without
  // instance hours.
  int stopped_days = 14;
  // idle-endpoint: billed all day with zero Invocations for >= idle_days
  // consecutive days.
  int idle_days = 7;
  // oversized-job: peak CPU per vCPU and peak memory below this percent.
  double oversized_pct = 40;
  // Percentile of the per-minute Maximum statistic used as "peak" (100 =
  // the maximum, as the articles advise).
  double peak_percentile = 100;
  // A resize target must keep peak utilisation at or under this percent.
  double target_pct = 80;
  // With only one of CPU and memory under the threshold, a move to another
  // family is reported only when it saves at least this percent.
  double family_switch_min_savings_pct = 25;
  // processing-io-overhead: (job - script) / job at or above this percent.
  double io_overhead_pct = 20;
  std::string script_start_pattern = "Start custom script";
  std::string script_end_pattern = "End custom script";
  // failed-jobs: failed/stopped share of a job family's runs (percent) at
  // or above which local mode is recommended; a family is reported when it
  // has at least failed_min_jobs failed or stopped runs.
  double failed_share_pct = 20;
  int failed_min_jobs = 2;
  // data-wrangler-job-sizing.
  std::vector<std::string> dw_instances{"ml.m5.4xlarge", "ml.m5.12xlarge", "ml.m5.24xlarge"};
  double dw_headroom_pct = 20;
  int dw_max_instances = 20;
  // untagged-spend: tags a SageMaker line must carry (normalised keys, see
  // cost::NormalizeTagKey), and the untagged share that is reported.
  std::vector<std::string> required_tags{"team"};
  double untagged_pct = 10;
  // savings-plan-opportunity: the SageMaker Savings Plan recommendation of
  // `sagebox cost savings-plans recommend` with these options.
  std::string sp_term = "ONE_YEAR";         // or THREE_YEARS
  std::string sp_payment = "NO_UPFRONT";    // PARTIAL_UPFRONT, ALL_UPFRONT
  std::string sp_lookback = "THIRTY_DAYS";  // SEVEN_DAYS, SIXTY_DAYS
  // Recommendations.
  Schedule schedule;
  int idle_timeout_minutes = 60;  // auto-stop lifecycle configurations
};

}  // namespace sagebox::findings
