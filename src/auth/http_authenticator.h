// http_authenticator.h: the users of the database as the HTTP server's
// Authenticator (http/authenticator.h).
//
// The server decides policy (which route takes which credential, CSRF, roles);
// this adapter only answers from auth::UserStore: whose token, whose session,
// whose access key. The server is "secured" as soon as one user exists: until
// then a loopback server stays open, as sagebox was before it had users.
// Whether users exist is re-read at most every two seconds, so a user added by
// `sagebox users add` while the server runs takes effect almost at once, even on
// another server sharing the same PostgreSQL database.
//
// Thread-safety: safe for concurrent calls (UserStore is; the cached answer is
// atomic and one caller at a time refreshes it, so the hot path takes no lock).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "auth/user_store.h"
#include "http/authenticator.h"

namespace sagebox::auth {

class UserAuthenticator : public http::Authenticator {
 public:
  // `users` must outlive this object.
  explicit UserAuthenticator(UserStore* users) : users_(users) {}

  bool Required() override;
  StatusOr<http::Principal> Token(std::string_view token) override;
  StatusOr<http::SessionInfo> Session(std::string_view session_id) override;
  StatusOr<http::NewSession> Login(std::string_view name, std::string_view password) override;
  Status Logout(std::string_view session_id) override;
  StatusOr<http::KeySecret> AccessKey(std::string_view access_key_id) override;

 private:
  UserStore* users_;
  std::atomic<int64_t> next_check_ns_{0};  // steady clock; 0 = never checked
  std::atomic<bool> any_user_{true};       // fail closed until the first check
  std::mutex refresh_mu_;                  // one refresher at a time
};

}  // namespace sagebox::auth
