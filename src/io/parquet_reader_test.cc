#include "io/parquet_reader.h"

#include <gtest/gtest.h>
#include <libdeflate.h>
#include <snappy-c.h>
#include <zstd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/testing/temp_dir.h"

namespace sagebox::io::parquet {
namespace {

std::string Fixture(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/parquet/" + rel;
}

TEST(ParquetDecimal, FromUnscaled) {
  Decimal d;
  ASSERT_TRUE(DecimalFromUnscaled(12345, 2, &d));
  EXPECT_EQ(d.ToString(), "123.45");
  ASSERT_TRUE(DecimalFromUnscaled(-5, 0, &d));
  EXPECT_EQ(d.ToString(), "-5");
  // More places than Decimal keeps: half away from zero, as Decimal::Parse.
  ASSERT_TRUE(DecimalFromUnscaled(123456789015, 11, &d));
  EXPECT_EQ(d.ToString(), "1.2345678902");
  ASSERT_TRUE(DecimalFromUnscaled(-123456789015, 11, &d));
  EXPECT_EQ(d.ToString(), "-1.2345678902");
  ASSERT_TRUE(DecimalFromUnscaled(123456789014, 11, &d));
  EXPECT_EQ(d.ToString(), "1.2345678901");
  Decimal p;
  ASSERT_TRUE(Decimal::Parse("1.23456789015", &p));
  ASSERT_TRUE(DecimalFromUnscaled(123456789015, 11, &d));
  EXPECT_EQ(d, p);
  EXPECT_FALSE(DecimalFromUnscaled(1, 39, &d));
}

TEST(ParquetDecimal, FromBigEndian) {
  Decimal d;
  ASSERT_TRUE(DecimalFromBigEndian(std::string("\x01\x00", 2), 2, &d));  // 256
  EXPECT_EQ(d.ToString(), "2.56");
  ASSERT_TRUE(DecimalFromBigEndian(std::string("\xff\xfe", 2), 1, &d));  // -2
  EXPECT_EQ(d.ToString(), "-0.2");
  // 17 bytes whose first is only sign extension.
  std::string neg(17, '\xff');
  ASSERT_TRUE(DecimalFromBigEndian(neg, 10, &d));
  EXPECT_EQ(d.ToString(), "-0.0000000001");
  std::string big(17, '\0');
  big[0] = 1;
  EXPECT_FALSE(DecimalFromBigEndian(big, 10, &d));
}

TEST(ParquetDecompress, CodecsRoundTripAndCorruption) {
  std::string plain;
  for (int i = 0; i < 5000; ++i) plain += "line_item_" + std::to_string(i % 97) + ",";
  std::string out;

  std::string sn(snappy_max_compressed_length(plain.size()), '\0');
  size_t sn_len = sn.size();
  ASSERT_EQ(snappy_compress(plain.data(), plain.size(), sn.data(), &sn_len), SNAPPY_OK);
  sn.resize(sn_len);
  ASSERT_TRUE(Decompress(kSnappy, sn, plain.size(), &out).ok());
  EXPECT_EQ(out, plain);
  EXPECT_EQ(Decompress(kSnappy, sn, plain.size() + 1, &out).code(), StatusCode::kBadInput);
  EXPECT_EQ(Decompress(kSnappy, sn.substr(0, sn.size() / 2), plain.size(), &out).code(),
            StatusCode::kBadInput);

  libdeflate_compressor* c = libdeflate_alloc_compressor(6);
  std::string gz(libdeflate_gzip_compress_bound(c, plain.size()), '\0');
  gz.resize(libdeflate_gzip_compress(c, plain.data(), plain.size(), gz.data(), gz.size()));
  libdeflate_free_compressor(c);
  ASSERT_TRUE(Decompress(kGzip, gz, plain.size(), &out).ok());
  EXPECT_EQ(out, plain);
  std::string gz_bad = gz;
  gz_bad[gz.size() / 2] = static_cast<char>(gz_bad[gz.size() / 2] ^ 0x55);
  EXPECT_EQ(Decompress(kGzip, gz_bad, plain.size(), &out).code(), StatusCode::kBadInput);

  std::string zs(ZSTD_compressBound(plain.size()), '\0');
  zs.resize(ZSTD_compress(zs.data(), zs.size(), plain.data(), plain.size(), 3));
  ASSERT_TRUE(Decompress(kZstd, zs, plain.size(), &out).ok());
  EXPECT_EQ(out, plain);
  EXPECT_EQ(Decompress(kZstd, zs, plain.size() - 1, &out).code(), StatusCode::kBadInput);

  ASSERT_TRUE(Decompress(kUncompressed, plain, plain.size(), &out).ok());
  EXPECT_EQ(out, plain);
  Status s = Decompress(kBrotli, plain, plain.size(), &out);
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find("BROTLI"), std::string::npos);
  // A header claiming far more than the codec can expand to is refused up front.
  EXPECT_EQ(Decompress(kSnappy, sn, size_t{1} << 29, &out).code(), StatusCode::kBadInput);
}

// The same column, written by DuckDB with different codecs, encodings and
// types, decodes to the same values.
Decimal SumColumn(const std::string& file, const std::string& name, size_t* rows) {
  auto f = ParquetFile::Open(Env::Default(), Fixture(file));
  EXPECT_TRUE(f.ok()) << f.status().message();
  if (!f.ok()) return {};
  size_t leaf = SIZE_MAX;
  for (size_t i = 0; i < (*f)->leaves().size(); ++i) {
    if ((*f)->leaves()[i].path == std::vector<std::string>{name}) leaf = i;
  }
  EXPECT_NE(leaf, SIZE_MAX);
  const LeafColumn& lc = (*f)->leaves()[leaf];
  Decimal sum;
  *rows = 0;
  ColumnData col;
  for (size_t g = 0; g < (*f)->num_row_groups(); ++g) {
    Status s = (*f)->ReadColumn(g, leaf, &col);
    EXPECT_TRUE(s.ok()) << s.message();
    *rows += col.num_levels;
    int scale = lc.elem.logical == kLogicalDecimal ? lc.elem.logical_scale : lc.elem.scale;
    for (size_t i = 0; i < col.values.size(lc.elem.type); ++i) {
      Decimal d;
      if (lc.elem.type == kDouble) {
        char buf[64];
        auto r = std::to_chars(buf, buf + 64, col.values.doubles[i]);
        EXPECT_TRUE(Decimal::Parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), &d));
      } else if (lc.elem.type == kInt64 || lc.elem.type == kInt32) {
        EXPECT_TRUE(DecimalFromUnscaled(col.values.ints[i], scale, &d));
      } else {
        EXPECT_TRUE(DecimalFromBigEndian(col.values.bytes[i], scale, &d));
      }
      sum += d;
    }
  }
  return sum;
}

TEST(ParquetFile, SameValuesAcrossWriterSettings) {
  size_t rows = 0;
  Decimal ref = SumColumn("cur2/snappy-dict-double.parquet", "line_item_unblended_cost", &rows);
  EXPECT_EQ(rows, 696u);
  EXPECT_FALSE(ref.is_zero());
  for (const char* f : {"cur2/zstd-nodict-smallrg-dec18.parquet", "cur2/gzip-dec38.parquet",
                        "cur2/uncompressed-v2-double.parquet"}) {
    size_t n = 0;
    EXPECT_EQ(SumColumn(f, "line_item_unblended_cost", &n), ref) << f;
    EXPECT_EQ(n, 696u) << f;
  }
  size_t n = 0;
  Decimal focus_ref = SumColumn("focus/snappy-dict-dec38.parquet", "BilledCost", &n);
  EXPECT_EQ(SumColumn("focus/zstd-v2-smallrg-double.parquet", "BilledCost", &n), focus_ref);
}

TEST(ParquetFile, SchemaLevelsAndMaps) {
  auto f = ParquetFile::Open(Env::Default(), Fixture("cur2/zstd-nodict-smallrg-dec18.parquet"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->num_row_groups(), 4u);  // 175-row groups of 696 rows
  const TopField* tags = nullptr;
  for (const auto& t : (*f)->top_fields()) {
    if (t.name == "resource_tags") tags = &t;
  }
  ASSERT_NE(tags, nullptr);
  EXPECT_TRUE(tags->is_group);
  ASSERT_EQ(tags->leaves.size(), 2u);
  const LeafColumn& key = (*f)->leaves()[tags->leaves[0]];
  const LeafColumn& val = (*f)->leaves()[tags->leaves[1]];
  EXPECT_EQ(key.max_rep, 1);
  EXPECT_EQ(key.max_def, 2);  // optional map, repeated key_value, required key
  EXPECT_EQ(val.max_def, 3);
  ColumnData k;
  ASSERT_TRUE((*f)->ReadColumn(0, tags->leaves[0], &k).ok());
  size_t rows = 0;
  for (int16_t r : k.rep) rows += r == 0;
  EXPECT_EQ(rows, static_cast<size_t>((*f)->num_rows(0)));
  for (std::string_view s : k.values.bytes) EXPECT_EQ(s.substr(0, 5), "user_");
}

TEST(ParquetFile, BadFilesNameTheProblem) {
  auto bad = [](const std::string& rel) {
    auto f = ParquetFile::Open(Env::Default(), Fixture(rel));
    if (!f.ok()) return f.status();
    ColumnData col;
    for (size_t g = 0; g < (*f)->num_row_groups(); ++g) {
      for (size_t c = 0; c < (*f)->leaves().size(); ++c) {
        Status s = (*f)->ReadColumn(g, c, &col);
        if (!s.ok()) return s;
      }
    }
    return Status::Ok();
  };
  Status s = bad("bad/bad-magic.parquet");
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find("bad-magic.parquet: corrupt Parquet file: bad magic"),
            std::string::npos);
  s = bad("bad/footer-beyond-file.parquet");
  EXPECT_NE(s.message().find("footer length"), std::string::npos) << s.message();
  s = bad("bad/corrupt-page-header.parquet");
  EXPECT_NE(s.message().find("column 'line_item_unblended_cost', row group 0"), std::string::npos)
      << s.message();
  s = bad("bad/corrupt-gzip-page.parquet");
  EXPECT_NE(s.message().find("corrupt GZIP page"), std::string::npos) << s.message();
  s = bad("bad/lz4-codec.parquet");
  EXPECT_NE(s.message().find("unsupported compression codec LZ4_RAW"), std::string::npos);

  sagebox::testing::TempDir dir("parquet");
  std::string tiny = dir.path() + "/tiny.parquet";
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(tiny, "PAR1PAR1").ok());
  s = ParquetFile::Open(Env::Default(), tiny).status();
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_NE(s.message().find("too short"), std::string::npos);
}

}  // namespace
}  // namespace sagebox::io::parquet

namespace sagebox::io::parquet {
namespace {

// The reference: shortest round-trip text, parsed.
bool SlowDoubleToDecimal(double v, Decimal* out) {
  if (!std::isfinite(v)) return false;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return Decimal::Parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)), out);
}

TEST(ParquetDecimal, DoubleToDecimalIsShortestText) {
  Decimal d;
  ASSERT_TRUE(DoubleToDecimal(0.1, &d));
  EXPECT_EQ(d.ToString(), "0.1");
  ASSERT_TRUE(DoubleToDecimal(-23.605, &d));
  EXPECT_EQ(d.ToString(), "-23.605");
  ASSERT_TRUE(DoubleToDecimal(1.81e-8, &d));
  EXPECT_EQ(d.ToString(), "0.0000000181");
  ASSERT_TRUE(DoubleToDecimal(123456789.12345679, &d));
  EXPECT_EQ(d.ToString(), "123456789.12345679");
  EXPECT_FALSE(DoubleToDecimal(std::nan(""), &d));
  EXPECT_FALSE(DoubleToDecimal(1e300, &d));
  // Random costs of every magnitude, with 0..15 decimals: fast path == text path.
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int places = static_cast<int>(x % 16);
    double v =
        static_cast<double>(static_cast<int64_t>(x >> 20) % 100000000000) / std::pow(10.0, places);
    if (i % 3 == 0) v = -v;
    if (i % 5 == 0) v = std::bit_cast<double>(x >> 2);  // arbitrary bits
    Decimal fast, slow;
    bool a = DoubleToDecimal(v, &fast);
    bool b = SlowDoubleToDecimal(v, &slow);
    ASSERT_EQ(a, b) << v;
    if (a) {
      ASSERT_EQ(fast, slow) << v;
    }
  }
}

}  // namespace
}  // namespace sagebox::io::parquet

namespace sagebox::io::parquet {
namespace {

// A tiny compact-protocol writer, to build files no writer at hand produces
// (DuckDB writes only data page v1).
struct ThriftWriter {
  std::string s;
  int16_t last = 0;
  std::vector<int16_t> stack;
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      s.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    s.push_back(static_cast<char>(v));
  }
  void Zig(int64_t v) { Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Field(int16_t id, int type) {
    int delta = id - last;
    if (delta > 0 && delta <= 15) {
      s.push_back(static_cast<char>((delta << 4) | type));
    } else {
      s.push_back(static_cast<char>(type));
      Zig(id);
    }
    last = id;
  }
  void I32(int16_t id, int64_t v) { Field(id, 5), Zig(v); }
  void I64(int16_t id, int64_t v) { Field(id, 6), Zig(v); }
  void Bin(int16_t id, const std::string& v) { Field(id, 8), Varint(v.size()), s += v; }
  void Bool(int16_t id, bool v) { Field(id, v ? 1 : 2); }
  void List(int16_t id, int elem, int n) {
    Field(id, 9);
    s.push_back(static_cast<char>((n << 4) | elem));
  }
  void Begin() { stack.push_back(last), last = 0; }
  void End() {  // ends the current struct (the outermost one has no Begin)
    s.push_back('\0');
    if (!stack.empty()) last = stack.back(), stack.pop_back();
  }
  void Struct(int16_t id) { Field(id, 12), Begin(); }
};

// One optional INT64 column "x" = [5, NULL, 7] in a single data page v2.
std::string FileWithV2Page(int codec) {
  std::string def = {0x03, 0x05};  // bit-packed levels 1, 0, 1
  std::string vals(16, '\0');
  int64_t a = 5, b = 7;
  std::memcpy(vals.data(), &a, 8);
  std::memcpy(vals.data() + 8, &b, 8);
  std::string body = vals;
  if (codec == kZstd) {
    body.resize(ZSTD_compressBound(vals.size()));
    body.resize(ZSTD_compress(body.data(), body.size(), vals.data(), vals.size(), 1));
  }
  ThriftWriter ph;
  ph.I32(1, kDataPageV2);
  ph.I32(2, static_cast<int64_t>(def.size() + vals.size()));
  ph.I32(3, static_cast<int64_t>(def.size() + body.size()));
  ph.Struct(8);
  ph.I32(1, 3), ph.I32(2, 1), ph.I32(3, 3), ph.I32(4, kPlain), ph.I32(5, 2), ph.I32(6, 0);
  ph.Bool(7, codec != kUncompressed);
  ph.End();
  ph.End();
  std::string chunk = ph.s + def + body;

  ThriftWriter f;
  f.I32(1, 1);
  f.List(2, 12, 2);
  f.Begin(), f.Bin(4, "schema"), f.I32(5, 1), f.End();
  f.Begin(), f.I32(1, kInt64), f.I32(3, 1), f.Bin(4, "x"), f.End();
  f.I64(3, 3);
  f.List(4, 12, 1);
  f.Begin();
  f.List(1, 12, 1);
  f.Begin();
  f.I64(2, 4);
  f.Struct(3);
  f.I32(1, kInt64);
  f.List(2, 5, 1), f.Zig(kPlain);
  f.List(3, 8, 1), f.Varint(1), f.s += "x";
  f.I32(4, codec), f.I64(5, 3), f.I64(6, static_cast<int64_t>(chunk.size()));
  f.I64(7, static_cast<int64_t>(chunk.size())), f.I64(9, 4);
  f.End();  // ColumnMetaData
  f.End();  // ColumnChunk
  f.I64(2, static_cast<int64_t>(chunk.size())), f.I64(3, 3);
  f.End();  // RowGroup
  f.End();  // FileMetaData
  std::string len(4, '\0');
  auto n = static_cast<uint32_t>(f.s.size());
  std::memcpy(len.data(), &n, 4);
  return "PAR1" + chunk + f.s + len + "PAR1";
}

TEST(ParquetFile, DataPageV2UncompressedAndZstd) {
  sagebox::testing::TempDir dir("parquet_v2");
  for (int codec : {static_cast<int>(kUncompressed), static_cast<int>(kZstd)}) {
    std::string path = dir.Path("v2-" + std::to_string(codec) + ".parquet");
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, FileWithV2Page(codec)).ok());
    auto f = ParquetFile::Open(Env::Default(), path);
    ASSERT_TRUE(f.ok()) << f.status().message();
    ASSERT_EQ((*f)->leaves().size(), 1u);
    EXPECT_EQ((*f)->leaves()[0].max_def, 1);
    ColumnData col;
    Status s = (*f)->ReadColumn(0, 0, &col);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(col.num_levels, 3u);
    EXPECT_EQ(col.def, (std::vector<int16_t>{1, 0, 1}));
    EXPECT_EQ(col.values.ints, (std::vector<int64_t>{5, 7}));
  }
}

}  // namespace
}  // namespace sagebox::io::parquet
