// The Slurm client against a real cluster: the one-node test cluster that the CTest fixture
// `slurm` starts (scripts/test-slurm.sh) and names in $SAGEBOX_TEST_SLURM (its slurm.conf).
// Without it these cases skip, or fail when $CI is set: CI must run them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pipeline/slurm/slurm_client.h"

namespace sagebox::pipeline::slurm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;

// Skips (or fails under CI) when the cluster is not there; otherwise sets `conf`.
#define REQUIRE_CLUSTER(conf)                                                            \
  do {                                                                                   \
    const char* env = std::getenv("SAGEBOX_TEST_SLURM"); /* NOLINT */                    \
    if (env == nullptr || *env == '\0') {                                                \
      if (std::getenv("CI") != nullptr) { /* NOLINT */                                   \
        FAIL() << "SAGEBOX_TEST_SLURM is not set and CI is: the Slurm cases must run "   \
                  "(ctest starts the cluster with the `slurm` fixture)";                 \
      }                                                                                  \
      GTEST_SKIP() << "SAGEBOX_TEST_SLURM not set (scripts/test-slurm.sh start; export " \
                      "SAGEBOX_TEST_SLURM=$(scripts/test-slurm.sh conf))";               \
    }                                                                                    \
    ASSERT_TRUE(std::filesystem::exists(env))                                            \
        << "SAGEBOX_TEST_SLURM names " << env << ", which does not exist";               \
    conf = env;                                                                          \
  } while (0)

class SlurmClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string conf;
    REQUIRE_CLUSTER(conf);
    runner_ = std::make_unique<SpawnCommandRunner>(EnvList{{"SLURM_CONF", conf}});
    client_ = std::make_unique<SlurmClient>(runner_.get());
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sagebox-slurm-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Lines in `file` under the work folder (0 when it does not exist).
  int Lines(const std::string& file) const {
    std::ifstream in(dir_ + "/" + file);
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  // Polls until `pred(status)` holds; false after `timeout`.
  template <typename Pred>
  bool PollUntil(int64_t job, Pred pred, milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      auto s = client_->Status(job);
      if (s.ok() && pred(*s)) return true;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return false;
  }

  std::unique_ptr<SpawnCommandRunner> runner_;
  std::unique_ptr<SlurmClient> client_;
  std::string dir_;
};

TEST_F(SlurmClusterTest, ArrayWithThrottleFailureAndResubmitOfOnlyTheFailedIndex) {
  ArraySubmission s;
  s.job_name = "sagebox-test-array";
  s.working_dir = dir_;
  s.max_concurrency = 2;
  s.stdout_path = dir_ + "/%A_%a.out";
  s.env = {{"SAGEBOX_TEST_MARK", "from-env"}};
  for (int i = 0; i < 6; ++i) {
    // Each run appends a line to runs_<i>; index 3 fails until the marker file exists.
    std::string idx = std::to_string(i);
    s.argv_per_index.push_back({i,
                                {"/bin/sh", "-c",
                                 "echo \"$SAGEBOX_TEST_MARK\" >> runs_" + idx + "; sleep 2; if [ " +
                                     idx + " = 3 ] && [ ! -e fixed ]; then exit 7; fi"}});
  }
  auto job = client_->SubmitArray(s);
  ASSERT_TRUE(job.ok()) << job.status().message();

  // While it runs, the tasks beyond the first two wait for the array's throttle.
  bool throttled = PollUntil(
      *job,
      [](const ArrayStatus& st) {
        for (const auto& t : st.tasks) {
          if (t.state == TaskState::kPending && t.reason == "JobArrayTaskLimit") return true;
        }
        return false;
      },
      seconds(60));
  EXPECT_TRUE(throttled) << "no task ever waited with reason JobArrayTaskLimit";

  auto done = client_->Wait(*job, milliseconds(500), seconds(240));
  ASSERT_TRUE(done.ok()) << done.status().message();
  ASSERT_FALSE(done->timed_out);
  const ArrayStatus& st = done->status;
  ASSERT_EQ(st.tasks.size(), 6u);
  for (const auto& t : st.tasks) {
    if (t.index == 3) {
      EXPECT_EQ(t.state, TaskState::kFailed);
      EXPECT_EQ(t.exit_code, 7);
    } else {
      EXPECT_EQ(t.state, TaskState::kCompleted) << t.index;
      EXPECT_EQ(t.exit_code, 0) << t.index;
    }
    ASSERT_TRUE(t.start_time && t.end_time) << t.index;
    EXPECT_GE(*t.end_time - *t.start_time, 1) << t.index;
  }
  // At most two at once, from Slurm's own start/end times (whole seconds: a task that ends
  // in the second the next one starts does not overlap it).
  int most = 0;
  for (const auto& a : st.tasks) {
    int at_once = 0;
    for (const auto& b : st.tasks) {
      if (*b.start_time <= *a.start_time && *a.start_time < *b.end_time) ++at_once;
    }
    most = std::max(most, at_once);
  }
  EXPECT_LE(most, 2);
  EXPECT_GE(most, 1);
  EXPECT_THAT(st.FailedIndices(), ElementsAre(3));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Lines("runs_" + std::to_string(i)), 1) << i;
  EXPECT_EQ(Lines(std::to_string(*job) + "_0.out"), 0);  // the log exists (empty)
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/" + std::to_string(*job) + "_0.out"));

  // Fix index 3 and resubmit only it.
  std::ofstream(dir_ + "/fixed") << "ok\n";
  auto again = client_->ResubmitFailed(s, st);
  ASSERT_TRUE(again.ok()) << again.status().message();
  auto redone = client_->Wait(*again, milliseconds(500), seconds(120));
  ASSERT_TRUE(redone.ok()) << redone.status().message();
  ASSERT_FALSE(redone->timed_out);
  ASSERT_EQ(redone->status.tasks.size(), 1u);
  EXPECT_EQ(redone->status.tasks[0].index, 3);
  EXPECT_EQ(redone->status.tasks[0].state, TaskState::kCompleted);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Lines("runs_" + std::to_string(i)), i == 3 ? 2 : 1) << i;
  std::ifstream in(dir_ + "/runs_3");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "from-env");  // the env reached the task through sbatch
}

TEST_F(SlurmClusterTest, CancelSleepingArray) {
  ArraySubmission s;
  s.job_name = "sagebox-test-cancel";
  s.working_dir = dir_;
  s.stdout_path = "/dev/null";
  s.max_concurrency = 2;
  s.indices = {0, 1, 2};
  s.script = "#!/bin/sh\nsleep 300\n";
  auto job = client_->SubmitArray(s);
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_TRUE(PollUntil(
      *job,
      [](const ArrayStatus& st) {
        return std::any_of(st.tasks.begin(), st.tasks.end(),
                           [](const auto& t) { return t.state == TaskState::kRunning; });
      },
      seconds(60)));
  ASSERT_TRUE(client_->Cancel(*job).ok());
  auto done = client_->Wait(*job, milliseconds(300), seconds(60));
  ASSERT_TRUE(done.ok()) << done.status().message();
  ASSERT_FALSE(done->timed_out);
  ASSERT_EQ(done->status.tasks.size(), 3u);
  for (const auto& t : done->status.tasks) EXPECT_EQ(t.state, TaskState::kCancelled) << t.index;
  EXPECT_TRUE(done->status.FailedIndices().empty());
}

TEST_F(SlurmClusterTest, TaskOverItsTimeLimitEndsTimeout) {
  ArraySubmission s;
  s.job_name = "sagebox-test-timeout";
  s.working_dir = dir_;
  s.stdout_path = "/dev/null";
  s.indices = {0};
  s.script = "#!/bin/sh\nsleep 600\n";
  s.time_limit = seconds(1);  // Slurm's smallest limit is one minute
  auto job = client_->SubmitArray(s);
  ASSERT_TRUE(job.ok()) << job.status().message();
  // slurmctld checks limits every 30 s, so the end comes 60 to 90 s after the start.
  auto done = client_->Wait(*job, seconds(1), seconds(200));
  ASSERT_TRUE(done.ok()) << done.status().message();
  ASSERT_FALSE(done->timed_out);
  ASSERT_EQ(done->status.tasks.size(), 1u);
  const TaskStatus& t = done->status.tasks[0];
  EXPECT_EQ(t.state, TaskState::kTimeout);
  ASSERT_TRUE(t.start_time && t.end_time);
  EXPECT_GE(*t.end_time - *t.start_time, 60);
  EXPECT_THAT(done->status.FailedIndices(), ElementsAre(0));
}

}  // namespace
}  // namespace sagebox::pipeline::slurm
