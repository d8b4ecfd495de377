// Fuzz target for the BEIR corpus.jsonl reader: any bytes give Documents or a
// BadInput "fuzz.jsonl:<line>: ...", never a crash. Every Document has the id
// "fuzz.jsonl#<_id>" with a unique, non-empty _id.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "retrieval/parse/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  const std::string_view jsonl(reinterpret_cast<const char*>(d), n);
  std::set<std::string> ids;
  const sagebox::Status s = sagebox::retrieval::ForEachBeirRecord(
      jsonl, "fuzz.jsonl", [&](sagebox::retrieval::Document&& doc) {
        const std::string& id = doc.metadata.at("beir_id");
        if (id.empty() || doc.id != "fuzz.jsonl#" + id || !ids.insert(id).second) {
          __builtin_trap();
        }
        return sagebox::Status::Ok();
      });
  if (!s.ok()) {
    if (s.code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    // "fuzz.jsonl:" then a line number >= 1, then ": ".
    const std::string& m = s.message();
    size_t i = 11;
    if (m.compare(0, i, "fuzz.jsonl:") != 0 || i >= m.size() || m[i] < '1' || m[i] > '9') {
      __builtin_trap();
    }
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
    if (m.compare(i, 2, ": ") != 0) __builtin_trap();
  }
  return 0;
}
