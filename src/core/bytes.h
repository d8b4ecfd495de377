// bytes.h: byte sizes as people write them on a command line ("8GiB", "512MB").
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sagebox {

// "123", "1.5GiB", "512 MiB", "2GB", "64k": binary (KiB, MiB, GiB, TiB and the
// one-letter K, M, G, T) and decimal (kB, MB, GB, TB) units, any case, an
// optional "B" alone meaning bytes. InvalidArgument naming the text for
// anything else, a negative value, or a value over 2^63 bytes.
StatusOr<uint64_t> ParseByteSize(std::string_view text);

// 1536 -> "1.5 KiB", 8589934592 -> "8 GiB", 100 -> "100 B" (binary units).
std::string FormatBytes(uint64_t bytes);

}  // namespace sagebox
