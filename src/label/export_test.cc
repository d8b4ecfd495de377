#include "label/export.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sagebox::label {
namespace {

using nlohmann::json;

constexpr int64_t kJan1 = 1'704'067'200;  // 2024-01-01T00:00:00Z

// Runs an export and keeps every piece the sink got.
struct Rendered {
  Status status;
  std::vector<std::string> pieces;
  std::string Text() const {
    std::string all;
    for (const std::string& p : pieces) all += p;
    return all;
  }
  std::vector<json> Lines() const {
    std::vector<json> out;
    for (const std::string& p : pieces) out.push_back(json::parse(p));
    return out;
  }
};

Rendered Render(const ProjectConfig& config, const std::vector<ExportItem>& items,
                const ExportOptions& options) {
  Rendered r;
  r.status = RenderExport(config, items, options, [&](std::string_view piece) {
    r.pieces.emplace_back(piece);
    return Status::Ok();
  });
  return r;
}

ProjectConfig Config(Kind kind) {
  ProjectConfig c;
  c.kind = kind;
  if (kind == Kind::kRanking) c.requirements.dimensions = {"helpfulness", "harmlessness"};
  return c;
}

// A ranking item with responses r1..rN ("text of rN").
json RankingLine(int n) {
  json responses = json::array();
  for (int i = 1; i <= n; ++i) {
    responses.push_back({{"id", "r" + std::to_string(i)},
                         {"text", "text of r" + std::to_string(i)},
                         {"model", "m"}});
  }
  return {{"source", "p"}, {"prompt", "Why is the sky blue?"}, {"responses", responses}};
}

// One annotator's payload: the same order (and ties) on every dimension given.
json Ranking(const std::vector<std::string>& order, const json& ties = json::array(),
             const std::vector<std::string>& dims = {"helpfulness", "harmlessness"}) {
  json rankings = json::array();
  for (const std::string& d : dims) {
    rankings.push_back({{"dimension", d}, {"order", order}, {"ties", ties}});
  }
  return {{"rankings", rankings}};
}

ExportItem Item(int64_t id, json line, const std::vector<json>& payloads) {
  ExportItem item;
  item.id = id;
  item.line = std::move(line);
  int64_t ann = id * 100;
  for (const json& p : payloads) {
    ExportAnnotation a;
    a.id = ++ann;
    a.worker = "worker" + std::to_string(ann % 100);
    a.payload = p;
    a.created_at = kJan1;
    item.annotations.push_back(std::move(a));
  }
  return item;
}

ExportOptions Options(ExportFormat f, std::string style = "") {
  ExportOptions o;
  o.format = f;
  o.style = std::move(style);
  return o;
}

// (chosen, rejected) response numbers of TRL preference lines of one dimension.
std::vector<std::pair<std::string, std::string>> Pairs(const std::vector<json>& lines,
                                                       const std::string& dim) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const json& l : lines) {
    if (l["dimension"] != dim) continue;
    // "text of r3" → "r3"
    out.emplace_back(l["chosen"].get<std::string>().substr(8),
                     l["rejected"].get<std::string>().substr(8));
  }
  return out;
}

using PairList = std::vector<std::pair<std::string, std::string>>;

TEST(ExportNames, ParseAndNameRoundTrip) {
  for (const char* name : {"gt-manifest", "sft", "preference", "coco-captions", "activitynet"}) {
    StatusOr<ExportFormat> f = ParseExportFormat(name);
    ASSERT_TRUE(f.ok()) << name;
    EXPECT_EQ(ExportFormatName(*f), name);
  }
  StatusOr<ExportFormat> bad = ParseExportFormat("csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("coco-captions"), std::string::npos);

  EXPECT_EQ(*ParsePairPolicy("all-pairs"), PairPolicy::kAllPairs);
  EXPECT_EQ(*ParsePairPolicy("best-vs-rest"), PairPolicy::kBestVsRest);
  EXPECT_EQ(*ParsePairPolicy("adjacent"), PairPolicy::kAdjacent);
  StatusOr<PairPolicy> p = ParsePairPolicy("random");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("best-vs-rest"), std::string::npos);
}

TEST(PreferenceExport, AllPairsGivesNChoose2PerDimensionForOneAnnotator) {
  // One annotator ranks 4 responses r3 > r1 > r4 > r2 on two dimensions: 4·3/2 = 6 pairs
  // per dimension, chosen above rejected in the annotator's order.
  std::vector<ExportItem> items = {Item(7, RankingLine(4), {Ranking({"r3", "r1", "r4", "r2"})})};
  Rendered r = Render(Config(Kind::kRanking), items, Options(ExportFormat::kPreference));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::vector<json> lines = r.Lines();
  ASSERT_EQ(lines.size(), 12u);
  PairList want = {{"r3", "r1"}, {"r3", "r4"}, {"r3", "r2"},
                   {"r1", "r4"}, {"r1", "r2"}, {"r4", "r2"}};
  EXPECT_EQ(Pairs(lines, "helpfulness"), want);
  EXPECT_EQ(Pairs(lines, "harmlessness"), want);
  for (const json& l : lines) {
    EXPECT_EQ(l["prompt"], "Why is the sky blue?");
    EXPECT_EQ(l["margin"], 1.0);
    EXPECT_EQ(l["id"], 7);
  }
  // Stable key order: TRL's columns first, then ours.
  EXPECT_EQ(r.pieces[0],
            R"({"prompt":"Why is the sky blue?","chosen":"text of r3","rejected":"text of r1",)"
            R"("dimension":"helpfulness","margin":1.0,"id":7})"
            "\n");
}

TEST(PreferenceExport, TiedResponsesGiveNoPair) {
  // r2 and r3 tied: 6 − 1 = 5 pairs per dimension, none between r2 and r3.
  std::vector<ExportItem> items = {
      Item(1, RankingLine(4), {Ranking({"r1", "r2", "r3", "r4"}, json::array({{"r2", "r3"}}))})};
  Rendered r = Render(Config(Kind::kRanking), items, Options(ExportFormat::kPreference));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  PairList want = {{"r1", "r2"}, {"r1", "r3"}, {"r1", "r4"}, {"r2", "r4"}, {"r3", "r4"}};
  EXPECT_EQ(Pairs(r.Lines(), "helpfulness"), want);
  EXPECT_EQ(r.Lines().size(), 10u);
}

TEST(PreferenceExport, MajorityOfThreeAnnotatorsWithMargin) {
  // r1 vs r2: 2 votes to 1 → r1 chosen, margin (2 − 1) / 3; r1 vs r3 and r2 vs r3: 3 to 0.
  std::vector<ExportItem> items = {Item(
      1, RankingLine(3),
      {Ranking({"r1", "r2", "r3"}), Ranking({"r2", "r1", "r3"}), Ranking({"r1", "r2", "r3"})})};
  ExportOptions o = Options(ExportFormat::kPreference);
  o.dimension = "helpfulness";
  Rendered r = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::vector<json> lines = r.Lines();
  PairList want = {{"r1", "r2"}, {"r1", "r3"}, {"r2", "r3"}};
  EXPECT_EQ(Pairs(lines, "helpfulness"), want);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_DOUBLE_EQ(lines[0]["margin"].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(lines[1]["margin"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(lines[2]["margin"].get<double>(), 1.0);
}

TEST(PreferenceExport, TieInVotesOfTwoAnnotatorsDropsThePair) {
  // r1 vs r2: one vote each → dropped; r3 loses to both twice.
  std::vector<ExportItem> items = {
      Item(1, RankingLine(3), {Ranking({"r1", "r2", "r3"}), Ranking({"r2", "r1", "r3"})})};
  ExportOptions o = Options(ExportFormat::kPreference);
  o.dimension = "helpfulness";
  Rendered r = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  PairList want = {{"r1", "r3"}, {"r2", "r3"}};
  EXPECT_EQ(Pairs(r.Lines(), "helpfulness"), want);
}

TEST(PreferenceExport, BestVsRestAndAdjacentCounts) {
  std::vector<ExportItem> items = {Item(1, RankingLine(4), {Ranking({"r2", "r4", "r1", "r3"})})};
  ExportOptions o = Options(ExportFormat::kPreference);
  o.dimension = "helpfulness";
  o.pairs = PairPolicy::kBestVsRest;
  Rendered best = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(best.status.ok()) << best.status.ToString();
  PairList want_best = {{"r2", "r4"}, {"r2", "r1"}, {"r2", "r3"}};
  EXPECT_EQ(Pairs(best.Lines(), "helpfulness"), want_best);

  o.pairs = PairPolicy::kAdjacent;
  Rendered adj = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(adj.status.ok()) << adj.status.ToString();
  PairList want_adj = {{"r2", "r4"}, {"r4", "r1"}, {"r1", "r3"}};
  EXPECT_EQ(Pairs(adj.Lines(), "helpfulness"), want_adj);
}

TEST(PreferenceExport, BestVsRestSkipsPairsTheBestDoesNotWinByMajority) {
  // A: r1 > r2 > r3, B: r3 > r1 > r2. Borda: r1 3, r3 2, r2 1 → best r1 and the
  // consensus order r1, r3, r2. r1 beats r2 2–0; r1 vs r3 is 1–1 (no pair); r3 vs r2 1–1.
  std::vector<ExportItem> items = {
      Item(1, RankingLine(3), {Ranking({"r1", "r2", "r3"}), Ranking({"r3", "r1", "r2"})})};
  ExportOptions o = Options(ExportFormat::kPreference);
  o.dimension = "helpfulness";
  o.pairs = PairPolicy::kBestVsRest;
  Rendered best = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(best.status.ok());
  EXPECT_EQ(Pairs(best.Lines(), "helpfulness"), (PairList{{"r1", "r2"}}));
  o.pairs = PairPolicy::kAdjacent;  // r1–r3 and r3–r2 both tied in votes
  Rendered adj = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(adj.status.ok());
  EXPECT_TRUE(adj.pieces.empty());
}

TEST(PreferenceExport, OpenAiDpoShape) {
  std::vector<ExportItem> items = {Item(1, RankingLine(2), {Ranking({"r2", "r1"})})};
  ExportOptions o = Options(ExportFormat::kPreference, "openai");
  o.dimension = "harmlessness";
  Rendered r = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.pieces.size(), 1u);
  EXPECT_EQ(r.pieces[0],
            R"({"input":{"messages":[{"role":"user","content":"Why is the sky blue?"}]},)"
            R"("preferred_output":[{"role":"assistant","content":"text of r2"}],)"
            R"("non_preferred_output":[{"role":"assistant","content":"text of r1"}]})"
            "\n");
}

TEST(PreferenceExport, DimensionFilterAndUnknownDimension) {
  std::vector<ExportItem> items = {Item(1, RankingLine(3), {Ranking({"r1", "r2", "r3"})})};
  ExportOptions o = Options(ExportFormat::kPreference);
  o.dimension = "harmlessness";
  Rendered r = Render(Config(Kind::kRanking), items, o);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.pieces.size(), 3u);
  for (const json& l : r.Lines()) EXPECT_EQ(l["dimension"], "harmlessness");

  o.dimension = "toxicity";
  Rendered bad = Render(Config(Kind::kRanking), items, o);
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status.message().find("helpfulness"), std::string::npos);
  EXPECT_TRUE(bad.pieces.empty());
}

TEST(PreferenceExport, MalformedRankingNamesItemAndAnnotation) {
  std::vector<ExportItem> items = {Item(4, RankingLine(2), {Ranking({"r1", "r9"})})};
  Rendered r = Render(Config(Kind::kRanking), items, Options(ExportFormat::kPreference));
  EXPECT_EQ(r.status.code(), StatusCode::kBadInput);
  EXPECT_NE(r.status.message().find("item 4 annotation 401"), std::string::npos);
  EXPECT_NE(r.status.message().find("'r9'"), std::string::npos);

  std::vector<ExportItem> no_rankings = {Item(5, RankingLine(2), {json{{"rankings", 3}}})};
  Rendered r2 = Render(Config(Kind::kRanking), no_rankings, Options(ExportFormat::kPreference));
  EXPECT_EQ(r2.status.code(), StatusCode::kBadInput);
  EXPECT_NE(r2.status.message().find("item 5"), std::string::npos);
}

TEST(ExportKinds, WrongKindOrStyleIsInvalidArgument) {
  std::vector<ExportItem> none;
  struct Case {
    ExportFormat format;
    Kind kind;
    const char* style;
  };
  for (const Case& c : {Case{ExportFormat::kSft, Kind::kRanking, ""},
                        Case{ExportFormat::kPreference, Kind::kQaPairs, ""},
                        Case{ExportFormat::kCocoCaptions, Kind::kVideoCaption, ""},
                        Case{ExportFormat::kActivityNet, Kind::kImageCaption, ""},
                        Case{ExportFormat::kSft, Kind::kQaPairs, "chatml"},
                        Case{ExportFormat::kPreference, Kind::kRanking, "kto"},
                        Case{ExportFormat::kGtManifest, Kind::kRanking, "x"}}) {
    Rendered r = Render(Config(c.kind), none, Options(c.format, c.style));
    EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument)
        << ExportFormatName(c.format) << " " << KindName(c.kind) << " '" << c.style << "'";
    EXPECT_TRUE(r.pieces.empty());
  }
}

TEST(ExportSink, AFailingSinkStopsTheRender) {
  std::vector<ExportItem> items = {Item(1, RankingLine(4), {Ranking({"r1", "r2", "r3", "r4"})})};
  int calls = 0;
  Status s = RenderExport(Config(Kind::kRanking), items, Options(ExportFormat::kPreference),
                          [&](std::string_view) {
                            ++calls;
                            return calls == 2 ? IoError("disk full") : Status::Ok();
                          });
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "disk full");
  EXPECT_EQ(calls, 2);  // 12 lines were due
}

// ---- sft ----

json QaLine() { return {{"source", "The Nile is long."}, {"title", "Nile"}}; }

json QaPayload(const std::string& tag) {
  return {{"qa_pairs",
           {{{"id", tag + "1"},
             {"question", "What is long?"},
             {"answer", "The Nile" + tag},
             {"question_type", "factual"},
             {"refs_entire_passage", false},
             {"spans", {{{"start", 4}, {"end", 8}}}}},
            {{"id", tag + "2"},
             {"question", "How long?"},
             {"answer", "Long" + tag},
             {"question_type", "factual"},
             {"refs_entire_passage", true},
             {"spans", json::array()}}}}};
}

TEST(SftExport, TrlMessagesWithPassageOneLinePerPairOfEachAnnotation) {
  std::vector<ExportItem> items = {Item(3, QaLine(), {QaPayload("a"), QaPayload("b")})};
  Rendered r = Render(Config(Kind::kQaPairs), items, Options(ExportFormat::kSft));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.pieces.size(), 4u);
  EXPECT_EQ(
      r.pieces[0],
      R"({"messages":[{"role":"user","content":"The Nile is long.\n\nQuestion: What is long?"},)"
      R"({"role":"assistant","content":"The Nilea"}],"id":3})"
      "\n");
  std::vector<json> lines = r.Lines();
  EXPECT_EQ(lines[3]["messages"][1]["content"], "Longb");
}

TEST(SftExport, PromptCompletionOpenAiAndClosedBook) {
  std::vector<ExportItem> items = {Item(3, QaLine(), {QaPayload("a")})};
  Rendered pc =
      Render(Config(Kind::kQaPairs), items, Options(ExportFormat::kSft, "prompt-completion"));
  ASSERT_TRUE(pc.status.ok());
  ASSERT_EQ(pc.pieces.size(), 2u);
  EXPECT_EQ(pc.pieces[1],
            R"({"prompt":"The Nile is long.\n\nQuestion: How long?","completion":"Longa","id":3})"
            "\n");

  ExportOptions o = Options(ExportFormat::kSft, "openai");
  o.closed_book = true;
  Rendered oa = Render(Config(Kind::kQaPairs), items, o);
  ASSERT_TRUE(oa.status.ok());
  ASSERT_EQ(oa.pieces.size(), 2u);
  // OpenAI's chat format: messages and nothing else.
  EXPECT_EQ(oa.pieces[0], R"({"messages":[{"role":"user","content":"What is long?"},)"
                          R"({"role":"assistant","content":"The Nilea"}]})"
                          "\n");
}

TEST(SftExport, EscapedPassageAndQuestionSpliceIntoOneString) {
  // Quotes, backslashes, newlines and non-ASCII text on both sides of the splice.
  const std::string passage = "Er sagte: \"Grüße\"\\\n\tEnde — 東京";
  json payload = {{"qa_pairs", {{{"question", "Wer \"sagte\"?\n"}, {"answer", "Er\\"}}}}};
  std::vector<ExportItem> items = {Item(1, json{{"source", passage}}, {payload})};
  for (const char* style : {"messages", "prompt-completion"}) {
    Rendered r = Render(Config(Kind::kQaPairs), items, Options(ExportFormat::kSft, style));
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    json line = r.Lines().at(0);
    std::string user = line.contains("prompt") ? line["prompt"] : line["messages"][0]["content"];
    EXPECT_EQ(user, passage + "\n\nQuestion: Wer \"sagte\"?\n") << style;
  }
}

TEST(SftExport, PassageNeededUnlessClosedBook) {
  std::vector<ExportItem> items = {Item(9, json{{"source-ref", "docs/a.txt"}}, {QaPayload("a")})};
  Rendered r = Render(Config(Kind::kQaPairs), items, Options(ExportFormat::kSft));
  EXPECT_EQ(r.status.code(), StatusCode::kBadInput);
  EXPECT_NE(r.status.message().find("item 9"), std::string::npos);
  ExportOptions o = Options(ExportFormat::kSft);
  o.closed_book = true;
  EXPECT_TRUE(Render(Config(Kind::kQaPairs), items, o).status.ok());

  std::vector<ExportItem> bad = {Item(2, QaLine(), {json{{"qa_pairs", {{{"question", 1}}}}}})};
  Rendered rb = Render(Config(Kind::kQaPairs), bad, Options(ExportFormat::kSft));
  EXPECT_EQ(rb.status.code(), StatusCode::kBadInput);
  EXPECT_NE(rb.status.message().find("qa_pairs[0]"), std::string::npos);
}

// ---- gt-manifest ----

TEST(GtManifestExport, OneAnnotationKeepsTheLineAndAddsLabelAndMetadata) {
  ExportItem item = Item(1, QaLine(), {QaPayload("a")});
  item.annotations[0].reviewer = "rev";
  item.annotations[0].rework_rounds = 1;
  item.annotations[0].active_seconds = 95;
  item.annotations[0].created_at = kJan1 + 3723;
  ExportOptions o = Options(ExportFormat::kGtManifest);
  o.job_name = "nile-qa";
  o.label_attribute = "qa";
  Rendered r = Render(Config(Kind::kQaPairs), {item}, o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.pieces.size(), 1u);
  json line = r.Lines()[0];
  EXPECT_EQ(line["source"], "The Nile is long.");
  EXPECT_EQ(line["title"], "Nile");  // pass-through
  EXPECT_EQ(line["qa"], QaPayload("a"));
  json want_meta = {{"job-name", "nile-qa"},     {"type", "sagebox/qa-pairs"},
                    {"human-annotated", "yes"},  {"creation-date", "2024-01-01T01:02:03.000000"},
                    {"worker-ids", {"worker1"}}, {"reviewer-ids", {"rev"}},
                    {"rework-rounds", {1}},      {"active-seconds", {95}}};
  EXPECT_EQ(line["qa-metadata"], want_meta);
}

TEST(GtManifestExport, SeveralAnnotationsGiveAListAndTheLatestDate) {
  ExportItem item = Item(1, RankingLine(2), {Ranking({"r1", "r2"}), Ranking({"r2", "r1"})});
  item.annotations[1].created_at = kJan1 + 86400;
  ProjectConfig config = Config(Kind::kRanking);
  config.label_attribute = "prefs";
  ExportOptions o = Options(ExportFormat::kGtManifest);
  o.job_name = "job";
  Rendered r = Render(config, {item}, o);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  json line = r.Lines()[0];
  ASSERT_TRUE(line["prefs"].is_array());
  EXPECT_EQ(line["prefs"][1], Ranking({"r2", "r1"}));
  EXPECT_EQ(line["prefs-metadata"]["worker-ids"], json({"worker1", "worker2"}));
  EXPECT_EQ(line["prefs-metadata"]["reviewer-ids"], json({nullptr, nullptr}));
  EXPECT_EQ(line["prefs-metadata"]["creation-date"], "2024-01-02T00:00:00.000000");
  EXPECT_EQ(line["prefs-metadata"]["type"], "sagebox/ranking");
  // The line's keys are sorted: the same input gives the same bytes.
  EXPECT_EQ(r.pieces[0].substr(0, 9), R"({"prefs":)");
}

TEST(GtManifestExport, NeedsALabelAttribute) {
  std::vector<ExportItem> items = {Item(1, QaLine(), {QaPayload("a")})};
  Rendered r = Render(Config(Kind::kQaPairs), items, Options(ExportFormat::kGtManifest));
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
}

// ---- coco-captions ----

json ImagePayload(const std::string& caption) {
  return {
      {"objects", {{{"id", 1}, {"x", 0.5}, {"y", 0.4}, {"name", "dog"}, {"description", "brown"}}}},
      {"relationships", json::array()},
      {"setting", "a park"},
      {"caption", caption}};
}

TEST(CocoExport, ImagesAndOneAnnotationPerCaptionWithSageboxBlock) {
  std::vector<ExportItem> items = {
      Item(11, json{{"source-ref", "images/000000397133.jpg"}, {"width", 640}},
           {ImagePayload("A dog in a park."), ImagePayload("A brown dog.")}),
      Item(12, json{{"source-ref", "/data/cat.png"}}, {ImagePayload("A cat.")})};
  Rendered r = Render(Config(Kind::kImageCaption), items, Options(ExportFormat::kCocoCaptions));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  json doc = json::parse(r.Text());
  json want_images = {{{"id", 11}, {"file_name", "000000397133.jpg"}, {"width", 640}},
                      {{"id", 12}, {"file_name", "cat.png"}}};
  EXPECT_EQ(doc["images"], want_images);
  ASSERT_EQ(doc["annotations"].size(), 3u);
  EXPECT_EQ(doc["annotations"][0]["id"], 1101);
  EXPECT_EQ(doc["annotations"][0]["image_id"], 11);
  EXPECT_EQ(doc["annotations"][0]["caption"], "A dog in a park.");
  EXPECT_EQ(doc["annotations"][1]["caption"], "A brown dog.");
  EXPECT_EQ(doc["annotations"][2]["image_id"], 12);
  EXPECT_EQ(doc["annotations"][0]["sagebox"]["setting"], "a park");
  EXPECT_EQ(doc["annotations"][0]["sagebox"]["objects"][0]["name"], "dog");
  EXPECT_TRUE(doc["annotations"][0]["sagebox"]["relationships"].is_array());
  // Streamed: one piece per image and per annotation, plus the frame.
  EXPECT_GE(r.pieces.size(), 5u);
}

TEST(CocoExport, MissingCaptionIsBadInput) {
  std::vector<ExportItem> items = {
      Item(11, json{{"source-ref", "a.jpg"}}, {json{{"objects", json::array()}}})};
  Rendered r = Render(Config(Kind::kImageCaption), items, Options(ExportFormat::kCocoCaptions));
  EXPECT_EQ(r.status.code(), StatusCode::kBadInput);
  EXPECT_NE(r.status.message().find("caption"), std::string::npos);
}

// ---- activitynet ----

json VideoPayload(double shift) {
  return {{"activities",
           {{{"id", 2}, {"start", 5.5 + shift}, {"end", 9.0 + shift}, {"text", "She runs."}},
            {{"id", 1}, {"start", 0.0 + shift}, {"end", 4.25 + shift}, {"text", "She waits."}}}},
          {"setting", "snow"},
          {"caption", "Sintel."}};
}

TEST(ActivityNetExport, VideoIdDurationAndActivitiesSortedByStart) {
  std::vector<ExportItem> items = {
      Item(1, json{{"source-ref", "video/sintel.mp4"}, {"duration", 52.2}},
           {VideoPayload(0), VideoPayload(1)}),
      Item(2, json{{"source-ref", "video/x.mp4"}, {"id", "v_QOlSCBRmfWY"}}, {VideoPayload(0)})};
  Rendered r = Render(Config(Kind::kVideoCaption), items, Options(ExportFormat::kActivityNet));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  json doc = json::parse(r.Text());
  json want = {{"sintel",
                {{"duration", 52.2},
                 {"timestamps", {{0.0, 4.25}, {5.5, 9.0}}},
                 {"sentences", {"She waits.", "She runs."}}}},
               {"v_QOlSCBRmfWY",
                {{"duration", 9.0},  // no duration on the line: the last end
                 {"timestamps", {{0.0, 4.25}, {5.5, 9.0}}},
                 {"sentences", {"She waits.", "She runs."}}}}};
  EXPECT_EQ(doc, want);
}

TEST(ActivityNetExport, DuplicateVideoIdRefusedBeforeAnyOutput) {
  std::vector<ExportItem> items = {Item(1, json{{"source-ref", "a/clip.mp4"}}, {VideoPayload(0)}),
                                   Item(2, json{{"source-ref", "b/clip.webm"}}, {VideoPayload(0)})};
  Rendered r = Render(Config(Kind::kVideoCaption), items, Options(ExportFormat::kActivityNet));
  EXPECT_EQ(r.status.code(), StatusCode::kBadInput);
  EXPECT_NE(r.status.message().find("'clip'"), std::string::npos);
  EXPECT_TRUE(r.pieces.empty());
}

}  // namespace
}  // namespace sagebox::label
