#include <gtest/gtest.h>

#include <string>

#include "label/project.h"

namespace sagebox::label {
namespace {

using nlohmann::json;

// The error message of parsing `text` as a config named "p.json"; "" when it parses.
std::string Error(const std::string& text) {
  auto c = ParseProjectConfig(json::parse(text), "p.json");
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kBadInput);
  return c.status().message();
}

TEST(ProjectConfig, DefaultsFromAnEmptyObject) {
  auto c = ParseProjectConfig(json::object(), "p.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->kind, Kind::kQaPairs);
  EXPECT_EQ(c->overlap, 1);
  EXPECT_EQ(c->review_rate, 1.0);
  EXPECT_EQ(c->max_rework_rounds, 2);
  EXPECT_EQ(c->reservation_seconds, 1800);
  EXPECT_EQ(c->batch_size, 100);
  EXPECT_TRUE(c->hourly_rate.is_zero());
  EXPECT_EQ(c->requirements.min_pairs, 1);
  EXPECT_TRUE(c->requirements.require_spans);
}

TEST(ProjectConfig, ReadsEveryField) {
  auto c = ParseProjectConfig(json::parse(R"({
    "kind": "qa-pairs", "instructions": "# Write pairs", "label_attribute": "qa",
    "question_types": ["factual", "reasoning"], "overlap": 2, "review_rate": 0.25,
    "max_rework_rounds": 3, "reservation_seconds": 600, "batch_size": 10,
    "hourly_rate": "18.55",
    "requirements": {"min_pairs": 2, "max_pairs": 6,
      "question_type_min_share": {"reasoning": 0.3, "factual": 0.2},
      "answer_words": {"min": 3, "max": 40}, "question_words": {"min": 4},
      "require_spans": false, "caption_words": {"max": 80}}
  })"),
                              "p.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->instructions, "# Write pairs");
  EXPECT_EQ(c->label_attribute, "qa");
  EXPECT_EQ(c->question_types, (std::vector<std::string>{"factual", "reasoning"}));
  EXPECT_EQ(c->overlap, 2);
  EXPECT_EQ(c->review_rate, 0.25);
  EXPECT_EQ(c->max_rework_rounds, 3);
  EXPECT_EQ(c->reservation_seconds, 600);
  EXPECT_EQ(c->batch_size, 10);
  EXPECT_EQ(c->hourly_rate.ToString(), "18.55");
  const Requirements& q = c->requirements;
  EXPECT_EQ(q.min_pairs, 2);
  EXPECT_EQ(q.max_pairs, 6);
  ASSERT_EQ(q.question_type_min_share.size(), 2U);
  EXPECT_EQ(q.question_type_min_share[0].first, "factual");  // JSON objects are sorted
  EXPECT_EQ(q.question_type_min_share[1].second, 0.3);
  EXPECT_EQ(q.answer_words.min, 3);
  EXPECT_EQ(q.answer_words.max, 40);
  EXPECT_EQ(q.question_words.min, 4);
  EXPECT_EQ(q.question_words.max, 0);
  EXPECT_FALSE(q.require_spans);
  EXPECT_EQ(q.caption_words.max, 80);
}

TEST(ProjectConfig, HourlyRateIsExactFromStringOrNumber) {
  auto a = ParseProjectConfig(json::parse(R"({"hourly_rate": 0.1})"), "p");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->hourly_rate.raw(), Decimal::kOne / 10);  // not 0.1000000000000000055…
  auto b = ParseProjectConfig(json::parse(R"({"hourly_rate": "12.3456789012"})"), "p");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->hourly_rate.ToString(), "12.3456789012");
  auto c = ParseProjectConfig(json::parse(R"({"hourly_rate": 30})"), "p");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hourly_rate, Decimal::FromInt(30));
  EXPECT_EQ(Error(R"({"hourly_rate": "cheap"})"),
            "p.json: hourly_rate: expected a decimal amount in USD per hour such as \"18.50\", "
            "got a string");
  EXPECT_EQ(Error(R"({"hourly_rate": -4})"), "p.json: hourly_rate: expected 0 or more, got -4");
  EXPECT_EQ(Error(R"({"hourly_rate": true})"),
            "p.json: hourly_rate: expected a decimal amount in USD per hour such as \"18.50\", "
            "got a boolean");
}

TEST(ProjectConfig, RoundTrips) {
  for (const char* text : {
           R"({"kind":"ranking","responses":3,"hourly_rate":"21.125","review_rate":0.5,
               "requirements":{"dimensions":["helpfulness","harmlessness"],"allow_ties":true,
                               "require_rationale":true}})",
           R"({"kind":"qa-pairs","question_types":["factual","reasoning"],
               "requirements":{"question_type_min_share":{"reasoning":0.3},
                               "answer_words":{"min":2,"max":50},"max_pairs":5}})",
           R"({"kind":"image-caption","requirements":{"min_objects":3,"min_relationships":1,
               "require_setting":true,"caption_words":{"min":10}}})",
           R"({"kind":"video-caption","overlap":3,"batch_size":7,
               "requirements":{"min_activities":2}})",
       }) {
    auto c = ParseProjectConfig(json::parse(text), "p");
    ASSERT_TRUE(c.ok()) << c.status().message();
    const json once = ProjectConfigJson(*c);
    auto again = ParseProjectConfig(once, "p");
    ASSERT_TRUE(again.ok()) << again.status().message() << " in " << once.dump();
    EXPECT_EQ(ProjectConfigJson(*again), once);
    EXPECT_EQ(again->hourly_rate, c->hourly_rate);
    EXPECT_EQ(again->requirements.dimensions, c->requirements.dimensions);
    EXPECT_EQ(again->requirements.question_type_min_share, c->requirements.question_type_min_share);
  }
  auto r = ParseProjectConfig(json::parse(R"({"kind":"ranking","hourly_rate":"21.125",
      "requirements":{"dimensions":["a"]}})"),
                              "p");
  ASSERT_TRUE(r.ok());
  const json j = ProjectConfigJson(*r);
  EXPECT_EQ(j["kind"], "ranking");
  EXPECT_EQ(j["hourly_rate"], "21.125");
  EXPECT_EQ(j["requirements"]["answer_words"], json::parse(R"({"min":0,"max":0})"));
}

TEST(ProjectConfig, UnknownKeysAreNamed) {
  EXPECT_EQ(Error(R"({"overlapp": 2})"),
            "p.json: overlapp: unknown key (expected one of kind, instructions, label_attribute, "
            "question_types, responses, overlap, review_rate, max_rework_rounds, "
            "reservation_seconds, batch_size, hourly_rate, requirements)");
  EXPECT_EQ(Error(R"({"requirements": {"min_pair": 2}})").substr(0, 58),
            "p.json: requirements.min_pair: unknown key (expected one o");
  EXPECT_EQ(Error(R"({"requirements": {"answer_words": {"minimum": 2}}})"),
            "p.json: requirements.answer_words.minimum: unknown key (expected one of min, max)");
}

TEST(ProjectConfig, WrongTypesAreNamed) {
  EXPECT_EQ(Error("[1]"), "p.json: (config): expected a JSON object, got an array");
  EXPECT_EQ(Error(R"({"kind": "poll"})"),
            "p.json: kind: unknown project kind 'poll' (expected qa-pairs, ranking, "
            "image-caption or video-caption)");
  EXPECT_EQ(Error(R"({"kind": 3})"), "p.json: kind: expected a string, got the number 3");
  EXPECT_EQ(Error(R"({"overlap": "2"})"), "p.json: overlap: expected an integer, got a string");
  EXPECT_EQ(Error(R"({"overlap": 1.5})"),
            "p.json: overlap: expected an integer, got the number 1.5");
  EXPECT_EQ(Error(R"({"requirements": {"require_spans": "yes"}})"),
            "p.json: requirements.require_spans: expected true or false, got a string");
  EXPECT_EQ(Error(R"({"question_types": ["a", ""]})"),
            "p.json: question_types[1]: expected a non-empty string, got \"\"");
  EXPECT_EQ(Error(R"({"question_types": ["a", "a"]})"),
            "p.json: question_types[1]: 'a' is listed twice");
  EXPECT_EQ(Error(R"({"requirements": []})"),
            "p.json: requirements: expected an object, got an array");
  EXPECT_EQ(Error(R"({"requirements": {"answer_words": 5}})"),
            "p.json: requirements.answer_words: expected an object {\"min\", \"max\"}, got the "
            "number 5");
  EXPECT_EQ(Error(R"({"requirements": {"question_type_min_share": [0.3]}})"),
            "p.json: requirements.question_type_min_share: expected an object of question type "
            "to share, e.g. {\"reasoning\": 0.3}, got an array");
}

TEST(ProjectConfig, RangesAreChecked) {
  EXPECT_EQ(Error(R"({"overlap": 0})"),
            "p.json: overlap: expected an integer from 1 to 2147483647, got 0");
  EXPECT_EQ(Error(R"({"review_rate": 1.5})"),
            "p.json: review_rate: expected a number from 0 to 1, got 1.5");
  EXPECT_EQ(Error(R"({"review_rate": -0.1})"),
            "p.json: review_rate: expected a number from 0 to 1, got -0.1");
  EXPECT_EQ(Error(R"({"max_rework_rounds": -1})"),
            "p.json: max_rework_rounds: expected an integer from 0 to 2147483647, got -1");
  EXPECT_EQ(Error(R"({"reservation_seconds": 0})"),
            "p.json: reservation_seconds: expected an integer from 1 to 9223372036854775807, "
            "got 0");
  EXPECT_EQ(Error(R"({"batch_size": 0})"),
            "p.json: batch_size: expected an integer from 1 to 2147483647, got 0");
  EXPECT_EQ(Error(R"({"batch_size": 3000000000})"),
            "p.json: batch_size: expected an integer from 1 to 2147483647, got 3000000000");
  EXPECT_EQ(Error(R"({"responses": 1})"),
            "p.json: responses: expected 0 (any number) or at least 2 responses per item");
  EXPECT_EQ(Error(R"({"requirements": {"min_pairs": 4, "max_pairs": 3}})"),
            "p.json: requirements.min_pairs: min_pairs (4) is above max_pairs (3)");
  EXPECT_EQ(Error(R"({"requirements": {"answer_words": {"min": 9, "max": 3}}})"),
            "p.json: requirements.answer_words: min (9) is above max (3)");
  EXPECT_EQ(Error(R"({"requirements": {"question_type_min_share": {"why": 1.2}}})"),
            "p.json: requirements.question_type_min_share.why: expected a number from 0 to 1, "
            "got 1.2");
  EXPECT_EQ(Error(R"({"requirements": {"question_type_min_share": {"a": 0.6, "b": 0.5}}})"),
            "p.json: requirements.question_type_min_share: the shares sum to 1.1, expected at "
            "most 1");
  // Exactly 1 in decimal, a little above in binary: allowed.
  EXPECT_EQ(
      Error(R"({"requirements": {"question_type_min_share": {"a": 0.1, "b": 0.2, "c": 0.7}}})"),
      "");
  EXPECT_EQ(Error(R"({"question_types": ["factual"],
                      "requirements": {"question_type_min_share": {"reasoning": 0.3}}})"),
            "p.json: requirements.question_type_min_share.reasoning: 'reasoning' is not one of "
            "the project's question_types");
  EXPECT_EQ(Error(R"({"kind": "ranking"})"),
            "p.json: requirements.dimensions: a ranking project needs at least one dimension, "
            "e.g. [\"helpfulness\"]");
}

TEST(ProjectConfig, ValidateCatchesAConfigChangedInCode) {
  ProjectConfig c;
  EXPECT_TRUE(ValidateProjectConfig(c, "flags").ok());
  c.kind = Kind::kRanking;  // e.g. from --kind after parsing a config without one
  Status s = ValidateProjectConfig(c, "flags");
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_EQ(s.message().substr(0, 31), "flags: requirements.dimensions:");
  c.requirements.dimensions = {"clarity"};
  EXPECT_TRUE(ValidateProjectConfig(c, "flags").ok());
  c.hourly_rate = Decimal::FromInt(-1);
  EXPECT_EQ(ValidateProjectConfig(c, "flags").message(), "flags: hourly_rate: expected 0 or more");
}

}  // namespace
}  // namespace sagebox::label
