#include "auth/user_store.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "auth/secrets.h"
#include "core/testing/temp_dir.h"
#include "db/testing/backends.h"

namespace sagebox::auth {
namespace {

constexpr int64_t kStart = int64_t{1700000000} * 1000000;  // 2023-11-14, in microseconds
constexpr int64_t kHour = int64_t{3600} * 1000000;

// Runs every test on SQLite in a temp dir, and on PostgreSQL in a schema of its own
// (db/testing/backends.h: skipped without the test server, unless $CI is set).
class UserStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = "sqlite:" + dir_.Path("sagebox.db");
    if (GetParam() == "postgres") {
      pg_.Create();
      if (pg_.url().empty()) return;  // skipped (or failed, in CI)
      url = pg_.url();
    }
    auto db = db::Database::Open(url);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto migrations = Migrations();
    Status ms = db::Migrate(*db_, migrations);
    ASSERT_TRUE(ms.ok()) << ms.ToString();
    key_ = RandomBytes(kMasterKeySize);
    store_ = OpenStore(key_);
  }

  void TearDown() override {
    store_.reset();
    db_.reset();  // before pg_ drops the schema
  }

  std::unique_ptr<UserStore> OpenStore(const std::string& key) {
    UserStore::Options opt;
    // The cheapest argon2id libsodium allows: the tests check logic, not cost.
    opt.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    opt.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    opt.session_ttl_us = kHour;
    opt.now_us = [this] { return now_.load(); };
    auto s = UserStore::Open(*db_, key, opt);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  int64_t Count(const std::string& table) {
    auto r = db_->Query("SELECT COUNT(*) FROM " + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  // Every byte the SQLite database has on disk (main file, WAL, journal).
  std::string RawDatabaseBytes() {
    std::string all;
    auto names = Env::Default()->ListDir(dir_.path());
    EXPECT_TRUE(names.ok());
    for (const auto& n : names.ok() ? *names : std::vector<std::string>{}) {
      std::string bytes;
      EXPECT_TRUE(Env::Default()->ReadFileToString(dir_.Path(n), &bytes).ok());
      all += bytes;
    }
    return all;
  }

  testing::TempDir dir_{"auth"};
  db::testing::PostgresSchema pg_;
  std::unique_ptr<db::Database> db_;
  std::string key_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<UserStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, UserStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST_P(UserStoreTest, AddListRemove) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kAdmin, std::string("correct horse")).ok());
  ASSERT_TRUE(store_->AddUser("bob.smith-2", Role::kViewer).ok());
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[0].role, Role::kAdmin);
  EXPECT_TRUE((*users)[0].has_password);
  EXPECT_EQ((*users)[0].created_us, kStart);
  EXPECT_EQ((*users)[1].name, "bob.smith-2");
  EXPECT_EQ((*users)[1].role, Role::kViewer);
  EXPECT_FALSE((*users)[1].has_password);

  ASSERT_TRUE(store_->RemoveUser("alice").ok());
  EXPECT_EQ(store_->RemoveUser("alice").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUser("alice").status().code(), StatusCode::kNotFound);
  users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].name, "bob.smith-2");
}

TEST_P(UserStoreTest, DuplicateNameIsAlreadyExists) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser).ok());
  Status again = store_->AddUser("alice", Role::kAdmin);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.message().find("alice"), std::string::npos);
  EXPECT_EQ(store_->GetUser("alice")->role, Role::kUser);  // the first one is untouched
}

TEST_P(UserStoreTest, BadNamesPasswordsAndRolesAreInvalidArgument) {
  for (std::string_view name :
       {"", "Alice", "-alice", ".x", "_x", "a b", "a/b", "ünï", "a;DROP TABLE users"}) {
    EXPECT_EQ(store_->AddUser(name, Role::kUser).code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(store_->AddUser(std::string(64, 'a'), Role::kUser).ok());
  EXPECT_EQ(store_->AddUser(std::string(65, 'a'), Role::kUser).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->AddUser("carol", Role::kUser, std::string("short")).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetUser("carol").status().code(), StatusCode::kNotFound);
  // The database refuses a role outside the three even from raw SQL.
  Status raw = db_->Exec(
      "INSERT INTO users (name, role, created_us, disabled) VALUES ('mallory', 'root', 0, 0)");
  EXPECT_EQ(raw.code(), StatusCode::kInvalidArgument) << raw.ToString();
  EXPECT_EQ(ParseRole("superuser"), std::nullopt);
}

TEST_P(UserStoreTest, TokenAuthenticatesAndAlteredTokensDoNot) {
  ASSERT_TRUE(store_->AddUser("ci-bot", Role::kUser).ok());
  auto token = store_->IssueToken("ci-bot");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->rfind("sbx_", 0), 0u);
  EXPECT_EQ(token->size(), 47u);
  auto who = store_->AuthenticateToken(*token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "ci-bot");
  EXPECT_EQ(who->role, Role::kUser);

  std::string altered = *token;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {altered, token->substr(0, 46), *token + "A", std::string(""),
                                 "Bearer " + *token, "sbx_" + std::string(43, 'A')}) {
    EXPECT_EQ(store_->AuthenticateToken(bad).status().code(), StatusCode::kUnauthenticated) << bad;
  }
  EXPECT_EQ(store_->IssueToken("nobody").status().code(), StatusCode::kNotFound);
}

TEST_P(UserStoreTest, TokensAreListedByPrefixRecordLastUseAndRevoke) {
  ASSERT_TRUE(store_->AddUser("ci-bot", Role::kUser).ok());
  auto t1 = store_->IssueToken("ci-bot");
  auto t2 = store_->IssueToken("ci-bot");
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_NE(*t1, *t2);
  now_ += kHour;
  ASSERT_TRUE(store_->AuthenticateToken(*t1).ok());
  auto tokens = store_->ListTokens("ci-bot");
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].prefix, t1->substr(0, 12));
  EXPECT_EQ((*tokens)[0].created_us, kStart);
  EXPECT_EQ((*tokens)[0].last_used_us, kStart + kHour);
  EXPECT_EQ((*tokens)[1].last_used_us, std::nullopt);
  EXPECT_EQ(store_->GetUser("ci-bot")->tokens, 2);

  ASSERT_TRUE(store_->RevokeToken("ci-bot", (*tokens)[0].id).ok());
  EXPECT_EQ(store_->AuthenticateToken(*t1).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->AuthenticateToken(*t2).ok());
  EXPECT_EQ(store_->RevokeToken("ci-bot", (*tokens)[0].id).code(), StatusCode::kNotFound);
  // Another user cannot revoke ci-bot's token by guessing its id.
  ASSERT_TRUE(store_->AddUser("eve", Role::kUser).ok());
  EXPECT_EQ(store_->RevokeToken("eve", (*tokens)[1].id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->AuthenticateToken(*t2).ok());
}

TEST_P(UserStoreTest, SecretsAreNotStoredInPlaintext) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "scans the SQLite file";
  ASSERT_TRUE(store_->AddUser("alice", Role::kAdmin, std::string("hunter2-password")).ok());
  auto token = store_->IssueToken("alice");
  auto key = store_->IssueAccessKey("alice");
  auto session = store_->Login("alice", "hunter2-password");
  ASSERT_TRUE(token.ok() && key.ok() && session.ok());
  std::string raw = RawDatabaseBytes();
  ASSERT_NE(raw.find("alice"), std::string::npos);  // the scan does see the data
  ASSERT_NE(raw.find(key->access_key_id), std::string::npos);
  EXPECT_NE(raw.find(Sha256Hex(*token)), std::string::npos);  // stored as its hash
  EXPECT_EQ(raw.find(*token), std::string::npos);
  EXPECT_EQ(raw.find(token->substr(12)), std::string::npos);  // not even the hidden part
  EXPECT_EQ(raw.find(key->secret_access_key), std::string::npos);
  EXPECT_EQ(raw.find(session->id), std::string::npos);
  EXPECT_EQ(raw.find("hunter2-password"), std::string::npos);
  EXPECT_NE(raw.find("$argon2id$"), std::string::npos);
}

TEST_P(UserStoreTest, AccessKeySecretDecryptsOnlyWithTheMasterKey) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser).ok());
  auto key = store_->IssueAccessKey("alice");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->access_key_id.size(), 20u);
  EXPECT_EQ(key->access_key_id.rfind("SBXA", 0), 0u);
  EXPECT_EQ(key->access_key_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
            std::string::npos);
  EXPECT_EQ(key->secret_access_key.size(), 40u);

  auto found = store_->LookupSecret(key->access_key_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->secret_access_key, key->secret_access_key);
  EXPECT_EQ(found->principal.name, "alice");
  EXPECT_EQ(found->principal.role, Role::kUser);

  auto other = OpenStore(RandomBytes(kMasterKeySize));
  auto wrong = other->LookupSecret(key->access_key_id);
  EXPECT_EQ(wrong.status().code(), StatusCode::kInternal) << wrong.status().ToString();
  auto keyless = OpenStore("");
  EXPECT_EQ(keyless->LookupSecret(key->access_key_id).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(keyless->IssueAccessKey("alice").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UserStore::Open(*db_, "31 bytes is not a master key...").status().code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(store_->LookupSecret("SBXAUNKNOWN000000000").status().code(), StatusCode::kNotFound);
  auto keys = store_->ListAccessKeys("alice");
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].access_key_id, key->access_key_id);
  ASSERT_TRUE(store_->RevokeAccessKey(key->access_key_id).ok());
  EXPECT_EQ(store_->LookupSecret(key->access_key_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->RevokeAccessKey(key->access_key_id).code(), StatusCode::kNotFound);
}

TEST_P(UserStoreTest, RemovingAUserEndsTheirTokensKeysAndSessions) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser, std::string("password-1")).ok());
  ASSERT_TRUE(store_->AddUser("bob", Role::kUser, std::string("password-2")).ok());
  auto token = store_->IssueToken("alice");
  auto key = store_->IssueAccessKey("alice");
  auto session = store_->Login("alice", "password-1");
  auto bob_token = store_->IssueToken("bob");
  auto bob_session = store_->Login("bob", "password-2");
  ASSERT_TRUE(token.ok() && key.ok() && session.ok() && bob_token.ok() && bob_session.ok());
  EXPECT_EQ(Count("api_tokens"), 2);
  EXPECT_EQ(Count("sessions"), 2);

  ASSERT_TRUE(store_->RemoveUser("alice").ok());
  EXPECT_EQ(store_->AuthenticateToken(*token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->LookupSecret(key->access_key_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AuthenticateSession(session->id).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Count("api_tokens"), 1);
  EXPECT_EQ(Count("access_keys"), 0);
  EXPECT_EQ(Count("sessions"), 1);
  // A new alice does not inherit anything of the old one.
  ASSERT_TRUE(store_->AddUser("alice", Role::kAdmin).ok());
  EXPECT_EQ(store_->AuthenticateToken(*token).status().code(), StatusCode::kUnauthenticated);
  // Bob is untouched.
  EXPECT_TRUE(store_->AuthenticateToken(*bob_token).ok());
  EXPECT_TRUE(store_->AuthenticateSession(bob_session->id).ok());
}

TEST_P(UserStoreTest, LoginChecksThePassword) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kAdmin, std::string("correct horse")).ok());
  ASSERT_TRUE(store_->AddUser("nopass", Role::kUser).ok());
  auto s = store_->Login("alice", "correct horse");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->principal.name, "alice");
  EXPECT_EQ(s->principal.role, Role::kAdmin);
  EXPECT_EQ(s->expires_us, kStart + kHour);
  EXPECT_EQ(s->id.size(), 43u);
  EXPECT_EQ(s->csrf_token.size(), 43u);
  EXPECT_NE(s->id, s->csrf_token);

  auto again = store_->AuthenticateSession(s->id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->principal, s->principal);
  EXPECT_EQ(again->csrf_token, s->csrf_token);
  EXPECT_EQ(again->expires_us, s->expires_us);

  struct Bad {
    std::string_view name, password;
  };
  for (Bad b : {Bad{"alice", "wrong horse"}, Bad{"alice", ""}, Bad{"alice", "correct horse "},
                Bad{"Alice", "correct horse"}, Bad{"nobody", "correct horse"}, Bad{"nopass", ""},
                Bad{"nopass", "anything-at-all"}, Bad{"", ""}}) {
    auto r = store_->Login(b.name, b.password);
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << b.name << " / " << b.password;
  }
  EXPECT_EQ(Count("sessions"), 1);
}

TEST_P(UserStoreTest, SessionsExpireLogOutAndEndWithAPasswordChange) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser, std::string("password-1")).ok());
  auto s = store_->Login("alice", "password-1");
  ASSERT_TRUE(s.ok());
  now_ += kHour - 1;
  EXPECT_TRUE(store_->AuthenticateSession(s->id).ok());
  now_ += 1;
  EXPECT_EQ(store_->AuthenticateSession(s->id).status().code(), StatusCode::kUnauthenticated);
  auto purged = store_->PurgeExpiredSessions();
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Count("sessions"), 0);

  auto s2 = store_->Login("alice", "password-1");
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(store_->Logout(s2->id).ok());
  EXPECT_EQ(store_->AuthenticateSession(s2->id).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->Logout(s2->id).ok());  // idempotent

  auto s3 = store_->Login("alice", "password-1");
  ASSERT_TRUE(s3.ok());
  ASSERT_TRUE(store_->SetPassword("alice", std::string("password-2")).ok());
  EXPECT_EQ(store_->AuthenticateSession(s3->id).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->Login("alice", "password-1").status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(store_->Login("alice", "password-2").ok());
  ASSERT_TRUE(store_->SetPassword("alice", std::nullopt).ok());
  EXPECT_EQ(store_->Login("alice", "password-2").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->SetPassword("nobody", std::string("password-3")).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->AuthenticateSession("").status().code(), StatusCode::kUnauthenticated);
}

TEST_P(UserStoreTest, LoginUpgradesAHashMadeWithWeakerLimits) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser, std::string("password-1")).ok());
  auto before = db_->Query("SELECT password_hash FROM users WHERE name = 'alice'");
  ASSERT_TRUE(before.ok());
  UserStore::Options opt;
  opt.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN + 1;
  opt.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
  opt.now_us = [this] { return now_.load(); };
  auto stronger = UserStore::Open(*db_, key_, opt);
  ASSERT_TRUE(stronger.ok());
  ASSERT_TRUE((*stronger)->Login("alice", "password-1").ok());
  auto after = db_->Query("SELECT password_hash FROM users WHERE name = 'alice'");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(before->Text(0, 0), after->Text(0, 0));
  EXPECT_NE(after->Text(0, 0).find("t=2"), std::string::npos) << after->Text(0, 0);
  EXPECT_TRUE(store_->Login("alice", "password-1").ok());
}

TEST_P(UserStoreTest, DisabledUsersCannotAuthenticate) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kUser, std::string("password-1")).ok());
  auto token = store_->IssueToken("alice");
  auto key = store_->IssueAccessKey("alice");
  ASSERT_TRUE(token.ok() && key.ok());
  ASSERT_TRUE(db_->Exec("UPDATE users SET disabled = 1 WHERE name = 'alice'").ok());
  EXPECT_EQ(store_->AuthenticateToken(*token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->LookupSecret(key->access_key_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Login("alice", "password-1").status().code(), StatusCode::kUnauthenticated);
}

TEST_P(UserStoreTest, SetRoleChangesWhatTheTokenCarries) {
  ASSERT_TRUE(store_->AddUser("alice", Role::kViewer).ok());
  auto token = store_->IssueToken("alice");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(store_->SetRole("alice", Role::kAdmin).ok());
  EXPECT_EQ(store_->AuthenticateToken(*token)->role, Role::kAdmin);
  EXPECT_EQ(store_->SetRole("nobody", Role::kAdmin).code(), StatusCode::kNotFound);
}

TEST(CsrfTest, OnlyTheSessionsTokenPasses) {
  Session s;
  s.csrf_token = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  EXPECT_TRUE(CheckCsrf(s, s.csrf_token).ok());
  EXPECT_EQ(CheckCsrf(s, "").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCsrf(s, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFH").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCsrf(s, s.csrf_token + "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckCsrf(s, s.csrf_token.substr(1)).code(), StatusCode::kPermissionDenied);
  Session none;  // a session without a token never passes, even an empty header
  EXPECT_EQ(CheckCsrf(none, "").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace sagebox::auth
