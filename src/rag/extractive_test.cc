#include "rag/extractive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace sagebox::rag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Passages copied from the SageMaker Python SDK's docs (PROVENANCE.md there).
std::string Passage(const std::string& name) {
  const std::string path = std::string(SAGEBOX_TESTDATA) + "/retrieval/rag/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Answer AnswerOk(std::string_view q, const std::vector<std::string>& passages,
                const ExtractiveOptions& o = {}) {
  auto a = ExtractiveAnswer(q, passages, o);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? *a : Answer{};
}

// The sentence with the highest score.
const AnswerSentence& Best(const Answer& a) {
  return *std::max_element(
      a.sentences.begin(), a.sentences.end(),
      [](const AnswerSentence& x, const AnswerSentence& y) { return x.score < y.score; });
}

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
// code points above U+10FFFF).
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// The invariants every answer keeps.
void CheckInvariants(const Answer& a, const std::vector<std::string>& passages,
                     const ExtractiveOptions& o) {
  if (a.no_answer) {
    EXPECT_EQ(a.text, kNoAnswerText);
    EXPECT_THAT(a.sentences, IsEmpty());
    EXPECT_THAT(a.cited, IsEmpty());
    return;
  }
  ASSERT_FALSE(a.sentences.empty());
  EXPECT_LE(a.sentences.size(), static_cast<size_t>(o.max_sentences));
  std::vector<size_t> cited;
  for (size_t i = 0; i < a.sentences.size(); ++i) {
    const AnswerSentence& s = a.sentences[i];
    ASSERT_LT(s.passage, passages.size());
    ASSERT_LT(s.begin, s.end);
    ASSERT_LE(s.end, passages[s.passage].size());
    EXPECT_EQ(s.text, passages[s.passage].substr(s.begin, s.end - s.begin));
    EXPECT_TRUE(ValidUtf8(s.text) || !ValidUtf8(passages[s.passage])) << s.text;
    EXPECT_GT(s.score, 0);
    if (i > 0) {
      const AnswerSentence& p = a.sentences[i - 1];
      EXPECT_TRUE(p.passage < s.passage || (p.passage == s.passage && p.end <= s.begin));
    }
    if (cited.empty() || cited.back() != s.passage) cited.push_back(s.passage);
    EXPECT_THAT(a.text, HasSubstr("[" + std::to_string(s.passage + 1) + "]"));
  }
  EXPECT_EQ(a.cited, cited);
  EXPECT_TRUE(ValidUtf8(a.text) || std::any_of(passages.begin(), passages.end(),
                                               [](const std::string& p) { return !ValidUtf8(p); }));
}

TEST(ContentTermsTest, StemsDropsStopWordsAndSplitsIdentifiers) {
  auto t = ContentTerms("What's the default MemorySizeInMB of instance_type? Deploying models");
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(*t,
              ElementsAre("default", "memori", "size", "mb", "instanc", "type", "deploy", "model"));
  auto cjk = ContentTerms("部署模型 MBConfig");
  ASSERT_TRUE(cjk.ok());
  EXPECT_THAT(*cjk, ElementsAre("部", "署", "模", "型", "mb", "config"));
  auto stop = ContentTerms("What is it? Who are they?");
  ASSERT_TRUE(stop.ok());
  EXPECT_THAT(*stop, IsEmpty());
}

TEST(ExtractiveTest, ServerlessDefaultMemory) {
  const std::vector<std::string> passages = {
      Passage("serverless_inference.rst"), Passage("local_mode.rst"), Passage("debugger_hook.rst")};
  const ExtractiveOptions o;
  const Answer a = AnswerOk("What is the default memory size of a serverless endpoint?", passages);
  CheckInvariants(a, passages, o);
  ASSERT_FALSE(a.no_answer);
  EXPECT_EQ(Best(a).passage, 0U);
  EXPECT_THAT(Best(a).text, HasSubstr("the default ``MemorySizeInMB`` will be **2048**"));
  EXPECT_THAT(a.text, HasSubstr("**2048** and the default ``MaxConcurrency`` will be **5** : [1]"));
}

TEST(ExtractiveTest, LocalModeEndpointsCiteTheSecondPassage) {
  const std::vector<std::string> passages = {
      Passage("debugger_hook.rst"), Passage("local_mode.rst"), Passage("serverless_inference.rst")};
  const Answer a = AnswerOk("How many local mode endpoints can run at a time?", passages);
  CheckInvariants(a, passages, {});
  ASSERT_FALSE(a.no_answer);
  EXPECT_EQ(Best(a).passage, 1U);
  EXPECT_EQ(Best(a).text, "Only one local mode endpoint can be running at a time.");
  EXPECT_THAT(a.text, HasSubstr("Only one local mode endpoint can be running at a time. [2]"));
}

TEST(ExtractiveTest, InstallDependenciesForLocalMode) {
  const std::vector<std::string> passages = {Passage("local_mode.rst"),
                                             Passage("serverless_inference.rst")};
  const Answer a = AnswerOk("How do I install the dependencies for local mode?", passages);
  CheckInvariants(a, passages, {});
  // The command (a literal block line) scores best: short, and holds
  // "install" and "local"; the sentence introducing it comes right before.
  EXPECT_EQ(Best(a).text, "pip install 'sagemaker[local]' --upgrade");
  EXPECT_THAT(a.text, HasSubstr("You can install all necessary for this feature dependencies "
                                "using pip: [1] pip install 'sagemaker[local]' --upgrade [1]"));
}

TEST(ExtractiveTest, DebuggerHookKeepsTheIeSentenceWhole) {
  const std::vector<std::string> passages = {Passage("serverless_inference.rst"),
                                             Passage("debugger_hook.rst")};
  const Answer a = AnswerOk("What data does the debugging hook emit during training?", passages);
  CheckInvariants(a, passages, {});
  EXPECT_EQ(Best(a).passage, 1U);
  EXPECT_THAT(Best(a).text, ::testing::StartsWith("To enable data emission for debugging"));
  EXPECT_THAT(Best(a).text,
              ::testing::EndsWith("emits data necessary for debugging, i.e. tensors."));
}

TEST(ExtractiveTest, NoSharedWordMeansNoAnswer) {
  const std::vector<std::string> passages = {Passage("serverless_inference.rst"),
                                             Passage("local_mode.rst")};
  for (const char* q : {"Who won the football world cup?", "What is it?", "", "???"}) {
    const Answer a = AnswerOk(q, passages);
    EXPECT_TRUE(a.no_answer) << q;
    EXPECT_EQ(a.text, kNoAnswerText) << q;
    EXPECT_THAT(a.sentences, IsEmpty()) << q;
    EXPECT_THAT(a.cited, IsEmpty()) << q;
  }
  EXPECT_TRUE(AnswerOk("serverless endpoint", {}).no_answer);
  // A word found only in a title is no answer either: titles are not sentences.
  EXPECT_TRUE(AnswerOk("zebra", {"Zebra\n=====\n\nNothing here."}).no_answer);
}

TEST(ExtractiveTest, OrderCitationsAndTies) {
  const std::vector<std::string> passages = {
      "Cats sleep. Dogs bark loudly at night.",
      "Dogs bark. Birds sing. Dogs bark and dogs run.",
  };
  ExtractiveOptions o;
  o.rank_bonus = 0;
  const Answer a = AnswerOk("Why do dogs bark?", passages, o);
  CheckInvariants(a, passages, o);
  // Every sentence with "dogs bark" scores the same: the earlier passage and
  // position win ties, and the answer lists them in passage, then text order.
  ASSERT_EQ(a.sentences.size(), 3U);
  EXPECT_EQ(a.text, "Dogs bark loudly at night. [1] Dogs bark. [2] Dogs bark and dogs run. [2]");
  EXPECT_THAT(a.cited, ElementsAre(0U, 1U));

  o.max_sentences = 1;
  const Answer one = AnswerOk("Why do dogs bark?", {"Birds sing. Dogs bark. Dogs bark twice."}, o);
  EXPECT_EQ(one.text, "Dogs bark. [1]");
}

TEST(ExtractiveTest, RankBonusBreaksNearTies) {
  // "cat" is rarer than "dog" (idf), so passage 1 wins without the bonus...
  const std::vector<std::string> passages = {"The dog sleeps.", "The cat sleeps.",
                                             "A dog and a dog."};
  ExtractiveOptions o;
  o.max_sentences = 1;
  o.rank_bonus = 0;
  EXPECT_EQ(AnswerOk("dog or cat?", passages, o).text, "The cat sleeps. [2]");
  // ... equal weights once "cat" is as common, and then rank decides.
  const std::vector<std::string> even = {"The dog sleeps.", "The cat sleeps."};
  EXPECT_EQ(AnswerOk("dog or cat?", even, o).text, "The dog sleeps. [1]");
  o.rank_bonus = 0.25;
  EXPECT_EQ(AnswerOk("cat or dog?", even, o).text, "The dog sleeps. [1]");
}

TEST(ExtractiveTest, RepeatedSentencesOfOverlappingChunksAreTakenOnce) {
  const std::vector<std::string> passages = {"Alpha beta gamma. Gamma\n delta.",
                                             "Gamma delta. Other text."};
  const Answer a = AnswerOk("gamma delta", passages);
  CheckInvariants(a, passages, {});
  EXPECT_EQ(a.text, "Alpha beta gamma. [1] Gamma delta. [1]");
}

TEST(ExtractiveTest, CharacterBudgetSkipsLongSentencesAfterTheFirst) {
  ExtractiveOptions o;
  o.max_chars = 40;
  const std::vector<std::string> passages = {
      "Kafka stores events durably. Kafka partitions scale out across many brokers in a "
      "cluster of machines. Kafka is fast."};
  const Answer a = AnswerOk("kafka partitions events scale", passages, o);
  CheckInvariants(a, passages, o);
  // The best (second) sentence alone is over budget: it is cut at a word and
  // nothing else fits.
  ASSERT_EQ(a.sentences.size(), 1U);
  EXPECT_TRUE(a.sentences[0].truncated);
  EXPECT_EQ(a.sentences[0].text, "Kafka partitions scale out across many");
  EXPECT_EQ(a.text, "Kafka partitions scale out across many… [1]");

  o.max_chars = 60;
  const Answer b = AnswerOk("kafka events fast", passages, o);
  // "Kafka stores events durably." (28) and "Kafka is fast." (14) fit; the
  // long one (78) is skipped.
  EXPECT_EQ(b.text, "Kafka stores events durably. [1] Kafka is fast. [1]");
}

TEST(ExtractiveTest, TruncationNeverCutsACodePoint) {
  // No spaces: the cut falls between characters, never inside one.
  const std::string cjk = "模型部署需要配置端点和实例类型以及内存大小还有并发数量的上限设置。";
  const std::string accents = "Ééééééééééééééééééééééééééééééééé modèle déployé ééééééé.";
  for (const std::string& p : {cjk, accents}) {
    for (size_t budget : {20U, 21U, 22U, 23U}) {
      ExtractiveOptions o;
      o.max_chars = budget;
      const Answer a = AnswerOk("模型 modèle", {p}, o);
      CheckInvariants(a, {p}, o);
      ASSERT_EQ(a.sentences.size(), 1U);
      EXPECT_TRUE(a.sentences[0].truncated);
      EXPECT_TRUE(ValidUtf8(a.sentences[0].text)) << budget;
      EXPECT_LE(CodePoints(a.sentences[0].text), budget);
      EXPECT_GE(CodePoints(a.sentences[0].text), budget / 2);
    }
  }
}

TEST(ExtractiveTest, BadOptionsAreInvalidArgument) {
  ExtractiveOptions o;
  o.max_sentences = 0;
  EXPECT_EQ(ExtractiveAnswer("q", {"q."}, o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.max_chars = 5;
  EXPECT_THAT(ExtractiveAnswer("q", {"q."}, o).status().message(), HasSubstr("max_chars"));
  o = {};
  o.rank_bonus = -1;
  EXPECT_THAT(ExtractiveAnswer("q", {"q."}, o).status().message(), HasSubstr("rank_bonus"));
}

// Random passages built from words, multi-byte text, punctuation and markup:
// every answer keeps the invariants, and the same input gives the same answer.
TEST(ExtractiveTest, PropertyRandomPassages) {
  const std::vector<std::string> pieces = {"model",
                                           "endpoint",
                                           "Deploy",
                                           "instance",
                                           "type",
                                           "é",
                                           "déployé",
                                           "模型",
                                           "。",
                                           "！",
                                           ". ",
                                           "? ",
                                           "! ",
                                           "... ",
                                           "… ",
                                           "e.g. ",
                                           "Dr. ",
                                           "3.14",
                                           "v2.1.0",
                                           "http://a.b/c.d ",
                                           "`code. X`",
                                           "``x``",
                                           "\n",
                                           "\n\n",
                                           "\n- ",
                                           "\n# ",
                                           "\n```\n",
                                           "\n::\n\n    ",
                                           " ",
                                           "  ",
                                           "|",
                                           "=====",
                                           "😀",
                                           "\xC3",
                                           "MemorySizeInMB",
                                           "instance_type",
                                           "(",
                                           ")",
                                           "\"",
                                           "A. "};
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1);
  std::uniform_int_distribution<int> len(0, 60);
  std::uniform_int_distribution<int> count(0, 5);
  for (int iter = 0; iter < 400; ++iter) {
    std::vector<std::string> passages(static_cast<size_t>(count(rng)));
    for (std::string& p : passages) {
      for (int k = len(rng); k > 0; --k) p += pieces[piece(rng)];
    }
    std::string q;
    for (int k = count(rng); k > 0; --k) q += pieces[piece(rng)] + " ";
    ExtractiveOptions o;
    o.max_sentences = 1 + iter % 4;
    o.max_chars = 20 + static_cast<size_t>(iter % 7) * 15;
    o.rank_bonus = (iter % 3) * 0.5;
    const Answer a = AnswerOk(q, passages, o);
    SCOPED_TRACE("iteration " + std::to_string(iter) + " question \"" + q + "\"");
    CheckInvariants(a, passages, o);
    size_t chars = 0;
    for (const AnswerSentence& s : a.sentences) chars += CodePoints(s.text);
    // The budget counts white space runs as one: raw texts may exceed it only
    // by their extra white space.
    if (!a.no_answer) {
      size_t extra = 0;
      for (const AnswerSentence& s : a.sentences) {
        for (size_t i = 1; i < s.text.size(); ++i) {
          if (isspace(static_cast<unsigned char>(s.text[i])) &&
              isspace(static_cast<unsigned char>(s.text[i - 1]))) {
            ++extra;
          }
        }
      }
      EXPECT_LE(chars, o.max_chars + extra);
    }
    const Answer again = AnswerOk(q, passages, o);
    EXPECT_EQ(again.text, a.text);
  }
}

}  // namespace
}  // namespace sagebox::rag
