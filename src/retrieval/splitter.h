// splitter.h: LangChain's CharacterTextSplitter and RecursiveCharacterTextSplitter, with the
// same chunks as Python LangChain (langchain_text_splitters, character.py and base.py) for
// the same text and settings.
//
// The RAG article ingests with RecursiveCharacterTextSplitter(chunk_size=600,
// chunk_overlap=20) and the docs article with CharacterTextSplitter(separator="\n",
// chunk_size=1000, chunk_overlap=100); ArticleIngestSplitter() and DocsArticleSplitter()
// build those. Sizes and lengths count Unicode code points, as Python's len() does; the
// offsets in the returned Chunks are byte offsets into the UTF-8 text.
//
// Python is the reference, not LangChain.js: the two differ (overlapping separator matches,
// the overlap arithmetic with a non-empty merge separator, the whitespace strip() removes,
// UTF-16 lengths, overlap == size); the list, with examples, is in
// tests/retrieval/langchain/record_chunks.mjs and splitter_test.cc.
//
// Not supported: is_separator_regex (separators are literal strings, as in both articles)
// and custom length functions (lengths are code points, LangChain's default `len`).
//
// Thread-safety: a splitter is immutable after Create(); its const methods may be called from
// any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "retrieval/document.h"

namespace sagebox::retrieval {

// Where a separator goes when it is kept (LangChain's keep_separator: False, True or "start",
// "end"): kStart puts it at the start of the piece after it, kEnd at the end of the piece
// before it; kNone drops it and re-inserts it between the pieces of a chunk.
enum class KeepSeparator { kNone, kStart, kEnd };

// LangChain's TextSplitter arguments. The defaults are LangChain's (TextSplitter.__init__):
// chunk_size 4000, chunk_overlap 200, strip_whitespace True. keep_separator defaults to
// False for CharacterTextSplitter and True (kStart) for RecursiveCharacterTextSplitter.
struct SplitterOptions {
  // The largest chunk, in code points; exceeded only by pieces the separators cannot split.
  int64_t chunk_size = 4000;
  // At most this many code points of a chunk are repeated at the start of the next one.
  int64_t chunk_overlap = 200;
  bool strip_whitespace = true;  // str.strip() every chunk (Python's Unicode whitespace)
};

class TextSplitter {
 public:
  virtual ~TextSplitter() = default;
  TextSplitter(const TextSplitter&) = default;
  TextSplitter& operator=(const TextSplitter&) = default;
  TextSplitter(TextSplitter&&) = default;
  TextSplitter& operator=(TextSplitter&&) = default;

  // LangChain's split_text(text): the chunk strings. BadInput if `text` is not valid UTF-8
  // (naming the byte offset); an empty or all-whitespace text gives no chunks.
  StatusOr<std::vector<std::string>> SplitText(std::string_view text) const;

  // LangChain's create_documents([text]) with add_start_index=True: the chunks with their
  // byte offsets in `text`, found the way LangChain finds start_index (text.find(chunk,
  // max(0, previous_start + len(previous_chunk) - chunk_overlap)), in code points). A chunk
  // that is not a substring of `text` (CharacterTextSplitter with KeepSeparator::kNone joins
  // the pieces around an empty piece with one separator: "a\n\nb" on "\n" gives "a\nb"),
  // where LangChain stores start_index -1, gets the span of the text it came from instead:
  // there, end - begin differs from text.size(). Chunk::page is 0. BadInput as SplitText.
  StatusOr<std::vector<Chunk>> Split(std::string_view text) const;

  // Split(doc.text) with Chunk::page set to the page holding each chunk's begin (PageAt).
  // BadInput names doc.source (else doc.id) when the text is not valid UTF-8.
  StatusOr<std::vector<Chunk>> SplitDocument(const Document& doc) const;

  const SplitterOptions& options() const { return options_; }
  KeepSeparator keep_separator() const { return keep_; }

 protected:
  // A piece of the input text: bytes [begin, end), `length` code points.
  struct Piece {
    size_t begin = 0;
    size_t end = 0;
    size_t length = 0;
  };
  // A chunk before its offset is found: its text, and the span of the input it joins.
  struct Draft {
    std::string text;
    size_t begin = 0;
    size_t end = 0;
  };

  TextSplitter(SplitterOptions options, KeepSeparator keep) : options_(options), keep_(keep) {}
  static Status Validate(const SplitterOptions& options,
                         const std::vector<std::string>& separators);

  // split_text on valid UTF-8.
  virtual std::vector<Draft> SplitValid(std::string_view text) const = 0;

  // character.py _split_text_with_regex for a literal separator, on text[range).
  std::vector<Piece> SplitOnSeparator(std::string_view text, const Piece& range,
                                      std::string_view separator) const;
  // base.py _merge_splits: joins consecutive pieces with `separator` into chunks.
  void MergeSplits(std::string_view text, const std::vector<Piece>& splits,
                   std::string_view separator, std::vector<Draft>* out) const;

  SplitterOptions options_;
  KeepSeparator keep_;
};

// CharacterTextSplitter: splits on one separator, then merges the pieces into chunks.
class CharacterTextSplitter final : public TextSplitter {
 public:
  // InvalidArgument if chunk_size <= 0, chunk_overlap < 0, chunk_overlap > chunk_size (as
  // LangChain's ValueError; overlap == size is allowed, as in Python), or the separator is
  // not valid UTF-8. An empty separator splits into single code points.
  static StatusOr<CharacterTextSplitter> Create(std::string separator = "\n\n",
                                                SplitterOptions options = {},
                                                KeepSeparator keep = KeepSeparator::kNone);
  const std::string& separator() const { return separator_; }

 private:
  CharacterTextSplitter(std::string separator, SplitterOptions options, KeepSeparator keep)
      : TextSplitter(options, keep), separator_(std::move(separator)) {}
  std::vector<Draft> SplitValid(std::string_view text) const override;
  std::string separator_;
};

// RecursiveCharacterTextSplitter: splits on the first separator found in the text, and splits
// pieces still too long with the separators after it.
class RecursiveCharacterTextSplitter final : public TextSplitter {
 public:
  // The default separators, LangChain's: paragraphs, lines, words, characters.
  static std::vector<std::string> DefaultSeparators() { return {"\n\n", "\n", " ", ""}; }

  // An empty `separators` means DefaultSeparators() (Python's `separators or [...]`).
  // InvalidArgument as CharacterTextSplitter::Create.
  static StatusOr<RecursiveCharacterTextSplitter> Create(
      std::vector<std::string> separators = {}, SplitterOptions options = {},
      KeepSeparator keep = KeepSeparator::kStart);
  const std::vector<std::string>& separators() const { return separators_; }

 private:
  RecursiveCharacterTextSplitter(std::vector<std::string> separators, SplitterOptions options,
                                 KeepSeparator keep)
      : TextSplitter(options, keep), separators_(std::move(separators)) {}
  std::vector<Draft> SplitValid(std::string_view text) const override;
  void SplitRecursive(std::string_view text, const Piece& range, size_t first_separator,
                      std::vector<Draft>* out) const;
  std::vector<std::string> separators_;
};

// The RAG article's ingest: RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=20).
RecursiveCharacterTextSplitter ArticleIngestSplitter();
// The docs article's: CharacterTextSplitter(separator="\n", chunk_size=1000,
// chunk_overlap=100).
CharacterTextSplitter DocsArticleSplitter();

// The number of code points of valid UTF-8 `s` (Python's len()).
size_t CodePointLength(std::string_view s);

}  // namespace sagebox::retrieval
