// routes.h: the OpenSearch REST subset on sagebox's server, under /opensearch/
// (the web UI and the other modules own the rest of the path space; the
// OpenSearch clients take a node URL with a path: opensearch-js joins it in
// Connection.buildRequestObject, opensearch-py has `url_prefix`).
//
//   GET  /                                  cluster info (version.number, distribution)
//   PUT|GET|HEAD|DELETE /{index}            create (settings, mappings), describe, exists, delete
//   GET  /{index}/_mapping                  the mappings
//   POST|PUT /_bulk, /{index}/_bulk         NDJSON index/create/update/delete, ?refresh
//   PUT|POST /{index}/_doc/{id}, POST /{index}/_doc, PUT|POST /{index}/_create/{id}
//   POST /{index}/_update/{id}              {"doc": {...}, "doc_as_upsert"}
//   GET|HEAD|DELETE /{index}/_doc/{id}
//   POST|GET /{index}/_refresh, /_refresh
//   GET|POST /{index}/_search               search.h, ?search_pipeline=ID
//   GET|POST /{index}/_count
//   PUT|GET|DELETE /_search/pipeline/{id}, GET /_search/pipeline
// Errors are OpenSearch's: {"error": {"root_cause": [...], "type", "reason",
// ...}, "status": N} (404 index_not_found_exception, 400
// resource_already_exists_exception, mapper_parsing_exception,
// parsing_exception for a query this subset does not support, ...).
//
// Thread-safety: Handle is safe to call from every server thread (the Store is).
#pragma once

#include "http/http_server.h"
#include "rag/opensearch/store.h"

namespace sagebox::rag::opensearch {

inline constexpr const char* kPrefix = "/opensearch";

// One request, its path still holding the /opensearch prefix.
http::ApiResponse Handle(Store* store, const http::ApiRequest& req);

// Adds the routes to `router`; `store` must outlive the server.
void Register(http::Router& router, Store* store);

}  // namespace sagebox::rag::opensearch
