// model_cache.h: the memory-aware model manager of a multi-model endpoint.
//
// Many models share one memory budget (bytes). A request pins its model with a
// ModelLease; a cold model is loaded on a loader thread (never the caller's),
// concurrent requests for it share that one load, and room is made by unloading
// the least recently used *idle* models, by bytes, not by count. Models are
// opaque: a ModelLoader predicts a model's size, loads it, and the object it
// returns reports its measured size. Triton never unloads on its own, SageMaker
// does not say how it picks, Ray Serve counts models: this is the piece that
// decides, byte-accurately and never under a request in flight.
//
// Unloading a model is destroying the LoadedModel object. The cache owns each
// model alone (std::unique_ptr): a shared reference kept elsewhere would keep
// memory alive that the accounting believes is free. Leases hand out a plain
// reference that is valid until the lease is released.
//
// Thread-safety: ModelCache is safe for concurrent use. One mutex guards the
// bookkeeping; it is never held while a model loads, is predicted or unloads,
// so a slow load of one model does not stall requests for another. A
// ModelLease belongs to one thread at a time and must be released before the
// cache is destroyed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace sagebox::endpoint {

// A loaded model. Destroying it is unloading it (frees its memory).
class LoadedModel {
 public:
  virtual ~LoadedModel() = default;
  // Bytes the model holds now that it is loaded (weights, buffers, executors).
  virtual uint64_t MeasuredBytes() const = 0;
};

// Reads models from wherever they live; injected so tests control sizes,
// latency and failures. Called without the cache's lock, from several threads.
class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // Bytes `name` will need once loaded, known before loading (e.g. from file
  // sizes). NotFound for an unknown model; any other status is passed through.
  virtual StatusOr<uint64_t> Predict(const std::string& name) = 0;
  // Loads `name`. Runs on a loader thread. Any error is reported to every
  // request waiting for this load, and nothing is cached.
  virtual StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& name) = 0;
};

// Microseconds on a monotonic clock; injectable so tests fix durations.
using MicrosClock = std::function<int64_t()>;
int64_t SteadyNowMicros();

class ModelCache;

// Pins one loaded model while a request uses it: a leased model is never
// unloaded. Released by the destructor (or Release()); movable, not copyable.
class ModelLease {
 public:
  ModelLease() = default;
  ModelLease(ModelLease&& other) noexcept;
  ModelLease& operator=(ModelLease&& other) noexcept;
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;
  ~ModelLease() { Release(); }

  bool valid() const { return model_ != nullptr; }
  LoadedModel& model() const { return *model_; }
  const std::string& name() const { return name_; }
  void Release();

 private:
  friend class ModelCache;
  ModelLease(ModelCache* cache, std::string name, LoadedModel* model)
      : cache_(cache), name_(std::move(name)), model_(model) {}

  ModelCache* cache_ = nullptr;
  std::string name_;
  LoadedModel* model_ = nullptr;
};

// How an Acquire failed, for the HTTP layer. Both "not ready" and "no room"
// are kResourceExhausted (a retry later may succeed); the message prefix tells
// them apart, and these helpers are the one place that knows the prefixes.
inline constexpr std::string_view kModelNotReadyPrefix = "ModelNotReadyException: ";
inline constexpr std::string_view kInsufficientMemoryPrefix = "InsufficientMemory: ";
inline constexpr std::string_view kModelTooLargePrefix = "ModelTooLarge: ";
// The model is still loading after the wait budget; the load goes on and a
// later Acquire picks it up. HTTP: 429 ModelNotReadyException.
bool IsModelNotReady(const Status& s);
// Every other model is pinned by requests in flight, so the model cannot fit
// before the deadline. HTTP: 507 on the MME container contract, else 429.
bool IsInsufficientMemory(const Status& s);
// The model's predicted size is more than the whole budget, so no eviction can
// make room: InvalidArgument (a retry never helps). HTTP: 507 on the MME
// contract and KServe, a 424 ModelError with OriginalStatusCode 507 on
// SageMaker Runtime.
bool IsModelTooLarge(const Status& s);

enum class ModelState { kLoading, kLoaded, kUnloaded };
std::string_view ModelStateName(ModelState s);

// One model's counters; kept after it is unloaded so hit ratios survive.
struct ModelStats {
  std::string name;
  ModelState state = ModelState::kUnloaded;
  uint64_t predicted_bytes = 0;  // last prediction
  uint64_t bytes = 0;            // accounted now: predicted while loading, measured after
  uint64_t hits = 0;             // Acquires that found it loaded
  uint64_t misses = 0;           // Acquires that had to wait for (or start) a load
  uint64_t loads = 0;            // successful loads
  uint64_t load_failures = 0;
  uint64_t evictions = 0;  // unloads to make room (not explicit Unload calls)
  uint64_t unloads = 0;    // every unload, evictions included
  int64_t last_use_us = 0;
  int64_t last_load_us = 0;  // duration of the last successful load
  int in_flight = 0;         // leases held now
  bool unload_requested = false;
};

// Totals with SageMaker MME's metric names where one exists.
struct CacheStats {
  uint64_t budget_bytes = 0;
  uint64_t used_bytes = 0;    // loaded (measured) + loading (predicted) + unloading
  uint64_t loaded_count = 0;  // LoadedModelCount
  uint64_t hits = 0;          // ModelCacheHit = hits / (hits + misses)
  uint64_t misses = 0;
  uint64_t loads = 0;
  uint64_t load_failures = 0;
  uint64_t evictions = 0;
  uint64_t unloads = 0;
  int64_t loading_wait_us_total = 0;  // ModelLoadingWaitTime, summed over misses
  int64_t loading_us_total = 0;       // ModelLoadingTime, summed over loads
  int64_t unloading_us_total = 0;     // ModelUnloadingTime, summed over unloads
  // Measured bytes above prediction that could not be evicted back under the
  // budget (everything else pinned): how often, and the largest excess seen.
  uint64_t overshoots = 0;
  uint64_t max_overshoot_bytes = 0;
  std::vector<ModelStats> models;  // sorted by name
};

class ModelCache {
 public:
  struct Options {
    uint64_t memory_budget_bytes = 0;
    int loader_threads = 1;
    // How long an Acquire waits for a load (or for room) before giving up;
    // SageMaker's default is 60 s.
    std::chrono::milliseconds wait_budget{60'000};
    // Times the stats (load, unload and wait durations, last use). Waits for a
    // deadline use std::chrono::steady_clock: a condition variable needs real time.
    MicrosClock clock;  // empty: SteadyNowMicros
  };

  // `loader` must outlive the cache.
  ModelCache(Options options, ModelLoader* loader);
  // Stops taking jobs, lets each loader thread finish the load it is running
  // and joins them; queued loads never start and their waiters get Internal.
  // Every lease must have been released.
  ~ModelCache();
  ModelCache(const ModelCache&) = delete;
  ModelCache& operator=(const ModelCache&) = delete;

  // A lease on `name`, loading it first if needed. Waits until the earlier of
  // `deadline` and now + wait_budget. Fails with: the loader's status from
  // Predict or Load (a failed load is not cached; the next Acquire retries);
  // InvalidArgument when the prediction exceeds the whole budget;
  // IsModelNotReady when the load is still running at the limit;
  // IsInsufficientMemory when leased models leave no room by the limit;
  // Internal when the cache is shutting down.
  StatusOr<ModelLease> Acquire(const std::string& name,
                               std::chrono::steady_clock::time_point deadline);

  // Unloads `name`. An idle loaded model is destroyed before this returns (on
  // this thread, outside the lock). A model in use or still loading is marked
  // and unloaded as soon as it is idle (by a loader thread), so requests in
  // flight finish. NotFound when the model is neither loaded nor loading.
  Status Unload(const std::string& name);

  CacheStats Stats() const;

 private:
  friend class ModelLease;
  struct Flight;
  struct Entry;
  struct Retired {
    std::string name;
    std::unique_ptr<LoadedModel> model;
    uint64_t bytes = 0;
    bool eviction = false;
  };

  void LoaderMain();
  void RunLoad(const std::string& name, const std::shared_ptr<Flight>& flight);
  void ReleaseLease(const std::string& name);
  // Under mu_: removes an idle loaded entry; its bytes stay in used_ until
  // FinishUnloads subtracts them after the model is destroyed.
  Retired RetireLocked(const std::string& name, bool eviction);
  // Under mu_: retires idle LRU models, except `keep`, until `need` more bytes
  // fit (counting bytes already being unloaded as about to be free). Unless
  // `partial`, retires nothing when even every idle model would not do.
  std::vector<Retired> EvictForLocked(uint64_t need, const std::string& keep, bool partial);
  // Without mu_: destroys the models, then takes mu_ to release their bytes.
  void FinishUnloads(std::vector<Retired> retired);
  void PostLocked(std::function<void()> job);
  int64_t Now() const { return clock_(); }

  const Options options_;
  ModelLoader* const loader_;
  const MicrosClock clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // any state change: load done, lease released, unload done
  std::condition_variable jobs_cv_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::list<std::string> lru_;  // loaded models, least recently used first
  std::map<std::string, ModelStats> stats_;
  std::deque<std::function<void()>> jobs_;
  uint64_t used_ = 0;       // every byte accounted, unloading included
  uint64_t unloading_ = 0;  // part of used_ whose models are being destroyed
  CacheStats totals_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sagebox::endpoint
