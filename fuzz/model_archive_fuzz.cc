// Fuzz target for the model store's archive extraction: any bytes written as
// `<store>/fuzz.tar.gz` and fetched give a ModelSource inside the cache or an
// error, never a crash, and a failed Fetch leaves the cache empty (extraction
// is atomic). The cache is a fresh folder per input, so a copy extracted from
// one input is never reused for the next one (same size and mtime second).
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/env.h"
#include "endpoint/model_store.h"

namespace {

const std::string& Root() {
  static const std::string root = [] {
    std::string tmpl =
        std::filesystem::temp_directory_path().string() + "/model_archive_fuzz_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) __builtin_trap();
    std::filesystem::create_directories(tmpl + "/store");
    return tmpl;
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sagebox::Env* env = sagebox::Env::Default();
  const std::string store_dir = Root() + "/store";
  const std::string cache_dir = Root() + "/cache";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!env->WriteFileAtomic(store_dir + "/fuzz.tar.gz", bytes).ok()) __builtin_trap();

  sagebox::endpoint::ModelStoreOptions options;
  options.store = store_dir;
  options.cache_dir = cache_dir;
  // Small limits keep each input fast; the limits themselves are under test too.
  options.limits.max_bytes = 1 << 20;
  options.limits.max_entries = 256;
  options.disk_budget_bytes = 2 << 20;
  auto store = sagebox::endpoint::ModelStore::Open(env, options);
  if (!store.ok()) __builtin_trap();
  auto source = (*store)->Fetch("fuzz.tar.gz");
  if (source.ok()) {
    if (source->dir.compare(0, cache_dir.size(), cache_dir) != 0) __builtin_trap();
    if (source->version_dir.compare(0, source->dir.size(), source->dir) != 0) __builtin_trap();
    if (source->name != source->config.name) __builtin_trap();
    (*store)->Release("fuzz.tar.gz");
  } else {
    auto left = env->ListDir(cache_dir);
    if (!left.ok() || !left->empty()) __builtin_trap();
    if ((*store)->Stats().used_bytes != 0) __builtin_trap();
  }
  store->reset();
  if (!env->Remove(cache_dir).ok()) __builtin_trap();
  return 0;
}
