// bench_util.h: shared helpers for the micro-benchmarks in bench/.
//
// MemorySource serves a string as a ByteSource (no file system, no
// decompression), MemoryEnv serves whole files from memory to code that opens
// paths through an Env, and DemoLegacyCsv() returns one data file of a legacy
// CUR export from the built-in generator, so the benchmarks parse the same
// kind of bytes an ingest does.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "core/env.h"
#include "cost/demo_gen.h"
#include "io/byte_source.h"

namespace sagebox::bench {

// Serves `data` in reads of at most `chunk` bytes (a real source returns what
// it has; the prefetcher hands out 1 MiB blocks).
class MemorySource final : public io::ByteSource {
 public:
  explicit MemorySource(std::string_view data, size_t chunk = 1 << 20,
                        std::string name = "memory.csv")
      : data_(data), chunk_(chunk), name_(std::move(name)) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    size_t k = std::min({n, chunk_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    *got = k;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return pos_; }
  uint64_t CompressedSize() const override { return data_.size(); }
  const std::string& name() const override { return name_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t chunk_;
  std::string name_;
};

class MemoryFile final : public SequentialFile {
 public:
  explicit MemoryFile(std::string_view data) : data_(data) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    *got = k;
    return Status::Ok();
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Files registered with Add() are read from memory; everything else goes to
// the default Env.
class MemoryEnv final : public EnvWrapper {
 public:
  MemoryEnv() : EnvWrapper(Env::Default()) {}
  void Add(const std::string& path, std::string data) { files_[path] = std::move(data); }
  StatusOr<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& p) override {
    auto it = files_.find(p);
    if (it == files_.end()) return EnvWrapper::OpenSequential(p);
    return std::unique_ptr<SequentialFile>(new MemoryFile(it->second));
  }
  bool Exists(const std::string& p) override { return files_.count(p) || EnvWrapper::Exists(p); }
  bool IsDirectory(const std::string& p) override {
    return !files_.count(p) && EnvWrapper::IsDirectory(p);
  }
  StatusOr<uint64_t> FileSize(const std::string& p) override {
    auto it = files_.find(p);
    if (it == files_.end()) return EnvWrapper::FileSize(p);
    return static_cast<uint64_t>(it->second.size());
  }

 private:
  std::map<std::string, std::string> files_;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first data file of a generated legacy CUR export of about `rows` line
// items over one billing period (`gzip`: the .csv.gz bytes). Generated into a
// temporary folder that is removed again.
inline std::string DemoLegacyCsv(int64_t rows, bool gzip = false) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/sagebox-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    std::abort();
  }
  cost::DemoOptions opt;
  opt.months = 1;
  opt.target_rows = rows;
  auto files = cost::WriteDemoExport(
      tmpl, gzip ? cost::DemoFormat::kLegacyCsvGz : cost::DemoFormat::kLegacyCsv, opt);
  if (!files.ok()) {
    std::fprintf(stderr, "demo generator failed: %s\n", files.status().ToString().c_str());
    std::abort();
  }
  std::string data;
  for (const auto& f : *files) {
    if (!f.manifest) {
      data = ReadWholeFile(f.path);
      break;
    }
  }
  fs::remove_all(tmpl);
  return data;
}

}  // namespace sagebox::bench
