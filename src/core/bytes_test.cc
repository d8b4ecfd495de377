#include "core/bytes.h"

#include <gtest/gtest.h>

namespace sagebox {
namespace {

TEST(BytesTest, ParsesBinaryAndDecimalUnits) {
  EXPECT_EQ(*ParseByteSize("123"), 123u);
  EXPECT_EQ(*ParseByteSize("8GiB"), uint64_t{8} << 30);
  EXPECT_EQ(*ParseByteSize("8g"), uint64_t{8} << 30);
  EXPECT_EQ(*ParseByteSize("512 MiB"), uint64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("2GB"), 2'000'000'000u);
  EXPECT_EQ(*ParseByteSize("1.5KiB"), 1536u);
  EXPECT_EQ(*ParseByteSize("64k"), 65536u);
  EXPECT_EQ(*ParseByteSize("7 b"), 7u);
}

TEST(BytesTest, RejectsWhatIsNotASize) {
  for (const char* t : {"", "GiB", "-1", "1.2.3", "8 GiBs", "1e3", "99999999999TiB"}) {
    auto r = ParseByteSize(t);
    EXPECT_FALSE(r.ok()) << t;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("byte size"), std::string::npos);
    }
  }
}

TEST(BytesTest, Formats) {
  EXPECT_EQ(FormatBytes(100), "100 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(uint64_t{8} << 30), "8 GiB");
}

}  // namespace
}  // namespace sagebox
