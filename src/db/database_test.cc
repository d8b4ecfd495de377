// The db::Database contract, run against both backends: SQLite in a temporary folder,
// PostgreSQL at $SAGEBOX_TEST_POSTGRES (scripts/test-postgres.sh; ctest starts it), each
// test in a schema of its own so tests can run in parallel. Without that variable the
// postgres cases skip, unless $CI is set: then they fail, so CI never skips silently.
#include "db/database.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.h"
#include "db/sql_text.h"
#include "db/testing/backends.h"

namespace sagebox::db {

// Test names and messages say "sqlite"/"postgres", not the enum's bytes. Outside the
// anonymous namespace: gtest finds PrintTo by argument-dependent lookup.
std::string BackendName(Backend b) { return b == Backend::kSqlite ? "sqlite" : "postgres"; }
void PrintTo(Backend b, std::ostream* os) { *os << BackendName(b); }

namespace {

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = std::make_unique<sagebox::testing::TempDir>("db");
      // A folder that does not exist yet: Open creates it.
      url_ = "sqlite:" + dir_->Path("state/sagebox.db");
    } else {
      pg_.Create();
      if (pg_.url().empty()) return;  // skipped (or failed, in CI)
      url_ = pg_.url();
    }
    auto db = Database::Open(url_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  void TearDown() override { db_.reset(); }  // before pg_ drops the schema

  // The statement with the migration macros of this backend.
  std::string Sql(std::string_view sql) const { return ExpandMacros(sql, GetParam()); }

  int64_t Count(const std::string& table) {
    auto r = db_->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  std::unique_ptr<sagebox::testing::TempDir> dir_;
  db::testing::PostgresSchema pg_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

#define ASSERT_OK(expr)                                    \
  do {                                                     \
    const ::sagebox::Status assert_ok_ = (expr);           \
    ASSERT_TRUE(assert_ok_.ok()) << assert_ok_.ToString(); \
  } while (0)

TEST_P(DatabaseTest, OpensAndDescribes) {
  EXPECT_EQ(db_->backend(), GetParam());
  EXPECT_EQ(db_->Describe().find("***"), std::string::npos);  // no password to hide
  EXPECT_FALSE(db_->Describe().empty());
}

TEST_P(DatabaseTest, TypesRoundTrip) {
  ASSERT_OK(
      db_->Exec(Sql("CREATE TABLE t (k BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, "
                    "s TEXT, b {{blob}})")));
  const std::string utf8 = "h\xc3\xa9llo 'single' \"double\" \xe2\x9c\x93 ?";
  const std::vector<std::vector<Value>> rows = {
      {int64_t{1}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}},
      {int64_t{2}, std::numeric_limits<int64_t>::min(), -1.5e300, utf8,
       Blob{std::string("\0\xff\x01\\x", 5)}},
      {int64_t{3}, std::numeric_limits<int64_t>::max(), 0.1, std::string(), Blob{}},
  };
  for (const auto& row : rows) ASSERT_OK(db_->Exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row));
  auto r = db_->Query("SELECT k, i, d, s, b FROM t ORDER BY k");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(r->columns(), (std::vector<std::string>{"k", "i", "d", "s", "b"}));
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(r->row(i), rows[i]) << "row " << i;
  EXPECT_TRUE(r->IsNull(0, 1));
  EXPECT_EQ(r->OptText(0, 3), std::nullopt);
  EXPECT_EQ(r->OptInt(0, 1), std::nullopt);
  EXPECT_EQ(r->OptInt(1, 1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r->Text(1, 3), utf8);
  EXPECT_EQ(r->Bytes(1, 4), std::string("\0\xff\x01\\x", 5));
  EXPECT_EQ(r->Bytes(1, 3), utf8);
  EXPECT_DOUBLE_EQ(r->Double(2, 2), 0.1);
  EXPECT_DOUBLE_EQ(r->Double(2, 0), 3.0);  // an integer read as a double

  // A parameter in a WHERE clause, and an aggregate over BIGINT reads as an integer.
  const Value key[] = {int64_t{2}};
  auto one = db_->Query("SELECT s FROM t WHERE k = ?", key);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->Text(0, 0), utf8);
  auto sum = db_->Query("SELECT SUM(k), COUNT(*) FROM t");
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->Int(0, 0), 6);
  EXPECT_EQ(sum->Int(0, 1), 3);
}

TEST_P(DatabaseTest, ReturningIdsAndAffectedRows) {
  ASSERT_OK(db_->Exec(Sql("CREATE TABLE users (id {{id}}, name TEXT NOT NULL)")));
  for (int64_t want = 1; want <= 3; ++want) {
    const Value name[] = {"user" + std::to_string(want)};
    auto r = db_->Query("INSERT INTO users (name) VALUES (?) RETURNING id", name);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ(r->Int(0, 0), want);
  }
  auto upd = db_->Query("UPDATE users SET name = name || '!' WHERE id >= 2");
  ASSERT_TRUE(upd.ok()) << upd.status().ToString();
  EXPECT_EQ(upd->affected(), 2);
  const Value conflict[] = {int64_t{1}, "again"};
  auto up = db_->Query(
      "INSERT INTO users (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = "
      "excluded.name RETURNING name",
      conflict);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->Text(0, 0), "again");
}

TEST_P(DatabaseTest, QuestionMarksInLiteralsIdentifiersAndCommentsAreText) {
  ASSERT_OK(db_->Exec("CREATE TABLE q (\"why?\" TEXT, v TEXT)"));
  const Value params[] = {"p1", "p2"};
  ASSERT_OK(db_->Exec(
      "INSERT INTO q (\"why?\", v) -- a comment?\n VALUES (? /* or? */, 'it''s ?' || ?)", params));
  auto r = db_->Query("SELECT \"why?\", v, 'lit?' FROM q");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->Text(0, 0), "p1");
  EXPECT_EQ(r->Text(0, 1), "it's ?p2");
  EXPECT_EQ(r->Text(0, 2), "lit?");
}

TEST_P(DatabaseTest, ConstraintViolationsMapToStatusCodes) {
  ASSERT_OK(
      db_->Exec("CREATE TABLE parent (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                "age BIGINT CHECK (age >= 0))"));
  ASSERT_OK(
      db_->Exec("CREATE TABLE child (id BIGINT PRIMARY KEY, "
                "parent BIGINT NOT NULL REFERENCES parent(id))"));
  const Value a[] = {int64_t{1}, "a", int64_t{1}};
  ASSERT_OK(db_->Exec("INSERT INTO parent VALUES (?, ?, ?)", a));
  EXPECT_EQ(db_->Exec("INSERT INTO parent VALUES (?, ?, ?)", a).code(),
            StatusCode::kAlreadyExists);  // primary key
  const Value same_name[] = {int64_t{2}, "a", int64_t{1}};
  EXPECT_EQ(db_->Exec("INSERT INTO parent VALUES (?, ?, ?)", same_name).code(),
            StatusCode::kAlreadyExists);  // unique
  const Value negative[] = {int64_t{3}, "c", int64_t{-1}};
  EXPECT_EQ(db_->Exec("INSERT INTO parent VALUES (?, ?, ?)", negative).code(),
            StatusCode::kInvalidArgument);  // check
  EXPECT_EQ(db_->Exec("INSERT INTO child VALUES (1, 99)").code(),
            StatusCode::kInvalidArgument);  // foreign key (on in SQLite too)
  EXPECT_EQ(db_->Exec("INSERT INTO parent (id) VALUES (7)").code(),
            StatusCode::kInvalidArgument);  // not null
  // Inside a transaction the same codes come back through fn.
  Status st = db_->InTransaction(
      [&](Transaction& tx) { return tx.Exec("INSERT INTO parent VALUES (?, ?, ?)", a); });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
}

TEST_P(DatabaseTest, BadSqlIsInvalidArgument) {
  Status st = db_->Exec("SELEKT 1");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(db_->Exec("SELECT * FROM no_such_table").code(), StatusCode::kInvalidArgument);
  const Value one[] = {int64_t{1}};
  EXPECT_EQ(db_->Exec("SELECT ?, ?", one).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->Exec("SELECT 1; SELECT 2").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(db_->Exec("SELECT 1").ok());  // the pool's connection still works
}

TEST_P(DatabaseTest, TransactionCommits) {
  ASSERT_OK(db_->Exec("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  ASSERT_OK(db_->InTransaction([](Transaction& tx) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t VALUES (1)"));
    ASSIGN_OR_RETURN(Result r, tx.Query("SELECT COUNT(*) FROM t"));
    if (r.Int(0, 0) != 1) return Internal("own write not visible");
    return tx.Exec("INSERT INTO t VALUES (2)");
  }));
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(DatabaseTest, TransactionRollsBackWhenFnFails) {
  ASSERT_OK(db_->Exec("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  Status st = db_->InTransaction([](Transaction& tx) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t VALUES (1)"));
    return NotFound("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "changed my mind");
  EXPECT_EQ(Count("t"), 0);
  // A failed statement whose error fn ignores still fails the transaction (PostgreSQL
  // aborts it; the commit must not report success).
  st = db_->InTransaction([](Transaction& tx) {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t VALUES (5)"));
    (void)tx.Exec("INSERT INTO t VALUES (5)");
    return Status::Ok();
  });
  if (GetParam() == Backend::kPostgres) {
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(Count("t"), 0);
  } else {
    // SQLite keeps the transaction after a failed statement: the first insert commits.
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(Count("t"), 1);
  }
}

TEST_P(DatabaseTest, TransactionRollsBackAndRethrowsWhenFnThrows) {
  ASSERT_OK(db_->Exec("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  EXPECT_THROW((void)db_->InTransaction([](Transaction& tx) -> Status {
    RETURN_IF_ERROR(tx.Exec("INSERT INTO t VALUES (1)"));
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(Count("t"), 0);
  // The connection went back to the pool outside any transaction.
  ASSERT_OK(
      db_->InTransaction([](Transaction& tx) { return tx.Exec("INSERT INTO t VALUES (2)"); }));
  EXPECT_EQ(Count("t"), 1);
}

TEST_P(DatabaseTest, ConcurrentReadModifyWriteTransactionsLoseNoUpdate) {
  ASSERT_OK(db_->Exec("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_OK(db_->Exec("INSERT INTO counter VALUES (1, 0)"));
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        // Read, then write what was read plus one: only serializable transactions
        // make this exact.
        Status st = db_->InTransaction([](Transaction& tx) {
          ASSIGN_OR_RETURN(Result r, tx.Query("SELECT n FROM counter WHERE id = 1"));
          const Value next[] = {r.Int(0, 0) + 1};
          return tx.Exec("UPDATE counter SET n = ? WHERE id = 1", next);
        });
        if (!st.ok()) {
          ADD_FAILURE() << st.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = db_->Query("SELECT n FROM counter");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Int(0, 0), kThreads * kIncrements);
}

const std::vector<Migration>& TwoMigrations() {
  static const auto* m = new std::vector<Migration>{
      {"platform", 1, "users",
       "CREATE TABLE users (id {{id}}, name TEXT NOT NULL UNIQUE);\n"
       "CREATE INDEX users_name ON users (name);\n"},
      {"platform", 2, "avatars",
       "CREATE TABLE avatars (user_id BIGINT REFERENCES users(id), "
       "image {{blob}});\nINSERT INTO users (name) VALUES ('admin');"},
  };
  return *m;
}

TEST_P(DatabaseTest, MigrationsApplyOnceAndAreIdempotent) {
  ASSERT_OK(Migrate(*db_, TwoMigrations()));
  EXPECT_EQ(Count("schema_migrations"), 2);
  EXPECT_EQ(Count("users"), 1);
  auto r = db_->Query(
      "SELECT component, version, name, applied_at FROM schema_migrations "
      "ORDER BY version");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Text(0, 0), "platform");
  EXPECT_EQ(r->Int(1, 1), 2);
  EXPECT_EQ(r->Text(1, 2), "avatars");
  EXPECT_GT(r->Int(0, 3), 1700000000);
  ASSERT_OK(db_->Exec("INSERT INTO avatars VALUES (1, ?)", std::vector<Value>{Blob{"\x89PNG"}}));

  ASSERT_OK(Migrate(*db_, TwoMigrations()));  // nothing new: nothing runs again
  EXPECT_EQ(Count("schema_migrations"), 2);
  EXPECT_EQ(Count("users"), 1);
  EXPECT_EQ(Count("avatars"), 1);

  // Another component migrates beside it; a list that knows only "label" still works.
  const std::vector<Migration> label = {{"label", 1, "labels", "CREATE TABLE labels (k TEXT)"}};
  ASSERT_OK(Migrate(*db_, label));
  EXPECT_EQ(Count("schema_migrations"), 3);
}

TEST_P(DatabaseTest, FailingMigrationLeavesNothingOfItself) {
  std::vector<Migration> m = TwoMigrations();
  m.push_back({"platform", 3, "broken",
               "CREATE TABLE half (x BIGINT);\nINSERT INTO half VALUES (1);\n"
               "INSERT INTO no_such_table VALUES (1);"});
  Status st = Migrate(*db_, m);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("broken"), std::string::npos) << st.message();
  EXPECT_EQ(Count("schema_migrations"), 2);  // the first two stay applied
  EXPECT_EQ(Count("users"), 1);
  EXPECT_EQ(db_->Exec("SELECT * FROM half").code(), StatusCode::kInvalidArgument);

  m.back().sql = "CREATE TABLE half (x BIGINT);\nINSERT INTO half VALUES (1);";
  ASSERT_OK(Migrate(*db_, m));
  EXPECT_EQ(Count("schema_migrations"), 3);
  EXPECT_EQ(Count("half"), 1);
}

TEST_P(DatabaseTest, NewerRecordedVersionIsCorruption) {
  ASSERT_OK(Migrate(*db_, TwoMigrations()));
  std::vector<Migration> older = {TwoMigrations()[0]};
  Status st = Migrate(*db_, older);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("version 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("newer sagebox"), std::string::npos) << st.message();
}

TEST_P(DatabaseTest, MalformedMigrationListIsInvalidArgument) {
  std::vector<Migration> m = {TwoMigrations()[1], TwoMigrations()[0]};
  EXPECT_EQ(Migrate(*db_, m).code(), StatusCode::kInvalidArgument);
}

TEST_P(DatabaseTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  // Each migration after the first records that it ran: a double apply shows as a row.
  std::vector<Migration> m = {{"race", 1, "log", "CREATE TABLE ran (version BIGINT)"}};
  for (int v = 2; v <= 6; ++v) {
    m.push_back({"race", v, "step", "INSERT INTO ran VALUES (" + std::to_string(v) + ")"});
  }
  constexpr int kMigrators = 3;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kMigrators; ++i) {
    auto db = Database::Open(url_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    dbs.push_back(std::move(*db));
  }
  std::atomic<int> ready{0};
  std::vector<Status> results(kMigrators);
  std::vector<std::thread> threads;
  threads.reserve(kMigrators);
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kMigrators) std::this_thread::yield();
      results[i] = Migrate(*dbs[i], m);
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Count("schema_migrations"), 6);
  EXPECT_EQ(Count("ran"), 5);
}

TEST_P(DatabaseTest, ProcessDeathMidTransactionLeavesNothing) {
  ASSERT_OK(db_->Exec("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  ASSERT_OK(db_->Exec("INSERT INTO t VALUES (1)"));
  // The child gets its own Database (connections must not cross fork), writes inside a
  // transaction and dies before the commit; exit code 7 says it got that far.
  pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    auto child = Database::Open(url_);
    if (!child.ok()) ::_exit(1);
    (void)(*child)->InTransaction([](Transaction& tx) {
      if (!tx.Exec("INSERT INTO t VALUES (2)").ok()) ::_exit(2);
      if (!tx.Exec("UPDATE t SET k = 10 WHERE k = 1").ok()) ::_exit(3);
      ::_exit(7);
      return Status::Ok();
    });
    ::_exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 7);
  auto r = db_->Query("SELECT k FROM t ORDER BY k");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->Int(0, 0), 1);
  // The dead writer's locks are gone: writing works at once.
  ASSERT_OK(
      db_->InTransaction([](Transaction& tx) { return tx.Exec("INSERT INTO t VALUES (2)"); }));
  EXPECT_EQ(Count("t"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return BackendName(p.param);
                         });

}  // namespace
}  // namespace sagebox::db
