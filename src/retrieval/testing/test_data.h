// test_data.h: where the retrieval tests' files are (tests/data/retrieval/), for
// every test of the retrieval core. Test code only: reads with gtest's EXPECT.
//
// Thread-safety: plain functions.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/env.h"

namespace sagebox::retrieval::testing {

// The path of `rel` under tests/data/retrieval/ (SAGEBOX_TESTDATA is set by CMake).
inline std::string Data(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/retrieval/" + rel;
}

// The bytes of Data(rel); a test failure (and "") when it cannot be read.
inline std::string Read(const std::string& rel) {
  std::string s;
  EXPECT_TRUE(Env::Default()->ReadFileToString(Data(rel), &s).ok()) << rel;
  return s;
}

}  // namespace sagebox::retrieval::testing
