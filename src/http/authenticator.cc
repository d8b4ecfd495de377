#include "http/authenticator.h"

#include <strings.h>

#include <algorithm>
#include <initializer_list>

namespace sagebox::http {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Principal Admin(std::string name, std::string via) {
  return Principal{std::move(name), "admin", std::move(via), false};
}

}  // namespace

StatusOr<Principal> CredentialsAuthenticator::Token(std::string_view token) {
  if (!token_.empty() && ConstantTimeEquals(token, token_)) {
    return Admin("dashboard", "credentials-file");
  }
  return Unauthenticated("unknown token");
}

StatusOr<SessionInfo> CredentialsAuthenticator::Session(std::string_view) {
  return Unauthenticated("unknown session");
}

StatusOr<NewSession> CredentialsAuthenticator::Login(std::string_view, std::string_view) {
  return Unimplemented("the credentials file has no passwords");
}

Status CredentialsAuthenticator::Logout(std::string_view) { return Status::Ok(); }

StatusOr<KeySecret> CredentialsAuthenticator::AccessKey(std::string_view access_key_id) {
  auto it = creds_.secret_by_access_key.find(std::string(access_key_id));
  if (it == creds_.secret_by_access_key.end()) return NotFound("unknown access key");
  return KeySecret{it->second, Admin(std::string(access_key_id), "credentials-file")};
}

bool ChainAuthenticator::Required() {
  for (auto& s : sources_) {
    if (s->Required()) return true;
  }
  return false;
}

namespace {

// The first source's answer that is not "I do not know this": `unknown`
// codes move on to the next source; any other failure (a database that is
// down) is remembered, so it is not reported as a wrong credential.
template <typename T, typename Call>
StatusOr<T> FirstKnown(std::vector<std::unique_ptr<Authenticator>>& sources, Call call,
                       std::initializer_list<StatusCode> unknown, Status none) {
  Status last = std::move(none);
  for (auto& s : sources) {
    StatusOr<T> r = call(*s);
    if (r.ok()) return r;
    if (std::find(unknown.begin(), unknown.end(), r.status().code()) == unknown.end()) {
      last = r.status();
    }
  }
  return last;
}

}  // namespace

StatusOr<Principal> ChainAuthenticator::Token(std::string_view token) {
  return FirstKnown<Principal>(
      sources_, [&](Authenticator& a) { return a.Token(token); }, {StatusCode::kUnauthenticated},
      Unauthenticated("unknown token"));
}

StatusOr<SessionInfo> ChainAuthenticator::Session(std::string_view session_id) {
  return FirstKnown<SessionInfo>(
      sources_, [&](Authenticator& a) { return a.Session(session_id); },
      {StatusCode::kUnauthenticated}, Unauthenticated("unknown session"));
}

StatusOr<NewSession> ChainAuthenticator::Login(std::string_view name, std::string_view password) {
  return FirstKnown<NewSession>(
      sources_, [&](Authenticator& a) { return a.Login(name, password); },
      {StatusCode::kUnauthenticated, StatusCode::kUnimplemented},
      Unauthenticated("wrong user name or password"));
}

Status ChainAuthenticator::Logout(std::string_view session_id) {
  for (auto& s : sources_) RETURN_IF_ERROR(s->Logout(session_id));
  return Status::Ok();
}

StatusOr<KeySecret> ChainAuthenticator::AccessKey(std::string_view access_key_id) {
  return FirstKnown<KeySecret>(
      sources_, [&](Authenticator& a) { return a.AccessKey(access_key_id); },
      {StatusCode::kNotFound}, NotFound("unknown access key"));
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    std::string_view v = Trim(pair.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return "";
}

std::string BearerToken(std::string_view h) {
  h = Trim(h);
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size() || ::strncasecmp(h.data(), kScheme.data(), kScheme.size()) != 0 ||
      (h[kScheme.size()] != ' ' && h[kScheme.size()] != '\t')) {
    return "";
  }
  return std::string(Trim(h.substr(kScheme.size())));
}

}  // namespace sagebox::http
