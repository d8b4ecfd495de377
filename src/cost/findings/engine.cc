#include "cost/findings/engine.h"

#include "cost/findings/resource_usage.h"
#include "cost/findings/rules.h"

namespace sagebox::findings {

Status LoadFindingsInputs(Env* env, const FindingsInputFiles& files, catalog::Catalog* catalog,
                          FindingsInputs* in) {
  ASSIGN_OR_RETURN(*catalog, catalog::Catalog::Builtin());
  if (!files.catalog.empty()) RETURN_IF_ERROR(catalog->MergeFile(env, files.catalog));
  in->catalog = catalog;
  for (const auto& p : files.jobs) RETURN_IF_ERROR(LoadSageMakerMeta(env, p, &in->meta));
  for (const auto& p : files.metrics) RETURN_IF_ERROR(LoadMetricSeries(env, p, &in->metrics));
  for (const auto& p : files.logs) RETURN_IF_ERROR(LoadLogEvents(env, p, &in->logs));
  return Status::Ok();
}

StatusOr<FindingsReport> RunFindings(const store::Store& st, const FindingsInputs& in,
                                     const FindingsConfig& cfg) {
  if (in.catalog == nullptr) return InvalidArgument("RunFindings needs a catalog");
  if (cfg.schedule.weekdays.empty() || cfg.schedule.start_hour < 0 || cfg.schedule.end_hour > 24 ||
      cfg.schedule.start_hour >= cfg.schedule.end_hour) {
    return InvalidArgument("the schedule needs weekdays and start < end hours within 0..24");
  }
  if (cfg.from != 0 && cfg.to != 0 && cfg.from >= cfg.to) {
    return InvalidArgument("--from must be before --to (--to is exclusive)");
  }
  CollectOptions co;
  co.from = cfg.from;
  co.to = cfg.to;
  co.required_tags = cfg.required_tags;
  ASSIGN_OR_RETURN(UsageFacts usage, CollectUsage(st, co));
  FindingsReport report;
  report.start = DayOf(usage.data_start);
  report.end = DayOf(usage.data_end - 1) + 1;
  report.daily_cost = usage.daily_cost;
  RuleContext ctx{cfg, usage, *in.catalog, in.meta, in.metrics, in.logs, &report.notes};
  if (in.metrics.empty()) {
    report.notes.emplace_back(
        "oversized-job, idle-endpoint, data-wrangler-job-sizing: not judged: no CloudWatch "
        "metrics (--metrics)");
  }
  RETURN_IF_ERROR(NotebookRules(ctx, &report.findings));
  if (!in.metrics.empty()) RETURN_IF_ERROR(EndpointRules(ctx, &report.findings));
  RETURN_IF_ERROR(JobRules(ctx, &report.findings));
  RETURN_IF_ERROR(AccountRules(ctx, &report.findings));
  RETURN_IF_ERROR(SavingsPlanRule(ctx, st, &report.findings));
  RankBySavings(&report.findings);
  return report;
}

}  // namespace sagebox::findings
