// base64.h: RFC 4648 base64 for payloads (images in JSON, binary request bodies).
//
// Secrets are not encoded here: auth/secrets.h uses libsodium's constant-time
// codec for keys and tokens, so that their timing never depends on their bytes.
// Payloads are public to their sender, and this codec is plain and fast.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace sagebox {

// Standard alphabet (RFC 4648 §4) with '=' padding.
std::string Base64Encode(std::string_view bytes);

// Decodes the standard alphabet; padding is optional, ASCII whitespace (line
// breaks of MIME-wrapped text) is skipped. BadInput naming the offset of the
// first character that is not base64, or for a length that cannot be base64
// (one stray character after the last full group) or misplaced padding.
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace sagebox
