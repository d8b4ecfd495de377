// rules.h: the findings rules, one function per family of kinds.
//
// Each rule reads the evidence it needs from a RuleContext and appends
// Findings. A rule that lacks an input (no CloudWatch metrics, no job
// descriptions) adds a note saying what it could not judge instead of
// guessing; it never flags a resource it has not measured.
//
// Kinds and default rules are those of spec/cost.md; thresholds come from
// FindingsConfig. Savings are monthly (730 hours) at the rate the bill
// charged for the resource, else the catalog's on-demand price (the
// evidence names which).
//
// Thread-safety: rules only read the context; each call appends to its own
// output vector.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "cost/findings/cloudwatch.h"
#include "cost/findings/config.h"
#include "cost/findings/cw_logs.h"
#include "cost/findings/finding.h"
#include "cost/findings/resource_usage.h"
#include "cost/findings/sagemaker_meta.h"
#include "store/store.h"

namespace sagebox::findings {

struct RuleContext {
  const FindingsConfig& cfg;
  const UsageFacts& usage;
  const catalog::Catalog& catalog;
  const SageMakerMeta& meta;                 // empty when no --jobs given
  const std::vector<MetricSeries>& metrics;  // empty when no --metrics given
  const std::vector<LogEvent>& logs;         // empty when no --logs given
  std::vector<std::string>* notes;           // what could not be judged, and why
};

// notebook-always-on, studio-app-always-on, data-wrangler-app-always-on,
// gpu-notebook, stopped-notebook-storage.
Status NotebookRules(const RuleContext& ctx, std::vector<Finding>* out);
// idle-endpoint.
Status EndpointRules(const RuleContext& ctx, std::vector<Finding>* out);
// oversized-job, processing-io-overhead, failed-jobs,
// data-wrangler-job-sizing, leftover-dataset-copies.
Status JobRules(const RuleContext& ctx, std::vector<Finding>* out);
// untagged-spend.
Status AccountRules(const RuleContext& ctx, std::vector<Finding>* out);
// savings-plan-opportunity (the figure is plan::RecommendSavingsPlan's).
Status SavingsPlanRule(const RuleContext& ctx, const store::Store& st, std::vector<Finding>* out);

// --- shared by the rules (rules_common.cc) ---

struct Rate {
  Decimal usd_per_hour;
  std::string source;  // "bill", "bill x catalog ratio", "catalog (<source>)"
};
// What one hour of `r` costs: the billed rate, else the catalog price of its
// instance type in its region. nullopt when neither is known.
std::optional<Rate> RateOf(const RuleContext& ctx, const ResourceUsage& r);
// The catalog's on-demand price of `instance_type` in `region` (else its
// us-east-1 price), with the source named; nullopt when the catalog has none.
std::optional<Rate> CatalogRate(const RuleContext& ctx, const std::string& instance_type,
                                const std::string& region);
// What one hour of `instance_type` would cost for the same kind of usage in
// the same region: a rate billed for it elsewhere in the bill, else the
// current billed rate scaled by the catalog's price ratio, else the catalog.
std::optional<Rate> TargetRate(const RuleContext& ctx, const ResourceUsage& current,
                               const std::string& instance_type);
// The recurring-job family of a job name: trailing run numbers, dates and
// hex ids removed ("features-daily-001" -> "features-daily").
std::string JobFamily(std::string_view name);
// "m5" from "ml.m5.4xlarge".
std::string FamilyOf(std::string_view instance_type);
// Monthly hours at the given average hours per day (730 h months).
Decimal MonthlyHoursAt(Decimal hours_per_day);
// The resource name after the last '/' of an ARN ("dev-notebook").
std::string NameFromArn(std::string_view arn);
// Decimal from a double, rounded to 10 places (for percentages and shares
// that scale exact amounts).
Decimal FromDouble(double v);
// The first day `r` was no longer billed, when it has stopped before the data
// ends; nullopt while it still runs. "Stopped" means its trailing gap (days from
// its last billed day to the last day of the data) is longer than every gap it
// had while in use, and longer than two days: a weekday-only notebook seen on a
// Sunday still runs, and CUR rows of the export's last day can arrive a day
// late. A rule that prices keeping a resource running must not claim savings
// for one that has already stopped: that saving has happened.
std::optional<Days> StoppedSince(const RuleContext& ctx, const ResourceUsage& r);
// Evidence "daily" series of a resource (see finding.h).
nlohmann::json DailySeries(const ResourceUsage& r);

}  // namespace sagebox::findings
