// vector_index.h: the dense half of hybrid search. A VectorIndex holds float
// vectors of one fixed dimension under uint64 labels (chunk ids) and answers
// k-nearest-neighbour queries, approximately through an HNSW graph (hnswlib
// 0.6.2, Debian's libhnswlib-dev) or exactly by scanning every stored vector,
// behind the same Search call.
//
// Spaces and scores are OpenSearch k-NN's, so results can be served through
// its REST API unchanged. From "Spaces"
// (https://docs.opensearch.org/latest/mappings/supported-field-types/knn-spaces/):
//   l2            d = Σ (x_i - y_i)²                     score = 1 / (1 + d)
//   cosinesimil   d = 1 - cos(x, y)                      score = (2 - d) / 2
//   innerproduct  d = -x·y (the NMSLIB/Faiss convention)  score = 1 / (1 + d) if d >= 0,
//                                                                 1 - d     otherwise
// i.e. for innerproduct, ip + 1 when ip > 0 and 1 / (1 - ip) otherwise. Zero
// vectors are rejected for cosinesimil, as OpenSearch does (the cosine is
// undefined). HNSW parameters default to OpenSearch's (Faiss engine, "Methods
// and engines"): m = 16 (accepted range 2..100), ef_construction = 100,
// ef_search = 100.
//
// Removing marks the label deleted (hnswlib's markDelete): it stays in the
// graph as a waypoint, never in results, and its slot is not reused; adding the
// label again revives and replaces it. The index grows past its initial
// capacity by doubling (hnswlib's resizeIndex).
//
// Save writes one file: a header of our own (magic, version, space, dimension,
// parameters, counts, CRC32), hnswlib's serialised graph, and a CRC32 of the
// graph; it goes to a temporary file that is fsynced and renamed over the
// target, so a crash leaves the old index or the new one, never half of
// either. Load checks the header, the size, both CRCs and the graph's own
// structure (every neighbour id in range, every list within its bound) before
// hnswlib's loader, which trusts its input, ever sees the bytes.
//
// Thread-safety: a VectorIndex is safe for concurrent use. Searches, Save and
// the accessors share a reader lock and run in parallel; Add, Remove and
// SetEfSearch take it exclusively, so a search never sees a half-inserted
// vector. A waiting writer goes before searches that arrive after it, so a busy
// index still takes writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::retrieval {

enum class VectorSpace { kL2, kCosineSimil, kInnerProduct };

// "l2", "cosinesimil", "innerproduct" (OpenSearch's space_type names).
// InvalidArgument naming the accepted values otherwise.
StatusOr<VectorSpace> ParseVectorSpace(std::string_view name);
std::string_view VectorSpaceName(VectorSpace space);

// OpenSearch's score for distance `d` in `space` (see the table above).
double SpaceScore(VectorSpace space, double d);

struct HnswParams {
  size_t m = 16;                   // links per node (2 * m on the bottom layer)
  size_t ef_construction = 100;    // candidate list while inserting
  size_t ef_search = 100;          // candidate list while searching (raised to k when smaller)
  size_t initial_capacity = 1024;  // slots allocated up front; the index doubles past it
  uint64_t seed = 100;             // level generator seed: same inputs, same graph
};

struct VectorHit {
  uint64_t label = 0;
  double distance = 0;  // OpenSearch's d for the space
  double score = 0;     // OpenSearch's score for d
};

struct VectorSearchOptions {
  size_t k = 10;
  // Scan every stored vector instead of walking the graph: exact results,
  // O(n · dimension) per query.
  bool exact = false;
  // When set, only these labels may be returned. hnswlib 0.6.2 cannot filter
  // inside the graph walk (the filter functor arrived in 0.7), so the index
  // either scans the allowed labels exactly or over-fetches from the graph and
  // drops the rest, whichever costs fewer distance computations (see
  // vector_index.cc, PlanFiltered).
  const std::unordered_set<uint64_t>* filter = nullptr;
};

// How a search ran, for tests, benchmarks and explain output.
struct VectorSearchInfo {
  bool exact = false;      // the exact scan ran (asked for, or chosen for a filter)
  size_t graph_fetch = 0;  // k' asked of the graph in the last walk (0 if none)
  size_t graph_walks = 0;  // walks run (more than 1 when a filter needed a wider fetch)
};

class VectorIndex {
 public:
  // An empty index. InvalidArgument when dimension is 0 or a parameter is out
  // of range (m outside 2..100, ef_construction or ef_search 0).
  static StatusOr<std::unique_ptr<VectorIndex>> Create(size_t dimension, VectorSpace space,
                                                       const HnswParams& params = {});

  // Reads a file written by Save. NotFound or IoError from `env`; BadInput when
  // the file is not a sagebox vector index (another magic, another format
  // version); Corruption naming the path and what is wrong when it is
  // truncated, fails a CRC or its graph is inconsistent. Never crashes on a
  // damaged file.
  static StatusOr<std::unique_ptr<VectorIndex>> Load(Env* env, const std::string& path);

  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Inserts `vector` under `label`, or replaces the label's vector (reviving it
  // if it was removed). InvalidArgument when the dimension differs, a component
  // is NaN or infinite, or the vector is zero in cosinesimil; ResourceExhausted
  // when the index cannot grow (2^32 slots, or out of memory). On error the
  // index is unchanged.
  Status Add(uint64_t label, std::span<const float> vector);

  // Marks `label` removed. NotFound when it is absent or already removed.
  Status Remove(uint64_t label);

  // The k nearest live vectors to `query` (fewer when the index or the filter
  // holds fewer), nearest first, ties by label. InvalidArgument for a
  // malformed query (as Add) or k == 0; Internal if hnswlib throws.
  StatusOr<std::vector<VectorHit>> Search(std::span<const float> query,
                                          const VectorSearchOptions& options,
                                          VectorSearchInfo* info = nullptr) const;

  // Writes the index to `path` atomically (see above). IoError from `env`;
  // Internal if hnswlib fails to serialise.
  Status Save(Env* env, const std::string& path) const;

  // InvalidArgument when ef is 0.
  Status SetEfSearch(size_t ef);

  bool Contains(uint64_t label) const;
  size_t size() const;      // live labels
  size_t capacity() const;  // slots allocated, live or removed
  size_t dimension() const { return dimension_; }
  VectorSpace space() const { return space_; }
  HnswParams params() const;

 private:
  struct Impl;
  VectorIndex(size_t dimension, VectorSpace space, std::unique_ptr<Impl> impl);

  const size_t dimension_;
  const VectorSpace space_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagebox::retrieval
