// temp_dir.h (tests only): a fresh folder per test, removed afterwards.
//
// Every test that touches files uses this instead of its own mkdtemp dance,
// so parallel ctest runs never share a path.
//
// Thread-safety: one owner.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/env.h"

namespace sagebox::testing {

class TempDir {
 public:
  // Creates <gtest temp dir>/sagebox_<tag>_XXXXXX; fails the test if it cannot.
  explicit TempDir(const std::string& tag) {
    std::string tmpl = ::testing::TempDir() + "/sagebox_" + tag + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Path(const std::string& name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

}  // namespace sagebox::testing
