#include "io/parquet_encoding.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/parquet_thrift.h"

namespace sagebox::io::parquet {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

void PutUleb(std::string* s, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    s->push_back(static_cast<char>(b));
  } while (v);
}
void PutZigzag(std::string* s, int64_t v) {
  PutUleb(s, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// A straightforward DELTA_BINARY_PACKED encoder (block 128, 4 miniblocks),
// to round-trip the decoder on arbitrary sequences.
std::string EncodeDbp(const std::vector<int64_t>& v) {
  std::string s;
  PutUleb(&s, 128);
  PutUleb(&s, 4);
  PutUleb(&s, v.size());
  PutZigzag(&s, v.empty() ? 0 : v[0]);
  for (size_t i = 1; i < v.size(); i += 128) {
    size_t end = std::min(v.size(), i + 128);
    std::vector<uint64_t> d;
    int64_t mn = INT64_MAX;
    for (size_t k = i; k < end; ++k) {
      int64_t delta =
          static_cast<int64_t>(static_cast<uint64_t>(v[k]) - static_cast<uint64_t>(v[k - 1]));
      mn = std::min(mn, delta);
      d.push_back(static_cast<uint64_t>(delta));
    }
    PutZigzag(&s, mn);
    for (auto& x : d) x -= static_cast<uint64_t>(mn);
    std::vector<int> widths(4, 0);
    for (size_t m = 0; m < 4; ++m) {
      for (size_t k = m * 32; k < std::min(d.size(), (m + 1) * 32); ++k) {
        widths[m] = std::max(widths[m], BitWidth(d[k]));
      }
      s.push_back(static_cast<char>(widths[m]));
    }
    for (size_t m = 0; m < 4 && m * 32 < d.size(); ++m) {
      std::string bits(32 * static_cast<size_t>(widths[m]) / 8, '\0');
      for (size_t k = 0; k < 32 && m * 32 + k < d.size(); ++k) {
        for (int b = 0; b < widths[m]; ++b) {
          if ((d[m * 32 + k] >> b) & 1) {
            size_t pos = k * static_cast<size_t>(widths[m]) + static_cast<size_t>(b);
            bits[pos / 8] = static_cast<char>(bits[pos / 8] | (1 << (pos % 8)));
          }
        }
      }
      s += bits;
    }
  }
  return s;
}

TEST(ParquetEncoding, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
}

TEST(ParquetEncoding, RleHybridRunsAndBitPacking) {
  // The spec's bit-packing example: 0..7 at width 3 is 0x88 0xC6 0xFA, one group
  // (header (1 << 1) | 1); then an RLE run of five 4s (header 5 << 1).
  std::string d = Bytes({0x03, 0x88, 0xC6, 0xFA, 0x0A, 0x04});
  std::vector<uint32_t> out(13);
  size_t used = 0;
  ASSERT_TRUE(DecodeRleHybrid(d, 3, 13, out.data(), &used).ok());
  EXPECT_EQ(out, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 4, 4, 4, 4, 4}));
  EXPECT_EQ(used, d.size());
  // Fewer values wanted than the run holds: fine. More than the data holds: BadInput.
  ASSERT_TRUE(DecodeRleHybrid(d, 3, 3, out.data()).ok());
  Status s = DecodeRleHybrid(d, 3, 14, out.data());
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  // A bit-packed run claiming more bytes than there are.
  EXPECT_FALSE(DecodeRleHybrid(Bytes({0x05, 0x88}), 3, 8, out.data()).ok());
  EXPECT_FALSE(DecodeRleHybrid(d, 33, 1, out.data()).ok());
}

TEST(ParquetEncoding, Levels) {
  std::vector<int16_t> lv(6);
  // Run of 4 x 1 then run of 2 x 0, width 1.
  ASSERT_TRUE(DecodeLevels(Bytes({0x08, 0x01, 0x04, 0x00}), 1, 6, lv.data()).ok());
  EXPECT_EQ(lv, (std::vector<int16_t>{1, 1, 1, 1, 0, 0}));
}

TEST(ParquetEncoding, PlainTypes) {
  Values v;
  size_t used = 0;
  std::string i32(8, '\0');
  int32_t a = -7, b = 123456;
  std::memcpy(i32.data(), &a, 4);
  std::memcpy(i32.data() + 4, &b, 4);
  ASSERT_TRUE(DecodePlain(i32, kInt32, 0, 2, &v, &used).ok());
  EXPECT_EQ(v.ints, (std::vector<int64_t>{-7, 123456}));
  EXPECT_EQ(used, 8u);
  EXPECT_FALSE(DecodePlain(i32, kInt32, 0, 3, &v, &used).ok());

  // INT96: nanoseconds of the day, then the Julian day (2440588 = 1970-01-01).
  v.clear();
  std::string i96(12, '\0');
  int64_t nanos = 3'600'000'000'000 + 999;  // 01:00:00 and a bit
  int32_t jd = 2440588 + 19723;             // 2024-01-01
  std::memcpy(i96.data(), &nanos, 8);
  std::memcpy(i96.data() + 8, &jd, 4);
  ASSERT_TRUE(DecodePlain(i96, kInt96, 0, 1, &v, &used).ok());
  EXPECT_EQ(v.ints[0], 1704067200 + 3600);

  v.clear();
  std::string ba = Bytes({3, 0, 0, 0}) + "abc" + Bytes({0, 0, 0, 0}) + Bytes({2, 0, 0, 0}) + "xy";
  ASSERT_TRUE(DecodePlain(ba, kByteArray, 0, 3, &v, &used).ok());
  ASSERT_EQ(v.bytes.size(), 3u);
  EXPECT_EQ(v.bytes[0], "abc");
  EXPECT_EQ(v.bytes[1], "");
  EXPECT_EQ(v.bytes[2], "xy");
  EXPECT_EQ(used, ba.size());
  EXPECT_FALSE(DecodePlain(ba.substr(0, ba.size() - 1), kByteArray, 0, 3, &v, &used).ok());

  v.clear();
  ASSERT_TRUE(DecodePlain("abcdef", kFixedLenByteArray, 3, 2, &v, &used).ok());
  EXPECT_EQ(v.bytes[1], "def");
  EXPECT_FALSE(DecodePlain("abcdef", kFixedLenByteArray, 0, 2, &v, &used).ok());

  v.clear();
  ASSERT_TRUE(DecodePlain(Bytes({0x05}), kBoolean, 0, 3, &v, &used).ok());
  EXPECT_EQ(v.ints, (std::vector<int64_t>{1, 0, 1}));

  v.clear();
  double d = 0.1;
  std::string dd(8, '\0');
  std::memcpy(dd.data(), &d, 8);
  ASSERT_TRUE(DecodePlain(dd, kDouble, 0, 1, &v, &used).ok());
  EXPECT_EQ(v.doubles[0], 0.1);
}

TEST(ParquetEncoding, DeltaBinaryPackedSpecExamples) {
  // Spec example 1: 1..5 (all deltas 1, so min delta 1 and width 0: no body).
  std::string e1 = Bytes({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0});
  std::vector<int64_t> out;
  size_t used = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(e1, 5, &out, &used).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(used, e1.size());
  // Spec example 2: 7,5,3,1,2,3,4,5: min delta -2, relative 0,0,0,3,3,3,3 at width 2.
  std::string e2 =
      Bytes({0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0});
  out.clear();
  ASSERT_TRUE(DecodeDeltaBinaryPacked(e2, 8, &out, &used).ok());
  EXPECT_EQ(out, (std::vector<int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  EXPECT_EQ(used, e2.size());
  // More values than the page holds, or a truncated body: BadInput.
  out.clear();
  EXPECT_FALSE(DecodeDeltaBinaryPacked(e2, 7, &out, &used).ok());
  out.clear();
  EXPECT_FALSE(DecodeDeltaBinaryPacked(e2.substr(0, 12), 8, &out, &used).ok());
}

TEST(ParquetEncoding, DeltaBinaryPackedRoundTrip) {
  std::vector<int64_t> v;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 1000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v.push_back(i % 7 == 0 ? static_cast<int64_t>(x) : static_cast<int64_t>(x % 1000) - 500);
  }
  v.push_back(INT64_MIN);
  v.push_back(INT64_MAX);
  std::string enc = EncodeDbp(v);
  std::vector<int64_t> out;
  size_t used = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(enc, v.size(), &out, &used).ok());
  EXPECT_EQ(out, v);
  EXPECT_EQ(used, enc.size());
}

TEST(ParquetEncoding, DeltaLengthAndDeltaByteArray) {
  std::string dlba = EncodeDbp({5, 5, 6, 6}) + "HelloWorldFoobarABCDEF";
  std::vector<std::string_view> out;
  size_t used = 0;
  ASSERT_TRUE(DecodeDeltaLengthByteArray(dlba, 4, &out, &used).ok());
  EXPECT_EQ(out, (std::vector<std::string_view>{"Hello", "World", "Foobar", "ABCDEF"}));
  out.clear();
  EXPECT_FALSE(DecodeDeltaLengthByteArray(dlba.substr(0, dlba.size() - 1), 4, &out, &used).ok());

  // The spec's front-coding example.
  std::string dba = EncodeDbp({0, 2, 0, 3}) + EncodeDbp({4, 2, 6, 5}) + "axislebabbleyhood";
  std::string storage;
  out.clear();
  ASSERT_TRUE(DecodeDeltaByteArray(dba, 4, &storage, &out).ok());
  EXPECT_EQ(out, (std::vector<std::string_view>{"axis", "axle", "babble", "babyhood"}));
  // A prefix longer than the previous value.
  std::string bad = EncodeDbp({0, 9}) + EncodeDbp({1, 1}) + "ab";
  out.clear();
  EXPECT_FALSE(DecodeDeltaByteArray(bad, 2, &storage, &out).ok());
}

}  // namespace
}  // namespace sagebox::io::parquet
