// ingest.h: reads billing exports into the store, all or nothing.
//
// Ingest plans the work (delivery.h), streams every file through its format
// reader into one segment per billing period and source, and commits all new
// segments in one atomic manifest swap. If any file is bad, nothing is
// committed and the store is exactly as before. Memory is bounded: rows are
// streamed, never held.
//
// Thread-safety: one ingest per store at a time (the store's LOCK enforces it
// across processes).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::cost {

struct IngestStats {
  int files = 0;
  int64_t rows = 0;
  uint64_t plain_bytes = 0;            // decompressed CSV bytes parsed
  uint64_t file_bytes = 0;             // bytes on disk read
  std::map<std::string, int> formats;  // format name -> files
  std::vector<std::string> periods;    // billing periods written, "2024-01"
  int segments_replaced = 0;
  std::vector<std::string> skipped;  // files of superseded deliveries
  std::vector<std::string> ignored;  // non-data files in the folders
};

struct IngestOptions {
  // Called often with (bytes done, bytes total, rows); may be empty.
  std::function<void(uint64_t, uint64_t, uint64_t)> progress;
};

// BadInput (file:line:col) for bad data, NotFound for missing paths, IoError
// when the disk fails; in every failure case the store is unchanged.
StatusOr<IngestStats> Ingest(Env* env, const std::string& store_dir,
                             const std::vector<std::string>& paths, const IngestOptions& opt);

}  // namespace sagebox::cost
