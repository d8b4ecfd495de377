#include "cost/findings/cloudwatch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#ifndef SAGEBOX_TESTDATA
#define SAGEBOX_TESTDATA "tests/data"
#endif

namespace sagebox::findings {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

constexpr UnixSeconds kJan2At2 = 1704160800;  // 2024-01-02T02:00:00Z

TEST(MetricSeries, ReadsTheFixture) {
  std::vector<MetricSeries> s;
  Status st =
      LoadMetricSeries(Env::Default(), std::string(SAGEBOX_TESTDATA) + "/aux/metrics.jsonl", &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(s.size(), 3u);

  EXPECT_EQ(s[0].ns, "/aws/sagemaker/ProcessingJobs");
  EXPECT_EQ(s[0].metric, "CPUUtilization");
  EXPECT_EQ(s[0].statistic, "Maximum");
  EXPECT_EQ(s[0].unit, "Percent");
  EXPECT_EQ(s[0].period, 60);
  EXPECT_EQ(s[0].Dimension("Host"), "features-daily-001/algo-1");
  EXPECT_EQ(s[0].Dimension("EndpointName"), "");
  // Newest-first input comes out oldest first; the null point is dropped.
  EXPECT_THAT(s[0].timestamps, ElementsAre(kJan2At2 + 60, kJan2At2 + 180, kJan2At2 + 240));
  EXPECT_THAT(s[0].values, ElementsAre(40.25, 1568.0, 312.5));

  // "+01:00" offsets as the CLI prints them in a UTC+1 shell.
  EXPECT_THAT(s[1].timestamps, ElementsAre(kJan2At2 + 180, kJan2At2 + 240));
  EXPECT_THAT(s[1].values, ElementsAre(18.0, 21.5));

  // Epoch seconds; no unit given.
  EXPECT_EQ(s[2].ns, "AWS/SageMaker");
  EXPECT_EQ(s[2].unit, "");
  EXPECT_EQ(s[2].period, 86400);
  EXPECT_EQ(s[2].Dimension("VariantName"), "AllTraffic");
  EXPECT_THAT(s[2].timestamps, ElementsAre(1700438400, 1700524800, 1700611200));
  EXPECT_THAT(s[2].values, ElementsAre(0, 0, 0));
}

// The file docs/findings-inputs.md's jq recipe made from a get-metric-data
// response (tests/data/aux/get-metric-data/README.md).
TEST(MetricSeries, ReadsTheRecipesOutput) {
  std::vector<MetricSeries> s;
  Status st = LoadMetricSeries(
      Env::Default(), std::string(SAGEBOX_TESTDATA) + "/aux/get-metric-data/metrics.jsonl", &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].metric, "CPUUtilization");
  EXPECT_EQ(s[0].Dimension("Host"), "features-daily-001/algo-1");
  EXPECT_THAT(s[0].timestamps, ElementsAre(kJan2At2 + 120, kJan2At2 + 180, kJan2At2 + 240));
  EXPECT_THAT(s[0].values, ElementsAre(40.0, 1568.0, 312.5));
  EXPECT_EQ(s[1].metric, "Invocations");
  EXPECT_EQ(s[1].unit, "");  // null in the file
  EXPECT_EQ(s[1].period, 3600);
  EXPECT_EQ(s[1].Dimension("EndpointName"), "churn-ep");
  EXPECT_TRUE(s[1].values.empty());
}

TEST(MetricSeries, PrettyPrintedArraysAndDefaults) {
  std::vector<MetricSeries> s;
  Status st = ParseMetricSeries(R"([
      {"namespace": "AWS/SageMaker", "metric": "Invocations", "timestamps": [], "values": []},
      {"namespace": "AWS/SageMaker", "metric": "ModelLatency",
       "timestamps": ["2024-01-02T02:00:00Z"], "values": [12]}
    ]
    {
      "namespace": "/aws/sagemaker/TrainingJobs", "metric": "GPUUtilization",
      "timestamps": [1704160800], "values": [null]
    })",
                                "m.json", &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].period, 60);
  EXPECT_TRUE(s[0].dimensions.empty());
  EXPECT_TRUE(s[0].timestamps.empty());
  EXPECT_THAT(s[1].values, ElementsAre(12.0));
  EXPECT_TRUE(s[2].values.empty());
  EXPECT_TRUE(s[2].timestamps.empty());
}

TEST(MetricSeries, BlankFileHasNoSeries) {
  std::vector<MetricSeries> s;
  ASSERT_TRUE(ParseMetricSeries("\n\n", "m", &s).ok());
  EXPECT_TRUE(s.empty());
}

TEST(MetricSeries, ErrorsNameLineColumnAndField) {
  const std::string good =
      R"({"namespace":"N","metric":"M","timestamps":["2024-01-02T02:00:00Z"],"values":[1]})";
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {R"({"namespace":"N","metric":"M","timestamps":[1,2,3],"values":[1,2]})",
       R"(m.jsonl:2:52: expected as many "values" (2) as "timestamps" (3))"},
      {R"({"namespace":"N","metric":"M","timestamps":[1,2],"values":[1,"x"]})",
       "m.jsonl:2:50: expected 'values[1]' to be a finite number or null, got a string"},
      {R"({"namespace":"N","metric":"M","timestamps":[1,"soon"],"values":[1,2]})",
       "m.jsonl:2:31: expected 'timestamps[1]' to be an ISO 8601 timestamp or epoch seconds, got "
       "a string"},
      {R"({"metric":"M","timestamps":[],"values":[]})",
       R"(m.jsonl:2:1: expected a non-empty "namespace" string)"},
      {R"({"namespace":"N","timestamps":[],"values":[]})",
       R"(m.jsonl:2:1: expected a non-empty "metric" string)"},
      {R"({"namespace":"N","metric":"M","values":[]})",
       R"(m.jsonl:2:1: expected a "timestamps" array)"},
      {R"({"namespace":"N","metric":"M","timestamps":[],"values":{}})",
       "m.jsonl:2:47: expected 'values' to be an array, got an object"},
      {R"({"namespace":"N","metric":"M","period":0,"timestamps":[],"values":[]})",
       "m.jsonl:2:31: expected 'period' to be an integer from 1 to 31622400, got 0"},
      {R"({"namespace":"N","metric":"M","dimensions":{"Host":1},"timestamps":[],"values":[]})",
       "m.jsonl:2:31: expected 'dimensions.Host' to be a string, got 1"},
      {R"({"namespace":7,"metric":"M","timestamps":[],"values":[]})",
       "m.jsonl:2:2: expected 'namespace' to be a string, got 7"},
      {R"(17)",
       R"(m.jsonl:2:1: expected a metric series object ({"namespace", "metric", "timestamps", "values", ...}), got a number)"},
  };
  for (const auto& c : cases) {
    std::vector<MetricSeries> s;
    Status st = ParseMetricSeries(good + "\n" + c.line + "\n" + good + "\n", "m.jsonl", &s);
    EXPECT_EQ(st.code(), StatusCode::kBadInput) << c.line;
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(s.size(), 1u) << "the series before the bad line is kept";
  }
}

TEST(MetricSeries, MalformedJsonLine) {
  std::vector<MetricSeries> s;
  Status st = ParseMetricSeries(
      "{\"namespace\":\"N\",\"metric\":\"M\",\"timestamps\":[],\n"
      "\"values\":[1 2]}\n",
      "m.jsonl", &s);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("m.jsonl:2:13: "));
}

TEST(MetricSeries, NonFiniteNumbersAreRefused) {
  std::vector<MetricSeries> s;
  Status st = ParseMetricSeries(
      R"({"namespace":"N","metric":"M","timestamps":[1],"values":[1e999]})", "m", &s);
  EXPECT_EQ(st.code(), StatusCode::kBadInput);
}

TEST(ParseHost, JobAndHostNumber) {
  auto h = ParseHost("features-daily-001/algo-1");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->job, "features-daily-001");
  EXPECT_EQ(h->host, 1);
  h = ParseHost("train/algo-12");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->job, "train");
  EXPECT_EQ(h->host, 12);
  // A job name may itself contain "algo-".
  h = ParseHost("algo-x/algo-2");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->job, "algo-x");
  EXPECT_EQ(h->host, 2);
  EXPECT_FALSE(ParseHost(""));
  EXPECT_FALSE(ParseHost("/algo-1"));
  EXPECT_FALSE(ParseHost("job/algo-"));
  EXPECT_FALSE(ParseHost("job/algo-0"));
  EXPECT_FALSE(ParseHost("job/algo-01"));
  EXPECT_FALSE(ParseHost("job/algo-1-1704160800"));  // a log stream, not a Host
  EXPECT_FALSE(ParseHost("job/algo-1x"));
  EXPECT_FALSE(ParseHost("a/b/algo-1"));
  EXPECT_FALSE(ParseHost("job/algo-99999999999"));
  EXPECT_FALSE(ParseHost("churn-ep"));
}

}  // namespace
}  // namespace sagebox::findings
