// batched_embedder.h: the part every HTTP embedder (SageMaker, OpenAI-style)
// shares, inside the providers folder only.
//
// Thread-safety: as Embedder: Embed may be called from several threads; the
// learnt dimension is atomic.
#pragma once

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "retrieval/providers/embedder.h"

namespace sagebox::retrieval {

// What every HTTP embedder shares: texts go out in batches of
// `opt.batch_size` (`default_batch` when unset) through EmbedBatch, and the
// dimension is learnt from the first reply unless `opt.dim` fixed it. `Client`
// has name() and full_url(); subclasses write EmbedBatch (one request).
template <typename Client>
class BatchedHttpEmbedder : public Embedder {
 public:
  BatchedHttpEmbedder(Client client, const EmbedderOptions& opt, int default_batch)
      : client_(std::move(client)), opt_(opt), dim_(opt.dim) {
    if (opt_.batch_size <= 0) opt_.batch_size = default_batch;
  }
  std::string name() const override { return client_.name(); }
  int dim() const override { return dim_.load(); }
  StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    return EmbedInBatches(
        texts, opt_.batch_size, [this](const std::vector<std::string>& b) { return EmbedBatch(b); },
        name() + ": POST " + client_.full_url(), &dim_);
  }

 protected:
  virtual StatusOr<std::vector<std::vector<float>>> EmbedBatch(
      const std::vector<std::string>& texts) = 0;

  Client client_;
  EmbedderOptions opt_;
  std::atomic<int> dim_;
};

}  // namespace sagebox::retrieval
