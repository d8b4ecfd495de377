#include "endpoint/torch/diffusion_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "endpoint/torch/diffusion_pipeline.h"
#include "endpoint/torch/testing/tiny_diffusion.h"

namespace sagebox::endpoint {
namespace {

namespace fs = std::filesystem;

// A hand-made CLIP vocabulary. Pieces are bytes_to_unicode strings: ASCII stands
// for itself, and é (UTF-8 C3 A9) is "Ã©" since both bytes are printable Latin-1.
constexpr const char* kVocab = R"({
  "<|startoftext|>": 1000, "<|endoftext|>": 1001,
  "h": 10, "e": 11, "l": 12, "o": 13, "w": 14, "r": 15, "d": 16, "s": 17, "'": 18,
  "!": 19, "o</w>": 20, "d</w>": 21, "s</w>": 22, "!</w>": 23, "t": 24, "1</w>": 25,
  "2</w>": 26, "e</w>": 27, "he": 28, "wo": 30, "'s</w>": 31, "Ã©</w>": 40,
  "c": 41, "a": 42, "f": 43, "hello</w>": 100
})";
// Ranks 0..6 in line order after the header.
constexpr const char* kMerges =
    "#version: 0.2\n"
    "h e\n"
    "l l\n"
    "he ll\n"
    "hell o</w>\n"
    "w o\n"
    "' s</w>\n"
    "Ã ©</w>\n";

constexpr int64_t kBos = 1000;
constexpr int64_t kEos = 1001;

ClipTokenizer MakeTokenizer() {
  auto t = ClipTokenizer::Parse(kVocab, kMerges, "vocab.json", "merges.txt");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

// The ids of a prompt between BOS and EOS (the padding dropped).
std::vector<int64_t> Body(const std::vector<int64_t>& ids) {
  std::vector<int64_t> out;
  EXPECT_EQ(ids.front(), kBos);
  for (size_t i = 1; i < ids.size() && ids[i] != kEos; ++i) out.push_back(ids[i]);
  return out;
}

TokenizerSettings Settings(int64_t pad_id) {
  TokenizerSettings s;
  s.pad_id = pad_id;
  return s;
}

TEST(ClipTokenizerTest, LoadsTheSpecialsAndRanks) {
  ClipTokenizer t = MakeTokenizer();
  EXPECT_EQ(t.bos_id(), kBos);
  EXPECT_EQ(t.eos_id(), kEos);
  EXPECT_EQ(t.unk_id(), kEos);  // CLIP's unk_token is <|endoftext|>
  EXPECT_EQ(t.merge_count(), 7U);
  EXPECT_EQ(t.vocab_size(), 28U);
}

TEST(ClipTokenizerTest, BosEosAndPadding) {
  ClipTokenizer t = MakeTokenizer();
  std::vector<int64_t> ids = t.Encode("hello", Settings(7));
  ASSERT_EQ(ids.size(), 77U);
  EXPECT_EQ(ids[0], kBos);
  EXPECT_EQ(ids[1], 100);
  EXPECT_EQ(ids[2], kEos);
  for (size_t i = 3; i < ids.size(); ++i) EXPECT_EQ(ids[i], 7) << i;
  // The empty prompt is BOS, EOS and padding, as CLIP encodes it for the
  // unconditional rows.
  std::vector<int64_t> empty = t.Encode("", Settings(0));
  EXPECT_EQ(empty[0], kBos);
  EXPECT_EQ(empty[1], kEos);
  EXPECT_EQ(empty[2], 0);
  // max_length from the settings.
  TokenizerSettings short_window = Settings(7);
  short_window.max_length = 5;
  EXPECT_EQ(t.Encode("hello", short_window), (std::vector<int64_t>{kBos, 100, kEos, 7, 7}));
}

TEST(ClipTokenizerTest, FullyMergedWordAndMergesInRankOrder) {
  ClipTokenizer t = MakeTokenizer();
  // h e l l o</w> -> he l l o</w> -> he ll o</w> -> hell o</w> -> hello</w>.
  EXPECT_EQ(t.Pieces("hello"), (std::vector<std::string>{"hello</w>"}));
  // Partly merged: w o r l d</w> -> wo r l d</w>, then no ranked pair.
  EXPECT_EQ(t.Pieces("world"), (std::vector<std::string>{"wo", "r", "l", "d</w>"}));
  EXPECT_EQ(Body(t.Encode("hello world", Settings(0))),
            (std::vector<int64_t>{100, 30, 15, 12, 21}));
  // The end-of-word suffix is part of the last symbol: "he" is h + e</w>, and the
  // merge "h e" does not apply to it.
  EXPECT_EQ(t.Pieces("he"), (std::vector<std::string>{"h", "e</w>"}));
}

TEST(ClipTokenizerTest, UnmergedWordFallsBackToSingleByteSymbols) {
  ClipTokenizer t = MakeTokenizer();
  EXPECT_EQ(t.Pieces("red"), (std::vector<std::string>{"r", "e", "d</w>"}));
  EXPECT_EQ(Body(t.Encode("red", Settings(0))), (std::vector<int64_t>{15, 11, 21}));
}

TEST(ClipTokenizerTest, UnknownPieceIsTheUnkId) {
  ClipTokenizer t = MakeTokenizer();
  // "z</w>" and "," are not in the vocabulary.
  std::vector<int64_t> z = t.Encode("hello z", Settings(0));
  EXPECT_EQ((std::vector<int64_t>(z.begin(), z.begin() + 5)),
            (std::vector<int64_t>{kBos, 100, kEos, kEos, 0}));
  std::vector<int64_t> ids = t.Encode("hello, hello", Settings(0));
  EXPECT_EQ((std::vector<int64_t>(ids.begin(), ids.begin() + 5)),
            (std::vector<int64_t>{kBos, 100, kEos, 100, kEos}));
}

TEST(ClipTokenizerTest, LowerCasesAndCollapsesWhitespace) {
  ClipTokenizer t = MakeTokenizer();
  const std::vector<int64_t> want = t.Encode("hello world", Settings(0));
  EXPECT_EQ(t.Encode("  HELLO \t\n  World  ", Settings(0)), want);
  EXPECT_EQ(t.Encode("Hello\u00A0\u3000WORLD", Settings(0)), want);  // Unicode spaces
  EXPECT_EQ(ClipCleanText("  A  b\t\tC\n"), "a b c");
  EXPECT_EQ(ClipCleanText("\u00C9T\u00C9 \u0394\u0416"), "\u00E9t\u00E9 \u03B4\u0436");
  EXPECT_EQ(ClipCleanText(" \t "), "");
}

TEST(ClipTokenizerTest, ContractionsAndPunctuationSplit) {
  ClipTokenizer t = MakeTokenizer();
  EXPECT_EQ(ClipPreTokenize("he's here!!"), (std::vector<std::string>{"he", "'s", "here", "!!"}));
  EXPECT_EQ(ClipPreTokenize("don't we'll i'd they're i've i'm"),
            (std::vector<std::string>{"don", "'t", "we", "'ll", "i", "'d", "they", "'re", "i",
                                      "'ve", "i", "'m"}));
  // A quote not starting a contraction is punctuation, and a run of punctuation
  // stays together, swallowing a quote after it.
  EXPECT_EQ(ClipPreTokenize("'x !'s"), (std::vector<std::string>{"'", "x", "!'", "s"}));
  // Digits are one piece each.
  EXPECT_EQ(ClipPreTokenize("sd21 x12"), (std::vector<std::string>{"sd", "2", "1", "x", "1", "2"}));
  // The specials are whole pieces where they start, but not inside a punctuation run.
  EXPECT_EQ(ClipPreTokenize("a<|endoftext|>b !<|startoftext|>"),
            (std::vector<std::string>{"a", "<|endoftext|>", "b", "!<|", "startoftext", "|>"}));

  // he's -> h e</w> | ' s</w> merged by rank 5; !! -> ! !</w>.
  EXPECT_EQ(t.Pieces("He's!!"), (std::vector<std::string>{"h", "e</w>", "'s</w>", "!", "!</w>"}));
  EXPECT_EQ(Body(t.Encode("He's!!", Settings(0))), (std::vector<int64_t>{10, 27, 31, 19, 23}));
  EXPECT_EQ(Body(t.Encode("12", Settings(0))), (std::vector<int64_t>{25, 26}));
  // A special token written in the prompt is its id, not BPE pieces.
  std::vector<int64_t> ids = t.Encode("hello <|startoftext|>", Settings(5));
  EXPECT_EQ((std::vector<int64_t>(ids.begin(), ids.begin() + 5)),
            (std::vector<int64_t>{kBos, 100, kBos, kEos, 5}));
}

TEST(ClipTokenizerTest, NonAsciiGoesThroughBytesToUnicode) {
  ClipTokenizer t = MakeTokenizer();
  // é is C3 A9 -> "Ã" "©</w>", merged by rank 6; É lower-cases to é first.
  EXPECT_EQ(t.Pieces("caf\u00E9"), (std::vector<std::string>{"c", "a", "f", "\u00C3\u00A9</w>"}));
  EXPECT_EQ(Body(t.Encode("CAF\u00C9", Settings(0))), (std::vector<int64_t>{41, 42, 43, 40}));
  // Bytes that are not printable Latin-1 map past U+00FF in byte order: ā is C4 81,
  // and 0x81 is the 36th such byte (after 0x00-0x20 and 0x7F-0x80) -> U+0123.
  EXPECT_EQ(t.Pieces("\u0100"), (std::vector<std::string>{"\u00C4", "\u0123</w>"}));
  // A space byte would be U+0120 (the famous "Ġ"); spaces never reach BPE here, but
  // the control U+0085 is whitespace and is collapsed like one.
  EXPECT_EQ(t.Pieces("hello\u0085hello"), (std::vector<std::string>{"hello</w>", "hello</w>"}));
  // Letters vs others outside ASCII: accented and CJK letters join words, an em dash
  // and an emoji are punctuation, superscripts and fractions are numbers.
  EXPECT_EQ(ClipPreTokenize("na\u00EFve \u65E5\u672C\u2014x\U0001F600y x\u00B2\u00BD"),
            (std::vector<std::string>{"na\u00EFve", "\u65E5\u672C", "\u2014", "x", "\U0001F600",
                                      "y", "x", "\u00B2", "\u00BD"}));
  // Combining marks are not letters: Devanagari splits at every vowel sign and
  // virama, as the reference regex does; Bengali digits are numbers.
  EXPECT_EQ(ClipPreTokenize("\u0939\u093F\u0928\u094D\u0926\u0940 \u09E7\u09E8"),
            (std::vector<std::string>{"\u0939", "\u093F", "\u0928", "\u094D", "\u0926", "\u0940",
                                      "\u09E7", "\u09E8"}));
  // Lower-casing covers all of Unicode's one-to-one mappings, and U+0130's two.
  EXPECT_EQ(ClipCleanText("\u1E9E\u10A0\u0130\u01C4\uFF21"), "\u00DF\u2D00i\u0307\u01C6\uFF41");
  // Invalid UTF-8 is kept byte for byte (each byte a symbol), never dropped.
  EXPECT_EQ(t.Pieces("\xFF"), (std::vector<std::string>{"\u00FF</w>"}));
}

TEST(ClipTokenizerTest, TruncatesTo77KeepingEos) {
  ClipTokenizer t = MakeTokenizer();
  std::string prompt;
  for (int i = 0; i < 100; ++i) prompt += "hello ";
  std::vector<int64_t> ids = t.Encode(prompt, Settings(0));
  ASSERT_EQ(ids.size(), 77U);
  EXPECT_EQ(ids.front(), kBos);
  for (size_t i = 1; i < 76; ++i) EXPECT_EQ(ids[i], 100) << i;
  EXPECT_EQ(ids.back(), kEos);
  // Exactly 75 pieces fill the window with no padding; 74 leave one pad.
  prompt.clear();
  for (int i = 0; i < 74; ++i) prompt += "hello ";
  ids = t.Encode(prompt, Settings(9));
  EXPECT_EQ(ids[75], kEos);
  EXPECT_EQ(ids[76], 9);
  ids = t.Encode(prompt + "hello", Settings(9));
  EXPECT_EQ(ids[75], 100);
  EXPECT_EQ(ids[76], kEos);
}

TEST(ClipTokenizerTest, ConcurrentEncodesAgree) {
  ClipTokenizer t = MakeTokenizer();
  const std::vector<int64_t> want = t.Encode("hello world he's red caf\u00E9", Settings(0));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 200; ++i) {
        if (t.Encode("hello world he's red caf\u00E9", Settings(0)) != want) ++mismatches[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(ClipTokenizerTest, MalformedFilesAreBadInputNamingFileAndLine) {
  auto bad_json =
      ClipTokenizer::Parse("{\n  \"a\": 1,\n  \"b\": }\n", kMerges, "tok/vocab.json", "m.txt");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad_json.status().message().find("tok/vocab.json:3:"), std::string::npos)
      << bad_json.status().message();

  auto not_object = ClipTokenizer::Parse("[1, 2]", kMerges, "tok/vocab.json", "m.txt");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.status().message().find("tok/vocab.json:1: expected a JSON object"),
            std::string::npos);

  auto bad_id = ClipTokenizer::Parse(R"({"<|startoftext|>": 1, "<|endoftext|>": 2, "hi": "x"})",
                                     kMerges, "tok/vocab.json", "m");
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad_id.status().message().find("tok/vocab.json: \"hi\": expected a non-negative"),
            std::string::npos)
      << bad_id.status().message();
  auto negative = ClipTokenizer::Parse(R"({"<|startoftext|>": 1, "<|endoftext|>": -2})", kMerges,
                                       "tok/vocab.json", "m");
  EXPECT_EQ(negative.status().code(), StatusCode::kBadInput);

  auto no_bos = ClipTokenizer::Parse(R"({"<|endoftext|>": 2})", kMerges, "tok/vocab.json", "m");
  ASSERT_FALSE(no_bos.ok());
  EXPECT_NE(no_bos.status().message().find("<|startoftext|>"), std::string::npos);

  auto bad_merge =
      ClipTokenizer::Parse(kVocab, "#version: 0.2\nh e\nhe l l\n", "v.json", "tok/merges.txt");
  ASSERT_FALSE(bad_merge.ok());
  EXPECT_EQ(bad_merge.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad_merge.status().message().find("tok/merges.txt:3: expected two symbols"),
            std::string::npos)
      << bad_merge.status().message();
  auto one_symbol = ClipTokenizer::Parse(kVocab, "#version: 0.2\r\nh\r\n", "v.json", "m.txt");
  EXPECT_NE(one_symbol.status().message().find("m.txt:2:"), std::string::npos);
}

TEST(ClipTokenizerTest, MergesFileDetails) {
  // CRLF line ends, blank lines and a file without the header all read.
  auto crlf = ClipTokenizer::Parse(kVocab, "#version: 0.2\r\nh e\r\n\r\nl l\r\n", "v", "m");
  ASSERT_TRUE(crlf.ok()) << crlf.status().ToString();
  EXPECT_EQ(crlf->merge_count(), 2U);
  EXPECT_EQ(crlf->Pieces("hello"), (std::vector<std::string>{"he", "ll", "o</w>"}));
  auto no_header = ClipTokenizer::Parse(kVocab, "h e\nl l\n", "v", "m");
  ASSERT_TRUE(no_header.ok());
  EXPECT_EQ(no_header->merge_count(), 2U);
  EXPECT_EQ(no_header->Pieces("hello"), (std::vector<std::string>{"he", "ll", "o</w>"}));
  // Without the merges, the same word stays single symbols.
  auto none = ClipTokenizer::Parse(kVocab, "#version: 0.2\n", "v", "m");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->Pieces("hello"), (std::vector<std::string>{"h", "e", "l", "l", "o</w>"}));
}

TEST(ClipTokenizerTest, LoadReadsTheFolderAndNamesAMissingFile) {
  sagebox::testing::TempDir dir("clip_tok");
  Env* env = Env::Default();
  auto missing = ClipTokenizer::Load(env, dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("vocab.json"), std::string::npos);
  ASSERT_TRUE(env->WriteFileAtomic(dir.Path("vocab.json"), kVocab).ok());
  auto no_merges = ClipTokenizer::Load(env, dir.path());
  EXPECT_EQ(no_merges.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_merges.status().message().find("merges.txt"), std::string::npos);
  ASSERT_TRUE(env->WriteFileAtomic(dir.Path("merges.txt"), kMerges).ok());
  auto t = ClipTokenizer::Load(env, dir.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(Body(t->Encode("hello", Settings(0))), (std::vector<int64_t>{100}));
}

// The pipeline loads a model folder that has tokenizer/ and tokenizes prompts and
// negative prompts through it.
class PipelineTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new sagebox::testing::TempDir("diffusion_bpe");
    sagebox::endpoint::testing::MakeTinyDiffusion(dir_->path());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // A copy of sd_base's version folder, with tokenizer/ files when given.
  static std::string Folder(const std::string& name, const char* vocab, const char* merges) {
    const std::string dir = dir_->Path(name);
    fs::copy(dir_->Path("sd_base/1"), dir, fs::copy_options::recursive);
    Env* env = Env::Default();
    EXPECT_TRUE(env->CreateDirs(JoinPath(dir, "tokenizer")).ok());
    if (vocab != nullptr) {
      EXPECT_TRUE(env->WriteFileAtomic(JoinPath(dir, "tokenizer/vocab.json"), vocab).ok());
    }
    if (merges != nullptr) {
      EXPECT_TRUE(env->WriteFileAtomic(JoinPath(dir, "tokenizer/merges.txt"), merges).ok());
    }
    return dir;
  }

  static std::vector<Image> Run(DiffusionPipeline* p, const std::string& prompt,
                                const std::string& negative) {
    GenerateRequest g;
    g.prompts = {prompt};
    g.negative_prompts = {negative};
    auto args = ParseGenArgs(R"({"num_inference_steps": 2, "seed": 11, "height": 64, "width": 64})",
                             DiffusionTask::kText2Img, p->settings());
    EXPECT_TRUE(args.ok());
    g.args = *args;
    auto images = p->Generate(g);
    EXPECT_TRUE(images.ok()) << images.status().ToString();
    return images.ok() ? *images : std::vector<Image>{};
  }

  static sagebox::testing::TempDir* dir_;
};

sagebox::testing::TempDir* PipelineTokenizerTest::dir_ = nullptr;

TEST_F(PipelineTokenizerTest, PromptsGoThroughClipBpe) {
  auto bpe = DiffusionPipeline::Load(Folder("bpe", kVocab, kMerges), "");
  ASSERT_TRUE(bpe.ok()) << bpe.status().ToString();
  auto bytes = DiffusionPipeline::Load(dir_->Path("sd_base/1"), "");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();

  // CLIP lower-cases and collapses whitespace: prompts (and negative prompts)
  // differing only in that give the same image with the same seed...
  const auto lower = Run(bpe->get(), "hello world", "red");
  const auto upper = Run(bpe->get(), "  HELLO   World ", "RED");
  ASSERT_EQ(lower.size(), 1U);
  ASSERT_EQ(upper.size(), 1U);
  EXPECT_EQ(lower[0].pixels, upper[0].pixels);
  // ...while a different negative prompt changes it (it is tokenized too)...
  const auto other_negative = Run(bpe->get(), "hello world", "he's");
  ASSERT_EQ(other_negative.size(), 1U);
  EXPECT_NE(lower[0].pixels, other_negative[0].pixels);
  // ...and the byte fallback (no tokenizer/) tells the two spellings apart.
  const auto fb_lower = Run(bytes->get(), "hello world", "red");
  const auto fb_upper = Run(bytes->get(), "  HELLO   World ", "RED");
  ASSERT_EQ(fb_lower.size(), 1U);
  ASSERT_EQ(fb_upper.size(), 1U);
  EXPECT_NE(fb_lower[0].pixels, fb_upper[0].pixels);
}

TEST_F(PipelineTokenizerTest, BrokenTokenizerFolderFailsTheLoad) {
  auto no_merges = DiffusionPipeline::Load(Folder("no_merges", kVocab, nullptr), "");
  ASSERT_FALSE(no_merges.ok());
  EXPECT_EQ(no_merges.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_merges.status().message().find("tokenizer/merges.txt"), std::string::npos);

  auto bad = DiffusionPipeline::Load(Folder("bad_merges", kVocab, "#version: 0.2\na b c\n"), "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad.status().message().find("tokenizer/merges.txt:2:"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace sagebox::endpoint
