#include "store/segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/testing/fault_env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::store {
namespace {

using ::testing::HasSubstr;

class SegmentTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  std::string ReadRaw(const std::string& p) {
    std::string s;
    EXPECT_TRUE(env_->ReadFileToString(p, &s).ok());
    return s;
  }
  // Replaces the file's bytes (no fsync: these files are throwaway).
  void WriteRaw(const std::string& p, const std::string& data) {
    auto f = env_->OpenWritable(p);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  Env* env_ = Env::Default();
  sagebox::testing::TempDir tmp_{"seg"};
  const std::string dir_ = tmp_.path();
};

// The footer JSON of a segment file's bytes (the tests look at chunk widths).
nlohmann::json Footer(const std::string& file) {
  uint64_t len;
  std::memcpy(&len, file.data() + file.size() - 16, 8);
  return nlohmann::json::parse(file.substr(file.size() - 16 - len, len));
}

// Every value of a string column, across row groups.
std::vector<std::string> ReadStrings(const Segment& seg, int col) {
  std::vector<std::string> out;
  std::vector<uint32_t> codes;
  for (size_t rg = 0; rg < seg.num_row_groups(); ++rg) {
    Status s = seg.ReadCodes(rg, col, &codes);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(codes.size(), seg.row_group_rows(rg));
    for (uint32_t c : codes) out.push_back(seg.Dictionary(col).at(c));
  }
  return out;
}

std::vector<int64_t> ReadInts(const Segment& seg, int col) {
  std::vector<int64_t> out, v;
  for (size_t rg = 0; rg < seg.num_row_groups(); ++rg) {
    Status s = seg.ReadInt64(rg, col, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<int128> ReadDecimals(const Segment& seg, int col) {
  std::vector<int128> out, v;
  for (size_t rg = 0; rg < seg.num_row_groups(); ++rg) {
    Status s = seg.ReadDecimal(rg, col, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::string Str(int128 v) { return Decimal::FromRaw(v).ToString(); }

std::vector<std::string> Strs(const std::vector<int128>& v) {
  std::vector<std::string> out;
  for (int128 x : v) out.push_back(Str(x));
  return out;
}

const std::vector<ColumnSpec> kSpecs = {
    {"name", ColumnType::kString}, {"ts", ColumnType::kInt64}, {"cost", ColumnType::kDecimal}};

TEST_F(SegmentTest, RoundTripsEveryValueWithColumnsAddedMidStream) {
  const std::string p = Path("seg-000001.sbx");
  auto w = SegmentWriter::Create(env_, p, kSpecs, /*row_group_rows=*/4);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  SegmentWriter& sw = **w;
  EXPECT_EQ(sw.FindColumn("name"), 0);
  EXPECT_EQ(sw.FindColumn("ts"), 1);
  EXPECT_EQ(sw.FindColumn("cost"), 2);
  EXPECT_EQ(sw.FindColumn("missing"), -1);
  EXPECT_EQ(sw.StringColumn("name"), 0);  // existing column: no new one

  const int128 kWide = (int128{1} << 100) + 12345;  // > int64
  std::vector<std::string> names, tag_a, tag_b, tag_c;
  std::vector<int64_t> ts;
  std::vector<int128> cost;
  int a = -1, b = -1, c = -1;
  const int kRows = 11;
  for (int r = 0; r < kRows; ++r) {
    // tag_a appears mid row group 0, tag_b mid row group 1 (after a flush),
    // tag_c exactly at the start of row group 2.
    if (r == 2) a = sw.StringColumn("tag_a");
    if (r == 6) b = sw.StringColumn("tag_b");
    if (r == 8) c = sw.StringColumn("tag_c");
    std::string name = r % 3 == 0 ? "" : "notebook-" + std::to_string(r % 4);
    if (r != 5) sw.SetString(0, name);  // row 5 leaves it unset: reads ""
    names.push_back(r == 5 ? "" : name);
    int64_t t = r == 7 ? INT64_MIN : r == 9 ? INT64_MAX : 1'704'067'200 + 3600 * r;
    if (r != 3) sw.SetInt64(1, t);
    ts.push_back(r == 3 ? 0 : t);
    int128 v = r == 6 ? kWide : r == 10 ? -kWide : int128{464'000'000} * r - 5;
    if (r != 4) sw.SetDecimal(2, Decimal::FromRaw(v));
    cost.push_back(r == 4 ? 0 : v);

    std::string va = r >= 2 && r % 2 ? "team-" + std::to_string(r) : "";
    if (a >= 0 && !va.empty()) sw.SetString(a, va);
    tag_a.push_back(va);
    std::string vb = r >= 6 ? "B" : "";
    if (b >= 0 && !vb.empty()) sw.SetString(b, vb);
    tag_b.push_back(vb);
    std::string vc = r == 9 ? "only-nine" : "";
    if (c >= 0 && !vc.empty()) sw.SetString(c, vc);
    tag_c.push_back(vc);
    ASSERT_TRUE(sw.EndRow().ok());
    EXPECT_EQ(sw.rows(), r + 1);
  }
  // A column that first appears after the last row (before Finish flushes
  // the last row group): every row reads "".
  int d = sw.StringColumn("tag_d");
  EXPECT_EQ(d, 6);
  ASSERT_TRUE(sw.Finish({{"source", "test"}, {"n", 11}}).ok());
  EXPECT_EQ(sw.bytes_written(), ReadRaw(p).size());

  auto seg = Segment::Open(env_, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  const Segment& s = **seg;
  EXPECT_EQ(s.rows(), kRows);
  ASSERT_EQ(s.num_row_groups(), 3u);
  EXPECT_EQ(s.row_group_rows(0), 4u);
  EXPECT_EQ(s.row_group_rows(1), 4u);
  EXPECT_EQ(s.row_group_rows(2), 3u);
  EXPECT_EQ(s.meta(), (nlohmann::json{{"source", "test"}, {"n", 11}}));
  ASSERT_EQ(s.num_columns(), 7u);
  EXPECT_EQ(s.column(0).name, "name");
  EXPECT_EQ(s.column(1).type, ColumnType::kInt64);
  EXPECT_EQ(s.column(2).type, ColumnType::kDecimal);
  EXPECT_EQ(s.column(3).name, "tag_a");
  EXPECT_EQ(s.column(6).name, "tag_d");
  EXPECT_EQ(s.FindColumn("tag_b"), 4);
  EXPECT_EQ(s.FindColumn("nope"), -1);

  EXPECT_EQ(ReadStrings(s, 0), names);
  EXPECT_EQ(ReadInts(s, 1), ts);
  EXPECT_EQ(Strs(ReadDecimals(s, 2)), Strs(cost));
  EXPECT_EQ(ReadStrings(s, 3), tag_a);
  EXPECT_EQ(ReadStrings(s, 4), tag_b);
  EXPECT_EQ(ReadStrings(s, 5), tag_c);
  EXPECT_EQ(ReadStrings(s, 6), std::vector<std::string>(kRows, ""));
  for (int col : {0, 3, 4, 5, 6}) {
    ASSERT_FALSE(s.Dictionary(col).empty());
    EXPECT_EQ(s.Dictionary(col)[0], "") << col;
  }
  // Decimal widths: group 0 fits int64 (8 bytes), groups 1 and 2 hold wide values.
  nlohmann::json f = Footer(ReadRaw(p));
  EXPECT_EQ(f["row_groups"][0]["chunks"][2][2], 8);
  EXPECT_EQ(f["row_groups"][1]["chunks"][2][2], 16);
  EXPECT_EQ(f["row_groups"][2]["chunks"][2][2], 16);
  // Columns added later have no chunk in earlier row groups.
  EXPECT_EQ(f["row_groups"][0]["chunks"].size(), 4u);  // tag_a added in group 0
  EXPECT_EQ(f["row_groups"][1]["chunks"].size(), 5u);
  EXPECT_EQ(f["row_groups"][2]["chunks"].size(), 7u);  // tag_d joined the unflushed group 2

  // Reading with the wrong type is a programming error, reported as Internal.
  std::vector<int64_t> iv;
  EXPECT_EQ(s.ReadInt64(0, 0, &iv).code(), StatusCode::kInternal);
  std::vector<uint32_t> cv;
  EXPECT_EQ(s.ReadCodes(0, 2, &cv).code(), StatusCode::kInternal);
  EXPECT_EQ(s.ReadCodes(0, 99, &cv).code(), StatusCode::kInternal);
}

TEST_F(SegmentTest, LastSetWinsAndEmptyStringIsCodeZero) {
  const std::string p = Path("s.sbx");
  auto w = SegmentWriter::Create(env_, p, kSpecs);
  ASSERT_TRUE(w.ok());
  (*w)->SetString(0, "first");
  (*w)->SetString(0, "second");
  (*w)->SetInt64(1, 1);
  (*w)->SetInt64(1, 2);
  (*w)->SetDecimal(2, Decimal::FromInt(1));
  (*w)->SetDecimal(2, Decimal::FromInt(3));
  ASSERT_TRUE((*w)->EndRow().ok());
  (*w)->SetString(0, "");
  ASSERT_TRUE((*w)->EndRow().ok());
  (*w)->SetString(0, "second");
  ASSERT_TRUE((*w)->EndRow().ok());
  ASSERT_TRUE((*w)->Finish(nlohmann::json::object()).ok());

  auto seg = Segment::Open(env_, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  std::vector<uint32_t> codes;
  ASSERT_TRUE((*seg)->ReadCodes(0, 0, &codes).ok());
  ASSERT_EQ(codes.size(), 3u);
  EXPECT_EQ(codes[1], 0u);
  EXPECT_EQ(codes[0], codes[2]);
  EXPECT_EQ((*seg)->Dictionary(0)[0], "");
  EXPECT_EQ(ReadStrings(**seg, 0), (std::vector<std::string>{"second", "", "second"}));
  EXPECT_EQ(ReadInts(**seg, 1), (std::vector<int64_t>{2, 0, 0}));
  EXPECT_EQ(Strs(ReadDecimals(**seg, 2)), (std::vector<std::string>{"3", "0", "0"}));
}

// Billing columns are runs and zeros; zstd must make the file far smaller
// than the raw chunks while every value still reads back exactly.
TEST_F(SegmentTest, RepetitiveColumnsAreCompressed) {
  const std::string p = Path("z.sbx");
  auto w = SegmentWriter::Create(env_, p, kSpecs);
  ASSERT_TRUE(w.ok());
  const int kRows = 100000;
  for (int i = 0; i < kRows; ++i) {
    (*w)->SetString(0, i % 2 ? "USE1-Notebk:ml.t3.medium" : "USE1-Host:ml.m5.large");
    (*w)->SetInt64(1, 1704067200 + 3600 * (i / 100));
    (*w)->SetDecimal(2, Decimal::FromRaw(i % 3 == 0 ? 464000000 : 0));
    ASSERT_TRUE((*w)->EndRow().ok());
  }
  ASSERT_TRUE((*w)->Finish(nlohmann::json::object()).ok());
  auto size = env_->FileSize(p);
  ASSERT_TRUE(size.ok());
  const uint64_t raw = static_cast<uint64_t>(kRows) * (1 + 8 + 8);
  EXPECT_LT(*size, raw / 10) << "file " << *size << " bytes, raw chunks " << raw;
  auto seg = Segment::Open(env_, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  auto ints = ReadInts(**seg, 1);
  auto decs = ReadDecimals(**seg, 2);
  ASSERT_EQ(ints.size(), static_cast<size_t>(kRows));
  ASSERT_EQ(decs.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    ASSERT_EQ(ints[i], 1704067200 + 3600 * (i / 100)) << i;
    ASSERT_EQ(decs[i], i % 3 == 0 ? 464000000 : 0) << i;
  }
}

TEST_F(SegmentTest, EmptySegment) {
  const std::string p = Path("empty.sbx");
  auto w = SegmentWriter::Create(env_, p, kSpecs);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish({{"k", "v"}}).ok());
  auto seg = Segment::Open(env_, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->rows(), 0);
  EXPECT_EQ((*seg)->num_row_groups(), 0u);
  EXPECT_EQ((*seg)->num_columns(), 3u);
  EXPECT_EQ((*seg)->Dictionary(0), (std::vector<std::string>{""}));
  EXPECT_EQ((*seg)->meta()["k"], "v");
}

// Writes `distinct` different strings (one per row) and returns the code width used.
struct WidthCase {
  size_t distinct;
  int width;
};

class CodeWidthTest : public SegmentTest, public ::testing::WithParamInterface<WidthCase> {};

TEST_P(CodeWidthTest, RoundTrips) {
  const WidthCase wc = GetParam();
  const std::string p = Path("w.sbx");
  auto w = SegmentWriter::Create(env_, p, {{"s", ColumnType::kString}}, /*row_group_rows=*/1 << 20);
  ASSERT_TRUE(w.ok());
  std::vector<std::string> want;
  for (size_t i = 0; i < wc.distinct; ++i) {
    // Reuse earlier strings now and then; the largest code is still `distinct`.
    std::string v = i % 5 == 4 ? want[i / 2] : "v" + std::to_string(i);
    if (i % 5 == 4) {
      (*w)->SetString(0, v);
      ASSERT_TRUE((*w)->EndRow().ok());
      want.push_back(v);
      v = "v" + std::to_string(i);
    }
    (*w)->SetString(0, v);
    ASSERT_TRUE((*w)->EndRow().ok());
    want.push_back(v);
  }
  (*w)->SetString(0, "");
  ASSERT_TRUE((*w)->EndRow().ok());
  want.push_back("");
  ASSERT_TRUE((*w)->Finish(nlohmann::json::object()).ok());

  auto seg = Segment::Open(env_, p);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->Dictionary(0).size(), wc.distinct + 1);
  EXPECT_EQ(ReadStrings(**seg, 0), want);
  nlohmann::json f = Footer(ReadRaw(p));
  ASSERT_EQ(f["row_groups"].size(), 1u);
  EXPECT_EQ(f["row_groups"][0]["chunks"][0][2], wc.width);
  // [offset, stored length, width, crc, codec, raw length]: the raw chunk is
  // rows x width; what is stored may be zstd-compressed and smaller.
  EXPECT_EQ(f["row_groups"][0]["chunks"][0][5], want.size() * static_cast<size_t>(wc.width));
  EXPECT_LE(f["row_groups"][0]["chunks"][0][1].get<size_t>(),
            want.size() * static_cast<size_t>(wc.width));
}

INSTANTIATE_TEST_SUITE_P(Widths, CodeWidthTest,
                         ::testing::Values(WidthCase{10, 1}, WidthCase{255, 1}, WidthCase{256, 2},
                                           WidthCase{300, 2}, WidthCase{65535, 2},
                                           WidthCase{65536, 4}),
                         [](const auto& param_info) {
                           return "d" + std::to_string(param_info.param.distinct);
                         });

class CorruptSegmentTest : public SegmentTest {
 protected:
  void SetUp() override {
    SegmentTest::SetUp();
    path_ = Path("c.sbx");
    auto w = SegmentWriter::Create(env_, path_, kSpecs, 4);
    ASSERT_TRUE(w.ok());
    for (int r = 0; r < 10; ++r) {
      (*w)->SetString(0, "name" + std::to_string(r % 3));
      (*w)->SetInt64(1, r * 1000);
      (*w)->SetDecimal(2, Decimal::FromRaw(int128{r} << 70));
      ASSERT_TRUE((*w)->EndRow().ok());
    }
    ASSERT_TRUE((*w)->Finish({{"m", 1}}).ok());
    good_ = ReadRaw(path_);
    footer_ = Footer(good_);
  }
  // Offset of the chunk of column `col` in row group `rg`.
  size_t ChunkOffset(size_t rg, size_t col) const {
    return footer_["row_groups"][rg]["chunks"][col][0].get<size_t>();
  }

  std::string path_, good_;
  nlohmann::json footer_;
};

TEST_F(CorruptSegmentTest, IntactFileReads) {
  auto seg = Segment::Open(env_, path_);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(ReadInts(**seg, 1),
            (std::vector<int64_t>{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000}));
  EXPECT_EQ(ReadStrings(**seg, 0)[5], "name2");
}

TEST_F(CorruptSegmentTest, FlippedChunkByteIsCorruption) {
  struct Case {
    size_t rg, col;
  };
  for (Case k : {Case{0, 0}, Case{1, 1}, Case{2, 2}, Case{0, 2}}) {
    std::string bad = good_;
    bad[ChunkOffset(k.rg, k.col) + 1] ^= 0x10;
    WriteRaw(path_, bad);
    auto seg = Segment::Open(env_, path_);
    ASSERT_TRUE(seg.ok()) << "the footer is intact: " << seg.status().ToString();
    std::vector<uint32_t> codes;
    std::vector<int64_t> ints;
    std::vector<int128> decs;
    Status s = k.col == 0   ? (*seg)->ReadCodes(k.rg, 0, &codes)
               : k.col == 1 ? (*seg)->ReadInt64(k.rg, 1, &ints)
                            : (*seg)->ReadDecimal(k.rg, 2, &decs);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(path_));
    // The other chunks of the same row group still read.
    for (int col = 0; col < 3; ++col) {
      if (static_cast<size_t>(col) == k.col) continue;
      Status o = col == 0   ? (*seg)->ReadCodes(k.rg, 0, &codes)
                 : col == 1 ? (*seg)->ReadInt64(k.rg, 1, &ints)
                            : (*seg)->ReadDecimal(k.rg, 2, &decs);
      EXPECT_TRUE(o.ok()) << o.ToString();
    }
  }
}

TEST_F(CorruptSegmentTest, FlippedDictionaryByteIsCorruption) {
  const size_t dict_off = footer_["columns"][0]["dict"][0].get<size_t>();
  std::string bad = good_;
  bad[dict_off + 6] ^= 0x01;
  WriteRaw(path_, bad);
  auto seg = Segment::Open(env_, path_);
  EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(seg.status().message(), HasSubstr("dictionary"));
}

TEST_F(CorruptSegmentTest, TruncatedFileIsCorruption) {
  // Every length near either end (header, chunks; footer, length, end
  // marker) and a sample in between.
  for (size_t keep = 0; keep < good_.size();
       keep += keep < 40 || keep + 40 > good_.size() ? 1 : 7) {
    WriteRaw(path_, good_.substr(0, keep));
    auto seg = Segment::Open(env_, path_);
    ASSERT_FALSE(seg.ok()) << "truncated to " << keep << " bytes";
    EXPECT_EQ(seg.status().code(), StatusCode::kCorruption) << seg.status().ToString();
  }
}

TEST_F(CorruptSegmentTest, BadTailMagicIsCorruption) {
  std::string bad = good_;
  bad[bad.size() - 1] = 'X';
  WriteRaw(path_, bad);
  auto seg = Segment::Open(env_, path_);
  EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(seg.status().message(), HasSubstr(path_));
}

TEST_F(CorruptSegmentTest, BadHeadMagicIsCorruption) {
  std::string bad = good_;
  bad[0] = 'X';  // "XBXSEG01": not a segment file
  WriteRaw(path_, bad);
  auto seg = Segment::Open(env_, path_);
  EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
}

TEST_F(CorruptSegmentTest, BadFooterIsCorruption) {
  // Footer length larger than the file.
  std::string bad = good_;
  uint64_t huge = uint64_t{1} << 40;
  std::memcpy(bad.data() + bad.size() - 16, &huge, 8);
  WriteRaw(path_, bad);
  EXPECT_EQ(Segment::Open(env_, path_).status().code(), StatusCode::kCorruption);

  // Footer bytes that are not JSON.
  uint64_t len;
  std::memcpy(&len, good_.data() + good_.size() - 16, 8);
  bad = good_;
  bad[good_.size() - 16 - len] = '#';
  WriteRaw(path_, bad);
  EXPECT_EQ(Segment::Open(env_, path_).status().code(), StatusCode::kCorruption);

  // Well-formed JSON of the wrong shape.
  auto with_footer = [&](const nlohmann::json& f) {
    std::string body = good_.substr(0, good_.size() - 16 - len);
    std::string text = f.dump();
    uint64_t n = text.size();
    return body + text + std::string(reinterpret_cast<const char*>(&n), 8) + "SBXEND01";
  };
  nlohmann::json missing_rows = footer_;
  missing_rows.erase("rows");
  nlohmann::json chunk_beyond = footer_;
  chunk_beyond["row_groups"][0]["chunks"][0][0] = good_.size() + 100;
  nlohmann::json wrong_rows = footer_;
  wrong_rows["row_groups"][0]["rows"] = 5;  // chunk sizes no longer match
  nlohmann::json not_object = nlohmann::json::array({1, 2});
  for (const auto& f : {missing_rows, chunk_beyond, not_object}) {
    WriteRaw(path_, with_footer(f));
    auto seg = Segment::Open(env_, path_);
    EXPECT_EQ(seg.status().code(), StatusCode::kCorruption) << f.dump();
  }
  WriteRaw(path_, with_footer(wrong_rows));
  auto seg = Segment::Open(env_, path_);
  ASSERT_TRUE(seg.ok());
  std::vector<int64_t> ints;
  EXPECT_EQ((*seg)->ReadInt64(0, 1, &ints).code(), StatusCode::kCorruption);
}

// A footer whose chunk width does not suit the column type (int64 chunk of
// width 4, with a matching length and CRC) must be Corruption, not a read
// past the buffer. DISABLED: today ReadInt64 memcpys rows*8 bytes from a
// rows*4 buffer and ASan aborts the whole binary. Run with
// --gtest_also_run_disabled_tests once segment.cc validates widths.
TEST_F(CorruptSegmentTest, ChunkWidthNotMatchingTheTypeIsCorruption) {
  uint64_t len;
  std::memcpy(&len, good_.data() + good_.size() - 16, 8);
  nlohmann::json f = footer_;
  auto& chunk = f["row_groups"][0]["chunks"][1];  // "ts": int64, 4 rows
  const size_t off = chunk[0].get<size_t>();
  chunk[1] = 16;
  chunk[2] = 4;
  chunk[3] =
      static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(good_.data() + off), 16));
  std::string text = f.dump();
  uint64_t n = text.size();
  WriteRaw(path_, good_.substr(0, good_.size() - 16 - len) + text +
                      std::string(reinterpret_cast<const char*>(&n), 8) + "SBXEND01");
  auto seg = Segment::Open(env_, path_);
  if (!seg.ok()) {
    EXPECT_EQ(seg.status().code(), StatusCode::kCorruption);
    return;
  }
  std::vector<int64_t> ints;
  EXPECT_EQ((*seg)->ReadInt64(0, 1, &ints).code(), StatusCode::kCorruption);
}

TEST_F(SegmentTest, MissingFileIsAnError) {
  auto seg = Segment::Open(env_, Path("none.sbx"));
  EXPECT_FALSE(seg.ok());
  EXPECT_THAT(seg.status().message(), HasSubstr("none.sbx"));
}

TEST_F(SegmentTest, WriteFailuresSurface) {
  FaultEnv fault(env_);
  // A full disk while row groups are flushed.
  fault.FailAppendAfter(100);
  auto w = SegmentWriter::Create(&fault, Path("full.sbx"), kSpecs, 4);
  ASSERT_TRUE(w.ok());
  Status s;
  for (int r = 0; r < 100 && s.ok(); ++r) {
    (*w)->SetString(0, "row" + std::to_string(r));
    (*w)->SetInt64(1, r);
    s = (*w)->EndRow();
  }
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  EXPECT_EQ(Segment::Open(env_, Path("full.sbx")).status().code(), StatusCode::kCorruption);

  // A full disk at the header, and in the middle of the footer.
  fault.Reset();
  fault.FailAppendAfter(0, "header.sbx");
  EXPECT_EQ(SegmentWriter::Create(&fault, Path("header.sbx"), kSpecs).status().code(),
            StatusCode::kIoError);
  auto write_small = [&](Env* env, const std::string& path) {
    auto sw = SegmentWriter::Create(env, path, kSpecs);
    if (!sw.ok()) return sw.status();
    for (int r = 0; r < 3; ++r) {
      (*sw)->SetString(0, "x" + std::to_string(r));
      RETURN_IF_ERROR((*sw)->EndRow());
    }
    return (*sw)->Finish({{"meta", "data"}});
  };
  ASSERT_TRUE(write_small(env_, Path("ok.sbx")).ok());
  const std::string ok = ReadRaw(Path("ok.sbx"));
  uint64_t footer_len;
  std::memcpy(&footer_len, ok.data() + ok.size() - 16, 8);
  fault.Reset();
  fault.FailAppendAfter(ok.size() - 16 - footer_len + 10, "footer.sbx");
  s = write_small(&fault, Path("footer.sbx"));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(ReadRaw(Path("footer.sbx")).size(), ok.size() - 16 - footer_len + 10);
  EXPECT_EQ(Segment::Open(env_, Path("footer.sbx")).status().code(), StatusCode::kCorruption);

  // fsync failing in Finish.
  fault.Reset();
  fault.FailSync("sync.sbx");
  auto w3 = SegmentWriter::Create(&fault, Path("sync.sbx"), kSpecs);
  ASSERT_TRUE(w3.ok());
  (*w3)->SetInt64(1, 7);
  ASSERT_TRUE((*w3)->EndRow().ok());
  EXPECT_EQ((*w3)->Finish(nlohmann::json::object()).code(), StatusCode::kIoError);
  EXPECT_GE(fault.faults(), 1);

  // Creating in a missing folder.
  EXPECT_FALSE(SegmentWriter::Create(env_, Path("no/such/dir.sbx"), kSpecs).ok());
}

}  // namespace
}  // namespace sagebox::store
