#include "jobs/job_store.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/env.h"

namespace sagebox::jobs {

namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 7> kStateNames{{
    {JobState::kPending, "pending"},
    {JobState::kRunning, "running"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kFailed, "failed"},
    {JobState::kCancelled, "cancelled"},
    {JobState::kTimedOut, "timed_out"},
    {JobState::kInterrupted, "interrupted"},
}};

// The columns every read selects, in the order RowToJob expects.
constexpr std::string_view kColumns =
    "id, kind, name, owner, argv, state, exit_code, signal, failure_reason, created_us, "
    "started_us, ended_us, stdout_path, stderr_path, time_limit_s, runner_id, pid, pid_start";

db::Value Opt(const std::optional<int64_t>& v) {
  return v ? db::Value(*v) : db::Value(std::monostate{});
}
db::Value Opt(const std::optional<int>& v) {
  return v ? db::Value(static_cast<int64_t>(*v)) : db::Value(std::monostate{});
}
db::Value Opt(const std::optional<std::string>& v) {
  return v ? db::Value(*v) : db::Value(std::monostate{});
}
db::Value State(JobState s) { return std::string(StateName(s)); }

std::optional<int> OptInt32(const db::Result& r, size_t row, size_t col) {
  auto v = r.OptInt(row, col);
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

StatusOr<Job> RowToJob(const db::Result& r, size_t i) {
  Job j;
  j.id = r.Int(i, 0);
  j.kind = r.Text(i, 1);
  j.name = r.Text(i, 2);
  j.owner = r.OptText(i, 3);
  try {
    j.argv = nlohmann::json::parse(r.Text(i, 4)).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return Corruption("jobs row " + std::to_string(j.id) + ": argv is not a JSON array of " +
                      "strings: " + e.what());
  }
  auto state = ParseState(r.Text(i, 5));
  if (!state) {
    return Corruption("jobs row " + std::to_string(j.id) + ": unknown state " + r.Text(i, 5));
  }
  j.state = *state;
  j.exit_code = OptInt32(r, i, 6);
  j.signal = OptInt32(r, i, 7);
  j.failure_reason = r.OptText(i, 8);
  j.created_us = r.Int(i, 9);
  j.started_us = r.OptInt(i, 10);
  j.ended_us = r.OptInt(i, 11);
  j.stdout_path = r.OptText(i, 12).value_or("");
  j.stderr_path = r.OptText(i, 13).value_or("");
  j.time_limit_s = r.OptInt(i, 14);
  j.runner_id = r.Text(i, 15);
  j.pid = r.OptInt(i, 16);
  j.pid_start = r.OptInt(i, 17);
  return j;
}

StatusOr<std::vector<Job>> RowsToJobs(const db::Result& r) {
  std::vector<Job> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(Job j, RowToJob(r, i));
    out.push_back(std::move(j));
  }
  return out;
}

// A guarded UPDATE … RETURNING id: true when it changed the row. RETURNING rather than the
// affected count, because it reads the same on both backends.
StatusOr<bool> UpdateReturning(db::Database& db, const std::string& sql,
                               const std::vector<db::Value>& params) {
  ASSIGN_OR_RETURN(db::Result r, db.Query(sql, params));
  return !r.empty();
}

}  // namespace

std::string_view StateName(JobState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "unknown";
}

std::optional<JobState> ParseState(std::string_view name) {
  for (const auto& [state, n] : kStateNames) {
    if (n == name) return state;
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) { return s != JobState::kPending && s != JobState::kRunning; }

std::vector<db::Migration> Migrations() {
  return {{
      "jobs",
      1,
      "jobs",
      R"sql(CREATE TABLE jobs (
  id {{id}},
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  owner TEXT,
  argv TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed',
                                       'cancelled', 'timed_out', 'interrupted')),
  exit_code BIGINT,
  signal BIGINT,
  failure_reason TEXT,
  created_us BIGINT NOT NULL,
  started_us BIGINT,
  ended_us BIGINT,
  stdout_path TEXT,
  stderr_path TEXT,
  time_limit_s BIGINT,
  runner_id TEXT NOT NULL,
  pid BIGINT,
  pid_start BIGINT,
  UNIQUE (kind, name)
);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_owner ON jobs (owner, id);
)sql",
  }};
}

StatusOr<Job> JobStore::Insert(const NewJob& job, const std::string& log_root) {
  if (job.kind.empty() || job.name.empty()) {
    return InvalidArgument("a job needs a kind and a name");
  }
  if (job.argv.empty() || job.argv[0].empty()) {
    return InvalidArgument("job " + job.name + ": the command (argv) is empty");
  }
  std::string argv_json = nlohmann::json(job.argv).dump();
  int64_t id = 0;
  Status s = db_->InTransaction([&](db::Transaction& tx) -> Status {
    std::vector<db::Value> params = {job.kind,
                                     job.name,
                                     Opt(job.owner),
                                     argv_json,
                                     State(JobState::kPending),
                                     job.created_us,
                                     Opt(job.time_limit_s),
                                     job.runner_id};
    auto r = tx.Query(
        "INSERT INTO jobs (kind, name, owner, argv, state, created_us, time_limit_s, runner_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kAlreadyExists) {
        return AlreadyExists("a " + job.kind + " job named " + job.name + " already exists");
      }
      return r.status();
    }
    id = r->Int(0, 0);
    // The log folder is named after the id, known only now.
    std::string dir = JoinPath(log_root, std::to_string(id));
    std::vector<db::Value> paths = {JoinPath(dir, "stdout.log"), JoinPath(dir, "stderr.log"), id};
    return tx.Exec("UPDATE jobs SET stdout_path = ?, stderr_path = ? WHERE id = ?", paths);
  });
  RETURN_IF_ERROR(s);
  return Get(id);
}

StatusOr<Job> JobStore::Get(int64_t id) {
  std::vector<db::Value> params = {id};
  ASSIGN_OR_RETURN(
      db::Result r,
      db_->Query("SELECT " + std::string(kColumns) + " FROM jobs WHERE id = ?", params));
  if (r.empty()) return NotFound("no job " + std::to_string(id));
  return RowToJob(r, 0);
}

StatusOr<std::vector<Job>> JobStore::List(const JobFilter& filter) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM jobs WHERE 1 = 1";
  std::vector<db::Value> params;
  if (filter.kind) {
    sql += " AND kind = ?";
    params.emplace_back(*filter.kind);
  }
  if (filter.state) {
    sql += " AND state = ?";
    params.push_back(State(*filter.state));
  }
  if (filter.owner) {
    sql += " AND owner = ?";
    params.emplace_back(*filter.owner);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(filter.limit);
  ASSIGN_OR_RETURN(db::Result r, db_->Query(sql, params));
  return RowsToJobs(r);
}

StatusOr<std::vector<Job>> JobStore::Unfinished() {
  ASSIGN_OR_RETURN(db::Result r, db_->Query("SELECT " + std::string(kColumns) +
                                            " FROM jobs WHERE state IN ('pending', 'running') "
                                            "ORDER BY id"));
  return RowsToJobs(r);
}

StatusOr<bool> JobStore::MarkRunning(int64_t id, int64_t started_us) {
  return UpdateReturning(*db_,
                         "UPDATE jobs SET state = 'running', started_us = ? "
                         "WHERE id = ? AND state = 'pending' RETURNING id",
                         {started_us, id});
}

Status JobStore::RecordProcess(int64_t id, int64_t pid, std::optional<int64_t> pid_start) {
  std::vector<db::Value> params = {pid, Opt(pid_start), id};
  return db_->Exec("UPDATE jobs SET pid = ?, pid_start = ? WHERE id = ? AND state = 'running'",
                   params);
}

StatusOr<bool> JobStore::End(int64_t id, std::initializer_list<JobState> from, const JobEnd& end) {
  if (!IsTerminal(end.state)) {
    return Internal("JobStore::End to the non-terminal state " + std::string(StateName(end.state)));
  }
  std::string sql =
      "UPDATE jobs SET state = ?, exit_code = ?, signal = ?, failure_reason = ?, ended_us = ? "
      "WHERE id = ? AND state IN (";
  std::vector<db::Value> params = {State(end.state),        Opt(end.exit_code), Opt(end.signal),
                                   Opt(end.failure_reason), end.ended_us,       id};
  bool first = true;
  for (JobState s : from) {
    sql += first ? "?" : ", ?";
    first = false;
    params.push_back(State(s));
  }
  sql += ") RETURNING id";
  return UpdateReturning(*db_, sql, params);
}

}  // namespace sagebox::jobs
