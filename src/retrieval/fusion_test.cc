#include "retrieval/fusion.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace sagebox::retrieval {
namespace {

using ::testing::HasSubstr;

// OpenSearch's worked example ("Reciprocal rank fusion", Example: Fusing
// keyword and vector results,
// https://docs.opensearch.org/latest/vector-search/ai-search/hybrid-search/rrf/):
// a match query for "running shoes" and a k-NN query for [0.9, 0.1] (k = 3)
// over five products, with the scores the page shows.
const RankedList kKeyword = {{"1", 0.81676}, {"2", 0.53566}};
const RankedList kVector = {{"2", 1.0}, {"3", 0.98039}, {"4", 0.75758}};

std::vector<std::string> Ids(const RankedList& l) {
  std::vector<std::string> out;
  for (const ScoredId& r : l) out.push_back(r.id);
  return out;
}

TEST(FuseRrfTest, OpenSearchExampleWithRankConstantOne) {
  RrfOptions o;
  o.rank_constant = 1;
  auto fused = FuseRrf({kKeyword, kVector}, o);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  // The page's response: 2 -> 0.8333334, 1 -> 0.5, 3 -> 0.33333334, 4 -> 0.25.
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"2", "1", "3", "4"}));
  EXPECT_NEAR((*fused)[0].score, 0.8333334, 1e-6);
  EXPECT_NEAR((*fused)[1].score, 0.5, 1e-7);
  EXPECT_NEAR((*fused)[2].score, 0.33333334, 1e-7);
  EXPECT_NEAR((*fused)[3].score, 0.25, 1e-7);
}

TEST(FuseRrfTest, DefaultRankConstantIsSixty) {
  auto fused = FuseRrf({kKeyword, kVector});
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"2", "1", "3", "4"}));
  EXPECT_DOUBLE_EQ((*fused)[0].score, 1.0 / 62 + 1.0 / 61);
  EXPECT_DOUBLE_EQ((*fused)[1].score, 1.0 / 61);
  EXPECT_DOUBLE_EQ((*fused)[2].score, 1.0 / 62);
  EXPECT_DOUBLE_EQ((*fused)[3].score, 1.0 / 63);
}

TEST(FuseRrfTest, SizeOneExampleTieGoesToTheSmallerId) {
  // The page's size = 1 run: each clause contributes its first result only,
  // both score 1 / (1 + 1) = 0.5 and "the tie resolves in favor of document 1".
  RrfOptions o;
  o.rank_constant = 1;
  auto fused = FuseRrf({{kKeyword[0]}, {kVector[0]}}, o);
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"1", "2"}));
  EXPECT_DOUBLE_EQ((*fused)[0].score, 0.5);
  EXPECT_DOUBLE_EQ((*fused)[1].score, 0.5);
}

TEST(FuseRrfTest, RanksComeFromOrderNotScores) {
  // A list is a ranking: its order decides, whatever its scores say.
  auto fused = FuseRrf({{{"a", 1.0}, {"b", 5.0}}});
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(Ids(*fused), (std::vector<std::string>{"a", "b"}));
}

TEST(FuseRrfTest, Weights) {
  RrfOptions o;
  o.rank_constant = 1;
  o.weights = {0.2, 0.8};
  auto fused = FuseRrf({kKeyword, kVector}, o);
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"2", "3", "4", "1"}));
  EXPECT_DOUBLE_EQ((*fused)[0].score, 0.2 / 3 + 0.8 / 2);
  EXPECT_DOUBLE_EQ((*fused)[1].score, 0.8 / 3);
  EXPECT_DOUBLE_EQ((*fused)[2].score, 0.8 / 4);
  EXPECT_DOUBLE_EQ((*fused)[3].score, 0.2 / 2);
}

TEST(FuseMinMaxTest, OpenSearchExampleWeightedThirtySeventy) {
  // The normalization-processor page's pipeline (min_max, arithmetic_mean,
  // weights [0.3, 0.7]) applied to the scores above, by hand:
  //   keyword: min 0.53566, max 0.81676 -> 1: 1.0, 2: 0 -> 0.001
  //   vector:  min 0.75758, max 1.0 -> 2: 1.0, 3: 0.22281 / 0.24242, 4: 0 -> 0.001
  //   fused = 0.3 * keyword + 0.7 * vector (missing = 0), over 0.3 + 0.7.
  MinMaxOptions o;
  o.weights = {0.3, 0.7};
  auto fused = FuseMinMax({kKeyword, kVector}, o);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"2", "3", "1", "4"}));
  EXPECT_NEAR((*fused)[0].score, 0.3 * 0.001 + 0.7 * 1.0, 1e-12);
  EXPECT_NEAR((*fused)[1].score, 0.7 * (0.98039 - 0.75758) / (1.0 - 0.75758), 1e-12);
  EXPECT_NEAR((*fused)[2].score, 0.3, 1e-12);
  EXPECT_NEAR((*fused)[3].score, 0.7 * 0.001, 1e-12);
}

TEST(FuseMinMaxTest, EqualWeightsByDefaultAndMissingCountsAsZero) {
  auto fused = FuseMinMax({kKeyword, kVector});
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"2", "1", "3", "4"}));
  // 2 is in both lists: (0.001 + 1) / 2. 1 is only in the keyword list, at its
  // top: (1 + 0) / 2, not 1 / 1: the absent list's weight still counts.
  EXPECT_NEAR((*fused)[0].score, (0.001 + 1.0) / 2, 1e-12);
  EXPECT_NEAR((*fused)[1].score, 0.5, 1e-12);
  EXPECT_NEAR((*fused)[3].score, 0.001 / 2, 1e-12);
}

TEST(FuseMinMaxTest, ListWithEqualScoresNormalisesToOne) {
  // max == min: every result of that list gets 1.0 (OpenSearch's
  // SINGLE_RESULT_SCORE), whatever the raw score.
  auto fused = FuseMinMax({{{"a", 7.5}}, {{"b", 0.2}, {"c", 0.2}}});
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"a", "b", "c"}));
  for (const ScoredId& r : *fused) EXPECT_DOUBLE_EQ(r.score, 0.5) << r.id;
}

TEST(FuseMinMaxTest, NegativeScoresAreNormalisedLikeAnyOther) {
  auto fused = FuseMinMax({{{"a", -1.0}, {"b", -3.0}, {"c", -2.0}}});
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Ids(*fused), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_DOUBLE_EQ((*fused)[0].score, 1.0);
  EXPECT_DOUBLE_EQ((*fused)[1].score, 0.5);
  EXPECT_DOUBLE_EQ((*fused)[2].score, 0.001);
}

TEST(FusionTest, EmptyInputs) {
  auto a = FuseRrf({});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  auto b = FuseMinMax({{}, {}});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
  auto c = FuseMinMax({{}, kVector});
  ASSERT_TRUE(c.ok());
  // An empty list still holds half the weight.
  EXPECT_DOUBLE_EQ(c->front().score, 0.5);
}

TEST(FusionTest, RejectsMalformedLists) {
  const RankedList dup = {{"a", 1}, {"b", 0.5}, {"a", 0.2}};
  auto r = FuseRrf({kKeyword, dup});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("list 1, position 3"));
  EXPECT_THAT(r.status().message(), HasSubstr("\"a\" appears twice"));

  const RankedList nan = {{"a", std::numeric_limits<double>::quiet_NaN()}};
  auto m = FuseMinMax({nan});
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("list 0, position 1"));
  EXPECT_THAT(m.status().message(), HasSubstr("not a finite number"));

  auto e = FuseMinMax({{{"", 1.0}}});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("empty id"));
}

TEST(FusionTest, RejectsBadOptions) {
  RrfOptions k0;
  k0.rank_constant = 0;
  EXPECT_EQ(FuseRrf({kKeyword}, k0).status().code(), StatusCode::kInvalidArgument);
  RrfOptions k_big;
  k_big.rank_constant = 10001;
  EXPECT_EQ(FuseRrf({kKeyword}, k_big).status().code(), StatusCode::kInvalidArgument);

  MinMaxOptions count;
  count.weights = {1.0};
  auto c = FuseMinMax({kKeyword, kVector}, count);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("1 given for 2 lists"));

  MinMaxOptions sum;
  sum.weights = {0.5, 0.6};
  auto s = FuseMinMax({kKeyword, kVector}, sum);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("expected 1"));

  MinMaxOptions range;
  range.weights = {1.5, -0.5};
  auto g = FuseMinMax({kKeyword, kVector}, range);
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.status().message(), HasSubstr("weights[0]"));

  // Decimal fractions that do not add to exactly 1.0 in binary are fine.
  MinMaxOptions tenths;
  tenths.weights = {0.1, 0.2, 0.7};
  EXPECT_TRUE(FuseMinMax({kKeyword, kVector, {}}, tenths).ok());
}

}  // namespace
}  // namespace sagebox::retrieval
