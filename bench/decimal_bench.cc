// decimal_bench.cc: Decimal::Parse on the numbers AWS writes in billing exports.
//
// Each iteration parses a batch of 1024 strings (copies of one case, so the
// branch predictor sees what it sees on a column of similar values), and
// items_per_second is parses per second. BM_DecimalParse_CurColumns parses
// the numeric cells of a generated legacy CUR file in file order, the mix an
// ingest sees. fast_float's double parse is the reference floor: it is what a
// reader that gave up exactness would pay.
//
//   build/release/decimal_bench [--benchmark_filter=...] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>
#include <fast_float/fast_float.h>

#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "core/decimal.h"
#include "io/csv_reader.h"

namespace sagebox::bench {
namespace {

constexpr int kBatch = 1024;

struct Case {
  const char* name;
  const char* text;
};
// The typical shapes: an hourly rate, a scientific-notation cost (AWS/Java
// writes small values as 4.32E-8), a 10-decimal value, an empty optional
// cell, plus a few others seen in CURs.
constexpr Case kCases[] = {
    {"rate_0.0464", "0.0464"},
    {"sci_4.32E-8", "4.32E-8"},
    {"long_123.4567890123", "123.4567890123"},
    {"empty", ""},
    {"one_1.0", "1.0"},
    {"negative_-12.3456789", "-12.3456789"},
    {"int_744", "744"},
    {"sci_1.6944E-4", "1.6944E-4"},
};

void BM_DecimalParse(benchmark::State& state, std::string_view text) {
  std::vector<std::string> batch(kBatch, std::string(text));
  Decimal sink;
  int64_t ok = 0;
  for (auto _ : state) {
    for (const auto& s : batch) {
      Decimal d;
      ok += Decimal::Parse(s, &d);
      sink += d;
    }
    benchmark::DoNotOptimize(sink);
  }
  benchmark::DoNotOptimize(ok);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_FastFloatDouble(benchmark::State& state, std::string_view text) {
  std::vector<std::string> batch(kBatch, std::string(text));
  double sink = 0;
  for (auto _ : state) {
    for (const auto& s : batch) {
      double d = 0;
      fast_float::from_chars(s.data(), s.data() + s.size(), d);
      sink += d;
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// The numeric cells of a generated legacy CUR file, row by row, as an ingest
// meets them (empty optional cells included).
const std::vector<std::string>& CurNumbers() {
  static const std::vector<std::string> v = [] {
    const std::string csv_bytes = DemoLegacyCsv(20000);
    MemorySource src(csv_bytes);
    io::CsvReader csv(&src);
    std::vector<std::string> out;
    std::vector<size_t> cols;
    for (bool header = true;; header = false) {
      auto r = csv.Next();
      if (!r.ok() || !*r) break;
      if (header) {
        for (size_t i = 0; i < csv.num_fields(); ++i) {
          std::string_view h = csv.field(i);
          for (std::string_view key : {"Amount", "Rate", "Cost", "Factor", "Commitment"}) {
            if (h.find(key) != std::string_view::npos &&
                h.find("RateCode") == std::string_view::npos &&
                h.find("RateId") == std::string_view::npos) {
              cols.push_back(i);
              break;
            }
          }
        }
        continue;
      }
      for (size_t c : cols) out.emplace_back(csv.field(c));
    }
    return out;
  }();
  return v;
}

void BM_DecimalParse_CurColumns(benchmark::State& state) {
  const auto& v = CurNumbers();
  Decimal sink;
  int64_t ok = 0;
  for (auto _ : state) {
    for (const auto& s : v) {
      Decimal d;
      ok += Decimal::Parse(s, &d);
      sink += d;
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(v.size()));
  state.counters["cells"] = static_cast<double>(v.size());
  state.counters["parsed_share"] =
      static_cast<double>(ok) /
      static_cast<double>(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_DecimalParse_CurColumns);

void BM_FastFloatDouble_CurColumns(benchmark::State& state) {
  const auto& v = CurNumbers();
  double sink = 0;
  for (auto _ : state) {
    for (const auto& s : v) {
      double d = 0;
      fast_float::from_chars(s.data(), s.data() + s.size(), d);
      sink += d;
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(v.size()));
}
BENCHMARK(BM_FastFloatDouble_CurColumns);

// Decimal sums are 128-bit adds; this shows they are not the cost.
void BM_DecimalSum(benchmark::State& state) {
  std::vector<Decimal> v(kBatch);
  for (int i = 0; i < kBatch; ++i)
    v[static_cast<size_t>(i)] = Decimal::FromRaw(static_cast<int128>(i) * 4640000);
  for (auto _ : state) {
    Decimal s;
    for (const auto& d : v) s += d;
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_DecimalSum);

const bool kRegistered = [] {
  for (const auto& c : kCases) {
    benchmark::RegisterBenchmark((std::string("BM_DecimalParse/") + c.name).c_str(),
                                 BM_DecimalParse, std::string_view(c.text));
    benchmark::RegisterBenchmark((std::string("BM_FastFloatDouble/") + c.name).c_str(),
                                 BM_FastFloatDouble, std::string_view(c.text));
  }
  return true;
}();

}  // namespace
}  // namespace sagebox::bench

BENCHMARK_MAIN();
