// execution_store.cc: state machines, executions, history and checkpoints on the database
// (execution_store.h).
#include "pipeline/runtime/execution_store.h"

#include <chrono>
#include <utility>

namespace sagebox::pipeline::runtime {

namespace {

using nlohmann::json;

template <typename... A>
std::vector<db::Value> P(A&&... a) {
  return {db::Value(std::forward<A>(a))...};
}
db::Value OptText(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}
db::Value OptInt(const std::optional<int64_t>& v) {
  return v ? db::Value(*v) : db::Value(std::monostate{});
}

constexpr const char* kMachineColumns = "arn, name, definition, role_arn, type, created_ms";
constexpr const char* kExecutionColumns =
    "arn, state_machine_arn, name, definition, status, input, output, error, cause, start_ms, "
    "stop_ms, "
    "redrive_count, redrive_ms, owner, options, cost_usd";

StateMachineRow ReadMachine(const db::Result& r, size_t i) {
  return {r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4), r.Int(i, 5)};
}

StatusOr<ExecutionRow> ReadExecution(const db::Result& r, size_t i) {
  ExecutionRow row;
  row.arn = r.Text(i, 0);
  row.state_machine_arn = r.Text(i, 1);
  row.name = r.Text(i, 2);
  row.definition = r.Text(i, 3);
  row.status = r.Text(i, 4);
  row.input = r.Text(i, 5);
  row.output = r.OptText(i, 6);
  row.error = r.OptText(i, 7).value_or("");
  row.cause = r.OptText(i, 8).value_or("");
  row.start_ms = r.Int(i, 9);
  row.stop_ms = r.OptInt(i, 10);
  row.redrive_count = r.Int(i, 11);
  row.redrive_ms = r.OptInt(i, 12);
  row.owner = r.Text(i, 13);
  row.options = json::parse(r.Text(i, 14), nullptr, false);
  if (row.options.is_discarded()) {
    return Corruption("sfn_executions " + row.arn + ": options is not JSON");
  }
  if (!Decimal::Parse(r.Text(i, 15), &row.cost_usd)) {
    return Corruption("sfn_executions " + row.arn + ": cost_usd '" + r.Text(i, 15) +
                      "' is not a decimal");
  }
  return row;
}

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{"pipeline_runtime", 1, "state machines, executions, history, checkpoints, cache",
           "CREATE TABLE sfn_state_machines (\n"
           "  arn TEXT NOT NULL PRIMARY KEY,\n"
           "  name TEXT NOT NULL UNIQUE,\n"
           "  definition TEXT NOT NULL,\n"
           "  role_arn TEXT NOT NULL,\n"
           "  type TEXT NOT NULL,\n"
           "  created_ms BIGINT NOT NULL\n"
           ");\n"
           "CREATE TABLE sfn_executions (\n"
           "  arn TEXT NOT NULL PRIMARY KEY,\n"
           "  state_machine_arn TEXT NOT NULL REFERENCES sfn_state_machines (arn),\n"
           "  name TEXT NOT NULL,\n"
           "  definition TEXT NOT NULL,\n"
           "  status TEXT NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', "
           "'TIMED_OUT', 'ABORTED')),\n"
           "  input TEXT NOT NULL,\n"
           "  output TEXT,\n"
           "  error TEXT,\n"
           "  cause TEXT,\n"
           "  start_ms BIGINT NOT NULL,\n"
           "  stop_ms BIGINT,\n"
           "  redrive_count BIGINT NOT NULL DEFAULT 0,\n"
           "  redrive_ms BIGINT,\n"
           "  owner TEXT NOT NULL,\n"
           "  options TEXT NOT NULL,\n"
           "  cost_usd TEXT NOT NULL DEFAULT '0',\n"
           "  UNIQUE (state_machine_arn, name)\n"
           ");\n"
           "CREATE INDEX sfn_executions_by_start ON sfn_executions (start_ms);\n"
           "CREATE TABLE sfn_events (\n"
           "  execution_arn TEXT NOT NULL REFERENCES sfn_executions (arn),\n"
           "  id BIGINT NOT NULL,\n"
           "  body TEXT NOT NULL,\n"
           "  PRIMARY KEY (execution_arn, id)\n"
           ");\n"
           "CREATE TABLE sfn_checkpoints (\n"
           "  execution_arn TEXT NOT NULL REFERENCES sfn_executions (arn),\n"
           "  ckey TEXT NOT NULL,\n"
           "  output TEXT NOT NULL,\n"
           "  next_state TEXT NOT NULL,\n"
           "  PRIMARY KEY (execution_arn, ckey)\n"
           ");\n"
           "CREATE TABLE sfn_task_cache (\n"
           "  ckey TEXT NOT NULL PRIMARY KEY,\n"
           "  result TEXT NOT NULL,\n"
           "  created_ms BIGINT NOT NULL\n"
           ")"}};
}

Status ExecutionStore::InsertStateMachine(const StateMachineRow& row) {
  Status s =
      db_->Exec(std::string("INSERT INTO sfn_state_machines (") + kMachineColumns +
                    ") VALUES (?, ?, ?, ?, ?, ?)",
                P(row.arn, row.name, row.definition, row.role_arn, row.type, row.created_ms));
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("a state machine named '" + row.name + "' already exists");
  }
  return s;
}

StatusOr<StateMachineRow> ExecutionStore::GetStateMachine(const std::string& arn) {
  ASSIGN_OR_RETURN(auto r, db_->Query(std::string("SELECT ") + kMachineColumns +
                                          " FROM sfn_state_machines WHERE arn = ?",
                                      P(arn)));
  if (r.empty()) return NotFound("state machine does not exist: " + arn);
  return ReadMachine(r, 0);
}

StatusOr<std::optional<StateMachineRow>> ExecutionStore::FindStateMachine(const std::string& name) {
  ASSIGN_OR_RETURN(auto r, db_->Query(std::string("SELECT ") + kMachineColumns +
                                          " FROM sfn_state_machines WHERE name = ?",
                                      P(name)));
  if (r.empty()) return std::optional<StateMachineRow>();
  return std::optional<StateMachineRow>(ReadMachine(r, 0));
}

StatusOr<std::vector<StateMachineRow>> ExecutionStore::ListStateMachines() {
  ASSIGN_OR_RETURN(auto r, db_->Query(std::string("SELECT ") + kMachineColumns +
                                      " FROM sfn_state_machines ORDER BY created_ms, name"));
  std::vector<StateMachineRow> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.push_back(ReadMachine(r, i));
  return out;
}

Status ExecutionStore::InsertExecution(const ExecutionRow& row) {
  Status s = db_->Exec(std::string("INSERT INTO sfn_executions (") + kExecutionColumns +
                           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       P(row.arn, row.state_machine_arn, row.name, row.definition, row.status,
                         row.input, OptText(row.output), row.error, row.cause, row.start_ms,
                         OptInt(row.stop_ms), row.redrive_count, OptInt(row.redrive_ms), row.owner,
                         row.options.dump(), row.cost_usd.ToString()));
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists("execution already exists: " + row.arn);
  }
  return s;
}

StatusOr<ExecutionRow> ExecutionStore::GetExecution(const std::string& arn) {
  ASSIGN_OR_RETURN(auto r, db_->Query(std::string("SELECT ") + kExecutionColumns +
                                          " FROM sfn_executions WHERE arn = ?",
                                      P(arn)));
  if (r.empty()) return NotFound("execution does not exist: " + arn);
  return ReadExecution(r, 0);
}

StatusOr<std::vector<ExecutionRow>> ExecutionStore::ListExecutions(
    const std::string& state_machine_arn, const std::string& status) {
  std::string sql = std::string("SELECT ") + kExecutionColumns + " FROM sfn_executions";
  std::vector<db::Value> params;
  std::string where;
  if (!state_machine_arn.empty()) {
    where = " WHERE state_machine_arn = ?";
    params.emplace_back(state_machine_arn);
  }
  if (!status.empty()) {
    where += where.empty() ? " WHERE status = ?" : " AND status = ?";
    params.emplace_back(status);
  }
  ASSIGN_OR_RETURN(auto r, db_->Query(sql + where + " ORDER BY start_ms DESC, arn DESC", params));
  std::vector<ExecutionRow> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(auto row, ReadExecution(r, i));
    out.push_back(std::move(row));
  }
  return out;
}

Status ExecutionStore::FinishExecution(const std::string& arn, const std::string& status,
                                       const std::optional<std::string>& output,
                                       const std::string& error, const std::string& cause,
                                       int64_t stop_ms) {
  ASSIGN_OR_RETURN(auto r, db_->Query("UPDATE sfn_executions SET status = ?, output = ?, "
                                      "error = ?, cause = ?, stop_ms = ? WHERE arn = ? AND "
                                      "status = 'RUNNING' RETURNING arn",
                                      P(status, OptText(output), error, cause, stop_ms, arn)));
  if (!r.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto row, GetExecution(arn));
  return InvalidArgument("execution " + arn + " is " + row.status + ", not RUNNING");
}

Status ExecutionStore::MarkRedriven(const std::string& arn, const std::string& owner,
                                    int64_t redrive_ms) {
  ASSIGN_OR_RETURN(
      auto r, db_->Query("UPDATE sfn_executions SET status = 'RUNNING', output = NULL, error = "
                         "NULL, cause = NULL, stop_ms = NULL, redrive_count = redrive_count + 1, "
                         "redrive_ms = ?, owner = ? WHERE arn = ? AND status IN ('FAILED', "
                         "'TIMED_OUT', 'ABORTED') RETURNING arn",
                         P(redrive_ms, owner, arn)));
  if (!r.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto row, GetExecution(arn));
  return InvalidArgument("execution " + arn + " is " + row.status +
                         ": only a FAILED, TIMED_OUT or ABORTED execution can be resumed");
}

Status ExecutionStore::SetCost(const std::string& arn, const Decimal& cost_usd) {
  return db_->Exec("UPDATE sfn_executions SET cost_usd = ? WHERE arn = ?",
                   P(cost_usd.ToString(), arn));
}

Status ExecutionStore::UpdateDefinition(const std::string& arn, const std::string& definition) {
  ASSIGN_OR_RETURN(auto r, db_->Query("UPDATE sfn_state_machines SET definition = ? WHERE arn = ? "
                                      "RETURNING arn",
                                      P(definition, arn)));
  if (r.empty()) return NotFound("state machine does not exist: " + arn);
  return Status::Ok();
}

StatusOr<std::vector<json>> ExecutionStore::Events(const std::string& arn) {
  ASSIGN_OR_RETURN(
      auto r,
      db_->Query("SELECT body FROM sfn_events WHERE execution_arn = ? ORDER BY id", P(arn)));
  std::vector<json> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    json e = json::parse(r.Text(i, 0), nullptr, false);
    if (e.is_discarded()) return Corruption("sfn_events of " + arn + ": an event is not JSON");
    out.push_back(std::move(e));
  }
  return out;
}

StatusOr<int64_t> ExecutionStore::LastEventId(const std::string& arn) {
  ASSIGN_OR_RETURN(auto r,
                   db_->Query("SELECT MAX(id) FROM sfn_events WHERE execution_arn = ?", P(arn)));
  return r.empty() ? 0 : r.OptInt(0, 0).value_or(0);
}

StatusOr<std::vector<engine::Checkpoint>> ExecutionStore::Checkpoints(const std::string& arn) {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT ckey, output, next_state FROM sfn_checkpoints "
                                      "WHERE execution_arn = ? ORDER BY ckey",
                                      P(arn)));
  std::vector<engine::Checkpoint> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    json output = json::parse(r.Text(i, 1), nullptr, false);
    if (output.is_discarded()) {
      return Corruption("sfn_checkpoints of " + arn + ": " + r.Text(i, 0) + " is not JSON");
    }
    out.push_back({r.Text(i, 0), std::move(output), r.Text(i, 2)});
  }
  return out;
}

Status ExecutionStore::Append(const std::string& arn, std::span<const json> events,
                              std::span<const engine::Checkpoint> checkpoints) {
  if (events.empty() && checkpoints.empty()) return Status::Ok();
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    for (const auto& e : events) {
      RETURN_IF_ERROR(tx.Exec("INSERT INTO sfn_events (execution_arn, id, body) VALUES (?, ?, ?)",
                              P(arn, e.value("id", int64_t{0}), e.dump())));
    }
    for (const auto& c : checkpoints) {
      RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO sfn_checkpoints (execution_arn, ckey, output, next_state) VALUES (?, ?, "
          "?, ?) ON CONFLICT (execution_arn, ckey) DO UPDATE SET output = excluded.output, "
          "next_state = excluded.next_state",
          P(arn, c.key, c.output.dump(), c.next)));
    }
    return Status::Ok();
  });
}

DbJournal::DbJournal(ExecutionStore* store, std::string execution_arn, int64_t first_id)
    : store_(store),
      arn_(std::move(execution_arn)),
      offset_(first_id - 1),
      writer_([this] { WriterLoop(); }) {}

DbJournal::~DbJournal() { (void)Close(); }

void DbJournal::OnEvent(const json& event) {
  json e = event;
  e["id"] = e.value("id", int64_t{0}) + offset_;
  const int64_t prev = e.value("previousEventId", int64_t{0});
  e["previousEventId"] = prev + offset_;  // a redrive's first event follows the last one before
  std::lock_guard lock(mu_);
  events_.push_back(std::move(e));
  cv_.notify_one();
}

void DbJournal::OnCheckpoint(const engine::Checkpoint& checkpoint) {
  std::lock_guard lock(mu_);
  checkpoints_.push_back(checkpoint);
  cv_.notify_one();
}

Status DbJournal::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  return error_;
}

void DbJournal::WriterLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    // Batching: a burst of events (a Map's iterations) goes in one transaction.
    cv_.wait_for(lock, std::chrono::milliseconds(100),
                 [this] { return closing_ || events_.size() >= 256; });
    std::vector<json> events;
    std::vector<engine::Checkpoint> checkpoints;
    events.swap(events_);
    checkpoints.swap(checkpoints_);
    const bool last = closing_;
    lock.unlock();
    Status s = store_->Append(arn_, events, checkpoints);
    lock.lock();
    if (!s.ok() && error_.ok()) error_ = s;
    if (last && events_.empty() && checkpoints_.empty()) return;
  }
}

std::optional<json> DbTaskCache::Get(const std::string& key) {
  auto r = db_->Query("SELECT result FROM sfn_task_cache WHERE ckey = ?", P(key));
  if (!r.ok() || r->empty()) return std::nullopt;
  json v = json::parse(r->Text(0, 0), nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

void DbTaskCache::Put(const std::string& key, const json& result) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  (void)db_->Exec(
      "INSERT INTO sfn_task_cache (ckey, result, created_ms) VALUES (?, ?, ?) ON CONFLICT "
      "(ckey) DO UPDATE SET result = excluded.result, created_ms = excluded.created_ms",
      P(key, result.dump(), now));
}

}  // namespace sagebox::pipeline::runtime
