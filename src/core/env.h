// env.h: the world sagebox touches (files, directories, the clock), behind an
// interface so tests can inject faults (disk full, a crash mid-write) and fix
// "today". Modelled on LevelDB's Env.
//
// Thread-safety: Env implementations are safe for concurrent use; individual
// file objects are not (one owner at a time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace sagebox {

// A file read front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into buf; *got = 0 means end of file. IoError on failure.
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
};

// A file read at arbitrary offsets (store segments).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual uint64_t Size() const = 0;
  // Reads exactly n bytes at offset, or returns IoError/Corruption if the file is shorter.
  virtual Status ReadAt(uint64_t offset, size_t n, char* buf) const = 0;
};

// A file written front to back. Nothing is durable until Sync() returns OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The real file system and clock. Never null; lives for the whole process.
  static Env* Default();

  virtual StatusOr<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) = 0;
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) = 0;
  // Creates or truncates.
  virtual StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) = 0;
  virtual Status ReadFileToString(const std::string& path, std::string* out);
  // Writes `data` to `path` durably and atomically: temp file, fsync, rename, fsync dir.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data);

  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // fsyncs a directory so a rename inside it is durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  virtual UnixSeconds Now() = 0;
};

// Bytes of every file below `dir` (recursively), as the Env sees them. BadInput
// when folders nest deeper than `max_depth` (a loop of links, or a tree nobody
// meant to measure); the Env's errors otherwise.
StatusOr<uint64_t> TreeBytes(Env* env, const std::string& dir, int max_depth = 32);

// An Env that forwards to another one; subclass to inject faults in tests.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  StatusOr<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& p) override {
    return target_->OpenSequential(p);
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& p) override {
    return target_->OpenRandomAccess(p);
  }
  StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& p) override {
    return target_->OpenWritable(p);
  }
  bool Exists(const std::string& p) override { return target_->Exists(p); }
  bool IsDirectory(const std::string& p) override { return target_->IsDirectory(p); }
  StatusOr<uint64_t> FileSize(const std::string& p) override { return target_->FileSize(p); }
  StatusOr<std::vector<std::string>> ListDir(const std::string& d) override {
    return target_->ListDir(d);
  }
  Status CreateDirs(const std::string& d) override { return target_->CreateDirs(d); }
  Status Rename(const std::string& f, const std::string& t) override {
    return target_->Rename(f, t);
  }
  Status Remove(const std::string& p) override { return target_->Remove(p); }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  UnixSeconds Now() override { return target_->Now(); }

 protected:
  Env* target() const { return target_; }

 private:
  Env* target_;
};

std::string JoinPath(std::string_view a, std::string_view b);
std::string Basename(std::string_view path);
std::string Dirname(std::string_view path);

}  // namespace sagebox
