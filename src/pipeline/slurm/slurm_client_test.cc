// Unit tests of the Slurm client with a fake runner that replays outputs recorded on the
// one-node test cluster (tests/data/pipeline/slurm, see its PROVENANCE.md).
#include "pipeline/slurm/slurm_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <sstream>

#include "pipeline/slurm/array_indices.h"

namespace sagebox::pipeline::slurm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadTestData(const std::string& name) {
  std::ifstream in(std::string(SAGEBOX_TESTDATA) + "/pipeline/slurm/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replays queued results in order and records every request.
class FakeRunner : public CommandRunner {
 public:
  void Push(int exit_code, std::string out, std::string err = "") {
    results_.push_back(CommandResult{exit_code, std::move(out), std::move(err)});
  }
  StatusOr<CommandResult> Run(const CommandRequest& request) override {
    requests.push_back(request);
    if (results_.empty()) return Internal("fake runner: no result queued");
    CommandResult r = results_.front();
    results_.pop_front();
    return r;
  }
  std::vector<CommandRequest> requests;

 private:
  std::deque<CommandResult> results_;
};

TEST(ArrayIndicesTest, CompressesRunsAndSingles) {
  EXPECT_EQ(CompressIndices({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), "0-9");
  EXPECT_EQ(CompressIndices({9, 7, 1, 3, 8, 3}), "1,3,7-9");
  EXPECT_EQ(CompressIndices({4}), "4");
  EXPECT_EQ(CompressIndices({}), "");
  EXPECT_EQ(CompressIndices({0, 2, 4}), "0,2,4");
}

TEST(ArrayIndicesTest, ExpandsSlurmForms) {
  EXPECT_THAT(*ExpandIndices("2-5%2"), ElementsAre(2, 3, 4, 5));
  EXPECT_THAT(*ExpandIndices("[1,3-4]"), ElementsAre(1, 3, 4));
  EXPECT_THAT(*ExpandIndices("0-9:4"), ElementsAre(0, 4, 8));
  EXPECT_THAT(*ExpandIndices("7"), ElementsAre(7));
  // Round trip.
  EXPECT_EQ(CompressIndices(*ExpandIndices("1,3,7-9")), "1,3,7-9");
}

TEST(ArrayIndicesTest, RejectsMalformedLists) {
  auto backwards = ExpandIndices("5-2");
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(backwards.status().message(), HasSubstr("\"5-2\" runs backwards"));
  EXPECT_FALSE(ExpandIndices("").ok());
  EXPECT_FALSE(ExpandIndices("1,,2").ok());
  EXPECT_FALSE(ExpandIndices("a-3").ok());
  EXPECT_FALSE(ExpandIndices("0-3:0").ok());
  EXPECT_THAT(ExpandIndices("0-2000000000").status().message(), HasSubstr("too many"));
}

ArraySubmission SixTasks() {
  ArraySubmission s;
  for (int i = 0; i < 6; ++i)
    s.argv_per_index.push_back({i, {"/bin/echo", "task", std::to_string(i)}});
  s.max_concurrency = 2;
  s.job_name = "stage-a";
  s.working_dir = "/work/x";
  s.time_limit = std::chrono::seconds(90);
  s.stdout_path = "logs/%A_%a.out";
  s.stderr_path = "logs/%A_%a.err";
  s.env = {{"SAGEBOX_EXECUTION", "exec-1"}};
  s.partition = "debug";
  s.account = "ml";
  s.cpus_per_task = 2;
  return s;
}

TEST(SlurmClientTest, SubmitBuildsExactArgvAndScript) {
  FakeRunner runner;
  runner.Push(0, "1\n");
  SlurmClient client(&runner);
  auto id = client.SubmitArray(SixTasks());
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 1);
  ASSERT_EQ(runner.requests.size(), 1u);
  const CommandRequest& req = runner.requests[0];
  EXPECT_THAT(req.argv, ElementsAre("sbatch", "--parsable", "--array=0-5%2", "--job-name=stage-a",
                                    "--chdir=/work/x", "--time=2", "--output=logs/%A_%a.out",
                                    "--error=logs/%A_%a.err", "--partition=debug", "--account=ml",
                                    "--cpus-per-task=2"));
  EXPECT_EQ(req.env, (EnvList{{"SAGEBOX_EXECUTION", "exec-1"}}));
  EXPECT_EQ(
      req.stdin_text,
      "#!/bin/sh\n"
      "# sagebox: one command per array index ($SLURM_ARRAY_TASK_ID).\n"
      "case \"$SLURM_ARRAY_TASK_ID\" in\n"
      "  0) exec '/bin/echo' 'task' '0' ;;\n"
      "  1) exec '/bin/echo' 'task' '1' ;;\n"
      "  2) exec '/bin/echo' 'task' '2' ;;\n"
      "  3) exec '/bin/echo' 'task' '3' ;;\n"
      "  4) exec '/bin/echo' 'task' '4' ;;\n"
      "  5) exec '/bin/echo' 'task' '5' ;;\n"
      "  *) echo \"sagebox: no command for array index $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n"
      "esac\n");
}

TEST(SlurmClientTest, SubmitMinimalScriptAndQuoting) {
  FakeRunner runner;
  runner.Push(0, "12;cluster-a\n");
  SlurmClient client(&runner);
  ArraySubmission s;
  s.script = "#!/bin/sh\necho $SLURM_ARRAY_TASK_ID\n";
  s.indices = {1, 3, 7, 8, 9};
  auto id = client.SubmitArray(s);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 12);
  EXPECT_THAT(runner.requests[0].argv, ElementsAre("sbatch", "--parsable", "--array=1,3,7-9"));
  EXPECT_EQ(runner.requests[0].stdin_text, s.script);

  ArraySubmission q;
  q.argv_per_index = {{0, {"sh", "-c", "echo 'it''s' $HOME"}}};
  auto req = client.BuildSubmit(q);
  ASSERT_TRUE(req.ok());
  EXPECT_THAT(req->stdin_text,
              HasSubstr("0) exec 'sh' '-c' 'echo '\\''it'\\'''\\''s'\\'' $HOME' ;;"));
}

TEST(SlurmClientTest, SubmitRejectsBadSubmissions) {
  FakeRunner runner;
  SlurmClient client(&runner);
  ArraySubmission none;
  EXPECT_EQ(client.SubmitArray(none).status().code(), StatusCode::kInvalidArgument);
  ArraySubmission missing = SixTasks();
  missing.indices = {0, 6};
  auto r = client.SubmitArray(missing);
  EXPECT_THAT(r.status().message(), HasSubstr("index 6 has no command"));
  ArraySubmission no_shebang;
  no_shebang.script = "echo hi\n";
  no_shebang.indices = {0};
  EXPECT_THAT(client.SubmitArray(no_shebang).status().message(), HasSubstr("#!"));
  ArraySubmission negative = SixTasks();
  negative.indices = {-1};
  EXPECT_THAT(client.SubmitArray(negative).status().message(), HasSubstr("negative"));
  EXPECT_TRUE(runner.requests.empty());  // nothing reached sbatch
}

TEST(SlurmClientTest, SbatchRefusalNamesCommandAndStderr) {
  FakeRunner runner;
  runner.Push(1, "", ReadTestData("sbatch_bad_partition.stderr"));
  SlurmClient client(&runner);
  auto id = client.SubmitArray(SixTasks());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInternal);
  EXPECT_THAT(id.status().message(), HasSubstr("sbatch exited with code 1"));
  EXPECT_THAT(id.status().message(), HasSubstr("Invalid partition name specified"));
}

TEST(SlurmClientTest, SbatchGarbageIsBadInput) {
  EXPECT_EQ(*ParseSbatchParsable("1\n"), 1);
  EXPECT_EQ(*ParseSbatchParsable("77;cluster\n"), 77);
  auto bad = ParseSbatchParsable("Submitted batch job 5\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(bad.status().message(), HasSubstr("sbatch --parsable: line 1"));
  EXPECT_THAT(bad.status().message(), HasSubstr("Submitted batch job 5"));
}

TEST(SqueueJsonTest, SubmittedArrayIsPendingPerIndex) {
  auto s = ParseSqueueJson(ReadTestData("squeue_array_submitted.json"), 1);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(s->tasks[i].index, i);
    EXPECT_EQ(s->tasks[i].state, TaskState::kPending);
    EXPECT_FALSE(s->tasks[i].start_time.has_value());
  }
  EXPECT_FALSE(s->AllTerminal());
}

TEST(SqueueJsonTest, DoneArrayHasExitCodesAndTimes) {
  auto s = ParseSqueueJson(ReadTestData("squeue_array_done.json"), 1);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 6u);
  EXPECT_TRUE(s->AllTerminal());
  const TaskStatus* t3 = s->Find(3);
  ASSERT_NE(t3, nullptr);
  EXPECT_EQ(t3->state, TaskState::kFailed);
  EXPECT_EQ(t3->exit_code, 7);  // 22.05 prints the raw wait status 1792 = 7 << 8
  EXPECT_EQ(t3->reason, "NonZeroExitCode");
  EXPECT_EQ(t3->start_time, 1796660487);
  EXPECT_EQ(t3->end_time, 1796660488);
  const TaskStatus* t0 = s->Find(0);
  EXPECT_EQ(t0->state, TaskState::kCompleted);
  EXPECT_EQ(t0->exit_code, 0);
  EXPECT_EQ(t0->start_time, 1796660484);
  EXPECT_THAT(s->FailedIndices(), ElementsAre(3));
  // Another job in the same document is not mixed in.
  auto other = ParseSqueueJson(ReadTestData("squeue_array_done.json"), 99);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->tasks.empty());
  EXPECT_FALSE(other->listed);
  EXPECT_TRUE(s->listed);
}

// Recorded on Slurm 22.05 (the test cluster): `scancel 38_[1-3]` while 1-3 were pending
// left only this record of them, with an empty task list; the started task keeps its own.
TEST(SqueueJsonTest, CancelledPendingTasksLeaveTheArrayListedWithoutThem) {
  auto s = ParseSqueueJson(
      R"({"jobs":[{"job_id":39,"array_job_id":38,"array_task_id":0,"array_task_string":"",
      "job_state":"CANCELLED","state_reason":"None"},
      {"job_id":38,"array_job_id":38,"array_task_id":null,"array_task_string":"",
      "job_state":"CANCELLED","state_reason":"JobArrayTaskLimit"}],"errors":[]})",
      38);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_TRUE(s->listed);
  ASSERT_EQ(s->tasks.size(), 1u);
  EXPECT_EQ(s->tasks[0].index, 0);
  EXPECT_EQ(s->Find(2), nullptr);
}

TEST(SqueueJsonTest, ThrottledArrayRunsTwoAndHoldsTheRest) {
  auto s = ParseSqueueJson(ReadTestData("squeue_throttled.json"), 7);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 4u);
  EXPECT_EQ(s->tasks[0].state, TaskState::kRunning);
  EXPECT_EQ(s->tasks[1].state, TaskState::kRunning);
  EXPECT_TRUE(s->tasks[0].start_time.has_value());
  // A running task's end_time in squeue is a prediction (start + limit): not reported.
  EXPECT_FALSE(s->tasks[0].end_time.has_value());
  EXPECT_FALSE(s->tasks[0].exit_code.has_value());
  EXPECT_EQ(s->tasks[2].state, TaskState::kPending);
  EXPECT_EQ(s->tasks[2].reason, "JobArrayTaskLimit");
  EXPECT_EQ(s->tasks[3].state, TaskState::kPending);
}

TEST(SqueueJsonTest, CancelledArrayIncludesNeverStartedTasks) {
  auto s = ParseSqueueJson(ReadTestData("squeue_cancelled.json"), 7);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 4u);
  for (const auto& t : s->tasks) EXPECT_EQ(t.state, TaskState::kCancelled) << t.index;
  EXPECT_EQ(s->tasks[0].signal, 15);  // SIGTERM
  EXPECT_FALSE(s->tasks[0].exit_code.has_value());
  EXPECT_TRUE(s->AllTerminal());
  EXPECT_TRUE(s->FailedIndices().empty());  // a cancel is not retried
}

TEST(SqueueJsonTest, TimeoutIsRetryable) {
  auto s = ParseSqueueJson(ReadTestData("squeue_timeout.json"), 10);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 1u);  // a plain job is index 0
  EXPECT_EQ(s->tasks[0].state, TaskState::kTimeout);
  EXPECT_EQ(s->tasks[0].reason, "TimeLimit");
  EXPECT_EQ(*s->tasks[0].end_time - *s->tasks[0].start_time, 61);
  EXPECT_THAT(s->FailedIndices(), ElementsAre(0));
}

TEST(SqueueJsonTest, LaterVersionsShapeIsRead) {
  // Slurm 23.02+ (openapi v0.0.39+): job_state arrays, {set, number} values, exit_code objects.
  std::string doc =
      R"({"jobs":[{"job_id":{"set":true,"number":51},"array_job_id":{"set":true,"number":50},
    "array_task_id":{"set":true,"number":4},"array_task_string":"","job_state":["FAILED"],
    "state_reason":"NonZeroExitCode","start_time":{"set":true,"number":100},
    "end_time":{"set":true,"number":160},
    "exit_code":{"status":["EXITED"],"return_code":{"set":true,"number":3}}}],"errors":[]})";
  auto s = ParseSqueueJson(doc, 50);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 1u);
  EXPECT_EQ(s->tasks[0].index, 4);
  EXPECT_EQ(s->tasks[0].state, TaskState::kFailed);
  EXPECT_EQ(s->tasks[0].exit_code, 3);
  EXPECT_EQ(s->tasks[0].end_time, 160);
}

// Found by slurm_output_fuzz: a number too large for a double is nlohmann's out_of_range,
// which escaped the parse_error handler.
TEST(SqueueJsonTest, AnOverflowingNumberIsBadInput) {
  auto s = ParseSqueueJson("2e444", 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(s.status().message(), HasSubstr("squeue --json: not JSON"));
}

TEST(SqueueJsonTest, ErrorsNameCommandAndPlace) {
  auto truncated = ParseSqueueJson("{\n  \"jobs\": [\n    {\"job_id\": 1,\n", 1);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(truncated.status().message(), HasSubstr("squeue --json: line 4"));
  auto wrong = ParseSqueueJson(R"({"jobs":[{"job_id":1,"array_job_id":0,"job_state":5}]})", 1);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("squeue --json: jobs[0].job_state: expected"));
  auto no_jobs = ParseSqueueJson(R"({"meta":{}})", 1);
  EXPECT_THAT(no_jobs.status().message(), HasSubstr("squeue --json: jobs: expected an array"));
  auto reported = ParseSqueueJson(R"({"jobs":[],"errors":[{"error":"boom"}]})", 1);
  EXPECT_THAT(reported.status().message(), HasSubstr("boom"));
  auto bad_remainder = ParseSqueueJson(
      R"({"jobs":[{"job_id":1,"array_job_id":1,"array_task_id":null,"array_task_string":"x-2","job_state":"PENDING"}]})",
      1);
  EXPECT_THAT(bad_remainder.status().message(),
              HasSubstr("squeue --json: jobs[0].array_task_string"));
}

TEST(SacctTest, ParsesParsable2) {
  auto s = ParseSacctParsable(ReadTestData("sacct_parsable2.txt"), 41);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->tasks.size(), 6u);
  EXPECT_EQ(s->source, "sacct");
  EXPECT_EQ(s->tasks[1].state, TaskState::kFailed);
  EXPECT_EQ(s->tasks[1].exit_code, 7);
  EXPECT_EQ(s->tasks[2].state, TaskState::kCancelled);  // "CANCELLED by 0"
  EXPECT_EQ(s->tasks[2].signal, 15);
  EXPECT_EQ(s->tasks[3].state, TaskState::kTimeout);
  EXPECT_EQ(s->tasks[4].state, TaskState::kPending);
  EXPECT_EQ(s->tasks[5].state, TaskState::kPending);
  EXPECT_FALSE(s->tasks[5].start_time.has_value());
  EXPECT_THAT(s->FailedIndices(), ElementsAre(1, 3));
}

TEST(SacctTest, ErrorsNameTheLine) {
  auto s = ParseSacctParsable("41_0|COMPLETED|0:0|1|2\n41_1|FAILED|seven|1|2\n", 41);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("sacct: line 2: ExitCode \"seven\""));
  auto fields = ParseSacctParsable("41_0|COMPLETED\n", 41);
  EXPECT_THAT(fields.status().message(), HasSubstr("sacct: line 1: 2 fields"));
  auto time = ParseSacctParsable("41_0|COMPLETED|0:0|2026-12-07T16:21:24|1\n", 41);
  EXPECT_THAT(time.status().message(), HasSubstr("Start \"2026-12-07T16:21:24\""));
}

TEST(SlurmClientTest, StatusRunsSqueueThenSacctForForgottenJobs) {
  FakeRunner runner;
  runner.Push(0, ReadTestData("squeue_array_done.json"));  // job 41 is not in it
  runner.Push(0, ReadTestData("sacct_parsable2.txt"));
  SlurmClient client(&runner);
  auto s = client.Status(41);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->source, "sacct");
  ASSERT_EQ(runner.requests.size(), 2u);
  EXPECT_THAT(runner.requests[0].argv, ElementsAre("squeue", "--json"));
  EXPECT_THAT(runner.requests[1].argv,
              ElementsAre("sacct", "--jobs=41", "--allocations", "--parsable2", "--noheader",
                          "--format=JobID,State,ExitCode,Start,End"));
  EXPECT_EQ(runner.requests[1].env, (EnvList{{"SLURM_TIME_FORMAT", "%s"}}));
}

TEST(SlurmClientTest, StatusOfUnknownJobWithoutAccountingIsNotFound) {
  FakeRunner runner;
  runner.Push(0, ReadTestData("squeue_array_done.json"));
  runner.Push(1, "", ReadTestData("sacct_disabled.stderr"));
  SlurmClient client(&runner);
  auto s = client.Status(41);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr("Slurm accounting storage is disabled"));
}

TEST(SlurmClientTest, CancelWholeArrayOrIndices) {
  FakeRunner runner;
  runner.Push(0, "");
  runner.Push(0, "");
  runner.Push(1, "", "scancel: error: Invalid job id 7_[9]\n");
  SlurmClient client(&runner);
  EXPECT_TRUE(client.Cancel(7).ok());
  EXPECT_TRUE(client.Cancel(7, {3, 1, 2}).ok());
  ::sagebox::Status bad = client.Cancel(7, {9});
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.message(), HasSubstr("scancel 7_[9] exited with code 1"));
  EXPECT_THAT(runner.requests[0].argv, ElementsAre("scancel", "7"));
  EXPECT_THAT(runner.requests[1].argv, ElementsAre("scancel", "7_[1-3]"));
}

TEST(SlurmClientTest, ResubmitFailedSendsOnlyFailedIndices) {
  FakeRunner runner;
  runner.Push(0, "2\n");
  SlurmClient client(&runner);
  auto status = ParseSqueueJson(ReadTestData("squeue_array_done.json"), 1);
  ASSERT_TRUE(status.ok());
  auto id = client.ResubmitFailed(SixTasks(), *status);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(*id, 2);
  EXPECT_EQ(runner.requests[0].argv[2], "--array=3%2");
  EXPECT_THAT(runner.requests[0].stdin_text, HasSubstr("  3) exec '/bin/echo' 'task' '3' ;;\n"));
  EXPECT_THAT(runner.requests[0].stdin_text, ::testing::Not(HasSubstr("  2) exec")));

  auto cancelled = ParseSqueueJson(ReadTestData("squeue_cancelled.json"), 7);
  auto none = client.ResubmitFailed(SixTasks(), *cancelled);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
}

TEST(SlurmClientTest, WaitPollsUntilEveryTaskEnds) {
  FakeRunner runner;
  runner.Push(0, ReadTestData("squeue_array_submitted.json"));
  runner.Push(0, ReadTestData("squeue_array_submitted.json"));
  runner.Push(0, ReadTestData("squeue_array_done.json"));
  std::vector<std::chrono::milliseconds> sleeps;
  SlurmClient client(&runner, [&](std::chrono::milliseconds d) { sleeps.push_back(d); });
  auto w = client.Wait(1, std::chrono::milliseconds(500), std::chrono::minutes(1));
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_FALSE(w->timed_out);
  EXPECT_TRUE(w->status.AllTerminal());
  EXPECT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(runner.requests.size(), 3u);
}

TEST(SlurmClientTest, WaitTimesOut) {
  FakeRunner runner;
  for (int i = 0; i < 5; ++i) runner.Push(0, ReadTestData("squeue_throttled.json"));
  SlurmClient client(&runner, [](std::chrono::milliseconds) {});
  auto w = client.Wait(7, std::chrono::milliseconds(400), std::chrono::milliseconds(1000));
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_TRUE(w->timed_out);
  EXPECT_FALSE(w->status.AllTerminal());
  EXPECT_EQ(runner.requests.size(), 4u);  // polls at 0, 400, 800, 1000 ms
}

TEST(SlurmClientTest, WaitPassesStatusErrorsThrough) {
  FakeRunner runner;
  runner.Push(1, "", "slurm_load_jobs error: Unable to contact slurm controller\n");
  SlurmClient client(&runner, [](std::chrono::milliseconds) {});
  auto w = client.Wait(1, std::chrono::milliseconds(10), std::chrono::seconds(1));
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("squeue --json exited with code 1"));
  EXPECT_THAT(w.status().message(), HasSubstr("Unable to contact slurm controller"));
}

TEST(SpawnCommandRunnerTest, RunsWithStdinEnvAndCapturesBothStreams) {
  SpawnCommandRunner runner(EnvList{{"SAGEBOX_A", "from-runner"}});
  auto r =
      runner.Run({{"/bin/sh", "-c", "cat; echo \"$SAGEBOX_A $SAGEBOX_B\"; echo oops >&2; exit 3"},
                  {{"SAGEBOX_B", "from-request"}},
                  "hello\n"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_text, "hello\nfrom-runner from-request\n");
  EXPECT_EQ(r->stderr_text, "oops\n");
}

TEST(SpawnCommandRunnerTest, MissingProgramAndTimeLimit) {
  SpawnCommandRunner runner({}, std::chrono::milliseconds(300));
  auto missing = runner.Run({{"sagebox-no-such-program"}, {}, ""});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto slow = runner.Run({{"/bin/sleep", "10"}, {}, ""});
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(slow.status().message(), HasSubstr("/bin/sleep did not finish within 300 ms"));
}

TEST(SpawnCommandRunnerTest, LargeOutputDoesNotBlock) {
  SpawnCommandRunner runner;
  auto r = runner.Run(
      {{"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"}, {}, ""});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->stdout_text.size(), 300000u);
  EXPECT_EQ(r->stderr_text.size(), 200000u);
}

}  // namespace
}  // namespace sagebox::pipeline::slurm
