// Savings Plans utilization, coverage and recommendation over a real store:
// hand-made line items with known answers, and the demo generator's data
// checked against independently computed sums (RunQuery by line item type
// and the generator's own totals).
#include "cost/plan/savings_plans.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/testing/temp_dir.h"
#include "cost/demo_gen.h"
#include "cost/ingest.h"
#include "cost/query.h"

namespace sagebox::plan {
namespace {

namespace fs = std::filesystem;
using cost::Granularity;

const char kHeader[] =
    "identity/LineItemId,bill/BillingPeriodStartDate,bill/PayerAccountId,lineItem/UsageAccountId,"
    "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,"
    "lineItem/UsageType,lineItem/UsageAmount,lineItem/UnblendedCost,pricing/publicOnDemandCost,"
    "savingsPlan/SavingsPlanARN,savingsPlan/SavingsPlanEffectiveCost,"
    "savingsPlan/TotalCommitmentToDate,savingsPlan/UsedCommitment,pricing/term\n";

const char kPlan[] = "arn:aws:savingsplans::111111111111:savingsplan/p1";
const char kCompute[] = "arn:aws:savingsplans::111111111111:savingsplan/c1";

class SavingsPlansTest : public ::testing::Test {
 protected:
  // One CSV line; `t` is the hour's start.
  static std::string Line(int id, const std::string& type, const std::string& t,
                          const std::string& product, const std::string& ut,
                          const std::string& cost, const std::string& pod = "",
                          const std::string& arn = "", const std::string& eff = "",
                          const std::string& total = "", const std::string& used = "",
                          const std::string& term = "OnDemand") {
    auto start = ParseTimestamp(t);
    EXPECT_TRUE(start.has_value()) << t;
    return std::to_string(id) + ",2024-03-01T00:00:00Z,111111111111,222222222222," + type + "," +
           t + "," + FormatTimestamp(*start + 3600) + "," + product + "," + ut + ",1," + cost +
           "," + pod + "," + arn + "," + eff + "," + total + "," + used + "," + term + "\n";
  }

  void Ingest(const std::string& csv) {
    fs::path p = fs::path(tmp_.path()) / ("in" + std::to_string(++files_) + ".csv");
    std::ofstream(p, std::ios::binary) << csv;
    auto r = cost::Ingest(Env::Default(), store_, {p.string()}, cost::IngestOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::unique_ptr<store::Store> Open() {
    auto st = store::Store::Open(Env::Default(), store_);
    EXPECT_TRUE(st.ok());
    return std::move(*st);
  }

  // The hand-made bill: a SageMaker plan ($0.5/h) over three hours and a
  // Compute plan ($1/h) over one, with covered, uncovered and ineligible usage.
  void IngestHandMade() {
    const std::string sm = "AmazonSageMaker", fee = "SavingsPlanRecurringFee";
    const std::string mlsp = "MachineLearningSavingsPlans", ut = "MachineLearningSP:1yrNoUpfront";
    std::string csv = kHeader;
    int id = 0;
    // 03-01 00:00: the plan is fully used by an endpoint hour.
    csv += Line(++id, fee, "2024-03-01T00:00:00Z", mlsp, ut, "0.5", "", kPlan, "", "0.5", "0.5");
    csv += Line(++id, "SavingsPlanCoveredUsage", "2024-03-01T00:00:00Z", sm,
                "USE1-Host:ml.m5.xlarge", "0.8", "0.8", kPlan, "0.5");
    csv += Line(++id, "SavingsPlanNegation", "2024-03-01T00:00:00Z", sm, "USE1-Host:ml.m5.xlarge",
                "-0.8", "", kPlan);
    csv +=
        Line(++id, "Usage", "2024-03-01T00:00:00Z", sm, "USE1-Notebk:ml.t3.medium", "0.05", "0.05");
    csv += Line(++id, "Usage", "2024-03-01T00:00:00Z", sm, "USE1-Notebk:VolumeUsage.gp2", "0.01",
                "0.01");
    csv += Line(++id, "Usage", "2024-03-01T00:00:00Z", sm, "USE1-Train-Spot:ml.p3.2xlarge", "0.9",
                "3.06", "", "", "", "", "Spot");
    // 03-01 01:00: 0.2 of 0.5 used; the covered line has no public on-demand cost.
    csv += Line(++id, fee, "2024-03-01T01:00:00Z", mlsp, ut, "0.5", "", kPlan, "", "0.5", "0.2");
    csv += Line(++id, "SavingsPlanCoveredUsage", "2024-03-01T01:00:00Z", sm,
                "USE1-Processing:ml.m5.large", "0.3125", "", kPlan, "0.2");
    // 03-02 00:00: unused; an uncovered endpoint hour.
    csv += Line(++id, fee, "2024-03-02T00:00:00Z", mlsp, ut, "0.5", "", kPlan, "", "0.5", "0");
    csv += Line(++id, "Usage", "2024-03-02T00:00:00Z", sm, "USW2-Host:ml.g4dn.xlarge", "0.736",
                "0.736");
    // A Compute Savings Plan covering EC2: in utilization, never in SageMaker coverage.
    csv += Line(++id, fee, "2024-03-01T00:00:00Z", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront",
                "1", "", kCompute, "", "1", "1");
    csv += Line(++id, "SavingsPlanCoveredUsage", "2024-03-01T00:00:00Z", "AmazonEC2",
                "BoxUsage:m5.large", "1.5", "1.5", kCompute, "1");
    Ingest(csv);
  }

  sagebox::testing::TempDir tmp_{"sp"};
  std::string store_ = tmp_.Path("store");
  int files_ = 0;
};

TEST_F(SavingsPlansTest, UtilizationIsExactOnHandMadeLines) {
  IngestHandMade();
  auto st = Open();
  SpReportOptions o;
  o.from = *ParseDate("2024-03-01");
  o.to = *ParseDate("2024-04-01");
  auto u = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  ASSERT_EQ(u->by_time.size(), 1u);
  const auto& t = u->total;
  EXPECT_EQ(t.total_commitment.ToString(), "2.5");
  EXPECT_EQ(t.used_commitment.ToString(), "1.7");
  EXPECT_EQ(t.unused_commitment().ToString(), "0.8");
  EXPECT_EQ(t.utilization_percentage().ToString(), "68");
  EXPECT_EQ(t.on_demand_cost_equivalent.ToString(), "2.6125");
  EXPECT_EQ(t.amortized_recurring.ToString(), "2.5");
  EXPECT_EQ(t.amortized_upfront.ToString(), "0");
  EXPECT_EQ(t.net_savings().ToString(), "0.1125");

  o.sagemaker_only = true;
  u = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->total.total_commitment.ToString(), "1.5");
  EXPECT_EQ(u->total.used_commitment.ToString(), "0.7");
  EXPECT_EQ(u->total.utilization_percentage().ToString(), "46.6666666667");
  EXPECT_EQ(u->total.on_demand_cost_equivalent.ToString(), "1.1125");
  EXPECT_EQ(u->total.net_savings().ToString(), "-0.3875");

  o.granularity = Granularity::kDaily;
  u = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->by_time.size(), 31u);
  EXPECT_EQ(u->by_time[0].amounts.total_commitment.ToString(), "1");
  EXPECT_EQ(u->by_time[0].amounts.used_commitment.ToString(), "0.7");
  EXPECT_EQ(u->by_time[1].amounts.total_commitment.ToString(), "0.5");
  EXPECT_EQ(u->by_time[1].amounts.utilization_percentage().ToString(), "0");
  EXPECT_TRUE(u->by_time[2].amounts.total_commitment.is_zero());

  o.granularity = Granularity::kHourly;
  o.to = *ParseDate("2024-03-02");
  u = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(u->by_time.size(), 24u);
  EXPECT_EQ(u->by_time[1].amounts.utilization_percentage().ToString(), "40");
  EXPECT_EQ(u->by_time[1].amounts.on_demand_cost_equivalent.ToString(), "0.3125");
}

TEST_F(SavingsPlansTest, CoverageIsExactOnHandMadeLines) {
  IngestHandMade();
  auto st = Open();
  SpReportOptions o;
  o.from = *ParseDate("2024-03-01");
  o.to = *ParseDate("2024-03-03");
  o.granularity = Granularity::kDaily;
  auto c = GetSavingsPlansCoverage(*st, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // Covered: the two SageMaker covered lines at on-demand (0.8 and, without a
  // public on-demand cost, the unblended 0.3125). On demand: the t3 notebook
  // and the g4dn endpoint; not storage, not Spot, not EC2.
  EXPECT_EQ(c->total.spend_covered.ToString(), "1.1125");
  EXPECT_EQ(c->total.on_demand_cost.ToString(), "0.786");
  EXPECT_EQ(c->total.total_cost().ToString(), "1.8985");
  EXPECT_EQ(c->total.coverage_percentage().ToString(), "58.5988938636");
  ASSERT_EQ(c->by_time.size(), 2u);
  EXPECT_EQ(c->by_time[0].amounts.coverage_percentage().ToString(),
            Decimal::Div(Decimal::FromInt(11125) * 100, Decimal::FromInt(11625)).ToString());
  EXPECT_EQ(c->by_time[1].amounts.coverage_percentage().ToString(), "0");
}

TEST_F(SavingsPlansTest, JsonShapesAreAws) {
  IngestHandMade();
  auto st = Open();
  SpReportOptions o;
  o.granularity = Granularity::kDaily;
  o.from = *ParseDate("2024-03-01");
  o.to = *ParseDate("2024-03-03");
  auto u = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(u.ok());
  auto j = UtilizationToJson(*u);
  ASSERT_TRUE(j["SavingsPlansUtilizationsByTime"].is_array());
  ASSERT_EQ(j["SavingsPlansUtilizationsByTime"].size(), 2u);
  const auto& d0 = j["SavingsPlansUtilizationsByTime"][0];
  EXPECT_EQ(d0["TimePeriod"]["Start"], "2024-03-01");
  EXPECT_EQ(d0["TimePeriod"]["End"], "2024-03-02");
  for (const char* k :
       {"TotalCommitment", "UsedCommitment", "UnusedCommitment", "UtilizationPercentage"}) {
    EXPECT_TRUE(d0["Utilization"][k].is_string()) << k;
  }
  EXPECT_TRUE(d0["Savings"]["NetSavings"].is_string());
  EXPECT_TRUE(d0["Savings"]["OnDemandCostEquivalent"].is_string());
  for (const char* k :
       {"AmortizedRecurringCommitment", "AmortizedUpfrontCommitment", "TotalAmortizedCommitment"}) {
    EXPECT_TRUE(d0["AmortizedCommitment"][k].is_string()) << k;
  }
  EXPECT_EQ(j["Total"]["Utilization"]["TotalCommitment"], "2.5");
  EXPECT_EQ(j["Total"]["Utilization"]["UtilizationPercentage"], "68");

  auto c = GetSavingsPlansCoverage(*st, o);
  ASSERT_TRUE(c.ok());
  auto jc = CoverageToJson(*c);
  ASSERT_EQ(jc["SavingsPlansCoverages"].size(), 2u);
  const auto& c0 = jc["SavingsPlansCoverages"][0];
  EXPECT_EQ(c0["TimePeriod"]["Start"], "2024-03-01");
  EXPECT_EQ(c0["Coverage"]["SpendCoveredBySavingsPlans"], "1.1125");
  EXPECT_EQ(c0["Coverage"]["OnDemandCost"], "0.05");
  EXPECT_EQ(c0["Coverage"]["TotalCost"], "1.1625");
  EXPECT_TRUE(c0["Coverage"]["CoveragePercentage"].is_string());
  EXPECT_TRUE(c0["Attributes"].is_object());

  o.granularity = Granularity::kHourly;
  auto uh = GetSavingsPlansUtilization(*st, o);
  ASSERT_TRUE(uh.ok());
  EXPECT_EQ(UtilizationToJson(*uh)["SavingsPlansUtilizationsByTime"][1]["TimePeriod"]["Start"],
            "2024-03-01T01:00:00Z");
}

TEST_F(SavingsPlansTest, DefaultRangeIsTheDataMonthsAndEmptyStoreIsAnError) {
  auto st = Open();
  EXPECT_EQ(GetSavingsPlansUtilization(*st, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RecommendSavingsPlan(*st, {}).status().code(), StatusCode::kInvalidArgument);
  IngestHandMade();
  st = Open();
  auto u = GetSavingsPlansUtilization(*st, {});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(FormatDate(u->options.from), "2024-03-01");
  EXPECT_EQ(FormatDate(u->options.to), "2024-04-01");
  SpReportOptions bad;
  bad.from = *ParseDate("2024-03-02");
  bad.to = *ParseDate("2024-03-01");
  EXPECT_EQ(GetSavingsPlansCoverage(*st, bad).status().code(), StatusCode::kInvalidArgument);
}

// Steady $1/h of notebook usage for 7 days plus $3 more in the first 24
// hours, no Savings Plans in the bill, a flat 50% discount.
TEST_F(SavingsPlansTest, RecommendFindsTheFloorOnASimpleBill) {
  std::string csv = kHeader;
  const UnixSeconds t0 = *ParseTimestamp("2024-03-01T00:00:00Z");
  int id = 0;
  for (int h = 0; h < 7 * 24; ++h) {
    std::string t = FormatTimestamp(t0 + h * 3600);
    csv += Line(++id, "Usage", t, "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "1", "1");
    if (h < 24)
      csv += Line(++id, "Usage", t, "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "3", "3");
  }
  Ingest(csv);
  auto st = Open();
  RecommendOptions o;
  o.lookback_days = 7;
  o.discount_pct = 50;
  auto r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lookback_hours, 168);
  EXPECT_EQ(FormatTimestamp(r->lookback_start), "2024-03-01T00:00:00Z");
  // Every hour has at least $1 on demand = $0.5 at the SP rate; above that
  // only 24 of 168 hours gain: the optimum is the floor.
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.5");
  EXPECT_EQ(r->net_savings.ToString(), "84");
  EXPECT_DOUBLE_EQ(r->utilization_pct, 100.0);
  EXPECT_EQ(r->current_on_demand.ToString(), "240");
  EXPECT_EQ(r->min_hourly_on_demand.ToString(), "1");
  EXPECT_EQ(r->max_hourly_on_demand.ToString(), "4");
  // f(c) = 84 - 120 (c - 0.5) on [0.5, 2]: zero at 1.2.
  EXPECT_NEAR(r->break_even_commitment.ToDouble(), 1.2, 1e-8);
  EXPECT_NEAR(r->break_even_utilization_pct, 50.0, 1e-9);
  // At usage x f: 144 (f - 0.5) + 24 * 0.5 = 0 at f = 5/12.
  EXPECT_NEAR(r->usage_drop_to_break_even_pct, 100.0 * 7 / 12, 1e-3);
  ASSERT_EQ(r->scenarios.size(), 3u);
  EXPECT_EQ(r->scenarios[0].usage_drop_pct, 10);
  // -10%: each regular hour covers 0.9 for 0.5; spike hours still use it all.
  EXPECT_EQ(r->scenarios[0].net_savings.ToString(), "69.6");
  EXPECT_EQ(r->scenarios[0].best_commitment.ToString(), "0.45");
  EXPECT_NE(r->rate_source.find("--discount"), std::string::npos);
  // The curve holds the optimum and the break-even point.
  bool has_opt = false;
  for (const auto& p : r->curve) has_opt |= p.commitment == r->hourly_commitment;
  EXPECT_TRUE(has_opt);

  auto j = RecommendationToJson(*r);
  const auto& rec = j["SavingsPlansPurchaseRecommendation"];
  EXPECT_EQ(rec["SavingsPlansType"], "SAGEMAKER_SP");
  EXPECT_EQ(rec["TermInYears"], "ONE_YEAR");
  EXPECT_EQ(rec["PaymentOption"], "NO_UPFRONT");
  EXPECT_EQ(rec["LookbackPeriodInDays"], "SEVEN_DAYS");
  const auto& s = rec["SavingsPlansPurchaseRecommendationSummary"];
  EXPECT_EQ(s["HourlyCommitmentToPurchase"], "0.5");
  EXPECT_EQ(s["DailyCommitmentToPurchase"], "12");
  EXPECT_EQ(s["EstimatedSavingsAmount"], "84");
  EXPECT_EQ(s["CurrentOnDemandSpend"], "240");
  EXPECT_EQ(s["EstimatedSavingsPercentage"], "35.00");
  EXPECT_EQ(s["EstimatedTotalCost"], "156");
  EXPECT_EQ(s["TotalRecommendationCount"], "1");
  const auto& d = rec["SavingsPlansPurchaseRecommendationDetails"][0];
  EXPECT_EQ(d["EstimatedSPCost"], "84");
  EXPECT_EQ(d["EstimatedOnDemandCost"], "72");
  EXPECT_EQ(d["EstimatedAverageUtilization"], "100.00");
  EXPECT_EQ(d["UpfrontCost"], "0");
  EXPECT_EQ(d["EstimatedROI"], "100.00");
  EXPECT_EQ(d["CurrentAverageHourlyOnDemandSpend"], "1.4285714286");
  EXPECT_TRUE(j["Metadata"]["GenerationTimestamp"].is_string());
  EXPECT_TRUE(j["Sagebox"]["SavingsVsCommitmentCurve"].is_array());
  EXPECT_EQ(j["Sagebox"]["Scenarios"].size(), 3u);
  EXPECT_TRUE(j["Sagebox"]["BreakEven"]["BreakEvenHourlyCommitment"].is_string());

  // All upfront over 3 years: the upfront is the whole term's commitment.
  o.term = SpTerm::kThreeYears;
  o.payment = SpPayment::kAllUpfront;
  r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->upfront_cost.ToString(), "13140");
  // Without --discount and without SP lines: the published ceiling, said so.
  o.discount_pct.reset();
  r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->rate_source.find("up to 64%"), std::string::npos);
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.36");
}

// A daily export: one line per day spanning 24 hours is spread over them.
TEST_F(SavingsPlansTest, DailyLinesAreSpreadOverTheirHours) {
  std::string csv = kHeader;
  const UnixSeconds t0 = *ParseTimestamp("2024-03-01T00:00:00Z");
  for (int d = 0; d < 7; ++d) {
    std::string line = Line(d + 1, "Usage", FormatTimestamp(t0 + d * 86400), "AmazonSageMaker",
                            "USE1-Host:ml.m5.xlarge", "24", "24");
    // Line() writes a one-hour end; make it the day's end.
    const std::string one_hour = FormatTimestamp(t0 + d * 86400 + 3600);
    line.replace(line.find(one_hour), one_hour.size(), FormatTimestamp(t0 + (d + 1) * 86400));
    csv += line;
  }
  Ingest(csv);
  auto st = Open();
  RecommendOptions o;
  o.lookback_days = 7;
  o.discount_pct = 50;
  auto r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->min_hourly_on_demand.ToString(), "1");
  EXPECT_EQ(r->max_hourly_on_demand.ToString(), "1");
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.5");
  EXPECT_EQ(r->net_savings.ToString(), "84");
}

TEST_F(SavingsPlansTest, ExpiringPlanFreesItsUsageForPartOfTheTerm) {
  // 7 days of one $1/h endpoint fully covered by a $0.6/h plan whose fees
  // run to the end of the data (so its end is unknown), and a notebook.
  std::string csv = kHeader;
  const UnixSeconds t0 = *ParseTimestamp("2024-03-01T00:00:00Z");
  int id = 0;
  for (int h = 0; h < 7 * 24; ++h) {
    std::string t = FormatTimestamp(t0 + h * 3600);
    csv += Line(++id, "SavingsPlanRecurringFee", t, "MachineLearningSavingsPlans",
                "MachineLearningSP:1yrNoUpfront", "0.6", "", kPlan, "", "0.6", "0.6");
    csv += Line(++id, "SavingsPlanCoveredUsage", t, "AmazonSageMaker", "USE1-Host:ml.m5.xlarge",
                "1", "1", kPlan, "0.6");
    csv += Line(++id, "Usage", t, "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", "0.05", "0.05");
  }
  Ingest(csv);
  auto st = Open();
  RecommendOptions o;
  o.lookback_days = 7;
  // Unknown end: the plan is assumed to stay, so only the notebook is left.
  auto r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->existing.size(), 1u);
  EXPECT_EQ(r->existing[0].end, 0);
  EXPECT_EQ(r->existing[0].hourly_commitment.ToString(), "0.6");
  EXPECT_EQ(r->phases.size(), 1u);
  // Rates from the bill: 0.6 / 1 for the endpoint; the notebook gets the average.
  EXPECT_NE(r->rate_source.find("bill"), std::string::npos);
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.03");
  EXPECT_EQ(r->current_on_demand.ToString(), "8.4");
  // Ending half-way (182.5 days after the term starts): the endpoint is free
  // for a new plan for half the term, worth (1 - 0.6) per hour there.
  o.plan_ends.push_back({"p1", r->term_start + 4380 * 3600});
  r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->phases.size(), 2u);
  EXPECT_EQ(r->phases[0].active_plans.size(), 1u);
  EXPECT_TRUE(r->phases[1].active_plans.empty());
  // Half a term of the endpoint does not pay for a whole term's commitment:
  // f(0.63) = 0.5*168*(0.05 - 0.63) + 0.5*168*(1.05 - 0.63) = -13.44, while
  // f(0.03) = 168*(0.05 - 0.03) = 3.36. The optimum stays at the notebook.
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.03");
  EXPECT_EQ(r->existing[0].end_source, "given with --plan-end");
  // Ending right at the term start: all usage is free for the new plan.
  o.plan_ends.back().second = r->term_start;
  r = RecommendSavingsPlan(*st, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hourly_commitment.ToString(), "0.63");
  EXPECT_EQ(r->net_savings.ToString(), "70.56");  // 168 * (1.05 - 0.63)
}

// The demo's bill, checked against sums computed another way.
TEST_F(SavingsPlansTest, DemoDataMatchesIndependentSums) {
  cost::DemoOptions d;
  d.months = 2;
  auto files = cost::WriteDemoExport(tmp_.Path("exp"), cost::DemoFormat::kLegacyCsv, d);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto ing = cost::Ingest(Env::Default(), store_, {tmp_.Path("exp")}, cost::IngestOptions{});
  ASSERT_TRUE(ing.ok()) << ing.status().ToString();
  auto truth = cost::ComputeDemoTotals(d);
  ASSERT_TRUE(truth.ok());
  auto st = Open();

  SpReportOptions o;
  o.from = *ParseDate("2024-01-01");
  o.to = *ParseDate("2024-03-01");
  auto u = GetSavingsPlansUtilization(*st, o);
  auto c = GetSavingsPlansCoverage(*st, o);
  ASSERT_TRUE(u.ok() && c.ok());

  auto sum = [&](const std::string& filter, cost::Metric m) {
    cost::Query q;
    q.from = o.from;
    q.to = o.to;
    q.metrics = {m};
    for (const auto& f : {std::string("LINE_ITEM_TYPE=") + filter})
      q.filters.push_back(*cost::ParseFilter(f));
    auto r = cost::RunQuery(*st, q);
    EXPECT_TRUE(r.ok());
    Decimal s;
    for (const auto& b : r->buckets) s += b.total[0];
    return s;
  };
  // The generator's own total of covered usage (at on-demand rates).
  Decimal covered;
  for (const auto& t : *truth) covered += t.sp_covered_cost;
  EXPECT_EQ(u->total.on_demand_cost_equivalent, covered);
  EXPECT_EQ(c->total.spend_covered, covered);
  // Used commitment = amortized cost (SP effective cost) of covered usage;
  // unused = amortized cost of the recurring fee; recurring = its unblended.
  EXPECT_EQ(u->total.used_commitment, sum("SavingsPlanCoveredUsage", cost::Metric::kAmortized));
  EXPECT_EQ(u->total.unused_commitment(), sum("SavingsPlanRecurringFee", cost::Metric::kAmortized));
  EXPECT_EQ(u->total.amortized_recurring, sum("SavingsPlanRecurringFee", cost::Metric::kUnblended));
  EXPECT_GT(u->total.used_commitment.raw(), 0);
  EXPECT_GT(u->total.amortized_upfront.raw(), 0);

  // On demand: Usage lines of ml.* instances, minus Spot training.
  cost::Query q;
  q.from = o.from;
  q.to = o.to;
  q.filters = {*cost::ParseFilter("LINE_ITEM_TYPE=Usage"),
               *cost::ParseFilter("SERVICE=AmazonSageMaker"),
               *cost::ParseFilter("INSTANCE_TYPE~ml.")};
  q.group_by = {*cost::ParseDimension("USAGE_KIND")};
  auto r = cost::RunQuery(*st, q);
  ASSERT_TRUE(r.ok());
  Decimal od;
  for (const auto& b : r->buckets) {
    for (const auto& g : b.groups) {
      if (g.keys[0] != "Train-Spot") od += g.values[0];
    }
  }
  EXPECT_EQ(c->total.on_demand_cost, od);

  // Daily and hourly buckets add up to the monthly totals exactly.
  for (Granularity g : {Granularity::kDaily, Granularity::kHourly}) {
    o.granularity = g;
    auto ug = GetSavingsPlansUtilization(*st, o);
    auto cg = GetSavingsPlansCoverage(*st, o);
    ASSERT_TRUE(ug.ok() && cg.ok());
    Decimal tc, used, sc, odc;
    for (const auto& p : ug->by_time)
      tc += p.amounts.total_commitment, used += p.amounts.used_commitment;
    for (const auto& p : cg->by_time)
      sc += p.amounts.spend_covered, odc += p.amounts.on_demand_cost;
    EXPECT_EQ(tc, u->total.total_commitment);
    EXPECT_EQ(used, u->total.used_commitment);
    EXPECT_EQ(sc, c->total.spend_covered);
    EXPECT_EQ(odc, c->total.on_demand_cost);
  }

  // The recommendation uses the bill's rates (the demo's 36% discount) and
  // knows when the demo's plan ends.
  RecommendOptions ro;
  auto rec = RecommendSavingsPlan(*st, ro);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_NE(rec->rate_source.find("36.00% off"), std::string::npos) << rec->rate_source;
  ASSERT_EQ(rec->existing.size(), 1u);
  EXPECT_EQ(FormatDate(DayOf(rec->existing[0].start)), "2024-01-01");
  EXPECT_NE(rec->existing[0].end, 0);
  EXPECT_GT(rec->hourly_commitment.raw(), 0);
  EXPECT_GT(rec->net_savings.raw(), 0);
}

TEST(SavingsPlansParse, FlagSpellings) {
  EXPECT_EQ(*ParseTerm("ONE_YEAR"), SpTerm::kOneYear);
  EXPECT_EQ(*ParseTerm("3"), SpTerm::kThreeYears);
  EXPECT_FALSE(ParseTerm("2").ok());
  EXPECT_EQ(*ParsePayment("partial"), SpPayment::kPartialUpfront);
  EXPECT_EQ(*ParsePayment("ALL_UPFRONT"), SpPayment::kAllUpfront);
  EXPECT_FALSE(ParsePayment("some").ok());
  EXPECT_EQ(*ParseLookbackDays("SIXTY_DAYS"), 60);
  EXPECT_EQ(*ParseLookbackDays("7"), 7);
  EXPECT_FALSE(ParseLookbackDays("14").ok());
  EXPECT_EQ(TermHours(SpTerm::kThreeYears), 26280);
}

}  // namespace
}  // namespace sagebox::plan
