// Fuzz target for CsvReader: any bytes, served in uneven pieces to a reader
// with a tiny buffer, must parse or fail with BadInput, never crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "io/csv_reader.h"

namespace {
class MemSource final : public sagebox::io::ByteSource {
 public:
  MemSource(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  sagebox::Status Read(char* buf, size_t n, size_t* got) override {
    *got = std::min({n, n_ - pos_, size_t{1} + pos_ % 7});  // uneven pieces
    std::memcpy(buf, d_ + pos_, *got);
    pos_ += *got;
    return sagebox::Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return pos_; }
  uint64_t CompressedSize() const override { return n_; }
  const std::string& name() const override { return name_; }

 private:
  const uint8_t* d_;
  size_t n_, pos_ = 0;
  std::string name_ = "fuzz.csv";
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  MemSource src(d, n);
  sagebox::io::CsvReader r(&src, /*buffer_size=*/16);
  size_t total = 0;
  for (;;) {
    auto more = r.Next();
    if (!more.ok()) {
      if (more.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
      break;
    }
    if (!*more) break;
    for (size_t i = 0; i < r.num_fields(); ++i) total += r.field(i).size() + r.Location(i).size();
    if (r.num_fields() == 0 || total > (n + 1) * 64 + (1u << 20)) __builtin_trap();
  }
  return 0;
}
