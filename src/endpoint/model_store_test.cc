#include "endpoint/model_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.h"
#include "endpoint/model_archive.h"

namespace sagebox::endpoint {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// One entry of a test archive. kind: 'f' file, 'd' folder, 'l' symlink,
// 'h' hard link, 'p' fifo, 'c' character device. `data` is the file's
// contents or the link's target.
struct TarEntry {
  std::string path;
  char kind = 'f';
  std::string data;
};

// Writes `entries` as a gzip tar with libarchive, exactly as given (absolute
// paths and ".." included: libarchive's writer does not sanitize).
void WriteTarGz(const std::string& path, const std::vector<TarEntry>& entries) {
  archive* a = archive_write_new();
  ASSERT_NE(a, nullptr);
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const TarEntry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, 0644);
    switch (e.kind) {
      case 'd':
        archive_entry_set_filetype(entry, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.data.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.data.c_str());
        break;
      case 'p':
        archive_entry_set_filetype(entry, AE_IFIFO);
        break;
      case 'c':
        archive_entry_set_filetype(entry, AE_IFCHR);
        break;
      default:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
    }
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
    if (e.kind == 'f' && !e.data.empty()) {
      ASSERT_EQ(archive_write_data(a, e.data.data(), e.data.size()),
                static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

std::string Config(const std::string& name, const std::string& extra = "") {
  return "name: \"" + name + "\"\nbackend: \"python\"\n" + extra;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// Every path under `dir`, relative, sorted (for "nothing else was written").
std::set<std::string> Tree(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    out.insert(fs::relative(it->path(), dir).generic_string());
  }
  return out;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class ModelStoreTest : public ::testing::Test {
 protected:
  ModelStoreTest() : tmp_("model_store") {
    store_ = tmp_.Path("store");
    cache_ = tmp_.Path("cache");
    fs::create_directories(store_);
  }

  std::unique_ptr<ModelStore> Open(uint64_t budget = 0, ExtractLimits limits = {}) {
    ModelStoreOptions o;
    o.store = store_;
    o.cache_dir = cache_;
    o.disk_budget_bytes = budget;
    o.limits = limits;
    auto s = ModelStore::Open(Env::Default(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A valid archive with one top-level folder `name` and version 1.
  void WriteModelArchiveFile(const std::string& target, const std::string& name,
                             const std::string& payload = "print('hi')\n") {
    WriteTarGz(JoinPath(store_, target), {{name + "/", 'd', ""},
                                          {name + "/config.pbtxt", 'f', Config(name)},
                                          {name + "/1/", 'd', ""},
                                          {name + "/1/model.py", 'f', payload}});
  }

  // The cache holds only finished copies: no temporary folder anywhere.
  void ExpectNoTempLeft() {
    for (const std::string& p : Tree(cache_)) {
      EXPECT_EQ(p.find(".tmp-"), std::string::npos) << p;
    }
  }

  testing::TempDir tmp_;
  std::string store_;
  std::string cache_;
};

TEST_F(ModelStoreTest, ArchiveWithTopLevelFolderIsExtractedOnceAndPinned) {
  WriteModelArchiveFile("sd_base.tar.gz", "sd_base", "weights-v1");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("sd_base.tar.gz");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(src->name, "sd_base");
  EXPECT_EQ(src->config.name, "sd_base");
  EXPECT_EQ(src->config.BackendName(), "python");
  EXPECT_EQ(src->version, 1);
  EXPECT_EQ(Basename(src->dir), "sd_base");
  EXPECT_EQ(src->version_dir, JoinPath(src->dir, "1"));
  EXPECT_EQ(ReadAll(JoinPath(src->version_dir, "model.py")), "weights-v1");
  EXPECT_EQ(src->dir.rfind(cache_, 0), 0U) << src->dir;

  auto again = store->Fetch("sd_base.tar.gz");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->dir, src->dir);
  DiskStats stats = store->Stats();
  EXPECT_EQ(stats.extractions, 1U);
  ASSERT_EQ(stats.copies.size(), 1U);
  EXPECT_EQ(stats.copies[0].target, "sd_base.tar.gz");
  EXPECT_EQ(stats.copies[0].pins, 2);
  const uint64_t expected_bytes = Config("sd_base").size() + std::string("weights-v1").size();
  EXPECT_EQ(stats.copies[0].bytes, expected_bytes);
  EXPECT_EQ(stats.used_bytes, expected_bytes);
  store->Release("sd_base.tar.gz");
  store->Release("sd_base.tar.gz");
  store->Release("sd_base.tar.gz");  // one too many: no underflow
  EXPECT_EQ(store->Stats().copies[0].pins, 0);
  ExpectNoTempLeft();
}

TEST_F(ModelStoreTest, ArchiveWithConfigAtRootIsNamedAfterTheArchive) {
  fs::create_directories(JoinPath(store_, "team"));
  WriteTarGz(JoinPath(store_, "team/upscale.tgz"), {{"./", 'd', ""},
                                                    {"./config.pbtxt", 'f', Config("upscale")},
                                                    {"./1/model.py", 'f', "one"},
                                                    {"./3/model.py", 'f', "three"},
                                                    {"./notes/", 'd', ""}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("team/upscale.tgz");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(src->name, "upscale");
  EXPECT_EQ(Basename(src->dir), "upscale");
  EXPECT_EQ(src->version, 3);  // latest: the highest numbered folder
  EXPECT_EQ(ReadAll(JoinPath(src->version_dir, "model.py")), "three");
}

TEST_F(ModelStoreTest, RootConfigMustMatchTheArchiveName) {
  WriteTarGz(JoinPath(store_, "other.tar.gz"),
             {{"config.pbtxt", 'f', Config("upscale")}, {"1/model.py", 'f', "x"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("other.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr("other.tar.gz/config.pbtxt:1:"));
  EXPECT_THAT(src.status().message(), HasSubstr("does not match the model folder 'other'"));
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, FolderModelIsServedInPlace) {
  const std::string dir = JoinPath(store_, "simple");
  fs::create_directories(JoinPath(dir, "1"));
  fs::copy_file(std::string(SAGEBOX_TESTDATA) + "/endpoint/triton-examples/simple/config.pbtxt",
                JoinPath(dir, "config.pbtxt"));
  WriteAll(JoinPath(dir, "1/model.onnx"), "onnx");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("simple");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(src->dir, dir);
  EXPECT_EQ(src->version_dir, JoinPath(dir, "1"));
  EXPECT_EQ(src->config.platform, "onnxruntime_onnx");
  EXPECT_EQ(src->config.max_batch_size, 8);
  DiskStats stats = store->Stats();
  EXPECT_EQ(stats.extractions, 0U);
  EXPECT_TRUE(stats.copies.empty());
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, ListFindsArchivesInSubfoldersAndModelFolders) {
  WriteModelArchiveFile("sd_base.tar.gz", "sd_base");
  fs::create_directories(JoinPath(store_, "team/deep"));
  WriteModelArchiveFile("team/deep/a.tgz", "a");
  WriteModelArchiveFile("team/b.tar.gz", "b");
  WriteAll(JoinPath(store_, "simple/config.pbtxt"), Config("simple"));
  WriteAll(JoinPath(store_, "simple/1/model.py"), "12345");
  // Inside a model folder: part of the model, not a target.
  WriteAll(JoinPath(store_, "simple/1/inner.tar.gz"), "zz");
  WriteAll(JoinPath(store_, "README.md"), "not a model");
  WriteAll(JoinPath(store_, ".hidden.tar.gz"), "skipped");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto list = store->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const StoreEntry& e : *list) names.push_back(e.name);
  EXPECT_THAT(names, ElementsAre("sd_base.tar.gz", "simple", "team/b.tar.gz", "team/deep/a.tgz"));
  EXPECT_EQ((*list)[0].kind, StoreEntryKind::kArchive);
  EXPECT_EQ((*list)[0].bytes, fs::file_size(JoinPath(store_, "sd_base.tar.gz")));
  EXPECT_EQ((*list)[1].kind, StoreEntryKind::kFolder);
  EXPECT_EQ((*list)[1].bytes, Config("simple").size() + 5 + 2);
  // Every listed archive can be fetched by the name List gave.
  EXPECT_TRUE(store->Fetch("team/deep/a.tgz").ok());
}

TEST_F(ModelStoreTest, ListSkipsTheCacheWhenItLivesInsideTheStore) {
  WriteModelArchiveFile("sd_base.tar.gz", "sd_base");
  cache_ = JoinPath(store_, "cache");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Fetch("sd_base.tar.gz").ok());
  auto list = store->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ((*list)[0].name, "sd_base.tar.gz");
}

TEST_F(ModelStoreTest, PackThenFetchRoundTripsAndIsDeterministic) {
  const std::string dir = tmp_.Path("src/sd_depth");
  WriteAll(JoinPath(dir, "config.pbtxt"), Config("sd_depth"));
  WriteAll(JoinPath(dir, "1/model.py"), "v1");
  WriteAll(JoinPath(dir, "2/model.py"), "v2");
  const std::string weights = RandomBytes(300'000, 7);
  WriteAll(JoinPath(dir, "2/unet/weights.bin"), weights);
  fs::create_directories(JoinPath(dir, "2/empty"));

  const std::string out = JoinPath(store_, "sd_depth.tar.gz");
  auto bytes = PackModel(Env::Default(), dir + "/", out);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, fs::file_size(out));
  const std::string first = ReadAll(out);
  // gzip header: magic, then MTIME (bytes 4-7) must be 0, not the packing time.
  ASSERT_GT(first.size(), 10U);
  EXPECT_EQ(first.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(first.substr(4, 4), std::string(4, '\0'));
  // Again, after touching a file's mtime: same bytes.
  fs::last_write_time(JoinPath(dir, "1/model.py"), fs::file_time_type::clock::now());
  auto again = PackModel(Env::Default(), dir, tmp_.Path("again.tar.gz"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(tmp_.Path("again.tar.gz")), first);

  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("sd_depth.tar.gz");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(src->name, "sd_depth");
  EXPECT_EQ(src->version, 2);
  EXPECT_EQ(ReadAll(JoinPath(src->version_dir, "unet/weights.bin")), weights);
  EXPECT_EQ(ReadAll(JoinPath(src->dir, "1/model.py")), "v1");
  EXPECT_TRUE(fs::is_directory(JoinPath(src->version_dir, "empty")));
  // No temporary file beside the output.
  EXPECT_EQ(Tree(store_), (std::set<std::string>{"sd_depth.tar.gz"}));
}

TEST_F(ModelStoreTest, PackRefusesBadModelsAndWritesNothing) {
  const std::string dir = tmp_.Path("src/m");
  WriteAll(JoinPath(dir, "config.pbtxt"), Config("m"));
  const std::string out = tmp_.Path("out/m.tar.gz");
  fs::create_directories(tmp_.Path("out"));
  auto no_version = PackModel(Env::Default(), dir, out);
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(no_version.status().message(), HasSubstr("no version folder"));

  WriteAll(JoinPath(dir, "1/model.py"), "x");
  WriteAll(JoinPath(dir, "config.pbtxt"), Config("other"));
  auto mismatch = PackModel(Env::Default(), dir, out);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(mismatch.status().message(), HasSubstr("m/config.pbtxt:1:"));

  WriteAll(JoinPath(dir, "config.pbtxt"), Config("m"));
  fs::create_symlink("/etc/passwd", JoinPath(dir, "1/link"));
  auto link = PackModel(Env::Default(), dir, out);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(link.status().message(), HasSubstr("symlink"));
  EXPECT_TRUE(Tree(tmp_.Path("out")).empty());
}

TEST_F(ModelStoreTest, ChangedArchiveIsExtractedAgain) {
  const std::string path = JoinPath(store_, "m.tar.gz");
  WriteModelArchiveFile("m.tar.gz", "m", "old");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto first = store->Fetch("m.tar.gz");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(ReadAll(JoinPath(first->version_dir, "model.py")), "old");

  WriteModelArchiveFile("m.tar.gz", "m", "new!");
  // Same size is possible in real life; the mtime must tell them apart too.
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  auto second = store->Fetch("m.tar.gz");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ReadAll(JoinPath(second->version_dir, "model.py")), "new!");
  DiskStats stats = store->Stats();
  EXPECT_EQ(stats.extractions, 2U);
  ASSERT_EQ(stats.copies.size(), 1U);
  EXPECT_EQ(stats.copies[0].pins, 2);  // the first Fetch's pin carries over
  EXPECT_EQ(stats.used_bytes, Config("m").size() + 4);
  ExpectNoTempLeft();
}

TEST_F(ModelStoreTest, OpenValidatesTheStoreLocation) {
  ModelStoreOptions o;
  o.cache_dir = cache_;
  o.store = "s3://bucket/models/";
  auto s3 = ModelStore::Open(Env::Default(), o);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s3.status().message(), HasSubstr("only local folders and file://"));

  o.store = tmp_.Path("missing");
  auto missing = ModelStore::Open(Env::Default(), o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  WriteModelArchiveFile("sd_base.tar.gz", "sd_base");
  o.store = "file://" + store_;
  auto url = ModelStore::Open(Env::Default(), o);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ((*url)->root(), store_);
  EXPECT_TRUE((*url)->Fetch("sd_base.tar.gz").ok());

  o.store = "file://host/models";
  auto host = ModelStore::Open(Env::Default(), o);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelStoreTest, TargetModelCannotLeaveTheStore) {
  WriteModelArchiveFile("sd_base.tar.gz", "sd_base");
  // An archive outside the store, reachable by '..' or a symlink.
  WriteTarGz(tmp_.Path("outside.tar.gz"),
             {{"outside/config.pbtxt", 'f', Config("outside")}, {"outside/1/model.py", 'f', "x"}});
  fs::create_symlink(tmp_.Path("outside.tar.gz"), JoinPath(store_, "link.tar.gz"));
  fs::create_directories(JoinPath(store_, "team"));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (const std::string& target : std::vector<std::string>{
           "../outside.tar.gz", "team/../../outside.tar.gz", tmp_.Path("outside.tar.gz"),
           std::string("link.tar.gz"), std::string("")}) {
    auto src = store->Fetch(target);
    ASSERT_FALSE(src.ok()) << target;
    EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument) << target;
    EXPECT_THAT(src.status().message(), HasSubstr("TargetModel")) << target;
  }
  auto missing = store->Fetch("nope.tar.gz");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  WriteAll(JoinPath(store_, "notes.txt"), "x");
  auto not_model = store->Fetch("notes.txt");
  EXPECT_EQ(not_model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Stats().extractions, 0U);
  EXPECT_TRUE(Tree(cache_).empty());
}

struct UnsafeCase {
  std::string label;
  TarEntry entry;
  std::string message;
};

std::string UnsafeName(const ::testing::TestParamInfo<UnsafeCase>& p) { return p.param.label; }

class UnsafeArchiveTest : public ModelStoreTest,
                          public ::testing::WithParamInterface<UnsafeCase> {};

TEST_P(UnsafeArchiveTest, IsRefusedAndWritesNothing) {
  const UnsafeCase& c = GetParam();
  WriteTarGz(JoinPath(store_, "evil.tar.gz"),
             {{"evil/config.pbtxt", 'f', Config("evil")}, {"evil/1/model.py", 'f', "x"}, c.entry});
  const std::set<std::string> before = Tree(tmp_.path());
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("evil.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr("evil.tar.gz: entry '" + c.entry.path + "'"));
  EXPECT_THAT(src.status().message(), HasSubstr(c.message));
  // Nothing anywhere but the (empty) cache folder.
  std::set<std::string> after = Tree(tmp_.path());
  after.erase("cache");
  EXPECT_EQ(after, before);
  EXPECT_FALSE(fs::exists("/tmp/sagebox_evil_abs"));
  EXPECT_TRUE(store->Stats().copies.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Entries, UnsafeArchiveTest,
    ::testing::Values(UnsafeCase{"DotDot", {"evil/../../escaped", 'f', "x"}, "'..' in the path"},
                      UnsafeCase{"DotDotDeep", {"evil/1/../../../../escaped", 'f', "x"}, "'..'"},
                      UnsafeCase{"Absolute", {"/tmp/sagebox_evil_abs", 'f', "x"}, "absolute path"},
                      UnsafeCase{"SymlinkOut", {"evil/1/weights", 'l', "/etc/passwd"}, "a symlink"},
                      UnsafeCase{"SymlinkIn", {"evil/1/alias", 'l', "model.py"}, "a symlink"},
                      UnsafeCase{"HardLink", {"evil/1/hard", 'h', "/etc/passwd"}, "a hard link"},
                      UnsafeCase{"Fifo", {"evil/1/fifo", 'p', ""}, "a fifo"},
                      UnsafeCase{"Device", {"evil/1/dev", 'c', ""}, "a character device"}),
    UnsafeName);

TEST_F(ModelStoreTest, TruncatedArchiveIsBadInputAndLeavesNoFolder) {
  WriteModelArchiveFile("big.tar.gz", "big", RandomBytes(200'000, 1));
  const std::string path = JoinPath(store_, "big.tar.gz");
  const std::string whole = ReadAll(path);
  WriteAll(path, whole.substr(0, whole.size() / 2));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("big.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr(path));
  EXPECT_THAT(src.status().message(), HasSubstr("'big/1/model.py'"));
  EXPECT_THAT(src.status().message(), HasSubstr("truncated or corrupt"));
  EXPECT_TRUE(Tree(cache_).empty());
  EXPECT_TRUE(store->Stats().copies.empty());

  // Not gzip at all.
  WriteAll(JoinPath(store_, "junk.tar.gz"), "this is not an archive");
  auto junk = store->Fetch("junk.tar.gz");
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), StatusCode::kBadInput);
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, ModelWithoutVersionFolderIsRefused) {
  WriteTarGz(JoinPath(store_, "m.tar.gz"),
             {{"m/config.pbtxt", 'f', Config("m")}, {"m/model.py", 'f', "x"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("m.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr("m.tar.gz/m/: no version folder"));
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, SpecificVersionPolicyPicksTheListedVersion) {
  WriteTarGz(
      JoinPath(store_, "m.tar.gz"),
      {{"m/config.pbtxt", 'f', Config("m", "version_policy: { specific { versions: [1] } }")},
       {"m/1/model.py", 'f', "one"},
       {"m/2/model.py", 'f', "two"}});
  WriteTarGz(
      JoinPath(store_, "n.tar.gz"),
      {{"n/config.pbtxt", 'f', Config("n", "version_policy: { specific { versions: [4] } }")},
       {"n/1/model.py", 'f', "one"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto m = store->Fetch("m.tar.gz");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->version, 1);
  EXPECT_EQ(ReadAll(JoinPath(m->version_dir, "model.py")), "one");
  auto n = store->Fetch("n.tar.gz");
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(), HasSubstr("lists version(s) 4 but the version folders are 1"));
}

TEST_F(ModelStoreTest, NameMismatchPassesThroughWithFileAndLine) {
  WriteTarGz(JoinPath(store_, "foo.tar.gz"),
             {{"foo/config.pbtxt", 'f', "\n" + Config("bar")}, {"foo/1/model.py", 'f', "x"}});
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("foo.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(),
              MatchesRegex(".*foo\\.tar\\.gz/foo/config\\.pbtxt:2:[0-9]+: name: .*'bar' does not "
                           "match the model folder 'foo'.*"));
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, ArchiveOverTheLimitsIsRefused) {
  WriteModelArchiveFile("big.tar.gz", "big", std::string(5000, 'x'));
  ExtractLimits bytes_limit;
  bytes_limit.max_bytes = 4000;
  auto store = Open(0, bytes_limit);
  ASSERT_NE(store, nullptr);
  auto src = store->Fetch("big.tar.gz");
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(src.status().message(), HasSubstr("more than 4000 bytes"));

  ExtractLimits entry_limit;
  entry_limit.max_entries = 3;
  store = Open(0, entry_limit);
  ASSERT_NE(store, nullptr);
  auto many = store->Fetch("big.tar.gz");
  ASSERT_FALSE(many.ok());
  EXPECT_THAT(many.status().message(), HasSubstr("more than 3 entries"));
  EXPECT_TRUE(Tree(cache_).empty());
}

TEST_F(ModelStoreTest, DiskBudgetEvictsLeastRecentlyFetchedUnpinnedCopies) {
  for (const std::string n : {"a", "b", "c"})
    WriteModelArchiveFile(n + ".tar.gz", n, std::string(1000, 'w'));
  const uint64_t one = Config("a").size() + 1000;
  auto store = Open(2 * one + 10);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Fetch("a.tar.gz").ok());
  ASSERT_TRUE(store->Fetch("b.tar.gz").ok());
  ASSERT_TRUE(store->Fetch("a.tar.gz").ok());  // a is now more recent than b
  store->Release("a.tar.gz");
  store->Release("a.tar.gz");
  store->Release("b.tar.gz");
  auto c = store->Fetch("c.tar.gz");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  DiskStats stats = store->Stats();
  EXPECT_EQ(stats.evictions, 1U);
  ASSERT_EQ(stats.copies.size(), 2U);
  EXPECT_EQ(stats.copies[0].target, "a.tar.gz");
  EXPECT_EQ(stats.copies[1].target, "c.tar.gz");
  EXPECT_EQ(stats.used_bytes, 2 * one);
  EXPECT_FALSE(fs::exists(JoinPath(cache_, "m-b.tar.gz")));

  // a and c pinned: b cannot come back, and nothing is evicted trying.
  ASSERT_TRUE(store->Fetch("a.tar.gz").ok());
  auto b = store->Fetch("b.tar.gz");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(b.status().message(), HasSubstr("disk budget of " + std::to_string(2 * one + 10)));
  EXPECT_THAT(b.status().message(), HasSubstr("'b.tar.gz' extracts to " + std::to_string(one)));
  EXPECT_THAT(b.status().message(), HasSubstr("a.tar.gz (" + std::to_string(one) + " bytes)"));
  stats = store->Stats();
  EXPECT_EQ(stats.copies.size(), 2U);
  EXPECT_EQ(stats.evictions, 1U);
  ExpectNoTempLeft();
  EXPECT_EQ(Tree(cache_).count("m-b.tar.gz"), 0U);

  // Released, a goes (least recent unpinned) and b fits.
  store->Release("a.tar.gz");
  store->Release("a.tar.gz");
  auto b2 = store->Fetch("b.tar.gz");
  ASSERT_TRUE(b2.ok()) << b2.status().ToString();
  stats = store->Stats();
  ASSERT_EQ(stats.copies.size(), 2U);
  EXPECT_EQ(stats.copies[0].target, "b.tar.gz");
  EXPECT_EQ(stats.copies[1].target, "c.tar.gz");

  // Bigger than the whole budget.
  WriteModelArchiveFile("huge.tar.gz", "huge", std::string(3 * one, 'h'));
  auto huge = store->Fetch("huge.tar.gz");
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(huge.status().message(), HasSubstr("more than the whole budget"));
}

TEST_F(ModelStoreTest, ConcurrentColdFetchesShareOneExtraction) {
  WriteModelArchiveFile("cold.tar.gz", "cold", RandomBytes(500'000, 3));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::vector<std::string> dirs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto src = store->Fetch("cold.tar.gz");
      if (src.ok()) {
        ++ok;
        dirs[i] = src->dir;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(std::set<std::string>(dirs.begin(), dirs.end()).size(), 1U);
  DiskStats stats = store->Stats();
  EXPECT_EQ(stats.extractions, 1U);
  ASSERT_EQ(stats.copies.size(), 1U);
  EXPECT_EQ(stats.copies[0].pins, 8);
  ExpectNoTempLeft();
}

TEST_F(ModelStoreTest, ReopenRemovesLeftoversAndReusesCopies) {
  WriteModelArchiveFile("m.tar.gz", "m");
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Fetch("m.tar.gz").ok());
  }
  // A crash mid-extraction, and a copy whose stamp is gone.
  WriteAll(JoinPath(cache_, ".tmp-99-1/m/config.pbtxt"), "partial");
  WriteAll(JoinPath(cache_, "m-gone.tar.gz/gone/config.pbtxt"), "no stamp");
  WriteAll(JoinPath(cache_, "keep-me.txt"), "not ours");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(fs::exists(JoinPath(cache_, ".tmp-99-1")));
  EXPECT_FALSE(fs::exists(JoinPath(cache_, "m-gone.tar.gz")));
  EXPECT_TRUE(fs::exists(JoinPath(cache_, "keep-me.txt")));
  DiskStats stats = store->Stats();
  ASSERT_EQ(stats.copies.size(), 1U);
  EXPECT_EQ(stats.copies[0].pins, 0);
  auto src = store->Fetch("m.tar.gz");
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_EQ(store->Stats().extractions, 0U);  // reused, not extracted again
}

TEST(ModelArchiveTest, NormalizeEntryPath) {
  EXPECT_EQ(*NormalizeEntryPath("./a//b/./c"), "a/b/c");
  EXPECT_EQ(*NormalizeEntryPath("./"), "");
  EXPECT_EQ(*NormalizeEntryPath("a/b/"), "a/b");
  EXPECT_FALSE(NormalizeEntryPath("/a").ok());
  EXPECT_FALSE(NormalizeEntryPath("a/../b").ok());
  EXPECT_FALSE(NormalizeEntryPath("..").ok());
  EXPECT_TRUE(NormalizeEntryPath("a/..b/c..").ok());  // only a whole ".." component
}

}  // namespace
}  // namespace sagebox::endpoint
