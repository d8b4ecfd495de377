#include "pipeline/asl/json_path.h"

#include <gtest/gtest.h>

namespace sagebox::pipeline::asl {
namespace {

using nlohmann::json;

json Eval(std::string_view path, const json& input, const json& context = json::object()) {
  auto p = ParseJsonPath(path);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return json("<parse error>");
  auto v = EvaluatePath(*p, input, context);
  EXPECT_TRUE(v.ok()) << path << ": " << (v.ok() ? "" : v.error().cause);
  return v.ok() ? *v : json("<error>");
}

// "Reference paths" (amazon-states-language-paths.md): the page's input and results.
TEST(JsonPathTest, ReferencePathExamplesFromAwsPage) {
  const json input = json::parse(R"({"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}})");
  struct Case {
    const char* path;
    json want;
  };
  const Case cases[] = {
      {"$.foo", 123},
      {"$.bar", json::parse(R"(["a","b","c"])")},
      {"$.car.cdr", true},
      {"$", input},
      {"$['car']['cdr']", true},
      {"$.bar[0]", "a"},
      {"$.bar[-1]", "c"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(ParseReferencePath(c.path).ok()) << c.path;
    EXPECT_EQ(Eval(c.path, input), c.want) << c.path;
  }
}

TEST(JsonPathTest, BracketNamesWithSpacesAndDashes) {
  const json input = json::parse(R"({"a b": {"error-info": 7}, "x\"y": 1})");
  EXPECT_EQ(Eval("$['a b'].error-info", input), 7);
  EXPECT_EQ(Eval("$[\"a b\"]['error-info']", input), 7);
}

TEST(JsonPathTest, ReferencePathRejectsOperators) {
  for (const char* bad :
       {"$..a", "$.a[*]", "$.a.*", "$.a[0:2]", "$.a[0,1]", "$['a','b']", "$.a[?(@.x > 1)]"}) {
    auto p = ParseReferencePath(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kBadInput);
    EXPECT_NE(p.status().message().find("is not a reference path"), std::string::npos)
        << p.status().message();
    EXPECT_TRUE(ParseJsonPath(bad).ok()) << bad;  // all fine as full paths
  }
}

TEST(JsonPathTest, SyntaxErrorsNameOffsetAndExpectation) {
  struct Case {
    const char* path;
    const char* fragment;
  };
  const Case cases[] = {
      {"", "must start with '$'"},
      {"foo", "must start with '$'"},
      {"$foo", "at offset 1: expected '.' or '['"},
      {"$.", "expected a field name"},
      {"$.a[", "expected '*', '?(', a quoted name"},
      {"$.a['x", "unterminated string"},
      {"$.a[1", "expected ']'"},
      {"$.a[0:1:0]", "slice step must not be 0"},
      {"$.a[?(@.x =~ /a/)]", "unsupported filter operator"},
      {"$.a[?(@.x > )]", "expected '@', '$', a string"},
  };
  for (const Case& c : cases) {
    auto p = ParseJsonPath(c.path);
    ASSERT_FALSE(p.ok()) << c.path;
    EXPECT_NE(p.status().message().find(c.fragment), std::string::npos)
        << c.path << " -> " << p.status().message();
    EXPECT_NE(p.status().message().find("JSONPath '"), std::string::npos);
  }
}

// Jayway's book store, the usual JSONPath reference document.
const json& Store() {
  static const json kStore = json::parse(R"({
    "store": {
      "book": [
        {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
        {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
        {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
         "isbn": "0-553-21311-3", "price": 8.99},
        {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR",
         "isbn": "0-395-19395-8", "price": 22.99}
      ],
      "bicycle": {"color": "red", "price": 19.95}
    },
    "expensive": 10
  })");
  return kStore;
}

TEST(JsonPathTest, FullJsonPathOperators) {
  struct Case {
    const char* path;
    const char* want;
  };
  const Case cases[] = {
      {"$.store.book[*].author",
       R"(["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"])"},
      {"$..author", R"(["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"])"},
      {"$.store.*.color", R"(["red"])"},
      {"$..book[2].title", R"(["Moby Dick"])"},
      {"$..book[-1:].title", R"(["LOTR"])"},
      {"$..book[:2].title", R"(["Sayings","Sword"])"},
      {"$.store.book[1:4:2].title", R"(["Sword","LOTR"])"},
      {"$.store.book[::-1].price", R"([22.99,8.99,12.99,8.95])"},
      {"$.store.book[0,2].title", R"(["Sayings","Moby Dick"])"},
      {"$.store.bicycle['color','price']", R"(["red",19.95])"},
      {"$..book[?(@.isbn)].title", R"(["Moby Dick","LOTR"])"},
      {"$.store.book[?(@.price < 10)].title", R"(["Sayings","Moby Dick"])"},
      {"$.store.book[?(@.price > $.expensive)].title", R"(["Sword","LOTR"])"},
      {"$.store.book[?(@.category == 'fiction' && @.price >= 22.99)].title", R"(["LOTR"])"},
      {"$.store.book[?(@.category != \"fiction\" || !(@.price < 20))].title",
       R"(["Sayings","LOTR"])"},
      {"$.store.book[?(@.missing == 1)]", "[]"},
      {"$.nothing[*]", "[]"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Eval(c.path, Store()), json::parse(c.want)) << c.path;
  }
}

// The two jsonpath-plus forms that asl-validator's valid definitions use (see json_path.cc).
TEST(JsonPathTest, BareWordFilterOperandAndLengthScriptSubscript) {
  const json input = json::parse(R"({"outs": [{"k": "FooBar", "v": 1}, {"k": "Fizz", "v": 2}],
                                     "items": [10, 20, 30]})");
  auto bare = ParseJsonPath("$.outs[?(@.k == FooBar)].v");
  ASSERT_TRUE(bare.ok()) << bare.status().message();
  EXPECT_EQ(EvaluatePath(*bare, input, json::object()).value(), json::array({1}));
  auto last = ParseJsonPath("$.items[(@.length-1)]");
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ(EvaluatePath(*last, input, json::object()).value(), json(30));
  auto second_last = ParseJsonPath("$.items[( @.length - 2 )]");
  ASSERT_TRUE(second_last.ok()) << second_last.status().message();
  EXPECT_EQ(EvaluatePath(*second_last, input, json::object()).value(), json(20));
  EXPECT_FALSE(ParseJsonPath("$.items[(@.length)]").ok());      // always past the end
  EXPECT_FALSE(ParseJsonPath("$.items[(@.size()-1)]").ok());    // no other scripts
  EXPECT_FALSE(ParseJsonPath("$.outs[?(@.k == 1bad)]").ok());   // not a word, not a number
  EXPECT_FALSE(ParseReferencePath("$.items[?(@ == x)]").ok());  // still no filters there
}

TEST(JsonPathTest, ContextObjectPaths) {
  const json context = json::parse(R"({"Execution": {"Id": "arn:x", "Input": {"a": 1}},
                                       "Map": {"Item": {"Index": 3}}})");
  auto p = ParseJsonPath("$$.Map.Item.Index");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_context());
  EXPECT_EQ(Eval("$$.Map.Item.Index", json::object(), context), 3);
  EXPECT_EQ(Eval("$$.Execution.Input.a", json::object(), context), 1);
  EXPECT_EQ(Eval("$$", json::object(), context), context);
}

TEST(JsonPathTest, DefinitePathWithoutMatchIsStatesRuntimeInAwsWording) {
  auto p = ParseJsonPath("$.a.b");
  ASSERT_TRUE(p.ok());
  auto v = EvaluatePath(*p, json::parse(R"({"a": {"c": 1}})"), json::object());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().error, "States.Runtime");
  EXPECT_EQ(v.error().cause, "Invalid path '$.a.b' : No results for path: $['a']['b']");
}

// "InputPath, Parameters and ResultSelector": InputPath "$.dataset2" and InputPath null.
TEST(JsonPathTest, InputPathExampleAndNull) {
  const json input = json::parse(R"({"comment": "Example for InputPath.",
      "dataset1": {"val1": 1, "val2": 2, "val3": 3},
      "dataset2": {"val1": "a", "val2": "b", "val3": "c"}})");
  auto p = ParseJsonPath("$.dataset2");
  ASSERT_TRUE(p.ok());
  auto v = ApplyInputPath(*p, input, json::object());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::parse(R"({"val1": "a", "val2": "b", "val3": "c"})"));
  auto null_path = ApplyInputPath(std::nullopt, input, json::object());
  ASSERT_TRUE(null_path.ok());
  EXPECT_EQ(*null_path, json::object());
  auto out = ApplyOutputPath(std::nullopt, input, json::object());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, json::object());
}

// "Specifying state output using ResultPath": the page's input and Lambda result.
TEST(JsonPathTest, ResultPathExamplesFromAwsPage) {
  const json input =
      json::parse(R"({"comment": "This is a test of the input and output of a Task state.",
      "details": "Default example", "who": "AWS Step Functions"})");
  const json result = "Hello, AWS Step Functions!";
  auto parse = [](const char* t) { return *ParseReferencePath(t); };

  auto replaced = ApplyResultPath(parse("$"), input, result);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(*replaced, result);

  auto discarded = ApplyResultPath(std::nullopt, input, result);
  ASSERT_TRUE(discarded.ok());
  EXPECT_EQ(*discarded, input);

  auto added = ApplyResultPath(parse("$.taskresult"), input, result);
  ASSERT_TRUE(added.ok());
  json want = input;
  want["taskresult"] = result;
  EXPECT_EQ(*added, want);

  auto nested = ApplyResultPath(parse("$.strings.lambdaresult"), input, result);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ((*nested)["strings"], json::parse(R"({"lambdaresult": "Hello, AWS Step Functions!"})"));
  EXPECT_EQ((*nested)["who"], "AWS Step Functions");

  auto overwrite = ApplyResultPath(parse("$.details"), input, json{{"x", 1}});
  ASSERT_TRUE(overwrite.ok());
  EXPECT_EQ((*overwrite)["details"], json({{"x", 1}}));
}

TEST(JsonPathTest, ResultPathThroughNonObjectFails) {
  const json input = json::parse(R"({"a": "text", "list": [1, {"k": 0}]})");
  struct Case {
    const char* path;
    bool ok;
    const char* fragment;
  };
  const Case cases[] = {
      {"$.a.b", false, "Unable to apply step \"b\""},
      {"$.list[5]", false, "Unable to apply step \"[5]\""},
      {"$.list.x", false, "expected an object but found an array"},
      {"$.list[1].k", true, ""},
      {"$.list[0]", true, ""},
  };
  for (const Case& c : cases) {
    auto v = ApplyResultPath(*ParseReferencePath(c.path), input, json("R"));
    ASSERT_EQ(v.ok(), c.ok) << c.path;
    if (!c.ok) {
      EXPECT_EQ(v.error().error, "States.Runtime");
      EXPECT_NE(v.error().cause.find(c.fragment), std::string::npos) << v.error().cause;
    }
  }
  EXPECT_EQ(
      (*ApplyResultPath(*ParseReferencePath("$.list[1].k"), input, json("R")))["list"][1]["k"],
      "R");
  // A scalar input cannot take a field either.
  auto scalar = ApplyResultPath(*ParseReferencePath("$.x"), json(5), json(1));
  ASSERT_FALSE(scalar.ok());
  // The context object is read-only.
  auto ctx = ApplyResultPath(*ParseReferencePath("$$.x"), json::object(), json(1));
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().error, "States.Runtime");
}

}  // namespace
}  // namespace sagebox::pipeline::asl
