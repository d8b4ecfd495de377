// label_store.h: the label module's quality loop on the platform database (label.md
// "The quality loop"): projects and their members, items imported in batches,
// reservations, drafts and submissions, reviews with anchored comments, rework rounds and
// escalation, the batch gate, metrics and exports.
//
// The tables (migration component "label"):
//   label_projects      name, kind, config (JSON), creator
//   label_members       (project, user, role) with an optional hourly rate
//   label_batches       per import, `batch_size` items each, numbered per project
//   label_batch_events  every batch state change (state, actor, feedback): the last is the
//                       batch's state, the rest its history
//   label_items         the manifest line, passage text, media blob, gold payload
//   label_assignments   one annotator's work on one item: state, round, draft, reservation,
//                       active seconds; UNIQUE(item, worker) so an annotator never gets an
//                       item twice
//   label_annotations   every submitted version (the annotator's, or a reviewer's fix)
//   label_reviews       verdicts with their comments
//   label_exports       every export file with its sha256
//
// Assignment states: reserved → submitted → accepted | rework | rejected | escalated;
// rework → submitted (next round); reserved → expired after the time-out (the item is
// free again; the annotator's draft is kept should they get it back). An annotation's
// review state: pending (sampled, waiting) → reviewing (held by a reviewer) → done, or
// skipped (not sampled: accepted as submitted).
//
// Every call that changes state runs in one database transaction, so two annotators asking
// at once never get the same reservation (SQLite takes the write lock at BEGIN; PostgreSQL
// is SERIALIZABLE and the loser is retried), and a crash mid-call leaves the state as it
// was before the call: what a call acknowledged is committed.
//
// Who may do what is checked here (every call takes the caller), so the CLI and the HTTP
// API cannot disagree: a platform admin acts as manager of every project; the creator of a
// project is its manager; the project roles are manager, annotator, reviewer, requester
// (label.md "Interfaces"). PermissionDenied names the role the call needs.
//
// Thread-safety: a LabelStore is safe for concurrent use (the database is).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"
#include "db/database.h"
#include "label/export.h"
#include "label/manifest.h"
#include "label/project.h"
#include "store/blob_store.h"

namespace sagebox::label {

// The label module's migrations (component "label").
std::span<const db::Migration> Migrations();

// Who is calling: the user name and whether the platform made them an admin.
struct Caller {
  std::string user;
  bool admin = false;
};

enum class Verdict { kAccept, kFixAccept, kRework, kReject };
// "accept", "fix-accept", "rework", "reject"; InvalidArgument naming them otherwise.
StatusOr<Verdict> ParseVerdict(std::string_view name);

struct Project {
  int64_t id = 0;
  std::string name;
  ProjectConfig config;
  std::string created_by;
  int64_t created_at = 0;
  std::vector<std::string> roles;  // the caller's roles in it ("manager" for an admin)
};

// A reviewer's comment, anchored to a part of the work: "item" (the whole), "span:S-E"
// (passage code points), "pair:ID", "object:ID", "activity:ID", "time:S-E" (seconds),
// "dimension:NAME". Anchors are free text to the store; the UI draws them.
struct Comment {
  std::string anchor;
  std::string text;
  std::string author;
  int round = 0;  // the round the comment sent back
};

// What an annotator is given: the item and their own work on it, never anyone else's.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Assignment {
  int64_t id = 0;
  int64_t project_id = 0;
  int64_t item_id = 0;
  int64_t batch_id = 0;
  std::string worker;
  std::string state;
  int round = 0;                  // 0 = first attempt; n = the n-th rework
  nlohmann::json item;            // the manifest line (gold removed)
  std::string media_sha256;       // the item's media blob, or ""
  nlohmann::json draft;           // null when none; in a rework round without a draft, the
                                  // version that was sent back
  std::vector<Comment> comments;  // the reviewers' comments from earlier rounds
  int64_t reserved_until = 0;
  int64_t active_seconds = 0;
};

// What a reviewer is given: one submitted version and the checks it passed.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ReviewTask {
  int64_t annotation_id = 0;
  int64_t assignment_id = 0;
  int64_t item_id = 0;
  std::string worker;
  int round = 0;
  bool gold = false;
  bool escalated = false;  // the manager's queue: rework rounds ran out
  nlohmann::json item;
  std::string media_sha256;
  nlohmann::json payload;
  std::vector<Comment> comments;  // earlier rounds'
  nlohmann::json checklist;       // [{"requirement","passed"}] from the project's requirements
};

struct SubmitResult {
  int64_t annotation_id = 0;
  bool reviewed = false;          // sampled (or gold, or a rework round): waits for a reviewer
  std::vector<Failure> failures;  // non-empty: nothing was submitted
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct BatchInfo {
  int64_t id = 0;
  int seq = 0;  // 1, 2, … within the project
  std::string state;
  int items = 0;
  int resolved = 0;        // items with all their `overlap` annotations accepted
  std::string feedback;    // the requester's last rejection
  nlohmann::json history;  // [{"state","actor","feedback","at"}]
};

struct ImportResult {
  int items = 0;
  int batches = 0;
  int media = 0;  // media files copied into the blob store
};

struct ExportResult {
  int64_t id = 0;
  std::string path;  // the immutable file under <data>/label/exports/
  std::string sha256;
  int64_t bytes = 0;
  int items = 0;
  int annotations = 0;
};

// Which work an export takes.
enum class ExportScope {
  kAccepted,  // accepted annotations in batches the requester accepted (the default)
  kReviewed,  // accepted annotations in any batch (before the requester's gate)
};

class LabelStore {
 public:
  // `db` must be migrated with Migrations() and outlive the store. `data_dir` holds
  // exports (<data>/label/exports) and the blob store (<data>/blobs).
  LabelStore(db::Database* db, Env* env, std::string data_dir);

  // --- projects and members
  // Creates a project; the caller becomes its manager. AlreadyExists for a taken name,
  // InvalidArgument for an empty or over-long name.
  StatusOr<Project> CreateProject(const Caller& caller, const std::string& name,
                                  const ProjectConfig& config);
  // A project by id or name, with the caller's roles. NotFound; PermissionDenied when the
  // caller has no role in it.
  StatusOr<Project> GetProject(const Caller& caller, const std::string& id_or_name);
  // The projects the caller has a role in (every project for an admin).
  StatusOr<std::vector<Project>> ListProjects(const Caller& caller);
  // Adds `user` with `role` (manager only). InvalidArgument for an unknown role or a bad
  // rate; adding a held role again updates the rate.
  Status AddMember(const Caller& caller, int64_t project, const std::string& user,
                   const std::string& role, std::optional<Decimal> hourly_rate);
  StatusOr<nlohmann::json> ListMembers(const Caller& caller, int64_t project);

  // --- items
  // Imports parsed manifest lines as new batches (manager only), media copied into the
  // blob store first; all or nothing (a failure leaves no items, no batches).
  StatusOr<ImportResult> Import(const Caller& caller, int64_t project,
                                const std::vector<ManifestLine>& lines);

  // --- annotators
  // The caller's next assignment (annotator only): their open rework first, then their
  // live reservation, then a new reservation on the first item (in import order) that
  // still needs annotators and that they have not worked on. nullopt when nothing is left.
  StatusOr<std::optional<Assignment>> Next(const Caller& caller, int64_t project);
  // The caller's own assignment. NotFound; PermissionDenied for anyone else's.
  StatusOr<Assignment> GetAssignment(const Caller& caller, int64_t assignment);
  // Saves a draft and extends the reservation. FailedPrecondition-like InvalidArgument
  // when the assignment is not open (submitted, expired and taken, ...).
  // `active_seconds` is the client's count of active time since its last report; the
  // store credits at most the wall time since the last report (idle time is the client's
  // to exclude; without a count the store credits the wall time up to 5 minutes).
  Status SaveDraft(const Caller& caller, int64_t assignment, const nlohmann::json& payload,
                   std::optional<int64_t> active_seconds);
  // Runs the requirement checks; on success stores a new annotation version and sends it
  // to review (sampled) or accepts it. Failures come back in the result, not as a Status.
  StatusOr<SubmitResult> Submit(const Caller& caller, int64_t assignment,
                                const nlohmann::json& payload,
                                std::optional<int64_t> active_seconds);

  // --- reviewers
  // The next submission to review (reviewer or manager; a manager gets escalated items
  // first). Never the caller's own work. nullopt when the queue is empty.
  StatusOr<std::optional<ReviewTask>> NextReview(const Caller& caller, int64_t project);
  // A verdict on an annotation the caller holds for review (or, as manager, an escalated
  // one). fix-accept needs `payload`, which must pass the checks (its failures come back
  // as InvalidArgument naming them). rework past max_rework_rounds escalates instead.
  Status Review(const Caller& caller, int64_t annotation, Verdict verdict,
                const std::vector<Comment>& comments, const std::optional<nlohmann::json>& payload,
                std::optional<int64_t> active_seconds);

  // --- batches
  StatusOr<std::vector<BatchInfo>> Batches(const Caller& caller, int64_t project);
  // The requester's gate (requester or manager): accept a ready-for-review batch, or
  // reject it with feedback (its accepted work goes back to its annotators as a rework
  // round with the feedback as an item comment). InvalidArgument when the batch is not
  // ready-for-review.
  Status AcceptBatch(const Caller& caller, int64_t batch);
  Status RejectBatch(const Caller& caller, int64_t batch, const std::string& feedback);

  // --- metrics and exports
  // Project metrics (manager or requester), JSON: {"items","submissions","accepted",
  // "first_review_acceptance", "rework_rounds", "gold", "active_seconds_per_task",
  // "cost", "cost_per_accepted_label", "agreement", "people":[…], "batches":[…]}; a
  // qa-pairs batch also gets its "question_type_mix" (the requirement is a distribution,
  // so it is measured per batch too).
  StatusOr<nlohmann::json> Metrics(const Caller& caller, int64_t project);
  // Renders an export (manager or requester) into a new immutable file and records it;
  // batches it covers become `delivered`.
  StatusOr<ExportResult> Export(const Caller& caller, int64_t project, ExportOptions options,
                                ExportScope scope);
  // Counts per state for `label status` (any project role).
  StatusOr<nlohmann::json> Summary(const Caller& caller, int64_t project);

  store::BlobStore& blobs() { return blobs_; }

 private:
  // Per batch with accepted qa pairs, when the project has a question-type mix: each
  // type's share of the accepted pairs against its minimum.
  StatusOr<std::map<int64_t, nlohmann::json>> BatchQuestionMix(const Caller& caller,
                                                               int64_t project);

  db::Database* db_;
  Env* env_;
  std::string data_dir_;
  store::BlobStore blobs_;
};

}  // namespace sagebox::label
