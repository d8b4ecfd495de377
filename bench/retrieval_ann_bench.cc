// retrieval_ann_bench.cc: the dense index's approximate search (HNSW,
// OpenSearch's defaults m = 16, ef_construction = 100, ef_search = 100)
// beside its exact scan, on the same vectors and queries (bench/RESULTS.md,
// "Retrieval").
//
// For each size and dimension: build the index (one thread), then run the
// same queries through Search with exact = false and exact = true, one at a
// time, and report build time, per-query latency (p50, p99) of both paths and
// the HNSW's recall@10 against the exact scan, on two data sets (fixed seed):
//   uniform    i.i.d. uniform in [-1, 1]^d: no structure for the graph to
//              exploit, the worst case (intrinsic dimension = d);
//   clustered  100 Gaussian blobs (sigma 0.1 per axis) around uniform
//              centres: closer to real embeddings, which cluster by topic.
// Queries are fresh vectors from the same distribution. Space l2. Prints a
// Markdown table.
//
// With --ef, a second table: the same graphs (built once per size, dimension
// and data set) searched with each ef_search listed (VectorIndex::SetEfSearch;
// hnswlib raises ef below k to k), recall@10 against the exact top 10 and the
// per-query latency at each, so the recall/latency trade-off can be read off.
//
//   build/release/retrieval_ann_bench [--sizes 10000,100000] [--dims 100,384]
//       [--queries 200] [--seed 1] [--ef 10,20,50,100,200,400]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "retrieval/index/vector_index.h"

namespace sagebox::bench {
namespace {

using retrieval::VectorIndex;
using retrieval::VectorSearchOptions;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::vector<size_t> sizes = {10000, 100000};
  std::vector<size_t> dims = {100, 384};
  size_t queries = 200;
  uint32_t seed = 1;
  std::vector<size_t> ef;  // ef_search values to sweep; empty: no sweep
};

StatusOr<std::vector<size_t>> ParseList(std::string_view flag, const std::string& text) {
  std::vector<size_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || v == 0) {
      return InvalidArgument(
          fmt::format("{}: expected positive integers separated by commas, "
                      "got '{}'",
                      flag, text));
    }
    out.push_back(static_cast<size_t>(v));
    start = comma + 1;
  }
  return out;
}

StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return InvalidArgument(fmt::format("{}: missing value", flag));
    const std::string value = argv[++i];
    if (flag == "--sizes") {
      ASSIGN_OR_RETURN(f.sizes, ParseList(flag, value));
    } else if (flag == "--dims") {
      ASSIGN_OR_RETURN(f.dims, ParseList(flag, value));
    } else if (flag == "--queries") {
      ASSIGN_OR_RETURN(auto q, ParseList(flag, value));
      f.queries = q.front();
    } else if (flag == "--ef") {
      ASSIGN_OR_RETURN(f.ef, ParseList(flag, value));
    } else if (flag == "--seed") {
      ASSIGN_OR_RETURN(auto s, ParseList(flag, value));
      f.seed = static_cast<uint32_t>(s.front());
    } else {
      return InvalidArgument(fmt::format("unknown flag {}", flag));
    }
  }
  return f;
}

std::vector<float> Uniform(std::mt19937& rng, size_t dim) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(dim);
  for (float& x : v) x = u(rng);
  return v;
}

// Draws from `centres` (clustered) or uniformly when there are none.
std::vector<float> Draw(std::mt19937& rng, size_t dim,
                        const std::vector<std::vector<float>>& centres) {
  if (centres.empty()) return Uniform(rng, dim);
  std::normal_distribution<float> g(0, 0.1F);
  std::vector<float> v = centres[rng() % centres.size()];
  for (float& x : v) x += g(rng);
  return v;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One ef_search of the sweep: recall@10 and latency over the queries.
struct SweepRow {
  std::string data;
  size_t n = 0, dim = 0, ef = 0;
  double recall = 0, p50 = 0, p99 = 0, exact_p50 = 0;
};

Status Run(const Flags& f) {
  std::vector<SweepRow> sweep;
  fmt::print(
      "| data | vectors | dim | build s | HNSW p50 ms | HNSW p99 ms | exact p50 ms | exact p99 ms "
      "| "
      "speed-up (p50) | recall@10 |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const bool clustered : {false, true}) {
    for (size_t dim : f.dims) {
      for (size_t n : f.sizes) {
        std::mt19937 rng(f.seed);
        std::vector<std::vector<float>> centres;
        for (size_t c = 0; clustered && c < 100; ++c) centres.push_back(Uniform(rng, dim));
        retrieval::HnswParams params;
        params.initial_capacity = n;
        ASSIGN_OR_RETURN(auto ix, VectorIndex::Create(dim, retrieval::VectorSpace::kL2, params));
        const auto t0 = Clock::now();
        for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(ix->Add(i, Draw(rng, dim, centres)));
        const double build_s = Ms(Clock::now() - t0) / 1000.0;

        std::vector<double> approx_ms;
        std::vector<double> exact_ms;
        double recall = 0;
        std::vector<std::vector<float>> queries;
        std::vector<std::set<uint64_t>> truths;
        for (size_t q = 0; q < f.queries; ++q) {
          const std::vector<float> query = Draw(rng, dim, centres);
          queries.push_back(query);
          VectorSearchOptions o;
          o.k = 10;
          auto a0 = Clock::now();
          ASSIGN_OR_RETURN(auto approx, ix->Search(query, o));
          approx_ms.push_back(Ms(Clock::now() - a0));
          o.exact = true;
          auto e0 = Clock::now();
          ASSIGN_OR_RETURN(auto exact, ix->Search(query, o));
          exact_ms.push_back(Ms(Clock::now() - e0));
          std::set<uint64_t> truth;
          for (const auto& h : exact) truth.insert(h.label);
          truths.push_back(truth);
          size_t hit = 0;
          for (const auto& h : approx) hit += truth.count(h.label);
          recall += static_cast<double>(hit) / static_cast<double>(exact.size());
        }
        const double a50 = Percentile(approx_ms, 0.50);
        const double e50 = Percentile(exact_ms, 0.50);
        fmt::print(
            "| {} | {} | {} | {:.1f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.0f}× | {:.3f} |\n",
            clustered ? "clustered" : "uniform", n, dim, build_s, a50, Percentile(approx_ms, 0.99),
            e50, Percentile(exact_ms, 0.99), e50 / a50, recall / static_cast<double>(f.queries));
        std::fflush(stdout);
        for (size_t ef : f.ef) {
          RETURN_IF_ERROR(ix->SetEfSearch(ef));
          SweepRow row{clustered ? "clustered" : "uniform", n, dim, ef, 0, 0, 0, e50};
          std::vector<double> ms;
          for (size_t q = 0; q < queries.size(); ++q) {
            VectorSearchOptions o;
            o.k = 10;
            auto a0 = Clock::now();
            ASSIGN_OR_RETURN(auto approx, ix->Search(queries[q], o));
            ms.push_back(Ms(Clock::now() - a0));
            size_t hit = 0;
            for (const auto& h : approx) hit += truths[q].count(h.label);
            row.recall += static_cast<double>(hit) / static_cast<double>(truths[q].size());
          }
          row.recall /= static_cast<double>(queries.size());
          row.p50 = Percentile(ms, 0.50);
          row.p99 = Percentile(ms, 0.99);
          sweep.push_back(row);
        }
      }
    }
  }
  if (!sweep.empty()) {
    fmt::print(
        "\nef_search sweep (same graphs, m = 16, ef_construction = 100, k = 10):\n\n"
        "| data | vectors | dim | ef_search | recall@10 | p50 ms | p99 ms | exact p50 ms |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const SweepRow& r : sweep) {
      fmt::print("| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n", r.data, r.n, r.dim,
                 r.ef, r.recall, r.p50, r.p99, r.exact_p50);
    }
  }
  return Status::Ok();
}

}  // namespace
}  // namespace sagebox::bench

int main(int argc, char** argv) {
  auto flags = sagebox::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    fmt::print(stderr, "{}\n", flags.status().ToString());
    return 1;
  }
  const sagebox::Status st = sagebox::bench::Run(*flags);
  if (!st.ok()) {
    fmt::print(stderr, "{}\n", st.ToString());
    return 1;
  }
  return 0;
}
