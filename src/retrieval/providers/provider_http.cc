#include "retrieval/providers/provider_http.h"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace sagebox::retrieval {
namespace {

int DefaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// The message a provider put in its error body, or "" when it has none we know.
std::string BodyMessage(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  // OpenAI (and vLLM, llama.cpp, Ollama's compatible API): {"error": {"message": ...}}.
  if (auto e = j.find("error"); e != j.end()) {
    if (e->is_object()) {
      if (auto m = e->find("message"); m != e->end() && m->is_string())
        return m->get<std::string>();
      // OpenSearch (and Elasticsearch): {"error": {"type": ..., "reason": ...}, "status": N}.
      if (auto r = e->find("reason"); r != e->end() && r->is_string()) {
        auto t = e->find("type");
        return t != e->end() && t->is_string()
                   ? t->get<std::string>() + ": " + r->get<std::string>()
                   : r->get<std::string>();
      }
    }
    if (e->is_string()) return e->get<std::string>();
  }
  // AWS JSON errors ("message" or SageMaker Runtime's "Message"), FastAPI's "detail".
  for (const char* key : {"message", "Message", "detail"}) {
    if (auto m = j.find(key); m != j.end() && m->is_string()) return m->get<std::string>();
  }
  return "";
}

// httplib's error names are terse ("Read"); say what happened.
std::string Describe(httplib::Error e, const HttpTimeouts& t) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return fmt::format("no connection within {} ms", t.connect.count());
    case httplib::Error::Read:
      return fmt::format("no complete reply (timed out after {} ms, or the connection closed)",
                         t.read.count());
    case httplib::Error::Write:
      return "could not send the request";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return "TLS failed (" + httplib::to_string(e) + ")";
    default:
      return httplib::to_string(e);
  }
}

}  // namespace

std::string ProviderUrl::Origin() const { return scheme + "://" + HostHeader(); }

std::string ProviderUrl::HostHeader() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  // fmt, not "[" + host + "]": GCC 12 at -O3 reports a false -Wrestrict on
  // `"literal" + std::string&&` (GCC bug 105329), which -Werror makes fatal.
  std::string h = ipv6 ? fmt::format("[{}]", host) : host;
  if (port != DefaultPort(scheme)) h += fmt::format(":{}", port);
  return h;
}

StatusOr<ProviderUrl> ParseProviderUrl(const std::string& url, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(
        fmt::format("{}: {:?}: {} (expected http(s)://host[:port][/path])", what, url, why));
  };
  ProviderUrl u;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return bad("no scheme");
  u.scheme = AsciiLower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("the scheme is not http or https");
  const std::string rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string::npos) return bad("a query or fragment");
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (authority.find('@') != std::string::npos) return bad("user info is not supported");
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return bad("an unclosed '['");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("junk after ']'");
      port_text = authority.substr(close + 2);
      if (port_text.empty()) return bad("an empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("an empty port");
    }
  }
  if (u.host.empty()) return bad("no host");
  u.port = DefaultPort(u.scheme);
  if (!port_text.empty()) {
    int p = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || p < 1 || p > 65535) {
      return bad("the port is not a number in 1..65535");
    }
    u.port = p;
  }
  return u;
}

StatusOr<HttpReply> Post(const std::string& provider, const ProviderUrl& url,
                         const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, const HttpTimeouts& timeouts) {
  return Send(provider, "POST", url, path, headers, body, timeouts);
}

StatusOr<HttpReply> Send(const std::string& provider, const std::string& method,
                         const ProviderUrl& url, const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& body, const HttpTimeouts& timeouts) {
  const std::string full = url.Origin() + path;
  if (method != "GET" && method != "HEAD" && method != "PUT" && method != "POST" &&
      method != "DELETE") {
    return InvalidArgument(
        fmt::format("{}: {} {}: the method is not one of GET, HEAD, PUT, "
                    "POST, DELETE",
                    provider, method, full));
  }
  httplib::Client cli(url.Origin());
  if (!cli.is_valid()) {
    return InvalidArgument(
        fmt::format("{}: {} {}: this URL cannot be used", provider, method, full));
  }
  cli.set_connection_timeout(timeouts.connect);
  cli.set_read_timeout(timeouts.read);
  cli.set_write_timeout(timeouts.read);
  cli.set_follow_location(false);
  // httplib adds Content-Type from its own argument; pass it there so the
  // header goes out once, exactly as it was signed.
  httplib::Headers h;
  std::string content_type;
  for (const auto& [name, value] : headers) {
    if (AsciiLower(name) == "content-type") {
      content_type = value;
    } else {
      h.emplace(name, value);
    }
  }
  httplib::Result res = [&] {
    if (method == "GET") return cli.Get(path, h);
    if (method == "HEAD") return cli.Head(path, h);
    if (method == "PUT") return cli.Put(path, h, body, content_type);
    if (method == "DELETE") return cli.Delete(path, h, body, content_type);
    return cli.Post(path, h, body, content_type);
  }();
  if (!res) {
    return IoError(
        fmt::format("{}: {} {}: {}", provider, method, full, Describe(res.error(), timeouts)));
  }
  HttpReply r;
  r.status = res->status;
  r.body = std::move(res->body);
  r.content_type = res->get_header_value("Content-Type");
  return r;
}

Status HttpError(const std::string& provider, const std::string& url, const HttpReply& reply) {
  return HttpError(provider, "POST", url, reply);
}

Status HttpError(const std::string& provider, const std::string& method, const std::string& url,
                 const HttpReply& reply) {
  std::string detail = BodyMessage(reply.body);
  if (detail.empty()) {
    detail = reply.body.size() > 300 ? reply.body.substr(0, 300) + "..." : reply.body;
  }
  std::string msg =
      fmt::format("{}: {} {}: HTTP {}: {:?}", provider, method, url, reply.status, detail);
  switch (reply.status) {
    case 400:
    case 422:
      return InvalidArgument(std::move(msg));
    case 401:
      return Unauthenticated(std::move(msg));
    case 403:
      return PermissionDenied(std::move(msg));
    case 404:
      return NotFound(std::move(msg));
    case 413:
    case 429:
      return ResourceExhausted(std::move(msg));
    default:
      return IoError(std::move(msg));
  }
}

Status ReplyError(const std::string& provider, const std::string& url, const std::string& what) {
  return BadInput(fmt::format("{}: POST {}: reply: {}", provider, url, what));
}

}  // namespace sagebox::retrieval
