// byte_source.h: a stream of bytes from an input file, decompressed.
//
// OpenInput() looks at the first bytes of a file and returns a source that
// yields its plain content: as is, gunzipped (also multi-member .gz), or the
// single CSV member of a .zip. Truncated or corrupt compressed data is a
// BadInput status naming the file, never a crash or a silent short read.
//
// A source can be wrapped in a prefetcher that decompresses on a second
// thread, so parsing and inflating overlap on a 2-core machine.
//
// Thread-safety: one consumer per source. The prefetcher's background thread
// is internal; the object itself is still single-consumer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::io {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n plain bytes; *got == 0 means the end. BadInput for corrupt
  // compressed data, IoError when the OS fails.
  virtual Status Read(char* buf, size_t n, size_t* got) = 0;
  // Bytes of the underlying file consumed so far (for progress).
  virtual uint64_t CompressedBytesRead() const = 0;
  // Size of the underlying file, for progress; 0 if unknown.
  virtual uint64_t CompressedSize() const = 0;
  // The file name used in error messages.
  virtual const std::string& name() const = 0;
};

enum class Compression { kNone, kGzip, kZip };

// Opens `path` and detects its compression by magic bytes (not by name).
// NotFound/IoError if unreadable.
StatusOr<std::unique_ptr<ByteSource>> OpenInput(Env* env, const std::string& path);
// Wraps `src` so that reads are served from buffers filled on a background
// thread. Errors from `src` surface at the Read() that reaches them.
std::unique_ptr<ByteSource> Prefetch(std::unique_ptr<ByteSource> src, size_t block = 1 << 20);

}  // namespace sagebox::io
