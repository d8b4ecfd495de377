#include "auth/request.h"

#include "core/strings.h"

namespace sagebox::auth {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsToken68Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

}  // namespace

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  std::string_view s = Trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (s.size() <= kScheme.size() || !EqualsIgnoreCase(s.substr(0, kScheme.size()), kScheme) ||
      !IsSpace(s[kScheme.size()])) {
    return std::nullopt;
  }
  std::string_view token = Trim(s.substr(kScheme.size()));
  size_t i = 0;
  while (i < token.size() && IsToken68Char(token[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < token.size() && token[i] == '=') ++i;
  if (i != token.size()) return std::nullopt;
  return token;
}

std::optional<std::string> SessionIdFromCookie(std::string_view cookie_header) {
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = Trim(cookie_header.substr(0, semi));
    cookie_header =
        semi == std::string_view::npos ? std::string_view() : cookie_header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != kSessionCookieName) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!value.empty()) return std::string(value);
  }
  return std::nullopt;
}

std::string SessionCookie(std::string_view session_id, int64_t max_age_seconds, bool secure) {
  std::string out(kSessionCookieName);
  out += '=';
  out += session_id;
  out += "; Path=/; Max-Age=" + std::to_string(max_age_seconds) + "; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

std::string ClearSessionCookie(bool secure) { return SessionCookie("", 0, secure); }

}  // namespace sagebox::auth
