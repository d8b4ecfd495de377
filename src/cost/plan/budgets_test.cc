#include "cost/plan/budgets.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "cost/demo_gen.h"
#include "cost/ingest.h"
#include "cost/plan/forecast.h"

namespace sagebox::plan {
namespace {

// describe-budgets output as the AWS CLI prints it, with notifications both
// inside a budget and in the top-level map.
constexpr char kFile[] = R"({
  "Budgets": [
    {
      "BudgetName": "sagemaker-monthly",
      "BudgetLimit": {"Amount": "1000.0", "Unit": "USD"},
      "CostFilters": {"Service": ["Amazon SageMaker"], "TagKeyValue": ["user:team$ml", "user:team$"]},
      "CostTypes": {"IncludeTax": false, "IncludeCredit": false, "UseAmortized": true},
      "TimeUnit": "MONTHLY",
      "TimePeriod": {"Start": "2024-01-01T00:00:00+00:00", "End": "2087-06-15T00:00:00+00:00"},
      "CalculatedSpend": {"ActualSpend": {"Amount": "0", "Unit": "USD"}},
      "BudgetType": "COST",
      "Notifications": [
        {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.0,
         "ThresholdType": "PERCENTAGE", "NotificationState": "OK"}
      ]
    },
    {
      "BudgetName": "sp-util",
      "BudgetLimit": {"Amount": "90", "Unit": "PERCENTAGE"},
      "TimeUnit": "DAILY",
      "BudgetType": "SAVINGS_PLANS_UTILIZATION"
    }
  ],
  "Notifications": {
    "sp-util": {"Notifications": [
      {"NotificationType": "ACTUAL", "ComparisonOperator": "LESS_THAN", "Threshold": 100}
    ]}
  }
})";

TEST(BudgetsParseTest, ReadsAwsShapes) {
  auto b = ParseBudgets(kFile, "b.json");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->size(), 2u);
  const auto& m = (*b)[0];
  EXPECT_EQ(m.name, "sagemaker-monthly");
  EXPECT_EQ(m.limit.ToString(), "1000");
  EXPECT_EQ(m.time_unit, TimeUnit::kMonthly);
  EXPECT_FALSE(m.cost_types.include_tax);
  EXPECT_FALSE(m.cost_types.include_credit);
  EXPECT_TRUE(m.cost_types.include_refund);
  EXPECT_TRUE(m.cost_types.use_amortized);
  ASSERT_EQ(m.filters.size(), 2u);
  EXPECT_EQ(m.filters[0].values, std::vector<std::string>{"AmazonSageMaker"});
  EXPECT_EQ(m.filters[1].dim.kind, cost::DimKind::kTag);
  EXPECT_EQ(m.filters[1].dim.tag_key, "team");
  EXPECT_EQ(m.filters[1].values, (std::vector<std::string>{"ml", ""}));
  EXPECT_EQ(FormatDate(m.start), "2024-01-01");
  ASSERT_EQ(m.notifications.size(), 1u);
  EXPECT_EQ(m.notifications[0].threshold, 80.0);
  const auto& s = (*b)[1];
  EXPECT_EQ(s.type, BudgetType::kSavingsPlansUtilization);
  ASSERT_EQ(s.notifications.size(), 1u);
  EXPECT_EQ(s.notifications[0].comparison_operator, "LESS_THAN");
  EXPECT_EQ(s.notifications[0].threshold_type, "PERCENTAGE");  // AWS's default
}

TEST(BudgetsParseTest, BadInputNamesTheField) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"{", "not valid JSON"},
      {R"({"Budgets": [{"BudgetName": "x", "BudgetType": "RI_UTILIZATION",
           "BudgetLimit": {"Amount": "1", "Unit": "USD"}}]})",
       "Budgets[0] (x).BudgetType"},
      {R"({"Budgets": [{"BudgetName": "x", "BudgetType": "COST",
           "BudgetLimit": {"Amount": "abc", "Unit": "USD"}}]})",
       "BudgetLimit.Amount"},
      {R"({"Budgets": [{"BudgetName": "x", "BudgetType": "COST",
           "BudgetLimit": {"Amount": "1", "Unit": "USD"},
           "Notifications": [{"NotificationType": "ACTUAL", "ComparisonOperator": "ABOVE",
                              "Threshold": 1}]}]})",
       "ComparisonOperator"},
      {R"({"Budgets": [], "Notifications": {"ghost": []}})", "no budget has this name"},
  };
  for (const auto& c : cases) {
    auto b = ParseBudgets(c.text, "b.json");
    ASSERT_FALSE(b.ok()) << c.text;
    EXPECT_EQ(b.status().code(), StatusCode::kBadInput);
    EXPECT_NE(b.status().message().find(c.want), std::string::npos) << b.status().message();
    EXPECT_EQ(b.status().message().rfind("b.json", 0), 0u);
  }
}

TEST(BudgetsTest, Periods) {
  Days d = *ParseDate("2024-05-17");
  auto m = BudgetPeriod(TimeUnit::kMonthly, d);
  EXPECT_EQ(FormatDate(m.first), "2024-05-01");
  EXPECT_EQ(FormatDate(m.second), "2024-06-01");
  auto q = BudgetPeriod(TimeUnit::kQuarterly, d);
  EXPECT_EQ(FormatDate(q.first), "2024-04-01");
  EXPECT_EQ(FormatDate(q.second), "2024-07-01");
  auto q4 = BudgetPeriod(TimeUnit::kQuarterly, *ParseDate("2024-11-30"));
  EXPECT_EQ(FormatDate(q4.second), "2025-01-01");
  auto y = BudgetPeriod(TimeUnit::kAnnually, d);
  EXPECT_EQ(FormatDate(y.first), "2024-01-01");
  EXPECT_EQ(FormatDate(y.second), "2025-01-01");
  EXPECT_EQ(BudgetPeriod(TimeUnit::kDaily, d).second, d + 1);
}

class BudgetsStoreTest : public ::testing::Test {
 protected:
  // One demo store for the whole suite: generating and ingesting it is the
  // slow part, and the tests only read it.
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("budgets");
    opt_.months = 2;
    auto files = cost::WriteDemoExport(dir_->Path("exports"), cost::DemoFormat::kLegacyCsv, opt_);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    auto r = cost::Ingest(Env::Default(), dir_->Path("store"), {dir_->Path("exports")}, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto st = store::Store::Open(Env::Default(), dir_->Path("store"));
    ASSERT_TRUE(st.ok());
    store_ = st->release();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }
  // February's exact spend to `last` (inclusive), without `exclude`.
  Decimal Spend(const char* last, const std::vector<std::string>& exclude) {
    cost::Query q;
    q.from = *ParseDate("2024-02-01");
    q.to = *ParseDate(last) + 1;
    auto s = DailySeries(*store_, q, exclude);
    EXPECT_TRUE(s.ok());
    Decimal t;
    for (auto d : *s) t += d;
    return t;
  }
  Budget CostBudget(const std::string& limit) {
    Budget b;
    b.name = "all";
    EXPECT_TRUE(Decimal::Parse(limit, &b.limit));
    b.notifications.push_back({"ACTUAL", "GREATER_THAN", 50, "PERCENTAGE"});
    b.notifications.push_back({"ACTUAL", "GREATER_THAN", 100, "PERCENTAGE"});
    b.notifications.push_back({"FORECASTED", "GREATER_THAN", 100, "PERCENTAGE"});
    return b;
  }
  static inline testing::TempDir* dir_ = nullptr;
  testing::TempDir state_{"budget_state"};
  static inline cost::DemoOptions opt_;
  static inline store::Store* store_ = nullptr;
};

TEST_F(BudgetsStoreTest, ActualAndForecastedThresholds) {
  Decimal spent = Spend("2024-02-10", {});
  ASSERT_FALSE(spent.is_zero());
  // Limit = 1.5 x spend so far: 50% fires, 100% does not; by month end the
  // forecast passes 100%.
  Budget b = CostBudget(
      Decimal::Div(Decimal::Mul(spent, Decimal::FromInt(3)), Decimal::FromInt(2)).ToString());
  CheckOptions opt;
  opt.as_of = *ParseDate("2024-02-10");
  auto r = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const auto& s = (*r)[0];
  ASSERT_TRUE(s.error.ok()) << s.error.ToString();
  EXPECT_EQ(s.actual, spent);
  EXPECT_EQ(FormatDate(s.period_start), "2024-02-01");
  ASSERT_TRUE(s.forecast.has_value()) << s.note;
  EXPECT_GT(*s.forecast, s.actual);
  ASSERT_EQ(s.alerts.size(), 2u);
  EXPECT_EQ(s.alerts[0].notification.threshold, 50);
  EXPECT_EQ(s.alerts[1].notification.notification_type, "FORECASTED");
  EXPECT_NE(s.alerts[0].Text().find("Budget 'all': actual "), std::string::npos);
}

TEST_F(BudgetsStoreTest, CostTypesChangeWhatIsCounted) {
  Budget b = CostBudget("1000000");
  b.cost_types.include_tax = false;
  b.cost_types.include_credit = false;
  CheckOptions opt;
  opt.as_of = *ParseDate("2024-02-29");
  auto r = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].actual, Spend("2024-02-29", {"Tax", "Credit"}));
  EXPECT_NE((*r)[0].actual, Spend("2024-02-29", {}));
}

TEST_F(BudgetsStoreTest, SavingsPlansBudgetsAskTheProvider) {
  auto parsed = ParseBudgets(kFile, "b.json");
  ASSERT_TRUE(parsed.ok());
  CheckOptions opt;
  opt.as_of = *ParseDate("2024-02-10");
  std::string asked;
  opt.savings_plans = [&](std::string_view type, Days from, Days to) -> StatusOr<double> {
    asked = std::string(type) + " " + FormatDate(from) + " " + FormatDate(to);
    return 85.5;
  };
  auto r = CheckBudgets(*store_, *parsed, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(asked, "SAVINGS_PLANS_UTILIZATION 2024-02-10 2024-02-11");
  const auto& sp = (*r)[1];
  EXPECT_EQ(sp.actual.ToString(), "85.5");
  ASSERT_EQ(sp.alerts.size(), 1u);  // 85.5 < 100% of 90
  EXPECT_EQ(sp.alerts[0].threshold.ToString(), "90");

  opt.savings_plans = [](std::string_view, Days, Days) -> StatusOr<double> {
    return Unimplemented("not yet");
  };
  auto r2 = CheckBudgets(*store_, *parsed, opt);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)[1].error.code(), StatusCode::kUnimplemented);
  EXPECT_TRUE((*r2)[1].alerts.empty());
}

TEST_F(BudgetsStoreTest, AlertsFireOncePerPeriodPerThreshold) {
  Budget b = CostBudget("1");  // everything fires
  b.notifications.pop_back();
  CheckOptions opt;
  opt.as_of = *ParseDate("2024-01-20");
  Env* env = Env::Default();
  auto state = LoadAlertState(env, state_.path());
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->empty());

  auto r = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ApplyAlertState(&*r, &*state, opt.as_of), 2);
  ASSERT_TRUE(SaveAlertState(env, state_.path(), *state).ok());

  // Same period, later day: nothing new.
  opt.as_of = *ParseDate("2024-01-25");
  auto state2 = LoadAlertState(env, state_.path());
  ASSERT_TRUE(state2.ok());
  auto r2 = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(ApplyAlertState(&*r2, &*state2, opt.as_of), 0);
  EXPECT_TRUE((*r2)[0].alerts[0].already_fired);
  EXPECT_EQ((*r2)[0].alerts[0].fired_on, "2024-01-20");
  EXPECT_NE(BudgetsToText(*r2).find("alerted on 2024-01-20"), std::string::npos);

  // Next month: fires again.
  opt.as_of = *ParseDate("2024-02-03");
  auto r3 = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(ApplyAlertState(&*r3, &*state2, opt.as_of), 2);
}

TEST_F(BudgetsStoreTest, DamagedStateIsCorruption) {
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(state_.Path("budget_alerts.json"), "[1,2").ok());
  auto s = LoadAlertState(Env::Default(), state_.path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
}

TEST_F(BudgetsStoreTest, OutsideTimePeriodIsInactive) {
  Budget b = CostBudget("1");
  b.start = *ParseDate("2025-01-01");
  CheckOptions opt;
  opt.as_of = *ParseDate("2024-02-10");
  auto r = CheckBudgets(*store_, {b}, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].active);
  EXPECT_TRUE((*r)[0].alerts.empty());
}

}  // namespace
}  // namespace sagebox::plan
