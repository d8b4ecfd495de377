#include "endpoint/batcher.h"

#include <algorithm>
#include <cmath>

namespace sagebox::endpoint {

namespace {

std::vector<int32_t> Preferred(const ModelConfig& c, int max_batch) {
  std::vector<int32_t> p;
  if (c.dynamic_batching) {
    for (int32_t v : c.dynamic_batching->preferred_batch_size) {
      if (v >= 1 && v <= max_batch) p.push_back(v);
    }
  }
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  return p;
}

}  // namespace

void ModelCounters::RecordBatch(const std::vector<int64_t>& latencies_us, int64_t busy_us,
                                uint64_t errors) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latencies_us.empty()) return;
  ++s_.batches;
  s_.requests += latencies_us.size();
  s_.errors += errors;
  s_.busy_us += busy_us;
  if (s_.batch_sizes.empty()) s_.batch_sizes.assign(kMaxBatchSlots, 0);
  s_.batch_sizes[std::min(latencies_us.size(), kMaxBatchSlots) - 1]++;
  for (int64_t us : latencies_us) {
    if (s_.latency_us.size() < kLatencySamples) {
      s_.latency_us.push_back(us);
    } else {
      s_.latency_us[next_] = us;
    }
    next_ = (next_ + 1) % kLatencySamples;
  }
}

void ModelCounters::AddQueued(int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  s_.queue_depth += delta;
}

ModelCounters::Snapshot ModelCounters::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot s = s_;
  if (s.batch_sizes.empty()) s.batch_sizes.assign(kMaxBatchSlots, 0);
  return s;
}

int64_t Percentile(std::vector<int64_t> samples, double q) {
  if (samples.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  size_t k = rank == 0 ? 0 : rank - 1;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k),
                   samples.end());
  return samples[k];
}

Batcher::Batcher(const ModelConfig& config, std::vector<std::unique_ptr<ModelInstance>> instances,
                 std::shared_ptr<ModelCounters> counters)
    : max_batch_(std::max(1, config.max_batch_size)),
      dynamic_(config.dynamic_batching.has_value() && config.max_batch_size > 0),
      preferred_(Preferred(config, std::max(1, config.max_batch_size))),
      max_delay_(config.dynamic_batching
                     ? static_cast<int64_t>(config.dynamic_batching->max_queue_delay_microseconds)
                     : 0),
      instances_(std::move(instances)),
      counters_(std::move(counters)) {
  workers_.reserve(instances_.size());
  for (auto& inst : instances_) {
    workers_.emplace_back([this, p = inst.get()] { Worker(p); });
  }
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  counters_->AddQueued(-static_cast<int64_t>(queue_.size()));
  for (auto& p : queue_) p->promise.set_value(Internal("the model was unloaded before it ran"));
}

std::future<StatusOr<InferResponse>> Batcher::Submit(InferRequest request) {
  auto p = std::make_unique<Pending>();
  p->request = std::move(request);
  p->queued = std::chrono::steady_clock::now();
  auto fut = p->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      p->promise.set_value(Internal("the model is unloading"));
      return fut;
    }
    queue_.push_back(std::move(p));
    counters_->AddQueued(1);
  }
  // Every worker re-checks: one may now have a full batch, another a deadline.
  cv_.notify_all();
  return fut;
}

size_t Batcher::TakeableLocked(std::chrono::steady_clock::time_point now,
                               std::chrono::steady_clock::time_point* wait_until) const {
  const size_t n = queue_.size();
  if (n == 0) return 0;
  if (!dynamic_) return 1;
  const auto limit = static_cast<size_t>(max_batch_);
  if (n >= limit) return limit;
  // A preferred size reached and nothing larger preferred can be had now: go.
  if (!preferred_.empty() && n >= static_cast<size_t>(preferred_.back())) {
    return static_cast<size_t>(preferred_.back());
  }
  const auto deadline = queue_.front()->queued + max_delay_;
  if (now >= deadline) {
    // Out of time: the largest preferred size that fits, else all there is.
    for (auto it = preferred_.rbegin(); it != preferred_.rend(); ++it) {
      if (static_cast<size_t>(*it) <= n) return static_cast<size_t>(*it);
    }
    return n;
  }
  *wait_until = deadline;
  return 0;
}

void Batcher::Worker(ModelInstance* instance) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto until = std::chrono::steady_clock::time_point::max();
    size_t take = 0;
    while (!stopping_ && (take = TakeableLocked(std::chrono::steady_clock::now(), &until)) == 0) {
      if (until == std::chrono::steady_clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, until);
        until = std::chrono::steady_clock::time_point::max();
      }
    }
    if (stopping_) return;
    std::vector<std::unique_ptr<Pending>> batch;
    batch.reserve(take);
    for (size_t i = 0; i < take; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    counters_->AddQueued(-static_cast<int64_t>(take));
    lock.unlock();
    std::vector<const InferRequest*> reqs;
    reqs.reserve(batch.size());
    for (auto& p : batch) reqs.push_back(&p->request);
    const auto start = std::chrono::steady_clock::now();
    std::vector<StatusOr<InferResponse>> out = instance->Execute(reqs);
    const auto done = std::chrono::steady_clock::now();
    std::vector<int64_t> latencies;
    latencies.reserve(batch.size());
    uint64_t errors = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      latencies.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(done - batch[i]->queued).count());
      if (i >= out.size() || !out[i].ok()) ++errors;
    }
    counters_->RecordBatch(
        latencies, std::chrono::duration_cast<std::chrono::microseconds>(done - start).count(),
        errors);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i < out.size()) {
        batch[i]->promise.set_value(std::move(out[i]));
      } else {
        batch[i]->promise.set_value(Internal("the backend returned " + std::to_string(out.size()) +
                                             " responses for " + std::to_string(batch.size()) +
                                             " requests"));
      }
    }
    lock.lock();
  }
}

uint64_t Batcher::MeasuredBytes() const {
  uint64_t total = 0;
  for (const auto& inst : instances_) total += inst->MeasuredBytes();
  return total;
}

size_t Batcher::QueueDepth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace sagebox::endpoint
