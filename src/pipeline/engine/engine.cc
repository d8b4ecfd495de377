#include "pipeline/engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "pipeline/asl/choice.h"
#include "pipeline/asl/context.h"
#include "pipeline/asl/errors.h"
#include "pipeline/asl/intrinsics.h"
#include "pipeline/asl/json_path.h"
#include "pipeline/asl/retry.h"

namespace sagebox::pipeline::engine {
namespace {

using asl::AslError;
using asl::AslOr;
using asl::State;
using asl::StateMachine;
using asl::StateType;
using nlohmann::json;

// Why the root token was cancelled.
constexpr std::string_view kReasonStop = "stop";
constexpr std::string_view kReasonTimeout = "timeout";
constexpr std::string_view kReasonHistory = "history";

// One scope being run: the top level, a Parallel branch or a Map iteration.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Frame {
  const StateMachine* machine = nullptr;
  std::string prefix;  // "" at the top, "Stages/3/" inside an iteration
  std::shared_ptr<CancelToken> cancel;
  std::optional<int64_t> item_index;  // inside a Map iteration
  std::optional<FanOut> fan;          // inside a Map iteration (also in its Parallel branches)
  json item_value;
  int64_t last_event = 0;  // previousEventId of this scope's next event
};

// How one state (or scope) ended.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Step {
  enum class Kind { kOk, kError, kCancelled };
  Kind kind = Kind::kOk;
  json output;
  std::string next;  // kOk: the next state, empty at the end of the scope
  AslError error;

  static Step Ok(json out, std::string next) {
    return {Kind::kOk, std::move(out), std::move(next), {}};
  }
  static Step Error(AslError e) { return {Kind::kError, {}, {}, std::move(e)}; }
  static Step Cancelled() { return {Kind::kCancelled, {}, {}, {}}; }
};

// The latest event id of concurrent scopes, for the previousEventId after they join.
void RaiseTo(std::atomic<int64_t>& last, int64_t id) {
  int64_t cur = last.load();
  while (id > cur && !last.compare_exchange_weak(cur, id)) {
  }
}

json ErrorOutput(const AslError& e) { return {{"Error", e.error}, {"Cause", e.cause}}; }

std::string ResourceString(const json& resource) {
  return resource.is_string() ? resource.get<std::string>() : resource.dump();
}

asl::RetryPolicy ToPolicy(const asl::Retrier& r) {
  asl::RetryPolicy p;
  p.error_equals = r.error_equals;
  p.interval_seconds = static_cast<double>(r.interval_seconds);
  p.max_attempts = r.max_attempts;
  p.backoff_rate = r.backoff_rate;
  if (r.max_delay_seconds) p.max_delay_seconds = static_cast<double>(*r.max_delay_seconds);
  p.jitter = r.jitter_strategy == asl::JitterStrategy::kFull ? asl::RetryPolicy::Jitter::kFull
                                                             : asl::RetryPolicy::Jitter::kNone;
  return p;
}

// True when `text` may read $$.Execution.Input: a `$$` not followed by `.Map`, `.State` or
// `.Task` (those parts never hold the input).
bool MayReadExecutionInput(const std::string& text) {
  for (size_t p = text.find("$$"); p != std::string::npos; p = text.find("$$", p + 2)) {
    std::string_view rest = std::string_view(text).substr(p + 2);
    if (!rest.starts_with(".Map") && !rest.starts_with(".State") && !rest.starts_with(".Task")) {
      return true;
    }
  }
  return false;
}

// Whether any path or template of the machine may read $$.Execution.Input. Copying the
// execution's input into every state's context object made a 10,000-item Map quadratic; it
// is left out of `$$` when nothing can read it.
bool ReadsExecutionInput(const StateMachine& m) {
  auto dumped = [](const std::optional<json>& j) { return j ? j->dump() : std::string(); };
  for (const State& st : m.states) {
    std::string text = st.input_path.path + st.output_path.path + dumped(st.parameters) +
                       dumped(st.result_selector) + dumped(st.assign);
    if (const auto* t = st.task()) text += t->timeout_seconds_path + t->heartbeat_seconds_path;
    if (const auto* c = st.choice()) {
      for (const auto& r : c->choices) text += r.rule.dump();
    }
    if (const auto* w = st.wait()) text += w->seconds_path + w->timestamp_path;
    if (const auto* f = st.fail()) text += f->error_path + f->cause_path;
    if (const auto* mp = st.map()) {
      text += mp->items_path + dumped(mp->item_selector) + mp->max_concurrency_path +
              mp->tolerated_failure_count_path + mp->tolerated_failure_percentage_path;
      if (ReadsExecutionInput(mp->processor)) return true;
    }
    if (const auto* par = st.parallel()) {
      for (const auto& b : par->branches) {
        if (ReadsExecutionInput(b)) return true;
      }
    }
    if (MayReadExecutionInput(text)) return true;
  }
  return false;
}

class Run {
 public:
  Run(const StateMachine& machine, const json& input, const ExecuteOptions& options,
      const Services& services)
      : machine_(machine), input_(input), opts_(options), svc_(services) {
    if (svc_.random == nullptr) {
      own_random_ = std::make_unique<SeededRandom>();
      svc_.random = own_random_.get();
    }
    env_.random = [r = svc_.random] { return r->Next64(); };
    env_.uuid = [r = svc_.random] { return r->Uuid(); };
    for (const Checkpoint& c : opts_.resume_from) resume_.emplace(c.key, c);
    if (opts_.state_machine_arn.empty()) {
      opts_.state_machine_arn = "arn:aws:states:" + opts_.region +
                                ":000000000000:stateMachine:" + opts_.state_machine_name;
    }
    if (opts_.execution_arn.empty()) {
      std::string arn = opts_.state_machine_arn;
      if (size_t p = arn.find(":stateMachine:"); p != std::string::npos) {
        arn.replace(p, 14, ":execution:");
      }
      opts_.execution_arn = arn + ":" + opts_.execution_name;
    }
    if (opts_.max_parallel < 1) opts_.max_parallel = 1;
    context_has_input_ = ReadsExecutionInput(machine_);
  }

  ExecutionResult Go() {
    ExecutionResult result;
    result.start_ms = opts_.start_time_ms ? *opts_.start_time_ms : svc_.clock->NowMs();
    start_ms_ = result.start_ms;
    root_ = opts_.stop ? opts_.stop->Child() : CancelToken::Make();
    Frame top;
    top.machine = &machine_;
    top.cancel = root_;
    if (opts_.redrive_count > 0) {
      // A redrive continues the execution's history: Step Functions records ExecutionRedriven
      // there, never a second ExecutionStarted.
      Emit(top, "ExecutionRedriven", "executionRedrivenEventDetails",
           {{"redriveCount", opts_.redrive_count}});
    } else {
      Emit(top, "ExecutionStarted", "executionStartedEventDetails",
           {{"input", input_.dump()},
            {"inputDetails", {{"truncated", false}}},
            {"roleArn", opts_.role_arn}});
    }

    // The execution's time-out: a watchdog cancels everything at the deadline; the run loop
    // and the sleeps also check it, so a fake clock gives the same answer every time.
    auto done = CancelToken::Make();
    std::thread watchdog;
    if (machine_.timeout_seconds) {
      deadline_ms_ = start_ms_ + *machine_.timeout_seconds * 1000;
      watchdog = std::thread([this, done] {
        if (svc_.clock->WatchUntil(deadline_ms_, *done)) TimeOut();
      });
    }

    Step end;
    if (auto size =
            asl::CheckPayloadSize(input_, "the execution input", opts_.limits.max_payload_bytes);
        !size.ok()) {
      end = Step::Error(size.error());
    } else {
      end = RunScope(top, input_);
    }
    done->Cancel("done");
    if (watchdog.joinable()) watchdog.join();

    if (end.kind == Step::Kind::kOk) {
      if (auto size = asl::CheckPayloadSize(end.output, "the execution output",
                                            opts_.limits.max_payload_bytes);
          !size.ok()) {
        end = Step::Error(size.error());
      }
    }
    const std::string reason = root_->reason();
    if (end.kind == Step::Kind::kCancelled || root_->cancelled()) {
      if (reason == kReasonTimeout) {
        result.status = ExecutionStatus::kTimedOut;
        result.error = std::string(asl::kStatesTimeout);
        result.cause = "The execution ran longer than its TimeoutSeconds (" +
                       std::to_string(machine_.timeout_seconds.value_or(0)) + ")";
        Emit(top, "ExecutionTimedOut", "executionTimedOutEventDetails",
             {{"error", result.error}, {"cause", result.cause}});
      } else if (reason == kReasonHistory) {
        result.status = ExecutionStatus::kFailed;
        result.error = std::string(asl::kStatesRuntime);
        result.cause = "The execution history reached its limit of " +
                       std::to_string(opts_.limits.max_history_events) + " events";
        Emit(top, "ExecutionFailed", "executionFailedEventDetails",
             {{"error", result.error}, {"cause", result.cause}});
      } else {
        result.status = ExecutionStatus::kAborted;
        Emit(top, "ExecutionAborted", "executionAbortedEventDetails", json::object());
      }
    } else if (end.kind == Step::Kind::kError) {
      result.status = ExecutionStatus::kFailed;
      result.error = end.error.error;
      result.cause = end.error.cause;
      Emit(top, "ExecutionFailed", "executionFailedEventDetails",
           {{"error", result.error}, {"cause", result.cause}});
    } else {
      result.status = ExecutionStatus::kSucceeded;
      result.output = end.output;
      Emit(top, "ExecutionSucceeded", "executionSucceededEventDetails",
           {{"output", end.output.dump()}, {"outputDetails", {{"truncated", false}}}});
    }
    result.stop_ms = svc_.clock->NowMs();
    std::lock_guard lock(mu_);
    result.events = std::move(events_);
    result.checkpoints = std::move(checkpoints_);
    return result;
  }

 private:
  // ---- events and checkpoints ---------------------------------------------------------------

  int64_t Emit(Frame& f, std::string_view type, std::string_view details_key, json details) {
    json e = {{"timestamp", static_cast<double>(svc_.clock->NowMs()) / 1000.0},
              {"type", type},
              {"id", 0},
              {"previousEventId", f.last_event}};
    if (!details_key.empty()) e[std::string(details_key)] = std::move(details);
    int64_t id = 0;
    bool over = false;
    {
      std::lock_guard lock(mu_);
      id = next_id_++;
      e["id"] = id;
      if (svc_.journal != nullptr) svc_.journal->OnEvent(e);
      if (opts_.keep_events) events_.push_back(std::move(e));
      over = id >= opts_.limits.max_history_events;
    }
    f.last_event = id;
    // The limit event itself is recorded; the execution then fails (the terminal event goes
    // past the limit, as the ExecutionFailed that reports it must exist).
    if (over) root_->Cancel(std::string(kReasonHistory));
    return id;
  }

  void SaveCheckpoint(const std::string& key, const json& output, const std::string& next) {
    Checkpoint c{key, output, next};
    std::lock_guard lock(mu_);
    if (svc_.journal != nullptr) svc_.journal->OnCheckpoint(c);
    checkpoints_.push_back(std::move(c));
  }

  const Checkpoint* Resumed(const std::string& key) const {
    auto it = resume_.find(key);
    return it == resume_.end() ? nullptr : &it->second;
  }

  void TimeOut() { root_->Cancel(std::string(kReasonTimeout)); }

  // True (and the execution cancelled) once the execution's deadline has passed.
  bool PastDeadline() {
    if (deadline_ms_ > 0 && svc_.clock->NowMs() >= deadline_ms_) {
      TimeOut();
      return true;
    }
    return false;
  }

  // Sleeps until `until_ms`, no later than the execution's deadline. False when cancelled.
  bool Sleep(Frame& f, int64_t until_ms) {
    int64_t target = until_ms;
    if (deadline_ms_ > 0) target = std::min(target, deadline_ms_);
    if (!svc_.clock->SleepUntil(target, *f.cancel)) return false;
    return !PastDeadline() && !f.cancel->cancelled();
  }

  // ---- paths, cached per text (definitions repeat the same few paths per iteration) ---------

  AslOr<asl::JsonPath> Path(const std::string& text) {
    {
      std::lock_guard lock(path_mu_);
      if (auto it = paths_.find(text); it != paths_.end()) return it->second;
    }
    StatusOr<asl::JsonPath> p = asl::ParseJsonPath(text);
    if (!p.ok()) return asl::RuntimeError("invalid path '" + text + "': " + p.status().message());
    std::lock_guard lock(path_mu_);
    paths_.emplace(text, *p);
    return *p;
  }

  // InputPath/OutputPath: absent is "$", null gives {}.
  AslOr<json> ApplyPathField(const asl::PathField& field, const json& value, const json& ctx) {
    if (field.absent()) return value;
    if (field.is_null()) return json::object();
    ASL_ASSIGN_OR_RETURN(asl::JsonPath p, Path(field.path));
    return asl::ApplyInputPath(p, value, ctx);
  }

  AslOr<json> ApplyResult(const asl::PathField& field, const json& raw, json result) {
    if (field.absent()) return result;  // "$": the result replaces the input
    if (field.is_null()) return raw;
    ASL_ASSIGN_OR_RETURN(asl::JsonPath p, Path(field.path));
    return asl::ApplyResultPath(p, raw, std::move(result));
  }

  AslOr<json> Template(const std::optional<json>& tmpl, const json& value, const json& ctx) {
    if (!tmpl) return value;
    return asl::ApplyPayloadTemplate(*tmpl, value, ctx, env_);
  }

  AslOr<size_t> Limit(const json& value, const std::string& what) {
    return asl::CheckPayloadSize(value, what, opts_.limits.max_payload_bytes);
  }

  // A positive integer read through a reference path (TimeoutSecondsPath, MaxConcurrencyPath...).
  AslOr<json> ReadPath(const std::string& path, const json& value, const json& ctx) {
    ASL_ASSIGN_OR_RETURN(asl::JsonPath p, Path(path));
    return asl::EvaluatePath(p, value, ctx);
  }

  json Context(const Frame& f, const State& st, int64_t entered_ms, int64_t retries) {
    asl::ContextValues v;
    v.execution_id = opts_.execution_arn;
    if (context_has_input_) v.execution_input = input_;
    v.execution_name = opts_.execution_name;
    v.role_arn = opts_.role_arn;
    v.start_time = FormatIsoMillis(start_ms_);
    v.redrive_count = opts_.redrive_count;
    v.state_entered_time = FormatIsoMillis(entered_ms);
    v.state_name = st.name;
    v.state_retry_count = retries;
    v.state_machine_id = opts_.state_machine_arn;
    v.state_machine_name = opts_.state_machine_name;
    if (f.item_index) {
      v.map_item_index = f.item_index;
      v.map_item_value = f.item_value;
    }
    return asl::BuildContextObject(v);
  }

  // ---- scopes --------------------------------------------------------------------------------

  Step RunScope(Frame& f, json input) {
    std::unordered_map<std::string, int64_t> visits;
    std::string name = f.machine->start_at;
    json data = std::move(input);
    while (true) {
      if (f.cancel->cancelled() || PastDeadline()) return Step::Cancelled();
      const State* st = f.machine->Find(name);
      if (st == nullptr) {
        return Step::Error(asl::RuntimeError("no state named '" + name + "' in this scope"));
      }
      const int64_t visit = ++visits[name];
      // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on `"#" + ...`.
      std::string key = f.prefix;
      key += name;
      if (visit > 1) {
        key += '#';
        key += std::to_string(visit);
      }
      Step step;
      if (const Checkpoint* c = Resumed(key)) {
        step = Step::Ok(c->output, c->next);
      } else {
        step = RunState(f, *st, key, data);
        if (step.kind != Step::Kind::kOk) return step;
        SaveCheckpoint(key, step.output, step.next);
      }
      if (step.next.empty()) return step;
      name = std::move(step.next);
      data = std::move(step.output);
    }
  }

  Step RunState(Frame& f, const State& st, const std::string& key, const json& raw) {
    const std::string type(asl::StateTypeName(st.type));
    Emit(f, type + "StateEntered", "stateEnteredEventDetails",
         {{"name", st.name}, {"input", raw.dump()}, {"inputDetails", {{"truncated", false}}}});
    if (st.assign) {
      return Step::Error(asl::RuntimeError("state '" + st.name +
                                           "': \"Assign\" (variables) is not supported yet"));
    }
    if (st.type == StateType::kFail) return Step::Error(FailError(f, st, raw));

    std::vector<int64_t> retries(st.retry.size(), 0);
    int64_t total_retries = 0;
    while (true) {
      const int64_t entered = svc_.clock->NowMs();
      json ctx = Context(f, st, entered, total_retries);
      AslOr<json> out = Attempt(f, st, key, raw, ctx, total_retries + 1);
      if (out.ok()) {
        if (auto size = Limit(*out, "the output of state '" + st.name + "'"); !size.ok()) {
          out = size.error();
        }
      }
      // A state that completed is kept even when a Stop or a sibling's failure came meanwhile:
      // its checkpoint spares a resume the work.
      if (out.ok()) {
        std::string next = st.next;
        if (st.type == StateType::kChoice) next = choice_next_.Take(&f);
        Emit(f, type + "StateExited", "stateExitedEventDetails",
             {{"name", st.name},
              {"output", out->dump()},
              {"outputDetails", {{"truncated", false}}}});
        return Step::Ok(std::move(out).value(), std::move(next));
      }
      if (f.cancel->cancelled()) return Step::Cancelled();
      const AslError err = out.error();
      // Retry: the first retrier whose ErrorEquals matches decides; its own counter.
      bool retried = false;
      for (size_t i = 0; i < st.retry.size(); ++i) {
        if (!asl::ErrorEqualsMatches(st.retry[i].error_equals, err.error)) continue;
        asl::RetryPolicy policy = ToPolicy(st.retry[i]);
        if (asl::RetriesExhausted(policy, retries[i])) break;
        ++retries[i];
        ++total_retries;
        double delay = asl::RetryDelaySeconds(policy, retries[i],
                                              [r = svc_.random] { return r->Uniform01(); });
        int64_t delay_ms = static_cast<int64_t>(std::llround(delay * 1000.0));
        if (!Sleep(f, svc_.clock->NowMs() + delay_ms)) return Step::Cancelled();
        retried = true;
        break;
      }
      if (retried) continue;
      for (const asl::Catcher& c : st.catchers) {
        if (!asl::ErrorEqualsMatches(c.error_equals, err.error)) continue;
        AslOr<json> caught = ApplyResult(c.result_path, raw, ErrorOutput(err));
        if (!caught.ok()) return Step::Error(caught.error());
        Emit(f, type + "StateExited", "stateExitedEventDetails",
             {{"name", st.name},
              {"output", caught->dump()},
              {"outputDetails", {{"truncated", false}}}});
        return Step::Ok(std::move(caught).value(), c.next);
      }
      return Step::Error(err);
    }
  }

  // One try of a state, up to its output (OutputPath applied).
  AslOr<json> Attempt(Frame& f, const State& st, const std::string& key, const json& raw,
                      const json& ctx, int64_t attempt) {
    switch (st.type) {
      case StateType::kTask:
        return TaskAttempt(f, st, key, raw, ctx, attempt);
      case StateType::kPass:
        return PassAttempt(st, raw, ctx);
      case StateType::kChoice:
        return ChoiceAttempt(f, st, raw, ctx);
      case StateType::kWait:
        return WaitAttempt(f, st, raw, ctx);
      case StateType::kSucceed: {
        ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
        return ApplyPathField(st.output_path, effective, ctx);
      }
      case StateType::kParallel:
        return ParallelAttempt(f, st, key, raw, ctx);
      case StateType::kMap:
        return MapAttempt(f, st, key, raw, ctx);
      case StateType::kFail:
        break;
    }
    return asl::RuntimeError("state '" + st.name + "' cannot be attempted");
  }

  AslError FailError(Frame& f, const State& st, const json& raw) {
    const asl::FailFields& ff = *st.fail();
    json ctx = Context(f, st, svc_.clock->NowMs(), 0);
    auto dynamic = [&](const std::string& text, const std::string& fixed,
                       std::string* out) -> std::optional<AslError> {
      if (text.empty()) {
        *out = fixed;
        return std::nullopt;
      }
      AslOr<json> v = asl::IsIntrinsicInvocation(text)
                          ? asl::EvaluateIntrinsic(text, raw, ctx, env_)
                          : ReadPath(text, raw, ctx);
      if (!v.ok()) return v.error();
      if (!v->is_string()) {
        return asl::RuntimeError("state '" + st.name + "': '" + text + "' gave " + v->dump() +
                                 ", not a string");
      }
      *out = v->get<std::string>();
      return std::nullopt;
    };
    AslError e;
    if (auto bad = dynamic(ff.error_path, ff.error, &e.error)) return *bad;
    if (auto bad = dynamic(ff.cause_path, ff.cause, &e.cause)) return *bad;
    return e;
  }

  AslOr<json> PassAttempt(const State& st, const json& raw, const json& ctx) {
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    json result;
    if (st.pass()->result) {
      result = *st.pass()->result;
    } else {
      ASL_ASSIGN_OR_RETURN(result, Template(st.parameters, effective, ctx));
    }
    ASL_ASSIGN_OR_RETURN(json placed, ApplyResult(st.result_path, raw, std::move(result)));
    return ApplyPathField(st.output_path, placed, ctx);
  }

  // The Choice's decision travels from ChoiceAttempt to RunState per frame (the attempt's
  // return value is the output only).
  struct ChoiceSlot {
    std::mutex mu;
    std::unordered_map<const Frame*, std::string> next;
    void Put(const Frame* f, std::string n) {
      std::lock_guard lock(mu);
      next[f] = std::move(n);
    }
    std::string Take(const Frame* f) {
      std::lock_guard lock(mu);
      auto it = next.find(f);
      if (it == next.end()) return {};
      std::string n = std::move(it->second);
      next.erase(it);
      return n;
    }
  };

  AslOr<json> ChoiceAttempt(Frame& f, const State& st, const json& raw, const json& ctx) {
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    const asl::ChoiceFields& cf = *st.choice();
    std::string next;
    for (const asl::ChoiceRule& rule : cf.choices) {
      ASL_ASSIGN_OR_RETURN(bool hit, asl::EvaluateChoiceRule(rule.rule, effective, ctx));
      if (hit) {
        next = rule.next;
        break;
      }
    }
    if (next.empty()) next = cf.default_state;
    if (next.empty()) {
      return AslError{std::string(asl::kStatesNoChoiceMatched),
                      "No Choice Rule matched and no Default in state '" + st.name +
                          "' for input " + effective.dump()};
    }
    ASL_ASSIGN_OR_RETURN(json out, ApplyPathField(st.output_path, effective, ctx));
    choice_next_.Put(&f, std::move(next));
    return out;
  }

  AslOr<json> WaitAttempt(Frame& f, const State& st, const json& raw, const json& ctx) {
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    const asl::WaitFields& wf = *st.wait();
    const int64_t now = svc_.clock->NowMs();
    int64_t until = now;
    auto from_timestamp = [&](const std::string& text) -> AslOr<int64_t> {
      std::optional<asl::Instant> t = asl::ParseRfc3339(text);
      if (!t) {
        return asl::RuntimeError("state '" + st.name + "': '" + text +
                                 "' is not an RFC 3339 timestamp");
      }
      return t->seconds * 1000 + t->nanos / 1000000;
    };
    if (wf.seconds) {
      until = now + *wf.seconds * 1000;
    } else if (!wf.timestamp.empty()) {
      ASL_ASSIGN_OR_RETURN(until, from_timestamp(wf.timestamp));
    } else if (!wf.seconds_path.empty()) {
      ASL_ASSIGN_OR_RETURN(json v, ReadPath(wf.seconds_path, effective, ctx));
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return asl::RuntimeError("state '" + st.name + "': SecondsPath '" + wf.seconds_path +
                                 "' gave " + v.dump() + ", not a non-negative integer");
      }
      until = now + v.get<int64_t>() * 1000;
    } else if (!wf.timestamp_path.empty()) {
      ASL_ASSIGN_OR_RETURN(json v, ReadPath(wf.timestamp_path, effective, ctx));
      if (!v.is_string()) {
        return asl::RuntimeError("state '" + st.name + "': TimestampPath '" + wf.timestamp_path +
                                 "' gave " + v.dump() + ", not a timestamp string");
      }
      ASL_ASSIGN_OR_RETURN(until, from_timestamp(v.get<std::string>()));
    }
    if (until > now && !Sleep(f, until)) {
      return asl::RuntimeError("wait interrupted");  // the caller sees the cancellation
    }
    return ApplyPathField(st.output_path, effective, ctx);
  }

  // ---- Task ----------------------------------------------------------------------------------

  AslOr<json> TaskAttempt(Frame& f, const State& st, const std::string& key, const json& raw,
                          const json& ctx, int64_t attempt) {
    const asl::TaskFields& tf = *st.task();
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    ASL_ASSIGN_OR_RETURN(json params, Template(st.parameters, effective, ctx));
    ASL_ASSIGN_OR_RETURN(size_t psize, Limit(params, "the parameters of state '" + st.name + "'"));
    (void)psize;
    std::optional<int64_t> timeout = tf.timeout_seconds;
    if (!tf.timeout_seconds_path.empty()) {
      ASL_ASSIGN_OR_RETURN(json v, ReadPath(tf.timeout_seconds_path, effective, ctx));
      if (!v.is_number_integer() || v.get<int64_t>() < 1) {
        return asl::RuntimeError("state '" + st.name + "': TimeoutSecondsPath '" +
                                 tf.timeout_seconds_path + "' gave " + v.dump() +
                                 ", not a positive integer");
      }
      timeout = v.get<int64_t>();
    }
    std::optional<int64_t> heartbeat = tf.heartbeat_seconds;
    if (!tf.heartbeat_seconds_path.empty()) {
      ASL_ASSIGN_OR_RETURN(json v, ReadPath(tf.heartbeat_seconds_path, effective, ctx));
      if (v.is_number_integer()) heartbeat = v.get<int64_t>();
    }
    const std::string resource = ResourceString(tf.resource);
    auto [rtype, rname] = SplitResource(resource);
    json scheduled = {{"resourceType", rtype},
                      {"resource", rname},
                      {"region", opts_.region},
                      {"parameters", params.dump()}};
    if (timeout) scheduled["timeoutInSeconds"] = *timeout;
    if (heartbeat) scheduled["heartbeatInSeconds"] = *heartbeat;
    Emit(f, "TaskScheduled", "taskScheduledEventDetails", std::move(scheduled));
    Emit(f, "TaskStarted", "taskStartedEventDetails",
         {{"resourceType", rtype}, {"resource", rname}});

    TaskRequest req;
    req.resource = resource;
    req.parameters = std::move(params);
    req.context = ctx;
    req.state_key = key;
    req.state_name = st.name;
    req.attempt = attempt;
    req.timeout_seconds = timeout;
    req.heartbeat_seconds = heartbeat;
    req.cancel = f.cancel->Child();
    req.fan_out = f.fan;
    req.submitted = [&, rtype = rtype, rname = rname](const json& output) {
      Emit(f, "TaskSubmitted", "taskSubmittedEventDetails",
           {{"resourceType", rtype},
            {"resource", rname},
            {"output", output.dump()},
            {"outputDetails", {{"truncated", false}}}});
    };

    // The task's time-out: a watchdog cancels the dispatch at the deadline; a result that
    // arrives after the deadline (by the clock) is a time-out too.
    const int64_t deadline = timeout ? svc_.clock->NowMs() + *timeout * 1000 : 0;
    std::atomic<bool> timed_out{false};
    auto done = CancelToken::Make();
    std::thread watchdog;
    if (timeout) {
      watchdog = std::thread([&, done, cancel = req.cancel] {
        if (svc_.clock->WatchUntil(deadline, *done)) {
          timed_out = true;
          cancel->Cancel(std::string(kReasonTimeout));
        }
      });
    }
    AslOr<json> result = asl::RuntimeError("the dispatcher threw");
    try {
      result = svc_.dispatcher->Dispatch(req);
    } catch (const std::exception& e) {
      result = asl::RuntimeError(std::string("the dispatcher threw: ") + e.what());
    }
    done->Cancel("done");
    if (watchdog.joinable()) watchdog.join();

    if (!result.ok() && f.cancel->cancelled()) return asl::RuntimeError("cancelled");
    if (timed_out || (deadline > 0 && svc_.clock->NowMs() >= deadline)) {
      AslError e{std::string(asl::kStatesTimeout), "Task '" + st.name + "' ran longer than its " +
                                                       std::to_string(*timeout) + " s time-out"};
      Emit(f, "TaskTimedOut", "taskTimedOutEventDetails",
           {{"resourceType", rtype}, {"resource", rname}, {"error", e.error}, {"cause", e.cause}});
      return e;
    }
    if (!result.ok()) {
      Emit(f, "TaskFailed", "taskFailedEventDetails",
           {{"resourceType", rtype},
            {"resource", rname},
            {"error", result.error().error},
            {"cause", result.error().cause}});
      return result.error();
    }
    Emit(f, "TaskSucceeded", "taskSucceededEventDetails",
         {{"resourceType", rtype},
          {"resource", rname},
          {"output", result->dump()},
          {"outputDetails", {{"truncated", false}}}});
    ASL_ASSIGN_OR_RETURN(size_t rsize, Limit(*result, "the result of state '" + st.name + "'"));
    (void)rsize;
    ASL_ASSIGN_OR_RETURN(json selected, Template(st.result_selector, *result, ctx));
    ASL_ASSIGN_OR_RETURN(json placed, ApplyResult(st.result_path, raw, std::move(selected)));
    return ApplyPathField(st.output_path, placed, ctx);
  }

  // ---- Map and Parallel ----------------------------------------------------------------------

  // Runs body(i) for i in [0, n) on up to `width` threads (this one included); stops handing
  // out new indices once `stop` is cancelled.
  template <typename Body>
  void Fan(size_t n, int64_t width, CancelToken& stop, Body&& body) {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      while (!stop.cancelled()) {
        size_t i = next.fetch_add(1);
        if (i >= n) return;
        body(i);
      }
    };
    size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max<int64_t>(width, 1)));
    std::vector<std::thread> pool;
    pool.reserve(threads > 0 ? threads - 1 : 0);
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    if (threads > 0) worker();
    for (std::thread& t : pool) t.join();
  }

  AslOr<json> ParallelAttempt(Frame& f, const State& st, const std::string& key, const json& raw,
                              const json& ctx) {
    const asl::ParallelFields& pf = *st.parallel();
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    ASL_ASSIGN_OR_RETURN(json branch_input, Template(st.parameters, effective, ctx));
    Emit(f, "ParallelStateStarted", "", json());
    const int64_t started = f.last_event;
    const size_t n = pf.branches.size();
    std::vector<json> results(n);
    auto group = f.cancel->Child();
    std::mutex mu;
    std::optional<AslError> failure;
    std::atomic<int64_t> last{started};
    Fan(n, opts_.max_parallel, *group, [&](size_t b) {
      const std::string bkey = key + "/branch-" + std::to_string(b);
      if (const Checkpoint* c = Resumed(bkey)) {
        results[b] = c->output;
        return;
      }
      Frame bf;
      bf.machine = &pf.branches[b];
      bf.prefix = bkey + "/";
      bf.cancel = group->Child();
      bf.fan = f.fan;
      bf.last_event = started;
      Step s = RunScope(bf, branch_input);
      RaiseTo(last, bf.last_event);
      if (s.kind == Step::Kind::kOk) {
        results[b] = std::move(s.output);
        SaveCheckpoint(bkey, results[b], "");
      } else if (s.kind == Step::Kind::kError) {
        std::lock_guard lock(mu);
        if (!failure) failure = s.error;
        // A failing branch stops the others.
        group->Cancel("branch failed");
      }
    });
    f.last_event = std::max(f.last_event, last.load());
    if (f.cancel->cancelled()) {
      Emit(f, "ParallelStateAborted", "", json());
      return asl::RuntimeError("cancelled");
    }
    if (failure) {
      Emit(f, "ParallelStateFailed", "", json());
      return *failure;
    }
    Emit(f, "ParallelStateSucceeded", "", json());
    json all = json::array();
    for (json& r : results) all.push_back(std::move(r));
    ASL_ASSIGN_OR_RETURN(json selected, Template(st.result_selector, all, ctx));
    ASL_ASSIGN_OR_RETURN(json placed, ApplyResult(st.result_path, raw, std::move(selected)));
    return ApplyPathField(st.output_path, placed, ctx);
  }

  AslOr<int64_t> IntField(const State& st, std::optional<int64_t> fixed, const std::string& path,
                          std::string_view field, const json& effective, const json& ctx) {
    if (path.empty()) return fixed.value_or(0);
    ASL_ASSIGN_OR_RETURN(json v, ReadPath(path, effective, ctx));
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      return asl::RuntimeError("state '" + st.name + "': " + std::string(field) + " '" + path +
                               "' gave " + v.dump() + ", not a non-negative integer");
    }
    return v.get<int64_t>();
  }

  AslOr<json> MapAttempt(Frame& f, const State& st, const std::string& key, const json& raw,
                         const json& ctx) {
    const asl::MapFields& mf = *st.map();
    if (mf.item_reader || mf.result_writer || mf.item_batcher) {
      return asl::RuntimeError("state '" + st.name + "': " +
                               (mf.item_reader     ? "ItemReader"
                                : mf.result_writer ? "ResultWriter"
                                                   : "ItemBatcher") +
                               " is not supported yet");
    }
    ASL_ASSIGN_OR_RETURN(json effective, ApplyPathField(st.input_path, raw, ctx));
    json items = effective;
    if (!mf.items_path.empty()) {
      ASL_ASSIGN_OR_RETURN(items, ReadPath(mf.items_path, effective, ctx));
    }
    if (!items.is_array()) {
      return asl::RuntimeError("state '" + st.name + "': ItemsPath '" +
                               (mf.items_path.empty() ? "$" : mf.items_path) + "' selected " +
                               std::string(items.type_name()) + ", not an array");
    }
    ASL_ASSIGN_OR_RETURN(int64_t max_conc, IntField(st, mf.max_concurrency, mf.max_concurrency_path,
                                                    "MaxConcurrencyPath", effective, ctx));
    ASL_ASSIGN_OR_RETURN(int64_t tol_count, IntField(st, mf.tolerated_failure_count.value_or(-1),
                                                     mf.tolerated_failure_count_path,
                                                     "ToleratedFailureCountPath", effective, ctx));
    std::optional<double> tol_pct = mf.tolerated_failure_percentage;
    if (!mf.tolerated_failure_percentage_path.empty()) {
      ASL_ASSIGN_OR_RETURN(json v, ReadPath(mf.tolerated_failure_percentage_path, effective, ctx));
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 100) {
        return asl::RuntimeError("state '" + st.name + "': ToleratedFailurePercentagePath '" +
                                 mf.tolerated_failure_percentage_path + "' gave " + v.dump() +
                                 ", not a number from 0 to 100");
      }
      tol_pct = v.get<double>();
    }
    const bool tolerant = tol_count >= 0 || tol_pct.has_value();
    const size_t n = items.size();
    // The iterations' inputs, built before any runs so a bad ItemSelector fails the state.
    std::vector<json> inputs(n);
    for (size_t i = 0; i < n; ++i) {
      if (!mf.item_selector) {
        inputs[i] = items[i];
        continue;
      }
      json ictx = ctx;
      ictx["Map"] = {{"Item", {{"Index", static_cast<int64_t>(i)}, {"Value", items[i]}}}};
      ASL_ASSIGN_OR_RETURN(inputs[i], Template(mf.item_selector, effective, ictx));
    }
    Emit(f, "MapStateStarted", "mapStateStartedEventDetails", {{"length", n}});
    const int64_t started = f.last_event;
    std::vector<json> results(n);
    auto group = f.cancel->Child();
    std::mutex mu;
    size_t failures = 0;
    std::optional<AslError> failure;
    std::atomic<int64_t> last{started};
    auto exceeded = [&](size_t failed) {
      if (!tolerant) return failed > 0;
      if (tol_count >= 0 && static_cast<int64_t>(failed) > tol_count) return true;
      return tol_pct && n > 0 &&
             static_cast<double>(failed) * 100.0 > *tol_pct * static_cast<double>(n);
    };
    const int64_t width = opts_.fan_out_width > 0 ? opts_.fan_out_width
                          : max_conc > 0          ? max_conc
                                                  : opts_.max_parallel;
    Fan(n, width, *group, [&](size_t i) {
      const std::string ikey = key + "/" + std::to_string(i);
      if (const Checkpoint* c = Resumed(ikey)) {
        results[i] = c->output;
        return;
      }
      Frame itf;
      itf.machine = &mf.processor;
      itf.prefix = ikey + "/";
      itf.cancel = group->Child();
      itf.item_index = static_cast<int64_t>(i);
      itf.item_value = items[i];
      itf.fan = FanOut{key, static_cast<int64_t>(i), static_cast<int64_t>(n), max_conc};
      itf.last_event = started;
      json detail = {{"name", st.name}, {"index", i}};
      Emit(itf, "MapIterationStarted", "mapIterationStartedEventDetails", detail);
      Step s = RunScope(itf, inputs[i]);
      if (s.kind == Step::Kind::kOk) {
        Emit(itf, "MapIterationSucceeded", "mapIterationSucceededEventDetails", detail);
        results[i] = std::move(s.output);
        SaveCheckpoint(ikey, results[i], "");
      } else if (s.kind == Step::Kind::kError) {
        Emit(itf, "MapIterationFailed", "mapIterationFailedEventDetails", detail);
        results[i] = ErrorOutput(s.error);
        std::lock_guard lock(mu);
        ++failures;
        if (!failure && exceeded(failures)) {
          failure =
              tolerant ? AslError{std::string(asl::kStatesExceedToleratedFailureThreshold),
                                  "state '" + st.name + "': " + std::to_string(failures) + " of " +
                                      std::to_string(n) + " iterations failed, more than tolerated"}
                       : s.error;
          group->Cancel("map failed");
        }
      } else {
        Emit(itf, "MapIterationAborted", "mapIterationAbortedEventDetails", detail);
      }
      RaiseTo(last, itf.last_event);
    });
    f.last_event = std::max(f.last_event, last.load());
    if (f.cancel->cancelled()) {
      Emit(f, "MapStateAborted", "", json());
      return asl::RuntimeError("cancelled");
    }
    if (failure) {
      Emit(f, "MapStateFailed", "", json());
      return *failure;
    }
    Emit(f, "MapStateSucceeded", "", json());
    json all = json::array();
    for (json& r : results) all.push_back(std::move(r));
    ASL_ASSIGN_OR_RETURN(json selected, Template(st.result_selector, all, ctx));
    ASL_ASSIGN_OR_RETURN(json placed, ApplyResult(st.result_path, raw, std::move(selected)));
    return ApplyPathField(st.output_path, placed, ctx);
  }

  const StateMachine& machine_;
  const json& input_;
  ExecuteOptions opts_;
  Services svc_;
  std::unique_ptr<RandomSource> own_random_;
  asl::IntrinsicEnv env_;
  std::map<std::string, Checkpoint, std::less<>> resume_;
  std::shared_ptr<CancelToken> root_;
  int64_t start_ms_ = 0;
  int64_t deadline_ms_ = 0;
  bool context_has_input_ = true;

  std::mutex mu_;  // events_, next_id_, checkpoints_, the journal
  std::vector<json> events_;
  int64_t next_id_ = 1;
  std::vector<Checkpoint> checkpoints_;

  std::mutex path_mu_;
  std::unordered_map<std::string, asl::JsonPath> paths_;
  ChoiceSlot choice_next_;
};

}  // namespace

std::string_view ExecutionStatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kSucceeded:
      return "SUCCEEDED";
    case ExecutionStatus::kFailed:
      return "FAILED";
    case ExecutionStatus::kTimedOut:
      return "TIMED_OUT";
    case ExecutionStatus::kAborted:
      return "ABORTED";
  }
  return "FAILED";
}

std::pair<std::string, std::string> SplitResource(std::string_view resource) {
  constexpr std::string_view kStates = "arn:aws:states:::";
  if (resource.starts_with(kStates)) {
    std::string_view rest = resource.substr(kStates.size());
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      return {std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
    }
    return {std::string(rest), std::string(rest)};
  }
  // arn:partition:service:...
  if (resource.starts_with("arn:")) {
    size_t a = resource.find(':', 4);
    if (a != std::string_view::npos) {
      size_t b = resource.find(':', a + 1);
      if (b != std::string_view::npos) {
        return {std::string(resource.substr(a + 1, b - a - 1)), std::string(resource)};
      }
    }
  }
  return {"", std::string(resource)};
}

std::string FormatIsoMillis(int64_t unix_ms) {
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int64_t ms = unix_ms - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

StatusOr<ExecutionResult> Execute(const asl::StateMachine& machine, const nlohmann::json& input,
                                  const ExecuteOptions& options, const Services& services) {
  if (services.dispatcher == nullptr || services.clock == nullptr) {
    return InvalidArgument("pipeline engine: Services needs a dispatcher and a clock");
  }
  Run run(machine, input, options, services);
  return run.Go();
}

}  // namespace sagebox::pipeline::engine
