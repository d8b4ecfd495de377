#include "rag/question_log.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"

namespace sagebox::rag {
namespace {

class QuestionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(tmp_.Path("sagebox.db"), Migrations());
    ASSERT_NE(db_, nullptr);
  }
  testing::TempDir tmp_{"qlog"};
  std::unique_ptr<db::Database> db_;
};

QuestionRecord Sample(const std::string& index, const std::string& question) {
  QuestionRecord r;
  r.asked_unix_us = 1700000000000000;
  r.index = index;
  r.question = question;
  r.mode = "bm25";
  r.results = {{"a.rst#0", "a.rst", 7.25}, {"b.rst#3", "b.rst", 3.5}};
  r.answer = "It is. [1]";
  r.provider = "extractive";
  r.latency_ms = 12.5;
  r.cost_usd = "0";
  return r;
}

TEST_F(QuestionLogTest, LogsReadsBackAndTakesFeedback) {
  auto id1 = LogQuestion(*db_, Sample("docs", "first?"));
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  QuestionRecord paid = Sample("other", "second?");
  paid.provider = "openai:gpt";
  paid.cost_usd = "0.0000125";
  auto id2 = LogQuestion(*db_, paid);
  ASSERT_TRUE(id2.ok());
  EXPECT_GT(*id2, *id1);
  QuestionRecord unknown = Sample("docs", "third?");
  unknown.cost_usd.reset();
  ASSERT_TRUE(LogQuestion(*db_, unknown).ok());

  auto all = RecentQuestions(*db_, "", 10);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].question, "third?");  // newest first
  EXPECT_FALSE((*all)[0].cost_usd.has_value());
  EXPECT_EQ((*all)[1].cost_usd, "0.0000125");  // exact text, not a double
  auto docs = RecentQuestions(*db_, "docs", 10);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  const QuestionRecord& q = (*docs)[1];
  EXPECT_EQ(q.id, *id1);
  EXPECT_EQ(q.answer, "It is. [1]");
  ASSERT_EQ(q.results.size(), 2u);
  EXPECT_EQ(q.results[1].chunk_id, "b.rst#3");
  EXPECT_EQ(q.results[1].source, "b.rst");
  EXPECT_DOUBLE_EQ(q.results[0].score, 7.25);
  EXPECT_DOUBLE_EQ(q.latency_ms, 12.5);
  EXPECT_FALSE(q.feedback.has_value());

  ASSERT_TRUE(SetFeedback(*db_, *id1, "source:b.rst#3").ok());
  auto after = RecentQuestions(*db_, "docs", 10);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[1].feedback, "source:b.rst#3");
  EXPECT_EQ(SetFeedback(*db_, *id1, "meh").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SetFeedback(*db_, 999, "up").code(), StatusCode::kNotFound);
}

TEST_F(QuestionLogTest, RejectsABadCost) {
  QuestionRecord r = Sample("docs", "q");
  r.cost_usd = "1,50";
  EXPECT_EQ(LogQuestion(*db_, r).status().code(), StatusCode::kInvalidArgument);
  r.cost_usd = "0";
  r.latency_ms = -1;
  EXPECT_EQ(LogQuestion(*db_, r).status().code(), StatusCode::kInvalidArgument);
  auto all = RecentQuestions(*db_, "", 10);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace sagebox::rag
