// Tests of the ASL engine with a fake dispatcher and a fake clock: nothing sleeps; back-off and
// Wait states are read from the fake clock's record of sleeps.
#include "pipeline/engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "pipeline/asl/definition.h"

namespace sagebox::pipeline::engine {
namespace {

using asl::AslError;
using asl::AslOr;
using nlohmann::json;
namespace fs = std::filesystem;

// Counts dispatches per state key, tracks how many run at once, and answers with `handler`
// (by default the parameters, echoed back).
class FakeDispatcher : public TaskDispatcher {
 public:
  std::function<AslOr<json>(const TaskRequest&)> handler = [](const TaskRequest& r) {
    return AslOr<json>(r.parameters);
  };
  // When > 0, the first calls wait (on a condition variable, bounded) until this many run at
  // once, so a concurrency limit is actually reached rather than hidden by instant tasks.
  int gate = 0;

  AslOr<json> Dispatch(const TaskRequest& r) override {
    {
      std::unique_lock lock(mu_);
      ++calls_[r.state_key];
      requests_.push_back(r);
      ++in_flight_;
      peak_ = std::max(peak_, in_flight_);
      // Open for good once reached: a waiter woken late must not see in_flight_ already
      // lowered by the fast ones and wait out the time-out.
      if (in_flight_ >= gate) gate_open_ = true;
      cv_.notify_all();
      if (gate > 0 && !gate_open_) {
        cv_.wait_for(lock, std::chrono::seconds(5), [&] { return gate_open_; });
        gate_open_ = true;
      }
    }
    AslOr<json> out = handler(r);
    std::lock_guard lock(mu_);
    --in_flight_;
    return out;
  }
  int calls(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(key);
    return it == calls_.end() ? 0 : it->second;
  }
  int total() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [k, v] : calls_) n += v;
    return n;
  }
  int peak() const {
    std::lock_guard lock(mu_);
    return peak_;
  }
  std::vector<TaskRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> calls_;
  std::vector<TaskRequest> requests_;
  int in_flight_ = 0;
  int peak_ = 0;
  bool gate_open_ = false;
};

asl::StateMachine Parse(const std::string& text) {
  auto m = asl::ParseDefinition(text);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : asl::StateMachine{};
}

struct Harness {
  FakeDispatcher dispatcher;
  FakeClock clock;
  SeededRandom random{42};
  MemoryJournal journal;
  ExecuteOptions options;

  ExecutionResult Run(const std::string& definition, const json& input) {
    asl::StateMachine m = Parse(definition);
    Services s{&dispatcher, &clock, &random, &journal};
    auto r = Execute(m, input, options, s);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ExecutionResult{};
  }
};

std::vector<std::string> Types(const ExecutionResult& r) {
  std::vector<std::string> out;
  for (const json& e : r.events) out.push_back(e["type"]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Input and output processing

// "Specifying state output using ResultPath" (developer guide, input-output-resultpath.html):
// the Lambda's "Hello, AWS Step Functions!" placed at $.taskresult beside the input.
TEST(Processing, ResultPathAddsTheResultToTheInput) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest& r) {
    return AslOr<json>("Hello, " + r.parameters["who"].get<std::string>() + "!");
  };
  json input = {{"comment", "This is a test of the input and output of a Task state."},
                {"details", "Default example"},
                {"who", "AWS Step Functions"}};
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:123456789012:function:HelloFunction",
      "ResultPath":"$.taskresult","End":true}}})J",
                 input);
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << r.cause;
  json want = input;
  want["taskresult"] = "Hello, AWS Step Functions!";
  EXPECT_EQ(r.output, want);
}

TEST(Processing, ResultPathNullKeepsTheInputAndDollarReplacesIt) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) { return AslOr<json>(json{{"r", 1}}); };
  json input = {{"a", 1}};
  auto keep = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x",
      "ResultPath":null,"End":true}}})J",
                    input);
  EXPECT_EQ(keep.output, input);
  auto replace = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x",
      "End":true}}})J",
                       input);
  EXPECT_EQ(replace.output, (json{{"r", 1}}));
}

// "Processing input and output" and "InputPath, Parameters and ResultSelector"
// (input-output-inputpath-params.html): InputPath, then Parameters with a path and the context
// object, then the task, ResultSelector, ResultPath and OutputPath, in that order.
TEST(Processing, TheFullOrderOnATask) {
  Harness h;
  h.options.execution_name = "exec-1";
  h.dispatcher.handler = [](const TaskRequest& r) {
    EXPECT_EQ(
        r.parameters,
        (json{{"comment", "Selecting what I care about."},
              {"MyDetails", {{"size", "small"}, {"exists", "in stock"}, {"StaticValue", "foo"}}},
              {"Execution", "exec-1"}}));
    return AslOr<json>(json{
        {"resourceType", "elasticmapreduce"},
        {"resource", "createCluster.sync"},
        {"output",
         {{"SdkHttpMetadata", {{"HttpStatusCode", 200}}}, {"ClusterId", "AKIAIOSFODNN7EXAMPLE"}}}});
  };
  json input = {{"comment", "Example for InputPath"},
                {"product",
                 {{"details", {{"color", "blue"}, {"size", "small"}, {"material", "cotton"}}},
                  {"availability", "in stock"},
                  {"sku", "2317"},
                  {"cost", "$23"}}}};
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x",
      "InputPath":"$.product",
      "Parameters":{"comment":"Selecting what I care about.",
        "MyDetails":{"size.$":"$.details.size","exists.$":"$.availability","StaticValue":"foo"},
        "Execution.$":"$$.Execution.Name"},
      "ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},
      "ResultPath":"$.EMROutput","OutputPath":"$.EMROutput","End":true}}})J",
                 input);
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output,
            (json{{"ClusterId", "AKIAIOSFODNN7EXAMPLE"}, {"ResourceType", "elasticmapreduce"}}));
}

TEST(Processing, InputPathNullGivesAnEmptyObject) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,
      "ResultPath":"$.seen","End":true}}})J",
                 json{{"a", 1}});
  EXPECT_EQ(r.output, (json{{"a", 1}, {"seen", json::object()}}));
}

TEST(Processing, AMissingPathFailsWithStatesRuntime) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope",
      "End":true}}})J",
                 json{{"a", 1}});
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("$.nope"), std::string::npos) << r.cause;
}

// ---------------------------------------------------------------------------------------------
// State types

TEST(States, PassWithResultAndParameters) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"A","States":{
      "A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.fixed","Next":"B"},
      "B":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.fixed.x, 41)"},"End":true}}})J",
                 json::object());
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(r.output, (json{{"sum", 42}}));
}

TEST(States, ChoiceRoutesAndFailsWithNoChoiceMatched) {
  const std::string def = R"J({"StartAt":"C","States":{
      "C":{"Type":"Choice","Choices":[
          {"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"},
          {"And":[{"Variable":"$.n","NumericGreaterThanEquals":0},
                  {"Variable":"$.n","NumericLessThanEquals":10}],"Next":"Small"}]},
      "Big":{"Type":"Pass","Result":"big","End":true},
      "Small":{"Type":"Pass","Result":"small","End":true}}})J";
  Harness h;
  EXPECT_EQ(h.Run(def, json{{"n", 11}}).output, "big");
  EXPECT_EQ(h.Run(def, json{{"n", 3}}).output, "small");
  auto none = h.Run(def, json{{"n", -1}});
  EXPECT_EQ(none.status, ExecutionStatus::kFailed);
  EXPECT_EQ(none.error, "States.NoChoiceMatched");
}

TEST(States, ChoiceDefault) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"C","States":{
      "C":{"Type":"Choice","Choices":[{"Variable":"$.s","StringEquals":"x","Next":"X"}],
           "Default":"D"},
      "X":{"Type":"Succeed"},"D":{"Type":"Pass","Result":"default","End":true}}})J",
                 json{{"s", "y"}});
  EXPECT_EQ(r.output, "default");
}

TEST(States, WaitBySecondsTimestampAndPaths) {
  Harness h;
  const int64_t t0 = h.clock.NowMs();
  auto r = h.Run(R"J({"StartAt":"W1","States":{
      "W1":{"Type":"Wait","Seconds":10,"Next":"W2"},
      "W2":{"Type":"Wait","SecondsPath":"$.s","Next":"W3"},
      "W3":{"Type":"Wait","TimestampPath":"$.at","Next":"W4"},
      "W4":{"Type":"Wait","Timestamp":"2020-01-01T00:00:00Z","End":true}}})J",
                 json{{"s", 5}, {"at", FormatIsoMillis(t0 + 60000)}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  // 10 s, 5 s, then up to t0 + 60 s; the past timestamp does not wait.
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{10000, 5000, 45000}));
  EXPECT_EQ(h.clock.NowMs(), t0 + 60000);
}

TEST(States, WaitSecondsPathMustBeAnInteger) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s",
      "End":true}}})J",
                 json{{"s", "ten"}});
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("SecondsPath"), std::string::npos);
}

TEST(States, FailWithFixedAndDynamicErrorAndCause) {
  Harness h;
  auto fixed = h.Run(R"J({"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}})J",
                     json::object());
  EXPECT_EQ(fixed.status, ExecutionStatus::kFailed);
  EXPECT_EQ(fixed.error, "E");
  EXPECT_EQ(fixed.cause, "C");
  auto dyn = h.Run(R"J({"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e",
      "CausePath":"States.Format('bad {}', $.n)"}}})J",
                   json{{"e", "Custom.Error"}, {"n", 7}});
  EXPECT_EQ(dyn.error, "Custom.Error");
  EXPECT_EQ(dyn.cause, "bad 7");
}

TEST(States, SucceedAppliesInputAndOutputPath) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"S","States":{"S":{"Type":"Succeed","InputPath":"$.a",
      "OutputPath":"$.b"}}})J",
                 json{{"a", {{"b", 5}}}});
  EXPECT_EQ(r.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(r.output, 5);
}

TEST(States, ParallelResultsInBranchOrder) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest& r) { return AslOr<json>(r.state_name); };
  auto r = h.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,
      "ResultSelector":{"first.$":"$[0]","second.$":"$[1]"},
      "Branches":[
        {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x","End":true}}},
        {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"x","End":true}}}]}}})J",
                 json::object());
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(r.output, (json{{"first", "A"}, {"second", "B"}}));
  EXPECT_EQ(h.dispatcher.calls("P/branch-0/A"), 1);
  EXPECT_EQ(h.dispatcher.calls("P/branch-1/B"), 1);
}

TEST(States, MapWithItemSelectorAndContext) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs",
      "ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
      "ResultPath":"$.out","End":true}}})J",
                 json{{"xs", {"a", "b", "c"}}, {"k", 9}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(r.output["out"], (json::array({{{"i", 0}, {"v", "a"}, {"k", 9}},
                                           {{"i", 1}, {"v", "b"}, {"k", 9}},
                                           {{"i", 2}, {"v", "c"}, {"k", 9}}})));
}

TEST(States, MapItemsMustBeAnArray) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs",
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J",
                 json{{"xs", 3}});
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("not an array"), std::string::npos) << r.cause;
}

TEST(States, DistributedItemReaderIsRefusedClearly) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV",
        "CSVHeaderLocation":"FIRST_ROW"},"Parameters":{"Bucket":"b","Key":"k"}},
      "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J",
                 json::object());
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("ItemReader is not supported yet"), std::string::npos) << r.cause;
}

TEST(States, DistributedMapOverItemsPathRunsLikeInline) {
  Harness h;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J",
                 json::array({1, 2}));
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(r.output, json::array({1, 2}));
}

TEST(States, ChoiceLoopsGetNumberedKeys) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest& r) {
    json out = r.parameters;
    out["n"] = out["n"].get<int>() + 1;
    return AslOr<json>(out);
  };
  auto r = h.Run(R"J({"StartAt":"Inc","States":{
      "Inc":{"Type":"Task","Resource":"x","Next":"Loop"},
      "Loop":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":3,"Next":"Inc"}],
              "Default":"Done"},
      "Done":{"Type":"Succeed"}}})J",
                 json{{"n", 0}});
  EXPECT_EQ(r.output, (json{{"n", 3}}));
  EXPECT_EQ(h.dispatcher.calls("Inc"), 1);
  EXPECT_EQ(h.dispatcher.calls("Inc#2"), 1);
  EXPECT_EQ(h.dispatcher.calls("Inc#3"), 1);
}

// ---------------------------------------------------------------------------------------------
// Retry and Catch

TEST(Retry, CountsAndExactDelaysWithBackoffAndMaxDelay) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) { return AslOr<json>(AslError{"Boom", "always"}); };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true,
      "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":3,"BackoffRate":2,"MaxAttempts":4,
                "MaxDelaySeconds":10}]}}})J",
                 json::object());
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Boom");
  EXPECT_EQ(h.dispatcher.calls("T"), 5);  // 1 + 4 retries
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{3000, 6000, 10000, 10000}));
  // The attempt number and $$.State.RetryCount follow.
  auto reqs = h.dispatcher.requests();
  ASSERT_EQ(reqs.size(), 5U);
  EXPECT_EQ(reqs[4].attempt, 5);
  EXPECT_EQ(reqs[4].context["State"]["RetryCount"], 4);
}

TEST(Retry, DefaultsAreOneSecondTimesTwoThreeTimes) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) { return AslOr<json>(AslError{"E", ""}); };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true,
      "Retry":[{"ErrorEquals":["States.ALL"]}]}}})J",
                 json::object());
  EXPECT_EQ(h.dispatcher.calls("T"), 4);
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{1000, 2000, 4000}));
}

TEST(Retry, FullJitterUsesTheSeededRandom) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) { return AslOr<json>(AslError{"E", ""}); };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true,
      "Retry":[{"ErrorEquals":["E"],"IntervalSeconds":2,"MaxAttempts":3,
                "JitterStrategy":"FULL"}]}}})J",
                 json::object());
  SeededRandom same(42);
  std::vector<int64_t> want;
  for (double base : {2.0, 4.0, 8.0}) {
    want.push_back(static_cast<int64_t>(std::llround(base * same.Uniform01() * 1000.0)));
  }
  EXPECT_EQ(h.clock.sleeps(), want);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_LE(want[i], 2000 << i);
}

TEST(Retry, EachRetrierHasItsOwnCounterAndSucceedsLater) {
  Harness h;
  int n = 0;
  h.dispatcher.handler = [&](const TaskRequest&) -> AslOr<json> {
    ++n;
    if (n <= 2) return AslError{"A", ""};
    if (n <= 3) return AslError{"B", ""};
    return json{{"ok", n}};
  };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true,
      "Retry":[{"ErrorEquals":["A"],"MaxAttempts":2,"IntervalSeconds":1},
               {"ErrorEquals":["B"],"MaxAttempts":1,"IntervalSeconds":7}]}}})J",
                 json::object());
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error;
  EXPECT_EQ(r.output, (json{{"ok", 4}}));
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{1000, 2000, 7000}));
}

TEST(Catch, ErrorOutputPlacedByResultPath) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) {
    return AslOr<json>(AslError{"Oops", "it broke"});
  };
  auto r = h.Run(R"J({"StartAt":"T","States":{
      "T":{"Type":"Task","Resource":"x","Next":"Never",
           "Catch":[{"ErrorEquals":["Other"],"Next":"Never"},
                    {"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Handled"}]},
      "Never":{"Type":"Fail"},
      "Handled":{"Type":"Pass","End":true}}})J",
                 json{{"in", 1}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error;
  EXPECT_EQ(r.output, (json{{"in", 1}, {"error", {{"Error", "Oops"}, {"Cause", "it broke"}}}}));
}

TEST(Catch, RetriesRunOutBeforeTheCatch) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) { return AslOr<json>(AslError{"E", "c"}); };
  auto r = h.Run(R"J({"StartAt":"T","States":{
      "T":{"Type":"Task","Resource":"x","End":true,
           "Retry":[{"ErrorEquals":["E"],"MaxAttempts":2}],
           "Catch":[{"ErrorEquals":["E"],"Next":"H"}]},
      "H":{"Type":"Pass","End":true}}})J",
                 json::object());
  EXPECT_EQ(h.dispatcher.calls("T"), 3);
  EXPECT_EQ(r.output, (json{{"Error", "E"}, {"Cause", "c"}}));
}

TEST(Catch, StatesAllDoesNotCatchStatesRuntimeButItsNameDoes) {
  const std::string def = R"J({"StartAt":"T","States":{
      "T":{"Type":"Task","Resource":"x","OutputPath":"$.missing","End":true,
           "Catch":[{"ErrorEquals":[CATCH],"Next":"H"}]},
      "H":{"Type":"Pass","Result":"caught","End":true}}})J";
  auto with = [&](const std::string& names) {
    std::string d = def;
    d.replace(d.find("CATCH"), 5, names);
    return d;
  };
  Harness h;
  auto all = h.Run(with(R"J("States.ALL")J"), json::object());
  EXPECT_EQ(all.status, ExecutionStatus::kFailed);
  EXPECT_EQ(all.error, "States.Runtime");
  auto named = h.Run(with(R"J("States.Runtime")J"), json::object());
  EXPECT_EQ(named.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(named.output, "caught");
}

TEST(Catch, ParallelFailureGoesToTheParallelsRetryAndCatch) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest& r) -> AslOr<json> {
    if (r.state_name == "Bad") return AslError{"Branch.Error", "bad branch"};
    return json("fine");
  };
  auto r = h.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"X",
      "Retry":[{"ErrorEquals":["Branch.Error"],"MaxAttempts":1}],
      "Catch":[{"ErrorEquals":["Branch.Error"],"Next":"H"}],
      "Branches":[
        {"StartAt":"Good","States":{"Good":{"Type":"Task","Resource":"x","End":true}}},
        {"StartAt":"Bad","States":{"Bad":{"Type":"Task","Resource":"x","End":true}}}]},
      "X":{"Type":"Fail"},"H":{"Type":"Pass","End":true}}})J",
                 json::object());
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error;
  EXPECT_EQ(r.output, (json{{"Error", "Branch.Error"}, {"Cause", "bad branch"}}));
  EXPECT_EQ(h.dispatcher.calls("P/branch-1/Bad"), 2);
}

// ---------------------------------------------------------------------------------------------
// Map concurrency and tolerated failures

TEST(Map, MaxConcurrencyIsTheMostRunningAtOnce) {
  Harness h;
  h.dispatcher.gate = 3;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":3,
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}},
      "End":true}}})J",
                 json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(h.dispatcher.peak(), 3);
  EXPECT_EQ(r.output, json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Map, MaxConcurrencyPathAndTheDefaultWidth) {
  Harness h;
  h.dispatcher.gate = 2;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrencyPath":"$.c",
      "ItemsPath":"$.xs",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}},
      "End":true}}})J",
                 json{{"c", 2}, {"xs", {1, 2, 3, 4, 5}}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(h.dispatcher.peak(), 2);

  Harness wide;
  wide.options.max_parallel = 4;
  wide.dispatcher.gate = 4;
  auto w = wide.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}},
      "End":true}}})J",
                    json::array({1, 2, 3, 4, 5, 6, 7, 8}));
  ASSERT_EQ(w.status, ExecutionStatus::kSucceeded);
  EXPECT_EQ(wide.dispatcher.peak(), 4);
}

// Every task of an iteration says where it sits in the fan-out (nested Parallel branches
// too); tasks outside a Map say nothing. With fan_out_width, all iterations reach the
// dispatcher at once although MaxConcurrency is 2: the executor (Slurm's %K) throttles.
TEST(Map, TasksCarryTheirFanOutAndTheWidthOverrideLeavesMaxConcurrencyToTheExecutor) {
  Harness h;
  h.options.fan_out_width = 16;
  h.dispatcher.gate = 6;
  auto r = h.Run(R"J({"StartAt":"M","States":{
      "M":{"Type":"Map","MaxConcurrency":2,"ItemProcessor":{"StartAt":"P","States":{
        "P":{"Type":"Parallel","End":true,"Branches":[
          {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}}]}}},
      "Next":"Post"},
      "Post":{"Type":"Task","Resource":"x","End":true}}})J",
                 json::array({0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(h.dispatcher.peak(), 6);
  std::set<int64_t> indices;
  for (const TaskRequest& q : h.dispatcher.requests()) {
    if (q.state_name == "Post") {
      EXPECT_FALSE(q.fan_out.has_value());
      continue;
    }
    ASSERT_TRUE(q.fan_out.has_value()) << q.state_key;
    EXPECT_EQ(q.fan_out->map_key, "M");
    EXPECT_EQ(q.fan_out->size, 6);
    EXPECT_EQ(q.fan_out->max_concurrency, 2);
    EXPECT_EQ(q.state_key, "M/" + std::to_string(q.fan_out->index) + "/P/branch-0/T");
    indices.insert(q.fan_out->index);
  }
  EXPECT_EQ(indices, (std::set<int64_t>{0, 1, 2, 3, 4, 5}));
}

// 10 items, items 2, 5 and 8 fail: 3 failures.
std::string TolerantMap(const std::string& tolerance) {
  return R"J({"StartAt":"M","States":{"M":{"Type":"Map",)J" + tolerance +
         R"J(,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x",
         "End":true}}},"End":true}}})J";
}

void FailEveryThird(FakeDispatcher& d) {
  d.handler = [](const TaskRequest& r) -> AslOr<json> {
    if (r.parameters.get<int>() % 3 == 2)
      return AslError{"Item.Failed", "item " + r.parameters.dump()};
    return r.parameters;
  };
}

TEST(Map, ToleratedFailureCountAtAndOverTheThreshold) {
  const json items = json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Harness at;
  FailEveryThird(at.dispatcher);
  auto ok = at.Run(TolerantMap(R"J("ToleratedFailureCount":3)J"), items);
  ASSERT_EQ(ok.status, ExecutionStatus::kSucceeded) << ok.cause;
  EXPECT_EQ(ok.output[2], (json{{"Error", "Item.Failed"}, {"Cause", "item 2"}}));
  EXPECT_EQ(ok.output[3], 3);

  Harness over;
  FailEveryThird(over.dispatcher);
  over.options.max_parallel = 1;  // deterministic order
  auto bad = over.Run(TolerantMap(R"J("ToleratedFailureCount":2)J"), items);
  EXPECT_EQ(bad.status, ExecutionStatus::kFailed);
  EXPECT_EQ(bad.error, "States.ExceedToleratedFailureThreshold");
  // It stops at the third failure (item 8); no item after it is dispatched.
  EXPECT_EQ(over.dispatcher.total(), 9);
}

TEST(Map, ToleratedFailurePercentageAtAndOverTheThreshold) {
  const json items = json::array({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Harness at;
  FailEveryThird(at.dispatcher);
  EXPECT_EQ(at.Run(TolerantMap(R"J("ToleratedFailurePercentage":30)J"), items).status,
            ExecutionStatus::kSucceeded);
  Harness over;
  FailEveryThird(over.dispatcher);
  auto bad = over.Run(TolerantMap(R"J("ToleratedFailurePercentage":29.9)J"), items);
  EXPECT_EQ(bad.error, "States.ExceedToleratedFailureThreshold");
  Harness path;
  FailEveryThird(path.dispatcher);
  auto by_path = path.Run(TolerantMap(R"J("ToleratedFailurePercentagePath":"$.pct",
                                          "ItemsPath":"$.items")J"),
                          json{{"items", items}, {"pct", 30}});
  EXPECT_EQ(by_path.status, ExecutionStatus::kSucceeded) << by_path.cause;
}

TEST(Map, WithoutToleranceOneFailureFailsTheMapWithItsError) {
  Harness h;
  FailEveryThird(h.dispatcher);
  auto r = h.Run(TolerantMap(R"J("MaxConcurrency":1)J"), json::array({0, 1, 2, 3}));
  EXPECT_EQ(r.error, "Item.Failed");
  EXPECT_EQ(h.dispatcher.total(), 3);
}

// The hidden failure: one candidate of a sweep always fails; its Retry runs out, its Catch
// records the failure, the Map tolerates it, and the execution SUCCEEDS with the failure in its
// output (what a dashboard must surface).
TEST(Map, HiddenFailureScenario) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest& r) -> AslOr<json> {
    if (r.parameters["algo"] == "svm") return AslError{"Training.Diverged", "loss is NaN"};
    return json{{"score", r.parameters["algo"] == "xgb" ? 0.91 : 0.87}};
  };
  auto r = h.Run(R"J({"StartAt":"Candidates","States":{"Candidates":{"Type":"Map",
      "ItemsPath":"$.candidates","ToleratedFailurePercentage":50,"ResultPath":"$.results",
      "ItemProcessor":{"StartAt":"Train","States":{
        "Train":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync",
          "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2,"IntervalSeconds":5}],
          "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.failure","Next":"Failed"}],
          "End":true},
        "Failed":{"Type":"Pass","End":true}}},
      "End":true}}})J",
                 json{{"candidates", {{{"algo", "xgb"}}, {{"algo", "svm"}}, {{"algo", "rf"}}}}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(h.dispatcher.calls("Candidates/1/Train"), 3);
  EXPECT_EQ(r.output["results"][0], (json{{"score", 0.91}}));
  EXPECT_EQ(r.output["results"][1],
            (json{{"algo", "svm"},
                  {"failure", {{"Error", "Training.Diverged"}, {"Cause", "loss is NaN"}}}}));
  EXPECT_EQ(r.output["results"][2], (json{{"score", 0.87}}));
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{5000, 10000}));
}

// ---------------------------------------------------------------------------------------------
// Parallel failure and Stop

TEST(Parallel, AFailingBranchStopsItsSiblings) {
  Harness h;
  std::mutex mu;
  std::condition_variable cv;
  bool slow_started = false;
  bool slow_was_cancelled = false;
  h.dispatcher.handler = [&](const TaskRequest& r) -> AslOr<json> {
    if (r.state_name == "Slow") {
      {
        std::lock_guard lock(mu);
        slow_started = true;
      }
      cv.notify_all();
      // Blocks until the engine cancels it (bounded so a bug fails instead of hanging).
      bool cancelled = r.cancel->WaitFor(std::chrono::seconds(20));
      std::lock_guard lock(mu);
      slow_was_cancelled = cancelled;
      return AslError{"Cancelled", ""};
    }
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(20), [&] { return slow_started; });
    return AslError{"Fast.Failed", "boom"};
  };
  auto r = h.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,
      "Branches":[
        {"StartAt":"Slow","States":{"Slow":{"Type":"Task","Resource":"x","Next":"After"},
                                    "After":{"Type":"Task","Resource":"x","End":true}}},
        {"StartAt":"Fast","States":{"Fast":{"Type":"Task","Resource":"x","End":true}}}]}}})J",
                 json::object());
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "Fast.Failed");
  EXPECT_TRUE(slow_was_cancelled);
  EXPECT_EQ(h.dispatcher.calls("P/branch-0/After"), 0);
  auto types = Types(r);
  EXPECT_NE(std::find(types.begin(), types.end(), "ParallelStateFailed"), types.end());
}

TEST(Stop, AbortsRunningDispatchesAndEndsAborted) {
  Harness h;
  h.options.stop = CancelToken::Make();
  std::atomic<int> cancelled{0};
  h.dispatcher.handler = [&](const TaskRequest& r) -> AslOr<json> {
    if (r.parameters.get<int>() == 1) h.options.stop->Cancel("user");
    if (r.cancel->WaitFor(std::chrono::seconds(20))) ++cancelled;
    return AslError{"Job.Stopped", "stopped by the cancel token"};
  };
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":2,
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}},
      "Next":"After"},"After":{"Type":"Pass","End":true}}})J",
                 json::array({0, 1, 2, 3}));
  EXPECT_EQ(r.status, ExecutionStatus::kAborted);
  // Every dispatch that started was cancelled (item 0 may not have started when item 1 pressed
  // Stop); no item after the first two started.
  EXPECT_GE(cancelled.load(), 1);
  EXPECT_EQ(cancelled.load(), h.dispatcher.total());
  EXPECT_LE(h.dispatcher.total(), 2);
  auto types = Types(r);
  EXPECT_EQ(types.back(), "ExecutionAborted");
  EXPECT_NE(std::find(types.begin(), types.end(), "MapIterationAborted"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "MapStateAborted"), types.end());
  EXPECT_EQ(std::find(types.begin(), types.end(), "PassStateEntered"), types.end());
}

// ---------------------------------------------------------------------------------------------
// Time-outs and limits

TEST(Limits, TaskTimeoutCancelsTheDispatchAndIsStatesTimeout) {
  Harness h;
  bool saw_cancel = false;
  h.dispatcher.handler = [&](const TaskRequest& r) -> AslOr<json> {
    EXPECT_EQ(r.timeout_seconds, 30);
    h.clock.Advance(31000);  // the job takes 31 s of (fake) time
    saw_cancel = r.cancel->WaitFor(std::chrono::seconds(20));
    return json::object();
  };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x",
      "TimeoutSecondsPath":"$.t","End":true,
      "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Wrong"}]},
      "Wrong":{"Type":"Pass","End":true}}})J",
                 json{{"t", 30}});
  EXPECT_TRUE(saw_cancel);
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.Timeout");  // States.TaskFailed does not match States.Timeout
  auto types = Types(r);
  EXPECT_NE(std::find(types.begin(), types.end(), "TaskTimedOut"), types.end());
}

TEST(Limits, ExecutionTimeoutEndsTimedOut) {
  Harness h;
  auto r = h.Run(R"J({"TimeoutSeconds":60,"StartAt":"W","States":{
      "W":{"Type":"Wait","Seconds":3600,"Next":"After"},
      "After":{"Type":"Pass","End":true}}})J",
                 json::object());
  EXPECT_EQ(r.status, ExecutionStatus::kTimedOut);
  EXPECT_EQ(r.error, "States.Timeout");
  EXPECT_EQ(h.clock.sleeps(), (std::vector<int64_t>{60000}));
  EXPECT_EQ(Types(r).back(), "ExecutionTimedOut");
}

TEST(Limits, PayloadOver256KiBIsDataLimitExceededAndNotCaughtByStatesAll) {
  Harness h;
  h.dispatcher.handler = [](const TaskRequest&) {
    return AslOr<json>(json(std::string(300 * 1024, 'x')));
  };
  auto r = h.Run(R"J({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true,
      "Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}]},"H":{"Type":"Pass","End":true}}})J",
                 json::object());
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.DataLimitExceeded");
  Harness in;
  auto big = in.Run(R"J({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})J",
                    json{{"x", std::string(257 * 1024, 'y')}});
  EXPECT_EQ(big.error, "States.DataLimitExceeded");
}

TEST(Limits, HistoryEventLimitFailsTheExecution) {
  Harness h;
  h.options.limits.max_history_events = 50;
  auto r =
      h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J",
            json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}));
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.Runtime");
  EXPECT_NE(r.cause.find("50 events"), std::string::npos) << r.cause;
  // Event 50 is the last one a state wrote; what follows only winds the execution down.
  ASSERT_GT(r.events.size(), 50U);
  for (size_t i = 50; i < r.events.size(); ++i) {
    std::string type = r.events[i]["type"];
    EXPECT_EQ(type.find("Entered"), std::string::npos) << type;
    EXPECT_EQ(type.find("Started"), std::string::npos) << type;
  }
  EXPECT_EQ(Types(r).back(), "ExecutionFailed");
}

// ---------------------------------------------------------------------------------------------
// History events, field by field

TEST(History, ASmallMachineEventByEvent) {
  Harness h;
  h.options.execution_name = "run-1";
  h.options.state_machine_name = "sm";
  h.options.role_arn = "arn:aws:iam::123456789012:role/r";
  h.dispatcher.handler = [](const TaskRequest& r) {
    r.submitted(json{{"TrainingJobArn", "arn:job"}});
    return AslOr<json>(json{{"done", true}});
  };
  const int64_t t0 = h.clock.NowMs();
  auto r = h.Run(R"J({"StartAt":"Prep","States":{
      "Prep":{"Type":"Pass","Result":{"x":1},"Next":"Train"},
      "Train":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync",
               "TimeoutSeconds":100,"End":true}}})J",
                 json{{"in", 1}});
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  const double ts = static_cast<double>(t0) / 1000.0;
  std::vector<json> want = {
      {{"id", 1},
       {"previousEventId", 0},
       {"type", "ExecutionStarted"},
       {"timestamp", ts},
       {"executionStartedEventDetails",
        {{"input", R"({"in":1})"},
         {"inputDetails", {{"truncated", false}}},
         {"roleArn", "arn:aws:iam::123456789012:role/r"}}}},
      {{"id", 2},
       {"previousEventId", 1},
       {"type", "PassStateEntered"},
       {"timestamp", ts},
       {"stateEnteredEventDetails",
        {{"name", "Prep"}, {"input", R"({"in":1})"}, {"inputDetails", {{"truncated", false}}}}}},
      {{"id", 3},
       {"previousEventId", 2},
       {"type", "PassStateExited"},
       {"timestamp", ts},
       {"stateExitedEventDetails",
        {{"name", "Prep"}, {"output", R"({"x":1})"}, {"outputDetails", {{"truncated", false}}}}}},
      {{"id", 4},
       {"previousEventId", 3},
       {"type", "TaskStateEntered"},
       {"timestamp", ts},
       {"stateEnteredEventDetails",
        {{"name", "Train"}, {"input", R"({"x":1})"}, {"inputDetails", {{"truncated", false}}}}}},
      {{"id", 5},
       {"previousEventId", 4},
       {"type", "TaskScheduled"},
       {"timestamp", ts},
       {"taskScheduledEventDetails",
        {{"resourceType", "sagemaker"},
         {"resource", "createTrainingJob.sync"},
         {"region", "us-east-1"},
         {"parameters", R"({"x":1})"},
         {"timeoutInSeconds", 100}}}},
      {{"id", 6},
       {"previousEventId", 5},
       {"type", "TaskStarted"},
       {"timestamp", ts},
       {"taskStartedEventDetails",
        {{"resourceType", "sagemaker"}, {"resource", "createTrainingJob.sync"}}}},
      {{"id", 7},
       {"previousEventId", 6},
       {"type", "TaskSubmitted"},
       {"timestamp", ts},
       {"taskSubmittedEventDetails",
        {{"resourceType", "sagemaker"},
         {"resource", "createTrainingJob.sync"},
         {"output", R"({"TrainingJobArn":"arn:job"})"},
         {"outputDetails", {{"truncated", false}}}}}},
      {{"id", 8},
       {"previousEventId", 7},
       {"type", "TaskSucceeded"},
       {"timestamp", ts},
       {"taskSucceededEventDetails",
        {{"resourceType", "sagemaker"},
         {"resource", "createTrainingJob.sync"},
         {"output", R"({"done":true})"},
         {"outputDetails", {{"truncated", false}}}}}},
      {{"id", 9},
       {"previousEventId", 8},
       {"type", "TaskStateExited"},
       {"timestamp", ts},
       {"stateExitedEventDetails",
        {{"name", "Train"},
         {"output", R"({"done":true})"},
         {"outputDetails", {{"truncated", false}}}}}},
      {{"id", 10},
       {"previousEventId", 9},
       {"type", "ExecutionSucceeded"},
       {"timestamp", ts},
       {"executionSucceededEventDetails",
        {{"output", R"({"done":true})"}, {"outputDetails", {{"truncated", false}}}}}},
  };
  ASSERT_EQ(r.events.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r.events[i], want[i]) << i;
  // The journal saw the same events, in order, and one checkpoint per state.
  EXPECT_EQ(h.journal.events(), r.events);
  auto cps = h.journal.checkpoints();
  ASSERT_EQ(cps.size(), 2U);
  EXPECT_EQ(cps[0].key, "Prep");
  EXPECT_EQ(cps[0].next, "Train");
  EXPECT_EQ(cps[1].key, "Train");
  EXPECT_EQ(cps[1].output, (json{{"done", true}}));
}

TEST(History, MapEventsAndIterationChains) {
  Harness h;
  h.options.max_parallel = 1;
  auto r = h.Run(R"J({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}})J",
                 json::array({"a", "b"}));
  EXPECT_EQ(Types(r), (std::vector<std::string>{
                          "ExecutionStarted", "MapStateEntered", "MapStateStarted",
                          "MapIterationStarted", "PassStateEntered", "PassStateExited",
                          "MapIterationSucceeded", "MapIterationStarted", "PassStateEntered",
                          "PassStateExited", "MapIterationSucceeded", "MapStateSucceeded",
                          "MapStateExited", "ExecutionSucceeded"}));
  EXPECT_EQ(r.events[2]["mapStateStartedEventDetails"], (json{{"length", 2}}));
  EXPECT_EQ(r.events[7]["mapIterationStartedEventDetails"], (json{{"name", "M"}, {"index", 1}}));
  // Each iteration's first event links to MapStateStarted (id 3).
  EXPECT_EQ(r.events[3]["previousEventId"], 3);
  EXPECT_EQ(r.events[7]["previousEventId"], 3);
  EXPECT_EQ(r.events[4]["previousEventId"], 4);
}

// ---------------------------------------------------------------------------------------------
// Resume (redrive)

TEST(Resume, OnlyTheFailedIterationsTaskRunsAgain) {
  const std::string def = R"J({"StartAt":"Prep","States":{
      "Prep":{"Type":"Task","Resource":"x","Next":"Stages"},
      "Stages":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.scores","Next":"Pick",
        "ItemProcessor":{"StartAt":"Load","States":{
          "Load":{"Type":"Task","Resource":"x","Next":"Train"},
          "Train":{"Type":"Task","Resource":"x","End":true}}}},
      "Pick":{"Type":"Pass","OutputPath":"$.scores","End":true}}})J";
  // Iteration 5 fails once the seven others have finished (a failure aborts the iterations
  // still running, and those would rightly run again on resume).
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    int trained = 0;
  };
  auto gate = std::make_shared<Gate>();
  auto handler = [gate](bool fail5) {
    return [fail5, gate](const TaskRequest& r) -> AslOr<json> {
      if (r.state_name == "Prep") return json{{"items", {0, 1, 2, 3, 4, 5, 6, 7}}};
      if (r.state_name == "Load") return json{{"i", r.parameters}};
      if (fail5 && r.parameters["i"] == 5) {
        std::unique_lock lock(gate->mu);
        gate->cv.wait_for(lock, std::chrono::seconds(20), [&] { return gate->trained == 7; });
        return AslError{"Node.Lost", "the node went away"};
      }
      {
        std::lock_guard lock(gate->mu);
        ++gate->trained;
      }
      gate->cv.notify_all();
      return json(r.parameters["i"].get<int>() * 10);
    };
  };
  const json want = json::array({0, 10, 20, 30, 40, 50, 60, 70});

  Harness first;
  first.dispatcher.handler = handler(true);
  auto failed = first.Run(def, json::object());
  ASSERT_EQ(failed.status, ExecutionStatus::kFailed);
  EXPECT_EQ(failed.error, "Node.Lost");

  Harness second;
  second.dispatcher.handler = handler(false);
  second.options.resume_from = first.journal.checkpoints();
  second.options.redrive_count = 1;
  auto resumed = second.Run(def, json::object());
  ASSERT_EQ(resumed.status, ExecutionStatus::kSucceeded) << resumed.cause;
  EXPECT_EQ(resumed.output, want);
  EXPECT_EQ(second.dispatcher.total(), 1);
  EXPECT_EQ(second.dispatcher.calls("Stages/5/Train"), 1);
  EXPECT_EQ(second.dispatcher.requests()[0].context["Execution"]["RedriveCount"], 1);
  const auto types = Types(resumed);
  EXPECT_EQ(types[0], "ExecutionRedriven");
  EXPECT_EQ(std::count(types.begin(), types.end(), "ExecutionStarted"), 0);

  Harness uninterrupted;
  uninterrupted.dispatcher.handler = handler(false);
  EXPECT_EQ(uninterrupted.Run(def, json::object()).output, want);
}

TEST(Resume, CompletedParallelBranchesAreSkipped) {
  const std::string def = R"J({"StartAt":"Fork","States":{"Fork":{"Type":"Parallel","End":true,
      "Branches":[
        {"StartAt":"Load","States":{"Load":{"Type":"Task","Resource":"x","End":true}}},
        {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x","Next":"B"},
                                 "B":{"Type":"Task","Resource":"x","End":true}}}]}}})J";
  Harness first;
  first.options.max_parallel = 1;
  first.dispatcher.handler = [](const TaskRequest& r) -> AslOr<json> {
    if (r.state_name == "B") return AslError{"E", ""};
    return json(r.state_name);
  };
  ASSERT_EQ(first.Run(def, json::object()).status, ExecutionStatus::kFailed);
  Harness second;
  second.options.resume_from = first.journal.checkpoints();
  auto r = second.Run(def, json::object());
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.cause;
  EXPECT_EQ(r.output, json::array({"Load", "A"}));  // B echoes its input
  EXPECT_EQ(second.dispatcher.calls("Fork/branch-0/Load"), 0);
  EXPECT_EQ(second.dispatcher.calls("Fork/branch-1/A"), 0);
  EXPECT_EQ(second.dispatcher.calls("Fork/branch-1/B"), 1);
}

// ---------------------------------------------------------------------------------------------
// Real definitions

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RealDefinitions, EveryValidOneRunsWithADispatcherAnsweringEmptyObjects) {
  const fs::path dir = fs::path(SAGEBOX_TESTDATA) / "pipeline" / "asl";
  size_t ran = 0;
  std::map<std::string, size_t> statuses;
  for (const auto& sub : {"asl-validator", "sfn-workflows-collection"}) {
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("invalid-") || e.path().extension() != ".json") continue;
      auto m = asl::ParseDefinition(ReadFile(e.path()));
      if (!m.ok()) continue;  // JSONata ones and the two Jayway refuses (definition_test.cc)
      SCOPED_TRACE(name);
      FakeDispatcher d;
      d.handler = [](const TaskRequest&) { return AslOr<json>(json::object()); };
      FakeClock clock;
      SeededRandom random(1);
      ExecuteOptions opts;
      auto r = Execute(*m, json::object(), opts, Services{&d, &clock, &random, nullptr});
      ASSERT_TRUE(r.ok());
      ASSERT_FALSE(r->events.empty());
      EXPECT_EQ(r->events.front()["type"], "ExecutionStarted");
      std::string last = r->events.back()["type"];
      EXPECT_TRUE(last == "ExecutionSucceeded" || last == "ExecutionFailed" ||
                  last == "ExecutionTimedOut")
          << last;
      if (r->status != ExecutionStatus::kSucceeded) {
        std::cerr << name << ": " << ExecutionStatusName(r->status) << " " << r->error << ": "
                  << r->cause << "\n";
      }
      ++statuses[std::string(ExecutionStatusName(r->status))];
      ++ran;
    }
  }
  EXPECT_GE(ran, 50U);
  // Most run to the end on `{}`; the rest fail as data (a path missing in `{}`, ...).
  EXPECT_GE(statuses["SUCCEEDED"], 20U);
}

TEST(Services, DispatcherAndClockAreRequired) {
  asl::StateMachine m = Parse(R"J({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})J");
  auto r = Execute(m, json::object(), ExecuteOptions{}, Services{});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Helpers, SplitResourceAndIsoTimes) {
  EXPECT_EQ(SplitResource("arn:aws:states:::sagemaker:createTrainingJob.sync"),
            (std::pair<std::string, std::string>{"sagemaker", "createTrainingJob.sync"}));
  EXPECT_EQ(SplitResource("arn:aws:lambda:us-east-1:1:function:f").first, "lambda");
  EXPECT_EQ(FormatIsoMillis(1553631253192), "2019-03-26T20:14:13.192Z");
}

}  // namespace
}  // namespace sagebox::pipeline::engine
