#include "label/manifest.h"

#include <gtest/gtest.h>

#include <string>

#include "core/testing/temp_dir.h"

namespace sagebox::label {
namespace {

using nlohmann::json;

std::string TestData(const std::string& name) {
  return std::string(SAGEBOX_TESTDATA) + "/label/" + name;
}

std::string Read(const std::string& path) {
  std::string text;
  Status s = Env::Default()->ReadFileToString(path, &text);
  EXPECT_TRUE(s.ok()) << s.message();
  return text;
}

ProjectConfig Config(const char* text) {
  auto c = ParseProjectConfig(json::parse(text), "test");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : ProjectConfig();
}

// `text` on one line: the tests write long JSON Lines over several source lines.
std::string OneLine(std::string text) {
  for (char& ch : text) ch = ch == '\n' ? ' ' : ch;
  return text;
}

// The BadInput message of parsing `text` (one line) as "in/m.jsonl"; "" when it parses.
std::string Error(const ProjectConfig& c, const std::string& text) {
  auto m = ParseManifest(Env::Default(), text, "in/m.jsonl", c);
  if (m.ok()) return "";
  EXPECT_EQ(m.status().code(), StatusCode::kBadInput);
  return m.status().message();
}

// ---- ParseManifest

TEST(ParseManifest, QaPairsLinesWithPassThroughAndGold) {
  const ProjectConfig c = Config("{}");
  const std::string text =
      "{\"source\":\"The cat sat.\",\"topic\":\"pets\"}\n"
      "\n"
      "   \r\n"
      "{\"source\":\"Dogs bark.\",\"gold\":{\"qa_pairs\":[{\"id\":1,\"question\":\"Who barks?\","
      "\"answer\":\"Dogs\",\"spans\":[{\"start\":0,\"end\":4}]}]}}\r\n";
  auto m = ParseManifest(Env::Default(), text, "in/m.jsonl", c);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 2U);
  EXPECT_EQ((*m)[0].line_no, 1);
  EXPECT_EQ((*m)[0].source_text, "The cat sat.");
  EXPECT_EQ((*m)[0].line["topic"], "pets");
  EXPECT_FALSE((*m)[0].gold.has_value());
  EXPECT_EQ((*m)[1].line_no, 4);  // blank lines count
  ASSERT_TRUE((*m)[1].gold.has_value());
  EXPECT_EQ((*(*m)[1].gold)["qa_pairs"][0]["answer"], "Dogs");
  EXPECT_FALSE((*m)[1].line.contains("gold"));  // not passed through
}

TEST(ParseManifest, BadLinesNameFileAndLine) {
  const ProjectConfig qa = Config("{}");
  EXPECT_EQ(Error(qa, "{\"source\":\"ok\"}\n{\"source\": tru}\n"),
            "in/m.jsonl:2: not JSON: parse error at line 1, column 15: syntax error while parsing "
            "value - invalid literal; last read: '\"source\": tru}'");
  EXPECT_EQ(Error(qa, "[1,2]"), "in/m.jsonl:1: expected a JSON object, got an array");
  EXPECT_EQ(Error(qa, "{\"text\":\"x\"}"),
            "in/m.jsonl:1: a qa-pairs line needs `source` (the passage text)");
  EXPECT_EQ(Error(qa, "{\"source\":\"x\",\"source-ref\":\"a.txt\"}"),
            "in/m.jsonl:1: both source and source-ref: a line has one or the other");
  EXPECT_EQ(Error(qa, "{\"source\":5}"),
            "in/m.jsonl:1: source: expected a string (the text), got a number");
  EXPECT_EQ(Error(qa, "{\"source\":\" \"}"), "in/m.jsonl:1: source: the passage is empty");
  EXPECT_EQ(Error(qa, "{\"source\":\"x\",\"duration\":-3}"),
            "in/m.jsonl:1: duration: expected a number of seconds >= 0, got -3");
  EXPECT_EQ(Error(qa, ""), "in/m.jsonl: the manifest has no items (no non-blank line)");
  EXPECT_EQ(Error(qa, "\n \n"), "in/m.jsonl: the manifest has no items (no non-blank line)");
  // A gold payload is checked against the project's requirements.
  EXPECT_EQ(Error(qa,
                  "{\"source\":\"abc\",\"gold\":{\"qa_pairs\":[{\"id\":1,\"question\":\"q\","
                  "\"answer\":\"a\",\"spans\":[{\"start\":0,\"end\":9}]}]}}"),
            "in/m.jsonl:1: gold: the gold payload fails the project's checks: span_bounds at "
            "qa_pairs[0].spans[0]: span 0..9 is not within the passage: expected 0 <= start < "
            "end <= 3 (code points)");
}

TEST(ParseManifest, RefusesGroundTruthS3Refs) {
  // A real Ground Truth output manifest: its media are s3:// URLs.
  const std::string path = TestData("output.manifest");
  const ProjectConfig image = Config(R"({"kind":"image-caption"})");
  auto m = ParseManifest(Env::Default(), Read(path), path, image);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(m.status().message(),
            path +
                ":1: source-ref 's3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg' is a remote s3:// "
                "URL, which sagebox cannot fetch; copy the media next to the manifest (e.g. `aws "
                "s3 cp`) and refer to it by its local path");
  EXPECT_EQ(Error(image, "{\"source-ref\":\"https://example.com/a.jpg\"}").substr(0, 73),
            "in/m.jsonl:1: source-ref 'https://example.com/a.jpg' is a remote https://");
  // Its second line is text: an image project wants media.
  EXPECT_EQ(Error(image, "{\"source\":\"The food was delicious\"}"),
            "in/m.jsonl:1: an image-caption line needs `source-ref` (the path of the media file)");
}

TEST(ParseManifest, LocalSourceRefsResolveAgainstTheManifestFolder) {
  testing::TempDir dir("label_manifest");
  ASSERT_TRUE(Env::Default()->CreateDirs(dir.Path("media")).ok());
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("media/clip.mp4"), "not really").ok());
  const ProjectConfig video = Config(R"({"kind":"video-caption"})");
  const std::string manifest = dir.Path("m.jsonl");
  const std::string text =
      "{\"source-ref\":\"media/clip.mp4\",\"duration\":12.5}\n"
      "{\"source-ref\":\"" +
      dir.Path("media/clip.mp4") + "\"}\n";
  auto m = ParseManifest(Env::Default(), text, manifest, video);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->size(), 2U);
  EXPECT_EQ((*m)[0].media_path, dir.Path("media/clip.mp4"));
  EXPECT_EQ((*m)[0].duration_seconds, 12.5);
  EXPECT_EQ((*m)[1].media_path, dir.Path("media/clip.mp4"));  // absolute kept
  auto missing =
      ParseManifest(Env::Default(), "{\"source-ref\":\"media/gone.mp4\"}", manifest, video);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), manifest +
                                            ":1: source-ref 'media/gone.mp4': no such file "
                                            "(looked for " +
                                            dir.Path("media/gone.mp4") + ")");
  auto folder = ParseManifest(Env::Default(), "{\"source-ref\":\"media\"}", manifest, video);
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find(":1: source-ref 'media': no such file"),
            std::string::npos);
  // A gold video payload is checked against the line's duration.
  auto gold = ParseManifest(
      Env::Default(),
      "{\"source-ref\":\"media/clip.mp4\",\"duration\":10,\"gold\":{\"activities\":[{\"id\":1,"
      "\"start\":2,\"end\":11,\"text\":\"runs\"}],\"caption\":\"A run.\"}}",
      manifest, video);
  ASSERT_FALSE(gold.ok());
  EXPECT_EQ(gold.status().message(),
            manifest +
                ":1: gold: the gold payload fails the project's checks: time_bounds at "
                "activities[0]: activity from 2 s to 11 s: expected 0 <= start < end <= 10 (the "
                "duration)");
}

TEST(ParseManifest, RankingLines) {
  const ProjectConfig any = Config(R"({"kind":"ranking","requirements":{"dimensions":["d"]}})");
  const ProjectConfig three =
      Config(R"({"kind":"ranking","responses":3,"requirements":{"dimensions":["d"]}})");
  const std::string two =
      R"({"prompt":"Hi","responses":[{"id":"a","text":"x","model":"m1"},{"id":"b","text":"y"}]})";
  auto m = ParseManifest(Env::Default(), two, "r.jsonl", any);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)[0].line["responses"][1]["id"], "b");
  EXPECT_EQ(Error(three, two),
            "in/m.jsonl:1: responses: 2 responses, the project ranks 3 per item");
  EXPECT_EQ(Error(any, R"({"responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}]})"),
            "in/m.jsonl:1: a ranking line needs `prompt`, a non-empty string");
  EXPECT_EQ(Error(any, R"({"prompt":"Hi","responses":{}})"),
            "in/m.jsonl:1: a ranking line needs `responses`, an array of {\"id\",\"text\"}");
  EXPECT_EQ(Error(any, R"({"prompt":"Hi","responses":[{"id":"a","text":"x"}]})"),
            "in/m.jsonl:1: responses: 1 response(s), a ranking needs at least 2");
  EXPECT_EQ(
      Error(any, R"({"prompt":"Hi","responses":[{"id":"a","text":"x"},{"id":"a","text":"y"}]})"),
      "in/m.jsonl:1: responses[1].id: 'a' is used by two responses");
  EXPECT_EQ(
      Error(any, R"({"prompt":"Hi","responses":[{"id":"","text":"x"},{"id":"b","text":"y"}]})"),
      "in/m.jsonl:1: responses[0].id: expected a non-empty string");
  EXPECT_EQ(Error(any, R"({"prompt":"Hi","responses":[{"id":"a"},{"id":"b","text":"y"}]})"),
            "in/m.jsonl:1: responses[0].text: expected a string");
  EXPECT_EQ(
      Error(
          any,
          R"({"prompt":"Hi","responses":[{"id":"a","text":"x","model":1},{"id":"b","text":"y"}]})"),
      "in/m.jsonl:1: responses[0].model: expected a string, got a number");
  // A gold ranking is checked against the line's own responses.
  EXPECT_EQ(
      Error(any,
            OneLine(R"({"prompt":"Hi","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"}],
                          "gold":{"rankings":[{"dimension":"d","order":["a","c"]}]}})")),
      "in/m.jsonl:1: gold: the gold payload fails the project's checks: all_ranked at "
      "rankings[0].order[1]: 'c' is not one of the item's responses; all_ranked at "
      "rankings[0].order: dimension 'd' does not rank b");
}

// ---- ConvertOasstTrees

TEST(ConvertOasstTrees, RealTrees) {
  // The first 5 of the 100 English OpenAssistant trees: 11 prompter messages with ≥ 2
  // ranked assistant replies (counted independently with Python over the same lines).
  const std::string path = TestData("oasst_en_5_tree.jsonl");
  auto items = ConvertOasstTrees(Read(path), path);
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 11U);
  const json& first = (*items)[0];
  EXPECT_EQ(first["prompt"], "How can I find the best 401k plan for my needs?");
  EXPECT_EQ(first["message_tree_id"], "054e1df3-35e0-4bb8-a585-607dbdcd24e0");
  EXPECT_EQ(first["message_id"], "054e1df3-35e0-4bb8-a585-607dbdcd24e0");
  EXPECT_EQ(first["human_ranks"], json::parse(R"({"fa783ef0-4f4e-457d-b429-afd89edf8757":0,
      "03334b2a-f315-4a0d-b9ff-ac94e017e266":1,"8f5fa95e-0185-4960-a9c3-89382210cd6c":2})"));
  ASSERT_EQ(first["responses"].size(), 3U);
  // Sorted by message id, not by rank.
  EXPECT_EQ(first["responses"][0]["id"], "03334b2a-f315-4a0d-b9ff-ac94e017e266");
  EXPECT_EQ(first["responses"][2]["id"], "fa783ef0-4f4e-457d-b429-afd89edf8757");
  EXPECT_EQ(first["responses"][0]["model"], "chip20b");
  EXPECT_FALSE(first["responses"][0]["text"].get<std::string>().empty());
  EXPECT_FALSE(first.contains("history"));
  // The third is a follow-up two turns down its tree.
  const json& third = (*items)[2];
  EXPECT_EQ(third["prompt"], "Are blue light blocking glasses also effective?");
  ASSERT_EQ(third["history"].size(), 2U);
  EXPECT_EQ(third["history"][0]["role"], "prompter");
  EXPECT_EQ(third["history"][1]["role"], "assistant");
  // Every item imports into a ranking project.
  std::string manifest;
  for (const json& item : *items) manifest += item.dump() + "\n";
  const ProjectConfig c = Config(R"({"kind":"ranking","requirements":{"dimensions":["overall"]}})");
  auto lines = ParseManifest(Env::Default(), manifest, "oasst.jsonl", c);
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  EXPECT_EQ(lines->size(), 11U);
}

TEST(ConvertOasstTrees, MalformedTrees) {
  auto error = [](const std::string& text) {
    auto r = ConvertOasstTrees(OneLine(text), "t.jsonl");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
    return r.status().message();
  };
  const std::string reply0 = R"({"message_id":"r0","role":"assistant","text":"x","rank":0})";
  EXPECT_EQ(ConvertOasstTrees("\n{\"message_tree_id\":\"t\"\n", "t.jsonl").status().message(),
            "t.jsonl:2: not JSON: parse error at line 1, column 23: syntax error while parsing "
            "object - unexpected end of input; expected '}'");
  EXPECT_EQ(error("{\"prompt\":{}}"), "t.jsonl:1: message_tree_id: expected a string");
  EXPECT_EQ(error("{\"message_tree_id\":\"t\"}"),
            "t.jsonl:1: prompt: expected the tree's root message, got nothing");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter"}})"),
            "t.jsonl:1: prompt.text: expected a string, got nothing");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter",
      "text":"q","replies":[)" +
                  reply0 + R"(,{"message_id":"r1","role":"assistant","text":"y","rank":"1"}]}})"),
            "t.jsonl:1: prompt.replies[1].rank: expected an integer >= 0 (0 = best), got \"1\"");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter",
      "text":"q","replies":[)" +
                  reply0 + "," + reply0 + "]}}"),
            "t.jsonl:1: prompt.replies[1].message_id: 'r0' is used by two replies");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter",
      "text":"q","replies":[{"message_id":"r","role":"assistant","text":"y","replies":[7]}]}})"),
            "t.jsonl:1: prompt.replies[0].replies[0]: expected a message object, got a number");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter",
      "text":"","replies":[)" +
                  reply0 + R"(,{"message_id":"r1","role":"assistant","text":"y","rank":1}]}})"),
            "t.jsonl:1: prompt.text: the prompt of a ranked reply is empty");
  EXPECT_EQ(error(R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter",
      "text":"q","replies":[)" +
                  reply0 + R"(,{"message_id":"","role":"assistant","text":"y","rank":1}]}})"),
            "t.jsonl:1: prompt.replies[1].message_id: expected a non-empty string");
  // A tree deeper than the cap is refused, not a stack overflow.
  std::string deep = R"({"message_tree_id":"t","prompt":)";
  for (int i = 0; i < 300; ++i)
    deep += R"({"message_id":"m","role":"prompter","text":"q","replies":[)";
  deep += "{}";
  for (int i = 0; i < 300; ++i) deep += "]}";
  deep += "}";
  EXPECT_NE(error(deep).find("the tree is deeper than 200 messages"), std::string::npos);
}

TEST(ConvertOasstTrees, UnrankedAndDeletedRepliesAreLeftOut) {
  auto items = ConvertOasstTrees(
      OneLine(
          R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter","text":"q",
          "replies":[{"message_id":"a","role":"assistant","text":"1","rank":1},
                     {"message_id":"b","role":"assistant","text":"2"},
                     {"message_id":"c","role":"assistant","text":"3","rank":0,"deleted":true},
                     {"message_id":"d","role":"assistant","text":"4","rank":2}]}})"),
      "t.jsonl");
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 1U);
  EXPECT_EQ((*items)[0]["human_ranks"], json::parse(R"({"a":1,"d":2})"));
  EXPECT_EQ((*items)[0]["responses"].size(), 2U);
  EXPECT_EQ((*items)[0]["responses"][0]["model"], "");
  // One ranked reply is not a ranking.
  auto one = ConvertOasstTrees(
      OneLine(
          R"({"message_tree_id":"t","prompt":{"message_id":"p","role":"prompter","text":"q",
          "replies":[{"message_id":"a","role":"assistant","text":"1","rank":0}]}})"),
      "t.jsonl");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->empty());
}

// ---- ConvertSquad

TEST(ConvertSquad, XquadOneItemPerParagraph) {
  // The first 2 of XQuAD's 48 English articles, 5 paragraphs each.
  const std::string path = TestData("xquad.en.first2.json");
  auto items = ConvertSquad(Read(path), path);
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 10U);
  const json& first = (*items)[0];
  EXPECT_EQ(first["title"], "Super_Bowl_50");
  EXPECT_EQ(first["paragraph"], 0);
  EXPECT_EQ(first["source"].get<std::string>().substr(0, 45),
            "The Panthers defense gave up just 308 points,");
  ASSERT_EQ(first["reference_qas"].size(), 14U);
  EXPECT_EQ(first["reference_qas"][0]["answers"][0]["text"], "308");
  EXPECT_EQ((*items)[5]["title"], "Warsaw");
  EXPECT_EQ((*items)[9]["paragraph"], 4);
  // They import into a qa-pairs project.
  std::string manifest;
  for (const json& item : *items) manifest += item.dump() + "\n";
  auto lines = ParseManifest(Env::Default(), manifest, "xquad.jsonl", Config("{}"));
  ASSERT_TRUE(lines.ok()) << lines.status().message();
  EXPECT_EQ(lines->size(), 10U);
  EXPECT_EQ((*lines)[9].line["title"], "Warsaw");
}

TEST(ConvertSquad, Squad2FixtureKeepsUnanswerableQuestions) {
  const std::string path = TestData("allennlp_squad2_fixture.json");
  auto items = ConvertSquad(Read(path), path);
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 2U);
  EXPECT_EQ((*items)[0]["title"], "University_of_Notre_Dame");
  ASSERT_EQ((*items)[0]["reference_qas"].size(), 3U);
  EXPECT_EQ((*items)[0]["reference_qas"][0]["is_impossible"], true);
  EXPECT_EQ((*items)[1]["paragraph"], 1);
}

TEST(ConvertSquad, MalformedFilesNameThePath) {
  auto error = [](const std::string& text) {
    auto r = ConvertSquad(text, "s.json");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
    return r.status().message();
  };
  EXPECT_EQ(error("{\"data\": [}").substr(0, 51),
            "s.json: not JSON: parse error at line 1, column 11:");
  EXPECT_EQ(error("[]"), "s.json: (top): expected an object {\"data\": [...]}");
  EXPECT_EQ(error("{\"version\":\"1.1\"}"), "s.json: data: expected an array of articles");
  EXPECT_EQ(error(R"({"data":[{"title":"A","paragraphs":[]},{"title":"B"}]})"),
            "s.json: data[1].paragraphs: expected an array of paragraphs");
  EXPECT_EQ(error(R"({"data":[{"title":"A","paragraphs":[{"context":"x"},{"context":3}]}]})"),
            "s.json: data[0].paragraphs[1].context: expected a string (the passage)");
  EXPECT_EQ(error(R"({"data":[{"title":7,"paragraphs":[]}]})"),
            "s.json: data[0].title: expected a string, got a number");
  EXPECT_EQ(error(R"({"data":[{"paragraphs":[{"context":"x","qas":{}}]}]})"),
            "s.json: data[0].paragraphs[0].qas: expected an array, got an object");
}

}  // namespace
}  // namespace sagebox::label
