// tracking_store.h: pipeline runs and the model registry on the platform database, in
// MLflow's data model (mlflow/entities, mlflow/store/tracking/sqlalchemy_store.py), so the
// MLflow REST subset (pipeline/api/mlflow_routes.h) is a thin layer over it.
//
// The tables (migration component "pipeline_tracking"):
//   tracking_experiments        id (0 is MLflow's "Default"), unique name, artifact_location,
//                               lifecycle_stage active|deleted, times in ms
//   tracking_experiment_tags
//   tracking_runs               32-hex run_id, experiment, run_name, user_id, status, start/end
//                               ms, artifact_uri, lifecycle_stage, cost_usd (exact Decimal text)
//   tracking_params             immutable once logged (MLflow: re-logging another value is
//                               INVALID_PARAMETER_VALUE; the same value is a no-op)
//   tracking_metrics            the full history (key, value, timestamp ms, step); NaN is
//                               stored as is_nan = 1 with value 0 and ±inf as ±DBL_MAX, as
//                               MLflow's SQL store does (SQLite has no NaN)
//   tracking_latest_metrics     the latest per key: greatest (step, timestamp, value), as
//                               MLflow's _update_latest_metrics_if_necessary
//   tracking_run_tags
//   tracking_artifacts          path, size, sha256 of the files under the run's artifact folder
//   tracking_models, tracking_model_tags, tracking_model_aliases
//   tracking_model_versions     auto-numbered per model, source, run_id, run_link, status READY
//   tracking_model_version_tags
// Every call that writes runs in one transaction; searches build SQL with bound parameters
// only (search_filter.h parses the user's text).
//
// Errors: NotFound (MLflow's RESOURCE_DOES_NOT_EXIST) naming the id; AlreadyExists
// (RESOURCE_ALREADY_EXISTS); InvalidArgument (INVALID_PARAMETER_VALUE) naming the field.
//
// Thread-safety: a TrackingStore is safe for concurrent use (the database is).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "db/database.h"

namespace sagebox::pipeline::tracking {

// The migrations of component "pipeline_tracking".
std::span<const db::Migration> Migrations();

// The tag every costed run carries (the exact Decimal as text, US dollars).
inline constexpr const char* kCostTag = "sagebox.cost_usd";

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};

struct Experiment {
  std::string experiment_id;  // decimal text, as MLflow's API
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  // "active" | "deleted"
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<KeyValue> tags;
};

struct Metric {
  std::string key;
  double value = 0;  // NaN and ±DBL_MAX as stored
  int64_t timestamp = 0;
  int64_t step = 0;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  std::string status;  // RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest per key, by key
  std::vector<KeyValue> params;
  std::vector<KeyValue> tags;
  std::optional<Decimal> cost_usd;
};

struct Artifact {
  std::string path;  // relative to the run's artifact folder, '/'-separated
  int64_t size = 0;
  std::string sha256;
};

struct ModelVersion {
  std::string name;
  std::string version;  // decimal text, as MLflow's API
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::string source;
  std::string run_id;
  std::string run_link;
  std::string status = "READY";
  std::string current_stage = "None";
  std::vector<KeyValue> tags;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<KeyValue> tags;
  std::vector<std::pair<std::string, std::string>> aliases;  // alias → version
  std::vector<ModelVersion> latest_versions;                 // the newest version, if any
};

enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
// "ACTIVE_ONLY" (also ""), "DELETED_ONLY", "ALL"; InvalidArgument otherwise.
StatusOr<ViewType> ParseViewType(std::string_view text);

struct SearchRequest {
  std::vector<std::string> experiment_ids;  // runs only
  std::string filter;
  std::vector<std::string> order_by;
  int64_t max_results = 1000;
  std::string page_token;
  ViewType view = ViewType::kActiveOnly;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // "" on the last page
};

struct TrackingOptions {
  // Where runs' artifact folders live (<data>/mlflow-artifacts); experiment N's default
  // artifact_location is <root>/N and a run's artifact_uri is <location>/<run_id>/artifacts.
  std::string artifact_root;
  // Milliseconds since the epoch; the system clock when unset (tests fix it).
  std::function<int64_t()> now_ms;
  // Prefix of a version's run_link ("http://host/#/experiments/E/runs/R" is MLflow's UI
  // link; sagebox leaves it empty unless told).
  std::string run_link_prefix;
};

// What RegisterBest picked and made.
struct BestRun {
  Run run;
  double metric_value = 0;
  ModelVersion version;
};

class TrackingStore {
 public:
  // Creates MLflow's default experiment "0" ("Default") when missing. The database must be
  // migrated (Migrations()). Errors: the database's.
  static StatusOr<std::unique_ptr<TrackingStore>> Open(db::Database* db, TrackingOptions opt);

  // Experiments. Create: AlreadyExists when the name is taken (also by a deleted one, as
  // MLflow), InvalidArgument for an empty name.
  StatusOr<std::string> CreateExperiment(const std::string& name,
                                         const std::string& artifact_location,
                                         const std::vector<KeyValue>& tags);
  StatusOr<Experiment> GetExperiment(const std::string& id);
  StatusOr<Experiment> GetExperimentByName(const std::string& name);
  StatusOr<Page<Experiment>> SearchExperiments(const SearchRequest& req);
  Status RenameExperiment(const std::string& id, const std::string& new_name);
  Status DeleteExperiment(const std::string& id);   // and its runs (lifecycle deleted)
  Status RestoreExperiment(const std::string& id);  // and its runs
  Status SetExperimentTag(const std::string& id, const KeyValue& tag);

  // Runs. Create: NotFound for an unknown experiment, InvalidArgument for a deleted one.
  // The mlflow.runName tag and run_name agree, as MLflow keeps them.
  StatusOr<Run> CreateRun(const std::string& experiment_id, const std::string& user_id,
                          const std::string& run_name, int64_t start_time,
                          const std::vector<KeyValue>& tags);
  StatusOr<Run> GetRun(const std::string& run_id);
  // Status (empty: unchanged), end time, name (empty: unchanged). InvalidArgument for a
  // status MLflow does not have.
  StatusOr<RunInfo> UpdateRun(const std::string& run_id, const std::string& status,
                              std::optional<int64_t> end_time, const std::string& run_name);
  Status DeleteRun(const std::string& run_id);
  Status RestoreRun(const std::string& run_id);
  // Metrics, params and tags in one transaction, MLflow's log-batch semantics: metrics
  // append, params are immutable (a different value: InvalidArgument naming the key, the
  // old and the new value, and nothing of the batch is kept), tags overwrite. A run that is
  // not active is InvalidArgument ("must be in the 'active' state").
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<KeyValue>& params, const std::vector<KeyValue>& tags);
  Status DeleteTag(const std::string& run_id, const std::string& key);
  StatusOr<std::vector<Metric>> MetricHistory(const std::string& run_id, const std::string& key);
  StatusOr<Page<Run>> SearchRuns(const SearchRequest& req);
  // The exact cost of a run, also written as the tag sagebox.cost_usd.
  Status SetCost(const std::string& run_id, Decimal cost_usd);

  // The run's artifact folder on this machine (artifact_uri without a file:// scheme).
  StatusOr<std::string> ArtifactDir(const std::string& run_id);
  // Walks the run's artifact folder and records every file's path, size and sha256 (the
  // list replaces the previous one). IoError when a file cannot be read.
  StatusOr<std::vector<Artifact>> RecordArtifacts(const std::string& run_id);
  // The recorded files directly under `path` ("" = the root) and the folders there, as
  // MLflow's artifacts/list: folders have size -1.
  struct ArtifactEntry {
    std::string path;
    bool is_dir = false;
    int64_t file_size = 0;
  };
  StatusOr<std::vector<ArtifactEntry>> ListArtifacts(const std::string& run_id,
                                                     const std::string& path);

  // The registry.
  StatusOr<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                  const std::string& description,
                                                  const std::vector<KeyValue>& tags);
  StatusOr<RegisteredModel> GetRegisteredModel(const std::string& name);
  StatusOr<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                  const std::string& new_name);
  StatusOr<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                  const std::string& description);
  Status DeleteRegisteredModel(const std::string& name);  // with its versions and aliases
  StatusOr<Page<RegisteredModel>> SearchRegisteredModels(const SearchRequest& req);
  Status SetRegisteredModelTag(const std::string& name, const KeyValue& tag);
  // Points `alias` at `version` (moving it from wherever it pointed). NotFound for an
  // unknown model or version; InvalidArgument for an alias MLflow refuses ("latest", or
  // "v<digits>").
  Status SetAlias(const std::string& name, const std::string& alias, const std::string& version);
  Status DeleteAlias(const std::string& name, const std::string& alias);
  StatusOr<ModelVersion> GetVersionByAlias(const std::string& name, const std::string& alias);

  StatusOr<ModelVersion> CreateModelVersion(const std::string& name, const std::string& source,
                                            const std::string& run_id, const std::string& run_link,
                                            const std::string& description,
                                            const std::vector<KeyValue>& tags);
  StatusOr<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  StatusOr<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                            const std::string& description);
  Status DeleteModelVersion(const std::string& name, const std::string& version);
  StatusOr<Page<ModelVersion>> SearchModelVersions(const SearchRequest& req);
  Status SetModelVersionTag(const std::string& name, const std::string& version,
                            const KeyValue& tag);

  // The best run of `experiment_id` matching `filter` (MLflow's grammar) by `metric`'s
  // latest value ("max" or "min"; NaN never wins); ties go to the earliest start, then the
  // smallest run_id. Registers it as a new version of `model_name` (created if missing)
  // with source <artifact_uri>/model and `lineage` as version tags, and moves `alias` to
  // it. NotFound when no active run has the metric; InvalidArgument for a bad direction or
  // filter.
  StatusOr<BestRun> RegisterBest(const std::string& experiment_id, const std::string& filter,
                                 const std::string& metric, const std::string& direction,
                                 const std::string& model_name, const std::string& alias,
                                 const std::vector<KeyValue>& lineage);

 private:
  TrackingStore(db::Database* db, TrackingOptions opt) : db_(db), opt_(std::move(opt)) {}
  int64_t Now() const;

  db::Database* db_;
  TrackingOptions opt_;
};

}  // namespace sagebox::pipeline::tracking
