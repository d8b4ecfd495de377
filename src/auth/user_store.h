// user_store.h: sagebox's users and their credentials, kept in the relational
// database (component "auth", see Migrations()).
//
// Four kinds of credential, each for one kind of client:
//   - a password (argon2id, libsodium's crypto_pwhash_str), exchanged at the login
//     page for a session: a random id in an HttpOnly cookie plus a CSRF token;
//   - API tokens for scripts and the JSON API (`Authorization: Bearer sbx_…`), shown
//     once when issued and stored only as their SHA-256;
//   - access key pairs for AWS-shaped calls signed with SigV4 (boto3, the AWS CLI),
//     the secret stored encrypted under the master key (see secrets.h for why it can
//     be encrypted but not hashed).
// Every failure to authenticate is Unauthenticated with the same message whichever
// part was wrong, so a caller cannot tell an unknown user from a wrong password.
//
// Every write runs in one database transaction. The clock is injected (Options::now_us)
// so session expiry is testable.
//
// Thread-safety: a UserStore is safe for concurrent use (the Database is; the store's
// own state is immutable after Open except a lazily built dummy hash, guarded by a
// once_flag). Options::now_us must be safe to call from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/roles.h"
#include "core/status.h"
#include "db/database.h"

namespace sagebox::auth {

// The schema of component "auth": tables users, api_tokens, access_keys, sessions.
// Every table that refers to a user has ON DELETE CASCADE, so removing a user removes
// every credential of theirs in the same statement.
std::vector<db::Migration> Migrations();

// A user name: [a-z0-9][a-z0-9._-]{0,63}. InvalidArgument naming the rule otherwise.
Status ValidateUserName(std::string_view name);

struct UserInfo {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  bool has_password = false;
  bool disabled = false;
  int64_t created_us = 0;
  int64_t tokens = 0;       // API tokens issued and not revoked
  int64_t access_keys = 0;  // access key pairs
};

struct TokenInfo {
  int64_t id = 0;
  std::string prefix;  // the first characters of the token, to recognise it in a list
  int64_t created_us = 0;
  std::optional<int64_t> last_used_us;
};

struct AccessKey {
  std::string access_key_id;      // 20 characters: "SBXA" + 16 of [A-Z0-9]
  std::string secret_access_key;  // 40 characters of the base64 alphabet, as AWS's
};

struct AccessKeyInfo {
  std::string access_key_id;
  int64_t created_us = 0;
};

// What SigV4 verification needs for one access key.
struct AccessKeySecret {
  std::string secret_access_key;
  Principal principal;
};

// A logged-in browser. `id` is the cookie value; only its SHA-256 is stored.
struct Session {
  std::string id;
  std::string csrf_token;
  int64_t expires_us = 0;
  Principal principal;
};

class UserStore {
 public:
  struct Options {
    // argon2id cost (crypto_pwhash_str). The defaults are libsodium's INTERACTIVE limits
    // (about 64 MiB and a few tenths of a second); tests lower them to the minimum.
    uint64_t pwhash_opslimit;
    size_t pwhash_memlimit;
    int64_t session_ttl_us = int64_t{12} * 3600 * 1000000;  // 12 hours
    // Microseconds since the Unix epoch; the system clock when empty.
    std::function<int64_t()> now_us;
    Options();
  };

  // A store over `db`, which must outlive it and already have Migrations() applied.
  // `master_key` is the 32-byte key access-key secrets are encrypted under
  // (LoadOrCreateMasterKey); it may be empty when the caller never touches access keys
  // (then IssueAccessKey and LookupSecret fail with InvalidArgument).
  // InvalidArgument for a key of another length; Internal when libsodium cannot start.
  static StatusOr<std::unique_ptr<UserStore>> Open(db::Database& db, std::string master_key,
                                                   Options options = Options());
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // Adds a user. InvalidArgument for a bad name or password (8 to 1024 bytes),
  // AlreadyExists when the name is taken.
  Status AddUser(std::string_view name, Role role,
                 const std::optional<std::string>& password = std::nullopt);
  // Every user, by name.
  StatusOr<std::vector<UserInfo>> ListUsers();
  // NotFound when there is no such user.
  StatusOr<UserInfo> GetUser(std::string_view name);
  // Removes the user and (by cascade) their tokens, access keys and sessions.
  // NotFound when there is no such user.
  Status RemoveUser(std::string_view name);
  // Sets (or with nullopt removes, disabling password login) the password and ends the
  // user's sessions. NotFound / InvalidArgument as AddUser.
  Status SetPassword(std::string_view name, const std::optional<std::string>& password);
  // NotFound when there is no such user.
  Status SetRole(std::string_view name, Role role);

  // A new API token for `name`: "sbx_" + base64url of 32 random bytes. This is the only
  // time the plaintext exists. NotFound when there is no such user.
  StatusOr<std::string> IssueToken(std::string_view name);
  StatusOr<std::vector<TokenInfo>> ListTokens(std::string_view name);
  // NotFound unless `token_id` is a token of `name`.
  Status RevokeToken(std::string_view name, int64_t token_id);
  // Who holds `token`; Unauthenticated for an unknown, revoked or malformed token or a
  // disabled user. Records the token's last use (at most once a minute per token).
  StatusOr<Principal> AuthenticateToken(std::string_view token);

  // A new access key pair for `name`. NotFound when there is no such user;
  // InvalidArgument without a master key.
  StatusOr<AccessKey> IssueAccessKey(std::string_view name);
  StatusOr<std::vector<AccessKeyInfo>> ListAccessKeys(std::string_view name);
  // NotFound when there is no such access key.
  Status RevokeAccessKey(std::string_view access_key_id);
  // The secret and owner of an access key, for SigV4 verification. NotFound for an
  // unknown key or a disabled user; Internal when the stored secret does not decrypt
  // (the master key is not the one it was stored with); InvalidArgument without a
  // master key.
  StatusOr<AccessKeySecret> LookupSecret(std::string_view access_key_id);

  // Checks the password (argon2id) and starts a session. Unauthenticated for an unknown
  // user, a user without a password, a disabled user or a wrong password; each takes
  // about as long as a real check (an unknown user is checked against a dummy hash).
  StatusOr<Session> Login(std::string_view name, std::string_view password);
  // The session whose cookie value is `session_id`; Unauthenticated when unknown,
  // expired or its user is disabled.
  StatusOr<Session> AuthenticateSession(std::string_view session_id);
  // Ends the session. OK also when it had already ended (logout is idempotent).
  Status Logout(std::string_view session_id);
  // Deletes expired sessions; returns how many.
  StatusOr<int64_t> PurgeExpiredSessions();

 private:
  UserStore(db::Database& db, std::string master_key, Options options);
  int64_t Now() const;
  StatusOr<std::string> HashPassword(std::string_view password) const;
  const std::string& DummyHash() const;
  StatusOr<int64_t> UserId(db::Transaction& tx, std::string_view name) const;
  // The rows of `sql`, whose one parameter is the id of user `name`; NotFound without
  // such a user. One transaction, so the user cannot vanish between the two reads.
  StatusOr<db::Result> QueryForUser(std::string_view name, std::string_view sql);
  Status RequireMasterKey() const;

  db::Database& db_;
  std::string master_key_;
  Options options_;
  mutable std::once_flag dummy_once_;
  mutable std::string dummy_hash_;
};

// OK when `header_value` (the X-CSRF-Token header) is the session's CSRF token,
// compared in constant time; PermissionDenied otherwise (also when empty).
Status CheckCsrf(const Session& session, std::string_view header_value);

}  // namespace sagebox::auth
