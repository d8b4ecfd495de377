#include "cost/findings/finding.h"

#include <gtest/gtest.h>

namespace sagebox::findings {
namespace {

TEST(StableId, SameKeySameIdAndKeysDiffer) {
  EXPECT_EQ(StableId("idle-endpoint", "arn:x"), StableId("idle-endpoint", "arn:x"));
  EXPECT_NE(StableId("idle-endpoint", "arn:x"), StableId("idle-endpoint", "arn:y"));
  EXPECT_NE(StableId("ab", "c"), StableId("a", "bc"));
  EXPECT_EQ(StableId("idle-endpoint", "arn:x").rfind("idle-endpoint-", 0), 0u);
  EXPECT_EQ(StableId("k", "r").size(), std::string("k-").size() + 16);
}

TEST(RankBySavings, HighestFirstThenDeterministic) {
  std::vector<Finding> v(3);
  v[0].kind = "b";
  v[0].monthly_savings = Decimal::FromInt(5);
  v[1].kind = "a";
  v[1].monthly_savings = Decimal::FromInt(5);
  v[2].kind = "c";
  v[2].monthly_savings = Decimal::FromInt(9);
  RankBySavings(&v);
  EXPECT_EQ(v[0].kind, "c");
  EXPECT_EQ(v[1].kind, "a");
  EXPECT_EQ(v[2].kind, "b");
}

TEST(ReportToJson, SchemaAndAmounts) {
  FindingsReport r;
  r.start = DaysFromCivil(2024, 1, 1);
  r.end = DaysFromCivil(2024, 4, 1);
  Finding f;
  f.kind = "notebook-always-on";
  f.id = StableId(f.kind, "arn:nb");
  f.resource_id = "arn:nb";
  Decimal::Parse("24.314", &f.monthly_savings);
  f.confidence = Confidence::kHigh;
  r.findings.push_back(f);
  auto j = ReportToJson(r);
  EXPECT_EQ(j["schema"], "sagebox.findings/v1");
  EXPECT_EQ(j["period"]["start"], "2024-01-01");
  EXPECT_EQ(j["period"]["end"], "2024-04-01");
  EXPECT_EQ(j["findings"][0]["monthly_savings_usd"], "24.31");
  EXPECT_EQ(j["findings"][0]["confidence"], "high");
  EXPECT_EQ(j["findings"][0]["action"], nlohmann::json::object());
}

}  // namespace
}  // namespace sagebox::findings
