// Fuzzes format detection, CSV parsing and row mapping: any bytes must give
// rows or a Status, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "cost/billing_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/sagebox_fuzz_" + std::to_string(::getpid()) + ".csv";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto r = sagebox::cost::OpenBillingReader(sagebox::Env::Default(), path);
  if (!r.ok()) return 0;
  sagebox::cost::LineItem item;
  for (int i = 0; i < 100000; ++i) {
    auto more = (*r)->Next(&item);
    if (!more.ok() || !*more) break;
  }
  return 0;
}
