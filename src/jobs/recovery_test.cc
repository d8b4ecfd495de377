// Restart recovery: jobs left pending or running by a server that died.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/testing/temp_dir.h"
#include "db/database.h"
#include "jobs/job_runner.h"
#include "jobs/job_store.h"
#include "jobs/testing/helpers.h"

namespace sagebox::jobs {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using testing::OpenMigratedDb;
using testing::ProcessGone;
using testing::ReadFile;
using testing::WaitForFile;
using testing::WaitUntil;

JobSpec Spec(std::string kind, std::string name, std::vector<std::string> argv) {
  JobSpec spec;
  spec.kind = std::move(kind);
  spec.name = std::move(name);
  spec.argv = std::move(argv);
  return spec;
}

// A pid that no longer exists: a child started and reaped.
pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenMigratedDb(db_path_);
    ASSERT_NE(db_, nullptr);
  }

  RunnerOptions Options() {
    RunnerOptions o;
    o.log_root = tmp_.Path("jobs");
    o.max_concurrent = 1;
    o.stop_grace = milliseconds(300);
    return o;
  }

  // A job row as a runner with identity `owner` leaves it: pending, or running with `pid`.
  int64_t Leave(const std::string& name, const RunnerIdentity& owner, bool running,
                std::optional<pid_t> pid = std::nullopt) {
    JobStore store(db_.get());
    auto job =
        store.Insert({"training", name, std::nullopt, {"train"}, std::nullopt, owner.ToString(), 1},
                     tmp_.Path("jobs"));
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    if (running) {
      EXPECT_TRUE(*store.MarkRunning(job->id, 2));
      if (pid) {
        EXPECT_TRUE(store.RecordProcess(job->id, *pid, ProcessStartTicks(*pid)).ok());
      }
    }
    return job->id;
  }

  Job Row(int64_t id) {
    auto j = JobStore(db_.get()).Get(id);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : Job{};
  }

  sagebox::testing::TempDir tmp_{"recovery"};
  const std::string db_path_ = tmp_.Path("sagebox.db");
  std::unique_ptr<db::Database> db_;
};

TEST_F(RecoveryTest, OnlyJobsOfDeadRunnersOnThisHostAreInterrupted) {
  const RunnerIdentity me = RunnerIdentity::Current();
  RunnerIdentity dead = me;
  dead.pid = DeadPid();
  RunnerIdentity old_boot = me;
  old_boot.boot_id = "00000000-0000-0000-0000-000000000000";
  RunnerIdentity other_host = me;
  other_host.host = me.host + "-other";
  other_host.pid = 1;
  // A live server process on this host: a child of ours, with its real start time.
  SpawnLauncher launcher;
  ProcessSpec sleeper;
  sleeper.argv = {"sleep", "30"};
  auto live_proc = launcher.Launch(sleeper);
  ASSERT_TRUE(live_proc.ok());
  RunnerIdentity live = me;
  live.pid = (*live_proc)->pid();
  live.start_ticks = *ProcessStartTicks((*live_proc)->pid());
  // The same pid as a live process but another start time: the pid was reused.
  RunnerIdentity reused = live;
  reused.start_ticks = live.start_ticks - 1;

  const int64_t dead_running = Leave("dead-running", dead, true);
  const int64_t dead_pending = Leave("dead-pending", dead, false);
  const int64_t rebooted = Leave("rebooted", old_boot, true);
  const int64_t elsewhere = Leave("elsewhere", other_host, true);
  const int64_t alive = Leave("alive", live, true);
  const int64_t reused_pid = Leave("reused", reused, true);

  JobRunner runner(db_.get(), Options());
  auto marked = runner.RecoverInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 4);
  for (int64_t id : {dead_running, dead_pending, rebooted, reused_pid}) {
    Job j = Row(id);
    EXPECT_EQ(j.state, JobState::kInterrupted) << j.name;
    EXPECT_TRUE(j.ended_us.has_value());
    EXPECT_FALSE(j.exit_code.has_value());
  }
  EXPECT_THAT(Row(dead_running).failure_reason.value_or(""),
              HasSubstr("server that ran the job (pid " + std::to_string(dead.pid) +
                        ") stopped while the job was running"));
  EXPECT_THAT(Row(dead_pending).failure_reason.value_or(""), HasSubstr("was pending"));
  EXPECT_THAT(Row(rebooted).failure_reason.value_or(""), HasSubstr("machine restarted"));
  EXPECT_EQ(Row(elsewhere).state, JobState::kRunning);
  EXPECT_EQ(Row(alive).state, JobState::kRunning);

  // Once that server is gone, its job is recovered too; a second pass finds nothing more.
  ASSERT_TRUE((*live_proc)->Cancel());
  (*live_proc)->WaitForever();
  marked = runner.RecoverInterrupted();
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ(Row(alive).state, JobState::kInterrupted);
  EXPECT_EQ(*runner.RecoverInterrupted(), 0);
  EXPECT_EQ(Row(elsewhere).state, JobState::kRunning);
}

TEST_F(RecoveryTest, TheLiveRunnersOwnJobsAreLeftAlone) {
  JobRunner runner(db_.get(), Options());
  auto id = runner.Submit(Spec("processing", "mine", {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(
      WaitUntil([&] { return runner.Get(*id)->state == JobState::kRunning; }, milliseconds(5000)));
  // A second runner in this same live process (as a second server on the host would be).
  RunnerOptions o = Options();
  JobRunner second(db_.get(), o);
  EXPECT_EQ(*second.RecoverInterrupted(), 0);
  EXPECT_EQ(*runner.RecoverInterrupted(), 0);
  EXPECT_EQ(runner.Get(*id)->state, JobState::kRunning);
  ASSERT_TRUE(runner.Cancel(*id).ok());
  EXPECT_EQ(runner.Wait(*id, milliseconds(10'000))->state, JobState::kCancelled);
}

// The server that runs a job is killed (kill -9) mid-run; the next server start marks the job
// interrupted (never succeeded) and kills the job's orphaned process group.
TEST_F(RecoveryTest, AJobKilledMidRunByARestartIsInterruptedAndItsGroupKilled) {
  const std::string gc_pidfile = tmp_.Path("grandchild.pid");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    // The first server: its own database handle and runner; reports the job id, then waits
    // to be killed. Never returns into the test framework.
    ::close(ready[0]);
    auto db = OpenMigratedDb(db_path_);
    if (db == nullptr) ::_exit(10);
    JobRunner runner(db.get(), Options());
    auto id = runner.Submit(
        Spec("training", "long-training",
             {"/bin/sh", "-c", "sleep 100 & echo $! > " + gc_pidfile + "; sleep 30"}));
    if (!id.ok()) ::_exit(11);
    bool started = WaitUntil(
        [&] {
          auto j = runner.Get(*id);
          return j.ok() && j->pid.has_value();
        },
        milliseconds(5000));
    if (!started) ::_exit(12);
    (void)!::write(ready[1], &*id, sizeof(int64_t));
    while (true) ::pause();
  }
  ::close(ready[1]);
  int64_t id = 0;
  ssize_t got = ::read(ready[0], &id, sizeof id);
  ::close(ready[0]);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof id)) << "the owner process did not start the job";
  ASSERT_TRUE(WaitForFile(gc_pidfile, "\n"));
  const pid_t grandchild = std::stoi(ReadFile(gc_pidfile));

  ASSERT_EQ(::kill(owner, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(owner, &wstatus, 0), owner);
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  // The row still says running, and the job's processes outlived their server.
  Job before = Row(id);
  ASSERT_EQ(before.state, JobState::kRunning);
  ASSERT_TRUE(before.pid.has_value());
  const auto job_pid = static_cast<pid_t>(*before.pid);
  EXPECT_TRUE(ProcessRunning(job_pid));
  EXPECT_TRUE(ProcessRunning(grandchild));

  // The restarted server.
  JobRunner runner(db_.get(), Options());
  auto marked = runner.RecoverInterrupted();
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 1);
  Job after = Row(id);
  EXPECT_EQ(after.state, JobState::kInterrupted);
  EXPECT_NE(after.state, JobState::kSucceeded);
  EXPECT_FALSE(after.exit_code.has_value());
  EXPECT_THAT(after.failure_reason.value_or(""),
              HasSubstr("server that ran the job (pid " + std::to_string(owner) + ") stopped"));
  EXPECT_THAT(after.failure_reason.value_or(""),
              HasSubstr("process group " + std::to_string(job_pid) + " was killed"));
  EXPECT_TRUE(ProcessGone(job_pid, milliseconds(3000)));
  EXPECT_TRUE(ProcessGone(grandchild, milliseconds(3000)));
  // A later natural end cannot be recorded over it: the row is terminal.
  EXPECT_FALSE(*JobStore(db_.get()).End(id, {JobState::kRunning},
                                        {JobState::kSucceeded, 0, std::nullopt, std::nullopt, 0}));
  EXPECT_EQ(Row(id).state, JobState::kInterrupted);
}

}  // namespace
}  // namespace sagebox::jobs
