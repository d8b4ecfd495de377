// slurm_executor.h: the Slurm executor. A pipeline's jobs run as Slurm array tasks instead of
// child processes of the server: every task of one Map fan-out (one Task state, one Map run,
// one attempt) becomes ONE job array, `sbatch --array=0-N%K`, so Slurm itself enforces the
// Map's MaxConcurrency (the %K throttle) and queues the work with the cluster's other jobs.
// A Retry of failed iterations is attempt 2 of their Task: those iterations alone form the
// next array, under their own indices (`--array=3,7`), so only the failed indices are
// resubmitted.
//
// Each array task runs `sagebox job exec KIND NAME` (the exec command is configurable), which
// starts the job the dispatcher recorded (JobService::StartDeferred) on the node and records
// its end in the shared database. So the data folder and the database must be reachable from
// the nodes: on a one-node cluster they are; on a real cluster use PostgreSQL and a shared
// file system.
//
// Gathering: the engine hands over the tasks of a fan-out one by one, from one thread per
// iteration (ExecuteOptions::fan_out_width). A batch is submitted when all of its
// `batch_size` tasks have arrived, or when `gather` has passed since the last one arrived
// (iterations that were resumed, caught or routed elsewhere never come). A retry batch
// (attempt N > 1) is complete once every task of attempt N-1 has ended and as many retries
// have arrived as attempt N-1 had failures. Each retry arrives on its own schedule (its
// failure time plus the Retry's back-off, and a Catch may take it instead), so the wait is
// bounded by `retry_gather` from its first task; retries that come later form their own
// array, again of failed indices only.
//
// Cancelling a task (Stop, a time-out, a sibling's failure) runs `scancel JOB_INDEX`: a
// running `sagebox job exec` gets SIGTERM and stops its job (Stopped); a pending one never
// starts, and the dispatcher records the job Failed with this executor's account of it.
//
// Thread-safety: Run is called concurrently from engine threads; one squeue per batch and
// poll interval serves all of that batch's waiting tasks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/runtime/dispatcher.h"
#include "pipeline/slurm/slurm_client.h"

namespace sagebox::pipeline::runtime {

struct SlurmExecutorOptions {
  // The command an array task runs, before KIND and NAME: typically
  // {"/usr/bin/sagebox", "--data", DIR, "--db", URL, "job", "exec"}.
  std::vector<std::string> exec_command;
  std::string working_dir;  // --chdir; empty: sbatch's own
  std::string log_dir;      // each task's output: <log_dir>/slurm-%A_%a.out; empty: Slurm's
  std::string partition;    // empty: the cluster's default
  std::string account;      // empty: the user's default
  std::string job_name = "sagebox";
  // How long a batch waits for more tasks after the last one arrived.
  std::chrono::milliseconds gather = std::chrono::milliseconds(500);
  // How long a retry batch waits, from its first task, for the other failed indices.
  std::chrono::milliseconds retry_gather = std::chrono::seconds(10);
  // How often a submitted batch's state is read (squeue).
  std::chrono::milliseconds poll = std::chrono::seconds(1);
  // Consecutive failed status reads after which the waiting tasks give up.
  int max_status_errors = 30;
  // A line per array submitted ("slurm: array 41 [0-5%2] for <batch>#<attempt>").
  std::function<void(const std::string& line)> progress;
};

class SlurmJobExecutor final : public JobExecutor {
 public:
  // `client` must outlive the executor.
  SlurmJobExecutor(slurm::SlurmClient* client, SlurmExecutorOptions options);

  // See JobExecutor. Errors: sbatch's refusal (Internal, with its message); status reads
  // failing max_status_errors times in a row (the last error).
  StatusOr<std::string> Run(const ExecutorJob& job, engine::CancelToken& cancel) override;

  // The arrays submitted so far, oldest first: "41 [0-5%2]" (job id and --array spec).
  std::vector<std::string> submitted() const;

 private:
  struct Batch;
  // Submits `batch` (mu_ held on entry and exit; released around sbatch).
  void Submit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Batch>& batch);

  slurm::SlurmClient* client_;
  SlurmExecutorOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Batch>> gathering_;  // by "<batch>#<attempt>"
  // Per "<batch>#<attempt>": tasks still in Run, and tasks that did not end COMPLETED.
  struct Tally {
    int64_t outstanding = 0;
    int64_t failures = 0;
  };
  std::map<std::string, Tally> tallies_;
  std::vector<std::string> submitted_;
};

}  // namespace sagebox::pipeline::runtime
