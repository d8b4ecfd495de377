// demo_inputs.h: auxiliary inputs that match a demo bill.
//
// `sagebox demo` generates billing exports (cost/demo_gen.h); the findings
// that need more than the bill also need SageMaker job descriptions,
// CloudWatch metrics and logs. This writes them, in the AWS CLI's own
// shapes, for the jobs and endpoints the demo bill contains, with waste
// planted the way the articles describe it and healthy resources beside it:
//   features-daily-*   low CPU and memory (oversized), 35% of each run
//                      outside the script (I/O overhead), one Athena input
//                      whose copy is left in S3;
//   churn-xgb-*        busy, but every third run fails;
//   resnet-finetune-*  busy GPU (healthy);
//   dw-flow-weekly-*   Data Wrangler job using 85% of its memory (healthy);
//   idle-endpoint*     no invocations; churn-endpoint* serves traffic.
// Only the jobs and endpoints of the first account and region get inputs,
// as one team exporting from its own account and region would have. Deterministic: the same store
// gives the same files.
//
// Thread-safety: reentrant.
#pragma once

#include <string>

#include "core/env.h"
#include "core/status.h"
#include "cost/findings/resource_usage.h"

namespace sagebox::findings {

struct DemoInputFiles {
  std::string jobs, metrics, logs;  // paths written
};

// Writes jobs.jsonl (describe-processing-job / describe-training-job),
// metrics.jsonl (CloudWatch JSON Lines) and logs.json (filter-log-events)
// into `dir`. IoError if a file cannot be written.
StatusOr<DemoInputFiles> WriteDemoInputs(Env* env, const UsageFacts& usage, const std::string& dir);

}  // namespace sagebox::findings
