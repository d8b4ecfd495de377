// billing_reader_bench.cc: the whole read path of an ingest, minus the store.
//
// OpenBillingReader() over a generated legacy CUR file held in memory (a
// MemoryEnv, so no disk): magic-byte detection, gunzip on the prefetch thread
// (the .gz case), CSV tokenizing, header binding, Decimal and timestamp
// parsing into LineItems. bytes_per_second is plain CSV bytes. The gap
// between this and csv_bench's CsvReader number is the per-row mapping cost;
// the gap between the .gz and plain cases is what gunzip adds.
//
//   build/release/billing_reader_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "bench_util.h"
#include "cost/billing_reader.h"
#include "io/byte_source.h"

namespace sagebox::bench {
namespace {

constexpr int64_t kRows = 60000;

struct Data {
  std::string plain;
  std::string gz;
};
const Data& Files() {
  static const Data d{DemoLegacyCsv(kRows, false), DemoLegacyCsv(kRows, true)};
  return d;
}

void ReadAll(benchmark::State& state, bool gz) {
  MemoryEnv env;
  const std::string path = gz ? "/mem/sagebox-demo-1.csv.gz" : "/mem/sagebox-demo-1.csv";
  env.Add(path, gz ? Files().gz : Files().plain);
  int64_t rows = 0;
  for (auto _ : state) {
    auto r = cost::OpenBillingReader(&env, path);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    cost::LineItem item;
    for (;;) {
      auto n = (*r)->Next(&item);
      if (!n.ok()) {
        state.SkipWithError(n.status().ToString().c_str());
        return;
      }
      if (!*n) break;
      ++rows;
      benchmark::DoNotOptimize(item.unblended_cost);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(Files().plain.size()));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_BillingReader_LegacyCsv(benchmark::State& state) { ReadAll(state, false); }
BENCHMARK(BM_BillingReader_LegacyCsv)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BillingReader_LegacyCsvGz(benchmark::State& state) { ReadAll(state, true); }
BENCHMARK(BM_BillingReader_LegacyCsvGz)->Unit(benchmark::kMillisecond)->UseRealTime();

// gunzip alone, single-threaded, through the same OpenInput(): the floor for
// the .gz case and the thing `zcat` does.
void BM_Gunzip_OpenInput(benchmark::State& state) {
  MemoryEnv env;
  const std::string path = "/mem/sagebox-demo-1.csv.gz";
  env.Add(path, Files().gz);
  std::string buf(1 << 20, '\0');
  for (auto _ : state) {
    auto src = io::OpenInput(&env, path);
    if (!src.ok()) {
      state.SkipWithError(src.status().ToString().c_str());
      return;
    }
    for (;;) {
      size_t got = 0;
      auto s = (*src)->Read(buf.data(), buf.size(), &got);
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
      if (got == 0) break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(Files().plain.size()));
}
BENCHMARK(BM_Gunzip_OpenInput)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace sagebox::bench

BENCHMARK_MAIN();
