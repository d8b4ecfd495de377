// search_filter_test.cc: MLflow's search grammar, from the examples of MLflow's docs
// ("Search Runs", mlflow.org/docs/latest/search-runs.html, MLflow 2.x) and the cases of its
// own tests/utils/test_search_utils.py (valid filters, and the errors it expects).
#include "pipeline/tracking/search_filter.h"

#include <gtest/gtest.h>

namespace sagebox::pipeline::tracking {
namespace {

struct Good {
  const char* filter;
  Entity entity;
  const char* key;
  const char* comparator;
  const char* text;  // the string value, or the number as text for numeric clauses
};

TEST(SearchFilterTest, MlflowsValidFiltersParse) {
  const Good cases[] = {
      {"metrics.acc >= 0.94", Entity::kMetric, "acc", ">=", "0.94"},
      {"metric.rmse < 1e-2", Entity::kMetric, "rmse", "<", "0.01"},
      {"metrics.loss != -1", Entity::kMetric, "loss", "!=", "-1"},
      {"params.model = 'CNN'", Entity::kParam, "model", "=", "CNN"},
      {"param.`random state` = \"42\"", Entity::kParam, "random state", "=", "42"},
      {"parameters.lr LIKE '0.0%'", Entity::kParam, "lr", "LIKE", "0.0%"},
      {"tags.mlflow.runName = 'good'", Entity::kTag, "mlflow.runName", "=", "good"},
      {"tags.`mlflow.source.type` ilike 'local'", Entity::kTag, "mlflow.source.type", "ILIKE",
       "local"},
      {"tag.\"x-y\" != 'it''s'", Entity::kTag, "x-y", "!=", "it's"},
      {"attributes.status = 'FINISHED'", Entity::kAttribute, "status", "=", "FINISHED"},
      {"status = 'FAILED'", Entity::kAttribute, "status", "=", "FAILED"},
      {"attribute.run_name LIKE 'best%'", Entity::kAttribute, "run_name", "LIKE", "best%"},
      {"`Run name` = 'x'", Entity::kAttribute, "run_name", "=", "x"},
      {"attributes.start_time >= 1700000000000", Entity::kAttribute, "start_time",
       ">=", "1700000000000"},
      {"created < 5", Entity::kAttribute, "start_time", "<", "5"},
      {"run.end_time > 0", Entity::kAttribute, "end_time", ">", "0"},
  };
  for (const Good& g : cases) {
    auto r = ParseFilter(g.filter, SearchKind::kRuns);
    ASSERT_TRUE(r.ok()) << g.filter << ": " << r.status().ToString();
    ASSERT_EQ(r->size(), 1u) << g.filter;
    const Clause& c = (*r)[0];
    EXPECT_EQ(c.entity, g.entity) << g.filter;
    EXPECT_EQ(c.key, g.key) << g.filter;
    EXPECT_EQ(c.comparator, g.comparator) << g.filter;
    if (c.numeric) {
      EXPECT_DOUBLE_EQ(c.number, std::stod(g.text)) << g.filter;
    } else {
      EXPECT_EQ(c.text, g.text) << g.filter;
    }
  }
}

TEST(SearchFilterTest, AndJoinsClausesAndInTakesLists) {
  auto r = ParseFilter(
      "metrics.acc > 0.9 and params.algo = 'rf' AND attributes.run_id IN ('a1', 'b2') AND "
      "attributes.run_id NOT IN ('c3')",
      SearchKind::kRuns);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[2].comparator, "IN");
  EXPECT_EQ((*r)[2].list, (std::vector<std::string>{"a1", "b2"}));
  EXPECT_EQ((*r)[3].comparator, "NOT IN");
  EXPECT_EQ((*r)[3].list, (std::vector<std::string>{"c3"}));
  auto empty = ParseFilter("  ", SearchKind::kRuns);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

struct Bad {
  const char* filter;
  const char* message_part;
};

TEST(SearchFilterTest, MlflowsErrors) {
  const Bad cases[] = {
      {"metrics.acc > 0.9 OR params.a = 'b'", "Invalid clause(s) in filter string"},
      {"runs.status = 'x'", "Invalid entity type 'runs'"},
      {"attributes.color = 'red'", "Invalid attribute key 'color' specified"},
      {"metrics.acc > 'high'", "Expected numeric value type for metric. Found 'high'"},
      {"params.lr = 0.1", "Expected a quoted string value for parameter (e.g. 'my-value')"},
      {"tags.t = 1", "Expected a quoted string value for tag"},
      {"metrics.acc LIKE '1%'", "Expected numeric value type for metric"},
      {"metrics.acc IN (1)", "Expected numeric value type for metric"},
      {"params.lr > '0.1'", "Invalid comparator '>' not one of"},
      {"attributes.status IN ('A')", "Only the 'run_id' attribute supports comparison with a list"},
      {"attributes.start_time = 'yesterday'",
       "Expected numeric value type for numeric attribute: start_time"},
      {"attributes.run_id IN ('a', 1)", "expected a non-empty list of string values"},
      {"metrics.acc > 0.9 AND", "Invalid clause(s) in filter string"},
      {"metrics.acc", "Invalid comparison clause"},
      {"params.a = 'unterminated", "unterminated"},
  };
  for (const Bad& b : cases) {
    auto r = ParseFilter(b.filter, SearchKind::kRuns);
    ASSERT_FALSE(r.ok()) << b.filter;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b.filter;
    EXPECT_NE(r.status().message().find(b.message_part), std::string::npos)
        << b.filter << " → " << r.status().message();
  }
}

TEST(SearchFilterTest, OtherSearchKindsHaveTheirOwnKeys) {
  EXPECT_TRUE(
      ParseFilter("name LIKE 'iris%' AND tags.stage = 'iris'", SearchKind::kExperiments).ok());
  EXPECT_TRUE(ParseFilter("creation_time > 5", SearchKind::kExperiments).ok());
  auto bad = ParseFilter("metrics.acc > 1", SearchKind::kExperiments);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Valid entity types are ('attribute', 'tag', 'tags')"),
            std::string::npos);
  EXPECT_TRUE(ParseFilter("name = 'm'", SearchKind::kRegisteredModels).ok());
  EXPECT_FALSE(ParseFilter("source_path = 'x'", SearchKind::kRegisteredModels).ok());
  EXPECT_TRUE(ParseFilter("name = 'm' AND run_id IN ('a', 'b')", SearchKind::kModelVersions).ok());
  EXPECT_TRUE(ParseFilter("source_path = '/x'", SearchKind::kModelVersions).ok());
}

TEST(SearchFilterTest, OrderBy) {
  auto o = ParseOrderBy("metrics.acc DESC", SearchKind::kRuns);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->entity, Entity::kMetric);
  EXPECT_EQ(o->key, "acc");
  EXPECT_FALSE(o->ascending);
  o = ParseOrderBy("params.`max depth`", SearchKind::kRuns);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "max depth");
  EXPECT_TRUE(o->ascending);
  o = ParseOrderBy("start_time asc", SearchKind::kRuns);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "start_time");
  auto bad = ParseOrderBy("metrics.acc DESC extra", SearchKind::kRuns);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Invalid order_by clause"), std::string::npos);
  bad = ParseOrderBy("metrics.acc UP", SearchKind::kRuns);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Invalid ordering key"), std::string::npos);
  EXPECT_TRUE(ParseOrderBy("last_updated_timestamp DESC", SearchKind::kRegisteredModels).ok());
  EXPECT_FALSE(ParseOrderBy("tags.x", SearchKind::kRegisteredModels).ok());
}

TEST(SearchFilterTest, PageTokensRoundTripAndBadOnesAreRefused) {
  const std::string t = MakePageToken(25);
  EXPECT_EQ(t, "eyJvZmZzZXQiOjI1fQ==");  // base64 of {"offset":25}
  auto off = ParsePageToken(t);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, 25);
  EXPECT_EQ(*ParsePageToken(""), 0);
  EXPECT_FALSE(ParsePageToken("not base64!").ok());
  EXPECT_FALSE(ParsePageToken("e30=").ok());  // {} has no offset
}

}  // namespace
}  // namespace sagebox::pipeline::tracking
