#include "endpoint/model_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "core/bytes.h"

namespace sagebox::endpoint {

namespace {

bool HasPrefix(const Status& s, std::string_view prefix) {
  return s.code() == StatusCode::kResourceExhausted &&
         std::string_view(s.message()).substr(0, prefix.size()) == prefix;
}

}  // namespace

int64_t SteadyNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsModelNotReady(const Status& s) { return HasPrefix(s, kModelNotReadyPrefix); }
bool IsInsufficientMemory(const Status& s) { return HasPrefix(s, kInsufficientMemoryPrefix); }
bool IsModelTooLarge(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument &&
         std::string_view(s.message()).starts_with(kModelTooLargePrefix);
}

std::string_view ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kLoading:
      return "loading";
    case ModelState::kLoaded:
      return "loaded";
    case ModelState::kUnloaded:
      return "unloaded";
  }
  return "unknown";
}

// One load shared by every Acquire that finds the model cold or loading.
struct ModelCache::Flight {
  bool started = false;  // a loader thread took it; shutdown cannot abandon it
  bool done = false;
  Status status;
  // Acquires waiting now. On success the loader grants each of them a lease
  // before waking them, so the fresh model cannot be evicted under them
  // between the wake-up and the moment they run.
  int waiters = 0;
  LoadedModel* model = nullptr;
};

struct ModelCache::Entry {
  ModelState state = ModelState::kLoading;
  uint64_t bytes = 0;  // in used_: predicted while loading, measured once loaded
  std::unique_ptr<LoadedModel> model;
  int leases = 0;
  bool unload_requested = false;
  std::shared_ptr<Flight> flight;        // while loading
  std::list<std::string>::iterator lru;  // while loaded
};

ModelLease::ModelLease(ModelLease&& other) noexcept
    : cache_(std::exchange(other.cache_, nullptr)),
      name_(std::move(other.name_)),
      model_(std::exchange(other.model_, nullptr)) {}

ModelLease& ModelLease::operator=(ModelLease&& other) noexcept {
  if (this != &other) {
    Release();
    cache_ = std::exchange(other.cache_, nullptr);
    name_ = std::move(other.name_);
    model_ = std::exchange(other.model_, nullptr);
  }
  return *this;
}

void ModelLease::Release() {
  if (model_ == nullptr) return;
  model_ = nullptr;
  std::exchange(cache_, nullptr)->ReleaseLease(name_);
}

ModelCache::ModelCache(Options options, ModelLoader* loader)
    : options_(std::move(options)),
      loader_(loader),
      clock_(options_.clock ? options_.clock : MicrosClock(SteadyNowMicros)) {
  totals_.budget_bytes = options_.memory_budget_bytes;
  const int n = std::max(1, options_.loader_threads);
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { LoaderMain(); });
}

ModelCache::~ModelCache() {
  std::deque<std::function<void()>> dropped;  // destroyed after the lock is released
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(jobs_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = *it->second;
      assert(e.leases == 0 && "a ModelLease outlived its ModelCache");
      if (e.state == ModelState::kLoading && !e.flight->started) {
        e.flight->done = true;
        e.flight->status = Internal("model cache shut down before loading " + it->first);
        used_ -= e.bytes;
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    cv_.notify_all();
    jobs_cv_.notify_all();
  }
  for (auto& t : threads_) t.join();
}

void ModelCache::LoaderMain() {
  std::unique_lock lock(mu_);
  for (;;) {
    jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // a deferred unload's models die here, without the lock
    lock.lock();
  }
}

void ModelCache::PostLocked(std::function<void()> job) {
  jobs_.push_back(std::move(job));
  jobs_cv_.notify_one();
}

StatusOr<ModelLease> ModelCache::Acquire(const std::string& name,
                                         std::chrono::steady_clock::time_point deadline) {
  const int64_t start_us = Now();
  const auto limit = std::min(deadline, std::chrono::steady_clock::now() + options_.wait_budget);
  const uint64_t budget = options_.memory_budget_bytes;
  bool missed = false;
  bool predicted = false;
  uint64_t need = 0;
  std::unique_lock lock(mu_);
  auto count_miss = [&] {
    if (missed) return;
    missed = true;
    ++stats_[name].misses;
    ++totals_.misses;
  };
  auto record_wait = [&] {
    if (missed) totals_.loading_wait_us_total += Now() - start_us;
    stats_[name].last_use_us = Now();
  };
  for (;;) {
    if (stopping_) return Internal("model cache is shutting down");
    auto it = entries_.find(name);
    if (it != entries_.end() && it->second->state == ModelState::kLoaded) {
      Entry& e = *it->second;
      ++e.leases;
      lru_.splice(lru_.end(), lru_, e.lru);
      if (!missed) {
        ++stats_[name].hits;
        ++totals_.hits;
      }
      record_wait();
      return ModelLease(this, name, e.model.get());
    }
    if (it != entries_.end()) {  // loading: join the one load
      count_miss();
      const std::shared_ptr<Flight> flight = it->second->flight;
      ++flight->waiters;
      if (!cv_.wait_until(lock, limit, [&] { return flight->done; })) {
        --flight->waiters;  // under mu_, so the loader has not granted us a lease
        return ResourceExhausted(
            fmt::format("{}model {} is still loading after {} ms; the load goes on, retry later",
                        kModelNotReadyPrefix, name, (Now() - start_us) / 1000));
      }
      if (!flight->status.ok()) return flight->status;
      record_wait();
      return ModelLease(this, name, flight->model);  // the loader granted the lease
    }
    // Cold. The prediction may read files: never under the lock.
    if (!predicted) {
      lock.unlock();
      StatusOr<uint64_t> p = loader_->Predict(name);
      lock.lock();
      if (!p.ok()) return p.status();
      predicted = true;
      need = *p;
      continue;  // someone may have started this load meanwhile
    }
    if (need > budget) {
      return InvalidArgument(fmt::format(
          "{}model {} needs {} ({} bytes), more than the whole memory budget of {} ({} "
          "bytes)",
          kModelTooLargePrefix, name, FormatBytes(need), need, FormatBytes(budget), budget));
    }
    count_miss();
    if (used_ + need <= budget) {
      auto e = std::make_unique<Entry>();
      e->bytes = need;
      e->flight = std::make_shared<Flight>();
      used_ += need;
      ModelStats& st = stats_[name];
      st.state = ModelState::kLoading;
      st.predicted_bytes = need;
      st.bytes = need;
      PostLocked([this, name, flight = e->flight] { RunLoad(name, flight); });
      entries_.emplace(name, std::move(e));
      continue;  // wait for it like any other request
    }
    std::vector<Retired> victims = EvictForLocked(need, "", /*partial=*/false);
    if (!victims.empty()) {
      lock.unlock();
      FinishUnloads(std::move(victims));
      lock.lock();
      continue;
    }
    // Everything idle is already gone or being unloaded: wait for leases to be
    // released, unloads to finish or loads to shrink to their measured size.
    if (cv_.wait_until(lock, limit) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= limit) {
      uint64_t pinned = 0;
      for (const auto& [n, e] : entries_) {
        if (e->leases > 0 || e->state == ModelState::kLoading) pinned += e->bytes;
      }
      return ResourceExhausted(fmt::format(
          "{}model {} needs {} but only {} of the {} budget is free; {} is held by models in use "
          "or loading",
          kInsufficientMemoryPrefix, name, FormatBytes(need),
          FormatBytes(budget - std::min(budget, used_)), FormatBytes(budget), FormatBytes(pinned)));
    }
  }
}

void ModelCache::RunLoad(const std::string& name, const std::shared_ptr<Flight>& flight) {
  {
    std::lock_guard lock(mu_);
    if (flight->done) return;  // abandoned by shutdown
    flight->started = true;
  }
  const int64_t t0 = Now();
  StatusOr<std::unique_ptr<LoadedModel>> loaded = loader_->Load(name);
  const uint64_t measured = loaded.ok() && *loaded ? (*loaded)->MeasuredBytes() : 0;
  const int64_t took = Now() - t0;
  std::vector<Retired> victims;
  {
    std::lock_guard lock(mu_);
    Entry& e = *entries_.at(name);  // a started load's entry is removed only here
    ModelStats& st = stats_[name];
    if (loaded.ok() && *loaded == nullptr) loaded = Internal("the loader returned no model");
    if (!loaded.ok()) {
      // Not cached: the next Acquire starts a new load.
      used_ -= e.bytes;
      entries_.erase(name);
      st.state = ModelState::kUnloaded;
      st.bytes = 0;
      ++st.load_failures;
      ++totals_.load_failures;
      flight->status = loaded.status().WithContext("loading model " + name);
    } else {
      used_ = used_ - e.bytes + measured;
      e.bytes = measured;
      e.model = std::move(*loaded);
      e.state = ModelState::kLoaded;
      e.flight.reset();
      e.lru = lru_.insert(lru_.end(), name);
      e.leases += flight->waiters;
      flight->model = e.model.get();
      st.state = ModelState::kLoaded;
      st.bytes = measured;
      st.last_load_us = took;
      ++st.loads;
      ++totals_.loads;
      totals_.loading_us_total += took;
      if (used_ > options_.memory_budget_bytes) {
        // The prediction was low: get back under the budget with idle models,
        // never the ones in use and not the one just loaded.
        victims = EvictForLocked(0, name, /*partial=*/true);
        const uint64_t after = used_ - unloading_;
        if (after > options_.memory_budget_bytes) {
          ++totals_.overshoots;
          totals_.max_overshoot_bytes =
              std::max(totals_.max_overshoot_bytes, after - options_.memory_budget_bytes);
        }
      }
      if (e.unload_requested && e.leases == 0) victims.push_back(RetireLocked(name, false));
    }
    flight->done = true;
    cv_.notify_all();
  }
  FinishUnloads(std::move(victims));
}

void ModelCache::ReleaseLease(const std::string& name) {
  std::lock_guard lock(mu_);
  Entry& e = *entries_.at(name);  // a leased entry is never removed
  assert(e.leases > 0);
  --e.leases;
  stats_[name].last_use_us = Now();
  if (e.leases == 0 && e.unload_requested) {
    // The request thread should not pay for the unload: a loader thread does.
    auto retired = std::make_shared<std::vector<Retired>>();
    retired->push_back(RetireLocked(name, false));
    PostLocked([this, retired] { FinishUnloads(std::move(*retired)); });
  }
  cv_.notify_all();
}

ModelCache::Retired ModelCache::RetireLocked(const std::string& name, bool eviction) {
  auto it = entries_.find(name);
  Entry& e = *it->second;
  assert(e.state == ModelState::kLoaded && e.leases == 0);
  Retired r{name, std::move(e.model), e.bytes, eviction};
  lru_.erase(e.lru);
  entries_.erase(it);
  unloading_ += r.bytes;
  ModelStats& st = stats_[name];
  st.state = ModelState::kUnloaded;
  st.bytes = 0;
  st.unload_requested = false;
  if (eviction) {
    ++st.evictions;
    ++totals_.evictions;
  }
  return r;
}

std::vector<ModelCache::Retired> ModelCache::EvictForLocked(uint64_t need, const std::string& keep,
                                                            bool partial) {
  const uint64_t budget = options_.memory_budget_bytes;
  // Bytes already being unloaded are as good as free: another thread is
  // destroying those models and will wake us when it is done.
  auto fits = [&](uint64_t freed) { return used_ - unloading_ - freed + need <= budget; };
  std::vector<std::string> picked;
  uint64_t freed = 0;
  for (const std::string& n : lru_) {
    if (fits(freed)) break;
    const Entry& e = *entries_.at(n);
    if (e.leases > 0 || n == keep) continue;
    picked.push_back(n);
    freed += e.bytes;
  }
  std::vector<Retired> out;
  // A load that would not fit even with every idle model gone waits for leases
  // instead of unloading models it cannot use the room of.
  if (!partial && !fits(freed)) return out;
  out.reserve(picked.size());
  for (const std::string& n : picked) out.push_back(RetireLocked(n, true));
  return out;
}

void ModelCache::FinishUnloads(std::vector<Retired> retired) {
  for (Retired& r : retired) {
    const int64_t t0 = Now();
    r.model.reset();  // the unload itself
    const int64_t took = Now() - t0;
    std::lock_guard lock(mu_);
    used_ -= r.bytes;
    unloading_ -= r.bytes;
    ++stats_[r.name].unloads;
    ++totals_.unloads;
    totals_.unloading_us_total += took;
    cv_.notify_all();
  }
}

Status ModelCache::Unload(const std::string& name) {
  std::vector<Retired> retired;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return NotFound("model " + name + " is not loaded");
    Entry& e = *it->second;
    if (e.state == ModelState::kLoading || e.leases > 0) {
      e.unload_requested = true;
      stats_[name].unload_requested = true;
      return Status::Ok();
    }
    retired.push_back(RetireLocked(name, false));
  }
  FinishUnloads(std::move(retired));
  return Status::Ok();
}

CacheStats ModelCache::Stats() const {
  std::lock_guard lock(mu_);
  CacheStats out = totals_;
  out.used_bytes = used_;
  out.models.reserve(stats_.size());
  for (const auto& [name, st] : stats_) {
    ModelStats m = st;
    m.name = name;
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      m.in_flight = it->second->leases;
      if (it->second->state == ModelState::kLoaded) ++out.loaded_count;
    }
    out.models.push_back(std::move(m));
  }
  return out;
}

}  // namespace sagebox::endpoint
