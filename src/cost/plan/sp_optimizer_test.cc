// The exact optimizer against an independent brute force on random inputs.
#include "cost/plan/sp_optimizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace sagebox::plan {
namespace {

Decimal D(const char* s) {
  Decimal d;
  EXPECT_TRUE(Decimal::Parse(s, &d)) << s;
  return d;
}

// Independent evaluation in doubles: fill each hour's segments by ascending
// sp/od ratio, as AWS applies a plan. Built once per problem.
class Brute {
 public:
  explicit Brute(const std::vector<SpPhase>& phases) {
    for (const auto& p : phases) {
      weights_.push_back(p.weight.ToDouble());
      auto& hours = hours_.emplace_back();
      for (const auto& h : p.hours) {
        auto& segs = hours.emplace_back();  // (ratio, od)
        for (const auto& s : h.segments) {
          if (s.od.raw() > 0 && s.sp.raw() > 0)
            segs.emplace_back(s.sp.ToDouble() / s.od.ToDouble(), s.od.ToDouble());
        }
        std::sort(segs.begin(), segs.end());
      }
    }
  }
  double Savings(double c) const {
    double total = 0;
    for (size_t p = 0; p < hours_.size(); ++p) {
      double sum = 0;
      for (const auto& segs : hours_[p]) {
        double rem = c, covered = 0;
        for (auto [r, od] : segs) {
          double take = std::min(rem, od * r);
          covered += take / r;
          rem -= take;
          if (rem <= 0) break;
        }
        sum += covered - c;
      }
      total += weights_[p] * sum;
    }
    return total;
  }

 private:
  std::vector<double> weights_;
  std::vector<std::vector<std::vector<std::pair<double, double>>>> hours_;
};

std::vector<SpPhase> RandomProblem(std::mt19937_64& rng, int shape) {
  std::uniform_int_distribution<int> nphases(1, 3), nhours(1, 200), nseg(1, 4);
  std::uniform_int_distribution<int64_t> cents(0, 5000);  // $0 .. $50 per segment
  std::uniform_int_distribution<int> ratio_pct(30, 95);
  std::vector<SpPhase> phases(static_cast<size_t>(shape == 0 ? 1 : nphases(rng)));
  int64_t wsum = 0;
  std::vector<int64_t> w;
  for (size_t i = 0; i < phases.size(); ++i) w.push_back(1 + cents(rng) % 100), wsum += w.back();
  for (size_t i = 0; i < phases.size(); ++i) {
    auto& p = phases[i];
    p.weight = Decimal::Div(Decimal::FromInt(w[i]), Decimal::FromInt(wsum));
    int hours = nhours(rng);
    for (int h = 0; h < hours; ++h) {
      SpHour hr;
      // shape 1: a steady base plus spikes; shape 2: often idle hours.
      if (shape == 2 && cents(rng) % 3 == 0) {
        p.hours.push_back(hr);
        continue;
      }
      int n = shape == 0 ? 1 : nseg(rng);
      for (int s = 0; s < n; ++s) {
        int64_t c = cents(rng);
        if (shape == 1) c = 1000 + (cents(rng) % 10 == 0 ? c * 3 : c / 10);
        Decimal od = Decimal::FromRaw(static_cast<int128>(c) * (Decimal::kOne / 100));
        Decimal ratio =
            Decimal::FromRaw(static_cast<int128>(ratio_pct(rng)) * (Decimal::kOne / 100));
        hr.segments.push_back({od, Decimal::Mul(od, ratio)});
      }
      p.hours.push_back(std::move(hr));
    }
  }
  return phases;
}

TEST(SpOptimizer, MatchesBruteForceOnRandomInputs) {
  std::mt19937_64 rng(20241125);
  int nontrivial = 0;
  for (int iter = 0; iter < 60; ++iter) {
    auto phases = RandomProblem(rng, iter % 3);
    SpObjective obj(phases);
    Brute brute(phases);
    auto opt = obj.Maximize();
    // Fine grid: 2000 steps up to the largest hourly commitment cost.
    const double hi = obj.MaxHourlyCommitmentCost().ToDouble();
    double grid_best = 0, grid_c = 0;
    for (int k = 0; k <= 2000; ++k) {
      double c = hi * k / 2000.0;
      double v = brute.Savings(c);
      if (v > grid_best) grid_best = v, grid_c = c;
    }
    const double exact = opt.net_savings.ToDouble();
    // The exact optimum is at least the grid's best (up to rounding at 1e-10
    // per segment), and the brute force agrees with the value it reports.
    EXPECT_GE(exact, grid_best - 1e-6) << "iter " << iter << " grid c " << grid_c;
    EXPECT_NEAR(brute.Savings(opt.commitment.ToDouble()), exact, 1e-6 * std::max(1.0, exact))
        << "iter " << iter;
    EXPECT_LE(exact, grid_best * 1.01 + 1e-6) << "iter " << iter;
    // The $0.001 rounding keeps it within 1% of the brute-force optimum.
    SpPoint rounded = BestOnGrid(obj, opt.commitment, D("0.001"));
    EXPECT_GE(rounded.net_savings.ToDouble(), grid_best * 0.99 - 1e-6) << "iter " << iter;
    if (grid_best > 0) ++nontrivial;
    // Break-even: savings there are ~0 and negative just beyond.
    Decimal be = obj.BreakEvenCommitment();
    if (opt.net_savings.raw() > 0) {
      EXPECT_GE(be, opt.commitment);
      EXPECT_NEAR(brute.Savings(be.ToDouble()), 0.0, 1e-5) << "iter " << iter;
      EXPECT_LT(brute.Savings(be.ToDouble() + 0.01), 0.0) << "iter " << iter;
    }
  }
  EXPECT_GT(nontrivial, 30);
}

TEST(SpOptimizer, SteadyUsageCommitsToTheFloor) {
  // 10 hours at $10 and 10 hours at $4 on demand, SP rate 60% of on demand.
  // Committing c (SP $) covers c/0.6 of on demand while usage lasts. Up to
  // 2.4 (= 4*0.6) every hour saves (1/0.6 - 1) per $; beyond it only the
  // busy half does: 10/0.6 - 20 < 0. So the optimum is exactly 2.4.
  SpPhase p;
  for (int h = 0; h < 20; ++h) {
    Decimal od = Decimal::FromInt(h < 10 ? 10 : 4);
    p.hours.push_back(SpHour{{{od, Decimal::Mul(od, D("0.6"))}}});
  }
  SpObjective obj({p});
  auto opt = obj.Maximize();
  EXPECT_EQ(opt.commitment.ToString(), "2.4");
  // covered 20 h * 4 = 80, cost 20 * 2.4 = 48.
  EXPECT_EQ(opt.net_savings.ToString(), "32");
  SpPoint pt = obj.Evaluate(opt.commitment);
  EXPECT_EQ(pt.covered_od.ToString(), "80");
  EXPECT_EQ(pt.used.ToString(), "48");
  EXPECT_DOUBLE_EQ(pt.utilization_pct(), 100.0);
  // Break-even: on [2.4, 6] the slope is 10/0.6 - 20 = -10/3, so f(6) = 20;
  // past 6 (= 10*0.6) the busy hours are used up too and f falls by 20 per $:
  // zero at 7.
  // (1/0.6 is rounded to 10^-10 in the slopes.)
  EXPECT_NEAR(obj.BreakEvenCommitment().ToDouble(), 7.0, 1e-8);
}

TEST(SpOptimizer, NothingEligibleRecommendsNothing) {
  SpPhase p;
  p.hours.resize(24);
  SpObjective obj({p});
  auto opt = obj.Maximize();
  EXPECT_TRUE(opt.commitment.is_zero());
  EXPECT_TRUE(opt.net_savings.is_zero());
  EXPECT_TRUE(obj.BreakEvenCommitment().is_zero());
  // No discount at all: never worth it.
  SpPhase q;
  q.hours.push_back(SpHour{{{Decimal::FromInt(5), Decimal::FromInt(5)}}});
  EXPECT_TRUE(SpObjective({q}).Maximize().commitment.is_zero());
}

TEST(SpOptimizer, LargestDiscountIsCoveredFirst) {
  // One hour: $10 at 50% and $10 at 80%. A commitment of 5 covers the first
  // fully (10 od), then 1 more $ covers 1/0.8 = 1.25 od.
  SpPhase p;
  p.hours.push_back(SpHour{
      {{Decimal::FromInt(10), Decimal::FromInt(8)}, {Decimal::FromInt(10), Decimal::FromInt(5)}}});
  SpObjective obj({p});
  EXPECT_EQ(obj.Evaluate(Decimal::FromInt(5)).covered_od.ToString(), "10");
  EXPECT_EQ(obj.Evaluate(Decimal::FromInt(6)).covered_od.ToString(), "11.25");
  auto opt = obj.Maximize();
  EXPECT_EQ(opt.commitment.ToString(), "13");
  EXPECT_EQ(opt.net_savings.ToString(), "7");
}

TEST(SpOptimizer, PhaseWeightsScaleTheObjective) {
  // Half the term the hour is free for a new plan, half it is not.
  SpPhase a, b;
  a.weight = D("0.5");
  b.weight = D("0.5");
  a.hours.push_back(SpHour{{{Decimal::FromInt(10), Decimal::FromInt(5)}}});
  b.hours.push_back(SpHour{});
  SpObjective obj({a, b});
  // c=5: 0.5*(10-5) + 0.5*(0-5) = 0: no gain; the optimum is 0.
  EXPECT_TRUE(obj.Evaluate(Decimal::FromInt(5)).net_savings.is_zero());
  EXPECT_TRUE(obj.Maximize().commitment.is_zero());
  // With 3/4 of the term free it pays: 0.75*5 - 0.25*5 = 2.5.
  a.weight = D("0.75");
  b.weight = D("0.25");
  SpObjective obj2({a, b});
  auto opt = obj2.Maximize();
  EXPECT_EQ(opt.commitment.ToString(), "5");
  EXPECT_EQ(opt.net_savings.ToString(), "2.5");
}

TEST(SpOptimizer, BestOnGridRoundsToTheBetterNeighbour) {
  SpPhase p;
  p.hours.push_back(SpHour{{{D("1.0004"), D("0.50020")}}});
  SpObjective obj({p});
  auto opt = obj.Maximize();
  EXPECT_EQ(opt.commitment.ToString(), "0.5002");
  SpPoint g = BestOnGrid(obj, opt.commitment, D("0.001"));
  EXPECT_EQ(g.commitment.ToString(), "0.5");
}

}  // namespace
}  // namespace sagebox::plan
