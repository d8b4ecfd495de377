#include "io/byte_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/testing/temp_dir.h"

namespace sagebox::io {
namespace {

using ::testing::HasSubstr;

// Deterministic CSV-ish text that compresses, but not trivially.
std::string MakeText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {
      "AmazonSageMaker", "USE1-Notebk:ml.t3.medium", "0.0464", "2024-01-01T00:00:00Z",
      "Usage",           "\"quoted, text\"",         "\n",     ","};
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 8];
    s.push_back(static_cast<char>('a' + rng() % 26));
  }
  s.resize(n);
  return s;
}

// Reads everything, `chunk` bytes at a time.
Status ReadAll(ByteSource* src, size_t chunk, std::string* out) {
  out->clear();
  std::vector<char> buf(chunk);
  for (;;) {
    size_t got = 12345;
    RETURN_IF_ERROR(src->Read(buf.data(), buf.size(), &got));
    if (got == 0) return Status::Ok();
    if (got > chunk) return Internal("Read returned more than asked");
    out->append(buf.data(), got);
  }
}

class ByteSourceTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  std::string WriteRaw(const std::string& name, const std::string& data) {
    std::string p = Path(name);
    auto f = env_->OpenWritable(p);  // no fsync: these files are throwaway
    EXPECT_TRUE(f.ok());
    if (f.ok()) {
      EXPECT_TRUE((*f)->Append(data).ok());
      EXPECT_TRUE((*f)->Close().ok());
    }
    return p;
  }
  std::string ReadRaw(const std::string& p) {
    std::string s;
    EXPECT_TRUE(env_->ReadFileToString(p, &s).ok());
    return s;
  }
  // A .gz written with zlib's own gzip writer.
  std::string WriteGzip(const std::string& name, const std::string& data) {
    std::string p = Path(name);
    gzFile gz = gzopen(p.c_str(), "wb6");
    EXPECT_NE(gz, nullptr);
    size_t off = 0;
    while (off < data.size()) {  // gzwrite takes an unsigned length
      unsigned n = static_cast<unsigned>(std::min<size_t>(data.size() - off, 1 << 20));
      EXPECT_EQ(gzwrite(gz, data.data() + off, n), static_cast<int>(n));
      off += n;
    }
    EXPECT_EQ(gzclose(gz), Z_OK);
    return p;
  }
  // A .zip with the given members, written with libzip.
  std::string WriteZip(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& members,
                       bool with_dir = false) {
    std::string p = Path(name);
    int err = 0;
    zip_t* za = zip_open(p.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(za, nullptr) << err;
    if (with_dir) {
      EXPECT_GE(zip_dir_add(za, "folder", ZIP_FL_ENC_UTF_8), 0);
    }
    for (const auto& [mname, data] : members) {
      zip_source_t* src = zip_source_buffer(za, data.data(), data.size(), 0);
      EXPECT_NE(src, nullptr);
      EXPECT_GE(zip_file_add(za, mname.c_str(), src, ZIP_FL_ENC_UTF_8), 0);
    }
    EXPECT_EQ(zip_close(za), 0);
    return p;
  }

  StatusOr<std::string> OpenAndRead(const std::string& path, size_t chunk = 4096) {
    ASSIGN_OR_RETURN(auto src, OpenInput(env_, path));
    std::string out;
    RETURN_IF_ERROR(ReadAll(src.get(), chunk, &out));
    return out;
  }

  Env* env_ = Env::Default();
  sagebox::testing::TempDir tmp_{"bytesrc"};
  const std::string dir_ = tmp_.path();
};

TEST_F(ByteSourceTest, PlainFile) {
  const std::string data = MakeText(100'000, 1);
  const std::string p = WriteRaw("plain.csv", data);
  auto src = OpenInput(env_, p);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->name(), p);
  EXPECT_EQ((*src)->CompressedSize(), data.size());
  EXPECT_EQ((*src)->CompressedBytesRead(), 0u);
  std::string out;
  ASSERT_TRUE(ReadAll(src->get(), 777, &out).ok());
  EXPECT_EQ(out, data);
  EXPECT_EQ((*src)->CompressedBytesRead(), data.size());
  // Reading past the end keeps returning 0 bytes.
  char c;
  size_t got = 1;
  ASSERT_TRUE((*src)->Read(&c, 1, &got).ok());
  EXPECT_EQ(got, 0u);
}

TEST_F(ByteSourceTest, TinyAndEmptyPlainFiles) {
  for (const std::string data : {"", "a", "ab", "abc", "\x1f", "PK\x03"}) {
    auto out = OpenAndRead(WriteRaw("tiny", data));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, data);
  }
}

TEST_F(ByteSourceTest, MissingFileIsNotFound) {
  auto src = OpenInput(env_, Path("nope.csv.gz"));
  EXPECT_EQ(src.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(src.status().message(), HasSubstr("nope.csv.gz"));
}

TEST_F(ByteSourceTest, Gzip) {
  const std::string data = MakeText(3'000'000, 2);
  const std::string p = WriteGzip("data.csv.gz", data);
  const uint64_t compressed = ReadRaw(p).size();
  auto src = OpenInput(env_, p);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->CompressedSize(), compressed);
  std::string out;
  ASSERT_TRUE(ReadAll(src->get(), 65536, &out).ok());
  EXPECT_EQ(out, data);
  EXPECT_EQ((*src)->CompressedBytesRead(), compressed);

  // Odd read sizes, including 1 byte at a time for a prefix.
  auto src2 = OpenInput(env_, p);
  ASSERT_TRUE(src2.ok());
  std::string prefix;
  char c;
  for (int i = 0; i < 1000; ++i) {
    size_t got = 0;
    ASSERT_TRUE((*src2)->Read(&c, 1, &got).ok());
    ASSERT_EQ(got, 1u);
    prefix.push_back(c);
  }
  std::string rest;
  ASSERT_TRUE(ReadAll(src2->get(), 12'345, &rest).ok());
  EXPECT_EQ(prefix + rest, data);
}

TEST_F(ByteSourceTest, EmptyGzip) {
  auto out = OpenAndRead(WriteGzip("empty.gz", ""));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "");
}

TEST_F(ByteSourceTest, MultiMemberGzip) {
  const std::string a = MakeText(400'000, 3), b = MakeText(300'001, 4), c = "tail\n";
  std::string cat = ReadRaw(WriteGzip("a.gz", a)) + ReadRaw(WriteGzip("b.gz", b)) +
                    ReadRaw(WriteGzip("c.gz", c)) + ReadRaw(WriteGzip("d.gz", ""));
  const std::string p = WriteRaw("cat.gz", cat);
  for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{7}}) {
    auto out = OpenAndRead(p, chunk);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_TRUE(*out == a + b + c) << "chunk " << chunk << ": got " << out->size() << " bytes";
  }
}

TEST_F(ByteSourceTest, TruncatedGzipIsBadInput) {
  const std::string data = MakeText(500'000, 5);
  const std::string gz = ReadRaw(WriteGzip("full.gz", data));
  // Cut inside the deflate data, inside the 8-byte trailer, and just after the header.
  for (size_t keep :
       {gz.size() / 2, gz.size() - 1, gz.size() - 4, gz.size() - 8, size_t{12}, size_t{2}}) {
    const std::string p = WriteRaw("cut.csv.gz", gz.substr(0, keep));
    auto out = OpenAndRead(p);
    ASSERT_FALSE(out.ok()) << "keep " << keep;
    EXPECT_EQ(out.status().code(), StatusCode::kBadInput) << out.status().ToString();
    EXPECT_THAT(out.status().message(), HasSubstr(p));
    EXPECT_THAT(out.status().message(), HasSubstr("truncated"));
  }
  // A truncated second member too.
  const std::string two = gz + gz.substr(0, gz.size() / 3);
  auto out = OpenAndRead(WriteRaw("cut2.gz", two));
  EXPECT_EQ(out.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(out.status().message(), HasSubstr("truncated"));
}

TEST_F(ByteSourceTest, CorruptGzipIsBadInput) {
  const std::string data = MakeText(200'000, 6);
  const std::string gz = ReadRaw(WriteGzip("ok.gz", data));
  struct Case {
    const char* what;
    size_t at;
    char xor_mask;
  };
  for (const Case& k : {Case{"compression method", 2, 0x0f}, Case{"crc32", gz.size() - 6, 0x01},
                        Case{"isize", gz.size() - 3, 0x40},
                        Case{"deflate data", gz.size() / 2, 0x5a}, Case{"first block", 12, 0x7f}}) {
    std::string bad = gz;
    bad[k.at] = static_cast<char>(bad[k.at] ^ k.xor_mask);
    const std::string p = WriteRaw("bad.csv.gz", bad);
    auto out = OpenAndRead(p);
    ASSERT_FALSE(out.ok()) << k.what;
    EXPECT_EQ(out.status().code(), StatusCode::kBadInput)
        << k.what << ": " << out.status().ToString();
    EXPECT_THAT(out.status().message(), HasSubstr(p)) << k.what;
  }
  // Trailing garbage after a complete member.
  auto out = OpenAndRead(WriteRaw("junk.gz", gz + "this is not gzip"));
  EXPECT_EQ(out.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(out.status().message(), HasSubstr("corrupt"));
}

TEST_F(ByteSourceTest, ZipWithOneMember) {
  const std::string data = MakeText(1'000'000, 7);
  const std::string p = WriteZip("cur.zip", {{"report.csv", data}});
  auto src = OpenInput(env_, p);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ((*src)->name(), p);
  const uint64_t size = ReadRaw(p).size();
  EXPECT_EQ((*src)->CompressedSize(), size);
  std::string out;
  ASSERT_TRUE(ReadAll(src->get(), 10'000, &out).ok());
  EXPECT_EQ(out, data);
  EXPECT_LE((*src)->CompressedBytesRead(), size);
}

TEST_F(ByteSourceTest, ZipWithADirectoryAndOneFile) {
  auto out = OpenAndRead(WriteZip("dir.zip", {{"folder/report.csv", "a,b\n1,2\n"}}, true));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "a,b\n1,2\n");
}

TEST_F(ByteSourceTest, ZipWithTwoMembersIsBadInput) {
  const std::string p = WriteZip("two.zip", {{"a.csv", "a\n"}, {"b.csv", "b\n"}});
  auto src = OpenInput(env_, p);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr(p));
  EXPECT_THAT(src.status().message(), HasSubstr("more than one"));
}

TEST_F(ByteSourceTest, BrokenZipIsBadInput) {
  const std::string zip = ReadRaw(WriteZip("ok.zip", {{"a.csv", MakeText(100'000, 8)}}));
  // No central directory: only the local header survives.
  auto cut = OpenInput(env_, WriteRaw("cut.zip", zip.substr(0, zip.size() / 2)));
  EXPECT_EQ(cut.status().code(), StatusCode::kBadInput) << cut.status().ToString();
  // Damaged member data: found when reading (inflate error or CRC mismatch).
  std::string bad = zip;
  for (size_t i = 200; i < 260; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x55);
  auto out = OpenAndRead(WriteRaw("bad.zip", bad));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kBadInput) << out.status().ToString();
}

// An in-memory source that serves `data` in pieces, then optionally fails.
class FakeSource final : public ByteSource {
 public:
  FakeSource(std::string data, size_t piece, Status fail_at_end = Status::Ok())
      : data_(std::move(data)), piece_(piece), fail_(std::move(fail_at_end)) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    ++reads_;
    *got = 0;
    if (pos_ == data_.size() && !fail_.ok()) return fail_;
    size_t take = std::min({n, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, take);
    pos_ += take;
    read_ = pos_;
    *got = take;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return read_; }
  uint64_t CompressedSize() const override { return data_.size(); }
  const std::string& name() const override { return name_; }
  std::atomic<int>& reads() { return reads_; }

 private:
  std::string data_;
  size_t piece_;
  Status fail_;
  size_t pos_ = 0;
  std::atomic<uint64_t> read_{0};
  std::atomic<int> reads_{0};
  std::string name_ = "fake.csv";
};

TEST(Prefetch, ReturnsIdenticalBytes) {
  const std::string data = MakeText(5'000'000, 9);
  for (size_t block : {size_t{1} << 20, size_t{4096}, size_t{1000}}) {
    auto src = Prefetch(std::make_unique<FakeSource>(data, 70'001), block);
    EXPECT_EQ(src->name(), "fake.csv");
    EXPECT_EQ(src->CompressedSize(), data.size());
    std::string out;
    std::mt19937 rng(static_cast<uint32_t>(block));
    std::vector<char> buf(3 << 20);
    for (;;) {
      size_t want = 1 + rng() % (rng() % 2 ? 100 : buf.size());
      size_t got = 0;
      ASSERT_TRUE(src->Read(buf.data(), want, &got).ok());
      ASSERT_LE(got, want);
      if (got == 0) break;
      out.append(buf.data(), got);
    }
    EXPECT_TRUE(out == data) << "block " << block << ": " << out.size() << " bytes";
    EXPECT_EQ(src->CompressedBytesRead(), data.size());
    size_t got = 1;
    ASSERT_TRUE(src->Read(buf.data(), 10, &got).ok());
    EXPECT_EQ(got, 0u);
  }
}

TEST(Prefetch, EmptySource) {
  auto src = Prefetch(std::make_unique<FakeSource>("", 10), 64);
  std::string out;
  ASSERT_TRUE(ReadAll(src.get(), 100, &out).ok());
  EXPECT_EQ(out, "");
}

TEST(Prefetch, PropagatesErrorsAfterTheData) {
  const std::string data = MakeText(2'000'000, 10);
  auto src = Prefetch(
      std::make_unique<FakeSource>(data, 30'000, BadInput("fake.csv: corrupt gzip data (boom)")),
      64 * 1024);
  std::string out;
  std::vector<char> buf(50'000);
  Status s;
  for (;;) {
    size_t got = 0;
    s = src->Read(buf.data(), buf.size(), &got);
    if (!s.ok() || got == 0) break;
    out.append(buf.data(), got);
  }
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_THAT(s.message(), HasSubstr("boom"));
  EXPECT_TRUE(out == data) << "every byte before the error is delivered: " << out.size();
  // The error is sticky.
  size_t got = 0;
  EXPECT_EQ(src->Read(buf.data(), buf.size(), &got).code(), StatusCode::kBadInput);
  EXPECT_EQ(got, 0u);
}

TEST(Prefetch, ImmediateError) {
  auto src = Prefetch(std::make_unique<FakeSource>("", 10, IoError("disk gone")), 64);
  char buf[8];
  size_t got = 1;
  Status s = src->Read(buf, sizeof buf, &got);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "disk gone");
  EXPECT_EQ(got, 0u);
}

TEST(Prefetch, DestroyWithoutDraining) {
  // The background thread is blocked on a full ring; destruction must not hang.
  for (int i = 0; i < 20; ++i) {
    auto src = Prefetch(std::make_unique<FakeSource>(MakeText(100'000, 11), 1000), 1000);
    if (i % 2) {
      char buf[10];
      size_t got = 0;
      ASSERT_TRUE(src->Read(buf, sizeof buf, &got).ok());
      EXPECT_EQ(got, 10u);
    }
  }
}

TEST_F(ByteSourceTest, PrefetchOverGzip) {
  const std::string data = MakeText(2'500'000, 12);
  auto inner = OpenInput(env_, WriteGzip("p.gz", data));
  ASSERT_TRUE(inner.ok());
  auto src = Prefetch(std::move(*inner), 256 * 1024);
  std::string out;
  ASSERT_TRUE(ReadAll(src.get(), 100'000, &out).ok());
  EXPECT_TRUE(out == data);

  const std::string gz = ReadRaw(Path("p.gz"));
  auto cut = OpenInput(env_, WriteRaw("pc.gz", gz.substr(0, gz.size() / 2)));
  ASSERT_TRUE(cut.ok());
  auto src2 = Prefetch(std::move(*cut), 64 * 1024);
  Status s = ReadAll(src2.get(), 100'000, &out);
  EXPECT_EQ(s.code(), StatusCode::kBadInput);
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
}

}  // namespace
}  // namespace sagebox::io
