#include "cost/findings/cw_logs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cost/findings/sagemaker_meta.h"

#ifndef SAGEBOX_TESTDATA
#define SAGEBOX_TESTDATA "tests/data"
#endif

namespace sagebox::findings {
namespace {

using ::testing::StartsWith;

std::string Aux(const std::string& rel) { return std::string(SAGEBOX_TESTDATA) + "/aux/" + rel; }

std::vector<LogEvent> MustLoad(const std::string& rel) {
  std::vector<LogEvent> ev;
  Status st = LoadLogEvents(Env::Default(), Aux(rel), &ev);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return ev;
}

LogEvent Ev(std::string stream, int64_t ms, std::string msg) {
  return LogEvent{std::move(stream), ms, std::move(msg)};
}

// The article: the log shows the script ran 15 minutes, the console says
// the job ran 19; the 4 minutes between are SageMaker's download/upload.
TEST(ScriptWindows, ArticleExampleFifteenMinuteScriptInNineteenMinuteJob) {
  auto ev = MustLoad("logs-features-daily-001.json");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].stream, "features-daily-001/algo-1-1704160800");
  EXPECT_EQ(ev[0].timestamp_ms, 1704160805000);
  auto w = FindScriptWindows(ev, ScriptPatterns{});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].job, "features-daily-001");
  EXPECT_EQ(w[0].start_ms, 1704160920000);
  EXPECT_EQ(w[0].end_ms, 1704161820000);
  EXPECT_EQ(w[0].DurationMs(), 15 * 60 * 1000);
  EXPECT_EQ(w[0].streams, 1);

  SageMakerMeta m;
  ASSERT_TRUE(
      LoadSageMakerMeta(Env::Default(), Aux("describe-processing-job-features.json"), &m).ok());
  const JobInfo* job = m.FindJob(w[0].job);
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->DurationSeconds(), 19 * 60);
  EXPECT_EQ(job->DurationSeconds() - w[0].DurationMs() / 1000, 4 * 60);
  // The script ran inside the job.
  EXPECT_GE(w[0].start_ms / 1000, job->start);
  EXPECT_LE(w[0].end_ms / 1000, job->end);
}

TEST(ScriptWindows, MultiHostJobAndAJobThatNeverEnded) {
  auto ev = MustLoad("logs-pages.jsonl");
  ASSERT_EQ(ev.size(), 6u);
  auto w = FindScriptWindows(ev, ScriptPatterns{});
  // broken-job-1 logged a start but no end: no window.
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].job, "train-prep-7");
  EXPECT_EQ(w[0].start_ms, 1704250060000);  // earliest start (algo-1)
  EXPECT_EQ(w[0].end_ms, 1704250660000);    // latest end (algo-1)
  EXPECT_EQ(w[0].streams, 2);
}

TEST(ScriptWindows, CustomPatternsOverlappingPatternsAndOrder) {
  std::vector<LogEvent> ev = {Ev("zeta/algo-1-1", 1000, "BEGIN step"),
                              Ev("zeta/algo-1-1", 5000, "DONE step"),
                              Ev("alpha/algo-1-1", 2000, "[main] script"),
                              Ev("alpha/algo-1-1", 9000, "End script ok"),
                              Ev("nohost", 100, "script"),
                              Ev("nohost", 200, "End script")};
  auto w = FindScriptWindows(ev, ScriptPatterns{"BEGIN step", "DONE step"});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].job, "zeta");
  EXPECT_EQ(w[0].DurationMs(), 4000);

  // "End script" contains "script": a message with both is an end.
  w = FindScriptWindows(ev, ScriptPatterns{"script", "End script"});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].job, "alpha");  // sorted by job name
  EXPECT_EQ(w[0].start_ms, 2000);
  EXPECT_EQ(w[0].end_ms, 9000);
  EXPECT_EQ(w[1].job, "nohost");  // no '/': the whole stream name
  EXPECT_EQ(w[1].DurationMs(), 100);

  // Empty patterns match nothing.
  EXPECT_TRUE(FindScriptWindows(ev, ScriptPatterns{"", ""}).empty());
}

TEST(ScriptWindows, EndBeforeStartAndEndWithoutStartGiveNoWindow) {
  std::vector<LogEvent> ev = {Ev("a/algo-1-1", 9000, "Start custom script"),
                              Ev("a/algo-1-1", 1000, "End custom script"),
                              Ev("b/algo-1-1", 1000, "End custom script")};
  EXPECT_TRUE(FindScriptWindows(ev, ScriptPatterns{}).empty());
  EXPECT_TRUE(FindScriptWindows({}, ScriptPatterns{}).empty());
}

TEST(LogEvents, PagesAsArrayBareEventsAndEventLines) {
  const std::string page1 =
      R"({"events":[{"logStreamName":"j/algo-1-1","timestamp":1000,"message":"Start custom script"}],"nextToken":"t"})";
  const std::string page2 =
      R"({"events":[{"logStreamName":"j/algo-1-1","timestamp":61000,"message":"End custom script"}]})";
  const std::string e1 =
      R"({"logStreamName":"j/algo-1-1","timestamp":1000,"message":"Start custom script","ingestionTime":1001})";
  const std::string e2 =
      R"({"logStreamName":"j/algo-1-1","timestamp":61000,"message":"End custom script"})";
  for (const std::string& text :
       {"[" + page1 + "," + page2 + "]", page1 + "\n" + page2, "[" + e1 + "," + e2 + "]",
        e1 + "\n" + e2 + "\n", page1 + "\n{\"nextToken\": \"x\"}\n" + e2}) {
    std::vector<LogEvent> ev;
    Status st = ParseLogEvents(text, "l", &ev);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(ev.size(), 2u) << text;
    auto w = FindScriptWindows(ev, ScriptPatterns{});
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].job, "j");
    EXPECT_EQ(w[0].DurationMs(), 60000);
  }
}

TEST(LogEvents, EmptyPagesAndMissingOptionalFields) {
  std::vector<LogEvent> ev;
  ASSERT_TRUE(ParseLogEvents(R"({"events": [], "searchedLogStreams": []})", "l", &ev).ok());
  EXPECT_TRUE(ev.empty());
  ASSERT_TRUE(ParseLogEvents(R"({"events": [{"timestamp": 5}]})", "l", &ev).ok());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].stream, "");
  EXPECT_EQ(ev[0].message, "");
}

TEST(LogEvents, ErrorsNameLineColumnAndField) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"{\"events\": [\n {\"logStreamName\": \"s\", \"timestamp\": \"soon\", \"message\": \"m\"}]}",
       "l:2:25: expected 'events[0].timestamp' to be an integer from 0 to 253402300799999, got a "
       "string"},
      {"{\"events\": [{\"logStreamName\": \"s\", \"message\": \"m\"}]}",
       "l:1:1: expected 'events[0].timestamp' (milliseconds since the epoch)"},
      {"{\"events\": {}}", "l:1:2: expected 'events' to be an array, got an object"},
      {"{\"events\": [3]}", "l:1:2: expected 'events[0]' to be an event object, got 3"},
      {"{\"events\": [{\"timestamp\": 1, \"message\": 2}]}",
       "l:1:30: expected 'events[0].message' to be a string, got 2"},
      {"{\"events\": [{\"timestamp\": 1, \"message\": \"x\"}]}\n{\"events\": [",
       "l:2:13: syntax error while parsing value - unexpected end of input; expected '[', '{', or "
       "a literal"},
  };
  for (const auto& c : cases) {
    std::vector<LogEvent> ev;
    Status st = ParseLogEvents(c.text, "l", &ev);
    EXPECT_EQ(st.code(), StatusCode::kBadInput) << c.text;
    EXPECT_EQ(st.message(), c.message);
  }
}

TEST(LogEvents, MissingFileIsAnError) {
  std::vector<LogEvent> ev;
  Status st = LoadLogEvents(Env::Default(), Aux("nope.json"), &ev);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("nope.json"));
}

}  // namespace
}  // namespace sagebox::findings
