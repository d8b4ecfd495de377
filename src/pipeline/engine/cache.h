// cache.h: opt-in step caching. A CachingDispatcher wraps the real TaskDispatcher: a Task whose
// resource, effective parameters and input digests (its input files' and code's hashes, from an
// injected InputDigester) match an earlier success gets that success's result without running.
//
// The key is the hex SHA-256 of the canonical JSON (keys sorted, compact) of
// {"resource": ..., "parameters": ..., "digests": [...]} (the parameters, or what
// set_key_parameters makes of the request). Only successes are stored, never
// failures (a flaky failure must not stick). Bypass (per run) skips the lookup but still stores
// the fresh success, so the next run sees the newest result.
//
// Thread-safety: CachingDispatcher is called concurrently like any dispatcher; TaskCache and
// InputDigester implementations must be thread-safe (InMemoryTaskCache is).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/engine/interfaces.h"

namespace sagebox::pipeline::engine {

// Where cached results live (the integrator's is the database).
class TaskCache {
 public:
  virtual ~TaskCache() = default;
  // The stored result for `key`, or nullopt (also when the store cannot be read: a miss).
  virtual std::optional<nlohmann::json> Get(const std::string& key) = 0;
  // Stores a success; a failure to store only loses the cache entry.
  virtual void Put(const std::string& key, const nlohmann::json& result) = 0;
};

class InMemoryTaskCache final : public TaskCache {
 public:
  std::optional<nlohmann::json> Get(const std::string& key) override;
  void Put(const std::string& key, const nlohmann::json& result) override;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> entries_;
};

// Digests of what a task reads besides its parameters (input files, code). A failure (a file
// that cannot be read) makes the call uncacheable: it runs and is not stored.
class InputDigester {
 public:
  virtual ~InputDigester() = default;
  virtual StatusOr<std::vector<std::string>> Digests(const TaskRequest& request) = 0;
};

// Hex SHA-256 of the canonical {resource, parameters, digests} document.
std::string TaskCacheKey(const std::string& resource, const nlohmann::json& parameters,
                         const std::vector<std::string>& digests);

class CachingDispatcher final : public TaskDispatcher {
 public:
  // `inner` and `cache` must outlive this; `digester` may be null (no extra digests).
  CachingDispatcher(TaskDispatcher* inner, TaskCache* cache, InputDigester* digester = nullptr,
                    bool bypass = false)
      : inner_(inner), cache_(cache), digester_(digester), bypass_(bypass) {}

  asl::AslOr<nlohmann::json> Dispatch(const TaskRequest& request) override;
  // What of a request the key covers instead of its parameters: an integrator drops fields
  // that differ between runs of the same work (a job name made unique per execution), or the
  // cache could never hit. Set before the first Dispatch.
  void set_key_parameters(std::function<nlohmann::json(const TaskRequest&)> fn) {
    key_parameters_ = std::move(fn);
  }

  int64_t hits() const { return hits_.load(); }
  int64_t misses() const { return misses_.load(); }

 private:
  TaskDispatcher* inner_;
  TaskCache* cache_;
  InputDigester* digester_;
  bool bypass_;
  std::function<nlohmann::json(const TaskRequest&)> key_parameters_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace sagebox::pipeline::engine
