#include "cost/api/dashboard_api.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "cost/ingest.h"

namespace sagebox::cost::api {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using nlohmann::json;

ApiRequest Req(std::string method, std::string path, std::multimap<std::string, std::string> params,
               std::string body) {
  ApiRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.params = std::move(params);
  r.body = std::move(body);
  return r;
}

// The real anonymised legacy CUR of November 2023 (tests/data/real): 1.6823086974 USD.
class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.Path("store");
    auto r = cost::Ingest(Env::Default(), store_,
                          {std::string(SAGEBOX_TESTDATA) +
                           "/real/focus-converters/sample-anonymous-aws-export-dataset.csv"},
                          cost::IngestOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    DashboardOptions o;
    o.store_dir = store_;
    api_ = std::make_unique<DashboardApi>(Env::Default(), std::move(o));
  }
  ApiResponse Get(const std::string& path, std::multimap<std::string, std::string> params = {}) {
    return api_->Handle(Req("GET", path, std::move(params), ""));
  }
  static json Body(const ApiResponse& r) { return json::parse(r.body, nullptr, false); }

  testing::TempDir dir_{"dashboard_api"};
  std::string store_;
  std::unique_ptr<DashboardApi> api_;
};

TEST_F(DashboardApiTest, MetaNamesTheDataRangeAndTags) {
  ApiResponse r = Get("/api/meta");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["data_range"]["first"], "2023-11-01");
  EXPECT_EQ(j["data_range"]["last"], "2023-11-14");
  EXPECT_TRUE(j["tag_keys"].is_array());
  EXPECT_EQ(j["budgets_configured"], false);
}

TEST_F(DashboardApiTest, QueryAnswersLikeTheCli) {
  json total = Body(Get("/api/query"));
  ASSERT_EQ(total["ResultsByTime"].size(), 1u);
  EXPECT_EQ(total["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"], "1.6823086974");

  json by_region = Body(Get("/api/query", {{"group_by", "REGION"}}));
  const json& groups = by_region["ResultsByTime"][0]["Groups"];
  ASSERT_GE(groups.size(), 2u);
  EXPECT_EQ(groups[0]["Keys"][0], "us-west-2");
  EXPECT_EQ(groups[0]["Metrics"]["UnblendedCost"]["Amount"], "1.3667240874");

  json filtered = Body(Get("/api/query", {{"filter", "REGION=ca-central-1"}}));
  EXPECT_EQ(filtered["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"], "0.2329085047");

  json daily = Body(
      Get("/api/query", {{"granularity", "DAILY"}, {"from", "2023-11-03"}, {"to", "2023-11-05"}}));
  EXPECT_EQ(daily["ResultsByTime"].size(), 2u);
}

TEST_F(DashboardApiTest, CsvIsADownload) {
  ApiResponse r = Get("/api/query.csv", {{"group_by", "REGION"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  EXPECT_NE(r.body.find("2023-11-01,2023-12-01,us-west-2,1.3667240874\n"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Content-Disposition");
}

TEST_F(DashboardApiTest, DimensionValuesSortedBySpend) {
  json j = Body(Get("/api/dimension-values", {{"dimension", "REGION"}}));
  ASSERT_GE(j["values"].size(), 3u);
  EXPECT_EQ(j["values"][0]["value"], "us-west-2");
  EXPECT_EQ(j["values"][0]["amount"], "1.3667240874");
  EXPECT_EQ(j["values"][1]["value"], "ca-central-1");
}

TEST_F(DashboardApiTest, BadParametersAre400WithTheReason) {
  ApiResponse r = Get("/api/query", {{"group_by", "COLOUR"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["code"], "InvalidArgument");
  EXPECT_NE(Body(r)["error"]["message"].get<std::string>().find("unknown dimension 'COLOUR'"),
            std::string::npos);
  EXPECT_EQ(Get("/api/query", {{"from", "2023-13-01"}}).status, 400);
  EXPECT_EQ(Get("/api/query",
                {{"group_by", "REGION"}, {"group_by", "SERVICE"}, {"group_by", "OPERATION"}})
                .status,
            400);
  EXPECT_EQ(Get("/api/forecast", {{"horizon", "-3"}}).status, 400);
  EXPECT_EQ(Get("/api/dimension-values").status, 400);
  EXPECT_EQ(Get("/api/nothing-here").status, 404);
  EXPECT_EQ(api_->Handle(Req("POST", "/api/query", {}, "")).status, 405);
}

TEST_F(DashboardApiTest, BudgetsWithoutAFileSayNotConfigured) {
  json j = Body(Get("/api/budgets"));
  EXPECT_EQ(j["configured"], false);
  EXPECT_TRUE(j["budgets"].empty());
}

TEST_F(DashboardApiTest, ReportsSaveListReplaceDelete) {
  EXPECT_TRUE(Body(Get("/api/reports"))["reports"].empty());
  ApiResponse put = api_->Handle(
      Req("PUT", "/api/reports/by region", {}, R"({"query": {"group_by": ["REGION"]}})"));
  ASSERT_EQ(put.status, 200) << put.body;
  api_->Handle(Req("PUT", "/api/reports/daily", {}, R"({"query": {"granularity": "DAILY"}})"));
  api_->Handle(Req("PUT", "/api/reports/by region", {}, R"({"query": {"group_by": ["SERVICE"]}})"));
  json list = Body(Get("/api/reports"));
  ASSERT_EQ(list["reports"].size(), 2u);
  EXPECT_EQ(list["reports"][0]["query"]["group_by"][0], "SERVICE");

  // A new DashboardApi over the same store sees the saved file.
  DashboardOptions o;
  o.store_dir = store_;
  DashboardApi again(Env::Default(), o);
  EXPECT_EQ(Body(again.Handle(Req("GET", "/api/reports/daily", {}, "")))["query"]["granularity"],
            "DAILY");

  EXPECT_EQ(api_->Handle(Req("DELETE", "/api/reports/daily", {}, "")).status, 200);
  EXPECT_EQ(api_->Handle(Req("DELETE", "/api/reports/daily", {}, "")).status, 404);
  EXPECT_EQ(api_->Handle(Req("PUT", "/api/reports/x", {}, "not json")).status, 400);
  EXPECT_EQ(api_->Handle(Req("PUT", "/api/reports/", {}, R"({"query": {}})")).status, 400);
  EXPECT_EQ(
      api_->Handle(Req("PUT", "/api/reports/" + std::string(101, 'a'), {}, R"({"query": {}})"))
          .status,
      400);
  EXPECT_EQ(Body(Get("/api/reports"))["reports"].size(), 1u);
}

TEST(DashboardApiEmpty, EmptyStoreIsAClearError) {
  testing::TempDir dir("dashboard_api_empty");
  DashboardOptions o;
  o.store_dir = dir.Path("none");
  DashboardApi api(Env::Default(), o);
  ApiResponse meta = api.Handle(Req("GET", "/api/meta", {}, ""));
  ASSERT_EQ(meta.status, 200);
  EXPECT_TRUE(json::parse(meta.body)["data_range"].is_null());
  ApiResponse q = api.Handle(Req("GET", "/api/query", {}, ""));
  EXPECT_EQ(q.status, 400);
  EXPECT_NE(q.body.find("the store is empty"), std::string::npos);
}

}  // namespace
}  // namespace sagebox::cost::api
