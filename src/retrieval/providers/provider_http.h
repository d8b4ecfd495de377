// provider_http.h: the one HTTP client path every provider uses (URL parsing,
// timeouts, SigV4 or bearer headers, and the one error vocabulary), so that an
// error from any embedder or generator reads the same way:
//   "<provider>: POST <url>: HTTP 500: \"<the body's message>\"".
//
// Thread-safety: pure functions; Post opens its own connection per call, so
// concurrent calls are safe.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::retrieval {

// An http:// or https:// URL split the way httplib wants it.
struct ProviderUrl {
  std::string scheme;              // "http" or "https"
  std::string host;                // without the port
  int port = 0;                    // explicit or the scheme's default
  std::string path;                // the base path without a trailing '/', possibly empty
  std::string Origin() const;      // scheme://host[:port] (port only when not the default)
  std::string HostHeader() const;  // host[:port] as the Host header carries it
};

// InvalidArgument "`what`: ... " for anything but http(s)://host[:port][/path]
// (no query, no fragment, no user info, port 1..65535).
StatusOr<ProviderUrl> ParseProviderUrl(const std::string& url, const std::string& what);

struct HttpTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds read{120000};  // a GPU generation can take a minute
};

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
};

// Sends `method` (GET, HEAD, PUT, POST, DELETE) with `body` to url.Origin() +
// `path` with `headers` (Content-Type among them, when there is a body).
// Returns the reply whatever its status; IoError "<provider>: <METHOD> <url>:
// <httplib's reason>" when no reply arrived (refused, timeout, TLS);
// InvalidArgument for another method.
StatusOr<HttpReply> Send(const std::string& provider, const std::string& method,
                         const ProviderUrl& url, const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, const HttpTimeouts& timeouts);

// Send with "POST".
StatusOr<HttpReply> Post(const std::string& provider, const ProviderUrl& url,
                         const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, const HttpTimeouts& timeouts);

// The Status for a non-2xx reply: "<provider>: POST <url>: HTTP <status>: "
// followed by the body's message, quoted (OpenAI's error.message, AWS's
// message / Message, FastAPI's detail, a plain "error" string), else the
// first 300 bytes of the body. OpenSearch's {"error": {"type", "reason"}}
// reads "<type>: <reason>". Code by status: 400/422 InvalidArgument,
// 401 Unauthenticated, 403 PermissionDenied, 404 NotFound, 413/429
// ResourceExhausted, anything else IoError (the provider failed, not us).
Status HttpError(const std::string& provider, const std::string& url, const HttpReply& reply);
// The same for a request of another method: "<provider>: <method> <url>: ...".
Status HttpError(const std::string& provider, const std::string& method, const std::string& url,
                 const HttpReply& reply);

// BadInput "<provider>: POST <url>: reply: <what>" for a reply that is not
// what the API promises (malformed JSON, missing field, wrong count).
Status ReplyError(const std::string& provider, const std::string& url, const std::string& what);

}  // namespace sagebox::retrieval
