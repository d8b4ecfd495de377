// ask.h: one question answered from one index, the same way for every front end (the
// CLI's `sagebox rag ask`, the JSON API's POST /api/rag/ask, the workshop's POST
// /api/v1/llm/rag): search the index, answer (the extractive answerer by default, or a
// generator over the prompt template), log the question (question_log.h), and return
// the answer with its numbered sources. AskResultJson is the one JSON shape of an
// answer: what `rag ask --format json` prints and /api/rag/ask returns.
//
// Thread-safety: Ask may run from several threads at once on one KnowledgeBase and one
// database (their searches and inserts are safe concurrently); the generator, when
// given, must be safe too (generator.h's are).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "db/database.h"
#include "retrieval/kb/knowledge_base.h"
#include "retrieval/providers/generator.h"

namespace sagebox::rag {

struct AskRequest {
  std::string question;  // not empty, not only white space
  int k = 3;             // passages retrieved (the workshop's max_matching_docs)
  // bm25, dense, hybrid, or auto: hybrid when the index has an embedder, else bm25.
  std::string mode = "auto";
  std::string fusion = "rrf";   // hybrid only: rrf or minmax
  std::vector<double> weights;  // hybrid only: {bm25, dense}; empty = equal
  // With a generator: the prompt template ({context}, {question}); empty = the
  // article's (prompt.h kArticleTemplate).
  std::string prompt_template;
  // Null: the extractive answerer (offline, free). Otherwise the model that writes the
  // answer from the rendered prompt; not owned.
  retrieval::Generator* generator = nullptr;
  retrieval::GenerationParams params;  // passed to the generator
};

struct AskResult {
  int64_t id = 0;  // the question's row in the log
  std::string index;
  std::string question;
  std::string answer;  // the first (or only) answer; sentences cite sources as " [n]"
  // Every sequence the generator returned (num_return_sequences); {answer} otherwise.
  std::vector<std::string> answers;
  std::string provider;  // "extractive", or the generator's name
  std::string mode;      // the retrieval actually run: "bm25", "dense", "hybrid"
  double latency_ms = 0;
  // Exact decimal US dollars: "0" for the extractive answerer (it runs here); nullopt
  // when an external provider's price is unknown.
  std::optional<std::string> cost_usd;
  std::vector<retrieval::SearchHit> sources;  // sources[n - 1] is citation [n]
};

// What Ask searches: a local KnowledgeBase (the overload below makes this), or an index
// in a remote OpenSearch cluster (retrieval/remote/remote_index.h, wrapped by its caller,
// so this layer does not depend on it).
struct Searcher {
  std::string index;          // the index's name, as logged and returned
  bool has_embedder = false;  // mode "auto" means hybrid when true
  std::function<StatusOr<std::vector<retrieval::SearchHit>>(const std::string& query,
                                                            const retrieval::SearchOptions&)>
      search;
};

// Answers `request` from `searcher` and logs it in `db`, as the overload below.
StatusOr<AskResult> Ask(db::Database& db, const Searcher& searcher, const AskRequest& request);

// Answers `request` from `kb` and logs it in `db` (whose migrations include rag's and
// retrieval's). InvalidArgument for an empty question, k < 1, an unknown mode or fusion,
// bad weights, a template without {context} and {question}, or dense / hybrid on an index
// without an embedder; the search's, the generator's and the database's errors otherwise
// (nothing is logged then).
StatusOr<AskResult> Ask(db::Database& db, const retrieval::KnowledgeBase& kb,
                        const AskRequest& request);

// The answer as JSON: id, index, question, answer, answers (only when a generator
// returned more than one), provider, mode, latency_ms, cost_usd (string or null), and
// sources [{n, chunk_id, doc_id, source, title, format, page, byte_begin, byte_end,
// score, passage, bm25 {score, rank}?, dense {score, rank}?, beir_id?}].
nlohmann::json AskResultJson(const AskResult& result);

}  // namespace sagebox::rag
