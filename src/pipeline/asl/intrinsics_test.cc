#include "pipeline/asl/intrinsics.h"

#include <gtest/gtest.h>

#include <regex>

namespace sagebox::pipeline::asl {
namespace {

using nlohmann::json;

IntrinsicEnv FixedEnv() {
  IntrinsicEnv env;
  env.random = [] { return uint64_t{42}; };
  env.uuid = [] { return std::string("ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"); };
  return env;
}

// Each function's documented example from "Intrinsic functions for JSONPath states in Step
// Functions" (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html):
// the page's input, the invocation and the output it shows.
TEST(IntrinsicsTest, DocumentedExamples) {
  struct Case {
    const char* input;
    const char* call;
    const char* want;
  };
  const Case cases[] = {
      {R"({"name": "Arnav", "template": "Hello, my name is {}."})",
       "States.Format('Hello, my name is {}.', $.name)", R"("Hello, my name is Arnav.")"},
      {R"({"name": "Arnav", "template": "Hello, my name is {}."})",
       "States.Format($.template, $.name)", R"("Hello, my name is Arnav.")"},
      {R"({"escapedJsonString": "{\"foo\": \"bar\"}"})", "States.StringToJson($.escapedJsonString)",
       R"({"foo": "bar"})"},
      {R"({"unescapedJson": {"foo": "bar"}})", "States.JsonToString($.unescapedJson)",
       R"("{\"foo\":\"bar\"}")"},
      {R"({"Id": 123456})", "States.Array($.Id)", "[123456]"},
      {R"({"inputArray": [1,2,3,4,5,6,7,8,9]})", "States.ArrayPartition($.inputArray,4)",
       "[[1,2,3,4],[5,6,7,8],[9]]"},
      {R"({"inputArray": [1,2,3,4,5,6,7,8,9], "lookingFor": 5})",
       "States.ArrayContains($.inputArray, $.lookingFor)", "true"},
      {"{}", "States.ArrayRange(1, 9, 2)", "[1,3,5,7,9]"},
      {R"({"inputArray": [1,2,3,4,5,6,7,8,9], "index": 5})",
       "States.ArrayGetItem($.inputArray, $.index)", "6"},
      {R"({"inputArray": [1,2,3,4,5,6,7,8,9]})", "States.ArrayLength($.inputArray)", "9"},
      {R"({"inputArray": [1,2,3,3,3,3,3,3,4]})", "States.ArrayUnique($.inputArray)", "[1,2,3,4]"},
      {R"({"input": "Data to encode"})", "States.Base64Encode($.input)",
       R"("RGF0YSB0byBlbmNvZGU=")"},
      {R"({"base64": "RGF0YSB0byBlbmNvZGU="})", "States.Base64Decode($.base64)",
       R"("Data to encode")"},
      {R"({"Data": "input data", "Algorithm": "SHA-1"})", "States.Hash($.Data, $.Algorithm)",
       R"("aaff4a450a104cd177d28d18d74485e8cae074b7")"},
      {R"({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}})",
       "States.JsonMerge($.json1, $.json2, false)", R"({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})"},
      {R"({"value1": 111, "step": -1})", "States.MathAdd($.value1, $.step)", "110"},
      {R"({"inputString": "1,2,3,4,5", "splitter": ","})",
       "States.StringSplit($.inputString, $.splitter)", R"(["1","2","3","4","5"])"},
      {R"({"inputString": "This.is+a,test=string", "splitter": ".+,="})",
       "States.StringSplit($.inputString, $.splitter)", R"(["This","is","a","test","string"])"},
      {"{}", "States.UUID()", R"("ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8")"},
      // The page's nested example, with the third value its template asks for (see below).
      {R"({"ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my.recipe/1.0.0"}})",
       "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
       "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
       "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), "
       "'.'), 1), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
       "$.ImageRecipe.Arn, '/'), 2), '.'), 2))",
       R"("1.0.0")"},
  };
  for (const Case& c : cases) {
    auto v = EvaluateIntrinsic(c.call, json::parse(c.input), json::object(), FixedEnv());
    ASSERT_TRUE(v.ok()) << c.call << ": " << v.error().cause;
    EXPECT_EQ(*v, json::parse(c.want)) << c.call;
  }
}

// The page's "myArn" example as printed has three {} but only two values: it parses (nine
// nested calls, under the limit of ten) and fails at run time, as States.Format requires "as
// many remaining arguments ... as there are occurrences of {}".
TEST(IntrinsicsTest, AwsNestedExampleAsPrintedHasTooFewValues) {
  const char* text =
      "States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
      "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
      "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), "
      "'.'), 1))";
  ASSERT_TRUE(ParseIntrinsic(text).ok());
  auto v = EvaluateIntrinsic(
      text, json::parse(R"({"ImageRecipe": {"Arn": "a:b/my.recipe/1.0.0"}})"), json::object(), {});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().error, "States.IntrinsicFailure");
}

TEST(IntrinsicsTest, EveryHashAlgorithm) {
  // Digests of "input data" from Python's hashlib.
  const std::pair<const char*, const char*> cases[] = {
      {"MD5", "812f45842bc6d66ee14572ce20db8e86"},
      {"SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"},
      {"SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"},
      {"SHA-384",
       "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e937"
       "4a15562"},
      {"SHA-512",
       "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50"
       "283731a533d30d425402d4f91316d871303aac4"},
  };
  for (const auto& [algo, want] : cases) {
    auto v = EvaluateIntrinsic(std::string("States.Hash('input data', '") + algo + "')",
                               json::object(), json::object(), {});
    ASSERT_TRUE(v.ok()) << algo;
    EXPECT_EQ(*v, want) << algo;
  }
}

TEST(IntrinsicsTest, LiteralsEscapesAndContextPaths) {
  const IntrinsicEnv env;
  const json ctx = json::parse(R"({"Execution": {"Name": "run-1"}})");
  struct Case {
    const char* call;
    const char* want;
  };
  const Case cases[] = {
      {R"(States.Format('it\'s {} \{\} \\ done', $$.Execution.Name))",
       R"("it's run-1 {} \\ done")"},
      {"States.Format('{} {} {} {}', 1, -2.5, true, null)", R"("1 -2.5 true null")"},
      {"States.Array('a', 1, true, null, States.Array())", R"(["a",1,true,null,[]])"},
      {"States.Array($.list[1:], $.m['k k'])", R"([[2,3],"v"])"},
      {"States.ArrayRange(5, 1, -2)", "[5,3,1]"},
      {"States.ArrayRange(1, 5, -1)", "[]"},
      {"States.ArrayPartition($.list, 1.6)", "[[1,2],[3]]"},  // rounded to 2, as AWS
      {"States.MathAdd(1.5, 2)", "4"},
      {"States.StringSplit('a,,b', ',')", R"(["a","b"])"},
      {"States.ArrayContains($.list, 7)", "false"},
  };
  const json input = json::parse(R"({"list": [1,2,3], "m": {"k k": "v"}})");
  for (const Case& c : cases) {
    auto v = EvaluateIntrinsic(c.call, input, ctx, env);
    ASSERT_TRUE(v.ok()) << c.call << ": " << v.error().cause;
    EXPECT_EQ(*v, json::parse(c.want)) << c.call;
  }
}

TEST(IntrinsicsTest, ArgumentErrorsAreIntrinsicFailure) {
  const json input = json::parse(R"({"s": "x", "arr": [1], "big": "BIG", "obj": {}})");
  json in = input;
  in["big"] = std::string(10001, 'a');
  struct Case {
    const char* call;
    const char* fragment;
  };
  const Case cases[] = {
      {"States.ArrayRange(1, 1001, 1)", "1001 items, more than the limit of 1000"},
      {"States.ArrayRange(1, 9, 0)", "must not be 0"},
      {"States.ArrayRange('a', 9, 1)", "first argument must be an integer, got a string"},
      {"States.ArrayPartition($.arr, 0)", "chunk size must be a positive integer"},
      {"States.ArrayPartition($.s, 2)", "first argument must be an array, got a string"},
      {"States.ArrayGetItem($.arr, 1)", "index 1 is outside the array of 1 items"},
      {"States.ArrayLength($.obj)", "must be an array, got an object"},
      {"States.Base64Encode($.big)", "exceeds 10000 characters"},
      {"States.Base64Decode('!!!')", "States.Base64Decode"},
      {"States.Hash($.big, 'SHA-1')", "exceeds 10000 characters"},
      {"States.Hash('x', 'SHA-3')", "unknown algorithm 'SHA-3'"},
      {"States.JsonMerge($.obj, $.obj, true)", "only the shallow merge"},
      {"States.JsonMerge($.obj, $.arr, false)", "second argument must be an object"},
      {"States.MathAdd(2147483648, 1)", "within -2147483648 and 2147483647"},
      {"States.MathRandom(5, 5)", "end must be greater than the start"},
      {"States.StringToJson('{nope')", "not JSON text"},
      {"States.Format('{} {}', 1)", "more {} placeholders than the 1 value"},
      {"States.Format('{}', 1, 2)", "1 {} placeholder(s) but 2 value"},
      {"States.Format(1)", "first argument must be a string"},
  };
  for (const Case& c : cases) {
    auto v = EvaluateIntrinsic(c.call, in, json::object(), {});
    ASSERT_FALSE(v.ok()) << c.call;
    EXPECT_EQ(v.error().error, "States.IntrinsicFailure") << c.call;
    EXPECT_NE(v.error().cause.find(c.fragment), std::string::npos)
        << c.call << " -> " << v.error().cause;
  }
  // A path argument that matches nothing keeps the path's own error.
  auto missing = EvaluateIntrinsic("States.Array($.nope)", input, json::object(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().error, "States.Runtime");
}

TEST(IntrinsicsTest, ParseErrorsNameTheProblem) {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"States.Nope(1)", "unknown intrinsic function 'States.Nope'"},
      {"States.ArrayLength(1, 2)", "States.ArrayLength takes 1 argument(s), got 2"},
      {"States.MathRandom(1)", "takes 2 to 3 argument(s)"},
      {"States.Format()", "takes at least 1 argument(s)"},
      {"States.UUID(1)", "takes 0 argument(s)"},
      {"States.Format('abc)", "unterminated string literal"},
      {R"(States.Format('a\nb'))", "a backslash must escape one of"},
      {"States.Array(1 2)", "expected ',' or ')'"},
      {"States.Array(1) x", "unexpected text after the closing ')'"},
      {"States.Array($.a[)", "bad path argument"},
      {"States.Array(foo)", "expected an argument"},
      {"States.Array", "expected '(' after States.Array"},
  };
  for (const Case& c : cases) {
    auto p = ParseIntrinsic(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kBadInput);
    EXPECT_NE(p.status().message().find(c.fragment), std::string::npos)
        << c.text << " -> " << p.status().message();
  }
}

TEST(IntrinsicsTest, NestingLimitIsTen) {
  std::string ten = "1";
  for (int i = 0; i < 10; ++i) ten = "States.Array(" + ten + ")";
  EXPECT_TRUE(ParseIntrinsic(ten).ok());
  auto eleven = ParseIntrinsic("States.Array(" + ten + ")");
  ASSERT_FALSE(eleven.ok());
  EXPECT_NE(eleven.status().message().find("more than 10 nested"), std::string::npos);
}

TEST(IntrinsicsTest, MathRandomIsInjectableSeededAndInRange) {
  IntrinsicEnv env;
  uint64_t counter = 0;
  env.random = [&counter] { return counter++ * 0x9E3779B97F4A7C15ULL; };
  for (int i = 0; i < 200; ++i) {
    auto v = EvaluateIntrinsic("States.MathRandom(1, 4)", json::object(), json::object(), env);
    ASSERT_TRUE(v.ok());
    EXPECT_GE(v->get<int64_t>(), 1);
    EXPECT_LT(v->get<int64_t>(), 4);  // the end is exclusive
  }
  EXPECT_GT(counter, 0u);  // the injected source was used
  auto a =
      EvaluateIntrinsic("States.MathRandom(0, 1000000, 7)", json::object(), json::object(), {});
  auto b =
      EvaluateIntrinsic("States.MathRandom(0, 1000000, 7)", json::object(), json::object(), {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);  // same seed, same number
}

TEST(IntrinsicsTest, DefaultUuidIsVersion4) {
  auto v = EvaluateIntrinsic("States.UUID()", json::object(), json::object(), {});
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(std::regex_match(v->get<std::string>(),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")))
      << *v;
  auto w = EvaluateIntrinsic("States.UUID()", json::object(), json::object(), {});
  EXPECT_NE(*v, *w);
}

TEST(IntrinsicsTest, FunctionListMatchesAws) {
  EXPECT_EQ(IntrinsicFunctionNames().size(), 18u);
  EXPECT_TRUE(IsIntrinsicInvocation("States.Array()"));
  EXPECT_FALSE(IsIntrinsicInvocation("$.States"));
}

}  // namespace
}  // namespace sagebox::pipeline::asl
