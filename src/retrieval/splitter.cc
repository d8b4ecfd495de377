#include "retrieval/splitter.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/utf8.h"

namespace sagebox::retrieval {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The code point of valid UTF-8 starting at s[i], and its size in bytes.
char32_t DecodeAt(std::string_view s, size_t i, size_t* size) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 1;
  char32_t cp = c;
  if (c >= 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else if (c >= 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xC0) {
    n = 2;
    cp = c & 0x1F;
  }
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *size = n;
  return cp;
}

// Python's str.isspace(), which str.strip() uses: the code points CPython's
// _PyUnicode_IsWhitespace lists (Unicode White_Space plus bidi classes B, S and WS). It
// differs from JavaScript's trim(): U+001C..U+001F and U+0085 are space here, U+FEFF is not.
bool IsPythonSpace(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// str.strip() on text[*begin, *end): moves the bounds past leading and trailing space.
void StripRange(std::string_view text, size_t* begin, size_t* end) {
  while (*begin < *end) {
    size_t n = 0;
    if (!IsPythonSpace(DecodeAt(text, *begin, &n))) break;
    *begin += n;
  }
  while (*end > *begin) {
    size_t start = *end - 1;
    while (start > *begin && IsContinuation(static_cast<unsigned char>(text[start]))) --start;
    size_t n = 0;
    if (!IsPythonSpace(DecodeAt(text, start, &n))) break;
    *end = start;
  }
}

// The byte offset `count` code points after (count > 0) or before (count < 0) byte `pos` of
// valid UTF-8, clamped to [0, text.size()].
size_t AdvanceCodePoints(std::string_view text, size_t pos, int64_t count) {
  for (; count > 0 && pos < text.size(); --count) {
    ++pos;
    while (pos < text.size() && IsContinuation(static_cast<unsigned char>(text[pos]))) ++pos;
  }
  for (; count < 0 && pos > 0; ++count) {
    --pos;
    while (pos > 0 && IsContinuation(static_cast<unsigned char>(text[pos]))) --pos;
  }
  return pos;
}

// text.find(needle, from) for long needles in a long text, exact, without scanning the text
// once per needle: every kStep-th position of the text is indexed by the hash of the kWindow
// bytes there. An occurrence at q covers the indexed positions q + off for each off (between
// 0 and needle.size() - kWindow) with q + off a multiple of kStep; one off of each residue
// class modulo kStep finds every occurrence of that class, and the rarest window is chosen.
class WindowIndex {
 public:
  static constexpr size_t kStep = 16;
  static constexpr size_t kWindow = 32;
  static constexpr size_t kMinNeedle = kStep - 1 + kWindow;  // a window in every class

  explicit WindowIndex(std::string_view text) : text_(text) {
    for (size_t p = 0; p + kWindow <= text.size(); p += kStep) {
      positions_[Hash(text.substr(p, kWindow))].push_back(p);  // ascending
    }
  }

  // Requires needle.size() >= kMinNeedle.
  size_t Find(std::string_view needle, size_t from) const {
    size_t best = std::string_view::npos;
    for (size_t j = 0; j < kStep; ++j) {
      const std::vector<size_t>* list = nullptr;
      size_t list_off = 0;
      bool absent = false;
      for (size_t off = j; off + kWindow <= needle.size(); off += kStep) {
        const auto it = positions_.find(Hash(needle.substr(off, kWindow)));
        if (it == positions_.end()) {
          absent = true;  // no occurrence of this class
          break;
        }
        if (list == nullptr || it->second.size() < list->size()) {
          list = &it->second;
          list_off = off;
        }
      }
      if (absent || list == nullptr) continue;
      for (auto p = std::lower_bound(list->begin(), list->end(), from + list_off); p != list->end();
           ++p) {
        const size_t q = *p - list_off;
        if (q >= best) break;
        if (text_.compare(q, needle.size(), needle) == 0) {
          best = q;  // the first of its class, positions being ascending
          break;
        }
      }
    }
    return best;
  }

 private:
  static size_t Hash(std::string_view s) { return std::hash<std::string_view>{}(s); }
  std::string_view text_;
  std::unordered_map<size_t, std::vector<size_t>> positions_;
};

// Below this, a plain find per chunk is cheap enough (a few hundred scans of at most this).
constexpr size_t kIndexAbove = 256 * 1024;

// text.find(chunk, from), as LangChain's start_index search. A plain find scans from `from`
// to the match or to the end. That is short for a chunk that is the text at its own span
// [span_begin, span_end) just after `from`, the usual case; but a chunk that is not (pieces
// joined around an empty one) is usually nowhere, and after it LangChain's next search starts
// near the beginning of the text (start_index -1): scanning for each was quadratic (75 s with
// DocsArticleSplitter on one 12 MB text). Long scans use the WindowIndex, built on first need.
size_t FindFrom(std::string_view text, std::string_view chunk, size_t span_begin, size_t span_end,
                size_t from, std::unique_ptr<WindowIndex>* index) {
  if (from > text.size()) return std::string_view::npos;
  const bool near_span = span_end - span_begin == chunk.size() && span_end <= text.size() &&
                         span_begin >= from && span_begin - from <= kIndexAbove &&
                         text.substr(span_begin, chunk.size()) == chunk;
  if (near_span || chunk.size() < WindowIndex::kMinNeedle || text.size() - from <= kIndexAbove) {
    return text.find(chunk, from);
  }
  if (*index == nullptr) *index = std::make_unique<WindowIndex>(text);
  return (*index)->Find(chunk, from);
}

Status CheckUtf8(std::string_view s, const std::string& what) {
  const std::optional<size_t> bad = FindInvalidUtf8(s);
  if (!bad) return Status::Ok();
  return BadInput(what + ": not valid UTF-8 at byte " + std::to_string(*bad) +
                  " (expected UTF-8 text)");
}

}  // namespace

size_t CodePointLength(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !IsContinuation(c); }));
}

Status TextSplitter::Validate(const SplitterOptions& options,
                              const std::vector<std::string>& separators) {
  // The checks and wording of TextSplitter.__init__ (base.py), which raises ValueError.
  if (options.chunk_size <= 0) {
    return InvalidArgument("chunk_size must be > 0, got " + std::to_string(options.chunk_size));
  }
  if (options.chunk_overlap < 0) {
    return InvalidArgument("chunk_overlap must be >= 0, got " +
                           std::to_string(options.chunk_overlap));
  }
  if (options.chunk_overlap > options.chunk_size) {
    return InvalidArgument("Got a larger chunk overlap (" + std::to_string(options.chunk_overlap) +
                           ") than chunk size (" + std::to_string(options.chunk_size) +
                           "), should be smaller.");
  }
  for (const std::string& s : separators) {
    if (FindInvalidUtf8(s)) {
      return InvalidArgument("separator is not valid UTF-8");
    }
  }
  return Status::Ok();
}

std::vector<TextSplitter::Piece> TextSplitter::SplitOnSeparator(std::string_view text,
                                                                const Piece& range,
                                                                std::string_view separator) const {
  std::vector<Piece> pieces;
  auto add = [&](size_t b, size_t e) {
    // Python drops empty splits ([s for s in splits if s]).
    if (b < e) pieces.push_back({b, e, CodePointLength(text.substr(b, e - b))});
  };
  if (separator.empty()) {  // list(text): one piece per code point
    for (size_t i = range.begin; i < range.end;) {
      const size_t next = AdvanceCodePoints(text, i, 1);
      pieces.push_back({i, next, 1});
      i = next;
    }
    return pieces;
  }
  // re.split(escaped separator) finds the leftmost non-overlapping matches; the captured
  // separator (keep_separator) joins the piece after it ("start") or before it ("end").
  const std::string_view body = text.substr(range.begin, range.end - range.begin);
  const size_t len = separator.size();
  size_t from = range.begin;  // where the current piece starts
  size_t search = 0;          // where to look for the next match, relative to body
  for (;;) {
    const size_t at = body.find(separator, search);
    if (at == std::string_view::npos) break;
    const size_t match = range.begin + at;
    switch (keep_) {
      case KeepSeparator::kNone:
        add(from, match);
        from = match + len;
        break;
      case KeepSeparator::kStart:
        add(from, match);
        from = match;
        break;
      case KeepSeparator::kEnd:
        add(from, match + len);
        from = match + len;
        break;
    }
    search = at + len;
  }
  add(from, range.end);
  return pieces;
}

void TextSplitter::MergeSplits(std::string_view text, const std::vector<Piece>& splits,
                               std::string_view separator, std::vector<Draft>* out) const {
  // base.py _merge_splits, with the current document as the window splits[lo, hi): it only
  // ever grows at the back and shrinks at the front.
  const auto separator_len = static_cast<int64_t>(CodePointLength(separator));
  const int64_t size = options_.chunk_size;
  const int64_t overlap = options_.chunk_overlap;
  size_t lo = 0;
  int64_t total = 0;

  auto emit = [&](size_t end) {  // _join_docs(current_doc, separator)
    std::string joined;
    for (size_t i = lo; i < end; ++i) {
      if (i > lo) joined.append(separator);
      joined.append(text.substr(splits[i].begin, splits[i].end - splits[i].begin));
    }
    size_t b = splits[lo].begin;
    size_t e = splits[end - 1].end;
    if (options_.strip_whitespace) {
      size_t jb = 0;
      size_t je = joined.size();
      StripRange(joined, &jb, &je);
      joined = joined.substr(jb, je - jb);
      StripRange(text, &b, &e);
    }
    if (!joined.empty()) out->push_back({std::move(joined), b, e});
  };

  for (size_t hi = 0; hi < splits.size(); ++hi) {
    const auto len = static_cast<int64_t>(splits[hi].length);
    const size_t n = hi - lo;  // len(current_doc)
    if (total + len + (n > 0 ? separator_len : 0) > size && n > 0) {
      emit(hi);
      // Keep on popping while the kept part is longer than the overlap, or while the next
      // split still would not fit.
      while (total > overlap ||
             (total + len + (hi - lo > 0 ? separator_len : 0) > size && total > 0)) {
        total -= static_cast<int64_t>(splits[lo].length) + (hi - lo > 1 ? separator_len : 0);
        ++lo;
      }
    }
    total += len + (hi + 1 - lo > 1 ? separator_len : 0);
  }
  if (lo < splits.size()) emit(splits.size());
}

StatusOr<std::vector<std::string>> TextSplitter::SplitText(std::string_view text) const {
  RETURN_IF_ERROR(CheckUtf8(text, "text"));
  std::vector<std::string> chunks;
  for (Draft& d : SplitValid(text)) chunks.push_back(std::move(d.text));
  return chunks;
}

StatusOr<std::vector<Chunk>> TextSplitter::Split(std::string_view text) const {
  RETURN_IF_ERROR(CheckUtf8(text, "text"));
  std::vector<Draft> drafts = SplitValid(text);
  std::vector<Chunk> chunks;
  chunks.reserve(drafts.size());
  // base.py create_documents with add_start_index, in code points. Code points and bytes are
  // converted by walking from the nearest known pair: (0, 0) or (anchor_cp, anchor_byte), the
  // last chunk found (after a chunk that is not found, LangChain's search restarts near 0).
  int64_t index = 0;
  int64_t previous_len = 0;
  int64_t anchor_cp = 0;
  size_t anchor_byte = 0;
  auto byte_of = [&](int64_t cp) {
    if (cp >= anchor_cp || anchor_cp - cp < cp) {
      return AdvanceCodePoints(text, anchor_byte, cp - anchor_cp);
    }
    return AdvanceCodePoints(text, 0, cp);
  };
  auto cp_of = [&](size_t byte) {  // `byte` is at a code point boundary
    auto count = [&](size_t b, size_t e) {
      return static_cast<int64_t>(CodePointLength(text.substr(b, e - b)));
    };
    if (byte >= anchor_byte) return anchor_cp + count(anchor_byte, byte);
    if (anchor_byte - byte < byte) return anchor_cp - count(byte, anchor_byte);
    return count(0, byte);
  };
  std::unique_ptr<WindowIndex> text_index;
  for (Draft& d : drafts) {
    const int64_t start = std::max<int64_t>(0, index + previous_len - options_.chunk_overlap);
    // Past the end, AdvanceCodePoints stops at text.size(), where a chunk (never empty) is
    // not found, as Python's find from beyond the end.
    const size_t found = FindFrom(text, d.text, d.begin, d.end, byte_of(start), &text_index);
    Chunk c;
    if (found != std::string_view::npos) {
      index = cp_of(found);
      anchor_cp = index;
      anchor_byte = found;
      c.begin = found;
      c.end = found + d.text.size();
    } else {
      index = -1;  // LangChain's start_index; the chunk keeps the span it was made from
      c.begin = d.begin;
      c.end = d.end;
    }
    previous_len = static_cast<int64_t>(CodePointLength(d.text));
    c.text = std::move(d.text);
    chunks.push_back(std::move(c));
  }
  return chunks;
}

StatusOr<std::vector<Chunk>> TextSplitter::SplitDocument(const Document& doc) const {
  const std::string& name = doc.source.empty() ? doc.id : doc.source;
  RETURN_IF_ERROR(CheckUtf8(doc.text, name));
  ASSIGN_OR_RETURN(std::vector<Chunk> chunks, Split(doc.text));
  for (Chunk& c : chunks) c.page = PageAt(doc.pages, c.begin);
  return chunks;
}

StatusOr<CharacterTextSplitter> CharacterTextSplitter::Create(std::string separator,
                                                              SplitterOptions options,
                                                              KeepSeparator keep) {
  RETURN_IF_ERROR(Validate(options, {separator}));
  return CharacterTextSplitter(std::move(separator), options, keep);
}

std::vector<TextSplitter::Draft> CharacterTextSplitter::SplitValid(std::string_view text) const {
  // character.py CharacterTextSplitter.split_text.
  std::vector<Draft> out;
  const std::vector<Piece> splits = SplitOnSeparator(text, {0, text.size(), 0}, separator_);
  MergeSplits(text, splits, keep_ == KeepSeparator::kNone ? separator_ : "", &out);
  return out;
}

StatusOr<RecursiveCharacterTextSplitter> RecursiveCharacterTextSplitter::Create(
    std::vector<std::string> separators, SplitterOptions options, KeepSeparator keep) {
  if (separators.empty()) separators = DefaultSeparators();
  RETURN_IF_ERROR(Validate(options, separators));
  return RecursiveCharacterTextSplitter(std::move(separators), options, keep);
}

std::vector<TextSplitter::Draft> RecursiveCharacterTextSplitter::SplitValid(
    std::string_view text) const {
  std::vector<Draft> out;
  SplitRecursive(text, {0, text.size(), 0}, 0, &out);
  return out;
}

void RecursiveCharacterTextSplitter::SplitRecursive(std::string_view text, const Piece& range,
                                                    size_t first_separator,
                                                    std::vector<Draft>* out) const {
  // character.py RecursiveCharacterTextSplitter._split_text(text, separators[first:]).
  const std::string_view body = text.substr(range.begin, range.end - range.begin);
  std::string_view separator = separators_.back();
  size_t next = separators_.size();  // new_separators = separators[next:], empty by default
  for (size_t i = first_separator; i < separators_.size(); ++i) {
    const std::string& s = separators_[i];
    if (s.empty()) {
      separator = s;
      break;
    }
    if (body.find(s) != std::string_view::npos) {
      separator = s;
      next = i + 1;
      break;
    }
  }
  const std::vector<Piece> splits = SplitOnSeparator(text, range, separator);
  const std::string_view merge_separator = keep_ == KeepSeparator::kNone ? separator : "";
  std::vector<Piece> good;
  for (const Piece& s : splits) {
    if (static_cast<int64_t>(s.length) < options_.chunk_size) {
      good.push_back(s);
      continue;
    }
    if (!good.empty()) {
      MergeSplits(text, good, merge_separator, out);
      good.clear();
    }
    if (next >= separators_.size()) {
      // No separator left: the piece is a chunk as it is, longer than chunk_size and not
      // stripped (Python appends the split itself).
      out->push_back({std::string(text.substr(s.begin, s.end - s.begin)), s.begin, s.end});
    } else {
      SplitRecursive(text, s, next, out);
    }
  }
  if (!good.empty()) MergeSplits(text, good, merge_separator, out);
}

RecursiveCharacterTextSplitter ArticleIngestSplitter() {
  SplitterOptions o;
  o.chunk_size = 600;
  o.chunk_overlap = 20;
  return std::move(RecursiveCharacterTextSplitter::Create({}, o)).value();
}

CharacterTextSplitter DocsArticleSplitter() {
  SplitterOptions o;
  o.chunk_size = 1000;
  o.chunk_overlap = 100;
  return std::move(CharacterTextSplitter::Create("\n", o)).value();
}

}  // namespace sagebox::retrieval
