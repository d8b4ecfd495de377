// dispatcher.h: what a Task state of a pipeline does here. The engine (engine/engine.h) calls
// a TaskDispatcher for every Task attempt; this one speaks the Step Functions service
// integrations the compiled pipelines (and hand-written ASL) use:
//
//   arn:aws:states:::sagemaker:createTrainingJob[.sync]    JobService (sagemaker/job_service.h)
//   arn:aws:states:::sagemaker:createProcessingJob[.sync]
//   arn:aws:states:::lambda:invoke  FunctionName sagebox-register-best   the tracking store
//
// SageMaker (Step Functions' "Run a Job (.sync)" pattern): the parameters are the Create*Job
// request. Without .sync the result is the Create*Job response; with .sync the task waits
// and its result is the Describe*Job response once Completed. A job that ends Failed or
// Stopped fails the task with States.TaskFailed and the Describe*Job response as the cause
// (what Step Functions reports); a request the JobService refuses fails it with
// SageMaker.AmazonSageMakerException. A cancelled task (Stop, time-out, a sibling's failure)
// stops its job (SIGTERM, then SIGKILL after the grace).
//
// Job names on a redrive: the compiled names end in the state's retry count, so a resumed
// execution would ask for a name its failed attempt already took; then `-r<redrive count>`
// is appended (cut to SageMaker's 63 characters), and the job runs under that name.
//
// Cost limit: before each job the execution's cost so far (the ended jobs' catalog price ×
// billable seconds, exact Decimal) is compared with the limit; at or over it the task fails
// with sagebox.CostLimitExceeded and starts nothing.
//
// Executors: by default a job runs on this process's JobService. With an executor
// (DispatcherOptions::executor) a `.sync` job is recorded deferred (JobStart::kDeferred) and
// handed to the executor, which has it run elsewhere (a Slurm array task running `sagebox job
// exec`); the job records its own end in the shared database. When the executor's task ended
// without the job recording that (cancelled while pending, a lost node), the job is Abandoned
// as Failed with the executor's account of it. Jobs without .sync always run here.
//
// sagebox-register-best (docs/pipeline.md): every candidate with a training job becomes a
// tracking run of the experiment named after the state machine (parameters, stepped metrics,
// tags, cost; FINISHED or FAILED); the best Completed one by the payload's metric (ties to the
// first) is registered as a new version of `model_name` with `alias`, linked to its run and
// the execution. Runs are found again by their job name, so a retried call logs nothing twice.
//
// Thread-safety: Dispatch is called from many engine threads at once; the dispatcher is
// thread-safe. One dispatcher serves one execution.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "pipeline/engine/cache.h"
#include "pipeline/engine/interfaces.h"
#include "pipeline/sagemaker/job_service.h"
#include "pipeline/tracking/tracking_store.h"

namespace sagebox::pipeline::runtime {

inline constexpr const char* kRegisterBestFunction = "sagebox-register-best";
inline constexpr const char* kCostLimitExceeded = "sagebox.CostLimitExceeded";

// A job handed to an executor. Tasks of one `batch` and `attempt` may be submitted together
// (one Slurm job array): the attempts of one Task state in one Map run, `index` being the
// iteration.
struct ExecutorJob {
  sagemaker::JobKind kind = sagemaker::JobKind::kTraining;
  std::string name;
  std::string batch;            // the Task state in its Map run
  int64_t attempt = 1;          // 2 for the first retry, ...
  int64_t index = 0;            // the task's place in the batch (its Map iteration)
  int64_t batch_size = 1;       // how many tasks the batch may get (the Map's iterations)
  int64_t max_concurrency = 0;  // at most this many of the batch run at once; 0: no limit
  std::optional<int64_t> max_runtime_seconds;  // the job's StoppingCondition
};

// Where jobs run when not on the dispatcher's own JobService.
// Thread-safety: Run is called from many engine threads at once.
class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  // Has `job` (recorded JobStart::kDeferred) run where JobService::StartDeferred is called on
  // it, and blocks until that run has ended; when `cancel` fires, stops it. Returns how the
  // executor's task ended ("Slurm task 41_3 ended CANCELLED"), which the dispatcher records
  // when the job itself did not record its end; an error when it could not be submitted.
  virtual StatusOr<std::string> Run(const ExecutorJob& job, engine::CancelToken& cancel) = 0;
};

struct DispatcherOptions {
  std::string execution_arn;
  std::string experiment;  // the tracking experiment (the state machine's name)
  std::string region = "us-east-1";
  int64_t redrive_count = 0;
  std::optional<Decimal> max_cost_usd;  // no limit when unset
  Decimal spent_usd;                    // the cost of earlier attempts (a redrive)
  std::chrono::milliseconds poll = std::chrono::milliseconds(250);
  JobExecutor* executor = nullptr;  // null: jobs run on the JobService itself
  // Called after each job ends with the execution's cost so far (from the job's thread).
  std::function<void(const Decimal& total)> on_cost;
  // A line of progress per job started and ended ("iris-lr-0-1a2b-0 Completed 12 s $0.0004").
  std::function<void(const std::string& line)> progress;
};

class PipelineDispatcher final : public engine::TaskDispatcher {
 public:
  // `jobs` and `tracking` must outlive the dispatcher.
  PipelineDispatcher(sagemaker::JobService* jobs, tracking::TrackingStore* tracking,
                     DispatcherOptions options)
      : jobs_(jobs), tracking_(tracking), options_(std::move(options)) {
    spent_ = options_.spent_usd;
  }

  asl::AslOr<nlohmann::json> Dispatch(const engine::TaskRequest& request) override;

  Decimal spent() const;

 private:
  asl::AslOr<nlohmann::json> RunJob(const engine::TaskRequest& request, sagemaker::JobKind kind,
                                    bool sync);
  // Hands a deferred `.sync` job to the executor and waits for it; abandons it when the
  // executor's task ended without the job recording its end.
  void RunElsewhere(const engine::TaskRequest& request, sagemaker::JobKind kind,
                    const std::string& name, const nlohmann::json& body);
  asl::AslOr<nlohmann::json> RegisterBest(const engine::TaskRequest& request);
  // The run of one candidate's training job (created and logged on first sight).
  StatusOr<std::string> CandidateRun(const std::string& experiment_id,
                                     const nlohmann::json& candidate, const std::string& stage,
                                     const std::string& job_name, bool completed);
  void AddCost(sagemaker::JobKind kind, const std::string& name);

  sagemaker::JobService* jobs_;
  tracking::TrackingStore* tracking_;
  DispatcherOptions options_;
  mutable std::mutex mu_;
  Decimal spent_;
  std::mutex register_mu_;  // one register-best at a time: runs are looked up, then created
};

// What the step cache keys a task on: its parameters without the job name, which a compiled
// pipeline makes unique per execution (the run token), so the same work in a later
// execution is found.
nlohmann::json CacheKeyParameters(const engine::TaskRequest& request);

// The step cache's digests of what a SageMaker task reads besides its parameters: every file
// under its S3 inputs (in the local S3 stand-in <data>/s3) and the entrypoint's files that
// exist relative to the working folder (the code). Other resources have none.
class FileInputDigester final : public engine::InputDigester {
 public:
  explicit FileInputDigester(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  StatusOr<std::vector<std::string>> Digests(const engine::TaskRequest& request) override;

 private:
  std::string data_dir_;
};

}  // namespace sagebox::pipeline::runtime
