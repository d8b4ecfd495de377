// helpers.h (tests only): waiting on files and processes without fixed sleeps.
//
// Header-only on purpose, like core/testing: tests include it directly.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "core/status.h"
#include "db/database.h"
#include "jobs/job_store.h"
#include "jobs/process.h"

namespace sagebox::jobs::testing {

// The whole file, or "" when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls `done` every 10 ms; true once it holds, false when `timeout` passed first.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Waits (up to 5 s) until the file at `path` contains `text`.
inline bool WaitForFile(const std::string& path, const std::string& text) {
  return WaitUntil([&] { return ReadFile(path).find(text) != std::string::npos; },
                   std::chrono::seconds(5));
}

// True once `pid` no longer runs (gone, or a zombie nobody reaped: an orphan's zombie
// belongs to init, which in a container may never reap it), within `timeout`.
inline bool ProcessGone(pid_t pid, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return !ProcessRunning(pid); }, timeout);
}

// Opens the SQLite database at `path` with the jobs migrations applied; null (after saying
// why on stderr) when that fails. Usable in a forked child, which must not touch gtest.
inline std::unique_ptr<db::Database> OpenMigratedDb(const std::string& path) {
  auto db = db::Database::Open(path);
  Status s = db.ok() ? Status::Ok() : db.status();
  if (s.ok()) {
    auto migrations = Migrations();
    s = db::Migrate(**db, migrations);
  }
  if (!s.ok()) {
    (void)fprintf(stderr, "cannot open %s: %s\n", path.c_str(), s.ToString().c_str());
    return nullptr;
  }
  return std::move(db).value();
}

}  // namespace sagebox::jobs::testing
