#include "pipeline/slurm/slurm_client.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "pipeline/slurm/array_indices.h"

namespace sagebox::pipeline::slurm {
namespace {

using nlohmann::json;

struct StateName {
  TaskState state;
  std::string_view name;
};
constexpr std::array<StateName, 15> kStates{{
    {TaskState::kPending, "PENDING"},
    {TaskState::kRunning, "RUNNING"},
    {TaskState::kCompleting, "COMPLETING"},
    {TaskState::kSuspended, "SUSPENDED"},
    {TaskState::kRequeued, "REQUEUED"},
    {TaskState::kCompleted, "COMPLETED"},
    {TaskState::kFailed, "FAILED"},
    {TaskState::kCancelled, "CANCELLED"},
    {TaskState::kTimeout, "TIMEOUT"},
    {TaskState::kOutOfMemory, "OUT_OF_MEMORY"},
    {TaskState::kNodeFail, "NODE_FAIL"},
    {TaskState::kBootFail, "BOOT_FAIL"},
    {TaskState::kDeadline, "DEADLINE"},
    {TaskState::kPreempted, "PREEMPTED"},
    {TaskState::kOther, "OTHER"},
}};

// A shell word that /bin/sh passes through unchanged: '...' with each ' as '\''.
std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == '\n' || s.front() == '\r' || s.front() == ' '))
    s.remove_prefix(1);
  return std::string(s);
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// The message of a failed command: its name, exit code and stderr (trimmed).
std::string CommandFailure(const std::string& what, const CommandResult& r) {
  std::string msg = what + " exited with code " + std::to_string(r.exit_code);
  std::string err = Trim(r.stderr_text);
  if (!err.empty()) msg += ": " + err;
  return msg;
}

// squeue --json values: 22.05 (openapi v0.0.38) prints plain numbers; 23.02 and later
// print {"set": bool, "infinite": bool, "number": N}. nullopt for null, unset or infinite.
// Throws BadShape when the value is neither.
struct BadShape {
  std::string path;
  std::string expected;
};

std::optional<int64_t> NumberField(const json& job, const std::string& key,
                                   const std::string& path) {
  auto it = job.find(key);
  if (it == job.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_object()) {
    bool set = it->value("set", true);
    bool infinite = it->value("infinite", false);
    auto n = it->find("number");
    if (!set || infinite) return std::nullopt;
    if (n != it->end() && n->is_number_integer()) return n->get<int64_t>();
  }
  throw BadShape{path + "." + key, "an integer or {\"set\", \"number\"}"};
}

std::string StringField(const json& job, const std::string& key, const std::string& path) {
  auto it = job.find(key);
  if (it == job.end() || it->is_null()) return "";
  if (!it->is_string()) throw BadShape{path + "." + key, "a string"};
  return it->get<std::string>();
}

// job_state: "FAILED" (22.05) or ["FAILED"] / ["CANCELLED", ...flags] (later versions).
std::string StateField(const json& job, const std::string& path) {
  auto it = job.find("job_state");
  if (it != job.end() && it->is_string()) return it->get<std::string>();
  if (it != job.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
    return (*it)[0].get<std::string>();
  }
  throw BadShape{path + ".job_state", "a state name or an array of them"};
}

// Sets exit_code/signal from squeue's exit_code: 22.05 prints the raw wait status (7 << 8
// for "exit 7", 15 for SIGTERM); later versions an object with return_code and signal.
void ReadExitCode(const json& job, const std::string& path, TaskStatus* task) {
  auto it = job.find("exit_code");
  if (it == job.end() || it->is_null()) return;
  if (it->is_number_integer()) {
    int64_t raw = it->get<int64_t>();
    if ((raw & 0x7f) != 0) {
      task->signal = static_cast<int>(raw & 0x7f);
    } else {
      task->exit_code = static_cast<int>((raw >> 8) & 0xff);
    }
    return;
  }
  if (it->is_object()) {
    std::optional<int64_t> sig;
    if (auto s = it->find("signal"); s != it->end() && s->is_object()) {
      sig = NumberField(*s, "signal_id", path + ".exit_code.signal");
    }
    std::optional<int64_t> rc = NumberField(*it, "return_code", path + ".exit_code");
    if (sig && *sig != 0) {
      task->signal = static_cast<int>(*sig);
    } else if (rc) {
      task->exit_code = static_cast<int>(*rc);
    }
    return;
  }
  throw BadShape{path + ".exit_code", "an integer wait status or an object"};
}

// Fills the time and exit fields that only mean something in the task's state: squeue
// prints a predicted end (start + time limit) for running tasks and 0 for never.
void SetTimes(std::optional<int64_t> start, std::optional<int64_t> end, TaskStatus* task) {
  bool started = task->state != TaskState::kPending && start && *start > 0;
  if (started) task->start_time = start;
  if (IsTerminal(task->state) && end && *end > 0) task->end_time = end;
  if (!IsTerminal(task->state)) {
    task->exit_code.reset();
    task->signal = 0;
  }
}

// One line (1-based) of `text` that holds byte `offset`.
size_t LineOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

void SortAndDedupe(ArrayStatus* status) {
  // Later records win: squeue lists a split-off task before the remainder it left.
  std::map<int, TaskStatus> by_index;
  for (auto& t : status->tasks) by_index[t.index] = std::move(t);
  status->tasks.clear();
  for (auto& [index, t] : by_index) status->tasks.push_back(std::move(t));
}

}  // namespace

std::string_view TaskStateName(TaskState state) {
  for (const auto& s : kStates) {
    if (s.state == state) return s.name;
  }
  return "OTHER";
}

TaskState ParseTaskState(std::string_view name) {
  // sacct prints "CANCELLED by 0"; squeue may add flags after a space or '+'.
  name = name.substr(0, name.find_first_of(" +"));
  for (const auto& s : kStates) {
    if (s.name == name) return s.state;
  }
  // Held in the queue for a deleted reservation: still waiting to run.
  if (name == "RESV_DEL_HOLD") return TaskState::kPending;
  return TaskState::kOther;
}

bool IsTerminal(TaskState state) {
  switch (state) {
    case TaskState::kPending:
    case TaskState::kRunning:
    case TaskState::kCompleting:
    case TaskState::kSuspended:
    case TaskState::kRequeued:
    case TaskState::kOther:
      return false;
    default:
      return true;
  }
}

bool IsRetryable(TaskState state) {
  return IsTerminal(state) && state != TaskState::kCompleted && state != TaskState::kCancelled;
}

bool ArrayStatus::AllTerminal() const {
  return !tasks.empty() &&
         std::all_of(tasks.begin(), tasks.end(), [](const auto& t) { return IsTerminal(t.state); });
}

std::vector<int> ArrayStatus::FailedIndices() const {
  std::vector<int> out;
  for (const auto& t : tasks) {
    if (IsRetryable(t.state)) out.push_back(t.index);
  }
  return out;
}

const TaskStatus* ArrayStatus::Find(int index) const {
  for (const auto& t : tasks) {
    if (t.index == index) return &t;
  }
  return nullptr;
}

StatusOr<int64_t> ParseSbatchParsable(std::string_view text) {
  std::string line = Trim(text);
  // Warnings may come first on stdout in some versions; the id is the last line.
  if (size_t nl = line.rfind('\n'); nl != std::string::npos) line = Trim(line.substr(nl + 1));
  std::string id = line.substr(0, line.find(';'));
  int64_t job_id = 0;
  if (!ParseInt64(id, &job_id) || job_id <= 0) {
    return BadInput("sbatch --parsable: line " + std::to_string(LineOf(Trim(text), text.size())) +
                    ": expected JOBID or JOBID;CLUSTER, got \"" + line + "\"");
  }
  return job_id;
}

StatusOr<ArrayStatus> ParseSqueueJson(std::string_view text, int64_t job_id) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return BadInput("squeue --json: line " + std::to_string(LineOf(text, e.byte)) +
                    ": not JSON: " + e.what());
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double is out_of_range (found by
    // slurm_output_fuzz).
    return BadInput(std::string("squeue --json: not JSON: ") + e.what());
  }
  ArrayStatus status;
  status.job_id = job_id;
  status.source = "squeue";
  try {
    if (!doc.is_object()) throw BadShape{"(document)", "an object"};
    if (auto errs = doc.find("errors"); errs != doc.end() && errs->is_array() && !errs->empty()) {
      return Internal("squeue --json reported errors: " + errs->dump());
    }
    auto jobs = doc.find("jobs");
    if (jobs == doc.end() || !jobs->is_array()) throw BadShape{"jobs", "an array"};
    for (size_t i = 0; i < jobs->size(); ++i) {
      const json& job = (*jobs)[i];
      std::string path = "jobs[" + std::to_string(i) + "]";
      if (!job.is_object()) throw BadShape{path, "an object"};
      std::optional<int64_t> id = NumberField(job, "job_id", path);
      std::optional<int64_t> array_id = NumberField(job, "array_job_id", path);
      bool is_array = array_id && *array_id != 0;
      if (is_array ? *array_id != job_id : id != job_id) continue;
      status.listed = true;
      TaskStatus proto;
      proto.state_name = StateField(job, path);
      proto.state = ParseTaskState(proto.state_name);
      proto.reason = StringField(job, "state_reason", path);
      ReadExitCode(job, path, &proto);
      SetTimes(NumberField(job, "start_time", path), NumberField(job, "end_time", path), &proto);
      std::optional<int64_t> task_id = NumberField(job, "array_task_id", path);
      std::string remainder = StringField(job, "array_task_string", path);
      if (!is_array) {
        proto.index = 0;
        status.tasks.push_back(proto);
      } else if (task_id) {
        proto.index = static_cast<int>(*task_id);
        status.tasks.push_back(proto);
      } else if (!remainder.empty()) {
        // The tasks not yet split off (pending, or cancelled before they started).
        auto indices = ExpandIndices(remainder);
        if (!indices.ok()) {
          return BadInput("squeue --json: " + path +
                          ".array_task_string: " + indices.status().message());
        }
        for (int index : *indices) {
          TaskStatus t = proto;
          t.index = index;
          status.tasks.push_back(std::move(t));
        }
      }
    }
  } catch (const BadShape& bad) {
    return BadInput("squeue --json: " + bad.path + ": expected " + bad.expected);
  } catch (const json::exception& e) {
    return BadInput(std::string("squeue --json: unexpected shape: ") + e.what());
  }
  SortAndDedupe(&status);
  return status;
}

StatusOr<ArrayStatus> ParseSacctParsable(std::string_view text, int64_t job_id) {
  ArrayStatus status;
  status.job_id = job_id;
  status.source = "sacct";
  size_t line_no = 0;
  std::string prefix = std::to_string(job_id);
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return BadInput("sacct: line " + std::to_string(line_no) + ": " + why + " in \"" +
                      std::string(line) + "\" (expected JobID|State|ExitCode|Start|End)");
    };
    std::vector<std::string_view> f;
    for (size_t pos = 0;;) {
      size_t bar = line.find('|', pos);
      f.push_back(line.substr(pos, bar == std::string_view::npos ? bar : bar - pos));
      if (bar == std::string_view::npos) break;
      pos = bar + 1;
    }
    if (f.size() != 5) return bad(std::to_string(f.size()) + " fields");
    std::string_view id = f[0];
    if (id.find('.') != std::string_view::npos) continue;  // a step (batch, extern)
    std::string_view head = id.substr(0, id.find('_'));
    int64_t parsed_id = 0;
    if (!ParseInt64(head, &parsed_id))
      return bad("JobID \"" + std::string(id) + "\" is not a job id");
    if (parsed_id != job_id) continue;
    TaskStatus proto;
    proto.state_name = std::string(f[1]);
    proto.state = ParseTaskState(f[1]);
    size_t colon = f[2].find(':');
    int64_t code = 0;
    int64_t sig = 0;
    if (colon == std::string_view::npos || !ParseInt64(f[2].substr(0, colon), &code) ||
        !ParseInt64(f[2].substr(colon + 1), &sig)) {
      return bad("ExitCode \"" + std::string(f[2]) + "\" is not CODE:SIGNAL");
    }
    if (sig != 0) {
      proto.signal = static_cast<int>(sig);
    } else {
      proto.exit_code = static_cast<int>(code);
    }
    auto time = [&](std::string_view v, std::optional<int64_t>* out) -> bool {
      if (v == "Unknown" || v == "None" || v.empty()) return true;
      int64_t t = 0;
      if (!ParseInt64(v, &t)) return false;
      *out = t;
      return true;
    };
    std::optional<int64_t> start;
    std::optional<int64_t> end;
    if (!time(f[3], &start)) return bad("Start \"" + std::string(f[3]) + "\" is not Unix seconds");
    if (!time(f[4], &end)) return bad("End \"" + std::string(f[4]) + "\" is not Unix seconds");
    SetTimes(start, end, &proto);
    size_t us = id.find('_');
    if (us == std::string_view::npos) {
      proto.index = 0;
      status.tasks.push_back(proto);
      continue;
    }
    std::string_view rest = id.substr(us + 1);
    auto indices = ExpandIndices(rest);
    if (!indices.ok()) return bad(std::string(indices.status().message()));
    for (int index : *indices) {
      TaskStatus t = proto;
      t.index = index;
      status.tasks.push_back(std::move(t));
    }
  }
  SortAndDedupe(&status);
  return status;
}

SlurmClient::SlurmClient(CommandRunner* runner,
                         std::function<void(std::chrono::milliseconds)> sleep)
    : runner_(runner), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

StatusOr<CommandRequest> SlurmClient::BuildSubmit(const ArraySubmission& s) const {
  std::vector<int> indices = s.indices;
  if (indices.empty()) {
    for (const auto& [index, argv] : s.argv_per_index) indices.push_back(index);
  }
  if (indices.empty()) return InvalidArgument("job array " + s.job_name + ": no indices to run");
  for (int index : indices) {
    if (index < 0) {
      return InvalidArgument("job array " + s.job_name + ": index " + std::to_string(index) +
                             " is negative");
    }
  }
  if (s.max_concurrency < 0) {
    return InvalidArgument("job array " + s.job_name + ": max concurrency " +
                           std::to_string(s.max_concurrency) + " is negative");
  }
  CommandRequest req;
  if (!s.script.empty()) {
    if (!s.argv_per_index.empty()) {
      return InvalidArgument("job array " + s.job_name +
                             ": give a script or argv_per_index, not both");
    }
    if (s.script.rfind("#!", 0) != 0) {
      return InvalidArgument("job array " + s.job_name +
                             ": the batch script must start with #! (sbatch requires it)");
    }
    req.stdin_text = s.script;
  } else {
    if (s.argv_per_index.empty()) {
      return InvalidArgument("job array " + s.job_name + ": no script and no argv per index");
    }
    std::string script =
        "#!/bin/sh\n"
        "# sagebox: one command per array index ($SLURM_ARRAY_TASK_ID).\n"
        "case \"$SLURM_ARRAY_TASK_ID\" in\n";
    std::vector<int> sorted = indices;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (int index : sorted) {
      auto it = std::find_if(s.argv_per_index.begin(), s.argv_per_index.end(),
                             [&](const auto& p) { return p.first == index; });
      if (it == s.argv_per_index.end() || it->second.empty()) {
        return InvalidArgument("job array " + s.job_name + ": index " + std::to_string(index) +
                               " has no command");
      }
      // Appends, not "  " + ...: GCC 12 at -O3 reports a false -Wrestrict on literal + string.
      script += "  ";
      script += std::to_string(index);
      script += ") exec";
      for (const auto& arg : it->second) {
        script += ' ';
        script += ShellQuote(arg);
      }
      script += " ;;\n";
    }
    script +=
        "  *) echo \"sagebox: no command for array index $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n"
        "esac\n";
    req.stdin_text = std::move(script);
  }
  std::string array = "--array=" + CompressIndices(indices);
  if (s.max_concurrency > 0) array += "%" + std::to_string(s.max_concurrency);
  req.argv = {"sbatch", "--parsable", array};
  if (!s.job_name.empty()) req.argv.push_back("--job-name=" + s.job_name);
  if (!s.working_dir.empty()) req.argv.push_back("--chdir=" + s.working_dir);
  if (s.time_limit) {
    if (s.time_limit->count() <= 0) {
      return InvalidArgument("job array " + s.job_name + ": time limit must be positive");
    }
    // Slurm keeps limits in whole minutes and rounds seconds up itself; say so explicitly.
    int64_t minutes = (s.time_limit->count() + 59) / 60;
    req.argv.push_back("--time=" + std::to_string(minutes));
  }
  if (!s.stdout_path.empty()) req.argv.push_back("--output=" + s.stdout_path);
  if (!s.stderr_path.empty()) req.argv.push_back("--error=" + s.stderr_path);
  if (!s.partition.empty()) req.argv.push_back("--partition=" + s.partition);
  if (!s.account.empty()) req.argv.push_back("--account=" + s.account);
  if (s.cpus_per_task > 0) req.argv.push_back("--cpus-per-task=" + std::to_string(s.cpus_per_task));
  req.env = s.env;
  return req;
}

StatusOr<int64_t> SlurmClient::SubmitArray(const ArraySubmission& submission) {
  ASSIGN_OR_RETURN(CommandRequest req, BuildSubmit(submission));
  ASSIGN_OR_RETURN(CommandResult r, runner_->Run(req));
  if (r.exit_code != 0) return Internal(CommandFailure("sbatch", r));
  return ParseSbatchParsable(r.stdout_text);
}

StatusOr<ArrayStatus> SlurmClient::Status(int64_t job_id) {
  ASSIGN_OR_RETURN(CommandResult q, runner_->Run({{"squeue", "--json"}, {}, ""}));
  if (q.exit_code != 0) return Internal(CommandFailure("squeue --json", q));
  ASSIGN_OR_RETURN(ArrayStatus status, ParseSqueueJson(q.stdout_text, job_id));
  if (status.listed) return status;
  // Gone from the controller's memory (MinJobAge): ask the accounting database.
  CommandRequest sacct{{"sacct", "--jobs=" + std::to_string(job_id), "--allocations", "--parsable2",
                        "--noheader", "--format=JobID,State,ExitCode,Start,End"},
                       {{"SLURM_TIME_FORMAT", "%s"}},
                       ""};
  ASSIGN_OR_RETURN(CommandResult a, runner_->Run(sacct));
  if (a.exit_code != 0) {
    return NotFound("Slurm job " + std::to_string(job_id) + " is not in squeue, and " +
                    CommandFailure("sacct", a));
  }
  ASSIGN_OR_RETURN(status, ParseSacctParsable(a.stdout_text, job_id));
  if (status.tasks.empty()) {
    return NotFound("Slurm job " + std::to_string(job_id) +
                    " is known to neither squeue nor sacct");
  }
  return status;
}

::sagebox::Status SlurmClient::Cancel(int64_t job_id, const std::vector<int>& indices) {
  std::string target = std::to_string(job_id);
  if (!indices.empty()) target += "_[" + CompressIndices(indices) + "]";
  ASSIGN_OR_RETURN(CommandResult r, runner_->Run({{"scancel", target}, {}, ""}));
  if (r.exit_code != 0) return Internal(CommandFailure("scancel " + target, r));
  return ::sagebox::Status::Ok();
}

StatusOr<int64_t> SlurmClient::ResubmitFailed(const ArraySubmission& previous,
                                              const ArrayStatus& status) {
  std::vector<int> failed = status.FailedIndices();
  if (failed.empty()) {
    return InvalidArgument("Slurm job " + std::to_string(status.job_id) +
                           ": no failed index to resubmit");
  }
  ArraySubmission again = previous;
  again.indices = std::move(failed);
  return SubmitArray(again);
}

StatusOr<WaitResult> SlurmClient::Wait(int64_t job_id, std::chrono::milliseconds poll,
                                       std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  std::chrono::milliseconds slept{0};
  while (true) {
    ASSIGN_OR_RETURN(ArrayStatus status, Status(job_id));
    if (status.AllTerminal()) return WaitResult{std::move(status), false};
    // Either clock ends the wait: the real one, or the sum of pauses (a fake sleep).
    auto elapsed = std::max(slept, std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - start));
    if (elapsed >= timeout) return WaitResult{std::move(status), true};
    auto pause = std::min(poll, timeout - elapsed);
    sleep_(pause);
    slept += pause;
  }
}

}  // namespace sagebox::pipeline::slurm
