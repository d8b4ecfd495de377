// extractive.h: the default generator of `sagebox rag`: an answer made of the
// best sentences of the retrieved passages, each with its citation, so the
// module answers offline with no model weights.
//
// How it works:
//   - Passages come ranked (index 0 = best), e.g. the top chunks of a search.
//     Each is split into sentences (sentences.h); titles are not candidates.
//   - The question's content words are its words, lower-cased, English stop
//     words removed, stemmed by Snowball's English (Porter2) stemmer through
//     Xapian, the same stemmer the BM25 index uses. Underscores and camelCase
//     humps split words ("instance_type" is "instance" and "type",
//     "MemorySizeInMB" is "memory", "size", "in", "mb"); each CJK character
//     is a word of its own.
//   - A sentence scores as a BM25 document of the question words it holds
//     (Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25
//     and Beyond", 2009; k1 = 1.2, b = 0.75, lengths in content words, the
//     average over the passages' sentences): for each distinct question
//     word t, idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen)), so
//     a short sentence holding the words beats a long one that mentions
//     them in passing. idf is computed over the given passages as Lucene's
//     BM25 does: idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5)), N passages,
//     df of them holding t (Lucene BM25Similarity.idf). The sum is
//     multiplied by (1 + rank_bonus / (1 + passage index)), a
//     reciprocal-rank bonus that lets the retriever's order break near-ties.
//   - The best sentences (ties: earlier passage, then earlier in it) are
//     taken while they fit max_sentences and max_chars (a sentence repeated
//     word for word, as overlapping chunks repeat text, is taken once);
//     the best one alone is cut at a word or code-point boundary when it is
//     longer than the budget. They are shown in passage order, then in
//     text order, each followed by its citation "[n]", n = passage index + 1
//     as people number sources.
//   - When no sentence holds a question word (or there are no passages, or
//     the question has only stop words), the answer is kNoAnswerText with no
//     sentences and no citations, and no_answer is set.
// Deterministic: the same inputs give the same answer.
//
// Thread-safety: pure function; safe from any thread (each call has its own
// stemmer).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::rag {

inline constexpr std::string_view kNoAnswerText = "No answer found in the documents.";

struct ExtractiveOptions {
  int max_sentences = 3;   // at least 1
  size_t max_chars = 600;  // budget for the sentences' text, in code points; at least 20
  double rank_bonus = 0.25;
};

struct AnswerSentence {
  std::string text;    // == passages[passage].substr(begin, end - begin)
  size_t passage = 0;  // index into the passages; its citation is passage + 1
  size_t begin = 0;    // byte offsets in the passage
  size_t end = 0;
  double score = 0;
  bool truncated = false;  // cut to fit max_chars; the answer text shows "…"
};

struct Answer {
  // The sentences, white space collapsed, each followed by " [n]", joined
  // by spaces; kNoAnswerText when no_answer.
  std::string text;
  std::vector<AnswerSentence> sentences;  // in passage order, then text order
  std::vector<size_t> cited;              // distinct passage indexes, ascending
  bool no_answer = false;
};

// Answers `question` from `passages` (best first). InvalidArgument when
// max_sentences < 1, max_chars < 20 or rank_bonus is negative or not finite;
// Internal if the stemmer fails (Xapian exception), which it should not.
StatusOr<Answer> ExtractiveAnswer(std::string_view question,
                                  const std::vector<std::string>& passages,
                                  const ExtractiveOptions& options = {});

// The content words of `text` as ExtractiveAnswer sees them, in order,
// repeats kept. Exposed for tests and for highlighting.
StatusOr<std::vector<std::string>> ContentTerms(std::string_view text);

}  // namespace sagebox::rag
