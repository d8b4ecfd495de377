// Step caching: hits, misses, bypass, digests, and no cached failures.
#include "pipeline/engine/cache.h"

#include <gtest/gtest.h>

#include "pipeline/asl/definition.h"
#include "pipeline/engine/engine.h"

namespace sagebox::pipeline::engine {
namespace {

using asl::AslError;
using asl::AslOr;
using nlohmann::json;

class CountingDispatcher : public TaskDispatcher {
 public:
  std::atomic<int> calls{0};
  bool fail = false;
  AslOr<json> Dispatch(const TaskRequest& r) override {
    ++calls;
    if (fail) return AslError{"Job.Failed", "exit 1"};
    return json{{"model", "s3://m/" + r.parameters["algo"].get<std::string>()},
                {"n", calls.load()}};
  }
};

class FixedDigester : public InputDigester {
 public:
  std::string digest = "sha256:aaa";
  bool broken = false;
  StatusOr<std::vector<std::string>> Digests(const TaskRequest&) override {
    if (broken) return IoError("cannot read train.csv");
    return std::vector<std::string>{digest};
  }
};

const char* kSweep = R"J({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.algos",
    "ItemSelector":{"algo.$":"$$.Map.Item.Value"},
    "ItemProcessor":{"StartAt":"Train","States":{"Train":{"Type":"Task",
      "Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync","End":true}}},
    "End":true}}})J";

struct Fixture {
  CountingDispatcher inner;
  InMemoryTaskCache cache;
  FixedDigester digester;
  FakeClock clock;

  ExecutionResult Run(bool bypass) {
    CachingDispatcher d(&inner, &cache, &digester, bypass);
    auto m = asl::ParseDefinition(kSweep);
    EXPECT_TRUE(m.ok());
    auto r = Execute(*m, json{{"algos", {"xgb", "rf"}}}, ExecuteOptions{},
                     Services{&d, &clock, nullptr, nullptr});
    EXPECT_TRUE(r.ok());
    last_hits = d.hits();
    last_misses = d.misses();
    return *r;
  }
  int64_t last_hits = 0;
  int64_t last_misses = 0;
};

TEST(Cache, SecondRunHitsAndGivesTheSameOutput) {
  Fixture f;
  auto first = f.Run(false);
  ASSERT_EQ(first.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(f.last_misses, 2);
  EXPECT_EQ(f.cache.size(), 2U);
  auto second = f.Run(false);
  EXPECT_EQ(f.last_hits, 2);
  EXPECT_EQ(f.last_misses, 0);
  EXPECT_EQ(f.inner.calls.load(), 2);
  EXPECT_EQ(second.output, first.output);
}

TEST(Cache, ChangedDigestOrParametersMiss) {
  Fixture f;
  ASSERT_EQ(f.Run(false).status, ExecutionStatus::kSucceeded);
  f.digester.digest = "sha256:bbb";  // the training data changed
  f.Run(false);
  EXPECT_EQ(f.last_misses, 2);
  EXPECT_EQ(f.inner.calls.load(), 4);
  EXPECT_NE(TaskCacheKey("r", json{{"a", 1}}, {}), TaskCacheKey("r", json{{"a", 2}}, {}));
  // Key order in the parameters does not matter (canonical JSON).
  EXPECT_EQ(TaskCacheKey("r", json::parse(R"({"a":1,"b":2})"), {"d"}),
            TaskCacheKey("r", json::parse(R"({"b":2,"a":1})"), {"d"}));
}

TEST(Cache, BypassRunsAgainAndRefreshes) {
  Fixture f;
  ASSERT_EQ(f.Run(false).status, ExecutionStatus::kSucceeded);
  auto bypassed = f.Run(true);
  EXPECT_EQ(f.last_hits, 0);
  EXPECT_EQ(f.inner.calls.load(), 4);
  auto again = f.Run(false);
  EXPECT_EQ(f.last_hits, 2);
  EXPECT_EQ(again.output, bypassed.output);  // the refreshed results
}

TEST(Cache, FailuresAreNeverStored) {
  Fixture f;
  f.inner.fail = true;
  EXPECT_EQ(f.Run(false).status, ExecutionStatus::kFailed);
  EXPECT_EQ(f.cache.size(), 0U);
  f.inner.fail = false;
  EXPECT_EQ(f.Run(false).status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(f.last_hits, 0);
}

TEST(Cache, AnUnreadableInputMakesTheCallUncacheable) {
  Fixture f;
  f.digester.broken = true;
  EXPECT_EQ(f.Run(false).status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(f.cache.size(), 0U);
}

}  // namespace
}  // namespace sagebox::pipeline::engine
