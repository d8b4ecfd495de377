// label_bench.cc: the label module's quality loop and exports under load
// (bench/RESULTS.md, "Label (issue 15)").
//
// Three measurements, each beside a peer measured in the same run on the same backend:
//   1. the loop, engine level: `--annotators` threads, each a project annotator, loop
//      LabelStore::Next + Submit (a valid ranking) on one project until Next has nothing
//      left. Submissions per second and the p50/p99 latency of one next+submit. Peer, the
//      database's own floor: the same threads run one minimal transaction per "submit"
//      (UPDATE of the thread's own row + INSERT of one row, in InTransaction), as many as
//      the loop submitted. Transaction retries (serialization failures on PostgreSQL,
//      SQLITE_BUSY on SQLite) are counted by a Database wrapper: the times InTransaction
//      ran its function beyond the first.
//   2. the same loop through HTTP: the annotators are threads with a keep-alive
//      cpp-httplib client each, against an in-process http::HttpServer carrying
//      /api/label/ (bearer token = user name, a bench Authenticator).
//   3. exports: a project with `--export` accepted ranking annotations (4 responses each,
//      written by direct multi-row INSERTs in one transaction: the setup, timed apart),
//      LabelStore::Export as preference all-pairs and as gt-manifest, beside RenderExport
//      alone on the same items in memory (engine vs engine + database read + blob write).
//      The exported file must equal the in-memory rendering byte for byte.
// Each runs on SQLite (a file in a fresh temp folder) and, with --postgres URL, on
// PostgreSQL in a fresh schema (dropped afterwards), as src/db/testing/backends.h does.
// Checks (exit status 1 if one fails): every item was submitted exactly once, no call
// failed, exports match their in-memory rendering.
//
//   build/release/label_bench [--postgres URL] [--annotators 50] [--items 3000]
//       [--export 100000] [--export-rounds 3] [--skip-http 1] [--skip-export 1]
// Prints Markdown.
#include <fmt/format.h>
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "db/database.h"
#include "http/authenticator.h"
#include "http/http_server.h"
#include "label/api/routes.h"
#include "label/export.h"
#include "label/project.h"
#include "label/store/label_store.h"

namespace sagebox::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Flags {
  std::string postgres;
  int annotators = 50;
  int items = 3000;
  int export_annotations = 100000;
  int export_rounds = 3;
  bool http = true;
  bool exports = true;
};

StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return InvalidArgument(fmt::format("{}: expected a value", flag));
    const std::string value = argv[++i];
    if (flag == "--postgres") {
      f.postgres = value;
      continue;
    }
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0' || v < 0 || v > 100'000'000) {
      return InvalidArgument(
          fmt::format("{}: expected a non-negative integer, got '{}'", flag, value));
    }
    const int n = static_cast<int>(v);
    if (flag == "--annotators") {
      f.annotators = std::max(n, 1);
    } else if (flag == "--items") {
      f.items = std::max(n, 1);
    } else if (flag == "--export") {
      f.export_annotations = std::max(n, 1);
    } else if (flag == "--export-rounds") {
      f.export_rounds = std::max(n, 1);
    } else if (flag == "--skip-http") {
      f.http = n == 0;
    } else if (flag == "--skip-export") {
      f.exports = n == 0;
    } else {
      return InvalidArgument(fmt::format("unknown flag {}", flag));
    }
  }
  return f;
}

double MicrosSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Percentiles by nearest rank.
struct Dist {
  size_t n = 0;
  double p50 = 0;
  double p99 = 0;
};

Dist Summarize(std::vector<double> us) {
  Dist d;
  d.n = us.size();
  if (us.empty()) return d;
  std::sort(us.begin(), us.end());
  auto rank = [&](double q) {
    const auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::clamp<size_t>(k, 1, us.size()) - 1];
  };
  d.p50 = rank(0.50);
  d.p99 = rank(0.99);
  return d;
}

// ---- databases ----------------------------------------------------------------

// A fresh folder under $TMPDIR (or /tmp), removed with the object.
class TempFolder {
 public:
  TempFolder() {
    const char* base = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): before threads
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/sagebox_label_bench_XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Counts retried transactions: each run of `fn` beyond the first is a retry the backend
// decided on (serialization failure, deadlock, busy database).
class CountingDatabase final : public db::Database {
 public:
  explicit CountingDatabase(db::Database* inner) : inner_(inner) {}
  db::Backend backend() const override { return inner_->backend(); }
  std::string Describe() const override { return inner_->Describe(); }
  StatusOr<db::Result> Query(std::string_view sql, std::span<const db::Value> params) override {
    return inner_->Query(sql, params);
  }
  Status InTransaction(const std::function<Status(db::Transaction&)>& fn) override {
    int runs = 0;
    Status s = inner_->InTransaction([&](db::Transaction& tx) {
      ++runs;
      return fn(tx);
    });
    transactions_.fetch_add(1, std::memory_order_relaxed);
    if (runs > 1) retries_.fetch_add(runs - 1, std::memory_order_relaxed);
    return s;
  }
  int64_t retries() const { return retries_.load(); }
  int64_t transactions() const { return transactions_.load(); }
  void Reset() {
    retries_ = 0;
    transactions_ = 0;
  }

 private:
  db::Database* inner_;
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> transactions_{0};
};

// The bench's own table for the floor, migrated beside the label tables.
const std::vector<db::Migration>& BenchMigrations() {
  static const std::vector<db::Migration> kMigrations = [] {
    std::vector<db::Migration> m(label::Migrations().begin(), label::Migrations().end());
    m.push_back({"label_bench", 1, "the floor's tables",
                 "CREATE TABLE bench_floor_rows (id BIGINT NOT NULL PRIMARY KEY, n BIGINT NOT "
                 "NULL);\n"
                 "CREATE TABLE bench_floor_log (id {{id}}, worker BIGINT NOT NULL, at BIGINT NOT "
                 "NULL)"});
    return m;
  }();
  return kMigrations;
}

// One migrated database on SQLite (a file in `folder`) or PostgreSQL (a fresh schema of
// the server at `pg_url`, dropped by the destructor).
class BenchDatabase {
 public:
  static StatusOr<std::unique_ptr<BenchDatabase>> Open(db::Backend backend,
                                                       const std::string& folder,
                                                       const std::string& pg_url) {
    auto out = std::unique_ptr<BenchDatabase>(new BenchDatabase());
    std::string url;
    if (backend == db::Backend::kSqlite) {
      url = "sqlite:" + JoinPath(folder, "sagebox.db");
    } else {
      ASSIGN_OR_RETURN(out->admin_, db::Database::Open(pg_url));
      out->schema_ = fmt::format("label_bench_{}_{}", ::getpid(),
                                 Clock::now().time_since_epoch().count() % 1000000000);
      RETURN_IF_ERROR(out->admin_->Exec("CREATE SCHEMA " + out->schema_));
      url = pg_url + (pg_url.find('?') == std::string::npos ? "?" : "&") +
            "options=-csearch_path%3D" + out->schema_;
    }
    ASSIGN_OR_RETURN(out->db_, db::Database::Open(url));
    RETURN_IF_ERROR(db::Migrate(*out->db_, BenchMigrations()));
    out->counting_ = std::make_unique<CountingDatabase>(out->db_.get());
    return out;
  }
  ~BenchDatabase() {
    counting_.reset();
    db_.reset();
    if (admin_ != nullptr) {
      Status s = admin_->Exec("DROP SCHEMA " + schema_ + " CASCADE");
      if (!s.ok()) fmt::print(stderr, "dropping schema {}: {}\n", schema_, s.ToString());
    }
  }
  BenchDatabase(const BenchDatabase&) = delete;
  BenchDatabase& operator=(const BenchDatabase&) = delete;

  CountingDatabase* db() { return counting_.get(); }

 private:
  BenchDatabase() = default;
  std::unique_ptr<db::Database> admin_;
  std::string schema_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<CountingDatabase> counting_;
};

std::string_view BackendName(db::Backend b) {
  return b == db::Backend::kSqlite ? "SQLite" : "PostgreSQL";
}

// ---- the project ----------------------------------------------------------------

// The projects' manager (a function: a static std::string could throw before main).
label::Caller Manager() { return {"mia", false}; }
constexpr std::array<std::string_view, 4> kResponseIds = {"r0", "r1", "r2", "r3"};

std::string AnnotatorName(int i) { return fmt::format("ann{:02d}", i); }

json ItemLine(int64_t i) {
  json responses = json::array();
  for (size_t k = 0; k < kResponseIds.size(); ++k) {
    responses.push_back({{"id", kResponseIds[k]},
                         {"text", fmt::format("reply {} to prompt {}: some words of text", k, i)}});
  }
  return {{"source", fmt::format("prompt {}", i)},
          {"prompt", fmt::format("prompt {}: which reply helps most?", i)},
          {"responses", std::move(responses)}};
}

// A valid ranking of `item`'s responses (every one ranked, helpfulness): a rotation of
// the ids by `seed`, so payloads differ between items.
json RankingOf(const json& item, int64_t seed) {
  std::vector<std::string> order;
  for (const auto& r : item.at("responses")) order.push_back(r.at("id").get<std::string>());
  if (!order.empty()) {
    std::rotate(
        order.begin(),
        order.begin() + static_cast<std::ptrdiff_t>(seed % static_cast<int64_t>(order.size())),
        order.end());
  }
  return {{"rankings", {{{"dimension", "helpfulness"}, {"order", order}}}}};
}

// review_rate 0.2: a fifth of the submissions wait for a reviewer, the rest are accepted
// at once (both paths of Submit run).
StatusOr<int64_t> MakeProject(label::LabelStore& store, const std::string& name, int annotators,
                              int batch_size) {
  const json config = {{"kind", "ranking"},
                       {"overlap", 1},
                       {"review_rate", 0.2},
                       {"batch_size", batch_size},
                       {"reservation_seconds", 600},
                       {"hourly_rate", "30"},
                       {"requirements", {{"dimensions", {"helpfulness"}}}}};
  ASSIGN_OR_RETURN(label::ProjectConfig cfg, label::ParseProjectConfig(config, "bench"));
  ASSIGN_OR_RETURN(label::Project p, store.CreateProject(Manager(), name, cfg));
  for (int i = 0; i < annotators; ++i) {
    RETURN_IF_ERROR(store.AddMember(Manager(), p.id, AnnotatorName(i), "annotator", std::nullopt));
  }
  RETURN_IF_ERROR(store.AddMember(Manager(), p.id, "rex", "requester", std::nullopt));
  return p.id;
}

// ---- 1 + 2: the loop ---------------------------------------------------------------

// One annotator's client: Step() does one next (+ submit when there was work) and says
// whether it submitted (false: nothing left). Errors are the call's.
class Annotator {
 public:
  virtual ~Annotator() = default;
  virtual StatusOr<bool> Step() = 0;
};

class EngineAnnotator final : public Annotator {
 public:
  EngineAnnotator(label::LabelStore* store, int64_t project, std::string user)
      : store_(store), project_(project), caller_{std::move(user), false} {}
  StatusOr<bool> Step() override {
    ASSIGN_OR_RETURN(std::optional<label::Assignment> a, store_->Next(caller_, project_));
    if (!a) return false;
    ASSIGN_OR_RETURN(label::SubmitResult r,
                     store_->Submit(caller_, a->id, RankingOf(a->item, a->item_id), 30));
    if (!r.failures.empty()) {
      return Internal("submit of assignment " + std::to_string(a->id) +
                      " failed a check: " + r.failures.front().message);
    }
    return true;
  }

 private:
  label::LabelStore* store_;
  int64_t project_;
  label::Caller caller_;
};

class HttpAnnotator final : public Annotator {
 public:
  HttpAnnotator(int port, int64_t project, const std::string& user)
      : client_("127.0.0.1", port), project_(project) {
    client_.set_keep_alive(true);
    // Without it a request's header and body writes meet delayed ACKs (40 ms a call).
    client_.set_tcp_nodelay(true);
    client_.set_read_timeout(120, 0);
    client_.set_default_headers({{"Authorization", "Bearer " + user}});
  }
  StatusOr<bool> Step() override {
    ASSIGN_OR_RETURN(json next, Post(fmt::format("/api/label/projects/{}/next", project_), ""));
    const json& a = next["assignment"];
    if (a.is_null()) return false;
    const json body = {{"payload", RankingOf(a.at("item"), a.at("item_id").get<int64_t>())},
                       {"active_seconds", 30}};
    ASSIGN_OR_RETURN(
        json r, Post(fmt::format("/api/label/assignments/{}/submit", a.at("id").get<int64_t>()),
                     body.dump()));
    (void)r;
    return true;
  }

 private:
  // The JSON of a 200/201 answer; IoError for a transport failure, Internal naming the
  // status and the start of the body otherwise.
  StatusOr<json> Post(const std::string& path, const std::string& body) {
    auto r = client_.Post(path, body, "application/json");
    if (!r) return IoError(fmt::format("POST {}: {}", path, httplib::to_string(r.error())));
    if (r->status != 200 && r->status != 201) {
      return Internal(fmt::format("POST {}: HTTP {}: {}", path, r->status, r->body.substr(0, 300)));
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return Internal(fmt::format("POST {}: the answer is not JSON", path));
    return j;
  }

  httplib::Client client_;
  int64_t project_;
};

struct Run {
  int64_t ops = 0;  // submissions (loop) or transactions (floor)
  double seconds = 0;
  Dist latency;
  int64_t errors = 0;
  std::string first_error;
  int64_t retries = 0;
  int64_t transactions = 0;
};

// Runs `make(i)`'s annotators on `threads` threads until each has nothing left (or met
// 20 errors: a call that keeps failing must not spin forever).
template <typename Make>
Run RunThreads(int threads, Make make) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::atomic<int64_t> errors{0};
  std::mutex mu;
  std::string first_error;
  std::vector<std::unique_ptr<Annotator>> clients;
  clients.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) clients.push_back(make(i));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      Annotator& c = *clients[static_cast<size_t>(i)];
      std::vector<double>& mine = lat[static_cast<size_t>(i)];
      ++ready;
      while (!go.load()) std::this_thread::yield();
      int own_errors = 0;
      while (own_errors < 20) {
        const auto t0 = Clock::now();
        StatusOr<bool> r = c.Step();
        if (!r.ok()) {
          ++own_errors;
          ++errors;
          const std::lock_guard<std::mutex> lock(mu);
          if (first_error.empty()) first_error = r.status().ToString();
          continue;
        }
        if (!*r) break;
        mine.push_back(MicrosSince(t0));
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto t0 = Clock::now();
  go = true;
  for (auto& t : pool) t.join();
  Run run;
  run.seconds = SecondsSince(t0);
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  run.ops = static_cast<int64_t>(all.size());
  run.latency = Summarize(std::move(all));
  run.errors = errors.load();
  run.first_error = first_error;
  return run;
}

// The floor: `threads` threads share `total` tickets; each ticket is one transaction
// (UPDATE of the thread's own row, INSERT of one row).
class FloorClient final : public Annotator {
 public:
  FloorClient(db::Database* db, std::atomic<int64_t>* tickets, int64_t worker)
      : db_(db), tickets_(tickets), worker_(worker) {}
  StatusOr<bool> Step() override {
    if (tickets_->fetch_sub(1) <= 0) return false;
    const Status s = db_->InTransaction([&](db::Transaction& tx) -> Status {
      const std::vector<db::Value> id = {db::Value(worker_)};
      RETURN_IF_ERROR(tx.Exec("UPDATE bench_floor_rows SET n = n + 1 WHERE id = ?", id));
      const std::vector<db::Value> row = {db::Value(worker_), db::Value(int64_t{1})};
      return tx.Exec("INSERT INTO bench_floor_log (worker, at) VALUES (?, ?)", row);
    });
    if (!s.ok()) return s;
    return true;
  }

 private:
  db::Database* db_;
  std::atomic<int64_t>* tickets_;
  int64_t worker_;
};

// A token is the user's name: enough to give each bench thread its own annotator.
class NameTokens final : public http::Authenticator {
 public:
  bool Required() override { return true; }
  StatusOr<http::Principal> Token(std::string_view token) override {
    return http::Principal{std::string(token), "user", "token", false};
  }
  StatusOr<http::SessionInfo> Session(std::string_view) override {
    return Unauthenticated("no sessions in the bench");
  }
  StatusOr<http::NewSession> Login(std::string_view, std::string_view) override {
    return Unimplemented("no passwords in the bench");
  }
  Status Logout(std::string_view) override { return Status::Ok(); }
  StatusOr<http::KeySecret> AccessKey(std::string_view) override {
    return NotFound("no access keys in the bench");
  }
};

// Every item submitted exactly once (overlap 1): Internal naming the counts otherwise.
Status CheckLoop(db::Database& db, int64_t project, int items, const Run& run) {
  const std::vector<db::Value> p = {db::Value(project)};
  ASSIGN_OR_RETURN(db::Result r,
                   db.Query("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM label_assignments "
                            "WHERE project_id = ? AND state IN ('submitted','accepted')",
                            p));
  if (r.Int(0, 0) != items || r.Int(0, 1) != items || run.ops != items) {
    return Internal(fmt::format("{} items, {} submitted assignments on {} items, {} submissions",
                                items, r.Int(0, 0), r.Int(0, 1), run.ops));
  }
  return Status::Ok();
}

// One line of a Markdown table cell: newlines of a backend's message folded, kept short.
std::string Cell(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s.size() > 160 ? s.substr(0, 160) + "…" : s;
}

std::string Row(std::string_view what, const Run& r) {
  return fmt::format(
      "| {} | {} | {:.2f} | {:.0f} | {:.2f} | {:.2f} | {} | {} | {} |\n", what, r.ops, r.seconds,
      static_cast<double>(r.ops) / r.seconds, r.latency.p50 / 1000.0, r.latency.p99 / 1000.0,
      r.transactions, r.retries,
      r.errors == 0 ? std::string("0") : fmt::format("{} ({})", r.errors, Cell(r.first_error)));
}

Status Loop(const Flags& f, db::Backend backend, bool* ok) {
  const TempFolder folder;
  if (folder.path().empty()) return IoError("mkdtemp failed");
  ASSIGN_OR_RETURN(auto bdb, BenchDatabase::Open(backend, folder.path(), f.postgres));
  CountingDatabase* db = bdb->db();
  label::LabelStore store(db, Env::Default(), folder.path());

  std::vector<label::ManifestLine> lines;
  for (int i = 0; i < f.items; ++i) {
    label::ManifestLine l;
    l.line_no = i + 1;
    l.line = ItemLine(i);
    l.source_text = l.line["prompt"].get<std::string>();
    lines.push_back(std::move(l));
  }
  fmt::print("### {}: the loop, {} annotators, {} items\n\n", BackendName(backend), f.annotators,
             f.items);
  fmt::print(
      "| path | submissions (floor: transactions) | s | per s | p50 ms | p99 ms | "
      "transactions | retries | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n");

  auto measure = [&](std::string_view what, auto make) -> Run {
    db->Reset();
    Run r = RunThreads(f.annotators, make);
    r.retries = db->retries();
    r.transactions = db->transactions();
    fmt::print("{}", Row(what, r));
    (void)std::fflush(stdout);
    return r;
  };

  // Engine.
  ASSIGN_OR_RETURN(int64_t p1, MakeProject(store, "engine", f.annotators, 100));
  RETURN_IF_ERROR(store.Import(Manager(), p1, lines).status());
  const Run engine = measure("LabelStore Next + Submit", [&](int i) {
    return std::make_unique<EngineAnnotator>(&store, p1, AnnotatorName(i));
  });
  if (Status s = CheckLoop(*db, p1, f.items, engine); !s.ok() || engine.errors != 0) {
    fmt::print("\nCHECK FAILED (engine loop): {}; {} calls failed\n\n", s.ToString(),
               engine.errors);
    *ok = false;
  }

  // The floor.
  for (int i = 0; i < f.annotators; ++i) {
    const std::vector<db::Value> v = {db::Value(int64_t{i})};
    RETURN_IF_ERROR(db->Exec("INSERT INTO bench_floor_rows (id, n) VALUES (?, 0)", v));
  }
  std::atomic<int64_t> tickets{engine.ops};
  const Run floor = measure("floor: UPDATE own row + INSERT, InTransaction",
                            [&](int i) { return std::make_unique<FloorClient>(db, &tickets, i); });
  if (floor.errors != 0) *ok = false;

  // HTTP.
  std::optional<Run> over_http;
  if (f.http) {
    ASSIGN_OR_RETURN(int64_t p2, MakeProject(store, "http", f.annotators, 100));
    RETURN_IF_ERROR(store.Import(Manager(), p2, lines).status());
    NameTokens auth;
    http::ServerOptions opt;
    opt.listen = {"127.0.0.1", 0};
    opt.auth = &auth;
    ASSIGN_OR_RETURN(auto server, http::HttpServer::Create(Env::Default(), opt));
    label::api::LabelApi api(&store, Env::Default());
    api.Register(server->router());
    RETURN_IF_ERROR(server->Bind());
    Status served;
    std::thread serving([&] { served = server->Run(); });
    over_http = measure("HTTP: POST …/next + POST …/submit (keep-alive)", [&](int i) {
      return std::make_unique<HttpAnnotator>(server->port(), p2, AnnotatorName(i));
    });
    server->Stop();
    serving.join();
    if (!served.ok()) fmt::print("\nserver: {}\n", served.ToString());
    if (Status s = CheckLoop(*db, p2, f.items, *over_http); !s.ok() || over_http->errors != 0) {
      fmt::print("\nCHECK FAILED (HTTP loop): {}; {} calls failed\n\n", s.ToString(),
                 over_http->errors);
      *ok = false;
    }
  }
  const double eng_rate = static_cast<double>(engine.ops) / engine.seconds;
  const double floor_rate = static_cast<double>(floor.ops) / floor.seconds;
  fmt::print("\nfloor / engine loop: {:.1f}x the submissions per second", floor_rate / eng_rate);
  if (over_http) {
    fmt::print("; engine / HTTP: {:.2f}x",
               eng_rate / (static_cast<double>(over_http->ops) / over_http->seconds));
  }
  fmt::print(". Transactions per submission in the loop: {:.2f} (Next is two, Submit one).\n\n",
             static_cast<double>(engine.transactions) /
                 static_cast<double>(std::max<int64_t>(engine.ops, 1)));
  return Status::Ok();
}

// ---- 3: exports ---------------------------------------------------------------------

// The export's in-memory twin of what Setup writes: item i+1 holds the line ItemLine(i)
// and one annotation by ann(i%50), payload RankingOf(line, i+1).
constexpr int64_t kCreatedAt = 1'750'000'000;

std::vector<label::ExportItem> ExportItems(int n) {
  std::vector<label::ExportItem> items(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    label::ExportItem& it = items[static_cast<size_t>(i)];
    it.id = i + 1;
    it.line = ItemLine(i);
    // Built in place: the bench never copies or moves an annotation.
    label::ExportAnnotation& a = it.annotations.emplace_back();
    a.id = i + 1;
    a.worker = AnnotatorName(i % 50);
    a.payload = RankingOf(it.line, it.id);
    a.rework_rounds = 0;
    a.active_seconds = 30;
    a.created_at = kCreatedAt;
  }
  return items;
}

// Writes `items` as accepted work of `project` (batches of 1000, accepted by the
// requester) with multi-row INSERTs in one transaction; ids are the items' own.
Status Setup(db::Database& db, int64_t project, const std::vector<label::ExportItem>& items) {
  constexpr size_t kPerBatch = 1000;
  constexpr size_t kRows = 400;  // rows per INSERT: 400 × 10 parameters stays under both limits
  return db.InTransaction([&](db::Transaction& tx) -> Status {
    std::vector<int64_t> batches;
    for (size_t b = 0; b * kPerBatch < items.size(); ++b) {
      const std::vector<db::Value> v = {db::Value(project), db::Value(static_cast<int64_t>(b + 1)),
                                        db::Value(kCreatedAt)};
      ASSIGN_OR_RETURN(db::Result r,
                       tx.Query("INSERT INTO label_batches (project_id, seq, state, created_at) "
                                "VALUES (?, ?, 'accepted', ?) RETURNING id",
                                v));
      batches.push_back(r.Int(0, 0));
      for (const char* state : {"received", "accepted"}) {
        const std::vector<db::Value> e = {db::Value(r.Int(0, 0)), db::Value(std::string(state)),
                                          db::Value(kCreatedAt)};
        RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO label_batch_events (batch_id, state, actor, at) VALUES (?, ?, 'mia', ?)",
            e));
      }
    }
    auto insert = [&](std::string_view head, std::string_view one, size_t cols, auto row) {
      for (size_t start = 0; start < items.size(); start += kRows) {
        const size_t end = std::min(items.size(), start + kRows);
        std::string sql(head);
        std::vector<db::Value> params;
        params.reserve((end - start) * cols);
        for (size_t k = start; k < end; ++k) {
          sql += k == start ? " " : ", ";
          sql += one;
          row(k, params);
        }
        RETURN_IF_ERROR(tx.Exec(sql, params));
      }
      return Status::Ok();
    };
    RETURN_IF_ERROR(
        insert("INSERT INTO label_items (id, project_id, batch_id, line, source_text, active, "
               "accepted) VALUES",
               "(?, ?, ?, ?, '', 1, 1)", 4, [&](size_t k, std::vector<db::Value>& out) {
                 out.emplace_back(items[k].id);
                 out.emplace_back(project);
                 out.emplace_back(batches[k / kPerBatch]);
                 out.emplace_back(items[k].line.dump());
               }));
    RETURN_IF_ERROR(insert(
        "INSERT INTO label_assignments (id, project_id, item_id, batch_id, worker, state, "
        "reserved_until, active_seconds, last_seen, created_at) VALUES",
        "(?, ?, ?, ?, ?, 'accepted', ?, ?, ?, ?)", 9, [&](size_t k, std::vector<db::Value>& out) {
          const label::ExportAnnotation& a = items[k].annotations.front();
          out.emplace_back(a.id);
          out.emplace_back(project);
          out.emplace_back(items[k].id);
          out.emplace_back(batches[k / kPerBatch]);
          out.emplace_back(a.worker);
          out.emplace_back(kCreatedAt);
          out.emplace_back(a.active_seconds);
          out.emplace_back(kCreatedAt);
          out.emplace_back(kCreatedAt);
        }));
    RETURN_IF_ERROR(insert(
        "INSERT INTO label_annotations (id, project_id, assignment_id, version, round, author, "
        "payload, review_state, created_at) VALUES",
        "(?, ?, ?, 1, 0, ?, ?, 'skipped', ?)", 6, [&](size_t k, std::vector<db::Value>& out) {
          const label::ExportAnnotation& a = items[k].annotations.front();
          out.emplace_back(a.id);
          out.emplace_back(project);
          out.emplace_back(a.id);
          out.emplace_back(a.worker);
          out.emplace_back(a.payload.dump());
          out.emplace_back(kCreatedAt);
        }));
    const std::vector<db::Value> p = {db::Value(project)};
    return tx.Exec("UPDATE label_assignments SET latest_annotation = id WHERE project_id = ?", p);
  });
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

Status Exports(const Flags& f, db::Backend backend, bool* ok) {
  const TempFolder folder;
  if (folder.path().empty()) return IoError("mkdtemp failed");
  ASSIGN_OR_RETURN(auto bdb, BenchDatabase::Open(backend, folder.path(), f.postgres));
  CountingDatabase* db = bdb->db();
  label::LabelStore store(db, Env::Default(), folder.path());
  ASSIGN_OR_RETURN(int64_t project, MakeProject(store, "exports", 50, 1000));
  ASSIGN_OR_RETURN(label::Project proj, store.GetProject(Manager(), std::to_string(project)));
  const std::vector<label::ExportItem> items = ExportItems(f.export_annotations);
  const auto t_setup = Clock::now();
  RETURN_IF_ERROR(Setup(*db, project, items));
  const double setup_s = SecondsSince(t_setup);

  fmt::print("### {}: exports of {} accepted ranking annotations (4 responses each)\n\n",
             BackendName(backend), f.export_annotations);
  fmt::print("Setup (direct multi-row INSERTs, one transaction): {:.2f} s.\n\n", setup_s);
  fmt::print(
      "| export | bytes | LabelStore::Export s (median of {}) | MB/s | RenderExport in memory s | "
      "MB/s | store / render |\n|---|---:|---:|---:|---:|---:|---:|\n",
      f.export_rounds);
  struct Case {
    std::string name;
    label::ExportOptions options;
  };
  std::vector<Case> cases(2);
  cases[0].name = "preference, all-pairs";
  cases[0].options.format = label::ExportFormat::kPreference;
  cases[0].options.pairs = label::PairPolicy::kAllPairs;
  cases[1].name = "gt-manifest";
  cases[1].options.format = label::ExportFormat::kGtManifest;
  for (Case& c : cases) {
    // What the store fills in before rendering.
    label::ExportOptions mem = c.options;
    mem.job_name = proj.name;
    mem.label_attribute = proj.config.label_attribute;
    std::vector<double> store_s;
    std::vector<double> render_s;
    std::string rendered;
    label::ExportResult last;
    // Rounds alternate the two sides, so a change in the machine's load hits both.
    for (int r = 0; r < f.export_rounds; ++r) {
      auto t0 = Clock::now();
      ASSIGN_OR_RETURN(last,
                       store.Export(Manager(), project, c.options, label::ExportScope::kAccepted));
      store_s.push_back(SecondsSince(t0));
      rendered.clear();
      t0 = Clock::now();
      RETURN_IF_ERROR(label::RenderExport(proj.config, items, mem, [&](std::string_view piece) {
        rendered.append(piece);
        return Status::Ok();
      }));
      render_s.push_back(SecondsSince(t0));
    }
    std::string file;
    RETURN_IF_ERROR(Env::Default()->ReadFileToString(last.path, &file));
    if (file != rendered || last.annotations != f.export_annotations) {
      fmt::print(
          "\nCHECK FAILED ({}): the export ({} bytes, {} annotations) differs from the "
          "in-memory rendering ({} bytes)\n",
          c.name, file.size(), last.annotations, rendered.size());
      *ok = false;
    }
    const double mb = static_cast<double>(last.bytes) / 1e6;
    const double ss = Median(store_s);
    const double rs = Median(render_s);
    fmt::print("| {} | {} | {:.3f} | {:.1f} | {:.3f} | {:.1f} | {:.2f}x |\n", c.name, last.bytes,
               ss, mb / ss, rs, mb / rs, ss / rs);
    (void)std::fflush(stdout);
  }
  fmt::print("\n");
  return Status::Ok();
}

int Main(int argc, char** argv) {
  auto flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    fmt::print(stderr, "label_bench: {}\n", flags.status().ToString());
    return 2;
  }
  const Flags& f = *flags;
  std::vector<db::Backend> backends = {db::Backend::kSqlite};
  if (!f.postgres.empty()) backends.push_back(db::Backend::kPostgres);
  bool ok = true;
  for (db::Backend b : backends) {
    if (Status s = Loop(f, b, &ok); !s.ok()) {
      fmt::print(stderr, "label_bench: loop on {}: {}\n", BackendName(b), s.ToString());
      return 1;
    }
  }
  if (f.exports) {
    for (db::Backend b : backends) {
      if (Status s = Exports(f, b, &ok); !s.ok()) {
        fmt::print(stderr, "label_bench: exports on {}: {}\n", BackendName(b), s.ToString());
        return 1;
      }
    }
  }
  if (f.postgres.empty()) fmt::print("(PostgreSQL skipped: no --postgres URL)\n");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace sagebox::bench

int main(int argc, char** argv) {
  // Only allocation failure and httplib can throw here; report them like any other error.
  try {
    return sagebox::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "label_bench: {}\n", e.what());
    return 1;
  }
}
