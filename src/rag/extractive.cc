#include "rag/extractive.h"

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "rag/sentences.h"

namespace sagebox::rag {
namespace {

// English stop words: the Snowball project's English list as PostgreSQL 15
// ships it (share/tsearch_data/english.stop, 127 words). "s" and "t" are the
// ends of "what's" and "don't", which the tokeniser splits at the apostrophe.
const std::unordered_set<std::string>& StopWords() {
  static const auto* const kWords = new std::unordered_set<std::string>{
      "i",       "me",      "my",      "myself",   "we",         "our",    "ours",    "ourselves",
      "you",     "your",    "yours",   "yourself", "yourselves", "he",     "him",     "his",
      "himself", "she",     "her",     "hers",     "herself",    "it",     "its",     "itself",
      "they",    "them",    "their",   "theirs",   "themselves", "what",   "which",   "who",
      "whom",    "this",    "that",    "these",    "those",      "am",     "is",      "are",
      "was",     "were",    "be",      "been",     "being",      "have",   "has",     "had",
      "having",  "do",      "does",    "did",      "doing",      "a",      "an",      "the",
      "and",     "but",     "if",      "or",       "because",    "as",     "until",   "while",
      "of",      "at",      "by",      "for",      "with",       "about",  "against", "between",
      "into",    "through", "during",  "before",   "after",      "above",  "below",   "to",
      "from",    "up",      "down",    "in",       "out",        "on",     "off",     "over",
      "under",   "again",   "further", "then",     "once",       "here",   "there",   "when",
      "where",   "why",     "how",     "all",      "any",        "both",   "each",    "few",
      "more",    "most",    "other",   "some",     "such",       "no",     "nor",     "not",
      "only",    "own",     "same",    "so",       "than",       "too",    "very",    "s",
      "t",       "can",     "will",    "just",     "don",        "should", "now"};
  return *kWords;
}

// CJK scripts write no spaces between words, so each of their characters is
// a word of its own (Unicode blocks: CJK Radicals to Kangxi, Hiragana,
// Katakana, Bopomofo, CJK Unified Ideographs and Extension A, Compatibility
// Ideographs, the supplementary ideograph planes).
bool IsCjk(unsigned ch) {
  return (ch >= 0x2E80 && ch <= 0x2FDF) || (ch >= 0x3040 && ch <= 0x31FF) ||
         (ch >= 0x3400 && ch <= 0x4DBF) || (ch >= 0x4E00 && ch <= 0x9FFF) ||
         (ch >= 0xF900 && ch <= 0xFAFF) || (ch >= 0x20000 && ch <= 0x2FA1F);
}

bool IsUpperCp(unsigned ch) {
  return Xapian::Unicode::get_category(ch) == Xapian::Unicode::UPPERCASE_LETTER;
}
bool IsLowerOrDigitCp(unsigned ch) {
  const auto cat = Xapian::Unicode::get_category(ch);
  return cat == Xapian::Unicode::LOWERCASE_LETTER || cat == Xapian::Unicode::DECIMAL_DIGIT_NUMBER;
}

// Appends the terms of one word (its code points) to `out`: split at
// camelCase humps ("MemorySizeInMB" is memory, size, in, mb; "MBConfig" is
// mb, config) as identifiers in technical documentation join words that
// questions write apart; then lower-cased, stop words dropped, stemmed.
void AppendWord(const std::vector<unsigned>& cps, Xapian::Stem& stem,
                std::vector<std::string>* out) {
  std::string part;
  auto flush = [&] {
    if (!part.empty() && StopWords().count(part) == 0) out->push_back(stem(part));
    part.clear();
  };
  for (size_t k = 0; k < cps.size(); ++k) {
    if (k > 0 && IsUpperCp(cps[k]) &&
        (IsLowerOrDigitCp(cps[k - 1]) ||
         (IsUpperCp(cps[k - 1]) && k + 1 < cps.size() &&
          Xapian::Unicode::get_category(cps[k + 1]) == Xapian::Unicode::LOWERCASE_LETTER))) {
      flush();
    }
    Xapian::Unicode::append_utf8(part, Xapian::Unicode::tolower(cps[k]));
  }
  flush();
}

// Appends the content terms of `text` to `out`. Words are runs of Xapian's
// word characters (letters, digits, marks), split at underscores.
void AppendTerms(std::string_view text, Xapian::Stem& stem, std::vector<std::string>* out) {
  std::vector<unsigned> word;
  auto flush = [&] {
    if (!word.empty()) AppendWord(word, stem, out);
    word.clear();
  };
  for (Xapian::Utf8Iterator it(text.data(), text.size()); it != Xapian::Utf8Iterator(); ++it) {
    const unsigned ch = *it;
    if (IsCjk(ch)) {
      flush();
      std::string one;
      Xapian::Unicode::append_utf8(one, ch);
      out->push_back(one);  // no stop words or stemming for CJK characters
    } else if (ch != '_' && Xapian::Unicode::is_wordchar(ch)) {
      word.push_back(ch);
    } else {
      flush();
    }
  }
  flush();
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !IsContinuation(c); }));
}

// White space runs become one space.
std::string Collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// The byte length of the longest prefix of `s` with at most `budget` code
// points, cut after the last space in its second half when there is one, so
// no code point (and, when possible, no word) is cut.
size_t CutAt(std::string_view s, size_t budget) {
  size_t cps = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsContinuation(s[i])) {
      if (cps == budget) break;
      ++cps;
    }
    ++i;
  }
  // `i` is the start of a code point (or the end): never inside one.
  const size_t space = s.substr(0, i).find_last_of(" \t\n");
  if (i < s.size() && space != std::string_view::npos && space >= i / 2) i = space;
  while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' || s[i - 1] == '\n' || s[i - 1] == '\r')) {
    --i;
  }
  return i;
}

// BM25's usual parameters (Robertson and Zaragoza, "The Probabilistic
// Relevance Framework: BM25 and Beyond", 2009), as the lexical index uses.
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

struct Candidate {
  size_t passage = 0;
  size_t begin = 0;
  size_t end = 0;
  double score = 0;
};

}  // namespace

StatusOr<std::vector<std::string>> ContentTerms(std::string_view text) {
  try {
    Xapian::Stem stem("english");
    std::vector<std::string> out;
    AppendTerms(text, stem, &out);
    return out;
  } catch (const Xapian::Error& e) {
    return Internal("stemming: " + e.get_description());
  }
}

StatusOr<Answer> ExtractiveAnswer(std::string_view question,
                                  const std::vector<std::string>& passages,
                                  const ExtractiveOptions& options) {
  if (options.max_sentences < 1) {
    return InvalidArgument("max_sentences must be at least 1, got " +
                           std::to_string(options.max_sentences));
  }
  if (options.max_chars < 20) {
    return InvalidArgument("max_chars must be at least 20, got " +
                           std::to_string(options.max_chars));
  }
  if (!std::isfinite(options.rank_bonus) || options.rank_bonus < 0) {
    return InvalidArgument("rank_bonus must be a finite number >= 0, got " +
                           std::to_string(options.rank_bonus));
  }

  Answer answer;
  answer.text = kNoAnswerText;
  answer.no_answer = true;

  std::vector<Candidate> candidates;
  try {
    Xapian::Stem stem("english");
    std::vector<std::string> q_terms;
    AppendTerms(question, stem, &q_terms);
    const std::set<std::string> query(q_terms.begin(), q_terms.end());
    if (query.empty() || passages.empty()) return answer;

    // Per passage: its sentences and, per sentence, the query terms it holds.
    struct Sent {
      Segment seg;
      std::map<std::string, int> hits;  // query term -> occurrences
      size_t length = 0;                // content terms
    };
    std::vector<std::vector<Sent>> sents(passages.size());
    std::map<std::string, size_t> df;  // query term -> passages holding it
    std::vector<std::string> terms;
    double total_length = 0;  // content terms over all candidate sentences
    size_t sentences = 0;
    for (size_t p = 0; p < passages.size(); ++p) {
      std::set<std::string> in_passage;
      for (const Segment& seg : SplitSentences(passages[p])) {
        terms.clear();
        AppendTerms(std::string_view(passages[p]).substr(seg.begin, seg.end - seg.begin), stem,
                    &terms);
        Sent s{seg, {}, terms.size()};
        for (const std::string& t : terms) {
          if (query.count(t) > 0) {
            ++s.hits[t];
            in_passage.insert(t);
          }
        }
        if (seg.kind == SegmentKind::kHeading) continue;
        total_length += static_cast<double>(s.length);
        ++sentences;
        if (!s.hits.empty()) sents[p].push_back(std::move(s));
      }
      for (const std::string& t : in_passage) ++df[t];
    }
    const auto n = static_cast<double>(passages.size());
    const double avg_length = sentences > 0 ? total_length / static_cast<double>(sentences) : 1;
    for (size_t p = 0; p < passages.size(); ++p) {
      const double bonus = 1 + options.rank_bonus / (1 + static_cast<double>(p));
      for (const Sent& s : sents[p]) {
        double overlap = 0;
        const double norm =
            kK1 * (1 - kB + kB * static_cast<double>(s.length) / std::max(avg_length, 1.0));
        for (const auto& [t, count] : s.hits) {
          const auto d = static_cast<double>(df[t]);
          const auto tf = static_cast<double>(count);
          overlap += std::log(1 + (n - d + 0.5) / (d + 0.5)) * tf * (kK1 + 1) / (tf + norm);
        }
        candidates.push_back({p, s.seg.begin, s.seg.end, overlap * bonus});
      }
    }
  } catch (const Xapian::Error& e) {
    return Internal("stemming: " + e.get_description());
  }
  if (candidates.empty()) return answer;

  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     if (a.score != b.score) return a.score > b.score;
                     if (a.passage != b.passage) return a.passage < b.passage;
                     return a.begin < b.begin;
                   });
  std::set<std::string> seen;  // collapsed texts taken
  size_t used = 0;
  for (const Candidate& c : candidates) {
    if (answer.sentences.size() >= static_cast<size_t>(options.max_sentences)) break;
    const std::string_view slice =
        std::string_view(passages[c.passage]).substr(c.begin, c.end - c.begin);
    const std::string collapsed = Collapse(slice);
    if (seen.count(collapsed) > 0) continue;
    const size_t len = CodePoints(collapsed);
    AnswerSentence s{std::string(slice), c.passage, c.begin, c.end, c.score, false};
    if (used + len > options.max_chars) {
      if (!answer.sentences.empty()) continue;  // a shorter one may still fit
      const size_t cut = CutAt(slice, options.max_chars);
      if (cut == 0) continue;
      s.end = c.begin + cut;
      s.text = std::string(slice.substr(0, cut));
      s.truncated = true;
    }
    seen.insert(collapsed);
    used += CodePoints(Collapse(s.text));
    answer.sentences.push_back(std::move(s));
  }
  if (answer.sentences.empty()) return answer;

  std::sort(answer.sentences.begin(), answer.sentences.end(),
            [](const AnswerSentence& a, const AnswerSentence& b) {
              return std::pair(a.passage, a.begin) < std::pair(b.passage, b.begin);
            });
  answer.text.clear();
  for (const AnswerSentence& s : answer.sentences) {
    if (!answer.text.empty()) answer.text += ' ';
    answer.text += Collapse(s.text);
    if (s.truncated) answer.text += "\u2026";
    answer.text += " [" + std::to_string(s.passage + 1) + "]";
    if (answer.cited.empty() || answer.cited.back() != s.passage) answer.cited.push_back(s.passage);
  }
  answer.no_answer = false;
  return answer;
}

}  // namespace sagebox::rag
