// backends.h (tests only): one migrated database per test on either backend, so a
// module's database tests run unchanged on SQLite and on PostgreSQL.
//
// SQLite lives in the test's temporary folder. PostgreSQL is the server at
// $SAGEBOX_TEST_POSTGRES (ctest starts it: scripts/test-postgres.sh), in a schema of its
// own that is dropped afterwards. Without that variable the PostgreSQL cases skip, unless
// $CI is set, when they fail: CI must run them.
//
// Thread-safety: one owner; the Database it opens is safe for concurrent use.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "core/testing/temp_dir.h"
#include "db/database.h"

namespace sagebox::db::testing {

// A schema of its own on the PostgreSQL test server, dropped when the object goes.
class PostgresSchema {
 public:
  // Creates the schema and sets url() to a URL whose connections start in it. When
  // $SAGEBOX_TEST_POSTGRES is unset this records a skip (or, with $CI set, a failure) and
  // leaves url() empty: the caller returns when IsSkipped() || HasFatalFailure().
  void Create() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read in SetUp, before a test starts threads.
    const char* base_env = std::getenv("SAGEBOX_TEST_POSTGRES");
    std::string base = base_env != nullptr ? base_env : "";
    if (base.empty()) {
      if (std::getenv("CI") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "SAGEBOX_TEST_POSTGRES is not set and CI is: the postgres cases must run "
                  "(scripts/test-postgres.sh start; or run them through ctest)";
      }
      GTEST_SKIP() << "SAGEBOX_TEST_POSTGRES not set (scripts/test-postgres.sh start, then "
                      "SAGEBOX_TEST_POSTGRES=$(scripts/test-postgres.sh url))";
    }
    auto admin = Database::Open(base);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(*admin);
    schema_ = "test_" + std::to_string(::getpid()) + "_" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    ASSERT_TRUE(admin_->Exec("CREATE SCHEMA " + schema_).ok());
    // Every pooled connection starts in the schema: libpq's options=-c….
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }

  ~PostgresSchema() {
    if (admin_ != nullptr) {
      EXPECT_TRUE(admin_->Exec("DROP SCHEMA " + schema_ + " CASCADE").ok());
    }
  }

  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<Database> admin_;
  std::string schema_;
  std::string url_;
};

class BackendDatabase {
 public:
  // Opens a fresh database on `backend` with `migrations` applied. On failure db() is null
  // and a gtest failure (or skip) was recorded: call from SetUp and return when
  // ::testing::Test::IsSkipped() || HasFatalFailure().
  void Open(Backend backend, std::span<const Migration> migrations) {
    std::string url;
    if (backend == Backend::kSqlite) {
      dir_ = std::make_unique<sagebox::testing::TempDir>("db");
      url = "sqlite:" + dir_->Path("sagebox.db");
    } else {
      pg_.Create();
      if (pg_.url().empty()) return;
      url = pg_.url();
    }
    auto db = Database::Open(url);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Status s = Migrate(**db, migrations);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_ = std::move(*db);
  }

  ~BackendDatabase() { db_.reset(); }  // before the schema is dropped

  Database* db() const { return db_.get(); }
  // A folder for the test's files (SQLite's, or a fresh one for PostgreSQL).
  std::string Folder() {
    if (dir_ == nullptr) dir_ = std::make_unique<sagebox::testing::TempDir>("db");
    return dir_->path();
  }

 private:
  std::unique_ptr<sagebox::testing::TempDir> dir_;
  PostgresSchema pg_;  // declared before db_: destroyed after it
  std::unique_ptr<Database> db_;
};

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

}  // namespace sagebox::db::testing
