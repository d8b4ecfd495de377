// Fuzz target for the LangChain text splitters: the first bytes choose the splitter and its
// settings, the rest is the text. Text that is not UTF-8 must be BadInput; anything else must
// split without crashing and satisfy CheckChunks (retrieval/splitter_check.h).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/splitter.h"
#include "retrieval/splitter_check.h"

using sagebox::retrieval::CharacterTextSplitter;
using sagebox::retrieval::KeepSeparator;
using sagebox::retrieval::RecursiveCharacterTextSplitter;
using sagebox::retrieval::SplitterOptions;
using sagebox::retrieval::TextSplitter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  if (n < 4) return 0;
  static const char* const kSeparators[] = {"\n\n", "\n", " ", "", "a", ". ", "\xc3\xa9"};
  constexpr size_t kNumSeparators = sizeof(kSeparators) / sizeof(kSeparators[0]);
  SplitterOptions o;
  o.chunk_size = 1 + d[0] % 64;
  o.chunk_overlap = d[1] % (o.chunk_size + 1);
  o.strip_whitespace = (d[2] & 1) == 0;
  const auto keep = static_cast<KeepSeparator>((d[2] >> 1) % 3);
  const bool recursive = (d[2] & 8) != 0;
  const std::string separator = kSeparators[d[3] % kNumSeparators];
  const std::string_view text(reinterpret_cast<const char*>(d + 4), n - 4);

  std::unique_ptr<TextSplitter> splitter;
  if (recursive) {
    std::vector<std::string> seps;  // default separators, or one chosen list
    if ((d[2] & 16) != 0) seps = {separator, " ", ""};
    auto s = RecursiveCharacterTextSplitter::Create(seps, o, keep);
    if (!s.ok()) __builtin_trap();
    splitter = std::make_unique<RecursiveCharacterTextSplitter>(std::move(s).value());
  } else {
    auto s = CharacterTextSplitter::Create(separator, o, keep);
    if (!s.ok()) __builtin_trap();
    splitter = std::make_unique<CharacterTextSplitter>(std::move(s).value());
  }
  auto chunks = splitter->Split(text);
  if (!chunks.ok()) {
    if (chunks.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    return 0;
  }
  if (!sagebox::retrieval::CheckChunks(*splitter, text, *chunks).empty()) __builtin_trap();
  return 0;
}
