// The Slurm executor against a simulated cluster (a CommandRunner answering sbatch, squeue
// and scancel as Slurm 23 would): gathering a fan-out into one array with its %K throttle,
// partial batches after the gather window, retries as arrays of only the failed indices,
// cancelling, and sbatch refusing. The real cluster is exercised by
// tests/pipeline/slurm_e2e.sh.
#include "pipeline/runtime/slurm_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "pipeline/slurm/array_indices.h"

namespace sagebox::pipeline::runtime {
namespace {

using nlohmann::json;
using slurm::CommandRequest;
using slurm::CommandResult;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// A cluster in memory. Submitted tasks are PENDING; each squeue first moves every PENDING
// task of an array to its outcome (FAILED for the indices in `fail`, else COMPLETED) unless
// `hold` is set, then reports every task.
class FakeCluster : public slurm::CommandRunner {
 public:
  std::set<int> fail;
  bool hold = false;
  bool refuse_sbatch = false;
  // As Slurm does: a pending task that is cancelled leaves no record of its own.
  bool forget_cancelled_pending = false;

  StatusOr<CommandResult> Run(const CommandRequest& r) override {
    std::lock_guard lock(mu_);
    const std::string& cmd = r.argv.at(0);
    if (cmd == "sbatch") {
      if (refuse_sbatch) return CommandResult{1, "", "sbatch: error: invalid partition"};
      std::string spec;
      for (const auto& a : r.argv) {
        if (a.rfind("--array=", 0) == 0) spec = a.substr(8);
      }
      auto indices = slurm::ExpandIndices(spec);
      if (!indices.ok()) return CommandResult{1, "", "bad --array"};
      const int64_t id = next_id_++;
      for (int i : *indices) tasks_[id][i] = "PENDING";
      arrays_.push_back(spec);
      scripts_.push_back(r.stdin_text);
      return CommandResult{0, std::to_string(id) + "\n", ""};
    }
    if (cmd == "squeue") {
      json jobs = json::array();
      for (auto& [id, tasks] : tasks_) {
        if (forgotten_.count(id) != 0) {
          jobs.push_back({{"job_id", id},
                          {"array_job_id", id},
                          {"array_task_id", nullptr},
                          {"array_task_string", ""},
                          {"job_state", {"CANCELLED"}}});
        }
        for (auto& [index, state] : tasks) {
          if (state == "PENDING" && !hold) state = fail.count(index) ? "FAILED" : "COMPLETED";
          json t = {{"job_id", id * 1000 + index},
                    {"array_job_id", id},
                    {"array_task_id", index},
                    {"array_task_string", ""},
                    {"job_state", json::array({state})},
                    {"state_reason", "None"}};
          if (state == "FAILED" || state == "COMPLETED") {
            t["exit_code"] = {
                {"status", {"EXITED"}},
                {"return_code", {{"set", true}, {"number", state == "FAILED" ? 5 : 0}}}};
          }
          jobs.push_back(t);
        }
      }
      return CommandResult{0, json{{"jobs", jobs}, {"errors", json::array()}}.dump(), ""};
    }
    if (cmd == "scancel") {
      cancels_.push_back(r.argv.at(1));
      const std::string target = r.argv.at(1);
      const auto us = target.find('_');
      const int64_t id = std::stoll(target.substr(0, us));
      auto indices = slurm::ExpandIndices(target.substr(us + 1));
      if (indices.ok()) {
        for (int i : *indices) {
          if (forget_cancelled_pending && tasks_[id][i] == "PENDING") {
            tasks_[id].erase(i);
            forgotten_.insert(id);
          } else {
            tasks_[id][i] = "CANCELLED";
          }
        }
      }
      return CommandResult{0, "", ""};
    }
    return CommandResult{1, "", "unexpected command " + cmd};
  }

  std::vector<std::string> arrays() const {
    std::lock_guard lock(mu_);
    return arrays_;
  }
  std::vector<std::string> scripts() const {
    std::lock_guard lock(mu_);
    return scripts_;
  }
  std::vector<std::string> cancels() const {
    std::lock_guard lock(mu_);
    return cancels_;
  }

 private:
  mutable std::mutex mu_;
  int64_t next_id_ = 41;
  std::map<int64_t, std::map<int, std::string>> tasks_;
  std::set<int64_t> forgotten_;  // arrays with a cancelled pending remainder
  std::vector<std::string> arrays_, scripts_, cancels_;
};

struct Fixture {
  FakeCluster cluster;
  slurm::SlurmClient client{&cluster, [](milliseconds) {}};
  SlurmExecutorOptions options;
  std::unique_ptr<SlurmJobExecutor> executor;

  Fixture() {
    options.exec_command = {"/usr/bin/sagebox", "--data", "/srv/d", "job", "exec"};
    options.gather = milliseconds(300);
    options.poll = milliseconds(10);
  }
  SlurmJobExecutor& Get() {
    if (!executor) executor = std::make_unique<SlurmJobExecutor>(&client, options);
    return *executor;
  }
  // Runs the tasks `indices` of `batch` (size, %K) on one thread each; their results by index.
  std::map<int64_t, StatusOr<std::string>> RunAll(const std::string& batch,
                                                  const std::vector<int64_t>& indices, int64_t size,
                                                  int64_t max_concurrency, int64_t attempt = 1) {
    SlurmJobExecutor& ex = Get();
    std::mutex mu;
    std::map<int64_t, StatusOr<std::string>> out;
    std::vector<std::thread> threads;
    for (int64_t i : indices) {
      threads.emplace_back([&, i] {
        ExecutorJob job;
        job.name = "cand-" + std::to_string(i);
        job.batch = batch;
        job.attempt = attempt;
        job.index = i;
        job.batch_size = size;
        job.max_concurrency = max_concurrency;
        auto token = engine::CancelToken::Make();
        auto r = ex.Run(job, *token);
        std::lock_guard lock(mu);
        out.emplace(i, std::move(r));
      });
    }
    for (auto& t : threads) t.join();
    return out;
  }
};

TEST(SlurmExecutor, AWholeFanOutIsOneArrayWithTheMapsThrottle) {
  Fixture f;
  f.cluster.fail = {3};
  auto out = f.RunAll("exec#0/Stages/0/Candidates/Train", {0, 1, 2, 3, 4, 5}, 6, 2);
  EXPECT_THAT(f.cluster.arrays(), ::testing::ElementsAre("0-5%2"));
  ASSERT_EQ(out.size(), 6u);
  for (auto& [i, r] : out) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*r, i == 3 ? "Slurm task 41_3 ended FAILED (exit code 5)"
                         : "Slurm task 41_" + std::to_string(i) + " ended COMPLETED (exit code 0)");
  }
  // Every index runs its own job through `sagebox job exec KIND NAME`.
  const std::string script = f.cluster.scripts().at(0);
  EXPECT_THAT(script,
              HasSubstr("0) exec '/usr/bin/sagebox' '--data' '/srv/d' 'job' 'exec' 'training' "
                        "'cand-0' ;;"));
  EXPECT_THAT(script, HasSubstr("5) exec '/usr/bin/sagebox' '--data' '/srv/d' 'job' 'exec' "
                                "'training' 'cand-5' ;;"));
  EXPECT_THAT(f.Get().submitted(), ::testing::ElementsAre("41 [0-5%2]"));
}

TEST(SlurmExecutor, RetriesOfTheFailedIterationsAreAnArrayOfOnlyThoseIndices) {
  Fixture f;
  f.cluster.fail = {2, 5};
  auto first = f.RunAll("x/M/Train", {0, 1, 2, 3, 4, 5, 6}, 7, 3);
  EXPECT_THAT(*first.at(2), HasSubstr("FAILED"));
  f.cluster.fail = {};
  // Attempt 2: only the two failed iterations come back, and that completes the batch.
  f.options.retry_gather = std::chrono::seconds(60);
  auto second = f.RunAll("x/M/Train", {2, 5}, 7, 3, 2);
  EXPECT_THAT(f.cluster.arrays(), ::testing::ElementsAre("0-6%3", "2,5%3"));
  EXPECT_EQ(*second.at(5), "Slurm task 42_5 ended COMPLETED (exit code 0)");
}

// Retries arrive on their own schedules: one retry waits for the other failed index (while
// attempt 1 still runs) so both go in one array; a retry batch that cannot fill (a Catch took
// the other) is submitted at retry_gather.
TEST(SlurmExecutor, ARetryBatchWaitsForTheOtherFailuresOfItsAttempt) {
  Fixture f;
  f.cluster.fail = {1, 3};
  f.options.retry_gather = std::chrono::seconds(60);
  auto first = f.RunAll("x/M/T", {0, 1, 2, 3}, 4, 0);
  std::thread late([&] {
    std::this_thread::sleep_for(milliseconds(700));  // longer than `gather`
    f.RunAll("x/M/T", {3}, 4, 0, 2);
  });
  f.RunAll("x/M/T", {1}, 4, 0, 2);
  late.join();
  EXPECT_THAT(f.cluster.arrays(), ::testing::ElementsAre("0-3", "1,3"));

  Fixture g;
  g.cluster.fail = {0, 1};
  g.options.retry_gather = milliseconds(400);
  g.RunAll("x/M/T", {0, 1}, 2, 0);
  g.RunAll("x/M/T", {1}, 2, 0, 2);  // index 0's error was caught: it never comes
  EXPECT_THAT(g.cluster.arrays(), ::testing::ElementsAre("0-1", "1"));
}

TEST(SlurmExecutor, ATaskOutsideAMapIsAnArrayOfOne) {
  Fixture f;
  auto out = f.RunAll("x/Features", {0}, 1, 0);
  EXPECT_THAT(f.cluster.arrays(), ::testing::ElementsAre("0"));
  EXPECT_TRUE(out.at(0).ok());
}

// Runs task `index` of a batch of one on a held cluster and cancels it once its array is in.
StatusOr<std::string> RunAndCancelAfterSubmit(Fixture& f, int64_t index) {
  f.cluster.hold = true;
  ExecutorJob job;
  job.name = "pending";
  job.batch = "x/M/T";
  job.index = index;
  auto token = engine::CancelToken::Make();
  std::thread canceller([&] {
    while (f.Get().submitted().empty()) std::this_thread::sleep_for(milliseconds(5));
    std::this_thread::sleep_for(milliseconds(50));
    token->Cancel("stop");
  });
  auto r = f.Get().Run(job, *token);
  canceller.join();
  return r;
}

TEST(SlurmExecutor, CancellingAPendingTaskScancelsOnlyItsIndex) {
  Fixture f;
  auto r = RunAndCancelAfterSubmit(f, 4);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "Slurm task 41_4 ended CANCELLED");
  EXPECT_THAT(f.cluster.cancels(), ::testing::ElementsAre("41_[4]"));
}

// Real Slurm drops a cancelled pending task from squeue (the array keeps one CANCELLED record
// with an empty task list): the waiting task must still end.
TEST(SlurmExecutor, ACancelledPendingTaskThatLeavesNoRecordStillEnds) {
  Fixture f;
  f.cluster.forget_cancelled_pending = true;
  auto r = RunAndCancelAfterSubmit(f, 2);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "Slurm task 41_2 was cancelled before it started");
}

TEST(SlurmExecutor, ATaskCancelledWhileGatheringIsNeverSubmitted) {
  Fixture f;
  f.options.gather = std::chrono::seconds(30);
  ExecutorJob job;
  job.name = "never";
  job.batch = "x/M/T";
  job.index = 0;
  job.batch_size = 5;  // the other four never come
  auto token = engine::CancelToken::Make();
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(50));
    token->Cancel("stop");
  });
  auto r = f.Get().Run(job, *token);
  canceller.join();
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, HasSubstr("cancelled before its Slurm array was submitted"));
  EXPECT_TRUE(f.cluster.arrays().empty());
}

TEST(SlurmExecutor, SbatchRefusingFailsEveryTaskOfTheBatchWithItsMessage) {
  Fixture f;
  f.cluster.refuse_sbatch = true;
  auto out = f.RunAll("x/M/T", {0, 1, 2}, 3, 0);
  for (auto& [i, r] : out) {
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("invalid partition"));
  }
}

}  // namespace
}  // namespace sagebox::pipeline::runtime
