// pipeline_service.h: state machines and their executions, as Step Functions runs them,
// here. The service stores definitions and executions (execution_store.h), runs each
// execution on the ASL engine (engine/engine.h) on a thread of its own with the pipeline
// dispatcher (dispatcher.h: SageMaker jobs, sagebox-register-best) and persists its history
// and checkpoints as it goes. The CLI (`sagebox pipeline run|status|resume`) and the Step
// Functions API on `sagebox serve` are thin clients of it.
//
// Semantics, with Step Functions' names:
//   - CreateStateMachine validates the definition (asl/definition.h): problems are
//     InvalidArgument naming the state and field (AWS's InvalidDefinition). The same name with
//     the same definition returns the existing machine (AWS is idempotent there); with another
//     definition it is AlreadyExists (StateMachineAlreadyExists) unless `update` is set.
//   - StartExecution records the execution RUNNING and returns at once; the execution runs in
//     the background. A name the machine already used is AlreadyExists
//     (ExecutionAlreadyExists). An unknown machine is NotFound (StateMachineDoesNotExist).
//   - Redrive (`pipeline resume`) re-runs a FAILED, TIMED_OUT or ABORTED execution from its
//     checkpoints: what completed is not run again, failed states, Map iterations and
//     Parallel branches are. Its history continues with ExecutionRedriven.
//   - StopExecution aborts an execution this process runs: running jobs get SIGTERM, then
//     SIGKILL, and the execution ends ABORTED. One run by another live process is refused
//     (InvalidArgument naming it); one whose process died is recorded ABORTED.
//   - The cost limit is RunOptions::max_cost_usd, else the definition's
//     `limits.max_cost_usd` (a compiled pipeline's Init state carries it).
//   - An execution left RUNNING by a process of this host that died is FAILED with
//     sagebox.Interrupted by RecoverInterrupted() (resume it to go on).
//
// Thread-safety: every method may be called from any thread. The destructor aborts the
// executions still running here (their jobs are stopped) and joins their threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "db/database.h"
#include "pipeline/engine/interfaces.h"
#include "pipeline/runtime/dispatcher.h"
#include "pipeline/runtime/execution_store.h"
#include "pipeline/sagemaker/job_service.h"
#include "pipeline/tracking/tracking_store.h"

namespace sagebox::pipeline::runtime {

struct PipelineServiceOptions {
  std::string data_dir;  // the step cache's input digests read <data>/s3
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Concurrent Map iterations when a Map sets no MaxConcurrency, and Parallel branches.
  int64_t max_parallel = 40;
  std::chrono::milliseconds job_poll = std::chrono::milliseconds(250);
  engine::Clock* clock = nullptr;  // null: the system clock
  // Where `.sync` jobs run (the Slurm executor, slurm_executor.h); null: on the JobService,
  // in this process. With an executor every Map runs up to `fan_out_width` iterations at
  // once and the executor enforces MaxConcurrency (engine.h, ExecuteOptions::fan_out_width).
  JobExecutor* executor = nullptr;
  int64_t fan_out_width = 256;
  // Progress lines of every execution (jobs started and ended, the end), from its thread.
  std::function<void(const std::string& execution_arn, const std::string& line)> progress;
};

// Per execution (kept with it, so a resume runs the same way).
struct RunOptions {
  bool cache = false;         // opt-in step caching (engine/cache.h)
  bool bypass_cache = false;  // with cache: run everything, store the fresh results
  std::optional<Decimal> max_cost_usd;
  // Step Functions fails an execution whose history passes 25,000 events; a wide Map run
  // here may raise that (0: the default).
  int64_t max_history_events = 0;
};

class PipelineService {
 public:
  // Every pointer must outlive the service; `db` needs Migrations() applied. Runs
  // RecoverInterrupted(). Errors: the database's.
  static StatusOr<std::unique_ptr<PipelineService>> Create(db::Database* db,
                                                           sagemaker::JobService* jobs,
                                                           tracking::TrackingStore* tracking,
                                                           PipelineServiceOptions options);
  ~PipelineService();
  PipelineService(const PipelineService&) = delete;
  PipelineService& operator=(const PipelineService&) = delete;

  StatusOr<StateMachineRow> CreateStateMachine(const std::string& name,
                                               const std::string& definition,
                                               const std::string& role_arn, bool update = false);
  StatusOr<StateMachineRow> DescribeStateMachine(const std::string& arn);
  StatusOr<std::vector<StateMachineRow>> ListStateMachines();
  // The ARN a machine of `name` has (whether or not it exists).
  std::string StateMachineArn(const std::string& name) const;

  // `name` empty: a UUID, as Step Functions. `input` is JSON text ("" is {}): InvalidArgument
  // when it is not JSON (AWS's InvalidExecutionInput).
  StatusOr<ExecutionRow> StartExecution(const std::string& state_machine_arn,
                                        const std::string& name, const std::string& input,
                                        const RunOptions& run = {});
  StatusOr<ExecutionRow> DescribeExecution(const std::string& arn);
  StatusOr<std::vector<nlohmann::json>> History(const std::string& arn);
  // Newest first; both filters optional.
  StatusOr<std::vector<ExecutionRow>> ListExecutions(const std::string& state_machine_arn,
                                                     const std::string& status);
  Status StopExecution(const std::string& arn, const std::string& error = "",
                       const std::string& cause = "");
  // Returns the execution, RUNNING again. InvalidArgument when it is RUNNING or SUCCEEDED.
  StatusOr<ExecutionRow> RedriveExecution(const std::string& arn);
  // Until the execution is no longer RUNNING or `timeout` passed; Describe's answer either
  // way.
  StatusOr<ExecutionRow> Wait(const std::string& arn, std::chrono::milliseconds timeout);
  // Executions of dead processes of this host: RUNNING → FAILED (sagebox.Interrupted).
  StatusOr<int> RecoverInterrupted();

  // An execution's ARN from its ARN or its name (NotFound; InvalidArgument when two
  // machines have executions of that name).
  StatusOr<std::string> ResolveExecution(const std::string& arn_or_name);

  ExecutionStore* store() { return &store_; }

 private:
  struct Live;
  PipelineService(db::Database* db, sagemaker::JobService* jobs, tracking::TrackingStore* tracking,
                  PipelineServiceOptions options);
  Status Launch(const ExecutionRow& row, int64_t first_event_id);
  void Run(const std::shared_ptr<Live>& live, ExecutionRow row, int64_t first_event_id);
  int64_t NowMs();

  ExecutionStore store_;
  sagemaker::JobService* jobs_;
  tracking::TrackingStore* tracking_;
  PipelineServiceOptions options_;
  std::unique_ptr<engine::Clock> own_clock_;
  engine::Clock* clock_;
  std::string owner_;  // jobs::RunnerIdentity::Current().ToString()

  std::mutex mu_;
  std::condition_variable done_cv_;
  std::map<std::string, std::shared_ptr<Live>> live_;  // by execution ARN
  std::vector<std::thread> threads_;
};

// The cost limit a definition carries: the first `Parameters.limits.max_cost_usd` of a
// top-level Pass state (a compiled pipeline's Init). nullopt when there is none or it is not
// a decimal.
std::optional<Decimal> DefinitionCostLimit(const std::string& definition);

}  // namespace sagebox::pipeline::runtime
