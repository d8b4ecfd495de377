#include "core/progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sagebox {
namespace {

using ::testing::HasSubstr;

TEST(HumanBytes, Units) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1), "1 B");
  EXPECT_EQ(HumanBytes(900), "900 B");
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1000), "1.0 KB");
  EXPECT_EQ(HumanBytes(1500), "1.5 KB");
  EXPECT_EQ(HumanBytes(12'000'000), "12.0 MB");
  EXPECT_EQ(HumanBytes(1'500'000'000), "1.5 GB");
  EXPECT_EQ(HumanBytes(2'000'000'000'000), "2.0 TB");
  EXPECT_EQ(HumanBytes(5'000'000'000'000'000), "5000.0 TB");  // TB is the largest unit
  EXPECT_EQ(HumanBytes(UINT64_MAX), "18446744.1 TB");
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(Progress, DisabledWritesNothing) {
  ::testing::internal::CaptureStderr();
  {
    Progress p("ingest", /*enabled=*/false);
    for (uint64_t i = 0; i <= 100; ++i) p.Update(i * 1000, 100'000, i * 10);
    p.Done();
    p.Update(1, 2, 3);
  }  // the destructor must not write either
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Progress, EnabledDrawsThrottlesAndClears) {
  bool quick = false;
  ::testing::internal::CaptureStderr();
  {
    Progress p("ingest", /*enabled=*/true);
    const auto t0 = std::chrono::steady_clock::now();
    p.Update(1'500'000, 12'000'000, 42);
    // Redrawn at most 10 times a second: an immediate second update is skipped.
    p.Update(1'600'000, 12'000'000, 43);
    quick = std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(100);
    p.Done();
    p.Done();  // a second Done() does not clear again
  }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("ingest: 1.5 MB / 12.0 MB  42 rows"));
  // (Unless this thread was descheduled for 100 ms between the two calls.)
  if (quick) {
    EXPECT_EQ(Count(err, "rows/s"), 1u) << err;
  }
  EXPECT_EQ(Count(err, "\r\x1b[K"), 1u) << err;
  EXPECT_TRUE(err.ends_with("\r\x1b[K")) << err;
}

TEST(Progress, DestructorClearsTheLine) {
  ::testing::internal::CaptureStderr();
  { Progress("load", true).Update(10, 100, 1); }
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("load: 10 B / 100 B  1 rows"));
  EXPECT_TRUE(err.ends_with("\r\x1b[K")) << err;
}

TEST(Progress, DoneWithoutUpdateWritesNothing) {
  ::testing::internal::CaptureStderr();
  {
    Progress p("idle", true);
    p.Done();
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace sagebox
