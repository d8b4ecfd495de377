// opensearch_client.h: the calls sagebox makes to a real OpenSearch cluster (or to
// any server speaking the same REST subset, such as `sagebox serve`'s /opensearch/),
// for users who outgrow one machine: create an index, _bulk, _refresh, _count and
// _search, with HTTP basic or SigV4 (service "es", Amazon OpenSearch Service)
// authentication. HTTP goes through provider_http.h's Send, so errors read the
// same as the providers': "opensearch: PUT <url>: HTTP 400: \"<type>: <reason>\"".
//
// Documents have the shape LangChain's OpenSearchVectorSearch writes
// (`_bulk_ingest_embeddings` in langchain_community/vectorstores/
// opensearch_vector_search.py): {"vector_field": [...], "text": "...",
// "metadata": {"source": ..., ...}}, so an index LangChain wrote can be searched
// by sagebox and the reverse.
//
// Thread-safety: a client is immutable after Create; every call opens its own
// connection, so concurrent calls are safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/sigv4.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/providers/provider_http.h"

namespace sagebox::retrieval::remote {

struct OpenSearchAuth {
  enum class Kind { kNone, kBasic, kSigV4 };
  Kind kind = Kind::kNone;
  std::string user;  // basic
  std::string password;
  http::SigV4Key key;  // SigV4
  std::string region;
  std::string service = "es";  // "aoss" for OpenSearch Serverless
};

struct ClientOptions {
  // http(s)://host[:port][/prefix]; the prefix (e.g. "/opensearch" for `sagebox
  // serve`) goes before every path.
  std::string url;
  OpenSearchAuth auth;
  HttpTimeouts timeouts;
};

// The environment variable holding "user:password" for basic authentication (the
// article keeps the cluster's master user in Secrets Manager; export it from there).
inline constexpr char kUserEnv[] = "SAGEBOX_OPENSEARCH_USER";

// ClientOptions from the CLI's --opensearch URL and --opensearch-auth value:
//   ""           basic when $SAGEBOX_OPENSEARCH_USER is set, else none
//   none         no Authorization header
//   basic        Authorization: Basic from $SAGEBOX_OPENSEARCH_USER ("user:password")
//   sigv4[:SVC]  SigV4 with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//                AWS_SESSION_TOKEN, AWS_REGION (embedder.h's AwsConfigFromEnvironment);
//                service SVC, "es" by default ("aoss" for Serverless)
// InvalidArgument naming the flag or variable for a bad URL, an unknown mode, a
// missing or colon-less user variable, or missing AWS variables.
StatusOr<ClientOptions> ClientOptionsFromFlags(const std::string& url, const std::string& auth,
                                               GetEnvFn getenv = nullptr);

// OpenSearch's index name rules, the part sagebox needs (the name goes in URL
// paths unescaped): 1 to 255 of a-z 0-9 _ . -, not starting with '_', '-' or '.'.
// InvalidArgument saying so otherwise.
Status ValidateRemoteIndexName(std::string_view name);

// One `index` action of a _bulk request: the document's _id and _source.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct BulkDoc {
  std::string id;
  nlohmann::json source;
};

// A _bulk item that did not succeed.
struct BulkFailure {
  size_t item = 0;  // 0-based position in the request
  std::string id;
  int status = 0;
  std::string type;  // OpenSearch's error.type, e.g. "mapper_parsing_exception"
  std::string reason;
};

struct BulkResult {
  size_t items = 0;
  size_t failed = 0;
  std::vector<BulkFailure> failures;  // the first kMaxReportedFailures
};
inline constexpr size_t kMaxReportedFailures = 5;

// The NDJSON body of POST /_bulk: per document an action line
// {"index":{"_index":INDEX,"_id":ID}} and the source line, each ending in "\n".
std::string BulkBody(const std::string& index, const std::vector<BulkDoc>& docs);

// Reads a _bulk reply for `sent` actions: every item's status, whatever the
// top-level "errors" says. BadInput naming what is missing when the reply is not
// a _bulk reply (no "items" array, a different count, an item without a status).
StatusOr<BulkResult> ParseBulkReply(const std::string& body, size_t sent);

// "3 of 500 documents failed: item 7 (_id a.txt#7): HTTP 400 mapper_parsing_exception:
// ...; item 9 ...", naming up to kMaxReportedFailures.
std::string DescribeFailures(const BulkResult& r);

class OpenSearchClient {
 public:
  // InvalidArgument for a bad URL.
  static StatusOr<OpenSearchClient> Create(ClientOptions options);

  // GET /{index}: the index's entry of the reply ({"aliases", "mappings",
  // "settings"}), or nullopt for 404. HttpError's codes for another non-2xx
  // reply; BadInput when the reply has no entry for the index.
  StatusOr<std::optional<nlohmann::json>> GetIndex(const std::string& index) const;
  // PUT /{index} with `body` ({"settings", "mappings"}). AlreadyExists when
  // OpenSearch says resource_already_exists_exception (another worker was
  // first); HttpError's codes otherwise.
  Status CreateIndex(const std::string& index, const nlohmann::json& body) const;
  // POST /_bulk with BulkBody(index, docs); an empty `docs` sends nothing. The
  // per-item outcome in BulkResult; HttpError's codes for a non-2xx reply and
  // ParseBulkReply's errors.
  StatusOr<BulkResult> Bulk(const std::string& index, const std::vector<BulkDoc>& docs) const;
  // POST /{index}/_refresh. HttpError's codes.
  Status Refresh(const std::string& index) const;
  // GET /{index}/_count: its "count". HttpError's codes (NotFound for a missing
  // index); BadInput when the reply has no integer count.
  StatusOr<int64_t> Count(const std::string& index) const;
  // POST /{index}/_search with `body`: the reply. HttpError's codes; BadInput
  // when the reply is not a JSON object with hits.hits.
  StatusOr<nlohmann::json> Search(const std::string& index, const nlohmann::json& body) const;

  // The URL as given, for messages.
  const std::string& url() const { return options_.url; }

 private:
  explicit OpenSearchClient(ClientOptions options, ProviderUrl url)
      : options_(std::move(options)), url_(std::move(url)) {}
  // Sends one request with the auth headers; the reply whatever its status.
  StatusOr<HttpReply> Call(const std::string& method, const std::string& path,
                           const std::string& body, const std::string& content_type) const;
  // "opensearch: METHOD <url + path>: ..." for a non-2xx reply.
  Status Error(const std::string& method, const std::string& path, const HttpReply& r) const;

  ClientOptions options_;
  ProviderUrl url_;
};

}  // namespace sagebox::retrieval::remote
