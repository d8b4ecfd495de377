// temp_database.h: a migrated SQLite database in a test's temporary folder,
// the setup every module's database-backed tests share. Test code only.
//
// Thread-safety: as db::Database (safe for concurrent use once opened).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>

#include "db/database.h"

namespace sagebox::db::testing {

// Opens (creating) the SQLite database at `path` and applies `migrations`;
// a gtest failure and nullptr when either fails. Call it under ASSERT_NE(…,
// nullptr) or check the result.
inline std::unique_ptr<Database> OpenMigrated(const std::string& path,
                                              std::span<const Migration> migrations) {
  auto db = Database::Open("sqlite:" + path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  Status s = Migrate(**db, migrations);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return nullptr;
  return std::move(*db);
}

}  // namespace sagebox::db::testing
