// job_service.h: SageMaker processing and training jobs run here as local processes:
// CreateProcessingJob / CreateTrainingJob requests in AWS's shapes, Describe*, List*, Stop*
// answers in AWS's shapes, on the job runner (jobs/job_runner.h) and the platform database.
//
// The contract (docs/pipeline.md, "Jobs", says the same for users):
//   - Requests are AWS's shapes and are validated as AWS does (request.h); a violation is
//     InvalidArgument carrying AWS's ValidationException text. A second job of a kind with
//     the same name is AlreadyExists (AWS's ResourceInUse); an unknown one NotFound
//     (ResourceNotFound).
//   - No containers: processing runs AppSpecification.ContainerEntrypoint +
//     ContainerArguments, training AlgorithmSpecification.ContainerEntrypoint +
//     ContainerArguments; ImageUri / TrainingImage are recorded, not pulled. Environment is
//     passed through. The work area, the S3 stand-in, sharding and uploads: work_area.h.
//   - InstanceCount N runs N processes (hosts algo-1..algo-N). The job is Completed when all
//     hosts succeed; the first failing host fails the job and the others are stopped.
//   - Statuses InProgress | Completed | Failed | Stopping | Stopped. Training also has AWS's
//     SecondaryStatus (Starting, Downloading, Training, Uploading, Completed, Failed,
//     Stopping, Stopped, MaxRuntimeExceeded) with SecondaryStatusTransitions.
//   - StoppingCondition.MaxRuntimeInSeconds is the runner's time limit: past it the job is
//     Failed with a FailureReason naming the limit (training: SecondaryStatus
//     MaxRuntimeExceeded). Stop*Job: Stopping, then Stopped once the processes ended
//     (SIGTERM to each host's process group, SIGKILL after `stop_grace`: SageMaker gives
//     120 s, the default here). A non-zero exit: Failed with FailureReason = the first KiB
//     of the host's /opt/ml/output/failure when the job wrote one, else the host, exit code
//     and last stderr line.
//   - MetricDefinitions fill FinalMetricDataList (metrics.h); every value is kept with its
//     step (MetricSteps) for the tracking layer.
//   - Cost: the instance type's on-demand price (catalog/catalog.h) in the request's region
//     (else the service's default, us-east-1) × billable seconds × InstanceCount, exact
//     Decimal. Not in Describe* (AWS's shapes stay clean): Cost(). DescribeTrainingJob has
//     TrainingTimeInSeconds and BillableTimeInSeconds as AWS does.
//   - State is the `sagemaker_jobs` table (component "pipeline_sagemaker", Migrations()):
//     the request, status, transitions, metric points, runner job ids, cost. The processes
//     are rows of the `jobs` table (kind "sagemaker-processing" / "sagemaker-training",
//     name "<job>/algo-K"), with their logs under <data>/jobs/<id>/.
//   - One server supervises a job (a thread of the service that created it). A job whose
//     server died is Failed by RecoverInterrupted() on the next start of a server on that
//     host.
//
// Thread-safety: every method may be called from any thread concurrently; the destructor
// stops the jobs still running (recording them Stopped) and joins their threads.
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
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "core/decimal.h"
#include "core/status.h"
#include "db/database.h"
#include "jobs/job_runner.h"
#include "pipeline/sagemaker/metrics.h"
#include "pipeline/sagemaker/request.h"
#include "pipeline/sagemaker/work_area.h"

namespace sagebox::pipeline::sagemaker {

// The migrations of the `sagemaker_jobs` table (component "pipeline_sagemaker").
std::vector<db::Migration> Migrations();

struct JobServiceOptions {
  std::string data_dir;  // work areas under <data>/pipeline/jobs, S3 under <data>/s3
  std::string default_region = "us-east-1";
  std::string account_id = "000000000000";  // in ARNs
  // Between SIGTERM and SIGKILL on Stop*Job and MaxRuntimeInSeconds (SageMaker: 120 s).
  std::chrono::milliseconds stop_grace = std::chrono::seconds(120);
  // How often a running job's logs are read and Continuous outputs copied.
  std::chrono::milliseconds poll_interval = std::chrono::milliseconds(200);
  // Processes at once over all jobs: every host of a job must run together.
  int max_processes = 32;
  const catalog::Catalog* catalog = nullptr;  // null: the built-in catalog
  jobs::MicrosClock clock;                    // empty: the real clock
  // Every log line of every job as it is read (`sagebox job run` streams them); called
  // from the job's thread.
  std::function<void(const std::string& job, const std::string& host, const std::string& line)>
      log_sink;
};

// What a job cost.
struct JobCost {
  std::string instance_type;
  int instance_count = 1;
  std::string region;  // the price's region
  Decimal usd_per_hour;
  int64_t billable_seconds = 0;
  Decimal usd;
};

// When CreateJob starts the job: at once, here (the default), or later through
// StartDeferred, in whichever process an executor (a Slurm task: `sagebox job exec`) runs.
enum class JobStart { kNow, kDeferred };

// usd_per_hour × seconds × count / 3600, rounded to 10^-10 (core/decimal.h).
Decimal ComputeCost(Decimal usd_per_hour, int64_t seconds, int count);

class JobService {
 public:
  // `db` must outlive the service and have jobs::Migrations() and Migrations() applied.
  // Internal when the built-in catalog cannot be loaded.
  static StatusOr<std::unique_ptr<JobService>> Create(db::Database* db, JobServiceOptions options);
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Validates and records the job and starts it (kDeferred: records it InProgress and waits
  // for StartDeferred); returns its ARN. `region` (empty: the default) prices it and goes
  // into the ARN. InvalidArgument (ValidationException), AlreadyExists, or the database's
  // error.
  StatusOr<std::string> CreateJob(JobKind kind, const nlohmann::json& request,
                                  const std::string& region = "", JobStart start = JobStart::kNow);
  // Starts a job created with JobStart::kDeferred in this service, which then supervises it
  // as if it had created it (Stop, Wait, the time limit). A job is claimed once: the claim is
  // one guarded UPDATE, so two executors racing for it cannot both run it. NotFound for no
  // such job; InvalidArgument when it is not a deferred job still waiting to start.
  Status StartDeferred(JobKind kind, const std::string& name);
  // Ends a job whose executor went away before the job recorded its own end (a Slurm task
  // cancelled while pending, a node that died): InProgress becomes Failed with `reason` as
  // its FailureReason, Stopping becomes Stopped. Returns whether the job was still open.
  // NotFound for no such job; the database's error otherwise.
  StatusOr<bool> Abandon(JobKind kind, const std::string& name, const std::string& reason);
  // DescribeProcessingJob / DescribeTrainingJob's response. NotFound for no such job.
  StatusOr<nlohmann::json> Describe(JobKind kind, const std::string& name);
  // ListProcessingJobs / ListTrainingJobs' response for `request` (filters, sort, paging).
  // InvalidArgument (ValidationException) for a bad member.
  StatusOr<nlohmann::json> List(JobKind kind, const nlohmann::json& request);
  // Stop*Job: Stopping now, Stopped once every host has ended. NotFound for no such job;
  // InvalidArgument when it is not InProgress (AWS's ValidationException).
  Status Stop(JobKind kind, const std::string& name);
  // Waits until the job has ended or `timeout` passed; returns Describe's response either
  // way. NotFound for no such job.
  StatusOr<nlohmann::json> Wait(JobKind kind, const std::string& name,
                                std::chrono::milliseconds timeout);
  // The cost of an ended job; nullopt while it runs or when the catalog has no price.
  StatusOr<std::optional<JobCost>> Cost(JobKind kind, const std::string& name);
  // Every metric value in order (the tracking layer logs them as steps).
  StatusOr<std::vector<MetricPoint>> MetricSteps(JobKind kind, const std::string& name);
  // Jobs left InProgress/Stopping by a dead server on this host become Failed; returns how
  // many. The database's error on failure.
  StatusOr<int> RecoverInterrupted();

 private:
  struct Live {
    std::mutex mu;
    bool stop_requested = false;
    std::vector<int64_t> runner_ids;
    bool finished = false;  // Run() returned: its thread may be joined
  };
  JobService(db::Database* db, JobServiceOptions options, std::unique_ptr<catalog::Catalog> own);

  void Run(const JobRequest& req, const std::string& region, const std::shared_ptr<Live>& live);
  // Starts Run on a thread of the service. Internal once the service is shutting down.
  Status Launch(JobKind kind, JobRequest req, const std::string& region);
  int64_t Now() const;
  // Appends a secondary status transition (training) and sets the status columns.
  Status Transition(JobKind kind, const std::string& name, const std::string& secondary,
                    const std::string& message);
  void NotifyDone();

  db::Database* db_;
  JobServiceOptions options_;
  std::unique_ptr<catalog::Catalog> own_catalog_;
  const catalog::Catalog* catalog_;
  std::unique_ptr<jobs::JobRunner> runner_;
  std::string owner_;  // jobs::RunnerIdentity::Current().ToString()

  std::mutex mu_;
  std::condition_variable done_cv_;
  uint64_t done_generation_ = 0;
  bool shutting_down_ = false;
  std::map<std::string, std::shared_ptr<Live>> live_;  // "<kind>/<name>"
  std::vector<std::pair<std::shared_ptr<Live>, std::thread>> threads_;
};

}  // namespace sagebox::pipeline::sagemaker
