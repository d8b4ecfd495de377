#include "core/strings.h"

#include <gtest/gtest.h>

#include <unordered_map>

namespace sagebox {
namespace {

TEST(Strings, AsciiLowerFoldsOnlyAscii) {
  EXPECT_EQ(AsciiLower("Studio_DW:KernelGateway-ML.M5"), "studio_dw:kernelgateway-ml.m5");
  EXPECT_EQ(AsciiLower("\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // UTF-8 bytes untouched
  EXPECT_EQ(AsciiLower(""), "");
}

TEST(Strings, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("UnblendedCost", "unblendedcost"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("Daily", "Dailyx"));
  EXPECT_FALSE(EqualsIgnoreCase("BlendedCost", "UnblendedCo"));
}

TEST(Strings, EndsWith) {
  EXPECT_TRUE(EndsWith("a.csv.gz", ".gz"));
  EXPECT_TRUE(EndsWith("x", ""));
  EXPECT_FALSE(EndsWith("gz", ".gz"));
}

TEST(Strings, StringViewHashFindsWithoutBuildingAString) {
  std::unordered_map<std::string, int, StringViewHash, std::equal_to<>> m{{"USE1", 1}};
  std::string_view key = "USE1-Notebk";
  EXPECT_EQ(m.find(key.substr(0, 4))->second, 1);
  EXPECT_EQ(m.find(key), m.end());
}

}  // namespace
}  // namespace sagebox
