// api.h: the request and response every module's HTTP handler sees, and the
// one JSON error shape of sagebox's own APIs.
//
// Handlers are plain functions from ApiRequest (plus the caller, Principal) to
// ApiResponse: nothing in a module knows about sockets or httplib, so module
// APIs are unit-tested and fuzzed without a network. The server (http_server.h)
// does the translation both ways.
//
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::http {

// Who is calling. On a loopback server without users or credentials every
// caller is the anonymous local admin (`anonymous` = true).
struct Principal {
  std::string name;  // user name; "local" when anonymous
  std::string role;  // "admin", "user" or "viewer"
  std::string via;   // "open", "token", "session", "sigv4", "credentials-file"
  bool anonymous = false;
};

struct ApiRequest {
  std::string method;                              // "GET", "PUT", "DELETE", ...
  std::string path;                                // decoded path: "/api/cost/query"
  std::multimap<std::string, std::string> params;  // decoded query parameters
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  Principal principal;

  // The first header named `name` (any case), or "".
  std::string Header(std::string_view name) const;
  // The first query parameter `name`, or "".
  std::string Param(const std::string& name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// 200 with `j` as the body (invalid UTF-8 replaced, so any library string is safe).
ApiResponse JsonResponse(const nlohmann::json& j, int status = 200);
// The API's one error shape, {"error": {"code": CODE, "message": MESSAGE}}, with
// `http_status`; the server's own refusals (401, 403, 413, 431) use it too.
ApiResponse ErrorBody(int http_status, std::string_view code, std::string_view message);
// ErrorBody for a library Status: the code's name ("InvalidArgument") and its HTTP
// status (http_status.h).
ApiResponse ErrorResponse(const Status& s);
// The non-empty segments of a decoded path: "/api/label/projects/7/" → api, label,
// projects, 7. What every module's path dispatch starts from.
std::vector<std::string> PathSegments(std::string_view path);

// 405 with an Allow header listing the methods the path takes.
ApiResponse MethodNotAllowed(const std::string& message, const char* allow);

// AWS JSON 1.1 error: {"__type": TYPE, "message": MESSAGE} with the
// x-amzn-ErrorType header, which botocore reads into ClientError.Error.Code.
ApiResponse AwsJsonError(int http_status, std::string_view aws_type, std::string_view message);
inline constexpr const char* kAmzJson = "application/x-amz-json-1.1";

}  // namespace sagebox::http
