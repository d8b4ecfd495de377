// FilterMatches: the per-value decision RunQuery makes once per dictionary
// entry, for every match kind, case option and negation.
#include "cost/query.h"

#include <gtest/gtest.h>

namespace sagebox::cost {
namespace {

Filter F(std::vector<std::string> values, MatchKind m = MatchKind::kEquals, bool ci = false,
         bool negate = false) {
  Filter f;
  f.values = std::move(values);
  f.match = m;
  f.case_insensitive = ci;
  f.negate = negate;
  return f;
}

TEST(FilterMatchesTest, Kinds) {
  EXPECT_TRUE(FilterMatches(F({"a", "AmazonS3"}), "AmazonS3"));
  EXPECT_FALSE(FilterMatches(F({"amazons3"}), "AmazonS3"));
  EXPECT_TRUE(FilterMatches(F({"amazons3"}, MatchKind::kEquals, true), "AmazonS3"));
  EXPECT_TRUE(FilterMatches(F({"Notebk"}, MatchKind::kContains), "USE1-Notebk:ml.t3"));
  EXPECT_FALSE(FilterMatches(F({"notebk"}, MatchKind::kContains), "USE1-Notebk:ml.t3"));
  EXPECT_TRUE(FilterMatches(F({"notebk"}, MatchKind::kContains, true), "USE1-Notebk:ml.t3"));
  EXPECT_TRUE(FilterMatches(F({"x", "USE1-"}, MatchKind::kStartsWith), "USE1-Host"));
  EXPECT_FALSE(FilterMatches(F({"Host"}, MatchKind::kStartsWith), "USE1-Host"));
  EXPECT_TRUE(FilterMatches(F({"host"}, MatchKind::kEndsWith, true), "USE1-Host"));
  EXPECT_FALSE(FilterMatches(F({"USE1-Host-long"}, MatchKind::kEndsWith), "USE1-Host"));
  EXPECT_TRUE(FilterMatches(F({}, MatchKind::kAbsent), ""));
  EXPECT_FALSE(FilterMatches(F({}, MatchKind::kAbsent), "alpha"));
}

TEST(FilterMatchesTest, NegateAndLegacyContains) {
  EXPECT_FALSE(FilterMatches(F({"Credit"}, MatchKind::kEquals, false, true), "Credit"));
  EXPECT_TRUE(FilterMatches(F({"Credit"}, MatchKind::kEquals, false, true), "Usage"));
  EXPECT_TRUE(FilterMatches(F({}, MatchKind::kAbsent, false, true), "alpha"));
  Filter legacy;
  legacy.contains = true;
  legacy.values = {"NOTEBK"};
  EXPECT_TRUE(FilterMatches(legacy, "USE1-Notebk:ml.t3"));
  auto parsed = ParseFilter("USAGE_TYPE~notebk");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(FilterMatches(*parsed, "USE1-Notebk:ml.t3"));
  parsed = ParseFilter("SERVICE=AmazonS3,AmazonEC2");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(FilterMatches(*parsed, "AmazonEC2"));
  EXPECT_FALSE(FilterMatches(*parsed, "AmazonSageMaker"));
}

}  // namespace
}  // namespace sagebox::cost
