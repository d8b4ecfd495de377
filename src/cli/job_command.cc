// `sagebox job run`: one SageMaker processing or training job run here, as local processes
// (SageMaker's "local mode" without Docker). The flags build a CreateProcessingJob /
// CreateTrainingJob request (or --request reads one), the JobService runs it
// (pipeline/sagemaker/job_service.h), the job's log lines stream to stderr, and the exit
// code says how it ended. Ctrl-C stops the job (Stopping, then Stopped).
#include <fmt/format.h>
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.h"
#include "cli/platform.h"
#include "core/env.h"
#include "pipeline/sagemaker/job_service.h"

namespace sagebox::cli {

namespace {

using nlohmann::json;
using pipeline::sagemaker::JobKind;

// A job that ran and did not complete (Failed or Stopped): beside cli.h's 0-4.
constexpr int kJobDidNotComplete = 5;

struct JobFlags {
  std::string request;
  std::string kind = "processing";
  std::string name;
  std::string instance_type = "ml.m5.xlarge";
  int instance_count = 1;
  std::vector<std::string> inputs, channels, outputs, hyperparameters, metrics, env;
  std::string output_path;
  int64_t max_runtime = 86400;
  std::string region;
  int stop_grace = 120;
  bool json = false;
  bool quiet = false;
  std::vector<std::string> command;
};

// "K=V" → (K, V); InvalidArgument naming the flag otherwise.
StatusOr<std::pair<std::string, std::string>> KeyValue(const std::string& flag,
                                                       const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument(flag + " " + text + ": expected NAME=VALUE");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

// Strips a trailing ":word" from `text` when it is one of `words`; returns the word or "".
std::string Suffix(std::string* text, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    const std::string s = std::string(":") + w;
    if (text->size() > s.size() && text->ends_with(s)) {
      text->resize(text->size() - s.size());
      return w;
    }
  }
  return "";
}

StatusOr<json> BuildRequest(const JobFlags& f, JobKind kind) {
  if (f.command.empty()) {
    return InvalidArgument("no command: give it after --, e.g. sagebox job run -- python3 prep.py");
  }
  std::string name = f.name;
  if (name.empty()) name = fmt::format("{}-{}", f.kind, static_cast<int64_t>(std::time(nullptr)));
  const json entry = json(std::vector<std::string>{f.command[0]});
  const std::vector<std::string> args(f.command.begin() + 1, f.command.end());
  json env = json::object();
  for (const auto& e : f.env) {
    ASSIGN_OR_RETURN(auto kv, KeyValue("--env", e));
    env[kv.first] = kv.second;
  }
  json q;
  q["RoleArn"] = "arn:aws:iam::000000000000:role/sagebox-local";
  if (!env.empty()) q["Environment"] = env;
  q["StoppingCondition"] = {{"MaxRuntimeInSeconds", f.max_runtime}};
  if (kind == JobKind::kProcessing) {
    if (!f.channels.empty() || !f.hyperparameters.empty() || !f.metrics.empty() ||
        !f.output_path.empty()) {
      return InvalidArgument(
          "--channel, --hyperparameter, --metric and --output-path are for --kind training");
    }
    q["ProcessingJobName"] = name;
    q["AppSpecification"] = {{"ImageUri", "local"}, {"ContainerEntrypoint", entry}};
    if (!args.empty()) q["AppSpecification"]["ContainerArguments"] = args;
    q["ProcessingResources"] = {{"ClusterConfig",
                                 {{"InstanceCount", f.instance_count},
                                  {"InstanceType", f.instance_type},
                                  {"VolumeSizeInGB", 30}}}};
    json inputs = json::array();
    for (std::string in : f.inputs) {
      const std::string mode = Suffix(&in, {"sharded", "replicated"});
      const auto at = in.find(":/opt/ml/");
      if (at == std::string::npos || at == 0) {
        return InvalidArgument("--input " + in +
                               ": expected SRC:/opt/ml/processing/input/NAME[:sharded]");
      }
      const std::string local = in.substr(at + 1);
      inputs.push_back({{"InputName", local.substr(local.rfind('/') + 1)},
                        {"S3Input",
                         {{"S3Uri", in.substr(0, at)},
                          {"LocalPath", local},
                          {"S3DataType", "S3Prefix"},
                          {"S3InputMode", "File"},
                          {"S3DataDistributionType",
                           mode == "sharded" ? "ShardedByS3Key" : "FullyReplicated"}}}});
    }
    if (!inputs.empty()) q["ProcessingInputs"] = inputs;
    json outputs = json::array();
    for (std::string out : f.outputs) {
      const std::string mode = Suffix(&out, {"continuous", "end-of-job"});
      const auto colon = out.find(':');
      if (out.rfind("/opt/ml/", 0) != 0 || colon == std::string::npos) {
        return InvalidArgument("--output " + out +
                               ": expected /opt/ml/processing/NAME:DEST[:continuous]");
      }
      const std::string local = out.substr(0, colon);
      outputs.push_back({{"OutputName", local.substr(local.rfind('/') + 1)},
                         {"S3Output",
                          {{"S3Uri", out.substr(colon + 1)},
                           {"LocalPath", local},
                           {"S3UploadMode", mode == "continuous" ? "Continuous" : "EndOfJob"}}}});
    }
    if (!outputs.empty()) q["ProcessingOutputConfig"] = {{"Outputs", outputs}};
    return q;
  }
  if (!f.inputs.empty() || !f.outputs.empty()) {
    return InvalidArgument(
        "--input and --output are for --kind processing (training: --channel, "
        "--output-path)");
  }
  q["TrainingJobName"] = name;
  q["AlgorithmSpecification"] = {
      {"TrainingImage", "local"}, {"TrainingInputMode", "File"}, {"ContainerEntrypoint", entry}};
  if (!args.empty()) q["AlgorithmSpecification"]["ContainerArguments"] = args;
  json metrics = json::array();
  for (const auto& m : f.metrics) {
    ASSIGN_OR_RETURN(auto kv, KeyValue("--metric", m));
    metrics.push_back({{"Name", kv.first}, {"Regex", kv.second}});
  }
  if (!metrics.empty()) q["AlgorithmSpecification"]["MetricDefinitions"] = metrics;
  json hps = json::object();
  for (const auto& h : f.hyperparameters) {
    ASSIGN_OR_RETURN(auto kv, KeyValue("--hyperparameter", h));
    hps[kv.first] = kv.second;
  }
  if (!hps.empty()) q["HyperParameters"] = hps;
  json channels = json::array();
  for (std::string c : f.channels) {
    const std::string mode = Suffix(&c, {"sharded", "replicated"});
    ASSIGN_OR_RETURN(auto kv, KeyValue("--channel", c));
    channels.push_back({{"ChannelName", kv.first},
                        {"DataSource",
                         {{"S3DataSource",
                           {{"S3DataType", "S3Prefix"},
                            {"S3Uri", kv.second},
                            {"S3DataDistributionType",
                             mode == "sharded" ? "ShardedByS3Key" : "FullyReplicated"}}}}}});
  }
  if (!channels.empty()) q["InputDataConfig"] = channels;
  q["OutputDataConfig"] = {
      {"S3OutputPath", f.output_path.empty() ? "s3://sagebox-local/training" : f.output_path}};
  q["ResourceConfig"] = {{"InstanceType", f.instance_type},
                         {"InstanceCount", f.instance_count},
                         {"VolumeSizeInGB", 30}};
  return q;
}

sigset_t BlockStopSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

struct OpenedService {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<pipeline::sagemaker::JobService> jobs;
};

// The platform database and a JobService on it; log lines go to stderr unless --quiet.
StatusOr<OpenedService> OpenService(const Globals& g, const JobFlags& f, std::mutex* print_mu) {
  OpenedService out;
  ASSIGN_OR_RETURN(out.db, OpenDatabase(g));
  pipeline::sagemaker::JobServiceOptions o;
  o.data_dir = g.data;
  o.stop_grace = std::chrono::seconds(f.stop_grace);
  if (!f.quiet) {
    o.log_sink = [print_mu](const std::string&, const std::string& host, const std::string& line) {
      std::lock_guard lock(*print_mu);
      (void)std::fprintf(stderr, "[%s] %s\n", host.c_str(), line.c_str());
    };
  }
  ASSIGN_OR_RETURN(out.jobs, pipeline::sagemaker::JobService::Create(out.db.get(), o));
  return out;
}

// Follows job `name` to its end, printing its status changes (and its cost at the end) on
// stderr; a signal in `sigs` stops it. 0 when it Completed, kJobDidNotComplete otherwise.
int Follow(pipeline::sagemaker::JobService& jobs, JobKind kind, const std::string& name,
           const JobFlags& f, const sigset_t& sigs, std::mutex* print_mu, const char* who) {
  const std::string status_key =
      kind == JobKind::kProcessing ? "ProcessingJobStatus" : "TrainingJobStatus";
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&sigs, nullptr, &tick) > 0) {
        (void)std::fprintf(stderr, "%s: stopping %s\n", who, name.c_str());
        Status s = jobs.Stop(kind, name);
        if (!s.ok()) (void)std::fprintf(stderr, "%s: %s\n", who, s.message().c_str());
      }
    }
  });
  std::string last;
  StatusOr<json> d = json();
  while (true) {
    // The first look is immediate, so InProgress shows even for a job that ends at once.
    d = last.empty() ? jobs.Describe(kind, name)
                     : jobs.Wait(kind, name, std::chrono::milliseconds(250));
    if (!d.ok()) break;
    std::string now = (*d).value(status_key, "");
    if (d->contains("SecondaryStatus"))
      now += " (" + (*d)["SecondaryStatus"].get<std::string>() + ")";
    if (now != last && !f.quiet) {
      std::lock_guard lock(*print_mu);
      (void)std::fprintf(stderr, "%s: %s %s\n", who, name.c_str(), now.c_str());
    }
    last = now;
    const std::string st = (*d).value(status_key, "");
    if (st == "Completed" || st == "Failed" || st == "Stopped") break;
  }
  done = true;
  watcher.join();
  if (!d.ok()) return Fail(d.status());
  if (f.json) std::printf("%s\n", d->dump(2).c_str());
  const std::string st = (*d).value(status_key, "");
  auto cost = jobs.Cost(kind, name);
  if (cost.ok() && cost->has_value() && !f.quiet) {
    const auto& c = **cost;
    (void)std::fprintf(stderr, "%s: %s %s: %lld s x %d %s at $%s/h (%s) = $%s\n", who, name.c_str(),
                       st.c_str(), static_cast<long long>(c.billable_seconds), c.instance_count,
                       c.instance_type.c_str(), c.usd_per_hour.ToString().c_str(), c.region.c_str(),
                       c.usd.ToString().c_str());
  }
  if (st == "Completed") return 0;
  (void)std::fprintf(stderr, "%s: %s %s: %s\n", who, name.c_str(), st.c_str(),
                     (*d).value("FailureReason", st == "Stopped" ? "stopped" : "").c_str());
  return kJobDidNotComplete;
}

int RunJob(const Globals& g, const JobFlags& f) {
  JobKind kind = JobKind::kProcessing;
  json request;
  if (!f.request.empty()) {
    std::string text;
    if (Status s = Env::Default()->ReadFileToString(f.request, &text); !s.ok()) return Fail(s);
    request = json::parse(text, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      return Fail(BadInput(f.request + ": not a JSON object"));
    }
    // The request says its kind by its name member.
    kind = request.contains("TrainingJobName") ? JobKind::kTraining : JobKind::kProcessing;
  } else {
    auto k = pipeline::sagemaker::ParseKind(f.kind);
    if (!k) return Fail(InvalidArgument("--kind " + f.kind + ": expected processing or training"));
    kind = *k;
    auto built = BuildRequest(f, kind);
    if (!built.ok()) return Fail(built.status());
    request = std::move(*built);
  }
  // Ctrl-C and SIGTERM stop the job: blocked before any thread starts (they inherit the
  // mask), and one watcher thread waits for them.
  const sigset_t sigs = BlockStopSignals();
  std::mutex print_mu;
  auto service = OpenService(g, f, &print_mu);
  if (!service.ok()) return Fail(service.status());
  auto arn = service->jobs->CreateJob(kind, request, f.region);
  if (!arn.ok()) return Fail(arn.status());
  const std::string name =
      request.value(kind == JobKind::kProcessing ? "ProcessingJobName" : "TrainingJobName", "");
  if (!f.quiet) (void)std::fprintf(stderr, "sagebox job run: %s\n", arn->c_str());
  return Follow(*service->jobs, kind, name, f, sigs, &print_mu, "sagebox job run");
}

// `sagebox job exec`: the job an executor recorded (JobStart::kDeferred), run in this
// process. A Slurm array task runs this; scancel's SIGTERM stops the job as Ctrl-C would.
int ExecJob(const Globals& g, const JobFlags& f, const std::string& kind_name,
            const std::string& name) {
  auto kind = pipeline::sagemaker::ParseKind(kind_name);
  if (!kind) return Fail(InvalidArgument(kind_name + ": expected processing or training"));
  const sigset_t sigs = BlockStopSignals();
  std::mutex print_mu;
  auto service = OpenService(g, f, &print_mu);
  if (!service.ok()) return Fail(service.status());
  if (Status s = service->jobs->StartDeferred(*kind, name); !s.ok()) return Fail(s);
  return Follow(*service->jobs, *kind, name, f, sigs, &print_mu, "sagebox job exec");
}

}  // namespace

void AddJobCommands(CLI::App& app, Globals& g, int* exit_code) {
  auto* job = app.add_subcommand("job", "SageMaker processing and training jobs, run locally");
  job->require_subcommand(1);
  auto f = std::make_shared<JobFlags>();
  auto* run = job->add_subcommand(
      "run",
      "Run one SageMaker processing or training job here as local processes (no containers).\n"
      "The flags build a CreateProcessingJob / CreateTrainingJob request (or --request reads "
      "one);\nthe command after -- is the entrypoint. s3://bucket/key is <data>/s3/bucket/key; "
      "file:// and\nabsolute paths work too. Arguments starting with /opt/ml/ point into the "
      "job's work area\n(<data>/pipeline/jobs/<kind>/<name>/opt/ml), also in $SAGEBOX_ML_ROOT. "
      "Logs stream to stderr;\nexit 0 when the job Completed, 5 when it Failed or was Stopped "
      "(Ctrl-C stops it).\n\n"
      "Examples:\n"
      "  sagebox job run --name prep --instance-count 2 \\\n"
      "    --input s3://raw/csv:/opt/ml/processing/input/data:sharded \\\n"
      "    --output /opt/ml/processing/output:s3://clean/run1 -- \\\n"
      "    python3 prep.py /opt/ml/processing/input/data /opt/ml/processing/output\n"
      "  sagebox job run --kind training --name iris-1 --channel train=s3://data/iris \\\n"
      "    --hyperparameter max_depth=3 --metric 'accuracy=accuracy=([0-9.]+)' \\\n"
      "    --output-path s3://models --json -- python3 train_iris.py");
  run->add_option("--request", f->request,
                  "a CreateProcessingJob or CreateTrainingJob request (JSON, AWS's shape); "
                  "the other job flags are then ignored");
  run->add_option("--kind", f->kind, "processing (default) or training");
  run->add_option("--name", f->name, "the job name (default <kind>-<unix time>)");
  run->add_option("--instance-type", f->instance_type,
                  "priced from the instance catalog (default ml.m5.xlarge)");
  run->add_option("--instance-count", f->instance_count,
                  "hosts algo-1..algo-N, one process each (default 1)");
  run->add_option("--input", f->inputs,
                  "processing input SRC:/opt/ml/processing/input/NAME[:sharded] (repeatable)");
  run->add_option("--output", f->outputs,
                  "processing output /opt/ml/processing/NAME:DEST[:continuous] (repeatable)");
  run->add_option("--channel", f->channels, "training channel NAME=SRC[:sharded] (repeatable)");
  run->add_option("--output-path", f->output_path,
                  "training S3OutputPath: model.tar.gz goes to DEST/<name>/output/");
  run->add_option("--hyperparameter", f->hyperparameters, "training hyperparameter K=V");
  run->add_option("--metric", f->metrics, "training metric NAME=REGEX (first group the value)");
  run->add_option("--env", f->env, "environment variable K=V for the job (repeatable)");
  run->add_option("--max-runtime", f->max_runtime,
                  "MaxRuntimeInSeconds: past it the job is Failed (default 86400)");
  run->add_option("--region", f->region, "the region whose price applies (default us-east-1)");
  run->add_option("--stop-grace", f->stop_grace,
                  "seconds between SIGTERM and SIGKILL on stop (default 120, as SageMaker)");
  run->add_flag("--json", f->json, "print the Describe*Job response on stdout at the end");
  run->add_flag("--quiet", f->quiet, "no log lines or progress on stderr");
  run->add_option("command", f->command, "the entrypoint and its arguments (after --)");
  run->callback([&g, f, exit_code] { *exit_code = RunJob(g, *f); });

  auto target = std::make_shared<std::pair<std::string, std::string>>();
  auto* exec = job->add_subcommand(
      "exec",
      "Run a job an executor recorded and left waiting (sagebox pipeline run --executor slurm\n"
      "records each job, then a Slurm array task runs this on the node). The job runs here as\n"
      "`job run` would run it; the database (--db) and data folder (--data) must be the ones\n"
      "the pipeline uses. SIGTERM (scancel) stops the job. Exit 0 when it Completed, 5 when\n"
      "it Failed or was Stopped, 1 when it is not a job waiting to start, 2 when there is no\n"
      "such job.\n\n"
      "Example:\n"
      "  sagebox --data /shared/sagebox job exec training iris-lr-0-1a2b-0");
  exec->add_option("kind", target->first, "processing or training")->required();
  exec->add_option("name", target->second, "the job's name")->required();
  exec->add_option("--stop-grace", f->stop_grace,
                   "seconds between SIGTERM and SIGKILL on stop (default 120, as SageMaker)");
  exec->add_flag("--json", f->json, "print the Describe*Job response on stdout at the end");
  exec->add_flag("--quiet", f->quiet, "no log lines or progress on stderr");
  exec->callback(
      [&g, f, target, exit_code] { *exit_code = ExecJob(g, *f, target->first, target->second); });
}

}  // namespace sagebox::cli
