// pipeline_service.cc: executions on the engine, persisted as they run (pipeline_service.h).
#include "pipeline/runtime/pipeline_service.h"

#include <fmt/format.h>

#include <utility>

#include "jobs/job_runner.h"
#include "jobs/process.h"
#include "pipeline/asl/definition.h"
#include "pipeline/engine/cache.h"
#include "pipeline/engine/engine.h"
#include "pipeline/runtime/dispatcher.h"

namespace sagebox::pipeline::runtime {

namespace {

using nlohmann::json;

constexpr const char* kInterrupted = "sagebox.Interrupted";

// The last ':'-separated part of an ARN (a machine's or an execution's name).
std::string ArnTail(const std::string& arn) {
  const auto colon = arn.rfind(':');
  return colon == std::string::npos ? arn : arn.substr(colon + 1);
}

// True when `owner` (a RunnerIdentity) is a live process of this host, or of another host
// (which this process cannot judge, so it is left alone).
bool OwnerMayBeAlive(const std::string& owner) {
  const auto me = jobs::RunnerIdentity::Current();
  auto id = jobs::RunnerIdentity::Parse(owner);
  if (!id) return false;
  if (id->host != me.host) return true;
  return id->boot_id == me.boot_id &&
         jobs::ProcessRunning(static_cast<pid_t>(id->pid), id->start_ticks);
}

// Step Functions' name rules for state machines and executions: 1-80 characters, none of
// whitespace, brackets, wildcards, special characters or control characters
// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
Status CheckName(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > 80) {
    return InvalidArgument(what + " name must be 1 to 80 characters: '" + name + "'");
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f ||
        std::string_view(" <>{}[]?*\"#%\\^|~`$&,;:/").find(c) != std::string_view::npos) {
      return InvalidArgument(fmt::format(
          "{} name '{}' has a character Step Functions does not allow ('{}')", what, name, c));
    }
  }
  return Status::Ok();
}

}  // namespace

struct PipelineService::Live {
  std::shared_ptr<engine::CancelToken> stop = engine::CancelToken::Make();
  std::mutex mu;
  std::string stop_error;
  std::string stop_cause;
  bool done = false;
};

std::optional<Decimal> DefinitionCostLimit(const std::string& definition) {
  const json d = json::parse(definition, nullptr, false);
  if (!d.is_object() || !d.contains("States") || !d["States"].is_object()) return std::nullopt;
  for (const auto& [name, st] : d["States"].items()) {
    (void)name;
    if (!st.is_object() || st.value("Type", "") != "Pass") continue;
    const json p = st.value("Parameters", json::object());
    if (!p.is_object() || !p.contains("limits") || !p["limits"].is_object()) continue;
    const auto it = p["limits"].find("max_cost_usd");
    if (it == p["limits"].end()) continue;
    const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
    Decimal limit;
    if (Decimal::Parse(text, &limit)) return limit;
  }
  return std::nullopt;
}

PipelineService::PipelineService(db::Database* db, sagemaker::JobService* jobs,
                                 tracking::TrackingStore* tracking, PipelineServiceOptions options)
    : store_(db),
      jobs_(jobs),
      tracking_(tracking),
      options_(std::move(options)),
      owner_(jobs::RunnerIdentity::Current().ToString()) {
  if (options_.clock == nullptr) {
    own_clock_ = std::make_unique<engine::SystemClock>();
    clock_ = own_clock_.get();
  } else {
    clock_ = options_.clock;
  }
}

StatusOr<std::unique_ptr<PipelineService>> PipelineService::Create(
    db::Database* db, sagemaker::JobService* jobs, tracking::TrackingStore* tracking,
    PipelineServiceOptions options) {
  std::unique_ptr<PipelineService> s(new PipelineService(db, jobs, tracking, std::move(options)));
  RETURN_IF_ERROR(s->RecoverInterrupted().status());
  return s;
}

PipelineService::~PipelineService() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (auto& [arn, live] : live_) {
      (void)arn;
      std::lock_guard l(live->mu);
      if (live->stop_error.empty()) {
        live->stop_error = kInterrupted;
        live->stop_cause = "the process running the execution shut down";
      }
      live->stop->Cancel("shutdown");
    }
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

int64_t PipelineService::NowMs() { return clock_->NowMs(); }

std::string PipelineService::StateMachineArn(const std::string& name) const {
  return fmt::format("arn:aws:states:{}:{}:stateMachine:{}", options_.region, options_.account_id,
                     name);
}

StatusOr<StateMachineRow> PipelineService::CreateStateMachine(const std::string& name,
                                                              const std::string& definition,
                                                              const std::string& role_arn,
                                                              bool update) {
  RETURN_IF_ERROR(CheckName("state machine", name));
  if (auto problems = asl::ValidateDefinition(definition); !problems.empty()) {
    std::string text = asl::FormatProblems(name, problems);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return InvalidArgument("Invalid State Machine Definition: " + text);
  }
  ASSIGN_OR_RETURN(auto existing, store_.FindStateMachine(name));
  if (existing) {
    if (existing->definition == definition) return *existing;
    if (!update) {
      return AlreadyExists("State Machine Already Exists: '" + existing->arn +
                           "' with another definition");
    }
    RETURN_IF_ERROR(store_.UpdateDefinition(existing->arn, definition));
    existing->definition = definition;
    return *existing;
  }
  StateMachineRow row{StateMachineArn(name),
                      name,
                      definition,
                      role_arn.empty()
                          ? "arn:aws:iam::" + options_.account_id + ":role/sagebox-pipeline"
                          : role_arn,
                      "STANDARD",
                      NowMs()};
  RETURN_IF_ERROR(store_.InsertStateMachine(row));
  return row;
}

StatusOr<StateMachineRow> PipelineService::DescribeStateMachine(const std::string& arn) {
  return store_.GetStateMachine(arn);
}

StatusOr<std::vector<StateMachineRow>> PipelineService::ListStateMachines() {
  return store_.ListStateMachines();
}

StatusOr<ExecutionRow> PipelineService::StartExecution(const std::string& state_machine_arn,
                                                       const std::string& name,
                                                       const std::string& input,
                                                       const RunOptions& run) {
  ASSIGN_OR_RETURN(auto machine, store_.GetStateMachine(state_machine_arn));
  const std::string exec_name = name.empty() ? engine::SeededRandom().Uuid() : name;
  RETURN_IF_ERROR(CheckName("execution", exec_name));
  const json in = input.empty() ? json::object() : json::parse(input, nullptr, false);
  if (in.is_discarded()) return InvalidArgument("Invalid execution input: not JSON: " + input);
  ExecutionRow row;
  row.arn = fmt::format("arn:aws:states:{}:{}:execution:{}:{}", options_.region,
                        options_.account_id, machine.name, exec_name);
  row.state_machine_arn = machine.arn;
  row.name = exec_name;
  row.definition = machine.definition;
  row.input = in.dump();
  row.start_ms = NowMs();
  row.owner = owner_;
  row.options = {{"cache", run.cache}, {"bypass_cache", run.bypass_cache}};
  if (run.max_cost_usd) row.options["max_cost_usd"] = run.max_cost_usd->ToString();
  if (run.max_history_events > 0) row.options["max_history_events"] = run.max_history_events;
  RETURN_IF_ERROR(store_.InsertExecution(row));
  RETURN_IF_ERROR(Launch(row, 1));
  return row;
}

Status PipelineService::Launch(const ExecutionRow& row, int64_t first_event_id) {
  auto live = std::make_shared<Live>();
  std::lock_guard lock(mu_);
  live_[row.arn] = live;
  threads_.emplace_back([this, live, row, first_event_id] { Run(live, row, first_event_id); });
  return Status::Ok();
}

void PipelineService::Run(const std::shared_ptr<Live>& live, ExecutionRow row,
                          int64_t first_event_id) {
  auto progress = [this, &row](const std::string& line) {
    if (options_.progress) options_.progress(row.arn, line);
  };
  auto finish = [&](const std::string& status, const std::optional<std::string>& output,
                    const std::string& error, const std::string& cause) {
    Status s = store_.FinishExecution(row.arn, status, output, error, cause, NowMs());
    if (!s.ok()) progress("could not record the end: " + s.ToString());
    progress(status + (error.empty() ? "" : " " + error + ": " + cause));
    std::lock_guard lock(mu_);
    {
      std::lock_guard l(live->mu);
      live->done = true;
    }
    live_.erase(row.arn);
    done_cv_.notify_all();
  };

  auto machine = asl::ParseDefinition(row.definition);
  const json input = json::parse(row.input, nullptr, false);
  if (!machine.ok() || input.is_discarded()) {
    finish("FAILED", std::nullopt, "States.Runtime",
           machine.ok() ? "the stored input is not JSON" : machine.status().message());
    return;
  }
  auto checkpoints = store_.Checkpoints(row.arn);
  if (!checkpoints.ok()) {
    finish("FAILED", std::nullopt, "States.Runtime",
           "reading the checkpoints: " + checkpoints.status().message());
    return;
  }

  engine::ExecuteOptions eo;
  eo.execution_name = row.name;
  eo.execution_arn = row.arn;
  eo.state_machine_arn = row.state_machine_arn;
  eo.state_machine_name = ArnTail(row.state_machine_arn);
  eo.region = options_.region;
  // A redrive's clock (and so its TimeoutSeconds) starts at the redrive.
  eo.start_time_ms = row.redrive_ms.value_or(row.start_ms);
  eo.redrive_count = row.redrive_count;
  eo.resume_from = std::move(*checkpoints);
  eo.stop = live->stop;
  eo.max_parallel = options_.max_parallel;
  if (options_.executor != nullptr) eo.fan_out_width = options_.fan_out_width;
  eo.keep_events = false;
  if (const int64_t limit = row.options.value("max_history_events", int64_t{0}); limit > 0) {
    eo.limits.max_history_events = limit;
  }

  DispatcherOptions d;
  d.execution_arn = row.arn;
  d.experiment = eo.state_machine_name;
  d.region = options_.region;
  d.redrive_count = row.redrive_count;
  d.spent_usd = row.cost_usd;
  d.poll = options_.job_poll;
  d.executor = options_.executor;
  if (row.options.contains("max_cost_usd")) {
    Decimal limit;
    if (Decimal::Parse(row.options.value("max_cost_usd", ""), &limit)) d.max_cost_usd = limit;
  } else {
    d.max_cost_usd = DefinitionCostLimit(row.definition);
  }
  d.on_cost = [this, &row](const Decimal& total) { (void)store_.SetCost(row.arn, total); };
  d.progress = progress;
  PipelineDispatcher dispatcher(jobs_, tracking_, d);
  DbTaskCache cache(store_.db());
  FileInputDigester digester(options_.data_dir);
  engine::CachingDispatcher caching(&dispatcher, &cache, &digester,
                                    row.options.value("bypass_cache", false));
  caching.set_key_parameters(CacheKeyParameters);
  DbJournal journal(&store_, row.arn, first_event_id);
  engine::Services services;
  services.dispatcher = row.options.value("cache", false)
                            ? static_cast<engine::TaskDispatcher*>(&caching)
                            : static_cast<engine::TaskDispatcher*>(&dispatcher);
  services.clock = clock_;
  services.journal = &journal;

  auto result = engine::Execute(*machine, input, eo, services);
  Status journaled = journal.Close();
  (void)store_.SetCost(row.arn, dispatcher.spent());
  if (!journaled.ok()) progress("some history was not saved: " + journaled.ToString());
  if (!result.ok()) {
    finish("FAILED", std::nullopt, "States.Runtime", result.status().message());
    return;
  }
  std::string error = result->error;
  std::string cause = result->cause;
  if (result->status == engine::ExecutionStatus::kAborted) {
    std::lock_guard l(live->mu);
    if (!live->stop_error.empty()) error = live->stop_error;
    if (!live->stop_cause.empty()) cause = live->stop_cause;
    if (error == kInterrupted) {
      // The process is going away, not the user stopping it: resumable as a failure.
      finish("FAILED", std::nullopt, error, cause);
      return;
    }
  }
  const std::string status(engine::ExecutionStatusName(result->status));
  finish(status,
         result->status == engine::ExecutionStatus::kSucceeded
             ? std::optional<std::string>(result->output.dump())
             : std::nullopt,
         error, cause);
}

StatusOr<ExecutionRow> PipelineService::DescribeExecution(const std::string& arn) {
  return store_.GetExecution(arn);
}

StatusOr<std::vector<json>> PipelineService::History(const std::string& arn) {
  RETURN_IF_ERROR(store_.GetExecution(arn).status());
  return store_.Events(arn);
}

StatusOr<std::vector<ExecutionRow>> PipelineService::ListExecutions(
    const std::string& state_machine_arn, const std::string& status) {
  if (!state_machine_arn.empty()) {
    RETURN_IF_ERROR(store_.GetStateMachine(state_machine_arn).status());
  }
  return store_.ListExecutions(state_machine_arn, status);
}

Status PipelineService::StopExecution(const std::string& arn, const std::string& error,
                                      const std::string& cause) {
  ASSIGN_OR_RETURN(auto row, store_.GetExecution(arn));
  if (row.status != "RUNNING") return Status::Ok();  // already ended: nothing to stop
  {
    std::lock_guard lock(mu_);
    if (auto it = live_.find(arn); it != live_.end()) {
      {
        std::lock_guard l(it->second->mu);
        it->second->stop_error = error;
        it->second->stop_cause = cause;
      }
      it->second->stop->Cancel("StopExecution");
      return Status::Ok();
    }
  }
  if (row.owner != owner_ && OwnerMayBeAlive(row.owner)) {
    return InvalidArgument("execution " + arn + " runs in another process (" + row.owner +
                           "): stop it there");
  }
  Status s = store_.FinishExecution(arn, "ABORTED", std::nullopt, error, cause, NowMs());
  return s.ok() || s.code() == StatusCode::kInvalidArgument ? Status::Ok() : s;
}

StatusOr<ExecutionRow> PipelineService::RedriveExecution(const std::string& arn) {
  ASSIGN_OR_RETURN(auto before, store_.GetExecution(arn));
  if (before.status == "RUNNING" && !OwnerMayBeAlive(before.owner)) {
    // Its process died and nobody recovered it yet.
    (void)RecoverInterrupted();
  }
  RETURN_IF_ERROR(store_.MarkRedriven(arn, owner_, NowMs()));
  ASSIGN_OR_RETURN(auto row, store_.GetExecution(arn));
  ASSIGN_OR_RETURN(int64_t last, store_.LastEventId(arn));
  RETURN_IF_ERROR(Launch(row, last + 1));
  return row;
}

StatusOr<ExecutionRow> PipelineService::Wait(const std::string& arn,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (live_.count(arn) != 0) {
        done_cv_.wait_until(lock, deadline, [&] { return live_.count(arn) == 0; });
      }
    }
    ASSIGN_OR_RETURN(auto row, store_.GetExecution(arn));
    if (row.status != "RUNNING" || std::chrono::steady_clock::now() >= deadline) return row;
    std::unique_lock lock(mu_);
    if (live_.count(arn) == 0) {
      // Run by another process: look again shortly.
      done_cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                       std::chrono::milliseconds(200)));
    }
  }
}

StatusOr<int> PipelineService::RecoverInterrupted() {
  ASSIGN_OR_RETURN(auto running, store_.ListExecutions("", "RUNNING"));
  int marked = 0;
  for (const auto& row : running) {
    {
      std::lock_guard lock(mu_);
      if (live_.count(row.arn) != 0) continue;
    }
    if (OwnerMayBeAlive(row.owner)) continue;
    Status s = store_.FinishExecution(
        row.arn, "FAILED", std::nullopt, kInterrupted,
        "the process that ran it (" + row.owner + ") ended before it did; resume it to go on",
        NowMs());
    if (s.ok()) ++marked;
  }
  return marked;
}

StatusOr<std::string> PipelineService::ResolveExecution(const std::string& arn_or_name) {
  if (arn_or_name.starts_with("arn:")) {
    RETURN_IF_ERROR(store_.GetExecution(arn_or_name).status());
    return arn_or_name;
  }
  ASSIGN_OR_RETURN(auto r, store_.db()->Query("SELECT arn FROM sfn_executions WHERE name = ?",
                                              std::vector<db::Value>{arn_or_name}));
  if (r.empty()) return NotFound("no execution named '" + arn_or_name + "'");
  if (r.size() > 1) {
    return InvalidArgument("several state machines have an execution named '" + arn_or_name +
                           "': give its ARN");
  }
  return r.Text(0, 0);
}

}  // namespace sagebox::pipeline::runtime
