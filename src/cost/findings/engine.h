// engine.h: `sagebox cost findings` as a library call.
//
// Loads nothing itself: the caller (CLI, HTTP server) opens the store and
// parses the auxiliary inputs, then RunFindings collects the bill's
// evidence once, runs every rule and ranks the findings by monthly savings.
//
// Thread-safety: reentrant; inputs are only read.
#pragma once

#include <vector>

#include "catalog/catalog.h"
#include "core/env.h"
#include "core/status.h"
#include "cost/findings/cloudwatch.h"
#include "cost/findings/config.h"
#include "cost/findings/cw_logs.h"
#include "cost/findings/finding.h"
#include "cost/findings/sagemaker_meta.h"
#include "store/store.h"

namespace sagebox::findings {

struct FindingsInputs {
  const catalog::Catalog* catalog = nullptr;  // required
  SageMakerMeta meta;
  std::vector<MetricSeries> metrics;
  std::vector<LogEvent> logs;
};

// The files a user names with --jobs, --metrics, --logs and --catalog.
struct FindingsInputFiles {
  std::vector<std::string> jobs, metrics, logs;
  std::string catalog;  // overrides merged into the built-in catalog; "" = none
};

// Loads the built-in catalog (merged with files.catalog) into *catalog and
// every file into *in, with in->catalog = catalog (which must outlive *in).
// BadInput naming file:line:col for a malformed file; IoError/NotFound from
// the file system.
Status LoadFindingsInputs(Env* env, const FindingsInputFiles& files, catalog::Catalog* catalog,
                          FindingsInputs* in);

// NotFound when the store has no billing data in the range; InvalidArgument
// for a bad configuration (unknown timezone, empty schedule); Corruption
// from damaged segments.
StatusOr<FindingsReport> RunFindings(const store::Store& st, const FindingsInputs& in,
                                     const FindingsConfig& cfg);

}  // namespace sagebox::findings
