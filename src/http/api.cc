#include "http/api.h"

#include <strings.h>

#include "http/http_status.h"

namespace sagebox::http {

namespace {

using nlohmann::json;

// Status code names as the API spells them ("InvalidArgument").
const char* CodeName(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return "Ok";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kBadInput:
      return "BadInput";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kIoError:
      return "IoError";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kUnimplemented:
      return "Unimplemented";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kUnauthenticated:
      return "Unauthenticated";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kPermissionDenied:
      return "PermissionDenied";
  }
  return "Internal";
}

std::string Dump(const json& j) {
  // Library strings (billing text, user input echoed back) may hold invalid
  // UTF-8; replace it rather than throw while serializing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string ApiRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

std::string ApiRequest::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

ApiResponse JsonResponse(const json& j, int status) {
  ApiResponse r;
  r.status = status;
  r.body = Dump(j);
  return r;
}

ApiResponse ErrorBody(int http_status, std::string_view code, std::string_view message) {
  return JsonResponse({{"error", {{"code", code}, {"message", message}}}}, http_status);
}

ApiResponse ErrorResponse(const Status& s) {
  return ErrorBody(HttpStatusOf(s.code()), CodeName(s.code()), s.message());
}

ApiResponse MethodNotAllowed(const std::string& message, const char* allow) {
  ApiResponse r = ErrorBody(405, "InvalidArgument", message);
  r.headers.emplace_back("Allow", allow);
  return r;
}

ApiResponse AwsJsonError(int http_status, std::string_view aws_type, std::string_view message) {
  ApiResponse r = JsonResponse({{"__type", aws_type}, {"message", message}}, http_status);
  r.content_type = kAmzJson;
  r.headers.emplace_back("x-amzn-ErrorType", std::string(aws_type));
  return r;
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace sagebox::http
