// sqlite_database.h: the SQLite backend of db::Database (one file, one machine).
//
// Thread-safety: the Database it returns is safe for concurrent use. It keeps a small
// pool of connections, each used by one thread at a time; WAL mode lets readers run
// beside the one writer, and a busy timeout makes a second writer wait instead of fail.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "db/database.h"

namespace sagebox::db {

// Opens (creating, with its folder) the SQLite database file at `path` and checks it is
// one: IoError when the folder or file cannot be created or opened, Corruption when the
// file is not a SQLite database.
StatusOr<std::unique_ptr<Database>> OpenSqlite(const std::string& path);

}  // namespace sagebox::db
