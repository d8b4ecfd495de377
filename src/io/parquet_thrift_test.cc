#include "io/parquet_thrift.h"

#include <gtest/gtest.h>

#include <string>

namespace sagebox::io::parquet {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// FileMetaData { 1: version = 1, 2: schema = [root(num_children 1), x INT64 OPTIONAL],
// 3: num_rows = 3, 4: row_groups = [], 5: key_value_metadata = [{1:"k"}] (skipped),
// 6: created_by = "t" (written with a long-form field id) }.
std::string Footer() {
  return Bytes({0x15, 0x02,  // version
                0x19, 0x2C,  // schema: list of 2 structs
                0x48, 0x06}) +
         "schema" +
         Bytes({0x15, 0x02, 0x00,  // name, num_children
                0x15, 0x04, 0x25, 0x02, 0x18, 0x01}) +
         "x" +
         Bytes({0x00,        // type, rep, name
                0x16, 0x06,  // num_rows (i64)
                0x19, 0x0C,  // row_groups: empty list
                0x19, 0x1C, 0x18, 0x01}) +
         "k" +
         Bytes({0x00,  // key_value_metadata
                0x08, 0x0C, 0x01}) +
         "t" + Bytes({0x00});  // field 6 by long form; stop
}

TEST(ParquetThrift, ParsesFooterAndSkipsUnknownFields) {
  FileMetaData m;
  Status s = ParseFileMetaData(Footer(), &m);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(m.version, 1);
  ASSERT_EQ(m.schema.size(), 2u);
  EXPECT_EQ(m.schema[0].name, "schema");
  EXPECT_EQ(m.schema[0].num_children, 1);
  EXPECT_EQ(m.schema[1].name, "x");
  EXPECT_EQ(m.schema[1].type, kInt64);
  EXPECT_EQ(m.schema[1].repetition, 1);
  EXPECT_EQ(m.num_rows, 3);
  EXPECT_TRUE(m.row_groups.empty());
  EXPECT_EQ(m.created_by, "t");
}

TEST(ParquetThrift, EveryTruncationIsBadInput) {
  std::string f = Footer();
  for (size_t n = 0; n < f.size(); ++n) {
    FileMetaData m;
    Status s = ParseFileMetaData(f.substr(0, n), &m);
    EXPECT_EQ(s.code(), StatusCode::kBadInput) << n;
  }
}

TEST(ParquetThrift, DeepNestingAndHugeListsAreRejected) {
  // Field 7 (unknown) holding structs nested 200 deep.
  std::string deep = Bytes({0x7C});
  for (int i = 0; i < 200; ++i) deep += Bytes({0x1C});
  FileMetaData m;
  EXPECT_EQ(ParseFileMetaData(deep, &m).code(), StatusCode::kBadInput);
  // A list claiming 2^40 elements.
  std::string big = Bytes({0x19, 0xFC, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20});
  EXPECT_EQ(ParseFileMetaData(big, &m).code(), StatusCode::kBadInput);
}

TEST(ParquetThrift, PageHeaders) {
  // PageHeader { 1: type DATA_PAGE_V2 (3), 2: uncompressed 100, 3: compressed 50,
  // 8: DataPageHeaderV2 { 1: 10 values, 2: 2 nulls, 3: 10 rows, 4: RLE_DICTIONARY,
  //    5: def bytes 3, 6: rep bytes 0, 7: is_compressed false } }
  std::string h = Bytes({0x15, 0x06, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x5C, 0x15, 0x14, 0x15, 0x04,
                         0x15, 0x14, 0x15, 0x10, 0x15, 0x06, 0x15, 0x00, 0x12, 0x00, 0x00});
  PageHeader p;
  size_t len = 0;
  Status s = ParsePageHeader(h + "payload", &p, &len);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(len, h.size());
  EXPECT_EQ(p.type, kDataPageV2);
  EXPECT_EQ(p.uncompressed_size, 100);
  EXPECT_EQ(p.compressed_size, 50);
  EXPECT_TRUE(p.has_v2);
  EXPECT_EQ(p.num_values, 10);
  EXPECT_EQ(p.num_nulls, 2);
  EXPECT_EQ(p.num_rows, 10);
  EXPECT_EQ(p.encoding, kRleDictionary);
  EXPECT_EQ(p.def_levels_len, 3);
  EXPECT_EQ(p.rep_levels_len, 0);
  EXPECT_FALSE(p.is_compressed);
  // Negative sizes are corrupt.
  std::string neg = Bytes({0x15, 0x00, 0x15, 0x01, 0x15, 0x01, 0x00});
  EXPECT_EQ(ParsePageHeader(neg, &p, &len).code(), StatusCode::kBadInput);
  for (size_t n = 0; n < h.size(); ++n) {
    EXPECT_EQ(ParsePageHeader(h.substr(0, n), &p, &len).code(), StatusCode::kBadInput) << n;
  }
}

}  // namespace
}  // namespace sagebox::io::parquet
