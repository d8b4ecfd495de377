#include "io/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace sagebox::io {
namespace {

using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;

// In-memory input served in random-sized pieces (1..max_piece bytes), to
// move buffer boundaries to every possible place.
class PieceSource final : public ByteSource {
 public:
  PieceSource(std::string data, size_t max_piece, uint32_t seed = 1)
      : data_(std::move(data)), max_piece_(max_piece), rng_(seed) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    size_t piece = 1 + rng_() % max_piece_;
    size_t take = std::min({n, piece, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, take);
    pos_ += take;
    *got = take;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return pos_; }
  uint64_t CompressedSize() const override { return data_.size(); }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  size_t max_piece_;
  std::mt19937 rng_;
  size_t pos_ = 0;
  std::string name_ = "mem.csv";
};

struct Parsed {
  Rows rows;
  std::vector<uint64_t> lines;
  Status status;  // the error that ended parsing, if any
};

Parsed ParseAll(const std::string& text, size_t max_piece = 1 << 20, size_t buffer = 4 << 20,
                uint32_t seed = 1) {
  PieceSource src(text, max_piece, seed);
  CsvReader r(&src, buffer);
  Parsed p;
  for (;;) {
    auto more = r.Next();
    if (!more.ok()) {
      p.status = more.status();
      break;
    }
    if (!*more) break;
    std::vector<std::string> row;
    for (size_t i = 0; i < r.num_fields(); ++i) row.emplace_back(r.field(i));
    EXPECT_EQ(r.fields().size(), r.num_fields());
    p.rows.push_back(std::move(row));
    p.lines.push_back(r.line());
  }
  if (p.status.ok()) {
    EXPECT_EQ(r.bytes_read(), text.size());
  }
  return p;
}

// Parses `text` whole, in 1-byte pieces, in small random pieces and with a
// 16-byte buffer; all must agree.
Parsed ParseEveryWay(const std::string& text) {
  Parsed whole = ParseAll(text);
  for (auto [piece, buffer] : {std::pair<size_t, size_t>{1, 4 << 20},
                               {3, 4 << 20},
                               {1, 16},
                               {7, 16},
                               {1000, 16},
                               {5, 1}}) {
    Parsed p = ParseAll(text, piece, buffer, static_cast<uint32_t>(piece * 31 + buffer));
    EXPECT_EQ(p.rows, whole.rows) << "piece " << piece << " buffer " << buffer;
    EXPECT_EQ(p.lines, whole.lines) << "piece " << piece << " buffer " << buffer;
    EXPECT_EQ(p.status.code(), whole.status.code()) << "piece " << piece << " buffer " << buffer;
    EXPECT_EQ(p.status.message(), whole.status.message())
        << "piece " << piece << " buffer " << buffer;
  }
  return whole;
}

TEST(CsvReader, SimpleRows) {
  Parsed p = ParseEveryWay("a,b,c\n1,2,3\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, (Rows{{"a", "b", "c"}, {"1", "2", "3"}}));
  EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2}));
}

TEST(CsvReader, EmptyInput) {
  Parsed p = ParseEveryWay("");
  EXPECT_TRUE(p.status.ok());
  EXPECT_TRUE(p.rows.empty());
}

TEST(CsvReader, EmptyFields) {
  Parsed p = ParseEveryWay(",\na,,b\n,,\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{"", ""}, {"a", "", "b"}, {"", "", ""}}));
}

TEST(CsvReader, QuotedFieldsWithCommas) {
  Parsed p = ParseEveryWay("\"a,b\",c,\"\",\"d\"\n\"x, y, z\"\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, (Rows{{"a,b", "c", "", "d"}, {"x, y, z"}}));
}

TEST(CsvReader, DoubledQuoteEscapes) {
  Parsed p = ParseEveryWay(
      "\"he said \"\"hi\"\"\",x\n"
      "\"\"\"\"\n"
      "\"a\"\"b\",\"c\"\"d\"\"e\",plain,\"\"\"\"\"\"\n"
      "\"\"\"start\",\"end\"\"\"\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, (Rows{{"he said \"hi\"", "x"},
                          {"\""},
                          {"a\"b", "c\"d\"e", "plain", "\"\""},
                          {"\"start", "end\""}}));
}

TEST(CsvReader, ManyEscapedFieldsInOneRecord) {
  // Enough escaped text to make the arena reallocate while fields are added.
  std::string line;
  std::vector<std::string> want;
  for (int i = 0; i < 120; ++i) {
    std::string f = "v" + std::to_string(i) + "\"q\"" + std::string(static_cast<size_t>(i), 'x');
    want.push_back(f);
    std::string quoted;
    for (char c : f) {
      if (c == '"')
        quoted += "\"\"";
      else
        quoted.push_back(c);
    }
    line += (i ? "," : "") + ("\"" + quoted + "\"");
  }
  line += "\n";
  // (Small pieces make the reader re-parse a long record once per read, so
  // keep them moderate here; ParseEveryWay covers 1-byte pieces.)
  for (auto [piece, buffer] : {std::pair<size_t, size_t>{1 << 20, 4 << 20}, {61, 16}, {509, 64}}) {
    Parsed p = ParseAll(line, piece, buffer);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    ASSERT_EQ(p.rows.size(), 1u);
    EXPECT_EQ(p.rows[0], want) << "piece " << piece << " buffer " << buffer;
  }
}

TEST(CsvReader, EmbeddedNewlinesCountLines) {
  Parsed p = ParseEveryWay(
      "h1,h2\n"
      "a,\"x\ny\nz\"\n"
      "next,1\n"
      "\"crlf\r\ninside\",2\r\n"
      "last,3\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(
      p.rows,
      (Rows{
          {"h1", "h2"}, {"a", "x\ny\nz"}, {"next", "1"}, {"crlf\r\ninside", "2"}, {"last", "3"}}));
  EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2, 5, 6, 8}));
}

TEST(CsvReader, CrLfLineEnds) {
  Parsed p = ParseEveryWay("a,b\r\nc,d\r\n\"e\",\"f\"\r\ng,h");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, (Rows{{"a", "b"}, {"c", "d"}, {"e", "f"}, {"g", "h"}}));
  EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(CsvReader, ByteOrderMark) {
  const std::string bom = "\xEF\xBB\xBF";
  Parsed p = ParseAll(bom + "h1,h2\n1,2\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{"h1", "h2"}, {"1", "2"}}));
  EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2}));
  // A quoted first field after the BOM.
  p = ParseAll(bom + "\"h1\",h2\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.rows, (Rows{{"h1", "h2"}}));
  // Only at the very start.
  p = ParseAll("a\n" + bom + "b\n");
  EXPECT_EQ(p.rows, (Rows{{"a"}, {bom + "b"}}));
  // Just a BOM.
  p = ParseAll(bom);
  EXPECT_TRUE(p.rows.empty());
}

TEST(CsvReader, ByteOrderMarkSplitAcrossReads) {
  // The BOM must be recognised however the source splits its first bytes
  // (a gzip or prefetch source can return 1 or 2 bytes first).
  const std::string text = "\xEF\xBB\xBFh1,h2\n1,2\n";
  for (size_t piece : {1, 2, 3}) {
    for (uint32_t seed = 0; seed < 5; ++seed) {
      Parsed p = ParseAll(text, piece, 4 << 20, seed);
      ASSERT_TRUE(p.status.ok());
      EXPECT_EQ(p.rows, (Rows{{"h1", "h2"}, {"1", "2"}})) << "pieces of up to " << piece;
    }
  }
}

TEST(CsvReader, LastLineWithoutNewline) {
  EXPECT_EQ(ParseEveryWay("a,b\nc,d").rows, (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(ParseEveryWay("a,b\nc,").rows, (Rows{{"a", "b"}, {"c", ""}}));
  EXPECT_EQ(ParseEveryWay("a,b\n\"c\"").rows, (Rows{{"a", "b"}, {"c"}}));
  EXPECT_EQ(ParseEveryWay("a,b\n\"c\"\"\"").rows, (Rows{{"a", "b"}, {"c\""}}));
  EXPECT_EQ(ParseEveryWay("a,b\r").rows, (Rows{{"a", "b"}}));
  EXPECT_EQ(ParseEveryWay("x").rows, (Rows{{"x"}}));
}

TEST(CsvReader, BlankLinesAreOneEmptyField) {
  // Readers above skip a record of one empty field as a blank line.
  Parsed p = ParseEveryWay("a\n\nb\r\n\r\n\nc\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.rows, (Rows{{"a"}, {""}, {"b"}, {""}, {""}, {"c"}}));
  EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(CsvReader, RecordLongerThanTheBuffer) {
  const std::string big(3000, 'x');
  std::string quoted_big;
  for (int i = 0; i < 300; ++i) quoted_big += "ab\"\"c,\n";
  std::string want_quoted;
  for (int i = 0; i < 300; ++i) want_quoted += "ab\"c,\n";
  const std::string text = "h\n" + big + "," + big + "y\n\"" + quoted_big + "\",z\nshort\n";
  for (size_t buffer : {1, 2, 16, 17, 4096}) {
    for (size_t piece : {1 << 20, 61, 4099}) {
      Parsed p = ParseAll(text, piece, buffer, static_cast<uint32_t>(buffer + piece));
      ASSERT_TRUE(p.status.ok()) << p.status.ToString();
      ASSERT_EQ(p.rows.size(), 4u);
      EXPECT_EQ(p.rows[0], (std::vector<std::string>{"h"}));
      EXPECT_EQ(p.rows[1], (std::vector<std::string>{big, big + "y"}));
      EXPECT_EQ(p.rows[2], (std::vector<std::string>{want_quoted, "z"}));
      EXPECT_EQ(p.rows[3], (std::vector<std::string>{"short"}));
      EXPECT_EQ(p.lines, (std::vector<uint64_t>{1, 2, 3, 304}));
    }
  }
}

TEST(CsvReader, UnterminatedQuoteIsBadInput) {
  Parsed p = ParseEveryWay("a,b\nc,\"open\nmore text\n");
  EXPECT_EQ(p.rows, (Rows{{"a", "b"}}));
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:2:"));
  EXPECT_THAT(p.status.message(), HasSubstr("unterminated"));

  p = ParseEveryWay("\"");
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:1:"));
  EXPECT_THAT(p.status.message(), HasSubstr("unterminated"));
}

TEST(CsvReader, UnterminatedQuoteOnALaterLineOfTheRecord) {
  // The record starts on line 1; the unterminated field opens on line 2.
  Parsed p = ParseEveryWay("\"a\nb\",\"open\nrest");
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("unterminated"));
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:2:"));
}

TEST(CsvReader, TextAfterClosingQuoteIsBadInput) {
  Parsed p = ParseEveryWay("h\n\"abc\"x,1\n");
  EXPECT_EQ(p.rows, (Rows{{"h"}}));
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:2:6"));
  EXPECT_THAT(p.status.message(), HasSubstr("after a closing quote"));

  p = ParseEveryWay("a,\"b\" ,c\n");
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:1:6"));
}

TEST(CsvReader, TextAfterClosingQuoteOnALaterLineOfTheRecord) {
  // "a<LF>b"x : the stray x is on line 2, column 3.
  Parsed p = ParseEveryWay("\"a\nb\"x\n");
  EXPECT_EQ(p.status.code(), StatusCode::kBadInput);
  EXPECT_THAT(p.status.message(), HasSubstr("mem.csv:2:3:"));
}

TEST(CsvReader, LocationAndColumns) {
  PieceSource src("a,bb,ccc\n\"q\",\"x\ny\",z\n", 1 << 20);
  CsvReader r(&src, 64);
  EXPECT_EQ(r.name(), "mem.csv");
  EXPECT_EQ(r.source(), &src);
  auto more = r.Next();
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(r.line(), 1u);
  EXPECT_EQ(r.column(0), 1u);
  EXPECT_EQ(r.column(1), 3u);
  EXPECT_EQ(r.column(2), 6u);
  EXPECT_EQ(r.Location(0), "mem.csv:1:1");
  EXPECT_EQ(r.Location(1), "mem.csv:1:3");
  EXPECT_EQ(r.Location(2), "mem.csv:1:6");
  EXPECT_EQ(r.Location(99), "mem.csv:1:1");  // out of range: the record start
  EXPECT_EQ(r.bytes_read(), 9u);

  more = r.Next();
  ASSERT_TRUE(more.ok() && *more);
  ASSERT_EQ(r.num_fields(), 3u);
  EXPECT_EQ(r.line(), 2u);
  // Quoted fields are located at their opening quote, where a person looks.
  EXPECT_EQ(r.Location(0), "mem.csv:2:1");
  EXPECT_EQ(r.Location(1), "mem.csv:2:5");
  // Field 2 starts on line 3, column 4 (after `y",`).
  EXPECT_EQ(r.Location(2), "mem.csv:3:4");
  EXPECT_EQ(r.column(2), 4u);

  more = r.Next();
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  more = r.Next();  // stays at the end
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(CsvReader, LocationAfterByteOrderMark) {
  PieceSource src(
      "\xEF\xBB\xBF"
      "a,b\n",
      1 << 20);
  CsvReader r(&src);
  auto more = r.Next();
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(r.Location(0), "mem.csv:1:1");
  EXPECT_EQ(r.Location(1), "mem.csv:1:3");
}

// Writes one field as CSV: quoted when it must be (or when `force`).
std::string Quote(const std::string& f, bool force) {
  bool need = f.find_first_of(",\"\r\n") != std::string::npos;
  if (!need && !force) return f;
  std::string out = "\"";
  for (char c : f) {
    if (c == '"')
      out += "\"\"";
    else
      out.push_back(c);
  }
  return out + "\"";
}

TEST(CsvReader, PropertyRandomDocumentsRoundTrip) {
  std::mt19937 rng(20240101);
  const std::string alphabet[] = {"a",    "b",  "Z",        " ",      ",",    "\"", "\n",
                                  "\r\n", "\r", "\xC3\xA9", "0.0464", "\"\"", "x,y"};
  constexpr size_t kAlpha = sizeof alphabet / sizeof alphabet[0];
  for (int doc = 0; doc < 400; ++doc) {
    Rows want;
    std::vector<uint64_t> want_lines;
    std::string text;
    const bool crlf = rng() % 2;
    const size_t nrec = 1 + rng() % 25;
    for (size_t r = 0; r < nrec; ++r) {
      want_lines.push_back(1 + static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
      std::vector<std::string> rec;
      const size_t nf = 1 + rng() % 8;
      for (size_t f = 0; f < nf; ++f) {
        std::string field;
        const size_t len = rng() % 4 == 0 ? 0 : rng() % (rng() % 10 == 0 ? 300 : 12);
        for (size_t k = 0; k < len; ++k) field += alphabet[rng() % kAlpha];
        rec.push_back(field);
      }
      for (size_t f = 0; f < nf; ++f) {
        // A record of one empty field must be quoted to survive as a record
        // at the end of the file.
        bool force = rng() % 4 == 0 || (nf == 1 && rec[0].empty());
        text += (f ? "," : "") + Quote(rec[f], force);
      }
      if (r + 1 < nrec || rng() % 2) text += crlf ? "\r\n" : "\n";
      want.push_back(std::move(rec));
    }
    const size_t piece = 1 + rng() % 64;
    const size_t buffer = rng() % 3 == 0 ? 16 : rng() % 2 ? 100 : 1 << 16;
    Parsed p = ParseAll(text, piece, buffer, static_cast<uint32_t>(doc));
    ASSERT_TRUE(p.status.ok()) << "doc " << doc << ": " << p.status.ToString();
    ASSERT_EQ(p.rows, want) << "doc " << doc << " piece " << piece << " buffer " << buffer;
    ASSERT_EQ(p.lines, want_lines) << "doc " << doc;
  }
}

}  // namespace
}  // namespace sagebox::io
