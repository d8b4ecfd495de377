#include "rag/ask/ask.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"
#include "rag/extractive.h"
#include "rag/question_log.h"

namespace sagebox::rag {
namespace {

// A generator that records the prompt it got and answers with canned sequences, or
// fails when told to.
class FakeGenerator : public retrieval::Generator {
 public:
  std::string name() const override { return "fake:echo"; }
  StatusOr<retrieval::Generation> Generate(const std::string& prompt,
                                           const retrieval::GenerationParams& params) override {
    prompt_ = prompt;
    params_ = params;
    if (fail_) return IoError("fake:echo: connection refused");
    retrieval::Generation g;
    for (int i = 0; i < params.num_return_sequences; ++i) {
      g.texts.push_back("generated " + std::to_string(i + 1));
    }
    g.text = g.texts.front();
    return g;
  }
  std::string prompt_;
  retrieval::GenerationParams params_;
  bool fail_ = false;
};

class AskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> m = retrieval::Migrations();
    for (auto& x : Migrations()) m.push_back(x);
    db_ = db::testing::OpenMigrated(tmp_.Path("sagebox.db"), m);
    ASSERT_NE(db_, nullptr);
    Write("docs/deploy.md",
          "# Deploying\n\nA serverless endpoint scales to zero when idle. You pay per "
          "request.\n\nThe memory size of a serverless endpoint is between 1 GB and 6 GB.\n");
    Write("docs/train.md",
          "# Training\n\nA training job reads its data from S3. Spot instances lower the "
          "price of training.\n");
    retrieval::OpenOptions o;
    o.data_dir = tmp_.Path("data");
    o.create = retrieval::IndexSettings{};
    auto kb = retrieval::KnowledgeBase::Open(db_.get(), "docs", o);
    ASSERT_TRUE(kb.ok()) << kb.status().ToString();
    kb_ = std::move(kb).value();
    auto r = kb_->Ingest({tmp_.Path("docs")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  void Write(const std::string& rel, const std::string& text) {
    const std::string path = tmp_.Path(rel);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  int64_t Logged() {
    auto q = RecentQuestions(*db_, "", 100);
    EXPECT_TRUE(q.ok());
    return q.ok() ? static_cast<int64_t>(q->size()) : -1;
  }

  testing::TempDir tmp_{"ask"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<retrieval::KnowledgeBase> kb_;
};

TEST_F(AskTest, ExtractiveAnswerCitesItsSourcesAndIsLogged) {
  AskRequest req;
  req.question = "What memory size can a serverless endpoint have?";
  auto r = Ask(*db_, *kb_, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->provider, "extractive");
  EXPECT_EQ(r->mode, "bm25");  // auto on an index without an embedder
  EXPECT_EQ(r->cost_usd, "0");
  ASSERT_FALSE(r->sources.empty());
  EXPECT_NE(r->sources[0].source.find("deploy.md"), std::string::npos);
  EXPECT_NE(r->answer.find("between 1 GB and 6 GB"), std::string::npos) << r->answer;
  EXPECT_NE(r->answer.find("[1]"), std::string::npos) << r->answer;
  EXPECT_EQ(r->answers, std::vector<std::string>{r->answer});

  auto logged = RecentQuestions(*db_, "docs", 10);
  ASSERT_TRUE(logged.ok());
  ASSERT_EQ(logged->size(), 1u);
  EXPECT_EQ((*logged)[0].id, r->id);
  EXPECT_EQ((*logged)[0].question, req.question);
  EXPECT_EQ((*logged)[0].answer, r->answer);
  ASSERT_EQ((*logged)[0].results.size(), r->sources.size());
  EXPECT_EQ((*logged)[0].results[0].chunk_id, r->sources[0].chunk_id);
  EXPECT_EQ((*logged)[0].cost_usd, "0");

  const nlohmann::json j = AskResultJson(*r);
  EXPECT_EQ(j["id"], r->id);
  EXPECT_EQ(j["answer"], r->answer);
  EXPECT_EQ(j["cost_usd"], "0");
  EXPECT_FALSE(j.contains("answers"));
  ASSERT_EQ(j["sources"].size(), r->sources.size());
  EXPECT_EQ(j["sources"][0]["n"], 1);
  EXPECT_EQ(j["sources"][0]["passage"], r->sources[0].text);
  EXPECT_EQ(j["sources"][0]["chunk_id"], r->sources[0].chunk_id);
}

TEST_F(AskTest, KLimitsTheSources) {
  AskRequest req;
  req.question = "serverless endpoint training price";
  req.k = 1;
  auto r = Ask(*db_, *kb_, req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sources.size(), 1u);
  req.k = 5;
  r = Ask(*db_, *kb_, req);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->sources.size(), 1u);
}

TEST_F(AskTest, AGeneratorGetsTheArticlePromptAndItsParameters) {
  FakeGenerator gen;
  AskRequest req;
  req.question = "How are training jobs priced?";
  req.generator = &gen;
  req.params.num_return_sequences = 2;
  req.params.max_length = 77;
  auto r = Ask(*db_, *kb_, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->provider, "fake:echo");
  EXPECT_EQ(r->answer, "generated 1");
  EXPECT_EQ(r->answers, (std::vector<std::string>{"generated 1", "generated 2"}));
  EXPECT_FALSE(r->cost_usd.has_value());
  EXPECT_EQ(gen.params_.max_length, 77);
  // The article's template: "Answer based on context:\n\n{context}\n\n{question}".
  EXPECT_EQ(gen.prompt_.rfind("Answer based on context:\n\n", 0), 0u) << gen.prompt_;
  EXPECT_NE(gen.prompt_.find("Spot instances lower the price"), std::string::npos);
  EXPECT_TRUE(gen.prompt_.ends_with("\n\nHow are training jobs priced?")) << gen.prompt_;
  EXPECT_EQ(AskResultJson(*r)["answers"].size(), 2u);
  EXPECT_TRUE(AskResultJson(*r)["cost_usd"].is_null());

  req.prompt_template = "Q: {question}\nC: {context}";
  ASSERT_TRUE(Ask(*db_, *kb_, req).ok());
  EXPECT_EQ(gen.prompt_.rfind("Q: How are training jobs priced?\nC: ", 0), 0u) << gen.prompt_;
}

TEST_F(AskTest, ErrorsLogNothing) {
  FakeGenerator gen;
  gen.fail_ = true;
  AskRequest req;
  req.question = "How are training jobs priced?";
  req.generator = &gen;
  EXPECT_EQ(Ask(*db_, *kb_, req).status().code(), StatusCode::kIoError);

  AskRequest blank;
  blank.question = " \n\t";
  EXPECT_EQ(Ask(*db_, *kb_, blank).status().code(), StatusCode::kInvalidArgument);
  AskRequest k0;
  k0.question = "price";
  k0.k = 0;
  EXPECT_EQ(Ask(*db_, *kb_, k0).status().code(), StatusCode::kInvalidArgument);
  AskRequest dense;
  dense.question = "price";
  dense.mode = "dense";  // the index has no embedder
  EXPECT_EQ(Ask(*db_, *kb_, dense).status().code(), StatusCode::kInvalidArgument);
  AskRequest mode;
  mode.question = "price";
  mode.mode = "semantic";
  EXPECT_EQ(Ask(*db_, *kb_, mode).status().code(), StatusCode::kInvalidArgument);
  AskRequest tmpl;
  tmpl.question = "price";
  tmpl.generator = &gen;
  tmpl.prompt_template = "no placeholders";
  EXPECT_EQ(Ask(*db_, *kb_, tmpl).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Logged(), 0);
}

TEST_F(AskTest, NoMatchIsAnAnswerToo) {
  AskRequest req;
  req.question = "zebra quagga okapi";
  auto r = Ask(*db_, *kb_, req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->sources.empty());
  EXPECT_EQ(r->answer, kNoAnswerText);
  EXPECT_EQ(Logged(), 1);
}

}  // namespace
}  // namespace sagebox::rag
