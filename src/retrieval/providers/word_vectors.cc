#include "retrieval/providers/word_vectors.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>

namespace sagebox::retrieval {
namespace {

// The file is little-endian and read as raw bytes.
static_assert(std::endian::native == std::endian::little, "the .wvec loader needs little-endian");

constexpr std::string_view kMagic = "SBXWVEC1";
constexpr size_t kHeaderBytes = 20;

uint32_t U32At(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The UTF-8 right single quotation mark, U+2019, as a clitic apostrophe.
constexpr std::string_view kRightQuote = "\xE2\x80\x99";

class WordVectorEmbedder final : public Embedder {
 public:
  WordVectorEmbedder(std::shared_ptr<const WordVectors> v, std::string name)
      : v_(std::move(v)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  int dim() const override { return v_->dim(); }

  StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const std::string& t : texts) out.push_back(EmbedOne(t));
    return out;
  }

 private:
  void Add(const float* vec, std::vector<double>* sum, int* known) const {
    if (vec == nullptr) return;
    for (int i = 0; i < v_->dim(); ++i) (*sum)[static_cast<size_t>(i)] += vec[i];
    ++*known;
  }

  std::vector<float> EmbedOne(std::string_view text) const {
    const auto dim = static_cast<size_t>(v_->dim());
    std::vector<double> sum(dim, 0.0);
    int known = 0;
    for (const std::string& tok : WordVectorTokens(text)) {
      if (const float* vec = v_->Find(tok)) {
        Add(vec, &sum, &known);
      } else if (tok.find('-') != std::string::npos) {
        size_t start = 0;
        while (start <= tok.size()) {
          const size_t dash = std::min(tok.find('-', start), tok.size());
          if (dash > start)
            Add(v_->Find(std::string_view(tok).substr(start, dash - start)), &sum, &known);
          start = dash + 1;
        }
      }
    }
    std::vector<float> out(dim, 0.0F);
    if (known == 0) return out;
    // The mean's direction is the sum's; only the direction matters after
    // normalising, so divide by the norm of the sum directly.
    double norm = 0;
    for (const double x : sum) norm += x * x;
    norm = std::sqrt(norm);
    if (norm == 0) return out;
    for (size_t i = 0; i < dim; ++i) out[i] = static_cast<float>(sum[i] / norm);
    return out;
  }

  std::shared_ptr<const WordVectors> v_;
  std::string name_;
};

}  // namespace

std::string_view WordVectors::WordAt(size_t i) const {
  return std::string_view(words_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
}

const float* WordVectors::Find(std::string_view word) const {
  size_t lo = 0;
  size_t hi = size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const std::string_view w = WordAt(mid);
    if (w < word) {
      lo = mid + 1;
    } else if (word < w) {
      hi = mid;
    } else {
      return vectors_.data() + mid * static_cast<size_t>(dim_);
    }
  }
  return nullptr;
}

StatusOr<std::shared_ptr<const WordVectors>> WordVectors::ParseFrom(uint64_t total,
                                                                    const ReadFn& read,
                                                                    const std::string& name) {
  std::shared_ptr<WordVectors> wv(new WordVectors());
  std::vector<uint32_t>* offsets = &wv->offsets_;
  std::string* words = &wv->words_;
  std::vector<float>* vectors = &wv->vectors_;
  auto corrupt = [&](const std::string& what) { return Corruption(name + ": " + what); };
  if (total < kHeaderBytes) return corrupt("shorter than the 20-byte header");
  std::string header(kHeaderBytes, '\0');
  RETURN_IF_ERROR(read(header.data(), header.size()));
  if (std::string_view(header).substr(0, 8) != kMagic) {
    return corrupt("not a word-vector file (expected the magic SBXWVEC1)");
  }
  const uint32_t dim = U32At(header.data() + 8);
  const uint32_t count = U32At(header.data() + 12);
  const uint32_t words_bytes = U32At(header.data() + 16);
  if (dim == 0 || dim > 65536) return corrupt(fmt::format("dimension {} not in 1..65536", dim));
  const uint64_t pad = (4 - words_bytes % 4) % 4;
  const uint64_t expected =
      kHeaderBytes + 4ULL * (uint64_t{count} + 1) + words_bytes + pad + 4ULL * dim * count;
  if (expected != total) {
    return corrupt(fmt::format("{} words x {} dimensions need {} bytes, the file has {}", count,
                               dim, expected, total));
  }
  offsets->resize(size_t{count} + 1);
  RETURN_IF_ERROR(read(reinterpret_cast<char*>(offsets->data()), 4 * offsets->size()));
  if (offsets->front() != 0 || offsets->back() != words_bytes) {
    return corrupt("the word offsets do not span the words");
  }
  words->resize(words_bytes);
  RETURN_IF_ERROR(read(words->data(), words->size()));
  std::string padding(pad, '\0');
  RETURN_IF_ERROR(read(padding.data(), padding.size()));
  for (uint32_t i = 0; i < count; ++i) {
    if ((*offsets)[i + 1] <= (*offsets)[i]) {
      return corrupt(fmt::format("word {} is empty or its offset goes backwards", i));
    }
  }
  std::string_view all(*words);
  for (uint32_t i = 1; i < count; ++i) {
    const std::string_view prev = all.substr((*offsets)[i - 1], (*offsets)[i] - (*offsets)[i - 1]);
    const std::string_view cur = all.substr((*offsets)[i], (*offsets)[i + 1] - (*offsets)[i]);
    if (!(prev < cur)) {
      return corrupt(fmt::format("words {} and {} are not in byte order (or repeated)", i - 1, i));
    }
  }
  vectors->resize(size_t{dim} * count);
  RETURN_IF_ERROR(read(reinterpret_cast<char*>(vectors->data()), 4 * vectors->size()));
  for (size_t i = 0; i < vectors->size(); ++i) {
    if (!std::isfinite((*vectors)[i])) {
      return corrupt(fmt::format("word {}: element {} is not a finite number", i / dim, i % dim));
    }
  }
  wv->dim_ = static_cast<int>(dim);
  return std::shared_ptr<const WordVectors>(std::move(wv));
}

StatusOr<std::shared_ptr<const WordVectors>> WordVectors::Parse(std::string_view bytes,
                                                                const std::string& name) {
  size_t pos = 0;
  auto read = [&](char* buf, size_t n) -> Status {
    if (bytes.size() - pos < n) return Corruption(name + ": truncated");
    if (n > 0) std::memcpy(buf, bytes.data() + pos, n);
    pos += n;
    return Status::Ok();
  };
  return ParseFrom(bytes.size(), read, name);
}

StatusOr<std::shared_ptr<const WordVectors>> WordVectors::Load(Env* env, const std::string& path) {
  if (!env->Exists(path)) return NotFound(path + ": no such word-vector file");
  ASSIGN_OR_RETURN(uint64_t total, env->FileSize(path));
  ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> f, env->OpenSequential(path));
  // Straight into the final buffers: the file is 141 MB, so no second copy.
  auto read = [&](char* buf, size_t n) -> Status {
    while (n > 0) {
      size_t got = 0;
      RETURN_IF_ERROR(f->Read(buf, n, &got));
      if (got == 0) return Corruption(path + ": truncated");
      buf += got;
      n -= got;
    }
    return Status::Ok();
  };
  return ParseFrom(total, read, path);
}

StatusOr<std::string> EncodeWordVectors(int dim, const std::vector<std::string>& words,
                                        const std::vector<std::vector<float>>& vectors) {
  if (dim < 1) return InvalidArgument("word vectors: dimension must be >= 1");
  if (words.size() != vectors.size()) {
    return InvalidArgument(
        fmt::format("word vectors: {} words but {} vectors", words.size(), vectors.size()));
  }
  std::vector<size_t> order(words.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return words[a] < words[b]; });
  std::string blob;
  std::vector<uint32_t> offsets = {0};
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (words[i].empty()) return InvalidArgument("word vectors: an empty word");
    if (k > 0 && words[order[k - 1]] == words[i]) {
      return InvalidArgument("word vectors: " + words[i] + " twice");
    }
    if (vectors[i].size() != static_cast<size_t>(dim)) {
      return InvalidArgument(fmt::format("word vectors: {} has {} numbers, expected {}", words[i],
                                         vectors[i].size(), dim));
    }
    blob += words[i];
    offsets.push_back(static_cast<uint32_t>(blob.size()));
  }
  auto put32 = [](std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); };
  std::string out(kMagic);
  put32(&out, static_cast<uint32_t>(dim));
  put32(&out, static_cast<uint32_t>(words.size()));
  put32(&out, static_cast<uint32_t>(blob.size()));
  for (const uint32_t o : offsets) put32(&out, o);
  out += blob;
  out.append((4 - blob.size() % 4) % 4, '\0');
  for (const size_t i : order) {
    out.append(reinterpret_cast<const char*>(vectors[i].data()), 4 * vectors[i].size());
  }
  return out;
}

std::vector<std::string> WordVectorTokens(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = text.size();
  auto is_quote = [&](size_t k) { return text.substr(k, kRightQuote.size()) == kRightQuote; };
  // The quote's bytes are >= 0x80 too; it is punctuation, not part of a word.
  auto word_at = [&](size_t k) {
    return k < n && IsWordByte(static_cast<unsigned char>(text[k])) && !is_quote(k);
  };
  while (i < n) {
    if (!word_at(i)) {
      i += is_quote(i) ? kRightQuote.size() : 1;
      continue;
    }
    std::string tok;
    while (i < n) {
      const char c = text[i];
      if (word_at(i)) {
        tok += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        ++i;
      } else {
        // Inner punctuation that GloVe's tokens keep: 3.14, 1,000, e-mail.
        const bool in_number = (c == '.' || c == ',') && !tok.empty() && IsDigit(tok.back()) &&
                               i + 1 < n && IsDigit(text[i + 1]);
        const bool in_compound = c == '-' && !tok.empty() && word_at(i + 1);
        if (!in_number && !in_compound) break;
        tok += c;
        ++i;
      }
    }
    // A clitic after an apostrophe: n't, 's, 're, 've, 'll, 'd, 'm.
    size_t apos = 0;
    if (i < n && text[i] == '\'') {
      apos = 1;
    } else if (is_quote(i)) {
      apos = kRightQuote.size();
    }
    if (apos > 0 && word_at(i + apos)) {
      size_t j = i + apos;
      std::string suffix;
      while (word_at(j)) {
        const char c = text[j];
        suffix += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        ++j;
      }
      if (suffix == "t" && tok.size() > 1 && tok.back() == 'n') {
        tok.pop_back();
        out.push_back(std::move(tok));
        out.emplace_back("n't");
        i = j;
        continue;
      }
      if (suffix == "s" || suffix == "re" || suffix == "ve" || suffix == "ll" || suffix == "d" ||
          suffix == "m") {
        out.push_back(std::move(tok));
        out.push_back("'" + suffix);
        i = j;
        continue;
      }
      // Not a clitic (o'clock, rock'n'roll): the apostrophe separates two words.
    }
    out.push_back(std::move(tok));
  }
  return out;
}

std::unique_ptr<Embedder> NewWordVectorEmbedder(std::shared_ptr<const WordVectors> vectors,
                                                std::string name) {
  return std::make_unique<WordVectorEmbedder>(std::move(vectors), std::move(name));
}

StatusOr<std::string> FindWordVectors(Env* env) {
  // Read once, before any thread of the caller starts using providers.
  const char* set = std::getenv("SAGEBOX_WORD_VECTORS");  // NOLINT(concurrency-mt-unsafe)
  if (set != nullptr && *set != '\0') {
    if (env->Exists(set)) return std::string(set);
    return NotFound(fmt::format("word vectors: SAGEBOX_WORD_VECTORS={} does not exist", set));
  }
  std::vector<std::string> tried;
  std::string self(4096, '\0');
  const ssize_t len = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (len > 0) {
    self.resize(static_cast<size_t>(len));
    const std::string dir = Dirname(self);
    for (const std::string& p :
         {JoinPath(dir, kWordVectorsFile),
          JoinPath(JoinPath(Dirname(dir), "share/sagebox"), kWordVectorsFile)}) {
      if (env->Exists(p)) return p;
      tried.push_back(p);
    }
  }
  return NotFound(fmt::format(
      "word vectors: {} not found (looked in: {}); the build makes it when configured with "
      "-DSAGEBOX_WORD_VECTORS=ON and npm available (target sagebox_word_vectors), or set "
      "SAGEBOX_WORD_VECTORS to its path",
      kWordVectorsFile,
      tried.empty() ? std::string("nowhere: /proc/self/exe unreadable")
                    : fmt::format("{}", fmt::join(tried, ", "))));
}

}  // namespace sagebox::retrieval
