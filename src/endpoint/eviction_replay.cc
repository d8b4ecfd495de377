#include "endpoint/eviction_replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "core/bytes.h"
#include "endpoint/model_cache.h"

namespace sagebox::endpoint {

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

Status CheckFits(const std::vector<uint64_t>& sizes, const std::vector<uint32_t>& trace,
                 uint64_t budget) {
  for (size_t i = 0; i < trace.size(); ++i) {
    if (sizes[trace[i]] > budget) {
      return InvalidArgument(fmt::format(
          "trace[{}]: model {} needs {} ({} bytes), more than the budget of {} ({} bytes)", i,
          trace[i], FormatBytes(sizes[trace[i]]), sizes[trace[i]], FormatBytes(budget), budget));
    }
  }
  return Status::Ok();
}

// The resident set of a simulated cache. Linear scans over the population keep
// it obviously right; populations here are tens of models.
struct Resident {
  explicit Resident(size_t n) : in(n, false) {}
  std::vector<bool> in;
  uint64_t bytes = 0;
  uint64_t count = 0;
  void Add(uint32_t m, uint64_t size) {
    in[m] = true;
    bytes += size;
    ++count;
  }
  void Remove(uint32_t m, uint64_t size) {
    in[m] = false;
    bytes -= size;
    --count;
  }
};

void CountServed(ReplayResult& r, const Resident& res, uint64_t budget) {
  ++r.requests;
  if (res.bytes > budget) {
    ++r.over_budget_requests;
    r.max_over_budget_bytes = std::max(r.max_over_budget_bytes, res.bytes - budget);
  }
}

// The resident model (other than `keep`) used least recently; -1 when none.
int64_t LeastRecent(const Resident& res, const std::vector<uint64_t>& last_use, uint32_t keep) {
  int64_t victim = -1;
  for (uint32_t m = 0; m < res.in.size(); ++m) {
    if (!res.in[m] || m == keep) continue;
    if (victim < 0 || last_use[m] < last_use[victim]) victim = m;
  }
  return victim;
}

// LRU with a room test supplied by the caller: by bytes or by count.
template <typename Fits>
ReplayResult ReplayLru(const std::vector<uint64_t>& sizes, const std::vector<uint32_t>& trace,
                       uint64_t budget, Fits fits) {
  ReplayResult r;
  Resident res(sizes.size());
  std::vector<uint64_t> last_use(sizes.size(), 0);
  for (size_t i = 0; i < trace.size(); ++i) {
    const uint32_t m = trace[i];
    if (res.in[m]) {
      ++r.hits;
    } else {
      ++r.misses;
      r.bytes_loaded += sizes[m];
      while (!fits(res, sizes[m])) {
        const int64_t v = LeastRecent(res, last_use, m);
        if (v < 0) break;  // empty: callers checked the model fits alone
        res.Remove(static_cast<uint32_t>(v), sizes[v]);
        ++r.evictions;
      }
      res.Add(m, sizes[m]);
    }
    last_use[m] = i + 1;  // 0 means never used
    CountServed(r, res, budget);
  }
  return r;
}

// Instant loads of the population's sizes.
class PopulationLoader final : public ModelLoader {
 public:
  explicit PopulationLoader(const std::vector<uint64_t>& sizes) : sizes_(sizes) {}

  StatusOr<uint64_t> Predict(const std::string& name) override {
    ASSIGN_OR_RETURN(const uint32_t m, Index(name));
    return sizes_[m];
  }
  StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& name) override {
    ASSIGN_OR_RETURN(const uint32_t m, Index(name));
    bytes_loaded_ += sizes_[m];
    return std::unique_ptr<LoadedModel>(std::make_unique<Model>(sizes_[m]));
  }
  uint64_t bytes_loaded() const { return bytes_loaded_; }

 private:
  class Model final : public LoadedModel {
   public:
    explicit Model(uint64_t bytes) : bytes_(bytes) {}
    uint64_t MeasuredBytes() const override { return bytes_; }

   private:
    uint64_t bytes_;
  };

  StatusOr<uint32_t> Index(const std::string& name) const {
    // Names are "m<index>", made by ReplayModelCache.
    char* end = nullptr;
    const unsigned long m = name.size() > 1 ? std::strtoul(name.c_str() + 1, &end, 10) : 0;
    if (name.size() < 2 || name[0] != 'm' || end == nullptr || *end != '\0' || m >= sizes_.size()) {
      return NotFound("no model named " + name + " in the population");
    }
    return static_cast<uint32_t>(m);
  }

  const std::vector<uint64_t>& sizes_;
  std::atomic<uint64_t> bytes_loaded_{0};  // written on the loader thread
};

// A uniform double in [0, 1) from the top 53 bits: the same on every platform.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

double ReplayResult::HitRatio() const {
  return requests == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(requests);
}

Status ValidateTrace(const std::vector<uint64_t>& sizes, const std::vector<uint32_t>& trace) {
  for (size_t m = 0; m < sizes.size(); ++m) {
    if (sizes[m] == 0) return InvalidArgument(fmt::format("model {} has a size of 0 bytes", m));
  }
  for (size_t i = 0; i < trace.size(); ++i) {
    if (trace[i] >= sizes.size()) {
      return InvalidArgument(fmt::format("trace[{}] = {} names no model (the population has {})", i,
                                         trace[i], sizes.size()));
    }
  }
  return Status::Ok();
}

StatusOr<ReplayResult> ReplayLruBytes(const std::vector<uint64_t>& sizes,
                                      const std::vector<uint32_t>& trace, uint64_t budget_bytes) {
  RETURN_IF_ERROR(ValidateTrace(sizes, trace));
  RETURN_IF_ERROR(CheckFits(sizes, trace, budget_bytes));
  return ReplayLru(sizes, trace, budget_bytes, [&](const Resident& res, uint64_t need) {
    return res.bytes + need <= budget_bytes;
  });
}

StatusOr<ReplayResult> ReplayLruCount(const std::vector<uint64_t>& sizes,
                                      const std::vector<uint32_t>& trace, uint64_t max_models,
                                      uint64_t budget_bytes) {
  if (max_models == 0) return InvalidArgument("LRU-by-count needs room for at least one model");
  RETURN_IF_ERROR(ValidateTrace(sizes, trace));
  return ReplayLru(sizes, trace, budget_bytes,
                   [&](const Resident& res, uint64_t) { return res.count + 1 <= max_models; });
}

StatusOr<ReplayResult> ReplayBeladyBytes(const std::vector<uint64_t>& sizes,
                                         const std::vector<uint32_t>& trace,
                                         uint64_t budget_bytes) {
  RETURN_IF_ERROR(ValidateTrace(sizes, trace));
  RETURN_IF_ERROR(CheckFits(sizes, trace, budget_bytes));
  // next_use[i]: the next position requesting trace[i]'s model, kNever if none.
  std::vector<uint64_t> next_use(trace.size(), kNever);
  std::vector<uint64_t> seen(sizes.size(), kNever);
  for (size_t i = trace.size(); i-- > 0;) {
    next_use[i] = seen[trace[i]];
    seen[trace[i]] = i;
  }
  ReplayResult r;
  Resident res(sizes.size());
  std::vector<uint64_t> next_of(sizes.size(), kNever);  // for resident models
  for (size_t i = 0; i < trace.size(); ++i) {
    const uint32_t m = trace[i];
    if (res.in[m]) {
      ++r.hits;
    } else {
      ++r.misses;
      r.bytes_loaded += sizes[m];
      while (res.bytes + sizes[m] > budget_bytes) {
        int64_t v = -1;
        for (uint32_t c = 0; c < sizes.size(); ++c) {
          if (!res.in[c]) continue;
          if (v < 0 || next_of[c] > next_of[v] ||
              (next_of[c] == next_of[v] && sizes[c] > sizes[v])) {
            v = c;
          }
        }
        res.Remove(static_cast<uint32_t>(v), sizes[v]);  // some resident exists: m fits alone
        ++r.evictions;
      }
      res.Add(m, sizes[m]);
    }
    next_of[m] = next_use[i];
    CountServed(r, res, budget_bytes);
  }
  return r;
}

StatusOr<ReplayResult> ReplayModelCache(const std::vector<uint64_t>& sizes,
                                        const std::vector<uint32_t>& trace, uint64_t budget_bytes) {
  RETURN_IF_ERROR(ValidateTrace(sizes, trace));
  RETURN_IF_ERROR(CheckFits(sizes, trace, budget_bytes));
  std::vector<std::string> names;
  names.reserve(sizes.size());
  for (size_t m = 0; m < sizes.size(); ++m) names.push_back(fmt::format("m{}", m));
  PopulationLoader loader(sizes);
  ModelCache::Options options;
  options.memory_budget_bytes = budget_bytes;
  options.loader_threads = 1;
  ModelCache cache(options, &loader);
  for (size_t i = 0; i < trace.size(); ++i) {
    StatusOr<ModelLease> lease =
        cache.Acquire(names[trace[i]], std::chrono::steady_clock::now() + std::chrono::seconds(60));
    if (!lease.ok()) return lease.status().WithContext(fmt::format("replaying trace[{}]", i));
    lease->Release();
  }
  const CacheStats st = cache.Stats();
  ReplayResult r;
  r.requests = trace.size();
  r.hits = st.hits;
  r.misses = st.misses;
  r.bytes_loaded = loader.bytes_loaded();
  r.evictions = st.evictions;
  // Sizes are predicted exactly, so the cache can only overshoot by a bug.
  r.over_budget_requests = st.overshoots;
  r.max_over_budget_bytes = st.max_overshoot_bytes;
  return r;
}

StatusOr<Workload> MakeWorkload(const WorkloadOptions& o) {
  if (o.models == 0) return InvalidArgument("a workload needs at least one model");
  if (o.min_bytes == 0 || o.min_bytes > o.max_bytes) {
    return InvalidArgument(fmt::format(
        "model sizes need 0 < min <= max bytes, got min {} and max {}", o.min_bytes, o.max_bytes));
  }
  if (!(o.zipf_s >= 0)) {  // NaN too
    return InvalidArgument(fmt::format("zipf s must be >= 0, got {}", o.zipf_s));
  }
  Workload w;
  std::mt19937_64 rng(o.seed);
  const double lo = std::log(static_cast<double>(o.min_bytes));
  const double hi = std::log(static_cast<double>(o.max_bytes));
  constexpr double kMiB = 1 << 20;
  for (uint32_t m = 0; m < o.models; ++m) {
    const double x = std::exp(lo + Uniform(rng) * (hi - lo));
    const auto rounded = static_cast<uint64_t>(std::llround(x / kMiB)) << 20;
    w.sizes.push_back(std::clamp(rounded, o.min_bytes, o.max_bytes));
  }
  // Fisher-Yates with rng() % n: the modulo bias is below 2^-50 for these n.
  std::vector<uint32_t> model_of_rank(o.models);
  for (uint32_t k = 0; k < o.models; ++k) model_of_rank[k] = k;
  for (uint32_t k = o.models; k-- > 1;) {
    std::swap(model_of_rank[k], model_of_rank[rng() % (k + 1)]);
  }
  w.popularity_rank.resize(o.models);
  for (uint32_t k = 0; k < o.models; ++k) w.popularity_rank[model_of_rank[k]] = k;

  std::vector<double> cdf(o.models);
  double total = 0;
  for (uint32_t k = 0; k < o.models; ++k) {
    total += std::pow(static_cast<double>(k + 1), -o.zipf_s);
    cdf[k] = total;
  }
  // The trace has its own stream, so every s draws the same uniforms (common
  // random numbers: the traces differ only by the skew).
  std::mt19937_64 trace_rng(o.seed ^ 0x9E3779B97F4A7C15ull);
  w.trace.reserve(o.requests);
  for (uint64_t i = 0; i < o.requests; ++i) {
    const double u = Uniform(trace_rng) * total;
    const auto k = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    w.trace.push_back(model_of_rank[std::min<size_t>(k, o.models - 1)]);
  }
  return w;
}

}  // namespace sagebox::endpoint
