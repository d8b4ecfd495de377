#include "cost/plan/forecast.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/table.h"

namespace sagebox::plan {

namespace {

constexpr int kSeason = 7;
// The robust trend looks at the most recent days only, so an old regime
// does not pull the slope.
constexpr int kTrendWindow = 120;
// Errors at step k are taken to grow like (k+1)^kSpreadPower: 0.5 is a
// random walk's growth; level and trend errors grow faster.
constexpr double kSpreadPower = 0.5;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2;
}

// Linear-interpolated quantile (R type 7) of sorted values; q in [0, 1].
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  double frac = pos - static_cast<double>(i);
  return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

std::vector<double> SeasonalNaive(std::span<const double> y, int h) {
  std::vector<double> f(h);
  const size_t n = y.size();
  for (int i = 0; i < h; ++i) {
    f[i] = n >= kSeason ? y[n - kSeason + static_cast<size_t>(i % kSeason)] : y[n - 1];
  }
  return f;
}

struct HwParams {
  double alpha, beta, gamma, phi;
};

// Runs additive damped Holt-Winters over y; returns the one-step SSE and,
// if `f` is given, fills it with the forecasts after the last point.
double RunHoltWinters(std::span<const double> y, const HwParams& p, std::vector<double>* f, int h) {
  const size_t n = y.size();
  double l0 = 0, l1 = 0;
  for (int i = 0; i < kSeason; ++i) {
    l0 += y[i];
    l1 += y[kSeason + i];
  }
  l0 /= kSeason;
  l1 /= kSeason;
  double trend = (l1 - l0) / kSeason;
  std::array<double, kSeason> season{};
  for (int i = 0; i < kSeason; ++i) season[i] = y[i] - l0;
  // The first week only initialises the season; smoothing starts after it,
  // with the level advanced to the end of week one.
  double level = l0 + trend * (kSeason - 1) / 2.0;
  double sse = 0;
  for (size_t t = kSeason; t < n; ++t) {
    double& s = season[t % kSeason];
    double yhat = level + p.phi * trend + s;
    double e = y[t] - yhat;
    sse += e * e;
    double prev = level;
    level = p.alpha * (y[t] - s) + (1 - p.alpha) * (level + p.phi * trend);
    trend = p.beta * (level - prev) + (1 - p.beta) * p.phi * trend;
    s = p.gamma * (y[t] - level) + (1 - p.gamma) * s;
  }
  if (f) {
    f->assign(h, 0);
    double damp = 0, pk = 1;
    for (int i = 0; i < h; ++i) {
      pk *= p.phi;
      damp += pk;
      (*f)[i] = level + damp * trend + season[(n + static_cast<size_t>(i)) % kSeason];
    }
  }
  return sse;
}

std::vector<double> HoltWinters(std::span<const double> y, int h) {
  if (y.size() < 2 * kSeason) return SeasonalNaive(y, h);
  static constexpr double kAlpha[] = {0.05, 0.1, 0.2, 0.3, 0.5, 0.8};
  static constexpr double kBeta[] = {0, 0.02, 0.05, 0.15};
  static constexpr double kGamma[] = {0.05, 0.15, 0.3};
  static constexpr double kPhi[] = {0.9, 0.98, 1.0};
  HwParams best{0.2, 0, 0.1, 0.98};
  double best_sse = std::numeric_limits<double>::infinity();
  for (double a : kAlpha) {
    for (double b : kBeta) {
      for (double g : kGamma) {
        for (double ph : kPhi) {
          HwParams p{a, b, g, ph};
          double sse = RunHoltWinters(y, p, nullptr, 0);
          if (sse < best_sse) {
            best_sse = sse;
            best = p;
          }
        }
      }
    }
  }
  std::vector<double> f;
  (void)RunHoltWinters(y, best, &f, h);
  return f;
}

std::vector<double> RobustTrend(std::span<const double> all, int h) {
  const size_t n = all.size();
  const size_t start = n > kTrendWindow ? n - kTrendWindow : 0;
  std::span<const double> y = all.subspan(start);
  const size_t w = y.size();
  // Weekday offsets: median deviation from a centred 7-day mean (classical
  // decomposition, robust to single spikes), normalised to sum to zero.
  std::array<double, kSeason> season{};
  if (w >= 2 * kSeason) {
    std::array<std::vector<double>, kSeason> dev;
    for (size_t t = 3; t + 3 < w; ++t) {
      double m = 0;
      for (size_t k = t - 3; k <= t + 3; ++k) m += y[k];
      dev[(start + t) % kSeason].push_back(y[t] - m / kSeason);
    }
    double sum = 0;
    for (int s = 0; s < kSeason; ++s) {
      season[s] = Median(dev[s]);
      sum += season[s];
    }
    for (double& s : season) s -= sum / kSeason;
  }
  std::vector<double> z(w);
  for (size_t t = 0; t < w; ++t) z[t] = y[t] - season[(start + t) % kSeason];
  double slope = 0;
  if (w >= 2) {
    std::vector<double> slopes;
    slopes.reserve(w * (w - 1) / 2);
    for (size_t i = 0; i < w; ++i) {
      for (size_t j = i + 1; j < w; ++j) {
        slopes.push_back((z[j] - z[i]) / static_cast<double>(j - i));
      }
    }
    slope = Median(std::move(slopes));
  }
  std::vector<double> icpt(w);
  for (size_t t = 0; t < w; ++t) icpt[t] = z[t] - slope * static_cast<double>(t);
  double a = Median(std::move(icpt));
  std::vector<double> f(h);
  for (int i = 0; i < h; ++i) {
    size_t t = w + static_cast<size_t>(i);
    f[i] = a + slope * static_cast<double>(t) + season[(start + t) % kSeason];
  }
  return f;
}

// Errors of one model at one backtest origin: actual - forecast per step.
struct OriginErrors {
  size_t origin = 0;
  double level = 1;  // Level() of the training data at this origin
  std::vector<double> err;
  std::vector<double> actual;
};

// The recent level of a series (mean |y| of its last week), so errors can be
// carried from backtest origins to today as a share of the level: spend that
// grew or stepped since a backtest origin has proportionally larger errors.
double Level(std::span<const double> y) {
  size_t n = std::min<size_t>(y.size(), kSeason);
  double s = 0;
  for (size_t i = y.size() - n; i < y.size(); ++i) s += std::fabs(y[i]);
  s /= static_cast<double>(std::max<size_t>(n, 1));
  return s > 0 ? s : 1;
}

// How errors grow with the step k (0-based) ahead.
double Spread(size_t k) { return std::pow(static_cast<double>(k + 1), kSpreadPower); }

// Normalised residuals e_k / (level * Spread(k)) of every origin except
// those listed.
std::vector<double> Pooled(const std::vector<OriginErrors>& runs, size_t skip_run, int skip_step) {
  std::vector<double> r;
  for (size_t j = 0; j < runs.size(); ++j) {
    for (size_t k = 0; k < runs[j].err.size(); ++k) {
      if (j == skip_run && (skip_step < 0 || static_cast<int>(k) == skip_step)) continue;
      r.push_back(runs[j].err[k] / (runs[j].level * Spread(k)));
    }
  }
  std::sort(r.begin(), r.end());
  return r;
}

double Scale(std::span<const double> y) {
  double s = 0;
  int c = 0;
  for (size_t t = kSeason; t < y.size(); ++t, ++c) s += std::fabs(y[t] - y[t - kSeason]);
  if (c > 0 && s > 0) return s / c;
  s = 0;
  c = 0;
  for (size_t t = 1; t < y.size(); ++t, ++c) s += std::fabs(y[t] - y[t - 1]);
  return c > 0 ? s / c : 0;
}

Decimal Sum(const std::vector<double>& v, size_t from, size_t to) {
  Decimal s;
  for (size_t i = from; i < to; ++i) s += DecimalFromDouble(v[i]);
  return s;
}

std::string Money(Decimal d) { return GroupThousands(d.ToFixed(2)); }

std::string Pct(double x) {
  return std::isfinite(x) ? fmt::format("{:.1f}%", x) : std::string("n/a");
}

nlohmann::json Num(double x, int decimals) {
  if (!std::isfinite(x)) return nullptr;
  double p = std::pow(10.0, decimals);
  return std::round(x * p) / p;
}

}  // namespace

std::string_view ModelName(Model m) {
  switch (m) {
    case Model::kSeasonalNaive:
      return "SEASONAL_NAIVE";
    case Model::kHoltWinters:
      return "HOLT_WINTERS";
    case Model::kRobustTrend:
      return "ROBUST_TREND";
  }
  return "?";
}

const std::vector<Model>& AllModels() {
  static const std::vector<Model> kAll{Model::kSeasonalNaive, Model::kHoltWinters,
                                       Model::kRobustTrend};
  return kAll;
}

std::vector<double> PredictModel(Model model, std::span<const double> train, int horizon) {
  assert(!train.empty() && horizon >= 0);
  switch (model) {
    case Model::kSeasonalNaive:
      return SeasonalNaive(train, horizon);
    case Model::kHoltWinters:
      return HoltWinters(train, horizon);
    case Model::kRobustTrend:
      return RobustTrend(train, horizon);
  }
  return SeasonalNaive(train, horizon);
}

Decimal DecimalFromDouble(double x) {
  if (!std::isfinite(x)) return {};
  Decimal d;
  if (!Decimal::Parse(fmt::format("{:.10f}", x), &d)) return {};
  return d;
}

StatusOr<DailyForecast> ForecastDaily(std::span<const double> y, const ForecastOptions& opt) {
  const int n = static_cast<int>(y.size());
  if (n < kMinHistoryDays) {
    return InvalidArgument(fmt::format(
        "not enough history to forecast: {} day(s) in the training window, at least {} needed "
        "(widen --from, or wait for more billing data)",
        n, kMinHistoryDays));
  }
  if (opt.horizon < 1 || opt.horizon > 3660) {
    return InvalidArgument("--horizon must be between 1 and 3660 days");
  }
  if (!(opt.level >= 51 && opt.level <= 99)) {
    return InvalidArgument("--interval must be between 51 and 99 (percent), as in Cost Explorer");
  }
  // Origins: the last one leaves a horizon-sized test window at the end;
  // earlier ones step back while at least `min_train` days remain to train.
  // Intervals use every origin: early, short-history origins make the error
  // pool more varied, which the benchmark shows is closer to what held-out
  // days do. The model is chosen (and MASE/MAPE reported) on the origins
  // with at least `select_train` days, which resemble today's fit.
  const int min_train = std::clamp(n / 2, kSeason, 14);
  const int hb = std::min(opt.horizon, n - min_train);
  const int last = n - hb;
  const int count = std::min(kMaxOrigins, last - min_train + 1);
  const int step = count > 1 ? std::max(1, (last - min_train) / (count - 1)) : 1;
  std::vector<int> origins;
  for (int j = 0; j < count && last - j * step >= min_train; ++j)
    origins.push_back(last - j * step);

  const int select_train =
      origins.front() >= std::clamp(n / 2, kSeason, 28) ? std::clamp(n / 2, kSeason, 28) : 0;

  const double scale = Scale(y);
  const double lo_q = (1 - opt.level / 100) / 2, hi_q = 1 - lo_q;
  DailyForecast out;
  out.backtest_horizon = hb;
  std::vector<std::vector<OriginErrors>> runs_by_model;
  for (Model m : AllModels()) {
    std::vector<OriginErrors> runs;
    ModelScore sc;
    sc.model = m;
    double abs_sum = 0, ape_sum = 0;
    int ape_n = 0;
    for (int o : origins) {
      OriginErrors r;
      r.origin = static_cast<size_t>(o);
      r.level = Level(y.first(static_cast<size_t>(o)));
      auto f = PredictModel(m, y.first(static_cast<size_t>(o)), hb);
      for (int k = 0; k < hb; ++k) {
        double a = y[static_cast<size_t>(o) + static_cast<size_t>(k)];
        double e = a - f[k];
        r.err.push_back(e);
        r.actual.push_back(a);
        if (o < select_train) continue;
        abs_sum += std::fabs(e);
        if (a != 0) {
          ape_sum += std::fabs(e / a);
          ++ape_n;
        }
        ++sc.points;
      }
      runs.push_back(std::move(r));
    }
    sc.origins = static_cast<int>(runs.size());
    sc.mae = sc.points ? abs_sum / sc.points : 0;
    sc.mase =
        scale > 0 ? sc.mae / scale : (sc.mae == 0 ? 0 : std::numeric_limits<double>::quiet_NaN());
    sc.mape = ape_n ? 100 * ape_sum / ape_n : std::numeric_limits<double>::quiet_NaN();
    // Leave-one-origin-out coverage (leave-one-point-out with a single origin).
    int inside = 0, total = 0;
    for (size_t j = 0; j < runs.size(); ++j) {
      std::vector<double> pool;
      if (runs.size() > 1) pool = Pooled(runs, j, -1);
      for (size_t k = 0; k < runs[j].err.size(); ++k) {
        if (runs.size() == 1) pool = Pooled(runs, j, static_cast<int>(k));
        if (pool.empty()) continue;
        double sq = runs[j].level * Spread(k);
        double e = runs[j].err[k];
        if (e >= Quantile(pool, lo_q) * sq && e <= Quantile(pool, hi_q) * sq) ++inside;
        ++total;
      }
    }
    sc.coverage =
        total ? static_cast<double>(inside) / total : std::numeric_limits<double>::quiet_NaN();
    out.scores.push_back(sc);
    runs_by_model.push_back(std::move(runs));
  }
  size_t best = 0;
  for (size_t i = 0; i < out.scores.size(); ++i) {
    if (opt.force_model) {
      if (out.scores[i].model == *opt.force_model) best = i;
    } else if (out.scores[i].mae < out.scores[best].mae) {
      best = i;
    }
  }
  out.model = out.scores[best].model;
  out.chosen = out.scores[best];
  out.mean = PredictModel(out.model, y, opt.horizon);
  auto pool = Pooled(runs_by_model[best], runs_by_model[best].size(), -1);
  const double qlo = Quantile(pool, lo_q), qhi = Quantile(pool, hi_q);
  const bool clamp =
      opt.non_negative && std::all_of(y.begin(), y.end(), [](double v) { return v >= 0; });
  const double level_now = Level(y);
  for (int k = 0; k < opt.horizon; ++k) {
    double sq = level_now * Spread(static_cast<size_t>(k));
    double m = out.mean[k];
    double lo = std::min(m + qlo * sq, m), hi = std::max(m + qhi * sq, m);
    if (clamp) {
      m = std::max(m, 0.0);
      lo = std::max(lo, 0.0);
      hi = std::max(hi, m);
    }
    out.mean[k] = m;
    out.lower.push_back(lo);
    out.upper.push_back(hi);
  }
  return out;
}

const std::vector<std::string>& OneOffLineItemTypes() {
  // lineItem/LineItemType values (AWS CUR data dictionary): charges that are
  // not driven by daily usage. RI upfront fees are "Fee" lines.
  static const std::vector<std::string> kTypes{"Tax", "Credit", "Refund", "Fee",
                                               "SavingsPlanUpfrontFee"};
  return kTypes;
}

StatusOr<std::vector<Decimal>> DailySeries(const store::Store& st, const cost::Query& q,
                                           const std::vector<std::string>& exclude) {
  if (!q.group_by.empty()) return InvalidArgument("DailySeries takes no group-by");
  if (q.from >= q.to) return InvalidArgument("the series needs from < to");
  cost::Query dq = q;
  dq.granularity = cost::Granularity::kDaily;
  if (dq.metrics.empty()) dq.metrics.push_back(cost::Metric::kUnblended);
  dq.metrics.resize(1);
  dq.group_by.push_back(cost::Dimension{cost::DimKind::kLineItemType, ""});
  ASSIGN_OR_RETURN(auto r, cost::RunQuery(st, dq));
  std::vector<Decimal> out(static_cast<size_t>(q.to - q.from));
  for (const auto& b : r.buckets) {
    Days d = DayOf(b.start);
    if (d < q.from || d >= q.to) continue;
    for (const auto& g : b.groups) {
      if (std::find(exclude.begin(), exclude.end(), g.keys[0]) != exclude.end()) continue;
      out[static_cast<size_t>(d - q.from)] += g.values[0];
    }
  }
  return out;
}

StatusOr<CostForecast> ForecastCost(const store::Store& st, const ForecastRequest& req) {
  if (req.granularity == cost::Granularity::kHourly) {
    return InvalidArgument("forecast --granularity must be DAILY or MONTHLY");
  }
  if (!req.query.group_by.empty()) {
    return InvalidArgument("forecast takes no --group-by (forecast one filtered query at a time)");
  }
  ASSIGN_OR_RETURN(auto range, cost::DataRange(st));
  CostForecast f;
  f.metric = req.query.metrics.empty() ? cost::Metric::kUnblended : req.query.metrics[0];
  f.granularity = req.granularity;
  f.level = req.level;
  Days as_of = req.as_of ? req.as_of : range.second;
  if (req.query.to && req.as_of && req.query.to != req.as_of + 1) {
    return InvalidArgument(
        "--to and --as-of disagree: the training window ends the day after --as-of");
  }
  f.train_to = req.query.to ? req.query.to : as_of + 1;
  f.train_from = req.query.from ? req.query.from : f.train_to - 90;
  f.train_from = std::max(f.train_from, range.first);
  if (f.train_from >= f.train_to) {
    return InvalidArgument(fmt::format(
        "not enough history to forecast: no billing data in the training window before {} "
        "(data covers {} to {})",
        FormatDate(f.train_to), FormatDate(range.first), FormatDate(range.second)));
  }
  cost::Query q = req.query;
  q.from = f.train_from;
  q.to = f.train_to;
  f.excluded_types = OneOffLineItemTypes();
  ASSIGN_OR_RETURN(auto series, DailySeries(st, q, f.excluded_types));
  std::vector<double> y;
  y.reserve(series.size());
  for (auto d : series) y.push_back(d.ToDouble());
  ForecastOptions opt;
  opt.horizon = req.horizon;
  opt.level = req.level;
  auto fit = ForecastDaily(y, opt);
  if (!fit.ok()) {
    return fit.status().WithContext(fmt::format("training window {} to {} (exclusive)",
                                                FormatDate(f.train_from), FormatDate(f.train_to)));
  }
  f.fit = std::move(*fit);
  f.start = f.train_to;
  f.end = f.start + req.horizon;
  const auto& m = f.fit.mean;
  const auto& lo = f.fit.lower;
  const auto& hi = f.fit.upper;
  // Months sum their days' means; their bounds sum the daily bounds, i.e.
  // assume errors move together (cost errors are mostly level shifts), which
  // errs on the wide side.
  Days d = f.start;
  while (d < f.end) {
    Days e =
        req.granularity == cost::Granularity::kDaily ? d + 1 : std::min(NextMonthStart(d), f.end);
    auto a = static_cast<size_t>(d - f.start), b = static_cast<size_t>(e - f.start);
    f.periods.push_back({d, e, Sum(m, a, b), Sum(lo, a, b), Sum(hi, a, b)});
    d = e;
  }
  for (const auto& p : f.periods) {
    f.total_mean += p.mean;
    f.total_lower += p.lower;
    f.total_upper += p.upper;
  }
  return f;
}

nlohmann::json ForecastToJson(const CostForecast& f) {
  const std::string unit = f.metric == cost::Metric::kUsageQuantity ? "N/A" : f.currency;
  nlohmann::json j;
  j["Total"] = {{"Amount", f.total_mean.ToString()}, {"Unit", unit}};
  auto arr = nlohmann::json::array();
  for (const auto& p : f.periods) {
    arr.push_back({{"TimePeriod", {{"Start", FormatDate(p.start)}, {"End", FormatDate(p.end)}}},
                   {"MeanValue", p.mean.ToString()},
                   {"PredictionIntervalLowerBound", p.lower.ToString()},
                   {"PredictionIntervalUpperBound", p.upper.ToString()}});
  }
  j["ForecastResultsByTime"] = arr;
  auto models = nlohmann::json::array();
  for (const auto& s : f.fit.scores) {
    models.push_back({{"Model", ModelName(s.model)},
                      {"MASE", Num(s.mase, 4)},
                      {"MAPE", Num(s.mape, 2)},
                      {"IntervalCoverage", Num(s.coverage, 4)}});
  }
  j["Sagebox"] = {
      {"Metric", cost::MetricName(f.metric)},
      {"Granularity", cost::GranularityName(f.granularity)},
      {"PredictionIntervalLevel", f.level},
      {"Model", ModelName(f.fit.model)},
      {"MASE", Num(f.fit.chosen.mase, 4)},
      {"MAPE", Num(f.fit.chosen.mape, 2)},
      {"IntervalCoverage", Num(f.fit.chosen.coverage, 4)},
      {"BacktestOrigins", f.fit.chosen.origins},
      {"BacktestHorizonDays", f.fit.backtest_horizon},
      {"TrainingPeriod", {{"Start", FormatDate(f.train_from)}, {"End", FormatDate(f.train_to)}}},
      {"ExcludedLineItemTypes", f.excluded_types},
      {"Models", models},
      {"TotalPredictionIntervalLowerBound", f.total_lower.ToString()},
      {"TotalPredictionIntervalUpperBound", f.total_upper.ToString()}};
  return j;
}

std::string ForecastToTable(const CostForecast& f) {
  std::string out = fmt::format(
      "Forecast of {} {} to {} (exclusive), {:.0f}% prediction interval\n"
      "trained on {} to {} (exclusive), without {} line items\n"
      "model: {} (backtest: MASE {}, MAPE {}, interval coverage {} over {} origins of {} days)\n\n",
      cost::MetricName(f.metric), FormatDate(f.start), FormatDate(f.end), f.level,
      FormatDate(f.train_from), FormatDate(f.train_to), fmt::join(f.excluded_types, "/"),
      ModelName(f.fit.model),
      std::isfinite(f.fit.chosen.mase) ? fmt::format("{:.3f}", f.fit.chosen.mase) : "n/a",
      Pct(f.fit.chosen.mape), Pct(100 * f.fit.chosen.coverage), f.fit.chosen.origins,
      f.fit.backtest_horizon);
  using A = TextTable::Align;
  TextTable t({"Period", "Mean", "Lower", "Upper"}, {A::kLeft, A::kRight, A::kRight, A::kRight});
  for (const auto& p : f.periods) {
    std::string label = f.granularity == cost::Granularity::kDaily
                            ? FormatDate(p.start)
                            : FormatDate(p.start) + ".." + FormatDate(p.end - 1);
    t.AddRow({label, Money(p.mean), Money(p.lower), Money(p.upper)});
  }
  t.AddRow({"Total", Money(f.total_mean), Money(f.total_lower), Money(f.total_upper)});
  out += t.Render();
  TextTable ms({"Model", "MASE", "MAPE", "Coverage"}, {A::kLeft, A::kRight, A::kRight, A::kRight});
  for (const auto& s : f.fit.scores) {
    ms.AddRow({std::string(ModelName(s.model)),
               std::isfinite(s.mase) ? fmt::format("{:.3f}", s.mase) : "n/a", Pct(s.mape),
               Pct(100 * s.coverage)});
  }
  out += "\nBacktest of every model (lowest MAE chosen):\n" + ms.Render();
  return out;
}

}  // namespace sagebox::plan
