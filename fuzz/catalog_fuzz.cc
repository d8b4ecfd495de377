// Fuzz target for Catalog::FromJson and Catalog::MergeFile: any bytes give a
// catalog (or a merged one) or a BadInput naming label:line:col, never a
// crash; a failed merge leaves the catalog as it was; whatever parses
// answers lookups.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "catalog/catalog.h"

namespace {

using sagebox::catalog::Catalog;

void Exercise(const Catalog& c) {
  for (const auto* s : c.All()) {
    if (c.Find(s->type) != s) __builtin_trap();
    (void)c.NextSizeDown(s->type);
    (void)c.Family(s->family);
    (void)c.OnDemandPrice(s->type, "eu-west-1");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  std::string_view text(reinterpret_cast<const char*>(d), n);
  auto c = Catalog::FromJson(text, "fuzz");
  if (c.ok()) {
    Exercise(*c);
  } else if (c.status().code() != sagebox::StatusCode::kBadInput ||
             c.status().message().rfind("fuzz:", 0) != 0) {
    __builtin_trap();
  }

  // The same bytes as an override file over a small catalog.
  static const std::string path =
      "/tmp/sagebox_catalog_fuzz_" + std::to_string(::getpid()) + ".json";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(d, 1, n, f);
  std::fclose(f);
  auto base = Catalog::FromJson(
      R"({"instances": [{"type": "ml.m5.large", "vcpu": 2, "memory_gib": 8,
          "prices": {"us-east-1": "0.115"}}]})",
      "base");
  if (!base.ok()) __builtin_trap();
  sagebox::Status st = base->MergeFile(sagebox::Env::Default(), path);
  if (st.ok()) {
    Exercise(*base);
  } else {
    if (st.code() != sagebox::StatusCode::kBadInput || st.message().rfind(path + ":", 0) != 0)
      __builtin_trap();
    auto q = base->OnDemandPrice("ml.m5.large", "us-east-1");
    if (base->size() != 1 || !q || q->usd_per_hour.ToString() != "0.115") __builtin_trap();
  }
  return 0;
}
