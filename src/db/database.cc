// database.cc: what both backends share: Result's typed accessors, Database::Open's
// dispatch on the URL, the SQL text transforms of sql_text.h, and Migrate.
#include "db/database.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/postgres_database.h"
#include "db/sql_text.h"
#include "db/sqlite_database.h"

namespace sagebox::db {

bool Result::IsNull(size_t row, size_t col) const {
  return std::holds_alternative<std::monostate>(rows_[row][col]);
}

int64_t Result::Int(size_t row, size_t col) const {
  const Value& v = rows_[row][col];
  assert(std::holds_alternative<int64_t>(v) && "Result::Int on a non-integer");
  return std::get<int64_t>(v);
}

double Result::Double(size_t row, size_t col) const {
  const Value& v = rows_[row][col];
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  assert(std::holds_alternative<double>(v) && "Result::Double on a non-number");
  return std::get<double>(v);
}

const std::string& Result::Text(size_t row, size_t col) const {
  const Value& v = rows_[row][col];
  assert(std::holds_alternative<std::string>(v) && "Result::Text on a non-text");
  return std::get<std::string>(v);
}

std::string Result::Bytes(size_t row, size_t col) const {
  const Value& v = rows_[row][col];
  if (const auto* b = std::get_if<Blob>(&v)) return b->bytes;
  assert(std::holds_alternative<std::string>(v) && "Result::Bytes on a non-blob");
  return std::get<std::string>(v);
}

std::optional<std::string> Result::OptText(size_t row, size_t col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

std::optional<int64_t> Result::OptInt(size_t row, size_t col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
    return OpenPostgres(url);
  }
  if (u.starts_with("sqlite:")) u.remove_prefix(7);
  // Anything else with a scheme is a typo or a backend we do not have, not a file name.
  size_t colon = u.find("://");
  if (colon != std::string_view::npos) {
    return InvalidArgument("unknown database URL scheme in " + url +
                           " (postgresql://…, sqlite:PATH or a file path)");
  }
  if (u.empty()) return InvalidArgument("empty database path in '" + url + "'");
  return OpenSqlite(std::string(u));
}

namespace {

// Length of the dollar-quote tag at s[i] ("$tag$" or "$$"), or 0 if s[i] starts none.
// A tag is an identifier without '$'; "$1" is a positional parameter, not a tag.
size_t DollarTagLength(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] >= '0' && s[j] <= '9') return 0;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) != 0 || s[j] == '_' ||
                          static_cast<unsigned char>(s[j]) >= 0x80)) {
    ++j;
  }
  return j < s.size() && s[j] == '$' ? j - i + 1 : 0;
}

// The index just past a quoted run that opens at s[i] with `quote` (doubled quote =
// escaped; `backslash`: E'…' strings also escape with '\').
size_t SkipQuoted(std::string_view s, size_t i, char quote, bool backslash) {
  size_t j = i + 1;
  while (j < s.size()) {
    if (backslash && s[j] == '\\') {
      j += 2;
    } else if (s[j] == quote) {
      if (j + 1 < s.size() && s[j + 1] == quote) {
        j += 2;
      } else {
        return j + 1;
      }
    } else {
      ++j;
    }
  }
  return s.size();
}

// The index just past a /* … */ comment opening at s[i]; PostgreSQL nests them.
size_t SkipBlockComment(std::string_view s, size_t i) {
  int depth = 0;
  size_t j = i;
  while (j + 1 < s.size()) {
    if (s[j] == '/' && s[j + 1] == '*') {
      ++depth;
      j += 2;
    } else if (s[j] == '*' && s[j + 1] == '/') {
      j += 2;
      if (--depth == 0) return j;
    } else {
      ++j;
    }
  }
  return s.size();
}

}  // namespace

std::string RewritePlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  *count = 0;
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    size_t end = i + 1;  // one past the run copied verbatim
    if (c == '\'') {
      // E'…' (and e'…') strings take backslash escapes; the E was copied already.
      bool escape = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                    (i == 1 || std::isalnum(static_cast<unsigned char>(sql[i - 2])) == 0);
      end = SkipQuoted(sql, i, '\'', escape);
    } else if (c == '"') {
      end = SkipQuoted(sql, i, '"', false);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      end = SkipBlockComment(sql, i);
    } else if (c == '$') {
      if (size_t tag = DollarTagLength(sql, i); tag > 0) {
        size_t close = sql.find(sql.substr(i, tag), i + tag);
        end = close == std::string_view::npos ? sql.size() : close + tag;
      }
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++*count);
      ++i;
      continue;
    }
    out.append(sql.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string ExpandMacros(std::string_view sql, Backend backend) {
  static constexpr std::pair<std::string_view, std::string_view> kSqlite[] = {
      {"{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT"}, {"{{blob}}", "BLOB"}};
  static constexpr std::pair<std::string_view, std::string_view> kPostgres[] = {
      {"{{id}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}, {"{{blob}}", "BYTEA"}};
  const auto& macros = backend == Backend::kSqlite ? kSqlite : kPostgres;
  std::string out;
  size_t i = 0;
  while (i < sql.size()) {
    size_t open = sql.find("{{", i);
    if (open == std::string_view::npos) break;
    out.append(sql.substr(i, open - i));
    i = open;
    bool replaced = false;
    for (const auto& [macro, text] : macros) {
      if (sql.substr(open).starts_with(macro)) {
        out.append(text);
        i += macro.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out += "{{";
      i += 2;
    }
  }
  out.append(sql.substr(i));
  return out;
}

namespace {

// Checks the list a module passes: versions start at 1 and rise within a component.
// Returns InvalidArgument naming the first offender (a programmer error, caught by tests).
Status CheckMigrationList(std::span<const Migration> migrations) {
  std::map<std::string, int> last;
  for (const Migration& m : migrations) {
    int& prev = last[m.component];
    if (m.component.empty() || m.version <= prev) {
      return InvalidArgument("migration list: '" + m.component + "' version " +
                             std::to_string(m.version) + " does not follow version " +
                             std::to_string(prev));
    }
    prev = m.version;
  }
  return Status::Ok();
}

// Takes the migration lock as the transaction's first statement. PostgreSQL: before the
// transaction's snapshot exists, so the re-check that follows sees what a concurrent
// migrator committed while we waited (a SERIALIZABLE snapshot taken before the wait would
// not). The advisory lock also covers the CREATE TABLE of a fresh database, where two
// CREATE TABLE IF NOT EXISTS would otherwise race on the catalog. SQLite: BEGIN IMMEDIATE
// has already taken the write lock.
constexpr int64_t kMigrationLockKey = 0x5a6eb0c5d8;  // any constant; "sagebox db"

Status LockMigrations(Transaction& tx, Backend backend, bool table_exists) {
  if (backend != Backend::kPostgres) return Status::Ok();
  if (table_exists) return tx.Exec("LOCK TABLE schema_migrations IN EXCLUSIVE MODE");
  return tx.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Migrate(Database& db, std::span<const Migration> migrations) {
  RETURN_IF_ERROR(CheckMigrationList(migrations));
  const Backend backend = db.backend();
  Status created = db.InTransaction([&](Transaction& tx) {
    RETURN_IF_ERROR(LockMigrations(tx, backend, /*table_exists=*/false));
    return tx.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, "
        "version BIGINT NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, "
        "PRIMARY KEY (component, version))");
  });
  RETURN_IF_ERROR(created.WithContext("creating schema_migrations in " + db.Describe()));

  // A version above the highest this binary knows means a newer sagebox migrated the
  // database; running older code against that schema could corrupt it.
  std::map<std::string, int64_t> known;
  for (const Migration& m : migrations) known[m.component] = m.version;
  ASSIGN_OR_RETURN(Result recorded,
                   db.Query("SELECT component, MAX(version) FROM schema_migrations "
                            "GROUP BY component"));
  for (size_t r = 0; r < recorded.size(); ++r) {
    auto it = known.find(recorded.Text(r, 0));
    if (it != known.end() && recorded.Int(r, 1) > it->second) {
      return Corruption("database " + db.Describe() + " has migration '" + it->first +
                        "' version " + std::to_string(recorded.Int(r, 1)) +
                        ", but this sagebox knows versions up to " + std::to_string(it->second) +
                        ": a newer sagebox wrote it; upgrade sagebox");
    }
  }

  for (const Migration& m : migrations) {
    const Value key[] = {m.component, int64_t{m.version}};
    // Cheap check without the lock: on a migrated database nothing waits.
    ASSIGN_OR_RETURN(Result done, db.Query("SELECT 1 FROM schema_migrations WHERE component = ? "
                                           "AND version = ?",
                                           key));
    if (!done.empty()) continue;
    Status st = db.InTransaction([&](Transaction& tx) {
      RETURN_IF_ERROR(LockMigrations(tx, backend, /*table_exists=*/true));
      ASSIGN_OR_RETURN(Result again, tx.Query("SELECT 1 FROM schema_migrations WHERE "
                                              "component = ? AND version = ?",
                                              key));
      if (!again.empty()) return Status::Ok();  // a concurrent migrator applied it
      RETURN_IF_ERROR(tx.ExecScript(ExpandMacros(m.sql, backend)));
      const Value row[] = {m.component, int64_t{m.version}, m.name, NowUnixSeconds()};
      return tx.Exec(
          "INSERT INTO schema_migrations (component, version, name, applied_at) "
          "VALUES (?, ?, ?, ?)",
          row);
    });
    if (!st.ok()) {
      return st.WithContext("migration " + m.component + " " + std::to_string(m.version) + " (" +
                            m.name + ") on " + db.Describe());
    }
  }
  return Status::Ok();
}

}  // namespace sagebox::db
