// `sagebox users`: accounts, roles, API tokens and access keys (src/auth).
//
// The command is a thin client of auth::UserStore: it opens the database through
// the caller's `open_db` (so --data/--database are decided in one place), applies
// the auth schema, and asks for the master key only when access keys are involved
// (so `users list` never creates <data>/master.key as a side effect).
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/user_store.h"
#include "cli/cli.h"
#include "cli/platform.h"
#include "core/table.h"
#include "core/time.h"
#include "db/database.h"

namespace sagebox::cli {

using OpenDb = std::function<StatusOr<std::unique_ptr<db::Database>>()>;
using MasterKeyFn = std::function<StatusOr<std::string>()>;

namespace {

struct UsersFlags {
  std::string name, role = "user", format, profile;
  bool password_stdin = false;
};

// The database (migrated) and a store over it; the store refers to the database, so
// both live together.
struct Opened {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<auth::UserStore> store;
};

StatusOr<Opened> OpenStore(const OpenDb& open_db, const MasterKeyFn* master_key) {
  Opened o;
  ASSIGN_OR_RETURN(o.db, open_db());
  auto migrations = auth::Migrations();
  RETURN_IF_ERROR(db::Migrate(*o.db, migrations));
  std::string key;
  if (master_key) {
    ASSIGN_OR_RETURN(key, (*master_key)());
  }
  ASSIGN_OR_RETURN(o.store, auth::UserStore::Open(*o.db, std::move(key)));
  return o;
}

std::string Timestamp(int64_t us) { return FormatTimestamp(us / 1000000); }

// The password from stdin, without the line end `echo` or a here-string adds.
std::string ReadPasswordFromStdin() {
  std::string pw{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

int RunAdd(const OpenDb& open_db, const UsersFlags& f) {
  auto role = auth::ParseRole(f.role);
  if (!role)
    return Fail(InvalidArgument("--role must be admin, user or viewer, not '" + f.role + "'"));
  std::optional<std::string> password;
  if (f.password_stdin) password = ReadPasswordFromStdin();
  auto o = OpenStore(open_db, nullptr);
  if (!o.ok()) return Fail(o.status());
  if (Status s = o->store->AddUser(f.name, *role, password); !s.ok()) return Fail(s);
  (void)std::fprintf(stderr, "added user %s (%s)%s\n", f.name.c_str(), f.role.c_str(),
                     password ? "" : "; no password: give one with --password-stdin to log in");
  return 0;
}

int RunList(const OpenDb& open_db, const UsersFlags& f) {
  std::string fmt = f.format.empty() ? (::isatty(STDOUT_FILENO) == 1 ? "table" : "csv") : f.format;
  if (fmt != "table" && fmt != "csv" && fmt != "json") {
    return Fail(InvalidArgument("--format must be table, csv or json"));
  }
  auto o = OpenStore(open_db, nullptr);
  if (!o.ok()) return Fail(o.status());
  auto users = o->store->ListUsers();
  if (!users.ok()) return Fail(users.status());
  if (fmt == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : *users) {
      out.push_back({{"name", u.name},
                     {"role", auth::RoleName(u.role)},
                     {"password", u.has_password},
                     {"disabled", u.disabled},
                     {"tokens", u.tokens},
                     {"access_keys", u.access_keys},
                     {"created", Timestamp(u.created_us)}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  TextTable t({"NAME", "ROLE", "PASSWORD", "TOKENS", "ACCESS_KEYS", "CREATED"},
              {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kLeft,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kLeft});
  for (const auto& u : *users) {
    t.AddRow({u.name, std::string(auth::RoleName(u.role)), u.has_password ? "yes" : "no",
              std::to_string(u.tokens), std::to_string(u.access_keys), Timestamp(u.created_us)});
  }
  std::cout << (fmt == "csv" ? t.RenderCsv() : t.Render()) << std::flush;
  return 0;
}

int RunRemove(const OpenDb& open_db, const UsersFlags& f) {
  auto o = OpenStore(open_db, nullptr);
  if (!o.ok()) return Fail(o.status());
  if (Status s = o->store->RemoveUser(f.name); !s.ok()) return Fail(s);
  (void)std::fprintf(stderr, "removed user %s with their tokens, access keys and sessions\n",
                     f.name.c_str());
  return 0;
}

int RunToken(const OpenDb& open_db, const UsersFlags& f) {
  auto o = OpenStore(open_db, nullptr);
  if (!o.ok()) return Fail(o.status());
  auto token = o->store->IssueToken(f.name);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n" << std::flush;
  (void)std::fprintf(stderr,
                     "API token for %s: shown this once (sagebox keeps only its hash).\n"
                     "Send it as the header  Authorization: Bearer <token>\n",
                     f.name.c_str());
  return 0;
}

int RunKeys(const OpenDb& open_db, const MasterKeyFn& master_key, const UsersFlags& f) {
  auto o = OpenStore(open_db, &master_key);
  if (!o.ok()) return Fail(o.status());
  auto key = o->store->IssueAccessKey(f.name);
  if (!key.ok()) return Fail(key.status());
  std::string profile = f.profile.empty() ? "sagebox-" + f.name : f.profile;
  // A leading blank line keeps the section apart when appended to a file whose last
  // line has no line end.
  std::cout << "\n[" << profile << "]\naws_access_key_id = " << key->access_key_id
            << "\naws_secret_access_key = " << key->secret_access_key << "\n"
            << std::flush;
  (void)std::fprintf(stderr,
                     "access key %s for %s: the secret is shown this once.\n"
                     "Append it to ~/.aws/credentials and call sagebox with\n"
                     "  aws --profile %s --endpoint-url http://127.0.0.1:8080 ...\n",
                     key->access_key_id.c_str(), f.name.c_str(), profile.c_str());
  return 0;
}

void AddUsersCommandWith(CLI::App& app, OpenDb open_db, MasterKeyFn master_key, int* exit_code) {
  auto* users = app.add_subcommand(
      "users",
      "Users, roles, API tokens and access keys.\n"
      "Roles: viewer reads; user reads and changes its own work; admin does everything,\n"
      "including managing users.\n"
      "\n"
      "Examples:\n"
      "  sagebox users add alice --role admin --password-stdin <<< 'correct horse battery'\n"
      "  sagebox users list --format json\n"
      "  sagebox users token ci-bot              # prints an API token once\n"
      "  sagebox users keys alice >> ~/.aws/credentials\n"
      "  sagebox users remove bob");
  users->require_subcommand(1);
  auto f = std::make_shared<UsersFlags>();
  auto db = std::make_shared<OpenDb>(std::move(open_db));
  auto key = std::make_shared<MasterKeyFn>(std::move(master_key));

  auto* add = users->add_subcommand(
      "add",
      "Adds a user.\n"
      "  sagebox users add alice --role admin --password-stdin < password.txt\n"
      "  sagebox users add ci-bot --role user     # no password: tokens and keys only");
  add->add_option("NAME", f->name, "User name: 1-64 of a-z 0-9 . _ - (starting a-z or 0-9)")
      ->required();
  add->add_option("--role", f->role, "admin, user or viewer")->capture_default_str();
  add->add_flag("--password-stdin", f->password_stdin,
                "Read the login password (8 to 1024 bytes) from stdin");
  add->callback([f, db, exit_code] { *exit_code = RunAdd(*db, *f); });

  auto* list = users->add_subcommand("list",
                                     "Lists users with their role and credential counts.\n"
                                     "  sagebox users list --format json");
  list->add_option("--format", f->format,
                   "table, csv or json (default: table on a terminal, else csv)");
  list->callback([f, db, exit_code] { *exit_code = RunList(*db, *f); });

  auto* remove =
      users->add_subcommand("remove",
                            "Removes a user with their API tokens, access keys and sessions.\n"
                            "  sagebox users remove bob");
  remove->add_option("NAME", f->name, "User name")->required();
  remove->callback([f, db, exit_code] { *exit_code = RunRemove(*db, *f); });

  auto* token = users->add_subcommand(
      "token",
      "Issues an API token and prints it once on stdout (only its hash is kept).\n"
      "  TOKEN=$(sagebox users token ci-bot)\n"
      "  curl -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8080/api/whoami");
  token->add_option("NAME", f->name, "User name")->required();
  token->callback([f, db, exit_code] { *exit_code = RunToken(*db, *f); });

  auto* keys = users->add_subcommand(
      "keys",
      "Issues an access key pair for SigV4 clients (boto3, the AWS CLI) and prints it in\n"
      "the AWS credentials-file form, once. The secret is kept encrypted under the master\n"
      "key (<data>/master.key or $SAGEBOX_MASTER_KEY).\n"
      "  sagebox users keys alice >> ~/.aws/credentials\n"
      "  aws --profile sagebox-alice --endpoint-url http://127.0.0.1:8080 ce get-cost-and-usage "
      "...");
  keys->add_option("NAME", f->name, "User name")->required();
  keys->add_option("--profile", f->profile, "Profile section name (default: sagebox-NAME)");
  keys->callback([f, db, key, exit_code] { *exit_code = RunKeys(*db, *key, *f); });
}

}  // namespace

void AddUsersCommand(CLI::App& app, Globals& g, int* exit_code) {
  // The lambdas read `g` when a command runs, after every flag is parsed.
  AddUsersCommandWith(
      app, [&g] { return OpenDatabase(g); }, [&g] { return MasterKey(g); }, exit_code);
}

}  // namespace sagebox::cli
