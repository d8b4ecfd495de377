// Fuzz target for ParseCredentials: never crash; an accepted file has at
// least one key pair, and its errors name the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  const std::string_view text(reinterpret_cast<const char*>(d), n);
  auto c = sagebox::http::ParseCredentials(text, "f");
  if (c.ok() && c->empty()) __builtin_trap();
  if (!c.ok() && c.status().message().rfind("f:", 0) != 0) __builtin_trap();
  return 0;
}
