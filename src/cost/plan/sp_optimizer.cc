#include "cost/plan/sp_optimizer.h"

#include <algorithm>

namespace sagebox::plan {

namespace {

double Pct(Decimal num, Decimal den) {
  if (den.raw() <= 0) return 0.0;
  return num.ToDouble() / den.ToDouble() * 100.0;
}

// Floor of a/b for b > 0, as an integer count.
int128 FloorDiv(int128 a, int128 b) {
  int128 q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

}  // namespace

double SpPoint::utilization_pct() const { return Pct(used, commitment_cost); }
double SpPoint::coverage_pct() const { return Pct(covered_od, eligible_od); }

SpObjective::SpObjective(std::vector<SpPhase> phases) : phases_(std::move(phases)) {
  for (auto& p : phases_) {
    for (auto& h : p.hours) {
      auto& s = h.segments;
      s.erase(std::remove_if(s.begin(), s.end(),
                             [](const SpSegment& x) { return x.od.raw() <= 0 || x.sp.raw() <= 0; }),
              s.end());
      // Largest discount (smallest sp/od) first. Ratios rounded to 10^-10
      // can only tie segments whose order does not change the objective.
      std::stable_sort(s.begin(), s.end(), [](const SpSegment& a, const SpSegment& b) {
        return Decimal::Div(a.sp, a.od) < Decimal::Div(b.sp, b.od);
      });
      Decimal total;
      for (const auto& x : s) total += x.sp;
      max_hour_sp_ = std::max(max_hour_sp_, total);
      segments_ += s.size();
    }
  }
}

SpPoint SpObjective::Evaluate(Decimal c) const {
  SpPoint pt;
  pt.commitment = c;
  for (const auto& p : phases_) {
    Decimal covered, used, eligible;
    for (const auto& h : p.hours) {
      Decimal rem = c;
      for (const auto& s : h.segments) {
        eligible += s.od;
        if (rem.is_zero()) continue;
        if (rem >= s.sp) {
          covered += s.od;
          used += s.sp;
          rem -= s.sp;
        } else {
          covered += Decimal::Div(Decimal::Mul(s.od, rem), s.sp);
          used += rem;
          rem = Decimal();
        }
      }
    }
    const Decimal cost = c * static_cast<int64_t>(p.hours.size());
    pt.covered_od += Decimal::Mul(p.weight, covered);
    pt.used += Decimal::Mul(p.weight, used);
    pt.commitment_cost += Decimal::Mul(p.weight, cost);
    pt.eligible_od += Decimal::Mul(p.weight, eligible);
  }
  pt.net_savings = pt.covered_od - pt.commitment_cost;
  return pt;
}

std::vector<SpObjective::Event> SpObjective::Events(Decimal* initial_slope) const {
  std::vector<Event> ev;
  ev.reserve(segments_);
  Decimal slope;
  for (const auto& p : phases_) {
    // Every hour pays the commitment: -weight per hour per $ of commitment.
    slope -= p.weight * static_cast<int64_t>(p.hours.size());
    for (const auto& h : p.hours) {
      const auto& s = h.segments;
      if (s.empty()) continue;
      Decimal cur = Decimal::Mul(p.weight, Decimal::Div(s[0].od, s[0].sp));
      slope += cur;
      Decimal cum;
      for (size_t j = 0; j < s.size(); ++j) {
        cum += s[j].sp;
        Decimal next;
        if (j + 1 < s.size()) next = Decimal::Mul(p.weight, Decimal::Div(s[j + 1].od, s[j + 1].sp));
        ev.push_back({cum, next - cur});
        cur = next;
      }
    }
  }
  std::sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
  *initial_slope = slope;
  return ev;
}

SpObjective::Optimum SpObjective::Maximize() const {
  Decimal slope;
  const std::vector<Event> ev = Events(&slope);
  Optimum best;
  best.breakpoints = ev.size();
  Decimal best_value;  // f(0) = 0
  Decimal at, value;
  size_t i = 0;
  while (i < ev.size()) {
    const Decimal next = ev[i].at;
    value += Decimal::Mul(slope, next - at);
    at = next;
    if (value > best_value) {
      best_value = value;
      best.commitment = at;
    }
    for (; i < ev.size() && ev[i].at == at; ++i) slope += ev[i].delta;
  }
  if (best.commitment.raw() > 0) {
    best.net_savings = Evaluate(best.commitment).net_savings;
    if (best.net_savings.raw() <= 0) best = Optimum{Decimal(), Decimal(), ev.size()};
  }
  return best;
}

Decimal SpObjective::BreakEvenCommitment() const {
  Decimal slope;
  const std::vector<Event> ev = Events(&slope);
  Decimal at, value, answer;
  size_t i = 0;
  // f is concave with f(0) = 0: it is >= 0 on [0, answer] and < 0 after.
  while (true) {
    const bool last = i >= ev.size();
    const Decimal next = last ? Decimal() : ev[i].at;
    Decimal next_value = last ? Decimal() : value + Decimal::Mul(slope, next - at);
    if (value.raw() >= 0 && slope.raw() < 0 && (last || next_value.raw() < 0)) {
      // Crosses zero on [at, next) (or after the last breakpoint).
      return at + Decimal::Div(value, -slope);
    }
    if (last) return answer;  // slope >= 0 forever: cannot happen with hours > 0
    value = next_value;
    at = next;
    if (value.raw() >= 0) answer = at;
    for (; i < ev.size() && ev[i].at == at; ++i) slope += ev[i].delta;
  }
}

SpPoint BestOnGrid(const SpObjective& obj, Decimal c, Decimal step) {
  if (step.raw() <= 0) return obj.Evaluate(c);
  const int128 k = FloorDiv(c.raw(), step.raw());
  const Decimal lo = Decimal::FromRaw(std::max<int128>(k, 0) * step.raw());
  SpPoint a = obj.Evaluate(lo);
  if (lo == c) return a;
  SpPoint b = obj.Evaluate(lo + step);
  return b.net_savings > a.net_savings ? b : a;
}

}  // namespace sagebox::plan
