#include "retrieval/splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/splitter_check.h"
#include "retrieval/testing/test_data.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::Data;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Texts(const std::vector<Chunk>& chunks) {
  std::vector<std::string> out;
  for (const Chunk& c : chunks) out.push_back(c.text);
  return out;
}

SplitterOptions Opts(int64_t size, int64_t overlap) {
  SplitterOptions o;
  o.chunk_size = size;
  o.chunk_overlap = overlap;
  return o;
}

std::vector<std::string> Recursive(const std::string& text, int64_t size, int64_t overlap,
                                   KeepSeparator keep = KeepSeparator::kStart) {
  auto s = RecursiveCharacterTextSplitter::Create({}, Opts(size, overlap), keep);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto chunks = s->SplitText(text);
  EXPECT_TRUE(chunks.ok()) << chunks.status().ToString();
  return chunks.ok() ? *chunks : std::vector<std::string>{"(failed)"};
}

// ---------------------------------------------------------------------------------------
// Golden chunk lists recorded from LangChain (tests/retrieval/langchain/record_chunks.mjs).

// The byte offset of code point `cp` in valid UTF-8 `s`.
size_t ByteOffset(const std::string& s, int64_t cp) {
  size_t i = 0;
  for (int64_t n = 0; n < cp && i < s.size(); ++n) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

std::unique_ptr<TextSplitter> FromCase(const nlohmann::json& c) {
  SplitterOptions o = Opts(c.at("chunk_size").get<int64_t>(), c.at("chunk_overlap").get<int64_t>());
  const KeepSeparator keep =
      c.at("keep_separator").get<bool>() ? KeepSeparator::kStart : KeepSeparator::kNone;
  if (c.at("splitter") == "character") {
    auto s = CharacterTextSplitter::Create(c.at("separator").get<std::string>(), o, keep);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::make_unique<CharacterTextSplitter>(std::move(s).value());
  }
  auto s = RecursiveCharacterTextSplitter::Create(
      c.at("separators").get<std::vector<std::string>>(), o, keep);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::make_unique<RecursiveCharacterTextSplitter>(std::move(s).value());
}

struct GoldenStats {
  int cases = 0;
  int chunks = 0;
  int python_differs = 0;
  int not_substrings = 0;
};

// Checks every case of one golden file; counts into *st (ASSERTs need a void function).
void CheckGolden(const std::string& file, GoldenStats* out) {
  GoldenStats& st = *out;
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(Data("langchain_chunks/" + file)));
  EXPECT_THAT(doc.at("generator").get<std::string>(), HasSubstr("@langchain/textsplitters"));
  for (const nlohmann::json& c : doc.at("cases")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(file + ": " + name);
    const std::string text = c.contains("input_file")
                                 ? ReadFile(Data(c.at("input_file").get<std::string>()))
                                 : c.at("text").get<std::string>();
    const std::unique_ptr<TextSplitter> splitter = FromCase(c);
    auto got = splitter->Split(text);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const auto want = c.at("chunks").get<std::vector<std::string>>();
    const std::vector<std::string> texts = Texts(*got);
    EXPECT_EQ(texts, want);
    if (c.contains("langchain_js_chunks")) {
      // Python and LangChain.js disagree here; sagebox follows Python.
      EXPECT_NE(texts, c.at("langchain_js_chunks").get<std::vector<std::string>>());
      ++st.python_differs;
    }
    // Offsets: Python's start_index (code points), as bytes.
    const auto starts = c.at("start_index").get<std::vector<int64_t>>();
    ASSERT_EQ(starts.size(), got->size());
    for (size_t i = 0; i < starts.size(); ++i) {
      const Chunk& ch = (*got)[i];
      if (starts[i] >= 0) {
        EXPECT_EQ(ch.begin, ByteOffset(text, starts[i])) << "chunk " << i;
        EXPECT_EQ(ch.end, ch.begin + ch.text.size()) << "chunk " << i;
        EXPECT_EQ(text.substr(ch.begin, ch.end - ch.begin), ch.text) << "chunk " << i;
      } else {
        ++st.not_substrings;  // LangChain's -1: not a substring; the chunk keeps its span
        EXPECT_EQ(text.find(ch.text), std::string::npos) << "chunk " << i;
        EXPECT_LE(ch.begin, ch.end);
        EXPECT_LE(ch.end, text.size());
      }
    }
    EXPECT_EQ(CheckChunks(*splitter, text, *got), "");
    ++st.cases;
    st.chunks += static_cast<int>(got->size());
  }
}

TEST(SplitterGoldenTest, CorpusMatchesLangChain) {
  GoldenStats st;
  CheckGolden("corpus.json", &st);
  // 4 SageMaker SDK .rst files x 5 settings (the two articles' among them).
  EXPECT_EQ(st.cases, 20);
  EXPECT_GT(st.chunks, 1000);
  EXPECT_GE(st.python_differs, 1);  // CharacterTextSplitter's overlap arithmetic (merge)
}

TEST(SplitterGoldenTest, EdgeCasesMatchLangChain) {
  GoldenStats st;
  CheckGolden("edge_cases.json", &st);
  EXPECT_GE(st.cases, 30);
  EXPECT_GE(st.python_differs, 4);  // split, merge, strip (x2)
  EXPECT_GE(st.not_substrings, 2);  // character_blank_lines
}

// ---------------------------------------------------------------------------------------
// The articles' settings on a real document.

TEST(SplitterTest, ArticlePresets) {
  const RecursiveCharacterTextSplitter rag = ArticleIngestSplitter();
  EXPECT_EQ(rag.options().chunk_size, 600);
  EXPECT_EQ(rag.options().chunk_overlap, 20);
  EXPECT_EQ(rag.keep_separator(), KeepSeparator::kStart);
  EXPECT_THAT(rag.separators(), ElementsAre("\n\n", "\n", " ", ""));
  const CharacterTextSplitter docs = DocsArticleSplitter();
  EXPECT_EQ(docs.separator(), "\n");
  EXPECT_EQ(docs.options().chunk_size, 1000);
  EXPECT_EQ(docs.options().chunk_overlap, 100);
  EXPECT_EQ(docs.keep_separator(), KeepSeparator::kNone);

  const std::string text = ReadFile(Data("corpus/using_djl.rst"));
  auto chunks = rag.Split(text);
  ASSERT_TRUE(chunks.ok());
  ASSERT_GT(chunks->size(), 10u);
  for (const Chunk& c : *chunks) EXPECT_LE(CodePointLength(c.text), 600u);
  EXPECT_EQ(chunks->front().begin, 0u);
}

TEST(SplitterTest, OffsetsOfALongTextMatchLangChainsSearch) {
  // Over 256 KiB, long searches go through an index of the text instead of find(); the
  // offsets must still be exactly base.py's. The first half has blank lines, so the docs
  // article's chunks there are not substrings (LangChain joins "a\n\nb" as "a\nb"); the
  // second half is the same text with the blank lines removed, where those chunks are found.
  std::string half;
  for (const char* f :
       {"using_sklearn.rst", "amazon_sagemaker_featurestore.rst", "v2.rst", "using_djl.rst"}) {
    half += ReadFile(Data(std::string("corpus/") + f));
  }
  half += half;
  half += half;  // 300 KB, so that searches from the first third go past 256 KiB
  std::string collapsed;
  for (size_t i = 0; i < half.size(); ++i) {
    if (!(half[i] == '\n' && i + 1 < half.size() && half[i + 1] == '\n')) collapsed += half[i];
  }
  const std::string text = half + collapsed;
  ASSERT_GT(text.size(), 256u * 1024);
  const CharacterTextSplitter s = DocsArticleSplitter();
  auto chunks = s.Split(text);
  ASSERT_TRUE(chunks.ok());
  // base.py create_documents(add_start_index=True), by brute force, in code points.
  int64_t index = 0;
  int64_t previous_len = 0;
  int found_far = 0;
  int not_found = 0;
  for (size_t i = 0; i < chunks->size(); ++i) {
    const Chunk& c = (*chunks)[i];
    const int64_t offset = std::max<int64_t>(0, index + previous_len - 100);
    const size_t at = text.find(c.text, ByteOffset(text, offset));
    index = at == std::string::npos
                ? -1
                : static_cast<int64_t>(CodePointLength(std::string_view(text).substr(0, at)));
    previous_len = static_cast<int64_t>(CodePointLength(c.text));
    if (at == std::string::npos) {
      ++not_found;
      EXPECT_NE(c.end - c.begin, c.text.size()) << "chunk " << i;
      continue;
    }
    ASSERT_EQ(c.begin, at) << "chunk " << i;
    if (at >= half.size() && i < chunks->size() / 3) ++found_far;
  }
  EXPECT_GT(found_far, 10);  // collapsed chunks of the first half found in the second
  EXPECT_GT(not_found, 0);
}

// ---------------------------------------------------------------------------------------
// Python behaviour LangChain.js cannot record, derived by hand from character.py/base.py.

TEST(SplitterTest, OverlapEqualToSizeIsAllowedAsInPython) {
  // JS refuses overlap == size; Python accepts it. Splits of "a b c d" on " " (kept at the
  // start): "a", " b", " c", " d". "a"+" b" fills 3; at " c" the chunk "a b" is emitted and,
  // although total (3) is not above the overlap (3), "a" and " b" are popped because " c"
  // would not fit; the rest follows the same way.
  EXPECT_THAT(Recursive("a b c d", 3, 3), ElementsAre("a b", "c", "d"));
  auto s = RecursiveCharacterTextSplitter::Create({}, Opts(3, 3));
  ASSERT_TRUE(s.ok());
  auto chunks = s->Split("a b c d");
  ASSERT_TRUE(chunks.ok());
  // start_index: find("a b", 0) = 0; find("c", 0+3-3) = 4; find("d", 4+1-3) = 6.
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].begin, 0u);
  EXPECT_EQ((*chunks)[1].begin, 4u);
  EXPECT_EQ((*chunks)[2].begin, 6u);
}

TEST(SplitterTest, AstralCodePointsCountOnceAsPythonLen) {
  // Python: len("😀") == 1 and list() keeps each emoji whole; JS counts 2 UTF-16 units and
  // split("") cuts the surrogate pairs. No separator but "" is found, so the pieces are the
  // four emoji, two per chunk.
  EXPECT_THAT(Recursive("😀😀😀😀", 2, 0), ElementsAre("😀😀", "😀😀"));
  auto s = RecursiveCharacterTextSplitter::Create({}, Opts(2, 0));
  ASSERT_TRUE(s.ok());
  auto chunks = s->Split("😀😀😀😀");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].begin, 8u);  // two 4-byte emoji
  EXPECT_EQ((*chunks)[1].end, 16u);
  // Sizes in code points: "é" is 2 bytes but 1 character. Splits "éééé" (4) and " éééé"
  // (5); with size 5 the first is < 5 and kept, the second is split into characters and
  // merged back whole (5 <= 5), then stripped.
  EXPECT_THAT(Recursive("éééé éééé", 5, 0), ElementsAre("éééé", "éééé"));
  // With size 4, "éééé" is not < 4 and " éééé" becomes " ééé" (stripped) and "é".
  EXPECT_THAT(Recursive("éééé éééé", 4, 0), ElementsAre("éééé", "ééé", "é"));
}

TEST(SplitterTest, KeepSeparatorEnd) {
  // keep_separator="end": re.split pieces "ab", " ", "cd", " ", "ef" become "ab ", "cd ",
  // "ef". "ab " (3) + "cd " (3) > 5: emit "ab" (stripped); "cd " + "ef" = 5 fits.
  EXPECT_THAT(Recursive("ab cd ef", 5, 0, KeepSeparator::kEnd), ElementsAre("ab", "cd ef"));
}

TEST(SplitterTest, KeepSeparatorNoneRejoinsWithTheSeparator) {
  // keep_separator=False: pieces "ab", "cd", "ef" joined by " " (counted in the size).
  EXPECT_THAT(Recursive("ab cd ef", 5, 0, KeepSeparator::kNone), ElementsAre("ab cd", "ef"));
}

TEST(SplitterTest, WithoutStripWhitespaceChunksKeepTheirSpaces) {
  SplitterOptions o = Opts(5, 0);
  o.strip_whitespace = false;
  auto s = RecursiveCharacterTextSplitter::Create({}, o);
  ASSERT_TRUE(s.ok());
  auto chunks = s->Split("ab cd ef");
  ASSERT_TRUE(chunks.ok());
  EXPECT_THAT(Texts(*chunks), ElementsAre("ab cd", " ef"));
  EXPECT_EQ((*chunks)[1].begin, 5u);
}

TEST(SplitterTest, CharacterSplitterCollapsesEmptyPiecesAndKeepsTheSpan) {
  // "a\n\nb" on "\n": pieces "a", "", "b"; the empty one is dropped, so the chunk is "a\nb",
  // not a substring: LangChain's start_index is -1 and the chunk keeps the span it came from.
  auto s = CharacterTextSplitter::Create("\n", Opts(10, 0));
  ASSERT_TRUE(s.ok());
  auto chunks = s->Split("a\n\nb");
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);
  EXPECT_EQ((*chunks)[0].text, "a\nb");
  EXPECT_EQ((*chunks)[0].begin, 0u);
  EXPECT_EQ((*chunks)[0].end, 4u);
}

TEST(SplitterTest, ChunkSizeOneEmitsSeparatorsRaw) {
  // Every piece is one character and none is < 1, so Python appends each piece as it is,
  // whitespace included and unstripped.
  EXPECT_THAT(Recursive("a b", 1, 0), ElementsAre("a", " ", "b"));
}

TEST(SplitterTest, EmptyAndBlankTextsGiveNoChunks) {
  EXPECT_TRUE(Recursive("", 5, 1).empty());
  EXPECT_TRUE(Recursive(" \n\n\t \u00a0", 5, 1).empty());
}

TEST(SplitterTest, RejectsBadSettingsLikeLangChain) {
  auto a = RecursiveCharacterTextSplitter::Create({}, Opts(10, 11));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("larger chunk overlap (11) than chunk size (10)"));
  auto b = CharacterTextSplitter::Create("\n", Opts(0, 0));
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("chunk_size must be > 0, got 0"));
  auto c = CharacterTextSplitter::Create("\n", Opts(10, -1));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("chunk_overlap must be >= 0, got -1"));
  auto d = CharacterTextSplitter::Create("\xff", Opts(10, 1));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("separator is not valid UTF-8"));
}

TEST(SplitterTest, InvalidUtf8IsBadInputNamingTheByte) {
  const RecursiveCharacterTextSplitter s = ArticleIngestSplitter();
  for (const std::string& bad :
       {std::string("ab\xc3"), std::string("ab\xc0\xafz"), std::string("ab\xed\xa0\x80"),
        std::string("ab\xf4\x90\x80\x80")}) {
    auto r = s.SplitText(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
    EXPECT_THAT(r.status().message(), HasSubstr("not valid UTF-8 at byte 2"));
  }
  Document doc;
  doc.id = "d1";
  doc.source = "docs/bad.txt";
  doc.text = "fine\x80";
  auto r = s.SplitDocument(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("docs/bad.txt: not valid UTF-8 at byte 4"));
}

TEST(SplitterTest, SplitDocumentSetsPages) {
  Document doc;
  doc.source = "paper.pdf";
  doc.text = "alpha beta\n\ngamma delta\n\nepsilon zeta";
  // Page 1 holds the first paragraph, page 2 the rest.
  doc.pages = {{1, 0, 12}, {2, 12, doc.text.size()}};
  // Paragraphs of 10, 13 ("\n\ngamma delta") and 14 code points: one chunk each at 16.
  auto s = RecursiveCharacterTextSplitter::Create({}, Opts(16, 0));
  ASSERT_TRUE(s.ok());
  auto chunks = s->SplitDocument(doc);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].text, "alpha beta");
  EXPECT_EQ((*chunks)[0].page, 1);
  EXPECT_EQ((*chunks)[1].text, "gamma delta");
  EXPECT_EQ((*chunks)[1].begin, 12u);
  EXPECT_EQ((*chunks)[1].page, 2);
  EXPECT_EQ((*chunks)[2].page, 2);
  doc.pages.clear();
  chunks = s->SplitDocument(doc);
  ASSERT_TRUE(chunks.ok());
  for (const Chunk& c : *chunks) EXPECT_EQ(c.page, 0);
}

TEST(SplitterTest, CodePointLength) {
  EXPECT_EQ(CodePointLength(""), 0u);
  EXPECT_EQ(CodePointLength("abc"), 3u);
  EXPECT_EQ(CodePointLength("日本語"), 3u);
  EXPECT_EQ(CodePointLength("a😀é"), 3u);
}

// ---------------------------------------------------------------------------------------
// Property test: random texts and settings satisfy CheckChunks.

TEST(SplitterPropertyTest, RandomInputsKeepTheInvariants) {
  std::mt19937 rng(20240514);
  const std::vector<std::string> alphabet = {"a",  "b",      "xyz",    " ", " ",
                                             "\n", "\n\n",   "\t",     "é", "日",
                                             "😀",  "\u00a0", "\u0085", ".", "ab "};
  const std::vector<std::string> separators = {"\n", "\n\n", " ", "", "a", ". ", "日"};
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int checked = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text;
    const size_t pieces = pick(60);
    for (size_t i = 0; i < pieces; ++i) text += alphabet[pick(alphabet.size())];
    const auto size = static_cast<int64_t>(1 + pick(20));
    SplitterOptions o = Opts(size, static_cast<int64_t>(pick(static_cast<size_t>(size) + 1)));
    o.strip_whitespace = pick(4) != 0;
    const auto keep = static_cast<KeepSeparator>(pick(3));
    std::unique_ptr<TextSplitter> splitter;
    if (pick(2) == 0) {
      auto s = CharacterTextSplitter::Create(separators[pick(separators.size())], o, keep);
      ASSERT_TRUE(s.ok());
      splitter = std::make_unique<CharacterTextSplitter>(std::move(s).value());
    } else {
      std::vector<std::string> seps = RecursiveCharacterTextSplitter::DefaultSeparators();
      if (pick(3) == 0) seps = {". ", "a", " ", ""};
      auto s = RecursiveCharacterTextSplitter::Create(seps, o, keep);
      ASSERT_TRUE(s.ok());
      splitter = std::make_unique<RecursiveCharacterTextSplitter>(std::move(s).value());
    }
    auto chunks = splitter->Split(text);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    auto texts = splitter->SplitText(text);
    ASSERT_TRUE(texts.ok());
    ASSERT_EQ(*texts, Texts(*chunks));
    ASSERT_EQ(CheckChunks(*splitter, text, *chunks), "")
        << "text=" << nlohmann::json(text).dump() << " size=" << o.chunk_size
        << " overlap=" << o.chunk_overlap << " keep=" << static_cast<int>(keep);
    ++checked;
  }
  EXPECT_EQ(checked, 3000);
}

TEST(SplitterPropertyTest, CheckChunksCatchesBrokenResults) {
  // The checker itself must fail on wrong chunks, or the property test proves nothing.
  auto s = RecursiveCharacterTextSplitter::Create({}, Opts(4, 0));
  ASSERT_TRUE(s.ok());
  const std::string text = "abcd efgh";
  auto good = s->Split(text);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(CheckChunks(*s, text, *good), "");
  // "abcd" is not < 4, so it is split into characters and merged back: "abcd", "efg", "h".
  ASSERT_THAT(Texts(*good), ElementsAre("abcd", "efg", "h"));
  std::vector<Chunk> shifted = *good;
  shifted[1].begin += 1;
  shifted[1].end += 1;
  EXPECT_THAT(CheckChunks(*s, text, shifted), HasSubstr("not the text at its offsets"));
  shifted[1].end = text.size() + 1;
  EXPECT_THAT(CheckChunks(*s, text, shifted), HasSubstr("outside the text"));
  std::vector<Chunk> lost = {(*good)[0]};
  EXPECT_EQ(CheckChunks(*s, text, lost), "chunks lost text");
  std::vector<Chunk> big = {{"abcd efgh", 0, 9, 0}};
  EXPECT_THAT(CheckChunks(*s, text, big), HasSubstr("longer than chunk_size"));
}

}  // namespace
}  // namespace sagebox::retrieval
