#include "rag/opensearch/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"

namespace sagebox::rag::opensearch {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json J(const char* text) { return json::parse(text); }

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(dir_.Path("sagebox.db"), Migrations());
    ASSERT_NE(db_, nullptr);
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(db_.get(), dir_.Path("opensearch"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  // Creates index `name` with a 3-d knn_vector "v" in `space` and indexes `docs`.
  void Fill(const std::string& name, const std::string& space, const std::vector<json>& docs) {
    json body = {
        {"settings", {{"index", {{"knn", true}}}}},
        {"mappings",
         {{"properties",
           {{"v", {{"type", "knn_vector"}, {"dimension", 3}, {"method", {{"space_type", space}}}}},
            {"tag", {{"type", "keyword"}}}}}}}};
    ASSERT_TRUE(store_->CreateIndex(name, body).ok());
    std::vector<WriteOp> ops;
    for (const json& d : docs) {
      WriteOp op;
      op.id = d["id"];
      op.source = d["src"];
      ops.push_back(op);
    }
    auto r = store_->Write(name, ops, false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& w : *r) ASSERT_TRUE(w.ok()) << w.error_reason;
  }
  std::vector<std::pair<std::string, double>> Hits(const std::string& index, const json& body,
                                                   const std::string& pipeline = "") {
    auto r = store_->Search(index, body, pipeline);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::pair<std::string, double>> out;
    if (!r.ok()) return out;
    for (const json& h : (*r)["hits"]["hits"])
      out.emplace_back(h["_id"], h["_score"].get<double>());
    return out;
  }
  std::vector<json> Abc() {
    return {json{{"id", "a"},
                 {"src",
                  {{"v", {1, 0, 0}},
                   {"text", "the quick brown fox"},
                   {"tag", "x"},
                   {"metadata", {{"source", "a.txt"}, {"page", 1}}}}}},
            json{{"id", "b"},
                 {"src",
                  {{"v", {0, 1, 0}},
                   {"text", "lazy dogs sleep"},
                   {"tag", "y"},
                   {"metadata", {{"source", "b.txt"}}}}}},
            json{{"id", "c"},
                 {"src",
                  {{"v", {0, 0, 1}},
                   {"text", "quick thinking fox hunts"},
                   {"tag", "x"},
                   {"metadata", {{"source", "a.txt"}, {"page", 2}}}}}}};
  }

  testing::TempDir dir_{"opensearch"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Store> store_;
};

TEST(IndexName, OpenSearchRules) {
  EXPECT_TRUE(ValidateIndexName("langchain-index_1").ok());
  EXPECT_THAT(ValidateIndexName("Upper").message(), HasSubstr("lowercase"));
  EXPECT_THAT(ValidateIndexName("_x").message(), HasSubstr("must not start with"));
  EXPECT_FALSE(ValidateIndexName("a/b").ok());
  EXPECT_FALSE(ValidateIndexName("..").ok());
  EXPECT_FALSE(ValidateIndexName(std::string(256, 'a')).ok());
}

TEST(GeneratedId, TwentyUrlSafeCharacters) {
  const std::string a = GenerateId();
  EXPECT_EQ(a.size(), 20U);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_NE(a, GenerateId());
}

TEST_F(StoreTest, KnnL2ScoresAreOneOverOnePlusSquaredDistance) {
  Fill("i", "l2", Abc());
  // q = [1, 0.5, 0]: d² = 0.25, 1.25, 2.25 -> 1/1.25, 1/2.25, 1/3.25.
  auto hits =
      Hits("i", {{"size", 4}, {"query", {{"knn", {{"v", {{"vector", {1, 0.5, 0}}, {"k", 4}}}}}}}});
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].first, "a");
  EXPECT_NEAR(hits[0].second, 0.8, 1e-6);
  EXPECT_EQ(hits[1].first, "b");
  EXPECT_NEAR(hits[1].second, 1 / 2.25, 1e-6);
  EXPECT_EQ(hits[2].first, "c");
  EXPECT_NEAR(hits[2].second, 1 / 3.25, 1e-6);
}

TEST_F(StoreTest, KnnCosineAndInnerProductSpaces) {
  Fill("cos", "cosinesimil", Abc());
  // cosinesimil: (2 - (1 - cos)) / 2 = (1 + cos) / 2; cos(q, a) = 1/sqrt(1.25).
  auto hits = Hits("cos", {{"query", {{"knn", {{"v", {{"vector", {1, 0.5, 0}}, {"k", 1}}}}}}}});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_NEAR(hits[0].second, (1 + 1 / std::sqrt(1.25)) / 2, 1e-6);
  Fill("ip", "innerproduct",
       {json{{"id", "p"}, {"src", {{"v", {1, 2, 0}}}}},
        json{{"id", "n"}, {"src", {{"v", {-1, 0, 0}}}}}});
  // ip = 3 -> 3 + 1; ip = -1 -> 1 / (1 + 1).
  hits = Hits("ip", {{"query", {{"knn", {{"v", {{"vector", {1, 1, 0}}, {"k", 2}}}}}}}});
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_NEAR(hits[0].second, 4.0, 1e-6);
  EXPECT_NEAR(hits[1].second, 0.5, 1e-6);
}

TEST_F(StoreTest, EfficientFilterChoosesKAmongAllowedPostFilterAfter) {
  Fill("i", "l2", Abc());
  const json knn_filtered =
      J(R"({"knn": {"v": {"vector": [0, 1, 0], "k": 1, "filter": {"term": {"tag": "x"}}}}})");
  // Efficient filter: the nearest among tag x (b is nearer but excluded).
  auto hits = Hits("i", {{"query", knn_filtered}});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].first, "a");
  // Boolean post-filter: k = 1 picks b, which the filter then drops.
  hits = Hits("i", J(R"({"query": {"bool": {"filter": {"term": {"tag": "x"}},
      "must": [{"knn": {"v": {"vector": [0, 1, 0], "k": 1}}}]}}})"));
  EXPECT_TRUE(hits.empty());
}

TEST_F(StoreTest, TermScoresAsLuceneBm25OnKeywordAndMetadataFlattened) {
  Fill("i", "l2", Abc());
  // N = 3 documents with metadata.source, n = 2 hold "a.txt":
  // idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln 1.6, score = idf / (1 + 1.2).
  auto hits = Hits("i", {{"query", {{"term", {{"metadata.source", "a.txt"}}}}}});
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].first, "a");
  EXPECT_EQ(hits[1].first, "c");
  EXPECT_NEAR(hits[0].second, std::log(1.6) / 2.2, 1e-9);
  // The dynamic keyword sub-field names the same values; numbers compare as numbers.
  EXPECT_EQ(Hits("i", {{"query", {{"term", {{"metadata.source.keyword", "b.txt"}}}}}}).size(), 1U);
  EXPECT_EQ(Hits("i", {{"query", {{"term", {{"metadata.page", 2.0}}}}}}).size(), 1U);
  // terms: constant score 1.
  hits = Hits("i", {{"query", {{"terms", {{"tag", {"y", "z"}}}}}}});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0], std::make_pair(std::string("b"), 1.0));
}

TEST_F(StoreTest, BoolCombinesMustShouldFilterMustNot) {
  Fill("i", "l2", Abc());
  // should-only: at least one must match; score is the sum of those that do.
  auto hits = Hits("i", J(R"({"query": {"bool": {
      "should": [{"terms": {"tag": ["x"]}}, {"terms": {"metadata.source": ["a.txt"]}}],
      "must_not": [{"ids": {"values": ["c"]}}]}}})"));
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0], std::make_pair(std::string("a"), 2.0));
  // filter only: matches score 0.
  hits = Hits("i", J(R"({"query": {"bool": {"filter": {"term": {"tag": "y"}}}}})"));
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].second, 0.0);
}

TEST_F(StoreTest, MatchIsBm25OverTheDynamicTextField) {
  Fill("i", "l2", Abc());
  auto hits = Hits("i", {{"query", {{"match", {{"text", "fox"}}}}}});
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_GT(hits[0].second, 0);
  // Same length, same term frequency: equal scores, insertion order.
  EXPECT_DOUBLE_EQ(hits[0].second, hits[1].second);
  EXPECT_EQ(hits[0].first, "a");
  auto info = store_->IndexInfo("i");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["mappings"]["properties"]["text"]["type"], "text");
  EXPECT_EQ((*info)["mappings"]["properties"]["text"]["fields"]["keyword"]["type"], "keyword");
  EXPECT_EQ((*info)["mappings"]["properties"]["v"]["dimension"], 3);
  // match with the object form and an unmapped field.
  EXPECT_EQ(Hits("i", {{"query", {{"match", {{"text", {{"query", "dogs"}}}}}}}}).size(), 1U);
  EXPECT_TRUE(Hits("i", {{"query", {{"match", {{"nope", "fox"}}}}}}).empty());
}

TEST_F(StoreTest, ScriptScoreKnnScoreIsTheExactPathWithItsOwnSpace) {
  Fill("i", "l2", Abc());
  auto script = [](const std::string& space) {
    json body = J(R"({"query": {"script_score": {"query": {"match_all": {}}, "script": {
        "source": "knn_score", "lang": "knn",
        "params": {"field": "v", "query_value": [1, 0.5, 0]}}}}})");
    body["query"]["script_score"]["script"]["params"]["space_type"] = space;
    return body;
  };
  auto hits = Hits("i", script("l2"));
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_NEAR(hits[2].second, 1 / 3.25, 1e-6);
  // cosinesimil in the script is 1 + cos (KNNScoringSpace), unlike the knn query's (1 + cos) / 2.
  hits = Hits("i", script("cosinesimil"));
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_NEAR(hits[0].second, 1 + 1 / std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(hits[1].second, 1 + 0.5 / std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(hits[2].second, 1.0, 1e-6);
  // l1: 1 / (1 + Σ|x - y|): a 0.5, b 1.5, c 2.5.
  hits = Hits("i", script("l1"));
  EXPECT_NEAR(hits[0].second, 1 / 1.5, 1e-6);
  // Painless as LangChain writes it.
  json painless = script("l2");
  painless["query"]["script_score"]["script"] = J(R"js({
      "source": "1/(1.0 + l2Squared(params.query_value, doc['v']))",
      "params": {"field": "v", "query_value": [1, 0.5, 0]}})js");
  hits = Hits("i", painless);
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_NEAR(hits[0].second, 0.8, 1e-6);
  painless["query"]["script_score"]["script"]["source"] = "System.exit(0)";
  auto r = store_->Search("i", painless, "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Painless"));
}

TEST_F(StoreTest, HybridNeedsAPipelineAndNormalisesMinMax) {
  Fill("i", "l2", Abc());
  const json hybrid = J(R"({"size": 4, "query": {"hybrid": {"queries": [
      {"match": {"text": {"query": "quick fox"}}},
      {"knn": {"v": {"vector": [1, 0.5, 0], "k": 4}}}]}}})");
  auto r = store_->Search("i", hybrid, "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("search pipeline"));
  ASSERT_TRUE(
      store_
          ->PutPipeline("p", J(R"({"phase_results_processors": [{"normalization-processor": {
                      "normalization": {"technique": "min_max"},
                      "combination": {"technique": "arithmetic_mean",
                                      "parameters": {"weights": [0.7, 0.3]}}}}]})"))
          .ok());
  // BM25: a and c tie (max == min -> 1.0 each). k-NN: a 0.8 -> 1, b -> (1/2.25 - 1/3.25) /
  // (0.8 - 1/3.25), c is the minimum -> 0.001. Weighted mean with 0.7 / 0.3.
  auto hits = Hits("i", hybrid, "p");
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].first, "a");
  EXPECT_NEAR(hits[0].second, 1.0, 1e-6);
  EXPECT_EQ(hits[1].first, "c");
  EXPECT_NEAR(hits[1].second, 0.7 + 0.3 * 0.001, 1e-6);
  EXPECT_EQ(hits[2].first, "b");
  EXPECT_NEAR(hits[2].second, 0.3 * (1 / 2.25 - 1 / 3.25) / (0.8 - 1 / 3.25), 1e-6);
  // Unsupported techniques are refused when the pipeline is stored.
  Status s = store_->PutPipeline("q", J(R"({"phase_results_processors": [
      {"normalization-processor": {"normalization": {"technique": "l2"}}}]})"));
  EXPECT_THAT(s.message(), HasSubstr("l2"));
}

TEST_F(StoreTest, SizeFromMinScoreAndSourceFiltering) {
  Fill("i", "l2", Abc());
  auto r = store_->Search("i",
                          {{"size", 1},
                           {"from", 1},
                           {"min_score", 0.4},
                           {"_source", {{"excludes", {"v", "metadata.page"}}}},
                           {"query", {{"knn", {{"v", {{"vector", {1, 0.5, 0}}, {"k", 3}}}}}}}},
                          "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["hits"]["total"]["value"], 2);  // c's 0.31 is under min_score
  ASSERT_EQ((*r)["hits"]["hits"].size(), 1U);
  const json& hit = (*r)["hits"]["hits"][0];
  EXPECT_EQ(hit["_id"], "b");
  EXPECT_EQ(hit["_source"],
            json({{"text", "lazy dogs sleep"}, {"tag", "y"}, {"metadata", {{"source", "b.txt"}}}}));
  r = store_->Search("i", {{"_source", {"metadata.source"}}, {"size", 1}}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["hits"]["hits"][0]["_source"], json({{"metadata", {{"source", "a.txt"}}}}));
  r = store_->Search("i", {{"_source", false}, {"size", 1}}, "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)["hits"]["hits"][0].contains("_source"));
}

TEST_F(StoreTest, UnsupportedClausesAreRefusedByName) {
  Fill("i", "l2", Abc());
  for (const auto& [body, word] : std::vector<std::pair<json, std::string>>{
           {J(R"({"query": {"range": {"metadata.page": {"gte": 1}}}})"), "range"},
           {J(R"({"query": {"frobnicate": {}}})"), "frobnicate"},
           {J(R"({"sort": ["_score"]})"), "sort"},
           {J(R"({"aggs": {}})"), "aggs"},
           {J(R"({"query": {"match": {"text": {"query": "fox", "operator": "and"}}}})"),
            "operator"},
           {J(R"({"query": {"knn": {"v": {"vector": [1, 0], "k": 1}}}})"), "dimension"}}) {
    auto r = store_->Search("i", body, "");
    ASSERT_FALSE(r.ok()) << body.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(word));
  }
}

TEST_F(StoreTest, WritesValidateVectorsPerItemAndKeepVersions) {
  Fill("i", "l2", {});
  std::vector<WriteOp> ops(4);
  ops[0].id = "ok";
  ops[0].source = {{"v", {1, 2, 3}}};
  ops[1].id = "short";
  ops[1].source = {{"v", {1, 2}}};
  ops[2].kind = WriteOp::Kind::kCreate;
  ops[2].id = "ok";
  ops[2].source = {{"v", {1, 2, 3}}};
  ops[3].source = {{"v", {3, 2, 1}}};  // generated id
  auto r = store_->Write("i", ops, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].status, 201);
  EXPECT_EQ((*r)[1].status, 400);
  EXPECT_EQ((*r)[1].error_type, "mapper_parsing_exception");
  EXPECT_EQ((*r)[1].cause_reason, "Vector dimension mismatch. Expected: 3, Given: 2");
  EXPECT_EQ((*r)[2].status, 409);
  EXPECT_EQ((*r)[2].error_type, "version_conflict_engine_exception");
  EXPECT_EQ((*r)[3].status, 201);
  EXPECT_EQ((*r)[3].id.size(), 20U);
  EXPECT_EQ(*store_->Count("i", nullptr), 2U);
  // Update merges; delete removes; a missing delete is not_found.
  std::vector<WriteOp> more(3);
  more[0].kind = WriteOp::Kind::kUpdate;
  more[0].id = "ok";
  more[0].source = {{"tag", "x"}};
  more[1].kind = WriteOp::Kind::kDelete;
  more[1].id = (*r)[3].id;
  more[2].kind = WriteOp::Kind::kDelete;
  more[2].id = "ghost";
  auto r2 = store_->Write("i", more, false);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)[0].result, "updated");
  EXPECT_EQ((*r2)[0].version, 2);
  EXPECT_EQ((*r2)[1].result, "deleted");
  EXPECT_EQ((*r2)[2].result, "not_found");
  auto doc = store_->GetDoc("i", "ok");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ((*doc)->source, json({{"v", {1, 2, 3}}, {"tag", "x"}}));
  EXPECT_EQ(*store_->Count("i", {{"query", {{"term", {{"tag", "x"}}}}}}), 1U);
}

TEST_F(StoreTest, ReopenRestoresFromFilesOrRebuildsFromTheDatabase) {
  Fill("i", "l2", Abc());
  ASSERT_TRUE(store_->Refresh("i").ok());
  Reopen();  // generation current: vector files load
  auto hits = Hits("i", {{"query", {{"knn", {{"v", {{"vector", {0, 0, 1}}, {"k", 1}}}}}}}});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].first, "c");
  // A write after the last save, then the files are lost: rebuilt from the database.
  WriteOp op;
  op.id = "d";
  op.source = {{"v", {0, 0, 2}}, {"text", "foxes everywhere"}};
  ASSERT_TRUE(store_->Write("i", {op}, false).ok());
  store_.reset();
  std::filesystem::remove(dir_.Path("opensearch/i/v.vec"));
  Reopen();
  hits = Hits("i", {{"query", {{"knn", {{"v", {{"vector", {0, 0, 2}}, {"k", 1}}}}}}}});
  ASSERT_EQ(hits.size(), 1U);
  EXPECT_EQ(hits[0].first, "d");
  EXPECT_EQ(Hits("i", {{"query", {{"match", {{"text", "fox"}}}}}}).size(), 3U);
  EXPECT_EQ(*store_->Count("i", nullptr), 4U);
}

TEST_F(StoreTest, IndexLifecycleErrors) {
  json bad = {{"mappings", {{"properties", {{"v", {{"type", "knn_vector"}}}}}}}};
  Status s = store_->CreateIndex("bad", bad);
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_THAT(s.message(), HasSubstr("dimension"));
  bad["mappings"]["properties"]["v"] = {
      {"type", "knn_vector"}, {"dimension", 2}, {"space_type", "l1"}};
  EXPECT_THAT(store_->CreateIndex("bad", bad).message(), HasSubstr("l1"));
  ASSERT_TRUE(store_->CreateIndex("a", nullptr).ok());
  EXPECT_EQ(store_->CreateIndex("a", nullptr).code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(store_->IndexNames(), ElementsAre("a"));
  EXPECT_TRUE(store_->DeleteIndex("a").ok());
  EXPECT_EQ(store_->DeleteIndex("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Search("a", nullptr, "").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sagebox::rag::opensearch
