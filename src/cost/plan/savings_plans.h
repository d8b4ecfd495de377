// savings_plans.h: Savings Plans reports and purchase recommendations over
// the billing store, in Cost Explorer's own shapes.
//
//   GetSavingsPlansUtilization   how much of the commitment was used
//   GetSavingsPlansCoverage      how much eligible SageMaker spend plans covered
//   RecommendSavingsPlan         GetSavingsPlansPurchaseRecommendation for a
//                                SageMaker Savings Plan (SAGEMAKER_SP), solved
//                                exactly (sp_optimizer.h)
//
// Definitions (CUR savingsPlan/* columns, as the AWS CUR Query Library's
// savings-plans-utilization.sql and Cost Explorer use them):
//  - SavingsPlanRecurringFee lines, one per plan and hour:
//      TotalCommitment   += savingsPlan/TotalCommitmentToDate (the hour's commitment)
//      UsedCommitment    += savingsPlan/UsedCommitment
//      AmortizedRecurringCommitment += lineItem/UnblendedCost (the recurring fee)
//      AmortizedUpfrontCommitment   += TotalCommitmentToDate - UnblendedCost
//  - SavingsPlanCoveredUsage lines: OnDemandCostEquivalent += on-demand cost
//    (pricing/publicOnDemandCost, else lineItem/UnblendedCost, which AWS bills
//    at the on-demand rate on these lines).
//  - NetSavings = OnDemandCostEquivalent - TotalAmortizedCommitment.
//  - Coverage is over SageMaker eligible usage: ML instance hours (usage types
//    with an ml.* instance, not storage, not Spot) of AmazonSageMaker.
//      SpendCoveredBySavingsPlans = on-demand cost of SavingsPlanCoveredUsage
//      OnDemandCost               = on-demand cost of eligible Usage lines
//      TotalCost = the sum; CoveragePercentage = covered / total * 100.
// All sums are exact Decimals; percentages are exact quotients rounded to
// 10^-10. AWS offers only DAILY and MONTHLY for these reports; HOURLY is an
// extension (the CUR is hourly). FOCUS exports have no savingsPlan/*
// commitment columns: there, UsedCommitment is the EffectiveCost of covered
// ("Used") rows and the unused part the EffectiveCost of "Unused" rows, which
// gives the same numbers as the CUR for the same bill.
//
// The recommendation model:
//  - Lookback: the last 7/30/60 days before --as-of (default: the day after
//    the last data), clipped to the data. Every hour counts, idle ones too.
//  - Eligible usage per hour and usage type at on-demand cost: Usage lines
//    that IsSageMakerSpEligible, plus SavingsPlanCoveredUsage lines of
//    AmazonSageMaker, remembered with the plan (ARN) that covered them. Lines
//    spanning several hours (daily exports) are spread evenly.
//  - Rates (SP rate / on-demand rate) per usage type: the bill's
//    SavingsPlanEffectiveCost / on-demand cost of its covered lines; types
//    never covered take the bill's average; without any, --discount or
//    kFallbackDiscountPct. `rate_source` says which.
//  - Existing plans (SageMaker SavingsPlanRecurringFee lines) keep the usage
//    they covered in the bill for as long as they run. Their end comes from
//    --plan-end, else the last fee when fees stop before the data does, else
//    start (upfront fee, or first fee after the data starts) + the term in the
//    fee's usage type (1yr/3yr, 365-day years); unknown ends are assumed to
//    outlast the term (and the output says so). The term is split into phases
//    at the ends inside it; in each phase the usage of expired plans is
//    available to the new plan. Phases are weighted by their share of the term.
//  - Objective: sp_optimizer.h, solved exactly; the commitment is rounded to
//    AWS's $0.001 step (the better neighbour). Amounts are "over the lookback
//    period", as AWS's EstimatedSavingsAmount.
//  - Break-even: the largest commitment whose savings are >= 0; the
//    utilization below which the recommended plan loses money (its SP/on-demand
//    ratio of covered usage); how far usage may fall before it does; for
//    upfront options, the months until the upfront is paid back.
//  - Scenarios: usage 10, 25 and 50% lower for the whole term: savings and
//    utilization of the recommended commitment, and the best commitment then.
//
// Thread-safety: functions are reentrant; the Store is only read.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "core/time.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::plan {

struct SpReportOptions {
  Days from = 0, to = 0;  // [from, to); both 0 = whole months around the data
  cost::Granularity granularity = cost::Granularity::kMonthly;
  // Utilization: only SageMaker Savings Plans (product MachineLearningSavingsPlans
  // or usage type MachineLearningSP:*); by default every plan in the bill.
  bool sagemaker_only = false;
};

struct SpUtilizationAmounts {
  Decimal total_commitment;
  Decimal used_commitment;
  Decimal on_demand_cost_equivalent;
  Decimal amortized_recurring;
  Decimal amortized_upfront;

  Decimal unused_commitment() const { return total_commitment - used_commitment; }
  Decimal total_amortized_commitment() const { return amortized_recurring + amortized_upfront; }
  Decimal net_savings() const { return on_demand_cost_equivalent - total_amortized_commitment(); }
  // UsedCommitment / TotalCommitment * 100; 0 without any commitment.
  Decimal utilization_percentage() const;
};

struct SpUtilizationPeriod {
  UnixSeconds start = 0, end = 0;
  SpUtilizationAmounts amounts;
};

struct SpUtilization {
  SpReportOptions options;  // from/to resolved
  std::vector<SpUtilizationPeriod> by_time;
  SpUtilizationAmounts total;
  std::string currency = "USD";
};

struct SpCoverageAmounts {
  Decimal spend_covered;   // on-demand equivalent of covered usage
  Decimal on_demand_cost;  // eligible usage not covered
  Decimal total_cost() const { return spend_covered + on_demand_cost; }
  // covered / total * 100; 0 without eligible usage.
  Decimal coverage_percentage() const;
};

struct SpCoveragePeriod {
  UnixSeconds start = 0, end = 0;
  SpCoverageAmounts amounts;
};

struct SpCoverage {
  SpReportOptions options;
  std::vector<SpCoveragePeriod> by_time;
  SpCoverageAmounts total;
  std::string currency = "USD";
};

// InvalidArgument if from >= to or the store is empty (nothing to resolve
// the default range from); Corruption if a segment is damaged.
StatusOr<SpUtilization> GetSavingsPlansUtilization(const store::Store& st, SpReportOptions opt);
StatusOr<SpCoverage> GetSavingsPlansCoverage(const store::Store& st, SpReportOptions opt);

// GetSavingsPlansUtilization / GetSavingsPlansCoverage response shapes.
nlohmann::json UtilizationToJson(const SpUtilization& u);
nlohmann::json CoverageToJson(const SpCoverage& c);
std::string UtilizationToTable(const SpUtilization& u);
std::string CoverageToTable(const SpCoverage& c);

// True for the usage a SageMaker Savings Plan applies to: AmazonSageMaker
// ML instance usage (an ml.* instance, not storage, not Spot training).
bool IsSageMakerSpEligible(std::string_view product_code, std::string_view usage_type,
                           std::string_view pricing_term);

// ---------------------------------------------------------------------------
// Purchase recommendation.

enum class SpTerm { kOneYear, kThreeYears };
enum class SpPayment { kNoUpfront, kPartialUpfront, kAllUpfront };

// Accept the AWS CLI spellings (ONE_YEAR, NO_UPFRONT, SEVEN_DAYS) and
// friendlier ones (1, 1y, 3yr; no, partial, all; 7, 30, 60, 30d).
// InvalidArgument listing what is accepted.
StatusOr<SpTerm> ParseTerm(std::string_view s);
StatusOr<SpPayment> ParsePayment(std::string_view s);
StatusOr<int> ParseLookbackDays(std::string_view s);
std::string_view TermName(SpTerm t);        // ONE_YEAR
std::string_view PaymentName(SpPayment p);  // NO_UPFRONT
std::string_view LookbackName(int days);    // SEVEN_DAYS
int64_t TermHours(SpTerm t);                // 8760, 26280

struct RecommendOptions {
  SpTerm term = SpTerm::kOneYear;
  SpPayment payment = SpPayment::kNoUpfront;
  int lookback_days = 30;  // 7, 30 or 60
  Days as_of = 0;          // lookback ends before this day; 0 = the day after the data
  // A flat discount (percent off on-demand) for every usage type; overrides
  // the bill's rates. Without it: the bill's rates, else kFallbackDiscountPct.
  std::optional<double> discount_pct;
  // Known end dates of existing plans (ARN or the id after "savingsplan/").
  std::vector<std::pair<std::string, UnixSeconds>> plan_ends;
};

// AWS's published ceiling for SageMaker Savings Plans ("save up to 64%",
// https://aws.amazon.com/savingsplans/ml-pricing/), used only when neither
// the bill nor --discount gives a rate. It is an upper bound, and the output
// says so.
inline constexpr double kFallbackDiscountPct = 64.0;

struct SpCurvePoint {
  Decimal commitment;
  Decimal net_savings;  // over the lookback period
  double utilization_pct = 0;
  double coverage_pct = 0;  // of the usage available to a new plan
};

struct SpScenario {
  int usage_drop_pct = 0;
  Decimal net_savings;  // of the recommended commitment
  double utilization_pct = 0;
  Decimal best_commitment;  // the optimum had usage been this much lower
  Decimal best_net_savings;
};

struct ExistingPlan {
  std::string arn;
  std::string usage_type;          // MachineLearningSP:1yrPartialUpfront
  Decimal hourly_commitment;       // latest TotalCommitmentToDate of its fee lines
  UnixSeconds start = 0, end = 0;  // 0 = unknown
  std::string end_source;          // how `end` was found
};

struct Recommendation {
  RecommendOptions options;
  UnixSeconds lookback_start = 0, lookback_end = 0;
  int64_t lookback_hours = 0;
  UnixSeconds term_start = 0;
  std::string account_id;  // payer
  std::string currency = "USD";

  // The lookback's eligible usage at on-demand rates.
  Decimal eligible_on_demand;  // all eligible usage (covered or not)
  Decimal current_on_demand;   // not covered by existing plans (CurrentOnDemandSpend)
  Decimal min_hourly_on_demand, max_hourly_on_demand, avg_hourly_on_demand;  // of the latter
  // Term-weighted (phases of existing plans), per lookback period:
  Decimal on_demand_with_current_commitment;

  // The recommendation (commitment 0 = buy nothing).
  Decimal hourly_commitment;
  Decimal net_savings;  // EstimatedSavingsAmount, over the lookback period
  Decimal sp_cost;      // commitment * lookback hours
  Decimal remaining_on_demand;
  Decimal covered_on_demand;
  double utilization_pct = 0;
  double coverage_pct = 0;        // new plan, of the usage available to it
  double total_coverage_pct = 0;  // existing + new plans, of all eligible usage
  Decimal upfront_cost;
  Decimal monthly_savings;  // 730 hours

  // Break-even.
  Decimal break_even_commitment;            // largest commitment that does not lose money
  double break_even_utilization_pct = 0;    // utilization below which the plan loses money
  double usage_drop_to_break_even_pct = 0;  // usage can fall this much before it does
  std::optional<double> upfront_payback_months;

  std::vector<SpCurvePoint> curve;
  std::vector<SpScenario> scenarios;
  std::vector<ExistingPlan> existing;
  struct Phase {
    UnixSeconds start = 0, end = 0;
    std::vector<std::string> active_plans;
  };
  std::vector<Phase> phases;
  std::string rate_source;
  std::vector<std::string> notes;
  size_t breakpoints = 0;
};

// InvalidArgument for an empty store or bad options; Corruption if a segment
// is damaged.
StatusOr<Recommendation> RecommendSavingsPlan(const store::Store& st, RecommendOptions opt);

nlohmann::json RecommendationToJson(const Recommendation& r);
std::string RecommendationToText(const Recommendation& r);

}  // namespace sagebox::plan
