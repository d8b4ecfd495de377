// pipeline_engine_bench.cc: the ASL engine's own overhead per Map iteration (issue 16,
// "Scheduling overhead per task and per Map iteration (10,000 trivial iterations)").
//
// A Map of 10,000 items whose processor is one Pass state, and one whose processor is one
// Task answered at once by a fake dispatcher (no process, no sleep), with the default width
// (40 iterations at once) and with one at a time. Everything the engine does per iteration is
// measured: ItemSelector, context objects, events (about 5 per iteration, kept in memory),
// checkpoints, threads. The history limit is raised: 10,000 inline iterations exceed Step
// Functions' 25,000 events, which is what a real definition would hit.
//
//   build/release/pipeline_engine_bench [--benchmark_filter=...]
// items_per_second is iterations per second; its inverse is the per-iteration overhead.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/asl/definition.h"
#include "pipeline/engine/engine.h"

namespace {

using sagebox::pipeline::asl::AslOr;
using namespace sagebox::pipeline::engine;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

class InstantDispatcher : public TaskDispatcher {
 public:
  AslOr<json> Dispatch(const TaskRequest& r) override { return r.parameters; }
};

std::string MapOf(const std::string& processor) {
  return R"J({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
      "MaxConcurrency":WIDTH,"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value"},
      "ItemProcessor":{"StartAt":"S","States":{"S":)J" +
         processor + R"J(}},"ResultPath":"$.out","End":true}}})J";
}

void RunMap(benchmark::State& state, const std::string& processor) {
  std::string def = MapOf(processor);
  def.replace(def.find("WIDTH"), 5, std::to_string(state.range(1)));
  auto machine = sagebox::pipeline::asl::ParseDefinition(def);
  if (!machine.ok()) {
    state.SkipWithError(machine.status().message().c_str());
    return;
  }
  const int64_t n = state.range(0);
  json input = {{"items", json::array()}};
  for (int64_t i = 0; i < n; ++i) input["items"].push_back(i);
  InstantDispatcher dispatcher;
  SystemClock clock;
  SeededRandom random(1);
  ExecuteOptions options;
  options.limits.max_history_events = 1 << 30;
  options.limits.max_payload_bytes = size_t{1} << 30;
  for (auto _ : state) {
    auto r = Execute(*machine, input, options, Services{&dispatcher, &clock, &random, nullptr});
    if (!r.ok() || r->status != ExecutionStatus::kSucceeded) {
      state.SkipWithError("execution did not succeed");
      return;
    }
    benchmark::DoNotOptimize(r->output);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_MapOfPass(benchmark::State& state) { RunMap(state, R"({"Type":"Pass","End":true})"); }
void BM_MapOfTask(benchmark::State& state) {
  RunMap(state, R"({"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true})");
}

// {items, MaxConcurrency}; 0 is the engine's default width (40).
BENCHMARK(BM_MapOfPass)->Args({10000, 0})->Args({10000, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MapOfTask)->Args({10000, 0})->Args({10000, 1})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
