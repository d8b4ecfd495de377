// sqlite_database.cc: db::Database over the SQLite C API.
//
// Each connection is opened with WAL (readers never block the writer), foreign keys on
// (off by default in SQLite), synchronous=NORMAL (durable at each WAL checkpoint; a power
// loss can drop the last commits but never corrupts) and a busy timeout. Transactions
// start with BEGIN IMMEDIATE: a deferred BEGIN that reads, then writes, can fail with
// SQLITE_BUSY at the upgrade no matter how long it waits, when another connection
// upgraded first; taking the write lock up front makes writers queue instead.
#include "db/sqlite_database.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "db/pool.h"

namespace sagebox::db {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kMaxAttempts = 5;  // of a whole transaction that met SQLITE_BUSY
constexpr size_t kMaxIdle = 4;   // connections kept open between calls

bool IsBusy(int code) {
  int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Maps a SQLite result code (extended) and message to the codes of database.h.
Status ErrorStatus(int code, const std::string& message) {
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return AlreadyExists(message);
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_ERROR:  // syntax, no such table or column, …
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return InvalidArgument(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return IoError(message + " (database busy)");
    default:
      return IoError(message);
  }
}

Status ConnectionError(sqlite3* db, int code, std::string_view what) {
  return ErrorStatus(sqlite3_extended_errcode(db) != 0 ? sqlite3_extended_errcode(db) : code,
                     std::string(what) + ": " + sqlite3_errmsg(db));
}

// Owns one prepared statement.
struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

Status Bind(sqlite3_stmt* stmt, std::span<const Value> params) {
  int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return InvalidArgument("statement has " + std::to_string(expected) + " placeholders but " +
                           std::to_string(params.size()) + " values were given");
  }
  for (int i = 0; i < expected; ++i) {
    const Value& v = params[i];
    int rc = SQLITE_OK;
    if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i + 1, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i + 1, *d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, i + 1, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      // A null pointer would bind NULL, so an empty blob is an explicit zero-length one.
      rc = b->bytes.empty() ? sqlite3_bind_zeroblob(stmt, i + 1, 0)
                            : sqlite3_bind_blob64(stmt, i + 1, b->bytes.data(), b->bytes.size(),
                                                  SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_null(stmt, i + 1);
    }
    if (rc != SQLITE_OK) return ErrorStatus(rc, "binding parameter " + std::to_string(i + 1));
  }
  return Status::Ok();
}

Value ColumnValue(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER:
      return int64_t{sqlite3_column_int64(stmt, col)};
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, col);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      size_t n = static_cast<size_t>(sqlite3_column_bytes(stmt, col));
      return Blob{p == nullptr ? std::string() : std::string(p, n)};
    }
    default:
      return std::monostate{};
  }
}

// Steps a prepared, bound statement to its end and collects its rows.
StatusOr<Result> Run(sqlite3* db, sqlite3_stmt* stmt) {
  int ncols = sqlite3_column_count(stmt);
  std::vector<std::string> columns;
  columns.reserve(ncols);
  for (int c = 0; c < ncols; ++c) columns.emplace_back(sqlite3_column_name(stmt, c));
  std::vector<std::vector<Value>> rows;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<Value>& row = rows.emplace_back();
    row.reserve(ncols);
    for (int c = 0; c < ncols; ++c) row.push_back(ColumnValue(stmt, c));
  }
  if (rc != SQLITE_DONE) return ConnectionError(db, rc, "sqlite");
  Result result(std::move(columns), std::move(rows));
  if (sqlite3_stmt_readonly(stmt) == 0) result.set_affected(sqlite3_changes64(db));
  return result;
}

// One statement on one connection. More than one statement in `sql` is refused: the
// rest would silently not run.
StatusOr<Result> QueryOn(sqlite3* db, std::string_view sql, std::span<const Value> params) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return ConnectionError(db, rc, "sqlite");
  if (stmt == nullptr) return InvalidArgument("empty SQL statement");
  sqlite3_stmt* rest = nullptr;
  size_t used = static_cast<size_t>(tail - sql.data());
  rc = sqlite3_prepare_v2(db, tail, static_cast<int>(sql.size() - used), &rest, nullptr);
  Stmt rest_owner(rest);
  if (rc != SQLITE_OK || rest != nullptr) {
    return InvalidArgument("Query takes one SQL statement; use ExecScript for several");
  }
  RETURN_IF_ERROR(Bind(stmt.get(), params));
  return Run(db, stmt.get());
}

Status ScriptOn(sqlite3* db, std::string_view sql) {
  const char* p = sql.data();
  const char* end = sql.data() + sql.size();
  while (p < end) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db, p, static_cast<int>(end - p), &raw, &tail);
    Stmt stmt(raw);
    if (rc != SQLITE_OK) return ConnectionError(db, rc, "sqlite");
    p = tail;
    if (stmt == nullptr) continue;  // only whitespace or comments were left
    RETURN_IF_ERROR(Run(db, stmt.get()).status());
  }
  return Status::Ok();
}

class SqliteTransaction : public Transaction {
 public:
  explicit SqliteTransaction(sqlite3* db) : db_(db) {}
  StatusOr<Result> Query(std::string_view sql, std::span<const Value> params) override {
    StatusOr<Result> r = QueryOn(db_, sql, params);
    NoteBusy(r.ok());
    return r;
  }
  Status ExecScript(std::string_view sql) override {
    Status st = ScriptOn(db_, sql);
    NoteBusy(st.ok());
    return st;
  }
  // Whether a statement met a busy database: the whole transaction is worth a retry.
  bool busy() const { return busy_; }

 private:
  void NoteBusy(bool ok) {
    if (!ok && IsBusy(sqlite3_extended_errcode(db_))) busy_ = true;
  }

  sqlite3* db_;
  bool busy_ = false;
};

void CloseConnection(sqlite3* db) { sqlite3_close_v2(db); }
// Outside a transaction: a failed ROLLBACK leaves one open, and closing ends it.
bool Reusable(sqlite3* db) { return sqlite3_get_autocommit(db) != 0; }

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(std::string path) : path_(std::move(path)) {}

  Backend backend() const override { return Backend::kSqlite; }
  std::string Describe() const override { return "sqlite:" + path_; }

  StatusOr<Result> Query(std::string_view sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(auto conn, Acquire());
    // An autocommit write waits in the busy handler; a few more tries cover the cases
    // SQLite does not wait for (a lock held across a WAL recovery).
    for (int attempt = 1;; ++attempt) {
      StatusOr<Result> r = QueryOn(conn.get(), sql, params);
      if (r.ok() || attempt == kMaxAttempts || !IsBusy(sqlite3_extended_errcode(conn.get()))) {
        return r;
      }
      Backoff(attempt);
    }
  }

  Status InTransaction(const std::function<Status(Transaction&)>& fn) override {
    ASSIGN_OR_RETURN(auto conn, Acquire());
    sqlite3* db = conn.get();
    for (int attempt = 1;; ++attempt) {
      Status begin = ScriptOn(db, "BEGIN IMMEDIATE");
      if (!begin.ok()) {
        if (attempt < kMaxAttempts && IsBusy(sqlite3_extended_errcode(db))) {
          Backoff(attempt);
          continue;
        }
        return begin.WithContext("BEGIN IMMEDIATE on " + Describe());
      }
      SqliteTransaction tx(db);
      Status st;
      try {
        st = fn(tx);
      } catch (...) {
        RollBack(db);
        throw;
      }
      if (st.ok()) st = ScriptOn(db, "COMMIT");
      if (st.ok()) return st;
      bool retry = (tx.busy() || IsBusy(sqlite3_extended_errcode(db))) && attempt < kMaxAttempts;
      RollBack(db);
      if (!retry) return st;
      Backoff(attempt);
    }
  }

  Status OpenFirst() { return Acquire().status(); }

 private:
  StatusOr<ConnectionPool<sqlite3*>::Lease> Acquire() {
    return pool_.Acquire([this] { return Connect(); });
  }

  StatusOr<sqlite3*> Connect() {
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) return IoError("creating " + parent.string() + ": " + ec.message());
    }
    sqlite3* db = nullptr;
    // NOMUTEX: the pool hands a connection to one thread at a time.
    int rc =
        sqlite3_open_v2(path_.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Status st = IoError("opening " + Describe() + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
      sqlite3_close_v2(db);
      return st;
    }
    sqlite3_extended_result_codes(db, 1);
    // The busy timeout first: switching to WAL itself needs a lock another opener may hold.
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    Status st = ScriptOn(db,
                         "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                         "PRAGMA synchronous=NORMAL");
    if (!st.ok()) {
      sqlite3_close_v2(db);
      if (st.code() == StatusCode::kInvalidArgument) st = IoError(st.message());
      return st.WithContext("opening " + Describe());
    }
    return db;
  }

  // A failed ROLLBACK leaves the connection in its transaction; the pool then closes it
  // (Reusable), which rolls back.
  static void RollBack(sqlite3* db) { (void)ScriptOn(db, "ROLLBACK"); }

  static void Backoff(int attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt * attempt));
  }

  const std::string path_;
  ConnectionPool<sqlite3*> pool_{kMaxIdle, &CloseConnection, &Reusable};
};

}  // namespace

StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  auto db = std::make_unique<SqliteDatabase>(path);
  RETURN_IF_ERROR(db->OpenFirst());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace sagebox::db
