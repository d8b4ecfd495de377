// store.h: the embedded store: a folder of immutable segments and one
// manifest that says which segments are live.
//
// Changes are atomic: an ingest writes new segment files first, then
// replaces the MANIFEST file in one rename (after fsync of the data and of
// the folder). A crash (kill -9, power loss) at any moment leaves either the
// old manifest or the new one, each naming only complete segments. Segment
// files no manifest names are leftovers of an interrupted write and are
// deleted by the next writer.
//
// Layout of the folder:
//   MANIFEST            JSON: {"format": "sagebox-store/1", "next_file": N,
//                              "segments": [{"file", "partition", "source",
//                                            "rows", "meta"}...]}
//   LOCK                held (flock) by the one writer at a time
//   seg-000001.sbx ...  segments (store/segment.h)
//
// Thread-safety: a Store object is for one thread. Several processes may
// read at once; writers take LOCK and fail with IoError if another writer
// holds it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "store/segment.h"

namespace sagebox::store {

struct SegmentInfo {
  std::string file;       // name inside the store folder
  std::string partition;  // e.g. the billing period "2024-01"
  std::string source;     // what produced it; used to decide replacement
  int64_t rows = 0;
  nlohmann::json meta = nlohmann::json::object();
};

class Store {
 public:
  // The store's state as text (its MANIFEST), which every commit changes:
  // a cache key for answers computed from the store, read without opening
  // any segment. Empty for a store that does not exist yet (or whose
  // MANIFEST cannot be read: the next Open reports why).
  static std::string State(Env* env, const std::string& dir);

  // Opens the store in `dir`. A missing folder is an empty store (nothing is
  // created until the first commit). Corruption if MANIFEST is unreadable.
  static StatusOr<std::unique_ptr<Store>> Open(Env* env, const std::string& dir);
  ~Store();

  const std::string& dir() const { return dir_; }
  const std::vector<SegmentInfo>& segments() const { return segments_; }
  StatusOr<std::shared_ptr<Segment>> OpenSegment(const SegmentInfo& info) const;

  // Starts writing: creates the folder, takes LOCK, removes leftover files
  // of interrupted writes. IoError if another process is writing.
  Status BeginWrite();
  // A fresh segment file name (after BeginWrite).
  std::string NewSegmentFile();
  std::string PathOf(const std::string& file) const { return JoinPath(dir_, file); }
  // Atomically drops the segments whose file names are in `drop` and adds
  // `add`. On failure the store is unchanged (the new files become leftovers).
  Status Commit(const std::vector<std::string>& drop, std::vector<SegmentInfo> add);
  // Deletes files of this write that will not be committed.
  void Abandon(const std::vector<std::string>& files);

 private:
  Store(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Status Load();

  Env* env_;
  std::string dir_;
  std::vector<SegmentInfo> segments_;
  uint64_t next_file_ = 1;
  int lock_fd_ = -1;
};

}  // namespace sagebox::store
