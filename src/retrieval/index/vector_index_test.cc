#include "retrieval/index/vector_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/env.h"
#include "core/testing/fault_env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<VectorIndex> MakeIndex(size_t dim, VectorSpace space, HnswParams p = {}) {
  auto ix = VectorIndex::Create(dim, space, p);
  EXPECT_TRUE(ix.ok()) << ix.status().ToString();
  return ix.ok() ? std::move(ix).value() : nullptr;
}

std::vector<uint64_t> Labels(const std::vector<VectorHit>& hits) {
  std::vector<uint64_t> out;
  for (const VectorHit& h : hits) out.push_back(h.label);
  return out;
}

std::vector<VectorHit> SearchOk(const VectorIndex& ix, const std::vector<float>& q,
                                VectorSearchOptions o, VectorSearchInfo* info = nullptr) {
  auto r = ix.Search(q, o, info);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<VectorHit>{};
}

VectorSearchOptions Exact(size_t k) {
  VectorSearchOptions o;
  o.k = k;
  o.exact = true;
  return o;
}
VectorSearchOptions Approx(size_t k) {
  VectorSearchOptions o;
  o.k = k;
  return o;
}

// ---- scores and hand-computed rankings ------------------------------------

TEST(SpaceScoreTest, OpenSearchFormulas) {
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kL2, 0), 1.0);
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kL2, 3), 0.25);
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kCosineSimil, 0), 1.0);  // same direction
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kCosineSimil, 1), 0.5);  // orthogonal
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kCosineSimil, 2), 0.0);  // opposite
  // innerproduct: d = -ip; ip = 3 -> 4 (ip + 1), ip = -1 -> 1/2 (1 / (1 - ip)).
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kInnerProduct, -3), 4.0);
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kInnerProduct, 1), 0.5);
  EXPECT_DOUBLE_EQ(SpaceScore(VectorSpace::kInnerProduct, 0), 1.0);
}

TEST(VectorSpaceTest, Names) {
  for (VectorSpace s : {VectorSpace::kL2, VectorSpace::kCosineSimil, VectorSpace::kInnerProduct}) {
    auto parsed = ParseVectorSpace(VectorSpaceName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  auto bad = ParseVectorSpace("cosine");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("expected l2, cosinesimil or innerproduct"));
}

// The five products of OpenSearch's RRF example, queried with [0.9, 0.1] and
// k = 3 in l2; the page lists scores 1.0, 0.98039 and 0.75758 for 2, 3, 4.
TEST(VectorIndexTest, L2MatchesOpenSearchExample) {
  auto ix = MakeIndex(2, VectorSpace::kL2);
  const std::vector<std::vector<float>> items = {
      {0.2F, 0.8F}, {0.9F, 0.1F}, {0.8F, 0.2F}, {0.5F, 0.5F}, {0.0F, 1.0F}};
  for (size_t i = 0; i < items.size(); ++i) ASSERT_TRUE(ix->Add(i + 1, items[i]).ok());
  for (const VectorSearchOptions& o : {Exact(3), Approx(3)}) {
    const auto hits = SearchOk(*ix, {0.9F, 0.1F}, o);
    ASSERT_THAT(Labels(hits), ElementsAre(2, 3, 4)) << "exact=" << o.exact;
    EXPECT_NEAR(hits[0].score, 1.0, 1e-6);
    EXPECT_NEAR(hits[1].score, 0.98039, 1e-5);
    EXPECT_NEAR(hits[2].score, 0.75758, 1e-5);
    EXPECT_NEAR(hits[2].distance, 0.32, 1e-6);  // (0.4² + 0.4²)
  }
  // All five by hand: d(1) = 0.7² + 0.7² = 0.98, d(5) = 0.9² + 0.9² = 1.62.
  const auto all = SearchOk(*ix, {0.9F, 0.1F}, Exact(10));
  ASSERT_THAT(Labels(all), ElementsAre(2, 3, 4, 1, 5));
  EXPECT_NEAR(all[3].distance, 0.98, 1e-6);
  EXPECT_NEAR(all[4].score, 1.0 / 2.62, 1e-6);
}

TEST(VectorIndexTest, CosineHandComputed) {
  auto ix = MakeIndex(2, VectorSpace::kCosineSimil);
  ASSERT_TRUE(ix->Add(10, std::vector<float>{-2.0F, 0.0F}).ok());  // cos -1
  ASSERT_TRUE(ix->Add(11, std::vector<float>{0.0F, 5.0F}).ok());   // cos 0
  ASSERT_TRUE(ix->Add(12, std::vector<float>{3.0F, 3.0F}).ok());   // cos 1/√2
  ASSERT_TRUE(ix->Add(13, std::vector<float>{0.5F, 0.0F}).ok());   // cos 1 (length ignored)
  const auto hits = SearchOk(*ix, {4.0F, 0.0F}, Exact(4));
  ASSERT_THAT(Labels(hits), ElementsAre(13, 12, 11, 10));
  const double c = 1 - std::sqrt(0.5);
  EXPECT_NEAR(hits[0].distance, 0.0, 1e-6);
  EXPECT_NEAR(hits[1].distance, c, 1e-6);
  EXPECT_NEAR(hits[1].score, (2 - c) / 2, 1e-6);
  EXPECT_NEAR(hits[2].score, 0.5, 1e-6);
  EXPECT_NEAR(hits[3].score, 0.0, 1e-6);
}

TEST(VectorIndexTest, InnerProductHandComputedWithTieByLabel) {
  auto ix = MakeIndex(2, VectorSpace::kInnerProduct);
  ASSERT_TRUE(ix->Add(7, std::vector<float>{3.0F, 0.0F}).ok());    // ip 3
  ASSERT_TRUE(ix->Add(5, std::vector<float>{1.0F, 2.0F}).ok());    // ip 3
  ASSERT_TRUE(ix->Add(6, std::vector<float>{-1.0F, -1.0F}).ok());  // ip -2
  ASSERT_TRUE(ix->Add(8, std::vector<float>{0.0F, 0.5F}).ok());    // ip 0.5
  ASSERT_TRUE(ix->Add(9, std::vector<float>{0.0F, 0.0F}).ok());    // ip 0: fine here
  const auto hits = SearchOk(*ix, {1.0F, 1.0F}, Exact(5));
  ASSERT_THAT(Labels(hits), ElementsAre(5, 7, 8, 9, 6));
  EXPECT_DOUBLE_EQ(hits[0].distance, -3.0);
  EXPECT_DOUBLE_EQ(hits[0].score, 4.0);
  EXPECT_DOUBLE_EQ(hits[1].score, 4.0);
  EXPECT_DOUBLE_EQ(hits[2].score, 1.5);
  EXPECT_DOUBLE_EQ(hits[3].score, 1.0);
  EXPECT_DOUBLE_EQ(hits[4].score, 1.0 / 3);
}

TEST(VectorIndexTest, RejectsBadVectorsAndParameters) {
  auto ix = MakeIndex(3, VectorSpace::kCosineSimil);
  auto expect_invalid = [](const Status& s, const std::string& part) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(part));
  };
  expect_invalid(ix->Add(1, std::vector<float>{1, 2}),
                 "has 2 components; the index has dimension 3");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_invalid(ix->Add(1, std::vector<float>{1, nan, 2}), "component 1 is NaN");
  expect_invalid(ix->Add(1, std::vector<float>{inf, 0, 2}), "component 0 is infinite");
  expect_invalid(ix->Add(1, std::vector<float>{0, 0, 0}), "zero vector");
  EXPECT_EQ(ix->size(), 0U);
  ASSERT_TRUE(ix->Add(1, std::vector<float>{1, 0, 0}).ok());
  expect_invalid(ix->Search(std::vector<float>{1, 0}, Approx(1)).status(), "query has 2");
  expect_invalid(ix->Search(std::vector<float>{nan, 0, 0}, Exact(1)).status(), "NaN");
  expect_invalid(ix->Search(std::vector<float>{1, 0, 0}, Approx(0)).status(), "k must be");
  expect_invalid(ix->SetEfSearch(0), "ef_search");

  expect_invalid(VectorIndex::Create(0, VectorSpace::kL2).status(), "dimension 0");
  HnswParams m1;
  m1.m = 1;
  expect_invalid(VectorIndex::Create(4, VectorSpace::kL2, m1).status(), "m = 1");
  HnswParams m101;
  m101.m = 101;
  expect_invalid(VectorIndex::Create(4, VectorSpace::kL2, m101).status(), "m = 101");
}

TEST(VectorIndexTest, DefaultsAreOpenSearchs) {
  auto ix = MakeIndex(4, VectorSpace::kL2);
  EXPECT_EQ(ix->params().m, 16U);
  EXPECT_EQ(ix->params().ef_construction, 100U);
  EXPECT_EQ(ix->params().ef_search, 100U);
}

// ---- add, replace, remove ---------------------------------------------------

TEST(VectorIndexTest, RemoveReplaceAndReAdd) {
  auto ix = MakeIndex(2, VectorSpace::kL2);
  ASSERT_TRUE(ix->Add(1, std::vector<float>{0, 0}).ok());
  ASSERT_TRUE(ix->Add(2, std::vector<float>{1, 0}).ok());
  ASSERT_TRUE(ix->Add(3, std::vector<float>{2, 0}).ok());
  ASSERT_EQ(ix->size(), 3U);

  ASSERT_TRUE(ix->Remove(2).ok());
  EXPECT_FALSE(ix->Contains(2));
  EXPECT_EQ(ix->size(), 2U);
  EXPECT_EQ(ix->Remove(2).code(), StatusCode::kNotFound);
  EXPECT_EQ(ix->Remove(99).code(), StatusCode::kNotFound);
  for (const VectorSearchOptions& o : {Exact(3), Approx(3)}) {
    EXPECT_THAT(Labels(SearchOk(*ix, {1, 0}, o)), ElementsAre(1, 3)) << o.exact;
  }

  // Re-adding a removed label revives it, with its new vector.
  ASSERT_TRUE(ix->Add(2, std::vector<float>{10, 0}).ok());
  EXPECT_TRUE(ix->Contains(2));
  EXPECT_EQ(ix->size(), 3U);
  for (const VectorSearchOptions& o : {Exact(3), Approx(3)}) {
    const auto hits = SearchOk(*ix, {9, 0}, o);
    ASSERT_THAT(Labels(hits), ElementsAre(2, 3, 1)) << o.exact;
    EXPECT_NEAR(hits[0].distance, 1.0, 1e-6);
  }

  // Adding a live label replaces its vector; the count does not change.
  ASSERT_TRUE(ix->Add(1, std::vector<float>{20, 0}).ok());
  EXPECT_EQ(ix->size(), 3U);
  EXPECT_THAT(Labels(SearchOk(*ix, {19, 0}, Exact(3))), ElementsAre(1, 2, 3));

  // Everything removed: no results, not an error.
  for (uint64_t l : {1, 2, 3}) ASSERT_TRUE(ix->Remove(l).ok());
  EXPECT_TRUE(SearchOk(*ix, {0, 0}, Approx(3)).empty());
  EXPECT_TRUE(SearchOk(*ix, {0, 0}, Exact(3)).empty());
}

TEST(VectorIndexTest, GrowsPastInitialCapacity) {
  HnswParams p;
  p.initial_capacity = 16;
  auto ix = MakeIndex(8, VectorSpace::kL2, p);
  EXPECT_EQ(ix->capacity(), 16U);
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> vs(1000, std::vector<float>(8));
  for (auto& v : vs) {
    for (float& x : v) x = g(rng);
  }
  for (size_t i = 0; i < vs.size(); ++i) ASSERT_TRUE(ix->Add(i, vs[i]).ok()) << i;
  EXPECT_EQ(ix->size(), 1000U);
  EXPECT_GE(ix->capacity(), 1000U);
  size_t self_found = 0;
  for (size_t i = 0; i < vs.size(); i += 10) {
    EXPECT_THAT(Labels(SearchOk(*ix, vs[i], Exact(1))), ElementsAre(i));
    const auto a = SearchOk(*ix, vs[i], Approx(1));
    if (!a.empty() && a[0].label == i) ++self_found;
  }
  EXPECT_GE(self_found, 99U);
}

// ---- recall ------------------------------------------------------------------

std::vector<std::vector<float>> RandomVectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& v : out) {
    for (float& x : v) x = u(rng);
  }
  return out;
}

// `clusters` Gaussian blobs (sigma 0.05) around uniform centres: the shape of
// real embeddings (topics), and harder for a graph than uniform noise.
std::vector<std::vector<float>> ClusteredVectors(size_t n, size_t dim, size_t clusters,
                                                 uint32_t seed) {
  std::mt19937 rng(seed);
  const auto centres = RandomVectors(clusters, dim, seed + 1);
  std::normal_distribution<float> g(0, 0.05F);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centres[rng() % clusters];
    for (size_t j = 0; j < dim; ++j) out[i][j] = c[j] + g(rng);
  }
  return out;
}

// Mean recall@10 of the graph against the exact scan over `queries`.
double RecallAt10(const VectorIndex& ix, const std::vector<std::vector<float>>& queries) {
  double sum = 0;
  for (const auto& q : queries) {
    const auto exact = Labels(SearchOk(ix, q, Exact(10)));
    const auto approx = Labels(SearchOk(ix, q, Approx(10)));
    const std::set<uint64_t> truth(exact.begin(), exact.end());
    size_t hit = 0;
    for (uint64_t l : approx) hit += truth.count(l);
    sum += static_cast<double>(hit) / static_cast<double>(exact.size());
  }
  return sum / static_cast<double>(queries.size());
}

struct RecallCase {
  const char* name;
  VectorSpace space;
  bool clustered;
};

class RecallTest : public ::testing::TestWithParam<RecallCase> {};

TEST_P(RecallTest, RecallAt10AtLeast095On10kVectors) {
  const RecallCase& c = GetParam();
  constexpr size_t kN = 10000;
  constexpr size_t kDim = 24;
  const auto data = c.clustered ? ClusteredVectors(kN, kDim, 50, 11) : RandomVectors(kN, kDim, 11);
  const auto queries =
      c.clustered ? ClusteredVectors(100, kDim, 50, 11) : RandomVectors(100, kDim, 12);
  auto ix = MakeIndex(kDim, c.space);
  for (size_t i = 0; i < kN; ++i) ASSERT_TRUE(ix->Add(i, data[i]).ok());
  const double recall = RecallAt10(*ix, queries);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.95) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Spaces, RecallTest,
                         ::testing::Values(RecallCase{"l2_random", VectorSpace::kL2, false},
                                           RecallCase{"l2_clustered", VectorSpace::kL2, true},
                                           RecallCase{"cosine_clustered", VectorSpace::kCosineSimil,
                                                      true}),
                         [](const auto& p) { return std::string(p.param.name); });

// ---- filters -------------------------------------------------------------------

// The exact answer over the allowed labels, computed here without the index.
std::vector<uint64_t> BruteForceL2(const std::vector<std::vector<float>>& data,
                                   const std::unordered_set<uint64_t>& allowed,
                                   const std::vector<float>& q, size_t k) {
  std::vector<std::pair<double, uint64_t>> d;
  for (uint64_t l : allowed) {
    double s = 0;
    for (size_t j = 0; j < q.size(); ++j) s += (data[l][j] - q[j]) * (data[l][j] - q[j]);
    d.emplace_back(s, l);
  }
  std::sort(d.begin(), d.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < std::min(k, d.size()); ++i) out.push_back(d[i].second);
  return out;
}

class FilterTest : public ::testing::Test {
 protected:
  static constexpr size_t kN = 4000;
  static constexpr size_t kDim = 16;
  void SetUp() override {
    data_ = RandomVectors(kN, kDim, 21);
    ix_ = MakeIndex(kDim, VectorSpace::kL2);
    for (size_t i = 0; i < kN; ++i) ASSERT_TRUE(ix_->Add(i, data_[i]).ok());
    queries_ = RandomVectors(20, kDim, 22);
  }
  std::vector<std::vector<float>> data_;
  std::unique_ptr<VectorIndex> ix_;
  std::vector<std::vector<float>> queries_;
};

TEST_F(FilterTest, SelectiveFilterScansExactly) {
  // 40 of 4000 allowed: walking would cost ~2m * max(k', ef) = 3200+
  // distance computations against 40 for the scan, so the scan runs.
  std::unordered_set<uint64_t> allowed;
  for (uint64_t l = 0; l < kN; l += 100) allowed.insert(l);
  VectorSearchOptions o = Approx(10);
  o.filter = &allowed;
  for (const auto& q : queries_) {
    VectorSearchInfo info;
    const auto hits = SearchOk(*ix_, q, o, &info);
    EXPECT_TRUE(info.exact);
    EXPECT_EQ(info.graph_walks, 0U);
    EXPECT_EQ(Labels(hits), BruteForceL2(data_, allowed, q, 10));
  }
}

TEST_F(FilterTest, BroadFilterOverFetchesFromTheGraph) {
  // Half the labels allowed: k' = 2k / 0.5 = 40, a walk of ~2 * 16 * 100 =
  // 3200 distance computations against 2000 for the scan... which is less, so
  // use a bigger share: 90% allowed, scan 3600 > walk 3200.
  std::unordered_set<uint64_t> allowed;
  for (uint64_t l = 0; l < kN; ++l) {
    if (l % 10 != 0) allowed.insert(l);
  }
  VectorSearchOptions o = Approx(10);
  o.filter = &allowed;
  double recall = 0;
  for (const auto& q : queries_) {
    VectorSearchInfo info;
    const auto hits = SearchOk(*ix_, q, o, &info);
    EXPECT_FALSE(info.exact);
    EXPECT_GE(info.graph_walks, 1U);
    EXPECT_EQ(info.graph_fetch, 23U);  // ceil(2 * 10 / 0.9)
    ASSERT_EQ(hits.size(), 10U);
    for (const VectorHit& h : hits) EXPECT_EQ(allowed.count(h.label), 1U) << h.label;
    const auto truth = BruteForceL2(data_, allowed, q, 10);
    const std::set<uint64_t> t(truth.begin(), truth.end());
    for (const VectorHit& h : hits) recall += static_cast<double>(t.count(h.label)) / 10.0;
  }
  EXPECT_GE(recall / static_cast<double>(queries_.size()), 0.95);
}

TEST_F(FilterTest, ExactWithFilterAndLabelsThatAreNotLive) {
  std::unordered_set<uint64_t> allowed = {5, 6, 7, 123456789};  // the last is unknown
  ASSERT_TRUE(ix_->Remove(6).ok());
  VectorSearchOptions o = Exact(10);
  o.filter = &allowed;
  const auto hits = SearchOk(*ix_, queries_[0], o);
  const std::unordered_set<uint64_t> live = {5, 7};
  EXPECT_EQ(Labels(hits), BruteForceL2(data_, live, queries_[0], 10));

  std::unordered_set<uint64_t> none = {6, 999999};
  o.filter = &none;
  EXPECT_TRUE(SearchOk(*ix_, queries_[0], o).empty());
  o.exact = false;
  EXPECT_TRUE(SearchOk(*ix_, queries_[0], o).empty());
}

// ---- save and load -------------------------------------------------------------

class PersistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HnswParams p;
    p.m = 8;
    p.ef_construction = 40;
    p.ef_search = 30;
    ix_ = MakeIndex(6, VectorSpace::kCosineSimil, p);
    data_ = ClusteredVectors(500, 6, 5, 31);
    for (size_t i = 0; i < data_.size(); ++i) ASSERT_TRUE(ix_->Add(1000 + i, data_[i]).ok());
    for (uint64_t l = 1000; l < 1500; l += 7) ASSERT_TRUE(ix_->Remove(l).ok());
    path_ = dir_.Path("chunks.hnsw");
    ASSERT_TRUE(ix_->Save(Env::Default(), path_).ok());
    ASSERT_TRUE(Env::Default()->ReadFileToString(path_, &bytes_).ok());
  }

  Status LoadBytes(const std::string& bytes) {
    const std::string p = dir_.Path("damaged.hnsw");
    EXPECT_TRUE(Env::Default()->WriteFileAtomic(p, bytes).ok());
    return VectorIndex::Load(Env::Default(), p).status();
  }

  // Fixes both CRCs after a deliberate edit, so only the structural checks
  // can catch it. Layout: see vector_index.cc.
  static std::string Reseal(std::string b);

  testing::TempDir dir_{"vector_index"};
  std::unique_ptr<VectorIndex> ix_;
  std::vector<std::vector<float>> data_;
  std::string path_;
  std::string bytes_;
};

uint32_t Crc(const std::string& s, size_t from, size_t n) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data() + from), static_cast<uInt>(n)));
}

std::string PersistTest::Reseal(std::string b) {
  const uint32_t head = Crc(b, 0, 72);
  std::memcpy(b.data() + 72, &head, 4);
  const uint32_t body = Crc(b, 80, b.size() - 84);
  std::memcpy(b.data() + b.size() - 4, &body, 4);
  return b;
}

TEST_F(PersistTest, RoundTrip) {
  auto loaded = VectorIndex::Load(Env::Default(), path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const VectorIndex& back = **loaded;
  EXPECT_EQ(back.dimension(), 6U);
  EXPECT_EQ(back.space(), VectorSpace::kCosineSimil);
  EXPECT_EQ(back.size(), ix_->size());
  EXPECT_EQ(back.params().m, 8U);
  EXPECT_EQ(back.params().ef_construction, 40U);
  EXPECT_EQ(back.params().ef_search, 30U);
  EXPECT_FALSE(back.Contains(1000));
  EXPECT_TRUE(back.Contains(1001));
  for (size_t i = 0; i < data_.size(); i += 25) {
    for (const VectorSearchOptions& o : {Exact(10), Approx(10)}) {
      const auto a = SearchOk(*ix_, data_[i], o);
      const auto b = SearchOk(back, data_[i], o);
      ASSERT_EQ(Labels(a), Labels(b)) << i << " exact=" << o.exact;
      for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].distance, b[j].distance);
    }
  }
  // The loaded index keeps working: new labels, growth, removal, saving again.
  auto& mut = **loaded;
  for (uint64_t l = 0; l < 600; ++l) {
    ASSERT_TRUE(mut.Add(l, std::vector<float>{1, static_cast<float>(l), 0, 0, 0, 1}).ok());
  }
  EXPECT_EQ(mut.size(), ix_->size() + 600);
  ASSERT_TRUE(mut.Remove(1001).ok());
  ASSERT_TRUE(mut.Save(Env::Default(), path_).ok());
  auto again = VectorIndex::Load(Env::Default(), path_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->size(), mut.size());
  EXPECT_FALSE((*again)->Contains(1001));
}

TEST_F(PersistTest, EmptyIndexRoundTrips) {
  auto empty = MakeIndex(3, VectorSpace::kInnerProduct);
  const std::string p = dir_.Path("empty.hnsw");
  ASSERT_TRUE(empty->Save(Env::Default(), p).ok());
  auto back = VectorIndex::Load(Env::Default(), p);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->size(), 0U);
  EXPECT_EQ((*back)->space(), VectorSpace::kInnerProduct);
  ASSERT_TRUE((*back)->Add(4, std::vector<float>{1, 2, 3}).ok());
  EXPECT_THAT(Labels(SearchOk(**back, {1, 0, 0}, Approx(5))), ElementsAre(4));
}

TEST_F(PersistTest, TruncatedFilesAreCorruption) {
  for (size_t cut : {size_t{8}, size_t{40}, size_t{79}, size_t{84}, size_t{200}, bytes_.size() / 2,
                     bytes_.size() - 1}) {
    const Status s = LoadBytes(bytes_.substr(0, cut));
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << cut << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("damaged.hnsw")) << cut;
  }
  const Status padded = LoadBytes(bytes_ + "x");
  EXPECT_EQ(padded.code(), StatusCode::kCorruption);
  EXPECT_THAT(padded.message(), HasSubstr("truncated or padded"));
}

TEST_F(PersistTest, FlippedBytesFailTheCrc) {
  std::string header = bytes_;
  header[20] ^= 0x01;  // the dimension
  EXPECT_THAT(LoadBytes(header).message(), HasSubstr("header CRC mismatch"));
  std::mt19937 rng(5);
  for (int i = 0; i < 20; ++i) {
    std::string b = bytes_;
    const size_t at = 80 + rng() % (b.size() - 84);
    b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8)));
    const Status s = LoadBytes(b);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << at;
    EXPECT_THAT(s.message(), HasSubstr("graph CRC mismatch")) << at;
  }
}

TEST_F(PersistTest, ForeignFilesAreBadInput) {
  for (const std::string& foreign : {std::string(), std::string("hello"), std::string(4096, '\0'),
                                     std::string("{\"settings\": {\"index.knn\": true}}")}) {
    const Status s = LoadBytes(foreign);
    EXPECT_EQ(s.code(), StatusCode::kBadInput) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("not a sagebox vector index"));
  }
  std::string v2 = bytes_;
  v2[8] = 2;
  const Status s = LoadBytes(v2);
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_THAT(s.message(), HasSubstr("format version 2"));
  EXPECT_EQ(VectorIndex::Load(Env::Default(), dir_.Path("missing.hnsw")).status().code(),
            StatusCode::kNotFound);
}

TEST_F(PersistTest, StructurallyBrokenGraphsAreCaughtBeforeHnswlib) {
  // hnswlib's layout (0.6.2 saveIndex): a 96-byte header, then per slot
  // [u32 level-0 list size | 2m u32 neighbours | vector | u64 label]. Each edit
  // below keeps the CRCs valid (Reseal), as a crafted file would.
  const size_t graph = 80;
  uint64_t per_element = 0;
  std::memcpy(&per_element, bytes_.data() + graph + 24, 8);
  const size_t slot0 = graph + 96;

  std::string neighbour = bytes_;
  const uint32_t far = 1U << 30;
  std::memcpy(neighbour.data() + slot0 + 4, &far, 4);  // slot 0's first neighbour
  EXPECT_THAT(LoadBytes(Reseal(neighbour)).message(), HasSubstr("malformed link list on level 0"));

  std::string count = bytes_;
  const uint16_t too_many = 17;  // 2m = 16 for m = 8
  std::memcpy(count.data() + slot0, &too_many, 2);
  EXPECT_THAT(LoadBytes(Reseal(count)).message(), HasSubstr("malformed link list on level 0"));

  std::string label = bytes_;  // slot 1 takes slot 0's label
  std::memcpy(label.data() + slot0 + per_element + per_element - 8,
              bytes_.data() + slot0 + per_element - 8, 8);
  EXPECT_THAT(LoadBytes(Reseal(label)).message(), HasSubstr("appears twice"));

  std::string entry = bytes_;
  const uint32_t bad_entry = 100000;
  std::memcpy(entry.data() + graph + 52, &bad_entry, 4);
  EXPECT_THAT(LoadBytes(Reseal(entry)).message(), HasSubstr("entry point"));

  std::string params = bytes_;
  const uint64_t m = 9;
  std::memcpy(params.data() + graph + 72, &m, 8);
  EXPECT_THAT(LoadBytes(Reseal(params)).message(), HasSubstr("disagree with the header"));

  std::string live = bytes_;
  live[slot0 + 2] ^= 0x01;  // flip slot 0's delete mark
  EXPECT_THAT(LoadBytes(Reseal(live)).message(), HasSubstr("live count"));
}

TEST_F(PersistTest, FailedSaveLeavesThePreviousFile) {
  FaultEnv env(Env::Default());
  auto other = MakeIndex(6, VectorSpace::kCosineSimil);
  ASSERT_TRUE(other->Add(1, std::vector<float>{1, 0, 0, 0, 0, 0}).ok());

  env.FailAppendAfter(100);
  Status s = other->Save(&env, path_);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("saving vector index"));
  env.Reset();
  env.FailRename();
  EXPECT_FALSE(other->Save(&env, path_).ok());
  env.Reset();
  env.FailSync();
  EXPECT_FALSE(other->Save(&env, path_).ok());

  std::string now;
  ASSERT_TRUE(Env::Default()->ReadFileToString(path_, &now).ok());
  EXPECT_EQ(now, bytes_);  // the old index, whole
  EXPECT_FALSE(Env::Default()->Exists(path_ + ".tmp"));
  auto still = VectorIndex::Load(Env::Default(), path_);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ((*still)->size(), ix_->size());
}

// ---- concurrency ---------------------------------------------------------------

TEST(VectorIndexConcurrencyTest, ReadersDuringWrites) {
  constexpr size_t kDim = 8;
  auto ix = MakeIndex(kDim, VectorSpace::kL2);
  const auto data = RandomVectors(3000, kDim, 41);
  for (size_t i = 0; i < 1000; ++i) ASSERT_TRUE(ix->Add(i, data[i]).ok());

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::atomic<size_t> bad{0};
  auto reader = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    std::unordered_set<uint64_t> evens;
    for (uint64_t l = 0; l < 3000; l += 2) evens.insert(l);
    while (!done.load()) {
      VectorSearchOptions o;
      o.k = 5;
      o.exact = rng() % 3 == 0;
      if (rng() % 4 == 0) o.filter = &evens;
      auto r = ix->Search(data[rng() % data.size()], o);
      if (!r.ok() || r->size() > 5) {
        ++bad;
        continue;
      }
      for (size_t j = 0; j < r->size(); ++j) {
        const VectorHit& h = (*r)[j];
        if (h.label >= 3000 || (o.filter != nullptr && h.label % 2 != 0)) ++bad;
        if (j > 0 && (*r)[j - 1].distance > h.distance) ++bad;
      }
      ++searches;
    }
  };
  std::vector<std::thread> readers;
  for (uint32_t t = 0; t < 3; ++t) readers.emplace_back(reader, 100 + t);
  // EXPECT, not ASSERT: the readers must be stopped and joined on every path.
  size_t write_errors = 0;
  for (size_t i = 1000; i < 3000 && write_errors == 0; ++i) {
    write_errors += !ix->Add(i, data[i]).ok();
    if (i % 5 == 0) write_errors += !ix->Remove(i - 500).ok();
    if (i % 400 == 0) write_errors += !ix->SetEfSearch(50 + i % 7).ok();
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(write_errors, 0U);
  EXPECT_EQ(bad.load(), 0U);
  EXPECT_GT(searches.load(), 0U);
  EXPECT_EQ(ix->size(), 3000U - 400U);
}

}  // namespace
}  // namespace sagebox::retrieval
