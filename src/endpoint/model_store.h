// model_store.h: the model store of a multi-model endpoint and its disk cache.
//
// SageMaker MME serves `<ModelDataUrl>/<TargetModel>`: a folder of .tar.gz
// archives, each holding one Triton model folder (config.pbtxt and numbered
// version folders). A ModelStore is that folder on local disk (or a file://
// URL). Fetch turns a TargetModel into a ModelSource the backends load:
//   - an archive is extracted once into the cache folder and reused while the
//     archive's size and mtime stay the same (re-extracted when they change);
//     both layouts are accepted: one top-level model folder (the usual one,
//     `sd_base/config.pbtxt`) or config.pbtxt at the archive's root (the model
//     is then named after the archive: `sd_base.tar.gz` -> `sd_base`);
//   - a folder in Triton's repository layout (`<store>/simple/config.pbtxt`) is
//     served in place, never copied.
// Extraction is atomic: into a `.tmp-*` folder inside the cache, renamed into
// place only once the whole archive was read and its config and version folder
// check out; nothing is left behind on failure, and leftovers of a crash are
// removed by Open. The cache keeps a disk budget: extracted copies are evicted
// least recently fetched first, never while pinned. Fetch pins its target
// until Release (the serving layer releases when the model leaves memory).
//
// Cache layout: `<cache_dir>/m-<escaped target>/<model name>/...` beside a
// `.source` stamp (the archive's size and mtime, the copy's bytes), so a restart
// reuses what an earlier process extracted.
//
// Thread-safety: ModelStore is safe for concurrent use. Fetches of one target
// are serialized by a mutex of that target (concurrent cold fetches share one
// extraction); fetches of different targets extract in parallel. One mutex
// guards the index and is never held while extracting or deleting a copy.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "endpoint/backend.h"
#include "endpoint/model_archive.h"

namespace sagebox::endpoint {

struct ModelStoreOptions {
  std::string store;               // a folder, or a file:// URL of one
  std::string cache_dir;           // created if missing; holds the extracted copies
  uint64_t disk_budget_bytes = 0;  // bytes of extracted copies; 0 = unlimited
  ExtractLimits limits;            // per archive: contents bytes and entry count
};

enum class StoreEntryKind { kArchive, kFolder };

// One servable target of the store.
struct StoreEntry {
  std::string name;  // the TargetModel string: "sd_base.tar.gz", "team/a.tgz", "simple"
  StoreEntryKind kind = StoreEntryKind::kArchive;
  uint64_t bytes = 0;  // on the store: the archive's size, or the folder's file bytes
};

// One extracted copy in the cache.
struct CachedCopy {
  std::string target;
  std::string dir;     // the model folder inside the cache
  uint64_t bytes = 0;  // file contents extracted
  int pins = 0;
  uint64_t last_fetch = 0;  // a sequence number: larger is more recent
};

struct DiskStats {
  uint64_t budget_bytes = 0;       // 0 = unlimited
  uint64_t used_bytes = 0;         // sum of the copies' bytes
  uint64_t extractions = 0;        // archives extracted since Open (failed ones included)
  uint64_t evictions = 0;          // copies removed to make room
  std::vector<CachedCopy> copies;  // sorted by target
};

class ModelStore {
 public:
  // Opens the store and the cache. NotFound if the store folder does not
  // exist; InvalidArgument for a URL other than file:// (only local folders
  // are served), a file:// URL with a host, or an empty cache_dir; the Env's
  // error if cache_dir cannot be created. Removes `.tmp-*` leftovers in the
  // cache, and copies without a valid stamp.
  static StatusOr<std::unique_ptr<ModelStore>> Open(Env* env, ModelStoreOptions options);

  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;

  // Every servable target, sorted by name: archives (*.tar.gz, *.tgz) found in
  // any subfolder, and folders holding config.pbtxt (not looked into further).
  // Names starting with '.' are skipped. The Env's error if a folder cannot be
  // listed.
  StatusOr<std::vector<StoreEntry>> List();

  // Resolves `target`, extracts it if it is an archive not in the cache (or
  // changed since), parses its config.pbtxt and picks its version folder by the
  // config's version_policy (latest and all: the highest number; specific: the
  // highest listed one that exists). Pins the target. Fails with:
  // InvalidArgument for an empty or absolute target, a ".." component, or a
  // path that resolves outside the store (a symlink), or a file that is neither
  // an archive nor a model folder; NotFound when it does not exist;
  // BadInput for an unsafe, truncated or corrupt archive (ExtractArchive's
  // errors), an archive with neither layout, a config.pbtxt error (with
  // file:line:col; inside an archive the file is named
  // `<archive>/<path in the archive>`), or no usable version folder;
  // ResourceExhausted("disk budget ...") when the copy does not fit even
  // after evicting every unpinned copy; the Env's errors otherwise. Nothing is
  // pinned or left in the cache on failure.
  StatusOr<ModelSource> Fetch(const std::string& target);

  // Bytes `target` takes on the store (an archive's size, a folder's files),
  // without extracting anything: what the cache predicts a cold model by.
  // Resolve's errors (InvalidArgument, NotFound) and the Env's.
  StatusOr<uint64_t> StoredBytes(const std::string& target) const;

  // Unpins `target` once (a no-op if it is not pinned).
  void Release(const std::string& target);

  DiskStats Stats() const;

  // The store folder (a file:// URL resolved to its path).
  const std::string& root() const { return root_; }

 private:
  struct Copy {
    std::string dir;  // <cache>/m-<key>
    std::string model_name;
    uint64_t archive_size = 0;
    int64_t archive_mtime_ns = 0;
    uint64_t bytes = 0;
    int pins = 0;
    uint64_t last_fetch = 0;
  };

  ModelStore(Env* env, ModelStoreOptions options, std::string root, std::string real_root);

  Status LoadCacheIndex();
  StatusOr<std::string> Resolve(const std::string& target) const;
  StatusOr<ModelSource> FetchFolder(const std::string& target, const std::string& path);
  StatusOr<ModelSource> FetchArchive(const std::string& target, const std::string& path);
  // Extracts into a fresh temporary folder and checks the model; returns the
  // temporary folder (holding `<model name>/`) or an error (folder removed).
  StatusOr<std::string> ExtractToTemp(const std::string& target, const std::string& path,
                                      Copy* copy);
  // Under mu_: moves unpinned copies (least recently fetched first, never
  // `keep`) to `trash` until `need` more bytes fit. ResourceExhausted if even
  // all of them would not make room; nothing is evicted then.
  Status MakeRoomLocked(uint64_t need, const std::string& keep, std::vector<std::string>* trash);
  std::string NewTempPath();
  void RemoveAll(const std::vector<std::string>& paths);
  std::mutex* TargetMutex(const std::string& target);

  Env* const env_;
  const ModelStoreOptions options_;
  const std::string root_;
  const std::string real_root_;  // root_ with symlinks resolved, for containment checks

  mutable std::mutex mu_;
  std::map<std::string, Copy> copies_;  // by target
  std::map<std::string, std::unique_ptr<std::mutex>> target_mu_;
  uint64_t used_ = 0;
  uint64_t fetch_seq_ = 0;
  uint64_t temp_seq_ = 0;
  uint64_t extractions_ = 0;
  uint64_t evictions_ = 0;
};

// For `sagebox endpoint pack DIR -o M.tar.gz`: checks DIR's config.pbtxt with
// LoadModelConfig and that it has a version folder the config would serve,
// then writes DIR as a deterministic gzip tar with the folder as its single
// top-level entry (WriteModelArchive). Returns the bytes written. Errors:
// LoadModelConfig's (file:line:col), BadInput when no version folder exists,
// WriteModelArchive's otherwise; nothing is left at out_path on failure.
StatusOr<uint64_t> PackModel(Env* env, const std::string& model_dir, const std::string& out_path);

// The version folder `config` serves in `model_dir` (see ModelStore::Fetch).
// BadInput naming model_dir when no numbered folder exists or none of the
// specific versions does; the Env's error if model_dir cannot be listed.
StatusOr<int64_t> PickVersion(Env* env, const std::string& model_dir, const ModelConfig& config);

}  // namespace sagebox::endpoint
