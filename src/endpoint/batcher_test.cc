#include "endpoint/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sagebox::endpoint {
namespace {

using namespace std::chrono_literals;

// Echoes each request's id; records batch sizes; can be held at a gate.
class FakeInstance : public ModelInstance {
 public:
  explicit FakeInstance(std::vector<size_t>* sizes, std::mutex* mu, std::atomic<int>* running,
                        std::atomic<int>* max_running)
      : sizes_(sizes), mu_(mu), running_(running), max_running_(max_running) {}
  std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) override {
    int now = ++*running_;
    int seen = max_running_->load();
    while (now > seen && !max_running_->compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard<std::mutex> lock(*mu_);
      sizes_->push_back(batch.size());
    }
    std::this_thread::sleep_for(20ms);
    --*running_;
    std::vector<StatusOr<InferResponse>> out;
    for (const InferRequest* r : batch) {
      if (r->id == "fail") {
        out.emplace_back(Internal("boom"));
        continue;
      }
      InferResponse resp;
      resp.id = r->id;
      out.emplace_back(std::move(resp));
    }
    return out;
  }
  uint64_t MeasuredBytes() const override { return 100; }

 private:
  std::vector<size_t>* sizes_;
  std::mutex* mu_;
  std::atomic<int>* running_;
  std::atomic<int>* max_running_;
};

struct Harness {
  std::vector<size_t> sizes;
  std::mutex mu;
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::shared_ptr<ModelCounters> counters = std::make_shared<ModelCounters>();

  std::unique_ptr<Batcher> Make(const ModelConfig& c, int instances) {
    std::vector<std::unique_ptr<ModelInstance>> v;
    for (int i = 0; i < instances; ++i) {
      v.push_back(std::make_unique<FakeInstance>(&sizes, &mu, &running, &max_running));
    }
    return std::make_unique<Batcher>(c, std::move(v), counters);
  }
  std::vector<size_t> Sizes() {
    std::lock_guard<std::mutex> lock(mu);
    return sizes;
  }
};

InferRequest Req(std::string id) {
  InferRequest r;
  r.id = std::move(id);
  return r;
}

TEST(BatcherTest, WithoutDynamicBatchingRunsOneRequestAtATime) {
  Harness h;
  ModelConfig c;
  c.max_batch_size = 8;
  auto b = h.Make(c, 1);
  std::vector<std::future<StatusOr<InferResponse>>> futs;
  for (int i = 0; i < 5; ++i) futs.push_back(b->Submit(Req(std::to_string(i))));
  for (int i = 0; i < 5; ++i) {
    auto r = futs[static_cast<size_t>(i)].get();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->id, std::to_string(i));  // responses go to their own request
  }
  EXPECT_EQ(h.Sizes(), std::vector<size_t>(5, 1));
  EXPECT_EQ(h.counters->Get().requests, 5u);
  EXPECT_EQ(h.counters->Get().batches, 5u);
}

TEST(BatcherTest, DynamicBatchingGathersABurstIntoOneBatch) {
  Harness h;
  ModelConfig c;
  c.max_batch_size = 8;
  c.dynamic_batching = DynamicBatching{{}, 500'000};  // wait up to 0.5 s for a full batch
  auto b = h.Make(c, 1);
  std::vector<std::future<StatusOr<InferResponse>>> futs;
  for (int i = 0; i < 8; ++i) futs.push_back(b->Submit(Req(std::to_string(i))));
  for (auto& f : futs) ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(h.Sizes(), std::vector<size_t>{8});
  EXPECT_EQ(h.counters->Get().batch_sizes[7], 1u);
}

TEST(BatcherTest, DynamicBatchingStopsAtPreferredSizeAndFlushesTheRestAfterTheDelay) {
  Harness h;
  ModelConfig c;
  c.max_batch_size = 8;
  c.dynamic_batching = DynamicBatching{{4}, 100'000};
  auto b = h.Make(c, 1);
  std::vector<std::future<StatusOr<InferResponse>>> futs;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) futs.push_back(b->Submit(Req(std::to_string(i))));
  for (auto& f : futs) ASSERT_TRUE(f.get().ok());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(h.Sizes(), (std::vector<size_t>{4, 2}));
  EXPECT_GE(took, 100ms);  // the lone pair waited for the queue delay
}

TEST(BatcherTest, ALoneRequestWaitsAtMostTheQueueDelay) {
  Harness h;
  ModelConfig c;
  c.max_batch_size = 8;
  c.dynamic_batching = DynamicBatching{{}, 50'000};
  auto b = h.Make(c, 1);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(b->Submit(Req("x")).get().ok());
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(h.Sizes(), std::vector<size_t>{1});
}

TEST(BatcherTest, InstancesRunConcurrently) {
  Harness h;
  ModelConfig c;
  c.max_batch_size = 0;
  auto b = h.Make(c, 2);
  std::vector<std::future<StatusOr<InferResponse>>> futs;
  for (int i = 0; i < 6; ++i) futs.push_back(b->Submit(Req(std::to_string(i))));
  for (auto& f : futs) ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(h.max_running.load(), 2);
  EXPECT_EQ(b->MeasuredBytes(), 200u);
}

TEST(BatcherTest, ErrorsStayWithTheirRequestAndAreCounted) {
  Harness h;
  ModelConfig c;
  auto b = h.Make(c, 1);
  auto ok = b->Submit(Req("a"));
  auto bad = b->Submit(Req("fail"));
  EXPECT_TRUE(ok.get().ok());
  auto r = bad.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "boom");
  EXPECT_EQ(h.counters->Get().errors, 1u);
}

TEST(BatcherTest, DestroyingFailsQueuedRequests) {
  Harness h;
  ModelConfig c;
  auto b = h.Make(c, 1);
  std::vector<std::future<StatusOr<InferResponse>>> futs;
  for (int i = 0; i < 20; ++i) futs.push_back(b->Submit(Req(std::to_string(i))));
  b.reset();
  int failed = 0;
  for (auto& f : futs) failed += f.get().ok() ? 0 : 1;
  EXPECT_GT(failed, 0);  // 20 x 20 ms cannot all have run
}

TEST(PercentileTest, NearestRank) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= 100; ++i) v.push_back(101 - i);
  EXPECT_EQ(Percentile(v, 0.5), 50);
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile(v, 1.0), 100);
  EXPECT_EQ(Percentile(v, 0.0), 1);
  EXPECT_EQ(Percentile({}, 0.5), 0);
}

}  // namespace
}  // namespace sagebox::endpoint
