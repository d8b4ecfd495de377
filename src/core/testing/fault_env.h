// fault_env.h: an Env for tests that injects the failures a real disk
// produces: a full disk part-way through a write, a failing rename, a failing
// fsync of a file or of a directory.
//
// Header-only on purpose: src/core/testing is not compiled into a library,
// tests include this file directly.
//
// Thread-safety: like every Env, safe for concurrent use (one mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "core/env.h"
#include "core/status.h"

namespace sagebox {

class FaultEnv : public EnvWrapper {
 public:
  explicit FaultEnv(Env* target = Env::Default()) : EnvWrapper(target) {}

  // Appends to files whose path contains `path_filter` (every file if empty)
  // fail with IoError("No space left on device") once `budget` bytes in total
  // have been appended to such files. The Append that crosses the budget
  // writes the bytes that still fit, then fails (as a real full disk does).
  void FailAppendAfter(uint64_t budget, std::string path_filter = "") {
    std::lock_guard<std::mutex> l(mu_);
    append_armed_ = true;
    append_budget_ = budget;
    append_filter_ = std::move(path_filter);
  }
  // Renames whose source or target path contains `path_filter` fail.
  void FailRename(std::string path_filter = "") {
    std::lock_guard<std::mutex> l(mu_);
    rename_armed_ = true;
    rename_filter_ = std::move(path_filter);
  }
  // WritableFile::Sync fails for files whose path contains `path_filter`.
  void FailSync(std::string path_filter = "") {
    std::lock_guard<std::mutex> l(mu_);
    sync_armed_ = true;
    sync_filter_ = std::move(path_filter);
  }
  // SyncDir succeeds `ok_calls` more times, then fails.
  void FailSyncDirAfter(int ok_calls) {
    std::lock_guard<std::mutex> l(mu_);
    syncdir_armed_ = true;
    syncdir_ok_calls_ = ok_calls;
  }
  // Disarms every fault.
  void Reset() {
    std::lock_guard<std::mutex> l(mu_);
    append_armed_ = rename_armed_ = sync_armed_ = syncdir_armed_ = false;
  }

  // How many faults fired so far.
  int faults() const {
    std::lock_guard<std::mutex> l(mu_);
    return faults_;
  }

  StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
    ASSIGN_OR_RETURN(auto f, target()->OpenWritable(path));
    return std::unique_ptr<WritableFile>(new File(this, path, std::move(f)));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (rename_armed_ && (Matches(from, rename_filter_) || Matches(to, rename_filter_))) {
        ++faults_;
        return IoError("cannot rename " + from + " to " + to + ": Input/output error");
      }
    }
    return target()->Rename(from, to);
  }

  Status SyncDir(const std::string& dir) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (syncdir_armed_) {
        if (syncdir_ok_calls_ <= 0) {
          ++faults_;
          return IoError("cannot sync directory " + dir + ": Input/output error");
        }
        --syncdir_ok_calls_;
      }
    }
    return target()->SyncDir(dir);
  }

 private:
  static bool Matches(std::string_view path, std::string_view filter) {
    return filter.empty() || path.find(filter) != std::string_view::npos;
  }

  class File final : public WritableFile {
   public:
    File(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> f)
        : env_(env), path_(std::move(path)), f_(std::move(f)) {}
    Status Append(std::string_view data) override {
      size_t allowed = data.size();
      bool fail = false;
      {
        std::lock_guard<std::mutex> l(env_->mu_);
        if (env_->append_armed_ && Matches(path_, env_->append_filter_)) {
          if (data.size() > env_->append_budget_) {
            allowed = static_cast<size_t>(env_->append_budget_);
            fail = true;
            ++env_->faults_;
          }
          env_->append_budget_ -= allowed;
        }
      }
      if (allowed > 0) RETURN_IF_ERROR(f_->Append(data.substr(0, allowed)));
      if (fail) return IoError("cannot write " + path_ + ": No space left on device");
      return Status::Ok();
    }
    Status Sync() override {
      {
        std::lock_guard<std::mutex> l(env_->mu_);
        if (env_->sync_armed_ && Matches(path_, env_->sync_filter_)) {
          ++env_->faults_;
          return IoError("cannot sync " + path_ + ": Input/output error");
        }
      }
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }

   private:
    FaultEnv* env_;
    std::string path_;
    std::unique_ptr<WritableFile> f_;
  };

  mutable std::mutex mu_;
  int faults_ = 0;
  bool append_armed_ = false;
  uint64_t append_budget_ = 0;
  std::string append_filter_;
  bool rename_armed_ = false;
  std::string rename_filter_;
  bool sync_armed_ = false;
  std::string sync_filter_;
  bool syncdir_armed_ = false;
  int syncdir_ok_calls_ = 0;
};

}  // namespace sagebox
