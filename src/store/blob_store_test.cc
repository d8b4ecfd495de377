#include "store/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/testing/fault_env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::store {
namespace {

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(BlobStoreTest, NamesBlobsByTheirSha256AndStoresEachOnce) {
  testing::TempDir dir("blob");
  BlobStore blobs(Env::Default(), dir.Path("blobs"));
  auto a = blobs.PutBytes("abc");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sha256, kAbc);
  EXPECT_EQ(a->bytes, 3u);
  ASSERT_TRUE(blobs.Contains(kAbc));
  std::string got;
  ASSERT_TRUE(Env::Default()->ReadFileToString(*blobs.Path(kAbc), &got).ok());
  EXPECT_EQ(got, "abc");

  // The same bytes from a file: the same name, still one file, no temporary left.
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("in.txt"), "abc").ok());
  auto b = blobs.PutFile(dir.Path("in.txt"));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->sha256, kAbc);
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Path("blobs"))) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(BlobStoreTest, RefusesNamesThatAreNotHashes) {
  BlobStore blobs(Env::Default(), "/nonexistent");
  EXPECT_EQ(blobs.Path("../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs.Path(std::string(64, 'A')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(blobs.Contains("abc"));
  auto missing = blobs.PutFile("/nonexistent/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("/nonexistent/file"), std::string::npos)
      << missing.status().ToString();
}

TEST(BlobStoreTest, AFullDiskLeavesNothingBehind) {
  testing::TempDir dir("blob");
  FaultEnv env;
  env.FailAppendAfter(10);
  BlobStore blobs(&env, dir.Path("blobs"));
  auto r = blobs.PutBytes(std::string(100, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.Path("blobs"))) {
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 0);
}

}  // namespace
}  // namespace sagebox::store
