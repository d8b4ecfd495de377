// dispatcher.cc: SageMaker jobs and sagebox-register-best for the engine (dispatcher.h).
#include "pipeline/runtime/dispatcher.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <utility>

#include "pipeline/engine/engine.h"
#include "pipeline/sagemaker/work_area.h"

namespace sagebox::pipeline::runtime {

namespace {

using asl::AslError;
using asl::AslOr;
using nlohmann::json;
using sagemaker::JobKind;

constexpr size_t kMaxJobName = 63;  // SageMaker's job-name limit

std::string NameKey(JobKind k) {
  return k == JobKind::kProcessing ? "ProcessingJobName" : "TrainingJobName";
}
std::string StatusKey(JobKind k) {
  return k == JobKind::kProcessing ? "ProcessingJobStatus" : "TrainingJobStatus";
}
std::string ArnKey(JobKind k) {
  return k == JobKind::kProcessing ? "ProcessingJobArn" : "TrainingJobArn";
}

AslError SageMakerError(const Status& s) {
  // Step Functions reports a refused SageMaker call under the service's exception name.
  return {"SageMaker.AmazonSageMakerException", s.message()};
}

// "<name>-r<N>", cut so the whole stays within SageMaker's limit.
std::string RedriveName(const std::string& name, int64_t redrive_count) {
  const std::string suffix = fmt::format("-r{}", redrive_count);
  std::string base = name.substr(0, std::min(name.size(), kMaxJobName - suffix.size()));
  while (!base.empty() && base.back() == '-') base.pop_back();
  return base + suffix;
}

// The value of `metric` in a DescribeTrainingJob response's FinalMetricDataList.
std::optional<double> FinalMetric(const json& training, const std::string& metric) {
  const auto it = training.find("FinalMetricDataList");
  if (it == training.end() || !it->is_array()) return std::nullopt;
  for (const auto& m : *it) {
    if (m.value("MetricName", "") == metric && m.contains("Value") && m["Value"].is_number()) {
      const double v = m["Value"].get<double>();
      if (!std::isnan(v)) return v;
    }
  }
  return std::nullopt;
}

// A failed candidate's training job name: the Catch output's Cause is the DescribeTrainingJob
// response of the failed job (States.TaskFailed); other failures have no job.
std::string FailedJobName(const json& candidate_result) {
  const auto f = candidate_result.find("failure");
  if (f == candidate_result.end() || !f->is_object()) return "";
  json cause = json::parse(f->value("Cause", ""), nullptr, false);
  if (cause.is_discarded() || !cause.is_object()) return "";
  return cause.value("TrainingJobName", "");
}

std::string HexDigest(const unsigned char* md, unsigned int len) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out;
  out.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

// Hex SHA-256 of a file's bytes, read in blocks.
StatusOr<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot be read");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Internal("SHA-256 is not available");
  }
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), in.gcount());
  }
  if (in.bad()) return IoError(path + ": read failed");
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
  return HexDigest(md.data(), len);
}

}  // namespace

Decimal PipelineDispatcher::spent() const {
  std::lock_guard lock(mu_);
  return spent_;
}

AslOr<json> PipelineDispatcher::Dispatch(const engine::TaskRequest& request) {
  const auto [service, action] = engine::SplitResource(request.resource);
  if (service == "sagemaker") {
    if (action == "createTrainingJob" || action == "createTrainingJob.sync") {
      return RunJob(request, JobKind::kTraining, action.ends_with(".sync"));
    }
    if (action == "createProcessingJob" || action == "createProcessingJob.sync") {
      return RunJob(request, JobKind::kProcessing, action.ends_with(".sync"));
    }
  }
  if (request.resource == "arn:aws:states:::lambda:invoke" ||
      request.resource == "arn:aws:states:::lambda:invoke.waitForTaskToken") {
    const std::string fn = request.parameters.value("FunctionName", "");
    if (fn == kRegisterBestFunction || fn.ends_with(std::string(":") + kRegisterBestFunction)) {
      return RegisterBest(request);
    }
    return AslError{"Lambda.ResourceNotFoundException",
                    "Function not found: " + fn + " (sagebox runs no Lambda functions except " +
                        kRegisterBestFunction + ")"};
  }
  return AslError{"States.TaskFailed",
                  "sagebox cannot run resource " + request.resource +
                      " (it runs sagemaker:createTrainingJob[.sync], "
                      "sagemaker:createProcessingJob[.sync] and lambda:invoke of " +
                      kRegisterBestFunction + ")"};
}

void PipelineDispatcher::RunElsewhere(const engine::TaskRequest& request, JobKind kind,
                                      const std::string& name, const json& body) {
  ExecutorJob job;
  job.kind = kind;
  job.name = name;
  // One batch per Task state per Map run per attempt (and per execution and redrive: the
  // executor may serve several).
  const std::string scope = options_.execution_arn + "#" + std::to_string(options_.redrive_count);
  if (request.fan_out) {
    job.batch = scope + "/" + request.fan_out->map_key + "/" + request.state_name;
    job.index = request.fan_out->index;
    job.batch_size = request.fan_out->size;
    job.max_concurrency = request.fan_out->max_concurrency;
  } else {
    job.batch = scope + "/" + request.state_key;
  }
  job.attempt = request.attempt;
  // CreateJob accepted the request, so it parses.
  if (auto parsed = sagemaker::ParseCreateRequest(kind, body); parsed.ok()) {
    job.max_runtime_seconds = parsed->max_runtime_s;
  }
  auto never = engine::CancelToken::Make();
  engine::CancelToken& cancel = request.cancel != nullptr ? *request.cancel : *never;
  auto how = options_.executor->Run(job, cancel);
  const std::string why =
      how.ok() ? *how : "the executor could not run the job: " + how.status().message();
  // The job's own process records its end before it exits; give the database a moment.
  const auto grace = !how.ok()            ? std::chrono::seconds(0)
                     : cancel.cancelled() ? std::chrono::seconds(2)
                                          : std::chrono::seconds(10);
  auto d = jobs_->Wait(kind, name, grace);
  const std::string st = d.ok() ? d->value(StatusKey(kind), "") : "";
  if (st != "Completed" && st != "Failed" && st != "Stopped") {
    (void)jobs_->Abandon(kind, name, "InternalServerError: " + why);
  }
}

AslOr<json> PipelineDispatcher::RunJob(const engine::TaskRequest& request, JobKind kind,
                                       bool sync) {
  if (options_.max_cost_usd) {
    const Decimal spent = this->spent();
    if (spent >= *options_.max_cost_usd) {
      return AslError{kCostLimitExceeded, "the execution's jobs cost $" + spent.ToString() +
                                              ", at or over the pipeline's limit of $" +
                                              options_.max_cost_usd->ToString() +
                                              "; no more jobs start"};
    }
  }
  if (!request.parameters.is_object()) {
    return AslError{"SageMaker.AmazonSageMakerException",
                    "the task's Parameters must be a Create*Job request object"};
  }
  json body = request.parameters;
  std::string name = body.value(NameKey(kind), "");
  const bool external = options_.executor != nullptr && sync;
  const auto start = external ? sagemaker::JobStart::kDeferred : sagemaker::JobStart::kNow;
  auto arn = jobs_->CreateJob(kind, body, options_.region, start);
  if (!arn.ok() && arn.status().code() == StatusCode::kAlreadyExists &&
      options_.redrive_count > 0 && !name.empty()) {
    // A redrive re-runs a state whose failed attempt already took this name.
    name = RedriveName(name, options_.redrive_count);
    body[NameKey(kind)] = name;
    arn = jobs_->CreateJob(kind, body, options_.region, start);
  }
  if (!arn.ok()) return SageMakerError(arn.status());
  const json created = {{ArnKey(kind), *arn}};
  if (request.submitted) request.submitted(created);
  if (options_.progress) options_.progress(name + " started");
  if (!sync) return created;
  if (external) RunElsewhere(request, kind, name, body);

  json described;
  bool stop_sent = false;
  while (true) {
    auto d = jobs_->Wait(kind, name, options_.poll);
    if (!d.ok()) return SageMakerError(d.status());
    described = std::move(*d);
    const std::string st = described.value(StatusKey(kind), "");
    if (st == "Completed" || st == "Failed" || st == "Stopped") break;
    if (request.cancel != nullptr && request.cancel->cancelled() && !stop_sent) {
      // The engine no longer wants the result; the job must not keep running (and costing).
      (void)jobs_->Stop(kind, name);
      stop_sent = true;
    }
  }
  AddCost(kind, name);
  const std::string st = described.value(StatusKey(kind), "");
  if (options_.progress) {
    options_.progress(
        fmt::format("{} {}{}", name, st,
                    st == "Failed" ? ": " + described.value("FailureReason", std::string()) : ""));
  }
  if (st != "Completed") return AslError{"States.TaskFailed", described.dump()};
  return described;
}

void PipelineDispatcher::AddCost(JobKind kind, const std::string& name) {
  auto cost = jobs_->Cost(kind, name);
  if (!cost.ok() || !cost->has_value()) return;
  Decimal total;
  {
    std::lock_guard lock(mu_);
    spent_ += (*cost)->usd;
    total = spent_;
  }
  if (options_.on_cost) options_.on_cost(total);
}

StatusOr<std::string> PipelineDispatcher::CandidateRun(const std::string& experiment_id,
                                                       const json& candidate,
                                                       const std::string& stage,
                                                       const std::string& job_name,
                                                       bool completed) {
  tracking::SearchRequest search;
  search.experiment_ids = {experiment_id};
  search.filter = "attributes.run_name = '" + job_name + "'";
  search.max_results = 1;
  ASSIGN_OR_RETURN(auto found, tracking_->SearchRuns(search));
  if (!found.items.empty()) return found.items.front().info.run_id;

  std::vector<tracking::KeyValue> tags = {
      {"sagebox.execution", options_.execution_arn},
      {"sagebox.stage", stage},
      {"sagebox.candidate", candidate.value("id", "")},
      {"sagebox.algorithm", candidate.value("algorithm", "")},
      {"sagebox.training_job", job_name},
  };
  auto described = jobs_->Describe(JobKind::kTraining, job_name);
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  if (described.ok()) {
    // Describe's times are epoch seconds (AWS's JSON shape).
    if (described->contains("TrainingStartTime")) {
      start_ms = static_cast<int64_t>((*described)["TrainingStartTime"].get<double>() * 1000);
    }
    if (described->contains("TrainingEndTime")) {
      end_ms = static_cast<int64_t>((*described)["TrainingEndTime"].get<double>() * 1000);
    }
  }
  ASSIGN_OR_RETURN(auto run,
                   tracking_->CreateRun(experiment_id, "sagebox", job_name, start_ms, tags));
  std::vector<tracking::KeyValue> params;
  if (const auto hp = candidate.find("hyperparameters"); hp != candidate.end() && hp->is_object()) {
    for (const auto& [k, v] : hp->items()) {
      params.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    }
  }
  std::vector<tracking::Metric> metrics;
  if (auto steps = jobs_->MetricSteps(JobKind::kTraining, job_name); steps.ok()) {
    for (const auto& p : *steps)
      metrics.push_back({p.name, p.value, p.timestamp_us / 1000, p.step});
  }
  RETURN_IF_ERROR(tracking_->LogBatch(run.info.run_id, metrics, params, {}));
  if (auto cost = jobs_->Cost(JobKind::kTraining, job_name); cost.ok() && cost->has_value()) {
    RETURN_IF_ERROR(tracking_->SetCost(run.info.run_id, (*cost)->usd));
  }
  ASSIGN_OR_RETURN(auto info, tracking_->UpdateRun(run.info.run_id,
                                                   completed ? "FINISHED" : "FAILED", end_ms, ""));
  (void)info;
  return run.info.run_id;
}

AslOr<json> PipelineDispatcher::RegisterBest(const engine::TaskRequest& request) {
  const json& payload =
      request.parameters.contains("Payload") ? request.parameters["Payload"] : request.parameters;
  auto bad = [](const std::string& what) {
    return AslError{"States.TaskFailed", std::string(kRegisterBestFunction) + ": " + what};
  };
  if (!payload.is_object()) return bad("the Payload must be an object");
  const std::string stage = payload.value("stage", "");
  const std::string model_name = payload.value("model_name", "");
  const std::string alias = payload.value("alias", "champion");
  const json metric = payload.value("metric", json::object());
  const std::string metric_name = metric.is_object() ? metric.value("name", "") : "";
  const std::string direction = metric.is_object() ? metric.value("direction", "maximize") : "";
  const json candidates = payload.value("candidates", json::array());
  if (model_name.empty()) return bad("the Payload has no model_name");
  if (metric_name.empty()) return bad("the Payload has no metric.name");
  if (direction != "maximize" && direction != "minimize") {
    return bad("metric.direction must be maximize or minimize, not '" + direction + "'");
  }
  if (!candidates.is_array()) return bad("candidates must be an array");

  std::lock_guard lock(register_mu_);
  std::string experiment_id;
  if (auto e = tracking_->GetExperimentByName(options_.experiment); e.ok()) {
    experiment_id = e->experiment_id;
  } else if (e.status().code() == StatusCode::kNotFound) {
    auto id = tracking_->CreateExperiment(options_.experiment, "", {});
    if (!id.ok()) return bad(id.status().message());
    experiment_id = *id;
  } else {
    return bad(e.status().message());
  }

  // Every candidate with a job becomes a run; the best Completed one wins (ties: the first).
  int best = -1;
  double best_value = 0;
  std::vector<std::string> run_ids(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const json& c = candidates[i];
    if (!c.is_object()) continue;
    const bool completed =
        c.value("status", "") == "Completed" && c.contains("training") && c["training"].is_object();
    const std::string job =
        completed ? c["training"].value("TrainingJobName", "") : FailedJobName(c);
    if (job.empty()) continue;
    auto run = CandidateRun(experiment_id, c.value("candidate", json::object()),
                            c.value("stage", stage), job, completed);
    if (!run.ok()) return bad("logging the run of " + job + ": " + run.status().message());
    run_ids[i] = *run;
    if (!completed) continue;
    const auto value = FinalMetric(c["training"], metric_name);
    if (!value) continue;
    const bool better =
        best < 0 || (direction == "maximize" ? *value > best_value : *value < best_value);
    if (better) {
      best = static_cast<int>(i);
      best_value = *value;
    }
  }
  if (best < 0) {
    return bad("no Completed candidate of stage '" + stage + "' reported the metric " +
               metric_name);
  }
  const json& winner = candidates[static_cast<size_t>(best)];
  const json& training = winner["training"];
  const json artifacts = training.value("ModelArtifacts", json::object());
  const std::string source = artifacts.value("S3ModelArtifacts", "");
  const std::string job = training.value("TrainingJobName", "");

  if (auto m = tracking_->GetRegisteredModel(model_name); !m.ok()) {
    if (m.status().code() != StatusCode::kNotFound) return bad(m.status().message());
    auto created = tracking_->CreateRegisteredModel(
        model_name, "best model of stage " + stage + " (sagebox pipeline)", {});
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return bad(created.status().message());
    }
  }
  const std::vector<tracking::KeyValue> lineage = {
      {"sagebox.execution", options_.execution_arn},
      {"sagebox.stage", stage},
      {"sagebox.training_job", job},
      {"sagebox.metric", fmt::format("{}={}", metric_name, best_value)},
  };
  auto version = tracking_->CreateModelVersion(
      model_name, source, run_ids[best], "",
      "best of " + std::to_string(candidates.size()) + " candidates by " + metric_name, lineage);
  if (!version.ok()) return bad(version.status().message());
  if (Status s = tracking_->SetAlias(model_name, alias, version->version); !s.ok()) {
    return bad(s.message());
  }
  const json cand = winner.value("candidate", json::object());
  json out = {
      {"stage", stage},
      {"model_name", model_name},
      {"alias", alias},
      {"version", std::stoll(version->version)},
      {"run_id", run_ids[best]},
      {"candidate",
       {{"id", cand.value("id", "")},
        {"algorithm", cand.value("algorithm", "")},
        {"hyperparameters", cand.value("hyperparameters", json::object())},
        {"TrainingJobName", job},
        {"metric", {{"MetricName", metric_name}, {"Value", best_value}}}}},
      {"ModelArtifacts", artifacts},
  };
  // lambda:invoke's result shape (the compiled state selects $.Payload).
  return json{{"ExecutedVersion", "$LATEST"}, {"Payload", out}, {"StatusCode", 200}};
}

json CacheKeyParameters(const engine::TaskRequest& request) {
  json p = request.parameters;
  if (p.is_object()) {
    p.erase("ProcessingJobName");
    p.erase("TrainingJobName");
  }
  return p;
}

StatusOr<std::vector<std::string>> FileInputDigester::Digests(const engine::TaskRequest& request) {
  std::vector<std::string> out;
  const auto [service, action] = engine::SplitResource(request.resource);
  if (service != "sagemaker" || !request.parameters.is_object()) return out;
  const json& p = request.parameters;
  std::vector<std::string> uris;
  for (const auto& in : p.value("ProcessingInputs", json::array())) {
    if (in.contains("S3Input")) uris.push_back(in["S3Input"].value("S3Uri", ""));
  }
  for (const auto& ch : p.value("InputDataConfig", json::array())) {
    const json src = ch.value("DataSource", json::object()).value("S3DataSource", json::object());
    uris.push_back(src.value("S3Uri", ""));
  }
  for (const auto& uri : uris) {
    if (uri.empty()) continue;
    ASSIGN_OR_RETURN(auto path, sagemaker::ResolveUri(data_dir_, uri));
    ASSIGN_OR_RETURN(auto objects, sagemaker::ListObjects(path));
    for (const auto& o : objects) {
      ASSIGN_OR_RETURN(auto sha, FileSha256(o.path));
      out.push_back(fmt::format("{}/{} {}", uri, o.key, sha));
    }
  }
  // The code: entrypoint words that name files here (python3 jobs/train.py → jobs/train.py).
  const json spec = p.contains("AppSpecification") ? p["AppSpecification"]
                                                   : p.value("AlgorithmSpecification", json());
  if (spec.is_object()) {
    for (const char* key : {"ContainerEntrypoint", "ContainerArguments"}) {
      for (const auto& w : spec.value(key, json::array())) {
        if (!w.is_string()) continue;
        const std::string word = w.get<std::string>();
        std::error_code ec;
        if (word.empty() || word.starts_with("/opt/ml/") ||
            !std::filesystem::is_regular_file(word, ec)) {
          continue;
        }
        ASSIGN_OR_RETURN(auto sha, FileSha256(word));
        out.push_back(fmt::format("code {} {}", word, sha));
      }
    }
  }
  return out;
}

}  // namespace sagebox::pipeline::runtime
