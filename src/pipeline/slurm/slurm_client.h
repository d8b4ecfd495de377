// slurm_client.h: the Slurm executor's view of a cluster: submit a job array (one task per
// Map iteration), read the state of each of its tasks, cancel them, resubmit only the ones
// that failed, and wait for all of them to end.
//
// Every command goes through a CommandRunner (command_runner.h), so unit tests replay
// outputs recorded on a real cluster. What is run, and why:
//   - sbatch --parsable --array=RANGES%K ... with the batch script on stdin: one submission
//     for the whole fan-out, and Slurm itself enforces MaxConcurrency (the %K throttle).
//     The script maps $SLURM_ARRAY_TASK_ID to that index's argv, so each index may run a
//     different command. The job's environment is sbatch's (Slurm's default --export=ALL),
//     so `env` is given to the sbatch process rather than spelled into --export, where a
//     comma in a value would split it.
//   - squeue --json for status (Slurm 22.05 prints the openapi v0.0.38 shape; later
//     versions' {set, number} values and job_state arrays are read too). squeue only knows
//     jobs the controller still holds (MinJobAge after the end, 300 s by default), so a job
//     it does not know is looked up with sacct --parsable2 (the accounting database), whose
//     times are asked for as Unix seconds (SLURM_TIME_FORMAT=%s) so no time zone is guessed.
//   - scancel JOB or scancel JOB_[RANGES].
//
// Thread-safety: a SlurmClient holds no mutable state beyond its runner; it is as safe for
// concurrent use as the runner it was given (SpawnCommandRunner is).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/slurm/command_runner.h"

namespace sagebox::pipeline::slurm {

// The states of a Slurm job (squeue(1) "JOB STATE CODES"); kOther keeps an unknown name.
enum class TaskState {
  kPending,
  kRunning,
  kCompleting,
  kSuspended,
  kRequeued,
  kCompleted,
  kFailed,
  kCancelled,
  kTimeout,
  kOutOfMemory,
  kNodeFail,
  kBootFail,
  kDeadline,
  kPreempted,
  kOther,
};

// "PENDING", "COMPLETED", ... as Slurm spells them ("OTHER" for kOther).
std::string_view TaskStateName(TaskState state);
// Slurm's name (also "CANCELLED by 0" as sacct prints it) to the state; kOther if unknown.
TaskState ParseTaskState(std::string_view name);
// Whether a task in `state` has ended for good (it will not run again by itself).
bool IsTerminal(TaskState state);
// Whether resubmitting a task that ended in `state` could make it pass: every terminal
// state except COMPLETED and CANCELLED (a cancel is the user's decision).
bool IsRetryable(TaskState state);

// One array task.
struct TaskStatus {
  int index = 0;
  TaskState state = TaskState::kPending;
  std::string state_name;             // as Slurm printed it
  std::optional<int> exit_code;       // set when the task exited on its own
  int signal = 0;                     // non-zero when a signal ended it
  std::optional<int64_t> start_time;  // Unix seconds; set once it started
  std::optional<int64_t> end_time;    // Unix seconds; set once it ended
  std::string reason;                 // Slurm's state_reason ("JobArrayTaskLimit", ...)
};

// All the tasks of one array job that Slurm reported, by index.
struct ArrayStatus {
  int64_t job_id = 0;
  std::string source;             // "squeue" or "sacct"
  std::vector<TaskStatus> tasks;  // sorted by index, one per index
  // squeue listed the job. It may list none of its tasks: the tasks of an array cancelled
  // before they started leave one CANCELLED record with an empty task list.
  bool listed = false;

  bool AllTerminal() const;
  // Indices whose state IsRetryable.
  std::vector<int> FailedIndices() const;
  // The task with `index`, or null.
  const TaskStatus* Find(int index) const;
};

// One job array to submit. Give either `script` (a whole batch script, "#!" first line,
// $SLURM_ARRAY_TASK_ID tells it its index) or `argv_per_index` (each index's command).
struct ArraySubmission {
  std::string script;
  std::vector<std::pair<int, std::vector<std::string>>> argv_per_index;
  // Indices to run; empty: every index of argv_per_index.
  std::vector<int> indices;
  int max_concurrency = 0;  // the %K throttle; 0: no limit
  std::string job_name;
  std::string working_dir;  // --chdir; empty: sbatch's own working directory
  // --time, rounded up to whole minutes (Slurm's granularity); unset: the partition's.
  std::optional<std::chrono::seconds> time_limit;
  // --output/--error patterns (%A array job id, %a index); empty: Slurm's default.
  std::string stdout_path;
  std::string stderr_path;
  EnvList env;            // for the tasks (through sbatch's environment)
  std::string partition;  // empty: the cluster's default
  std::string account;    // empty: the user's default
  int cpus_per_task = 0;  // 0: Slurm's default (1)
};

// How a Wait ended.
struct WaitResult {
  ArrayStatus status;      // the last status read
  bool timed_out = false;  // the timeout passed before every task ended
};

class SlurmClient {
 public:
  // `runner` must outlive the client. `sleep` is how Wait pauses between polls
  // (std::this_thread::sleep_for by default; tests pass a fake).
  explicit SlurmClient(CommandRunner* runner,
                       std::function<void(std::chrono::milliseconds)> sleep = nullptr);

  // Submits the array; returns its job id. InvalidArgument for a submission without a
  // command, with an index that has no argv, or with negative indices; Internal naming
  // sbatch and its stderr when sbatch refuses; BadInput naming sbatch and the line when
  // its output is not a job id; the runner's error when sbatch cannot run.
  StatusOr<int64_t> SubmitArray(const ArraySubmission& submission);

  // The state of every task of array job `job_id` (squeue, else sacct; a job squeue lists
  // with no task is returned as it is, see ArrayStatus::listed). NotFound when
  // neither knows the job; BadInput naming the command and the line (or JSON path) when
  // their output cannot be read; Internal with stderr when the command fails otherwise.
  StatusOr<ArrayStatus> Status(int64_t job_id);

  // Cancels the whole array, or only `indices` when given. Internal with scancel's stderr
  // when it fails.
  ::sagebox::Status Cancel(int64_t job_id, const std::vector<int>& indices = {});

  // Submits `previous` again for only the indices `status` shows as failed (IsRetryable).
  // Returns the new job id; InvalidArgument when no index failed; otherwise as SubmitArray.
  StatusOr<int64_t> ResubmitFailed(const ArraySubmission& previous, const ArrayStatus& status);

  // Polls Status every `poll` until every task has ended or `timeout` passes. Errors of
  // Status are returned as they are.
  StatusOr<WaitResult> Wait(int64_t job_id, std::chrono::milliseconds poll,
                            std::chrono::milliseconds timeout);

  // The argv SubmitArray runs and the script it pipes in (exposed for tests and dry runs).
  // InvalidArgument as SubmitArray.
  StatusOr<CommandRequest> BuildSubmit(const ArraySubmission& submission) const;

 private:
  CommandRunner* runner_;
  std::function<void(std::chrono::milliseconds)> sleep_;
};

// Parsers of Slurm's output, public so tests feed them recorded outputs.
// `squeue --json`: the tasks of `job_id` (records whose array_job_id is it, or a plain job
// with that id); a pending or cancelled remainder ("2-5%2") becomes one task per index.
// BadInput naming "squeue --json" and the JSON path when the document is not the shape.
StatusOr<ArrayStatus> ParseSqueueJson(std::string_view text, int64_t job_id);
// `sacct --parsable2 --noheader --format=JobID,State,ExitCode,Start,End` with Unix-second
// times. BadInput naming "sacct" and the 1-based line when a line is not that shape.
StatusOr<ArrayStatus> ParseSacctParsable(std::string_view text, int64_t job_id);
// `sbatch --parsable`: "JOBID" or "JOBID;CLUSTER". BadInput naming the line otherwise.
StatusOr<int64_t> ParseSbatchParsable(std::string_view text);

}  // namespace sagebox::pipeline::slurm
