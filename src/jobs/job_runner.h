// job_runner.h: runs jobs (SageMaker-shaped processing and training jobs, async OCR, RAG
// ingest) as local child processes with their state in the database.
//
// Submit() inserts the job as `pending` and queues it; a fixed pool of worker threads (at
// most `max_concurrent` jobs run at once, by default one per core) claims it (`pending` →
// `running`, guarded), starts it through a ProcessLauncher (see process.h: own process group,
// logs to <log root>/<id>/stdout.log and stderr.log, time limit, SIGTERM then SIGKILL on
// stop) and records how it ended. Every transition is one guarded UPDATE (job_store.h), so a
// Cancel() racing a natural exit records exactly one outcome.
//
// Ownership across servers: each job records the RunnerIdentity of the runner that accepted
// it (host, boot id, pid and start time of the server process). Only that runner starts,
// signals or finishes it. Cancel() of a job another live server runs is refused (this runner
// cannot signal a process on another machine); cancel it on that server.
//
// Restart recovery (RecoverInterrupted, call it once when a server starts, before serving):
// a job left `pending` or `running` is marked `interrupted` (never succeeded: nobody saw it
// end) with a failure_reason naming the cause when
//   - its runner ran on this host in an earlier boot (the machine restarted; its processes
//     died with it), or
//   - its runner ran on this host in this boot and that process is gone (same pid with the
//     same start time no longer exists). If the job's own process is still alive (same pid
//     and start time, so not a reused pid) its whole process group is SIGKILLed at once:
//     there is nobody left to give the result to, and a grace period would delay startup.
// Jobs whose runner is alive, or ran on another host, are left alone: with PostgreSQL
// several servers share the table and must not interrupt each other's live jobs. The cost
// of that rule: the jobs of a host that never comes back stay `running` until a server with
// the same host name starts (containers that change host name on restart should keep a
// stable one).
//
// Shutdown() (also run by the destructor) marks queued jobs `interrupted`, stops running ones
// (SIGTERM, grace, SIGKILL) and records them `interrupted` too, then joins the workers.
//
// Time: created/started/ended are wall-clock microseconds from `RunnerOptions::clock`
// (Env::Now() has whole seconds only, too coarse for job timings); time limits and grace
// periods run on the monotonic clock inside Process.
//
// Thread-safety: every method may be called from any thread concurrently, except that
// Shutdown() and the destructor must not race the constructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "db/database.h"
#include "jobs/job_store.h"
#include "jobs/process.h"

namespace sagebox::jobs {

// Which server process owns a job: it is alive exactly when a process with `pid` and
// `start_ticks` exists on `host` in boot `boot_id`.
struct RunnerIdentity {
  std::string host;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: changes with every boot
  int64_t pid = 0;
  int64_t start_ticks = 0;  // ProcessStartTicks(pid)

  // This process. Fields the system does not reveal are left empty / 0.
  static RunnerIdentity Current();
  // "host/boot_id/pid/start_ticks" (neither a host name nor a boot id contains '/').
  std::string ToString() const;
  // The inverse of ToString; nullopt for anything else.
  static std::optional<RunnerIdentity> Parse(const std::string& text);
  bool operator==(const RunnerIdentity&) const = default;
};

// What to run.
struct JobSpec {
  std::string kind;                  // "training", "processing", "ocr", ...
  std::string name;                  // unique within the kind
  std::optional<std::string> owner;  // the submitting user
  std::vector<std::string> argv;
  // Only for the process: not stored (values may hold secrets), so not shown by Get().
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;                         // empty: the server's
  std::optional<std::chrono::seconds> time_limit;  // SageMaker's MaxRuntimeInSeconds
};

struct RunnerOptions {
  std::string log_root;    // <data>/jobs: each job logs to <log_root>/<id>/
  int max_concurrent = 0;  // 0: one per core
  // Between SIGTERM and SIGKILL. SageMaker's Stop*Job gives 120 s; 10 s keeps a server
  // shutdown short. Callers that promise SageMaker's contract set 120 s.
  std::chrono::milliseconds stop_grace = std::chrono::seconds(10);
  ProcessLauncher* launcher = nullptr;  // null: ProcessLauncher::Default()
  Env* env = nullptr;                   // null: Env::Default(); creates the log folders
  MicrosClock clock;                    // empty: RealNowMicros
  // Who owns the jobs this runner submits; empty: RunnerIdentity::Current(). Tests set it to
  // pose as another server.
  std::optional<RunnerIdentity> identity;
};

class JobRunner {
 public:
  // Starts the worker threads. `db` must outlive the runner and have Migrations() applied.
  JobRunner(db::Database* db, RunnerOptions options);
  // Shutdown().
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  const RunnerIdentity& identity() const { return identity_; }

  // Inserts the job (pending) and queues it; returns its id. InvalidArgument for a missing
  // kind, name or argv; AlreadyExists when the kind already has a job of that name; Internal
  // after Shutdown(); the database's error otherwise. A job that cannot be started (no such
  // program, log folder not writable, launcher fault) is still accepted and ends `failed`
  // with the reason in failure_reason.
  StatusOr<int64_t> Submit(const JobSpec& spec);

  // Stops job `id`: a pending one becomes `cancelled` at once; a running one gets SIGTERM to
  // its group, SIGKILL after the grace period, and ends `cancelled` unless it exited on its
  // own first (the recorded state decides; Wait() for it). NotFound for no such job;
  // InvalidArgument when it has already ended or another server runs it.
  Status Cancel(int64_t id);

  // Waits until job `id` has ended or `timeout` passed; returns its row either way (check
  // the state). NotFound for no such job; the database's error otherwise.
  StatusOr<Job> Wait(int64_t id, std::chrono::milliseconds timeout);

  // The job's row. NotFound for no such job; the database's error otherwise.
  StatusOr<Job> Get(int64_t id);
  // Matching jobs, newest first; the database's error on failure.
  StatusOr<std::vector<Job>> List(const JobFilter& filter);

  // Marks jobs of dead runners `interrupted` (rules in the header comment); returns how many.
  // The database's error on failure (jobs marked before it stay marked).
  StatusOr<int> RecoverInterrupted();

  // Stops accepting jobs, interrupts queued and running ones, joins the workers. Waits up
  // to the grace period (plus the kernel's SIGKILL delivery). Idempotent.
  void Shutdown();

 private:
  struct Queued {
    int64_t id = 0;
    JobSpec spec;
    std::string stdout_path;
    std::string stderr_path;
  };
  // A job a worker has taken from the queue.
  struct Active {
    std::shared_ptr<Process> process;  // set once started
    bool cancel_requested = false;     // by Cancel()
    bool shutting_down = false;        // by Shutdown(): record `interrupted`, not `cancelled`
  };

  void WorkerLoop();
  void RunJob(const Queued& job, const std::shared_ptr<Active>& active);
  // Records the end of a running job; failures to record leave it for recovery.
  void Finish(int64_t id, const JobEnd& end);
  JobEnd Outcome(const ProcessResult& r, const Active& active, const JobSpec& spec) const;
  JobEnd Failed(std::string reason) const;
  // Wakes Wait() callers.
  void NotifyDone();

  JobStore store_;
  RunnerOptions options_;
  ProcessLauncher* launcher_;
  Env* env_;
  MicrosClock clock_;
  RunnerIdentity identity_;
  std::string runner_id_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // queue_ grew or shutdown
  std::condition_variable done_cv_;  // a job of this runner ended
  uint64_t done_generation_ = 0;     // bumped on every end, so Wait() misses none
  bool shutting_down_ = false;
  std::deque<Queued> queue_;
  std::map<int64_t, std::shared_ptr<Active>> active_;
  std::vector<std::thread> workers_;
};

}  // namespace sagebox::jobs
