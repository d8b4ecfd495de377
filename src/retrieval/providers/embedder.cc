#include "retrieval/providers/embedder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace sagebox::retrieval {

StatusOr<AwsConfig> AwsConfigFromEnvironment(GetEnvFn getenv) {
  auto get = [getenv](const char* name) -> std::string {
    // Read once at construction time, before any provider thread starts.
    const char* v =
        getenv != nullptr ? getenv(name) : std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    return v == nullptr ? "" : v;
  };
  AwsConfig c;
  c.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.session_token = get("AWS_SESSION_TOKEN");
  c.region = get("AWS_REGION");
  if (c.region.empty()) c.region = get("AWS_DEFAULT_REGION");
  std::vector<std::string> missing;
  if (c.access_key_id.empty()) missing.emplace_back("AWS_ACCESS_KEY_ID");
  if (c.secret_access_key.empty()) missing.emplace_back("AWS_SECRET_ACCESS_KEY");
  if (c.region.empty()) missing.emplace_back("AWS_REGION (or AWS_DEFAULT_REGION)");
  if (!missing.empty()) {
    return InvalidArgument(
        fmt::format("SageMaker needs AWS credentials and a region from the "
                    "environment; not set: {}",
                    fmt::join(missing, ", ")));
  }
  return c;
}

StatusOr<std::vector<std::vector<float>>> EmbedInBatches(const std::vector<std::string>& texts,
                                                         int batch_size,
                                                         const EmbedBatchFn& embed_batch,
                                                         const std::string& who,
                                                         std::atomic<int>* dim) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < texts.size(); begin += step) {
    const size_t end = std::min(texts.size(), begin + step);
    const std::vector<std::string> batch(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                         texts.begin() + static_cast<std::ptrdiff_t>(end));
    ASSIGN_OR_RETURN(std::vector<std::vector<float>> vectors, embed_batch(batch));
    if (vectors.size() != batch.size()) {
      return BadInput(
          fmt::format("{}: reply: {} vectors for {} texts", who, vectors.size(), batch.size()));
    }
    for (size_t i = 0; i < vectors.size(); ++i) {
      const int n = static_cast<int>(vectors[i].size());
      int expected = dim->load();
      if (expected == 0 && n > 0) {
        // First vector seen: it fixes the dimension (a racing call may have
        // fixed it first; then compare against that one).
        if (dim->compare_exchange_strong(expected, n)) expected = n;
      }
      if (n == 0 || n != expected) {
        return BadInput(fmt::format("{}: reply: vector {} has {} dimensions, expected {}", who,
                                    begin + i, n,
                                    expected == 0 ? "at least 1" : std::to_string(expected)));
      }
      out.push_back(std::move(vectors[i]));
    }
  }
  return out;
}

}  // namespace sagebox::retrieval
