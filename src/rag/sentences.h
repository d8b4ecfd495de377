// sentences.h: splits a passage (prose, Markdown or reStructuredText, as the
// parsers and splitters of the retrieval core leave it) into sentences, with
// byte offsets, for the extractive answerer.
//
// Why not a library: ICU's sentence BreakIterator (UAX #29) breaks at every
// line feed, so the hard-wrapped lines of reST and Markdown sources would
// each become a "sentence", and it has no notion of list items, headings,
// code blocks or `inline code`; the rules it does get right for English
// (decimals, "e.g. the", closing quotes) are a few lines here. So the split
// is two passes, both on bytes of UTF-8 (no byte of a multi-byte code point
// is ever mistaken for ASCII punctuation, so no span starts or ends inside a
// code point):
//   1. Blocks, by line: a blank line ends a paragraph; a Markdown heading
//      (`# Title`), a reST title (a line over an `====`/`----` underline), a
//      list item (`- `, `* `, `+ `, `• `, `1. `, `1) `, `#. `), a reST field
//      (`:param x:`), a directive (`.. note::`) or a table row starts a block
//      of its own; fenced code (``` or ~~~) and reST literal blocks (indented
//      lines after a paragraph ending in `::` or after `.. code-block::`)
//      give one segment per line. Wrapped lines of one paragraph stay
//      together. Underlines, table borders and fences are dropped.
//   2. Sentences inside a prose block: a break after `.`, `!`, `?`, `...` or
//      `…` (plus closing quotes/brackets) followed by white space, unless
//      the next word starts lower case or with `,;:` ("e.g. the", "etc.,"),
//      or the word before the period is an abbreviation ("Dr.", "e.g.",
//      "i.e.", "vs.", an initial "J.", "Fig. 3"). A period followed directly by
//      a digit or letter ("3.14", "v2.1.0", "example.com") is no break,
//      except "end.Next word" (lower case, period, a capitalised word: text
//      whose space was lost). CJK full stops and full-width `！？` break with
//      no space after them. Nothing inside `inline code` or a URL
//      (http://, https://, www.) breaks.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace sagebox::rag {

enum class SegmentKind {
  kSentence,  // a sentence of prose, a list item or a table row
  kHeading,   // a Markdown or reST title
  kCode,      // one line of a code or literal block
};

// [begin, end) byte offsets into the text, trimmed of ASCII white space,
// never empty; markers (`# `, `- `, `1. `) are outside the span.
struct Segment {
  size_t begin = 0;
  size_t end = 0;
  SegmentKind kind = SegmentKind::kSentence;
};

// The sentences, headings and code lines of `text`, in order, without
// overlap. Segments holding no letter or digit (a lone "..." or "|") are
// dropped. Any byte string is accepted (invalid UTF-8 is split as bytes).
std::vector<Segment> SplitSentences(std::string_view text);

}  // namespace sagebox::rag
