// search.h: OpenSearch's _search and _count bodies over one index, as far as
// LangChain's OpenSearchVectorSearch and the OpenSearch clients use them.
//
// A body is parsed into a SearchRequest (ParseSearchRequest), which runs
// against an IndexReader (RunSearch): the index's documents, their exact
// values, its BM25 and k-NN indexes. The store (store.h) implements the reader
// and turns the hits into OpenSearch's response. Everything not listed below
// is refused with InvalidArgument naming the clause, never ignored, so a
// client never gets a silently different answer.
//
// Supported: `size`, `from`, `min_score`, `_source` (true/false, a field or
// list of fields, {includes|include, excludes|exclude}, `*` wildcards),
// `track_total_hits`; queries:
//   match_all                    every document, score 1 (x boost)
//   match {f: "text"|{query,boost,operator:"or"}}
//                                BM25 over the text field f (the retrieval
//                                core's LexicalIndex: Xapian, k1 1.2, b 0.75,
//                                English stemming; see "Scores" below)
//   term {f: v|{value,boost}}    exact value of a keyword field, a metadata
//                                value ("metadata.source") or any scalar; a
//                                trailing ".keyword" names the same values.
//                                Scored as Lucene's BM25 scores a one-term
//                                match on a norm-less keyword field:
//                                idf / (1 + k1), idf = ln(1 + (N - n + 0.5) / (n + 0.5))
//                                (Lucene BM25Similarity; N documents, n with the value)
//   terms {f: [v...]}            any of the values, constant score 1 (Lucene's
//                                TermInSetQuery is constant-score)
//   bool {must, filter, should, must_not, minimum_should_match, boost}
//                                score = Σ must + Σ matching should; filter and
//                                must_not do not score; with no must/filter at
//                                least one should must match
//   knn {f: {vector, k, filter}} the k nearest by the field's space (HNSW, the
//                                VectorIndex); `filter` restricts the candidates
//                                before the k are chosen (OpenSearch's efficient
//                                filtering), a bool.filter around knn filters
//                                the k afterwards (its post-filtering)
//   script_score {query, script} the k-NN plugin's exact scoring script
//                                (lang "knn", source "knn_score", params field,
//                                query_value, space_type) over the documents the
//                                inner query matches, and the three Painless
//                                sources LangChain's "painless_scripting" sends
//   hybrid {queries: [...]}      only with a search pipeline holding a
//                                normalization-processor (min_max, arithmetic_mean)
//
// Scores: k-NN scores are OpenSearch's exactly (vector_index.h). The knn_score
// script scores are the k-NN plugin's KNNScoringSpace
// (opensearch-project/k-NN, plugin/script/KNNScoringSpace.java):
//   l2 1/(1+Σ(x-y)²), l1 1/(1+Σ|x-y|), linf 1/(1+max|x-y|),
//   cosinesimil 1 + cos(x, y), innerproduct as the k-NN query's.
// BM25 `match` scores come from Xapian and rank like OpenSearch's (same k1,
// b) but are not bit-identical: Lucene quantises document lengths, has no
// (k1 + 1) factor and its standard analyzer does not stem. Hybrid scores are
// OpenSearch's normalisation applied to these sub-scores (fusion.h).
//
// Thread-safety: pure functions; the reader must stay unchanged while a
// search runs (the store holds its lock).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "retrieval/index/lexical_index.h"
#include "retrieval/index/vector_index.h"

namespace sagebox::rag::opensearch {

// What the search needs of an index. Documents are named by id; `Docs()` lists
// them in insertion order, which breaks score ties (as Lucene's doc order does).
class IndexReader {
 public:
  virtual ~IndexReader() = default;

  enum class FieldKind { kNone, kText, kKeyword, kKnnVector, kOther };
  // The mapped type of a dotted field path ("text", "metadata.source").
  virtual FieldKind Kind(const std::string& field) const = 0;
  // Every document, insertion order.
  virtual const std::vector<std::string>& Docs() const = 0;
  // The exact values of a field in a document (strings as-is, numbers and
  // booleans as JSON text); empty when absent.
  virtual std::vector<std::string> Values(const std::string& doc,
                                          const std::string& field) const = 0;
  // BM25 over the text field: every matching document, best first. Filters
  // are applied by the caller over Values(), so every match is returned.
  virtual StatusOr<std::vector<retrieval::LexicalHit>> Match(const std::string& field,
                                                             const std::string& text) const = 0;
  // The k nearest documents to `query` in the knn_vector field, with
  // OpenSearch's scores; `allowed`, when set, restricts the candidates.
  virtual StatusOr<std::vector<std::pair<std::string, double>>> Knn(
      const std::string& field, std::span<const float> query, size_t k,
      const std::vector<std::string>* allowed) const = 0;
  // The field's dimension (0 when it is not a knn_vector field).
  virtual size_t Dimension(const std::string& field) const = 0;
  // A document's vector in the field, or nullopt when it has none.
  virtual std::optional<std::span<const float>> Vector(const std::string& doc,
                                                       const std::string& field) const = 0;
};

// _source filtering: enabled, and include/exclude patterns (dotted paths, `*`).
struct SourceFilter {
  bool enabled = true;
  std::vector<std::string> includes;
  std::vector<std::string> excludes;
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct SearchRequest {
  size_t from = 0;
  size_t size = 10;
  std::optional<double> min_score;
  SourceFilter source;
  nlohmann::json query;  // null means match_all
};

// A search pipeline's normalization-processor: min_max normalisation and the
// arithmetic_mean combination with optional weights (fusion.h, FuseMinMax).
struct Pipeline {
  std::vector<double> weights;  // empty: equal
};

struct SearchHit {
  std::string id;
  double score = 0;
};

struct SearchResult {
  std::vector<SearchHit> hits;  // the page [from, from + size)
  size_t total = 0;             // every match (after min_score)
  std::optional<double> max_score;
};

// Parses a _search body (an empty or null body is match_all). InvalidArgument
// naming the key for an unknown or malformed top-level key or a bad _source.
StatusOr<SearchRequest> ParseSearchRequest(const nlohmann::json& body);

// Parses a search pipeline body (PUT /_search/pipeline/{id}). InvalidArgument
// naming the processor or technique that is not min_max + arithmetic_mean.
StatusOr<Pipeline> ParsePipeline(const nlohmann::json& body);

// Runs `req`. `pipeline` is the ?search_pipeline= one, or null. InvalidArgument
// naming the clause for unknown or malformed queries, a field of the wrong
// type, or a vector of the wrong dimension; errors of the reader as they are.
StatusOr<SearchResult> RunSearch(const IndexReader& reader, const SearchRequest& req,
                                 const Pipeline* pipeline);

// The number of documents `query` (null: all) matches. Errors as RunSearch.
StatusOr<size_t> RunCount(const IndexReader& reader, const nlohmann::json& query);

// `source` with `filter` applied (null when the filter disables _source).
nlohmann::json FilterSource(const nlohmann::json& source, const SourceFilter& filter);

// The flattened exact values of a _source document: (dotted path, value) for
// every string, number and boolean leaf (an array gives several), strings as
// they are and the rest as JSON text; the fields named in `skip` (knn vectors)
// are left out.
std::vector<std::pair<std::string, std::string>> FlattenValues(
    const nlohmann::json& source, const std::vector<std::string>& skip);

// A scalar as FlattenValues writes it ("abc", "3", "true").
std::string ExactValue(const nlohmann::json& scalar);

}  // namespace sagebox::rag::opensearch
