#include "pipeline/tracking/tracking_store.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cfloat>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "pipeline/tracking/search_filter.h"

namespace sagebox::pipeline::tracking {
namespace {

using db::Result;
using db::Value;

const std::vector<db::Migration>& AllMigrations() {
  static const std::vector<db::Migration> kMigrations = {
      {"pipeline_tracking", 1, "experiments, runs, params, metrics, tags, artifacts, registry",
       "CREATE TABLE tracking_experiments (\n"
       "  id {{id}},\n"
       "  name TEXT NOT NULL UNIQUE,\n"
       "  artifact_location TEXT NOT NULL,\n"
       "  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),\n"
       "  creation_time BIGINT NOT NULL,\n"
       "  last_update_time BIGINT NOT NULL\n"
       ");\n"
       "CREATE TABLE tracking_experiment_tags (\n"
       "  experiment_id BIGINT NOT NULL REFERENCES tracking_experiments(id),\n"
       "  key TEXT NOT NULL,\n"
       "  value TEXT NOT NULL,\n"
       "  PRIMARY KEY (experiment_id, key)\n"
       ");\n"
       "CREATE TABLE tracking_runs (\n"
       "  run_id TEXT NOT NULL PRIMARY KEY,\n"
       "  experiment_id BIGINT NOT NULL REFERENCES tracking_experiments(id),\n"
       "  run_name TEXT NOT NULL,\n"
       "  user_id TEXT NOT NULL,\n"
       "  status TEXT NOT NULL CHECK (status IN ('RUNNING','SCHEDULED','FINISHED','FAILED',"
       "'KILLED')),\n"
       "  start_time BIGINT NOT NULL,\n"
       "  end_time BIGINT,\n"
       "  artifact_uri TEXT NOT NULL,\n"
       "  lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active','deleted')),\n"
       "  cost_usd TEXT\n"
       ");\n"
       "CREATE INDEX tracking_runs_experiment ON tracking_runs (experiment_id, start_time);\n"
       "CREATE TABLE tracking_params (\n"
       "  run_id TEXT NOT NULL REFERENCES tracking_runs(run_id),\n"
       "  key TEXT NOT NULL,\n"
       "  value TEXT NOT NULL,\n"
       "  PRIMARY KEY (run_id, key)\n"
       ");\n"
       "CREATE TABLE tracking_metrics (\n"
       "  id {{id}},\n"
       "  run_id TEXT NOT NULL REFERENCES tracking_runs(run_id),\n"
       "  key TEXT NOT NULL,\n"
       "  value DOUBLE PRECISION NOT NULL,\n"
       "  is_nan BIGINT NOT NULL,\n"
       "  timestamp_ms BIGINT NOT NULL,\n"
       "  step BIGINT NOT NULL\n"
       ");\n"
       "CREATE INDEX tracking_metrics_run_key ON tracking_metrics (run_id, key);\n"
       "CREATE TABLE tracking_latest_metrics (\n"
       "  run_id TEXT NOT NULL REFERENCES tracking_runs(run_id),\n"
       "  key TEXT NOT NULL,\n"
       "  value DOUBLE PRECISION NOT NULL,\n"
       "  is_nan BIGINT NOT NULL,\n"
       "  timestamp_ms BIGINT NOT NULL,\n"
       "  step BIGINT NOT NULL,\n"
       "  PRIMARY KEY (run_id, key)\n"
       ");\n"
       "CREATE TABLE tracking_run_tags (\n"
       "  run_id TEXT NOT NULL REFERENCES tracking_runs(run_id),\n"
       "  key TEXT NOT NULL,\n"
       "  value TEXT NOT NULL,\n"
       "  PRIMARY KEY (run_id, key)\n"
       ");\n"
       "CREATE TABLE tracking_artifacts (\n"
       "  run_id TEXT NOT NULL REFERENCES tracking_runs(run_id),\n"
       "  path TEXT NOT NULL,\n"
       "  size BIGINT NOT NULL,\n"
       "  sha256 TEXT NOT NULL,\n"
       "  PRIMARY KEY (run_id, path)\n"
       ");\n"
       "CREATE TABLE tracking_models (\n"
       "  id {{id}},\n"
       "  name TEXT NOT NULL UNIQUE,\n"
       "  description TEXT NOT NULL,\n"
       "  creation_timestamp BIGINT NOT NULL,\n"
       "  last_updated_timestamp BIGINT NOT NULL,\n"
       "  next_version BIGINT NOT NULL\n"
       ");\n"
       "CREATE TABLE tracking_model_tags (\n"
       "  model_id BIGINT NOT NULL REFERENCES tracking_models(id) ON DELETE CASCADE,\n"
       "  key TEXT NOT NULL,\n"
       "  value TEXT NOT NULL,\n"
       "  PRIMARY KEY (model_id, key)\n"
       ");\n"
       "CREATE TABLE tracking_model_versions (\n"
       "  model_id BIGINT NOT NULL REFERENCES tracking_models(id) ON DELETE CASCADE,\n"
       "  version BIGINT NOT NULL,\n"
       "  description TEXT NOT NULL,\n"
       "  source TEXT NOT NULL,\n"
       "  run_id TEXT NOT NULL,\n"
       "  run_link TEXT NOT NULL,\n"
       "  status TEXT NOT NULL,\n"
       "  creation_timestamp BIGINT NOT NULL,\n"
       "  last_updated_timestamp BIGINT NOT NULL,\n"
       "  PRIMARY KEY (model_id, version)\n"
       ");\n"
       "CREATE TABLE tracking_model_version_tags (\n"
       "  model_id BIGINT NOT NULL,\n"
       "  version BIGINT NOT NULL,\n"
       "  key TEXT NOT NULL,\n"
       "  value TEXT NOT NULL,\n"
       "  PRIMARY KEY (model_id, version, key),\n"
       "  FOREIGN KEY (model_id, version) REFERENCES tracking_model_versions(model_id, version)"
       " ON DELETE CASCADE\n"
       ");\n"
       "CREATE TABLE tracking_model_aliases (\n"
       "  model_id BIGINT NOT NULL,\n"
       "  alias TEXT NOT NULL,\n"
       "  version BIGINT NOT NULL,\n"
       "  PRIMARY KEY (model_id, alias),\n"
       "  FOREIGN KEY (model_id, version) REFERENCES tracking_model_versions(model_id, version)"
       " ON DELETE CASCADE\n"
       ")"},
  };
  return kMigrations;
}

const char* kRunColumns =
    "run_id, experiment_id, run_name, user_id, status, start_time, end_time, artifact_uri, "
    "lifecycle_stage, cost_usd";
const char* kExperimentColumns =
    "id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";
const char* kRunNameTag = "mlflow.runName";

std::string JoinArtifact(const std::string& root, const std::string& part) {
  if (root.empty()) return part;
  return root.back() == '/' ? root + part : root + "/" + part;
}

bool ValidStatus(std::string_view s) {
  return s == "RUNNING" || s == "SCHEDULED" || s == "FINISHED" || s == "FAILED" || s == "KILLED";
}

// Experiment and version ids are decimal text in MLflow's API.
StatusOr<int64_t> ParseId(std::string_view text, std::string_view field) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0) {
    return InvalidArgument(
        fmt::format("Invalid value '{}' for parameter '{}': expected an integer id", text, field));
  }
  return v;
}

std::string NewRunId() {
  // 128 bits from the OS (std::random_device reads /dev/urandom on Linux), as MLflow's
  // uuid4().hex.
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

RunInfo RunInfoFrom(const Result& r, size_t i) {
  RunInfo info;
  info.run_id = r.Text(i, 0);
  info.experiment_id = std::to_string(r.Int(i, 1));
  info.run_name = r.Text(i, 2);
  info.user_id = r.Text(i, 3);
  info.status = r.Text(i, 4);
  info.start_time = r.Int(i, 5);
  info.end_time = r.OptInt(i, 6);
  info.artifact_uri = r.Text(i, 7);
  info.lifecycle_stage = r.Text(i, 8);
  return info;
}

Experiment ExperimentFrom(const Result& r, size_t i) {
  Experiment e;
  e.experiment_id = std::to_string(r.Int(i, 0));
  e.name = r.Text(i, 1);
  e.artifact_location = r.Text(i, 2);
  e.lifecycle_stage = r.Text(i, 3);
  e.creation_time = r.Int(i, 4);
  e.last_update_time = r.Int(i, 5);
  return e;
}

std::vector<KeyValue> KeyValues(const Result& r) {
  std::vector<KeyValue> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back({r.Text(i, 0), r.Text(i, 1)});
  return out;
}

double StoredValue(const Result& r, size_t i, size_t value_col, size_t nan_col) {
  return r.Int(i, nan_col) != 0 ? std::nan("") : r.Double(i, value_col);
}

// LIKE is case-sensitive in MLflow (and PostgreSQL); SQLite's LIKE is not, so there the
// pattern becomes a GLOB with its own metacharacters escaped as classes.
std::string LikeToGlob(std::string_view like) {
  std::string out;
  for (char c : like) {
    if (c == '%') {
      out += '*';
    } else if (c == '_') {
      out += '?';
    } else if (c == '*' || c == '?' || c == '[') {
      out += '[';
      out += c;
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

// Appends "<col> <comparator> <value>" for a string clause.
void StringComparison(const std::string& col, const Clause& c, db::Backend backend,
                      std::string* sql, std::vector<Value>* params) {
  if (c.comparator == "IN" || c.comparator == "NOT IN") {
    *sql += col + (c.comparator == "IN" ? " IN (" : " NOT IN (");
    for (size_t i = 0; i < c.list.size(); ++i) {
      *sql += i ? ", ?" : "?";
      params->emplace_back(c.list[i]);
    }
    *sql += ")";
  } else if (c.comparator == "LIKE") {
    if (backend == db::Backend::kSqlite) {
      *sql += col + " GLOB ?";
      params->emplace_back(LikeToGlob(c.text));
    } else {
      *sql += col + " LIKE ?";
      params->emplace_back(c.text);
    }
  } else if (c.comparator == "ILIKE") {
    *sql += "LOWER(" + col + ") LIKE LOWER(?)";
    params->emplace_back(c.text);
  } else {
    *sql += col + " " + c.comparator + " ?";
    params->emplace_back(c.text);
  }
}

// A numeric attribute: MLflow compares int(value).
void NumericComparison(const std::string& col, const Clause& c, std::string* sql,
                       std::vector<Value>* params) {
  *sql += col + " " + c.comparator + " ?";
  params->emplace_back(static_cast<int64_t>(c.number));
}

// "EXISTS (SELECT 1 FROM table t WHERE t.owner = <owner> AND t.key = ? AND <cmp>)".
void TagExists(const std::string& table, const std::string& owner_col, const std::string& owner,
               const Clause& c, db::Backend backend, std::string* sql, std::vector<Value>* params) {
  *sql += "EXISTS (SELECT 1 FROM " + table + " t WHERE t." + owner_col + " = " + owner +
          " AND t.key = ? AND ";
  params->emplace_back(c.key);
  StringComparison("t.value", c, backend, sql, params);
  *sql += ")";
}

// "ORDER BY" terms with NULLs last whichever the direction, as MLflow's SQL store.
void OrderTerm(const std::string& expr, bool ascending, std::string* sql) {
  *sql += ", CASE WHEN " + expr + " IS NULL THEN 1 ELSE 0 END, " + expr +
          (ascending ? " ASC" : " DESC");
}

StatusOr<std::pair<int64_t, int64_t>> Paging(const SearchRequest& req, int64_t max_allowed) {
  if (req.max_results <= 0 || req.max_results > max_allowed) {
    return InvalidArgument(fmt::format(
        "Invalid value {} for parameter 'max_results' supplied. It must be a positive integer "
        "at most {}",
        req.max_results, max_allowed));
  }
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(req.page_token));
  return std::make_pair(offset, req.max_results);
}

// Appends LIMIT/OFFSET asking one row more than a page, to know whether another follows.
void Limit(std::pair<int64_t, int64_t> paging, std::string* sql, std::vector<Value>* params) {
  *sql += " LIMIT ? OFFSET ?";
  params->emplace_back(paging.second + 1);
  params->emplace_back(paging.first);
}

std::string NextToken(size_t got, std::pair<int64_t, int64_t> paging) {
  return static_cast<int64_t>(got) > paging.second ? MakePageToken(paging.first + paging.second)
                                                   : "";
}

std::string LifecycleCondition(ViewType v, const std::string& col) {
  switch (v) {
    case ViewType::kActiveOnly:
      return col + " = 'active'";
    case ViewType::kDeletedOnly:
      return col + " = 'deleted'";
    case ViewType::kAll:
      return "1 = 1";
  }
  return "1 = 1";
}

StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("sha256: EVP init failed");
  }
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return IoError("error reading " + path);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &n);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

}  // namespace

std::span<const db::Migration> Migrations() { return AllMigrations(); }

StatusOr<ViewType> ParseViewType(std::string_view text) {
  if (text.empty() || text == "ACTIVE_ONLY" || text == "1") return ViewType::kActiveOnly;
  if (text == "DELETED_ONLY" || text == "2") return ViewType::kDeletedOnly;
  if (text == "ALL" || text == "3") return ViewType::kAll;
  return InvalidArgument(fmt::format(
      "Invalid value '{}' for parameter 'run_view_type': expected ACTIVE_ONLY, DELETED_ONLY or ALL",
      text));
}

int64_t TrackingStore::Now() const {
  if (opt_.now_ms) return opt_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::unique_ptr<TrackingStore>> TrackingStore::Open(db::Database* db,
                                                             TrackingOptions opt) {
  std::unique_ptr<TrackingStore> s(new TrackingStore(db, std::move(opt)));
  const int64_t now = s->Now();
  // MLflow's servers create experiment 0, "Default", on start; clients log there when no
  // experiment is set.
  const Value p[] = {JoinArtifact(s->opt_.artifact_root, "0"), now, now};
  RETURN_IF_ERROR(
      db->Exec("INSERT INTO tracking_experiments (id, name, artifact_location, lifecycle_stage, "
               "creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?) "
               "ON CONFLICT DO NOTHING",
               p));
  return s;
}

// ---------------------------------------------------------------- experiments

StatusOr<std::string> TrackingStore::CreateExperiment(const std::string& name,
                                                      const std::string& artifact_location,
                                                      const std::vector<KeyValue>& tags) {
  if (name.empty()) return InvalidArgument("Invalid experiment name: ''. Must not be empty");
  const int64_t now = Now();
  std::string id;
  Status s = db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {name, artifact_location, now, now};
    ASSIGN_OR_RETURN(Result r, tx.Query("INSERT INTO tracking_experiments (name, "
                                        "artifact_location, lifecycle_stage, creation_time, "
                                        "last_update_time) VALUES (?, ?, 'active', ?, ?) "
                                        "RETURNING id",
                                        p));
    const int64_t eid = r.Int(0, 0);
    id = std::to_string(eid);
    if (artifact_location.empty()) {
      const Value u[] = {JoinArtifact(opt_.artifact_root, id), eid};
      RETURN_IF_ERROR(
          tx.Exec("UPDATE tracking_experiments SET artifact_location = ? WHERE id = ?", u));
    }
    for (const auto& t : tags) {
      const Value tp[] = {eid, t.key, t.value};
      RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO tracking_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
          tp));
    }
    return Status::Ok();
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("Experiment(name={}) already exists.", name));
  }
  RETURN_IF_ERROR(s);
  return id;
}

StatusOr<Experiment> TrackingStore::GetExperiment(const std::string& id) {
  auto eid = ParseId(id, "experiment_id");
  if (!eid.ok()) return NotFound(fmt::format("No Experiment with id={} exists", id));
  const Value p[] = {*eid};
  ASSIGN_OR_RETURN(Result r, db_->Query(fmt::format("SELECT {} FROM tracking_experiments WHERE "
                                                    "id = ?",
                                                    kExperimentColumns),
                                        p));
  if (r.empty()) return NotFound(fmt::format("No Experiment with id={} exists", id));
  Experiment e = ExperimentFrom(r, 0);
  ASSIGN_OR_RETURN(Result t, db_->Query("SELECT key, value FROM tracking_experiment_tags WHERE "
                                        "experiment_id = ? ORDER BY key",
                                        p));
  e.tags = KeyValues(t);
  return e;
}

StatusOr<Experiment> TrackingStore::GetExperimentByName(const std::string& name) {
  const Value p[] = {name};
  ASSIGN_OR_RETURN(Result r, db_->Query("SELECT id FROM tracking_experiments WHERE name = ?", p));
  if (r.empty()) return NotFound(fmt::format("Could not find experiment with name '{}'", name));
  return GetExperiment(std::to_string(r.Int(0, 0)));
}

StatusOr<Page<Experiment>> TrackingStore::SearchExperiments(const SearchRequest& req) {
  ASSIGN_OR_RETURN(auto paging, Paging(req, 50000));
  ASSIGN_OR_RETURN(auto clauses, ParseFilter(req.filter, SearchKind::kExperiments));
  std::string sql = "SELECT e.id FROM tracking_experiments e WHERE " +
                    LifecycleCondition(req.view, "e.lifecycle_stage");
  std::vector<Value> params;
  for (const Clause& c : clauses) {
    sql += " AND ";
    if (c.entity == Entity::kTag) {
      TagExists("tracking_experiment_tags", "experiment_id", "e.id", c, db_->backend(), &sql,
                &params);
    } else if (c.numeric) {
      NumericComparison("e." + c.key, c, &sql, &params);
    } else {
      StringComparison("e." + c.key, c, db_->backend(), &sql, &params);
    }
  }
  std::string order = " ORDER BY 1 = 1";
  bool has_id = false;
  for (const auto& text : req.order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(text, SearchKind::kExperiments));
    const std::string col = o.key == "experiment_id" ? "e.id" : "e." + o.key;
    has_id = has_id || o.key == "experiment_id";
    OrderTerm(col, o.ascending, &order);
  }
  // MLflow's default: newest first, experiment_id as the tie-breaker.
  if (req.order_by.empty()) order += ", e.creation_time DESC";
  if (!has_id) order += ", e.id ASC";
  sql += order;
  Limit(paging, &sql, &params);
  ASSIGN_OR_RETURN(Result r, db_->Query(sql, params));
  Page<Experiment> page;
  for (size_t i = 0; i < r.size() && static_cast<int64_t>(i) < paging.second; ++i) {
    ASSIGN_OR_RETURN(Experiment e, GetExperiment(std::to_string(r.Int(i, 0))));
    page.items.push_back(std::move(e));
  }
  page.next_page_token = NextToken(r.size(), paging);
  return page;
}

Status TrackingStore::RenameExperiment(const std::string& id, const std::string& new_name) {
  if (new_name.empty()) return InvalidArgument("Invalid experiment name: ''. Must not be empty");
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(id));
  if (e.lifecycle_stage != "active") {
    return InvalidArgument("Cannot rename a non-active experiment.");
  }
  const Value p[] = {new_name, Now(), *ParseId(id, "experiment_id")};
  Status s =
      db_->Exec("UPDATE tracking_experiments SET name = ?, last_update_time = ? WHERE id = ?", p);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("Experiment(name={}) already exists.", new_name));
  }
  return s;
}

Status TrackingStore::DeleteExperiment(const std::string& id) {
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(id));
  if (e.experiment_id == "0") {
    return InvalidArgument(
        "Cannot delete the default experiment '0'. This is an internal "
        "experiment that is required for MLflow to function.");
  }
  const int64_t eid = *ParseId(id, "experiment_id");
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {Now(), eid};
    RETURN_IF_ERROR(
        tx.Exec("UPDATE tracking_experiments SET lifecycle_stage = 'deleted', "
                "last_update_time = ? WHERE id = ?",
                p));
    const Value q[] = {eid};
    return tx.Exec("UPDATE tracking_runs SET lifecycle_stage = 'deleted' WHERE experiment_id = ?",
                   q);
  });
}

Status TrackingStore::RestoreExperiment(const std::string& id) {
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(id));
  if (e.lifecycle_stage != "deleted") {
    return InvalidArgument(
        fmt::format("Cannot restore an active experiment. Experiment id: {}", id));
  }
  const int64_t eid = *ParseId(id, "experiment_id");
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {Now(), eid};
    RETURN_IF_ERROR(
        tx.Exec("UPDATE tracking_experiments SET lifecycle_stage = 'active', "
                "last_update_time = ? WHERE id = ?",
                p));
    const Value q[] = {eid};
    return tx.Exec("UPDATE tracking_runs SET lifecycle_stage = 'active' WHERE experiment_id = ?",
                   q);
  });
}

Status TrackingStore::SetExperimentTag(const std::string& id, const KeyValue& tag) {
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(id));
  if (e.lifecycle_stage != "active") {
    return InvalidArgument(
        fmt::format("The experiment {} must be in the 'active' state. Current state is {}.", id,
                    e.lifecycle_stage));
  }
  if (tag.key.empty()) return InvalidArgument("Missing value for required parameter 'key'.");
  const Value p[] = {*ParseId(id, "experiment_id"), tag.key, tag.value};
  return db_->Exec(
      "INSERT INTO tracking_experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
      p);
}

// ---------------------------------------------------------------- runs

StatusOr<Run> TrackingStore::CreateRun(const std::string& experiment_id, const std::string& user_id,
                                       const std::string& run_name, int64_t start_time,
                                       const std::vector<KeyValue>& tags) {
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id.empty() ? "0" : experiment_id));
  if (e.lifecycle_stage != "active") {
    return InvalidArgument(
        fmt::format("The experiment {} must be in the 'active' state. Current state is {}.",
                    e.experiment_id, e.lifecycle_stage));
  }
  const std::string run_id = NewRunId();
  std::string name = run_name;
  for (const auto& t : tags) {
    if (name.empty() && t.key == kRunNameTag) name = t.value;
  }
  // MLflow names unnamed runs with a random "adjective-animal-N"; sagebox uses the id's head.
  if (name.empty()) name = "run-" + run_id.substr(0, 8);
  const std::string artifact_uri =
      JoinArtifact(JoinArtifact(e.artifact_location, run_id), "artifacts");
  const int64_t eid = *ParseId(e.experiment_id, "experiment_id");
  if (Status tx_status = db_->InTransaction([&](db::Transaction& tx) -> Status {
        const Value p[] = {run_id,      eid, name, user_id, start_time == 0 ? Now() : start_time,
                           artifact_uri};
        RETURN_IF_ERROR(
            tx.Exec("INSERT INTO tracking_runs (run_id, experiment_id, run_name, user_id, status, "
                    "start_time, end_time, artifact_uri, lifecycle_stage) VALUES (?, ?, ?, ?, "
                    "'RUNNING', ?, "
                    "NULL, ?, 'active')",
                    p));
        std::vector<KeyValue> all = tags;
        all.push_back({kRunNameTag, name});
        for (const auto& t : all) {
          const Value tp[] = {run_id, t.key, t.key == kRunNameTag ? name : t.value};
          RETURN_IF_ERROR(
              tx.Exec("INSERT INTO tracking_run_tags (run_id, key, value) VALUES (?, ?, ?) "
                      "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                      tp));
        }
        return Status::Ok();
      });
      !tx_status.ok()) {
    return tx_status;
  }
  return GetRun(run_id);
}

StatusOr<Run> TrackingStore::GetRun(const std::string& run_id) {
  const Value p[] = {run_id};
  ASSIGN_OR_RETURN(
      Result r,
      db_->Query(fmt::format("SELECT {} FROM tracking_runs WHERE run_id = ?", kRunColumns), p));
  if (r.empty()) return NotFound(fmt::format("Run with id={} not found", run_id));
  Run run;
  run.info = RunInfoFrom(r, 0);
  if (auto cost = r.OptText(0, 9); cost.has_value()) {
    Decimal d;
    if (!Decimal::Parse(*cost, &d)) {
      return Corruption(fmt::format("run {}: cost_usd '{}' is not a number", run_id, *cost));
    }
    run.cost_usd = d;
  }
  ASSIGN_OR_RETURN(Result m, db_->Query("SELECT key, value, is_nan, timestamp_ms, step FROM "
                                        "tracking_latest_metrics WHERE run_id = ? ORDER BY key",
                                        p));
  for (size_t i = 0; i < m.size(); ++i) {
    run.metrics.push_back({m.Text(i, 0), StoredValue(m, i, 1, 2), m.Int(i, 3), m.Int(i, 4)});
  }
  ASSIGN_OR_RETURN(Result pr, db_->Query("SELECT key, value FROM tracking_params WHERE run_id = ? "
                                         "ORDER BY key",
                                         p));
  run.params = KeyValues(pr);
  ASSIGN_OR_RETURN(Result t, db_->Query("SELECT key, value FROM tracking_run_tags WHERE run_id = ? "
                                        "ORDER BY key",
                                        p));
  run.tags = KeyValues(t);
  return run;
}

StatusOr<RunInfo> TrackingStore::UpdateRun(const std::string& run_id, const std::string& status,
                                           std::optional<int64_t> end_time,
                                           const std::string& run_name) {
  if (!status.empty() && !ValidStatus(status)) {
    return InvalidArgument(fmt::format(
        "Invalid value '{}' for parameter 'status': expected RUNNING, SCHEDULED, FINISHED, "
        "FAILED or KILLED",
        status));
  }
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  if (run.info.lifecycle_stage != "active") {
    return InvalidArgument(
        fmt::format("The run {} must be in the 'active' state. Current state is {}.", run_id,
                    run.info.lifecycle_stage));
  }
  if (Status tx_status = db_->InTransaction([&](db::Transaction& tx) -> Status {
        const Value p[] = {status.empty() ? run.info.status : status,
                           end_time.has_value()
                               ? Value(*end_time)
                               : (run.info.end_time.has_value() ? Value(*run.info.end_time)
                                                                : Value(std::monostate{})),
                           run_name.empty() ? run.info.run_name : run_name, run_id};
        RETURN_IF_ERROR(tx.Exec(
            "UPDATE tracking_runs SET status = ?, end_time = ?, run_name = ? WHERE run_id = ?", p));
        if (!run_name.empty()) {
          const Value tp[] = {run_id, kRunNameTag, run_name};
          RETURN_IF_ERROR(
              tx.Exec("INSERT INTO tracking_run_tags (run_id, key, value) VALUES (?, ?, ?) "
                      "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                      tp));
        }
        return Status::Ok();
      });
      !tx_status.ok()) {
    return tx_status;
  }
  ASSIGN_OR_RETURN(Run updated, GetRun(run_id));
  return updated.info;
}

Status TrackingStore::DeleteRun(const std::string& run_id) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  const Value p[] = {run_id};
  return db_->Exec("UPDATE tracking_runs SET lifecycle_stage = 'deleted' WHERE run_id = ?", p);
}

Status TrackingStore::RestoreRun(const std::string& run_id) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  const Value p[] = {run_id};
  return db_->Exec("UPDATE tracking_runs SET lifecycle_stage = 'active' WHERE run_id = ?", p);
}

Status TrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                               const std::vector<KeyValue>& params,
                               const std::vector<KeyValue>& tags) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  if (run.info.lifecycle_stage != "active") {
    return InvalidArgument(
        fmt::format("The run {} must be in the 'active' state. Current state is {}.", run_id,
                    run.info.lifecycle_stage));
  }
  for (const auto& m : metrics) {
    if (m.key.empty()) return InvalidArgument("Invalid metric: the key must not be empty");
  }
  for (const auto& p : params) {
    if (p.key.empty()) return InvalidArgument("Invalid param: the key must not be empty");
  }
  for (const auto& t : tags) {
    if (t.key.empty()) return InvalidArgument("Invalid tag: the key must not be empty");
  }
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    for (const auto& p : params) {
      const Value q[] = {run_id, p.key};
      ASSIGN_OR_RETURN(Result old, tx.Query("SELECT value FROM tracking_params WHERE run_id = ? "
                                            "AND key = ?",
                                            q));
      if (!old.empty()) {
        if (old.Text(0, 0) == p.value) continue;  // idempotent, as MLflow
        return InvalidArgument(fmt::format(
            "Changing param values is not allowed. Param with key='{}' was already logged with "
            "value='{}' for run ID='{}'. Attempted logging new value '{}'.",
            p.key, old.Text(0, 0), run_id, p.value));
      }
      const Value ins[] = {run_id, p.key, p.value};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO tracking_params (run_id, key, value) VALUES (?, ?, ?)", ins));
    }
    for (const auto& m : metrics) {
      // MLflow's SQL store: NaN as is_nan with value 0, ±inf as ±DBL_MAX.
      const bool nan = std::isnan(m.value);
      double v = nan ? 0.0 : m.value;
      if (std::isinf(v)) v = v > 0 ? DBL_MAX : -DBL_MAX;
      const int64_t ts = m.timestamp;
      const Value ins[] = {run_id, m.key, v, int64_t{nan ? 1 : 0}, ts, m.step};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO tracking_metrics (run_id, key, value, is_nan, "
                  "timestamp_ms, step) VALUES (?, ?, ?, ?, ?, ?)",
                  ins));
      const Value q[] = {run_id, m.key};
      ASSIGN_OR_RETURN(Result cur, tx.Query("SELECT value, is_nan, timestamp_ms, step FROM "
                                            "tracking_latest_metrics WHERE run_id = ? AND key = ?",
                                            q));
      bool newer = cur.empty();
      if (!newer) {
        // The latest is the greatest (step, timestamp, value); NaN compares lowest.
        const double old_v = cur.Int(0, 1) != 0 ? -INFINITY : cur.Double(0, 0);
        const double new_v = nan ? -INFINITY : v;
        const auto old_key = std::make_tuple(cur.Int(0, 3), cur.Int(0, 2), old_v);
        const auto new_key = std::make_tuple(m.step, ts, new_v);
        newer = old_key <= new_key;
      }
      if (newer) {
        RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO tracking_latest_metrics (run_id, key, value, is_nan, timestamp_ms, step) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = "
            "excluded.value, is_nan = excluded.is_nan, timestamp_ms = excluded.timestamp_ms, "
            "step = excluded.step",
            ins));
      }
    }
    for (const auto& t : tags) {
      const Value ins[] = {run_id, t.key, t.value};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO tracking_run_tags (run_id, key, value) VALUES (?, ?, ?) "
                  "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                  ins));
      if (t.key == kRunNameTag) {  // MLflow keeps run_name and the tag in step
        const Value u[] = {t.value, run_id};
        RETURN_IF_ERROR(tx.Exec("UPDATE tracking_runs SET run_name = ? WHERE run_id = ?", u));
      }
    }
    return Status::Ok();
  });
}

Status TrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  if (run.info.lifecycle_stage != "active") {
    return InvalidArgument(
        fmt::format("The run {} must be in the 'active' state. Current state is {}.", run_id,
                    run.info.lifecycle_stage));
  }
  const Value p[] = {run_id, key};
  ASSIGN_OR_RETURN(Result r,
                   db_->Query("DELETE FROM tracking_run_tags WHERE run_id = ? AND key = ? "
                              "RETURNING key",
                              p));
  if (r.empty()) {
    return NotFound(fmt::format("No tag with name: {} in run with id {}", key, run_id));
  }
  return Status::Ok();
}

StatusOr<std::vector<Metric>> TrackingStore::MetricHistory(const std::string& run_id,
                                                           const std::string& key) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  const Value p[] = {run_id, key};
  ASSIGN_OR_RETURN(Result r, db_->Query("SELECT key, value, is_nan, timestamp_ms, step FROM "
                                        "tracking_metrics WHERE run_id = ? AND key = ? ORDER BY "
                                        "step, timestamp_ms, id",
                                        p));
  std::vector<Metric> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.Text(i, 0), StoredValue(r, i, 1, 2), r.Int(i, 3), r.Int(i, 4)});
  }
  return out;
}

StatusOr<Page<Run>> TrackingStore::SearchRuns(const SearchRequest& req) {
  ASSIGN_OR_RETURN(auto paging, Paging(req, 50000));
  ASSIGN_OR_RETURN(auto clauses, ParseFilter(req.filter, SearchKind::kRuns));
  std::vector<Value> params;
  std::string sql = "SELECT r.run_id FROM tracking_runs r WHERE " +
                    LifecycleCondition(req.view, "r.lifecycle_stage") + " AND r.experiment_id IN (";
  if (req.experiment_ids.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_ids'.");
  }
  for (size_t i = 0; i < req.experiment_ids.size(); ++i) {
    ASSIGN_OR_RETURN(int64_t id, ParseId(req.experiment_ids[i], "experiment_ids"));
    sql += i ? ", ?" : "?";
    params.emplace_back(id);
  }
  sql += ")";
  const db::Backend backend = db_->backend();
  for (const Clause& c : clauses) {
    sql += " AND ";
    switch (c.entity) {
      case Entity::kMetric:
        sql +=
            "EXISTS (SELECT 1 FROM tracking_latest_metrics m WHERE m.run_id = r.run_id AND "
            "m.key = ? AND m.is_nan = 0 AND m.value " +
            c.comparator + " ?)";
        params.emplace_back(c.key);
        params.emplace_back(c.number);
        break;
      case Entity::kParam:
        TagExists("tracking_params", "run_id", "r.run_id", c, backend, &sql, &params);
        break;
      case Entity::kTag:
        TagExists("tracking_run_tags", "run_id", "r.run_id", c, backend, &sql, &params);
        break;
      case Entity::kAttribute:
        if (c.numeric) {
          NumericComparison("r." + c.key, c, &sql, &params);
        } else {
          StringComparison("r." + c.key, c, backend, &sql, &params);
        }
        break;
    }
  }
  std::string order = " ORDER BY 1 = 1";
  for (const auto& text : req.order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(text, SearchKind::kRuns));
    std::string expr;
    switch (o.entity) {
      case Entity::kMetric:
        expr =
            "(SELECT CASE WHEN m.is_nan = 1 THEN NULL ELSE m.value END FROM "
            "tracking_latest_metrics m WHERE m.run_id = r.run_id AND m.key = ?)";
        break;
      case Entity::kParam:
        expr = "(SELECT p.value FROM tracking_params p WHERE p.run_id = r.run_id AND p.key = ?)";
        break;
      case Entity::kTag:
        expr =
            "(SELECT t.value FROM tracking_run_tags t WHERE t.run_id = r.run_id AND "
            "t.key = ?)";
        break;
      case Entity::kAttribute:
        expr = "r." + o.key;
        break;
    }
    OrderTerm(expr, o.ascending, &order);
    if (o.entity != Entity::kAttribute) {  // the expression appears twice in OrderTerm
      params.emplace_back(o.key);
      params.emplace_back(o.key);
    }
  }
  // MLflow's natural order: newest start first, run_id breaking ties.
  order += ", r.start_time DESC, r.run_id ASC";
  sql += order;
  Limit(paging, &sql, &params);
  ASSIGN_OR_RETURN(Result r, db_->Query(sql, params));
  Page<Run> page;
  for (size_t i = 0; i < r.size() && static_cast<int64_t>(i) < paging.second; ++i) {
    ASSIGN_OR_RETURN(Run run, GetRun(r.Text(i, 0)));
    page.items.push_back(std::move(run));
  }
  page.next_page_token = NextToken(r.size(), paging);
  return page;
}

Status TrackingStore::SetCost(const std::string& run_id, Decimal cost_usd) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  const std::string text = cost_usd.ToString();
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {text, run_id};
    RETURN_IF_ERROR(tx.Exec("UPDATE tracking_runs SET cost_usd = ? WHERE run_id = ?", p));
    const Value t[] = {run_id, kCostTag, text};
    return tx.Exec(
        "INSERT INTO tracking_run_tags (run_id, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        t);
  });
}

// ---------------------------------------------------------------- artifacts

StatusOr<std::string> TrackingStore::ArtifactDir(const std::string& run_id) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  std::string dir = run.info.artifact_uri;
  if (dir.starts_with("file://")) dir = dir.substr(7);
  return dir;
}

StatusOr<std::vector<Artifact>> TrackingStore::RecordArtifacts(const std::string& run_id) {
  namespace fs = std::filesystem;
  ASSIGN_OR_RETURN(std::string dir, ArtifactDir(run_id));
  std::vector<Artifact> out;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      Artifact a;
      a.path = fs::relative(it->path(), dir, ec).generic_string();
      a.size = static_cast<int64_t>(it->file_size(ec));
      ASSIGN_OR_RETURN(a.sha256, Sha256File(it->path().string()));
      out.push_back(std::move(a));
    }
    if (ec) return IoError(fmt::format("listing {}: {}", dir, ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const Artifact& a, const Artifact& b) { return a.path < b.path; });
  if (Status tx_status = db_->InTransaction([&](db::Transaction& tx) -> Status {
        const Value d[] = {run_id};
        RETURN_IF_ERROR(tx.Exec("DELETE FROM tracking_artifacts WHERE run_id = ?", d));
        for (const auto& a : out) {
          const Value p[] = {run_id, a.path, a.size, a.sha256};
          RETURN_IF_ERROR(tx.Exec(
              "INSERT INTO tracking_artifacts (run_id, path, size, sha256) VALUES (?, ?, ?, ?)",
              p));
        }
        return Status::Ok();
      });
      !tx_status.ok()) {
    return tx_status;
  }
  return out;
}

StatusOr<std::vector<TrackingStore::ArtifactEntry>> TrackingStore::ListArtifacts(
    const std::string& run_id, const std::string& path) {
  ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  const Value p[] = {run_id};
  ASSIGN_OR_RETURN(Result r, db_->Query("SELECT path, size FROM tracking_artifacts WHERE "
                                        "run_id = ? ORDER BY path",
                                        p));
  std::string prefix = path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) prefix += '/';
  std::vector<ArtifactEntry> out;
  for (size_t i = 0; i < r.size(); ++i) {
    const std::string& full = r.Text(i, 0);
    if (!full.starts_with(prefix)) continue;
    const size_t slash = full.find('/', prefix.size());
    if (slash == std::string::npos) {
      out.push_back({full, false, r.Int(i, 1)});
    } else {
      std::string dir = full.substr(0, slash);
      if (out.empty() || out.back().path != dir) out.push_back({dir, true, 0});
    }
  }
  return out;
}

// ---------------------------------------------------------------- registry

namespace {

StatusOr<int64_t> ModelId(db::Database* db, const std::string& name) {
  const Value p[] = {name};
  ASSIGN_OR_RETURN(Result r, db->Query("SELECT id FROM tracking_models WHERE name = ?", p));
  if (r.empty()) return NotFound(fmt::format("Registered Model with name={} not found", name));
  return r.Int(0, 0);
}

Status CheckAlias(const std::string& alias) {
  // MLflow reserves "latest" and version-like aliases ("v1"), which name versions already.
  if (alias.empty()) return InvalidArgument("Missing value for required parameter 'alias'.");
  std::string lower = alias;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool version_like = lower.size() > 1 && lower[0] == 'v' &&
                            lower.find_first_not_of("0123456789", 1) == std::string::npos;
  if (lower == "latest" || version_like) {
    return InvalidArgument(fmt::format("'{}' alias name (case insensitive) is reserved.", alias));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ModelVersion> TrackingStore::GetModelVersion(const std::string& name,
                                                      const std::string& version) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  auto v = ParseId(version, "version");
  if (!v.ok())
    return InvalidArgument(fmt::format("Model version must be an integer, got '{}'", version));
  const Value p[] = {mid, *v};
  ASSIGN_OR_RETURN(Result r,
                   db_->Query("SELECT description, source, run_id, run_link, status, "
                              "creation_timestamp, last_updated_timestamp FROM "
                              "tracking_model_versions WHERE model_id = ? AND version = ?",
                              p));
  if (r.empty()) {
    return NotFound(fmt::format("Model Version (name={}, version={}) not found", name, version));
  }
  ModelVersion mv;
  mv.name = name;
  mv.version = std::to_string(*v);
  mv.description = r.Text(0, 0);
  mv.source = r.Text(0, 1);
  mv.run_id = r.Text(0, 2);
  mv.run_link = r.Text(0, 3);
  mv.status = r.Text(0, 4);
  mv.creation_timestamp = r.Int(0, 5);
  mv.last_updated_timestamp = r.Int(0, 6);
  ASSIGN_OR_RETURN(Result t, db_->Query("SELECT key, value FROM tracking_model_version_tags WHERE "
                                        "model_id = ? AND version = ? ORDER BY key",
                                        p));
  mv.tags = KeyValues(t);
  ASSIGN_OR_RETURN(Result a, db_->Query("SELECT alias FROM tracking_model_aliases WHERE "
                                        "model_id = ? AND version = ? ORDER BY alias",
                                        p));
  for (size_t i = 0; i < a.size(); ++i) mv.aliases.push_back(a.Text(i, 0));
  return mv;
}

StatusOr<RegisteredModel> TrackingStore::GetRegisteredModel(const std::string& name) {
  const Value p[] = {name};
  ASSIGN_OR_RETURN(Result r, db_->Query("SELECT id, name, description, creation_timestamp, "
                                        "last_updated_timestamp FROM tracking_models WHERE "
                                        "name = ?",
                                        p));
  if (r.empty()) return NotFound(fmt::format("Registered Model with name={} not found", name));
  RegisteredModel m;
  const Value id[] = {r.Int(0, 0)};
  m.name = r.Text(0, 1);
  m.description = r.Text(0, 2);
  m.creation_timestamp = r.Int(0, 3);
  m.last_updated_timestamp = r.Int(0, 4);
  ASSIGN_OR_RETURN(Result t, db_->Query("SELECT key, value FROM tracking_model_tags WHERE "
                                        "model_id = ? ORDER BY key",
                                        id));
  m.tags = KeyValues(t);
  ASSIGN_OR_RETURN(Result a, db_->Query("SELECT alias, version FROM tracking_model_aliases WHERE "
                                        "model_id = ? ORDER BY alias",
                                        id));
  for (size_t i = 0; i < a.size(); ++i) {
    m.aliases.emplace_back(a.Text(i, 0), std::to_string(a.Int(i, 1)));
  }
  ASSIGN_OR_RETURN(Result v, db_->Query("SELECT MAX(version) FROM tracking_model_versions WHERE "
                                        "model_id = ?",
                                        id));
  if (!v.empty() && !v.IsNull(0, 0)) {
    ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(m.name, std::to_string(v.Int(0, 0))));
    m.latest_versions.push_back(std::move(mv));
  }
  return m;
}

StatusOr<RegisteredModel> TrackingStore::CreateRegisteredModel(const std::string& name,
                                                               const std::string& description,
                                                               const std::vector<KeyValue>& tags) {
  if (name.empty()) {
    return InvalidArgument("Registered model name cannot be empty.");
  }
  const int64_t now = Now();
  Status s = db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {name, description, now, now};
    ASSIGN_OR_RETURN(Result r, tx.Query("INSERT INTO tracking_models (name, description, "
                                        "creation_timestamp, last_updated_timestamp, "
                                        "next_version) VALUES (?, ?, ?, ?, 1) RETURNING id",
                                        p));
    for (const auto& t : tags) {
      const Value tp[] = {r.Int(0, 0), t.key, t.value};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO tracking_model_tags (model_id, key, value) VALUES "
                  "(?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = "
                  "excluded.value",
                  tp));
    }
    return Status::Ok();
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("Registered Model (name={}) already exists.", name));
  }
  RETURN_IF_ERROR(s);
  return GetRegisteredModel(name);
}

StatusOr<RegisteredModel> TrackingStore::RenameRegisteredModel(const std::string& name,
                                                               const std::string& new_name) {
  if (new_name.empty()) return InvalidArgument("Registered model name cannot be empty.");
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {new_name, Now(), mid};
  Status s =
      db_->Exec("UPDATE tracking_models SET name = ?, last_updated_timestamp = ? WHERE id = ?", p);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(fmt::format("Registered Model (name={}) already exists.", new_name));
  }
  RETURN_IF_ERROR(s);
  return GetRegisteredModel(new_name);
}

StatusOr<RegisteredModel> TrackingStore::UpdateRegisteredModel(const std::string& name,
                                                               const std::string& description) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {description, Now(), mid};
  RETURN_IF_ERROR(db_->Exec(
      "UPDATE tracking_models SET description = ?, last_updated_timestamp = ? WHERE id = ?", p));
  return GetRegisteredModel(name);
}

Status TrackingStore::DeleteRegisteredModel(const std::string& name) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {mid};
    // Children first: the cascade is declared, but explicit deletes do not depend on it.
    RETURN_IF_ERROR(tx.Exec("DELETE FROM tracking_model_aliases WHERE model_id = ?", p));
    RETURN_IF_ERROR(tx.Exec("DELETE FROM tracking_model_version_tags WHERE model_id = ?", p));
    RETURN_IF_ERROR(tx.Exec("DELETE FROM tracking_model_versions WHERE model_id = ?", p));
    RETURN_IF_ERROR(tx.Exec("DELETE FROM tracking_model_tags WHERE model_id = ?", p));
    return tx.Exec("DELETE FROM tracking_models WHERE id = ?", p);
  });
}

StatusOr<Page<RegisteredModel>> TrackingStore::SearchRegisteredModels(const SearchRequest& req) {
  ASSIGN_OR_RETURN(auto paging, Paging(req, 1000));
  ASSIGN_OR_RETURN(auto clauses, ParseFilter(req.filter, SearchKind::kRegisteredModels));
  std::string sql = "SELECT m.name FROM tracking_models m WHERE 1 = 1";
  std::vector<Value> params;
  for (const Clause& c : clauses) {
    sql += " AND ";
    if (c.entity == Entity::kTag) {
      TagExists("tracking_model_tags", "model_id", "m.id", c, db_->backend(), &sql, &params);
    } else {
      StringComparison("m." + c.key, c, db_->backend(), &sql, &params);
    }
  }
  std::string order = " ORDER BY 1 = 1";
  bool has_name = false;
  for (const auto& text : req.order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(text, SearchKind::kRegisteredModels));
    has_name = has_name || o.key == "name";
    OrderTerm("m." + o.key, o.ascending, &order);
  }
  if (!has_name) order += ", m.name ASC";  // MLflow's tie-breaker
  sql += order;
  Limit(paging, &sql, &params);
  ASSIGN_OR_RETURN(Result r, db_->Query(sql, params));
  Page<RegisteredModel> page;
  for (size_t i = 0; i < r.size() && static_cast<int64_t>(i) < paging.second; ++i) {
    ASSIGN_OR_RETURN(RegisteredModel m, GetRegisteredModel(r.Text(i, 0)));
    page.items.push_back(std::move(m));
  }
  page.next_page_token = NextToken(r.size(), paging);
  return page;
}

Status TrackingStore::SetRegisteredModelTag(const std::string& name, const KeyValue& tag) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  if (tag.key.empty()) return InvalidArgument("Missing value for required parameter 'key'.");
  const Value p[] = {mid, tag.key, tag.value};
  return db_->Exec(
      "INSERT INTO tracking_model_tags (model_id, key, value) VALUES (?, ?, ?) "
      "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
      p);
}

Status TrackingStore::SetAlias(const std::string& name, const std::string& alias,
                               const std::string& version) {
  RETURN_IF_ERROR(CheckAlias(alias));
  ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {mid, alias, *ParseId(mv.version, "version")};
  return db_->Exec(
      "INSERT INTO tracking_model_aliases (model_id, alias, version) VALUES (?, ?, ?) "
      "ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version",
      p);
}

Status TrackingStore::DeleteAlias(const std::string& name, const std::string& alias) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {mid, alias};
  return db_->Exec("DELETE FROM tracking_model_aliases WHERE model_id = ? AND alias = ?", p);
}

StatusOr<ModelVersion> TrackingStore::GetVersionByAlias(const std::string& name,
                                                        const std::string& alias) {
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {mid, alias};
  ASSIGN_OR_RETURN(Result r, db_->Query("SELECT version FROM tracking_model_aliases WHERE "
                                        "model_id = ? AND alias = ?",
                                        p));
  if (r.empty()) {
    return NotFound(fmt::format("Registered model alias {} not found.", alias));
  }
  return GetModelVersion(name, std::to_string(r.Int(0, 0)));
}

StatusOr<ModelVersion> TrackingStore::CreateModelVersion(const std::string& name,
                                                         const std::string& source,
                                                         const std::string& run_id,
                                                         const std::string& run_link,
                                                         const std::string& description,
                                                         const std::vector<KeyValue>& tags) {
  if (source.empty()) return InvalidArgument("Missing value for required parameter 'source'.");
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  if (!run_id.empty()) {
    ASSIGN_OR_RETURN(Run run, GetRun(run_id));
  }
  const int64_t now = Now();
  int64_t version = 0;
  if (Status tx_status = db_->InTransaction([&](db::Transaction& tx) -> Status {
        const Value m[] = {now, mid};
        // Versions are never reused, even after a delete (MLflow keeps deleted ones internally).
        ASSIGN_OR_RETURN(Result r,
                         tx.Query("UPDATE tracking_models SET next_version = next_version "
                                  "+ 1, last_updated_timestamp = ? WHERE id = ? "
                                  "RETURNING next_version - 1",
                                  m));
        version = r.Int(0, 0);
        const Value p[] = {mid, version, description, source, run_id, run_link, now, now};
        RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO tracking_model_versions (model_id, version, description, source, run_id, "
            "run_link, status, creation_timestamp, last_updated_timestamp) VALUES (?, ?, ?, ?, ?, "
            "?, "
            "'READY', ?, ?)",
            p));
        for (const auto& t : tags) {
          const Value tp[] = {mid, version, t.key, t.value};
          RETURN_IF_ERROR(tx.Exec(
              "INSERT INTO tracking_model_version_tags (model_id, version, key, value) VALUES "
              "(?, ?, ?, ?) ON CONFLICT (model_id, version, key) DO UPDATE SET value = "
              "excluded.value",
              tp));
        }
        return Status::Ok();
      });
      !tx_status.ok()) {
    return tx_status;
  }
  return GetModelVersion(name, std::to_string(version));
}

StatusOr<ModelVersion> TrackingStore::UpdateModelVersion(const std::string& name,
                                                         const std::string& version,
                                                         const std::string& description) {
  ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const Value p[] = {description, Now(), mid, *ParseId(mv.version, "version")};
  RETURN_IF_ERROR(
      db_->Exec("UPDATE tracking_model_versions SET description = ?, "
                "last_updated_timestamp = ? WHERE model_id = ? AND version = ?",
                p));
  return GetModelVersion(name, version);
}

Status TrackingStore::DeleteModelVersion(const std::string& name, const std::string& version) {
  ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  const int64_t v = *ParseId(mv.version, "version");
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    const Value p[] = {mid, v};
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM tracking_model_aliases WHERE model_id = ? AND version = ?", p));
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM tracking_model_version_tags WHERE model_id = ? AND version = ?", p));
    return tx.Exec("DELETE FROM tracking_model_versions WHERE model_id = ? AND version = ?", p);
  });
}

StatusOr<Page<ModelVersion>> TrackingStore::SearchModelVersions(const SearchRequest& req) {
  ASSIGN_OR_RETURN(auto paging, Paging(req, 200000));
  ASSIGN_OR_RETURN(auto clauses, ParseFilter(req.filter, SearchKind::kModelVersions));
  std::string sql =
      "SELECT m.name, v.version FROM tracking_model_versions v JOIN tracking_models m ON "
      "m.id = v.model_id WHERE 1 = 1";
  std::vector<Value> params;
  for (const Clause& c : clauses) {
    sql += " AND ";
    if (c.entity == Entity::kTag) {
      sql +=
          "EXISTS (SELECT 1 FROM tracking_model_version_tags t WHERE t.model_id = v.model_id "
          "AND t.version = v.version AND t.key = ? AND ";
      params.emplace_back(c.key);
      StringComparison("t.value", c, db_->backend(), &sql, &params);
      sql += ")";
    } else {
      const std::string col = c.key == "name"     ? "m.name"
                              : c.key == "run_id" ? "v.run_id"
                                                  : "v.source";
      StringComparison(col, c, db_->backend(), &sql, &params);
    }
  }
  std::string order = " ORDER BY 1 = 1";
  for (const auto& text : req.order_by) {
    ASSIGN_OR_RETURN(OrderBy o, ParseOrderBy(text, SearchKind::kModelVersions));
    const std::string col = o.key == "name"             ? "m.name"
                            : o.key == "version_number" ? "v.version"
                                                        : "v." + o.key;
    OrderTerm(col, o.ascending, &order);
  }
  order += ", m.name ASC, v.version DESC";  // MLflow's default order
  sql += order;
  Limit(paging, &sql, &params);
  ASSIGN_OR_RETURN(Result r, db_->Query(sql, params));
  Page<ModelVersion> page;
  for (size_t i = 0; i < r.size() && static_cast<int64_t>(i) < paging.second; ++i) {
    ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(r.Text(i, 0), std::to_string(r.Int(i, 1))));
    page.items.push_back(std::move(mv));
  }
  page.next_page_token = NextToken(r.size(), paging);
  return page;
}

Status TrackingStore::SetModelVersionTag(const std::string& name, const std::string& version,
                                         const KeyValue& tag) {
  ASSIGN_OR_RETURN(ModelVersion mv, GetModelVersion(name, version));
  ASSIGN_OR_RETURN(int64_t mid, ModelId(db_, name));
  if (tag.key.empty()) return InvalidArgument("Missing value for required parameter 'key'.");
  const Value p[] = {mid, *ParseId(mv.version, "version"), tag.key, tag.value};
  return db_->Exec(
      "INSERT INTO tracking_model_version_tags (model_id, version, key, value) VALUES "
      "(?, ?, ?, ?) ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value",
      p);
}

StatusOr<BestRun> TrackingStore::RegisterBest(const std::string& experiment_id,
                                              const std::string& filter, const std::string& metric,
                                              const std::string& direction,
                                              const std::string& model_name,
                                              const std::string& alias,
                                              const std::vector<KeyValue>& lineage) {
  if (direction != "max" && direction != "min") {
    return InvalidArgument(fmt::format("direction '{}': expected \"max\" or \"min\"", direction));
  }
  if (metric.empty()) return InvalidArgument("metric: must not be empty");
  RETURN_IF_ERROR(CheckAlias(alias));
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id));
  // The runs matching the filter, best first: the metric in the direction, then the
  // earliest start, then the smallest run_id. NaN never wins (it is excluded).
  SearchRequest req;
  req.experiment_ids = {e.experiment_id};
  req.filter = filter;
  // Reuse SearchRuns for the filter, then pick the best among its matches here: the
  // filter's SQL stays in one place.
  BestRun best;
  bool found = false;
  std::string token;
  do {
    req.page_token = token;
    req.max_results = 1000;
    ASSIGN_OR_RETURN(Page<Run> page, SearchRuns(req));
    for (auto& run : page.items) {
      auto it = std::find_if(run.metrics.begin(), run.metrics.end(),
                             [&](const Metric& m) { return m.key == metric; });
      if (it == run.metrics.end() || std::isnan(it->value)) continue;
      const double v = it->value;
      bool better = !found;
      if (found) {
        const double b = best.metric_value;
        if (v != b) {
          better = direction == "max" ? v > b : v < b;
        } else if (run.info.start_time != best.run.info.start_time) {
          better = run.info.start_time < best.run.info.start_time;
        } else {
          better = run.info.run_id < best.run.info.run_id;
        }
      }
      if (better) {
        best.run = std::move(run);
        best.metric_value = v;
        found = true;
      }
    }
    token = page.next_page_token;
  } while (!token.empty());
  if (!found) {
    return NotFound(fmt::format("no active run of experiment {} matching '{}' has metric '{}'",
                                experiment_id, filter, metric));
  }
  auto model = GetRegisteredModel(model_name);
  if (!model.ok() && model.status().code() == StatusCode::kNotFound) {
    model = CreateRegisteredModel(model_name, "", {});
  }
  if (!model.ok()) return model.status();
  std::vector<KeyValue> tags = lineage;
  tags.push_back({"sagebox.metric", metric});
  tags.push_back({"sagebox.metric_value", fmt::format("{}", best.metric_value)});
  const std::string link = opt_.run_link_prefix.empty()
                               ? ""
                               : fmt::format("{}#/experiments/{}/runs/{}", opt_.run_link_prefix,
                                             e.experiment_id, best.run.info.run_id);
  ASSIGN_OR_RETURN(best.version,
                   CreateModelVersion(model_name, JoinArtifact(best.run.info.artifact_uri, "model"),
                                      best.run.info.run_id, link, "", tags));
  RETURN_IF_ERROR(SetAlias(model_name, alias, best.version.version));
  ASSIGN_OR_RETURN(best.version, GetModelVersion(model_name, best.version.version));
  return best;
}

}  // namespace sagebox::pipeline::tracking
