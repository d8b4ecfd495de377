#include "retrieval/remote/opensearch_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/base64.h"
#include "core/env.h"

namespace sagebox::retrieval::remote {

namespace {

using Json = nlohmann::json;
constexpr char kProvider[] = "opensearch";

// BadInput "opensearch: METHOD <url>: reply: <what>" (provider_http.h's ReplyError
// wording, with the method: not every call here is a POST).
Status ReplyBad(const std::string& method, const std::string& url, const std::string& what) {
  return BadInput(fmt::format("{}: {} {}: reply: {}", kProvider, method, url, what));
}

}  // namespace

StatusOr<ClientOptions> ClientOptionsFromFlags(const std::string& url, const std::string& auth,
                                               GetEnvFn getenv) {
  if (getenv == nullptr) {
    // Read once at start-up by the CLI, before any thread that could setenv.
    getenv = [](const char* name) -> const char* {
      return std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    };
  }
  ClientOptions o;
  o.url = url;
  RETURN_IF_ERROR(ParseProviderUrl(url, "--opensearch").status());
  const char* user = getenv(kUserEnv);
  std::string mode = auth;
  if (mode.empty()) mode = user != nullptr && *user != '\0' ? "basic" : "none";
  if (mode == "none") return o;
  if (mode == "basic") {
    if (user == nullptr || *user == '\0') {
      return InvalidArgument(fmt::format(
          "--opensearch-auth basic: set {} to \"user:password\" (the cluster's user)", kUserEnv));
    }
    const std::string_view up(user);
    const size_t colon = up.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(
          fmt::format("{}: expected \"user:password\", found no ':' in it", kUserEnv));
    }
    o.auth.kind = OpenSearchAuth::Kind::kBasic;
    o.auth.user = std::string(up.substr(0, colon));
    o.auth.password = std::string(up.substr(colon + 1));
    return o;
  }
  if (mode == "sigv4" || mode.starts_with("sigv4:")) {
    auto aws = AwsConfigFromEnvironment(getenv);
    if (!aws.ok()) return aws.status().WithContext("--opensearch-auth " + mode);
    o.auth.kind = OpenSearchAuth::Kind::kSigV4;
    o.auth.key = {aws->access_key_id, aws->secret_access_key, aws->session_token};
    o.auth.region = aws->region;
    if (mode.size() > 6) o.auth.service = mode.substr(6);
    if (o.auth.service.empty()) {
      return InvalidArgument("--opensearch-auth " + mode + ": empty service after \"sigv4:\"");
    }
    return o;
  }
  return InvalidArgument("--opensearch-auth \"" + auth +
                         "\": expected none, basic (user:password from $" + kUserEnv +
                         "), sigv4 or sigv4:SERVICE (AWS_* variables; service es by default)");
}

Status ValidateRemoteIndexName(std::string_view name) {
  const bool ok_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
  if (name.empty() || name.size() > 255 || !ok_chars || name.front() == '_' ||
      name.front() == '-' || name.front() == '.') {
    return InvalidArgument(
        fmt::format("OpenSearch index name \"{}\": expected 1 to 255 of a-z 0-9 _ . - (lower "
                    "case, as OpenSearch requires), not starting with _ - or .",
                    name));
  }
  return Status::Ok();
}

std::string BulkBody(const std::string& index, const std::vector<BulkDoc>& docs) {
  std::string out;
  for (const BulkDoc& d : docs) {
    out += Json{{"index", {{"_index", index}, {"_id", d.id}}}}.dump();
    out += '\n';
    // Replace, not throw, on invalid UTF-8: the parsers check text, but a
    // metadata value could still carry a stray byte.
    out += d.source.dump(-1, ' ', false, Json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

StatusOr<BulkResult> ParseBulkReply(const std::string& body, size_t sent) {
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return BadInput("_bulk reply: not a JSON object");
  auto items = j.find("items");
  if (items == j.end() || !items->is_array()) return BadInput("_bulk reply: no \"items\" array");
  if (items->size() != sent) {
    return BadInput(fmt::format("_bulk reply: {} items for {} actions", items->size(), sent));
  }
  BulkResult r;
  r.items = items->size();
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    // {"index": {...}} (or "create", "update", "delete": one key, the action).
    if (!item.is_object() || item.size() != 1 || !item.begin()->is_object()) {
      return BadInput(fmt::format("_bulk reply: item {} is not {{\"<action>\": {{...}}}}", i));
    }
    const Json& v = *item.begin();
    auto status = v.find("status");
    if (status == v.end() || !status->is_number_integer()) {
      return BadInput(fmt::format("_bulk reply: item {} has no integer \"status\"", i));
    }
    const int code = status->get<int>();
    if (code >= 200 && code <= 299) continue;
    ++r.failed;
    if (r.failures.size() >= kMaxReportedFailures) continue;
    BulkFailure f;
    f.item = i;
    f.id = v.value("_id", std::string());
    f.status = code;
    if (auto e = v.find("error"); e != v.end()) {
      if (e->is_object()) {
        f.type = e->value("type", std::string());
        f.reason = e->value("reason", std::string());
      } else if (e->is_string()) {
        f.reason = e->get<std::string>();
      }
    }
    r.failures.push_back(std::move(f));
  }
  return r;
}

std::string DescribeFailures(const BulkResult& r) {
  std::string s = fmt::format("{} of {} documents failed", r.failed, r.items);
  for (size_t i = 0; i < r.failures.size(); ++i) {
    const BulkFailure& f = r.failures[i];
    s += fmt::format("{} item {} (_id {}): HTTP {}", i == 0 ? ":" : ";", f.item, f.id, f.status);
    if (!f.type.empty()) s += " " + f.type;
    if (!f.reason.empty()) s += ": " + f.reason;
  }
  if (r.failed > r.failures.size()) s += fmt::format("; and {} more", r.failed - r.failures.size());
  return s;
}

StatusOr<OpenSearchClient> OpenSearchClient::Create(ClientOptions options) {
  ASSIGN_OR_RETURN(ProviderUrl u, ParseProviderUrl(options.url, "--opensearch"));
  return OpenSearchClient(std::move(options), std::move(u));
}

StatusOr<HttpReply> OpenSearchClient::Call(const std::string& method, const std::string& path,
                                           const std::string& body,
                                           const std::string& content_type) const {
  const std::string full_path = url_.path + path;
  http::SigV4Request req;
  req.method = method;
  req.target = full_path;
  req.body = body;
  req.headers = {{"Host", url_.HostHeader()}, {"Accept", "application/json"}};
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  switch (options_.auth.kind) {
    case OpenSearchAuth::Kind::kNone:
      break;
    case OpenSearchAuth::Kind::kBasic:
      req.headers.emplace_back("Authorization", "Basic " + Base64Encode(options_.auth.user + ":" +
                                                                        options_.auth.password));
      break;
    case OpenSearchAuth::Kind::kSigV4:
      // The payload hash as a header too: OpenSearch Serverless requires it, and
      // opensearch-py's AWSV4SignerAuth sends it to both services.
      req.headers.emplace_back("X-Amz-Content-Sha256", http::Sha256Hex(body));
      http::SignSigV4(&req, options_.auth.key, options_.auth.region, options_.auth.service,
                      Env::Default()->Now());
      break;
  }
  return Send(kProvider, method, url_, full_path, req.headers, body, options_.timeouts);
}

Status OpenSearchClient::Error(const std::string& method, const std::string& path,
                               const HttpReply& r) const {
  return HttpError(kProvider, method, url_.Origin() + url_.path + path, r);
}

StatusOr<std::optional<nlohmann::json>> OpenSearchClient::GetIndex(const std::string& index) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  const std::string path = "/" + index;
  ASSIGN_OR_RETURN(HttpReply r, Call("GET", path, "", ""));
  if (r.status == 404) return std::optional<Json>();
  if (r.status < 200 || r.status > 299) return Error("GET", path, r);
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains(index) || !j[index].is_object()) {
    return ReplyBad("GET", url_.Origin() + url_.path + path,
                    "no object for index \"" + index + "\"");
  }
  return std::optional<Json>(std::move(j[index]));
}

Status OpenSearchClient::CreateIndex(const std::string& index, const nlohmann::json& body) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  const std::string path = "/" + index;
  ASSIGN_OR_RETURN(HttpReply r, Call("PUT", path, body.dump(), "application/json"));
  if (r.status >= 200 && r.status <= 299) return Status::Ok();
  const Json j = Json::parse(r.body, nullptr, false);
  if (r.status == 400 && j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].value("type", std::string()) == "resource_already_exists_exception") {
    return AlreadyExists(fmt::format("{}: index \"{}\" already exists", url(), index));
  }
  return Error("PUT", path, r);
}

StatusOr<BulkResult> OpenSearchClient::Bulk(const std::string& index,
                                            const std::vector<BulkDoc>& docs) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  if (docs.empty()) return BulkResult{};
  // OpenSearch's documented content type for _bulk is NDJSON.
  ASSIGN_OR_RETURN(HttpReply r,
                   Call("POST", "/_bulk", BulkBody(index, docs), "application/x-ndjson"));
  if (r.status < 200 || r.status > 299) return Error("POST", "/_bulk", r);
  auto parsed = ParseBulkReply(r.body, docs.size());
  if (!parsed.ok()) return parsed.status().WithContext(fmt::format("{}/_bulk", url()));
  return parsed;
}

Status OpenSearchClient::Refresh(const std::string& index) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  const std::string path = "/" + index + "/_refresh";
  ASSIGN_OR_RETURN(HttpReply r, Call("POST", path, "", ""));
  if (r.status < 200 || r.status > 299) return Error("POST", path, r);
  return Status::Ok();
}

StatusOr<int64_t> OpenSearchClient::Count(const std::string& index) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  const std::string path = "/" + index + "/_count";
  ASSIGN_OR_RETURN(HttpReply r, Call("GET", path, "", ""));
  if (r.status < 200 || r.status > 299) return Error("GET", path, r);
  const Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("count") ||
      !j["count"].is_number_integer()) {
    return ReplyBad("GET", url_.Origin() + url_.path + path, "no integer \"count\"");
  }
  return j["count"].get<int64_t>();
}

StatusOr<nlohmann::json> OpenSearchClient::Search(const std::string& index,
                                                  const nlohmann::json& body) const {
  RETURN_IF_ERROR(ValidateRemoteIndexName(index));
  const std::string path = "/" + index + "/_search";
  ASSIGN_OR_RETURN(HttpReply r, Call("POST", path, body.dump(), "application/json"));
  if (r.status < 200 || r.status > 299) return Error("POST", path, r);
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("hits") || !j["hits"].is_object() ||
      !j["hits"].contains("hits") || !j["hits"]["hits"].is_array()) {
    return ReplyBad("POST", url_.Origin() + url_.path + path, "no hits.hits array");
  }
  return j;
}

}  // namespace sagebox::retrieval::remote
