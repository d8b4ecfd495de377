// model_server.h: one multi-model endpoint: a model store, the memory-aware
// cache, the backends and a batcher per loaded model, behind one Infer call.
//
// The data path of an invocation (src/README.md walks it):
//   Infer(target) -> ModelCache::Acquire (hit, or one shared load on a loader
//   thread: ModelStore::Fetch extracts the archive, the backend loads
//   instance_group.count instances) -> ValidateInferRequest against the
//   model's config -> the model's Batcher -> ModelInstance::Execute.
// The lease is held until the response is back, so a model is never unloaded
// under a request. Every API (SageMaker Runtime, KServe v2, the MME container
// contract, the CLI) is a thin client of this class.
//
// Sizes: before a load the cache needs a prediction without reading the model
// (it runs on the request thread): the backend's PredictBytes when the model
// folder is already on local disk, else the archive's size on the store, times
// the instance count. After the load the measured bytes replace it.
//
// Thread-safety: safe for concurrent use. The store and the backends must
// outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "endpoint/backend.h"
#include "endpoint/batcher.h"
#include "endpoint/model_cache.h"
#include "endpoint/model_store.h"
#include "endpoint/tensor.h"

namespace sagebox::endpoint {

struct ModelServerOptions {
  std::string endpoint_name = "sagebox";
  uint64_t memory_budget_bytes = 0;  // required, > 0
  int loader_threads = 2;
  std::chrono::milliseconds wait_budget{60'000};  // SageMaker's ModelLoadingWaitTime limit
  MicrosClock clock;                              // empty: SteadyNowMicros
};

// One model as the APIs and the CLI list it: what the store holds, joined with
// what the cache and the batcher know.
struct ModelReport {
  std::string name;   // the TargetModel
  std::string state;  // "unloaded", "loading", "loaded"
  uint64_t store_bytes = 0;
  ModelStats cache;  // bytes, hits, misses, loads, evictions (zero if never used)
  ModelCounters::Snapshot serving;
  uint64_t queue_depth = 0;
  std::string backend;  // "" until first loaded
  int instances = 0;
  int64_t p50_us = 0;
  int64_t p99_us = 0;
};

// Where an Infer failed, so each API can answer in its own shape (SageMaker
// tells a load failure from a request the model refused from a model error).
enum class InferStage { kLoad, kValidate, kExecute };

class ModelServer {
 public:
  // `backends` are matched by ModelConfig::BackendName(). InvalidArgument for a
  // zero memory budget.
  static StatusOr<std::unique_ptr<ModelServer>> Create(ModelServerOptions options,
                                                       ModelStore* store,
                                                       std::vector<Backend*> backends);
  ~ModelServer();

  const std::string& endpoint_name() const { return options_.endpoint_name; }

  // Runs one inference on `target`, loading it first if needed. Fails with:
  // NotFound (no such model in the store); BadInput (a broken archive or
  // config, named); InvalidArgument (the request does not fit the model's
  // config, or the model is larger than the whole budget); the cache's
  // IsModelNotReady / IsInsufficientMemory statuses; any other code for an
  // error inside the model (SageMaker's 424 ModelError).
  // `failed_at` (optional) receives the stage of a failure.
  StatusOr<InferResponse> Infer(const std::string& target, InferRequest request,
                                std::chrono::steady_clock::time_point deadline,
                                InferStage* failed_at = nullptr);

  // Loads `target` now (MME `POST /models`, KServe repository load). AlreadyExists
  // when it is loaded already; else as Infer's loading errors.
  Status Load(const std::string& target, std::chrono::steady_clock::time_point deadline);
  // Whether `target` is loaded now (not loading, not unloaded).
  bool IsLoaded(const std::string& target) const;
  // As ModelCache::Unload.
  Status Unload(const std::string& target);

  // The config of `target`: from memory when it is loaded, else read from the
  // store (extracting an archive if needed). Errors as ModelStore::Fetch.
  StatusOr<ModelSource> Describe(const std::string& target);

  // Every model of the store and every model ever used, sorted by name.
  StatusOr<std::vector<ModelReport>> Models() const;
  CacheStats Cache() const { return cache_->Stats(); }
  ModelStore* store() const { return store_; }

  // Time spent fetching models from the store (extracting archives), summed:
  // SageMaker's ModelDownloadingTime, microseconds.
  int64_t DownloadingMicrosTotal() const;

 private:
  class Loader;
  class ServedModel;
  ModelServer(ModelServerOptions options, ModelStore* store, std::vector<Backend*> backends);
  Backend* FindBackend(const std::string& name) const;
  std::shared_ptr<ModelCounters> CountersFor(const std::string& target);

  const ModelServerOptions options_;
  ModelStore* const store_;
  const std::vector<Backend*> backends_;
  std::unique_ptr<Loader> loader_;
  std::unique_ptr<ModelCache> cache_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelCounters>> counters_;
  // What the last load of each model found: its source, backend and instance count.
  struct Known {
    ModelSource source;
    int instances = 0;
  };
  std::map<std::string, Known> known_;
  int64_t downloading_us_total_ = 0;  // ModelDownloadingTime: store fetch (extraction)
  uint64_t downloads_ = 0;
};

}  // namespace sagebox::endpoint
