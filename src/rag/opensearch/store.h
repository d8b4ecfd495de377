// store.h: OpenSearch-style indexes for the /opensearch/ REST subset
// (routes.h): what LangChain's OpenSearchVectorSearch and the OpenSearch
// clients create, fill and search.
//
// An index has settings and mappings (kept as the client sent them, plus the
// fields dynamic mapping adds) and documents: an `_id` (a 20-character
// base64url id, like OpenSearch's, when the client gives none) and a `_source`
// JSON object. Mapped field types understood:
//   knn_vector  `dimension`, space from `method.space_type`, `space_type` or
//               the index setting `knn.space_type` (l2 by default;
//               cosinesimil, innerproduct), `method.parameters.m` and
//               `ef_construction`, the setting `knn.algo_param.ef_search`
//   text        BM25-searchable; strings of unmapped fields are mapped as
//               text with a keyword sub-field, as OpenSearch's dynamic
//               mapping does
//   keyword and everything else: exact values (term/terms filters)
//
// Storage: the documents are rows of the platform database (component
// "opensearch", Migrations()); derived from them, under <root>/<index>/, one
// LexicalIndex per text field (lexical/<field>/) and one VectorIndex per
// knn_vector field (<field>.vec). Every write is visible to searches as soon
// as its request returns (refresh is implicit); _refresh, ?refresh=true and
// closing the store are the points where the vector indexes are saved. A
// generation number in the database and in <root>/<index>/generation tells on
// open whether the files are those of the last write; when they are not (a
// crash between a write and the next refresh) the index is rebuilt from the
// database, which is always the truth.
//
// Thread-safety: a Store is safe for concurrent use. Writes to any index take
// the store's lock exclusively; searches, gets and counts share it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "db/database.h"
#include "rag/opensearch/search.h"

namespace sagebox::rag::opensearch {

// The "opensearch" component's tables: indexes, documents, search pipelines.
std::vector<db::Migration> Migrations();

// OpenSearch's index name rules: lowercase, at most 255 bytes, not "." or
// "..", not starting with '_', '-' or '+', none of \ / * ? " < > | , # : or
// space. InvalidArgument saying which rule the name breaks.
Status ValidateIndexName(const std::string& name);

// A 20-character URL-safe base64 id from 15 random bytes (OpenSearch's
// auto-generated ids are 20 base64url characters).
std::string GenerateId();

// One document write's outcome, as a _bulk item reports it.
struct WriteResult {
  int status = 200;    // 200, 201, 404, 409, 400
  std::string result;  // "created", "updated", "deleted", "not_found", "noop"; "" on error
  std::string id;
  int64_t version = 0;
  int64_t seq_no = 0;
  // On failure: OpenSearch's error type and reason (and the cause, if any).
  std::string error_type;
  std::string error_reason;
  std::string cause_type;
  std::string cause_reason;
  bool ok() const { return error_type.empty(); }
};

// One action of a _bulk request (or a single-document call).
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct WriteOp {
  enum class Kind { kIndex, kCreate, kUpdate, kDelete };
  Kind kind = Kind::kIndex;
  std::string id;         // empty: generated (index, create only)
  nlohmann::json source;  // index/create: the document; update: the partial "doc"
  bool doc_as_upsert = false;
};

class Store {
 public:
  // Opens the store over `db` (Migrations() applied) with its files under
  // `root` (created if missing), loading every index: from its files when
  // their generation is current, else rebuilt from the database. IoError or
  // Corruption when that fails; `db` must outlive the store.
  static StatusOr<std::unique_ptr<Store>> Open(db::Database* db, const std::string& root);
  ~Store();  // saves the vector indexes (best effort)
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Creates `name` from a PUT /{index} body ({settings, mappings}, both
  // optional). InvalidArgument for a bad name; AlreadyExists when it exists;
  // BadInput naming the field for a mapping it cannot use (a knn_vector
  // without a positive dimension, an unsupported space type).
  Status CreateIndex(const std::string& name, const nlohmann::json& body);
  // NotFound when the index does not exist.
  Status DeleteIndex(const std::string& name);
  bool HasIndex(const std::string& name) const;
  std::vector<std::string> IndexNames() const;
  // GET /{index}: {"aliases", "mappings", "settings"}. NotFound when absent.
  StatusOr<nlohmann::json> IndexInfo(const std::string& name) const;

  // Applies `ops` in order to `index` in one database transaction; each op
  // gets its own result (a bad document fails alone). A missing index is
  // created with empty mappings first (OpenSearch's auto_create_index).
  // `refresh` also saves the vector indexes. A Status error only when the
  // database or an index file fails; then nothing of `ops` is applied.
  StatusOr<std::vector<WriteResult>> Write(const std::string& index,
                                           const std::vector<WriteOp>& ops, bool refresh);

  // NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
  struct Doc {
    std::string id;
    int64_t version = 0;
    int64_t seq_no = 0;
    nlohmann::json source;
  };
  // nullopt when the document does not exist; NotFound when the index does not.
  StatusOr<std::optional<Doc>> GetDoc(const std::string& index, const std::string& id) const;

  // Saves the index's vector indexes. NotFound when it does not exist.
  Status Refresh(const std::string& index);

  // GET|POST /{index}/_search: OpenSearch's response JSON. `pipeline` names a
  // stored search pipeline ("" for none). NotFound for a missing index or
  // pipeline (the message says which); InvalidArgument from search.h.
  StatusOr<nlohmann::json> Search(const std::string& index, const nlohmann::json& body,
                                  const std::string& pipeline) const;
  // The number of documents the body's `query` matches. Errors as Search.
  StatusOr<size_t> Count(const std::string& index, const nlohmann::json& body) const;

  // PUT /_search/pipeline/{id}: InvalidArgument from ParsePipeline.
  Status PutPipeline(const std::string& id, const nlohmann::json& body);
  // The stored body, or nullopt.
  StatusOr<std::optional<nlohmann::json>> GetPipeline(const std::string& id) const;
  StatusOr<std::vector<std::pair<std::string, nlohmann::json>>> Pipelines() const;
  // NotFound when absent.
  Status DeletePipeline(const std::string& id);

 private:
  struct Index;
  Store(db::Database* db, std::string root);
  Status LoadAll();
  Status SaveLocked(Index& ix);

  db::Database* db_;
  std::string root_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<Index>> indexes_;
};

}  // namespace sagebox::rag::opensearch
