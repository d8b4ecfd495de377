#include "http/authenticator.h"

#include <strings.h>

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

StatusOr<Principal> ChainAuthenticator::Token(std::string_view token) {
  Status last = Unauthenticated("unknown token");
  for (auto& s : sources_) {
    auto p = s->Token(token);
    if (p.ok()) return p;
    // A source that failed (database down) must not read as "wrong token".
    if (p.status().code() != StatusCode::kUnauthenticated) last = p.status();
  }
  return last;
}

StatusOr<SessionInfo> ChainAuthenticator::Session(std::string_view session_id) {
  Status last = Unauthenticated("unknown session");
  for (auto& s : sources_) {
    auto p = s->Session(session_id);
    if (p.ok()) return p;
    if (p.status().code() != StatusCode::kUnauthenticated) last = p.status();
  }
  return last;
}

StatusOr<NewSession> ChainAuthenticator::Login(std::string_view name, std::string_view password) {
  Status last = Unauthenticated("wrong user name or password");
  for (auto& s : sources_) {
    auto p = s->Login(name, password);
    if (p.ok()) return p;
    if (p.status().code() != StatusCode::kUnimplemented &&
        p.status().code() != StatusCode::kUnauthenticated) {
      last = p.status();
    }
  }
  return last;
}

Status ChainAuthenticator::Logout(std::string_view session_id) {
  for (auto& s : sources_) RETURN_IF_ERROR(s->Logout(session_id));
  return Status::Ok();
}

StatusOr<KeySecret> ChainAuthenticator::AccessKey(std::string_view access_key_id) {
  Status last = NotFound("unknown access key");
  for (auto& s : sources_) {
    auto k = s->AccessKey(access_key_id);
    if (k.ok()) return k;
    if (k.status().code() != StatusCode::kNotFound) last = k.status();
  }
  return last;
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
