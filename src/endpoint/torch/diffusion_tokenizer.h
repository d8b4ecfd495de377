// diffusion_tokenizer.h: prompt text -> the 77 token ids a Stable Diffusion text encoder reads.
//
// Real Stable Diffusion text encoders are CLIP's and want CLIP's byte-pair ids.
// Two tokenizers live here:
//
// ClipTokenizer: CLIP's byte-level BPE, as transformers' CLIPTokenizer
// (src/transformers/models/clip/tokenization_clip.py) and OpenAI CLIP's
// clip/simple_tokenizer.py do it, from an exported pipeline's tokenizer/vocab.json
// (piece -> id) and tokenizer/merges.txt (a `#version` header line, then one merge
// "a b" per line, rank = line order). Per prompt:
//   1. cleanup: every Unicode whitespace run becomes one space, the ends are
//      stripped, the text is lower-cased (str.lower()). The reference first runs
//      ftfy.fix_text (mojibake repair, NFC normalisation); ftfy is not available
//      here, so text that needs it (double-encoded UTF-8, decomposed accents)
//      tokenizes as written.
//   2. the pre-tokenizer regex
//        <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//      implemented by hand (no ICU in the build): ASCII is exact; beyond it, \p{L},
//      \p{N} and the lower-case mapping come from tables generated from Python's
//      unicodedata (clip_unicode_tables.inc, scripts/gen_clip_unicode_tables.py,
//      Unicode 14), so characters added in later Unicode versions (which the
//      reference's `regex` module may know) count as punctuation here; invalid
//      UTF-8 bytes count as punctuation too.
//   3. each piece's UTF-8 bytes through CLIP's bytes_to_unicode table, then BPE with
//      the merge ranks, the last symbol carrying the `</w>` suffix;
//   4. ids from vocab.json; a piece not in it maps to `<|endoftext|>`'s id (CLIP's
//      unk_token); BOS `<|startoftext|>` and EOS `<|endoftext|>` come from vocab.json.
// The result is BOS, at most max_length - 2 piece ids, EOS, then `pad_id` to exactly
// max_length (transformers' padding="max_length", truncation=True).
//
// TokenizeFallback: when a model folder has no tokenizer/ (the tiny test models),
// the prompt's UTF-8 bytes, each byte b becoming id b, between `bos_id` and `eos_id`,
// truncated to max_length - 2 bytes and padded with `pad_id` to max_length. Tiny test
// models take ids modulo their vocabulary, so any id works for them.
//
// Thread-safety: TokenizeFallback and the free functions are pure. A ClipTokenizer
// is immutable after Load except for its BPE cache, which a mutex guards, so one
// tokenizer may Encode from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::endpoint {

struct TokenizerSettings {
  // BOS/EOS of the byte fallback; ClipTokenizer takes them from vocab.json.
  int64_t bos_id = 49406;
  int64_t eos_id = 49407;
  int64_t pad_id = 49407;  // CLIP ViT-L (SD 1.x) pads with EOS; OpenCLIP (SD 2.x) with 0
  int max_length = 77;
};

// Exactly settings.max_length ids (max_length >= 2): BOS, the bytes, EOS, padding.
std::vector<int64_t> TokenizeFallback(std::string_view prompt, const TokenizerSettings& settings);

// Step 1 above: whitespace collapsed to single spaces, stripped, lower-cased.
// Invalid UTF-8 bytes are kept as they are.
std::string ClipCleanText(std::string_view text);

// Step 2 above, over cleaned text: the regex's matches in order (spaces dropped).
std::vector<std::string> ClipPreTokenize(std::string_view cleaned);

class ClipTokenizer {
 public:
  // Reads <dir>/vocab.json and <dir>/merges.txt. NotFound naming the file when one
  // is missing; BadInput naming the file and line for malformed JSON, the file and
  // key for a vocab entry whose id is not a non-negative integer or for a missing
  // <|startoftext|> / <|endoftext|> entry, and the file and line for a merges line
  // that is not two symbols; the read's error (IoError...) otherwise.
  static StatusOr<ClipTokenizer> Load(Env* env, const std::string& dir);

  // Load over file contents already in memory; the names are used in errors only.
  static StatusOr<ClipTokenizer> Parse(std::string_view vocab_json, std::string_view merges_txt,
                                       const std::string& vocab_file,
                                       const std::string& merges_file);

  // Exactly max(settings.max_length, 2) ids: BOS, the prompt's piece ids (cut to
  // fit, as CLIP truncates instead of failing), EOS, settings.pad_id padding.
  // Never fails: any byte string tokenizes (unknown pieces become the unk id).
  std::vector<int64_t> Encode(std::string_view prompt, const TokenizerSettings& settings) const;

  // The vocabulary pieces of a prompt before id lookup, e.g. "hello world" ->
  // {"hello</w>", "world</w>"}; no BOS/EOS. For tests and diagnostics.
  std::vector<std::string> Pieces(std::string_view prompt) const;

  int64_t bos_id() const { return bos_id_; }
  int64_t eos_id() const { return eos_id_; }
  int64_t unk_id() const { return eos_id_; }  // CLIP's unk_token is <|endoftext|>
  size_t vocab_size() const { return vocab_.size(); }
  size_t merge_count() const { return ranks_.size(); }

 private:
  ClipTokenizer() = default;
  // Pieces(), stopping after `limit` pieces.
  std::vector<std::string> PiecesUpTo(std::string_view prompt, size_t limit) const;
  // The BPE pieces of one pre-tokenized word (cached).
  std::vector<std::string> Bpe(const std::string& word) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::unordered_map<std::string, int> ranks_;  // "a b" -> rank (symbols never hold ' ')
  int64_t bos_id_ = 0;
  int64_t eos_id_ = 0;

  // Free-form prompts would grow an unbounded cache forever; it is cleared when it
  // reaches this many words (CLIP's prompts reuse a small working set).
  static constexpr size_t kMaxCacheWords = 50000;
  struct Cache {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<std::string>> words;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace sagebox::endpoint
