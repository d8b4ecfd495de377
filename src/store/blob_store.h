// blob_store.h: the data folder's content-addressed blob folder (platform.md "Data"):
// media a label project imports, artifacts, anything stored once by its bytes.
//
// A blob is named by the SHA-256 of its bytes and lives at
// `<root>/sha256/<first two hex>/<all 64 hex>`, read-only once written. A put streams
// the source into a temporary file beside its final place while hashing it, fsyncs it
// and renames it into place, so a crash leaves either no blob or a whole one (and a
// stray `.tmp-*` file that the next put of any blob ignores). Putting bytes that are
// already there is a no-op, so the same photo imported twice is stored once.
//
// Thread-safety: Put and Path may run concurrently from threads and processes (each put
// writes its own temporary file; the rename is atomic and idempotent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::store {

struct BlobRef {
  std::string sha256;  // 64 lower-case hex digits
  uint64_t bytes = 0;
};

class BlobStore {
 public:
  // `root` is `<data>/blobs`; created on the first put.
  BlobStore(Env* env, std::string root) : env_(env), root_(std::move(root)) {}

  // Copies the file at `path` in. The Env's error (naming the path) when it cannot be read
  // or written; nothing is left in the store then.
  StatusOr<BlobRef> PutFile(const std::string& path);
  // Stores `bytes`. Errors as PutFile.
  StatusOr<BlobRef> PutBytes(std::string_view bytes);

  // A blob written piece by piece (an export too large to hold): Append, then Finish
  // renames it to its hash. Dropping a writer before Finish removes its temporary file.
  class Writer {
   public:
    ~Writer();
    Status Append(std::string_view piece);
    // The stored blob. Errors as PutFile; the writer is spent either way.
    StatusOr<BlobRef> Finish();

   private:
    friend class BlobStore;
    struct State;
    explicit Writer(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
  };
  // A new writer. The Env's error when the folder or the temporary file cannot be made.
  StatusOr<std::unique_ptr<Writer>> NewWriter();

  // Where the blob `sha256` lives (whether or not it exists). InvalidArgument unless
  // `sha256` is 64 lower-case hex digits, so a caller's string cannot name another path.
  StatusOr<std::string> Path(std::string_view sha256) const;
  bool Contains(std::string_view sha256) const;

 private:
  Env* env_;
  std::string root_;
};

}  // namespace sagebox::store
