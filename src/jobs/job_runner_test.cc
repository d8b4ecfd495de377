#include "jobs/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.h"
#include "db/database.h"
#include "jobs/job_store.h"
#include "jobs/testing/helpers.h"

namespace sagebox::jobs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using testing::OpenMigratedDb;
using testing::ProcessGone;
using testing::ReadFile;
using testing::WaitForFile;
using testing::WaitUntil;

constexpr milliseconds kLong{20'000};

JobFilter Filter(std::optional<std::string> kind, std::optional<JobState> state = std::nullopt,
                 std::optional<std::string> owner = std::nullopt, int64_t limit = 1000) {
  JobFilter f;
  f.kind = std::move(kind);
  f.state = state;
  f.owner = std::move(owner);
  f.limit = limit;
  return f;
}

// A launcher whose children never start (fork refused), to test how that is recorded.
class FailingLauncher : public ProcessLauncher {
 public:
  StatusOr<std::unique_ptr<Process>> Launch(const ProcessSpec&) override {
    ++calls;
    return IoError("injected: fork: Resource temporarily unavailable");
  }
  std::atomic<int> calls{0};
};

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenMigratedDb(tmp_.Path("sagebox.db"));
    ASSERT_NE(db_, nullptr);
  }

  RunnerOptions Options(int max_concurrent = 2) {
    RunnerOptions o;
    o.log_root = tmp_.Path("jobs");
    o.max_concurrent = max_concurrent;
    o.stop_grace = milliseconds(300);
    return o;
  }

  static JobSpec Sh(const std::string& name, const std::string& script) {
    JobSpec spec;
    spec.kind = "processing";
    spec.name = name;
    spec.argv = {"/bin/sh", "-c", script};
    return spec;
  }

  // Waits until job `id` is running with its process recorded.
  static Job WaitRunning(JobRunner& runner, int64_t id) {
    Job job;
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto j = runner.Get(id);
          if (j.ok()) job = *j;
          return j.ok() && job.state == JobState::kRunning && job.pid.has_value();
        },
        milliseconds(5000)));
    return job;
  }

  sagebox::testing::TempDir tmp_{"jobs"};
  std::unique_ptr<db::Database> db_;
};

TEST_F(JobRunnerTest, SucceededJobRecordsEverythingAndKeepsItsLogs) {
  JobRunner runner(db_.get(), Options());
  JobSpec spec = Sh("hello", "echo \"hi $JOB_GREETING\"; echo oops >&2");
  spec.owner = "alice";
  spec.env = {{"JOB_GREETING", "there"}};
  auto id = runner.Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->state, JobState::kSucceeded);
  EXPECT_EQ(job->exit_code, 0);
  EXPECT_FALSE(job->signal.has_value());
  EXPECT_FALSE(job->failure_reason.has_value());
  EXPECT_EQ(job->kind, "processing");
  EXPECT_EQ(job->name, "hello");
  EXPECT_EQ(job->owner, "alice");
  EXPECT_EQ(job->argv, spec.argv);
  EXPECT_EQ(job->runner_id, runner.identity().ToString());
  ASSERT_TRUE(job->pid.has_value());
  EXPECT_TRUE(job->pid_start.has_value());
  ASSERT_TRUE(job->started_us && job->ended_us);
  EXPECT_LE(job->created_us, *job->started_us);
  EXPECT_LE(*job->started_us, *job->ended_us);
  const std::string dir = tmp_.Path("jobs/" + std::to_string(*id));
  EXPECT_EQ(job->stdout_path, dir + "/stdout.log");
  EXPECT_EQ(job->stderr_path, dir + "/stderr.log");
  EXPECT_EQ(ReadFile(job->stdout_path), "hi there\n");
  EXPECT_EQ(ReadFile(job->stderr_path), "oops\n");
}

TEST_F(JobRunnerTest, NonZeroExitAndSignalFail) {
  JobRunner runner(db_.get(), Options());
  auto exit7 = runner.Submit(Sh("exit7", "exit 7"));
  auto segv = runner.Submit(Sh("usr1", "kill -USR1 $$"));
  ASSERT_TRUE(exit7.ok() && segv.ok());
  auto a = runner.Wait(*exit7, kLong);
  auto b = runner.Wait(*segv, kLong);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->state, JobState::kFailed);
  EXPECT_EQ(a->exit_code, 7);
  EXPECT_EQ(a->failure_reason, "exit code 7");
  EXPECT_EQ(b->state, JobState::kFailed);
  EXPECT_FALSE(b->exit_code.has_value());
  EXPECT_EQ(b->signal, SIGUSR1);
  EXPECT_EQ(b->failure_reason, "killed by signal USR1");
}

TEST_F(JobRunnerTest, TimeLimitEndsTimedOut) {
  JobRunner runner(db_.get(), Options());
  JobSpec spec = Sh("slow", "sleep 30");
  spec.time_limit = seconds(1);
  auto id = runner.Submit(spec);
  ASSERT_TRUE(id.ok());
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kTimedOut);
  EXPECT_EQ(job->time_limit_s, 1);
  EXPECT_EQ(job->signal, SIGTERM);
  EXPECT_THAT(job->failure_reason.value_or(""), HasSubstr("time limit of 1 s"));
  EXPECT_GE(*job->ended_us - *job->started_us, 1'000'000);
}

TEST_F(JobRunnerTest, CancelStopsTheWholeGroup) {
  JobRunner runner(db_.get(), Options());
  const std::string pidfile = tmp_.Path("gc.pid");
  auto id = runner.Submit(Sh("cancel-me", "sleep 100 & echo $! > " + pidfile + "; wait"));
  ASSERT_TRUE(id.ok());
  WaitRunning(runner, *id);
  ASSERT_TRUE(WaitForFile(pidfile, "\n"));
  pid_t grandchild = std::stoi(ReadFile(pidfile));
  ASSERT_TRUE(runner.Cancel(*id).ok());
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->signal, SIGTERM);
  EXPECT_THAT(job->failure_reason.value_or(""), HasSubstr("cancelled"));
  EXPECT_TRUE(ProcessGone(grandchild, milliseconds(3000)));
  // Cancelling an ended job is refused, and changes nothing.
  Status again = runner.Cancel(*id);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(again.message(), HasSubstr("already ended (cancelled)"));
  EXPECT_EQ(runner.Cancel(999'999).code(), StatusCode::kNotFound);
}

TEST_F(JobRunnerTest, CancelOfAJobIgnoringSigtermKillsItAfterTheGracePeriod) {
  JobRunner runner(db_.get(), Options());
  auto id = runner.Submit(Sh("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(id.ok());
  Job running = WaitRunning(runner, *id);
  ASSERT_TRUE(WaitForFile(running.stdout_path, "ready\n"));
  ASSERT_TRUE(runner.Cancel(*id).ok());
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->signal, SIGKILL);
  EXPECT_THAT(job->failure_reason.value_or(""), HasSubstr("SIGKILL after the grace period"));
}

TEST_F(JobRunnerTest, CancelOfAPendingJobMeansItNeverStarts) {
  JobRunner runner(db_.get(), Options(/*max_concurrent=*/1));
  auto busy = runner.Submit(Sh("busy", "sleep 30"));
  auto queued = runner.Submit(Sh("queued", "echo ran > " + tmp_.Path("ran")));
  ASSERT_TRUE(busy.ok() && queued.ok());
  WaitRunning(runner, *busy);
  auto pending = runner.Get(*queued);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state, JobState::kPending);
  ASSERT_TRUE(runner.Cancel(*queued).ok());
  ASSERT_TRUE(runner.Cancel(*busy).ok());
  auto q = runner.Wait(*queued, kLong);
  auto b = runner.Wait(*busy, kLong);
  ASSERT_TRUE(q.ok() && b.ok());
  EXPECT_EQ(q->state, JobState::kCancelled);
  EXPECT_FALSE(q->started_us.has_value());
  EXPECT_FALSE(q->pid.has_value());
  EXPECT_EQ(b->state, JobState::kCancelled);
  std::this_thread::sleep_for(milliseconds(100));  // the worker is free: it must not run it
  EXPECT_FALSE(Env::Default()->Exists(tmp_.Path("ran")));
}

TEST_F(JobRunnerTest, CancelRacingANaturalExitRecordsExactlyOneOutcome) {
  JobRunner runner(db_.get(), Options());
  std::vector<int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    auto id = runner.Submit(Sh("race-" + std::to_string(i), i % 2 == 0 ? "exit 0" : "exit 3"));
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    Status s = runner.Cancel(*id);
    // OK, or refused because it already ended: never anything else.
    if (!s.ok()) {
      EXPECT_THAT(s.message(), HasSubstr("already ended")) << s.ToString();
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto job = runner.Wait(ids[i], kLong);
    ASSERT_TRUE(job.ok());
    const JobState natural = i % 2 == 0 ? JobState::kSucceeded : JobState::kFailed;
    EXPECT_TRUE(job->state == natural || job->state == JobState::kCancelled)
        << StateName(job->state);
    if (job->state == natural) {
      EXPECT_EQ(job->exit_code, i % 2 == 0 ? 0 : 3);
    }
  }
}

TEST_F(JobRunnerTest, ALauncherFaultEndsFailedWithTheReason) {
  FailingLauncher launcher;
  RunnerOptions o = Options();
  o.launcher = &launcher;
  JobRunner runner(db_.get(), o);
  auto id = runner.Submit(Sh("never", "exit 0"));
  ASSERT_TRUE(id.ok());
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_EQ(job->failure_reason,
            "could not start: injected: fork: Resource temporarily unavailable");
  EXPECT_FALSE(job->exit_code.has_value());
  EXPECT_FALSE(job->pid.has_value());
  EXPECT_EQ(launcher.calls.load(), 1);
}

TEST_F(JobRunnerTest, AMissingProgramEndsFailed) {
  JobRunner runner(db_.get(), Options());
  JobSpec spec = Sh("missing", "");
  spec.argv = {"/nonexistent/trainer", "--epochs", "3"};
  auto id = runner.Submit(spec);
  ASSERT_TRUE(id.ok());
  auto job = runner.Wait(*id, kLong);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_THAT(job->failure_reason.value_or(""), HasSubstr("could not start"));
  EXPECT_THAT(job->failure_reason.value_or(""), HasSubstr("/nonexistent/trainer"));
}

TEST_F(JobRunnerTest, NamesAreUniquePerKindAndSpecsAreChecked) {
  JobRunner runner(db_.get(), Options());
  ASSERT_TRUE(runner.Submit(Sh("train-1", "exit 0")).ok());
  auto dup = runner.Submit(Sh("train-1", "exit 0"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.status().message(), HasSubstr("train-1"));
  JobSpec other_kind = Sh("train-1", "exit 0");
  other_kind.kind = "training";
  EXPECT_TRUE(runner.Submit(other_kind).ok());
  JobSpec no_argv = Sh("empty", "");
  no_argv.argv.clear();
  EXPECT_EQ(runner.Submit(no_argv).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runner.Submit(Sh("", "exit 0")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(JobRunnerTest, ConcurrencyIsBounded) {
  JobRunner runner(db_.get(), Options(/*max_concurrent=*/2));
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    auto id = runner.Submit(Sh("c" + std::to_string(i), "sleep 0.3"));
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  int most_running = 0;
  for (int64_t id : ids) {
    while (true) {
      auto running = runner.List(Filter(std::nullopt, JobState::kRunning));
      ASSERT_TRUE(running.ok());
      most_running = std::max(most_running, static_cast<int>(running->size()));
      auto job = runner.Wait(id, milliseconds(20));
      ASSERT_TRUE(job.ok());
      if (IsTerminal(job->state)) break;
    }
  }
  EXPECT_LE(most_running, 2);
  // From the recorded times: never more than 2 at once, and 2 at once at some point.
  std::vector<Job> jobs;
  for (int64_t id : ids) {
    auto j = runner.Get(id);
    ASSERT_TRUE(j.ok());
    EXPECT_EQ(j->state, JobState::kSucceeded);
    jobs.push_back(*j);
  }
  int most = 0;
  for (const Job& a : jobs) {
    int overlapping = 0;
    for (const Job& b : jobs) {
      if (*b.started_us <= *a.started_us && *a.started_us < *b.ended_us) ++overlapping;
    }
    most = std::max(most, overlapping);
  }
  EXPECT_EQ(most, 2);
}

TEST_F(JobRunnerTest, WaitReturnsTheRunningRowAtTheTimeout) {
  JobRunner runner(db_.get(), Options());
  auto id = runner.Submit(Sh("long", "sleep 30"));
  ASSERT_TRUE(id.ok());
  WaitRunning(runner, *id);
  auto job = runner.Wait(*id, milliseconds(50));
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(runner.Wait(424242, milliseconds(10)).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(runner.Cancel(*id).ok());
}

TEST_F(JobRunnerTest, ListFilters) {
  JobRunner runner(db_.get(), Options());
  JobSpec a = Sh("a", "exit 0");
  a.owner = "alice";
  JobSpec b = Sh("b", "exit 1");
  b.kind = "training";
  b.owner = "bob";
  auto ida = runner.Submit(a);
  auto idb = runner.Submit(b);
  ASSERT_TRUE(ida.ok() && idb.ok());
  ASSERT_TRUE(runner.Wait(*ida, kLong).ok());
  ASSERT_TRUE(runner.Wait(*idb, kLong).ok());
  auto all = runner.List({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, *idb);  // newest first
  auto training = runner.List(Filter("training"));
  ASSERT_TRUE(training.ok());
  ASSERT_EQ(training->size(), 1u);
  EXPECT_EQ((*training)[0].name, "b");
  auto failed = runner.List(Filter(std::nullopt, JobState::kFailed));
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, *idb);
  auto alice = runner.List(Filter(std::nullopt, std::nullopt, "alice"));
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 1u);
  EXPECT_EQ((*alice)[0].id, *ida);
  auto one = runner.List(Filter(std::nullopt, std::nullopt, std::nullopt, 1));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST_F(JobRunnerTest, ShutdownInterruptsRunningAndQueuedJobs) {
  auto runner = std::make_unique<JobRunner>(db_.get(), Options(/*max_concurrent=*/1));
  auto running = runner->Submit(Sh("running", "sleep 30"));
  auto queued = runner->Submit(Sh("queued", "sleep 30"));
  ASSERT_TRUE(running.ok() && queued.ok());
  WaitRunning(*runner, *running);
  runner->Shutdown();
  EXPECT_EQ(runner->Submit(Sh("late", "exit 0")).status().code(), StatusCode::kInternal);
  runner.reset();
  JobStore store(db_.get());
  auto r = store.Get(*running);
  auto q = store.Get(*queued);
  ASSERT_TRUE(r.ok() && q.ok());
  EXPECT_EQ(r->state, JobState::kInterrupted);
  EXPECT_THAT(r->failure_reason.value_or(""), HasSubstr("shut down while the job ran"));
  EXPECT_EQ(q->state, JobState::kInterrupted);
  EXPECT_THAT(q->failure_reason.value_or(""), HasSubstr("before it started"));
}

TEST(JobStoreTest, TransitionsAreGuarded) {
  sagebox::testing::TempDir tmp("jobstore");
  auto db = OpenMigratedDb(tmp.Path("sagebox.db"));
  ASSERT_NE(db, nullptr);
  // Applying the migrations again is a no-op.
  auto migrations = Migrations();
  ASSERT_EQ(migrations.size(), 1u);
  EXPECT_EQ(migrations[0].component, "jobs");
  EXPECT_EQ(migrations[0].version, 1);
  ASSERT_TRUE(db::Migrate(*db, migrations).ok());

  JobStore store(db.get());
  auto job = store.Insert({"ocr", "doc-1", std::nullopt, {"ocr", "a.pdf"}, std::nullopt, "r", 5},
                          "/data/jobs");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->state, JobState::kPending);
  EXPECT_FALSE(job->owner.has_value());
  EXPECT_EQ(job->stdout_path, "/data/jobs/" + std::to_string(job->id) + "/stdout.log");
  const int64_t id = job->id;

  auto claimed = store.MarkRunning(id, 10);
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(*claimed);
  claimed = store.MarkRunning(id, 11);  // a second claim loses
  ASSERT_TRUE(claimed.ok());
  EXPECT_FALSE(*claimed);

  auto cancel = store.End(id, {JobState::kRunning},
                          {JobState::kCancelled, std::nullopt, SIGTERM, "cancelled", 20});
  ASSERT_TRUE(cancel.ok());
  EXPECT_TRUE(*cancel);
  // The natural exit that lost the race, and a late recovery, change nothing.
  auto exit = store.End(id, {JobState::kRunning}, {JobState::kSucceeded, 0, {}, {}, 21});
  ASSERT_TRUE(exit.ok());
  EXPECT_FALSE(*exit);
  auto recover = store.End(id, {JobState::kPending, JobState::kRunning},
                           {JobState::kInterrupted, {}, {}, "restart", 22});
  ASSERT_TRUE(recover.ok());
  EXPECT_FALSE(*recover);
  auto got = store.Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, JobState::kCancelled);
  EXPECT_EQ(got->signal, SIGTERM);
  EXPECT_EQ(got->started_us, 10);
  EXPECT_EQ(got->ended_us, 20);
  EXPECT_FALSE(store.End(id, {JobState::kRunning}, {JobState::kRunning, {}, {}, {}, 0}).ok());
  EXPECT_EQ(store.Get(id + 1).status().code(), StatusCode::kNotFound);
}

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState s :
       {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
        JobState::kCancelled, JobState::kTimedOut, JobState::kInterrupted}) {
    EXPECT_EQ(ParseState(StateName(s)), s);
  }
  EXPECT_EQ(StateName(JobState::kTimedOut), "timed_out");
  EXPECT_FALSE(ParseState("done").has_value());
  EXPECT_FALSE(IsTerminal(JobState::kRunning));
  EXPECT_TRUE(IsTerminal(JobState::kInterrupted));
}

TEST(RunnerIdentityTest, CurrentParsesBack) {
  RunnerIdentity me = RunnerIdentity::Current();
  EXPECT_FALSE(me.host.empty());
  EXPECT_FALSE(me.boot_id.empty());
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_GT(me.start_ticks, 0);
  EXPECT_EQ(RunnerIdentity::Parse(me.ToString()), me);
  EXPECT_FALSE(RunnerIdentity::Parse("host/boot/12").has_value());
  EXPECT_FALSE(RunnerIdentity::Parse("host/boot/x/1").has_value());
}

}  // namespace
}  // namespace sagebox::jobs
