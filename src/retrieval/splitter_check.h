// splitter_check.h: the invariants every splitter result must satisfy, shared by the
// property test (splitter_test.cc) and the fuzz target (fuzz/splitter_fuzz.cc).
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "retrieval/document.h"
#include "retrieval/splitter.h"

namespace sagebox::retrieval {

// What is wrong with `chunks` = splitter.Split(text), or "" when nothing is:
// - no chunk is empty, and each lies inside the text (begin <= end <= text.size());
// - a chunk whose end - begin equals its size is the text at its offsets; with a kept
//   separator every chunk is (only KeepSeparator::kNone may join pieces around an empty one);
// - a chunk is longer than chunk_size only if no separator could split it: a recursive
//   splitter whose separators end with "" never makes one, and a character splitter's is a
//   single piece, so it holds no separator;
// - no text is lost: the chunks hold at least as many printable ASCII bytes as the text,
//   less the separators' when they are not kept.
inline std::string CheckChunks(const TextSplitter& splitter, std::string_view text,
                               const std::vector<Chunk>& chunks) {
  const auto* character = dynamic_cast<const CharacterTextSplitter*>(&splitter);
  const auto* recursive = dynamic_cast<const RecursiveCharacterTextSplitter*>(&splitter);
  const auto size = static_cast<size_t>(splitter.options().chunk_size);
  // Printable ASCII is never stripped; other bytes may be part of whitespace (U+00A0, ...).
  auto visible = [](std::string_view s) {
    size_t n = 0;
    for (const char c : s) n += (c > ' ' && c < 0x7F) ? 1 : 0;
    return n;
  };
  size_t kept = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const std::string where = "chunk " + std::to_string(i) + ": ";
    if (c.text.empty()) return where + "empty";
    if (c.begin > c.end || c.end > text.size()) return where + "span outside the text";
    const bool exact = c.end - c.begin == c.text.size();
    if (exact && text.substr(c.begin, c.end - c.begin) != c.text) {
      return where + "not the text at its offsets";
    }
    if (!exact && splitter.keep_separator() != KeepSeparator::kNone) {
      return where + "not found in the text although separators are kept";
    }
    if (CodePointLength(c.text) > size) {
      if (recursive != nullptr && !recursive->separators().empty() &&
          recursive->separators().back().empty()) {
        return where + "longer than chunk_size";
      }
      if (character != nullptr && !character->separator().empty() &&
          splitter.keep_separator() == KeepSeparator::kNone &&
          c.text.find(character->separator()) != std::string::npos) {
        return where + "longer than chunk_size but holds a separator";
      }
    }
    kept += visible(c.text);
  }
  // Without kept separators, the ones at chunk boundaries are dropped (as in LangChain).
  size_t droppable = 0;
  if (splitter.keep_separator() == KeepSeparator::kNone) {
    std::vector<std::string> seps;
    if (character != nullptr) seps = {character->separator()};
    if (recursive != nullptr) seps = recursive->separators();
    for (const std::string& sep : seps) {
      if (sep.empty()) continue;
      for (size_t at = text.find(sep); at != std::string_view::npos;
           at = text.find(sep, at + sep.size())) {
        droppable += visible(sep);
      }
    }
  }
  if (kept + droppable < visible(text)) return "chunks lost text";
  return "";
}

}  // namespace sagebox::retrieval
