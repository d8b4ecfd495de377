// job_service.cc: SageMaker jobs on the job runner (job_service.h).
#include "pipeline/sagemaker/job_service.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <thread>
#include <utility>

#include "jobs/process.h"

namespace sagebox::pipeline::sagemaker {

namespace {

using nlohmann::json;

template <typename... A>
std::vector<db::Value> P(A&&... a) {
  return {db::Value(std::forward<A>(a))...};
}
db::Value Text(std::string_view s) { return db::Value(std::string(s)); }
db::Value Opt(const std::optional<std::string>& s) {
  return s ? db::Value(*s) : db::Value(std::monostate{});
}

std::string RunnerKind(JobKind k) { return "sagemaker-" + std::string(KindName(k)); }
std::string Key(JobKind k, const std::string& name) {
  return std::string(KindName(k)) + "/" + name;
}
// AWS's spelling in messages: "Processing job", "Training job".
std::string Noun(JobKind k) {
  return k == JobKind::kProcessing ? "Processing job" : "Training job";
}

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first KiB of a file, or nullopt when it does not exist or is empty.
std::optional<std::string> ReadHead(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string buf(max, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(max));
  buf.resize(static_cast<size_t>(in.gcount()));
  if (buf.empty()) return std::nullopt;
  return buf;
}

// The last non-empty line of a log file (its last 8 KiB are enough).
std::string LastLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const auto size = static_cast<int64_t>(in.tellg());
  const int64_t from = std::max<int64_t>(0, size - 8192);
  in.seekg(from);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  const auto nl = tail.rfind('\n');
  return nl == std::string::npos ? tail : tail.substr(nl + 1);
}

constexpr const char* kColumns =
    "kind, name, arn, region, request, status, secondary_status, transitions, failure_reason, "
    "created_us, modified_us, started_us, ended_us, instance_type, instance_count, "
    "runner_jobs, metrics, billable_seconds, cost_usd, price_usd_per_hour, price_region, owner";

// runner_jobs of a job created with JobStart::kDeferred until StartDeferred claims it.
constexpr const char* kDeferredMark = R"({"deferred":true})";

// One row of sagemaker_jobs. (clang-tidy sees nlohmann::json's members as throwing in the
// implicit constructor; a default json is null and allocates nothing.)
struct Row {  // NOLINT(bugprone-exception-escape)
  JobKind kind = JobKind::kProcessing;
  std::string name, arn, region;
  json request;
  std::string status;
  std::optional<std::string> secondary;
  json transitions;
  std::optional<std::string> failure_reason;
  int64_t created_us = 0, modified_us = 0;
  std::optional<int64_t> started_us, ended_us;
  std::string instance_type;
  int instance_count = 1;
  json runner_jobs;
  json metrics;
  std::optional<int64_t> billable_seconds;
  std::optional<std::string> cost_usd, price, price_region;
  std::string owner;
};

StatusOr<Row> ReadRow(const db::Result& r, size_t i) {
  Row row;
  auto kind = ParseKind(r.Text(i, 0));
  if (!kind) return Corruption("sagemaker_jobs: unknown kind " + r.Text(i, 0));
  row.kind = *kind;
  row.name = r.Text(i, 1);
  row.arn = r.Text(i, 2);
  row.region = r.Text(i, 3);
  row.request = json::parse(r.Text(i, 4), nullptr, false);
  row.status = r.Text(i, 5);
  row.secondary = r.OptText(i, 6);
  row.transitions = json::parse(r.Text(i, 7), nullptr, false);
  row.failure_reason = r.OptText(i, 8);
  row.created_us = r.Int(i, 9);
  row.modified_us = r.Int(i, 10);
  row.started_us = r.OptInt(i, 11);
  row.ended_us = r.OptInt(i, 12);
  row.instance_type = r.Text(i, 13);
  row.instance_count = static_cast<int>(r.Int(i, 14));
  row.runner_jobs = json::parse(r.Text(i, 15), nullptr, false);
  row.metrics = json::parse(r.Text(i, 16), nullptr, false);
  row.billable_seconds = r.OptInt(i, 17);
  row.cost_usd = r.OptText(i, 18);
  row.price = r.OptText(i, 19);
  row.price_region = r.OptText(i, 20);
  row.owner = r.Text(i, 21);
  if (row.request.is_discarded() || row.transitions.is_discarded() ||
      row.runner_jobs.is_discarded() || row.metrics.is_discarded()) {
    return Corruption("sagemaker_jobs: unreadable JSON in the row of " + row.name);
  }
  return row;
}

StatusOr<Row> Load(db::Database* db, JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(auto r, db->Query(std::string("SELECT ") + kColumns +
                                         " FROM sagemaker_jobs WHERE kind = ? AND name = ?",
                                     P(Text(KindName(kind)), name)));
  if (r.empty()) {
    return NotFound(Noun(kind) + " " + name + " does not exist");
  }
  return ReadRow(r, 0);
}

// Ends an open job that is in `status` (InProgress or Stopping) as Failed with `reason`, or
// Stopped; false when its status changed meanwhile. The database's error otherwise.
StatusOr<bool> EndOpen(db::Database* db, int64_t now_us, JobKind kind, const std::string& name,
                       const std::string& status, const std::string& reason) {
  const bool stopping = status == "Stopping";
  ASSIGN_OR_RETURN(
      auto u, db->Query("UPDATE sagemaker_jobs SET status = ?, failure_reason = ?, ended_us = ?, "
                        "modified_us = ? WHERE kind = ? AND name = ? AND status = ? RETURNING name",
                        P(Text(stopping ? "Stopped" : "Failed"),
                          stopping ? db::Value(std::monostate{}) : db::Value(reason), now_us,
                          now_us, Text(KindName(kind)), name, status)));
  return !u.empty();
}

bool Terminal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped";
}

// The members of the request Describe* echoes, in AWS's response shapes.
void Echo(const json& request, std::initializer_list<const char*> keys, json* out) {
  for (const char* k : keys) {
    if (auto it = request.find(k); it != request.end() && !it->is_null()) (*out)[k] = *it;
  }
}

json DescribeJson(const Row& row) {
  json d = json::object();
  const json& q = row.request;
  if (row.kind == JobKind::kProcessing) {
    Echo(q,
         {"ProcessingInputs", "ProcessingOutputConfig", "ProcessingJobName", "ProcessingResources",
          "StoppingCondition", "AppSpecification", "Environment", "NetworkConfig", "RoleArn",
          "ExperimentConfig"},
         &d);
    d["ProcessingJobArn"] = row.arn;
    d["ProcessingJobStatus"] = row.status;
    if (row.failure_reason) d["FailureReason"] = *row.failure_reason;
    if (row.ended_us) d["ProcessingEndTime"] = Seconds(*row.ended_us);
    if (row.started_us) d["ProcessingStartTime"] = Seconds(*row.started_us);
  } else {
    d["TrainingJobName"] = row.name;
    d["TrainingJobArn"] = row.arn;
    std::string out_path = q.value("/OutputDataConfig/S3OutputPath"_json_pointer, "");
    while (!out_path.empty() && out_path.back() == '/') out_path.pop_back();
    d["ModelArtifacts"] = {
        {"S3ModelArtifacts", out_path + "/" + row.name + "/output/model.tar.gz"}};
    d["TrainingJobStatus"] = row.status;
    if (row.secondary) d["SecondaryStatus"] = *row.secondary;
    if (row.failure_reason) d["FailureReason"] = *row.failure_reason;
    Echo(q,
         {"HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
          "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition", "Environment",
          "ExperimentConfig", "CheckpointConfig"},
         &d);
    d["EnableNetworkIsolation"] = q.value("EnableNetworkIsolation", false);
    d["EnableInterContainerTrafficEncryption"] =
        q.value("EnableInterContainerTrafficEncryption", false);
    d["EnableManagedSpotTraining"] = q.value("EnableManagedSpotTraining", false);
    if (row.started_us) d["TrainingStartTime"] = Seconds(*row.started_us);
    if (row.ended_us) d["TrainingEndTime"] = Seconds(*row.ended_us);
    d["SecondaryStatusTransitions"] = row.transitions;
    // FinalMetricDataList: the last value of each metric, in definition order.
    json finals = json::array();
    std::vector<std::string> order;
    for (const auto& m :
         q.value("/AlgorithmSpecification/MetricDefinitions"_json_pointer, json::array())) {
      order.push_back(m.value("Name", ""));
    }
    for (const auto& name : order) {
      const json* last = nullptr;
      for (const auto& p : row.metrics) {
        if (p.value("name", "") == name) last = &p;
      }
      if (last != nullptr) {
        finals.push_back({{"MetricName", name},
                          {"Value", (*last)["value"]},
                          {"Timestamp", Seconds((*last)["timestamp_us"].get<int64_t>())}});
      }
    }
    if (!finals.empty()) d["FinalMetricDataList"] = finals;
    if (row.started_us && row.ended_us) {
      d["TrainingTimeInSeconds"] = row.billable_seconds.value_or(0);
      d["BillableTimeInSeconds"] = row.billable_seconds.value_or(0);
    }
  }
  d["CreationTime"] = Seconds(row.created_us);
  d["LastModifiedTime"] = Seconds(row.modified_us);
  return d;
}

json SummaryJson(const Row& row) {
  json s = json::object();
  if (row.kind == JobKind::kProcessing) {
    s["ProcessingJobName"] = row.name;
    s["ProcessingJobArn"] = row.arn;
    s["ProcessingJobStatus"] = row.status;
    if (row.ended_us) s["ProcessingEndTime"] = Seconds(*row.ended_us);
    if (row.failure_reason) s["FailureReason"] = *row.failure_reason;
  } else {
    s["TrainingJobName"] = row.name;
    s["TrainingJobArn"] = row.arn;
    s["TrainingJobStatus"] = row.status;
    if (row.secondary) s["SecondaryStatus"] = *row.secondary;
    if (row.ended_us) s["TrainingEndTime"] = Seconds(*row.ended_us);
  }
  s["CreationTime"] = Seconds(row.created_us);
  s["LastModifiedTime"] = Seconds(row.modified_us);
  return s;
}

Status Validation(const std::string& value, const std::string& member,
                  const std::string& constraint) {
  return InvalidArgument("1 validation error detected: Value " + value + " at '" + member +
                         "' failed to satisfy constraint: " + constraint);
}

// A timestamp member of a List request: epoch seconds (what boto3 sends in JSON 1.1).
StatusOr<std::optional<int64_t>> TimeMember(const json& q, const char* key, const char* member) {
  auto it = q.find(key);
  if (it == q.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number()) return Validation(it->dump(), member, "Member must be a timestamp");
  return std::optional<int64_t>(static_cast<int64_t>(it->get<double>() * 1e6));
}

}  // namespace

std::vector<db::Migration> Migrations() {
  return {{"pipeline_sagemaker", 1, "sagemaker_jobs",
           "CREATE TABLE sagemaker_jobs (\n"
           "  kind TEXT NOT NULL CHECK (kind IN ('processing', 'training')),\n"
           "  name TEXT NOT NULL,\n"
           "  arn TEXT NOT NULL,\n"
           "  region TEXT NOT NULL,\n"
           "  request TEXT NOT NULL,\n"
           "  status TEXT NOT NULL CHECK (status IN ('InProgress', 'Completed', 'Failed', "
           "'Stopping', 'Stopped')),\n"
           "  secondary_status TEXT,\n"
           "  transitions TEXT NOT NULL,\n"
           "  failure_reason TEXT,\n"
           "  created_us BIGINT NOT NULL,\n"
           "  modified_us BIGINT NOT NULL,\n"
           "  started_us BIGINT,\n"
           "  ended_us BIGINT,\n"
           "  instance_type TEXT NOT NULL,\n"
           "  instance_count BIGINT NOT NULL,\n"
           "  runner_jobs TEXT NOT NULL,\n"
           "  metrics TEXT NOT NULL,\n"
           "  billable_seconds BIGINT,\n"
           "  cost_usd TEXT,\n"
           "  price_usd_per_hour TEXT,\n"
           "  price_region TEXT,\n"
           "  owner TEXT NOT NULL,\n"
           "  PRIMARY KEY (kind, name)\n"
           ");\n"
           "CREATE INDEX sagemaker_jobs_status ON sagemaker_jobs (kind, status, created_us)"}};
}

Decimal ComputeCost(Decimal usd_per_hour, int64_t seconds, int count) {
  return Decimal::Div(Decimal::Mul(usd_per_hour, Decimal::FromInt(seconds * count)),
                      Decimal::FromInt(3600));
}

StatusOr<std::unique_ptr<JobService>> JobService::Create(db::Database* db,
                                                         JobServiceOptions options) {
  std::unique_ptr<catalog::Catalog> own;
  if (options.catalog == nullptr) {
    ASSIGN_OR_RETURN(auto cat, catalog::Catalog::Builtin());
    own = std::make_unique<catalog::Catalog>(std::move(cat));
  }
  return std::unique_ptr<JobService>(new JobService(db, std::move(options), std::move(own)));
}

JobService::JobService(db::Database* db, JobServiceOptions options,
                       std::unique_ptr<catalog::Catalog> own)
    : db_(db),
      options_(std::move(options)),
      own_catalog_(std::move(own)),
      catalog_(options_.catalog != nullptr ? options_.catalog : own_catalog_.get()) {
  if (!options_.clock) options_.clock = jobs::RealNowMicros;
  jobs::RunnerOptions ro;
  ro.log_root = options_.data_dir + "/jobs";
  ro.max_concurrent = options_.max_processes;
  ro.stop_grace = options_.stop_grace;
  ro.clock = options_.clock;
  runner_ = std::make_unique<jobs::JobRunner>(db_, ro);
  owner_ = runner_->identity().ToString();
}

JobService::~JobService() {
  std::vector<std::pair<std::shared_ptr<Live>, std::thread>> threads;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    for (auto& [key, live] : live_) {
      std::lock_guard l(live->mu);
      live->stop_requested = true;
    }
    threads.swap(threads_);
  }
  for (auto& t : threads) t.second.join();
  runner_->Shutdown();
}

int64_t JobService::Now() const { return options_.clock(); }

void JobService::NotifyDone() {
  {
    std::lock_guard lock(mu_);
    ++done_generation_;
  }
  done_cv_.notify_all();
}

StatusOr<std::string> JobService::CreateJob(JobKind kind, const json& request,
                                            const std::string& region_in, JobStart start) {
  ASSIGN_OR_RETURN(JobRequest req, ParseCreateRequest(kind, request));
  const std::string type_member = kind == JobKind::kProcessing
                                      ? "processingResources.clusterConfig.instanceType"
                                      : "resourceConfig.instanceType";
  if (catalog_->Find(req.instance_type) == nullptr) {
    return Validation("'" + req.instance_type + "'", type_member,
                      "Member must be a SageMaker instance type (sagebox cost catalog lists "
                      "them)");
  }
  const std::string region = region_in.empty() ? options_.default_region : region_in;
  const std::string arn = "arn:aws:sagemaker:" + region + ":" + options_.account_id + ":" +
                          (kind == JobKind::kProcessing ? "processing-job/" : "training-job/") +
                          Lower(req.name);
  const int64_t now = Now();
  json transitions = json::array();
  std::optional<std::string> secondary;
  if (kind == JobKind::kTraining) {
    secondary = "Starting";
    transitions.push_back({{"Status", "Starting"},
                           {"StartTime", Seconds(now)},
                           {"StatusMessage", "Preparing the instances for training"}});
  }
  Status s = db_->Exec(
      std::string("INSERT INTO sagemaker_jobs (") + kColumns +
          ") VALUES (?,?,?,?,?,?,?,?,NULL,?,?,NULL,NULL,?,?,?,'[]',NULL,NULL,NULL,NULL,?)",
      P(Text(KindName(kind)), req.name, arn, region, request.dump(), Text("InProgress"),
        Opt(secondary), transitions.dump(), now, now, req.instance_type,
        int64_t{req.instance_count}, Text(start == JobStart::kNow ? "[]" : kDeferredMark), owner_));
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExists(Noun(kind) +
                         " names must be unique within an AWS account and region, "
                         "and a " +
                         Lower(Noun(kind)) + " with this name already exists (" + arn + ")");
  }
  RETURN_IF_ERROR(s);
  if (start == JobStart::kNow) RETURN_IF_ERROR(Launch(kind, std::move(req), region));
  return arn;
}

Status JobService::Launch(JobKind kind, JobRequest req, const std::string& region) {
  auto live = std::make_shared<Live>();
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return Internal("the job service is shutting down");
    // Join the threads of jobs that ended: an unjoined thread keeps its stack.
    for (auto it = threads_.begin(); it != threads_.end();) {
      bool done = false;
      {
        std::lock_guard l(it->first->mu);
        done = it->first->finished;
      }
      if (done) {
        finished.push_back(std::move(it->second));
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
    live_[Key(kind, req.name)] = live;
    threads_.emplace_back(live, std::thread([this, req = std::move(req), region, live] {
                            Run(req, region, live);
                            std::lock_guard l(live->mu);
                            live->finished = true;
                          }));
  }
  for (auto& t : finished) t.join();
  return Status::Ok();
}

Status JobService::StartDeferred(JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  ASSIGN_OR_RETURN(JobRequest req, ParseCreateRequest(kind, row.request));
  ASSIGN_OR_RETURN(auto claimed,
                   db_->Query("UPDATE sagemaker_jobs SET owner = ?, runner_jobs = '[]', "
                              "modified_us = ? WHERE kind = ? AND name = ? AND status = "
                              "'InProgress' AND runner_jobs = ? RETURNING name",
                              P(owner_, Now(), Text(KindName(kind)), name, Text(kDeferredMark))));
  if (claimed.empty()) {
    return InvalidArgument(
        Noun(kind) + " " + name + " is " + row.status +
        (row.runner_jobs == json::parse(kDeferredMark) ? "" : ", already started by " + row.owner) +
        ": only a deferred job still waiting to start can be started");
  }
  return Launch(kind, std::move(req), row.region);
}

StatusOr<bool> JobService::Abandon(JobKind kind, const std::string& name,
                                   const std::string& reason) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  if (Terminal(row.status)) return false;
  ASSIGN_OR_RETURN(bool ended, EndOpen(db_, Now(), kind, name, row.status, reason));
  if (ended) {
    (void)Transition(kind, name, row.status == "Stopping" ? "Stopped" : "Failed", reason);
    NotifyDone();
  }
  return ended;
}

Status JobService::Transition(JobKind kind, const std::string& name, const std::string& secondary,
                              const std::string& message) {
  if (kind != JobKind::kTraining) return Status::Ok();
  return db_->InTransaction([&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto r, tx.Query("SELECT transitions FROM sagemaker_jobs WHERE kind = ? AND "
                                      "name = ?",
                                      P(Text(KindName(kind)), name)));
    if (r.empty()) return NotFound(name);
    json t = json::parse(r.Text(0, 0), nullptr, false);
    if (!t.is_array()) t = json::array();
    const double now = Seconds(Now());
    if (!t.empty()) t.back()["EndTime"] = now;
    json next = {{"Status", secondary}, {"StartTime", now}, {"StatusMessage", message}};
    const bool terminal = secondary == "Completed" || secondary == "Failed" ||
                          secondary == "Stopped" || secondary == "MaxRuntimeExceeded";
    if (terminal) next["EndTime"] = now;
    t.push_back(next);
    return tx.Exec(
        "UPDATE sagemaker_jobs SET secondary_status = ?, transitions = ?, modified_us = ? "
        "WHERE kind = ? AND name = ?",
        P(secondary, t.dump(), Now(), Text(KindName(kind)), name));
  });
}

void JobService::Run(const JobRequest& req, const std::string& region,
                     const std::shared_ptr<Live>& live) {
  const std::string kind_name(KindName(req.kind));
  auto stop_requested = [&] {
    std::lock_guard l(live->mu);
    return live->stop_requested;
  };
  // Records the end; the guarded UPDATE keeps a terminal status terminal.
  auto finish = [&](const std::string& status, const std::optional<std::string>& reason,
                    const std::string& secondary, const std::string& message,
                    const std::vector<MetricPoint>& points, std::optional<int64_t> started,
                    std::optional<int64_t> ended) {
    (void)Transition(req.kind, req.name, secondary, message);
    json metrics = json::array();
    for (const auto& p : points) {
      metrics.push_back({{"name", p.name},
                         {"value", p.value},
                         {"timestamp_us", p.timestamp_us},
                         {"step", p.step}});
    }
    std::optional<int64_t> billable;
    std::optional<std::string> cost, price, price_region;
    if (started && ended) {
      billable = std::max<int64_t>(1, (*ended - *started + 999'999) / 1'000'000);
      if (auto q = catalog_->OnDemandPrice(req.instance_type, region)) {
        price = q->usd_per_hour.ToString();
        price_region = q->region;
        cost = ComputeCost(q->usd_per_hour, *billable, req.instance_count).ToString();
      }
    }
    auto opt_int = [](std::optional<int64_t> v) {
      return v ? db::Value(*v) : db::Value(std::monostate{});
    };
    (void)db_->Exec(
        "UPDATE sagemaker_jobs SET status = ?, failure_reason = ?, metrics = ?, "
        "started_us = COALESCE(started_us, ?), ended_us = ?, modified_us = ?, "
        "billable_seconds = ?, cost_usd = ?, price_usd_per_hour = ?, price_region = ? "
        "WHERE kind = ? AND name = ? AND status IN ('InProgress', 'Stopping')",
        P(status, Opt(reason), metrics.dump(), opt_int(started), opt_int(ended), Now(),
          opt_int(billable), Opt(cost), Opt(price), Opt(price_region), kind_name, req.name));
    NotifyDone();
  };

  (void)Transition(req.kind, req.name, "Downloading", "Downloading input data");
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto hosts = PrepareWorkArea(req, options_.data_dir, cpus);
  if (!hosts.ok()) {
    finish("Failed", "ClientError: " + hosts.status().message(), "Failed",
           "Preparing the work area failed", {}, std::nullopt, std::nullopt);
    return;
  }
  if (stop_requested()) {
    finish("Stopped", std::nullopt, "Stopped", "Training job stopped", {}, std::nullopt,
           std::nullopt);
    return;
  }
  (void)Transition(req.kind, req.name, "Training",
                   "Training image download completed. Training in progress.");
  // One runner job per host.
  std::vector<int64_t> ids;
  std::vector<LogTail> tails;
  std::vector<std::string> tail_hosts;
  for (const auto& h : *hosts) {
    jobs::JobSpec spec;
    spec.kind = RunnerKind(req.kind);
    spec.name = req.name + "/" + h.host;
    spec.argv = h.argv;
    spec.env = h.env;
    if (req.max_runtime_s) spec.time_limit = std::chrono::seconds(*req.max_runtime_s);
    auto id = runner_->Submit(spec);
    if (!id.ok()) {
      for (int64_t other : ids) (void)runner_->Cancel(other);
      finish("Failed", "InternalServerError: " + id.status().message(), "Failed",
             "Starting the processes failed", {}, std::nullopt, std::nullopt);
      return;
    }
    ids.push_back(*id);
    auto job = runner_->Get(*id);
    if (job.ok()) {
      tails.emplace_back(job->stdout_path);
      tail_hosts.push_back(h.host);
      tails.emplace_back(job->stderr_path);
      tail_hosts.push_back(h.host);
    }
  }
  {
    std::lock_guard l(live->mu);
    live->runner_ids = ids;
  }
  (void)db_->Exec(
      "UPDATE sagemaker_jobs SET runner_jobs = ?, modified_us = ? WHERE kind = ? AND "
      "name = ?",
      P(json(ids).dump(), Now(), kind_name, req.name));

  MetricScanner scanner(req.metrics);
  OutputSync sync(req, options_.data_dir, *hosts);
  auto read_logs = [&](bool flush) {
    const int64_t now = Now();
    for (size_t i = 0; i < tails.size(); ++i) {
      for (const auto& line : tails[i].ReadLines(flush)) {
        scanner.ScanLine(line, now);
        if (options_.log_sink) options_.log_sink(req.name, tail_hosts[i], line);
      }
    }
  };
  std::optional<std::string> upload_error;
  bool cancelled_all = false;
  std::vector<jobs::Job> ended(ids.size());
  std::vector<bool> done(ids.size(), false);
  std::optional<size_t> first_failed;
  while (true) {
    size_t open = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (done[i]) continue;
      auto j = open == 0 ? runner_->Wait(ids[i], options_.poll_interval) : runner_->Get(ids[i]);
      ++open;
      if (j.ok() && jobs::IsTerminal(j->state)) {
        done[i] = true;
        ended[i] = *j;
        if (j->state != jobs::JobState::kSucceeded && !first_failed) first_failed = i;
      }
    }
    read_logs(false);
    if (!upload_error) {
      if (Status s = sync.Sync(false); !s.ok()) upload_error = s.message();
    }
    if (std::all_of(done.begin(), done.end(), [](bool b) { return b; })) break;
    if (!cancelled_all && (stop_requested() || first_failed)) {
      cancelled_all = true;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!done[i]) (void)runner_->Cancel(ids[i]);
      }
    }
  }
  read_logs(true);
  (void)Transition(req.kind, req.name, "Uploading", "Uploading generated training model");
  if (Status s = sync.Sync(true); !s.ok() && !upload_error) upload_error = s.message();

  std::optional<int64_t> started, finished;
  for (const auto& j : ended) {
    if (j.started_us) started = started ? std::min(*started, *j.started_us) : *j.started_us;
    if (j.ended_us) finished = finished ? std::max(*finished, *j.ended_us) : *j.ended_us;
  }
  if (!finished) finished = Now();
  const auto points = scanner.points();
  const bool stopped = stop_requested();
  if (first_failed && !stopped) {
    const auto& j = ended[*first_failed];
    const auto& h = (*hosts)[*first_failed];
    if (j.state == jobs::JobState::kTimedOut) {
      finish("Failed",
             "MaxRuntimeExceeded: the job ran past StoppingCondition.MaxRuntimeInSeconds (" +
                 std::to_string(req.max_runtime_s.value_or(0)) + " s) and was stopped",
             "MaxRuntimeExceeded", "Job exceeded MaxRuntimeInSeconds", points, started, finished);
      return;
    }
    std::string reason;
    if (auto f = ReadHead(h.ml_root + "/output/failure", 1024)) {
      reason = *f;
    } else {
      std::string how = j.exit_code ? "exit code " + std::to_string(*j.exit_code)
                        : j.signal
                            ? "signal " + jobs::SignalName(*j.signal)
                            : j.failure_reason.value_or(std::string(jobs::StateName(j.state)));
      const std::string last = LastLine(j.stderr_path);
      reason =
          "AlgorithmError: " + h.host + " ended with " + how + (last.empty() ? "" : ": " + last);
    }
    finish("Failed", reason, "Failed", "Training job failed", points, started, finished);
    return;
  }
  if (stopped) {
    finish("Stopped", std::nullopt, "Stopped", "Training job stopped", points, started, finished);
    return;
  }
  if (upload_error) {
    finish("Failed", "ClientError: uploading the outputs failed: " + *upload_error, "Failed",
           "Uploading failed", points, started, finished);
    return;
  }
  finish("Completed", std::nullopt, "Completed", "Training job completed", points, started,
         finished);
}

StatusOr<json> JobService::Describe(JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  return DescribeJson(row);
}

StatusOr<json> JobService::List(JobKind kind, const json& q) {
  if (!q.is_object()) return InvalidArgument("the request body is not a JSON object");
  std::string sql = std::string("SELECT ") + kColumns + " FROM sagemaker_jobs WHERE kind = ?";
  std::vector<db::Value> params = P(Text(KindName(kind)));
  if (auto it = q.find("StatusEquals"); it != q.end() && !it->is_null()) {
    const std::string s = it->is_string() ? it->get<std::string>() : it->dump();
    if (s != "InProgress" && s != "Completed" && s != "Failed" && s != "Stopping" &&
        s != "Stopped") {
      return Validation("'" + s + "'", "statusEquals",
                        "Member must satisfy enum value set: [InProgress, Completed, Failed, "
                        "Stopping, Stopped]");
    }
    sql += " AND status = ?";
    params.emplace_back(s);
  }
  std::string contains;
  if (auto it = q.find("NameContains"); it != q.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().size() > 63) {
      return Validation(it->dump(), "nameContains",
                        "Member must be a string of at most 63 characters");
    }
    contains = it->get<std::string>();
  }
  ASSIGN_OR_RETURN(auto c_after, TimeMember(q, "CreationTimeAfter", "creationTimeAfter"));
  ASSIGN_OR_RETURN(auto c_before, TimeMember(q, "CreationTimeBefore", "creationTimeBefore"));
  ASSIGN_OR_RETURN(auto m_after, TimeMember(q, "LastModifiedTimeAfter", "lastModifiedTimeAfter"));
  ASSIGN_OR_RETURN(auto m_before,
                   TimeMember(q, "LastModifiedTimeBefore", "lastModifiedTimeBefore"));
  std::string sort_by = "CreationTime";
  if (auto it = q.find("SortBy"); it != q.end() && !it->is_null()) {
    sort_by = it->is_string() ? it->get<std::string>() : it->dump();
    if (sort_by != "Name" && sort_by != "CreationTime" && sort_by != "Status") {
      return Validation("'" + sort_by + "'", "sortBy",
                        "Member must satisfy enum value set: [Name, CreationTime, Status]");
    }
  }
  bool ascending = false;
  if (auto it = q.find("SortOrder"); it != q.end() && !it->is_null()) {
    const std::string o = it->is_string() ? it->get<std::string>() : it->dump();
    if (o != "Ascending" && o != "Descending") {
      return Validation("'" + o + "'", "sortOrder",
                        "Member must satisfy enum value set: [Ascending, Descending]");
    }
    ascending = o == "Ascending";
  }
  int64_t max_results = 10;
  if (auto it = q.find("MaxResults"); it != q.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 100) {
      return Validation(it->dump(), "maxResults", "Member must have value between 1 and 100");
    }
    max_results = it->get<int64_t>();
  }
  size_t offset = 0;
  if (auto it = q.find("NextToken"); it != q.end() && !it->is_null()) {
    const std::string t = it->is_string() ? it->get<std::string>() : "";
    if (t.empty() || t.size() > 9 || !std::all_of(t.begin(), t.end(), ::isdigit)) {
      return Validation("'" + it->dump() + "'", "nextToken",
                        "Member must be a token from an earlier response");
    }
    offset = static_cast<size_t>(std::stoul(t));
  }
  ASSIGN_OR_RETURN(auto r, db_->Query(sql, params));
  std::vector<Row> rows;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(Row row, ReadRow(r, i));
    if (!contains.empty()) {
      // AWS matches NameContains without regard to case.
      if (Lower(row.name).find(Lower(contains)) == std::string::npos) continue;
    }
    if (c_after && !(row.created_us > *c_after)) continue;
    if (c_before && !(row.created_us < *c_before)) continue;
    if (m_after && !(row.modified_us > *m_after)) continue;
    if (m_before && !(row.modified_us < *m_before)) continue;
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    auto key = [&](const Row& x) {
      if (sort_by == "Name") return std::make_tuple(x.name, x.created_us);
      if (sort_by == "Status") return std::make_tuple(x.status, x.created_us);
      return std::make_tuple(std::string(), x.created_us);
    };
    return ascending ? key(a) < key(b) : key(b) < key(a);
  });
  json summaries = json::array();
  for (size_t i = offset; i < rows.size() && summaries.size() < static_cast<size_t>(max_results);
       ++i) {
    summaries.push_back(SummaryJson(rows[i]));
  }
  json out = {{kind == JobKind::kProcessing ? "ProcessingJobSummaries" : "TrainingJobSummaries",
               summaries}};
  if (offset + summaries.size() < rows.size()) {
    out["NextToken"] = std::to_string(offset + summaries.size());
  }
  return out;
}

Status JobService::Stop(JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  ASSIGN_OR_RETURN(auto r, db_->Query("UPDATE sagemaker_jobs SET status = 'Stopping', "
                                      "modified_us = ? WHERE kind = ? AND name = ? AND status = "
                                      "'InProgress' RETURNING name",
                                      P(Now(), Text(KindName(kind)), name)));
  if (r.empty()) {
    return InvalidArgument("The request was rejected because the " + Lower(Noun(kind)) + " " +
                           name + " is in status " + row.status + ", not InProgress");
  }
  (void)Transition(kind, name, "Stopping", "Stopping the training job");
  std::shared_ptr<Live> live;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(Key(kind, name));
    if (it != live_.end()) live = it->second;
  }
  if (live == nullptr) {
    return Internal(Noun(kind) + " " + name + " is supervised by another server (" + row.owner +
                    "): stop it there");
  }
  std::vector<int64_t> ids;
  {
    std::lock_guard l(live->mu);
    live->stop_requested = true;
    ids = live->runner_ids;
  }
  for (int64_t id : ids) (void)runner_->Cancel(id);
  return Status::Ok();
}

StatusOr<json> JobService::Wait(JobKind kind, const std::string& name,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t gen = 0;
    {
      std::lock_guard lock(mu_);
      gen = done_generation_;
    }
    ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
    if (Terminal(row.status) || std::chrono::steady_clock::now() >= deadline) {
      return DescribeJson(row);
    }
    std::unique_lock lock(mu_);
    // Wakes on any job's end; the poll bound covers jobs another server finishes.
    done_cv_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500)),
        [&] { return done_generation_ != gen; });
  }
}

StatusOr<std::optional<JobCost>> JobService::Cost(JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  if (!row.cost_usd || !row.price || !row.billable_seconds) return std::optional<JobCost>();
  JobCost c;
  c.instance_type = row.instance_type;
  c.instance_count = row.instance_count;
  c.region = row.price_region.value_or(row.region);
  c.billable_seconds = *row.billable_seconds;
  if (!Decimal::Parse(*row.price, &c.usd_per_hour) || !Decimal::Parse(*row.cost_usd, &c.usd)) {
    return Corruption("sagemaker_jobs: unreadable cost of " + name);
  }
  return std::optional<JobCost>(c);
}

StatusOr<std::vector<MetricPoint>> JobService::MetricSteps(JobKind kind, const std::string& name) {
  ASSIGN_OR_RETURN(Row row, Load(db_, kind, name));
  std::vector<MetricPoint> out;
  for (const auto& p : row.metrics) {
    out.push_back({p.value("name", ""), p.value("value", 0.0), p.value("timestamp_us", int64_t{0}),
                   p.value("step", int64_t{0})});
  }
  return out;
}

StatusOr<int> JobService::RecoverInterrupted() {
  ASSIGN_OR_RETURN(auto r, db_->Query(std::string("SELECT ") + kColumns +
                                      " FROM sagemaker_jobs WHERE status IN ('InProgress', "
                                      "'Stopping')"));
  const auto me = jobs::RunnerIdentity::Current();
  int marked = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSIGN_OR_RETURN(Row row, ReadRow(r, i));
    auto owner = jobs::RunnerIdentity::Parse(row.owner);
    if (!owner || owner->host != me.host) continue;  // another host's: leave it alone
    if (owner->boot_id == me.boot_id &&
        jobs::ProcessRunning(static_cast<pid_t>(owner->pid), owner->start_ticks)) {
      continue;  // its server is alive
    }
    ASSIGN_OR_RETURN(bool ended, EndOpen(db_, Now(), row.kind, row.name, row.status,
                                         "InternalServerError: the server that ran the job (" +
                                             row.owner + ") ended before the job did"));
    marked += ended ? 1 : 0;
  }
  return marked;
}

}  // namespace sagebox::pipeline::sagemaker
