// eviction_replay.h: replays a request trace over a model population under
// eviction policies, to measure the model cache (bench/endpoint_eviction_bench.cc)
// against the references it is judged by.
//
// A population is each model's size in bytes (model i is named "m<i>"); a trace
// is the sequence of model indices requested, one request at a time, each
// finished before the next starts. Every policy loads a model on a miss (a
// serving system cannot answer from a model it has not loaded, so no policy may
// "bypass" the cache) and evicts only on a miss. The policies:
//
//   - ReplayModelCache: the real endpoint::ModelCache with a loader whose loads
//     are instant and whose sizes are the population's; hits and misses come
//     from its Stats(). What sagebox does.
//   - ReplayLruBytes: least recently used, by bytes, in a few lines: what
//     ModelCache should do on such a trace (the tests hold them equal).
//   - ReplayLruCount: Ray Serve's multiplexed models: at most K models, the
//     least recently used evicted. Sizes are ignored, so the resident bytes can
//     exceed the budget; the result says how often and by how much (not capped:
//     Ray Serve does not cap it either).
//   - ReplayBeladyBytes: Belady's clairvoyant rule generalised to sizes: evict
//     the resident model whose next use is farthest in the future (never again
//     first, the larger first on a tie) until the new one fits. With equal
//     sizes this is the offline optimum; with varied sizes the optimum is
//     NP-hard and this is a heuristic: its hit ratio is a lower bound on the
//     optimum's, and an online policy can beat it on some traces.
//
// Thread-safety: pure functions over their arguments; safe from any thread.
// ReplayModelCache starts (and joins) the cache's loader thread.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace sagebox::endpoint {

struct ReplayResult {
  uint64_t requests = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;        // each one loaded its model
  uint64_t bytes_loaded = 0;  // the I/O cost of the misses
  uint64_t evictions = 0;
  // Requests served while the resident models held more than the budget (only
  // LRU-by-count can), and the largest excess.
  uint64_t over_budget_requests = 0;
  uint64_t max_over_budget_bytes = 0;

  // hits / requests; 0 for an empty trace.
  double HitRatio() const;
};

// Checks that every trace entry names a model of the population and that no
// model is empty. InvalidArgument naming the first bad position or model.
Status ValidateTrace(const std::vector<uint64_t>& sizes, const std::vector<uint32_t>& trace);

// Each fails with ValidateTrace's error, or InvalidArgument when a requested
// model is larger than `budget_bytes` (it could never be loaded).
StatusOr<ReplayResult> ReplayLruBytes(const std::vector<uint64_t>& sizes,
                                      const std::vector<uint32_t>& trace, uint64_t budget_bytes);
StatusOr<ReplayResult> ReplayBeladyBytes(const std::vector<uint64_t>& sizes,
                                         const std::vector<uint32_t>& trace, uint64_t budget_bytes);
// The real cache; also fails with any Acquire error (there should be none).
// over_budget_* are its overshoot counters (CacheStats), 0 unless it has a bug.
StatusOr<ReplayResult> ReplayModelCache(const std::vector<uint64_t>& sizes,
                                        const std::vector<uint32_t>& trace, uint64_t budget_bytes);

// Keeps at most `max_models`; `budget_bytes` is only measured against.
// InvalidArgument when max_models is 0, or ValidateTrace's error.
StatusOr<ReplayResult> ReplayLruCount(const std::vector<uint64_t>& sizes,
                                      const std::vector<uint32_t>& trace, uint64_t max_models,
                                      uint64_t budget_bytes);

// A synthetic multi-model workload, reproducible from its seed on any platform
// (its own uniform and Zipf sampling over std::mt19937_64, not the
// implementation-defined std distributions).
struct WorkloadOptions {
  uint32_t models = 40;
  uint64_t min_bytes = 512ull << 20;  // sizes are log-uniform in [min, max]
  uint64_t max_bytes = 7ull << 30;
  double zipf_s = 1.0;  // P(rank k) proportional to 1 / k^s, k = 1..models
  uint64_t requests = 100'000;
  uint64_t seed = 1;
};
struct Workload {
  std::vector<uint64_t> sizes;  // rounded to whole MiB
  // popularity_rank[i]: model i's Zipf rank (0 = most requested). Ranks are a
  // random permutation, independent of size.
  std::vector<uint32_t> popularity_rank;
  std::vector<uint32_t> trace;
};
// The population depends only on models, min/max bytes and the seed, so every
// zipf_s gets the same models. InvalidArgument for no models, min_bytes of 0,
// min > max, or a negative zipf_s.
StatusOr<Workload> MakeWorkload(const WorkloadOptions& options);

}  // namespace sagebox::endpoint
