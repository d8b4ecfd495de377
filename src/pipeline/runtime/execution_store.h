// execution_store.h: Step Functions state machines and executions on the platform database:
// definitions, executions with their status and cost, the history events, the checkpoints a
// resume (redrive) starts from, and the opt-in step cache. The engine (engine/engine.h) runs
// in memory; this is where what it reports goes, so `pipeline status`, `resume` and the Step
// Functions API read the same state from any process.
//
// Tables (migration component "pipeline_runtime"):
//   sfn_state_machines  arn, unique name, definition (ASL text), role, type, created ms
//   sfn_executions      arn, state machine, name (unique per machine), the definition it
//                       runs (a machine's may change later), status RUNNING |
//                       SUCCEEDED | FAILED | TIMED_OUT | ABORTED, input/output text, error,
//                       cause, start/stop ms, redrive count and time, owner (the process
//                       that runs it: jobs::RunnerIdentity), run options, cost (Decimal text)
//   sfn_events          (execution, id) → the event JSON, ids continuing across redrives
//   sfn_checkpoints     (execution, key) → output and next state of each completed state
//   sfn_task_cache      key → a successful task result (engine/cache.h)
//
// Errors: NotFound names the ARN; AlreadyExists for a taken name; InvalidArgument for a
// status change the execution's current status does not allow; the database's otherwise.
//
// Thread-safety: ExecutionStore and DbTaskCache are safe for concurrent use (the database
// is). DbJournal is called by the engine one call at a time and writes on a thread of its
// own; Close() may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "db/database.h"
#include "pipeline/engine/cache.h"
#include "pipeline/engine/interfaces.h"

namespace sagebox::pipeline::runtime {

// The migrations of component "pipeline_runtime".
std::vector<db::Migration> Migrations();

struct StateMachineRow {
  std::string arn;
  std::string name;
  std::string definition;  // the ASL text as given
  std::string role_arn;
  std::string type = "STANDARD";
  int64_t created_ms = 0;
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ExecutionRow {
  std::string arn;
  std::string state_machine_arn;
  std::string name;
  std::string status = "RUNNING";
  std::string definition;             // the ASL it runs (a resume runs the same)
  std::string input;                  // JSON text
  std::optional<std::string> output;  // JSON text, SUCCEEDED only
  std::string error;
  std::string cause;
  int64_t start_ms = 0;
  std::optional<int64_t> stop_ms;
  int64_t redrive_count = 0;
  std::optional<int64_t> redrive_ms;
  std::string owner;  // jobs::RunnerIdentity::ToString() of the running process
  nlohmann::json options = nlohmann::json::object();  // the run's options (cache, cost limit)
  Decimal cost_usd;                                   // the jobs' cost so far
};

class ExecutionStore {
 public:
  // `db` must outlive the store and have Migrations() applied.
  explicit ExecutionStore(db::Database* db) : db_(db) {}

  // AlreadyExists when the name is taken.
  Status InsertStateMachine(const StateMachineRow& row);
  StatusOr<StateMachineRow> GetStateMachine(const std::string& arn);
  // nullopt when no machine has that name.
  StatusOr<std::optional<StateMachineRow>> FindStateMachine(const std::string& name);
  StatusOr<std::vector<StateMachineRow>> ListStateMachines();

  // AlreadyExists when the machine already has an execution of that name.
  Status InsertExecution(const ExecutionRow& row);
  StatusOr<ExecutionRow> GetExecution(const std::string& arn);
  // Newest first; `state_machine_arn` and `status` empty for all.
  StatusOr<std::vector<ExecutionRow>> ListExecutions(const std::string& state_machine_arn,
                                                     const std::string& status);
  // RUNNING → `status` with its output or error. InvalidArgument when it is not RUNNING
  // (a Stop that raced the end: the first to finish wins).
  Status FinishExecution(const std::string& arn, const std::string& status,
                         const std::optional<std::string>& output, const std::string& error,
                         const std::string& cause, int64_t stop_ms);
  // A redrive: FAILED | TIMED_OUT | ABORTED → RUNNING, redrive_count + 1, now owned by
  // `owner`. InvalidArgument otherwise (a RUNNING or SUCCEEDED execution).
  Status MarkRedriven(const std::string& arn, const std::string& owner, int64_t redrive_ms);
  Status SetCost(const std::string& arn, const Decimal& cost_usd);
  // Replaces a machine's definition (UpdateStateMachine); running executions keep theirs.
  Status UpdateDefinition(const std::string& arn, const std::string& definition);

  // The history, in id order.
  StatusOr<std::vector<nlohmann::json>> Events(const std::string& arn);
  // The highest event id (0 for none).
  StatusOr<int64_t> LastEventId(const std::string& arn);
  StatusOr<std::vector<engine::Checkpoint>> Checkpoints(const std::string& arn);
  // Events (each with its "id") and checkpoints in one transaction; a checkpoint replaces an
  // earlier one of the same key.
  Status Append(const std::string& arn, std::span<const nlohmann::json> events,
                std::span<const engine::Checkpoint> checkpoints);

  db::Database* db() const { return db_; }

 private:
  db::Database* db_;
};

// The engine's journal, written to an ExecutionStore in batches by a thread of its own (the
// engine must not wait on the database while it holds its journal lock). Event ids are
// shifted by `first_id - 1`, so a redrive (which the engine opens with ExecutionRedriven)
// continues the history.
class DbJournal final : public engine::ExecutionJournal {
 public:
  DbJournal(ExecutionStore* store, std::string execution_arn, int64_t first_id);
  ~DbJournal() override;  // Close()
  DbJournal(const DbJournal&) = delete;
  DbJournal& operator=(const DbJournal&) = delete;

  void OnEvent(const nlohmann::json& event) override;
  void OnCheckpoint(const engine::Checkpoint& checkpoint) override;
  // Writes what is queued and stops the writer; returns the first write error, if any (the
  // batch that failed is lost: a resume re-runs its states).
  Status Close();

 private:
  void WriterLoop();

  ExecutionStore* store_;
  std::string arn_;
  int64_t offset_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<nlohmann::json> events_;
  std::vector<engine::Checkpoint> checkpoints_;
  bool closing_ = false;
  Status error_;
  std::thread writer_;
};

// The step cache on the database (table sfn_task_cache). Read and write errors are misses
// and lost entries, as engine::TaskCache allows.
class DbTaskCache final : public engine::TaskCache {
 public:
  explicit DbTaskCache(db::Database* db) : db_(db) {}
  std::optional<nlohmann::json> Get(const std::string& key) override;
  void Put(const std::string& key, const nlohmann::json& result) override;

 private:
  db::Database* db_;
};

}  // namespace sagebox::pipeline::runtime
