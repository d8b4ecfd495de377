// sp_optimizer.h: the exact Savings Plans commitment optimizer.
//
// A Savings Plan commitment of c $/h buys, every hour, up to c dollars of
// usage priced at Savings Plans rates. Usage of on-demand-equivalent cost x
// whose Savings Plans rate is a fraction r of the on-demand rate costs r*x of
// commitment. AWS applies a plan to the usage with the largest discount
// first, so in one hour the on-demand cost a commitment c covers,
// covered_h(c), is piecewise linear and concave in c, with slope 1/r_j on
// the j-th cheapest-ratio segment and 0 once the hour's eligible usage is
// used up. The net savings over a set of hours,
//
//     savings(c) = sum_p weight_p * sum_h [covered_h(c) - c],
//
// is then a concave piecewise linear function whose breakpoints are the
// cumulative commitment costs of each hour's segments. Maximize() sorts
// all breakpoints (O(n log n)) and evaluates the objective at each of them
// with a running slope; the maximum of a piecewise linear function lies on a
// breakpoint (or at 0), so the answer is exact, not a grid search.
//
// Phases carry weights so one problem can describe a term during which the
// usage available to a new plan changes (an existing plan expires): each
// phase repeats the lookback hours with its own usage, weighted by the
// fraction of the term it lasts.
//
// Money is Decimal throughout. Slopes 1/r are rounded to 10^-10 per segment;
// Evaluate() recomputes a point directly, without accumulated slopes.
//
// Thread-safety: an SpObjective is immutable after construction; its const
// methods may be called from several threads.
#pragma once

#include <cstddef>
#include <vector>

#include "core/decimal.h"

namespace sagebox::plan {

// Eligible usage of one hour at one discount: its on-demand-equivalent cost
// and what it costs at Savings Plans rates (od * SP rate / on-demand rate).
struct SpSegment {
  Decimal od;
  Decimal sp;
};

struct SpHour {
  std::vector<SpSegment> segments;
};

struct SpPhase {
  Decimal weight = Decimal::FromInt(1);  // e.g. the fraction of the term
  std::vector<SpHour> hours;
};

// One evaluated commitment (all sums weighted by the phase weights).
struct SpPoint {
  Decimal commitment;   // $/h
  Decimal net_savings;  // covered_od - commitment_cost
  Decimal covered_od;   // on-demand cost the new commitment covers
  Decimal used;         // commitment spent on usage (<= commitment_cost)
  Decimal commitment_cost;
  Decimal eligible_od;  // all on-demand cost the problem offers
  double utilization_pct() const;
  double coverage_pct() const;  // covered_od / eligible_od
};

class SpObjective {
 public:
  // Segments with od <= 0 or sp <= 0 are dropped; the rest of each hour is
  // sorted by discount (sp/od ascending), the order AWS applies a plan in.
  explicit SpObjective(std::vector<SpPhase> phases);

  // The objective at `commitment` ($/h, >= 0), computed directly. O(n).
  SpPoint Evaluate(Decimal commitment) const;

  struct Optimum {
    Decimal commitment;   // argmax; the smallest one on ties; 0 if nothing saves
    Decimal net_savings;  // savings at it (>= 0)
    size_t breakpoints = 0;
  };
  // The exact maximum over c >= 0 by a sweep over the sorted breakpoints.
  Optimum Maximize() const;

  // The largest commitment whose net savings are still >= 0 (the break-even
  // commitment): beyond it the plan loses money. 0 if none saves.
  Decimal BreakEvenCommitment() const;

  // The largest hourly eligible on-demand cost over all hours of a phase,
  // i.e. how far the curve can usefully go.
  Decimal MaxHourlyCommitmentCost() const { return max_hour_sp_; }
  size_t segment_count() const { return segments_; }

 private:
  // A change of slope at commitment `at` (in weighted slope units).
  struct Event {
    Decimal at;
    Decimal delta;
  };
  std::vector<Event> Events(Decimal* initial_slope) const;

  std::vector<SpPhase> phases_;
  Decimal max_hour_sp_;
  size_t segments_ = 0;
};

// Rounds `c` to a multiple of `step` (>0) by trying floor and ceiling and
// keeping the one with the larger net savings (the lower one on ties).
// Savings Plans are bought in $0.001 steps.
SpPoint BestOnGrid(const SpObjective& obj, Decimal c, Decimal step);

}  // namespace sagebox::plan
