#include "retrieval/fusion.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sagebox::retrieval {
namespace {

// The minimum score a returned result keeps after min-max normalisation, and
// the score of every result of a list whose scores are all equal: the
// constants MIN_SCORE and SINGLE_RESULT_SCORE of OpenSearch's
// MinMaxScoreNormalizationTechnique (neural-search).
constexpr double kMinMaxFloor = 0.001;
constexpr double kMinMaxSingle = 1.0;

// OpenSearch requires the weights to sum to 1; this much slack absorbs decimal
// fractions such as 0.1 + 0.2 + 0.7 written by people.
constexpr double kWeightSumTolerance = 1e-6;

Status CheckLists(const std::vector<RankedList>& lists) {
  for (size_t l = 0; l < lists.size(); ++l) {
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < lists[l].size(); ++i) {
      const ScoredId& r = lists[l][i];
      const std::string where =
          "list " + std::to_string(l) + ", position " + std::to_string(i + 1) + ": ";
      if (r.id.empty()) return InvalidArgument(where + "empty id");
      if (!std::isfinite(r.score)) {
        return InvalidArgument(where + "score of \"" + r.id + "\" is not a finite number");
      }
      if (!seen.insert(r.id).second) {
        return InvalidArgument(where + "\"" + r.id + "\" appears twice in the same list");
      }
    }
  }
  return Status::Ok();
}

// Returns one weight per list: the given ones after checking them, or `fill`
// for every list when none are given.
StatusOr<std::vector<double>> Weights(const std::vector<double>& given, size_t lists, double fill) {
  if (given.empty()) return std::vector<double>(lists, fill);
  if (given.size() != lists) {
    return InvalidArgument("weights: " + std::to_string(given.size()) + " given for " +
                           std::to_string(lists) + " lists; expected one per list");
  }
  double sum = 0;
  for (size_t i = 0; i < given.size(); ++i) {
    if (!(given[i] >= 0.0 && given[i] <= 1.0)) {
      return InvalidArgument("weights[" + std::to_string(i) + "] = " + std::to_string(given[i]) +
                             ": expected a number in [0, 1]");
    }
    sum += given[i];
  }
  if (std::fabs(sum - 1.0) > kWeightSumTolerance) {
    return InvalidArgument("weights sum to " + std::to_string(sum) + ": expected 1");
  }
  return given;
}

// Collects fused scores in first-seen order, then sorts: score descending, id
// ascending.
class Accumulator {
 public:
  void Add(const std::string& id, double v) {
    auto [it, inserted] = index_.try_emplace(id, out_.size());
    if (inserted) out_.push_back({id, 0});
    out_[it->second].score += v;
  }
  RankedList Sorted() && {
    std::sort(out_.begin(), out_.end(), [](const ScoredId& a, const ScoredId& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.id < b.id;
    });
    return std::move(out_);
  }
  void Scale(double f) {
    for (ScoredId& r : out_) r.score *= f;
  }

 private:
  std::unordered_map<std::string, size_t> index_;
  RankedList out_;
};

}  // namespace

StatusOr<RankedList> FuseRrf(const std::vector<RankedList>& lists, const RrfOptions& options) {
  if (options.rank_constant < 1 || options.rank_constant > 10000) {
    return InvalidArgument("rank_constant = " + std::to_string(options.rank_constant) +
                           ": expected an integer in [1, 10000]");
  }
  RETURN_IF_ERROR(CheckLists(lists));
  ASSIGN_OR_RETURN(std::vector<double> w, Weights(options.weights, lists.size(), 1.0));
  Accumulator acc;
  for (size_t l = 0; l < lists.size(); ++l) {
    for (size_t i = 0; i < lists[l].size(); ++i) {
      const double rank = static_cast<double>(i + 1);
      acc.Add(lists[l][i].id, w[l] / (options.rank_constant + rank));
    }
  }
  return std::move(acc).Sorted();
}

StatusOr<RankedList> FuseMinMax(const std::vector<RankedList>& lists,
                                const MinMaxOptions& options) {
  RETURN_IF_ERROR(CheckLists(lists));
  ASSIGN_OR_RETURN(std::vector<double> w,
                   Weights(options.weights, lists.size(), lists.empty() ? 0.0 : 1.0));
  double weight_sum = 0;
  for (double x : w) weight_sum += x;

  Accumulator acc;
  for (size_t l = 0; l < lists.size(); ++l) {
    if (lists[l].empty()) continue;
    auto [lo, hi] =
        std::minmax_element(lists[l].begin(), lists[l].end(),
                            [](const ScoredId& a, const ScoredId& b) { return a.score < b.score; });
    const double min = lo->score;
    const double max = hi->score;
    for (const ScoredId& r : lists[l]) {
      double n = kMinMaxSingle;
      if (max != min) {
        n = (r.score - min) / (max - min);
        if (n == 0.0) n = kMinMaxFloor;
      }
      acc.Add(r.id, w[l] * n);
    }
  }
  // A missing result contributes 0 to the numerator while its list's weight
  // stays in the denominator (ScoreCombiner fills absent scores with 0.0 and
  // the arithmetic mean counts every score >= 0).
  if (weight_sum > 0) acc.Scale(1.0 / weight_sum);
  return std::move(acc).Sorted();
}

}  // namespace sagebox::retrieval
