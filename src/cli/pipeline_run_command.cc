// `sagebox pipeline validate|run|status|resume|runs|models`: pipelines run here, as Step
// Functions and SageMaker would run them (docs/pipeline.md). A thin client of
// pipeline/runtime/pipeline_service.h: `run` compiles a YAML config (or reads ASL), creates
// or updates its state machine, starts an execution and follows it to the end; `resume`
// redrives a failed one; `status`, `runs` and `models` read what executions recorded.
//
// Exit codes: 0 when the execution SUCCEEDED, 5 when it ended otherwise (FAILED, TIMED_OUT,
// ABORTED), 2 for a config or definition with problems, and cli.h's others.
#include <fmt/format.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.h"
#include "cli/platform.h"
#include "core/env.h"
#include "core/table.h"
#include "pipeline/asl/definition.h"
#include "pipeline/config/compiler.h"
#include "pipeline/config/config.h"
#include "pipeline/runtime/pipeline_service.h"
#include "pipeline/runtime/slurm_executor.h"
#include "pipeline/slurm/command_runner.h"
#include "pipeline/slurm/slurm_client.h"

namespace sagebox::cli {

namespace {

using nlohmann::json;
namespace runtime = pipeline::runtime;

constexpr int kExecutionDidNotSucceed = 5;

struct RunFlags {
  std::string file;
  std::string executor = "local";
  std::string slurm_partition;
  std::string slurm_account;
  std::string name;
  std::string input;
  bool cache = false;
  bool bypass_cache = false;
  std::string max_cost;
  int64_t max_history_events = 0;
  bool json = false;
  bool quiet = false;
};

// A definition and the machine name it runs under: a YAML config compiles (its `pipeline`
// names it), anything else is ASL JSON named after the file.
struct Loaded {
  std::string name;
  std::string definition;
};

bool IsYaml(const std::string& file) { return file.ends_with(".yaml") || file.ends_with(".yml"); }

StatusOr<Loaded> Load(const std::string& file) {
  if (IsYaml(file)) {
    ASSIGN_OR_RETURN(auto config, pipeline::config::LoadConfig(file));
    ASSIGN_OR_RETURN(auto asl, pipeline::config::Compile(config));
    return Loaded{config.pipeline, pipeline::config::DumpAsl(asl)};
  }
  std::string text;
  RETURN_IF_ERROR(Env::Default()->ReadFileToString(file, &text));
  if (auto problems = pipeline::asl::ValidateDefinition(text); !problems.empty()) {
    std::string msg = pipeline::asl::FormatProblems(file, problems);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return BadInput(msg);
  }
  std::string stem = file.substr(file.find_last_of('/') + 1);
  if (const auto dot = stem.find('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
  return Loaded{stem, text};
}

std::string Clock(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  (void)std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S", &tm);
  return buf.data();
}

std::string Duration(const runtime::ExecutionRow& e) {
  const int64_t end = e.stop_ms.value_or(static_cast<int64_t>(std::time(nullptr)) * 1000);
  return fmt::format("{:.1f} s", static_cast<double>(end - e.start_ms) / 1000.0);
}

// Everything the commands need, opened once.
struct Platform {
  std::unique_ptr<db::Database> db;
  std::unique_ptr<pipeline::sagemaker::JobService> jobs;
  std::unique_ptr<pipeline::tracking::TrackingStore> tracking;
  // The Slurm executor (--executor slurm); declared before the service, which uses it.
  std::unique_ptr<pipeline::slurm::SpawnCommandRunner> slurm_runner;
  std::unique_ptr<pipeline::slurm::SlurmClient> slurm;
  std::unique_ptr<runtime::SlurmJobExecutor> executor;
  std::unique_ptr<runtime::PipelineService> service;
};

// The Slurm executor: every array task runs this binary's `job exec` on the same data folder
// and database, so both must be reachable from the nodes (docs/pipeline.md, "Slurm").
StatusOr<std::unique_ptr<runtime::SlurmJobExecutor>> SlurmExecutor(
    const Globals& g, const RunFlags& f, pipeline::slurm::SlurmClient* client,
    std::function<void(const std::string&)> progress) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    return Internal(
        fmt::format("cannot find this program's path (/proc/self/exe): {}", ec.message()));
  const std::string data = std::filesystem::absolute(g.data, ec).lexically_normal().string();
  runtime::SlurmExecutorOptions o;
  o.exec_command = {self.string(), "--data", data};
  if (!g.database.empty()) {
    o.exec_command.insert(o.exec_command.end(), {"--database", g.database});
  }
  o.exec_command.insert(o.exec_command.end(), {"job", "exec"});
  o.working_dir = std::filesystem::current_path(ec).string();
  o.log_dir = JoinPath(data, "pipeline/slurm");
  std::filesystem::create_directories(o.log_dir, ec);
  if (ec) return IoError("cannot create " + o.log_dir + ": " + ec.message());
  o.partition = f.slurm_partition;
  o.account = f.slurm_account;
  o.progress = std::move(progress);
  return std::make_unique<runtime::SlurmJobExecutor>(client, std::move(o));
}

StatusOr<Platform> Open(const Globals& g, bool quiet, const RunFlags* run = nullptr) {
  Platform p;
  ASSIGN_OR_RETURN(p.db, OpenDatabase(g));
  pipeline::sagemaker::JobServiceOptions jo;
  jo.data_dir = g.data;
  jo.stop_grace = std::chrono::seconds(10);
  ASSIGN_OR_RETURN(p.jobs, pipeline::sagemaker::JobService::Create(p.db.get(), jo));
  RETURN_IF_ERROR(p.jobs->RecoverInterrupted().status());
  pipeline::tracking::TrackingOptions to;
  to.artifact_root = JoinPath(g.data, "mlflow-artifacts");
  ASSIGN_OR_RETURN(p.tracking, pipeline::tracking::TrackingStore::Open(p.db.get(), to));
  runtime::PipelineServiceOptions so;
  so.data_dir = g.data;
  if (!quiet) {
    auto mu = std::make_shared<std::mutex>();
    so.progress = [mu](const std::string&, const std::string& line) {
      std::lock_guard lock(*mu);
      (void)std::fprintf(stderr, "[%s] %s\n",
                         Clock(static_cast<int64_t>(std::time(nullptr)) * 1000).substr(11).c_str(),
                         line.c_str());
    };
  }
  if (run != nullptr && run->executor == "slurm") {
    p.slurm_runner = std::make_unique<pipeline::slurm::SpawnCommandRunner>();
    p.slurm = std::make_unique<pipeline::slurm::SlurmClient>(p.slurm_runner.get());
    auto line = so.progress;
    ASSIGN_OR_RETURN(p.executor,
                     SlurmExecutor(g, *run, p.slurm.get(), [line](const std::string& l) {
                       if (line) line("", l);
                     }));
    so.executor = p.executor.get();
  }
  ASSIGN_OR_RETURN(
      p.service, runtime::PipelineService::Create(p.db.get(), p.jobs.get(), p.tracking.get(), so));
  return p;
}

json ExecutionJson(const runtime::ExecutionRow& e) {
  json j = {{"executionArn", e.arn},
            {"stateMachineArn", e.state_machine_arn},
            {"name", e.name},
            {"status", e.status},
            {"startDate", static_cast<double>(e.start_ms) / 1000.0},
            {"redriveCount", e.redrive_count},
            {"costUsd", e.cost_usd.ToString()}};
  if (e.stop_ms) j["stopDate"] = static_cast<double>(*e.stop_ms) / 1000.0;
  if (e.output) j["output"] = json::parse(*e.output, nullptr, false);
  if (!e.error.empty()) j["error"] = e.error;
  if (!e.cause.empty()) j["cause"] = e.cause;
  return j;
}

// The best model of every stage this execution registered (model versions whose lineage
// names it), as a table.
std::string BestModels(pipeline::tracking::TrackingStore* tracking, const std::string& arn,
                       json* out) {
  pipeline::tracking::SearchRequest req;
  req.filter = "tags.`sagebox.execution` = '" + arn + "'";
  auto versions = tracking->SearchModelVersions(req);
  if (!versions.ok() || versions->items.empty()) return "";
  TextTable t({"stage", "model", "version", "metric", "training job"},
              {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kRight,
               TextTable::Align::kLeft, TextTable::Align::kLeft});
  for (const auto& v : versions->items) {
    std::map<std::string, std::string> tags;
    for (const auto& kv : v.tags) tags[kv.key] = kv.value;
    t.AddRow({tags["sagebox.stage"], v.name, v.version, tags["sagebox.metric"],
              tags["sagebox.training_job"]});
    if (out != nullptr) {
      out->push_back({{"stage", tags["sagebox.stage"]},
                      {"model", v.name},
                      {"version", v.version},
                      {"metric", tags["sagebox.metric"]},
                      {"training_job", tags["sagebox.training_job"]},
                      {"source", v.source}});
    }
  }
  return t.Render();
}

// Follows an execution this process runs to its end; Ctrl-C (or SIGTERM) stops it.
int Follow(Platform& p, const std::string& arn, const RunFlags& f, const sigset_t& sigs) {
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!done.load()) {
      if (sigtimedwait(&sigs, nullptr, &tick) > 0) {
        (void)std::fprintf(stderr, "sagebox pipeline: stopping %s\n", arn.c_str());
        Status s = p.service->StopExecution(arn, "sagebox.Stopped", "stopped from the terminal");
        if (!s.ok()) (void)std::fprintf(stderr, "sagebox pipeline: %s\n", s.message().c_str());
      }
    }
  });
  auto e = p.service->Wait(arn, std::chrono::hours(24 * 365));
  done = true;
  watcher.join();
  if (!e.ok()) return Fail(e.status());
  json models = json::array();
  const std::string table = BestModels(p.tracking.get(), arn, &models);
  if (f.json) {
    json j = ExecutionJson(*e);
    j["models"] = models;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf(
        "%s %s in %s, cost $%s%s\n", e->name.c_str(), e->status.c_str(), Duration(*e).c_str(),
        e->cost_usd.ToString().c_str(),
        e->redrive_count > 0 ? fmt::format(" (resumed {}x)", e->redrive_count).c_str() : "");
    if (!e->error.empty()) std::printf("error: %s: %s\n", e->error.c_str(), e->cause.c_str());
    if (!table.empty()) std::printf("\nBest model per stage:\n%s", table.c_str());
    if (e->status != "SUCCEEDED") {
      std::printf("\nResume what failed with: sagebox pipeline resume %s\n", e->name.c_str());
    }
  }
  return e->status == "SUCCEEDED" ? 0 : kExecutionDidNotSucceed;
}

sigset_t BlockStopSignals() {
  // Blocked before any thread starts (they inherit the mask); Follow's watcher takes them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

int Validate(const std::string& file) {
  auto loaded = Load(file);
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "sagebox pipeline validate: %s has errors:\n%s\n", file.c_str(),
                       loaded.status().message().c_str());
    return ExitCode(loaded.status().code());
  }
  auto machine = pipeline::asl::ParseDefinition(loaded->definition);
  if (!machine.ok()) return Fail(machine.status());
  std::printf("%s: valid (state machine '%s', %zu top-level states)\n", file.c_str(),
              loaded->name.c_str(), machine->states.size());
  return 0;
}

int Run(const Globals& g, const RunFlags& f) {
  if (f.executor != "local" && f.executor != "slurm") {
    return Fail(InvalidArgument("--executor " + f.executor + ": expected local or slurm"));
  }
  runtime::RunOptions run;
  run.max_history_events = f.max_history_events;
  run.cache = f.cache || f.bypass_cache;
  run.bypass_cache = f.bypass_cache;
  if (!f.max_cost.empty()) {
    Decimal limit;
    if (!Decimal::Parse(f.max_cost, &limit)) {
      return Fail(InvalidArgument("--max-cost " + f.max_cost + ": expected US dollars, e.g. 2.50"));
    }
    run.max_cost_usd = limit;
  }
  auto loaded = Load(f.file);
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "sagebox pipeline run: %s has errors:\n%s\n", f.file.c_str(),
                       loaded.status().message().c_str());
    return ExitCode(loaded.status().code());
  }
  const sigset_t sigs = BlockStopSignals();
  auto p = Open(g, f.quiet, &f);
  if (!p.ok()) return Fail(p.status());
  auto machine = p->service->CreateStateMachine(loaded->name, loaded->definition, "", true);
  if (!machine.ok()) return Fail(machine.status());
  std::string name = f.name;
  if (name.empty()) {
    const std::string t = Clock(static_cast<int64_t>(std::time(nullptr)) * 1000);
    name = fmt::format("{}-{}{}{}-{}{}{}-{}", loaded->name, t.substr(0, 4), t.substr(5, 2),
                       t.substr(8, 2), t.substr(11, 2), t.substr(14, 2), t.substr(17, 2),
                       pipeline::engine::SeededRandom().Uuid().substr(0, 4));
  }
  auto e = p->service->StartExecution(machine->arn, name, f.input, run);
  if (!e.ok()) return Fail(e.status());
  if (!f.quiet) (void)std::fprintf(stderr, "sagebox pipeline run: %s\n", e->arn.c_str());
  return Follow(*p, e->arn, f, sigs);
}

int Resume(const Globals& g, const std::string& exec, const RunFlags& f) {
  if (f.executor != "local" && f.executor != "slurm") {
    return Fail(InvalidArgument("--executor " + f.executor + ": expected local or slurm"));
  }
  const sigset_t sigs = BlockStopSignals();
  auto p = Open(g, f.quiet, &f);
  if (!p.ok()) return Fail(p.status());
  auto arn = p->service->ResolveExecution(exec);
  if (!arn.ok()) return Fail(arn.status());
  auto e = p->service->RedriveExecution(*arn);
  if (!e.ok()) return Fail(e.status());
  if (!f.quiet) {
    (void)std::fprintf(stderr, "sagebox pipeline resume: %s (redrive %lld)\n", arn->c_str(),
                       static_cast<long long>(e->redrive_count));
  }
  return Follow(*p, *arn, f, sigs);
}

// Per state: how often it was entered and left, from the history.
TextTable StateTable(const std::vector<json>& events, json* out) {
  std::map<std::string, std::array<int64_t, 2>> counts;
  std::vector<std::string> order;
  int64_t iterations_ok = 0;
  int64_t iterations_failed = 0;
  for (const auto& ev : events) {
    const std::string type = ev.value("type", "");
    if (type == "MapIterationSucceeded") ++iterations_ok;
    if (type == "MapIterationFailed" || type == "MapIterationAborted") ++iterations_failed;
    const bool entered = type.ends_with("StateEntered");
    const bool exited = type.ends_with("StateExited");
    if (!entered && !exited) continue;
    const json d =
        ev.value(entered ? "stateEnteredEventDetails" : "stateExitedEventDetails", json::object());
    const std::string name = d.value("name", "");
    if (counts.count(name) == 0) order.push_back(name);
    ++counts[name][entered ? 0 : 1];
  }
  TextTable t({"state", "entered", "exited", "running or failed"},
              {TextTable::Align::kLeft, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight});
  for (const auto& n : order) {
    const auto& c = counts[n];
    t.AddRow({n, std::to_string(c[0]), std::to_string(c[1]), std::to_string(c[0] - c[1])});
    if (out != nullptr) {
      (*out)["states"].push_back({{"name", n}, {"entered", c[0]}, {"exited", c[1]}});
    }
  }
  if (out != nullptr) {
    (*out)["mapIterations"] = {{"succeeded", iterations_ok}, {"failed", iterations_failed}};
  }
  return t;
}

int StatusCmd(const Globals& g, const std::string& exec, bool as_json) {
  auto p = Open(g, true);
  if (!p.ok()) return Fail(p.status());
  std::vector<runtime::ExecutionRow> rows;
  if (exec.empty()) {
    auto all = p->service->ListExecutions("", "");
    if (!all.ok()) return Fail(all.status());
    rows = std::move(*all);
    if (as_json) {
      json j = json::array();
      for (const auto& e : rows) j.push_back(ExecutionJson(e));
      std::printf("%s\n", j.dump(2).c_str());
      return 0;
    }
    TextTable t({"execution", "status", "started (UTC)", "duration", "cost $", "resumed"},
                {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kLeft,
                 TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight});
    for (const auto& e : rows) {
      t.AddRow({e.name, e.status, Clock(e.start_ms), Duration(e), e.cost_usd.ToString(),
                std::to_string(e.redrive_count)});
    }
    std::printf("%s", t.Render().c_str());
    return 0;
  }
  auto arn = p->service->ResolveExecution(exec);
  if (!arn.ok()) return Fail(arn.status());
  auto e = p->service->DescribeExecution(*arn);
  if (!e.ok()) return Fail(e.status());
  auto events = p->service->History(*arn);
  if (!events.ok()) return Fail(events.status());
  json j = ExecutionJson(*e);
  j["states"] = json::array();
  const TextTable states = StateTable(*events, &j);
  json models = json::array();
  const std::string best = BestModels(p->tracking.get(), *arn, &models);
  j["models"] = models;
  if (as_json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s\n  status    %s%s\n  started   %s UTC\n  duration  %s\n  cost      $%s\n",
              e->arn.c_str(), e->status.c_str(),
              e->redrive_count > 0 ? fmt::format(" (resumed {}x)", e->redrive_count).c_str() : "",
              Clock(e->start_ms).c_str(), Duration(*e).c_str(), e->cost_usd.ToString().c_str());
  if (!e->error.empty()) std::printf("  error     %s: %s\n", e->error.c_str(), e->cause.c_str());
  std::printf("  map iterations  %lld succeeded, %lld failed\n\n%s",
              static_cast<long long>(j["mapIterations"].value("succeeded", int64_t{0})),
              static_cast<long long>(j["mapIterations"].value("failed", int64_t{0})),
              states.Render().c_str());
  if (!best.empty()) std::printf("\nBest model per stage:\n%s", best.c_str());
  return 0;
}

// The rows as JSON (for machines) or as the table (for people), or what to do when there are
// none.
int PrintRows(const json& rows, const TextTable& table, bool as_json, const char* when_empty) {
  if (as_json) {
    std::printf("%s\n", rows.dump(2).c_str());
  } else if (table.rows() == 0) {
    std::printf("%s\n", when_empty);
  } else {
    std::printf("%s", table.Render().c_str());
  }
  return 0;
}

int Runs(const Globals& g, const std::string& stage, const std::string& exec, bool as_json) {
  auto p = Open(g, true);
  if (!p.ok()) return Fail(p.status());
  pipeline::tracking::SearchRequest er;
  auto experiments = p->tracking->SearchExperiments(er);
  if (!experiments.ok()) return Fail(experiments.status());
  pipeline::tracking::SearchRequest req;
  for (const auto& x : experiments->items) req.experiment_ids.push_back(x.experiment_id);
  std::vector<std::string> clauses;
  if (!stage.empty()) clauses.push_back("tags.`sagebox.stage` = '" + stage + "'");
  if (!exec.empty()) {
    auto arn = p->service->ResolveExecution(exec);
    if (!arn.ok()) return Fail(arn.status());
    clauses.push_back("tags.`sagebox.execution` = '" + *arn + "'");
  }
  for (size_t i = 0; i < clauses.size(); ++i) {
    if (i > 0) req.filter += " AND ";
    req.filter += clauses[i];
  }
  req.order_by = {"attributes.start_time ASC"};
  json out = json::array();
  TextTable t({"run (training job)", "stage", "algorithm", "status", "metrics", "cost $"},
              {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kLeft,
               TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kRight});
  do {
    auto page = p->tracking->SearchRuns(req);
    if (!page.ok()) return Fail(page.status());
    for (const auto& r : page->items) {
      std::map<std::string, std::string> tags;
      for (const auto& kv : r.tags) tags[kv.key] = kv.value;
      std::string metrics;
      json m = json::object();
      for (const auto& x : r.metrics) {
        if (!metrics.empty()) metrics += ' ';
        metrics += fmt::format("{}={:.4f}", x.key, x.value);
        m[x.key] = x.value;
      }
      const std::string cost = r.cost_usd ? r.cost_usd->ToString() : "";
      t.AddRow({r.info.run_name, tags["sagebox.stage"], tags["sagebox.algorithm"], r.info.status,
                metrics, cost});
      json params = json::object();
      for (const auto& kv : r.params) params[kv.key] = kv.value;
      out.push_back({{"run_id", r.info.run_id},
                     {"run_name", r.info.run_name},
                     {"stage", tags["sagebox.stage"]},
                     {"algorithm", tags["sagebox.algorithm"]},
                     {"status", r.info.status},
                     {"metrics", m},
                     {"params", params},
                     {"cost_usd", cost},
                     {"execution", tags["sagebox.execution"]}});
    }
    req.page_token = page->next_page_token;
  } while (!req.page_token.empty());
  return PrintRows(out, t, as_json,
                   "no runs yet: `sagebox pipeline run CONFIG` logs one per candidate");
}

int Models(const Globals& g, bool as_json) {
  auto p = Open(g, true);
  if (!p.ok()) return Fail(p.status());
  pipeline::tracking::SearchRequest req;
  auto models = p->tracking->SearchRegisteredModels(req);
  if (!models.ok()) return Fail(models.status());
  json out = json::array();
  TextTable t({"model", "alias", "version", "stage", "metric", "training job", "source"});
  for (const auto& m : models->items) {
    for (const auto& [alias, version] : m.aliases) {
      auto v = p->tracking->GetModelVersion(m.name, version);
      if (!v.ok()) return Fail(v.status());
      std::map<std::string, std::string> tags;
      for (const auto& kv : v->tags) tags[kv.key] = kv.value;
      t.AddRow({m.name, alias, version, tags["sagebox.stage"], tags["sagebox.metric"],
                tags["sagebox.training_job"], v->source});
      out.push_back({{"model", m.name},
                     {"alias", alias},
                     {"version", version},
                     {"stage", tags["sagebox.stage"]},
                     {"metric", tags["sagebox.metric"]},
                     {"training_job", tags["sagebox.training_job"]},
                     {"run_id", v->run_id},
                     {"execution", tags["sagebox.execution"]},
                     {"source", v->source}});
    }
  }
  return PrintRows(out, t, as_json, "no registered models yet");
}

}  // namespace

void AddPipelineRunCommands(CLI::App* pipeline, Globals& g, int* exit_code) {
  auto file = std::make_shared<std::string>();
  auto* validate = pipeline->add_subcommand(
      "validate",
      "Check a pipeline config (YAML) or a state machine (ASL JSON) without running it\n"
      "Problems name file:line:col and key (YAML) or the state and field (ASL); exit 2.\n"
      "Example:\n  sagebox pipeline validate examples/pipeline/ocx.yaml");
  validate->add_option("FILE", *file, "A YAML config or an ASL JSON definition")->required();
  validate->callback([file, exit_code] { *exit_code = Validate(*file); });

  auto f = std::make_shared<RunFlags>();
  auto* run = pipeline->add_subcommand(
      "run",
      "Run a pipeline here: compile the config (or read ASL), start an execution, follow it\n"
      "Jobs run as local processes under the SageMaker container contract; every candidate is\n"
      "logged as a run and the best per stage registered. Progress goes to stderr; the end\n"
      "prints the status, cost and best model per stage. Ctrl-C stops it (ABORTED); a failed\n"
      "execution resumes with `sagebox pipeline resume NAME`. Exit 0 SUCCEEDED, 5 otherwise.\n"
      "Commands in the config are relative to the current folder.\n"
      "Example:\n"
      "  cd examples/pipeline && sagebox --data /tmp/sb pipeline run ocx.yaml");
  run->add_option("FILE", f->file, "A YAML config or an ASL JSON definition")->required();
  run->add_option("--executor", f->executor,
                  "local (default): jobs are child processes of this one; slurm: every Map\n"
                  "fan-out is one Slurm job array (--array=0-N%MaxConcurrency) whose tasks run\n"
                  "`sagebox job exec`; Slurm's commands must work here (SLURM_CONF)");
  run->add_option("--slurm-partition", f->slurm_partition, "with slurm: sbatch --partition");
  run->add_option("--slurm-account", f->slurm_account, "with slurm: sbatch --account");
  run->add_option("--name", f->name, "the execution's name (default <pipeline>-<time>-<id>)");
  run->add_option("--input", f->input, "the execution input, JSON (default {})");
  run->add_flag("--cache", f->cache,
                "reuse a task's earlier success when its request, code and input files match");
  run->add_flag("--bypass-cache", f->bypass_cache,
                "with caching: run everything again and store the fresh results");
  run->add_option("--max-cost", f->max_cost,
                  "stop starting jobs once they cost this many US dollars (default: the "
                  "config's limits.max_cost_usd)");
  run->add_option("--max-history-events", f->max_history_events,
                  "raise Step Functions' limit of 25,000 history events (very wide Maps)");
  run->add_flag("--json", f->json, "print the execution (and best models) as JSON at the end");
  run->add_flag("--quiet", f->quiet, "no progress on stderr");
  run->callback([&g, f, exit_code] { *exit_code = Run(g, *f); });

  auto exec = std::make_shared<std::string>();
  auto* resume = pipeline->add_subcommand(
      "resume",
      "Re-run only what failed of an execution (Step Functions' redrive): failed states, Map\n"
      "iterations and Parallel branches; what completed keeps its output.\n"
      "Example:\n  sagebox pipeline resume ocx-sklearn-20261207-101500-1a2b");
  resume->add_option("EXECUTION", *exec, "its name or ARN")->required();
  resume->add_option("--executor", f->executor, "local (default) or slurm, as for run");
  resume->add_option("--slurm-partition", f->slurm_partition, "with slurm: sbatch --partition");
  resume->add_option("--slurm-account", f->slurm_account, "with slurm: sbatch --account");
  resume->add_flag("--json", f->json, "print the execution as JSON at the end");
  resume->add_flag("--quiet", f->quiet, "no progress on stderr");
  resume->callback([&g, exec, f, exit_code] { *exit_code = Resume(g, *exec, *f); });

  auto status_exec = std::make_shared<std::string>();
  auto status_json = std::make_shared<bool>(false);
  auto* status = pipeline->add_subcommand(
      "status",
      "Executions (without EXECUTION), or one: status, cost, states entered and left, Map\n"
      "iterations, the best model per stage.\n"
      "Example:\n  sagebox pipeline status ocx-sklearn-20261207-101500-1a2b --json");
  status->add_option("EXECUTION", *status_exec, "its name or ARN");
  status->add_flag("--json", *status_json, "JSON instead of tables");
  status->callback([&g, status_exec, status_json, exit_code] {
    *exit_code = StatusCmd(g, *status_exec, *status_json);
  });

  auto stage = std::make_shared<std::array<std::string, 2>>();  // stage, execution
  auto runs_json = std::make_shared<bool>(false);
  auto* runs = pipeline->add_subcommand(
      "runs",
      "The candidates' runs: parameters, metrics and cost of every training job\n"
      "Example:\n  sagebox pipeline runs --stage iris");
  runs->add_option("--stage", (*stage)[0], "only this stage's runs");
  runs->add_option("--execution", (*stage)[1], "only this execution's runs (name or ARN)");
  runs->add_flag("--json", *runs_json, "JSON instead of a table");
  runs->callback([&g, stage, runs_json, exit_code] {
    *exit_code = Runs(g, (*stage)[0], (*stage)[1], *runs_json);
  });

  auto models_json = std::make_shared<bool>(false);
  auto* models = pipeline->add_subcommand(
      "models",
      "The registry: every model's aliases and the version each points at, with its lineage\n"
      "Example:\n  sagebox pipeline models");
  models->add_flag("--json", *models_json, "JSON instead of a table");
  models->callback([&g, models_json, exit_code] { *exit_code = Models(g, *models_json); });
}

}  // namespace sagebox::cli
