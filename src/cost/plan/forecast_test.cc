#include "cost/plan/forecast.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/testing/temp_dir.h"
#include "cost/demo_gen.h"
#include "cost/ingest.h"

namespace sagebox::plan {
namespace {

std::vector<double> Weekly(int n, double base) {
  static constexpr double kShape[] = {1.0, 1.2, 1.3, 1.25, 1.1, 0.4, 0.3};
  std::vector<double> y;
  for (int t = 0; t < n; ++t) y.push_back(base * kShape[t % 7]);
  return y;
}

TEST(ForecastTest, RefusesShortHistory) {
  std::vector<double> y(13, 5.0);
  auto f = ForecastDaily(y, {});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("13 day(s)"), std::string::npos) << f.status().message();
  EXPECT_NE(f.status().message().find("at least 14"), std::string::npos);
  y.push_back(5.0);
  EXPECT_TRUE(ForecastDaily(y, {}).ok());
}

TEST(ForecastTest, RejectsBadOptions) {
  std::vector<double> y(30, 5.0);
  ForecastOptions o;
  o.level = 40;
  EXPECT_FALSE(ForecastDaily(y, o).ok());
  o.level = 80;
  o.horizon = 0;
  EXPECT_FALSE(ForecastDaily(y, o).ok());
}

TEST(ForecastTest, SeasonalNaiveRepeatsLastWeek) {
  auto y = Weekly(30, 10);
  auto f = PredictModel(Model::kSeasonalNaive, y, 10);
  for (int i = 0; i < 10; ++i) EXPECT_DOUBLE_EQ(f[i], y[static_cast<size_t>(30 - 7 + i % 7)]);
}

TEST(ForecastTest, RobustTrendFollowsALineThroughSpikes) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(100 + 2.0 * t);
  y[20] = 5000;  // a one-day spike must not bend the slope
  y[41] = 0;
  auto f = PredictModel(Model::kRobustTrend, y, 5);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(f[i], 100 + 2.0 * (60 + i), 1e-6);
}

TEST(ForecastTest, HoltWintersLearnsAWeeklyCycle) {
  auto y = Weekly(84, 50);
  auto f = PredictModel(Model::kHoltWinters, y, 14);
  for (int i = 0; i < 14; ++i) EXPECT_NEAR(f[i], y[static_cast<size_t>((84 + i) % 7)], 1.0) << i;
}

TEST(ForecastTest, PerfectCycleIsForecastExactlyWithZeroError) {
  auto y = Weekly(70, 20);
  ForecastOptions o;
  o.horizon = 14;
  auto f = ForecastDaily(y, o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->model, Model::kSeasonalNaive);  // first of the tied zero-error models
  EXPECT_NEAR(f->chosen.mase, 0, 1e-9);
  for (int i = 0; i < 14; ++i) {
    EXPECT_NEAR(f->mean[i], y[static_cast<size_t>((70 + i) % 7)], 1e-9);
    EXPECT_LE(f->lower[i], f->mean[i]);
    EXPECT_GE(f->upper[i], f->mean[i]);
  }
  EXPECT_EQ(f->scores.size(), 3u);
  EXPECT_GT(f->chosen.origins, 1);
}

TEST(ForecastTest, NoisyIntervalsCoverRoughlyTheirLevel) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 10);
  auto y = Weekly(120, 100);
  for (auto& v : y) v += noise(rng);
  ForecastOptions o;
  o.horizon = 14;
  auto f = ForecastDaily(y, o);
  ASSERT_TRUE(f.ok());
  EXPECT_GT(f->chosen.coverage, 0.6);
  EXPECT_LT(f->chosen.coverage, 0.97);
  EXPECT_GT(f->chosen.mape, 0);
  // Intervals widen with the horizon.
  EXPECT_GT(f->upper[13] - f->lower[13], f->upper[0] - f->lower[0]);
}

TEST(ForecastTest, ClampsAtZeroForNonNegativeHistory) {
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back(std::max(0.0, 40.0 - t));
  ForecastOptions o;
  o.horizon = 30;
  o.force_model = Model::kRobustTrend;
  auto f = ForecastDaily(y, o);
  ASSERT_TRUE(f.ok());
  for (int i = 0; i < 30; ++i) {
    EXPECT_GE(f->mean[i], 0);
    EXPECT_GE(f->lower[i], 0);
  }
}

TEST(ForecastTest, DecimalFromDouble) {
  EXPECT_EQ(DecimalFromDouble(1.25).ToString(), "1.25");
  EXPECT_EQ(DecimalFromDouble(-0.5).ToString(), "-0.5");
  EXPECT_TRUE(DecimalFromDouble(std::nan("")).is_zero());
}

class ForecastStoreTest : public ::testing::Test {
 protected:
  // One demo store for the whole suite: generating and ingesting it is the
  // slow part, and the tests only read it.
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("forecast");
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
  static inline testing::TempDir* dir_ = nullptr;
  static inline cost::DemoOptions opt_;
  static inline store::Store* store_ = nullptr;
};

TEST_F(ForecastStoreTest, DailySeriesLeavesOutOneOffCharges) {
  auto totals = cost::ComputeDemoTotals(opt_);
  ASSERT_TRUE(totals.ok());
  Decimal all, tax, credit;
  for (const auto& p : *totals) {
    all += p.unblended_cost;
    tax += p.tax_cost;
    credit += p.credit_cost;
  }
  ASSERT_FALSE(tax.is_zero());
  cost::Query q;
  q.from = *ParseDate("2024-01-01");
  q.to = *ParseDate("2024-03-01");
  auto full = DailySeries(*store_, q, {});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->size(), 60u);
  Decimal s;
  for (auto d : *full) s += d;
  EXPECT_EQ(s, all);
  auto net = DailySeries(*store_, q, {"Tax", "Credit"});
  ASSERT_TRUE(net.ok());
  Decimal s2;
  for (auto d : *net) s2 += d;
  EXPECT_EQ(s2, all - tax - credit);
}

TEST_F(ForecastStoreTest, ForecastCostDailyAndMonthly) {
  ForecastRequest req;
  req.horizon = 45;
  req.as_of = *ParseDate("2024-02-14");
  auto f = ForecastCost(*store_, req);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(FormatDate(f->start), "2024-02-15");
  EXPECT_EQ(f->periods.size(), 45u);
  EXPECT_EQ(FormatDate(f->train_from), "2024-01-01");  // clipped to the data
  Decimal sum;
  for (const auto& p : f->periods) sum += p.mean;
  EXPECT_EQ(sum, f->total_mean);
  auto j = ForecastToJson(*f);
  EXPECT_EQ(j["ForecastResultsByTime"].size(), 45u);
  EXPECT_TRUE(j["Total"]["Amount"].is_string());
  EXPECT_TRUE(j["Sagebox"]["Model"].is_string());

  req.granularity = cost::Granularity::kMonthly;
  auto m = ForecastCost(*store_, req);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->periods.size(), 2u);  // Feb 15-29, then March 1-30
  EXPECT_EQ(FormatDate(m->periods[0].end), "2024-03-01");
  EXPECT_EQ(FormatDate(m->periods[1].end), "2024-03-31");
  EXPECT_EQ(m->total_mean, f->total_mean);  // months sum the same days
}

TEST_F(ForecastStoreTest, RefusesTooLittleHistory) {
  ForecastRequest req;
  req.as_of = *ParseDate("2024-01-10");
  auto f = ForecastCost(*store_, req);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("not enough history"), std::string::npos);
}

}  // namespace
}  // namespace sagebox::plan
