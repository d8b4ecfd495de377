// knowledge_base.h: one named index of the retrieval core, end to end: ingest files
// (parse, chunk, embed), keep them, and search them by BM25, by vectors, or both fused.
//
// Where things live:
//   - The platform database (component "retrieval", Migrations()) is the truth: the
//     index's settings, one row per document (its source file's and its own SHA-256) and
//     one per chunk (text, byte offsets, page, the uint64 label of its vector and the
//     vector itself as a blob of little-endian float32, NULL when there is none).
//   - <data>/retrieval/<index>/ holds what is derived from those rows: the BM25 index
//     (lexical_index.h, folder "lexical"), the vector index (vector_index.h, file
//     "vectors.hnsw", saved atomically) and "generation", the index generation both were
//     built at. Every ingest bumps the generation in the same database transaction as its
//     rows, then updates the derived indexes and writes the file. A crash (or an error)
//     between the two leaves the file behind the database: the next Open sees that, or a
//     derived index gone missing, and rebuilds both from the chunk rows, vectors from
//     their stored blobs (no re-embedding).
//
// Ingest reads and parses every input before it changes anything, so one bad file fails
// the whole call with "file: what is wrong" and leaves the index as it was. A file whose
// bytes are unchanged is skipped without parsing; a changed file replaces its documents'
// chunks (a document whose own text is unchanged, e.g. one record of a re-written BEIR
// corpus, keeps its chunks).
//
// Thread-safety: Search, Stats and the accessors may run from several threads at once;
// Ingest must not run concurrently with anything else on the same object. Across
// processes, the BM25 index takes one writer at a time (a second ingest gets IoError).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "db/database.h"
#include "retrieval/eval_metrics.h"
#include "retrieval/fusion.h"
#include "retrieval/index/lexical_index.h"
#include "retrieval/index/vector_index.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/splitter.h"

namespace sagebox::retrieval {

// The migrations of component "retrieval" (tables retrieval_indexes, retrieval_documents,
// retrieval_chunks).
std::vector<db::Migration> Migrations();

// How an index chunks and embeds; fixed when the index is created.
struct IndexSettings {
  // "recursive" (LangChain's RecursiveCharacterTextSplitter, the RAG article's) or
  // "character" (CharacterTextSplitter on "\n", the docs article's).
  std::string splitter = "recursive";
  int64_t chunk_size = 600;  // code points; the RAG article's 600/20
  int64_t chunk_overlap = 20;
  // Provider spec of the embedder (provider_spec.h), empty for a BM25-only index.
  std::string embedder;
  std::string space = "cosinesimil";  // OpenSearch space name (vector_index.h)

  bool operator==(const IndexSettings&) const = default;
};

// The splitter `s` names, with its sizes: what every ingest of such an index
// chunks with. InvalidArgument for an unknown splitter or bad sizes.
StatusOr<std::unique_ptr<TextSplitter>> MakeSplitter(const IndexSettings& s);

// One parsed document and its chunks, in order.
struct ChunkedDocument {
  Document doc;
  std::vector<Chunk> chunks;
};

// The parse and chunk step of an ingest, shared by KnowledgeBase::Ingest and the
// remote-OpenSearch backend (retrieval/remote/): ParseFile(env, file), then
// `splitter` over each document. Errors: ParseFile's ("FILE: what is wrong"); the
// splitter's, prefixed by the file.
StatusOr<std::vector<ChunkedDocument>> ParseAndChunk(Env* env, const std::string& file,
                                                     const TextSplitter& splitter);

struct IndexStats {
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t vectors = 0;  // chunks that have an embedding
  int64_t bytes = 0;    // document text bytes
};

// One index as the database describes it.
struct IndexInfo {
  std::string name;
  IndexSettings settings;
  std::string embedder_name;  // Embedder::name() once the index has vectors, else ""
  int64_t dimension = 0;      // 0 until the first vector
  int64_t generation = 0;
  int64_t created_unix = 0;
  IndexStats stats;
};

// `info` as JSON, the one shape `rag indexes --json` prints and GET /api/rag/indexes
// returns: name, documents, chunks, vectors, bytes, splitter, chunk_size, chunk_overlap,
// embedder, embedder_name, dimension, space, generation, created_unix.
nlohmann::json IndexInfoJson(const IndexInfo& info);

// Checks an index name: 1 to 64 of [A-Za-z0-9_.-], not starting with '.' (it names a
// folder). InvalidArgument saying so otherwise.
Status ValidateIndexName(std::string_view name);

// Every index, by name. The database's errors.
StatusOr<std::vector<IndexInfo>> ListIndexes(db::Database& db);

// The indexes' names, sorted: ListIndexes without its per-index counts, which scan the
// chunk rows (for a caller that only picks an index, once per request). The database's
// errors.
StatusOr<std::vector<std::string>> ListIndexNames(db::Database& db);

// The generation index `name` is at: every ingest that changes it bumps it by one, so a
// long-lived reader (the server's open indexes) tells it is behind by one cheap query.
// NotFound when there is no such index; the database's errors.
StatusOr<int64_t> IndexGeneration(db::Database& db, const std::string& name);

// Deletes an index: its rows (one transaction) and then its folder under
// <data_dir>/retrieval/. NotFound when there is no such index.
Status DropIndex(db::Database& db, const std::string& data_dir, const std::string& name);

struct IngestProgress {
  enum class Stage { kParse, kEmbed, kIndex };
  Stage stage = Stage::kParse;
  uint64_t done = 0;   // kParse: bytes read; kEmbed, kIndex: chunks
  uint64_t total = 0;  // same unit
  uint64_t chunks = 0;
};
using IngestProgressFn = std::function<void(const IngestProgress&)>;

struct IngestReport {
  size_t files = 0;
  size_t files_unchanged = 0;  // skipped: same bytes as last time
  size_t added = 0;            // documents
  size_t replaced = 0;
  size_t unchanged = 0;
  size_t deleted = 0;  // documents a changed file no longer holds (BEIR records)
  size_t chunks = 0;   // chunks written
  size_t vectors = 0;  // of them, with a (non-zero) vector
  uint64_t bytes = 0;  // bytes of the files read
  double seconds = 0;
};

enum class SearchMode { kBm25, kDense, kHybrid };
enum class FusionMethod { kRrf, kMinMax };
// "bm25"/"dense"/"hybrid", "rrf"/"minmax"; InvalidArgument naming the accepted values.
StatusOr<SearchMode> ParseSearchMode(std::string_view s);
StatusOr<FusionMethod> ParseFusionMethod(std::string_view s);
std::string_view SearchModeName(SearchMode m);

struct SearchOptions {
  int k = 5;  // hits returned, at least 1
  SearchMode mode = SearchMode::kBm25;
  FusionMethod fusion = FusionMethod::kRrf;
  // Hybrid: {bm25, dense}, as fusion.h takes them; empty = equal.
  std::vector<double> weights;
  // Each retriever's top-N before fusion (OpenSearch's hybrid query runs each
  // sub-query for its own size); 0 = max(k, 100).
  int candidates = 0;
  // Metadata filters: a hit's document must have one of the sources (as ingested)
  // and one of the formats (parse.h FormatName) listed; empty = any.
  std::vector<std::string> sources;
  std::vector<std::string> formats;
};

struct SearchHit {
  std::string chunk_id;  // "<doc id>#<ordinal>"
  std::string doc_id;
  std::string beir_id;  // the corpus _id of a BEIR record, else ""
  std::string source;
  std::string title;
  std::string format;
  int page = 0;  // 1-based; 0 when the source has no pages
  int64_t ordinal = 0;
  int64_t byte_begin = 0;  // in the document's parsed text
  int64_t byte_end = 0;
  std::string text;
  double score = 0;  // the mode's score: BM25, the space's score, or the fused score
  // Each retriever's own score and 1-based rank; nullopt / 0 when it did not return
  // the chunk (or did not run).
  std::optional<double> bm25_score;
  int bm25_rank = 0;
  std::optional<double> dense_score;
  int dense_rank = 0;
};

// What a search returns from its retrievers' ranked chunk ids, as `options` asks: the
// BM25 or the dense list alone, or both fused by options.fusion with options.weights
// (fusion.h); cut to options.k. Shared by the local index and the remote one
// (retrieval/remote). FuseRrf's and FuseMinMax's errors (bad weights).
StatusOr<RankedList> CombineRetrievers(const RankedList& bm25, const RankedList& dense,
                                       const SearchOptions& options);

// Sets each hit's bm25_score/bm25_rank and dense_score/dense_rank from the lists its
// chunk id appears in (1-based ranks); a hit missing from a list keeps nullopt / 0.
void SetRetrieverRanks(const RankedList& bm25, const RankedList& dense,
                       std::vector<SearchHit>* hits);

// The documents of `hits` in order of their best chunk, each once: the BEIR _id when
// there is one (what qrels name), else the document id.
std::vector<std::string> RankDocuments(const std::vector<SearchHit>& hits);

// Makes the embedder named by an index's spec. The default is MakeEmbedder
// (provider_spec.h); tests pass a fake.
using EmbedderFactory = std::function<StatusOr<std::unique_ptr<Embedder>>(const std::string&)>;

struct OpenOptions {
  Env* env = nullptr;    // Env::Default() when null
  std::string data_dir;  // the platform's data folder: indexes go in <data_dir>/retrieval/
  // When set and the index does not exist, it is created with these settings
  // (InvalidArgument if they are malformed); otherwise a missing index is NotFound.
  std::optional<IndexSettings> create;
  // Open the BM25 index for reading only (ask, eval), so an ingest running in another
  // process does not block. A rebuild still takes the writer for its duration.
  bool read_only = false;
  EmbedderFactory make_embedder;  // MakeEmbedder when empty
};

class KnowledgeBase {
 public:
  // Opens (or creates, see OpenOptions::create) index `name` in `db`, whose migrations
  // must include Migrations(). Rebuilds the derived indexes when they are missing or
  // behind the database's generation. InvalidArgument for a bad name or settings;
  // NotFound for a missing index; IoError when another process holds the BM25 writer;
  // Corruption when a derived index is damaged beyond a rebuild; the database's errors.
  static StatusOr<std::unique_ptr<KnowledgeBase>> Open(db::Database* db, const std::string& name,
                                                       OpenOptions options);
  ~KnowledgeBase();
  KnowledgeBase(const KnowledgeBase&) = delete;
  KnowledgeBase& operator=(const KnowledgeBase&) = delete;

  // Ingests files and folders (parse.h CollectFiles: folders recursively). Errors, with
  // nothing changed: the first unreadable or malformed file ("FILE: what is wrong", its
  // parser's code), InvalidArgument when read_only, the embedder's errors (named). When
  // the database has committed but a derived index fails to update, the error says so and
  // the next Open rebuilds it. `progress` may be empty.
  StatusOr<IngestReport> Ingest(const std::vector<std::string>& paths,
                                const IngestProgressFn& progress = {});

  // The k best chunks for `query`. InvalidArgument for k < 1, bad weights, or dense /
  // hybrid on an index without an embedder (hybrid does not silently become BM25: the
  // caller asked for something this index cannot do). A query the embedder maps to the
  // zero vector (no known word) gets no dense results, so hybrid is BM25 alone then.
  // The embedder's, the indexes' and the database's errors otherwise.
  StatusOr<std::vector<SearchHit>> Search(const std::string& query,
                                          const SearchOptions& options) const;

  // Counts from the database. The database's errors.
  StatusOr<IndexStats> Stats() const;

  const std::string& name() const { return name_; }
  const IndexSettings& settings() const { return settings_; }
  bool has_embedder() const { return !settings_.embedder.empty(); }
  // The folder of the derived indexes.
  const std::string& dir() const { return dir_; }
  // True when Open found the derived indexes stale or missing and rebuilt them.
  bool rebuilt_on_open() const { return rebuilt_on_open_; }

 private:
  KnowledgeBase() = default;
  Status Rebuild();
  StatusOr<Embedder*> GetEmbedder() const;
  Status WriteGeneration(int64_t generation);

  db::Database* db_ = nullptr;
  Env* env_ = nullptr;
  std::string name_;
  std::string dir_;
  IndexSettings settings_;
  bool read_only_ = false;
  bool rebuilt_on_open_ = false;
  EmbedderFactory make_embedder_;
  std::unique_ptr<TextSplitter> splitter_;
  std::unique_ptr<LexicalIndex> lexical_;
  std::unique_ptr<VectorIndex> vectors_;  // null until the index has a vector
  mutable std::mutex embedder_mu_;        // guards the lazy creation of embedder_
  mutable std::unique_ptr<Embedder> embedder_;
};

// BEIR-style evaluation of one retriever over an index: each query is searched with
// `options` (k raised so that, after several chunks of a document count once at their
// best rank, up to cutoffs.recall documents remain), its documents ranked by
// RankDocuments, and the runs scored by Evaluate (eval_metrics.h). Search's errors,
// naming the query id.
StatusOr<EvalSummary> EvaluateIndex(const KnowledgeBase& kb, const std::vector<EvalQuery>& queries,
                                    const Qrels& qrels, SearchOptions options,
                                    EvalCutoffs cutoffs = {});

}  // namespace sagebox::retrieval
