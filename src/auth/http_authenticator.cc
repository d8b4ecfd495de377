#include "auth/http_authenticator.h"

namespace sagebox::auth {

namespace {

http::Principal ToHttp(const Principal& p, const char* via) {
  return http::Principal{p.name, std::string(RoleName(p.role)), via, false};
}

}  // namespace

bool UserAuthenticator::Required() {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now >= next_check_ns_.load(std::memory_order_acquire)) {
    // Whoever gets the lock refreshes; the others use the answer they have.
    std::unique_lock<std::mutex> lock(refresh_mu_, std::try_to_lock);
    if (lock.owns_lock() && now >= next_check_ns_.load(std::memory_order_acquire)) {
      auto users = users_->ListUsers();
      // A database that cannot answer must not open the server: fail closed.
      any_user_.store(!users.ok() || !users->empty(), std::memory_order_release);
      next_check_ns_.store(now + int64_t{2'000'000'000}, std::memory_order_release);
    }
  }
  return any_user_.load(std::memory_order_acquire);
}

StatusOr<http::Principal> UserAuthenticator::Token(std::string_view token) {
  ASSIGN_OR_RETURN(Principal p, users_->AuthenticateToken(token));
  return ToHttp(p, "token");
}

StatusOr<http::SessionInfo> UserAuthenticator::Session(std::string_view session_id) {
  ASSIGN_OR_RETURN(auth::Session s, users_->AuthenticateSession(session_id));
  return http::SessionInfo{ToHttp(s.principal, "session"), s.csrf_token};
}

StatusOr<http::NewSession> UserAuthenticator::Login(std::string_view name,
                                                    std::string_view password) {
  ASSIGN_OR_RETURN(auth::Session s, users_->Login(name, password));
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t max_age = std::max<int64_t>(0, (s.expires_us - now_us) / 1000000);
  return http::NewSession{s.id, s.csrf_token, max_age, ToHttp(s.principal, "session")};
}

Status UserAuthenticator::Logout(std::string_view session_id) { return users_->Logout(session_id); }

StatusOr<http::KeySecret> UserAuthenticator::AccessKey(std::string_view access_key_id) {
  ASSIGN_OR_RETURN(AccessKeySecret k, users_->LookupSecret(access_key_id));
  return http::KeySecret{k.secret_access_key, ToHttp(k.principal, "sigv4")};
}

}  // namespace sagebox::auth
