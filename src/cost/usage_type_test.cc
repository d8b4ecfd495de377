#include "cost/usage_type.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sagebox::cost {

// Lets gtest print a UsageType when an expectation fails.
static void PrintTo(const UsageType& u, std::ostream* os) {
  *os << "{region_code=\"" << u.region_code << "\", region=\"" << u.region << "\", kind=\""
      << u.kind << "\", detail=\"" << u.detail << "\", instance_type=\"" << u.instance_type
      << "\", is_storage=" << u.is_storage << ", data_wrangler=" << u.data_wrangler << "}";
}

namespace {

UsageType Expect(std::string region_code, std::string region, std::string kind, std::string detail,
                 std::string instance_type, bool is_storage, bool data_wrangler) {
  UsageType u;
  u.region_code = std::move(region_code);
  u.region = std::move(region);
  u.kind = std::move(kind);
  u.detail = std::move(detail);
  u.instance_type = std::move(instance_type);
  u.is_storage = is_storage;
  u.data_wrangler = data_wrangler;
  return u;
}

struct Case {
  std::string_view input;
  UsageType want;
};

void CheckAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(ParseUsageType(c.input), c.want) << "input: \"" << c.input << "\"";
  }
}

// Every usage type string, example and filter prefix in the seed articles
// (/work/shared/seeds/000_3259f32da3cf488e.txt), plus the one in the spec's findings example.
TEST(UsageTypeTest, ArticleStrings) {
  CheckAll({
      // "REGION-Processing:instanceType (for example, USE1-Processing:ml.m5.large)"
      {"USE1-Processing:ml.m5.large",
       Expect("USE1", "us-east-1", "Processing", "ml.m5.large", "ml.m5.large", false, false)},
      // "REGION-Processing:VolumeUsage.gp2 (for example, USE1-Processing:VolumeUsage.gp2)"
      {"USE1-Processing:VolumeUsage.gp2",
       Expect("USE1", "us-east-1", "Processing", "VolumeUsage.gp2", "", true, false)},
      // "REGION-processing_DW:instanceType (for example, USE1-processing_DW:ml.m5.large)"
      {"USE1-processing_DW:ml.m5.large",
       Expect("USE1", "us-east-1", "Processing_DW", "ml.m5.large", "ml.m5.large", false, true)},
      // "REGION-processing_DW:VolumeUsage.gp2 (for example, USE1-processing_DW:VolumeUsage.gp2)"
      {"USE1-processing_DW:VolumeUsage.gp2",
       Expect("USE1", "us-east-1", "Processing_DW", "VolumeUsage.gp2", "", true, true)},
      // "REGION-Notebk:instanceType (for example, USE1-Notebk:ml.g4dn.8xlarge)"
      {"USE1-Notebk:ml.g4dn.8xlarge",
       Expect("USE1", "us-east-1", "Notebk", "ml.g4dn.8xlarge", "ml.g4dn.8xlarge", false, false)},
      // "REGION-Notebk:VolumeUsage.gp2 (for example, USE2-Notebk:VolumeUsage.gp2)"
      {"USE2-Notebk:VolumeUsage.gp2",
       Expect("USE2", "us-east-2", "Notebk", "VolumeUsage.gp2", "", true, false)},
      // "REGION-studio:KernelGateway-instanceType (for example,
      // USE1-Studio:KernelGateway-ml.m5.large)"
      {"USE1-Studio:KernelGateway-ml.m5.large",
       Expect("USE1", "us-east-1", "Studio:KernelGateway", "KernelGateway-ml.m5.large",
              "ml.m5.large", false, false)},
      // "REGION-Studio_DW:KernelGateway-instanceType (for example,
      //  USE1-Studio_DW:KernelGateway-ml.m5.4xlarge)"
      {"USE1-Studio_DW:KernelGateway-ml.m5.4xlarge",
       Expect("USE1", "us-east-1", "Studio_DW:KernelGateway", "KernelGateway-ml.m5.4xlarge",
              "ml.m5.4xlarge", false, true)},
      // Spec findings example.
      {"USE1-Notebk:ml.t2.medium",
       Expect("USE1", "us-east-1", "Notebk", "ml.t2.medium", "ml.t2.medium", false, false)},

      // Cost Explorer filter prefixes the articles tell the reader to type.
      // "Filtering by the usage type Notebk: ..."
      {"Notebk:", Expect("", "us-east-1", "Notebk", "", "", false, false)},
      // "... entering the processing:ml prefix ..."
      {"processing:ml", Expect("", "us-east-1", "Processing", "ml", "", false, false)},
      // "Filtering by the usage type studio: ..."
      {"studio:", Expect("", "us-east-1", "Studio", "", "", false, false)},
      // "Filtering by the usage type studio_DW: ..."
      {"studio_DW:", Expect("", "us-east-1", "Studio_DW", "", "", false, true)},
      // "... choose the processing_DW prefix ..."
      {"processing_DW", Expect("", "us-east-1", "Processing_DW", "", "", false, true)},
      // "... filter the usage type by the Studio_DW prefix."
      {"Studio_DW", Expect("", "us-east-1", "Studio_DW", "", "", false, true)},
      // SQL filters: like '%Notebk%', '%Studio:KernelGateway%', '%Studio_DW:KernelGateway%'
      {"Notebk", Expect("", "us-east-1", "Notebk", "", "", false, false)},
      {"Studio:KernelGateway",
       Expect("", "us-east-1", "Studio:KernelGateway", "KernelGateway", "", false, false)},
      {"Studio_DW:KernelGateway",
       Expect("", "us-east-1", "Studio_DW:KernelGateway", "KernelGateway", "", false, true)},

      // Templates: "REGION" is not a region code, so nothing is stripped.
      {"REGION-Notebk:instanceType",
       Expect("", "us-east-1", "REGION-Notebk", "instanceType", "", false, false)},
      {"REGION-Notebk:VolumeUsage.gp2",
       Expect("", "us-east-1", "REGION-Notebk", "VolumeUsage.gp2", "", true, false)},
      {"REGION-Processing:instanceType",
       Expect("", "us-east-1", "REGION-Processing", "instanceType", "", false, false)},
      {"REGION-Processing:VolumeUsage.gp2",
       Expect("", "us-east-1", "REGION-Processing", "VolumeUsage.gp2", "", true, false)},
      {"REGION-processing_DW:instanceType",
       Expect("", "us-east-1", "REGION-processing_DW", "instanceType", "", false, false)},
      {"REGION-processing_DW:VolumeUsage.gp2",
       Expect("", "us-east-1", "REGION-processing_DW", "VolumeUsage.gp2", "", true, false)},
      {"REGION-studio:KernelGateway-instanceType",
       Expect("", "us-east-1", "REGION-studio", "KernelGateway-instanceType", "", false, false)},
      {"REGION-Studio_DW:KernelGateway-instanceType",
       Expect("", "us-east-1", "REGION-Studio_DW", "KernelGateway-instanceType", "", false, false)},
      {"REGION-UsageType:instanceType",
       Expect("", "us-east-1", "REGION-UsageType", "instanceType", "", false, false)},
  });
}

TEST(UsageTypeTest, StudioDataWranglerBothCases) {
  const UsageType want = Expect("USE1", "us-east-1", "Studio_DW:KernelGateway",
                                "KernelGateway-ml.m5.4xlarge", "ml.m5.4xlarge", false, true);
  EXPECT_EQ(ParseUsageType("USE1-Studio_DW:KernelGateway-ml.m5.4xlarge"), want);
  EXPECT_EQ(ParseUsageType("USE1-studio_DW:KernelGateway-ml.m5.4xlarge"), want);
  EXPECT_EQ(ParseUsageType("USE1-STUDIO_dw:KernelGateway-ml.m5.4xlarge"), want);
  // The app name is respelled in the kind but kept as written in the detail.
  UsageType app_lower = want;
  app_lower.detail = "kernelgateway-ml.m5.4xlarge";
  EXPECT_EQ(ParseUsageType("USE1-studio_DW:kernelgateway-ml.m5.4xlarge"), app_lower);
  // Plain Studio in either case.
  const UsageType studio = Expect("EUC1", "eu-central-1", "Studio:KernelGateway",
                                  "KernelGateway-ml.t3.medium", "ml.t3.medium", false, false);
  EXPECT_EQ(ParseUsageType("EUC1-Studio:KernelGateway-ml.t3.medium"), studio);
  EXPECT_EQ(ParseUsageType("EUC1-studio:KernelGateway-ml.t3.medium"), studio);
}

TEST(UsageTypeTest, ProcessingDataWranglerCases) {
  CheckAll({
      {"USW2-processing_DW:ml.m5.4xlarge",
       Expect("USW2", "us-west-2", "Processing_DW", "ml.m5.4xlarge", "ml.m5.4xlarge", false, true)},
      {"USW2-Processing_DW:ml.m5.4xlarge",
       Expect("USW2", "us-west-2", "Processing_DW", "ml.m5.4xlarge", "ml.m5.4xlarge", false, true)},
      {"USW2-PROCESSING_DW:VolumeUsage.gp2",
       Expect("USW2", "us-west-2", "Processing_DW", "VolumeUsage.gp2", "", true, true)},
      {"processing_DW:VolumeUsage.gp3",
       Expect("", "us-east-1", "Processing_DW", "VolumeUsage.gp3", "", true, true)},
      // Plain Processing is not Data Wrangler.
      {"USW2-processing:ml.m5.xlarge",
       Expect("USW2", "us-west-2", "Processing", "ml.m5.xlarge", "ml.m5.xlarge", false, false)},
  });
}

TEST(UsageTypeTest, AllRegionCodes) {
  struct Region {
    std::string_view code;
    std::string_view name;
  };
  // The brief's list plus the codes on AWS's "AWS Region billing codes" page.
  const Region regions[] = {
      {"USE1", "us-east-1"},      {"USE2", "us-east-2"},      {"USW1", "us-west-1"},
      {"USW2", "us-west-2"},      {"CAN1", "ca-central-1"},   {"CAN2", "ca-west-1"},
      {"MXC1", "mx-central-1"},   {"SAE1", "sa-east-1"},      {"EU", "eu-west-1"},
      {"EUW1", "eu-west-1"},      {"EUW2", "eu-west-2"},      {"EUW3", "eu-west-3"},
      {"EUC1", "eu-central-1"},   {"EUC2", "eu-central-2"},   {"EUN1", "eu-north-1"},
      {"EUS1", "eu-south-1"},     {"EUS2", "eu-south-2"},     {"APN1", "ap-northeast-1"},
      {"APN2", "ap-northeast-2"}, {"APN3", "ap-northeast-3"}, {"APS1", "ap-southeast-1"},
      {"APS2", "ap-southeast-2"}, {"APS3", "ap-south-1"},     {"APS4", "ap-southeast-3"},
      {"APS5", "ap-south-2"},     {"APS6", "ap-southeast-4"}, {"APS7", "ap-southeast-5"},
      {"APS8", "ap-southeast-6"}, {"APS9", "ap-southeast-7"}, {"APE1", "ap-east-1"},
      {"APE2", "ap-east-2"},      {"MES1", "me-south-1"},     {"MEC1", "me-central-1"},
      {"AFS1", "af-south-1"},     {"ILC1", "il-central-1"},   {"UGW1", "us-gov-west-1"},
      {"UGE1", "us-gov-east-1"},
  };
  for (const Region& r : regions) {
    EXPECT_EQ(RegionForCode(r.code), r.name) << r.code;
    const std::string input = std::string(r.code) + "-Host:ml.c5.xlarge";
    EXPECT_EQ(ParseUsageType(input), Expect(std::string(r.code), std::string(r.name), "Host",
                                            "ml.c5.xlarge", "ml.c5.xlarge", false, false))
        << input;
  }
}

TEST(UsageTypeTest, RegionForCodeOddInput) {
  EXPECT_EQ(RegionForCode(""), "");
  EXPECT_EQ(RegionForCode("XX99"), "");
  EXPECT_EQ(RegionForCode("USE"), "");
  EXPECT_EQ(RegionForCode("USE11"), "");
  EXPECT_EQ(RegionForCode(" USE1"), "");
  EXPECT_EQ(RegionForCode("USE1-"), "");
  EXPECT_EQ(RegionForCode("REGION"), "");
  EXPECT_EQ(RegionForCode("us-east-1"), "");
  EXPECT_EQ(RegionForCode("use1"), "us-east-1");
  EXPECT_EQ(RegionForCode("eu"), "eu-west-1");
  EXPECT_EQ(RegionForCode("ApS3"), "ap-south-1");
}

TEST(UsageTypeTest, NoPrefixMeansUsEast1) {
  CheckAll({
      {"Notebk:ml.t3.medium",
       Expect("", "us-east-1", "Notebk", "ml.t3.medium", "ml.t3.medium", false, false)},
      {"Studio:KernelGateway-ml.t3.medium",
       Expect("", "us-east-1", "Studio:KernelGateway", "KernelGateway-ml.t3.medium", "ml.t3.medium",
              false, false)},
      {"Train-Spot:ml.p3.2xlarge",
       Expect("", "us-east-1", "Train-Spot", "ml.p3.2xlarge", "ml.p3.2xlarge", false, false)},
      // Leading dash token that is not a region code.
      {"DataTransfer-Out-Bytes",
       Expect("", "us-east-1", "DataTransfer-Out-Bytes", "", "", false, false)},
      {"XX99-Notebk:ml.t3.medium",
       Expect("", "us-east-1", "XX99-Notebk", "ml.t3.medium", "ml.t3.medium", false, false)},
  });
}

TEST(UsageTypeTest, OtherSageMakerKinds) {
  CheckAll({
      {"USE1-Host:ml.m5.large",
       Expect("USE1", "us-east-1", "Host", "ml.m5.large", "ml.m5.large", false, false)},
      {"USE1-Host:VolumeUsage.gp2",
       Expect("USE1", "us-east-1", "Host", "VolumeUsage.gp2", "", true, false)},
      {"USW2-Train:ml.p3.2xlarge",
       Expect("USW2", "us-west-2", "Train", "ml.p3.2xlarge", "ml.p3.2xlarge", false, false)},
      {"USW2-Train:VolumeUsage.gp2",
       Expect("USW2", "us-west-2", "Train", "VolumeUsage.gp2", "", true, false)},
      {"USW2-Train-Spot:ml.g5.xlarge",
       Expect("USW2", "us-west-2", "Train-Spot", "ml.g5.xlarge", "ml.g5.xlarge", false, false)},
      {"USW2-TrSpt:ml.g5.xlarge",
       Expect("USW2", "us-west-2", "Train-Spot", "ml.g5.xlarge", "ml.g5.xlarge", false, false)},
      {"EU-Tsform:ml.m5.xlarge",
       Expect("EU", "eu-west-1", "Tsform", "ml.m5.xlarge", "ml.m5.xlarge", false, false)},
      {"APN1-AsyncInf:ml.g4dn.xlarge", Expect("APN1", "ap-northeast-1", "AsyncInf",
                                              "ml.g4dn.xlarge", "ml.g4dn.xlarge", false, false)},
      // Serverless inference bills memory, not an instance.
      {"USE1-ServerlessInf:Mem-4GB",
       Expect("USE1", "us-east-1", "ServerlessInf", "Mem-4GB", "", false, false)},
      {"USE1-Canvas:Session-Hrs",
       Expect("USE1", "us-east-1", "Canvas", "Session-Hrs", "", false, false)},
      {"USE1-Canvas", Expect("USE1", "us-east-1", "Canvas", "", "", false, false)},
      {"USE2-Cluster:ml.p5.48xlarge",
       Expect("USE2", "us-east-2", "Cluster", "ml.p5.48xlarge", "ml.p5.48xlarge", false, false)},
      // Studio with another app, with an instance directly, and with storage.
      {"USE1-Studio:JupyterLab-ml.t3.medium",
       Expect("USE1", "us-east-1", "Studio:JupyterLab", "JupyterLab-ml.t3.medium", "ml.t3.medium",
              false, false)},
      {"USE1-Studio:ml.t3.medium",
       Expect("USE1", "us-east-1", "Studio", "ml.t3.medium", "ml.t3.medium", false, false)},
      {"USE1-Studio:VolumeUsage.gp3",
       Expect("USE1", "us-east-1", "Studio", "VolumeUsage.gp3", "", true, false)},
      {"USE1-Studio:-ml.t3.medium",
       Expect("USE1", "us-east-1", "Studio", "-ml.t3.medium", "", false, false)},
      // An unknown kind with an ml. instance still yields the instance.
      {"USE1-NewThing:ml.m5.large",
       Expect("USE1", "us-east-1", "NewThing", "ml.m5.large", "ml.m5.large", false, false)},
  });
}

TEST(UsageTypeTest, CaseVariations) {
  CheckAll({
      {"use1-NOTEBK:ML.T3.Medium",
       Expect("USE1", "us-east-1", "Notebk", "ML.T3.Medium", "ml.t3.medium", false, false)},
      {"Usw2-notebk:volumeusage.gp2",
       Expect("USW2", "us-west-2", "Notebk", "volumeusage.gp2", "", true, false)},
      {"eu-host:ml.m5.large",
       Expect("EU", "eu-west-1", "Host", "ml.m5.large", "ml.m5.large", false, false)},
      {"USE1-tsform:ml.m5.large",
       Expect("USE1", "us-east-1", "Tsform", "ml.m5.large", "ml.m5.large", false, false)},
      {"USE1-trspt:ml.m5.large",
       Expect("USE1", "us-east-1", "Train-Spot", "ml.m5.large", "ml.m5.large", false, false)},
      {"USE1-asyncinf:ml.m5.large",
       Expect("USE1", "us-east-1", "AsyncInf", "ml.m5.large", "ml.m5.large", false, false)},
      {"USE1-SERVERLESSINF:Mem-1GB",
       Expect("USE1", "us-east-1", "ServerlessInf", "Mem-1GB", "", false, false)},
      {"USE1-cluster:ml.p5.48xlarge",
       Expect("USE1", "us-east-1", "Cluster", "ml.p5.48xlarge", "ml.p5.48xlarge", false, false)},
      // Unknown kinds keep their spelling.
      {"use1-boxusage:t3.micro",
       Expect("USE1", "us-east-1", "boxusage", "t3.micro", "", false, false)},
  });
}

TEST(UsageTypeTest, NonSageMakerTypes) {
  CheckAll({
      {"BoxUsage:t3.micro", Expect("", "us-east-1", "BoxUsage", "t3.micro", "", false, false)},
      {"USW2-BoxUsage:m5.large",
       Expect("USW2", "us-west-2", "BoxUsage", "m5.large", "", false, false)},
      {"DataTransfer-Out-Bytes",
       Expect("", "us-east-1", "DataTransfer-Out-Bytes", "", "", false, false)},
      {"USW2-TimedStorage-ByteHrs",
       Expect("USW2", "us-west-2", "TimedStorage-ByteHrs", "", "", false, false)},
      // Only the first code is a prefix; the second is part of the kind.
      {"APN1-APN2-AWS-Out-Bytes",
       Expect("APN1", "ap-northeast-1", "APN2-AWS-Out-Bytes", "", "", false, false)},
      {"APE1-USE1-AWS-In-Bytes",
       Expect("APE1", "ap-east-1", "USE1-AWS-In-Bytes", "", "", false, false)},
      {"EUC1-EBS:VolumeUsage.gp3",
       Expect("EUC1", "eu-central-1", "EBS", "VolumeUsage.gp3", "", true, false)},
      {"USE1-Requests-Tier1", Expect("USE1", "us-east-1", "Requests-Tier1", "", "", false, false)},
      {"EU-CW:MetricMonitorUsage",
       Expect("EU", "eu-west-1", "CW", "MetricMonitorUsage", "", false, false)},
  });
}

TEST(UsageTypeTest, EmptyAndBlank) {
  const UsageType empty;
  EXPECT_EQ(ParseUsageType(""), empty);
  EXPECT_EQ(ParseUsageType("   "), empty);
  EXPECT_EQ(ParseUsageType("\t\r\n"), empty);
  EXPECT_EQ(empty.region, "");
  EXPECT_EQ(empty.kind, "");
  // Surrounding blanks are ignored.
  EXPECT_EQ(ParseUsageType("  USE1-Notebk:ml.t2.medium\r\n"),
            Expect("USE1", "us-east-1", "Notebk", "ml.t2.medium", "ml.t2.medium", false, false));
}

TEST(UsageTypeTest, Garbage) {
  CheckAll({
      {":", Expect("", "us-east-1", ":", "", "", false, false)},
      {"::::", Expect("", "us-east-1", "::::", "", "", false, false)},
      {":ml.m5.large", Expect("", "us-east-1", ":ml.m5.large", "", "", false, false)},
      {"USE1-:ml.m5.large", Expect("USE1", "us-east-1", ":ml.m5.large", "", "", false, false)},
      // A code with nothing after the dash is not a prefix.
      {"USE1-", Expect("", "us-east-1", "USE1-", "", "", false, false)},
      {"USE1", Expect("", "us-east-1", "USE1", "", "", false, false)},
      {"-", Expect("", "us-east-1", "-", "", "", false, false)},
      {"--USE1", Expect("", "us-east-1", "--USE1", "", "", false, false)},
      {"???", Expect("", "us-east-1", "???", "", "", false, false)},
      {"Notebk:ml.", Expect("", "us-east-1", "Notebk", "ml.", "", false, false)},
      {"Notebk:ml..x", Expect("", "us-east-1", "Notebk", "ml..x", "", false, false)},
      {"Notebk:ml.t3 medium", Expect("", "us-east-1", "Notebk", "ml.t3 medium", "", false, false)},
      {"Notebk:a:b:c", Expect("", "us-east-1", "Notebk", "a:b:c", "", false, false)},
      {"USE1-USE1-USE1", Expect("USE1", "us-east-1", "USE1-USE1", "", "", false, false)},
      {"Studio_DW:KernelGateway-",
       Expect("", "us-east-1", "Studio_DW:KernelGateway", "KernelGateway-", "", false, true)},
      {"\xff\xfe-Notebk:\x80",
       Expect("", "us-east-1", "\xff\xfe-Notebk", "\x80", "", false, false)},
  });
  // Embedded NUL bytes are ordinary characters.
  const std::string with_nul("USE1-Notebk:ml.t3\0x", 19);
  EXPECT_EQ(ParseUsageType(with_nul),
            Expect("USE1", "us-east-1", "Notebk", std::string("ml.t3\0x", 7), "", false, false));
}

}  // namespace
}  // namespace sagebox::cost
