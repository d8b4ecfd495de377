// BM25 quality on a real test collection: Cranfield 1400 (1,400 aeronautics
// abstracts, 225 questions, graded judgments), converted to BEIR files by
// scripts/cranfield_to_beir.py (tests/data/retrieval/cranfield/PROVENANCE.md).
// The floors sit a little below the measured figures: a regression guard.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "retrieval/eval_metrics.h"
#include "retrieval/index/lexical_index.h"

namespace sagebox::retrieval {
namespace {

std::string Beir(const std::string& name) {
  return std::string(SAGEBOX_TESTDATA) + "/retrieval/cranfield/beir/" + name;
}

TEST(CranfieldBm25Test, QualityFloors) {
  std::string corpus;
  ASSERT_TRUE(Env::Default()->ReadFileToString(Beir("corpus.jsonl"), &corpus).ok());
  auto queries = ReadBeirQueries(Env::Default(), Beir("queries.jsonl"));
  ASSERT_TRUE(queries.ok()) << queries.status().ToString();
  auto qrels = ReadQrels(Env::Default(), Beir("qrels.tsv"));
  ASSERT_TRUE(qrels.ok()) << qrels.status().ToString();
  ASSERT_EQ(queries->size(), 225u);

  testing::TempDir tmp("cranfield");
  auto idx = LexicalIndex::Open(tmp.Path("index"), LexicalIndex::Mode::kCreate);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  size_t docs = 0;
  size_t pos = 0;
  while (pos < corpus.size()) {
    size_t end = corpus.find('\n', pos);
    if (end == std::string::npos) end = corpus.size();
    auto j = nlohmann::json::parse(corpus.substr(pos, end - pos));
    pos = end + 1;
    const std::string id = j.at("_id").get<std::string>();
    LexicalRecord r{id, j.at("title").get<std::string>(), j.at("text").get<std::string>(), {}};
    ASSERT_TRUE((*idx)->ReplaceDocument(id, {r}).ok());
    ++docs;
  }
  ASSERT_TRUE((*idx)->Commit().ok());
  ASSERT_EQ(docs, 1400u);
  auto count = (*idx)->Count();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1400u);

  Runs runs;
  for (const EvalQuery& q : *queries) {
    auto hits = (*idx)->Search(q.text, 100);
    ASSERT_TRUE(hits.ok()) << q.id << ": " << hits.status().ToString();
    for (const LexicalHit& h : *hits) runs[q.id].push_back(h.id);
  }
  EvalSummary s = Evaluate(*qrels, runs);
  std::printf(
      "Cranfield BM25 (Xapian, k1=1.2 b=0.75): queries=%d nDCG@10=%.4f Recall@100=%.4f "
      "MRR@10=%.4f\n",
      s.queries, s.ndcg, s.recall, s.mrr);
  EXPECT_EQ(s.queries, 225);
  // Measured 2026-12-07: nDCG@10 0.3674, Recall@100 0.7371, MRR@10 0.5272.
  EXPECT_GE(s.ndcg, 0.36);
  EXPECT_GE(s.recall, 0.72);
  EXPECT_GE(s.mrr, 0.51);
}

}  // namespace
}  // namespace sagebox::retrieval
