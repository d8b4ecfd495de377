#include "auth/user_store.h"

#include <sodium.h>

#include <chrono>
#include <cstring>
#include <utility>

#include "auth/secrets.h"

namespace sagebox::auth {

namespace {

constexpr std::string_view kTokenPrefix = "sbx_";
constexpr size_t kTokenRandomBytes = 32;
// "sbx_" + 43 characters of unpadded base64url for 32 bytes.
constexpr size_t kTokenLength = 4 + 43;
constexpr size_t kTokenShownPrefix = 12;  // "sbx_" and 8 characters: enough to tell tokens apart
constexpr std::string_view kAccessKeyPrefix = "SBXA";
constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 1024;
// last_used_us is a convenience for `users` listings, not an audit log: refreshing it
// at most once a minute keeps an API client's every request from being a write.
constexpr int64_t kLastUsedResolutionUs = int64_t{60} * 1000000;
constexpr std::string_view kBadCredentials = "wrong user name, password or token";

// Parameters for one statement.
template <typename... A>
std::vector<db::Value> P(A&&... a) {
  return {db::Value(std::forward<A>(a))...};
}

db::Value Text(std::string_view s) { return db::Value(std::string(s)); }

db::Value OptText(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}

StatusOr<Role> RoleAt(const db::Result& r, size_t row, size_t col) {
  auto role = ParseRole(r.Text(row, col));
  if (!role) return Corruption("users table holds an unknown role '" + r.Text(row, col) + "'");
  return *role;
}

// Principal from the columns user_id, name, role starting at `col`.
StatusOr<Principal> PrincipalAt(const db::Result& r, size_t row, size_t col) {
  ASSIGN_OR_RETURN(Role role, RoleAt(r, row, col + 2));
  return Principal{r.Int(row, col), r.Text(row, col + 1), role};
}

Status ValidatePassword(const std::string& password) {
  if (password.size() < kMinPassword || password.size() > kMaxPassword) {
    return InvalidArgument("a password has " + std::to_string(kMinPassword) + " to " +
                           std::to_string(kMaxPassword) + " bytes");
  }
  return Status::Ok();
}

// Maps an insert's AlreadyExists to a message about `what`, keeping other errors.
Status Named(Status st, const std::string& what) {
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExists(what + " already exists");
  return st;
}

}  // namespace

std::vector<db::Migration> Migrations() {
  // api_tokens.token_hash is a plain SHA-256, not argon2id: tokens are 256 random bits,
  // so nobody can guess one from its hash and a slow hash would only slow every API call.
  // sessions.id_hash likewise. access_keys.secret_sealed is encrypted, not hashed, because
  // SigV4 needs the plaintext secret (see secrets.h). csrf_token is stored as it is: it is
  // worthless without the session cookie, and the page must be given it back.
  return {
      {"auth", 1, "users, api tokens, access keys, sessions",
       "CREATE TABLE users (\n"
       "  id {{id}},\n"
       "  name TEXT NOT NULL UNIQUE,\n"
       "  role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'viewer')),\n"
       "  password_hash TEXT,\n"
       "  created_us BIGINT NOT NULL,\n"
       "  disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))\n"
       ");\n"
       "CREATE TABLE api_tokens (\n"
       "  id {{id}},\n"
       "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
       "  token_hash TEXT NOT NULL UNIQUE,\n"
       "  prefix TEXT NOT NULL,\n"
       "  created_us BIGINT NOT NULL,\n"
       "  last_used_us BIGINT\n"
       ");\n"
       "CREATE INDEX api_tokens_user ON api_tokens (user_id);\n"
       "CREATE TABLE access_keys (\n"
       "  access_key_id TEXT PRIMARY KEY,\n"
       "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
       "  secret_sealed {{blob}} NOT NULL,\n"
       "  created_us BIGINT NOT NULL\n"
       ");\n"
       "CREATE INDEX access_keys_user ON access_keys (user_id);\n"
       "CREATE TABLE sessions (\n"
       "  id_hash TEXT PRIMARY KEY,\n"
       "  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
       "  csrf_token TEXT NOT NULL,\n"
       "  created_us BIGINT NOT NULL,\n"
       "  expires_us BIGINT NOT NULL\n"
       ");\n"
       "CREATE INDEX sessions_user ON sessions (user_id);\n"
       "CREATE INDEX sessions_expiry ON sessions (expires_us)"},
  };
}

Status ValidateUserName(std::string_view name) {
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !name.empty() && name.size() <= 64 && lower_alnum(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = lower_alnum(c) || c == '.' || c == '_' || c == '-';
  }
  if (ok) return Status::Ok();
  return InvalidArgument("user name '" + std::string(name.substr(0, 80)) +
                         "' is not 1 to 64 of a-z 0-9 . _ - starting with a letter or digit");
}

UserStore::Options::Options()
    : pwhash_opslimit(crypto_pwhash_OPSLIMIT_INTERACTIVE),
      pwhash_memlimit(crypto_pwhash_MEMLIMIT_INTERACTIVE) {}

UserStore::UserStore(db::Database& db, std::string master_key, Options options)
    : db_(db), master_key_(std::move(master_key)), options_(std::move(options)) {}

UserStore::~UserStore() { sodium_memzero(master_key_.data(), master_key_.size()); }

StatusOr<std::unique_ptr<UserStore>> UserStore::Open(db::Database& db, std::string master_key,
                                                     Options options) {
  RETURN_IF_ERROR(InitSodium());
  if (!master_key.empty() && master_key.size() != kMasterKeySize) {
    return InvalidArgument("the master key must be 32 bytes, not " +
                           std::to_string(master_key.size()));
  }
  if (!options.now_us) {
    options.now_us = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  return std::unique_ptr<UserStore>(new UserStore(db, std::move(master_key), std::move(options)));
}

int64_t UserStore::Now() const { return options_.now_us(); }

Status UserStore::RequireMasterKey() const {
  if (master_key_.empty()) {
    return InvalidArgument(
        "access keys need the master key (<data>/master.key or "
        "$SAGEBOX_MASTER_KEY)");
  }
  return Status::Ok();
}

StatusOr<std::string> UserStore::HashPassword(std::string_view password) const {
  std::string out(crypto_pwhash_STRBYTES, '\0');
  if (crypto_pwhash_str(out.data(), password.data(), password.size(), options_.pwhash_opslimit,
                        options_.pwhash_memlimit) != 0) {
    return ResourceExhausted("not enough memory to hash the password");
  }
  out.resize(std::strlen(out.c_str()));
  return out;
}

const std::string& UserStore::DummyHash() const {
  std::call_once(dummy_once_, [this] {
    auto h = HashPassword(Base64UrlEncode(RandomBytes(16)));
    // Without memory for the dummy, an unknown user fails fast; that reveals only that
    // the server is out of memory.
    if (h.ok()) dummy_hash_ = std::move(h).value();
  });
  return dummy_hash_;
}

StatusOr<int64_t> UserStore::UserId(db::Transaction& tx, std::string_view name) const {
  ASSIGN_OR_RETURN(db::Result r, tx.Query("SELECT id FROM users WHERE name = ?", P(Text(name))));
  if (r.empty()) return NotFound("no user named '" + std::string(name) + "'");
  return r.Int(0, 0);
}

Status UserStore::AddUser(std::string_view name, Role role,
                          const std::optional<std::string>& password) {
  RETURN_IF_ERROR(ValidateUserName(name));
  std::optional<std::string> hash;
  if (password) {
    RETURN_IF_ERROR(ValidatePassword(*password));
    ASSIGN_OR_RETURN(hash, HashPassword(*password));
  }
  int64_t now = Now();
  return Named(db_.InTransaction([&](db::Transaction& tx) {
    return tx.Exec(
        "INSERT INTO users (name, role, password_hash, created_us, disabled) "
        "VALUES (?, ?, ?, ?, 0)",
        P(Text(name), Text(RoleName(role)), OptText(hash), now));
  }),
               "user '" + std::string(name) + "'");
}

StatusOr<std::vector<UserInfo>> UserStore::ListUsers() {
  ASSIGN_OR_RETURN(
      db::Result r,
      db_.Query("SELECT u.id, u.name, u.role,"
                " CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END, u.disabled, u.created_us,"
                " (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id),"
                " (SELECT COUNT(*) FROM access_keys k WHERE k.user_id = u.id)"
                " FROM users u ORDER BY u.name"));
  std::vector<UserInfo> users;
  users.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(Role role, RoleAt(r, i, 2));
    users.push_back(UserInfo{r.Int(i, 0), r.Text(i, 1), role, r.Int(i, 3) != 0, r.Int(i, 4) != 0,
                             r.Int(i, 5), r.Int(i, 6), r.Int(i, 7)});
  }
  return users;
}

StatusOr<UserInfo> UserStore::GetUser(std::string_view name) {
  // The user list is small (people, not data); filtering it keeps one query to maintain.
  ASSIGN_OR_RETURN(std::vector<UserInfo> users, ListUsers());
  for (auto& u : users) {
    if (u.name == name) return std::move(u);
  }
  return NotFound("no user named '" + std::string(name) + "'");
}

Status UserStore::RemoveUser(std::string_view name) {
  return db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    // ON DELETE CASCADE removes the user's tokens, access keys and sessions.
    return tx.Exec("DELETE FROM users WHERE id = ?", P(id));
  });
}

Status UserStore::SetPassword(std::string_view name, const std::optional<std::string>& password) {
  std::optional<std::string> hash;
  if (password) {
    RETURN_IF_ERROR(ValidatePassword(*password));
    ASSIGN_OR_RETURN(hash, HashPassword(*password));
  }
  return db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    RETURN_IF_ERROR(
        tx.Exec("UPDATE users SET password_hash = ? WHERE id = ?", P(OptText(hash), id)));
    // A changed password ends every session started with the old one.
    return tx.Exec("DELETE FROM sessions WHERE user_id = ?", P(id));
  });
}

Status UserStore::SetRole(std::string_view name, Role role) {
  return db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    return tx.Exec("UPDATE users SET role = ? WHERE id = ?", P(Text(RoleName(role)), id));
  });
}

StatusOr<std::string> UserStore::IssueToken(std::string_view name) {
  std::string token = std::string(kTokenPrefix) + Base64UrlEncode(RandomBytes(kTokenRandomBytes));
  int64_t now = Now();
  RETURN_IF_ERROR(db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    return tx.Exec(
        "INSERT INTO api_tokens (user_id, token_hash, prefix, created_us) VALUES (?, ?, ?, ?)",
        P(id, Sha256Hex(token), token.substr(0, kTokenShownPrefix), now));
  }));
  return token;
}

StatusOr<db::Result> UserStore::QueryForUser(std::string_view name, std::string_view sql) {
  db::Result out;
  RETURN_IF_ERROR(db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    ASSIGN_OR_RETURN(out, tx.Query(sql, P(id)));
    return Status::Ok();
  }));
  return out;
}

StatusOr<std::vector<TokenInfo>> UserStore::ListTokens(std::string_view name) {
  ASSIGN_OR_RETURN(db::Result r, QueryForUser(name,
                                              "SELECT id, prefix, created_us, last_used_us "
                                              "FROM api_tokens WHERE user_id = ? ORDER BY id"));
  std::vector<TokenInfo> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back(TokenInfo{r.Int(i, 0), r.Text(i, 1), r.Int(i, 2), r.OptInt(i, 3)});
  }
  return out;
}

Status UserStore::RevokeToken(std::string_view name, int64_t token_id) {
  return db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    ASSIGN_OR_RETURN(db::Result r, tx.Query("DELETE FROM api_tokens WHERE id = ? AND user_id = ? "
                                            "RETURNING id",
                                            P(token_id, id)));
    if (r.empty()) {
      return NotFound("user '" + std::string(name) + "' has no token " + std::to_string(token_id));
    }
    return Status::Ok();
  });
}

StatusOr<Principal> UserStore::AuthenticateToken(std::string_view token) {
  if (token.size() != kTokenLength || token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return Unauthenticated(std::string(kBadCredentials));
  }
  // The lookup is by hash: the database compares hashes, never the token itself, so
  // its index timing says nothing about the token.
  ASSIGN_OR_RETURN(db::Result r,
                   db_.Query("SELECT u.id, u.name, u.role, u.disabled, t.id, t.last_used_us "
                             "FROM api_tokens t JOIN users u ON u.id = t.user_id "
                             "WHERE t.token_hash = ?",
                             P(Sha256Hex(token))));
  if (r.empty() || r.Int(0, 3) != 0) return Unauthenticated(std::string(kBadCredentials));
  ASSIGN_OR_RETURN(Principal who, PrincipalAt(r, 0, 0));
  int64_t now = Now();
  std::optional<int64_t> last = r.OptInt(0, 5);
  if (!last || now - *last >= kLastUsedResolutionUs) {
    // Best effort: a busy database must not turn a valid token away.
    (void)db_.InTransaction([&](db::Transaction& tx) {
      return tx.Exec("UPDATE api_tokens SET last_used_us = ? WHERE id = ?", P(now, r.Int(0, 4)));
    });
  }
  return who;
}

StatusOr<AccessKey> UserStore::IssueAccessKey(std::string_view name) {
  RETURN_IF_ERROR(RequireMasterKey());
  AccessKey key;
  key.access_key_id = std::string(kAccessKeyPrefix) + RandomString(16, kUpperAlnum);
  // 30 random bytes are exactly 40 base64 characters, the length of an AWS secret key.
  key.secret_access_key = Base64Encode(RandomBytes(30));
  ASSIGN_OR_RETURN(std::string sealed, SealSecret(master_key_, "access_key:" + key.access_key_id,
                                                  key.secret_access_key));
  int64_t now = Now();
  RETURN_IF_ERROR(db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(int64_t id, UserId(tx, name));
    return Named(tx.Exec("INSERT INTO access_keys (access_key_id, user_id, secret_sealed, "
                         "created_us) VALUES (?, ?, ?, ?)",
                         P(key.access_key_id, id, db::Blob{sealed}, now)),
                 "access key " + key.access_key_id);
  }));
  return key;
}

StatusOr<std::vector<AccessKeyInfo>> UserStore::ListAccessKeys(std::string_view name) {
  ASSIGN_OR_RETURN(db::Result r,
                   QueryForUser(name,
                                "SELECT access_key_id, created_us FROM access_keys "
                                "WHERE user_id = ? ORDER BY created_us, access_key_id"));
  std::vector<AccessKeyInfo> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(AccessKeyInfo{r.Text(i, 0), r.Int(i, 1)});
  return out;
}

Status UserStore::RevokeAccessKey(std::string_view access_key_id) {
  return db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(db::Result r,
                     tx.Query("DELETE FROM access_keys WHERE access_key_id = ? RETURNING user_id",
                              P(Text(access_key_id))));
    if (r.empty()) return NotFound("no access key " + std::string(access_key_id));
    return Status::Ok();
  });
}

StatusOr<AccessKeySecret> UserStore::LookupSecret(std::string_view access_key_id) {
  RETURN_IF_ERROR(RequireMasterKey());
  ASSIGN_OR_RETURN(db::Result r,
                   db_.Query("SELECT u.id, u.name, u.role, u.disabled, k.secret_sealed "
                             "FROM access_keys k JOIN users u ON u.id = k.user_id "
                             "WHERE k.access_key_id = ?",
                             P(Text(access_key_id))));
  if (r.empty() || r.Int(0, 3) != 0) {
    return NotFound("no access key " + std::string(access_key_id));
  }
  ASSIGN_OR_RETURN(Principal who, PrincipalAt(r, 0, 0));
  auto secret = OpenSecret(master_key_, "access_key:" + std::string(access_key_id), r.Bytes(0, 4));
  if (!secret.ok()) {
    return Internal("the secret of access key " + std::string(access_key_id) +
                    " does not decrypt: the master key is not the one it was stored with");
  }
  return AccessKeySecret{std::move(secret).value(), std::move(who)};
}

StatusOr<Session> UserStore::Login(std::string_view name, std::string_view password) {
  std::optional<db::Result> row;
  if (ValidateUserName(name).ok()) {
    ASSIGN_OR_RETURN(row, db_.Query("SELECT id, name, role, disabled, password_hash "
                                    "FROM users WHERE name = ?",
                                    P(Text(name))));
    if (row->empty()) row.reset();
  }
  std::optional<std::string> stored = row ? row->OptText(0, 4) : std::nullopt;
  // Always run one argon2id verification, against a dummy hash when there is nothing
  // to check, so the response time does not say whether the user exists.
  const std::string& hash = stored ? *stored : DummyHash();
  bool verified = !hash.empty() &&
                  crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  if (!row || !stored || !verified || row->Int(0, 3) != 0) {
    return Unauthenticated(std::string(kBadCredentials));
  }
  ASSIGN_OR_RETURN(Principal who, PrincipalAt(*row, 0, 0));
  // A hash made with other limits (they were raised since) is upgraded while the
  // password is at hand.
  std::optional<std::string> rehash;
  if (crypto_pwhash_str_needs_rehash(hash.c_str(), options_.pwhash_opslimit,
                                     options_.pwhash_memlimit) != 0) {
    auto h = HashPassword(password);
    if (h.ok()) rehash = std::move(h).value();
  }
  Session s{Base64UrlEncode(RandomBytes(32)), Base64UrlEncode(RandomBytes(32)), 0, who};
  int64_t now = Now();
  s.expires_us = now + options_.session_ttl_us;
  Status st = db_.InTransaction([&](db::Transaction& tx) -> Status {
    if (rehash) {
      RETURN_IF_ERROR(
          tx.Exec("UPDATE users SET password_hash = ? WHERE id = ?", P(*rehash, who.user_id)));
    }
    // The user's own expired sessions go as a new one comes, so the table stays small
    // without a background sweeper.
    RETURN_IF_ERROR(
        tx.Exec("DELETE FROM sessions WHERE user_id = ? AND expires_us <= ?", P(who.user_id, now)));
    return tx.Exec(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_us, expires_us) "
        "VALUES (?, ?, ?, ?, ?)",
        P(Sha256Hex(s.id), who.user_id, s.csrf_token, now, s.expires_us));
  });
  if (!st.ok()) return st;
  return s;
}

StatusOr<Session> UserStore::AuthenticateSession(std::string_view session_id) {
  if (session_id.empty()) return Unauthenticated("no session");
  ASSIGN_OR_RETURN(db::Result r,
                   db_.Query("SELECT u.id, u.name, u.role, u.disabled, s.csrf_token, s.expires_us "
                             "FROM sessions s JOIN users u ON u.id = s.user_id "
                             "WHERE s.id_hash = ?",
                             P(Sha256Hex(session_id))));
  if (r.empty() || r.Int(0, 3) != 0 || r.Int(0, 5) <= Now()) {
    return Unauthenticated("the session has ended; log in again");
  }
  ASSIGN_OR_RETURN(Principal who, PrincipalAt(r, 0, 0));
  return Session{std::string(session_id), r.Text(0, 4), r.Int(0, 5), std::move(who)};
}

Status UserStore::Logout(std::string_view session_id) {
  return db_.InTransaction([&](db::Transaction& tx) {
    return tx.Exec("DELETE FROM sessions WHERE id_hash = ?", P(Sha256Hex(session_id)));
  });
}

StatusOr<int64_t> UserStore::PurgeExpiredSessions() {
  int64_t n = 0;
  int64_t now = Now();
  RETURN_IF_ERROR(db_.InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(
        db::Result r,
        tx.Query("DELETE FROM sessions WHERE expires_us <= ? RETURNING user_id", P(now)));
    n = static_cast<int64_t>(r.size());
    return Status::Ok();
  }));
  return n;
}

Status CheckCsrf(const Session& session, std::string_view header_value) {
  if (header_value.empty() || session.csrf_token.empty() ||
      !SecretEquals(session.csrf_token, header_value)) {
    return PermissionDenied("missing or wrong X-CSRF-Token header");
  }
  return Status::Ok();
}

}  // namespace sagebox::auth
