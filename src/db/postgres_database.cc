// postgres_database.cc: db::Database over libpq.
//
// Statements go through PQexecParams: parameters as text (the server infers their types
// from the statement, as for a literal) except blobs, which are sent binary and typed
// BYTEA so no escaping is involved; results come back as text and are decoded by column
// type (see Decode). Transactions are SERIALIZABLE so that code tested on SQLite (where
// one writer at a time makes every transaction serializable) behaves the same here;
// serialization failures and deadlocks roll back and rerun the transaction.
#include "db/postgres_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "db/pool.h"
#include "db/sql_text.h"

namespace sagebox::db {
namespace {

constexpr int kMaxAttempts = 30;  // of a transaction that met a serialization failure
constexpr size_t kMaxIdle = 8;    // connections kept open between calls

// Type OIDs (catalog/pg_type_d.h is a server header, not part of libpq-dev).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// What went wrong with `res` (null when libpq could not even send) on `conn`.
// *retryable is set for a serialization failure or deadlock: rerunning the whole
// transaction can succeed.
Status ErrorStatus(PGconn* conn, const PGresult* res, bool* retryable) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg =
      TrimNewline(res != nullptr && *PQresultErrorMessage(res) != '\0' ? PQresultErrorMessage(res)
                                                                       : PQerrorMessage(conn));
  if (msg.empty()) msg = "PostgreSQL error";
  // No SQLSTATE means libpq itself failed: the connection, nearly always.
  if (PQstatus(conn) != CONNECTION_OK || state == nullptr) return IoError(msg);
  std::string_view s = state;
  if (s == "40001" || s == "40P01") {
    *retryable = true;
    return IoError(msg + " (transaction conflict)");
  }
  if (s == "23505") return AlreadyExists(msg);
  if (s.starts_with("23")) return InvalidArgument(msg);
  // Connection exceptions, operator intervention (shutdown), insufficient resources.
  if (s.starts_with("08") || s.starts_with("57") || s.starts_with("53")) return IoError(msg);
  if (s.starts_with("XX")) return Internal(msg);
  return InvalidArgument(msg);  // syntax, undefined objects, bad values, …
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// One text-format field as a Value, by its column type.
Value Decode(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col) != 0) return std::monostate{};
  const char* p = PQgetvalue(res, row, col);
  std::string_view text(p, static_cast<size_t>(PQgetlength(res, row, col)));
  switch (PQftype(res, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      if (auto v = ParseInt(text)) return *v;
      break;
    case kNumericOid:
      // SUM(BIGINT) is NUMERIC in PostgreSQL but an integer in SQLite: integral values
      // come back as int64 so callers read both alike.
      if (auto v = ParseInt(text)) return *v;
      [[fallthrough]];
    case kFloat4Oid:
    case kFloat8Oid: {
      double d = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec == std::errc() && end == text.data() + text.size()) return d;
      break;
    }
    case kBoolOid:
      return int64_t{text == "t" ? 1 : 0};
    case kByteaOid: {
      size_t n = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(p), &n);
      if (bytes == nullptr) break;
      Blob blob{std::string(reinterpret_cast<const char*>(bytes), n)};
      PQfreemem(bytes);
      return blob;
    }
    default:
      break;
  }
  return std::string(text);
}

StatusOr<Result> ToResult(PGconn* conn, const PGresult* res, bool* retryable) {
  ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ErrorStatus(conn, res, retryable);
  int ncols = PQnfields(res);
  int nrows = PQntuples(res);
  std::vector<std::string> columns;
  columns.reserve(ncols);
  for (int c = 0; c < ncols; ++c) columns.emplace_back(PQfname(res, c));
  std::vector<std::vector<Value>> rows(nrows);
  for (int r = 0; r < nrows; ++r) {
    rows[r].reserve(ncols);
    for (int c = 0; c < ncols; ++c) rows[r].push_back(Decode(res, r, c));
  }
  Result result(std::move(columns), std::move(rows));
  if (auto n = ParseInt(PQcmdTuples(const_cast<PGresult*>(res)))) result.set_affected(*n);
  return result;
}

StatusOr<Result> QueryOn(PGconn* conn, std::string_view sql, std::span<const Value> params,
                         bool* retryable) {
  int count = 0;
  std::string text = RewritePlaceholders(sql, &count);
  if (count != static_cast<int>(params.size())) {
    return InvalidArgument("statement has " + std::to_string(count) + " placeholders but " +
                           std::to_string(params.size()) + " values were given");
  }
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  std::vector<int> lengths(params.size(), 0);
  std::vector<int> formats(params.size(), 0);
  std::vector<Oid> types(params.size(), 0);  // 0: the server infers, as for a literal
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    if (const auto* n = std::get_if<int64_t>(&v)) {
      texts[i] = std::to_string(*n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, *d);  // shortest text that round-trips
      texts[i].assign(buf, r.ptr);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      texts[i] = *s;
    } else if (const auto* b = std::get_if<Blob>(&v)) {
      values[i] = b->bytes.data();
      lengths[i] = static_cast<int>(b->bytes.size());
      formats[i] = 1;
      types[i] = kByteaOid;
      continue;
    } else {
      continue;  // NULL: a null pointer
    }
    values[i] = texts[i].c_str();
  }
  PgResult res(PQexecParams(conn, text.c_str(), static_cast<int>(params.size()), types.data(),
                            values.data(), lengths.data(), formats.data(), /*resultFormat=*/0));
  return ToResult(conn, res.get(), retryable);
}

// Several statements, no parameters: PQexec runs them all (inside the open transaction,
// if any) and reports the first failure.
Status ScriptOn(PGconn* conn, std::string_view sql, bool* retryable) {
  PgResult res(PQexec(conn, std::string(sql).c_str()));
  return ToResult(conn, res.get(), retryable).status();
}

class PgTransaction : public Transaction {
 public:
  explicit PgTransaction(PGconn* conn) : conn_(conn) {}
  StatusOr<Result> Query(std::string_view sql, std::span<const Value> params) override {
    return QueryOn(conn_, sql, params, &retryable_);
  }
  Status ExecScript(std::string_view sql) override { return ScriptOn(conn_, sql, &retryable_); }
  // Whether a statement met a serialization failure or deadlock.
  bool retryable() const { return retryable_; }

 private:
  PGconn* conn_;
  bool retryable_ = false;
};

// Jittered exponential backoff, so transactions that conflicted once do not meet again.
void Backoff(int attempt) {
  thread_local std::minstd_rand rng(static_cast<unsigned>(
      std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
      static_cast<size_t>(std::chrono::steady_clock::now().time_since_epoch().count())));
  int cap = 1 << std::min(attempt, 7);  // up to 128 ms
  std::uniform_int_distribution<int> ms(0, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
}

// A lost connection, or one still in a transaction (a failed ROLLBACK), is dropped:
// closing it makes the server roll back.
bool Reusable(PGconn* c) {
  return PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE;
}

class PostgresDatabase : public Database {
 public:
  explicit PostgresDatabase(std::string url) : url_(std::move(url)) {}

  Backend backend() const override { return Backend::kPostgres; }
  std::string Describe() const override { return RedactPostgresUrl(url_); }

  StatusOr<Result> Query(std::string_view sql, std::span<const Value> params) override {
    ASSIGN_OR_RETURN(auto conn, Acquire());
    // A lone statement is its own transaction, so a deadlock victim can simply rerun.
    for (int attempt = 1;; ++attempt) {
      bool retryable = false;
      StatusOr<Result> r = QueryOn(conn.get(), sql, params, &retryable);
      if (r.ok() || !retryable || attempt == kMaxAttempts) return r;
      Backoff(attempt);
    }
  }

  Status InTransaction(const std::function<Status(Transaction&)>& fn) override {
    ASSIGN_OR_RETURN(auto conn, Acquire());
    for (int attempt = 1;; ++attempt) {
      bool retryable = false;
      RETURN_IF_ERROR(ScriptOn(conn.get(), "BEGIN ISOLATION LEVEL SERIALIZABLE", &retryable)
                          .WithContext("BEGIN on " + Describe()));
      PgTransaction tx(conn.get());
      Status st;
      try {
        st = fn(tx);
      } catch (...) {
        RollBack(conn.get());
        throw;
      }
      if (st.ok()) st = Commit(conn.get(), &retryable);
      if (st.ok()) return st;
      RollBack(conn.get());
      if (!(retryable || tx.retryable()) || attempt == kMaxAttempts) return st;
      Backoff(attempt);
    }
  }

  Status OpenFirst() { return Acquire().status(); }

 private:
  StatusOr<ConnectionPool<PGconn*>::Lease> Acquire() {
    return pool_.Acquire([this] { return Connect(); });
  }

  StatusOr<PGconn*> Connect() {
    PGconn* c = PQconnectdb(url_.c_str());
    if (c == nullptr) return IoError("connecting to " + Describe() + ": out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
      Status st = IoError("connecting to " + Describe() + ": " + TrimNewline(PQerrorMessage(c)));
      PQfinish(c);
      return st;
    }
    // NOTICEs ("relation already exists, skipping") would go to stderr; they are not errors.
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    if (PQsetClientEncoding(c, "UTF8") != 0) {
      Status st = IoError("setting UTF8 on " + Describe() + ": " + TrimNewline(PQerrorMessage(c)));
      PQfinish(c);
      return st;
    }
    return c;
  }

  // COMMIT of a transaction that had already failed (fn ignored a statement's error)
  // "succeeds" with the tag ROLLBACK: that is a failure for the caller.
  static Status Commit(PGconn* c, bool* retryable) {
    PgResult res(PQexec(c, "COMMIT"));
    RETURN_IF_ERROR(ToResult(c, res.get(), retryable).status());
    if (std::string_view(PQcmdStatus(res.get())) == "ROLLBACK") {
      return InvalidArgument("transaction rolled back: a statement in it had failed");
    }
    return Status::Ok();
  }

  static void RollBack(PGconn* c) {
    if (PQtransactionStatus(c) == PQTRANS_IDLE) return;
    PgResult res(PQexec(c, "ROLLBACK"));  // failure: the pool drops the connection
  }

  const std::string url_;
  ConnectionPool<PGconn*> pool_{kMaxIdle, &PQfinish, &Reusable};
};

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  std::string out(url);
  size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  size_t start = scheme + 3;
  size_t end = out.find_first_of("/?", start);
  if (end == std::string::npos) end = out.size();
  size_t at = out.rfind('@', end);
  if (at != std::string::npos && at >= start) {
    size_t colon = out.find(':', start);
    if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  size_t query = out.find('?');
  for (size_t p = query; p != std::string::npos; p = out.find('&', p + 1)) {
    if (out.compare(p + 1, 9, "password=") != 0) continue;
    size_t value = p + 10;
    size_t stop = out.find('&', value);
    out.replace(value, (stop == std::string::npos ? out.size() : stop) - value, "***");
  }
  return out;
}

StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? TrimNewline(err) : "out of memory";
    PQfreemem(err);
    // libpq quotes the URL, password and all.
    for (size_t at = why.find(url); at != std::string::npos; at = why.find(url, at + 1)) {
      why.replace(at, url.size(), RedactPostgresUrl(url));
    }
    return InvalidArgument("malformed PostgreSQL URL " + RedactPostgresUrl(url) + ": " + why);
  }
  PQconninfoFree(opts);
  auto db = std::make_unique<PostgresDatabase>(url);
  RETURN_IF_ERROR(db->OpenFirst());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace sagebox::db
