// batcher.h: runs a loaded model's requests on its instances, batching them as
// config.pbtxt's `dynamic_batching` says.
//
// A model has instance_group.count ModelInstances; each gets one worker thread
// that takes the oldest queued requests and calls Execute on them. Without
// `dynamic_batching` a worker takes one request at a time (Triton's default
// scheduler). With it, a worker waits up to max_queue_delay_microseconds for
// the queue to fill a batch: it stops at the largest preferred_batch_size
// reached (or at max_batch_size when none is given), so a lone request waits at
// most the configured delay and a burst runs as one forward pass.
//
// Thread-safety: Submit and Stats may be called from many threads. The
// destructor waits for the batch each worker is running, then fails requests
// still queued with Internal; callers keep the model leased (ModelCache) while
// they wait, so a model is only destroyed when nobody waits on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "endpoint/backend.h"
#include "endpoint/model_config.h"
#include "endpoint/tensor.h"

namespace sagebox::endpoint {

// One model's serving counters. They outlive a load (the serving layer keeps
// one per model and hands it to each Batcher), so hit ratios, latencies and
// busy time survive eviction and reload.
class ModelCounters {
 public:
  // Keeps the newest latency samples (a ring) for percentiles.
  static constexpr size_t kLatencySamples = 4096;
  // Batch sizes above this are counted in the last slot of the histogram.
  static constexpr size_t kMaxBatchSlots = 64;

  struct Snapshot {
    uint64_t requests = 0;    // completed, successfully or not
    uint64_t errors = 0;      // completed with an error status
    int64_t queue_depth = 0;  // submitted and not yet taken by an instance
    uint64_t batches = 0;     // Execute calls
    int64_t busy_us = 0;      // time inside Execute, summed over instances
    // batch_sizes[k] = batches of k+1 requests.
    std::vector<uint64_t> batch_sizes;
    // Submit to response, microseconds, the newest kLatencySamples requests.
    std::vector<int64_t> latency_us;
  };

  // One Execute of `batch` requests that took `busy_us`, with each request's
  // latency and `errors` of them failed.
  void RecordBatch(const std::vector<int64_t>& latencies_us, int64_t busy_us, uint64_t errors);
  Snapshot Get() const;
  void AddQueued(int64_t delta);

 private:
  mutable std::mutex mu_;
  Snapshot s_;
  size_t next_ = 0;
};

// The value at quantile q (0..1) of `samples` (nearest rank); 0 when empty.
int64_t Percentile(std::vector<int64_t> samples, double q);

class Batcher {
 public:
  // Takes ownership of the instances (at least one) and starts a worker each.
  // `counters` (not null) receives every batch.
  Batcher(const ModelConfig& config, std::vector<std::unique_ptr<ModelInstance>> instances,
          std::shared_ptr<ModelCounters> counters);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues a request (already validated against the config) and returns its
  // result: what the instance returned, or Internal if the batcher stopped first.
  std::future<StatusOr<InferResponse>> Submit(InferRequest request);

  uint64_t MeasuredBytes() const;
  size_t QueueDepth() const;
  int max_batch() const { return max_batch_; }

 private:
  struct Pending {
    InferRequest request;
    std::promise<StatusOr<InferResponse>> promise;
    std::chrono::steady_clock::time_point queued;
  };
  void Worker(ModelInstance* instance);
  // Under mu_: how many queued requests the next batch takes now (0 = wait more),
  // and until when the worker may wait for more.
  size_t TakeableLocked(std::chrono::steady_clock::time_point now,
                        std::chrono::steady_clock::time_point* wait_until) const;

  const int max_batch_;  // >= 1
  const bool dynamic_;
  const std::vector<int32_t> preferred_;  // ascending, each in [1, max_batch_]
  const std::chrono::microseconds max_delay_;
  std::vector<std::unique_ptr<ModelInstance>> instances_;
  const std::shared_ptr<ModelCounters> counters_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace sagebox::endpoint
