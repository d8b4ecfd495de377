#include "pipeline/runtime/slurm_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "pipeline/slurm/array_indices.h"

namespace sagebox::pipeline::runtime {

using Clock = std::chrono::steady_clock;

struct SlurmJobExecutor::Batch {
  enum class Phase { kGathering, kSubmitting, kSubmitted, kFailed };
  std::string key;
  int64_t expected = 1;
  std::string previous;  // a retry batch: the key of the attempt before

  int64_t max_concurrency = 0;
  std::map<int64_t, ExecutorJob> members;  // by index
  Clock::time_point first_arrival;
  Clock::time_point last_arrival;
  Phase phase = Phase::kGathering;
  Status submit_error;
  int64_t job_id = 0;
  // The last status read, and the polling that serves every member.
  std::optional<slurm::ArrayStatus> status;
  bool polling = false;
  Clock::time_point next_poll;
  uint64_t generation = 0;  // how many status reads succeeded
  int status_errors = 0;
  Status last_status_error;
};

// Status reads in a row that may miss a task before it counts as gone: squeue lists a new
// array's pending tasks at once, so a task missing from several reads has left Slurm.
constexpr int kMissingReads = 5;

SlurmJobExecutor::SlurmJobExecutor(slurm::SlurmClient* client, SlurmExecutorOptions options)
    : client_(client), options_(std::move(options)) {}

std::vector<std::string> SlurmJobExecutor::submitted() const {
  std::lock_guard lock(mu_);
  return submitted_;
}

void SlurmJobExecutor::Submit(std::unique_lock<std::mutex>& lock,
                              const std::shared_ptr<Batch>& batch) {
  batch->phase = Batch::Phase::kSubmitting;
  gathering_.erase(batch->key);  // later arrivals form a new batch
  slurm::ArraySubmission sub;
  std::vector<int> indices;
  std::optional<int64_t> longest = int64_t{0};
  for (const auto& [index, job] : batch->members) {
    std::vector<std::string> argv = options_.exec_command;
    argv.emplace_back(sagemaker::KindName(job.kind));
    argv.push_back(job.name);
    sub.argv_per_index.emplace_back(static_cast<int>(index), std::move(argv));
    indices.push_back(static_cast<int>(index));
    if (!job.max_runtime_seconds) longest.reset();
    if (longest) longest = std::max(*longest, *job.max_runtime_seconds);
  }
  sub.max_concurrency = static_cast<int>(batch->max_concurrency);
  sub.job_name = options_.job_name;
  sub.working_dir = options_.working_dir;
  if (!options_.log_dir.empty()) {
    sub.stdout_path = options_.log_dir + "/slurm-%A_%a.out";
    sub.stderr_path = sub.stdout_path;
  }
  sub.partition = options_.partition;
  sub.account = options_.account;
  // A backstop only: `job exec` enforces MaxRuntimeInSeconds itself and then needs time to
  // stop the job (SIGTERM, grace) and record it.
  if (longest) sub.time_limit = std::chrono::seconds(*longest + 300);
  // fmt, not "%" + std::to_string(...): GCC 12's -O3 -Wrestrict misfires on literal + temporary.
  const std::string spec =
      batch->max_concurrency > 0
          ? fmt::format("{}%{}", slurm::CompressIndices(indices), batch->max_concurrency)
          : slurm::CompressIndices(indices);
  lock.unlock();
  auto id = client_->SubmitArray(sub);
  lock.lock();
  if (!id.ok()) {
    batch->phase = Batch::Phase::kFailed;
    batch->submit_error = id.status();
  } else {
    batch->phase = Batch::Phase::kSubmitted;
    batch->job_id = *id;
    batch->next_poll = Clock::now();
    submitted_.push_back(fmt::format("{} [{}]", *id, spec));
  }
  cv_.notify_all();
  if (options_.progress) {
    options_.progress(id.ok() ? fmt::format("slurm: array {} [{}] for {}", *id, spec, batch->key)
                              : "slurm: sbatch failed for " + batch->key + ": " +
                                    id.status().message());
  }
}

StatusOr<std::string> SlurmJobExecutor::Run(const ExecutorJob& job, engine::CancelToken& cancel) {
  // Wakes this task's waits when it is cancelled (registered unlocked: it may run at once).
  const uint64_t handle = cancel.OnCancel([this] {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  });
  struct Unregister {
    engine::CancelToken& token;
    uint64_t handle;
    ~Unregister() { token.Unregister(handle); }
  } unregister{cancel, handle};

  std::unique_lock lock(mu_);
  const std::string key = job.batch + "#" + std::to_string(job.attempt);
  std::shared_ptr<Batch> batch;
  if (auto it = gathering_.find(key); it != gathering_.end()) {
    batch = it->second;
  } else {
    batch = std::make_shared<Batch>();
    batch->key = key;
    batch->expected = std::max<int64_t>(1, job.batch_size);
    const std::string previous = job.batch + "#" + std::to_string(job.attempt - 1);
    if (job.attempt > 1 && tallies_.count(previous) != 0) batch->previous = previous;
    batch->max_concurrency = job.max_concurrency;
    batch->first_arrival = Clock::now();
    gathering_[key] = batch;
  }
  if (batch->members.count(job.index) != 0) {
    return InvalidArgument(
        fmt::format("index {} of batch {} was given twice", job.index, job.batch));
  }
  batch->members[job.index] = job;
  batch->last_arrival = Clock::now();
  ++tallies_[key].outstanding;
  // Every return below holds `lock`; this runs before it is released.
  struct Leave {
    Tally& tally;
    std::condition_variable& cv;
    ~Leave() {
      --tally.outstanding;
      cv.notify_all();  // a retry batch may be waiting for this attempt to end
    }
  } leave{tallies_[key], cv_};
  cv_.notify_all();
  auto complete = [&] {
    const auto members = static_cast<int64_t>(batch->members.size());
    if (batch->previous.empty()) return members >= batch->expected;
    const Tally& before = tallies_[batch->previous];
    return before.outstanding == 0 && members >= before.failures;
  };

  // Gathering: whoever sees the batch complete, or the window over, submits it.
  while (batch->phase == Batch::Phase::kGathering) {
    if (cancel.cancelled()) {
      batch->members.erase(job.index);
      if (batch->members.empty()) gathering_.erase(batch->key);
      return std::string("cancelled before its Slurm array was submitted");
    }
    const auto deadline = batch->previous.empty()
                              ? batch->last_arrival + options_.gather
                              : std::max(batch->last_arrival + options_.gather,
                                         batch->first_arrival + options_.retry_gather);
    if (complete() || Clock::now() >= deadline) {
      Submit(lock, batch);
      break;
    }
    cv_.wait_until(lock, deadline);
  }
  while (batch->phase == Batch::Phase::kSubmitting) cv_.wait(lock);
  if (batch->phase == Batch::Phase::kFailed) return batch->submit_error;

  const std::string task = fmt::format("{}_{}", batch->job_id, job.index);
  bool cancel_sent = false;
  uint64_t cancel_generation = 0;  // the first read after the scancel
  uint64_t seen = 0;               // the last read this task looked at
  int missing = 0;
  while (true) {
    if (batch->status && batch->generation != seen) {
      seen = batch->generation;
      const slurm::TaskStatus* t = batch->status->Find(static_cast<int>(job.index));
      if (t != nullptr && slurm::IsTerminal(t->state)) {
        if (t->state != slurm::TaskState::kCompleted || t->exit_code.value_or(0) != 0) {
          ++tallies_[batch->key].failures;
        }
        std::string how = "Slurm task " + task + " ended " + t->state_name;
        if (t->exit_code) how += fmt::format(" (exit code {})", *t->exit_code);
        if (t->signal != 0) how += fmt::format(" (signal {})", t->signal);
        return how;
      }
      // A cancelled task that never started leaves no record of its own (squeue keeps one
      // CANCELLED record for the array with an empty task list).
      missing = t == nullptr ? missing + 1 : 0;
      if (t == nullptr && cancel_sent && seen >= cancel_generation) {
        return "Slurm task " + task + " was cancelled before it started";
      }
      if (missing >= kMissingReads) {
        return "Slurm task " + task + " is no longer known to Slurm (cancelled outside sagebox?)";
      }
    }
    if (batch->status_errors >= options_.max_status_errors) return batch->last_status_error;
    if (cancel.cancelled() && !cancel_sent) {
      cancel_sent = true;
      lock.unlock();
      const Status s = client_->Cancel(batch->job_id, {static_cast<int>(job.index)});
      lock.lock();
      if (!s.ok() && options_.progress) {
        options_.progress("slurm: scancel " + task + " failed: " + s.message());
      }
      batch->next_poll = Clock::now();  // see the cancel soon
      cancel_generation = batch->generation + (batch->polling ? 2 : 1);
    }
    if (!batch->polling && Clock::now() >= batch->next_poll) {
      batch->polling = true;
      const int64_t id = batch->job_id;
      lock.unlock();
      auto st = client_->Status(id);
      lock.lock();
      batch->polling = false;
      batch->next_poll = Clock::now() + options_.poll;
      if (st.ok()) {
        batch->status = std::move(*st);
        ++batch->generation;
        batch->status_errors = 0;
      } else {
        ++batch->status_errors;
        batch->last_status_error = st.status();
      }
      cv_.notify_all();
      continue;
    }
    cv_.wait_until(lock, std::max(batch->next_poll, Clock::now() + std::chrono::milliseconds(5)));
  }
}

}  // namespace sagebox::pipeline::runtime
