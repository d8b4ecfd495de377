#include "cost/findings/findings_text.h"

#include <gtest/gtest.h>

namespace sagebox::findings {
namespace {

Finding Notebook(const std::string& account, const std::string& region) {
  Finding f;
  f.kind = "notebook-always-on";
  f.resource_id = "arn:aws:sagemaker:" + region + ":" + account + ":notebook-instance/dev-notebook";
  f.account_id = account;
  f.region = region;
  f.instance_type = "ml.t2.medium";
  f.recommendation = "Notebook instance dev-notebook ran 24.0 h/day for 91 days in a row.";
  f.monthly_savings = Decimal::FromInt(10);
  return f;
}

// Regression (issue 12): on the demo data the same sentence came seven times
// with nothing to tell the lines apart.
TEST(RenderFindingsTable, RepeatedNamesSayWhichAccountAndRegion) {
  FindingsReport r;
  r.start = 0;
  r.end = 91;
  r.findings = {Notebook("111111111111", "us-east-1"), Notebook("111111111111", "eu-west-1"),
                Notebook("222222222222", "us-east-1")};
  Finding unique = Notebook("333333333333", "us-west-2");
  unique.recommendation = "Notebook instance other ran 24.0 h/day.";
  r.findings.push_back(unique);
  const std::string out = RenderFindingsTable(r, 0);
  EXPECT_NE(out.find("in a row. (account 111111111111, us-east-1)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("in a row. (account 111111111111, eu-west-1)\n"), std::string::npos);
  EXPECT_NE(out.find("in a row. (account 222222222222, us-east-1)\n"), std::string::npos);
  // A sentence that is unique needs nothing added.
  EXPECT_NE(out.find("ran 24.0 h/day.\n"), std::string::npos);
  // Two findings of one account differ by region in the table too.
  EXPECT_NE(out.find("notebook-instance/dev-notebook (us-east-1)"), std::string::npos);
  EXPECT_NE(out.find("notebook-instance/dev-notebook (eu-west-1)"), std::string::npos);
}

}  // namespace
}  // namespace sagebox::findings
