// remote_index.h: a knowledge base whose index lives in an OpenSearch cluster the
// user already runs (opensearch_client.h), with the local knowledge base's ingest
// and search (kb/knowledge_base.h): the same parse and chunk step (ParseAndChunk),
// the same embedders, the same SearchHit results, hybrid fused client-side by
// fusion.h. `sagebox rag ingest|ask --opensearch URL` use it.
//
// Sharded ingest, the way the seed article's SageMaker processing job spreads the
// S3 files over its instances (s3_data_distribution_type="ShardedByS3Key"): each of
// N workers takes the files whose key (the path relative to the command-line
// argument it was found under) hashes to its shard, so N workers on N machines take
// disjoint shares that together cover every file, with no coordination but the
// cluster.
//
// Each chunk is one OpenSearch document in LangChain's OpenSearchVectorSearch shape:
//   _id           "<doc id>#<ordinal>" (the local index's chunk id)
//   vector_field  the embedding (absent without an embedder, or for a zero vector)
//   text          the chunk's text (BM25 `match`)
//   metadata      source, title, format, page, doc_id, ordinal, byte_begin,
//                 byte_end (and beir_id for a BEIR record)
// The index's settings (splitter, sizes, embedder, space) are kept in the
// mapping's `_meta.sagebox`, so `ask` knows how to embed a question and a later
// ingest can refuse different settings. An index LangChain wrote (no `_meta`) is
// searched by BM25, or dense/hybrid given an embedder.
//
// Re-ingesting a file overwrites its chunks by _id; a file that now has fewer
// chunks leaves its old tail chunks in the index (the REST subset has no
// _delete_by_query): drop and re-create the index after shrinking edits.
//
// Thread-safety: IngestRemote is a free function; a RemoteIndex's Search may be
// called from several threads at once (the embedder is created on Open).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "retrieval/kb/knowledge_base.h"
#include "retrieval/remote/opensearch_client.h"

namespace sagebox::retrieval::remote {

// Worker `index` of `count` (0 <= index < count).
struct Shard {
  int index = 0;
  int count = 1;
};

// "I/N" with 0 <= I < N <= 100000. InvalidArgument "--shard \"...\": ..." otherwise.
StatusOr<Shard> ParseShard(std::string_view text);

// The shard (0..count-1) of a file key: FNV-1a 64 of its bytes, modulo count. Stable
// across machines, builds and runs (not std::hash, which may differ between them).
int ShardOf(std::string_view key, int count);

struct ShardFile {
  std::string path;  // as CollectFiles lists it: what the documents' source says
  std::string key;   // relative to its argument ("a/b.md"); a file argument's own name
};

// CollectFiles over each argument, keyed, keeping the files of `shard`; a file
// found under two arguments counts once, at its first. `total` gets the number of
// files before sharding. CollectFiles's errors.
StatusOr<std::vector<ShardFile>> CollectShard(Env* env, const std::vector<std::string>& paths,
                                              Shard shard, size_t* total = nullptr);

struct RemoteOptions {
  ClientOptions client;
  std::string vector_field = "vector_field";  // LangChain's defaults
  std::string text_field = "text";
  Env* env = nullptr;             // Env::Default() when null
  EmbedderFactory make_embedder;  // MakeEmbedder when empty
  size_t bulk_docs = 500;         // per _bulk request (LangChain's bulk_size)
  size_t bulk_bytes = 4 << 20;    // per _bulk request, roughly (one document may exceed it)
};

struct RemoteIngestReport {
  size_t files_total = 0;  // before sharding
  size_t files = 0;        // this shard's
  size_t documents = 0;
  size_t chunks = 0;     // documents written to the cluster
  size_t vectors = 0;    // of them, with a vector
  uint64_t bytes = 0;    // of the files read
  size_t requests = 0;   // _bulk requests
  bool created = false;  // this call created the index
  double seconds = 0;
};

// The PUT /{index} body: `index.knn: true` and a knn_vector field of `dimension`
// (hnsw, the settings' space; the engine left to the cluster) when dimension > 0;
// `text` mapped as text; the settings in mappings._meta.sagebox.
nlohmann::json IndexBody(const IndexSettings& settings, int64_t dimension,
                         const RemoteOptions& options);

// Ingests this shard's files into `index` on the cluster: collects and shards
// them, parses and chunks every file and embeds every chunk before sending
// anything (a bad file fails with "FILE: what is wrong" and the cluster is not
// touched), creates the index when it is missing, sends the chunks by _bulk, and
// refreshes. Errors: InvalidArgument for a bad index name or settings, or when the
// index's _meta.sagebox settings differ from `settings` (naming each); the
// parsers', the embedder's and the client's errors; IoError "K of M documents
// failed: item ..." (the first failures named) when _bulk items fail, after the
// other batches were sent (a _bulk is not atomic on OpenSearch either).
StatusOr<RemoteIngestReport> IngestRemote(const RemoteOptions& options, const std::string& index,
                                          const std::vector<std::string>& paths,
                                          const IndexSettings& settings, Shard shard,
                                          const IngestProgressFn& progress = {});

class RemoteIndex {
 public:
  // Reads the index's mapping (GET /{index}): the vector field's space and the
  // embedder named in _meta.sagebox; `embedder` (a provider spec) replaces that,
  // e.g. for an index LangChain wrote. NotFound (naming the URL) for a missing
  // index; InvalidArgument for a bad name or embedder spec; the client's errors.
  static StatusOr<std::unique_ptr<RemoteIndex>> Open(const RemoteOptions& options,
                                                     const std::string& index,
                                                     const std::string& embedder = "");
  ~RemoteIndex();
  RemoteIndex(const RemoteIndex&) = delete;
  RemoteIndex& operator=(const RemoteIndex&) = delete;

  // KnowledgeBase::Search's contract over the cluster: BM25 is a `match` on the
  // text field, dense a `knn` query on the vector field, hybrid both fused here by
  // FuseRrf / FuseMinMax. InvalidArgument for k < 1, bad weights, dense or hybrid
  // without an embedder or vector field, and source/format filters (not sent to
  // the cluster yet); the embedder's and the client's errors.
  StatusOr<std::vector<SearchHit>> Search(const std::string& query,
                                          const SearchOptions& options) const;

  bool has_embedder() const { return embedder_ != nullptr && has_vectors_; }
  const std::string& name() const { return name_; }
  // The embedder spec in use, "" for none.
  const std::string& embedder_spec() const { return embedder_spec_; }

 private:
  RemoteIndex(OpenSearchClient client, RemoteOptions options)
      : client_(std::move(client)), options_(std::move(options)) {}

  OpenSearchClient client_;
  RemoteOptions options_;
  std::string name_;
  std::string embedder_spec_;
  bool has_vectors_ = false;
  std::unique_ptr<Embedder> embedder_;
};

// The SearchHit a search hit of the cluster describes: _id is the chunk id,
// metadata fills the rest (doc_id defaults to metadata.source, else the _id, for
// documents LangChain wrote). BadInput naming the field when _id or the text field
// is missing or not a string.
StatusOr<SearchHit> HitFromJson(const nlohmann::json& hit, const std::string& text_field);

}  // namespace sagebox::retrieval::remote
