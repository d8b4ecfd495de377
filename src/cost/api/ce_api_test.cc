// The Cost Explorer endpoint over a hand-made bill with known sums: every
// operation's numbers, filters (Not/And/Or, match options), paging and the
// AWS error shapes.
#include "cost/api/ce_api.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/testing/temp_dir.h"
#include "cost/ingest.h"
#include "cost/plan/forecast.h"

namespace sagebox::cost::api {
namespace {

using nlohmann::json;

// 20 days (2024-03-01..20) of: SageMaker notebook 1.00 (team alpha) and
// endpoint 2.00 (team beta) in us-east-1, S3 storage 0.50 in us-west-2
// (untagged), EC2 0.25 in us-east-1 (team alpha); on 03-01 also a SageMaker
// credit of -3 (us-east-1) and an S3 tax line of 0.10 (no region).
// Month totals: SageMaker 57, S3 10.1, EC2 5; all 72.1.
std::string Bill() {
  std::string csv =
      "identity/LineItemId,bill/BillingPeriodStartDate,bill/PayerAccountId,"
      "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,"
      "lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,"
      "product/region,lineItem/UsageAmount,lineItem/UnblendedCost,resourceTags/user:team\n";
  int id = 0;
  auto line = [&](const std::string& type, int day, const std::string& product,
                  const std::string& ut, const std::string& region, const std::string& cost,
                  const std::string& team) {
    std::string d = fmt::format("2024-03-{:02d}", day);
    csv += fmt::format(
        "{},2024-03-01T00:00:00Z,111111111111,222222222222,{},{}T00:00:00Z,{}"
        "T01:00:00Z,{},{},Op,{},1,{},{}\n",
        ++id, type, d, d, product, ut, region, cost, team);
  };
  for (int day = 1; day <= 20; ++day) {
    line("Usage", day, "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", "us-east-1", "1.00", "alpha");
    line("Usage", day, "AmazonSageMaker", "USE1-Host:ml.m5.xlarge", "us-east-1", "2.00", "beta");
    line("Usage", day, "AmazonS3", "USW2-TimedStorage-ByteHrs", "us-west-2", "0.50", "");
    line("Usage", day, "AmazonEC2", "BoxUsage:m5.large", "us-east-1", "0.25", "alpha");
  }
  line("Credit", 1, "AmazonSageMaker", "", "us-east-1", "-3.00", "");
  line("Tax", 1, "AmazonS3", "", "", "0.10", "");
  return csv;
}

class CeApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("ce");
    std::string in = dir_->Path("bill.csv");
    std::ofstream(in, std::ios::binary) << Bill();
    auto r = cost::Ingest(Env::Default(), dir_->Path("store"), {in}, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto st = store::Store::Open(Env::Default(), dir_->Path("store"));
    ASSERT_TRUE(st.ok());
    store_ = st->release();
    auto empty = store::Store::Open(Env::Default(), dir_->Path("empty"));
    ASSERT_TRUE(empty.ok());
    empty_ = empty->release();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete empty_;
    delete dir_;
  }

  static CeResponse Call(const std::string& op, const json& req, int page_size = 500,
                         const store::Store* st = nullptr) {
    CeContext ctx;
    ctx.page_size = page_size;
    return HandleCostExplorer(st ? *st : *store_, "AWSInsightsIndexService." + op, req.dump(), ctx);
  }

  // GetCostAndUsage for March, MONTHLY, UnblendedCost, with an optional filter.
  static json Cau(const json& filter = nullptr, const json& group_by = nullptr) {
    json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}},
                {"Granularity", "MONTHLY"},
                {"Metrics", {"UnblendedCost"}}};
    if (!filter.is_null()) req["Filter"] = filter;
    if (!group_by.is_null()) req["GroupBy"] = group_by;
    auto r = Call("GetCostAndUsage", req);
    EXPECT_EQ(r.http_status, 200) << r.body.dump();
    return r.body;
  }
  static std::string Total(const json& filter) {
    json b = Cau(filter);
    if (!b.contains("ResultsByTime") || b["ResultsByTime"].size() != 1) return "?";
    return b["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"].get<std::string>();
  }
  static json Dim(const std::string& key, std::vector<std::string> values,
                  std::vector<std::string> match = {}) {
    json d = {{"Key", key}, {"Values", values}};
    if (!match.empty()) d["MatchOptions"] = match;
    return {{"Dimensions", d}};
  }
  static void ExpectError(const CeResponse& r, const std::string& type, const std::string& part) {
    EXPECT_EQ(r.http_status, 400) << r.body.dump();
    EXPECT_EQ(r.body.value("__type", ""), type) << r.body.dump();
    EXPECT_NE(r.body.value("Message", "").find(part), std::string::npos) << r.body.dump();
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline store::Store* store_ = nullptr;
  static inline store::Store* empty_ = nullptr;
};

TEST_F(CeApiTest, CostAndUsageTotal) {
  json b = Cau();
  ASSERT_EQ(b["ResultsByTime"].size(), 1u);
  const auto& r = b["ResultsByTime"][0];
  EXPECT_EQ(r["TimePeriod"]["Start"], "2024-03-01");
  EXPECT_EQ(r["TimePeriod"]["End"], "2024-04-01");
  EXPECT_EQ(r["Total"]["UnblendedCost"]["Amount"], "72.1");
  EXPECT_EQ(r["Total"]["UnblendedCost"]["Unit"], "USD");
  EXPECT_EQ(r["Estimated"], false);
  EXPECT_TRUE(b["DimensionValueAttributes"].is_array());
  EXPECT_FALSE(b.contains("NextPageToken"));
}

TEST_F(CeApiTest, GroupByServiceShowsNames) {
  json b = Cau(nullptr, json::array({{{"Type", "DIMENSION"}, {"Key", "SERVICE"}}}));
  EXPECT_EQ(b["GroupDefinitions"], json::parse(R"([{"Type":"DIMENSION","Key":"SERVICE"}])"));
  const auto& g = b["ResultsByTime"][0]["Groups"];
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0]["Keys"], json::array({"Amazon SageMaker"}));
  EXPECT_EQ(g[0]["Metrics"]["UnblendedCost"]["Amount"], "57");
  EXPECT_EQ(g[1]["Keys"], json::array({"Amazon Simple Storage Service"}));
  EXPECT_EQ(g[1]["Metrics"]["UnblendedCost"]["Amount"], "10.1");
  EXPECT_EQ(g[2]["Keys"], json::array({"Amazon Elastic Compute Cloud - Compute"}));
  EXPECT_EQ(g[2]["Metrics"]["UnblendedCost"]["Amount"], "5");
  // SERVICE_CODE keeps the product codes; RECORD_TYPE is echoed as asked.
  b = Cau(nullptr, json::array({{{"Type", "DIMENSION"}, {"Key", "SERVICE_CODE"}},
                                {{"Type", "DIMENSION"}, {"Key", "RECORD_TYPE"}}}));
  EXPECT_EQ(b["GroupDefinitions"][1]["Key"], "RECORD_TYPE");
  const auto& g2 = b["ResultsByTime"][0]["Groups"];
  ASSERT_EQ(g2.size(), 5u);
  EXPECT_EQ(g2[0]["Keys"], json::array({"AmazonSageMaker", "Usage"}));
  EXPECT_EQ(g2[0]["Metrics"]["UnblendedCost"]["Amount"], "60");
  EXPECT_EQ(g2[4]["Keys"], json::array({"AmazonSageMaker", "Credit"}));
}

TEST_F(CeApiTest, GroupByTag) {
  json b = Cau(nullptr, json::array({{{"Type", "TAG"}, {"Key", "team"}}}));
  const auto& g = b["ResultsByTime"][0]["Groups"];
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0]["Keys"], json::array({"team$beta"}));
  EXPECT_EQ(g[0]["Metrics"]["UnblendedCost"]["Amount"], "40");
  EXPECT_EQ(g[1]["Keys"], json::array({"team$alpha"}));
  EXPECT_EQ(g[1]["Metrics"]["UnblendedCost"]["Amount"], "25");
  EXPECT_EQ(g[2]["Keys"], json::array({"team$"}));
  EXPECT_EQ(g[2]["Metrics"]["UnblendedCost"]["Amount"], "7.1");
}

TEST_F(CeApiTest, Filters) {
  // Not RECORD_TYPE Credit/Tax: usage only.
  EXPECT_EQ(Total({{"Not", Dim("RECORD_TYPE", {"Credit", "Tax"})}}), "75");
  // SERVICE by code or by CE name.
  EXPECT_EQ(Total(Dim("SERVICE", {"AmazonSageMaker"})), "57");
  EXPECT_EQ(Total(Dim("SERVICE", {"Amazon SageMaker"})), "57");
  EXPECT_EQ(Total(Dim("SERVICE", {"simple storage"}, {"CONTAINS", "CASE_INSENSITIVE"})), "10.1");
  EXPECT_EQ(Total({{"Not", Dim("SERVICE", {"Amazon SageMaker"})}}), "15.1");
  // And of a dimension and a negated tag ABSENT (i.e. tagged lines).
  json tagged = {{"Not", {{"Tags", {{"Key", "team"}, {"MatchOptions", {"ABSENT"}}}}}}};
  EXPECT_EQ(Total({{"And", {Dim("REGION", {"us-east-1"}), tagged}}}), "65");
  EXPECT_EQ(Total({{"Tags", {{"Key", "team"}, {"MatchOptions", {"ABSENT"}}}}}), "7.1");
  EXPECT_EQ(Total({{"Tags", {{"Key", "user:team"}, {"Values", {"alpha"}}}}}), "25");
  // Or of the same key merges values; Not(Or) is an And of negations.
  json s3_or_ec2 = {{"Or", {Dim("SERVICE", {"AmazonS3"}), Dim("SERVICE", {"AmazonEC2"})}}};
  EXPECT_EQ(Total(s3_or_ec2), "15.1");
  EXPECT_EQ(Total({{"Not", s3_or_ec2}}), "57");
  // Match options on a derived and a plain dimension.
  EXPECT_EQ(Total(Dim("USAGE_TYPE", {"notebk"}, {"CONTAINS", "CASE_INSENSITIVE"})), "20");
  EXPECT_EQ(Total(Dim("USAGE_TYPE", {"notebk"}, {"CONTAINS", "CASE_SENSITIVE"})), "0");
  EXPECT_EQ(Total(Dim("USAGE_TYPE", {"USE1-"}, {"STARTS_WITH"})), "60");
  EXPECT_EQ(Total(Dim("USAGE_TYPE", {"m5.large"}, {"ENDS_WITH"})), "5");
  EXPECT_EQ(Total(Dim("INSTANCE_TYPE", {"ml.m5.xlarge"})), "40");
  EXPECT_EQ(Total(Dim("REGION", {}, {"ABSENT"})), "0.1");
  EXPECT_EQ(Total({{"Not", {{"Not", Dim("REGION", {"us-west-2"})}}}}), "10");
}

TEST_F(CeApiTest, FilterErrors) {
  json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}},
              {"Granularity", "MONTHLY"},
              {"Metrics", {"UnblendedCost"}}};
  req["Filter"] = {{"Or", {Dim("SERVICE", {"AmazonS3"}), Dim("REGION", {"us-west-2"})}}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "Or across different keys");
  req["Filter"] = {{"Not", {{"And", {Dim("SERVICE", {"AmazonS3"}), Dim("REGION", {"x"})}}}}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "Not of an And");
  req["Filter"] = Dim("PLATFORM", {"x"});
  ExpectError(Call("GetCostAndUsage", req), "ValidationException",
              "accepted: SERVICE, SERVICE_CODE, USAGE_TYPE");
  req["Filter"] = {{"Dimensions", {{"Key", "SERVICE"}, {"Values", {"a"}}}},
                   {"Tags", {{"Key", "t"}, {"Values", {"a"}}}}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "exactly one of");
  req["Filter"] = Dim("SERVICE", {"a"}, {"FUZZY"});
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "FUZZY");
  req["Filter"] = Dim("SERVICE", {});
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "Values must not be empty");
}

TEST_F(CeApiTest, PaginationConcatenatesToUnpaged) {
  json req = {{"TimePeriod", {{"Start", "2024-02-28"}, {"End", "2024-03-06"}}},
              {"Granularity", "DAILY"},
              {"Metrics", {"UnblendedCost", "UsageQuantity"}},
              {"GroupBy", {{{"Type", "DIMENSION"}, {"Key", "USAGE_TYPE"}}}}};
  auto whole = Call("GetCostAndUsage", req);
  ASSERT_EQ(whole.http_status, 200) << whole.body.dump();
  ASSERT_FALSE(whole.body.contains("NextPageToken"));
  // Flatten to (period, keys, metrics) rows; empty periods as their own rows.
  auto flatten = [](const json& pages) {
    std::vector<json> rows;
    for (const auto& p : pages) {
      for (const auto& r : p["ResultsByTime"]) {
        if (r["Groups"].empty()) rows.push_back({r["TimePeriod"], nullptr});
        for (const auto& g : r["Groups"]) rows.push_back({r["TimePeriod"], g});
      }
    }
    return rows;
  };
  json pages = json::array();
  std::string token;
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    json r = req;
    if (!token.empty()) r["NextPageToken"] = token;
    auto resp = Call("GetCostAndUsage", r, 2);
    ASSERT_EQ(resp.http_status, 200) << resp.body.dump();
    size_t groups = 0;
    for (const auto& b : resp.body["ResultsByTime"]) groups += b["Groups"].size();
    EXPECT_LE(groups, 2u);
    EXPECT_EQ(resp.body["GroupDefinitions"], whole.body["GroupDefinitions"]);
    pages.push_back(resp.body);
    if (!resp.body.contains("NextPageToken")) break;
    token = resp.body["NextPageToken"].get<std::string>();
    EXPECT_TRUE(tokens.insert(token).second);
  }
  // 2 empty days + 5 days x 4 usage types (+ the credit/tax type "" on 03-01) = 21 groups.
  EXPECT_EQ(pages.size(), 11u);
  EXPECT_EQ(flatten(pages), flatten(json::array({whole.body})));
  // Deterministic: the same request gives the same first token.
  EXPECT_EQ(Call("GetCostAndUsage", req, 2).body["NextPageToken"], pages[0]["NextPageToken"]);

  json changed = req;
  changed["NextPageToken"] = pages[0]["NextPageToken"];
  changed["Metrics"] = {"UnblendedCost"};
  ExpectError(Call("GetCostAndUsage", changed, 2), "RequestChangedException", "different request");
  changed = req;
  changed["NextPageToken"] = "garbage";
  ExpectError(Call("GetCostAndUsage", changed, 2), "InvalidNextTokenException", "");
  std::string far = pages[0]["NextPageToken"].get<std::string>();
  far = far.substr(0, far.rfind('.') + 1) + "999";
  changed["NextPageToken"] = far;
  ExpectError(Call("GetCostAndUsage", changed, 2), "InvalidNextTokenException", "past the end");
}

TEST_F(CeApiTest, DimensionValues) {
  json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}},
              {"Dimension", "SERVICE"},
              {"Context", "COST_AND_USAGE"}};
  auto r = Call("GetDimensionValues", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  EXPECT_EQ(r.body["DimensionValues"], json::parse(R"([{"Value":"Amazon SageMaker","Attributes":{}},
                            {"Value":"Amazon Simple Storage Service","Attributes":{}},
                            {"Value":"Amazon Elastic Compute Cloud - Compute","Attributes":{}}])"));
  EXPECT_EQ(r.body["ReturnSize"], 3);
  EXPECT_EQ(r.body["TotalSize"], 3);
  req["MaxResults"] = 2;
  r = Call("GetDimensionValues", req);
  EXPECT_EQ(r.body["ReturnSize"], 2);
  EXPECT_EQ(r.body["TotalSize"], 3);
  ASSERT_TRUE(r.body.contains("NextPageToken"));
  req["NextPageToken"] = r.body["NextPageToken"];
  r = Call("GetDimensionValues", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  EXPECT_EQ(r.body["DimensionValues"][0]["Value"], "Amazon Elastic Compute Cloud - Compute");
  EXPECT_FALSE(r.body.contains("NextPageToken"));
  // Search, a filter, and the empty region left out.
  json q = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}},
            {"Dimension", "REGION"}};
  r = Call("GetDimensionValues", q);
  EXPECT_EQ(r.body["TotalSize"], 2);
  q["SearchString"] = "WEST";
  r = Call("GetDimensionValues", q);
  EXPECT_EQ(r.body["DimensionValues"][0]["Value"], "us-west-2");
  EXPECT_EQ(r.body["TotalSize"], 1);
  q.erase("SearchString");
  q["Filter"] = Dim("SERVICE", {"AmazonS3"});
  r = Call("GetDimensionValues", q);
  EXPECT_EQ(r.body["TotalSize"], 1);
  q["Context"] = "RESERVATIONS";
  ExpectError(Call("GetDimensionValues", q), "ValidationException", "COST_AND_USAGE");
}

TEST_F(CeApiTest, Tags) {
  json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}}};
  auto r = Call("GetTags", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  EXPECT_EQ(r.body["Tags"], json::array({"team"}));
  EXPECT_EQ(r.body["ReturnSize"], 1);
  EXPECT_EQ(r.body["TotalSize"], 1);
  req["TagKey"] = "team";
  r = Call("GetTags", req);
  EXPECT_EQ(r.body["Tags"], json::array({"alpha", "beta"}));
  req["Filter"] = Dim("SERVICE", {"AmazonEC2"});
  r = Call("GetTags", req);
  EXPECT_EQ(r.body["Tags"], json::array({"alpha"}));
  // No tagged line outside the data.
  json later = {{"TimePeriod", {{"Start", "2024-05-01"}, {"End", "2024-06-01"}}}};
  EXPECT_EQ(Call("GetTags", later).body["Tags"], json::array());
}

TEST_F(CeApiTest, ForecastMatchesLibrary) {
  json req = {{"TimePeriod", {{"Start", "2024-03-21"}, {"End", "2024-03-24"}}},
              {"Metric", "UNBLENDED_COST"},
              {"Granularity", "DAILY"},
              {"PredictionIntervalLevel", 90}};
  auto r = Call("GetCostForecast", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  plan::ForecastRequest fr;
  fr.as_of = *ParseDate("2024-03-20");
  fr.horizon = 3;
  fr.level = 90;
  auto f = plan::ForecastCost(*store_, fr);
  ASSERT_TRUE(f.ok());
  const auto& by = r.body["ForecastResultsByTime"];
  ASSERT_EQ(by.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(by[i]["MeanValue"], f->periods[i].mean.ToString());
    EXPECT_EQ(by[i]["PredictionIntervalLowerBound"], f->periods[i].lower.ToString());
    EXPECT_EQ(by[i]["PredictionIntervalUpperBound"], f->periods[i].upper.ToString());
  }
  EXPECT_EQ(by[0]["TimePeriod"]["Start"], "2024-03-21");
  EXPECT_EQ(r.body["Total"]["Amount"], f->total_mean.ToString());
  // A steady bill (credits/tax are left out of training) forecasts 3.75/day.
  EXPECT_EQ(by[0]["MeanValue"], "3.75");
  // MONTHLY starting after a gap: the days in [Start, End) only.
  req["TimePeriod"] = {{"Start", "2024-03-25"}, {"End", "2024-04-03"}};
  req["Granularity"] = "MONTHLY";
  r = Call("GetCostForecast", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  ASSERT_EQ(r.body["ForecastResultsByTime"].size(), 2u);
  EXPECT_EQ(r.body["ForecastResultsByTime"][0]["TimePeriod"]["End"], "2024-04-01");
  EXPECT_EQ(r.body["ForecastResultsByTime"][0]["MeanValue"], "26.25");  // 7 days
  EXPECT_EQ(r.body["ForecastResultsByTime"][1]["MeanValue"], "7.5");    // 2 days
  EXPECT_EQ(r.body["Total"]["Amount"], "33.75");
  // Too little history before Start; an empty store.
  req["TimePeriod"] = {{"Start", "2024-03-05"}, {"End", "2024-03-06"}};
  ExpectError(Call("GetCostForecast", req), "DataUnavailableException", "not enough history");
  ExpectError(Call("GetCostForecast", req, 500, empty_), "DataUnavailableException", "no billing");
  req["Metric"] = "NORMALIZED_USAGE_AMOUNT";
  ExpectError(Call("GetCostForecast", req), "ValidationException", "UNBLENDED_COST");
}

TEST_F(CeApiTest, SavingsPlans) {
  json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-04-01"}}},
              {"Granularity", "MONTHLY"}};
  auto u = Call("GetSavingsPlansUtilization", req);
  ASSERT_EQ(u.http_status, 200) << u.body.dump();
  EXPECT_EQ(u.body["Total"]["Utilization"]["TotalCommitment"], "0");
  EXPECT_EQ(u.body["SavingsPlansUtilizationsByTime"].size(), 1u);
  json nogran = req;
  nogran.erase("Granularity");
  u = Call("GetSavingsPlansUtilization", nogran);
  EXPECT_FALSE(u.body.contains("SavingsPlansUtilizationsByTime"));
  EXPECT_TRUE(u.body.contains("Total"));
  auto c = Call("GetSavingsPlansCoverage", req);
  ASSERT_EQ(c.http_status, 200) << c.body.dump();
  ASSERT_EQ(c.body["SavingsPlansCoverages"].size(), 1u);
  // Eligible: the ML instance hours (notebook 20 + endpoint 40), none covered.
  EXPECT_EQ(c.body["SavingsPlansCoverages"][0]["Coverage"]["OnDemandCost"], "60");
  EXPECT_EQ(c.body["SavingsPlansCoverages"][0]["Coverage"]["CoveragePercentage"], "0");
  json rec = {{"SavingsPlansType", "SAGEMAKER_SP"},
              {"TermInYears", "ONE_YEAR"},
              {"PaymentOption", "NO_UPFRONT"},
              {"LookbackPeriodInDays", "SEVEN_DAYS"}};
  auto p = Call("GetSavingsPlansPurchaseRecommendation", rec);
  ASSERT_EQ(p.http_status, 200) << p.body.dump();
  const auto& spr = p.body["SavingsPlansPurchaseRecommendation"];
  EXPECT_EQ(spr["SavingsPlansType"], "SAGEMAKER_SP");
  EXPECT_EQ(spr["LookbackPeriodInDays"], "SEVEN_DAYS");
  EXPECT_TRUE(spr["SavingsPlansPurchaseRecommendationSummary"].contains("CurrentOnDemandSpend"));
  rec["SavingsPlansType"] = "COMPUTE_SP";
  ExpectError(Call("GetSavingsPlansPurchaseRecommendation", rec), "ValidationException",
              "only SAGEMAKER_SP");
  rec["SavingsPlansType"] = "SAGEMAKER_SP";
  rec["TermInYears"] = "1y";
  ExpectError(Call("GetSavingsPlansPurchaseRecommendation", rec), "ValidationException",
              "ONE_YEAR");
  ExpectError(Call("GetSavingsPlansPurchaseRecommendation",
                   {{"SavingsPlansType", "SAGEMAKER_SP"},
                    {"TermInYears", "ONE_YEAR"},
                    {"PaymentOption", "NO_UPFRONT"},
                    {"LookbackPeriodInDays", "SEVEN_DAYS"}},
                   500, empty_),
              "DataUnavailableException", "no billing data");
}

TEST_F(CeApiTest, ErrorShapes) {
  CeContext ctx;
  auto r = HandleCostExplorer(*store_, "AWSInsightsIndexService.DeleteEverything", "{}", ctx);
  ExpectError(r, "UnknownOperationException", "DeleteEverything");
  r = HandleCostExplorer(*store_, "Bogus\x01\xff", "{}", ctx);
  ExpectError(r, "UnknownOperationException", "Bogus??");
  r = HandleCostExplorer(*store_, "AWSInsightsIndexService.GetCostAndUsage", "{not json", ctx);
  ExpectError(r, "SerializationException", "JSON");
  r = HandleCostExplorer(*store_, "AWSInsightsIndexService.GetCostAndUsage", "[1]", ctx);
  ExpectError(r, "SerializationException", "JSON object");
  ExpectError(Call("GetCostAndUsage", json::object()), "ValidationException",
              "TimePeriod is required");
  json req = {{"TimePeriod", {{"Start", "2024-03-01"}, {"End", "2024-02-01"}}},
              {"Granularity", "MONTHLY"},
              {"Metrics", {"UnblendedCost"}}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "must be before End");
  req["TimePeriod"] = {{"Start", "2024-03-01"}, {"End", 5}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "End must be a string");
  req["TimePeriod"] = {{"Start", "2024-03-01"}, {"End", "2024-04-01"}};
  req["Metrics"] = {"NetAmortizedCost"};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "not supported by sagebox");
  req["Metrics"] = {"UnblendedCost"};
  req["Granularity"] = "WEEKLY";
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "DAILY, MONTHLY, HOURLY");
  req["Granularity"] = "HOURLY";
  req["TimePeriod"] = {{"Start", "1970-01-01"}, {"End", "2199-01-01"}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "at most");
  req["Granularity"] = "MONTHLY";
  req["GroupBy"] = {{{"Type", "DIMENSION"}, {"Key", "SERVICE"}},
                    {{"Type", "DIMENSION"}, {"Key", "REGION"}},
                    {{"Type", "TAG"}, {"Key", "team"}}};
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "at most two");
}

TEST_F(CeApiTest, HourlyAndEmptyStore) {
  json req = {{"TimePeriod", {{"Start", "2024-03-01T00:00:00Z"}, {"End", "2024-03-02T00:00:00Z"}}},
              {"Granularity", "HOURLY"},
              {"Metrics", {"UnblendedCost"}}};
  auto r = Call("GetCostAndUsage", req);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  ASSERT_EQ(r.body["ResultsByTime"].size(), 24u);
  EXPECT_EQ(r.body["ResultsByTime"][0]["TimePeriod"]["Start"], "2024-03-01T00:00:00Z");
  EXPECT_EQ(r.body["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"], "0.85");
  req["TimePeriod"]["Start"] = "2024-03-01T05:00:00Z";
  ExpectError(Call("GetCostAndUsage", req), "ValidationException", "midnight");
  req["TimePeriod"] = {{"Start", "2024-03-01"}, {"End", "2024-03-03"}};
  req["Granularity"] = "DAILY";
  r = Call("GetCostAndUsage", req, 500, empty_);
  ASSERT_EQ(r.http_status, 200) << r.body.dump();
  ASSERT_EQ(r.body["ResultsByTime"].size(), 2u);
  EXPECT_EQ(r.body["ResultsByTime"][1]["Total"]["UnblendedCost"]["Amount"], "0");
}

}  // namespace
}  // namespace sagebox::cost::api
