// platform.h: where the CLI finds the installation's state, in one place.
//
//   --data DIR        the data folder (default $SAGEBOX_DATA, else ./.sagebox): the cost
//                     store, sagebox.db, master.key, job logs, blobs
//   --store DIR       the cost store only (default $SAGEBOX_STORE, else the data folder,
//                     so a store made before the platform keeps working)
//   --database URL    the relational database (default $SAGEBOX_DATABASE, else SQLite at
//                     <data>/sagebox.db); postgresql://… moves it to PostgreSQL
//
// Thread-safety: call from the main thread (reads the environment).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "db/database.h"

namespace sagebox::cli {

// Every migration the platform's shared pieces need (auth, jobs). Modules add theirs
// as they land.
std::vector<db::Migration> PlatformMigrations();

// The database of `g`, with PlatformMigrations() applied. IoError when it cannot be
// reached or created; Corruption when a newer sagebox wrote it.
StatusOr<std::unique_ptr<db::Database>> OpenDatabase(const Globals& g);

// The master key access-key secrets are sealed with: $SAGEBOX_MASTER_KEY (64 hex digits
// or base64 of 32 bytes) when set, else <data>/master.key, created on first use. Servers
// sharing one PostgreSQL database must share this key too.
StatusOr<std::string> MasterKey(const Globals& g);

}  // namespace sagebox::cli
