#include "cost/plan/savings_plans.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "core/strings.h"
#include "core/table.h"
#include "cost/billing_table.h"
#include "cost/plan/sp_optimizer.h"
#include "cost/usage_type.h"

namespace sagebox::plan {

namespace col = cost::col;
using cost::Granularity;

namespace {

constexpr std::string_view kSageMaker = "AmazonSageMaker";

enum class Kind : uint8_t { kOther, kUsage, kCovered, kRecurringFee, kUpfrontFee };

Kind KindOf(std::string_view t) {
  if (t == "Usage") return Kind::kUsage;
  if (t == "SavingsPlanCoveredUsage") return Kind::kCovered;
  if (t == "SavingsPlanRecurringFee") return Kind::kRecurringFee;
  if (t == "SavingsPlanUpfrontFee") return Kind::kUpfrontFee;
  return Kind::kOther;
}

bool IsSageMakerPlanFee(std::string_view product, std::string_view usage_type) {
  return product == "MachineLearningSavingsPlans" ||
         AsciiLower(usage_type).rfind("machinelearningsp", 0) == 0;
}

// One Savings Plans-relevant billing row; views are valid during the callback.
struct Row {
  Kind kind = Kind::kOther;
  UnixSeconds t = 0, t_end = 0;  // usage start and end (end 0 if unknown)
  std::string_view product, usage_type, arn, payer;
  bool eligible = false;  // IsSageMakerSpEligible (Usage lines)
  // From a FOCUS export: no savingsPlan/* commitment columns. Its fee rows
  // are the recurring Purchase (BilledCost = fee) and, per hour, an "Unused"
  // row whose EffectiveCost is the unused commitment (billing_reader.h maps
  // both to SavingsPlanRecurringFee); used commitment is the EffectiveCost of
  // the covered ("Used") rows.
  bool focus = false;
  Decimal unblended, public_od, sp_effective, sp_total, sp_used, amortized;
  // What the usage would have cost on demand.
  Decimal OnDemand() const { return public_od.is_zero() ? unblended : public_od; }
};

// Calls f(row) for every row of kind != kOther whose usage starts in [t0, t1).
template <typename F>
Status ScanSp(const store::Store& st, UnixSeconds t0, UnixSeconds t1, F f) {
  std::vector<uint32_t> ctype, cprod, cut, carn, cpayer, cterm;
  std::vector<int64_t> times, ends;
  std::vector<int128> unb, pod, eff, tot, used, amort;
  for (const auto& info : st.segments()) {
    if (info.rows == 0) continue;
    UnixSeconds smin = info.meta.value("usage_start_min", INT64_MIN);
    UnixSeconds smax = info.meta.value("usage_start_max", INT64_MAX);
    if (smax < t0 || smin >= t1) continue;
    ASSIGN_OR_RETURN(auto seg, st.OpenSegment(info));
    const int ktype = seg->FindColumn(col::kLineItemType);
    const int kprod = seg->FindColumn(col::kService);
    const int kut = seg->FindColumn(col::kUsageType);
    const int karn = seg->FindColumn(col::kSpArn);
    const int kpayer = seg->FindColumn(col::kPayer);
    const int kterm = seg->FindColumn(col::kPricingTerm);
    const int ktime = seg->FindColumn(col::kUsageStart);
    const int kend = seg->FindColumn(col::kUsageEnd);
    if (ktype < 0 || ktime < 0) return Corruption(info.file + ": billing segment without types");
    const int kunb = seg->FindColumn(col::kUnblended);
    const int kpod = seg->FindColumn(col::kPublicOnDemand);
    const int keff = seg->FindColumn(col::kSpEffective);
    const int ktot = seg->FindColumn(col::kSpTotalCommitment);
    const int kused = seg->FindColumn(col::kSpUsedCommitment);
    const int kamort = seg->FindColumn(col::kAmortized);
    bool focus = false;
    if (auto fm = info.meta.find("formats"); fm != info.meta.end() && fm->is_array()) {
      for (const auto& x : *fm) focus |= x.is_string() && x.get<std::string>() == "focus";
    }

    // Decisions per dictionary entry, not per row.
    std::vector<Kind> kinds;
    kinds.reserve(seg->Dictionary(ktype).size());
    for (const auto& v : seg->Dictionary(ktype)) kinds.push_back(KindOf(v));
    static const std::vector<std::string> kNone{""};
    const auto& dprod = kprod >= 0 ? seg->Dictionary(kprod) : kNone;
    const auto& dut = kut >= 0 ? seg->Dictionary(kut) : kNone;
    const auto& darn = karn >= 0 ? seg->Dictionary(karn) : kNone;
    const auto& dpayer = kpayer >= 0 ? seg->Dictionary(kpayer) : kNone;
    const auto& dterm = kterm >= 0 ? seg->Dictionary(kterm) : kNone;
    std::vector<char> ut_ok;
    ut_ok.reserve(dut.size());
    for (const auto& v : dut) ut_ok.push_back(IsSageMakerSpEligible(kSageMaker, v, ""));
    std::vector<char> spot;
    spot.reserve(dterm.size());
    for (const auto& v : dterm) spot.push_back(EqualsIgnoreCase(v, "Spot"));

    auto read_codes = [&](size_t rg, int c, std::vector<uint32_t>* out, size_t n) -> Status {
      if (c < 0) {
        out->assign(n, 0);
        return Status::Ok();
      }
      return seg->ReadCodes(rg, c, out);
    };
    auto read_dec = [&](size_t rg, int c, std::vector<int128>* out, size_t n) -> Status {
      if (c < 0) {
        out->assign(n, 0);
        return Status::Ok();
      }
      return seg->ReadDecimal(rg, c, out);
    };
    for (size_t rg = 0; rg < seg->num_row_groups(); ++rg) {
      const size_t n = seg->row_group_rows(rg);
      RETURN_IF_ERROR(seg->ReadCodes(rg, ktype, &ctype));
      RETURN_IF_ERROR(seg->ReadInt64(rg, ktime, &times));
      bool any = false;
      for (size_t i = 0; i < n && !any; ++i) {
        any = kinds[ctype[i]] != Kind::kOther && times[i] >= t0 && times[i] < t1;
      }
      if (!any) continue;
      RETURN_IF_ERROR(read_codes(rg, kprod, &cprod, n));
      RETURN_IF_ERROR(read_codes(rg, kut, &cut, n));
      RETURN_IF_ERROR(read_codes(rg, karn, &carn, n));
      RETURN_IF_ERROR(read_codes(rg, kpayer, &cpayer, n));
      RETURN_IF_ERROR(read_codes(rg, kterm, &cterm, n));
      RETURN_IF_ERROR(read_dec(rg, kunb, &unb, n));
      RETURN_IF_ERROR(read_dec(rg, kpod, &pod, n));
      RETURN_IF_ERROR(read_dec(rg, keff, &eff, n));
      RETURN_IF_ERROR(read_dec(rg, ktot, &tot, n));
      RETURN_IF_ERROR(read_dec(rg, kused, &used, n));
      RETURN_IF_ERROR(read_dec(rg, kamort, &amort, n));
      if (kend >= 0) {
        RETURN_IF_ERROR(seg->ReadInt64(rg, kend, &ends));
      } else {
        ends.assign(n, 0);
      }
      for (size_t i = 0; i < n; ++i) {
        const Kind k = kinds[ctype[i]];
        if (k == Kind::kOther || times[i] < t0 || times[i] >= t1) continue;
        Row r;
        r.kind = k;
        r.t = times[i];
        r.t_end = ends[i];
        r.product = dprod[cprod[i]];
        r.usage_type = dut[cut[i]];
        r.arn = darn[carn[i]];
        r.payer = dpayer[cpayer[i]];
        r.eligible =
            k == Kind::kUsage && r.product == kSageMaker && ut_ok[cut[i]] && !spot[cterm[i]];
        r.unblended = Decimal::FromRaw(unb[i]);
        r.public_od = Decimal::FromRaw(pod[i]);
        r.sp_effective = Decimal::FromRaw(eff[i]);
        r.sp_total = Decimal::FromRaw(tot[i]);
        r.sp_used = Decimal::FromRaw(used[i]);
        r.amortized = Decimal::FromRaw(amort[i]);
        r.focus = focus;
        f(r);
      }
    }
  }
  return Status::Ok();
}

// Resolves the default range and returns the bucket starts over [from, to).
StatusOr<std::vector<UnixSeconds>> Buckets(const store::Store& st, SpReportOptions* opt) {
  if (opt->from == 0 || opt->to == 0) {
    auto r = cost::DataRange(st);
    if (!r.ok()) return r.status();
    if (opt->from == 0) opt->from = MonthStart(r->first);
    if (opt->to == 0) opt->to = NextMonthStart(r->second);
  }
  if (opt->from >= opt->to)
    return InvalidArgument("--from must be before --to (--to is exclusive)");
  std::vector<UnixSeconds> starts;
  const UnixSeconds t1 = static_cast<UnixSeconds>(opt->to) * 86400;
  for (UnixSeconds t = static_cast<UnixSeconds>(opt->from) * 86400; t < t1;) {
    starts.push_back(t);
    switch (opt->granularity) {
      case Granularity::kHourly:
        t += 3600;
        break;
      case Granularity::kDaily:
        t += 86400;
        break;
      case Granularity::kMonthly:
        t = static_cast<UnixSeconds>(NextMonthStart(DayOf(t))) * 86400;
        break;
    }
  }
  return starts;
}

size_t BucketOf(const std::vector<UnixSeconds>& starts, UnixSeconds t) {
  return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), t) - starts.begin()) -
         1;
}

UnixSeconds BucketEnd(const std::vector<UnixSeconds>& starts, size_t b, Days to) {
  return b + 1 < starts.size() ? starts[b + 1] : static_cast<UnixSeconds>(to) * 86400;
}

Decimal Percent(Decimal num, Decimal den) {
  if (den.is_zero()) return Decimal();
  return Decimal::Div(num * 100, den);
}

std::string PeriodText(UnixSeconds t, Granularity g) {
  return g == Granularity::kHourly ? FormatTimestamp(t) : FormatDate(DayOf(t));
}

nlohmann::json UtilJson(const SpUtilizationAmounts& a) {
  nlohmann::json j;
  j["Utilization"] = {{"TotalCommitment", a.total_commitment.ToString()},
                      {"UsedCommitment", a.used_commitment.ToString()},
                      {"UnusedCommitment", a.unused_commitment().ToString()},
                      {"UtilizationPercentage", a.utilization_percentage().ToString()}};
  j["Savings"] = {{"NetSavings", a.net_savings().ToString()},
                  {"OnDemandCostEquivalent", a.on_demand_cost_equivalent.ToString()}};
  j["AmortizedCommitment"] = {
      {"AmortizedRecurringCommitment", a.amortized_recurring.ToString()},
      {"AmortizedUpfrontCommitment", a.amortized_upfront.ToString()},
      {"TotalAmortizedCommitment", a.total_amortized_commitment().ToString()}};
  return j;
}

nlohmann::json CovJson(const SpCoverageAmounts& a) {
  return {{"SpendCoveredBySavingsPlans", a.spend_covered.ToString()},
          {"OnDemandCost", a.on_demand_cost.ToString()},
          {"TotalCost", a.total_cost().ToString()},
          {"CoveragePercentage", a.coverage_percentage().ToString()}};
}

std::string Money(Decimal d) { return GroupThousands(d.ToFixed(2)); }
std::string Pct(Decimal d) { return d.ToFixed(2) + "%"; }
std::string Pct(double d) { return fmt::format("{:.2f}%", d); }

}  // namespace

Decimal SpUtilizationAmounts::utilization_percentage() const {
  return Percent(used_commitment, total_commitment);
}

Decimal SpCoverageAmounts::coverage_percentage() const {
  return Percent(spend_covered, total_cost());
}

bool IsSageMakerSpEligible(std::string_view product_code, std::string_view usage_type,
                           std::string_view pricing_term) {
  if (product_code != kSageMaker || EqualsIgnoreCase(pricing_term, "Spot")) return false;
  cost::UsageType u = cost::ParseUsageType(usage_type);
  return !u.instance_type.empty() && !u.is_storage && u.kind != "Train-Spot";
}

StatusOr<SpUtilization> GetSavingsPlansUtilization(const store::Store& st, SpReportOptions opt) {
  ASSIGN_OR_RETURN(auto starts, Buckets(st, &opt));
  SpUtilization u;
  u.options = opt;
  std::vector<SpUtilizationAmounts> acc(starts.size());
  const UnixSeconds t0 = starts.front(), t1 = static_cast<UnixSeconds>(opt.to) * 86400;
  RETURN_IF_ERROR(ScanSp(st, t0, t1, [&](const Row& r) {
    if (r.kind == Kind::kRecurringFee) {
      if (opt.sagemaker_only && !IsSageMakerPlanFee(r.product, r.usage_type)) return;
      auto& a = acc[BucketOf(starts, r.t)];
      if (r.focus) {
        // The fee (recurring part) or the hour's unused commitment; the
        // upfront part is what the commitment holds beyond the fee.
        const Decimal unused = r.unblended.is_zero() ? r.amortized : Decimal();
        a.total_commitment += unused;
        a.amortized_recurring += r.unblended;
        a.amortized_upfront += unused - r.unblended;
        return;
      }
      a.total_commitment += r.sp_total;
      a.used_commitment += r.sp_used;
      a.amortized_recurring += r.unblended;
      a.amortized_upfront += r.sp_total - r.unblended;
    } else if (r.kind == Kind::kCovered) {
      // A SageMaker Savings Plan covers only SageMaker usage, and no other
      // plan type does, so the product tells which kind of plan covered it.
      if (opt.sagemaker_only && r.product != kSageMaker) return;
      auto& a = acc[BucketOf(starts, r.t)];
      a.on_demand_cost_equivalent += r.OnDemand();
      if (r.focus) {
        a.total_commitment += r.sp_effective;
        a.used_commitment += r.sp_effective;
        a.amortized_upfront += r.sp_effective;
      }
    }
  }));
  for (size_t b = 0; b < starts.size(); ++b) {
    u.by_time.push_back({starts[b], BucketEnd(starts, b, opt.to), acc[b]});
    auto& t = u.total;
    t.total_commitment += acc[b].total_commitment;
    t.used_commitment += acc[b].used_commitment;
    t.on_demand_cost_equivalent += acc[b].on_demand_cost_equivalent;
    t.amortized_recurring += acc[b].amortized_recurring;
    t.amortized_upfront += acc[b].amortized_upfront;
  }
  return u;
}

StatusOr<SpCoverage> GetSavingsPlansCoverage(const store::Store& st, SpReportOptions opt) {
  ASSIGN_OR_RETURN(auto starts, Buckets(st, &opt));
  SpCoverage c;
  c.options = opt;
  std::vector<SpCoverageAmounts> acc(starts.size());
  const UnixSeconds t0 = starts.front(), t1 = static_cast<UnixSeconds>(opt.to) * 86400;
  RETURN_IF_ERROR(ScanSp(st, t0, t1, [&](const Row& r) {
    if (r.kind == Kind::kCovered && r.product == kSageMaker) {
      acc[BucketOf(starts, r.t)].spend_covered += r.OnDemand();
    } else if (r.kind == Kind::kUsage && r.eligible) {
      acc[BucketOf(starts, r.t)].on_demand_cost += r.OnDemand();
    }
  }));
  for (size_t b = 0; b < starts.size(); ++b) {
    c.by_time.push_back({starts[b], BucketEnd(starts, b, opt.to), acc[b]});
    c.total.spend_covered += acc[b].spend_covered;
    c.total.on_demand_cost += acc[b].on_demand_cost;
  }
  return c;
}

nlohmann::json UtilizationToJson(const SpUtilization& u) {
  nlohmann::json by = nlohmann::json::array();
  for (const auto& p : u.by_time) {
    nlohmann::json j = UtilJson(p.amounts);
    j["TimePeriod"] = {{"Start", PeriodText(p.start, u.options.granularity)},
                       {"End", PeriodText(p.end, u.options.granularity)}};
    by.push_back(std::move(j));
  }
  return {{"SavingsPlansUtilizationsByTime", by}, {"Total", UtilJson(u.total)}};
}

nlohmann::json CoverageToJson(const SpCoverage& c) {
  nlohmann::json by = nlohmann::json::array();
  for (const auto& p : c.by_time) {
    by.push_back({{"Attributes", nlohmann::json::object()},
                  {"Coverage", CovJson(p.amounts)},
                  {"TimePeriod",
                   {{"Start", PeriodText(p.start, c.options.granularity)},
                    {"End", PeriodText(p.end, c.options.granularity)}}}});
  }
  // AWS returns only the list; the total is an addition, under its own key.
  return {{"SavingsPlansCoverages", by}, {"Total", {{"Coverage", CovJson(c.total)}}}};
}

std::string UtilizationToTable(const SpUtilization& u) {
  using A = TextTable::Align;
  TextTable t(
      {"period", "commitment", "used", "unused", "utilization", "on-demand equiv.", "net savings"},
      {A::kLeft, A::kRight, A::kRight, A::kRight, A::kRight, A::kRight, A::kRight});
  auto row = [&](const std::string& label, const SpUtilizationAmounts& a) {
    t.AddRow({label, Money(a.total_commitment), Money(a.used_commitment),
              Money(a.unused_commitment()), Pct(a.utilization_percentage()),
              Money(a.on_demand_cost_equivalent), Money(a.net_savings())});
  };
  for (const auto& p : u.by_time) row(PeriodText(p.start, u.options.granularity), p.amounts);
  row("Total", u.total);
  return t.Render();
}

std::string CoverageToTable(const SpCoverage& c) {
  using A = TextTable::Align;
  TextTable t({"period", "covered (on-demand equiv.)", "on-demand", "total", "coverage"},
              {A::kLeft, A::kRight, A::kRight, A::kRight, A::kRight});
  auto row = [&](const std::string& label, const SpCoverageAmounts& a) {
    t.AddRow({label, Money(a.spend_covered), Money(a.on_demand_cost), Money(a.total_cost()),
              Pct(a.coverage_percentage())});
  };
  for (const auto& p : c.by_time) row(PeriodText(p.start, c.options.granularity), p.amounts);
  row("Total", c.total);
  return t.Render();
}

// ---------------------------------------------------------------------------
// Recommendation.

StatusOr<SpTerm> ParseTerm(std::string_view s) {
  std::string l = AsciiLower(s);
  if (l == "one_year" || l == "1" || l == "1y" || l == "1yr" || l == "1year")
    return SpTerm::kOneYear;
  if (l == "three_years" || l == "3" || l == "3y" || l == "3yr" || l == "3years")
    return SpTerm::kThreeYears;
  return InvalidArgument("unknown term '" + std::string(s) +
                         "' (expected ONE_YEAR or THREE_YEARS, or 1 or 3)");
}

StatusOr<SpPayment> ParsePayment(std::string_view s) {
  std::string l = AsciiLower(s);
  if (l == "no_upfront" || l == "no") return SpPayment::kNoUpfront;
  if (l == "partial_upfront" || l == "partial") return SpPayment::kPartialUpfront;
  if (l == "all_upfront" || l == "all") return SpPayment::kAllUpfront;
  return InvalidArgument("unknown payment option '" + std::string(s) +
                         "' (expected NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT, or no, partial, "
                         "all)");
}

StatusOr<int> ParseLookbackDays(std::string_view s) {
  std::string l = AsciiLower(s);
  if (l == "seven_days" || l == "7" || l == "7d") return 7;
  if (l == "thirty_days" || l == "30" || l == "30d") return 30;
  if (l == "sixty_days" || l == "60" || l == "60d") return 60;
  return InvalidArgument("unknown lookback period '" + std::string(s) +
                         "' (expected SEVEN_DAYS, THIRTY_DAYS or SIXTY_DAYS, or 7, 30, 60)");
}

std::string_view TermName(SpTerm t) { return t == SpTerm::kOneYear ? "ONE_YEAR" : "THREE_YEARS"; }

std::string_view PaymentName(SpPayment p) {
  switch (p) {
    case SpPayment::kNoUpfront:
      return "NO_UPFRONT";
    case SpPayment::kPartialUpfront:
      return "PARTIAL_UPFRONT";
    case SpPayment::kAllUpfront:
      return "ALL_UPFRONT";
  }
  return "?";
}

std::string_view LookbackName(int days) {
  return days == 7 ? "SEVEN_DAYS" : days == 60 ? "SIXTY_DAYS" : "THIRTY_DAYS";
}

int64_t TermHours(SpTerm t) { return t == SpTerm::kOneYear ? 8760 : 26280; }

namespace {

// AWS's term lengths (savingsplans termDurationInSeconds).
constexpr UnixSeconds kYearSeconds = 31'536'000;

struct PlanScan {
  std::string arn, usage_type;
  Decimal last_commitment;
  UnixSeconds first_fee = 0, last_fee = 0, upfront_at = 0;
};

// Term (years) and payment words of a plan's fee usage type, e.g.
// "MachineLearningSP:1yrPartialUpfront" -> 1, "Partial Upfront".
int TermYearsOf(std::string_view ut) {
  std::string l = AsciiLower(ut);
  if (l.find("3yr") != std::string::npos) return 3;
  if (l.find("1yr") != std::string::npos) return 1;
  return 0;
}

std::string PlanKindText(std::string_view ut) {
  std::string l = AsciiLower(ut);
  std::string out;
  int y = TermYearsOf(ut);
  if (y) out = fmt::format("{}yr ", y);
  if (l.find("noupfront") != std::string::npos)
    out += "No Upfront";
  else if (l.find("partialupfront") != std::string::npos)
    out += "Partial Upfront";
  else if (l.find("allupfront") != std::string::npos)
    out += "All Upfront";
  else
    out += std::string(ut);
  return out;
}

std::string PlanId(std::string_view arn) {
  size_t p = arn.rfind('/');
  return std::string(p == std::string_view::npos ? arn : arn.substr(p + 1));
}

// Usage of one lookback hour: on-demand cost per (usage type, covering plan:
// its index, -1 for on demand, -2 for a covered line without a plan ARN).
struct HourUsage {
  std::map<std::pair<int, int>, Decimal> od;
};

std::string FormatPct(double v) { return fmt::format("{:.2f}", v); }

SpObjective Scaled(const std::vector<SpPhase>& phases, Decimal factor) {
  std::vector<SpPhase> out = phases;
  for (auto& p : out) {
    for (auto& h : p.hours) {
      for (auto& s : h.segments) {
        s.od = Decimal::Mul(s.od, factor);
        s.sp = Decimal::Mul(s.sp, factor);
      }
    }
  }
  return SpObjective(std::move(out));
}

}  // namespace

StatusOr<Recommendation> RecommendSavingsPlan(const store::Store& st, RecommendOptions opt) {
  if (opt.lookback_days != 7 && opt.lookback_days != 30 && opt.lookback_days != 60) {
    return InvalidArgument("the lookback period must be 7, 30 or 60 days");
  }
  if (opt.discount_pct && (*opt.discount_pct <= 0 || *opt.discount_pct >= 100)) {
    return InvalidArgument("--discount must be a percentage between 0 and 100 (exclusive)");
  }
  auto range = cost::DataRange(st);
  if (!range.ok()) return range.status();
  Recommendation rec;
  rec.options = opt;
  const Days end_day = opt.as_of ? opt.as_of : range->second + 1;
  const UnixSeconds data_start = static_cast<UnixSeconds>(range->first) * 86400;
  rec.lookback_end = static_cast<UnixSeconds>(end_day) * 86400;
  rec.lookback_start =
      std::max(rec.lookback_end - static_cast<UnixSeconds>(opt.lookback_days) * 86400, data_start);
  if (rec.lookback_start >= rec.lookback_end) {
    return InvalidArgument("no billing data before " + FormatDate(end_day) +
                           " to look back over (check --as-of)");
  }
  rec.lookback_hours = (rec.lookback_end - rec.lookback_start) / 3600;
  rec.term_start = rec.lookback_end;
  const int64_t H = rec.lookback_hours;
  if (rec.lookback_start > rec.lookback_end - static_cast<UnixSeconds>(opt.lookback_days) * 86400) {
    rec.notes.push_back(fmt::format(
        "the data holds only {:.1f} of the {} lookback days; the recommendation rests on them",
        static_cast<double>(H) / 24.0, opt.lookback_days));
  }

  // One pass: plans (over all data, their fees began long ago) and the
  // lookback's eligible usage.
  std::vector<std::string> usage_types;
  std::unordered_map<std::string, int, StringViewHash, std::equal_to<>> ut_index;
  std::vector<PlanScan> plans;
  std::unordered_map<std::string, int, StringViewHash, std::equal_to<>> plan_index;
  std::vector<HourUsage> hours(static_cast<size_t>(H));
  std::vector<Decimal> ut_sp, ut_od;  // covered lines per usage type: SP cost, on-demand cost
  std::unordered_map<std::string, int64_t, StringViewHash, std::equal_to<>> payers;
  UnixSeconds last_data = 0;
  auto plan_of = [&](std::string_view arn) {
    auto it = plan_index.find(arn);
    if (it != plan_index.end()) return it->second;
    int i = static_cast<int>(plans.size());
    plans.push_back(PlanScan{std::string(arn), "", Decimal(), 0, 0, 0});
    plan_index.emplace(std::string(arn), i);
    return i;
  };
  RETURN_IF_ERROR(ScanSp(st, INT64_MIN, INT64_MAX, [&](const Row& r) {
    last_data = std::max(last_data, r.t);
    if (r.kind == Kind::kRecurringFee || r.kind == Kind::kUpfrontFee) {
      if (!IsSageMakerPlanFee(r.product, r.usage_type) || r.arn.empty()) return;
      PlanScan& p = plans[static_cast<size_t>(plan_of(r.arn))];
      if (r.kind == Kind::kUpfrontFee) {
        p.upfront_at = r.t;
      } else {
        if (p.first_fee == 0 || r.t < p.first_fee) p.first_fee = r.t;
        if (r.t >= p.last_fee) {
          p.last_fee = r.t;
          p.last_commitment = r.sp_total;
        }
      }
      if (p.usage_type.empty()) p.usage_type = std::string(r.usage_type);
      return;
    }
    const bool covered = r.kind == Kind::kCovered && r.product == kSageMaker;
    if (!covered && !(r.kind == Kind::kUsage && r.eligible)) return;
    if (r.t < rec.lookback_start || r.t >= rec.lookback_end) return;
    auto it = ut_index.find(r.usage_type);
    int u;
    if (it == ut_index.end()) {
      u = static_cast<int>(usage_types.size());
      usage_types.emplace_back(r.usage_type);
      ut_index.emplace(std::string(r.usage_type), u);
      ut_sp.emplace_back();
      ut_od.emplace_back();
    } else {
      u = it->second;
    }
    const Decimal od = r.OnDemand();
    int plan = -1;
    if (covered) {
      plan = r.arn.empty() ? -2 : plan_of(r.arn);
      ut_sp[static_cast<size_t>(u)] += r.sp_effective;
      ut_od[static_cast<size_t>(u)] += od;
    }
    auto pit = payers.find(r.payer);
    if (pit == payers.end()) pit = payers.emplace(std::string(r.payer), 0).first;
    ++pit->second;
    // Lines of daily or monthly exports span many hours: spread them evenly
    // (the last hour takes the rounding) so the hourly series stays exact.
    const int64_t span = r.t_end > r.t ? std::max<int64_t>(1, (r.t_end - r.t + 3599) / 3600) : 1;
    const Decimal share = span == 1 ? od : Decimal::Div(od, Decimal::FromInt(span));
    for (int64_t k = 0; k < span; ++k) {
      const UnixSeconds at = r.t + k * 3600;
      if (at >= rec.lookback_end) break;
      const Decimal part = k + 1 < span ? share : od - share * (span - 1);
      hours[static_cast<size_t>((at - rec.lookback_start) / 3600)].od[{u, plan}] += part;
    }
  }));
  if (!payers.empty()) {
    rec.account_id =
        std::max_element(payers.begin(), payers.end(), [](const auto& a, const auto& b) {
          return a.second < b.second || (a.second == b.second && a.first > b.first);
        })->first;
  }

  // Discount ratios (SP rate / on-demand rate) per usage type.
  std::vector<Decimal> ratio(usage_types.size());
  Decimal sum_sp, sum_od;
  int with_rate = 0;
  for (size_t u = 0; u < usage_types.size(); ++u) {
    if (ut_od[u].raw() > 0 && ut_sp[u].raw() > 0 && ut_sp[u] < ut_od[u]) {
      ratio[u] = Decimal::Div(ut_sp[u], ut_od[u]);
      sum_sp += ut_sp[u];
      sum_od += ut_od[u];
      ++with_rate;
    }
  }
  std::string bill_plan_kinds;
  for (const auto& p : plans) {
    std::string k = PlanKindText(p.usage_type);
    if (bill_plan_kinds.find(k) == std::string::npos)
      bill_plan_kinds += (bill_plan_kinds.empty() ? "" : ", ") + k;
  }
  if (opt.discount_pct) {
    Decimal d;
    (void)Decimal::Parse(fmt::format("{:.6f}", 1.0 - *opt.discount_pct / 100.0), &d);
    std::fill(ratio.begin(), ratio.end(), d);
    rec.rate_source = fmt::format(
        "--discount: a flat {:.2f}% off on-demand for every eligible usage type (given by the "
        "user)",
        *opt.discount_pct);
  } else if (with_rate > 0) {
    const Decimal avg = Decimal::Div(sum_sp, sum_od);
    int fill = 0;
    for (auto& r : ratio) {
      if (r.is_zero()) r = avg, ++fill;
    }
    rec.rate_source = fmt::format(
        "bill: savingsPlan/SavingsPlanEffectiveCost vs pricing/publicOnDemandCost of "
        "SavingsPlanCoveredUsage lines for {} usage type(s){}",
        with_rate, bill_plan_kinds.empty() ? "" : " (existing plan(s): " + bill_plan_kinds + ")");
    if (fill > 0) {
      rec.rate_source +=
          fmt::format("; {} usage type(s) never covered use the bill's average ({:.2f}% off)", fill,
                      (1.0 - avg.ToDouble()) * 100.0);
    }
    std::string want = fmt::format("{}yr ", opt.term == SpTerm::kOneYear ? 1 : 3);
    switch (opt.payment) {
      case SpPayment::kNoUpfront:
        want += "No Upfront";
        break;
      case SpPayment::kPartialUpfront:
        want += "Partial Upfront";
        break;
      case SpPayment::kAllUpfront:
        want += "All Upfront";
        break;
    }
    if (!bill_plan_kinds.empty() && bill_plan_kinds != want) {
      rec.notes.push_back("the bill's rates are those of " + bill_plan_kinds + " plans; " + want +
                          " rates differ (longer terms and more upfront are cheaper): pass "
                          "--discount to use your offering's rate");
    }
  } else {
    Decimal d;
    (void)Decimal::Parse(fmt::format("{:.6f}", 1.0 - kFallbackDiscountPct / 100.0), &d);
    std::fill(ratio.begin(), ratio.end(), d);
    rec.rate_source = fmt::format(
        "catalog fallback: no Savings Plans rates in the bill; a flat {:.0f}% discount, AWS's "
        "published maximum for SageMaker Savings Plans (\"up to 64%\", "
        "https://aws.amazon.com/savingsplans/ml-pricing/). It is an upper bound: real rates "
        "depend on instance, region, term and payment option; pass --discount with yours",
        kFallbackDiscountPct);
  }

  // Existing plans and when they end.
  const UnixSeconds term_end = rec.term_start + TermHours(opt.term) * 3600;
  const UnixSeconds last_hour = last_data - last_data % 3600;
  for (const auto& p : plans) {
    ExistingPlan e;
    e.arn = p.arn;
    e.usage_type = p.usage_type;
    e.hourly_commitment = p.last_commitment;
    const int years = TermYearsOf(p.usage_type);
    if (p.upfront_at) {
      e.start = p.upfront_at;
    } else if (p.first_fee > data_start) {
      e.start = p.first_fee;
    }
    for (const auto& [key, end] : opt.plan_ends) {
      if (key == p.arn || key == PlanId(p.arn)) {
        e.end = end;
        e.end_source = "given with --plan-end";
      }
    }
    if (e.end == 0 && p.last_fee && p.last_fee < last_hour) {
      e.end = p.last_fee + 3600;
      e.end_source = "its last recurring fee in the bill";
    }
    if (e.end == 0 && e.start && years) {
      e.end = e.start + years * kYearSeconds;
      e.end_source =
          fmt::format("its start {} plus its {}-year term", FormatDate(DayOf(e.start)), years);
    }
    if (e.end == 0) {
      e.end_source = "unknown: assumed to last through the whole term (use --plan-end)";
    }
    rec.existing.push_back(std::move(e));
  }

  // Phases of the term: boundaries where an existing plan ends inside it.
  std::vector<UnixSeconds> cuts{rec.term_start, term_end};
  for (const auto& e : rec.existing) {
    if (e.end > rec.term_start && e.end < term_end) cuts.push_back(e.end);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  auto active = [&](int plan, UnixSeconds at) {
    if (plan < 0) return plan == -2;  // covered by an unnamed plan: assume it stays
    const auto& e = rec.existing[static_cast<size_t>(plan)];
    return e.end == 0 || e.end > at;
  };
  std::vector<SpPhase> phases;
  Decimal existing_covered_weighted, eligible_weighted;
  const Decimal term_hours = Decimal::FromInt(TermHours(opt.term));
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    Recommendation::Phase ph;
    ph.start = cuts[k];
    ph.end = cuts[k + 1];
    for (size_t i = 0; i < rec.existing.size(); ++i) {
      if (active(static_cast<int>(i), ph.start)) ph.active_plans.push_back(rec.existing[i].arn);
    }
    SpPhase sp;
    sp.weight = Decimal::Div(Decimal::FromInt((ph.end - ph.start) / 3600), term_hours);
    Decimal existing_covered, eligible;
    for (const auto& h : hours) {
      SpHour sh;
      for (const auto& [key, od] : h.od) {
        eligible += od;
        if (active(key.second, ph.start)) {
          existing_covered += od;
          continue;
        }
        sh.segments.push_back({od, Decimal::Mul(od, ratio[static_cast<size_t>(key.first)])});
      }
      sp.hours.push_back(std::move(sh));
    }
    existing_covered_weighted += Decimal::Mul(sp.weight, existing_covered);
    eligible_weighted += Decimal::Mul(sp.weight, eligible);
    phases.push_back(std::move(sp));
    rec.phases.push_back(std::move(ph));
  }

  // The lookback as it was billed.
  bool first = true;
  for (const auto& h : hours) {
    Decimal on_demand;
    for (const auto& [key, od] : h.od) {
      rec.eligible_on_demand += od;
      if (key.second == -1) on_demand += od;
    }
    rec.current_on_demand += on_demand;
    if (first || on_demand < rec.min_hourly_on_demand) rec.min_hourly_on_demand = on_demand;
    if (first || on_demand > rec.max_hourly_on_demand) rec.max_hourly_on_demand = on_demand;
    first = false;
  }
  rec.avg_hourly_on_demand = Decimal::Div(rec.current_on_demand, Decimal::FromInt(H));

  // Solve.
  SpObjective obj(phases);
  const auto opt_point = obj.Maximize();
  rec.breakpoints = opt_point.breakpoints;
  const Decimal step = Decimal::FromRaw(Decimal::kOne / 1000);  // $0.001, AWS's smallest step
  SpPoint best = BestOnGrid(obj, opt_point.commitment, step);
  if (best.net_savings.raw() <= 0) best = obj.Evaluate(Decimal());
  rec.hourly_commitment = best.commitment;
  rec.net_savings = best.net_savings;
  rec.sp_cost = best.commitment_cost;
  rec.covered_on_demand = best.covered_od;
  rec.on_demand_with_current_commitment = best.eligible_od;
  rec.remaining_on_demand = best.eligible_od - best.covered_od;
  rec.utilization_pct = best.utilization_pct();
  rec.coverage_pct = best.coverage_pct();
  if (eligible_weighted.raw() > 0) {
    rec.total_coverage_pct = (existing_covered_weighted + best.covered_od).ToDouble() /
                             eligible_weighted.ToDouble() * 100;
  }
  const Decimal term_commitment = best.commitment * TermHours(opt.term);
  switch (opt.payment) {
    case SpPayment::kNoUpfront:
      break;
    case SpPayment::kPartialUpfront:
      // AWS's partial upfront pays at least half of the commitment up front.
      rec.upfront_cost = Decimal::Div(term_commitment, Decimal::FromInt(2));
      break;
    case SpPayment::kAllUpfront:
      rec.upfront_cost = term_commitment;
      break;
  }
  rec.monthly_savings = Decimal::Div(rec.net_savings * 730, Decimal::FromInt(H));

  // Break-even.
  rec.break_even_commitment = obj.BreakEvenCommitment();
  if (best.commitment.raw() > 0) {
    if (best.covered_od.raw() > 0) {
      rec.break_even_utilization_pct = best.used.ToDouble() / best.covered_od.ToDouble() * 100;
    }
    // Usage can fall by d before the recommended commitment stops saving.
    double lo = 0, hi = 1;
    for (int it = 0; it < 30; ++it) {
      double mid = (lo + hi) / 2;
      Decimal f;
      (void)Decimal::Parse(fmt::format("{:.9f}", 1.0 - mid), &f);
      if (Scaled(phases, f).Evaluate(best.commitment).net_savings.raw() >= 0)
        lo = mid;
      else
        hi = mid;
    }
    rec.usage_drop_to_break_even_pct = lo * 100;
    // Cash view: months until what the plan saves each month repays the upfront.
    if (rec.upfront_cost.raw() > 0) {
      const double recurring_month =
          (best.commitment.ToDouble() -
           rec.upfront_cost.ToDouble() / static_cast<double>(TermHours(opt.term))) *
          730;
      const double covered_month = best.covered_od.ToDouble() / static_cast<double>(H) * 730;
      const double gain = covered_month - recurring_month;
      if (gain > 0) rec.upfront_payback_months = rec.upfront_cost.ToDouble() / gain;
    }
  }

  // The curve: 0 .. beyond break-even, the optimum and break-even on it.
  Decimal top = std::max(rec.break_even_commitment, best.commitment);
  top = top.raw() > 0 ? Decimal::Mul(top, Decimal::FromRaw(Decimal::kOne * 12 / 10))
                      : obj.MaxHourlyCommitmentCost();
  std::vector<Decimal> cs;
  const int kSteps = 20;
  for (int i = 0; i <= kSteps; ++i) {
    Decimal c = Decimal::Div(top * i, Decimal::FromInt(kSteps));
    // $0.001 steps, as plans are sold.
    c = Decimal::FromRaw(c.raw() / step.raw() * step.raw());
    cs.push_back(c);
  }
  cs.push_back(best.commitment);
  cs.push_back(Decimal::FromRaw(rec.break_even_commitment.raw() / step.raw() * step.raw()));
  std::sort(cs.begin(), cs.end());
  cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
  for (Decimal c : cs) {
    SpPoint p = obj.Evaluate(c);
    rec.curve.push_back({c, p.net_savings, p.utilization_pct(), p.coverage_pct()});
  }

  // Scenarios: usage 10, 25, 50% lower for the whole term.
  for (int drop : {10, 25, 50}) {
    Decimal f = Decimal::Div(Decimal::FromInt(100 - drop), Decimal::FromInt(100));
    SpObjective s = Scaled(phases, f);
    SpPoint at = s.Evaluate(best.commitment);
    auto o = s.Maximize();
    SpPoint ob = BestOnGrid(s, o.commitment, step);
    if (ob.net_savings.raw() <= 0) ob = s.Evaluate(Decimal());
    rec.scenarios.push_back(
        {drop, at.net_savings, at.utilization_pct(), ob.commitment, ob.net_savings});
  }
  if (rec.eligible_on_demand.is_zero()) {
    rec.notes.emplace_back(
        "the lookback holds no SageMaker usage a Savings Plan applies to (ML instance hours of "
        "notebooks, Studio, processing, training, hosting, batch transform)");
  } else if (rec.hourly_commitment.is_zero()) {
    rec.notes.emplace_back(
        "no commitment saves money on this usage: buying a Savings Plan is not recommended");
  }
  return rec;
}

nlohmann::json RecommendationToJson(const Recommendation& r) {
  const auto& o = r.options;
  auto pct = [](double v) { return FormatPct(v); };
  const Decimal savings_pct = Percent(r.net_savings, r.current_on_demand);
  const Decimal roi = Percent(r.net_savings, r.sp_cost);
  nlohmann::json detail = {
      {"SavingsPlansDetails", {{"Region", ""}, {"InstanceFamily", ""}, {"OfferingId", ""}}},
      {"AccountId", r.account_id},
      {"UpfrontCost", r.upfront_cost.ToString()},
      {"EstimatedROI", roi.ToFixed(2)},
      {"CurrencyCode", r.currency},
      {"EstimatedSPCost", r.sp_cost.ToString()},
      {"EstimatedOnDemandCost", r.remaining_on_demand.ToString()},
      {"EstimatedOnDemandCostWithCurrentCommitment",
       r.on_demand_with_current_commitment.ToString()},
      {"EstimatedSavingsAmount", r.net_savings.ToString()},
      {"EstimatedSavingsPercentage", savings_pct.ToFixed(2)},
      {"HourlyCommitmentToPurchase", r.hourly_commitment.ToString()},
      {"EstimatedAverageUtilization", pct(r.utilization_pct)},
      {"EstimatedMonthlySavingsAmount", r.monthly_savings.ToString()},
      {"CurrentMinimumHourlyOnDemandSpend", r.min_hourly_on_demand.ToString()},
      {"CurrentMaximumHourlyOnDemandSpend", r.max_hourly_on_demand.ToString()},
      {"CurrentAverageHourlyOnDemandSpend", r.avg_hourly_on_demand.ToString()},
      {"RecommendationDetailId",
       fmt::format("sagebox-{}-{}-{}-{}", TermName(o.term), PaymentName(o.payment), o.lookback_days,
                   FormatDate(DayOf(r.lookback_end)))}};
  nlohmann::json details = nlohmann::json::array();
  if (r.hourly_commitment.raw() > 0) details.push_back(detail);
  nlohmann::json summary = {{"EstimatedROI", roi.ToFixed(2)},
                            {"CurrencyCode", r.currency},
                            {"EstimatedTotalCost", (r.sp_cost + r.remaining_on_demand).ToString()},
                            {"CurrentOnDemandSpend", r.current_on_demand.ToString()},
                            {"EstimatedSavingsAmount", r.net_savings.ToString()},
                            {"TotalRecommendationCount", r.hourly_commitment.raw() > 0 ? "1" : "0"},
                            {"DailyCommitmentToPurchase", (r.hourly_commitment * 24).ToString()},
                            {"HourlyCommitmentToPurchase", r.hourly_commitment.ToString()},
                            {"EstimatedSavingsPercentage", savings_pct.ToFixed(2)},
                            {"EstimatedMonthlySavingsAmount", r.monthly_savings.ToString()},
                            {"EstimatedOnDemandCostWithCurrentCommitment",
                             r.on_demand_with_current_commitment.ToString()}};
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& p : r.curve) {
    curve.push_back({{"HourlyCommitment", p.commitment.ToString()},
                     {"EstimatedSavingsAmount", p.net_savings.ToString()},
                     {"EstimatedAverageUtilization", pct(p.utilization_pct)},
                     {"EstimatedCoverage", pct(p.coverage_pct)}});
  }
  nlohmann::json scen = nlohmann::json::array();
  for (const auto& s : r.scenarios) {
    scen.push_back({{"UsageChangePercentage", fmt::format("-{}", s.usage_drop_pct)},
                    {"EstimatedSavingsAmount", s.net_savings.ToString()},
                    {"EstimatedAverageUtilization", pct(s.utilization_pct)},
                    {"OptimalHourlyCommitment", s.best_commitment.ToString()},
                    {"OptimalEstimatedSavingsAmount", s.best_net_savings.ToString()}});
  }
  nlohmann::json existing = nlohmann::json::array();
  for (const auto& e : r.existing) {
    existing.push_back({{"SavingsPlanArn", e.arn},
                        {"UsageType", e.usage_type},
                        {"HourlyCommitment", e.hourly_commitment.ToString()},
                        {"Start", e.start ? FormatTimestamp(e.start) : ""},
                        {"End", e.end ? FormatTimestamp(e.end) : ""},
                        {"EndSource", e.end_source}});
  }
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& p : r.phases) {
    phases.push_back({{"Start", FormatTimestamp(p.start)},
                      {"End", FormatTimestamp(p.end)},
                      {"ActiveSavingsPlans", p.active_plans}});
  }
  nlohmann::json be = {{"BreakEvenHourlyCommitment", r.break_even_commitment.ToFixed(3)},
                       {"BreakEvenUtilization", pct(r.break_even_utilization_pct)},
                       {"UsageDecreaseToBreakEven", pct(r.usage_drop_to_break_even_pct)}};
  if (r.upfront_payback_months) be["UpfrontPaybackMonths"] = FormatPct(*r.upfront_payback_months);
  return {{"Metadata",
           {{"RecommendationId", detail["RecommendationDetailId"]},
            {"GenerationTimestamp", FormatTimestamp(r.lookback_end)},
            {"AdditionalMetadata", "sagebox: computed from the billing store; exact optimum"}}},
          {"SavingsPlansPurchaseRecommendation",
           {{"AccountScope", "PAYER"},
            {"SavingsPlansType", "SAGEMAKER_SP"},
            {"TermInYears", TermName(o.term)},
            {"PaymentOption", PaymentName(o.payment)},
            {"LookbackPeriodInDays", LookbackName(o.lookback_days)},
            {"SavingsPlansPurchaseRecommendationDetails", details},
            {"SavingsPlansPurchaseRecommendationSummary", summary}}},
          // Not in AWS's response: what sagebox adds.
          {"Sagebox",
           {{"LookbackPeriod",
             {{"Start", FormatTimestamp(r.lookback_start)},
              {"End", FormatTimestamp(r.lookback_end)},
              {"Hours", r.lookback_hours}}},
            {"EligibleOnDemandCost", r.eligible_on_demand.ToString()},
            {"RateSource", r.rate_source},
            {"EstimatedCoverage", pct(r.coverage_pct)},
            {"EstimatedTotalCoverage", pct(r.total_coverage_pct)},
            {"BreakEven", be},
            {"SavingsVsCommitmentCurve", curve},
            {"Scenarios", scen},
            {"ExistingSavingsPlans", existing},
            {"TermPhases", phases},
            {"Breakpoints", r.breakpoints},
            {"Notes", r.notes}}}};
}

std::string RecommendationToText(const Recommendation& r) {
  using A = TextTable::Align;
  const auto& o = r.options;
  std::string out;
  out +=
      fmt::format("SageMaker Savings Plan recommendation: {} term, {} payment, {}-day lookback\n",
                  TermName(o.term), PaymentName(o.payment), o.lookback_days);
  out += fmt::format("lookback: {} .. {} ({} hours); the term starts {}\n",
                     FormatTimestamp(r.lookback_start), FormatTimestamp(r.lookback_end),
                     r.lookback_hours, FormatDate(DayOf(r.term_start)));
  out += fmt::format("rates: {}\n\n", r.rate_source);
  out += fmt::format(
      "eligible SageMaker usage at on-demand rates: ${} (${} not covered by "
      "existing plans; hourly min ${}, avg ${}, max ${})\n",
      Money(r.eligible_on_demand), Money(r.current_on_demand), r.min_hourly_on_demand.ToFixed(4),
      r.avg_hourly_on_demand.ToFixed(4), r.max_hourly_on_demand.ToFixed(4));
  if (r.hourly_commitment.raw() > 0) {
    out += fmt::format("recommended commitment: ${}/hour (${}/day)", r.hourly_commitment.ToFixed(3),
                       (r.hourly_commitment * 24).ToFixed(2));
    if (r.upfront_cost.raw() > 0) out += fmt::format(", upfront ${}", Money(r.upfront_cost));
    out += "\n";
    out += fmt::format(
        "estimated savings: ${} over the lookback period (${} a month), {}% of the current "
        "on-demand spend\n",
        Money(r.net_savings), Money(r.monthly_savings),
        Percent(r.net_savings, r.current_on_demand).ToFixed(2));
    out += fmt::format(
        "expected utilization {}, coverage {} of the usage left to a new plan ({} with existing "
        "plans)\n",
        Pct(r.utilization_pct), Pct(r.coverage_pct), Pct(r.total_coverage_pct));
    out += fmt::format(
        "break-even: commitments above ${}/hour lose money; the recommended one loses money "
        "below {} utilization, i.e. if usage falls more than {}",
        r.break_even_commitment.ToFixed(3), Pct(r.break_even_utilization_pct),
        Pct(r.usage_drop_to_break_even_pct));
    if (r.upfront_payback_months)
      out += fmt::format("; the upfront pays back in {:.1f} months", *r.upfront_payback_months);
    out += "\n";
  }
  if (r.eligible_on_demand.is_zero()) {
    for (const auto& n : r.notes) out += "note: " + n + "\n";
    return out;
  }
  out += "\nsavings vs commitment (over the lookback period):\n";
  TextTable c({"$/hour", "net savings", "utilization", "coverage", ""},
              {A::kRight, A::kRight, A::kRight, A::kRight, A::kLeft});
  for (const auto& p : r.curve) {
    std::string mark;
    if (p.commitment == r.hourly_commitment && r.hourly_commitment.raw() > 0)
      mark = "<- recommended";
    c.AddRow({p.commitment.ToFixed(3), Money(p.net_savings), Pct(p.utilization_pct),
              Pct(p.coverage_pct), mark});
  }
  out += c.Render();
  out += "\nif usage falls (for the whole term):\n";
  TextTable s(
      {"usage", "savings at the recommendation", "utilization", "best $/hour", "best savings"},
      {A::kRight, A::kRight, A::kRight, A::kRight, A::kRight});
  for (const auto& x : r.scenarios) {
    s.AddRow({fmt::format("-{}%", x.usage_drop_pct), Money(x.net_savings), Pct(x.utilization_pct),
              x.best_commitment.ToFixed(3), Money(x.best_net_savings)});
  }
  out += s.Render();
  if (!r.existing.empty()) {
    out += "\nexisting SageMaker Savings Plans:\n";
    TextTable e({"plan", "type", "$/hour", "ends", "how the end is known"},
                {A::kLeft, A::kLeft, A::kRight, A::kLeft, A::kLeft});
    for (const auto& x : r.existing) {
      e.AddRow({PlanId(x.arn), x.usage_type, x.hourly_commitment.ToFixed(3),
                x.end ? FormatDate(DayOf(x.end)) : "?", x.end_source});
    }
    out += e.Render();
    if (r.phases.size() > 1) {
      out += "the term is evaluated in phases, as existing plans expire:\n";
      for (const auto& p : r.phases) {
        out += fmt::format("  {} .. {}: {} existing plan(s) active\n", FormatDate(DayOf(p.start)),
                           FormatDate(DayOf(p.end)), p.active_plans.size());
      }
    }
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace sagebox::plan
