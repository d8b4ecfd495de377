// Fuzz target for Catalog::FromJson: any bytes give a catalog or a BadInput
// naming label:line:col, never a crash; whatever parses answers lookups.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "findings/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  std::string_view text(reinterpret_cast<const char*>(d), n);
  auto c = sagebox::findings::Catalog::FromJson(text, "fuzz");
  if (!c.ok()) {
    if (c.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    if (c.status().message().rfind("fuzz:", 0) != 0) __builtin_trap();
    return 0;
  }
  for (const auto* s : c->All()) {
    if (c->Find(s->type) != s) __builtin_trap();
    (void)c->NextSizeDown(s->type);
    (void)c->Family(s->family);
    (void)c->OnDemandPrice(s->type, "eu-west-1");
  }
  return 0;
}
