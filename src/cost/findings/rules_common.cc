// Shared helpers of the findings rules (declared in rules.h).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "cost/findings/rules.h"

namespace sagebox::findings {

std::string FamilyOf(std::string_view t) {
  if (t.substr(0, 3) == "ml.") t.remove_prefix(3);
  return std::string(t.substr(0, t.find('.')));
}

Decimal MonthlyHoursAt(Decimal hours_per_day) {
  return Decimal::Div(hours_per_day * 730, Decimal::FromInt(24));
}

std::optional<Days> StoppedSince(const RuleContext& ctx, const ResourceUsage& r) {
  Days prev = 0, last = 0;
  int64_t longest_gap = 0;
  bool any = false;
  for (const auto& [day, u] : r.days) {
    if (u.hours.is_zero() && u.usage.is_zero()) continue;
    if (any) longest_gap = std::max<int64_t>(longest_gap, day - prev);
    prev = last = day;
    any = true;
  }
  if (!any) return std::nullopt;
  const int64_t trailing = DayOf(ctx.usage.data_end - 1) - last;
  if (trailing <= 2 || trailing <= longest_gap) return std::nullopt;
  return last + 1;
}

std::string NameFromArn(std::string_view arn) {
  size_t p = arn.rfind('/');
  return std::string(p == std::string_view::npos ? arn : arn.substr(p + 1));
}

Decimal FromDouble(double v) {
  if (!std::isfinite(v)) return Decimal();
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%.10f", v);
  Decimal d;
  Decimal::Parse(buf, &d);
  return d;
}

nlohmann::json DailySeries(const ResourceUsage& r) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [day, u] : r.days) {
    a.push_back(
        {{"date", FormatDate(day)}, {"hours", u.hours.ToString()}, {"cost", u.cost.ToString()}});
  }
  return a;
}

std::optional<Rate> CatalogRate(const RuleContext& ctx, const std::string& instance_type,
                                const std::string& region) {
  auto q = ctx.catalog.OnDemandPrice(instance_type, region);
  if (!q) return std::nullopt;
  return Rate{q->usd_per_hour, fmt::format("catalog ({}, {})", q->source, q->region)};
}

std::optional<Rate> RateOf(const RuleContext& ctx, const ResourceUsage& r) {
  if (auto b = r.BilledRate()) return Rate{*b, "bill"};
  if (r.parsed.instance_type.empty()) return std::nullopt;
  return CatalogRate(ctx, r.parsed.instance_type, r.region);
}

std::optional<Rate> TargetRate(const RuleContext& ctx, const ResourceUsage& current,
                               const std::string& instance_type) {
  if (auto b = ctx.usage.BilledRateFor(current.parsed.kind, current.region, instance_type)) {
    return Rate{*b, "bill"};
  }
  auto cur_cat = ctx.catalog.OnDemandPrice(current.parsed.instance_type, current.region);
  auto tgt_cat = ctx.catalog.OnDemandPrice(instance_type, current.region);
  if (!tgt_cat) {
    // SageMaker on-demand prices are linear in size within a family
    // (ml.c5.xlarge 0.204, 2xlarge 0.408, 4xlarge 0.816 in us-east-1), so a
    // known rate of the same family scales by vCPUs.
    const catalog::InstanceSpec* cs = ctx.catalog.Find(current.parsed.instance_type);
    const catalog::InstanceSpec* ts = ctx.catalog.Find(instance_type);
    auto base = RateOf(ctx, current);
    if (cs && ts && base && cs->family == ts->family && cs->vcpu > 0) {
      return Rate{Decimal::Div(base->usd_per_hour * ts->vcpu, Decimal::FromInt(cs->vcpu)),
                  base->source + ", scaled by vCPUs within the family"};
    }
    return std::nullopt;
  }
  if (auto b = current.BilledRate(); b && cur_cat && !cur_cat->usd_per_hour.is_zero()) {
    // Same discount or regional premium as the billed rate of the current
    // instance: bill * target/current from one catalog region.
    return Rate{Decimal::Div(Decimal::Mul(*b, tgt_cat->usd_per_hour), cur_cat->usd_per_hour),
                "bill x catalog ratio"};
  }
  return CatalogRate(ctx, instance_type, current.region);
}

}  // namespace sagebox::findings
