// secrets.h: the cryptography of src/auth, all from libsodium: random tokens,
// SHA-256, constant-time comparison, and the master key that encrypts access-key
// secrets at rest.
//
// Why access-key secrets are encrypted rather than hashed: SigV4 is an HMAC over
// the request keyed by (a key derived from) the secret, so the server must hold the
// plaintext secret to recompute the signature; a hash would be useless to it.
// Encrypting the column with a key kept outside the database means a stolen
// database file (or a PostgreSQL dump) does not yield working keys.
//
// Thread-safety: pure functions, safe from any thread (libsodium is initialised on
// first use, which is itself thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::auth {

inline constexpr size_t kMasterKeySize = 32;  // crypto_secretbox_KEYBYTES

// Initialises libsodium. Internal on failure (no usable random source).
Status InitSodium();

// `n` bytes from the OS's CSPRNG.
std::string RandomBytes(size_t n);
// `n` characters drawn uniformly from `alphabet` (no modulo bias).
std::string RandomString(size_t n, std::string_view alphabet);

std::string Sha256Hex(std::string_view data);  // lower-case hex
std::string HexEncode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);  // RFC 4648 §5, no padding
std::string Base64Encode(std::string_view bytes);     // RFC 4648 §4, with padding

// Equal in time that depends only on the lengths (sodium_memcmp), so a caller
// cannot learn a secret byte by byte from response times. Lengths are not secret.
bool SecretEquals(std::string_view a, std::string_view b);

// A master key from text: 64 hex digits or base64 (standard or URL-safe, padded or
// not) of exactly 32 bytes, surrounding whitespace ignored. InvalidArgument otherwise
// (the message never echoes the text).
StatusOr<std::string> ParseMasterKey(std::string_view text);

// The 32-byte master key kept in `path` (normally <data>/master.key). A missing file
// is created with 32 random bytes, mode 0600, atomically (a second process racing to
// create it reads the first one's key instead). An existing file holds either the 32
// raw bytes or text ParseMasterKey accepts. IoError when the file cannot be read or
// created; Corruption when it holds anything else. `env` reads the file; creating it
// needs a file mode Env has no way to express, so that part uses POSIX directly.
// The caller prefers $SAGEBOX_MASTER_KEY (through ParseMasterKey) when it is set.
StatusOr<std::string> LoadOrCreateMasterKey(Env* env, const std::string& path);

// Encrypts `plaintext` with XSalsa20-Poly1305 (crypto_secretbox_easy) under a key
// derived from `master_key` and `context` (so a ciphertext copied into another row,
// whose context differs, does not decrypt). Returns nonce || ciphertext.
// InvalidArgument when master_key is not 32 bytes.
StatusOr<std::string> SealSecret(std::string_view master_key, std::string_view context,
                                 std::string_view plaintext);
// The inverse. Unauthenticated when the box does not open (wrong master key, wrong
// context, or altered bytes); InvalidArgument for a master key not 32 bytes.
StatusOr<std::string> OpenSecret(std::string_view master_key, std::string_view context,
                                 std::string_view sealed);

}  // namespace sagebox::auth
