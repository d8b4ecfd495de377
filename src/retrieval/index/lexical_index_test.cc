#include "retrieval/index/lexical_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::unique_ptr<LexicalIndex> OpenOk(const std::string& dir,
                                     LexicalIndex::Mode mode = LexicalIndex::Mode::kCreate) {
  auto idx = LexicalIndex::Open(dir, mode);
  EXPECT_TRUE(idx.ok()) << idx.status().ToString();
  return idx.ok() ? std::move(*idx) : nullptr;
}

LexicalRecord Rec(std::string id, std::string text, std::map<std::string, std::string> fields = {},
                  std::string title = "") {
  return {std::move(id), std::move(title), std::move(text), std::move(fields)};
}

std::vector<std::string> Ids(const StatusOr<std::vector<LexicalHit>>& hits) {
  EXPECT_TRUE(hits.ok()) << hits.status().ToString();
  std::vector<std::string> ids;
  if (hits.ok()) {
    for (const LexicalHit& h : *hits) ids.push_back(h.id);
  }
  return ids;
}

size_t CountOk(const LexicalIndex& idx) {
  auto n = idx.Count();
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : 0;
}

class LexicalIndexTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_{"lexical"};
  std::string dir_ = tmp_.Path("index");
};

TEST_F(LexicalIndexTest, StemmedSearchOverTitleAndTextBestFirst) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  ASSERT_TRUE(idx->ReplaceDocument("a.md", {Rec("a#0", "Wings in a propeller slipstream."),
                                            Rec("a#1", "The boundary layer of a flat plate.")})
                  .ok());
  ASSERT_TRUE(
      idx->ReplaceDocument("b.md", {Rec("b#0", "Heat transfer.", {}, "A wing and its wing")}).ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_EQ(CountOk(*idx), 3u);

  // "winged" and "wings" stem to "wing"; b#0 says it twice in a shorter chunk.
  auto hits = idx->Search("winged", 10);
  EXPECT_THAT(Ids(hits), ElementsAre("b#0", "a#0"));
  ASSERT_TRUE(hits.ok());
  EXPECT_GT((*hits)[0].score, (*hits)[1].score);
  EXPECT_GT((*hits)[1].score, 0);
  EXPECT_THAT(Ids(idx->Search("PLATES", 10)), ElementsAre("a#1"));
  EXPECT_THAT(Ids(idx->Search("winged", 1)), ElementsAre("b#0"));
  EXPECT_THAT(Ids(idx->Search("winged", 0)), IsEmpty());
}

TEST_F(LexicalIndexTest, NaturalLanguageIsNeverASyntaxError) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  ASSERT_TRUE(idx->ReplaceDocument(
                     "doc", {Rec("c1", "The default instance type is ml.m5.xlarge."),
                             Rec("c2", "An endpoint and a model (not a notebook) are needed.")})
                  .ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_THAT(Ids(idx->Search("what's the default instance type?", 5)), ElementsAre("c1"));
  // Boolean words, quotes, brackets, prefixes, wildcards and signs are text.
  for (const char* q : {"endpoint AND NOT model", "\"unbalanced (quote", "title:endpoint",
                        "-model +notebook*", "OR", "NEAR/3 endpoint ADJ model", ")))((("}) {
    auto hits = idx->Search(q, 5);
    EXPECT_TRUE(hits.ok()) << q << ": " << hits.status().ToString();
  }
  EXPECT_THAT(Ids(idx->Search("endpoint AND NOT model", 5)), ElementsAre("c2"));
  // Nothing indexable: no hits, no error.
  EXPECT_THAT(Ids(idx->Search("?! -- ...", 5)), IsEmpty());
  EXPECT_THAT(Ids(idx->Search("", 5)), IsEmpty());
  EXPECT_THAT(Ids(idx->Search("unknownword", 5)), IsEmpty());
}

// The BM25 arithmetic, checked against the textbook formula with k1 = 1.2,
// b = 0.75, no document-length clamp (min_normlen = 0), Xapian's (k1+1)
// factor and its idf (bm25weight.cc: log(tw), tw = (N-n+0.5)/(n+0.5), with
// tw < 2 replaced by tw/2 + 1).
TEST_F(LexicalIndexTest, ScoresAreBm25WithK1_1_2AndB_0_75) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  // Lengths 1, 4, 8, 8, 9 words (avg 6); "flow" in the first two only.
  std::vector<LexicalRecord> recs = {
      Rec("short", "flow"),
      Rec("mid", "flow flow over plates"),
      Rec("x1", "alpha beta gamma delta epsilon zeta eta theta"),
      Rec("x2", "iota kappa lambda mu nu xi omicron pi"),
      Rec("x3", "rho sigma tau upsilon phi chi psi omega one"),
  };
  ASSERT_TRUE(idx->ReplaceDocument("d", recs).ok());
  ASSERT_TRUE(idx->Commit().ok());
  auto hits = idx->Search("flow", 10);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  const double k1 = 1.2;
  const double b = 0.75;
  const double avg = 30.0 / 5.0;
  // tw = (N-n+0.5)/(n+0.5) = 3.5/2.5 = 1.4 < 2, which Xapian lifts to tw/2 + 1.
  const double idf_xapian = std::log(1.4 / 2 + 1);
  auto bm25 = [&](double f, double len) {
    return (k1 + 1) * idf_xapian * f / (k1 * ((1 - b) + b * len / avg) + f);
  };
  std::map<std::string, double> score;
  for (const LexicalHit& h : *hits) score[h.id] = h.score;
  // The short document is not clamped to half the average length: with
  // Xapian's default min_normlen 0.5 it would score bm25(1, 3).
  EXPECT_NEAR(score["short"], bm25(1, 1), 1e-9);
  EXPECT_NEAR(score["mid"], bm25(2, 4), 1e-9);
  // A repeated query word counts almost twice (k3 = 1000: (k3+1)q/(k3+q)).
  auto twice = idx->Search("flow, flow", 10);
  ASSERT_TRUE(twice.ok());
  ASSERT_EQ(twice->size(), 2u);
  for (const LexicalHit& h : *twice) {
    EXPECT_NEAR(h.score, score[h.id] * 1001.0 * 2 / 1002.0, 1e-9) << h.id;
  }
}

TEST_F(LexicalIndexTest, ReplaceSwapsAllChunksOfADocument) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  ASSERT_TRUE(idx->ReplaceDocument("a", {Rec("a#0", "old alpha"), Rec("a#1", "old beta")}).ok());
  ASSERT_TRUE(idx->ReplaceDocument("b", {Rec("b#0", "other beta")}).ok());
  ASSERT_TRUE(idx->Commit().ok());
  ASSERT_TRUE(idx->ReplaceDocument("a", {Rec("a#0", "new gamma")}).ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_EQ(CountOk(*idx), 2u);
  EXPECT_THAT(Ids(idx->Search("old", 10)), IsEmpty());
  EXPECT_THAT(Ids(idx->Search("beta", 10)), ElementsAre("b#0"));
  EXPECT_THAT(Ids(idx->Search("gamma", 10)), ElementsAre("a#0"));
  ASSERT_TRUE(idx->DeleteDocument("a").ok());
  ASSERT_TRUE(idx->DeleteDocument("never-indexed").ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_EQ(CountOk(*idx), 1u);
  EXPECT_THAT(Ids(idx->Search("gamma", 10)), IsEmpty());
}

TEST_F(LexicalIndexTest, SearchSeesCommitsOnlyAndUncommittedChangesAreDiscarded) {
  {
    auto idx = OpenOk(dir_);
    ASSERT_TRUE(idx);
    ASSERT_TRUE(idx->ReplaceDocument("a", {Rec("a#0", "kept")}).ok());
    ASSERT_TRUE(idx->Commit().ok());
    ASSERT_TRUE(idx->ReplaceDocument("b", {Rec("b#0", "pending")}).ok());
    ASSERT_TRUE(idx->DeleteDocument("a").ok());
    EXPECT_EQ(CountOk(*idx), 1u);
    EXPECT_THAT(Ids(idx->Search("kept", 10)), ElementsAre("a#0"));
    EXPECT_THAT(Ids(idx->Search("pending", 10)), IsEmpty());
    ASSERT_TRUE(idx->Rollback().ok());
    ASSERT_TRUE(idx->ReplaceDocument("c", {Rec("c#0", "dropped")}).ok());
    // Destroyed without Commit: the pending change is discarded.
  }
  auto idx = OpenOk(dir_, LexicalIndex::Mode::kWrite);
  ASSERT_TRUE(idx);
  EXPECT_EQ(CountOk(*idx), 1u);
  EXPECT_THAT(Ids(idx->Search("kept pending dropped", 10)), ElementsAre("a#0"));
  ASSERT_TRUE(idx->Commit().ok());  // after the rollback, nothing pending to commit
  EXPECT_EQ(CountOk(*idx), 1u);
}

TEST_F(LexicalIndexTest, BadRecordsAreRefusedAndChangeNothing) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  ASSERT_TRUE(idx->ReplaceDocument("a", {Rec("a#0", "alpha")}).ok());
  ASSERT_TRUE(idx->ReplaceDocument("b", {Rec("b#0", "beta")}).ok());  // pending, survives

  Status st = idx->ReplaceDocument("a", {Rec("x", "one"), Rec("x", "two")});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("chunk id \"x\" appears twice"));
  st = idx->ReplaceDocument("a", {Rec("a#1", "gamma"), Rec("b#0", "stolen")});
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(st.message(),
              HasSubstr("\"b#0\" of document \"a\" already belongs to document \"b\""));
  EXPECT_EQ(idx->ReplaceDocument("", {Rec("z", "z")}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(idx->ReplaceDocument("a", {Rec("", "z")}).code(), StatusCode::kInvalidArgument);
  st = idx->ReplaceDocument("a", {Rec("a#1", "z", {{"a=b", "c"}})});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("must not contain '='"));

  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_EQ(CountOk(*idx), 2u);
  EXPECT_THAT(Ids(idx->Search("alpha beta gamma stolen", 10)), UnorderedElementsAre("a#0", "b#0"));
}

TEST_F(LexicalIndexTest, FiltersRestrictWithoutChangingScores) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  ASSERT_TRUE(idx->ReplaceDocument(
                     "guide.html",
                     {Rec("g#0", "deploy a model", {{"source", "guide.html"}, {"format", "html"}})})
                  .ok());
  ASSERT_TRUE(idx->ReplaceDocument("paper.pdf", {Rec("p#0", "deploy the model now",
                                                     {{"source", "paper.pdf"}, {"format", "pdf"}})})
                  .ok());
  ASSERT_TRUE(
      idx->ReplaceDocument("notes.txt", {Rec("n#0", "model deploy notes", {{"format", "text"}})})
          .ok());
  ASSERT_TRUE(idx->Commit().ok());
  auto all = idx->Search("deploy model", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);

  auto pdf = idx->Search("deploy model", 10, {{"format", {"pdf"}}});
  ASSERT_TRUE(pdf.ok());
  ASSERT_EQ(pdf->size(), 1u);
  EXPECT_EQ((*pdf)[0].id, "p#0");
  for (const LexicalHit& h : *all) {
    if (h.id == "p#0") {
      EXPECT_DOUBLE_EQ(h.score, (*pdf)[0].score);
    }
  }
  EXPECT_THAT(Ids(idx->Search("deploy", 10, {{"format", {"pdf", "text"}}})),
              UnorderedElementsAre("p#0", "n#0"));
  EXPECT_THAT(
      Ids(idx->Search("deploy", 10, {{"format", {"pdf", "html"}}, {"source", {"guide.html"}}})),
      ElementsAre("g#0"));
  EXPECT_THAT(Ids(idx->Search("deploy", 10, {{"format", {"docx"}}})), IsEmpty());
  EXPECT_THAT(Ids(idx->Search("deploy", 10, {{"missing", {"x"}}})), IsEmpty());
  EXPECT_EQ(idx->Search("deploy", 10, {{"format", {}}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LexicalIndexTest, LongIdsKeysAndValuesRoundTrip) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  const std::string key(600, 'k');
  const std::string id = key + "#chunk-0";
  const std::string value(500, 'v');
  const std::string other_value = std::string(499, 'v') + "w";  // same prefix, other hash
  ASSERT_TRUE(idx->ReplaceDocument(key, {Rec(id, "long keys work", {{"source", value}})}).ok());
  ASSERT_TRUE(idx->ReplaceDocument(
                     "short", {Rec(key + "#chunk-1", "long keys too", {{"source", other_value}})})
                  .ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_THAT(Ids(idx->Search("keys", 10, {{"source", {value}}})), ElementsAre(id));
  ASSERT_TRUE(idx->ReplaceDocument(key, {Rec(id, "replaced")}).ok());
  ASSERT_TRUE(idx->Commit().ok());
  EXPECT_EQ(CountOk(*idx), 2u);
  EXPECT_THAT(Ids(idx->Search("replaced", 10)), ElementsAre(id));
}

TEST_F(LexicalIndexTest, OpenModesAndTheSingleWriter) {
  auto missing = LexicalIndex::Open(tmp_.Path("nothing"), LexicalIndex::Mode::kRead);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  missing = LexicalIndex::Open(tmp_.Path("nothing"), LexicalIndex::Mode::kWrite);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();

  auto writer = OpenOk(dir_);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->ReplaceDocument("a", {Rec("a#0", "alpha")}).ok());
  ASSERT_TRUE(writer->Commit().ok());

  auto second = LexicalIndex::Open(dir_, LexicalIndex::Mode::kWrite);
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_THAT(second.status().message(), HasSubstr("another process is writing"));

  auto reader = OpenOk(dir_, LexicalIndex::Mode::kRead);
  ASSERT_TRUE(reader);
  EXPECT_THAT(Ids(reader->Search("alpha", 10)), ElementsAre("a#0"));
  EXPECT_EQ(reader->ReplaceDocument("b", {Rec("b#0", "beta")}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Commit().code(), StatusCode::kInvalidArgument);
  // A reader follows the writer's commits.
  ASSERT_TRUE(writer->ReplaceDocument("b", {Rec("b#0", "alpha again")}).ok());
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_EQ(CountOk(*reader), 2u);
}

TEST_F(LexicalIndexTest, ConcurrentSearchesWhileTheWriterCommits) {
  auto idx = OpenOk(dir_);
  ASSERT_TRUE(idx);
  std::vector<LexicalRecord> recs;
  for (int i = 0; i < 200; ++i) {
    recs.push_back(Rec("s#" + std::to_string(i), "stable text number " + std::to_string(i)));
  }
  ASSERT_TRUE(idx->ReplaceDocument("stable", recs).ok());
  ASSERT_TRUE(idx->Commit().ok());

  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::mutex first_mu;
  std::string first_failure;
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto hits = idx->Search("stable text", 300);
        if (!hits.ok() || hits->size() != 200) {
          std::lock_guard<std::mutex> lock(first_mu);
          if (failures.fetch_add(1) == 0) {
            first_failure =
                hits.ok() ? std::to_string(hits->size()) + " hits" : hits.status().ToString();
          }
        }
      }
    });
  }
  for (int round = 0; round < 30; ++round) {
    Status st = idx->ReplaceDocument(
        "churn", {Rec("c#" + std::to_string(round), "churning words " + std::to_string(round))});
    if (st.ok()) st = idx->Commit();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0) << "first: " << first_failure;
  EXPECT_EQ(CountOk(*idx), 201u);
}

}  // namespace
}  // namespace sagebox::retrieval
