// job_store.h: the `jobs` table: what the job runner records about each job, so a job's
// state, exit code and logs outlive the server that ran it and are visible to every server
// sharing the database.
//
// Schema (component "jobs", version 1; see Migrations()):
//   id            auto-increment primary key
//   kind, name    "training", "processing", "ocr", ... and a caller's name; (kind, name) is
//                 UNIQUE, like SageMaker's job names, which are unique per job type: a second
//                 Submit with the same pair fails with AlreadyExists
//   owner         the user who submitted it, NULL when unknown
//   argv          the command, a JSON array of strings
//   state         pending → running → succeeded | failed | cancelled | timed_out | interrupted
//                 (pending → cancelled | interrupted without running); terminal states never
//                 change again
//   exit_code / signal   how the process ended (one of them, or neither if it never started)
//   failure_reason       why it did not succeed, for people; NULL when it succeeded
//   created_us, started_us, ended_us   Unix microseconds
//   stdout_path, stderr_path           the log files (<log root>/<id>/stdout.log, stderr.log)
//   time_limit_s  the time limit in seconds, NULL for none
//   runner_id     the runner that owns the job (RunnerIdentity::ToString: host, boot, pid,
//                 start time), set at submit
//   pid, pid_start the job's process (and group) id and the process's start time in clock
//                 ticks since boot, so recovery can tell that pid from a later reuse of it
//
// Every state change is one guarded statement (`UPDATE … WHERE id = ? AND state IN (…)
// RETURNING id`): of a cancel, a natural exit and a restart recovery racing each other,
// exactly one outcome is recorded and the others learn that they lost.
//
// Thread-safety: a JobStore is safe for concurrent use (the Database is).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "db/database.h"

namespace sagebox::jobs {

enum class JobState {
  kPending,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
  kTimedOut,
  kInterrupted
};

// "pending", "running", "succeeded", "failed", "cancelled", "timed_out", "interrupted".
std::string_view StateName(JobState s);
// The inverse of StateName; nullopt for anything else.
std::optional<JobState> ParseState(std::string_view name);
// Everything but pending and running.
bool IsTerminal(JobState s);

// One row of `jobs`.
struct Job {
  int64_t id = 0;
  std::string kind;
  std::string name;
  std::optional<std::string> owner;
  std::vector<std::string> argv;
  JobState state = JobState::kPending;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::optional<std::string> failure_reason;
  int64_t created_us = 0;
  std::optional<int64_t> started_us;
  std::optional<int64_t> ended_us;
  std::string stdout_path;
  std::string stderr_path;
  std::optional<int64_t> time_limit_s;
  std::string runner_id;
  std::optional<int64_t> pid;
  std::optional<int64_t> pid_start;
};

// The fields a new (pending) job is created with.
struct NewJob {
  std::string kind;
  std::string name;
  std::optional<std::string> owner;
  std::vector<std::string> argv;
  std::optional<int64_t> time_limit_s;
  std::string runner_id;
  int64_t created_us = 0;
};

// How a job ended, for End().
struct JobEnd {
  JobState state = JobState::kFailed;  // terminal
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::optional<std::string> failure_reason;
  int64_t ended_us = 0;
};

// Which jobs List() returns; unset fields match everything.
struct JobFilter {
  std::optional<std::string> kind;
  std::optional<JobState> state;
  std::optional<std::string> owner;
  int64_t limit = 1000;  // newest first
};

// The migrations of the `jobs` table (component "jobs").
std::vector<db::Migration> Migrations();

class JobStore {
 public:
  // `db` must outlive the store and have Migrations() applied.
  explicit JobStore(db::Database* db) : db_(db) {}

  // Inserts a pending job whose logs go to <log_root>/<id>/stdout.log and stderr.log, in one
  // transaction. Returns the row; AlreadyExists when (kind, name) is taken, InvalidArgument
  // for a missing kind, name or argv, the database's error otherwise.
  StatusOr<Job> Insert(const NewJob& job, const std::string& log_root);

  // NotFound when there is no job `id`; Corruption for a row this code cannot read.
  StatusOr<Job> Get(int64_t id);
  // Matching jobs, newest first. The database's error on failure.
  StatusOr<std::vector<Job>> List(const JobFilter& filter);
  // Every pending or running job of every runner, oldest first.
  StatusOr<std::vector<Job>> Unfinished();

  // pending → running. false when the job was no longer pending (cancelled meanwhile).
  StatusOr<bool> MarkRunning(int64_t id, int64_t started_us);
  // Records the process of a running job. The database's error on failure.
  Status RecordProcess(int64_t id, int64_t pid, std::optional<int64_t> pid_start);
  // Moves the job from one of `from` to the terminal `end.state`. false when it was in none
  // of them: another path (a cancel, an exit, a recovery) recorded its outcome first.
  StatusOr<bool> End(int64_t id, std::initializer_list<JobState> from, const JobEnd& end);

 private:
  db::Database* db_;
};

}  // namespace sagebox::jobs
