#include "rag/sentences.h"

#include <xapian.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace sagebox::rag {
namespace {

// The longest `inline code` span looked for, in bytes.
constexpr size_t kMaxInlineCode = 500;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return IsLower(c) || IsUpper(c); }

bool StartsWith(std::string_view s, size_t pos, std::string_view prefix) {
  return s.substr(pos, prefix.size()) == prefix;
}

// Multi-byte code points the rules care about, as UTF-8.
constexpr std::string_view kEllipsis = "\u2026";  // …
constexpr std::array<std::string_view, 4> kCjkStops = {
    "\u3002",  // 。 ideographic full stop
    "\uFF01",  // ！ full-width exclamation mark
    "\uFF1F",  // ？ full-width question mark
    "\uFF61",  // ｡ half-width ideographic full stop
};
constexpr std::array<std::string_view, 7> kWideClosers = {
    "\u201D", "\u2019", "\u00BB",  // ” ’ »
    "\u300D", "\u300F", "\uFF09",  // 」 』 ）
    "\u3011",                      // 】
};

// Length of the multi-byte token from `list` at `pos`, or 0.
template <size_t N>
size_t MatchAny(std::string_view s, size_t pos, const std::array<std::string_view, N>& list) {
  for (std::string_view m : list) {
    if (StartsWith(s, pos, m)) return m.size();
  }
  return 0;
}

// Length of a closing quote/bracket/emphasis mark at `pos`, or 0.
size_t CloserAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  const char c = s[pos];
  if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '*' || c == '_' || c == '`') return 1;
  return MatchAny(s, pos, kWideClosers);
}

// Abbreviations after which ". " does not end a sentence. Lower case, without
// the final period; from common English usage (titles, Latin abbreviations).
bool IsAlwaysAbbreviation(const std::string& w) {
  static constexpr std::array<std::string_view, 17> kWords = {
      "dr", "mr", "mrs", "ms",  "prof", "sr", "jr",  "st",    "vs",
      "cf", "al", "e.g", "i.e", "eg",   "ie", "viz", "approx"};
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}
// Abbreviations that only come before a number ("Fig. 3", "No. 5"): "no."
// ends the sentence "The answer is no. Then ...".
bool IsNumberAbbreviation(const std::string& w) {
  static constexpr std::array<std::string_view, 13> kWords = {
      "no", "nos", "fig", "figs", "eq", "eqs", "vol", "pp", "p", "ch", "sec", "ref", "art"};
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

// Whether the period at `dot` closes an abbreviation, given the first byte
// after the following white space (`next`, 0 at the end).
bool IsAbbreviation(std::string_view s, size_t block_begin, size_t dot, char next) {
  size_t b = dot;
  while (b > block_begin && !IsSpace(s[b - 1]) && s[b - 1] != '(' && s[b - 1] != '[' &&
         s[b - 1] != '"') {
    --b;
  }
  const std::string_view word = s.substr(b, dot - b);
  if (word.empty()) return false;
  if (word.size() == 1 && IsUpper(word[0])) return true;  // an initial: "J. Smith"
  std::string lower;
  for (char c : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (IsAlwaysAbbreviation(lower)) return true;
  if (IsDigit(next) && IsNumberAbbreviation(lower)) return true;
  // Letters separated by periods, one or two at a time: "U.S", "a.m", "Ph.D".
  bool dotted = lower.find('.') != std::string::npos;
  size_t run = 0;
  for (char c : lower) {
    if (c == '.') {
      if (run == 0 || run > 2) dotted = false;
      run = 0;
    } else if (IsLower(c)) {
      ++run;
    } else {
      dotted = false;
    }
  }
  return dotted && run >= 1 && run <= 2;
}

// "end.Next": a capitalised word (an upper-case letter, then lower-case
// letters up to white space, `,;:` or the end) at `pos`.
// A capitalised word that starts a sentence going on: "Next it ...", "Then, ...". A word
// at the end of its line or text ("class csv.Dialect" on a signature line of the Python
// docs) is more likely the tail of a dotted name than a sentence of one word.
bool CapitalisedWordAt(std::string_view s, size_t pos, size_t end) {
  if (pos >= end || !IsUpper(s[pos])) return false;
  size_t i = pos + 1;
  while (i < end && IsLower(s[i])) ++i;
  if (i == pos + 1 || i == end) return false;
  if (s[i] == ',' || s[i] == ';' || s[i] == ':') return true;
  return s[i] == ' ' && i + 1 < end && IsAlpha(s[i + 1]);
}

// The end of a URL starting at `pos`, or `pos` when none starts there. Final
// punctuation is left out: "see https://a.org/x." ends a sentence.
size_t UrlEnd(std::string_view s, size_t pos, size_t end, size_t block_begin) {
  if (pos > block_begin) {
    const char p = s[pos - 1];
    if (!IsSpace(p) && p != '(' && p != '<' && p != '[' && p != '"' && p != '\'' && p != '`') {
      return pos;
    }
  }
  if (!StartsWith(s, pos, "http://") && !StartsWith(s, pos, "https://") &&
      !StartsWith(s, pos, "www.")) {
    return pos;
  }
  size_t i = pos;
  while (i < end && !IsSpace(s[i]) && s[i] != '>' && s[i] != '"' && s[i] != '`') ++i;
  while (i > pos && std::string_view(".,;:!?)]'").find(s[i - 1]) != std::string_view::npos) --i;
  return i;
}

// reST admonitions and version notes, whose directive line may carry text
// (docutils "Admonitions"; Sphinx "Paragraph-level markup").
bool IsAdmonition(std::string_view name) {
  static constexpr std::array<std::string_view, 15> kNames = {
      "note",           "warning",    "tip",  "important", "caution",    "attention",
      "danger",         "error",      "hint", "seealso",   "admonition", "versionadded",
      "versionchanged", "deprecated", "todo"};
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

bool HasWordChar(std::string_view s) {
  for (Xapian::Utf8Iterator it(s.data(), s.size()); it != Xapian::Utf8Iterator(); ++it) {
    if (Xapian::Unicode::is_wordchar(*it)) return true;
  }
  return false;
}

class Splitter {
 public:
  explicit Splitter(std::string_view text) : s_(text) {}

  // Emits [b, e) trimmed, if it holds a letter or digit.
  void Emit(size_t b, size_t e, SegmentKind kind) {
    while (b < e && IsSpace(s_[b])) ++b;
    while (e > b && IsSpace(s_[e - 1])) --e;
    if (b < e && HasWordChar(s_.substr(b, e - b))) out_.push_back({b, e, kind});
  }

  // Pass 2: the sentences of the prose block [b, e).
  void SplitBlock(size_t b, size_t e) {
    size_t start = b;
    size_t i = b;
    while (i < e) {
      const char c = s_[i];
      if (c == '`') {  // inline code: a run of n backticks up to the next run of n
        size_t n = 0;
        while (i + n < e && s_[i + n] == '`') ++n;
        const std::string ticks(n, '`');
        // Inline code is short: looking for its end only so far keeps text
        // full of stray backticks linear.
        const std::string_view scope = s_.substr(0, std::min(e, i + n + kMaxInlineCode));
        size_t close = scope.find(ticks, i + n);
        while (close != std::string_view::npos && close + n < scope.size() &&
               s_[close + n] == '`') {
          close = scope.find(ticks, close + n + 1);
        }
        i = close == std::string_view::npos ? i + n : close + n;
        continue;
      }
      if (const size_t u = UrlEnd(s_, i, e, b); u > i) {
        i = u;
        continue;
      }
      if (const size_t cjk = MatchAny(s_, i, kCjkStops); cjk > 0) {
        size_t k = i + cjk;
        while (k < e && (MatchAny(s_, k, kCjkStops) > 0 || CloserAt(s_, k) > 0)) {
          k += std::max(MatchAny(s_, k, kCjkStops), CloserAt(s_, k));
        }
        Emit(start, k, SegmentKind::kSentence);
        start = k;
        i = k;
        continue;
      }
      const bool ascii_stop = c == '.' || c == '!' || c == '?';
      if (!ascii_stop && !StartsWith(s_, i, kEllipsis)) {
        ++i;
        continue;
      }
      // The run of terminators ("?!", "...", "…"), then closers.
      size_t j = i;
      while (j < e) {
        if (s_[j] == '.' || s_[j] == '!' || s_[j] == '?') {
          ++j;
        } else if (StartsWith(s_, j, kEllipsis)) {
          j += kEllipsis.size();
        } else {
          break;
        }
      }
      const bool single_period = c == '.' && j == i + 1;
      size_t k = j;
      while (k < e && CloserAt(s_, k) > 0) k += CloserAt(s_, k);
      if (k < e && IsSpace(s_[k])) {
        size_t next = k;
        while (next < e && IsSpace(s_[next])) ++next;
        const char nc = next < e ? s_[next] : '\0';
        const bool continues = IsLower(nc) || nc == ',' || nc == ';' || nc == ':';
        if (next < e && !continues && !(single_period && IsAbbreviation(s_, b, i, nc))) {
          Emit(start, k, SegmentKind::kSentence);
          start = next;
        }
      } else if (single_period && k == j && i > b && IsLower(s_[i - 1]) && i >= b + 2 &&
                 IsAlpha(s_[i - 2]) && CapitalisedWordAt(s_, j, e)) {
        Emit(start, j, SegmentKind::kSentence);  // "end.Next": the space was lost
        start = j;
      }
      i = std::max(k, i + 1);
    }
    Emit(start, e, SegmentKind::kSentence);
  }

  std::vector<Segment> Run();

 private:
  struct Line {
    size_t begin = 0;    // first byte of the line
    size_t content = 0;  // first non-blank byte
    size_t end = 0;      // before "\n" / "\r\n"
    size_t indent = 0;   // columns of leading white space (a tab counts 4)
    bool blank = true;
  };

  std::string_view Content(const Line& l) const { return s_.substr(l.content, l.end - l.content); }

  // A reST/Markdown underline, overline or transition: three or more of one
  // punctuation character, or a simple-table border ("===  ====").
  bool IsRule(const Line& l) const {
    const std::string_view c = Content(l);
    if (c.size() < 3) return false;
    const char ch = c[0];
    if (std::string_view("=-~^*#\"'`+:._").find(ch) == std::string_view::npos) return false;
    bool spaced = false;
    for (char x : c) {
      if (x == ' ' || x == '\t') {
        spaced = true;
      } else if (x != ch) {
        return false;
      }
    }
    return !spaced || ch == '=' || ch == '-';
  }

  // A grid-table border ("+----+----+") or a Markdown table separator
  // ("|---|:--:|").
  bool IsTableBorder(const Line& l) const {
    const std::string_view c = Content(l);
    if (c.size() < 3 || (c[0] != '+' && c[0] != '|')) return false;
    return c.find_first_not_of("+|-=: \t") == std::string_view::npos;
  }

  // The length of a list marker with its space ("- ", "12. ", "#. "), or 0.
  size_t ListMarker(const Line& l) const {
    const std::string_view c = Content(l);
    if (c.size() >= 2 && std::string_view("-*+").find(c[0]) != std::string_view::npos &&
        (c[1] == ' ' || c[1] == '\t')) {
      return 2;
    }
    if (StartsWith(c, 0, "\u2022 ")) return std::string_view("\u2022 ").size();
    if (StartsWith(c, 0, "#. ")) return 3;
    size_t d = 0;
    while (d < c.size() && d < 4 && IsDigit(c[d])) ++d;
    if (d > 0 && d + 1 < c.size() && (c[d] == '.' || c[d] == ')') && c[d + 1] == ' ') return d + 2;
    return 0;
  }

  // Markdown ATX heading ("## Title"): the length of "## ", or 0.
  size_t HeadingMarker(const Line& l) const {
    const std::string_view c = Content(l);
    size_t h = 0;
    while (h < c.size() && c[h] == '#') ++h;
    if (h >= 1 && h <= 6 && h < c.size() && c[h] == ' ') return h + 1;
    return 0;
  }

  std::string_view s_;
  std::vector<Segment> out_;
};

std::vector<Segment> Splitter::Run() {
  std::vector<Line> lines;
  for (size_t pos = 0; pos <= s_.size();) {
    size_t nl = s_.find('\n', pos);
    if (nl == std::string_view::npos) nl = s_.size();
    Line l;
    l.begin = pos;
    l.end = nl;
    size_t i = pos;
    while (i < nl && (s_[i] == ' ' || s_[i] == '\t')) {
      l.indent += s_[i] == '\t' ? 4 : 1;
      ++i;
    }
    l.content = i;
    while (l.end > i && IsSpace(s_[l.end - 1])) --l.end;
    l.blank = l.end <= i;
    lines.push_back(l);
    if (nl == s_.size()) break;
    pos = nl + 1;
  }

  // The open prose block: [block_begin, block_end), its line count.
  bool open = false;
  size_t block_begin = 0;
  size_t block_end = 0;
  size_t block_lines = 0;
  auto flush = [&] {
    if (open) SplitBlock(block_begin, block_end);
    open = false;
  };
  auto start = [&](size_t b, size_t e) {
    flush();
    open = true;
    block_begin = b;
    block_end = e;
    block_lines = 1;
  };

  std::string fence;          // the open fence ("```", "~~~"), empty outside one
  bool literal_next = false;  // the last paragraph asked for a reST literal block
  bool in_literal = false;
  size_t literal_indent = 0;  // lines indented deeper than this belong to it
  size_t para_indent = 0;     // indent of the paragraph that asked for it

  for (size_t n = 0; n < lines.size(); ++n) {
    const Line& l = lines[n];
    const std::string_view c = Content(l);
    if (!fence.empty()) {
      if (StartsWith(c, 0, fence)) {
        fence.clear();
      } else if (!l.blank) {
        Emit(l.content, l.end, SegmentKind::kCode);
      }
      continue;
    }
    if (StartsWith(c, 0, "```") || StartsWith(c, 0, "~~~")) {
      flush();
      fence = std::string(c.substr(0, 3));
      continue;
    }
    if (l.blank) {
      if (open && block_lines > 0) {
        // "Paragraph::" introduces a literal block (reST "Literal blocks").
        const std::string_view body = s_.substr(block_begin, block_end - block_begin);
        if (body.size() >= 2 && body.substr(body.size() - 2) == "::") {
          literal_next = true;
          literal_indent = para_indent;
        }
      }
      flush();
      continue;
    }
    if (literal_next || in_literal) {
      if (l.indent > literal_indent) {
        in_literal = true;
        literal_next = false;
        Emit(l.content, l.end, SegmentKind::kCode);
        continue;
      }
      literal_next = false;
      in_literal = false;
    }
    if (IsRule(l) || IsTableBorder(l)) {
      // An underline under a one-line block makes it a title.
      if (open && block_lines == 1 && !IsRule(lines[n - 1])) {
        Emit(block_begin, block_end, SegmentKind::kHeading);
        open = false;
      } else {
        flush();
      }
      continue;
    }
    if (StartsWith(c, 0, ".. ")) {  // a reST directive or comment
      flush();
      const size_t dcolon = c.find("::");
      const std::string_view name = dcolon == std::string_view::npos ? "" : c.substr(3, dcolon - 3);
      if (name == "code-block" || name == "code" || name == "sourcecode") {
        literal_next = true;
        literal_indent = l.indent;
        continue;
      }
      // ".. note:: text": an admonition's text after "::" is prose; other
      // directives (image, toctree, automodule) hold paths and names.
      if (IsAdmonition(name)) start(l.content + dcolon + 2, l.end);
      continue;
    }
    if (const size_t h = HeadingMarker(l); h > 0) {
      flush();
      size_t e = l.end;
      while (e > l.content + h && (s_[e - 1] == '#' || IsSpace(s_[e - 1]))) --e;
      Emit(l.content + h, e, SegmentKind::kHeading);
      continue;
    }
    if (c[0] == '|') {  // a table row: one segment
      flush();
      Emit(l.content, l.end, SegmentKind::kSentence);
      continue;
    }
    if (const size_t m = ListMarker(l); m > 0) {
      start(l.content + m, l.end);
      para_indent = l.indent;
      continue;
    }
    if (c[0] == ':' && c.find(": ", 1) != std::string_view::npos) {  // ":param x: text"
      start(l.content, l.end);
      para_indent = l.indent;
      continue;
    }
    if (open) {
      block_end = l.end;
      ++block_lines;
    } else {
      start(l.content, l.end);
      para_indent = l.indent;
    }
  }
  flush();
  return std::move(out_);
}

}  // namespace

std::vector<Segment> SplitSentences(std::string_view text) { return Splitter(text).Run(); }

}  // namespace sagebox::rag
