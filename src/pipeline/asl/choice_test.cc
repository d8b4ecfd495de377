#include "pipeline/asl/choice.h"

#include <gtest/gtest.h>

namespace sagebox::pipeline::asl {
namespace {

using nlohmann::json;

bool Eval(const char* rule, const json& input) {
  auto v = EvaluateChoiceRule(json::parse(rule), input, json::object());
  EXPECT_TRUE(v.ok()) << rule << ": " << (v.ok() ? "" : v.error().cause);
  return v.ok() && *v;
}

// The rules of the "Choice workflow state" page's example, on inputs that take each branch.
TEST(ChoiceTest, AwsPageExampleRules) {
  const char* not_private = R"({"Not": {"Variable": "$.type", "StringEquals": "Private"}})";
  const char* zero = R"({"Variable": "$.value", "NumericEquals": 0})";
  const char* twenties = R"({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20},
                                     {"Variable": "$.value", "NumericLessThan": 30}]})";
  const json pub = json::parse(R"({"type": "Public", "value": 25})");
  const json priv0 = json::parse(R"({"type": "Private", "value": 0})");
  const json priv30 = json::parse(R"({"type": "Private", "value": 30})");
  EXPECT_TRUE(Eval(not_private, pub));
  EXPECT_FALSE(Eval(not_private, priv0));
  EXPECT_TRUE(Eval(zero, priv0));
  EXPECT_FALSE(Eval(zero, pub));
  EXPECT_TRUE(Eval(twenties, pub));
  EXPECT_FALSE(Eval(twenties, priv30));  // 30 is not < 30
}

TEST(ChoiceTest, EveryComparisonOperator) {
  const json in = json::parse(R"({"s": "b", "n": 5, "f": 2.5, "t": true,
      "ts": "2024-03-01T10:00:00Z", "other": {"s": "b", "n": 5, "t": true,
      "ts": "2024-03-01T11:00:00+01:00", "later": "2024-03-01T10:00:00.5Z"}})");
  struct Case {
    const char* rule;
    bool want;
  };
  const Case cases[] = {
      {R"({"Variable": "$.s", "StringEquals": "b"})", true},
      {R"({"Variable": "$.s", "StringLessThan": "c"})", true},
      {R"({"Variable": "$.s", "StringLessThanEquals": "a"})", false},
      {R"({"Variable": "$.s", "StringGreaterThan": "a"})", true},
      {R"({"Variable": "$.s", "StringGreaterThanEquals": "b"})", true},
      {R"({"Variable": "$.s", "StringEqualsPath": "$.other.s"})", true},
      {R"({"Variable": "$.n", "NumericEquals": 5.0})", true},
      {R"({"Variable": "$.f", "NumericLessThan": 3})", true},
      {R"({"Variable": "$.n", "NumericLessThanEquals": 4})", false},
      {R"({"Variable": "$.n", "NumericGreaterThan": 4.9})", true},
      {R"({"Variable": "$.f", "NumericGreaterThanEquals": 2.5})", true},
      {R"({"Variable": "$.n", "NumericEqualsPath": "$.other.n"})", true},
      {R"({"Variable": "$.f", "NumericLessThanPath": "$.n"})", true},
      {R"({"Variable": "$.n", "NumericGreaterThanPath": "$.f"})", true},
      {R"({"Variable": "$.t", "BooleanEquals": true})", true},
      {R"({"Variable": "$.t", "BooleanEqualsPath": "$.other.t"})", true},
      // 11:00+01:00 is the same instant as 10:00Z.
      {R"({"Variable": "$.ts", "TimestampEqualsPath": "$.other.ts"})", true},
      {R"({"Variable": "$.ts", "TimestampLessThanPath": "$.other.later"})", true},
      {R"({"Variable": "$.ts", "TimestampGreaterThan": "2024-02-29T23:59:59Z"})", true},
      {R"({"Variable": "$.ts", "TimestampLessThanEquals": "2024-03-01T10:00:00Z"})", true},
      {R"({"Variable": "$.ts", "TimestampGreaterThanEquals": "2024-03-01T10:00:00.001Z"})", false},
      {R"({"Variable": "$.ts", "TimestampLessThan": "2025-01-01T00:00:00Z"})", true},
      {R"({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.s", "StringEquals": "b"}]})",
       true},
      {R"({"And": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.s", "StringEquals": "b"}]})",
       false},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.rule, in), c.want) << c.rule;
}

TEST(ChoiceTest, TypeMismatchesAreFalseNotErrors) {
  const json in = json::parse(R"({"n": 5, "s": "5", "b": "true", "ts": "2024-03-01 10:00:00"})");
  for (const char* rule : {
           R"({"Variable": "$.n", "StringEquals": "5"})",
           R"({"Variable": "$.s", "NumericEquals": 5})",
           R"({"Variable": "$.b", "BooleanEquals": true})",
           R"({"Variable": "$.ts", "TimestampEquals": "2024-03-01T10:00:00Z"})",
           R"({"Variable": "$.n", "StringMatches": "*"})",
           R"({"Variable": "$.s", "NumericEqualsPath": "$.n"})",
       }) {
    EXPECT_FALSE(Eval(rule, in)) << rule;
  }
}

TEST(ChoiceTest, TypeTestsAndIsPresent) {
  const json in = json::parse(R"({"z": null, "n": 1.5, "s": "x", "b": false,
                                  "ts": "2016-03-14T01:59:00.123456789-07:00"})");
  struct Case {
    const char* rule;
    bool want;
  };
  const Case cases[] = {
      {R"({"Variable": "$.z", "IsNull": true})", true},
      {R"({"Variable": "$.n", "IsNull": false})", true},
      {R"({"Variable": "$.n", "IsNumeric": true})", true},
      {R"({"Variable": "$.s", "IsNumeric": true})", false},
      {R"({"Variable": "$.s", "IsString": true})", true},
      {R"({"Variable": "$.b", "IsBoolean": true})", true},
      {R"({"Variable": "$.ts", "IsTimestamp": true})", true},
      {R"({"Variable": "$.s", "IsTimestamp": false})", true},
      {R"({"Variable": "$.z", "IsPresent": true})", true},
      {R"({"Variable": "$.missing", "IsPresent": true})", false},
      {R"({"Variable": "$.missing", "IsPresent": false})", true},
      {R"({"Variable": "$.missing.deeper", "IsPresent": false})", true},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.rule, in), c.want) << c.rule;
}

TEST(ChoiceTest, MissingVariableIsStatesRuntime) {
  for (const char* rule : {R"({"Variable": "$.nope", "StringEquals": "x"})",
                           R"({"Variable": "$.s", "StringEqualsPath": "$.nope"})"}) {
    auto v = EvaluateChoiceRule(json::parse(rule), json::parse(R"({"s": "x"})"), json::object());
    ASSERT_FALSE(v.ok()) << rule;
    EXPECT_EQ(v.error().error, "States.Runtime");
    EXPECT_EQ(v.error().cause,
              "Invalid path '$.nope': The choice state's condition path references an invalid "
              "value.");
  }
}

TEST(ChoiceTest, ContextVariable) {
  const json ctx = json::parse(R"({"Execution": {"Name": "nightly-42"}})");
  auto v = EvaluateChoiceRule(
      json::parse(R"({"Variable": "$$.Execution.Name", "StringMatches": "nightly-*"})"),
      json::object(), ctx);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(*v);
}

TEST(ChoiceTest, StringMatchesWildcardsAndEscapes) {
  struct Case {
    const char* pattern;
    const char* text;
    bool want;
  };
  const Case cases[] = {
      {"log-*.txt", "log-2024.txt", true},  // the state-choice page's example
      {"log-*.txt", "log-.txt", true},
      {"log-*.txt", "log-2024.txt.gz", false},
      {"*", "", true},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {R"(a\*b)", "a*b", true},
      {R"(a\*b)", "axb", false},
      {R"(a\\b)", R"(a\b)", true},
      {"exact", "exact", true},
      {"exact", "exac", false},
      {"**x", "yyx", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StringMatchesPattern(c.pattern, c.text), c.want) << c.pattern << " ~ " << c.text;
  }
}

TEST(ChoiceTest, Rfc3339Parsing) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), (Instant{0, 0}));
  EXPECT_EQ(ParseRfc3339("1970-01-01T01:00:00+01:00"), (Instant{0, 0}));
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01.5Z"), (Instant{1, 500000000}));
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z")->seconds, 1709164800);
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-03-01t10:00:00Z", "2024-03-01T10:00:00z",
                          "2024-03-01T10:00:00", "2024-03-01 10:00:00Z", "2024-13-01T00:00:00Z",
                          "2024-03-01T10:00:00.Z", "2024-03-01T10:00:00+0100", ""}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sagebox::pipeline::asl
