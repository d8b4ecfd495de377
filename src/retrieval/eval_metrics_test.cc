#include "retrieval/eval_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::retrieval {
namespace {

using ::testing::HasSubstr;

std::string BadInputMessage(const Status& st) {
  EXPECT_EQ(st.code(), StatusCode::kBadInput) << st.ToString();
  return st.message();
}

TEST(BeirQueriesTest, ParsesIdsAndTextInFileOrder) {
  auto q = ParseBeirQueries(
      "{\"_id\": \"q2\", \"text\": \"what is a wing?\", \"metadata\": {}}\n"
      "\n"
      "{\"text\": \"second\", \"_id\": 7}\r\n",
      "queries.jsonl");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].id, "q2");
  EXPECT_EQ((*q)[0].text, "what is a wing?");
  EXPECT_EQ((*q)[1].id, "7");
  EXPECT_EQ((*q)[1].text, "second");
}

TEST(BeirQueriesTest, ErrorsNameFileLineAndWhatWasExpected) {
  EXPECT_THAT(
      BadInputMessage(
          ParseBeirQueries("{\"_id\":\"a\",\"text\":\"x\"}\n{\"_id\": \"b\",", "q.jsonl").status()),
      HasSubstr("q.jsonl:2: expected one JSON object per line"));
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("[1,2]\n", "q.jsonl").status()),
              HasSubstr("q.jsonl:1: expected a JSON object, got array"));
  // A number too large for a double is nlohmann's out_of_range, not parse_error: it used to
  // escape as an exception.
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("{\"_id\": 1e999}\n", "q.jsonl").status()),
              HasSubstr("q.jsonl:1: expected one JSON object per line"));
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("{\"text\":\"x\"}\n", "q.jsonl").status()),
              HasSubstr("q.jsonl:1: missing \"_id\""));
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("{\"_id\":\"a\"}\n", "q.jsonl").status()),
              HasSubstr("q.jsonl:1: missing \"text\""));
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("{\"_id\":\"a\",\"text\":3}\n", "q.jsonl").status()),
              HasSubstr("q.jsonl:1: \"text\" must be a string, got number"));
  EXPECT_THAT(
      BadInputMessage(ParseBeirQueries("{\"_id\":[1],\"text\":\"x\"}\n", "q.jsonl").status()),
      HasSubstr("\"_id\" must be a string, got array"));
  EXPECT_THAT(BadInputMessage(ParseBeirQueries("{\"_id\":\"a\",\"text\":\"x\"}\n"
                                               "{\"_id\":\"a\",\"text\":\"y\"}\n",
                                               "q.jsonl")
                                  .status()),
              HasSubstr("q.jsonl:2: query \"a\" already defined on line 1"));
}

TEST(QrelsTest, BeirTsvWithHeaderTrecAndSpaces) {
  auto q = ParseQrels(
      "query-id\tcorpus-id\tscore\n"
      "1\tdoc a\t2\n"
      "1\td2\t0\n"
      "\n"
      "2 0 d9 1\n"  // TREC: query iteration doc score
      "3   d4  -1\r\n",
      "qrels.tsv");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ(q->at("1").at("doc a"), 2);  // a tab-separated id may hold a space
  EXPECT_EQ(q->at("1").at("d2"), 0);
  EXPECT_EQ(q->at("2").at("d9"), 1);
  EXPECT_EQ(q->at("3").at("d4"), -1);
}

TEST(QrelsTest, HeaderIsOptional) {
  auto q = ParseQrels("1\td1\t1\n", "qrels.tsv");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->at("1").at("d1"), 1);
}

TEST(QrelsTest, ErrorsNameFileLineAndWhatWasExpected) {
  EXPECT_THAT(BadInputMessage(ParseQrels("q\td\ts\n1\td1\n", "r.tsv").status()),
              HasSubstr("r.tsv:2: expected 3 columns (query-id corpus-id score) or 4"));
  EXPECT_THAT(BadInputMessage(ParseQrels("1\td1\t1\n1\td2\thigh\n", "r.tsv").status()),
              HasSubstr("r.tsv:2: score \"high\" is not an integer"));
  EXPECT_THAT(BadInputMessage(ParseQrels("1\td1\t1\n1\td2\t1.5\n", "r.tsv").status()),
              HasSubstr("r.tsv:2: score \"1.5\" is not an integer"));
  // A non-integer score on line 1 is taken for a header; on line 1 of a file
  // with nothing else that leaves empty qrels, not an error.
  auto only_header = ParseQrels("1\td1\t1.5\n", "r.tsv");
  ASSERT_TRUE(only_header.ok());
  EXPECT_TRUE(only_header->empty());
  EXPECT_THAT(BadInputMessage(ParseQrels("1\td1\t1\n2\td1\t1\n1\td1\t2\n", "r.tsv").status()),
              HasSubstr("r.tsv:3: query \"1\" document \"d1\" already judged on line 1"));
}

TEST(QrelsTest, ReadsFilesThroughEnv) {
  testing::TempDir dir("qrels");
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("q.tsv"), "1\ta\t1\n").ok());
  auto q = ReadQrels(Env::Default(), dir.Path("q.tsv"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->at("1").at("a"), 1);
  EXPECT_FALSE(ReadQrels(Env::Default(), dir.Path("missing.tsv")).ok());
  EXPECT_FALSE(ReadBeirQueries(Env::Default(), dir.Path("missing.jsonl")).ok());
}

// Worked by hand from trec_eval 9.x's definition (gain = grade, discount
// log2(rank + 1), ideal over every judged document).
TEST(MetricsTest, NdcgGradedGains) {
  const std::map<std::string, int> judged = {{"a", 3}, {"b", 2}, {"c", 1}, {"z", 0}};
  // Perfect order: 1.
  EXPECT_DOUBLE_EQ(NdcgAtK({"a", "b", "c"}, judged, 10), 1.0);
  // Reversed: DCG = 1 + 2/log2(3) + 3/2; IDCG = 3 + 2/log2(3) + 1/2.
  const double dcg = 1 + 2 / std::log2(3.0) + 3 / 2.0;
  const double idcg = 3 + 2 / std::log2(3.0) + 1 / 2.0;
  EXPECT_NEAR(NdcgAtK({"c", "b", "a"}, judged, 10), dcg / idcg, 1e-12);
  // Cut at 2, with an unjudged and a zero-graded document in front: the ideal
  // is cut at 2 as well.
  EXPECT_NEAR(NdcgAtK({"x", "z", "a"}, judged, 2), 0.0, 1e-12);
  EXPECT_NEAR(NdcgAtK({"x", "a"}, judged, 2), (3 / std::log2(3.0)) / (3 + 2 / std::log2(3.0)),
              1e-12);
  // Linear gains, as trec_eval: the grade-2 document ranked first where the
  // grade-3 one belongs scores 2/3 (exponential gains 2^g - 1 would give 3/7).
  EXPECT_NEAR(NdcgAtK({"b"}, {{"a", 3}, {"b", 2}}, 1), 2.0 / 3.0, 1e-12);
  // A duplicate counts once.
  EXPECT_NEAR(NdcgAtK({"a", "a", "b"}, judged, 2), 1.0, 1e-12);
  // Nothing relevant judged: 0.
  EXPECT_EQ(NdcgAtK({"z"}, {{"z", 0}}, 10), 0.0);
}

TEST(MetricsTest, RecallAndReciprocalRank) {
  const std::map<std::string, int> judged = {{"a", 1}, {"b", 4}, {"c", 2}, {"n", 0}, {"m", -1}};
  EXPECT_NEAR(RecallAtK({"x", "a", "n", "b"}, judged, 100), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(RecallAtK({"x", "a", "n", "b"}, judged, 2), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(RecallAtK({"n", "m"}, judged, 10), 0.0);
  EXPECT_NEAR(ReciprocalRankAtK({"n", "m", "c", "a"}, judged, 10), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(ReciprocalRankAtK({"n", "m", "c"}, judged, 2), 0.0);
  EXPECT_EQ(ReciprocalRankAtK({}, judged, 10), 0.0);
}

TEST(MetricsTest, EvaluateAveragesOverJudgedQueriesAndCountsMissingRunsAsZero) {
  Qrels qrels = {{"q1", {{"a", 1}}},
                 {"q2", {{"b", 2}}},
                 {"q3", {{"c", 0}}}};                          // no relevant document: not averaged
  Runs runs = {{"q1", {"a"}}, {"q3", {"c"}}, {"q9", {"zz"}}};  // q2 has no run
  EvalSummary s = Evaluate(qrels, runs);
  EXPECT_EQ(s.queries, 2);
  EXPECT_NEAR(s.ndcg, 0.5, 1e-12);
  EXPECT_NEAR(s.recall, 0.5, 1e-12);
  EXPECT_NEAR(s.mrr, 0.5, 1e-12);
  EvalSummary none = Evaluate({}, runs);
  EXPECT_EQ(none.queries, 0);
  EXPECT_EQ(none.ndcg, 0.0);
}

TEST(MetricsTest, CutoffsApply) {
  Qrels qrels = {{"q", {{"a", 1}}}};
  Runs runs = {{"q", {"x", "y", "a"}}};
  EvalSummary s = Evaluate(qrels, runs, {.ndcg = 2, .recall = 2, .mrr = 2});
  EXPECT_EQ(s.ndcg, 0.0);
  EXPECT_EQ(s.recall, 0.0);
  EXPECT_EQ(s.mrr, 0.0);
  s = Evaluate(qrels, runs, {.ndcg = 3, .recall = 3, .mrr = 3});
  EXPECT_NEAR(s.ndcg, 1 / std::log2(4.0), 1e-12);
  EXPECT_EQ(s.recall, 1.0);
  EXPECT_NEAR(s.mrr, 1.0 / 3.0, 1e-12);
}

}  // namespace
}  // namespace sagebox::retrieval
