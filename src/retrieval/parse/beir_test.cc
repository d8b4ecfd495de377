#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "retrieval/parse/parse.h"

namespace sagebox::retrieval {
namespace {

using ::testing::HasSubstr;

std::string Error(const std::string& jsonl) {
  auto d = ParseBeirCorpus(jsonl, "corpus.jsonl");
  if (d.ok()) return "(parsed)";
  EXPECT_EQ(d.status().code(), StatusCode::kBadInput) << d.status().ToString();
  return d.status().message();
}

// SciFact's first record, as BEIR ships it (fields in BEIR's order, plus the
// "metadata" object its corpora carry).
constexpr char kSciFact[] =
    R"({"_id": "4983", "title": "Microstructural development of human newborn cerebral white )"
    R"(matter assessed in vivo by diffusion tensor magnetic resonance imaging.", "text": )"
    R"("Alterations of the architecture of cerebral white matter in the developing human brain )"
    R"(can affect cortical development and result in functional disabilities.", "metadata": {}})";

TEST(BeirTest, Records) {
  const std::string jsonl = std::string("\xEF\xBB\xBF") + kSciFact +
                            "\r\n\n"
                            R"({"_id":"d2","text":"no title \u00e9\n","extra":[1,2]})"
                            "\n"
                            R"({"text":"t","title":null,"_id":17})";
  auto docs = ParseBeirCorpus(jsonl, "data/scifact/corpus.jsonl");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3U);
  const Document& a = (*docs)[0];
  EXPECT_EQ(a.id, "data/scifact/corpus.jsonl#4983");
  EXPECT_EQ(a.source, "data/scifact/corpus.jsonl");
  EXPECT_EQ(a.title,
            "Microstructural development of human newborn cerebral white matter assessed in vivo "
            "by diffusion tensor magnetic resonance imaging.");
  EXPECT_THAT(a.text, ::testing::StartsWith("Alterations of the architecture"));
  EXPECT_EQ(a.metadata.at("format"), "beir");
  EXPECT_EQ(a.metadata.at("beir_id"), "4983");
  const Document& b = (*docs)[1];
  EXPECT_EQ(b.id, "data/scifact/corpus.jsonl#d2");
  EXPECT_EQ(b.title, "");
  EXPECT_EQ(b.text, "no title \xC3\xA9\n");
  EXPECT_EQ((*docs)[2].id, "data/scifact/corpus.jsonl#17");
  EXPECT_EQ((*docs)[2].title, "");
}

TEST(BeirTest, ErrorsNameLineAndField) {
  EXPECT_EQ(Error(R"({"_id":"a","text":"x"})"
                  "\n\n"
                  R"({"_id":"b","text":"x",})"),
            "corpus.jsonl:3: invalid JSON at column 23: syntax error while parsing object key - "
            "unexpected '}'; expected string literal");
  EXPECT_EQ(Error(R"(["_id","text"])"),
            "corpus.jsonl:1: expected a JSON object {\"_id\", \"title\", \"text\"}, got array");
  EXPECT_EQ(Error(R"({"text":"x"})"), "corpus.jsonl:1: missing field \"_id\"");
  EXPECT_EQ(Error(R"({"_id":"a"})"), "corpus.jsonl:1: missing field \"text\"");
  EXPECT_EQ(Error(R"({"_id":1.5,"text":"x"})"),
            "corpus.jsonl:1: field \"_id\": expected a string, got number");
  EXPECT_EQ(Error(R"({"_id":"","text":"x"})"),
            "corpus.jsonl:1: field \"_id\": expected a non-empty string");
  EXPECT_EQ(Error(R"({"_id":"a","text":null})"),
            "corpus.jsonl:1: field \"text\": expected a string, got null");
  EXPECT_EQ(Error(R"({"_id":"a","text":"x","title":["t"]})"),
            "corpus.jsonl:1: field \"title\": expected a string, got array");
  EXPECT_EQ(Error(R"({"_id":"a","text":"x"})"
                  "\n"
                  R"({"_id":"b","text":"y"})"
                  "\n"
                  R"({"_id":"a","text":"z"})"),
            "corpus.jsonl:3: duplicate _id \"a\" (first on line 1)");
  // A number a double cannot hold (nlohmann throws out_of_range, not parse_error).
  EXPECT_EQ(Error(R"({"_id":"a","text":"x","score":1e999})"),
            "corpus.jsonl:1: invalid JSON: number overflow parsing '1e999'");
  // JSON strings must be UTF-8.
  EXPECT_THAT(Error("{\"_id\":\"a\",\"text\":\"caf\xE9\"}"),
              HasSubstr("corpus.jsonl:1: invalid JSON at column"));
}

TEST(BeirTest, CallbackErrorStopsTheWalk) {
  int seen = 0;
  const Status s = ForEachBeirRecord(R"({"_id":"a","text":"x"})"
                                     "\n"
                                     R"({"_id":"b","text":"y"})",
                                     "c.jsonl", [&](Document&&) {
                                       ++seen;
                                       return IoError("index full");
                                     });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "index full");
}

// The file reader splits lines across its 64 KiB reads exactly as the
// in-memory parser does.
TEST(BeirTest, FileReaderMatchesMemoryAcrossReadBoundaries) {
  sagebox::testing::TempDir dir("beir");
  std::string jsonl;
  for (int i = 0; i < 3000; ++i) {
    jsonl += R"({"_id":"doc)" + std::to_string(i) + R"(","title":"T )" + std::to_string(i) +
             R"(","text":")" + std::string(static_cast<size_t>(i % 97), 'x') + "\"}\n";
  }
  jsonl.pop_back();  // no final newline: the last line still counts
  ASSERT_GT(jsonl.size(), size_t{1} << 17);
  const std::string path = dir.Path("corpus.jsonl");
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, jsonl).ok());
  auto from_file = ReadBeirCorpus(Env::Default(), path);
  auto from_memory = ParseBeirCorpus(jsonl, path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  ASSERT_TRUE(from_memory.ok());
  ASSERT_EQ(from_file->size(), 3000U);
  for (size_t i = 0; i < from_file->size(); ++i) {
    EXPECT_EQ((*from_file)[i].id, (*from_memory)[i].id);
    EXPECT_EQ((*from_file)[i].text, (*from_memory)[i].text);
  }
  EXPECT_EQ(from_file->back().id, path + "#doc2999");

  // A bad record far into the file is reported on its own line.
  ASSERT_TRUE(
      Env::Default()->WriteFileAtomic(path, jsonl + "\n{\"_id\":\"doc1\",\"text\":\"\"}").ok());
  auto dup = ReadBeirCorpus(Env::Default(), path);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), path + ":3001: duplicate _id \"doc1\" (first on line 2)");

  auto missing = ReadBeirCorpus(Env::Default(), dir.Path("nope.jsonl"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            dir.Path("nope.jsonl") + ": cannot open: No such file or directory");
}

}  // namespace
}  // namespace sagebox::retrieval
