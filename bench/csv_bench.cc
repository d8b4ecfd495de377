// csv_bench.cc: io::CsvReader throughput over an in-memory ByteSource.
//
// The bytes come from memory (no file system, no gzip), so these numbers are
// the CSV tokenizer alone: the hottest loop of an ingest. bytes_per_second is
// plain CSV bytes; rows/s and fields/s are counters.
//
//   build/release/csv_bench [--benchmark_filter=...] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "bench_util.h"
#include "io/csv_reader.h"

namespace sagebox::bench {
namespace {

// A generated legacy CUR data file: 58 columns, mostly short unquoted cells,
// one quoted cell per row ("Amazon Web Services, Inc."), ~880 bytes a row.
const std::string& CurCsv() {
  static const std::string s = DemoLegacyCsv(60000);
  return s;
}

// 58 short unquoted cells a row: the tokenizer's best case.
const std::string& ShortUnquoted() {
  static const std::string s = [] {
    std::mt19937 rng(1);
    std::string out;
    while (out.size() < (32u << 20)) {
      for (int c = 0; c < 58; ++c) {
        if (c) out += ',';
        int len = static_cast<int>(rng() % 12);
        for (int k = 0; k < len; ++k) out += static_cast<char>('a' + rng() % 26);
      }
      out += '\n';
    }
    return out;
  }();
  return s;
}

// Every cell quoted, one in four with a "" escape and one in 32 with an
// embedded newline: the slow path (memchr + arena copies).
const std::string& QuotedEscaped() {
  static const std::string s = [] {
    std::mt19937 rng(2);
    std::string out;
    while (out.size() < (32u << 20)) {
      for (int c = 0; c < 20; ++c) {
        if (c) out += ',';
        out += '"';
        int len = 4 + static_cast<int>(rng() % 24);
        for (int k = 0; k < len; ++k) out += static_cast<char>('a' + rng() % 26);
        if (rng() % 4 == 0) out += "\"\"quoted\"\"";
        if (rng() % 32 == 0) out += "\nsecond line";
        out += '"';
      }
      out += "\r\n";
    }
    return out;
  }();
  return s;
}

void Run(benchmark::State& state, const std::string& data, size_t chunk, size_t buffer) {
  int64_t rows = 0, fields = 0;
  for (auto _ : state) {
    MemorySource src(data, chunk);
    io::CsvReader csv(&src, buffer);
    for (;;) {
      auto r = csv.Next();
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      if (!*r) break;
      ++rows;
      fields += static_cast<int64_t>(csv.num_fields());
      benchmark::DoNotOptimize(csv.field(csv.num_fields() - 1).data());
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["fields/s"] =
      benchmark::Counter(static_cast<double>(fields), benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(data.size()) / 1e6;
}

// The production shape: 1 MiB reads (the prefetcher's block), 4 MiB buffer.
void BM_CsvReader_CurLegacy(benchmark::State& state) { Run(state, CurCsv(), 1 << 20, 4 << 20); }
BENCHMARK(BM_CsvReader_CurLegacy)->Unit(benchmark::kMillisecond);

// Small source reads (a 64 KiB read size) with the default buffer: Refill()
// overhead per read.
void BM_CsvReader_CurLegacy_SmallReads(benchmark::State& state) {
  Run(state, CurCsv(), 64 << 10, 4 << 20);
}
BENCHMARK(BM_CsvReader_CurLegacy_SmallReads)->Unit(benchmark::kMillisecond);

// Reader buffer size: 64 KiB, 1 MiB, 4 MiB (the default).
void BM_CsvReader_CurLegacy_Buffer(benchmark::State& state) {
  Run(state, CurCsv(), 1 << 20, static_cast<size_t>(state.range(0)));
}
BENCHMARK(BM_CsvReader_CurLegacy_Buffer)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMillisecond);

void BM_CsvReader_ShortUnquoted(benchmark::State& state) {
  Run(state, ShortUnquoted(), 1 << 20, 4 << 20);
}
BENCHMARK(BM_CsvReader_ShortUnquoted)->Unit(benchmark::kMillisecond);

void BM_CsvReader_QuotedEscaped(benchmark::State& state) {
  Run(state, QuotedEscaped(), 1 << 20, 4 << 20);
}
BENCHMARK(BM_CsvReader_QuotedEscaped)->Unit(benchmark::kMillisecond);

// A floor for the numbers above: touching every byte once (memchr for '\n'
// over the same CUR bytes, fed through the same MemorySource reads).
void BM_Floor_MemchrNewlines(benchmark::State& state) {
  const std::string& data = CurCsv();
  std::string buf(1 << 20, '\0');
  int64_t lines = 0;
  for (auto _ : state) {
    MemorySource src(data, 1 << 20);
    for (;;) {
      size_t got = 0;
      (void)src.Read(buf.data(), buf.size(), &got);
      if (got == 0) break;
      const char* p = buf.data();
      const char* e = p + got;
      while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p))))) {
        ++lines;
        ++p;
      }
    }
  }
  benchmark::DoNotOptimize(lines);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Floor_MemchrNewlines)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sagebox::bench

BENCHMARK_MAIN();
