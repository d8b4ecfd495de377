// model_archive.h: reading and writing the .tar.gz model archives of a model store.
//
// A SageMaker multi-model endpoint serves `<ModelDataUrl>/<TargetModel>` archives, each
// a gzip tar holding one Triton model folder. Extraction here is written for archives
// nobody vetted: it never uses libarchive's disk writer (which would follow symlinks,
// set owners and modes, create devices) but writes plain files and folders itself
// through the Env, and refuses every entry that could reach outside the destination or
// is not a plain file or folder. Packing is the reverse for `sagebox endpoint pack`,
// byte-for-byte deterministic so the same folder always gives the same archive.
//
// Thread-safety: free functions; safe to call concurrently on different destinations.
// They are as thread-safe as the Env they write through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::endpoint {

struct ExtractLimits {
  // Total bytes of file contents; past it the archive is refused (a gzip bomb
  // expands a few KiB into terabytes).
  uint64_t max_bytes = uint64_t{64} << 30;
  // Entries of any kind (folders included).
  uint64_t max_entries = 100'000;
};

struct ExtractResult {
  uint64_t bytes = 0;    // file contents written
  uint64_t entries = 0;  // entries read, folders included
};

// Normalizes one archive entry's path: drops "." and empty components (so
// "./a//b" is "a/b"). Returns "" for an entry that names the root itself ("./").
// BadInput when the path is absolute or has a ".." component.
StatusOr<std::string> NormalizeEntryPath(std::string_view path);

// Extracts the gzip tar (or plain tar) at `archive_path` into the existing folder
// `dest_dir`, which should be empty. Only regular files and folders are written;
// their modes and owners are not kept. Returns BadInput naming the archive and the
// entry for: an absolute or ".." path, a symlink or hard link (wherever it points),
// a device, fifo or socket, more than limits.max_entries entries or more than
// limits.max_bytes of contents, a truncated or corrupt archive, and an entry that
// collides with an earlier one (a file where a folder is). The Env's error (NotFound,
// IoError) when the archive cannot be read or a file cannot be written. On failure
// `dest_dir` may hold part of the archive: the caller owns cleaning it up.
StatusOr<ExtractResult> ExtractArchive(Env* env, const std::string& archive_path,
                                       const std::string& dest_dir,
                                       const ExtractLimits& limits = {});

// Writes `model_dir` as a gzip tar whose single top-level entry is a folder named
// `top_name`, to `out_path`: entries sorted by path, mtime 0, uid/gid 0, no owner
// names, mode 0755 for folders and 0644 for files, no timestamp in the gzip header,
// so packing the same files twice gives the same bytes. Written to a temporary file
// beside out_path, synced and renamed into place. Returns the bytes written.
// InvalidArgument for a symlink or special file inside model_dir (an archive must
// not carry links); the Env's error for an unreadable file or an unwritable
// out_path (nothing is left at out_path then).
StatusOr<uint64_t> WriteModelArchive(Env* env, const std::string& model_dir,
                                     const std::string& top_name, const std::string& out_path);

}  // namespace sagebox::endpoint
