#include "pipeline/asl/payload.h"

#include <gtest/gtest.h>

namespace sagebox::pipeline::asl {
namespace {

using nlohmann::json;

// "InputPath, Parameters and ResultSelector": the Parameters example on its input.
TEST(PayloadTest, AwsParametersExample) {
  const json input = json::parse(R"({"comment": "Example for Parameters.",
      "product": {"details": {"color": "blue", "size": "small", "material": "cotton"},
                  "availability": "in stock", "sku": "2317", "cost": "$23"}})");
  const json tmpl = json::parse(R"({"comment": "Selecting what I care about.",
      "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability",
                    "StaticValue": "foo"}})");
  ASSERT_TRUE(CheckPayloadTemplate(tmpl, "Parameters").ok());
  auto v = ApplyPayloadTemplate(tmpl, input, json::object(), {});
  ASSERT_TRUE(v.ok()) << v.error().cause;
  EXPECT_EQ(*v, json::parse(R"({"comment": "Selecting what I care about.",
      "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}})"));
}

TEST(PayloadTest, ContextIntrinsicsArraysAndIndefinitePaths) {
  const json input = json::parse(R"({"items": [{"id": 1, "ok": true}, {"id": 2, "ok": false}]})");
  const json ctx = json::parse(R"({"Map": {"Item": {"Index": 4, "Value": "v"}}})");
  const json tmpl = json::parse(R"j({
      "index.$": "$$.Map.Item.Index",
      "label.$": "States.Format('item-{}', $$.Map.Item.Value)",
      "okIds.$": "$.items[?(@.ok == true)].id",
      "list": [{"first.$": "$.items[0].id"}, "plain", 3],
      "literal": {"not.a.path": "$.items"}})j");
  ASSERT_TRUE(CheckPayloadTemplate(tmpl, "ItemSelector").ok());
  auto v = ApplyPayloadTemplate(tmpl, input, ctx, {});
  ASSERT_TRUE(v.ok()) << v.error().cause;
  EXPECT_EQ(*v, json::parse(R"({"index": 4, "label": "item-v", "okIds": [1],
      "list": [{"first": 1}, "plain", 3], "literal": {"not.a.path": "$.items"}})"));
}

TEST(PayloadTest, StaticCheckNamesFieldAndPointer) {
  struct Case {
    const char* tmpl;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"a": {"b.$": 3}})", "Parameters: /a/b.$: a key ending in \".$\" needs a string value"},
      {R"({"a": [{"x.$": "nope"}]})", "Parameters: /a/0/x.$: JSONPath 'nope'"},
      {R"j({"f.$": "States.Nope()"})j", "Parameters: /f.$: intrinsic 'States.Nope()'"},
      {R"({"a/b": {"c.$": "$["}})", "Parameters: /a~1b/c.$:"},
  };
  for (const Case& c : cases) {
    const Status st = CheckPayloadTemplate(json::parse(c.tmpl), "Parameters");
    ASSERT_FALSE(st.ok()) << c.tmpl;
    EXPECT_EQ(st.code(), StatusCode::kBadInput);
    EXPECT_NE(st.message().find(c.fragment), std::string::npos) << st.message();
  }
}

TEST(PayloadTest, MissingPathIsStatesRuntimeInAwsWording) {
  auto v = ApplyPayloadTemplate(json::parse(R"({"x.$": "$.missing"})"), json::parse(R"({"a": 1})"),
                                json::object(), {});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().error, "States.Runtime");
  EXPECT_EQ(v.error().cause,
            "The JSONPath '$.missing' specified for the field 'x.$' could not be found in the "
            "input '{\"a\":1}'");
  auto bad = ApplyPayloadTemplate(json::parse(R"({"x.$": 1})"), json::object(), json::object(), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().error, "States.Runtime");
  auto intrinsic = ApplyPayloadTemplate(json::parse(R"j({"x.$": "States.ArrayLength('a')"})j"),
                                        json::object(), json::object(), {});
  ASSERT_FALSE(intrinsic.ok());
  EXPECT_EQ(intrinsic.error().error, "States.IntrinsicFailure");
}

TEST(PayloadTest, SizeLimitCountsUtf8Bytes) {
  EXPECT_EQ(PayloadBytes(json::parse(R"({"a":"é"})")), 10u);  // {"a":"é"} with é = 2 bytes
  const json exact = std::string(kMaxPayloadBytes - 2, 'x');  // plus two quotes
  auto ok = CheckPayloadSize(exact, "the output of state 'S'");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, kMaxPayloadBytes);
  const json over = std::string(kMaxPayloadBytes - 1, 'x');
  auto v = CheckPayloadSize(over, "the output of state 'S'");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().error, "States.DataLimitExceeded");
  EXPECT_EQ(v.error().cause,
            "the output of state 'S' is 262145 bytes, over the payload limit of 262144 bytes");
  // Multi-byte characters count by their UTF-8 length, not as one.
  std::string euros;
  for (size_t i = 0; i < kMaxPayloadBytes / 3; ++i) euros += "\xE2\x82\xAC";
  EXPECT_FALSE(CheckPayloadSize(json(euros), "x").ok());
}

}  // namespace
}  // namespace sagebox::pipeline::asl
