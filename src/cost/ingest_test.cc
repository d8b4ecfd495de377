// Ingest + query end to end inside the library, on small hand-written exports.
#include "cost/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/testing/temp_dir.h"
#include "cost/billing_reader.h"
#include "cost/delivery.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::cost {
namespace {

namespace fs = std::filesystem;

class IngestTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  StatusOr<IngestStats> Run(const std::vector<std::string>& paths) {
    return Ingest(Env::Default(), store_, paths, IngestOptions{});
  }

  // Sum of one metric over everything, grouped by one dimension.
  std::map<std::string, std::string> Totals(const std::string& dim, Metric m = Metric::kUnblended) {
    auto st = store::Store::Open(Env::Default(), store_);
    EXPECT_TRUE(st.ok());
    Query q;
    q.from = *ParseDate("2000-01-01");
    q.to = *ParseDate("2030-01-01");
    q.metrics = {m};
    q.group_by = {*ParseDimension(dim)};
    auto r = RunQuery(**st, q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::map<std::string, Decimal> sum;
    for (const auto& b : r->buckets) {
      for (const auto& g : b.groups) sum[g.keys[0]] += g.values[0];
    }
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : sum) out[k] = v.ToString();
    return out;
  }

  sagebox::testing::TempDir tmp_{"ingest"};
  const fs::path dir_ = tmp_.path();
  const std::string store_ = (dir_ / "store").string();
};

const char kLegacyHeader[] =
    "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,"
    "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,"
    "lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,"
    "lineItem/BlendedCost,savingsPlan/SavingsPlanEffectiveCost,savingsPlan/TotalCommitmentToDate,"
    "savingsPlan/UsedCommitment,resourceTags/user:team\n";

TEST_F(IngestTest, LegacyCurSumsExactlyByLineItemType) {
  std::string f = Write(
      "a.csv",
      std::string(kLegacyHeader) +
          "1,2024-01-01T00:00:00Z,111111111111,Usage,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,"
          "AmazonSageMaker,USE1-Notebk:ml.t2.medium,arn:nb/dev,1,0.0464,0.0464,,,,ml\n"
          "2,2024-01-01T00:00:00Z,111111111111,SavingsPlanCoveredUsage,2024-01-01T00:00:00Z,"
          "2024-01-01T01:00:00Z,AmazonSageMaker,USW2-Host:ml.g4dn.xlarge,arn:ep/"
          "x,1,0.736,0.736,0.5,,,\n"
          "3,2024-01-01T00:00:00Z,111111111111,SavingsPlanNegation,2024-01-01T00:00:00Z,"
          "2024-01-01T01:00:00Z,AmazonSageMaker,USW2-Host:ml.g4dn.xlarge,arn:ep/"
          "x,1,-0.736,-0.736,,,,\n"
          "4,2024-01-01T00:00:00Z,111111111111,SavingsPlanRecurringFee,2024-01-01T00:00:00Z,"
          "2024-01-01T01:00:00Z,ComputeSavingsPlans,SavingsPlanRecurringFee,,1,0.6,0.6,,0.6,0.5,\n"
          "5,2024-01-01T00:00:00Z,111111111111,Tax,2024-01-01T00:00:00Z,2024-02-01T00:00:00Z,"
          "AmazonSageMaker,,,1,4.32E-8,4.32E-8,,,,\n");
  auto r = Run({f});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 5);
  EXPECT_EQ(r->formats.at("legacy-cur"), 1);
  auto unb = Totals("LINE_ITEM_TYPE");
  EXPECT_EQ(unb["Usage"], "0.0464");
  EXPECT_EQ(unb["SavingsPlanCoveredUsage"], "0.736");
  EXPECT_EQ(unb["SavingsPlanNegation"], "-0.736");
  EXPECT_EQ(unb["Tax"], "0.0000000432");
  auto am = Totals("LINE_ITEM_TYPE", Metric::kAmortized);
  EXPECT_EQ(am["SavingsPlanCoveredUsage"], "0.5");  // SP effective cost
  EXPECT_EQ(am["SavingsPlanNegation"], "0");        // dropped
  EXPECT_EQ(am["SavingsPlanRecurringFee"], "0.1");  // unused commitment only
  // Region comes from the usage type prefix when the export has no product/region.
  auto reg = Totals("REGION");
  EXPECT_EQ(reg["us-west-2"], "0");
  // No prefix means us-east-1 (spec), so the SP recurring fee lands there too.
  EXPECT_EQ(reg["us-east-1"], "0.6464");
  EXPECT_EQ(reg[""], "0.0000000432");  // Tax has no usage type
  EXPECT_EQ(Totals("USAGE_KIND")["Notebk"], "0.0464");
  EXPECT_EQ(Totals("INSTANCE_TYPE")["ml.t2.medium"], "0.0464");
  auto tags = Totals("TAG:team");
  EXPECT_EQ(tags["team$ml"], "0.0464");
  EXPECT_EQ(tags["team$"], "0.6000000432");
}

TEST_F(IngestTest, SameFileTwiceChangesNothing) {
  std::string f = Write("a.csv", std::string(kLegacyHeader) +
                                     "1,2024-01-01T00:00:00Z,1,Usage,2024-01-01T00:00:00Z,,"
                                     "AmazonSageMaker,Notebk:ml.t3.medium,,1,0.05,0.05,,,,\n");
  ASSERT_TRUE(Run({f}).ok());
  ASSERT_TRUE(Run({f}).ok());
  EXPECT_EQ(Totals("SERVICE")["AmazonSageMaker"], "0.05");
  auto st = store::Store::Open(Env::Default(), store_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)->segments().size(), 1u);
}

TEST_F(IngestTest, BadRowLeavesStoreUnchanged) {
  std::string good =
      Write("good.csv", std::string(kLegacyHeader) +
                            "1,2024-01-01T00:00:00Z,1,Usage,2024-01-01T00:00:00Z,,AmazonSageMaker,"
                            "Notebk:ml.t3.medium,,1,0.05,0.05,,,,\n");
  ASSERT_TRUE(Run({good}).ok());
  std::string bad = Write("bad.csv", std::string(kLegacyHeader) +
                                         "1,2024-02-01T00:00:00Z,1,Usage,2024-02-01T00:00:00Z,,"
                                         "AmazonSageMaker,Notebk:ml.t3.medium,,1,0.05,0.05,,,,\n"
                                         "2,2024-02-01T00:00:00Z,1,Usage,2024-02-01T00:00:00Z,,"
                                         "AmazonSageMaker,Notebk:ml.t3.medium,,1,zero,0.05,,,,\n");
  std::string good2 = Write("good2.csv", std::string(kLegacyHeader) +
                                             "1,2024-03-01T00:00:00Z,1,Usage,2024-03-01T00:00:00Z,,"
                                             "AmazonSageMaker,Notebk:ml.t3.medium,,1,7,7,,,,\n");
  auto r = Run({good2, bad});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
  EXPECT_NE(r.status().message().find("bad.csv:3:"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("expected a number"), std::string::npos);
  EXPECT_EQ(Totals("SERVICE")["AmazonSageMaker"], "0.05");  // good2 was not half-applied
  // No leftover segment files either.
  int segs = 0;
  for (const auto& e : fs::directory_iterator(store_))
    segs += e.path().filename().string().rfind("seg-", 0) == 0;
  EXPECT_EQ(segs, 1);
}

TEST_F(IngestTest, RaggedRowNamesLineAndColumn) {
  std::string bad = Write("r.csv", std::string(kLegacyHeader) + "1,2,3\n");
  auto r = Run({bad});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("r.csv:2:5: expected 16 fields as in the header, found 3"),
            std::string::npos)
      << r.status().message();
}

TEST_F(IngestTest, NewestLegacyDeliveryReplacesOlder) {
  // Two deliveries of January; the period manifest names the newer assembly.
  std::string row_old =
      "1,2024-01-01T00:00:00Z,1,Usage,2024-01-01T00:00:00Z,,AmazonSageMaker,Notebk:ml.t3.medium,,1,"
      "1,1,,,,\n";
  std::string row_new =
      "1,2024-01-01T00:00:00Z,1,Usage,2024-01-01T00:00:00Z,,AmazonSageMaker,Notebk:ml.t3.medium,,1,"
      "2,2,,,,\n";
  Write("cur/rep/20240101-20240201/aaa/rep-1.csv", std::string(kLegacyHeader) + row_old);
  Write("cur/rep/20240101-20240201/bbb/rep-1.csv", std::string(kLegacyHeader) + row_new);
  Write("cur/rep/20240101-20240201/rep-Manifest.json",
        R"({"assemblyId":"bbb","account":"1","reportName":"rep",)"
        R"("reportKeys":["pre/rep/20240101-20240201/bbb/rep-1.csv.gz"]})");
  auto r = Run({(dir_ / "cur").string()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 1);
  EXPECT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(Totals("SERVICE")["AmazonSageMaker"], "2");
  // A later delivery of the same period replaces it, whatever its files are called.
  Write("cur2/rep/20240101-20240201/ccc/rep-1.csv", std::string(kLegacyHeader) + row_old);
  Write("cur2/rep/20240101-20240201/rep-Manifest.json",
        R"({"assemblyId":"ccc","account":"1","reportName":"rep",)"
        R"("reportKeys":["rep/20240101-20240201/ccc/rep-1.csv"]})");
  ASSERT_TRUE(Run({(dir_ / "cur2").string()}).ok());
  EXPECT_EQ(Totals("SERVICE")["AmazonSageMaker"], "1");
  // Another payer's report of the same month is kept beside it.
  Write("cur3/rep/20240101-20240201/ddd/rep-1.csv", std::string(kLegacyHeader) + row_new);
  Write("cur3/rep/20240101-20240201/rep-Manifest.json",
        R"({"assemblyId":"ddd","account":"2","reportName":"rep",)"
        R"("reportKeys":["rep/20240101-20240201/ddd/rep-1.csv"]})");
  ASSERT_TRUE(Run({(dir_ / "cur3").string()}).ok());
  EXPECT_EQ(Totals("SERVICE")["AmazonSageMaker"], "3");
}

TEST_F(IngestTest, ManifestNamingMissingFileIsBadInput) {
  Write("cur/rep/20240101-20240201/rep-Manifest.json",
        R"({"assemblyId":"x","reportKeys":["rep/20240101-20240201/x/rep-1.csv.gz"]})");
  auto r = Run({(dir_ / "cur").string()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
  // file:line:col of the key inside the manifest.
  EXPECT_NE(r.status().message().find("rep-Manifest.json:1:33: the manifest names "
                                      "'rep/20240101-20240201/x/rep-1.csv.gz'"),
            std::string::npos)
      << r.status().message();
}

TEST_F(IngestTest, FocusAndCur2Detected) {
  std::string focus = Write(
      "f.csv",
      "BilledCost,EffectiveCost,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,"
      "ChargeCategory,"
      "CommitmentDiscountStatus,CommitmentDiscountType,SubAccountId,x_ServiceCode,x_UsageType,"
      "Tags\n"
      "1.5,1.5,2024-09-01 00:00:00,2024-09-02 00:00:00,2024-09-02 01:00:00,Usage,NULL,NULL,1,"
      "AmazonSageMaker,USE1-Notebk:ml.t3.medium,\"{\"\"user:team\"\":\"\"ml\"\"}\"\n"
      "0,0.8,2024-09-01 00:00:00,2024-09-02 00:00:00,2024-09-02 01:00:00,Usage,Used,Savings Plan,1,"
      "AmazonSageMaker,USE1-Host:ml.m5.large,NULL\n");
  std::string cur2 = Write(
      "c.csv",
      "bill_billing_period_start_date,line_item_usage_start_date,line_item_line_item_type,"
      "line_item_product_code,line_item_usage_type,line_item_unblended_cost,resource_tags\n"
      "2024-10-01T00:00:00.000Z,2024-10-05T00:00:00.000Z,Usage,AmazonSageMaker,Notebk:ml.t3.medium,"
      "2,\"{\"\"user_team\"\":\"\"data\"\"}\"\n");
  auto r = Run({focus, cur2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->formats.at("focus"), 1);
  EXPECT_EQ(r->formats.at("cur2"), 1);
  auto lit = Totals("LINE_ITEM_TYPE", Metric::kAmortized);
  EXPECT_EQ(lit["SavingsPlanCoveredUsage"], "0.8");
  EXPECT_EQ(lit["Usage"], "3.5");
  auto tags = Totals("TAG:team");
  EXPECT_EQ(tags["team$ml"], "1.5");
  EXPECT_EQ(tags["team$data"], "2");
}

TEST_F(IngestTest, UnknownAndEmptyFilesAreBadInput) {
  auto r1 = Run({Write("e.csv", "")});
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kBadInput);
  EXPECT_NE(r1.status().message().find("empty"), std::string::npos);
  auto r2 = Run({Write("u.csv", "a,b,c\n1,2,3\n")});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("unknown format"), std::string::npos);
  auto r3 = Run({Write("m.csv", "lineItem/UsageStartDate,lineItem/LineItemType\n")});
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("missing required column 'lineItem/ProductCode'"),
            std::string::npos)
      << r3.status().message();
}

TEST_F(IngestTest, DailyBucketsAndFilters) {
  std::string f =
      Write("a.csv", std::string(kLegacyHeader) +
                         "1,2024-01-01T00:00:00Z,1,Usage,2024-01-01T05:00:00Z,,AmazonSageMaker,"
                         "USE1-Notebk:ml.t2.medium,nb1,1,0.0464,0,,,,\n"
                         "2,2024-01-01T00:00:00Z,1,Usage,2024-01-02T05:00:00Z,,AmazonSageMaker,"
                         "USE1-Notebk:ml.t2.medium,nb1,1,0.0464,0,,,,\n"
                         "3,2024-01-01T00:00:00Z,2,Usage,2024-01-02T06:00:00Z,,AmazonSageMaker,"
                         "USE1-Studio_DW:KernelGateway-ml.m5.4xlarge,dw,1,0.922,0,,,,\n");
  ASSERT_TRUE(Run({f}).ok());
  auto st = store::Store::Open(Env::Default(), store_);
  ASSERT_TRUE(st.ok());
  Query q;
  q.from = *ParseDate("2024-01-01");
  q.to = *ParseDate("2024-01-04");
  q.granularity = Granularity::kDaily;
  q.filters = {*ParseFilter("USAGE_TYPE~notebk")};
  auto r = RunQuery(**st, q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->buckets.size(), 3u);
  EXPECT_EQ(r->buckets[0].total[0].ToString(), "0.0464");
  EXPECT_EQ(r->buckets[1].total[0].ToString(), "0.0464");
  EXPECT_EQ(r->buckets[2].total[0].ToString(), "0");
  q.filters = {*ParseFilter("LINKED_ACCOUNT=2,3")};
  r = RunQuery(**st, q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->buckets[1].total[0].ToString(), "0.922");
  EXPECT_FALSE(ParseFilter("NOPE=1").ok());
  EXPECT_FALSE(ParseFilter("SERVICE").ok());
}

}  // namespace
}  // namespace sagebox::cost
