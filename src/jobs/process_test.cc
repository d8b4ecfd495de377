#include "jobs/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "jobs/testing/helpers.h"

namespace sagebox::jobs {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;
using testing::ProcessGone;
using testing::ReadFile;
using testing::WaitForFile;

class ProcessTest : public ::testing::Test {
 protected:
  ProcessSpec Sh(const std::string& script) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.stdout_path = tmp_.Path("out.log");
    spec.stderr_path = tmp_.Path("err.log");
    spec.stop_grace = milliseconds(300);
    return spec;
  }
  std::unique_ptr<Process> Start(const ProcessSpec& spec) {
    auto p = launcher_.Launch(spec);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  sagebox::testing::TempDir tmp_{"process"};
  SpawnLauncher launcher_;
};

TEST_F(ProcessTest, ExitCodeAndBothStreamsInTheirFiles) {
  auto p = Start(Sh("echo to-out; echo to-err >&2; exit 3"));
  ASSERT_NE(p, nullptr);
  ProcessResult r = p->WaitForever();
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.timed_out || r.cancelled || r.killed);
  EXPECT_EQ(ReadFile(tmp_.Path("out.log")), "to-out\n");
  EXPECT_EQ(ReadFile(tmp_.Path("err.log")), "to-err\n");
  EXPECT_EQ(r.Describe(), "exit code 3");
  // Waiting again returns the same result: the child was reaped once.
  auto again = p->Wait(milliseconds(0));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->exit_code, 3);
}

TEST_F(ProcessTest, OneFileForBothStreamsAndALargeOutputNeverBlocks) {
  ProcessSpec spec =
      Sh("i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done; echo e >&2");
  spec.stderr_path = spec.stdout_path;
  auto p = Start(spec);
  ASSERT_NE(p, nullptr);
  auto r = p->Wait(milliseconds(20'000));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 0);
  std::string out = ReadFile(spec.stdout_path);
  EXPECT_THAT(out, HasSubstr("line-19999\ne\n"));
  EXPECT_GT(out.size(), 150'000u);  // far more than a pipe buffer
}

TEST_F(ProcessTest, EnvironmentAdditionsAndWorkingDirectory) {
  ASSERT_TRUE(Env::Default()->CreateDirs(tmp_.Path("work")).ok());
  ProcessSpec spec = Sh("echo \"$SAGEBOX_JOB_X|$HOME_IS_KEPT\"; pwd");
  spec.env = {{"SAGEBOX_JOB_X", "42"}, {"HOME_IS_KEPT", "yes"}};
  spec.working_dir = tmp_.Path("work");
  auto p = Start(spec);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->WaitForever().exit_code, 0);
  std::string out = ReadFile(spec.stdout_path);
  EXPECT_THAT(out, HasSubstr("42|yes\n"));
  EXPECT_THAT(out, HasSubstr("/work\n"));
}

TEST_F(ProcessTest, TerminatingSignalIsReported) {
  auto p = Start(Sh("kill -USR1 $$; sleep 5"));
  ASSERT_NE(p, nullptr);
  ProcessResult r = p->WaitForever();
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_EQ(r.signal, SIGUSR1);
  EXPECT_EQ(r.Describe(), "killed by signal USR1");
}

TEST_F(ProcessTest, ChildGetsDefaultSignalsEvenWhenTheServerIgnoresThem) {
  // Servers ignore SIGPIPE; a job must not inherit that.
  struct sigaction ignore {};
  struct sigaction old {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old), 0);
  auto p = Start(Sh("kill -PIPE $$; echo survived"));
  ASSERT_EQ(sigaction(SIGPIPE, &old, nullptr), 0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->WaitForever().signal, SIGPIPE);
  EXPECT_EQ(ReadFile(tmp_.Path("out.log")), "");
}

TEST_F(ProcessTest, TimeLimitStopsTheGroup) {
  ProcessSpec spec = Sh("sleep 20");
  spec.time_limit = milliseconds(200);
  auto t0 = steady_clock::now();
  auto p = Start(spec);
  ASSERT_NE(p, nullptr);
  ProcessResult r = p->WaitForever();
  auto took = steady_clock::now() - t0;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  EXPECT_FALSE(r.killed);  // sh and sleep die of SIGTERM
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(5000));
}

TEST_F(ProcessTest, WaitWithATimeoutReturnsNothingWhileRunning) {
  auto p = Start(Sh("sleep 20"));
  ASSERT_NE(p, nullptr);
  auto t0 = steady_clock::now();
  EXPECT_FALSE(p->Wait(milliseconds(100)).has_value());
  EXPECT_GE(steady_clock::now() - t0, milliseconds(100));
  EXPECT_TRUE(p->Cancel());
  ProcessResult r = p->WaitForever();
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(ProcessTest, ChildIgnoringSigtermIsKilledAfterTheGracePeriod) {
  // `trap "" TERM` is inherited by sleep: the whole group ignores SIGTERM.
  auto p = Start(Sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(WaitForFile(tmp_.Path("out.log"), "ready\n"));
  auto t0 = steady_clock::now();
  ASSERT_TRUE(p->Cancel());
  // Still alive during the grace period.
  EXPECT_FALSE(p->Wait(milliseconds(100)).has_value());
  ProcessResult r = p->WaitForever();
  auto took = steady_clock::now() - t0;
  EXPECT_TRUE(r.cancelled);
  EXPECT_TRUE(r.killed);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(5000));
  EXPECT_THAT(r.Describe(), HasSubstr("SIGKILL after the grace period"));
}

TEST_F(ProcessTest, CancelKillsGrandchildrenInTheGroup) {
  const std::string pidfile = tmp_.Path("grandchild.pid");
  auto p = Start(Sh("sleep 100 & echo $! > " + pidfile + "; wait"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(WaitForFile(pidfile, "\n"));
  pid_t grandchild = std::stoi(ReadFile(pidfile));
  ASSERT_GT(grandchild, 0);
  EXPECT_FALSE(ProcessGone(grandchild, milliseconds(0)));
  ASSERT_TRUE(p->Cancel());
  ProcessResult r = p->WaitForever();
  EXPECT_TRUE(r.cancelled);
  EXPECT_TRUE(ProcessGone(grandchild, milliseconds(3000)));
}

TEST_F(ProcessTest, HelpersLeftBehindByAnExitingLeaderAreKilled) {
  const std::string pidfile = tmp_.Path("helper.pid");
  auto p = Start(Sh("sleep 100 & echo $! > " + pidfile + "; exit 0"));
  ASSERT_NE(p, nullptr);
  ProcessResult r = p->WaitForever();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.cancelled);
  pid_t helper = std::stoi(ReadFile(pidfile));
  EXPECT_TRUE(ProcessGone(helper, milliseconds(3000)));
}

TEST_F(ProcessTest, CancelAfterTheChildExitedChangesNothing) {
  auto p = Start(Sh("exit 0"));
  ASSERT_NE(p, nullptr);
  // Let it exit without reaping it: Cancel must see the exit, not signal a zombie's group.
  ASSERT_TRUE(testing::WaitUntil([&] { return !ProcessRunning(p->pid()); }, milliseconds(3000)));
  EXPECT_FALSE(p->Cancel());
  ProcessResult r = p->WaitForever();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.cancelled);
  EXPECT_FALSE(p->Cancel());
}

TEST_F(ProcessTest, CancelFromAnotherThreadWakesTheWaiter) {
  auto p = Start(Sh("sleep 20"));
  ASSERT_NE(p, nullptr);
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(p->Cancel());
    EXPECT_TRUE(p->Cancel());  // a second cancel: already stopping
  });
  auto t0 = steady_clock::now();
  ProcessResult r = p->WaitForever();
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_LT(steady_clock::now() - t0, milliseconds(5000));
}

TEST_F(ProcessTest, DestroyingARunningProcessKillsAndReapsIt) {
  const std::string pidfile = tmp_.Path("grandchild.pid");
  auto p = Start(Sh("sleep 100 & echo $! > " + pidfile + "; wait"));
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(WaitForFile(pidfile, "\n"));
  pid_t child = p->pid();
  pid_t grandchild = std::stoi(ReadFile(pidfile));
  p.reset();
  // Reaped: no longer our child at all (not even a zombie).
  errno = 0;
  EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(ProcessGone(grandchild, milliseconds(3000)));
}

TEST_F(ProcessTest, StartAndEndTimesComeFromTheClock) {
  std::atomic<int64_t> now{1'700'000'000'000'000};
  SpawnLauncher launcher([&] { return now.fetch_add(1'000'000); });
  auto p = launcher.Launch(Sh("exit 0"));
  ASSERT_TRUE(p.ok());
  ProcessResult r = (*p)->WaitForever();
  EXPECT_EQ(r.started_us, 1'700'000'000'000'000);
  EXPECT_EQ(r.ended_us, 1'700'000'001'000'000);
}

TEST_F(ProcessTest, LaunchFailuresAreStatuses) {
  ProcessSpec missing = Sh("");
  missing.argv = {"/nonexistent/program"};
  auto r = launcher_.Launch(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("/nonexistent/program"));

  ProcessSpec empty = Sh("");
  empty.argv.clear();
  EXPECT_EQ(launcher_.Launch(empty).status().code(), StatusCode::kInvalidArgument);

  ProcessSpec bad_log = Sh("exit 0");
  bad_log.stdout_path = tmp_.Path("no/such/dir/out.log");
  r = launcher_.Launch(bad_log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr("stdout log"));

  ProcessSpec bad_dir = Sh("exit 0");
  bad_dir.working_dir = tmp_.Path("missing");
  r = launcher_.Launch(bad_dir);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("working directory"));
}

TEST(ProcessHelpers, NamesAndStartTicks) {
  EXPECT_EQ(SignalName(SIGTERM), "TERM");
  EXPECT_EQ(SignalName(SIGKILL), "KILL");
  EXPECT_EQ(ErrnoMessage(ENOENT), "No such file or directory");
  auto self = ProcessStartTicks(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_GT(*self, 0);
  EXPECT_EQ(ProcessStartTicks(::getpid()), self);  // stable: it identifies the process
  EXPECT_TRUE(ProcessRunning(::getpid()));
  EXPECT_TRUE(ProcessRunning(::getpid(), *self));
  EXPECT_FALSE(ProcessRunning(::getpid(), *self + 1));  // a reused pid is another process
}

}  // namespace
}  // namespace sagebox::jobs
