// request.h: the header-level pieces of authentication, with no HTTP library, so the
// HTTP layer only moves strings in and out: the bearer token of an Authorization
// header, the session id of a Cookie header, and the Set-Cookie value for a session.
//
// The session cookie is `sagebox_session`: HttpOnly (scripts cannot read it, so an XSS
// cannot steal it), SameSite=Strict (browsers do not send it on cross-site requests,
// the first line against CSRF; the per-session CSRF token is the second), Path=/, and
// Secure when the server is reached over HTTPS.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sagebox::auth {

inline constexpr std::string_view kSessionCookieName = "sagebox_session";
// The header a browser sends its CSRF token in on every non-GET request.
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The token of `Authorization: Bearer <token>` (the header's value is passed). The
// scheme is matched in any case (RFC 9110 §11.1); spaces and tabs around and between
// are allowed; the token is one run of RFC 6750 token68 characters
// (A-Z a-z 0-9 - . _ ~ + / and trailing '='). nullopt for another scheme, an empty
// or missing token, or anything after the token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// The value of the `sagebox_session` cookie in a Cookie header ("a=1; sagebox_session=X").
// Pairs are split on ';' with optional whitespace; names match exactly (cookie names
// are case-sensitive); a value in double quotes is unquoted (RFC 6265 §4.1.1). When the
// cookie appears more than once (e.g. set for two paths) the first non-empty one wins,
// as browsers list the most specific path first. nullopt when absent or empty.
std::optional<std::string> SessionIdFromCookie(std::string_view cookie_header);

// The Set-Cookie value that stores `session_id` for `max_age_seconds`:
// "sagebox_session=ID; Path=/; Max-Age=N; HttpOnly; SameSite=Strict[; Secure]".
// session_id must be cookie-safe (the ids UserStore issues are base64url).
std::string SessionCookie(std::string_view session_id, int64_t max_age_seconds, bool secure);
// The Set-Cookie value that makes the browser forget the session (logout).
std::string ClearSessionCookie(bool secure);

}  // namespace sagebox::auth
