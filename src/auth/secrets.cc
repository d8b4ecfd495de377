#include "auth/secrets.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace sagebox::auth {

namespace {

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string Base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), U(bytes), bytes.size(), variant);
  out.resize(std::strlen(out.c_str()));  // drop the terminating NUL sodium writes
  return out;
}

// Decodes exactly kMasterKeySize bytes of base64 in `variant`; empty on any mismatch.
std::string DecodeKeyBase64(std::string_view text, int variant) {
  std::string out(kMasterKeySize + 1, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(U(out), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        variant) != 0 ||
      end != text.data() + text.size() || len != kMasterKeySize) {
    sodium_memzero(out.data(), out.size());
    return {};
  }
  out.resize(len);
  return out;
}

// The per-context key: BLAKE2b keyed with the master key over the context.
std::string SubKey(std::string_view master_key, std::string_view context) {
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  crypto_generichash(U(key), key.size(), U(context), context.size(), U(master_key),
                     master_key.size());
  return key;
}

Status PosixError(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::system_category().message(errno));
}

// Writes `key` to a fresh 0600 temp file beside `path`, fsyncs it and hard-links it to
// `path`; link() fails with EEXIST instead of replacing, so two racing processes agree
// on one key. *lost is set when another process's file was there first.
Status CreateKeyFile(const std::string& path, std::string_view key, bool* lost) {
  *lost = false;
  std::string tmpl = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());  // mode 0600 by POSIX.1-2008
  if (fd < 0) return PosixError("cannot create", tmpl);
  Status st;
  if (::write(fd, key.data(), key.size()) != static_cast<ssize_t>(key.size())) {
    st = PosixError("cannot write", tmpl);
  } else if (::fsync(fd) != 0) {
    st = PosixError("cannot sync", tmpl);
  }
  if (::close(fd) != 0 && st.ok()) st = PosixError("cannot close", tmpl);
  if (st.ok() && ::link(tmpl.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) {
      *lost = true;
    } else {
      st = PosixError("cannot create", path);
    }
  }
  (void)::unlink(tmpl.c_str());
  return st;
}

}  // namespace

Status InitSodium() {
  // sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
  if (sodium_init() < 0) return Internal("libsodium could not be initialised");
  return Status::Ok();
}

std::string RandomBytes(size_t n) {
  if (!InitSodium().ok()) std::abort();  // no randomness: continuing would be unsafe
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string RandomString(size_t n, std::string_view alphabet) {
  if (!InitSodium().ok()) std::abort();
  std::string out(n, '\0');
  for (char& c : out) {
    c = alphabet[randombytes_uniform(static_cast<uint32_t>(alphabet.size()))];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, U(data), data.size());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string HexEncode(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), U(bytes), bytes.size());
  out.pop_back();
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Base64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
std::string Base64Encode(std::string_view bytes) {
  return Base64(bytes, sodium_base64_VARIANT_ORIGINAL);
}

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

StatusOr<std::string> ParseMasterKey(std::string_view text) {
  RETURN_IF_ERROR(InitSodium());
  while (!text.empty() && std::strchr(" \t\r\n", text.front()) != nullptr) text.remove_prefix(1);
  while (!text.empty() && std::strchr(" \t\r\n", text.back()) != nullptr) text.remove_suffix(1);
  if (text.size() == kMasterKeySize * 2) {
    std::string key(kMasterKeySize, '\0');
    size_t len = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(U(key), key.size(), text.data(), text.size(), nullptr, &len, &end) == 0 &&
        end == text.data() + text.size() && len == kMasterKeySize) {
      return key;
    }
  }
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    std::string key = DecodeKeyBase64(text, variant);
    if (!key.empty()) return key;
  }
  return InvalidArgument(
      "a master key is 32 bytes written as 64 hex digits or in base64 "
      "(generate one with: head -c32 /dev/urandom | base64)");
}

StatusOr<std::string> LoadOrCreateMasterKey(Env* env, const std::string& path) {
  RETURN_IF_ERROR(InitSodium());
  if (!env->Exists(path)) {
    std::string key = RandomBytes(kMasterKeySize);
    bool lost = false;
    Status st = CreateKeyFile(path, key, &lost);
    sodium_memzero(key.data(), key.size());
    RETURN_IF_ERROR(st);
    // Read back what is now there, ours or the winner's, so every process uses the same.
  }
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  if (text.size() == kMasterKeySize) return text;
  auto key = ParseMasterKey(text);
  sodium_memzero(text.data(), text.size());
  if (!key.ok()) {
    return Corruption(path +
                      " does not hold a master key (32 raw bytes, 64 hex digits or "
                      "base64 of 32 bytes)");
  }
  return key;
}

StatusOr<std::string> SealSecret(std::string_view master_key, std::string_view context,
                                 std::string_view plaintext) {
  RETURN_IF_ERROR(InitSodium());
  if (master_key.size() != kMasterKeySize) {
    return InvalidArgument("the master key must be 32 bytes");
  }
  std::string key = SubKey(master_key, context);
  std::string out = RandomBytes(crypto_secretbox_NONCEBYTES);
  out.resize(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size());
  crypto_secretbox_easy(U(out) + crypto_secretbox_NONCEBYTES, U(plaintext), plaintext.size(),
                        U(out), U(key));
  sodium_memzero(key.data(), key.size());
  return out;
}

StatusOr<std::string> OpenSecret(std::string_view master_key, std::string_view context,
                                 std::string_view sealed) {
  RETURN_IF_ERROR(InitSodium());
  if (master_key.size() != kMasterKeySize) {
    return InvalidArgument("the master key must be 32 bytes");
  }
  constexpr size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead) return Unauthenticated("sealed secret is too short");
  std::string key = SubKey(master_key, context);
  std::string out(sealed.size() - kOverhead, '\0');
  int rc =
      crypto_secretbox_open_easy(U(out), U(sealed) + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, U(sealed), U(key));
  sodium_memzero(key.data(), key.size());
  if (rc != 0) return Unauthenticated("sealed secret does not open with this master key");
  return out;
}

}  // namespace sagebox::auth
