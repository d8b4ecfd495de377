// routes.h: the rag module's HTTP APIs on `sagebox serve`.
//
// sagebox's JSON API (the web UI's chat page uses it):
//   GET  /api/rag/indexes                   the indexes: sizes and settings
//   POST /api/rag/ask                       {"index", "question", "k"?, "mode"?} -> ask.h's
//                                           AskResultJson (what `rag ask --format json` prints)
//   POST /api/rag/feedback                  {"id", "feedback": "up"|"down"|"source:<chunk>"}
//   GET  /api/rag/questions?index=&limit=   the question log, newest first
// Errors are the platform's {"error": {"code", "message"}} (http/api.h).
//
// The llm-apps-workshop's REST API (blogs/rag/api: FastAPI, app/api/api_v1/endpoints), so
// its Streamlit app works against sagebox unchanged:
//   POST /api/v1/llm/rag        its Request model (below) -> {"question", "answer"} plus
//                               "docs" [{"page_content", "metadata": {"source", ...}}] when
//                               verbose, as LangChain's Documents serialise
//   POST /api/v1/llm/text2text  the same model -> {"question", "answer": [texts]}: the
//                               endpoint's generated_texts, a list (the app reads answer[0])
// Request model (fastapi_request.py, class Request) and defaults: q (required), max_length
// 500, num_return_sequences 1, top_k 250, top_p 0.95, do_sample false, temperature 1,
// verbose false, max_matching_docs 3, text_generation_model, embeddings_generation_model,
// vectordb_s3_path, vectordb_type ("opensearch" or "faiss"). The model and vector-store
// fields are accepted and not used: the index searched is the request's sagebox extension
// "index", else serve's --rag-index, else the only index there is; the generator is
// serve's --rag-generator, else the extractive answerer (and text2text, which has no
// retrieval to extract from, answers 503). Errors are FastAPI's: {"detail": [{"loc",
// "msg", "type"}]} with 422 for a malformed request (pydantic v1's messages), {"detail":
// "..."} otherwise.
//
// Thread-safety: Handle runs on every server thread. Open indexes are cached (a mutex
// guards the cache) and shared between requests; one is reopened when an ingest has moved
// its generation (knowledge_base.h IndexGeneration), so answers follow new documents.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "db/database.h"
#include "http/http_server.h"
#include "retrieval/kb/knowledge_base.h"
#include "retrieval/providers/generator.h"

namespace sagebox::rag::api {

struct RagApiOptions {
  std::string data_dir;       // the platform's data folder (indexes in <data_dir>/retrieval)
  std::string default_index;  // the workshop API's index when a request names none
  // Provider spec of the generator (provider_spec.h MakeGenerator); empty = extractive.
  std::string generator;
  // Overrides `generator` (tests pass a fake); not shared with anything else.
  std::unique_ptr<retrieval::Generator> generator_instance;
  retrieval::EmbedderFactory make_embedder;  // for indexes with an embedder; default when empty
};

class RagApi {
 public:
  // InvalidArgument for a malformed generator spec (nothing is contacted yet). `db`
  // (migrated with retrieval's and rag's migrations) must outlive the object.
  static StatusOr<std::unique_ptr<RagApi>> Create(db::Database* db, RagApiOptions options);

  // One request to either API (the path tells which). Never fails: errors are responses.
  http::ApiResponse Handle(const http::ApiRequest& req);

  // Adds /api/rag/ and /api/v1/llm/ to `router`; this object must outlive the server.
  void Register(http::Router& router);

 private:
  explicit RagApi(db::Database* db, RagApiOptions options)
      : db_(db), options_(std::move(options)) {}
  http::ApiResponse HandleJsonApi(const http::ApiRequest& req);
  http::ApiResponse HandleWorkshop(const http::ApiRequest& req);
  // The open index `name`, reopened when its generation moved. NotFound for no index.
  StatusOr<std::shared_ptr<const retrieval::KnowledgeBase>> OpenIndex(const std::string& name);
  // The workshop API's index: `requested`, else the default, else the only one.
  StatusOr<std::string> ResolveIndex(const std::string& requested);

  struct Cached {
    int64_t generation = 0;
    std::shared_ptr<const retrieval::KnowledgeBase> kb;
  };
  db::Database* db_;
  RagApiOptions options_;
  retrieval::Generator* generator_ = nullptr;  // options_.generator_instance, or null
  std::mutex mu_;                              // guards open_
  std::map<std::string, Cached> open_;
};

}  // namespace sagebox::rag::api
