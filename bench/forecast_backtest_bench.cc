// forecast_backtest_bench: held-out accuracy of `sagebox cost forecast` on
// generated daily spend shapes (issue 4, "Tests and benchmarks").
//
// For every shape, `kSeries` series are generated (fixed seeds). From each,
// the forecaster sees the 90 days before an evaluation origin (what the CLI
// trains on by default), picks its model by its own rolling-origin backtest,
// and forecasts the next 30 days, which it never saw. We score those 30
// held-out days: MASE (MAE over the in-sample weekly-naive MAE of the 90
// training days), MAPE, and the share of actuals inside the 80% interval.
// The "self-reported" column is the coverage the tool prints for its own
// backtest, to compare with what really happened.
//
//   cmake --preset release && cmake --build build/release --target forecast_backtest_bench
//   ./build/release/forecast_backtest_bench            # markdown table on stdout
#include <fmt/format.h>

#include <cmath>
#include <exception>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cost/plan/forecast.h"

namespace {

using sagebox::plan::ForecastDaily;
using sagebox::plan::ForecastOptions;
using sagebox::plan::ModelName;

constexpr int kSeries = 25;
constexpr int kTrain = 90;
constexpr int kHorizon = 30;
constexpr int kOrigins[] = {90, 105, 120, 135, 150};
constexpr int kLength = 180;
constexpr double kWeek[] = {1.0, 1.15, 1.2, 1.2, 1.1, 0.55, 0.5};

struct Shape {
  const char* name;
  const char* description;
  std::vector<double> (*make)(std::mt19937& rng);
};

double Noise(std::mt19937& rng, double sd) { return std::normal_distribution<double>(0, sd)(rng); }

std::vector<double> Steady(std::mt19937& rng) {
  std::vector<double> y(kLength);
  for (int t = 0; t < kLength; ++t) y[t] = std::max(0.0, 100 + Noise(rng, 8));
  return y;
}

std::vector<double> Growing(std::mt19937& rng) {
  std::vector<double> y(kLength);
  double g = std::uniform_real_distribution<double>(0.003, 0.012)(rng);  // 0.3-1.2% a day
  for (int t = 0; t < kLength; ++t) {
    double m = 50 * std::exp(g * t);
    y[t] = std::max(0.0, m + Noise(rng, 0.06 * m));
  }
  return y;
}

std::vector<double> Weekly(std::mt19937& rng) {
  std::vector<double> y(kLength);
  for (int t = 0; t < kLength; ++t) y[t] = std::max(0.0, 100 * kWeek[t % 7] + Noise(rng, 6));
  return y;
}

std::vector<double> Step(std::mt19937& rng) {
  // One level change at a random day: before, inside or after the windows.
  int at = std::uniform_int_distribution<int>(30, kLength - 1)(rng);
  double factor = std::uniform_real_distribution<double>(0.5, 2.0)(rng);
  std::vector<double> y(kLength);
  for (int t = 0; t < kLength; ++t) {
    double m = 100 * kWeek[t % 7] * (t >= at ? factor : 1.0);
    y[t] = std::max(0.0, m + Noise(rng, 0.05 * m));
  }
  return y;
}

std::vector<double> Spikes(std::mt19937& rng) {
  std::vector<double> y(kLength);
  std::bernoulli_distribution spike(0.04);
  for (int t = 0; t < kLength; ++t) {
    double m = 100 * kWeek[t % 7];
    y[t] = std::max(0.0, m + Noise(rng, 5));
    if (spike(rng)) y[t] += std::uniform_real_distribution<double>(200, 600)(rng);
  }
  return y;
}

std::vector<double> GrowingWeekly(std::mt19937& rng) {
  std::vector<double> y(kLength);
  for (int t = 0; t < kLength; ++t) {
    double m = (60 + 0.6 * t) * kWeek[t % 7];
    y[t] = std::max(0.0, m + Noise(rng, 0.07 * m));
  }
  return y;
}

struct Tally {
  double abs_err = 0, scale_sum = 0, ape = 0, mase_sum = 0;
  int ape_n = 0, points = 0, inside = 0, runs = 0;
  double self_cov = 0;
  std::map<std::string, int> chosen;
};

// False (after printing why) if the forecaster refused.
bool Score(const std::vector<double>& y, int origin, Tally* t, Tally* all) {
  std::vector<double> train(y.begin() + (origin - kTrain), y.begin() + origin);
  ForecastOptions opt;
  opt.horizon = kHorizon;
  opt.level = 80;
  auto f = ForecastDaily(train, opt);
  if (!f.ok()) {
    fmt::print(stderr, "forecast failed: {}\n", f.status().message());
    return false;
  }
  double scale = 0;
  for (int i = 7; i < kTrain; ++i) scale += std::fabs(train[i] - train[i - 7]);
  scale /= kTrain - 7;
  double mae = 0;
  for (Tally* x : {t, all}) {
    x->runs++;
    x->chosen[std::string(ModelName(f->model))]++;
    x->self_cov += f->chosen.coverage;
  }
  for (int k = 0; k < kHorizon; ++k) {
    double a = y[origin + k];
    double e = std::fabs(a - f->mean[k]);
    mae += e / kHorizon;
    bool in = a >= f->lower[k] && a <= f->upper[k];
    for (Tally* x : {t, all}) {
      x->points++;
      x->inside += in ? 1 : 0;
      if (a != 0) {
        x->ape += e / std::fabs(a);
        x->ape_n++;
      }
    }
  }
  for (Tally* x : {t, all}) x->mase_sum += scale > 0 ? mae / scale : 0;
  return true;
}

std::string Chosen(const Tally& t) {
  std::string out;
  for (const auto& [m, n] : t.chosen) {
    out += fmt::format("{}{} {:.0f}%", out.empty() ? "" : ", ", m, 100.0 * n / t.runs);
  }
  return out;
}

}  // namespace

static int Run() {
  const Shape shapes[] = {
      {"steady", "100/day, N(0, 8) noise", Steady},
      {"growing", "50/day growing 0.3-1.2%/day, 6% noise", Growing},
      {"weekly", "weekday/weekend cycle (weekend ~half), N(0, 6)", Weekly},
      {"step", "weekly cycle, one level change x0.5-x2 at a random day", Step},
      {"spikes", "weekly cycle, 4% of days +200-600", Spikes},
      {"growing+weekly", "linear growth 0.6/day times the weekly cycle, 7% noise", GrowingWeekly},
  };
  fmt::print(
      "| shape | what | chosen model (share of runs) | MASE | MAPE | 80% interval coverage, "
      "held out | coverage the tool reported for its own backtest |\n"
      "|---|---|---|---|---|---|---|\n");
  Tally all;
  uint32_t seed = 1;
  for (const auto& s : shapes) {
    Tally t;
    for (int i = 0; i < kSeries; ++i) {
      std::mt19937 rng(seed++);
      auto y = s.make(rng);
      for (int o : kOrigins) {
        if (!Score(y, o, &t, &all)) return 1;
      }
    }
    fmt::print("| {} | {} | {} | {:.3f} | {:.1f}% | {:.1f}% | {:.1f}% |\n", s.name, s.description,
               Chosen(t), t.mase_sum / t.runs, 100 * t.ape / t.ape_n, 100.0 * t.inside / t.points,
               100 * t.self_cov / t.runs);
  }
  fmt::print(
      "| **all** | {} forecasts x {} days | {} | {:.3f} | {:.1f}% | **{:.1f}%** | {:.1f}% |\n",
      all.runs, kHorizon, Chosen(all), all.mase_sum / all.runs, 100 * all.ape / all.ape_n,
      100.0 * all.inside / all.points, 100 * all.self_cov / all.runs);
  return 0;
}

int main() {
  try {
    return Run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "forecast_backtest_bench: {}\n", e.what());
    return 1;
  }
}
