// label_store.cc: the quality loop's tables and transactions (label_store.h).
#include "label/store/label_store.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "label/agreement.h"

namespace sagebox::label {

namespace {

template <typename... A>
std::vector<db::Value> P(A&&... a) {
  return {db::Value(std::forward<A>(a))...};
}
db::Value Text(std::string_view s) { return db::Value(std::string(s)); }
db::Value I(int64_t v) { return db::Value(v); }

constexpr std::array<std::string_view, 4> kRoles = {"manager", "annotator", "reviewer",
                                                    "requester"};
// Without a client's count of active time, a gap longer than this is idle time.
constexpr int64_t kIdleCutoffSeconds = 300;
// A reviewer's hold on a submission, like an annotator's reservation.
constexpr int64_t kReviewHoldSeconds = 1800;

const std::vector<db::Migration>& AllMigrations() {
  static const std::vector<db::Migration> kMigrations = {
      {"label", 1, "projects, members, batches, items, assignments, annotations, reviews, exports",
       "CREATE TABLE label_projects (\n"
       "  id {{id}},\n"
       "  name TEXT NOT NULL UNIQUE,\n"
       "  kind TEXT NOT NULL,\n"
       "  config TEXT NOT NULL,\n"
       "  created_by TEXT NOT NULL,\n"
       "  created_at BIGINT NOT NULL\n"
       ");\n"
       "CREATE TABLE label_members (\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  user_name TEXT NOT NULL,\n"
       "  role TEXT NOT NULL CHECK (role IN ('manager','annotator','reviewer','requester')),\n"
       "  hourly_rate TEXT,\n"
       "  PRIMARY KEY (project_id, user_name, role)\n"
       ");\n"
       "CREATE TABLE label_batches (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  seq BIGINT NOT NULL,\n"
       "  state TEXT NOT NULL CHECK (state IN ('received','in-progress','ready-for-review',\n"
       "    'accepted','rejected','sent-for-rework','delivered')),\n"
       "  feedback TEXT NOT NULL DEFAULT '',\n"
       "  created_at BIGINT NOT NULL,\n"
       "  UNIQUE (project_id, seq)\n"
       ");\n"
       "CREATE TABLE label_batch_events (\n"
       "  id {{id}},\n"
       "  batch_id BIGINT NOT NULL REFERENCES label_batches(id),\n"
       "  state TEXT NOT NULL,\n"
       "  actor TEXT NOT NULL,\n"
       "  feedback TEXT NOT NULL DEFAULT '',\n"
       "  at BIGINT NOT NULL\n"
       ");\n"
       "CREATE INDEX label_batch_events_batch ON label_batch_events (batch_id);\n"
       "CREATE TABLE label_items (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  batch_id BIGINT NOT NULL REFERENCES label_batches(id),\n"
       "  line TEXT NOT NULL,\n"
       "  source_text TEXT NOT NULL DEFAULT '',\n"
       "  media_sha256 TEXT NOT NULL DEFAULT '',\n"
       "  gold TEXT,\n"
       "  duration DOUBLE PRECISION NOT NULL DEFAULT 0,\n"
       "  active BIGINT NOT NULL DEFAULT 0,\n"   // assignments that count toward overlap
       "  accepted BIGINT NOT NULL DEFAULT 0\n"  // of them, accepted
       ");\n"
       "CREATE INDEX label_items_open ON label_items (project_id, active, id);\n"
       "CREATE INDEX label_items_batch ON label_items (batch_id);\n"
       "CREATE TABLE label_assignments (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  item_id BIGINT NOT NULL REFERENCES label_items(id),\n"
       "  batch_id BIGINT NOT NULL REFERENCES label_batches(id),\n"
       "  worker TEXT NOT NULL,\n"
       "  state TEXT NOT NULL CHECK (state IN ('reserved','submitted','accepted','rework',\n"
       "    'rejected','escalated','expired')),\n"
       "  round BIGINT NOT NULL DEFAULT 0,\n"
       "  draft TEXT,\n"
       "  reserved_until BIGINT NOT NULL,\n"
       "  active_seconds BIGINT NOT NULL DEFAULT 0,\n"
       "  last_seen BIGINT NOT NULL,\n"
       "  latest_annotation BIGINT,\n"
       "  created_at BIGINT NOT NULL,\n"
       "  UNIQUE (item_id, worker)\n"
       ");\n"
       "CREATE INDEX label_assignments_worker ON label_assignments (project_id, worker, state);\n"
       "CREATE INDEX label_assignments_state ON label_assignments (project_id, state, "
       "reserved_until);\n"
       "CREATE INDEX label_assignments_batch ON label_assignments (batch_id, state);\n"
       "CREATE TABLE label_annotations (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  assignment_id BIGINT NOT NULL REFERENCES label_assignments(id),\n"
       "  version BIGINT NOT NULL,\n"
       "  round BIGINT NOT NULL,\n"
       "  author TEXT NOT NULL,\n"
       "  is_fix BIGINT NOT NULL DEFAULT 0,\n"
       "  payload TEXT NOT NULL,\n"
       "  review_state TEXT NOT NULL CHECK (review_state IN ('pending','reviewing','done',\n"
       "    'skipped')),\n"
       "  reviewer TEXT NOT NULL DEFAULT '',\n"
       "  review_until BIGINT NOT NULL DEFAULT 0,\n"
       "  review_seen BIGINT NOT NULL DEFAULT 0,\n"
       "  review_seconds BIGINT NOT NULL DEFAULT 0,\n"
       "  gold_score DOUBLE PRECISION,\n"
       "  created_at BIGINT NOT NULL,\n"
       "  UNIQUE (assignment_id, version)\n"
       ");\n"
       "CREATE INDEX label_annotations_queue ON label_annotations (project_id, review_state, "
       "id);\n"
       "CREATE TABLE label_reviews (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  annotation_id BIGINT NOT NULL REFERENCES label_annotations(id),\n"
       "  assignment_id BIGINT NOT NULL REFERENCES label_assignments(id),\n"
       "  reviewer TEXT NOT NULL,\n"
       "  verdict TEXT NOT NULL CHECK (verdict IN ('accept','fix-accept','rework','reject',\n"
       "    'escalate','batch-reject')),\n"
       "  round BIGINT NOT NULL,\n"
       "  comments TEXT NOT NULL,\n"
       "  created_at BIGINT NOT NULL\n"
       ");\n"
       "CREATE INDEX label_reviews_assignment ON label_reviews (assignment_id);\n"
       "CREATE TABLE label_exports (\n"
       "  id {{id}},\n"
       "  project_id BIGINT NOT NULL REFERENCES label_projects(id),\n"
       "  format TEXT NOT NULL,\n"
       "  options TEXT NOT NULL,\n"
       "  sha256 TEXT NOT NULL,\n"
       "  bytes BIGINT NOT NULL,\n"
       "  items BIGINT NOT NULL,\n"
       "  annotations BIGINT NOT NULL,\n"
       "  created_by TEXT NOT NULL,\n"
       "  created_at BIGINT NOT NULL\n"
       ")"},
  };
  return kMigrations;
}

StatusOr<nlohmann::json> ParseStoredJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("label: a stored JSON value does not parse");
  return j;
}

// One answer per call to "which roles does this user hold here?".
StatusOr<std::set<std::string>> RolesIn(db::Transaction& tx, const Caller& caller,
                                        int64_t project) {
  ASSIGN_OR_RETURN(db::Result p,
                   tx.Query("SELECT created_by FROM label_projects WHERE id = ?", P(I(project))));
  if (p.empty()) return NotFound("no label project " + std::to_string(project));
  std::set<std::string> roles;
  if (caller.admin) roles.insert(kRoles.begin(), kRoles.end());
  if (p.Text(0, 0) == caller.user) roles.insert("manager");
  ASSIGN_OR_RETURN(db::Result r,
                   tx.Query("SELECT role FROM label_members WHERE project_id = ? AND user_name = ?",
                            P(I(project), Text(caller.user))));
  for (size_t i = 0; i < r.size(); ++i) roles.insert(r.Text(i, 0));
  return roles;
}

// OK when the caller holds one of `allowed` in the project; PermissionDenied naming them.
Status Require(db::Transaction& tx, const Caller& caller, int64_t project,
               std::initializer_list<std::string_view> allowed) {
  ASSIGN_OR_RETURN(auto roles, RolesIn(tx, caller, project));
  for (std::string_view a : allowed) {
    if (roles.contains(std::string(a))) return Status::Ok();
  }
  std::string need;
  for (std::string_view a : allowed) need += (need.empty() ? "" : " or ") + std::string(a);
  return PermissionDenied("user '" + caller.user + "' needs the " + need + " role in project " +
                          std::to_string(project));
}

StatusOr<ProjectConfig> LoadConfig(db::Transaction& tx, int64_t project, std::string* name) {
  ASSIGN_OR_RETURN(db::Result r,
                   tx.Query("SELECT config, name FROM label_projects WHERE id = ?", P(I(project))));
  if (r.empty()) return NotFound("no label project " + std::to_string(project));
  ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(r.Text(0, 0)));
  if (name != nullptr) *name = r.Text(0, 1);
  return ParseProjectConfig(j, "stored config");
}

// Active time to credit for a report at `now` after the last one at `last_seen`.
int64_t Credit(int64_t last_seen, int64_t now, std::optional<int64_t> reported) {
  int64_t elapsed = std::max<int64_t>(0, now - last_seen);
  if (reported) return std::clamp<int64_t>(*reported, 0, elapsed);
  return std::min(elapsed, kIdleCutoffSeconds);
}

// Whether a first-round submission is sampled for review: a fixed hash of the assignment,
// so the decision is reproducible (and a retried transaction decides the same).
bool Sampled(int64_t assignment, double rate) {
  if (rate >= 1.0) return true;
  if (rate <= 0.0) return false;
  uint64_t z = static_cast<uint64_t>(assignment) + 0x9e3779b97f4a7c15ULL;  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 53) < rate;
}

Status AddBatchEvent(db::Transaction& tx, int64_t batch, const std::string& state,
                     const std::string& actor, const std::string& feedback, int64_t now) {
  RETURN_IF_ERROR(
      tx.Exec("UPDATE label_batches SET state = ? WHERE id = ?", P(Text(state), I(batch))));
  return tx.Exec(
      "INSERT INTO label_batch_events (batch_id, state, actor, feedback, at) VALUES (?,?,?,?,?)",
      P(I(batch), Text(state), Text(actor), Text(feedback), I(now)));
}

// Moves a batch to the state its items imply: received (nothing started), in-progress
// (or sent-for-rework, kept until resolved), ready-for-review (every item has `overlap`
// accepted annotations). The requester's states (accepted, delivered) are left alone.
Status RefreshBatch(db::Transaction& tx, int64_t batch, int overlap, const std::string& actor,
                    int64_t now) {
  ASSIGN_OR_RETURN(db::Result b,
                   tx.Query("SELECT state FROM label_batches WHERE id = ?", P(I(batch))));
  if (b.empty()) return Corruption("label: batch " + std::to_string(batch) + " is missing");
  const std::string& state = b.Text(0, 0);
  if (state == "accepted" || state == "delivered") return Status::Ok();
  ASSIGN_OR_RETURN(
      db::Result c,
      tx.Query("SELECT COUNT(*), SUM(CASE WHEN accepted >= ? THEN 1 ELSE 0 END), "
               "SUM(CASE WHEN active > 0 THEN 1 ELSE 0 END) FROM label_items WHERE batch_id = ?",
               P(I(overlap), I(batch))));
  int64_t items = c.Int(0, 0);
  int64_t resolved = c.IsNull(0, 1) ? 0 : c.Int(0, 1);
  int64_t started = c.IsNull(0, 2) ? 0 : c.Int(0, 2);
  std::string next;
  if (items > 0 && resolved == items) {
    next = "ready-for-review";
  } else if (state == "sent-for-rework") {
    next = state;
  } else {
    next = started > 0 ? "in-progress" : "received";
  }
  if (next == state) return Status::Ok();
  return AddBatchEvent(tx, batch, next, actor, "", now);
}

std::vector<Comment> CommentsFromJson(const nlohmann::json& j, const std::string& author,
                                      int round) {
  std::vector<Comment> out;
  if (!j.is_array()) return out;
  for (const auto& c : j) {
    if (!c.is_object()) continue;
    Comment x;
    x.anchor =
        c.contains("anchor") && c["anchor"].is_string() ? c["anchor"].get<std::string>() : "item";
    x.text = c.contains("text") && c["text"].is_string() ? c["text"].get<std::string>() : "";
    x.author = author;
    x.round = round;
    out.push_back(std::move(x));
  }
  return out;
}

nlohmann::json CommentsToJson(const std::vector<Comment>& comments) {
  nlohmann::json out = nlohmann::json::array();
  for (const Comment& c : comments) out.push_back({{"anchor", c.anchor}, {"text", c.text}});
  return out;
}

// The comments reviewers (and the requester) sent back on an assignment, oldest first.
StatusOr<std::vector<Comment>> LoadComments(db::Transaction& tx, int64_t assignment) {
  ASSIGN_OR_RETURN(db::Result r,
                   tx.Query("SELECT reviewer, round, comments, verdict FROM label_reviews "
                            "WHERE assignment_id = ? AND verdict IN ('rework','batch-reject',"
                            "'escalate') ORDER BY id",
                            P(I(assignment))));
  std::vector<Comment> out;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(nlohmann::json j, ParseStoredJson(r.Text(i, 2)));
    for (Comment& c : CommentsFromJson(j, r.Text(i, 0), static_cast<int>(r.Int(i, 1)))) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

ItemView MakeView(const nlohmann::json& line, const std::string& text, double duration) {
  ItemView v;
  v.line = &line;
  v.text = text;
  v.duration_seconds = duration;
  return v;
}

constexpr const char* kAssignmentColumns =
    "a.id, a.project_id, a.item_id, a.batch_id, a.worker, a.state, a.round, a.draft, "
    "a.reserved_until, a.active_seconds, i.line, i.media_sha256";

StatusOr<Assignment> LoadAssignment(db::Transaction& tx, int64_t id) {
  ASSIGN_OR_RETURN(db::Result r,
                   tx.Query(std::string("SELECT ") + kAssignmentColumns +
                                " FROM label_assignments a JOIN label_items i ON i.id = a.item_id "
                                "WHERE a.id = ?",
                            P(I(id))));
  if (r.empty()) return NotFound("no assignment " + std::to_string(id));
  Assignment a;
  a.id = r.Int(0, 0);
  a.project_id = r.Int(0, 1);
  a.item_id = r.Int(0, 2);
  a.batch_id = r.Int(0, 3);
  a.worker = r.Text(0, 4);
  a.state = r.Text(0, 5);
  a.round = static_cast<int>(r.Int(0, 6));
  if (auto d = r.OptText(0, 7)) {
    ASSIGN_OR_RETURN(a.draft, ParseStoredJson(*d));
  } else if (a.state == "rework") {
    // Sent back: the annotator fixes the version the reviewer saw, not a blank page (a
    // submit clears the draft).
    ASSIGN_OR_RETURN(db::Result v,
                     tx.Query("SELECT n.payload FROM label_annotations n JOIN label_assignments "
                              "a ON n.id = a.latest_annotation WHERE a.id = ?",
                              P(I(id))));
    if (!v.empty()) {
      ASSIGN_OR_RETURN(a.draft, ParseStoredJson(v.Text(0, 0)));
    }
  }
  a.reserved_until = r.Int(0, 8);
  a.active_seconds = r.Int(0, 9);
  ASSIGN_OR_RETURN(a.item, ParseStoredJson(r.Text(0, 10)));
  a.media_sha256 = r.Text(0, 11);
  ASSIGN_OR_RETURN(a.comments, LoadComments(tx, a.id));
  return a;
}

// The caller's own assignment, in a state the annotator may still work in.
StatusOr<Assignment> OwnOpenAssignment(db::Transaction& tx, const Caller& caller, int64_t id,
                                       int64_t now) {
  ASSIGN_OR_RETURN(Assignment a, LoadAssignment(tx, id));
  if (a.worker != caller.user) {
    return PermissionDenied("assignment " + std::to_string(id) + " belongs to another annotator");
  }
  RETURN_IF_ERROR(Require(tx, caller, a.project_id, {"annotator"}));
  if (a.state == "reserved" && a.reserved_until < now) {
    return InvalidArgument("the reservation of assignment " + std::to_string(id) +
                           " timed out; ask for the next item again");
  }
  if (a.state != "reserved" && a.state != "rework") {
    return InvalidArgument("assignment " + std::to_string(id) + " is " + a.state +
                           ", not open for work");
  }
  return a;
}

// The loop's writers (Next, Submit, reviews, drafts, imports, the batch gate, an export's
// delivery) all read the same open items and batch counts and then write them. Under
// SERIALIZABLE, 50 annotators asking at once made PostgreSQL abort nearly every one of
// them (bench/RESULTS.md "Label": 7.8 retries per transaction, 425 calls failing after 30
// attempts for 1000 submissions), so
// on PostgreSQL they queue on a table lock instead, as SQLite's BEGIN IMMEDIATE queues
// every writer. It must be the transaction's first statement: the snapshot is taken at
// the first query after it, so a writer that waited sees what the one before committed.
// SHARE ROW EXCLUSIVE conflicts with itself and with other writes to the table, not with
// plain reads. The lock's error (IoError on a lost connection) otherwise.
Status QueueWriter(db::Backend backend, db::Transaction& tx) {
  if (backend != db::Backend::kPostgres) return Status::Ok();
  return tx.Exec("LOCK TABLE label_assignments IN SHARE ROW EXCLUSIVE MODE");
}

// Releases timed-out reservations of a project, so their items count free again.
Status ExpireReservations(db::Transaction& tx, int64_t project, int64_t now) {
  ASSIGN_OR_RETURN(db::Result r,
                   tx.Query("SELECT id, item_id FROM label_assignments WHERE project_id = ? AND "
                            "state = 'reserved' AND reserved_until < ?",
                            P(I(project), I(now))));
  for (size_t i = 0; i < r.size(); ++i) {
    RETURN_IF_ERROR(
        tx.Exec("UPDATE label_assignments SET state = 'expired' WHERE id = ?", P(I(r.Int(i, 0)))));
    RETURN_IF_ERROR(
        tx.Exec("UPDATE label_items SET active = active - 1 WHERE id = ?", P(I(r.Int(i, 1)))));
  }
  return Status::Ok();
}

// The checklist a reviewer sees: each of the project's requirements, passed or not by
// `payload` (a submitted payload passes all; a reviewer's view of a fix may not).
nlohmann::json Checklist(const ProjectConfig& config, const ItemView& view,
                         const nlohmann::json& payload) {
  std::vector<Failure> failures = CheckPayload(config, view, payload);
  std::set<std::string> failed;
  for (const Failure& f : failures) failed.insert(f.requirement);
  std::vector<std::string> names;
  const Requirements& r = config.requirements;
  switch (config.kind) {
    case Kind::kQaPairs:
      names = {"min_pairs", "max_pairs", "question_type_mix", "answer_words", "spans"};
      break;
    case Kind::kRanking:
      names = {"all_ranked"};
      if (r.require_rationale) names.emplace_back("rationale");
      break;
    case Kind::kImageCaption:
      names = {"min_objects", "min_relationships", "caption_words"};
      if (r.require_setting) names.emplace_back("setting");
      break;
    case Kind::kVideoCaption:
      names = {"time_bounds", "min_activities", "caption_words"};
      if (r.require_setting) names.emplace_back("setting");
      break;
  }
  for (const auto& f : failed) {
    if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : names) out.push_back({{"requirement", n}, {"passed", !failed.contains(n)}});
  return out;
}

}  // namespace

std::span<const db::Migration> Migrations() { return AllMigrations(); }

StatusOr<Verdict> ParseVerdict(std::string_view name) {
  if (name == "accept") return Verdict::kAccept;
  if (name == "fix-accept") return Verdict::kFixAccept;
  if (name == "rework") return Verdict::kRework;
  if (name == "reject") return Verdict::kReject;
  return InvalidArgument("unknown verdict '" + std::string(name) +
                         "' (expected accept, fix-accept, rework or reject)");
}

LabelStore::LabelStore(db::Database* db, Env* env, std::string data_dir)
    : db_(db),
      env_(env),
      data_dir_(std::move(data_dir)),
      blobs_(env, JoinPath(data_dir_, "blobs")) {}

// ---------------------------------------------------------------- projects, members

StatusOr<Project> LabelStore::CreateProject(const Caller& caller, const std::string& name,
                                            const ProjectConfig& config) {
  if (name.empty() || name.size() > 128) {
    return InvalidArgument("a project name is 1 to 128 characters");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '/') {
      return InvalidArgument("a project name has no control characters or '/'");
    }
  }
  ProjectConfig stored = config;
  if (stored.label_attribute.empty()) stored.label_attribute = name;
  int64_t now = env_->Now();
  int64_t id = 0;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        auto r = tx.Query(
            "INSERT INTO label_projects (name, kind, config, created_by, created_at) "
            "VALUES (?,?,?,?,?) RETURNING id",
            P(Text(name), Text(KindName(stored.kind)), Text(ProjectConfigJson(stored).dump()),
              Text(caller.user), I(now)));
        if (!r.ok()) {
          if (r.status().code() == StatusCode::kAlreadyExists) {
            return AlreadyExists("a label project named '" + name + "' exists");
          }
          return r.status();
        }
        id = r->Int(0, 0);
        return tx.Exec("INSERT INTO label_members (project_id, user_name, role) VALUES (?,?,?)",
                       P(I(id), Text(caller.user), Text("manager")));
      });
      !done.ok()) {
    return done;
  }
  return GetProject(caller, std::to_string(id));
}

StatusOr<Project> LabelStore::GetProject(const Caller& caller, const std::string& id_or_name) {
  Project p;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        bool numeric = !id_or_name.empty() &&
                       std::all_of(id_or_name.begin(), id_or_name.end(),
                                   [](char c) { return c >= '0' && c <= '9'; }) &&
                       id_or_name.size() < 18;
        ASSIGN_OR_RETURN(
            db::Result r,
            numeric
                ? tx.Query("SELECT id, name, config, created_by, created_at FROM label_projects "
                           "WHERE id = ?",
                           P(I(std::stoll(id_or_name))))
                : tx.Query("SELECT id, name, config, created_by, created_at FROM label_projects "
                           "WHERE name = ?",
                           P(Text(id_or_name))));
        if (r.empty()) return NotFound("no label project '" + id_or_name + "'");
        p.id = r.Int(0, 0);
        p.name = r.Text(0, 1);
        ASSIGN_OR_RETURN(nlohmann::json cj, ParseStoredJson(r.Text(0, 2)));
        ASSIGN_OR_RETURN(p.config, ParseProjectConfig(cj, "stored config"));
        p.created_by = r.Text(0, 3);
        p.created_at = r.Int(0, 4);
        ASSIGN_OR_RETURN(auto roles, RolesIn(tx, caller, p.id));
        if (roles.empty()) {
          return PermissionDenied("user '" + caller.user + "' has no role in project '" + p.name +
                                  "'");
        }
        p.roles.assign(roles.begin(), roles.end());
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return p;
}

StatusOr<std::vector<Project>> LabelStore::ListProjects(const Caller& caller) {
  ASSIGN_OR_RETURN(
      db::Result r,
      caller.admin
          ? db_->Query("SELECT id FROM label_projects ORDER BY id")
          : db_->Query("SELECT id FROM label_projects WHERE created_by = ? OR id IN "
                       "(SELECT project_id FROM label_members WHERE user_name = ?) ORDER BY id",
                       P(Text(caller.user), Text(caller.user))));
  std::vector<Project> out;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(Project p, GetProject(caller, std::to_string(r.Int(i, 0))));
    out.push_back(std::move(p));
  }
  return out;
}

Status LabelStore::AddMember(const Caller& caller, int64_t project, const std::string& user,
                             const std::string& role, std::optional<Decimal> hourly_rate) {
  if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
    return InvalidArgument("unknown project role '" + role +
                           "' (expected manager, annotator, reviewer or requester)");
  }
  if (user.empty() || user.size() > 128) return InvalidArgument("a user name is 1 to 128 bytes");
  if (hourly_rate && *hourly_rate < Decimal()) {
    return InvalidArgument("an hourly rate is not negative");
  }
  db::Value rate = hourly_rate ? Text(hourly_rate->ToString()) : db::Value();
  return db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
    RETURN_IF_ERROR(Require(tx, caller, project, {"manager"}));
    return tx.Exec(
        "INSERT INTO label_members (project_id, user_name, role, hourly_rate) VALUES (?,?,?,?) "
        "ON CONFLICT (project_id, user_name, role) DO UPDATE SET hourly_rate = "
        "excluded.hourly_rate",
        P(I(project), Text(user), Text(role), rate));
  });
}

StatusOr<nlohmann::json> LabelStore::ListMembers(const Caller& caller, int64_t project) {
  nlohmann::json out = nlohmann::json::array();
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager", "reviewer", "requester"}));
        ASSIGN_OR_RETURN(db::Result r,
                         tx.Query("SELECT user_name, role, hourly_rate FROM label_members WHERE "
                                  "project_id = ? ORDER BY user_name, role",
                                  P(I(project))));
        for (size_t i = 0; i < r.size(); ++i) {
          nlohmann::json m = {{"user", r.Text(i, 0)}, {"role", r.Text(i, 1)}};
          if (auto rate = r.OptText(i, 2)) m["hourly_rate"] = *rate;
          out.push_back(std::move(m));
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return out;
}

// ---------------------------------------------------------------- items

StatusOr<ImportResult> LabelStore::Import(const Caller& caller, int64_t project,
                                          const std::vector<ManifestLine>& lines) {
  if (lines.empty()) return BadInput("the manifest has no items");
  // Media first, outside the transaction: a blob nobody references is harmless (and
  // content-addressed, so a retried import reuses it), an item without its media is not.
  ImportResult result;
  std::vector<std::string> media(lines.size());
  {
    // The role check before any copying, so a stranger cannot fill the disk.
    RETURN_IF_ERROR(db_->InTransaction(
        [&](db::Transaction& tx) { return Require(tx, caller, project, {"manager"}); }));
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].media_path.empty()) continue;
      ASSIGN_OR_RETURN(store::BlobRef ref, blobs_.PutFile(lines[i].media_path));
      media[i] = ref.sha256;
      ++result.media;
    }
  }
  int64_t now = env_->Now();
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager"}));
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
        ASSIGN_OR_RETURN(db::Result s, tx.Query("SELECT COALESCE(MAX(seq), 0) FROM label_batches "
                                                "WHERE project_id = ?",
                                                P(I(project))));
        int64_t seq = s.Int(0, 0);
        int64_t batch = 0;
        int in_batch = config.batch_size;
        result.items = 0;
        result.batches = 0;
        for (size_t i = 0; i < lines.size(); ++i) {
          if (in_batch >= config.batch_size) {
            ASSIGN_OR_RETURN(
                db::Result b,
                tx.Query("INSERT INTO label_batches (project_id, seq, state, created_at) "
                         "VALUES (?,?,'received',?) RETURNING id",
                         P(I(project), I(++seq), I(now))));
            batch = b.Int(0, 0);
            RETURN_IF_ERROR(
                tx.Exec("INSERT INTO label_batch_events (batch_id, state, actor, at) "
                        "VALUES (?, 'received', ?, ?)",
                        P(I(batch), Text(caller.user), I(now))));
            in_batch = 0;
            ++result.batches;
          }
          const ManifestLine& l = lines[i];
          db::Value gold = l.gold ? Text(l.gold->dump()) : db::Value();
          RETURN_IF_ERROR(
              tx.Exec("INSERT INTO label_items (project_id, batch_id, line, source_text, "
                      "media_sha256, gold, "
                      "duration) VALUES (?,?,?,?,?,?,?)",
                      P(I(project), I(batch), Text(l.line.dump()), Text(l.source_text),
                        Text(media[i]), gold, db::Value(l.duration_seconds))));
          ++in_batch;
          ++result.items;
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return result;
}

// ---------------------------------------------------------------- annotators

StatusOr<std::optional<Assignment>> LabelStore::Next(const Caller& caller, int64_t project) {
  std::optional<int64_t> picked;
  int64_t now = env_->Now();
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
        picked.reset();
        RETURN_IF_ERROR(Require(tx, caller, project, {"annotator"}));
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
        // 1. Work sent back to this annotator comes first: rework goes to the same person.
        ASSIGN_OR_RETURN(
            db::Result own,
            tx.Query("SELECT id, state FROM label_assignments WHERE project_id = ? AND "
                     "worker = ? AND (state = 'rework' OR (state = 'reserved' AND "
                     "reserved_until >= ?)) ORDER BY CASE state WHEN 'rework' THEN 0 "
                     "ELSE 1 END, id LIMIT 1",
                     P(I(project), Text(caller.user), I(now))));
        if (!own.empty()) {
          picked = own.Int(0, 0);
          return tx.Exec(
              "UPDATE label_assignments SET reserved_until = ?, last_seen = ? WHERE id = ?",
              P(I(now + config.reservation_seconds), I(now), I(*picked)));
        }
        // 2. A new reservation on the first item that still needs annotators.
        RETURN_IF_ERROR(ExpireReservations(tx, project, now));
        ASSIGN_OR_RETURN(
            db::Result item,
            tx.Query("SELECT i.id, i.batch_id FROM label_items i JOIN label_batches b ON b.id = "
                     "i.batch_id WHERE i.project_id = ? AND i.active < ? AND b.state IN "
                     "('received','in-progress','sent-for-rework') AND NOT EXISTS (SELECT 1 FROM "
                     "label_assignments a WHERE a.item_id = i.id AND a.worker = ? AND a.state <> "
                     "'expired') ORDER BY i.id LIMIT 1",
                     P(I(project), I(config.overlap), Text(caller.user))));
        if (item.empty()) return sagebox::Status::Ok();
        int64_t item_id = item.Int(0, 0);
        int64_t batch = item.Int(0, 1);
        // The annotator's own expired reservation of it comes back with its draft.
        ASSIGN_OR_RETURN(
            db::Result mine,
            tx.Query(
                "UPDATE label_assignments SET state = 'reserved', reserved_until = ?, "
                "last_seen = ? WHERE item_id = ? AND worker = ? AND state = 'expired' "
                "RETURNING id",
                P(I(now + config.reservation_seconds), I(now), I(item_id), Text(caller.user))));
        if (!mine.empty()) {
          picked = mine.Int(0, 0);
        } else {
          ASSIGN_OR_RETURN(
              db::Result a,
              tx.Query(
                  "INSERT INTO label_assignments (project_id, item_id, batch_id, worker, state, "
                  "reserved_until, last_seen, created_at) VALUES (?,?,?,?,'reserved',?,?,?) "
                  "RETURNING id",
                  P(I(project), I(item_id), I(batch), Text(caller.user),
                    I(now + config.reservation_seconds), I(now), I(now))));
          picked = a.Int(0, 0);
        }
        RETURN_IF_ERROR(
            tx.Exec("UPDATE label_items SET active = active + 1 WHERE id = ?", P(I(item_id))));
        return RefreshBatch(tx, batch, config.overlap, caller.user, now);
      });
      !done.ok()) {
    return done;
  }
  if (!picked) return std::optional<Assignment>();
  Assignment a;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        ASSIGN_OR_RETURN(a, LoadAssignment(tx, *picked));
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return std::optional<Assignment>(std::move(a));
}

StatusOr<Assignment> LabelStore::GetAssignment(const Caller& caller, int64_t assignment) {
  Assignment a;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        ASSIGN_OR_RETURN(a, LoadAssignment(tx, assignment));
        if (a.worker != caller.user) {
          // Blind annotation: only the worker, and the project's reviewers and managers.
          return Require(tx, caller, a.project_id, {"manager", "reviewer"});
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return a;
}

Status LabelStore::SaveDraft(const Caller& caller, int64_t assignment,
                             const nlohmann::json& payload, std::optional<int64_t> active_seconds) {
  int64_t now = env_->Now();
  return db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
    RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
    ASSIGN_OR_RETURN(Assignment a, OwnOpenAssignment(tx, caller, assignment, now));
    ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, a.project_id, nullptr));
    ASSIGN_OR_RETURN(db::Result seen, tx.Query("SELECT last_seen FROM label_assignments WHERE "
                                               "id = ?",
                                               P(I(assignment))));
    int64_t credit = Credit(seen.Int(0, 0), now, active_seconds);
    return tx.Exec(
        "UPDATE label_assignments SET draft = ?, active_seconds = active_seconds + ?, "
        "last_seen = ?, reserved_until = CASE WHEN state = 'reserved' THEN ? ELSE "
        "reserved_until END WHERE id = ?",
        P(Text(payload.dump()), I(credit), I(now), I(now + config.reservation_seconds),
          I(assignment)));
  });
}

StatusOr<SubmitResult> LabelStore::Submit(const Caller& caller, int64_t assignment,
                                          const nlohmann::json& payload,
                                          std::optional<int64_t> active_seconds) {
  int64_t now = env_->Now();
  SubmitResult result;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
        result = SubmitResult{};
        ASSIGN_OR_RETURN(Assignment a, OwnOpenAssignment(tx, caller, assignment, now));
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, a.project_id, nullptr));
        ASSIGN_OR_RETURN(
            db::Result it,
            tx.Query("SELECT source_text, duration, gold FROM label_items WHERE id = ?",
                     P(I(a.item_id))));
        std::string text = it.Text(0, 0);
        ItemView view = MakeView(a.item, text, it.Double(0, 1));
        result.failures = CheckPayload(config, view, payload);
        if (!result.failures.empty()) return sagebox::Status::Ok();  // nothing stored
        db::Value gold_score;
        bool gold = !it.IsNull(0, 2);
        if (gold) {
          ASSIGN_OR_RETURN(nlohmann::json g, ParseStoredJson(it.Text(0, 2)));
          // Passages are measured in code points, as spans are (project.h).
          int64_t chars = std::count_if(text.begin(), text.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
          });
          gold_score = db::Value(GoldScore(config, g, payload, chars));
        }
        bool review = gold || a.round > 0 || Sampled(a.id, config.review_rate);
        ASSIGN_OR_RETURN(db::Result v, tx.Query("SELECT COALESCE(MAX(version), 0) FROM "
                                                "label_annotations WHERE assignment_id = ?",
                                                P(I(a.id))));
        ASSIGN_OR_RETURN(
            db::Result n,
            tx.Query(
                "INSERT INTO label_annotations (project_id, assignment_id, version, round, "
                "author, payload, review_state, gold_score, created_at) VALUES "
                "(?,?,?,?,?,?,?,?,?) RETURNING id",
                P(I(a.project_id), I(a.id), I(v.Int(0, 0) + 1), I(a.round), Text(caller.user),
                  Text(payload.dump()), Text(review ? "pending" : "skipped"), gold_score, I(now))));
        result.annotation_id = n.Int(0, 0);
        result.reviewed = review;
        ASSIGN_OR_RETURN(db::Result seen, tx.Query("SELECT last_seen FROM label_assignments WHERE "
                                                   "id = ?",
                                                   P(I(a.id))));
        int64_t credit = Credit(seen.Int(0, 0), now, active_seconds);
        RETURN_IF_ERROR(
            tx.Exec("UPDATE label_assignments SET state = ?, draft = NULL, latest_annotation = ?, "
                    "active_seconds = active_seconds + ?, last_seen = ? WHERE id = ?",
                    P(Text(review ? "submitted" : "accepted"), I(result.annotation_id), I(credit),
                      I(now), I(a.id))));
        if (!review) {
          RETURN_IF_ERROR(tx.Exec("UPDATE label_items SET accepted = accepted + 1 WHERE id = ?",
                                  P(I(a.item_id))));
        }
        return RefreshBatch(tx, a.batch_id, config.overlap, caller.user, now);
      });
      !done.ok()) {
    return done;
  }
  return result;
}

// ---------------------------------------------------------------- reviewers

StatusOr<std::optional<ReviewTask>> LabelStore::NextReview(const Caller& caller, int64_t project) {
  int64_t now = env_->Now();
  std::optional<ReviewTask> task;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
        task.reset();
        ASSIGN_OR_RETURN(auto roles, RolesIn(tx, caller, project));
        bool manager = roles.contains("manager");
        if (!manager && !roles.contains("reviewer")) {
          return PermissionDenied("user '" + caller.user +
                                  "' needs the reviewer or manager role in project " +
                                  std::to_string(project));
        }
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
        std::optional<int64_t> annotation;
        bool escalated = false;
        if (manager) {  // the manager's queue: rework rounds ran out
          ASSIGN_OR_RETURN(db::Result e,
                           tx.Query("SELECT latest_annotation FROM label_assignments WHERE "
                                    "project_id = ? AND state = 'escalated' ORDER BY id LIMIT 1",
                                    P(I(project))));
          if (!e.empty()) {
            annotation = e.Int(0, 0);
            escalated = true;
          }
        }
        if (!annotation && roles.contains("reviewer")) {
          // The caller's own hold first (a reload must not lose it), then the oldest pending
          // or abandoned one; never the caller's own work.
          ASSIGN_OR_RETURN(
              db::Result q,
              tx.Query(
                  "SELECT n.id FROM label_annotations n JOIN label_assignments a ON a.id = "
                  "n.assignment_id WHERE n.project_id = ? AND a.worker <> ? AND "
                  "(n.review_state = 'pending' OR (n.review_state = 'reviewing' AND "
                  "(n.reviewer = ? OR n.review_until < ?))) ORDER BY CASE WHEN n.reviewer = ? "
                  "THEN 0 ELSE 1 END, n.id LIMIT 1",
                  P(I(project), Text(caller.user), Text(caller.user), I(now), Text(caller.user))));
          if (!q.empty()) annotation = q.Int(0, 0);
        }
        if (!annotation) return sagebox::Status::Ok();
        if (!escalated) {
          RETURN_IF_ERROR(
              tx.Exec("UPDATE label_annotations SET review_state = 'reviewing', reviewer = ?, "
                      "review_until = ?, review_seen = ? WHERE id = ?",
                      P(Text(caller.user), I(now + kReviewHoldSeconds), I(now), I(*annotation))));
        } else {
          RETURN_IF_ERROR(tx.Exec("UPDATE label_annotations SET review_seen = ? WHERE id = ?",
                                  P(I(now), I(*annotation))));
        }
        ASSIGN_OR_RETURN(
            db::Result r,
            tx.Query("SELECT n.assignment_id, a.item_id, a.worker, n.round, n.payload, i.line, "
                     "i.media_sha256, i.source_text, i.duration, i.gold FROM label_annotations n "
                     "JOIN label_assignments a ON a.id = n.assignment_id JOIN label_items i ON "
                     "i.id = a.item_id WHERE n.id = ?",
                     P(I(*annotation))));
        ReviewTask t;
        t.annotation_id = *annotation;
        t.assignment_id = r.Int(0, 0);
        t.item_id = r.Int(0, 1);
        t.worker = r.Text(0, 2);
        t.round = static_cast<int>(r.Int(0, 3));
        ASSIGN_OR_RETURN(t.payload, ParseStoredJson(r.Text(0, 4)));
        ASSIGN_OR_RETURN(t.item, ParseStoredJson(r.Text(0, 5)));
        t.media_sha256 = r.Text(0, 6);
        const std::string& text = r.Text(0, 7);
        t.gold = !r.IsNull(0, 9);
        t.escalated = escalated;
        ASSIGN_OR_RETURN(t.comments, LoadComments(tx, t.assignment_id));
        t.checklist = Checklist(config, MakeView(t.item, text, r.Double(0, 8)), t.payload);
        task = std::move(t);
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return task;
}

Status LabelStore::Review(const Caller& caller, int64_t annotation, Verdict verdict,
                          const std::vector<Comment>& comments,
                          const std::optional<nlohmann::json>& payload,
                          std::optional<int64_t> active_seconds) {
  int64_t now = env_->Now();
  return db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
    RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
    ASSIGN_OR_RETURN(
        db::Result r,
        tx.Query("SELECT n.project_id, n.assignment_id, n.review_state, n.reviewer, "
                 "n.review_seen, a.state, a.round, a.item_id, a.batch_id, a.worker, "
                 "a.latest_annotation, i.source_text, i.duration, i.line FROM label_annotations "
                 "n JOIN label_assignments a ON a.id = n.assignment_id JOIN label_items i ON "
                 "i.id = a.item_id WHERE n.id = ?",
                 P(I(annotation))));
    if (r.empty()) return NotFound("no annotation " + std::to_string(annotation));
    int64_t project = r.Int(0, 0);
    int64_t assignment = r.Int(0, 1);
    const std::string& review_state = r.Text(0, 2);
    const std::string& holder = r.Text(0, 3);
    const std::string& a_state = r.Text(0, 5);
    int round = static_cast<int>(r.Int(0, 6));
    int64_t item = r.Int(0, 7);
    int64_t batch = r.Int(0, 8);
    const std::string& worker = r.Text(0, 9);
    bool latest = !r.IsNull(0, 10) && r.Int(0, 10) == annotation;
    ASSIGN_OR_RETURN(auto roles, RolesIn(tx, caller, project));
    bool escalated = a_state == "escalated";
    if (escalated) {
      if (!roles.contains("manager")) {
        return PermissionDenied("an escalated item is decided by a manager of project " +
                                std::to_string(project));
      }
    } else {
      if (!roles.contains("reviewer")) {
        return PermissionDenied("user '" + caller.user + "' needs the reviewer role in project " +
                                std::to_string(project));
      }
      if (worker == caller.user) return PermissionDenied("nobody reviews their own work");
      if (review_state != "reviewing" || holder != caller.user || !latest ||
          a_state != "submitted") {
        return InvalidArgument("annotation " + std::to_string(annotation) +
                               " is not held for review by '" + caller.user +
                               "' (ask for the next review first)");
      }
    }
    ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
    const std::string& text = r.Text(0, 11);
    ASSIGN_OR_RETURN(nlohmann::json line, ParseStoredJson(r.Text(0, 13)));
    int64_t credit = Credit(r.Int(0, 4), now, active_seconds);
    std::string verdict_name;
    std::string next_state;
    int next_round = round;
    int64_t final_annotation = annotation;
    switch (verdict) {
      case Verdict::kAccept:
        verdict_name = "accept";
        next_state = "accepted";
        break;
      case Verdict::kFixAccept: {
        verdict_name = "fix-accept";
        next_state = "accepted";
        if (!payload) return InvalidArgument("fix-accept needs the corrected payload");
        std::vector<Failure> failures =
            CheckPayload(config, MakeView(line, text, r.Double(0, 12)), *payload);
        if (!failures.empty()) {
          return InvalidArgument("the corrected payload fails the requirements: " +
                                 FailuresJson(failures).dump());
        }
        ASSIGN_OR_RETURN(db::Result v, tx.Query("SELECT COALESCE(MAX(version), 0) FROM "
                                                "label_annotations WHERE assignment_id = ?",
                                                P(I(assignment))));
        ASSIGN_OR_RETURN(
            db::Result n,
            tx.Query("INSERT INTO label_annotations (project_id, assignment_id, version, round, "
                     "author, is_fix, payload, review_state, reviewer, created_at) VALUES "
                     "(?,?,?,?,?,1,?,'done',?,?) RETURNING id",
                     P(I(project), I(assignment), I(v.Int(0, 0) + 1), I(round), Text(caller.user),
                       Text(payload->dump()), Text(caller.user), I(now))));
        final_annotation = n.Int(0, 0);
        break;
      }
      case Verdict::kRework:
        verdict_name = "rework";
        if (round >= config.max_rework_rounds && !escalated) {
          next_state = "escalated";  // the manager decides now
          verdict_name = "escalate";
        } else {
          next_state = "rework";
          next_round = round + 1;
        }
        break;
      case Verdict::kReject:
        verdict_name = "reject";
        next_state = "rejected";
        break;
    }
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE label_annotations SET review_state = 'done', reviewer = ?, review_seconds = "
        "review_seconds + ? WHERE id = ?",
        P(Text(caller.user), I(credit), I(annotation))));
    RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO label_reviews (project_id, annotation_id, assignment_id, reviewer, verdict, "
        "round, comments, created_at) VALUES (?,?,?,?,?,?,?,?)",
        P(I(project), I(annotation), I(assignment), Text(caller.user), Text(verdict_name),
          I(next_round), Text(CommentsToJson(comments).dump()), I(now))));
    RETURN_IF_ERROR(tx.Exec(
        "UPDATE label_assignments SET state = ?, round = ?, latest_annotation = ?, last_seen = ? "
        "WHERE id = ?",
        P(Text(next_state), I(next_round), I(final_annotation), I(now), I(assignment))));
    if (next_state == "accepted") {
      RETURN_IF_ERROR(
          tx.Exec("UPDATE label_items SET accepted = accepted + 1 WHERE id = ?", P(I(item))));
    } else if (next_state == "rejected") {
      // The item needs another annotator in the worker's place.
      RETURN_IF_ERROR(
          tx.Exec("UPDATE label_items SET active = active - 1 WHERE id = ?", P(I(item))));
    }
    return RefreshBatch(tx, batch, config.overlap, caller.user, now);
  });
}

// ---------------------------------------------------------------- batches

StatusOr<std::vector<BatchInfo>> LabelStore::Batches(const Caller& caller, int64_t project) {
  std::vector<BatchInfo> out;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        out.clear();
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager", "reviewer", "requester"}));
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
        ASSIGN_OR_RETURN(
            db::Result r,
            tx.Query(
                "SELECT b.id, b.seq, b.state, b.feedback, COUNT(i.id), SUM(CASE WHEN "
                "i.accepted >= ? THEN 1 ELSE 0 END) FROM label_batches b LEFT JOIN label_items "
                "i ON i.batch_id = b.id WHERE b.project_id = ? GROUP BY b.id, b.seq, b.state, "
                "b.feedback ORDER BY b.seq",
                P(I(config.overlap), I(project))));
        for (size_t i = 0; i < r.size(); ++i) {
          BatchInfo b;
          b.id = r.Int(i, 0);
          b.seq = static_cast<int>(r.Int(i, 1));
          b.state = r.Text(i, 2);
          b.feedback = r.Text(i, 3);
          b.items = static_cast<int>(r.Int(i, 4));
          b.resolved = r.IsNull(i, 5) ? 0 : static_cast<int>(r.Int(i, 5));
          ASSIGN_OR_RETURN(
              db::Result e,
              tx.Query("SELECT state, actor, feedback, at FROM label_batch_events WHERE "
                       "batch_id = ? ORDER BY id",
                       P(I(b.id))));
          b.history = nlohmann::json::array();
          for (size_t k = 0; k < e.size(); ++k) {
            b.history.push_back({{"state", e.Text(k, 0)},
                                 {"actor", e.Text(k, 1)},
                                 {"feedback", e.Text(k, 2)},
                                 {"at", e.Int(k, 3)}});
          }
          out.push_back(std::move(b));
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return out;
}

namespace {
// The batch's project and state; NotFound.
StatusOr<std::pair<int64_t, std::string>> BatchState(db::Transaction& tx, int64_t batch) {
  ASSIGN_OR_RETURN(db::Result r, tx.Query("SELECT project_id, state FROM label_batches WHERE "
                                          "id = ?",
                                          P(I(batch))));
  if (r.empty()) return NotFound("no batch " + std::to_string(batch));
  return std::make_pair(r.Int(0, 0), r.Text(0, 1));
}

// The requester's gate: the batch's project when the caller may decide on it and it is
// ready-for-review; PermissionDenied or InvalidArgument (naming `verb`) otherwise.
StatusOr<int64_t> GateBatch(db::Transaction& tx, const Caller& caller, int64_t batch,
                            std::string_view verb) {
  ASSIGN_OR_RETURN(auto ps, BatchState(tx, batch));
  RETURN_IF_ERROR(Require(tx, caller, ps.first, {"requester", "manager"}));
  if (ps.second != "ready-for-review") {
    return InvalidArgument("batch " + std::to_string(batch) + " is " + ps.second +
                           "; only a ready-for-review batch can be " + std::string(verb));
  }
  return ps.first;
}
}  // namespace

Status LabelStore::AcceptBatch(const Caller& caller, int64_t batch) {
  int64_t now = env_->Now();
  return db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
    RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
    RETURN_IF_ERROR(GateBatch(tx, caller, batch, "accepted").status());
    return AddBatchEvent(tx, batch, "accepted", caller.user, "", now);
  });
}

Status LabelStore::RejectBatch(const Caller& caller, int64_t batch, const std::string& feedback) {
  if (feedback.empty()) return InvalidArgument("rejecting a batch needs feedback for the rework");
  int64_t now = env_->Now();
  return db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
    RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
    ASSIGN_OR_RETURN(int64_t project, GateBatch(tx, caller, batch, "rejected"));
    RETURN_IF_ERROR(AddBatchEvent(tx, batch, "rejected", caller.user, feedback, now));
    RETURN_IF_ERROR(
        tx.Exec("UPDATE label_batches SET feedback = ? WHERE id = ?", P(Text(feedback), I(batch))));
    // Every accepted piece of work goes back to its annotator for a new round, with the
    // requester's feedback as a comment on the whole item.
    ASSIGN_OR_RETURN(db::Result a,
                     tx.Query("SELECT id, item_id, latest_annotation, round FROM "
                              "label_assignments WHERE batch_id = ? AND state = 'accepted'",
                              P(I(batch))));
    std::string comment = CommentsToJson({Comment{"item", feedback, caller.user, 0}}).dump();
    for (size_t i = 0; i < a.size(); ++i) {
      int64_t round = a.Int(i, 3) + 1;
      RETURN_IF_ERROR(tx.Exec(
          "UPDATE label_assignments SET state = 'rework', round = ?, last_seen = ? WHERE id = ?",
          P(I(round), I(now), I(a.Int(i, 0)))));
      RETURN_IF_ERROR(tx.Exec("UPDATE label_items SET accepted = accepted - 1 WHERE id = ?",
                              P(I(a.Int(i, 1)))));
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO label_reviews (project_id, annotation_id, assignment_id, reviewer, "
                  "verdict, round, comments, created_at) VALUES (?,?,?,?,'batch-reject',?,?,?)",
                  P(I(project), I(a.Int(i, 2)), I(a.Int(i, 0)), Text(caller.user), I(round),
                    Text(comment), I(now))));
    }
    return AddBatchEvent(tx, batch, "sent-for-rework", caller.user, feedback, now);
  });
}

// ---------------------------------------------------------------- metrics

StatusOr<std::map<int64_t, nlohmann::json>> LabelStore::BatchQuestionMix(const Caller& caller,
                                                                         int64_t project) {
  // The question-type mix is a distribution: a submission may pass it alone, a batch is
  // what the requester receives, so it is measured per batch over the accepted pairs.
  std::map<int64_t, nlohmann::json> out;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        out.clear();
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager", "requester"}));
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, nullptr));
        const auto& mins = config.requirements.question_type_min_share;
        if (config.kind != Kind::kQaPairs || mins.empty()) return sagebox::Status::Ok();
        ASSIGN_OR_RETURN(
            db::Result r,
            tx.Query("SELECT a.batch_id, n.payload FROM label_assignments a JOIN "
                     "label_annotations n ON n.id = a.latest_annotation WHERE a.project_id = ? "
                     "AND a.state = 'accepted' ORDER BY a.batch_id",
                     P(I(project))));
        std::map<int64_t, std::map<std::string, int64_t>> counts;
        std::map<int64_t, int64_t> totals;
        for (size_t i = 0; i < r.size(); ++i) {
          ASSIGN_OR_RETURN(nlohmann::json payload, ParseStoredJson(r.Text(i, 1)));
          if (!payload.contains("qa_pairs") || !payload["qa_pairs"].is_array()) continue;
          for (const auto& pair : payload["qa_pairs"]) {
            ++totals[r.Int(i, 0)];
            if (pair.is_object() && pair.contains("question_type") &&
                pair["question_type"].is_string()) {
              ++counts[r.Int(i, 0)][pair["question_type"].get<std::string>()];
            }
          }
        }
        for (const auto& [batch, total] : totals) {
          nlohmann::json shares = nlohmann::json::object();
          bool ok = true;
          for (const auto& [type, min] : mins) {
            double share = static_cast<double>(counts[batch][type]) / static_cast<double>(total);
            shares[type] = {{"share", share}, {"min", min}};
            ok = ok && share + 1e-9 >= min;
          }
          out[batch] = {{"pairs", total}, {"types", shares}, {"meets_requirement", ok}};
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return out;
}

StatusOr<nlohmann::json> LabelStore::Metrics(const Caller& caller, int64_t project) {
  nlohmann::json out;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager", "requester"}));
        std::string name;
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, &name));
        // Hourly rates: a member's own for the role, else the project's.
        ASSIGN_OR_RETURN(db::Result m, tx.Query("SELECT user_name, role, hourly_rate FROM "
                                                "label_members WHERE project_id = ?",
                                                P(I(project))));
        std::map<std::pair<std::string, std::string>, Decimal> rates;
        for (size_t i = 0; i < m.size(); ++i) {
          Decimal d;
          if (auto t = m.OptText(i, 2); t && Decimal::Parse(*t, &d)) {
            rates[{m.Text(i, 0), m.Text(i, 1)}] = d;
          }
        }
        auto rate = [&](const std::string& user, const std::string& role) {
          auto it = rates.find({user, role});
          return it != rates.end() ? it->second : config.hourly_rate;
        };
        auto cost = [](Decimal per_hour, int64_t seconds) {
          return Decimal::Div(per_hour * seconds, Decimal::FromInt(3600));
        };

        struct Person {
          int64_t tasks = 0, submitted = 0, accepted = 0, first_reviews = 0, first_accepts = 0;
          int64_t seconds = 0, review_seconds = 0, gold_n = 0;
          double gold_sum = 0;
          Decimal cost;
        };
        std::map<std::string, Person> people;
        ASSIGN_OR_RETURN(db::Result a,
                         tx.Query("SELECT worker, state, round, active_seconds FROM "
                                  "label_assignments WHERE project_id = ? AND state <> 'expired'",
                                  P(I(project))));
        int64_t accepted = 0, tasks = 0, seconds = 0, rounds_sum = 0, rounds_max = 0;
        Decimal total_cost;
        for (size_t i = 0; i < a.size(); ++i) {
          Person& p = people[a.Text(i, 0)];
          const std::string& st = a.Text(i, 1);
          ++p.tasks;
          if (st != "reserved") {
            ++tasks;
            seconds += a.Int(i, 3);
          }
          p.seconds += a.Int(i, 3);
          Decimal c = cost(rate(a.Text(i, 0), "annotator"), a.Int(i, 3));
          p.cost += c;
          total_cost += c;
          if (st == "accepted") {
            ++accepted;
            ++p.accepted;
            rounds_sum += a.Int(i, 2);
            rounds_max = std::max(rounds_max, a.Int(i, 2));
          }
        }
        // First reviews: the first verdict on each assignment's round-0 submission.
        ASSIGN_OR_RETURN(
            db::Result fr,
            tx.Query(
                "SELECT a.worker, r.verdict FROM label_reviews r JOIN label_assignments a ON "
                "a.id = r.assignment_id WHERE r.project_id = ? AND r.id IN (SELECT MIN(id) "
                "FROM label_reviews WHERE project_id = ? AND verdict <> 'batch-reject' GROUP BY "
                "assignment_id)",
                P(I(project), I(project))));
        int64_t first = 0, first_accept = 0, first_fix = 0;
        for (size_t i = 0; i < fr.size(); ++i) {
          Person& p = people[fr.Text(i, 0)];
          ++first;
          ++p.first_reviews;
          if (fr.Text(i, 1) == "accept") {
            ++first_accept;
            ++p.first_accepts;
          } else if (fr.Text(i, 1) == "fix-accept") {
            ++first_fix;
          }
        }
        ASSIGN_OR_RETURN(
            db::Result n,
            tx.Query("SELECT author, is_fix, gold_score, reviewer, review_seconds FROM "
                     "label_annotations WHERE project_id = ?",
                     P(I(project))));
        int64_t gold_n = 0, submissions = 0, review_seconds = 0;
        double gold_sum = 0;
        for (size_t i = 0; i < n.size(); ++i) {
          if (n.Int(i, 1) == 0) {
            ++submissions;
            ++people[n.Text(i, 0)].submitted;
          }
          if (!n.IsNull(i, 2)) {
            ++gold_n;
            gold_sum += n.Double(i, 2);
            Person& p = people[n.Text(i, 0)];
            ++p.gold_n;
            p.gold_sum += n.Double(i, 2);
          }
          if (!n.Text(i, 3).empty() && n.Int(i, 4) > 0) {
            Person& p = people[n.Text(i, 3)];
            p.review_seconds += n.Int(i, 4);
            review_seconds += n.Int(i, 4);
            Decimal c = cost(rate(n.Text(i, 3), "reviewer"), n.Int(i, 4));
            p.cost += c;
            total_cost += c;
          }
        }
        ASSIGN_OR_RETURN(db::Result items, tx.Query("SELECT COUNT(*) FROM label_items WHERE "
                                                    "project_id = ?",
                                                    P(I(project))));
        auto share = [](int64_t num, int64_t den) -> nlohmann::json {
          return den > 0 ? nlohmann::json(static_cast<double>(num) / static_cast<double>(den))
                         : nlohmann::json(nullptr);
        };
        out = {
            {"project", name},
            {"kind", KindName(config.kind)},
            {"items", items.Int(0, 0)},
            {"submissions", submissions},
            {"accepted", accepted},
            {"first_reviews", first},
            {"first_review_acceptance", share(first_accept, first)},
            {"first_review_fix_accept", share(first_fix, first)},
            {"rework_rounds",
             {{"mean", accepted > 0 ? nlohmann::json(static_cast<double>(rounds_sum) /
                                                     static_cast<double>(accepted))
                                    : nlohmann::json(nullptr)},
              {"max", rounds_max}}},
            {"gold",
             {{"submissions", gold_n},
              {"accuracy", gold_n > 0 ? nlohmann::json(gold_sum / static_cast<double>(gold_n))
                                      : nlohmann::json(nullptr)}}},
            {"active_seconds_per_task",
             tasks > 0 ? nlohmann::json(static_cast<double>(seconds) / static_cast<double>(tasks))
                       : nlohmann::json(nullptr)},
            {"review_seconds", review_seconds},
            {"cost", total_cost.ToFixed(4)},
            {"cost_per_accepted_label",
             accepted > 0
                 ? nlohmann::json(Decimal::Div(total_cost, Decimal::FromInt(accepted)).ToFixed(4))
                 : nlohmann::json(nullptr)},
            {"currency", "USD"}};
        nlohmann::json per = nlohmann::json::array();
        for (const auto& [user, p] : people) {
          per.push_back({{"user", user},
                         {"tasks", p.tasks},
                         {"submissions", p.submitted},
                         {"accepted", p.accepted},
                         {"first_review_acceptance", share(p.first_accepts, p.first_reviews)},
                         {"gold_accuracy",
                          p.gold_n > 0 ? nlohmann::json(p.gold_sum / static_cast<double>(p.gold_n))
                                       : nlohmann::json(nullptr)},
                         {"active_seconds", p.seconds},
                         {"review_seconds", p.review_seconds},
                         {"cost", p.cost.ToFixed(4)}});
        }
        out["people"] = std::move(per);
        // Agreement between annotators where overlap > 1: the latest version of each
        // submitted (not rejected) assignment, grouped by item.
        ASSIGN_OR_RETURN(
            db::Result ag,
            tx.Query("SELECT a.item_id, n.payload FROM label_assignments a JOIN label_annotations "
                     "n ON n.id = a.latest_annotation WHERE a.project_id = ? AND a.state IN "
                     "('submitted','accepted') ORDER BY a.item_id, a.id",
                     P(I(project))));
        std::vector<std::vector<nlohmann::json>> per_item;
        int64_t last_item = -1;
        for (size_t i = 0; i < ag.size(); ++i) {
          if (ag.Int(i, 0) != last_item) {
            per_item.emplace_back();
            last_item = ag.Int(i, 0);
          }
          ASSIGN_OR_RETURN(nlohmann::json pj, ParseStoredJson(ag.Text(i, 1)));
          per_item.back().push_back(std::move(pj));
        }
        std::erase_if(per_item, [](const auto& v) { return v.size() < 2; });
        out["agreement"] = ProjectAgreement(config, per_item);
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  ASSIGN_OR_RETURN(auto batches, Batches(caller, project));
  ASSIGN_OR_RETURN(auto mixes, BatchQuestionMix(caller, project));
  nlohmann::json b = nlohmann::json::array();
  for (const BatchInfo& x : batches) {
    nlohmann::json row = {{"id", x.id},
                          {"seq", x.seq},
                          {"state", x.state},
                          {"items", x.items},
                          {"resolved", x.resolved}};
    if (auto it = mixes.find(x.id); it != mixes.end()) row["question_type_mix"] = it->second;
    b.push_back(std::move(row));
  }
  out["batches"] = std::move(b);
  return out;
}

// ---------------------------------------------------------------- exports

StatusOr<ExportResult> LabelStore::Export(const Caller& caller, int64_t project,
                                          ExportOptions options, ExportScope scope) {
  std::string name;
  ProjectConfig config;
  std::vector<ExportItem> items;
  std::set<int64_t> batches;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        items.clear();
        batches.clear();
        RETURN_IF_ERROR(Require(tx, caller, project, {"manager", "requester"}));
        ASSIGN_OR_RETURN(config, LoadConfig(tx, project, &name));
        std::string sql =
            "SELECT i.id, i.line, a.id, a.worker, a.round, a.active_seconds, n.id, n.payload, "
            "n.created_at, n.reviewer, b.id FROM label_assignments a JOIN label_items i ON i.id = "
            "a.item_id JOIN label_annotations n ON n.id = a.latest_annotation JOIN label_batches b "
            "ON b.id = a.batch_id WHERE a.project_id = ? AND a.state = 'accepted'";
        if (scope == ExportScope::kAccepted) sql += " AND b.state IN ('accepted','delivered')";
        sql += " ORDER BY i.id, a.id";
        ASSIGN_OR_RETURN(db::Result r, tx.Query(sql, P(I(project))));
        for (size_t k = 0; k < r.size(); ++k) {
          if (items.empty() || items.back().id != r.Int(k, 0)) {
            ExportItem it;
            it.id = r.Int(k, 0);
            ASSIGN_OR_RETURN(it.line, ParseStoredJson(r.Text(k, 1)));
            items.push_back(std::move(it));
          }
          ExportAnnotation a;
          a.id = r.Int(k, 6);
          a.worker = r.Text(k, 3);
          a.rework_rounds = static_cast<int>(r.Int(k, 4));
          a.active_seconds = r.Int(k, 5);
          ASSIGN_OR_RETURN(a.payload, ParseStoredJson(r.Text(k, 7)));
          a.created_at = r.Int(k, 8);
          a.reviewer = r.Text(k, 9);
          items.back().annotations.push_back(std::move(a));
          batches.insert(r.Int(k, 10));
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  if (options.job_name.empty()) options.job_name = name;
  if (options.label_attribute.empty()) options.label_attribute = config.label_attribute;
  // The file is a blob: named by its sha256, read-only, never rewritten.
  ASSIGN_OR_RETURN(auto writer, blobs_.NewWriter());
  RETURN_IF_ERROR(RenderExport(config, items, options,
                               [&](std::string_view piece) { return writer->Append(piece); }));
  ASSIGN_OR_RETURN(store::BlobRef ref, writer->Finish());
  ExportResult result;
  ASSIGN_OR_RETURN(result.path, blobs_.Path(ref.sha256));
  result.sha256 = ref.sha256;
  result.bytes = static_cast<int64_t>(ref.bytes);
  result.items = static_cast<int>(items.size());
  for (const auto& it : items) result.annotations += static_cast<int>(it.annotations.size());
  int64_t now = env_->Now();
  nlohmann::json opts = {{"style", options.style},
                         {"dimension", options.dimension},
                         {"closed_book", options.closed_book},
                         {"scope", scope == ExportScope::kAccepted ? "accepted" : "reviewed"}};
  if (options.format == ExportFormat::kPreference) {
    opts["pairs"] = options.pairs == PairPolicy::kAllPairs     ? "all-pairs"
                    : options.pairs == PairPolicy::kBestVsRest ? "best-vs-rest"
                                                               : "adjacent";
  }
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(QueueWriter(db_->backend(), tx));
        ASSIGN_OR_RETURN(
            db::Result r,
            tx.Query(
                "INSERT INTO label_exports (project_id, format, options, sha256, bytes, items, "
                "annotations, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                P(I(project), Text(ExportFormatName(options.format)), Text(opts.dump()),
                  Text(result.sha256), I(result.bytes), I(result.items), I(result.annotations),
                  Text(caller.user), I(now))));
        result.id = r.Int(0, 0);
        if (scope != ExportScope::kAccepted) return sagebox::Status::Ok();
        for (int64_t b : batches) {
          ASSIGN_OR_RETURN(auto ps, BatchState(tx, b));
          if (ps.second == "accepted") {
            RETURN_IF_ERROR(AddBatchEvent(tx, b, "delivered", caller.user, "", now));
          }
        }
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return result;
}

StatusOr<nlohmann::json> LabelStore::Summary(const Caller& caller, int64_t project) {
  nlohmann::json out;
  if (sagebox::Status done = db_->InTransaction([&](db::Transaction& tx) -> sagebox::Status {
        RETURN_IF_ERROR(
            Require(tx, caller, project, {"manager", "annotator", "reviewer", "requester"}));
        std::string name;
        ASSIGN_OR_RETURN(ProjectConfig config, LoadConfig(tx, project, &name));
        ASSIGN_OR_RETURN(db::Result items, tx.Query("SELECT COUNT(*), SUM(CASE WHEN accepted >= ? "
                                                    "THEN 1 ELSE 0 END) FROM label_items WHERE "
                                                    "project_id = ?",
                                                    P(I(config.overlap), I(project))));
        nlohmann::json counts = nlohmann::json::object();
        ASSIGN_OR_RETURN(db::Result a,
                         tx.Query("SELECT state, COUNT(*) FROM label_assignments WHERE "
                                  "project_id = ? GROUP BY state ORDER BY state",
                                  P(I(project))));
        for (size_t i = 0; i < a.size(); ++i) counts[a.Text(i, 0)] = a.Int(i, 1);
        nlohmann::json batches = nlohmann::json::object();
        ASSIGN_OR_RETURN(db::Result b, tx.Query("SELECT state, COUNT(*) FROM label_batches WHERE "
                                                "project_id = ? GROUP BY state ORDER BY state",
                                                P(I(project))));
        for (size_t i = 0; i < b.size(); ++i) batches[b.Text(i, 0)] = b.Int(i, 1);
        ASSIGN_OR_RETURN(db::Result q, tx.Query("SELECT COUNT(*) FROM label_annotations WHERE "
                                                "project_id = ? AND review_state IN "
                                                "('pending','reviewing')",
                                                P(I(project))));
        ASSIGN_OR_RETURN(db::Result e, tx.Query("SELECT id, format, sha256, bytes, created_at FROM "
                                                "label_exports WHERE project_id = ? ORDER BY id",
                                                P(I(project))));
        nlohmann::json exports = nlohmann::json::array();
        for (size_t i = 0; i < e.size(); ++i) {
          exports.push_back({{"id", e.Int(i, 0)},
                             {"format", e.Text(i, 1)},
                             {"sha256", e.Text(i, 2)},
                             {"bytes", e.Int(i, 3)},
                             {"created_at", e.Int(i, 4)}});
        }
        out = {{"project", name},
               {"id", project},
               {"kind", KindName(config.kind)},
               {"items", items.Int(0, 0)},
               {"items_resolved", items.IsNull(0, 1) ? 0 : items.Int(0, 1)},
               {"overlap", config.overlap},
               {"assignments", counts},
               {"batches", batches},
               {"review_queue", q.Int(0, 0)},
               {"exports", exports}};
        return sagebox::Status::Ok();
      });
      !done.ok()) {
    return done;
  }
  return out;
}

}  // namespace sagebox::label
