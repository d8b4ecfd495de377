// tiny_diffusion.h: test helper that writes the four tiny article pipelines
// (sd_base, sd_depth, sd_inpaint, sd_upscale; random weights, real interfaces).
//
// Thread-safety: runs a child process; call from one test thread (SetUpTestSuite).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace sagebox::endpoint::testing {

// Runs tests/endpoint/make_tiny_diffusion.py with Debian's Python (which has torch)
// into `dir`. A failure is a test failure naming the command, not a crash.
inline void MakeTinyDiffusion(const std::string& dir) {
  const std::string script = std::string(SAGEBOX_TESTDATA) + "/../endpoint/make_tiny_diffusion.py";
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;  // NOLINT(concurrency-mt-unsafe)
}

}  // namespace sagebox::endpoint::testing
