#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/testing/fault_env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::store {
namespace {

using ::testing::HasSubstr;

// partition -> the decimal values of its segments, as text.
using Contents = std::map<std::string, std::vector<std::string>>;

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(Env* env = nullptr) {
    auto st = Store::Open(env ? env : env_, dir_);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? std::move(*st) : nullptr;
  }

  // Writes a segment of `values` (one decimal column) into the store's folder.
  StatusOr<SegmentInfo> WriteSegment(Env* env, Store* st, const std::string& partition,
                                     const std::vector<std::string>& values) {
    SegmentInfo info;
    info.file = st->NewSegmentFile();
    info.partition = partition;
    info.source = "test:" + partition;
    info.meta = {{"partition", partition}};
    ASSIGN_OR_RETURN(
        auto w, SegmentWriter::Create(env, st->PathOf(info.file), {{"v", ColumnType::kDecimal}},
                                      /*row_group_rows=*/2));
    for (const auto& v : values) {
      Decimal d;
      if (!Decimal::Parse(v, &d)) return InvalidArgument(v);
      w->SetDecimal(0, d);
      RETURN_IF_ERROR(w->EndRow());
    }
    RETURN_IF_ERROR(w->Finish(info.meta));
    info.rows = w->rows();
    return info;
  }

  // What a fresh reader sees: every live segment opened and read in full.
  StatusOr<Contents> ReadBack() {
    ASSIGN_OR_RETURN(auto st, Store::Open(env_, dir_));
    Contents out;
    for (const auto& info : st->segments()) {
      ASSIGN_OR_RETURN(auto seg, st->OpenSegment(info));
      if (seg->rows() != info.rows) return Internal("row count mismatch in " + info.file);
      if (seg->meta() != info.meta) return Internal("meta mismatch in " + info.file);
      auto& vals = out[info.partition];
      std::vector<int128> raw;
      for (size_t rg = 0; rg < seg->num_row_groups(); ++rg) {
        RETURN_IF_ERROR(seg->ReadDecimal(rg, 0, &raw));
        for (int128 r : raw) vals.push_back(Decimal::FromRaw(r).ToString());
      }
    }
    return out;
  }

  std::vector<std::string> Files() {
    auto names = env_->ListDir(dir_);
    EXPECT_TRUE(names.ok());
    return names.ok() ? *names : std::vector<std::string>{};
  }

  Env* env_ = Env::Default();
  sagebox::testing::TempDir tmp_{"store"};
  const std::string root_ = tmp_.path();
  const std::string dir_ = JoinPath(root_, "store");
};

const std::vector<std::string> kJan = {"0.0464", "1.1136", "-0.25"};
const std::vector<std::string> kFeb = {"22.128", "0.922", "100", "0.0000000001"};
const std::vector<std::string> kJan2 = {"3.5"};

TEST_F(StoreTest, MissingFolderIsAnEmptyStore) {
  auto st = OpenStore();
  ASSERT_NE(st, nullptr);
  EXPECT_TRUE(st->segments().empty());
  EXPECT_EQ(st->dir(), dir_);
  EXPECT_FALSE(env_->Exists(dir_)) << "Open must not create the folder";
}

TEST_F(StoreTest, CommitAddsSegmentsAndReopenSeesThem) {
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  EXPECT_TRUE(env_->IsDirectory(dir_));
  auto jan = WriteSegment(env_, st.get(), "2024-01", kJan);
  ASSERT_TRUE(jan.ok()) << jan.status().ToString();
  EXPECT_EQ(jan->file, "seg-000001.sbx");
  auto feb = WriteSegment(env_, st.get(), "2024-02", kFeb);
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(feb->file, "seg-000002.sbx");
  ASSERT_TRUE(st->Commit({}, {*jan, *feb}).ok());
  ASSERT_EQ(st->segments().size(), 2u);
  EXPECT_EQ(st->segments()[0].file, "seg-000001.sbx");
  EXPECT_EQ(st->segments()[1].partition, "2024-02");

  auto other = OpenStore();  // another reader
  ASSERT_EQ(other->segments().size(), 2u);
  EXPECT_EQ(other->segments()[0].source, "test:2024-01");
  EXPECT_EQ(other->segments()[1].rows, 4);
  EXPECT_EQ(other->segments()[1].meta, (nlohmann::json{{"partition", "2024-02"}}));
  auto back = ReadBack();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, (Contents{{"2024-01", kJan}, {"2024-02", kFeb}}));
}

TEST_F(StoreTest, ReplaceDropsAndAddsAtomically) {
  {
    auto st = OpenStore();
    ASSERT_TRUE(st->BeginWrite().ok());
    auto jan = WriteSegment(env_, st.get(), "2024-01", kJan);
    auto feb = WriteSegment(env_, st.get(), "2024-02", kFeb);
    ASSERT_TRUE(jan.ok() && feb.ok());
    ASSERT_TRUE(st->Commit({}, {*jan, *feb}).ok());
  }
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  auto jan2 = WriteSegment(env_, st.get(), "2024-01", kJan2);
  ASSERT_TRUE(jan2.ok());
  EXPECT_EQ(jan2->file, "seg-000003.sbx");  // next_file survives reopening
  // A reader before the commit still sees the old data.
  auto before = ReadBack();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, (Contents{{"2024-01", kJan}, {"2024-02", kFeb}}));

  ASSERT_TRUE(st->Commit({"seg-000001.sbx"}, {*jan2}).ok());
  ASSERT_EQ(st->segments().size(), 2u);
  EXPECT_EQ(st->segments()[0].file, "seg-000002.sbx");
  EXPECT_EQ(st->segments()[1].file, "seg-000003.sbx");
  EXPECT_FALSE(env_->Exists(st->PathOf("seg-000001.sbx"))) << "dropped files are deleted";
  auto after = ReadBack();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, (Contents{{"2024-01", kJan2}, {"2024-02", kFeb}}));
}

TEST_F(StoreTest, SecondWriterFailsWhileTheFirstHoldsTheLock) {
  auto first = OpenStore();
  ASSERT_TRUE(first->BeginWrite().ok());
  auto second = OpenStore();
  Status s = second->BeginWrite();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("another sagebox process"));
  EXPECT_THAT(s.message(), HasSubstr(dir_));

  // The first writer is unaffected.
  auto jan = WriteSegment(env_, first.get(), "2024-01", kJan);
  ASSERT_TRUE(jan.ok());
  ASSERT_TRUE(first->Commit({}, {*jan}).ok());
  first.reset();  // releases LOCK

  auto third = OpenStore();
  ASSERT_TRUE(third->BeginWrite().ok());
  EXPECT_EQ(third->segments().size(), 1u);
}

TEST_F(StoreTest, WriterThatFailedToLockCannotCommit) {
  auto first = OpenStore();
  ASSERT_TRUE(first->BeginWrite().ok());
  auto jan = WriteSegment(env_, first.get(), "2024-01", kJan);
  ASSERT_TRUE(jan.ok());
  ASSERT_TRUE(first->Commit({}, {*jan}).ok());

  auto second = OpenStore();
  ASSERT_FALSE(second->BeginWrite().ok());
  // A caller that ignores the failed BeginWrite must not be able to replace
  // the manifest under the lock holder's feet.
  Status s = second->Commit({"seg-000001.sbx"}, {});
  EXPECT_FALSE(s.ok()) << "Commit succeeded without holding LOCK";
  auto back = ReadBack();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, (Contents{{"2024-01", kJan}}));
}

TEST_F(StoreTest, BeginWriteRemovesLeftovers) {
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  auto jan = WriteSegment(env_, st.get(), "2024-01", kJan);
  ASSERT_TRUE(jan.ok());
  ASSERT_TRUE(st->Commit({}, {*jan}).ok());
  // An interrupted writer leaves a segment nobody names, a half-written
  // manifest and a temp file; unrelated files are not ours to delete.
  auto orphan = WriteSegment(env_, st.get(), "2024-02", kFeb);
  ASSERT_TRUE(orphan.ok());
  ASSERT_TRUE(env_->WriteFileAtomic(st->PathOf("seg-000777.sbx"), "partial").ok());
  ASSERT_TRUE(env_->WriteFileAtomic(st->PathOf("MANIFEST.tmp"), "{\"form").ok());
  ASSERT_TRUE(env_->WriteFileAtomic(st->PathOf("notes.txt"), "keep me").ok());
  st.reset();
  EXPECT_EQ(Files(),
            (std::vector<std::string>{"LOCK", "MANIFEST", "MANIFEST.tmp", "notes.txt",
                                      "seg-000001.sbx", "seg-000002.sbx", "seg-000777.sbx"}));

  auto again = OpenStore();
  ASSERT_TRUE(again->BeginWrite().ok());
  EXPECT_EQ(Files(), (std::vector<std::string>{"LOCK", "MANIFEST", "notes.txt", "seg-000001.sbx"}));
  auto back = ReadBack();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Contents{{"2024-01", kJan}}));
}

TEST_F(StoreTest, AbandonDeletesFiles) {
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  auto jan = WriteSegment(env_, st.get(), "2024-01", kJan);
  ASSERT_TRUE(jan.ok());
  EXPECT_TRUE(env_->Exists(st->PathOf(jan->file)));
  st->Abandon({jan->file});
  EXPECT_FALSE(env_->Exists(st->PathOf(jan->file)));
  EXPECT_TRUE(st->segments().empty());
}

TEST_F(StoreTest, CommitWithoutBeginWriteIsInternal) {
  auto st = OpenStore();
  EXPECT_EQ(st->Commit({}, {}).code(), StatusCode::kInternal);
  EXPECT_FALSE(env_->Exists(dir_));
}

TEST_F(StoreTest, UnreadableManifestIsCorruption) {
  ASSERT_TRUE(env_->CreateDirs(dir_).ok());
  const std::string m = JoinPath(dir_, "MANIFEST");
  for (const char* text :
       {"", "not json", "[1,2]", "{\"format\": \"other/1\", \"next_file\": 1, \"segments\": []}",
        "{\"format\": \"sagebox-store/1\", \"segments\": []}",
        "{\"format\": \"sagebox-store/1\", \"next_file\": 1, \"segments\": [{\"file\": 3}]}",
        "{\"format\": \"sagebox-store/1\", \"next_file\": \"x\", \"segments\": []}"}) {
    ASSERT_TRUE(env_->WriteFileAtomic(m, text).ok());
    auto st = Store::Open(env_, dir_);
    EXPECT_EQ(st.status().code(), StatusCode::kCorruption) << text;
  }
  ASSERT_TRUE(env_->WriteFileAtomic(
                      m, "{\"format\": \"sagebox-store/1\", \"next_file\": 5, \"segments\": []}")
                  .ok());
  auto st = OpenStore();
  ASSERT_NE(st, nullptr);
  ASSERT_TRUE(st->BeginWrite().ok());
  EXPECT_EQ(st->NewSegmentFile(), "seg-000005.sbx");
}

// Fault injection: the store as a reader sees it must survive every failure.
class StoreFaultTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto st = OpenStore();
    ASSERT_TRUE(st->BeginWrite().ok());
    auto jan = WriteSegment(env_, st.get(), "2024-01", kJan);
    auto feb = WriteSegment(env_, st.get(), "2024-02", kFeb);
    ASSERT_TRUE(jan.ok() && feb.ok());
    ASSERT_TRUE(st->Commit({}, {*jan, *feb}).ok());
    ASSERT_TRUE(env_->ReadFileToString(JoinPath(dir_, "MANIFEST"), &manifest_).ok());
  }

  // The previous MANIFEST and its segments, byte for byte and readable.
  void ExpectOriginalStore() {
    std::string now;
    ASSERT_TRUE(env_->ReadFileToString(JoinPath(dir_, "MANIFEST"), &now).ok());
    EXPECT_EQ(now, manifest_);
    auto back = ReadBack();
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, (Contents{{"2024-01", kJan}, {"2024-02", kFeb}}));
  }

  // Runs the ingest pattern (write, commit, abandon on failure) through `fault`.
  Status ReplaceJanuary(FaultEnv* fault) {
    auto st = OpenStore(fault);
    if (!st) return Internal("open failed");
    RETURN_IF_ERROR(st->BeginWrite());
    const auto before = st->segments().size();
    auto jan2 = WriteSegment(fault, st.get(), "2024-01", kJan2);
    if (!jan2.ok()) {
      st->Abandon({"seg-000003.sbx"});  // the file WriteSegment was writing
      return jan2.status();
    }
    Status s = st->Commit({"seg-000001.sbx"}, {*jan2});
    if (!s.ok()) {
      EXPECT_EQ(st->segments().size(), before) << "a failed commit changed the Store object";
      st->Abandon({jan2->file});
    }
    return s;
  }

  std::string manifest_;
};

TEST_F(StoreFaultTest, DiskFullWhileWritingASegment) {
  FaultEnv fault(env_);
  fault.FailAppendAfter(40, ".sbx");
  Status s = ReplaceJanuary(&fault);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  EXPECT_EQ(fault.faults(), 1);
  ExpectOriginalStore();
}

TEST_F(StoreFaultTest, CrashAfterAPartialSegmentIsCleanedUp) {
  {
    FaultEnv fault(env_);
    fault.FailAppendAfter(40, ".sbx");
    auto st = OpenStore(&fault);
    ASSERT_TRUE(st->BeginWrite().ok());
    EXPECT_FALSE(WriteSegment(&fault, st.get(), "2024-01", kJan2).ok());
    // No Abandon: the process "dies" here, leaving seg-000003.sbx.
  }
  EXPECT_TRUE(env_->Exists(JoinPath(dir_, "seg-000003.sbx")));
  ExpectOriginalStore();
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  EXPECT_FALSE(env_->Exists(JoinPath(dir_, "seg-000003.sbx")));
  ExpectOriginalStore();
}

TEST_F(StoreFaultTest, DiskFullWhileWritingTheManifest) {
  FaultEnv fault(env_);
  fault.FailAppendAfter(10, "MANIFEST");
  Status s = ReplaceJanuary(&fault);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
  ExpectOriginalStore();
  EXPECT_FALSE(env_->Exists(JoinPath(dir_, "seg-000003.sbx"))) << "abandoned";

  // Once there is space again the same replacement succeeds.
  fault.Reset();
  ASSERT_TRUE(ReplaceJanuary(&fault).ok());
  auto back = ReadBack();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Contents{{"2024-01", kJan2}, {"2024-02", kFeb}}));
  EXPECT_FALSE(env_->Exists(JoinPath(dir_, "MANIFEST.tmp")));
}

TEST_F(StoreFaultTest, FailedSegmentSync) {
  FaultEnv fault(env_);
  fault.FailSync(".sbx");
  EXPECT_EQ(ReplaceJanuary(&fault).code(), StatusCode::kIoError);
  ExpectOriginalStore();
}

TEST_F(StoreFaultTest, FailedManifestSync) {
  FaultEnv fault(env_);
  fault.FailSync("MANIFEST");
  EXPECT_EQ(ReplaceJanuary(&fault).code(), StatusCode::kIoError);
  ExpectOriginalStore();
}

TEST_F(StoreFaultTest, FailedRename) {
  FaultEnv fault(env_);
  fault.FailRename("MANIFEST");
  Status s = ReplaceJanuary(&fault);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(fault.faults(), 1);
  ExpectOriginalStore();
  // The next writer removes the temp manifest the failed rename left.
  EXPECT_TRUE(env_->Exists(JoinPath(dir_, "MANIFEST.tmp")));
  auto st = OpenStore();
  ASSERT_TRUE(st->BeginWrite().ok());
  EXPECT_FALSE(env_->Exists(JoinPath(dir_, "MANIFEST.tmp")));
  ExpectOriginalStore();
}

TEST_F(StoreFaultTest, FailedDirectorySyncBeforeTheManifest) {
  FaultEnv fault(env_);
  fault.FailSyncDirAfter(0);  // Commit's first step
  EXPECT_EQ(ReplaceJanuary(&fault).code(), StatusCode::kIoError);
  ExpectOriginalStore();
}

// The directory fsync after the MANIFEST rename fails: the new manifest is
// already in place. Whatever Commit reports, the caller's reaction to it
// (Abandon on failure, as cost/ingest.cc does) must leave a readable store.
TEST_F(StoreFaultTest, FailedDirectorySyncAfterTheManifestRename) {
  FaultEnv fault(env_);
  fault.FailSyncDirAfter(1);
  Status s = ReplaceJanuary(&fault);
  auto back = ReadBack();
  ASSERT_TRUE(back.ok()) << "Commit returned \"" << s.ToString()
                         << "\" and the store is now unreadable: " << back.status().ToString();
  if (s.ok()) {
    EXPECT_EQ(*back, (Contents{{"2024-01", kJan2}, {"2024-02", kFeb}}));
  } else {
    EXPECT_EQ(*back, (Contents{{"2024-01", kJan}, {"2024-02", kFeb}}));
  }
}

}  // namespace
}  // namespace sagebox::store
