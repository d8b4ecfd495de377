#include "endpoint/eviction_replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <vector>

namespace sagebox::endpoint {
namespace {

constexpr uint32_t A = 0, B = 1, C = 2;

// The exact offline optimum by dynamic programming over resident sets: on a
// miss any subset of the residents may be evicted, as long as the new model
// then fits. Exponential in the population, so tiny cases only.
uint64_t OptimalHits(const std::vector<uint64_t>& sizes, const std::vector<uint32_t>& trace,
                     uint64_t budget) {
  auto bytes = [&](uint32_t set) {
    uint64_t b = 0;
    for (uint32_t m = 0; m < sizes.size(); ++m) {
      if ((set >> m) & 1) b += sizes[m];
    }
    return b;
  };
  std::map<uint32_t, uint64_t> best{{0, 0}};  // resident set -> most hits so far
  for (const uint32_t m : trace) {
    std::map<uint32_t, uint64_t> next;
    auto offer = [&](uint32_t set, uint64_t hits) {
      auto [it, inserted] = next.emplace(set, hits);
      if (!inserted) it->second = std::max(it->second, hits);
    };
    for (const auto& [set, hits] : best) {
      if ((set >> m) & 1) {
        offer(set, hits + 1);
        continue;
      }
      // Every subset `keep` of `set` (including set itself and the empty one).
      for (uint32_t keep = set;; keep = (keep - 1) & set) {
        const uint32_t after = keep | (1u << m);
        if (bytes(after) <= budget) offer(after, hits);
        if (keep == 0) break;
      }
    }
    best = std::move(next);
  }
  uint64_t out = 0;
  for (const auto& [set, hits] : best) out = std::max(out, hits);
  return out;
}

std::vector<uint32_t> Repeat(const std::vector<uint32_t>& unit, int times) {
  std::vector<uint32_t> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), unit.begin(), unit.end());
  return out;
}

TEST(EvictionReplayTest, CyclicTraceOverOneModelTooManyDefeatsLru) {
  const std::vector<uint64_t> sizes = {1, 1, 1};
  const std::vector<uint32_t> trace = Repeat({A, B, C}, 3);  // ABCABCABC, room for 2

  auto lru = ReplayLruBytes(sizes, trace, 2);
  ASSERT_TRUE(lru.ok()) << lru.status().ToString();
  EXPECT_EQ(lru->requests, 9u);
  EXPECT_EQ(lru->hits, 0u);
  EXPECT_EQ(lru->misses, 9u);
  EXPECT_EQ(lru->evictions, 7u);
  EXPECT_EQ(lru->bytes_loaded, 9u);
  EXPECT_DOUBLE_EQ(lru->HitRatio(), 0.0);

  auto count = ReplayLruCount(sizes, trace, 2, 2);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->hits, 0u);
  EXPECT_EQ(count->evictions, 7u);
  EXPECT_EQ(count->over_budget_requests, 0u);

  // Belady: misses A B C, then every other request hits (A at 3, C at 5, B at 7).
  auto belady = ReplayBeladyBytes(sizes, trace, 2);
  ASSERT_TRUE(belady.ok()) << belady.status().ToString();
  EXPECT_EQ(belady->hits, 3u);
  EXPECT_EQ(belady->misses, 6u);
  EXPECT_EQ(belady->evictions, 4u);
  EXPECT_EQ(belady->bytes_loaded, 6u);
  EXPECT_EQ(belady->hits, OptimalHits(sizes, trace, 2));

  auto cache = ReplayModelCache(sizes, trace, 2);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_EQ(cache->hits, 0u);
  EXPECT_EQ(cache->misses, 9u);
  EXPECT_EQ(cache->evictions, 7u);
  EXPECT_EQ(cache->bytes_loaded, 9u);
}

TEST(EvictionReplayTest, CountPolicyOverflowsTheByteBudget) {
  // Two models of 6 and 5 bytes, a budget of 10, K = 2: by count both stay, by
  // bytes they take turns.
  const std::vector<uint64_t> sizes = {6, 5};
  const std::vector<uint32_t> trace = {A, B, A, B};

  auto count = ReplayLruCount(sizes, trace, 2, 10);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->hits, 2u);
  EXPECT_EQ(count->bytes_loaded, 11u);
  EXPECT_EQ(count->evictions, 0u);
  EXPECT_EQ(count->over_budget_requests, 3u);  // from the second request on
  EXPECT_EQ(count->max_over_budget_bytes, 1u);

  auto lru = ReplayLruBytes(sizes, trace, 10);
  ASSERT_TRUE(lru.ok()) << lru.status().ToString();
  EXPECT_EQ(lru->hits, 0u);
  EXPECT_EQ(lru->bytes_loaded, 22u);
  EXPECT_EQ(lru->evictions, 3u);
  EXPECT_EQ(lru->over_budget_requests, 0u);

  auto belady = ReplayBeladyBytes(sizes, trace, 10);
  ASSERT_TRUE(belady.ok()) << belady.status().ToString();
  EXPECT_EQ(belady->hits, 0u);
  EXPECT_EQ(belady->over_budget_requests, 0u);

  auto cache = ReplayModelCache(sizes, trace, 10);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_EQ(cache->hits, 0u);
  EXPECT_EQ(cache->bytes_loaded, 22u);
  EXPECT_EQ(cache->over_budget_requests, 0u);
}

TEST(EvictionReplayTest, BeladyEvictsModelsNeverUsedAgainFirstAndTheLargerOnATie) {
  // Budget 10: A(4) and B(5) resident when C(5) arrives. A is never used
  // again and B is, so A goes although it is the smaller, and B then hits.
  auto never_first = ReplayBeladyBytes({4, 5, 5}, {A, B, C, B}, 10);
  ASSERT_TRUE(never_first.ok()) << never_first.status().ToString();
  EXPECT_EQ(never_first->evictions, 1u);
  EXPECT_EQ(never_first->hits, 1u);
  // Budget 9: A(2) and B(5) resident, C(5) arrives, neither used again. The
  // larger (B) goes and one eviction is enough; the smaller first would take two.
  auto tie = ReplayBeladyBytes({2, 5, 5}, {A, B, C}, 9);
  ASSERT_TRUE(tie.ok()) << tie.status().ToString();
  EXPECT_EQ(tie->evictions, 1u);
}

TEST(EvictionReplayTest, BeladyIsOptimalForEqualSizes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    const auto n = static_cast<uint32_t>(3 + rng() % 3);  // 3..5 models
    const uint64_t budget = 1 + rng() % (n - 1);          // room for 1..n-1
    std::vector<uint64_t> sizes(n, 1);
    std::vector<uint32_t> trace(4 + rng() % 12);
    for (auto& m : trace) m = static_cast<uint32_t>(rng() % n);
    auto belady = ReplayBeladyBytes(sizes, trace, budget);
    ASSERT_TRUE(belady.ok());
    EXPECT_EQ(belady->hits, OptimalHits(sizes, trace, budget)) << "round " << round;
  }
}

TEST(EvictionReplayTest, WithSizesBeladyIsAHeuristicBelowTheOptimum) {
  std::mt19937_64 rng(11);
  int below = 0;
  for (int round = 0; round < 300; ++round) {
    const auto n = static_cast<uint32_t>(3 + rng() % 3);
    std::vector<uint64_t> sizes(n);
    for (auto& s : sizes) s = 1 + rng() % 8;
    const uint64_t largest = *std::max_element(sizes.begin(), sizes.end());
    const uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
    const uint64_t budget = std::max(largest, total / 2);
    std::vector<uint32_t> trace(4 + rng() % 12);
    for (auto& m : trace) m = static_cast<uint32_t>(rng() % n);
    const uint64_t opt = OptimalHits(sizes, trace, budget);
    auto belady = ReplayBeladyBytes(sizes, trace, budget);
    auto lru = ReplayLruBytes(sizes, trace, budget);
    ASSERT_TRUE(belady.ok() && lru.ok());
    EXPECT_LE(belady->hits, opt) << "round " << round;
    EXPECT_LE(lru->hits, opt) << "round " << round;
    EXPECT_EQ(belady->over_budget_requests, 0u);
    if (belady->hits < opt) ++below;
  }
  // Farthest-next-use is not optimal once sizes differ: some traces show it.
  EXPECT_GT(below, 0);
}

TEST(EvictionReplayTest, ModelCacheMatchesLruByBytesOnASkewedWorkload) {
  WorkloadOptions o;
  o.models = 12;
  o.requests = 3000;
  o.zipf_s = 0.8;
  o.seed = 5;
  auto w = MakeWorkload(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const uint64_t total = std::accumulate(w->sizes.begin(), w->sizes.end(), uint64_t{0});
  const uint64_t budget = std::max(total / 3, *std::max_element(w->sizes.begin(), w->sizes.end()));

  auto ref = ReplayLruBytes(w->sizes, w->trace, budget);
  auto cache = ReplayModelCache(w->sizes, w->trace, budget);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  EXPECT_GT(ref->hits, 0u);
  EXPECT_GT(ref->evictions, 0u);
  EXPECT_EQ(cache->requests, ref->requests);
  EXPECT_EQ(cache->hits, ref->hits);
  EXPECT_EQ(cache->misses, ref->misses);
  EXPECT_EQ(cache->bytes_loaded, ref->bytes_loaded);
  EXPECT_EQ(cache->evictions, ref->evictions);
  EXPECT_EQ(cache->over_budget_requests, 0u);

  // The clairvoyant reference does at least as well here.
  auto belady = ReplayBeladyBytes(w->sizes, w->trace, budget);
  ASSERT_TRUE(belady.ok());
  EXPECT_GE(belady->hits, ref->hits);
}

TEST(EvictionReplayTest, BadTracesAndBudgetsAreNamed) {
  auto out_of_range = ReplayLruBytes({1, 1}, {A, 7}, 2);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.status().message().find("trace[1] = 7"), std::string::npos)
      << out_of_range.status().message();

  auto too_big = ReplayBeladyBytes({1, 5}, {A, B}, 4);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("trace[1]: model 1 needs"), std::string::npos)
      << too_big.status().message();
  EXPECT_FALSE(ReplayModelCache({1, 5}, {A, B}, 4).ok());
  EXPECT_FALSE(ReplayLruBytes({1, 5}, {A, B}, 4).ok());
  // By count a model larger than the budget still loads; it shows as overflow.
  auto count = ReplayLruCount({1, 5}, {A, B}, 1, 4);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->max_over_budget_bytes, 1u);

  EXPECT_EQ(ReplayLruCount({1}, {A}, 0, 4).status().code(), StatusCode::kInvalidArgument);
  auto empty_model = ReplayLruBytes({1, 0}, {A}, 4);
  ASSERT_FALSE(empty_model.ok());
  EXPECT_NE(empty_model.status().message().find("model 1 has a size of 0"), std::string::npos);
}

TEST(EvictionReplayTest, WorkloadIsReproducibleAndZipfDistributed) {
  WorkloadOptions o;
  o.models = 10;
  o.requests = 100'000;
  o.zipf_s = 1.0;
  auto w = MakeWorkload(o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto again = MakeWorkload(o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(w->sizes, again->sizes);
  EXPECT_EQ(w->trace, again->trace);

  for (const uint64_t s : w->sizes) {
    EXPECT_GE(s, o.min_bytes);
    EXPECT_LE(s, o.max_bytes);
    EXPECT_EQ(s % (1 << 20), 0u);
  }
  std::vector<uint32_t> ranks = w->popularity_rank;
  std::sort(ranks.begin(), ranks.end());
  for (uint32_t k = 0; k < o.models; ++k) EXPECT_EQ(ranks[k], k);

  // Rank k is requested with probability (1/(k+1)) / H_10; H_10 = 2.928968.
  std::vector<uint64_t> by_rank(o.models, 0);
  for (const uint32_t m : w->trace) ++by_rank[w->popularity_rank[m]];
  const double h10 = 2.9289682539682538;
  for (uint32_t k = 0; k < o.models; ++k) {
    const double expected = 1.0 / (k + 1) / h10;
    EXPECT_NEAR(static_cast<double>(by_rank[k]) / static_cast<double>(o.requests), expected, 0.006)
        << "rank " << k;
  }

  // Another skew keeps the same population and changes the trace.
  o.zipf_s = 1.2;
  auto skewed = MakeWorkload(o);
  ASSERT_TRUE(skewed.ok());
  EXPECT_EQ(skewed->sizes, w->sizes);
  EXPECT_EQ(skewed->popularity_rank, w->popularity_rank);
  EXPECT_NE(skewed->trace, w->trace);
  // A different seed, a different population.
  o.seed = 2;
  auto other = MakeWorkload(o);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->sizes, w->sizes);
}

TEST(EvictionReplayTest, BadWorkloadOptionsAreRefused) {
  WorkloadOptions o;
  o.models = 0;
  EXPECT_EQ(MakeWorkload(o).status().code(), StatusCode::kInvalidArgument);
  o = WorkloadOptions();
  o.min_bytes = 10;
  o.max_bytes = 5;
  EXPECT_EQ(MakeWorkload(o).status().code(), StatusCode::kInvalidArgument);
  o = WorkloadOptions();
  o.zipf_s = -1;
  EXPECT_EQ(MakeWorkload(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sagebox::endpoint
