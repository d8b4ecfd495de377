// endpoint_eviction_bench.cc: the endpoint's model cache under a skewed load
// over three times more model bytes than its memory budget, against
// LRU-by-count (Ray Serve's multiplexed-model policy) and a clairvoyant
// Belady-by-size reference (bench/RESULTS.md, "Endpoint: eviction").
//
// The population is `--models` models with log-uniform sizes (default 40 of
// 0.5-7 GiB, like the article's 2.5-7 GB Stable Diffusion pipelines), fixed
// seed; popularity is Zipf with exponent s over a random ranking independent
// of size; the budget is the population's bytes / `--ratio`. Each trace is
// replayed, one request at a time, through the real endpoint::ModelCache (a
// loader with instant loads of the population's sizes; hits and misses from
// its Stats()) and through the reference policies of endpoint/eviction_replay.h.
// Hit ratio alone misleads when sizes vary (missing a 0.5 GiB model is cheaper
// than missing a 7 GiB one), so bytes loaded are reported too.
//
// Not a timing benchmark: the numbers are counts and do not depend on the
// machine. Prints a Markdown table; exit status 1 if the cache disagrees with
// the LRU-by-bytes reference (they must match exactly on a sequential trace).
//
//   build/release/endpoint_eviction_bench [--requests 200000] [--models 40] [--seed 1]
//       [--ratio 3] [--min-gib 0.5] [--max-gib 7] [--s 0.8,1.0,1.2]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "endpoint/eviction_replay.h"

namespace sagebox::bench {
namespace {

using endpoint::ReplayResult;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Flags {
  endpoint::WorkloadOptions workload;
  double ratio = 3.0;
  std::vector<double> zipf_s = {0.8, 1.0, 1.2};
};

StatusOr<double> ParseNumber(std::string_view flag, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v) || v < 0) {
    return InvalidArgument(fmt::format("{}: expected a non-negative number, got '{}'", flag, text));
  }
  return v;
}

StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  f.workload.requests = 200'000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return InvalidArgument(fmt::format("{}: expected a value", flag));
    const std::string value = argv[++i];
    if (flag == "--s") {
      f.zipf_s.clear();
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = std::min(value.find(',', start), value.size());
        ASSIGN_OR_RETURN(const double s, ParseNumber(flag, value.substr(start, comma - start)));
        f.zipf_s.push_back(s);
        start = comma + 1;
      }
      continue;
    }
    ASSIGN_OR_RETURN(const double v, ParseNumber(flag, value));
    if (flag == "--requests") {
      f.workload.requests = static_cast<uint64_t>(v);
    } else if (flag == "--models") {
      f.workload.models = static_cast<uint32_t>(v);
    } else if (flag == "--seed") {
      f.workload.seed = static_cast<uint64_t>(v);
    } else if (flag == "--ratio") {
      if (v < 1) return InvalidArgument("--ratio: expected at least 1 (population bytes / budget)");
      f.ratio = v;
    } else if (flag == "--min-gib") {
      f.workload.min_bytes = static_cast<uint64_t>(v * kGiB);
    } else if (flag == "--max-gib") {
      f.workload.max_bytes = static_cast<uint64_t>(v * kGiB);
    } else {
      return InvalidArgument(fmt::format("unknown flag {}", flag));
    }
  }
  return f;
}

std::string Gib(uint64_t bytes) { return fmt::format("{:.1f}", static_cast<double>(bytes) / kGiB); }

std::string OverBudget(const ReplayResult& r) {
  if (r.over_budget_requests == 0) return "0";
  return fmt::format(
      "{:.1f} % (max {} GiB over)",
      100.0 * static_cast<double>(r.over_budget_requests) / static_cast<double>(r.requests),
      Gib(r.max_over_budget_bytes));
}

Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Flags flags, ParseFlags(argc, argv));
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) command += fmt::format(" {}", argv[i]);

  // The population does not depend on s: make it once to size the budget.
  ASSIGN_OR_RETURN(const endpoint::Workload population, endpoint::MakeWorkload(flags.workload));
  const std::vector<uint64_t>& sizes = population.sizes;
  const uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t{0});
  const uint64_t largest = *std::max_element(sizes.begin(), sizes.end());
  const auto budget = static_cast<uint64_t>(static_cast<double>(total) / flags.ratio);
  if (largest > budget) {
    return InvalidArgument(fmt::format(
        "the largest model ({} GiB) exceeds the budget ({} GiB): lower --ratio or --max-gib",
        Gib(largest), Gib(budget)));
  }
  // Ray Serve's knob is a count; an operator sizing it from the mean gets K_mean
  // (and overflows when the big ones gather), sizing it so the K largest fit
  // gets K_safe (and never overflows).
  const double mean = static_cast<double>(total) / static_cast<double>(sizes.size());
  const auto k_mean =
      std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(budget) / mean));
  std::vector<uint64_t> desc = sizes;
  std::sort(desc.rbegin(), desc.rend());
  uint64_t k_safe = 0;
  for (uint64_t sum = 0; k_safe < desc.size() && sum + desc[k_safe] <= budget; ++k_safe) {
    sum += desc[k_safe];
  }
  std::vector<uint64_t> asc(desc.rbegin(), desc.rend());

  fmt::print("# Endpoint eviction\n\n");
  fmt::print("Command: `{}`\n\n", command);
  fmt::print(
      "- Population: {} models, sizes log-uniform in [{}, {}] GiB (seed {}), {} GiB in all; "
      "smallest {}, median {}, largest {} GiB.\n",
      sizes.size(), Gib(flags.workload.min_bytes), Gib(flags.workload.max_bytes),
      flags.workload.seed, Gib(total), Gib(asc.front()), Gib(asc[asc.size() / 2]), Gib(asc.back()));
  fmt::print("- Budget: {} GiB (population / {}); {} requests per Zipf exponent s.\n", Gib(budget),
             flags.ratio, flags.workload.requests);
  fmt::print(
      "- LRU-by-count: K_mean = floor(budget / mean size {} GiB) = {}; K_safe = {} (the {} largest "
      "models fit the budget).\n\n",
      Gib(static_cast<uint64_t>(mean)), k_mean, k_safe, k_safe);

  fmt::print(
      "| Zipf s | policy | hit ratio | GiB loaded | loaded / Belady's | loads | evictions | "
      "requests over budget |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  bool mismatch = false;
  double cache_us_per_request = 0;
  for (const double s : flags.zipf_s) {
    endpoint::WorkloadOptions o = flags.workload;
    o.zipf_s = s;
    ASSIGN_OR_RETURN(const endpoint::Workload w, endpoint::MakeWorkload(o));
    const auto t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(const ReplayResult cache, endpoint::ReplayModelCache(sizes, w.trace, budget));
    const auto t1 = std::chrono::steady_clock::now();
    cache_us_per_request = std::max(cache_us_per_request,
                                    std::chrono::duration<double, std::micro>(t1 - t0).count() /
                                        static_cast<double>(std::max<uint64_t>(1, w.trace.size())));
    ASSIGN_OR_RETURN(const ReplayResult lru_bytes,
                     endpoint::ReplayLruBytes(sizes, w.trace, budget));
    ASSIGN_OR_RETURN(const ReplayResult count_mean,
                     endpoint::ReplayLruCount(sizes, w.trace, k_mean, budget));
    ASSIGN_OR_RETURN(const ReplayResult count_safe,
                     endpoint::ReplayLruCount(sizes, w.trace, k_safe, budget));
    ASSIGN_OR_RETURN(const ReplayResult belady,
                     endpoint::ReplayBeladyBytes(sizes, w.trace, budget));
    if (cache.hits != lru_bytes.hits || cache.bytes_loaded != lru_bytes.bytes_loaded ||
        cache.evictions != lru_bytes.evictions) {
      mismatch = true;
      fmt::print(stderr, "s={:.2f}: ModelCache ({} hits) differs from LRU-by-bytes ({} hits)\n", s,
                 cache.hits, lru_bytes.hits);
    }
    const struct {
      std::string name;
      const ReplayResult& r;
    } rows[] = {
        {"sagebox ModelCache (LRU by bytes)", cache},
        {fmt::format("LRU-by-count, K_mean = {}", k_mean), count_mean},
        {fmt::format("LRU-by-count, K_safe = {}", k_safe), count_safe},
        {"Belady by size (clairvoyant)", belady},
    };
    for (const auto& row : rows) {
      fmt::print("| {:.1f} | {} | {:.3f} | {} | {:.2f} | {} | {} | {} |\n", s, row.name,
                 row.r.HitRatio(), Gib(row.r.bytes_loaded),
                 static_cast<double>(row.r.bytes_loaded) /
                     static_cast<double>(std::max<uint64_t>(1, belady.bytes_loaded)),
                 row.r.misses, row.r.evictions, OverBudget(row.r));
    }
  }
  fmt::print(
      "\nModelCache matches the LRU-by-bytes reference replay: {}. Its replay took at most {:.1f} "
      "us per request (instant loads: the cache's own bookkeeping and loader-thread handoff).\n",
      mismatch ? "NO" : "yes", cache_us_per_request);
  if (mismatch) return Internal("ModelCache disagrees with the LRU-by-bytes reference");
  return Status::Ok();
}

}  // namespace
}  // namespace sagebox::bench

int main(int argc, char** argv) {
  // Only allocation failure can throw here; report it like any other error.
  try {
    const sagebox::Status s = sagebox::bench::Run(argc, argv);
    if (s.ok()) return 0;
    fmt::print(stderr, "endpoint_eviction_bench: {}\n", s.ToString());
  } catch (const std::exception& e) {
    (void)std::fputs(e.what(), stderr);
  }
  return 1;
}
