// idle-endpoint: a real-time endpoint billed all day with zero Invocations
// (CloudWatch AWS/SageMaker) for >= idle_days consecutive days.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/strings.h"
#include "cost/findings/rules.h"

namespace sagebox::findings {

namespace {

struct Invocations {
  std::map<Days, double> by_day;  // days with data points
  bool found = false;
};

}  // namespace

Status EndpointRules(const RuleContext& ctx, std::vector<Finding>* out) {
  // The window the metrics file covers, from every Invocations series in it:
  // SageMaker publishes no data point for a minute without traffic, so an
  // idle endpoint's series is empty and cannot tell its own coverage.
  UnixSeconds cover_from = INT64_MAX, cover_to = INT64_MIN;
  std::map<std::string, Invocations> inv;  // lower-cased endpoint name
  for (const MetricSeries& m : ctx.metrics) {
    auto it = m.dimensions.find("EndpointName");
    if (it == m.dimensions.end()) continue;
    // Any endpoint series (CPUUtilization is published every minute) tells
    // the window the file covers.
    for (UnixSeconds t : m.timestamps) {
      cover_from = std::min(cover_from, t);
      cover_to = std::max<UnixSeconds>(cover_to, t + std::max(m.period, 1));
    }
    if (m.metric != "Invocations") continue;
    Invocations& e = inv[AsciiLower(it->second)];
    e.found = true;
    for (size_t i = 0; i < m.timestamps.size() && i < m.values.size(); ++i) {
      e.by_day[DayOf(m.timestamps[i])] += m.values[i];
    }
  }
  int unmeasured = 0;
  for (const ResourceUsage& r : ctx.usage.resources) {
    if (r.parsed.kind != "Host" || !r.is_instance()) continue;
    size_t p = r.resource_id.find(":endpoint/");
    if (p == std::string::npos) continue;
    const std::string name = r.resource_id.substr(p + 10);
    auto it = inv.find(AsciiLower(name));
    if (it == inv.end() || cover_from > cover_to) {
      ++unmeasured;
      continue;
    }
    const Decimal full = FromDouble(ctx.cfg.full_day_hours - 0.01);
    // Longest run of consecutive days billed all day, covered by the
    // metrics and without a single invocation.
    Days run_first = 0, best_first = 0, best_last = -1, prev = -2;
    int run = 0, best = 0;
    Decimal run_hours, best_hours;
    for (const auto& [day, u] : r.days) {
      // Whole days inside the metrics window only: a partly covered day
      // could have had traffic outside it.
      const bool covered = static_cast<UnixSeconds>(day) * 86400 >= cover_from &&
                           static_cast<UnixSeconds>(day + 1) * 86400 <= cover_to;
      auto d = it->second.by_day.find(day);
      const bool idle =
          covered && u.hours >= full && (d == it->second.by_day.end() || d->second == 0);
      if (idle) {
        if (day == prev + 1 && run > 0) {
          ++run;
          run_hours += u.hours;
        } else {
          run = 1;
          run_first = day;
          run_hours = u.hours;
        }
        if (run >= best) {
          best = run;
          best_first = run_first;
          best_last = day;
          best_hours = run_hours;
        }
      } else {
        run = 0;
      }
      prev = day;
    }
    if (best < ctx.cfg.idle_days) continue;
    if (StoppedSince(ctx, r)) continue;  // deleted already: nothing to save
    Finding f;
    f.kind = "idle-endpoint";
    f.resource_id = r.resource_id;
    f.id = StableId(f.kind, f.resource_id);
    f.account_id = r.account_id;
    f.region = r.region;
    f.usage_type = r.usage_type;
    f.instance_type = r.parsed.instance_type;
    const Decimal per_day = Decimal::Div(best_hours, Decimal::FromInt(best));
    f.evidence = {{"idle_from", FormatDate(best_first)},
                  {"idle_to", FormatDate(best_last)},
                  {"idle_days", best},
                  {"invocations_in_window", 0},
                  {"instance_hours_per_day", per_day.ToString()},
                  {"metrics_cover", {FormatTimestamp(cover_from), FormatTimestamp(cover_to)}},
                  {"total_cost", r.TotalCost().ToString()},
                  {"daily", DailySeries(r)}};
    if (auto rate = RateOf(ctx, r)) {
      f.evidence["rate_usd_per_hour"] = rate->usd_per_hour.ToString();
      f.evidence["rate_source"] = rate->source;
      f.monthly_savings = Decimal::Mul(rate->usd_per_hour, MonthlyHoursAt(per_day));
    } else {
      f.evidence["unmeasured"] = {"rate"};
    }
    f.action = {{"type", "delete"},
                {"commands",
                 {"aws sagemaker describe-endpoint --endpoint-name " + name +
                      "  # note the EndpointConfigName to redeploy later",
                  "aws sagemaker delete-endpoint --endpoint-name " + name}},
                {"alternatives",
                 "If it must stay reachable, use serverless inference or scale the variant "
                 "to zero with asynchronous inference."}};
    f.recommendation = fmt::format(
        "Endpoint {} was billed every hour but served no requests for {} days ({} to {}): "
        "delete it (keep its endpoint config to redeploy) or move it to serverless inference.",
        name, best, FormatDate(best_first), FormatDate(best_last));
    const Days last_day = DayOf(ctx.usage.data_end - 1);
    f.confidence = best_last >= last_day - 1 ? Confidence::kHigh : Confidence::kMedium;
    out->push_back(std::move(f));
  }
  if (unmeasured > 0) {
    ctx.notes->push_back(fmt::format(
        "idle-endpoint: {} endpoint(s) not judged: no Invocations series for them in --metrics",
        unmeasured));
  }
  return Status::Ok();
}

}  // namespace sagebox::findings
