// utf8.h: checking that bytes are well-formed UTF-8, for every parser and text
// routine that must reject (or name the place of) bad input.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sagebox {

// Byte offset of the first byte that does not start a valid UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or
// nullopt when all of `s` is valid.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

}  // namespace sagebox
