#include "jobs/job_runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <fstream>

namespace sagebox::jobs {

namespace {

// Wait() re-reads the row at least this often, for jobs another server runs.
constexpr std::chrono::milliseconds kWaitPoll{200};

}  // namespace

RunnerIdentity RunnerIdentity::Current() {
  RunnerIdentity id;
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) == 0) id.host = host;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::getline(boot, id.boot_id);
  id.pid = ::getpid();
  id.start_ticks = ProcessStartTicks(::getpid()).value_or(0);
  return id;
}

std::string RunnerIdentity::ToString() const {
  return host + "/" + boot_id + "/" + std::to_string(pid) + "/" + std::to_string(start_ticks);
}

std::optional<RunnerIdentity> RunnerIdentity::Parse(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 4) return std::nullopt;
  RunnerIdentity id;
  id.host = parts[0];
  id.boot_id = parts[1];
  try {
    size_t used = 0;
    id.pid = std::stoll(parts[2], &used);
    if (used != parts[2].size()) return std::nullopt;
    id.start_ticks = std::stoll(parts[3], &used);
    if (used != parts[3].size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return id;
}

JobRunner::JobRunner(db::Database* db, RunnerOptions options)
    : store_(db),
      options_(std::move(options)),
      launcher_(options_.launcher != nullptr ? options_.launcher : ProcessLauncher::Default()),
      env_(options_.env != nullptr ? options_.env : Env::Default()),
      clock_(options_.clock ? options_.clock : MicrosClock(RealNowMicros)),
      identity_(options_.identity ? *options_.identity : RunnerIdentity::Current()),
      runner_id_(identity_.ToString()) {
  int n = options_.max_concurrent;
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

JobRunner::~JobRunner() { Shutdown(); }

StatusOr<int64_t> JobRunner::Submit(const JobSpec& spec) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutting_down_) return Internal("the job runner is shutting down");
  }
  NewJob row{spec.kind,
             spec.name,
             spec.owner,
             spec.argv,
             spec.time_limit ? std::optional<int64_t>(spec.time_limit->count()) : std::nullopt,
             runner_id_,
             clock_()};
  ASSIGN_OR_RETURN(Job job, store_.Insert(row, options_.log_root));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!shutting_down_) {
      queue_.push_back({job.id, spec, job.stdout_path, job.stderr_path});
      work_cv_.notify_one();
      return job.id;
    }
  }
  // Shutdown() began between the insert and now: the job never runs.
  (void)store_.End(
      job.id, {JobState::kPending},
      {JobState::kInterrupted, {}, {}, "the server shut down before it started", clock_()});
  return Internal("the job runner is shutting down");
}

Status JobRunner::Cancel(int64_t id) {
  ASSIGN_OR_RETURN(Job job, store_.Get(id));
  auto already = [&](const Job& j) {
    return InvalidArgument("job " + std::to_string(id) + " has already ended (" +
                           std::string(StateName(j.state)) + ")");
  };
  if (IsTerminal(job.state)) return already(job);
  if (job.runner_id != runner_id_) {
    return InvalidArgument("job " + std::to_string(id) + " runs on another server (" +
                           job.runner_id + "); cancel it there");
  }
  // Still pending: the guarded update either cancels it before a worker claims it, or loses
  // to the claim and the job is running (handled below).
  ASSIGN_OR_RETURN(
      bool cancelled_pending,
      store_.End(id, {JobState::kPending},
                 {JobState::kCancelled, {}, {}, "cancelled before it started", clock_()}));
  if (cancelled_pending) {
    std::lock_guard<std::mutex> l(mu_);
    queue_.erase(
        std::remove_if(queue_.begin(), queue_.end(), [&](const Queued& q) { return q.id == id; }),
        queue_.end());
    ++done_generation_;
    done_cv_.notify_all();
    return Status::Ok();
  }
  std::shared_ptr<Process> process;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      it->second->cancel_requested = true;  // the worker cancels it once started
      process = it->second->process;
    }
  }
  if (process) {
    (void)process->Cancel();  // false: it exited first; its own outcome is recorded
    return Status::Ok();
  }
  // Not active here any more: it ended meanwhile.
  ASSIGN_OR_RETURN(job, store_.Get(id));
  if (IsTerminal(job.state)) return already(job);
  return Status::Ok();  // claimed by a worker that has not registered the process yet
}

StatusOr<Job> JobRunner::Wait(int64_t id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> l(mu_);
      seen = done_generation_;
    }
    ASSIGN_OR_RETURN(Job job, store_.Get(id));
    auto now = std::chrono::steady_clock::now();
    if (IsTerminal(job.state) || now >= deadline) return job;
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait_for(l, std::min<std::chrono::steady_clock::duration>(deadline - now, kWaitPoll),
                      [&] { return done_generation_ != seen; });
  }
}

StatusOr<Job> JobRunner::Get(int64_t id) { return store_.Get(id); }

StatusOr<std::vector<Job>> JobRunner::List(const JobFilter& filter) { return store_.List(filter); }

StatusOr<int> JobRunner::RecoverInterrupted() {
  ASSIGN_OR_RETURN(std::vector<Job> unfinished, store_.Unfinished());
  int marked = 0;
  for (const Job& job : unfinished) {
    if (job.runner_id == runner_id_) continue;  // ours: alive by definition
    std::optional<RunnerIdentity> owner = RunnerIdentity::Parse(job.runner_id);
    if (!owner || owner->host != identity_.host) continue;  // another machine's job
    std::string reason;
    bool kill_orphans = false;
    if (owner->boot_id != identity_.boot_id) {
      reason = "interrupted: the machine restarted while the job was " +
               std::string(StateName(job.state));
    } else {
      if (ProcessRunning(static_cast<pid_t>(owner->pid), owner->start_ticks)) continue;
      reason = "interrupted: the server that ran the job (pid " + std::to_string(owner->pid) +
               ") stopped while the job was " + std::string(StateName(job.state));
      // Only the very process we started: same pid and start time, not a reuse of the pid.
      kill_orphans =
          job.pid && job.pid_start && ProcessRunning(static_cast<pid_t>(*job.pid), job.pid_start);
    }
    if (kill_orphans)
      reason += "; its leftover process group " + std::to_string(*job.pid) + " was killed";
    ASSIGN_OR_RETURN(bool changed, store_.End(job.id, {JobState::kPending, JobState::kRunning},
                                              {JobState::kInterrupted, {}, {}, reason, clock_()}));
    if (!changed) continue;  // it ended meanwhile (another server recovered it)
    ++marked;
    if (kill_orphans) (void)::kill(-static_cast<pid_t>(*job.pid), SIGKILL);
  }
  return marked;
}

void JobRunner::Shutdown() {
  std::deque<Queued> queued;
  std::vector<std::shared_ptr<Process>> running;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutting_down_ && workers_.empty()) return;
    shutting_down_ = true;
    queued.swap(queue_);
    for (auto& [id, active] : active_) {
      active->shutting_down = true;
      if (active->process) running.push_back(active->process);
    }
  }
  work_cv_.notify_all();
  for (const Queued& q : queued) {
    (void)store_.End(
        q.id, {JobState::kPending},
        {JobState::kInterrupted, {}, {}, "the server shut down before it started", clock_()});
  }
  for (auto& p : running) (void)p->Cancel();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> l(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.join();
  NotifyDone();
}

void JobRunner::WorkerLoop() {
  while (true) {
    Queued job;
    auto active = std::make_shared<Active>();
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return shutting_down_ || !queue_.empty(); });
      if (shutting_down_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      // Registered before the claim, so a Cancel() that loses the race to the claim finds it.
      active_[job.id] = active;
    }
    RunJob(job, active);
    {
      std::lock_guard<std::mutex> l(mu_);
      active_.erase(job.id);
    }
    NotifyDone();
  }
}

void JobRunner::RunJob(const Queued& job, const std::shared_ptr<Active>& active) {
  auto claimed = store_.MarkRunning(job.id, clock_());
  if (!claimed.ok() || !*claimed) return;  // cancelled while pending, or the database failed
  Status dir = env_->CreateDirs(Dirname(job.stdout_path));
  if (!dir.ok()) {
    Finish(job.id, Failed("could not create the log folder: " + dir.message()));
    return;
  }
  ProcessSpec ps;
  ps.argv = job.spec.argv;
  ps.env = job.spec.env;
  ps.working_dir = job.spec.working_dir;
  ps.stdout_path = job.stdout_path;
  ps.stderr_path = job.stderr_path;
  if (job.spec.time_limit) ps.time_limit = *job.spec.time_limit;
  ps.stop_grace = options_.stop_grace;
  auto launched = launcher_->Launch(ps);
  if (!launched.ok()) {
    Finish(job.id, Failed("could not start: " + launched.status().message()));
    return;
  }
  std::shared_ptr<Process> process = std::move(launched).value();
  // Recorded so recovery after a crash of this server can find and kill the group. A job
  // whose pid cannot be recorded is stopped: it could become an unkillable orphan.
  Status recorded = store_.RecordProcess(job.id, process->pid(), ProcessStartTicks(process->pid()));
  bool stop = !recorded.ok();
  {
    std::lock_guard<std::mutex> l(mu_);
    active->process = process;
    stop = stop || active->cancel_requested || active->shutting_down;
  }
  if (stop) (void)process->Cancel();
  ProcessResult result = process->WaitForever();
  if (!recorded.ok()) {
    JobEnd end = Failed("could not record the process: " + recorded.message());
    end.exit_code = result.exit_code;
    end.signal = result.signal != 0 ? std::optional<int>(result.signal) : std::nullopt;
    Finish(job.id, end);
    return;
  }
  Active snapshot;
  {
    std::lock_guard<std::mutex> l(mu_);
    snapshot = *active;
  }
  Finish(job.id, Outcome(result, snapshot, job.spec));
}

JobEnd JobRunner::Outcome(const ProcessResult& r, const Active& active, const JobSpec& spec) const {
  JobEnd end;
  end.exit_code = r.exit_code;
  if (r.signal != 0) end.signal = r.signal;
  end.ended_us = r.ended_us;
  std::string how = r.Describe();
  if (r.timed_out) {
    end.state = JobState::kTimedOut;
    end.failure_reason =
        "time limit of " + std::to_string(spec.time_limit->count()) + " s reached; " + how;
  } else if (r.cancelled && active.cancel_requested) {
    end.state = JobState::kCancelled;
    end.failure_reason = "cancelled; " + how;
  } else if (r.cancelled) {
    end.state = JobState::kInterrupted;
    end.failure_reason = "the server shut down while the job ran; " + how;
  } else if (r.exit_code == 0) {
    end.state = JobState::kSucceeded;
  } else {
    end.state = JobState::kFailed;
    end.failure_reason = how;
  }
  return end;
}

JobEnd JobRunner::Failed(std::string reason) const {
  return {JobState::kFailed, {}, {}, std::move(reason), clock_()};
}

void JobRunner::Finish(int64_t id, const JobEnd& end) {
  // false: another path recorded the outcome first; an error leaves the row `running`
  // for RecoverInterrupted after the next start.
  (void)store_.End(id, {JobState::kRunning}, end);
}

void JobRunner::NotifyDone() {
  std::lock_guard<std::mutex> l(mu_);
  ++done_generation_;
  done_cv_.notify_all();
}

}  // namespace sagebox::jobs
