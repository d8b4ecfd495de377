#include <gtest/gtest.h>

#include <string>

#include "label/project.h"

namespace sagebox::label {
namespace {

using nlohmann::json;

ProjectConfig Config(const char* text) {
  auto c = ParseProjectConfig(json::parse(text), "test");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : ProjectConfig();
}

// "requirement @ path: message" per failure, one per line, for whole-list asserts.
std::string Show(const std::vector<Failure>& fs) {
  std::string out;
  for (const Failure& f : fs) out += f.requirement + " @ " + f.path + ": " + f.message + "\n";
  return out;
}

std::string Check(const ProjectConfig& c, const ItemView& item, const char* payload) {
  return Show(CheckPayload(c, item, json::parse(payload)));
}

// ---- qa-pairs

// 11 code points, 15 bytes: "é" and "ß" are two bytes each, "→" three.
constexpr std::string_view kPassage = "caf\xC3\xA9 \xC3\x9F \xE2\x86\x92 ok";

TEST(QaPairsCheck, AGoodPayloadPasses) {
  const ProjectConfig c = Config(R"({"question_types":["factual","reasoning"],
      "requirements":{"min_pairs":2,"question_type_min_share":{"reasoning":0.5},
                      "answer_words":{"min":1,"max":5}}})");
  ItemView item;
  item.text = kPassage;
  const json payload = json::parse(R"({"qa_pairs":[
      {"id":"a","question":"What?","answer":"a cafe","question_type":"factual",
       "spans":[{"start":0,"end":10}]},
      {"id":2,"question":"Why?","answer":"because","question_type":"reasoning",
       "refs_entire_passage":true}]})");
  EXPECT_EQ(Show(CheckPayload(c, item, payload)), "");
  EXPECT_EQ(FailuresJson(CheckPayload(c, item, payload)), json::array());
}

TEST(QaPairsCheck, SpansAreCodePointsWithinThePassage) {
  const ProjectConfig c = Config("{}");
  ItemView item;
  item.text = kPassage;
  // end = 11 is the last code point boundary; 12 is past it, though the text has 15 bytes.
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":[{"id":"a","question":"q","answer":"a",
      "spans":[{"start":4,"end":11},{"start":4,"end":12},{"start":3,"end":3},
               {"start":-1,"end":2}]}]})"),
            "span_bounds @ qa_pairs[0].spans[1]: span 4..12 is not within the passage: expected "
            "0 <= start < end <= 11 (code points)\n"
            "span_bounds @ qa_pairs[0].spans[2]: span 3..3 is not within the passage: expected "
            "0 <= start < end <= 11 (code points)\n"
            "span_bounds @ qa_pairs[0].spans[3]: span -1..2 is not within the passage: expected "
            "0 <= start < end <= 11 (code points)\n");
}

TEST(QaPairsCheck, InvalidUtf8PassageDoesNotCrash) {
  const ProjectConfig c = Config("{}");
  ItemView item;
  const std::string bad = "ab\xC3\xFF\x80\x80 cd";  // a cut sequence and stray continuations
  item.text = bad;
  // Lead bytes and ASCII: a, b, C3, FF, ' ', c, d = 7.
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":[{"id":"a","question":"q","answer":"a",
      "spans":[{"start":0,"end":7}]}]})"),
            "");
  EXPECT_NE(Check(c, item, R"({"qa_pairs":[{"id":"a","question":"q","answer":"a",
      "spans":[{"start":0,"end":8}]}]})"),
            "");
}

TEST(QaPairsCheck, EveryRequirementIsNamed) {
  const ProjectConfig c = Config(R"({"question_types":["factual","reasoning"],
      "requirements":{"min_pairs":1,"max_pairs":3,"question_type_min_share":{"reasoning":0.3},
                      "answer_words":{"min":2,"max":3},"question_words":{"min":3}}})");
  ItemView item;
  item.text = kPassage;
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":[
      {"id":"a","question":"Who is it?","answer":"one  two\tthree four","question_type":"factual",
       "spans":[{"start":0,"end":1}]},
      {"id":"a","question":"Why?","answer":"x","question_type":"opinion"},
      {"id":"c","question":"  ","answer":"fine answer","question_type":"factual",
       "refs_entire_passage":false,"spans":[]},
      {"id":"d","question":"What is here?","answer":"two words","question_type":"factual",
       "spans":[{"start":0,"end":1}]}]})"),
            "max_pairs @ qa_pairs: 4 QA pairs, expected at most 3\n"
            "answer_words @ qa_pairs[0].answer: the answer has 4 words, expected 2 to 3\n"
            "unique_ids @ qa_pairs[1].id: two QA pairs have the id 'a'\n"
            "question_words @ qa_pairs[1].question: the question has 1 words, expected at least "
            "3\n"
            "answer_words @ qa_pairs[1].answer: the answer has 1 words, expected 2 to 3\n"
            "question_type @ qa_pairs[1].question_type: question type 'opinion' is not one of "
            "the project's: factual, reasoning\n"
            "spans @ qa_pairs[1]: the pair highlights no span and is not marked as referring to "
            "the entire passage\n"
            "required @ qa_pairs[2].question: the question is empty\n"
            "spans @ qa_pairs[2]: the pair highlights no span and is not marked as referring to "
            "the entire passage\n"
            "question_type_mix @ qa_pairs: 0 of 4 pairs are 'reasoning', expected at least "
            "30%\n");
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":[]})"),
            "min_pairs @ qa_pairs: 0 QA pairs, expected at least 1\n");
  EXPECT_EQ(Check(c, item, "{}"), "min_pairs @ qa_pairs: 0 QA pairs, expected at least 1\n");
}

TEST(QaPairsCheck, TypeMixCountsShares) {
  const ProjectConfig c = Config(R"({"requirements":{"require_spans":false,
      "question_type_min_share":{"reasoning":0.07}}})");
  ItemView item;
  item.text = kPassage;
  auto pairs = [](int reasoning, int total) {
    json p = {{"qa_pairs", json::array()}};
    for (int i = 0; i < total; ++i) {
      p["qa_pairs"].push_back({{"id", i},
                               {"question", "q"},
                               {"answer", "a"},
                               {"question_type", i < reasoning ? "reasoning" : "factual"}});
    }
    return p;
  };
  // 7 of 100 is exactly 7%, though 0.07 * 100 is 7.000000000000001 in binary.
  EXPECT_TRUE(CheckPayload(c, item, pairs(7, 100)).empty());
  auto six = CheckPayload(c, item, pairs(6, 100));
  ASSERT_EQ(six.size(), 1U);
  EXPECT_EQ(six[0].requirement, "question_type_mix");
  EXPECT_EQ(six[0].path, "qa_pairs");
  EXPECT_EQ(six[0].message, "6 of 100 pairs are 'reasoning', expected at least 7%");
}

TEST(QaPairsCheck, WrongTypesAreShapeFailures) {
  const ProjectConfig c = Config("{}");
  ItemView item;
  item.text = kPassage;
  EXPECT_EQ(Check(c, item, "[]"),
            "shape @ : expected a JSON object (the qa-pairs payload), got an array\n");
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":{"id":1}})"),
            "shape @ qa_pairs: expected an array, got an object\n"
            "min_pairs @ qa_pairs: 0 QA pairs, expected at least 1\n");
  EXPECT_EQ(Check(c, item, R"({"qa_pairs":[7, {"id":[1],"question":5,"answer":"a",
      "question_type":false,"refs_entire_passage":"yes",
      "spans":[{"start":"0","end":1},{"start":0},{"start":0.5,"end":2},"x"]}]})"),
            "shape @ qa_pairs[0]: expected an object {\"id\",\"question\",\"answer\",...}, got a "
            "number\n"
            "shape @ qa_pairs[1].id: expected a non-empty string or an integer, got an array\n"
            "shape @ qa_pairs[1].question: expected a string, got a number\n"
            "shape @ qa_pairs[1].question_type: expected a string, got a boolean\n"
            "shape @ qa_pairs[1].refs_entire_passage: expected true or false, got a string\n"
            "shape @ qa_pairs[1].spans[0].start: expected an integer, got a string\n"
            "shape @ qa_pairs[1].spans[1].end: expected an integer, it is missing\n"
            "shape @ qa_pairs[1].spans[2].start: expected an integer, got a number\n"
            "shape @ qa_pairs[1].spans[3]: expected an object {\"start\",\"end\"}, got a "
            "string\n");
}

// ---- ranking

const json kRankingLine = json::parse(R"({"prompt":"p","responses":[
    {"id":"r1","text":"a"},{"id":"r2","text":"b"},{"id":"r3","text":"c"}]})");

TEST(RankingCheck, AGoodPayloadPasses) {
  const ProjectConfig c =
      Config(R"({"kind":"ranking","requirements":{"dimensions":["clarity","accuracy"],
                 "require_rationale":true}})");
  ItemView item;
  item.line = &kRankingLine;
  EXPECT_EQ(Check(c, item, R"({"rankings":[
      {"dimension":"clarity","order":["r2","r1","r3"]},
      {"dimension":"accuracy","order":["r1","r2","r3"],"ties":[]}],
      "rationale":{"clarity":"r2 is short","accuracy":"r1 cites"}})"),
            "");
}

TEST(RankingCheck, EveryResponseInEveryDimension) {
  const ProjectConfig c =
      Config(R"({"kind":"ranking","requirements":{"dimensions":["clarity","accuracy"]}})");
  ItemView item;
  item.line = &kRankingLine;
  EXPECT_EQ(Check(c, item, R"({"rankings":[
      {"dimension":"clarity","order":["r2","r9","r2"]},
      {"dimension":"clarity","order":["r1","r2","r3"]},
      {"dimension":"tone","order":["r1","r2","r3"]}]})"),
            "all_ranked @ rankings[0].order[1]: 'r9' is not one of the item's responses\n"
            "all_ranked @ rankings[0].order[2]: 'r2' is ranked twice\n"
            "all_ranked @ rankings[0].order: dimension 'clarity' does not rank r1, r3\n"
            "dimensions @ rankings[1].dimension: dimension 'clarity' is ranked twice\n"
            "dimensions @ rankings[2].dimension: dimension 'tone' is not one of the project's\n"
            "all_ranked @ rankings: dimension 'accuracy' is not ranked\n");
}

TEST(RankingCheck, TiesAreAdjacentGroupsWhenAllowed) {
  const char* tied = R"({"rankings":[{"dimension":"clarity","order":["r1","r2","r3"],
                          "ties":[["r2","r3"]]}]})";
  ItemView item;
  item.line = &kRankingLine;
  const ProjectConfig strict =
      Config(R"({"kind":"ranking","requirements":{"dimensions":["clarity"]}})");
  EXPECT_EQ(Check(strict, item, tied),
            "ties @ rankings[0].ties: ties are not allowed in this project: rank every response "
            "apart\n");
  const ProjectConfig loose =
      Config(R"({"kind":"ranking","requirements":{"dimensions":["clarity"],"allow_ties":true}})");
  EXPECT_EQ(Check(loose, item, tied), "");
  EXPECT_EQ(Check(loose, item, R"({"rankings":[{"dimension":"clarity","order":["r1","r2","r3"],
                                   "ties":[["r1","r3"],["r3","r2"],["r2"]]}]})"),
            "ties @ rankings[0].ties[0]: tied responses must stand next to each other in the "
            "order\n"
            "ties @ rankings[0].ties[1][0]: 'r3' is in two tie groups (or twice in one)\n"
            "shape @ rankings[0].ties[2]: expected an array of at least 2 response ids, got an "
            "array\n");
}

TEST(RankingCheck, RationaleWhenRequired) {
  const ProjectConfig c = Config(
      R"({"kind":"ranking","requirements":{"dimensions":["clarity"],"require_rationale":true}})");
  ItemView item;
  item.line = &kRankingLine;
  const std::string order = R"("rankings":[{"dimension":"clarity","order":["r1","r2","r3"]}])";
  EXPECT_EQ(Check(c, item, ("{" + order + "}").c_str()),
            "rationale @ rationale.clarity: no rationale for dimension 'clarity'\n");
  EXPECT_EQ(Check(c, item, ("{" + order + R"(,"rationale":{"clarity":" "}})").c_str()),
            "rationale @ rationale.clarity: no rationale for dimension 'clarity'\n");
  EXPECT_EQ(Check(c, item, ("{" + order + R"(,"rationale":{"clarity":3}})").c_str()),
            "shape @ rationale.clarity: expected a string, got a number\n");
  EXPECT_EQ(Check(c, item, ("{" + order + R"(,"rationale":"all good"})").c_str()),
            "shape @ rationale: expected an object {dimension: text}, got a string\n");
}

TEST(RankingCheck, WrongTypesAreShapeFailures) {
  const ProjectConfig c = Config(R"({"kind":"ranking","requirements":{"dimensions":["d"]}})");
  ItemView item;
  item.line = &kRankingLine;
  EXPECT_EQ(Check(c, item, R"({"rankings":[1,{"dimension":7},
      {"dimension":"d","order":"r1,r2","ties":5}]})"),
            "shape @ rankings[0]: expected an object {\"dimension\",\"order\",\"ties\"}, got a "
            "number\n"
            "shape @ rankings[1].dimension: expected a string, got a number\n"
            "shape @ rankings[2].order: expected an array, got a string\n"
            "all_ranked @ rankings[2].order: dimension 'd' does not rank r1, r2, r3\n"
            "shape @ rankings[2].ties: expected an array, got a number\n");
}

// ---- image-caption

TEST(ImageCaptionCheck, GoodAndBad) {
  const ProjectConfig c = Config(R"({"kind":"image-caption","requirements":{"min_objects":2,
      "min_relationships":1,"require_setting":true,"caption_words":{"min":3}}})");
  const ItemView item;
  EXPECT_EQ(Check(c, item, R"({"objects":[{"id":1,"x":0,"y":1,"name":"cat","description":"grey"},
      {"id":"2","x":0.5,"y":0.25,"name":"mat"}],
      "relationships":[{"subject":1,"object":"2","text":"sits on"}],
      "setting":"a kitchen","caption":"A grey cat sits on a mat."})"),
            "");
  EXPECT_EQ(Check(c, item, R"({"objects":[{"id":1,"x":1.5,"y":-0.1,"name":"cat"},
      {"id":1,"x":0.5,"y":"top","name":""}],
      "relationships":[{"subject":1,"object":9,"text":""}],
      "setting":"","caption":"A cat"})"),
            "coordinates @ objects[0].x: x is 1.5, expected 0 to 1 (a share of the width)\n"
            "coordinates @ objects[0].y: y is -0.1, expected 0 to 1 (a share of the height)\n"
            "unique_ids @ objects[1].id: two objects have the id '1'\n"
            "shape @ objects[1].y: expected a number, got a string\n"
            "required @ objects[1].name: the object's name is empty\n"
            "relationships @ relationships[0].object: the object '9' is not an object's id\n"
            "required @ relationships[0].text: the relationship is empty\n"
            "setting @ setting: the setting is not described\n"
            "caption_words @ caption: the caption has 2 words, expected at least 3\n");
  EXPECT_EQ(Check(c, item, "{}"),
            "min_objects @ objects: 0 objects, expected at least 2\n"
            "min_relationships @ relationships: 0 relationships, expected at least 1\n"
            "setting @ setting: the setting is not described\n"
            "required @ caption: the caption is empty\n");
}

// ---- video-caption

TEST(VideoCaptionCheck, TimeBounds) {
  const ProjectConfig c = Config(R"({"kind":"video-caption","requirements":{"min_activities":1}})");
  ItemView item;
  item.duration_seconds = 12.5;
  const char* payload = R"({"activities":[{"id":"a","start":0,"end":12.5,"text":"runs"},
      {"id":"b","start":3,"end":3,"text":"stops"},{"id":"c","start":-1,"end":2,"text":"x"},
      {"id":"d","start":2,"end":13,"text":"jumps"},{"id":"a","start":"1","text":""}],
      "caption":"A girl runs."})";
  EXPECT_EQ(Check(c, item, payload),
            "time_bounds @ activities[1]: activity from 3 s to 3 s: expected 0 <= start < end <= "
            "12.5 (the duration)\n"
            "time_bounds @ activities[2]: activity from -1 s to 2 s: expected 0 <= start < end "
            "<= 12.5 (the duration)\n"
            "time_bounds @ activities[3]: activity from 2 s to 13 s: expected 0 <= start < end "
            "<= 12.5 (the duration)\n"
            "unique_ids @ activities[4].id: two activities have the id 'a'\n"
            "shape @ activities[4].start: expected a number, got a string\n"
            "shape @ activities[4].end: expected a number, it is missing\n"
            "required @ activities[4].text: the activity's description is empty\n");
  // Unknown duration: only 0 <= start < end.
  item.duration_seconds = 0;
  const auto unknown = CheckPayload(c, item, json::parse(payload));
  ASSERT_EQ(unknown.size(), 6U);
  EXPECT_EQ(unknown[0].message, "activity from 3 s to 3 s: expected 0 <= start < end");
  EXPECT_EQ(Check(c, item, R"({"caption":"c"})"),
            "min_activities @ activities: 0 activities, expected at least 1\n");
}

TEST(Failures, AsJson) {
  const json j = FailuresJson({{"min_pairs", "0 QA pairs", "qa_pairs"}});
  EXPECT_EQ(j, json::parse(R"([{"requirement":"min_pairs","message":"0 QA pairs",
                                "path":"qa_pairs"}])"));
}

}  // namespace
}  // namespace sagebox::label
