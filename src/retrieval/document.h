// document.h: what the retrieval core passes between its stages.
//
// ingest -> parse (Document) -> chunk (Chunk) -> embed -> index -> search (Hit).
// A Document is one source file's text (or one record of a BEIR corpus) after
// parsing; a Chunk is a span of it, with the offsets and page that citations
// need. The types are plain values: no thread-safety concerns of their own.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace sagebox::retrieval {

// A page of a paged source (PDF). Offsets are byte offsets into Document::text,
// [begin, end).
struct Page {
  int number = 0;  // 1-based, as people cite pages
  size_t begin = 0;
  size_t end = 0;
};

struct Document {
  // Stable identity within an index: the source path, or "path#_id" for a
  // record of a BEIR corpus.jsonl. Re-ingesting the same id replaces its chunks.
  std::string id;
  std::string source;       // the path or URL as the user gave it; shown in citations
  std::string title;        // <title>, first heading, PDF title or BEIR title; may be empty
  std::string text;         // UTF-8 plain text, paragraphs separated by "\n\n"
  std::vector<Page> pages;  // empty unless the source has pages
  std::map<std::string, std::string> metadata;  // e.g. "format" -> "html"
};

// A span of a document's text, as a splitter produced it.
struct Chunk {
  std::string text;
  size_t begin = 0;  // byte offset of text in Document::text
  size_t end = 0;    // begin + text.size(), except when the splitter joined pieces around
                     // an empty one (see TextSplitter::Split): then the span it came from
  int page = 0;      // page holding `begin`, 0 if the document has no pages
};

// The page (1-based) that holds byte offset `pos`, or 0 when `pages` is empty.
inline int PageAt(const std::vector<Page>& pages, size_t pos) {
  for (const Page& p : pages) {
    if (pos >= p.begin && pos < p.end) return p.number;
  }
  return pages.empty() ? 0 : pages.back().number;
}

}  // namespace sagebox::retrieval
