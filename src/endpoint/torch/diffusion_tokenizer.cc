#include "endpoint/torch/diffusion_tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

namespace sagebox::endpoint {
namespace {

constexpr std::string_view kStartOfText = "<|startoftext|>";
constexpr std::string_view kEndOfText = "<|endoftext|>";
constexpr std::string_view kEndOfWord = "</w>";
// transformers reads merges.txt lines [1, 49152 - 256 - 2 + 1): CLIP's 49408-entry
// vocabulary is 256 bytes, 256 bytes + </w>, the merges and the two specials, so
// the merges past this many can never produce a vocabulary entry.
constexpr size_t kMaxMerges = 49152 - 256 - 2;

struct Range {
  char32_t lo;
  char32_t hi;
};

// The tables are sorted and disjoint: the first entry ending at or after cp is the
// only one that can hold it.
template <typename T, size_t N>
const T* Find(const T (&table)[N], char32_t cp) {
  const T* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                 [](const T& r, char32_t c) { return r.hi < c; });
  return it != std::end(table) && it->lo <= cp ? it : nullptr;
}

// \s of Python's `regex` module for str patterns: the Unicode White_Space property.
bool IsSpace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

struct LowerRun {
  char32_t lo;
  char32_t hi;
  int32_t delta;
  char32_t stride;
};

// kNumbers, kOthers and kLower, generated from Unicode's database.
#include "endpoint/torch/clip_unicode_tables.inc"

enum class CharClass { kSpace, kLetter, kNumber, kOther };

constexpr char32_t kInvalid = 0xFFFFFFFF;  // an invalid UTF-8 byte

CharClass Classify(char32_t cp) {
  if (cp < 0x80) {
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CharClass::kSpace;
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumber;
    return CharClass::kOther;
  }
  if (cp == kInvalid) return CharClass::kOther;
  if (IsSpace(cp)) return CharClass::kSpace;
  if (Find(kNumbers, cp) != nullptr) return CharClass::kNumber;
  if (Find(kOthers, cp) != nullptr) return CharClass::kOther;
  return CharClass::kLetter;
}

// Decodes the code point at s[*i] and advances *i past it; an invalid or truncated
// sequence (overlong forms, surrogates, > U+10FFFF) yields kInvalid for one byte.
char32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  size_t n = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++*i;
    return kInvalid;
  }
  if (*i + n >= s.size()) {  // truncated at the end of the text
    ++*i;
    return kInvalid;
  }
  for (size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kInvalid;
  }
  *i += n + 1;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// str.lower() for one code point (U+0130, whose lower case is two code points, is
// handled by the caller).
char32_t ToLower(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  const LowerRun* run = Find(kLower, c);
  if (run == nullptr || (c - run->lo) % run->stride != 0) return c;
  return static_cast<char32_t>(static_cast<int64_t>(c) + run->delta);
}

// CLIP's bytes_to_unicode (simple_tokenizer.py / tokenization_clip.py): the bytes
// that are printable Latin-1 ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for
// themselves; the other 68 map, in byte order, to U+0100, U+0101, ... so that BPE
// symbols are never whitespace or control characters. Each entry is UTF-8.
const std::array<std::string, 256>& ByteSymbols() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    char32_t next = 256;
    for (char32_t b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      AppendUtf8(printable ? b : next++, &t[b]);
    }
    return t;
  }();
  return table;
}

bool StartsWith(std::string_view s, size_t pos, std::string_view prefix) {
  return s.size() - pos >= prefix.size() && s.compare(pos, prefix.size(), prefix) == 0;
}

size_t LineOf(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + byte, '\n'));
}

}  // namespace

std::vector<int64_t> TokenizeFallback(std::string_view prompt, const TokenizerSettings& settings) {
  const auto length = static_cast<size_t>(std::max(settings.max_length, 2));
  std::vector<int64_t> ids;
  ids.reserve(length);
  ids.push_back(settings.bos_id);
  // Like CLIP's tokenizer, text beyond the window is cut, never an error: the
  // article's clients send free-form prompts of any length.
  const size_t keep = std::min(prompt.size(), length - 2);
  for (size_t i = 0; i < keep; ++i) ids.push_back(static_cast<unsigned char>(prompt[i]));
  ids.push_back(settings.eos_id);
  while (ids.size() < length) ids.push_back(settings.pad_id);
  return ids;
}

std::string ClipCleanText(std::string_view text) {
  // whitespace_clean(...).lower(): re.sub(r"\s+", " "), strip(), lower().
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const char32_t cp = NextCodePoint(text, &i);
    if (cp != kInvalid && Classify(cp) == CharClass::kSpace) {
      pending_space = !out.empty();  // leading spaces are stripped
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;  // trailing spaces are never written
    if (cp == kInvalid) {
      out.append(text.substr(start, i - start));
    } else if (cp == 0x130) {
      AppendUtf8('i', &out);  // str.lower("İ") == "i\u0307"
      AppendUtf8(0x307, &out);
    } else {
      AppendUtf8(ToLower(cp), &out);
    }
  }
  return out;
}

std::vector<std::string> ClipPreTokenize(std::string_view cleaned) {
  // The regex's alternatives are tried in order at each position, so the
  // specials and the contractions win over the character classes where they
  // start; inside a run of "other" characters the greedy [^\s\p{L}\p{N}]+ keeps
  // going (so "!<|endoftext|>" splits as "!<|", "endoftext", "|>", as in Python).
  static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  std::vector<std::string> out;
  size_t i = 0;
  while (i < cleaned.size()) {
    if (StartsWith(cleaned, i, kStartOfText) || StartsWith(cleaned, i, kEndOfText)) {
      const size_t n =
          StartsWith(cleaned, i, kStartOfText) ? kStartOfText.size() : kEndOfText.size();
      out.emplace_back(cleaned.substr(i, n));
      i += n;
      continue;
    }
    const auto* contraction =
        std::find_if(std::begin(kContractions), std::end(kContractions),
                     [&](std::string_view c) { return StartsWith(cleaned, i, c); });
    if (contraction != std::end(kContractions)) {
      out.emplace_back(*contraction);
      i += contraction->size();
      continue;
    }
    const size_t start = i;
    const CharClass cls = Classify(NextCodePoint(cleaned, &i));
    if (cls == CharClass::kSpace) continue;
    if (cls != CharClass::kNumber) {  // letters and others run; a number is one character
      while (i < cleaned.size()) {
        size_t next = i;
        if (Classify(NextCodePoint(cleaned, &next)) != cls) break;
        i = next;
      }
    }
    out.emplace_back(cleaned.substr(start, i - start));
  }
  return out;
}

StatusOr<ClipTokenizer> ClipTokenizer::Load(Env* env, const std::string& dir) {
  const std::string vocab_file = JoinPath(dir, "vocab.json");
  const std::string merges_file = JoinPath(dir, "merges.txt");
  for (const std::string* f : {&vocab_file, &merges_file}) {
    if (!env->Exists(*f)) {
      return NotFound(*f + ": missing; CLIP's tokenizer needs vocab.json and merges.txt");
    }
  }
  std::string vocab_text;
  std::string merges_text;
  RETURN_IF_ERROR(env->ReadFileToString(vocab_file, &vocab_text));
  RETURN_IF_ERROR(env->ReadFileToString(merges_file, &merges_text));
  return Parse(vocab_text, merges_text, vocab_file, merges_file);
}

StatusOr<ClipTokenizer> ClipTokenizer::Parse(std::string_view vocab_json,
                                             std::string_view merges_txt,
                                             const std::string& vocab_file,
                                             const std::string& merges_file) {
  ClipTokenizer t;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(vocab_json);
  } catch (const nlohmann::json::exception& e) {
    size_t byte = vocab_json.size();
    if (const auto* pe = dynamic_cast<const nlohmann::json::parse_error*>(&e)) byte = pe->byte;
    return BadInput(vocab_file + ":" +
                    std::to_string(LineOf(vocab_json, byte == 0 ? 0 : byte - 1)) +
                    ": malformed JSON (" + e.what() + ")");
  }
  if (!j.is_object()) {
    return BadInput(vocab_file + ":1: expected a JSON object mapping token strings to ids");
  }
  t.vocab_.reserve(j.size());
  for (const auto& item : j.items()) {
    const auto& v = item.value();
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) ||
        (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})) {
      return BadInput(vocab_file + ": \"" + item.key() +
                      "\": expected a non-negative integer id, got " + v.dump());
    }
    t.vocab_[item.key()] = v.get<int64_t>();
  }
  for (std::string_view special : {kStartOfText, kEndOfText}) {
    if (t.vocab_.count(std::string(special)) == 0) {
      return BadInput(vocab_file + ": expected an entry for \"" + std::string(special) +
                      "\" (CLIP's BOS/EOS)");
    }
  }
  t.bos_id_ = t.vocab_.at(std::string(kStartOfText));
  t.eos_id_ = t.vocab_.at(std::string(kEndOfText));

  // merges.txt: line 1 is the "#version: 0.2" header transformers skips; then the
  // merge on line k has rank k - 2. A file without the header is read from line 1
  // (transformers would drop that first merge). Blank lines keep their rank slot,
  // as the reference's split("\n") does.
  size_t pos = 0;
  size_t line_no = 0;
  size_t rank = 0;
  while (pos < merges_txt.size() && rank < kMaxMerges) {
    size_t end = merges_txt.find('\n', pos);
    if (end == std::string_view::npos) end = merges_txt.size();
    std::string_view line = merges_txt.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && !line.empty() && line.front() == '#') continue;
    std::vector<std::string_view> parts;
    size_t k = 0;
    while (k < line.size()) {
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      const size_t s = k;
      while (k < line.size() && line[k] != ' ' && line[k] != '\t') ++k;
      if (k > s) parts.push_back(line.substr(s, k - s));
    }
    if (parts.empty()) {
      ++rank;
      continue;
    }
    if (parts.size() != 2) {
      return BadInput(merges_file + ":" + std::to_string(line_no) +
                      ": expected two symbols \"a b\", got \"" + std::string(line) + "\"");
    }
    // dict(zip(merges, ranks)): a repeated merge keeps its last rank.
    t.ranks_[std::string(parts[0]) + " " + std::string(parts[1])] = static_cast<int>(rank++);
  }
  return StatusOr<ClipTokenizer>(std::move(t));
}

std::vector<std::string> ClipTokenizer::Bpe(const std::string& word) const {
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto it = cache_->words.find(word);
    if (it != cache_->words.end()) return it->second;
  }
  const auto& bytes = ByteSymbols();
  std::vector<std::string> symbols;
  symbols.reserve(word.size());
  for (char c : word) symbols.push_back(bytes[static_cast<unsigned char>(c)]);
  symbols.back().append(kEndOfWord);
  // Repeatedly merge the adjacent pair with the lowest rank, every non-overlapping
  // occurrence of it left to right, until no adjacent pair has a rank (bpe() in
  // tokenization_clip.py).
  std::string key;
  while (symbols.size() > 1) {
    int best = INT_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      key.assign(symbols[i]).append(" ").append(symbols[i + 1]);
      auto it = ranks_.find(key);
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT_MAX) break;
    const std::string first = symbols[at];
    const std::string second = symbols[at + 1];
    std::vector<std::string> merged;
    merged.reserve(symbols.size());
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(std::move(symbols[i]));
        ++i;
      }
    }
    symbols = std::move(merged);
  }
  std::lock_guard<std::mutex> lock(cache_->mu);
  if (cache_->words.size() >= kMaxCacheWords) cache_->words.clear();
  cache_->words.emplace(word, symbols);
  return symbols;
}

std::vector<std::string> ClipTokenizer::Pieces(std::string_view prompt) const {
  return PiecesUpTo(prompt, SIZE_MAX);
}

std::vector<std::string> ClipTokenizer::PiecesUpTo(std::string_view prompt, size_t limit) const {
  std::vector<std::string> out;
  for (const std::string& word : ClipPreTokenize(ClipCleanText(prompt))) {
    if (out.size() >= limit) break;
    if (word == kStartOfText || word == kEndOfText) {
      out.push_back(word);  // the reference's cache maps the specials to themselves
      continue;
    }
    for (std::string& piece : Bpe(word)) out.push_back(std::move(piece));
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::vector<int64_t> ClipTokenizer::Encode(std::string_view prompt,
                                           const TokenizerSettings& settings) const {
  const auto length = static_cast<size_t>(std::max(settings.max_length, 2));
  std::vector<int64_t> ids;
  ids.reserve(length);
  ids.push_back(bos_id_);
  // Truncation keeps room for EOS; words past the window are never BPE'd, so a
  // megabyte prompt costs its cleanup and split only.
  for (const std::string& piece : PiecesUpTo(prompt, length - 2)) {
    auto it = vocab_.find(piece);
    ids.push_back(it == vocab_.end() ? unk_id() : it->second);
  }
  ids.push_back(eos_id_);
  while (ids.size() < length) ids.push_back(settings.pad_id);
  return ids;
}

}  // namespace sagebox::endpoint
