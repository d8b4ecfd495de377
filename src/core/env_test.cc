#include "core/env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/testing/fault_env.h"
#include "core/testing/temp_dir.h"

namespace sagebox {
namespace {

using ::testing::HasSubstr;

class EnvTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  Env* env_ = Env::Default();
  sagebox::testing::TempDir tmp_{"env"};
  const std::string dir_ = tmp_.path();
};

TEST_F(EnvTest, WriteFileAtomicThenRead) {
  const std::string p = Path("a.txt");
  ASSERT_TRUE(env_->WriteFileAtomic(p, "hello\nworld\n").ok());
  std::string got = "stale";
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, "hello\nworld\n");
  EXPECT_FALSE(env_->Exists(p + ".tmp"));

  // Overwrite with binary data larger than the 64 KiB read buffer.
  std::string big;
  for (int i = 0; i < 300'000; ++i) big.push_back(static_cast<char>((i * 7919) & 0xff));
  ASSERT_TRUE(env_->WriteFileAtomic(p, big).ok());
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, big);
  auto size = env_->FileSize(p);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, big.size());

  // And back to empty.
  ASSERT_TRUE(env_->WriteFileAtomic(p, "").ok());
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, "");
  EXPECT_EQ(*env_->FileSize(p), 0u);
}

TEST_F(EnvTest, WriteFileAtomicFailureKeepsOldContent) {
  const std::string p = Path("m.json");
  ASSERT_TRUE(env_->WriteFileAtomic(p, "old").ok());
  FaultEnv fault(env_);
  fault.FailAppendAfter(2);
  Status s = fault.WriteFileAtomic(p, "new content");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  std::string got;
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, "old");

  fault.Reset();
  fault.FailRename();
  EXPECT_FALSE(fault.WriteFileAtomic(p, "newer").ok());
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, "old");
  EXPECT_EQ(fault.faults(), 2);

  fault.Reset();
  ASSERT_TRUE(fault.WriteFileAtomic(p, "newest").ok());
  ASSERT_TRUE(env_->ReadFileToString(p, &got).ok());
  EXPECT_EQ(got, "newest");
}

TEST_F(EnvTest, ReadMissingFileIsAnError) {
  std::string got;
  Status s = env_->ReadFileToString(Path("nope"), &got);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("nope"));
  EXPECT_FALSE(env_->OpenSequential(Path("nope")).ok());
  EXPECT_FALSE(env_->OpenRandomAccess(Path("nope")).ok());
  EXPECT_FALSE(env_->FileSize(Path("nope")).ok());
  EXPECT_FALSE(env_->Exists(Path("nope")));
}

TEST_F(EnvTest, ListDirIsSortedAndSkipsDots) {
  for (const char* n : {"b", "a", "c10", "c2", "B", "_x"}) {
    ASSERT_TRUE(env_->WriteFileAtomic(Path(n), n).ok());
  }
  ASSERT_TRUE(env_->CreateDirs(Path("sub/deeper")).ok());
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"B", "_x", "a", "b", "c10", "c2", "sub"}));

  auto empty = env_->ListDir(Path("sub/deeper"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  auto missing = env_->ListDir(Path("missing"));
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
}

TEST_F(EnvTest, DirectoriesRenameRemove) {
  ASSERT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());
  ASSERT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());  // idempotent
  EXPECT_TRUE(env_->IsDirectory(Path("x/y/z")));
  EXPECT_FALSE(env_->IsDirectory(Path("x/y/z/none")));
  ASSERT_TRUE(env_->WriteFileAtomic(Path("x/y/z/f"), "data").ok());
  EXPECT_FALSE(env_->IsDirectory(Path("x/y/z/f")));
  EXPECT_TRUE(env_->SyncDir(Path("x/y")).ok());
  EXPECT_FALSE(env_->SyncDir(Path("none")).ok());

  ASSERT_TRUE(env_->Rename(Path("x/y/z/f"), Path("g")).ok());
  EXPECT_FALSE(env_->Exists(Path("x/y/z/f")));
  EXPECT_TRUE(env_->Exists(Path("g")));
  EXPECT_EQ(env_->Rename(Path("none"), Path("h")).code(), StatusCode::kIoError);

  ASSERT_TRUE(env_->Remove(Path("x")).ok());  // recursive
  EXPECT_FALSE(env_->Exists(Path("x")));
  ASSERT_TRUE(env_->Remove(Path("g")).ok());
  EXPECT_FALSE(env_->Exists(Path("g")));
}

TEST_F(EnvTest, RandomAccessAndSequentialReads) {
  ASSERT_TRUE(env_->WriteFileAtomic(Path("r"), "0123456789").ok());
  auto f = env_->OpenRandomAccess(Path("r"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Size(), 10u);
  char buf[4];
  ASSERT_TRUE((*f)->ReadAt(3, 4, buf).ok());
  EXPECT_EQ(std::string(buf, 4), "3456");
  EXPECT_EQ((*f)->ReadAt(8, 4, buf).code(), StatusCode::kCorruption);

  auto sf = env_->OpenSequential(Path("r"));
  ASSERT_TRUE(sf.ok());
  std::string all;
  for (;;) {
    size_t got = 0;
    ASSERT_TRUE((*sf)->Read(buf, 3, &got).ok());
    if (got == 0) break;
    all.append(buf, got);
  }
  EXPECT_EQ(all, "0123456789");
}

TEST_F(EnvTest, WritableFileAppendsAndTruncates) {
  {
    auto w = env_->OpenWritable(Path("w"));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("abc").ok());
    ASSERT_TRUE((*w)->Append("").ok());
    ASSERT_TRUE((*w)->Append("def").ok());
    ASSERT_TRUE((*w)->Sync().ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  std::string got;
  ASSERT_TRUE(env_->ReadFileToString(Path("w"), &got).ok());
  EXPECT_EQ(got, "abcdef");
  {
    auto w = env_->OpenWritable(Path("w"));  // truncates
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("x").ok());
  }  // destructor closes without Close()
  ASSERT_TRUE(env_->ReadFileToString(Path("w"), &got).ok());
  EXPECT_EQ(got, "x");
  EXPECT_FALSE(env_->OpenWritable(Path("no/such/dir/w")).ok());
}

TEST(EnvDefault, NowIsPlausible) {
  UnixSeconds now = Env::Default()->Now();
  EXPECT_GT(now, 1'600'000'000);  // after 2020
  EXPECT_EQ(Env::Default(), Env::Default());
}

TEST(Paths, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", "/abs"), "/abs");
  EXPECT_EQ(JoinPath("a/b", "c/d"), "a/b/c/d");
  EXPECT_EQ(JoinPath("", ""), "");
}

TEST(Paths, Basename) {
  EXPECT_EQ(Basename("a/b/c"), "c");
  EXPECT_EQ(Basename("c"), "c");
  EXPECT_EQ(Basename("/c"), "c");
  EXPECT_EQ(Basename("a/b/"), "b");
  EXPECT_EQ(Basename("a/b///"), "b");
  EXPECT_EQ(Basename("/tmp/x.csv.gz"), "x.csv.gz");
  EXPECT_EQ(Basename(""), "");
}

TEST(Paths, Dirname) {
  EXPECT_EQ(Dirname("a/b/c"), "a/b");
  EXPECT_EQ(Dirname("c"), ".");
  EXPECT_EQ(Dirname(""), ".");
  EXPECT_EQ(Dirname("/c"), "/");
  EXPECT_EQ(Dirname("/"), "/");
  EXPECT_EQ(Dirname("a/b/"), "a");
  EXPECT_EQ(Dirname("/tmp/store/MANIFEST"), "/tmp/store");
  // Dirname and Basename rebuild the path.
  for (const char* p : {"a/b/c", "/x/y", "dir/file.txt"}) {
    EXPECT_EQ(JoinPath(Dirname(p), Basename(p)), p);
  }
}

TEST(StatusTest, CodesAndContext) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = IoError("disk full");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "I/O error: disk full");
  Status c = s.WithContext("writing seg-000001.sbx");
  EXPECT_EQ(c.code(), StatusCode::kIoError);
  EXPECT_EQ(c.message(), "writing seg-000001.sbx: disk full");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
  EXPECT_EQ(BadInput("x").code(), StatusCode::kBadInput);
  EXPECT_EQ(Corruption("x").ToString(), "corruption: x");

  StatusOr<int> v = 5;
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(*v, 5);
  EXPECT_TRUE(v.status().ok());
  StatusOr<int> e = NotFound("gone");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sagebox

namespace sagebox {
namespace {

TEST(TreeBytesTest, SumsFilesBelowAFolderAndRefusesDeepNesting) {
  const std::string root = ::testing::TempDir() + "/sbx-treebytes";
  std::filesystem::remove_all(root);
  Env* env = Env::Default();
  ASSERT_TRUE(env->CreateDirs(root + "/a/b").ok());
  ASSERT_TRUE(env->WriteFileAtomic(root + "/x", "12345").ok());
  ASSERT_TRUE(env->WriteFileAtomic(root + "/a/b/y", std::string(1000, 'y')).ok());
  auto n = TreeBytes(env, root);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1005u);
  auto deep = TreeBytes(env, root, 1);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kBadInput);
  EXPECT_FALSE(TreeBytes(env, root + "/missing").ok());  // the Env's error
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace sagebox
