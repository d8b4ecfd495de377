#include "cost/findings/aux_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sagebox::findings {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<nlohmann::json> Values(std::string_view text, Status* st) {
  std::vector<nlohmann::json> out;
  *st = ForEachJsonValue(text, "f.json", [&](const JsonValueAt& at) {
    out.push_back(at.value);
    return Status::Ok();
  });
  return out;
}

TEST(ForEachJsonValue, SingleObjectArrayJsonLinesAndConcatenatedDocuments) {
  Status st;
  auto v = Values("{\"a\": 1}", &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0]["a"], 1);

  v = Values("[{\"a\": 1}, {\"a\": 2}]\n", &st);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].is_array());

  v = Values("{\"a\":1}\n\n{\"a\":2}\r\n{\"a\":3}\n", &st);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2]["a"], 3);

  // `aws ... >> file` twice: pretty-printed documents back to back.
  v = Values("{\n  \"a\": {\"b\": [1, 2]}\n}\n{\n  \"a\": \"}{][\\\"\"\n}", &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[1]["a"], "}{][\"");
}

TEST(ForEachJsonValue, BomAndBlankInput) {
  Status st;
  auto v = Values("\xEF\xBB\xBF{\"a\": 1}", &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v.size(), 1u);
  v = Values(" \n\t\r\n", &st);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(v.empty());
}

TEST(ForEachJsonValue, ErrorsNameLineAndColumnInTheWholeFile) {
  Status st;
  Values("{\"a\":1}\n{\"b\": tru}\n", &st);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("f.json:2:10: "));
  EXPECT_THAT(st.message(), HasSubstr("invalid literal"));
  EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("json.exception")));

  Values("{\"a\":1}\n  {\"b\": 1,}\n", &st);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("f.json:2:11: "));

  Values("{\"a\": [1, 2", &st);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("f.json:1:12: "));
  EXPECT_THAT(st.message(), HasSubstr("end of input"));

  Values("{\"a\": 1} ,", &st);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("f.json:1:10: "));
}

TEST(ForEachJsonValue, RefusesDeepNesting) {
  Status st;
  Values(std::string(kMaxJsonDepth + 1, '['), &st);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), HasSubstr("nested deeper than"));
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  auto v = Values(ok, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(v.size(), 1u);
}

TEST(ForEachJsonValue, StopsAtTheCallbacksError) {
  int calls = 0;
  Status st = ForEachJsonValue("1 2 3", "f", [&](const JsonValueAt&) {
    return ++calls == 2 ? BadInput("stop") : Status::Ok();
  });
  EXPECT_EQ(st.message(), "stop");
  EXPECT_EQ(calls, 2);
}

TEST(LineCol, CountsCharactersNotBytes) {
  EXPECT_EQ(LineCol("ab\ncd", 0), "1:1");
  EXPECT_EQ(LineCol("ab\ncd", 4), "2:2");
  EXPECT_EQ(LineCol("\xC3\xA9x", 2), "1:2");  // é is one character
  EXPECT_EQ(LineCol("ab", 99), "1:3");
}

TEST(ParseIsoTimestamp, OffsetsAndFractions) {
  // 2024-01-02T02:05:10Z
  const UnixSeconds t = 1704161110;
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02T02:05:10Z"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02T02:05:10.123000+00:00"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02T02:05:10.999Z"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02T07:35:10.5+05:30"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T19:05:10-07:00"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-01T19:05:10-0700"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02T03:05:10+01"), t);
  EXPECT_EQ(ParseIsoTimestamp("2024-01-02"), 1704153600);
  EXPECT_FALSE(ParseIsoTimestamp("2024-01-02T02:05:10+24:00"));
  EXPECT_FALSE(ParseIsoTimestamp("2024-01-02T02:05:10+1:00"));
  EXPECT_FALSE(ParseIsoTimestamp("2024-01-02T02:05:10 UTC"));
  EXPECT_FALSE(ParseIsoTimestamp("yesterday"));
  EXPECT_FALSE(ParseIsoTimestamp("1970-01-01T00:00:00+01:00"));  // before the epoch
}

TEST(ParseAwsTimestamp, EpochNumbersAndStrings) {
  using nlohmann::json;
  EXPECT_EQ(ParseAwsTimestamp(json(1704161110)), 1704161110);
  EXPECT_EQ(ParseAwsTimestamp(json(1704161110.987)), 1704161110);
  EXPECT_EQ(ParseAwsTimestamp(json("1704161110.5")), 1704161110);
  EXPECT_EQ(ParseAwsTimestamp(json("2024-01-02T02:05:10Z")), 1704161110);
  EXPECT_FALSE(ParseAwsTimestamp(json(-1)));
  EXPECT_FALSE(ParseAwsTimestamp(json(1e300)));
  EXPECT_FALSE(ParseAwsTimestamp(json(18446744073709551615ULL)));
  EXPECT_FALSE(ParseAwsTimestamp(json("9999999999999")));
  EXPECT_FALSE(ParseAwsTimestamp(json(true)));
  EXPECT_FALSE(ParseAwsTimestamp(json(nullptr)));
  EXPECT_FALSE(ParseAwsTimestamp(json("")));
}

TEST(FieldReader, LocatesMistakesAtTheirKey) {
  const std::string text = "\n{\"a\": {\"n\": \"two\"},\n \"t\": \"soon\"}";
  JsonValueAt at;
  at.value = nlohmann::json::parse(text);
  at.raw = std::string_view(text).substr(1);
  at.offset = 1;
  FieldReader r("f.json", text, at);
  EXPECT_EQ(r.String(at.value, "missing"), "");
  EXPECT_FALSE(r.Int(at.value["a"], "n", 0, 10, "a.n"));
  EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(r.status().message(),
            "f.json:2:8: expected 'a.n' to be an integer from 0 to 10, got a string");
  // Only the first mistake is kept.
  EXPECT_EQ(r.Time(at.value, "t"), 0);
  EXPECT_THAT(r.status().message(), HasSubstr("'a.n'"));

  FieldReader r2("f.json", text, at);
  EXPECT_EQ(r2.Time(at.value, "t"), 0);
  EXPECT_EQ(r2.status().message(),
            "f.json:3:2: expected 't' to be an ISO 8601 timestamp or epoch seconds, got a string");
  FieldReader r3("f.json", text, at);
  EXPECT_EQ(r3.Int(at.value, "zzz", 0, 1), std::nullopt);
  EXPECT_TRUE(r3.ok());
  r3.FailWith("zzz", "not there");
  EXPECT_EQ(r3.status().message(), "f.json:2:1: not there");
}

TEST(FieldReader, IntegersAcceptIntegralFloatsAndCheckRange) {
  JsonValueAt at;
  at.value = nlohmann::json::parse(R"({"a": 3.0, "b": 3.5, "c": -1, "d": 18446744073709551615})");
  const std::string text = at.value.dump();
  at.raw = text;
  FieldReader r("f", text, at);
  EXPECT_EQ(r.Int(at.value, "a", 0, 10), 3);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.Int(at.value, "b", 0, 10));
  EXPECT_THAT(r.status().message(), HasSubstr("got 3.5"));
  FieldReader r2("f", text, at);
  EXPECT_FALSE(r2.Int(at.value, "c", 0, 10));
  EXPECT_THAT(r2.status().message(), HasSubstr("got -1"));
  FieldReader r3("f", text, at);
  EXPECT_FALSE(r3.Int(at.value, "d", 0, 10));
  EXPECT_FALSE(r3.ok());
}

}  // namespace
}  // namespace sagebox::findings
