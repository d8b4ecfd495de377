#include "endpoint/model_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sagebox::endpoint {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class FakeLoader;

// A model that knows whether a request is using it: destroying it while
// pinned is exactly the bug the cache must never have.
class FakeModel : public LoadedModel {
 public:
  FakeModel(FakeLoader* loader, std::string name, uint64_t bytes);
  ~FakeModel() override;
  uint64_t MeasuredBytes() const override { return bytes_; }
  const std::string& name() const { return name_; }
  std::atomic<int> pins{0};

 private:
  FakeLoader* loader_;
  std::string name_;
  uint64_t bytes_;
};

// Sizes, latches, failures and counters under the test's control.
class FakeLoader : public ModelLoader {
 public:
  void Set(const std::string& name, uint64_t predicted, uint64_t measured = 0) {
    std::lock_guard lock(mu_);
    specs_[name] = {predicted, measured == 0 ? predicted : measured};
  }
  // Loads of `name` wait until Open(name).
  void Block(const std::string& name) {
    std::lock_guard lock(mu_);
    blocked_.insert(name);
  }
  void Open(const std::string& name) {
    std::lock_guard lock(mu_);
    blocked_.erase(name);
    cv_.notify_all();
  }
  void FailNext(const std::string& name, Status s) {
    std::lock_guard lock(mu_);
    fail_.insert_or_assign(name, std::move(s));
  }
  // Waits until a load of `name` has started (it may be blocked).
  bool WaitStarted(const std::string& name) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return started_.count(name) > 0; });
  }
  int Loads(const std::string& name) {
    std::lock_guard lock(mu_);
    return loads_[name];
  }
  std::thread::id LoadThread() {
    std::lock_guard lock(mu_);
    return load_thread_;
  }
  void SetLoadDelay(std::chrono::microseconds d) { delay_ = d; }
  void SetClock(std::atomic<int64_t>* clock, int64_t advance_us) {
    clock_ = clock;
    advance_us_ = advance_us;
  }

  StatusOr<uint64_t> Predict(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = specs_.find(name);
    if (it == specs_.end()) return NotFound("no model " + name);
    return it->second.first;
  }

  StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& name) override {
    uint64_t measured = 0;
    {
      std::unique_lock lock(mu_);
      ++loads_[name];
      started_.insert(name);
      load_thread_ = std::this_thread::get_id();
      cv_.notify_all();
      cv_.wait(lock, [&] { return blocked_.count(name) == 0; });
      started_.erase(name);
      auto f = fail_.find(name);
      if (f != fail_.end()) {
        Status s = f->second;
        fail_.erase(f);
        return s;
      }
      measured = specs_.at(name).second;
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (clock_ != nullptr) *clock_ += advance_us_;
    return std::unique_ptr<LoadedModel>(std::make_unique<FakeModel>(this, name, measured));
  }

  std::atomic<int64_t> live_bytes{0};
  std::atomic<int64_t> max_live_bytes{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> destroyed_while_pinned{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> specs_;
  std::set<std::string> blocked_;
  std::set<std::string> started_;
  std::map<std::string, Status> fail_;
  std::map<std::string, int> loads_;
  std::thread::id load_thread_;
  std::chrono::microseconds delay_{0};
  std::atomic<int64_t>* clock_ = nullptr;
  int64_t advance_us_ = 0;
};

FakeModel::FakeModel(FakeLoader* loader, std::string name, uint64_t bytes)
    : loader_(loader), name_(std::move(name)), bytes_(bytes) {
  const int64_t live = loader_->live_bytes += static_cast<int64_t>(bytes_);
  int64_t seen = loader_->max_live_bytes.load();
  while (live > seen && !loader_->max_live_bytes.compare_exchange_weak(seen, live)) {
  }
}

FakeModel::~FakeModel() {
  if (pins.load() != 0) ++loader_->destroyed_while_pinned;
  loader_->live_bytes -= static_cast<int64_t>(bytes_);
  ++loader_->destroyed;
}

ModelCache::Options Opts(uint64_t budget, std::chrono::milliseconds wait = 5000ms) {
  ModelCache::Options o;
  o.memory_budget_bytes = budget;
  o.loader_threads = 2;
  o.wait_budget = wait;
  return o;
}

Clock::time_point Soon(std::chrono::milliseconds d = 5000ms) { return Clock::now() + d; }

const ModelStats* Find(const CacheStats& s, const std::string& name) {
  for (const auto& m : s.models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

ModelState StateOf(const ModelCache& c, const std::string& name) {
  CacheStats s = c.Stats();
  const ModelStats* m = Find(s, name);
  return m == nullptr ? ModelState::kUnloaded : m->state;
}

// Polls `pred` for up to 5 s; background work (loads, deferred unloads) ends
// on other threads.
template <typename Pred>
bool Eventually(Pred pred) {
  const auto end = Clock::now() + 5s;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// Acquires and releases at once: loads the model and makes it most recent.
void Touch(ModelCache& c, const std::string& name) {
  auto lease = c.Acquire(name, Soon());
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
}

TEST(ModelCacheTest, MissThenHitAndLoadsOnLoaderThread) {
  FakeLoader loader;
  loader.Set("a", 4);
  ModelCache cache(Opts(10), &loader);
  {
    auto lease = cache.Acquire("a", Soon());
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    EXPECT_EQ(lease->name(), "a");
    EXPECT_EQ(dynamic_cast<FakeModel&>(lease->model()).name(), "a");
    EXPECT_NE(loader.LoadThread(), std::this_thread::get_id());
    EXPECT_EQ(cache.Stats().models.at(0).in_flight, 1);
  }
  Touch(cache, "a");
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.loaded_count, 1u);
  EXPECT_EQ(s.used_bytes, 4u);
  EXPECT_EQ(s.budget_bytes, 10u);
  EXPECT_EQ(s.models.at(0).in_flight, 0);
  EXPECT_EQ(loader.Loads("a"), 1);
  auto unknown = cache.Acquire("nope", Soon());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

// Eviction counts bytes, not models, and takes the least recently used first.
TEST(ModelCacheTest, EvictsLeastRecentlyUsedByBytes) {
  FakeLoader loader;
  loader.Set("big", 6);
  loader.Set("b", 3);
  loader.Set("c", 3);
  loader.Set("d", 4);
  ModelCache cache(Opts(10), &loader);
  Touch(cache, "b");
  Touch(cache, "c");
  Touch(cache, "d");  // 10 of 10
  Touch(cache, "b");  // b is now the most recent: LRU order c, d, b
  Touch(cache, "big");
  // One model out would do by count; by bytes c (3) then d (4) must go.
  EXPECT_EQ(StateOf(cache, "c"), ModelState::kUnloaded);
  EXPECT_EQ(StateOf(cache, "d"), ModelState::kUnloaded);
  EXPECT_EQ(StateOf(cache, "b"), ModelState::kLoaded);
  EXPECT_EQ(StateOf(cache, "big"), ModelState::kLoaded);
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.used_bytes, 9u);
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.unloads, 2u);
  EXPECT_EQ(loader.live_bytes.load(), 9);
  EXPECT_LE(loader.max_live_bytes.load(), 10);
}

TEST(ModelCacheTest, SmallModelsGiveWayOnlyAsFarAsNeeded) {
  FakeLoader loader;
  loader.Set("six", 6);
  loader.Set("x", 3);
  loader.Set("y", 3);
  ModelCache cache(Opts(8), &loader);
  Touch(cache, "x");
  Touch(cache, "y");
  Touch(cache, "six");  // 6 + 6 > 8 and 6 + 3 > 8: both small ones go
  EXPECT_EQ(StateOf(cache, "x"), ModelState::kUnloaded);
  EXPECT_EQ(StateOf(cache, "y"), ModelState::kUnloaded);
  EXPECT_EQ(cache.Stats().used_bytes, 6u);
}

TEST(ModelCacheTest, LeasedModelIsNeverEvicted) {
  FakeLoader loader;
  for (const char* n : {"a", "b", "c", "d", "e"}) loader.Set(n, n[0] == 'a' ? 4 : 3);
  ModelCache cache(Opts(10), &loader);
  auto a = cache.Acquire("a", Soon());  // the least recent, but leased
  ASSERT_TRUE(a.ok());
  Touch(cache, "b");
  Touch(cache, "c");  // 10 of 10
  auto d = cache.Acquire("d", Soon());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(StateOf(cache, "a"), ModelState::kLoaded);  // skipped
  EXPECT_EQ(StateOf(cache, "b"), ModelState::kUnloaded);
  EXPECT_EQ(StateOf(cache, "c"), ModelState::kLoaded);
  auto c = cache.Acquire("c", Soon());
  ASSERT_TRUE(c.ok());
  // Everything is pinned: no room before the deadline, and no load started.
  const auto t0 = Clock::now();
  auto e = cache.Acquire("e", Clock::now() + 100ms);
  EXPECT_TRUE(IsInsufficientMemory(e.status())) << e.status().ToString();
  EXPECT_FALSE(IsModelNotReady(e.status()));
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(loader.Loads("e"), 0);
  EXPECT_EQ(loader.destroyed_while_pinned.load(), 0);
  // A lease released while a request waits for room lets it in.
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    c->Release();
  });
  auto e2 = cache.Acquire("e", Soon());
  releaser.join();
  ASSERT_TRUE(e2.ok()) << e2.status().ToString();
  EXPECT_EQ(StateOf(cache, "c"), ModelState::kUnloaded);
  EXPECT_EQ(StateOf(cache, "a"), ModelState::kLoaded);
  EXPECT_EQ(StateOf(cache, "d"), ModelState::kLoaded);
}

TEST(ModelCacheTest, ConcurrentAcquiresShareOneLoad) {
  FakeLoader loader;
  loader.Set("cold", 5);
  loader.Block("cold");
  ModelCache cache(Opts(10), &loader);
  constexpr int kThreads = 16;
  std::atomic<int> ok{0};
  std::vector<ModelLease> leases(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto lease = cache.Acquire("cold", Soon());
      if (lease.ok()) {
        ++ok;
        leases[i] = std::move(*lease);
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return cache.Stats().misses == kThreads; }));
  loader.Open("cold");
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(loader.Loads("cold"), 1);
  EXPECT_EQ(cache.Stats().models.at(0).in_flight, kThreads);
  leases.clear();
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.models.at(0).in_flight, 0);
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.used_bytes, 5u);
}

TEST(ModelCacheTest, SlowLoadDoesNotBlockAHitOnAnotherModel) {
  FakeLoader loader;
  loader.Set("slow", 3);
  loader.Set("warm", 3);
  ModelCache cache(Opts(10), &loader);
  Touch(cache, "warm");
  loader.Block("slow");
  std::thread waiter([&] {
    auto lease = cache.Acquire("slow", Soon());
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
  });
  ASSERT_TRUE(loader.WaitStarted("slow"));
  const auto t0 = Clock::now();
  auto warm = cache.Acquire("warm", Clock::now() + 1s);
  EXPECT_TRUE(warm.ok()) << warm.status().ToString();
  EXPECT_LT(Clock::now() - t0, 500ms);
  EXPECT_EQ(StateOf(cache, "slow"), ModelState::kLoading);
  CacheStats s = cache.Stats();
  const ModelStats* slow = Find(s, "slow");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->bytes, 3u);  // the prediction is reserved while it loads
  EXPECT_EQ(s.used_bytes, 6u);
  loader.Open("slow");
  waiter.join();
}

TEST(ModelCacheTest, WaitBudgetGivesNotReadyWhileTheLoadGoesOn) {
  FakeLoader loader;
  loader.Set("m", 3);
  loader.Block("m");
  ModelCache cache(Opts(10, 50ms), &loader);
  const auto t0 = Clock::now();
  auto first = cache.Acquire("m", Soon());
  EXPECT_TRUE(IsModelNotReady(first.status())) << first.status().ToString();
  EXPECT_FALSE(IsInsufficientMemory(first.status()));
  EXPECT_EQ(first.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(first.status().message().find("still loading"), std::string::npos);
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(StateOf(cache, "m"), ModelState::kLoading);
  loader.Open("m");
  ASSERT_TRUE(Eventually([&] { return StateOf(cache, "m") == ModelState::kLoaded; }));
  auto later = cache.Acquire("m", Soon());
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(loader.Loads("m"), 1);
}

TEST(ModelCacheTest, ModelLargerThanTheBudgetFailsAtOnce) {
  FakeLoader loader;
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  loader.Set("huge", kGiB * 91 / 10);
  ModelCache cache(Opts(8 * kGiB), &loader);
  auto r = cache.Acquire("huge", Soon());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsModelTooLarge(r.status()));
  EXPECT_FALSE(IsInsufficientMemory(r.status()));
  EXPECT_NE(r.status().message().find("model huge needs 9.1 GiB"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("whole memory budget of 8 GiB"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(loader.Loads("huge"), 0);
}

TEST(ModelCacheTest, FailedLoadReachesEveryWaiterAndIsNotCached) {
  FakeLoader loader;
  loader.Set("bad", 4);
  loader.Block("bad");
  loader.FailNext("bad", IoError("disk on fire"));
  ModelCache cache(Opts(10), &loader);
  constexpr int kThreads = 4;
  std::vector<Status> got(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { got[i] = cache.Acquire("bad", Soon()).status(); });
  }
  ASSERT_TRUE(Eventually([&] { return cache.Stats().misses == kThreads; }));
  loader.Open("bad");
  for (auto& t : threads) t.join();
  for (const Status& s : got) {
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_NE(s.message().find("disk on fire"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("bad"), std::string::npos) << s.ToString();
  }
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.used_bytes, 0u);
  EXPECT_EQ(s.load_failures, 1u);
  EXPECT_EQ(StateOf(cache, "bad"), ModelState::kUnloaded);
  auto retry = cache.Acquire("bad", Soon());
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(loader.Loads("bad"), 2);
}

TEST(ModelCacheTest, MeasuredAbovePredictionEvictsBackUnderBudget) {
  FakeLoader loader;
  loader.Set("a", 3);
  loader.Set("b", 3);
  loader.Set("liar", 3, 6);
  loader.Set("liar2", 1, 3);
  ModelCache cache(Opts(10), &loader);
  Touch(cache, "a");
  Touch(cache, "b");
  auto liar = cache.Acquire("liar", Soon());  // 3 + 3 + 6 = 12: a goes
  ASSERT_TRUE(liar.ok());
  // The loader thread releases a's bytes once a is destroyed, after it woke us.
  ASSERT_TRUE(Eventually([&] { return cache.Stats().used_bytes == 9; }));
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.used_bytes, 9u);
  EXPECT_EQ(Find(s, "liar")->bytes, 6u);
  EXPECT_EQ(StateOf(cache, "a"), ModelState::kUnloaded);
  EXPECT_EQ(s.overshoots, 0u);
  // With everything else pinned the excess stays, and is recorded.
  auto b = cache.Acquire("b", Soon());
  ASSERT_TRUE(b.ok());
  auto liar2 = cache.Acquire("liar2", Soon());  // 9 + 1 fits; measured 9 + 3 = 12
  ASSERT_TRUE(liar2.ok());
  s = cache.Stats();
  EXPECT_EQ(s.used_bytes, 12u);
  EXPECT_EQ(s.overshoots, 1u);
  EXPECT_EQ(s.max_overshoot_bytes, 2u);
  EXPECT_EQ(loader.destroyed_while_pinned.load(), 0);
}

TEST(ModelCacheTest, UnloadIdleNowAndLeasedWhenReleased) {
  FakeLoader loader;
  loader.Set("idle", 2);
  loader.Set("busy", 2);
  ModelCache cache(Opts(10), &loader);
  Touch(cache, "idle");
  ASSERT_TRUE(cache.Unload("idle").ok());
  EXPECT_EQ(loader.destroyed.load(), 1);
  EXPECT_EQ(StateOf(cache, "idle"), ModelState::kUnloaded);
  EXPECT_EQ(cache.Unload("idle").code(), StatusCode::kNotFound);
  auto busy = cache.Acquire("busy", Soon());
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE(cache.Unload("busy").ok());
  EXPECT_EQ(StateOf(cache, "busy"), ModelState::kLoaded);
  EXPECT_EQ(loader.destroyed.load(), 1);
  busy->Release();
  ASSERT_TRUE(Eventually([&] { return loader.destroyed.load() == 2; }));
  ASSERT_TRUE(Eventually([&] { return cache.Stats().used_bytes == 0; }));
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.unloads, 2u);
  EXPECT_EQ(s.evictions, 0u);
}

TEST(ModelCacheTest, DurationsComeFromTheInjectedClock) {
  FakeLoader loader;
  loader.Set("m", 1);
  std::atomic<int64_t> now{1'000'000};
  loader.SetClock(&now, 5000);
  ModelCache::Options o = Opts(10);
  o.clock = [&now] { return now.load(); };
  ModelCache cache(o, &loader);
  Touch(cache, "m");
  CacheStats s = cache.Stats();
  EXPECT_EQ(s.loading_us_total, 5000);
  EXPECT_EQ(s.loading_wait_us_total, 5000);
  EXPECT_EQ(Find(s, "m")->last_load_us, 5000);
  EXPECT_EQ(Find(s, "m")->last_use_us, 1'005'000);
}

TEST(ModelCacheTest, ShutdownWaitsForTheRunningLoad) {
  FakeLoader loader;
  loader.Set("a", 1);
  loader.Set("b", 1);
  loader.Block("a");
  auto cache = std::make_unique<ModelCache>(Opts(10, 20ms), &loader);
  EXPECT_TRUE(IsModelNotReady(cache->Acquire("a", Soon()).status()));
  ASSERT_TRUE(loader.WaitStarted("a"));
  std::thread opener([&] {
    std::this_thread::sleep_for(50ms);
    loader.Open("a");
  });
  cache.reset();  // joins the loader thread once "a" finishes
  opener.join();
  EXPECT_EQ(loader.live_bytes.load(), 0);
}

// Eight threads, skewed choices over three budgets' worth of models.
TEST(ModelCacheTest, StressKeepsBudgetAndNeverUnloadsALeasedModel) {
  FakeLoader loader;
  constexpr uint64_t kBudget = 100;
  constexpr int kModels = 20;
  uint64_t total = 0;
  for (int i = 0; i < kModels; ++i) {
    const uint64_t size = 10 + (i * 7) % 21;  // 10..30
    total += size;
    loader.Set("m" + std::to_string(i), size);
  }
  ASSERT_GE(total, 3 * kBudget);
  loader.SetLoadDelay(200us);
  ModelCache::Options o = Opts(kBudget, 2000ms);
  ModelCache cache(o, &loader);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> busy{0};
  std::atomic<int> bad{0};
  std::atomic<uint64_t> max_used{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t) + 1);
      // Zipf-ish: weight 1/(rank+1).
      std::vector<double> w(kModels);
      for (int i = 0; i < kModels; ++i) w[i] = 1.0 / (i + 1);
      std::discrete_distribution<int> pick(w.begin(), w.end());
      std::uniform_int_distribution<int> hold_us(0, 300);
      while (!stop.load()) {
        const std::string name = "m" + std::to_string(pick(rng));
        auto lease = cache.Acquire(name, Clock::now() + 2s);
        if (!lease.ok()) {
          (IsModelNotReady(lease.status()) || IsInsufficientMemory(lease.status()) ? busy : bad)++;
          continue;
        }
        auto& m = dynamic_cast<FakeModel&>(lease->model());
        ++m.pins;
        if (m.name() != name) ++bad;
        std::this_thread::sleep_for(std::chrono::microseconds(hold_us(rng)));
        --m.pins;
        ++ok;
      }
    });
  }
  std::thread monitor([&] {
    while (!stop.load()) {
      CacheStats s = cache.Stats();
      uint64_t seen = max_used.load();
      while (s.used_bytes > seen && !max_used.compare_exchange_weak(seen, s.used_bytes)) {
      }
      std::this_thread::sleep_for(100us);
    }
  });
  std::this_thread::sleep_for(1500ms);
  stop = true;
  for (auto& t : threads) t.join();
  monitor.join();
  CacheStats s = cache.Stats();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(ok.load(), 1000);
  EXPECT_EQ(loader.destroyed_while_pinned.load(), 0);
  EXPECT_LE(max_used.load(), kBudget);  // sizes are predicted exactly: no overshoot allowed
  EXPECT_LE(loader.max_live_bytes.load(), static_cast<int64_t>(kBudget));
  EXPECT_EQ(s.overshoots, 0u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.hits, 0u);
  uint64_t loaded = 0;
  for (const auto& m : s.models) {
    EXPECT_EQ(m.in_flight, 0) << m.name;
    if (m.state == ModelState::kLoaded) loaded += m.bytes;
  }
  EXPECT_EQ(s.used_bytes, loaded);
  EXPECT_EQ(static_cast<uint64_t>(loader.live_bytes.load()), loaded);
  EXPECT_EQ(s.hits + s.misses, static_cast<uint64_t>(ok.load() + busy.load()));
}

}  // namespace
}  // namespace sagebox::endpoint
