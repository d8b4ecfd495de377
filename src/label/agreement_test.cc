#include "label/agreement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

namespace sagebox::label {
namespace {

using nlohmann::json;
using Units = std::vector<std::vector<std::optional<double>>>;

// scipy is not installed here, so the expected τ-b values are worked by hand:
// τ-b = (C − D) / sqrt((C + D + Tx) (C + D + Ty)), Tx/Ty = pairs tied in x only / y only.
TEST(KendallTauB, HandWorkedCases) {
  // x = 1 2 3, y = 1 3 2: pairs (1,2) C, (1,3) C, (2,3) D → (2 − 1) / 3.
  EXPECT_NEAR(*KendallTauB({1, 2, 3}, {1, 3, 2}), 1.0 / 3, 1e-12);
  // x = 1 1 2, y = 1 2 3: (1,2) tied in x, (1,3) C, (2,3) C → 2 / sqrt(3 · 2).
  EXPECT_NEAR(*KendallTauB({1, 1, 2}, {1, 2, 3}), 2 / std::sqrt(6.0), 1e-12);
  // Reversed order: all 6 pairs discordant → −1.
  EXPECT_NEAR(*KendallTauB({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // scipy.stats.kendalltau's docstring example: x = [12, 2, 1, 12, 2],
  // y = [1, 4, 7, 1, 0] → −0.47140452079103173. By hand: C = 2 (pairs 0-4, 3-4),
  // D = 6, Tx = 1 (pair 1-4), pair 0-3 tied in both → −4 / sqrt(9 · 8).
  EXPECT_NEAR(*KendallTauB({12, 2, 1, 12, 2}, {1, 4, 7, 1, 0}), -0.47140452079103173, 1e-12);
}

TEST(KendallTauB, UndefinedCases) {
  EXPECT_FALSE(KendallTauB({1}, {1}).has_value());
  EXPECT_FALSE(KendallTauB({1, 2}, {1}).has_value());
  EXPECT_FALSE(KendallTauB({1, 1, 1}, {1, 2, 3}).has_value());  // x all tied
}

// Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", the worked example:
// 4 coders (A-D) × 12 units, missing values as nullopt. The paper's (and the
// `krippendorff` Python package's doctest) figures: nominal 0.743, ordinal 0.815,
// interval 0.849.
Units PaperExample() {
  const std::optional<double> _;  // missing
  const std::vector<std::vector<std::optional<double>>> coders = {
      {1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _},  // A
      {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3},  // B
      {_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _},  // C
      {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _},  // D
  };
  Units units(12);
  for (size_t u = 0; u < 12; ++u) {
    for (const auto& coder : coders) units[u].push_back(coder[u]);
  }
  return units;
}

TEST(KrippendorffAlpha, PaperWorkedExample) {
  Units units = PaperExample();
  EXPECT_NEAR(*KrippendorffAlpha(units, AlphaMetric::kNominal), 0.743, 0.0005);
  EXPECT_NEAR(*KrippendorffAlpha(units, AlphaMetric::kOrdinal), 0.815, 0.0005);
  EXPECT_NEAR(*KrippendorffAlpha(units, AlphaMetric::kInterval), 0.849, 0.0005);
}

TEST(KrippendorffAlpha, PerfectAgreementAndUndefined) {
  Units agree = {{1, 1}, {2, 2}, {3, 3, std::nullopt}};
  EXPECT_DOUBLE_EQ(*KrippendorffAlpha(agree, AlphaMetric::kInterval), 1.0);
  // Single values are not pairable; a unit with one value changes nothing.
  Units with_single = agree;
  with_single.push_back({7, std::nullopt});
  EXPECT_DOUBLE_EQ(*KrippendorffAlpha(with_single, AlphaMetric::kNominal), 1.0);
  EXPECT_FALSE(KrippendorffAlpha({{1, std::nullopt}}, AlphaMetric::kNominal).has_value());
  EXPECT_FALSE(KrippendorffAlpha({{2, 2}, {2, 2}}, AlphaMetric::kNominal).has_value());
  // Two coders who always disagree, 1/2 vs 2/1: D_o = 1, D_e = (n/(n−1))·(1/2) with n = 4
  // → nominal α = 1 − 1 / (2/3) = −0.5.
  EXPECT_NEAR(*KrippendorffAlpha({{1, 2}, {2, 1}}, AlphaMetric::kNominal), -0.5, 1e-12);
}

TEST(SpanF1, OverlapPrecisionAndRecall) {
  // [0,10) vs [5,15): 5 shared characters, precision = recall = 0.5.
  EXPECT_DOUBLE_EQ(SpanF1({{0, 10}}, {{5, 15}}), 0.5);
  // One side's overlapping spans are merged first: [0,5)+[3,10) = [0,10) vs [0,10).
  EXPECT_DOUBLE_EQ(SpanF1({{0, 5}, {3, 10}}, {{0, 10}}), 1.0);
  // [0,10) vs [0,5): P = 5/10, R = 5/5 → 2·0.5·1/1.5.
  EXPECT_DOUBLE_EQ(SpanF1({{0, 10}}, {{0, 5}}), 2.0 / 3);
  EXPECT_DOUBLE_EQ(SpanF1({{0, 4}}, {{6, 9}}), 0.0);
  EXPECT_DOUBLE_EQ(SpanF1({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(SpanF1({{0, 4}}, {}), 0.0);
}

TEST(TemporalIoU, UnionsIntersected) {
  EXPECT_DOUBLE_EQ(TemporalIoU({{0, 10}}, {{5, 15}}), 5.0 / 15);
  // a = [0,2)+[4,6), b = [1,5): intersection 1 + 1 = 2, union 6.
  EXPECT_DOUBLE_EQ(TemporalIoU({{0, 2}, {4, 6}}, {{1, 5}}), 2.0 / 6);
  EXPECT_DOUBLE_EQ(TemporalIoU({}, {}), 1.0);
  EXPECT_DOUBLE_EQ(TemporalIoU({{0, 1}}, {}), 0.0);
}

json Rank(const std::vector<std::string>& order, const std::string& dim = "helpfulness") {
  return {{"rankings", {{{"dimension", dim}, {"order", order}, {"ties", json::array()}}}}};
}

ProjectConfig Config(Kind kind) {
  ProjectConfig c;
  c.kind = kind;
  if (kind == Kind::kRanking) c.requirements.dimensions = {"helpfulness"};
  return c;
}

TEST(ProjectAgreement, RankingTauAndOrdinalAlpha) {
  // Item 1: two annotators agree; item 2: they reverse each other; item 3 has one
  // annotation and counts for nothing.
  std::vector<std::vector<json>> items = {
      {Rank({"a", "b", "c"}), Rank({"a", "b", "c"})},
      {Rank({"a", "b", "c"}), Rank({"c", "b", "a"})},
      {Rank({"a", "b", "c"})},
  };
  json out = ProjectAgreement(Config(Kind::kRanking), items);
  EXPECT_EQ(out["items"], 2);
  EXPECT_DOUBLE_EQ(out["kendall_tau_b"].get<double>(), 0.0);  // (1 + −1) / 2
  // Units (ranks of a, b, c): {0,0},{1,1},{2,2},{0,2},{1,1},{2,0}; 12 values, n_v = 4
  // each. D_o (ordinal): only units {0,2},{2,0}: 2 · 2 · δ²(0,2) with
  // δ²(0,2) = (4 + 4 + 4 − (4 + 4)/2)² = 64 → Σ o δ² = 256.
  // Σ n_c n_k δ² = 2 · 16 · (δ²(0,1) + δ²(1,2) + δ²(0,2)) = 32 · (16 + 16 + 64) = 3072.
  // α = 1 − (n − 1) · 256 / 3072 = 1 − 11/12.
  EXPECT_NEAR(out["krippendorff_alpha"].get<double>(), 1.0 / 12, 1e-12);

  json agree = ProjectAgreement(Config(Kind::kRanking), {{Rank({"a", "b"}), Rank({"a", "b"})},
                                                         {Rank({"b", "a"}), Rank({"b", "a"})}});
  EXPECT_DOUBLE_EQ(agree["kendall_tau_b"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(agree["krippendorff_alpha"].get<double>(), 1.0);
}

TEST(ProjectAgreement, QaSpansVideoSegmentsImageCounts) {
  auto qa = [](int start, int end) {
    return json{
        {"qa_pairs",
         {{{"question", "q"}, {"answer", "a"}, {"spans", {{{"start", start}, {"end", end}}}}}}}};
  };
  json q = ProjectAgreement(Config(Kind::kQaPairs), {{qa(0, 10), qa(5, 15)}, {qa(0, 4), qa(0, 4)}});
  EXPECT_EQ(q["items"], 2);
  EXPECT_DOUBLE_EQ(q["span_f1"].get<double>(), 0.75);  // (0.5 + 1) / 2
  EXPECT_FALSE(q.contains("krippendorff_alpha"));

  auto video = [](double s, double e) {
    return json{{"activities", {{{"start", s}, {"end", e}, {"text", "t"}}}}};
  };
  json v =
      ProjectAgreement(Config(Kind::kVideoCaption), {{video(0, 10), video(5, 15), video(0, 10)}});
  // Pairs: 1/3, 1, 1/3 → mean 5/9.
  EXPECT_NEAR(v["temporal_iou"].get<double>(), 5.0 / 9, 1e-12);

  auto image = [](int objects) {
    json objs = json::array();
    for (int i = 0; i < objects; ++i) objs.push_back({{"x", 0.1}, {"y", 0.1}});
    return json{{"objects", objs}, {"caption", "c"}};
  };
  json i = ProjectAgreement(Config(Kind::kImageCaption),
                            {{image(2), image(2)}, {image(3), image(3)}, {image(5)}});
  EXPECT_EQ(i["items"], 2);
  EXPECT_DOUBLE_EQ(i["krippendorff_alpha"].get<double>(), 1.0);
  json none = ProjectAgreement(Config(Kind::kImageCaption), {{image(1)}});
  EXPECT_EQ(none, json({{"items", 0}}));
}

TEST(GoldScore, EachKind) {
  // Gold a > b > c gives 3 preferences; the payload a > c > b keeps a>b and a>c.
  EXPECT_NEAR(GoldScore(Config(Kind::kRanking), Rank({"a", "b", "c"}), Rank({"a", "c", "b"}), 0),
              2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kRanking), Rank({"a", "b"}), Rank({"a", "b"}), 0), 1.0);
  // A ranking of another dimension reproduces nothing.
  EXPECT_DOUBLE_EQ(
      GoldScore(Config(Kind::kRanking), Rank({"a", "b"}), Rank({"a", "b"}, "clarity"), 0), 0.0);

  // The entire-passage mark is [0, 100) against a span [0, 50): F1 2/3.
  json gold_qa = {{"qa_pairs", {{{"refs_entire_passage", true}, {"spans", json::array()}}}}};
  json qa = {{"qa_pairs", {{{"spans", {{{"start", 0}, {"end", 50}}}}}}}};
  EXPECT_NEAR(GoldScore(Config(Kind::kQaPairs), gold_qa, qa, 100), 2.0 / 3, 1e-12);

  json gold_v = {{"activities", {{{"start", 0}, {"end", 10}}}}};
  json v = {{"activities", {{{"start", 5}, {"end", 15}}}}};
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kVideoCaption), gold_v, v, 0), 1.0 / 3);

  // Two gold objects; one payload dot within 0.05 of both matches only one of them.
  json gold_i = {{"objects", {{{"x", 0.50}, {"y", 0.50}}, {{"x", 0.52}, {"y", 0.50}}}}};
  json one_dot = {{"objects", {{{"x", 0.51}, {"y", 0.50}}}}};
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kImageCaption), gold_i, one_dot, 0), 0.5);
  json far = {{"objects", {{{"x", 0.9}, {"y", 0.9}}}}};
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kImageCaption), gold_i, far, 0), 0.0);

  // Malformed payloads score 0.
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kRanking), Rank({"a", "b"}), json("x"), 0), 0.0);
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kVideoCaption), gold_v, json::object(), 0), 0.0);
  EXPECT_DOUBLE_EQ(GoldScore(Config(Kind::kImageCaption), gold_i, json{{"objects", 3}}, 0), 0.0);
}

}  // namespace
}  // namespace sagebox::label
