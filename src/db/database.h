// database.h: the relational database every module keeps its small transactional
// state in (users, job runs, annotations, query logs, sessions).
//
// Two backends behind one interface: SQLite embedded (`<data>/sagebox.db`, WAL mode,
// busy timeout) for one machine, and PostgreSQL 15 through libpq (`postgresql://…`) so
// several `sagebox serve` processes can share one state. Callers write one SQL dialect:
//   - placeholders are `?` (rewritten to `$1`, `$2`… for PostgreSQL);
//   - migrations may use the macros of `Migration::sql` below for the few types that
//     differ (auto-increment ids, blobs);
//   - everything else is the common subset of both (TEXT, BIGINT, DOUBLE PRECISION,
//     `INSERT … RETURNING`, `ON CONFLICT … DO`, CHECK constraints, foreign keys).
// Declare PRIMARY KEY columns NOT NULL (or use {{id}}): SQLite, unlike PostgreSQL, lets a
// NULL into a primary key that is not INTEGER PRIMARY KEY.
// Time is stored as BIGINT (Unix seconds or microseconds, named in the column), booleans
// as BIGINT 0/1, money as TEXT holding an exact Decimal.
//
// Thread-safety: a Database is safe for concurrent use; it hands each call a pooled
// connection. A Transaction object is not: one owner thread for its whole life.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace sagebox::db {

// Bytes that are bound as a BLOB (SQLite) / BYTEA (PostgreSQL), not as text.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// One SQL value. NULL is std::monostate.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// The rows of one statement, fully read (the data of this database is small per call).
class Result {
 public:
  Result() = default;
  Result(std::vector<std::string> columns, std::vector<std::vector<Value>> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  const std::vector<std::string>& columns() const { return columns_; }
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<Value>& row(size_t i) const { return rows_[i]; }
  // Rows changed by an INSERT/UPDATE/DELETE without RETURNING.
  int64_t affected() const { return affected_; }
  void set_affected(int64_t n) { affected_ = n; }

  // Typed access; a NULL or a value of another type is a programmer error (asserts) except
  // where the accessor says otherwise. Integers read from PostgreSQL text come back as int64.
  bool IsNull(size_t row, size_t col) const;
  int64_t Int(size_t row, size_t col) const;
  double Double(size_t row, size_t col) const;  // also accepts an integer
  const std::string& Text(size_t row, size_t col) const;
  std::string Bytes(size_t row, size_t col) const;                   // a Blob, or Text as bytes
  std::optional<std::string> OptText(size_t row, size_t col) const;  // NULL → nullopt
  std::optional<int64_t> OptInt(size_t row, size_t col) const;       // NULL → nullopt

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Value>> rows_;
  int64_t affected_ = 0;
};

// Statements inside one transaction. Created only by Database::InTransaction.
class Transaction {
 public:
  virtual ~Transaction() = default;
  // Runs one statement with `?` placeholders bound to `params` in order.
  // AlreadyExists for a UNIQUE or PRIMARY KEY violation; InvalidArgument for other
  // constraint failures and for SQL the backend rejects (message has the backend's
  // text); IoError when the connection is lost.
  virtual StatusOr<Result> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  Status Exec(std::string_view sql, std::span<const Value> params = {}) {
    auto r = Query(sql, params);
    return r.ok() ? Status::Ok() : r.status();
  }
  // Runs several statements separated by ';' (a migration, a test's schema), without
  // parameters. Errors as Query; the statements before a failing one stay in the
  // transaction until it rolls back. Unimplemented in a Transaction that has no backend.
  virtual Status ExecScript(std::string_view sql) {
    (void)sql;
    return Unimplemented("ExecScript");
  }
};

enum class Backend { kSqlite, kPostgres };

// A schema change, applied once, in order of version within its component.
struct Migration {
  std::string component;  // "platform", "label", "pipeline", ...
  int version = 0;        // 1, 2, 3 … within the component; never renumbered
  std::string name;       // "users and tokens"
  // SQL, one or more statements separated by ';' at line ends. Macros, replaced per backend:
  //   {{id}}     an auto-increment BIGINT primary key
  //              (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT; PostgreSQL: BIGINT GENERATED
  //               BY DEFAULT AS IDENTITY PRIMARY KEY)
  //   {{blob}}   a byte column (BLOB; BYTEA)
  std::string sql;
};

class Database {
 public:
  virtual ~Database() = default;

  // Opens `url`: "postgresql://…" or "postgres://…" (libpq connection URI), "sqlite:PATH",
  // or a plain file path (SQLite). SQLite creates the file and its folder, turns on WAL,
  // foreign keys and a busy timeout. IoError when the server cannot be reached or the
  // file cannot be opened, InvalidArgument for a malformed URL.
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& url);

  virtual Backend backend() const = 0;
  // The URL without its password, for messages and logs.
  virtual std::string Describe() const = 0;

  // One statement in its own transaction (autocommit).
  virtual StatusOr<Result> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  Status Exec(std::string_view sql, std::span<const Value> params = {}) {
    auto r = Query(sql, params);
    return r.ok() ? Status::Ok() : r.status();
  }

  // Runs `fn` in one transaction: commits when it returns OK, rolls back otherwise (and
  // when it throws, or the process dies midway: nothing half-applied survives). A
  // serialization failure or a busy database is retried a few times before failing.
  // Returns fn's Status, or the commit's error (IoError when the retries ran out).
  //
  // Both backends give serializable transactions, so a read-then-write in `fn` is safe:
  // SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE), PostgreSQL runs ISOLATION
  // LEVEL SERIALIZABLE. A retry calls `fn` again from the start, so `fn` must not have
  // effects outside the transaction it cannot repeat. `fn` must not use this Database
  // itself (only the Transaction): with SQLite that would wait on its own write lock.
  virtual Status InTransaction(const std::function<Status(Transaction&)>& fn) = 0;
};

// Applies the migrations of `migrations` that the database has not recorded yet
// (table `schema_migrations`), each in its own transaction, serialized across
// processes (PostgreSQL advisory lock; SQLite's write lock). Refuses with
// Corruption when the database records a migration of a component that `migrations`
// does not know a version that high of (a newer sagebox wrote it).
// Components `migrations` does not mention are left alone, so each module may migrate
// its own list. InvalidArgument when versions do not rise from 1 within a component;
// a failing migration's error, with its component, version and name, after the ones
// before it were applied and nothing of it was.
Status Migrate(Database& db, std::span<const Migration> migrations);

}  // namespace sagebox::db
