// fusion.h: hybrid search's last step, fusing ranked lists (BM25, k-NN, ...)
// into one, the two ways OpenSearch's hybrid query does:
//
//   - FuseRrf: reciprocal rank fusion, OpenSearch's score-ranker-processor
//     (https://docs.opensearch.org/latest/vector-search/ai-search/hybrid-search/rrf/):
//     score(d) = Σ_lists weight · 1 / (rank_constant + rank(d)), rank 1-based;
//     a list that does not hold d adds nothing. rank_constant defaults to 60.
//   - FuseMinMax: OpenSearch's normalization-processor with `min_max`
//     normalisation and the `arithmetic_mean` combination
//     (https://docs.opensearch.org/latest/search-plugins/search-pipelines/normalization-processor/),
//     following its source (opensearch-project/neural-search,
//     MinMaxScoreNormalizationTechnique, ArithmeticMeanScoreCombinationTechnique,
//     ScoreCombiner) for what the page leaves out:
//       * each list is normalised on its own: n = (s - min) / (max - min), with
//         min and max over that list only;
//       * a result that normalises to exactly 0 (the list's minimum) gets 0.001
//         instead, so it still counts for more than not being returned;
//       * a list whose max == min (e.g. a single result) gives its results 1.0;
//       * a result missing from a list has normalised score 0 there, and that
//         list's weight still counts in the denominator:
//         fused = Σ w_i · n_i / Σ w_i;
//       * weights: one per list, each in [0, 1], summing to 1; none = equal.
//
// Both return the union of the inputs, sorted by fused score (highest first),
// ties broken by id (byte order) so equal inputs always give equal outputs.
// OpenSearch cuts the fused list to the request's size; callers here take the
// prefix they need.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace sagebox::retrieval {

// One result of one retriever: a document or chunk id and the retriever's score.
struct ScoredId {
  std::string id;
  double score = 0;

  bool operator==(const ScoredId&) const = default;
};

// A retriever's results, best first (FuseRrf uses the order; FuseMinMax uses
// the scores).
using RankedList = std::vector<ScoredId>;

struct RrfOptions {
  // k in 1 / (k + rank); OpenSearch accepts [1, 10000], default 60.
  int rank_constant = 60;
  // Optional, one per list, each in [0, 1] and summing to 1 (as OpenSearch's
  // score-ranker-processor requires); empty means every list weighs 1.
  std::vector<double> weights;
};

struct MinMaxOptions {
  // One per list, each in [0, 1], summing to 1; empty means equal weights.
  std::vector<double> weights;
};

// Reciprocal rank fusion of `lists`. InvalidArgument (naming the list and the
// position) when an id is empty or repeated within one list, when a score is
// not finite, or when rank_constant or the weights are out of range.
StatusOr<RankedList> FuseRrf(const std::vector<RankedList>& lists, const RrfOptions& options = {});

// Min-max normalisation then the weighted arithmetic mean, as described above.
// InvalidArgument for the same malformed inputs as FuseRrf.
StatusOr<RankedList> FuseMinMax(const std::vector<RankedList>& lists,
                                const MinMaxOptions& options = {});

}  // namespace sagebox::retrieval
