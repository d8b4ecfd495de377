// parse_internal.h: helpers the parsers of this folder share; not part of the
// retrieval core's API.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::retrieval::internal {

// OK, or BadInput "SOURCE: not valid UTF-8 at byte N (0xXX)".
Status CheckUtf8(std::string_view text, const std::string& source);

// `s` with U+FFFD in place of each byte that does not start a valid UTF-8
// sequence (for text that libraries produced, not the user's files).
std::string ToValidUtf8(std::string s);

// `text` without a leading UTF-8 byte order mark.
std::string_view DropBom(std::string_view text);

// `s` without leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view s);

// The lines of `text` without their "\n" or "\r\n"; no empty last line for a
// final newline.
std::vector<std::string_view> SplitLines(std::string_view text);

// An Env failure on `path` as "PATH: what failed", keeping its code (the Env
// words it "cannot open PATH: reason").
Status FileError(const std::string& path, const Status& s);

}  // namespace sagebox::retrieval::internal
