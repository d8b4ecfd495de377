#include "endpoint/route/hash_ring.h"

#include <fmt/format.h>

#include <algorithm>

namespace sagebox::endpoint::route {

uint64_t RingHash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV prime
  }
  // splitmix64 finalizer (Steele et al., "Fast splittable pseudorandom number
  // generators", OOPSLA 2014): FNV alone clusters names that differ in one suffix.
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

HashRing::HashRing(std::vector<std::string> instances, int virtual_nodes) {
  for (auto& name : instances) {
    if (std::find(instances_.begin(), instances_.end(), name) == instances_.end()) {
      instances_.push_back(std::move(name));
    }
  }
  points_.reserve(instances_.size() * static_cast<size_t>(std::max(virtual_nodes, 1)));
  for (uint32_t i = 0; i < instances_.size(); ++i) {
    for (int v = 0; v < std::max(virtual_nodes, 1); ++v) {
      points_.push_back({RingHash(fmt::format("{}#{}", instances_[i], v)), i});
    }
  }
  std::sort(points_.begin(), points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.instance < b.instance;
  });
}

std::vector<std::string> HashRing::Owners(std::string_view key, size_t n) const {
  std::vector<std::string> out;
  if (points_.empty() || n == 0) return out;
  n = std::min(n, instances_.size());
  const uint64_t h = RingHash(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const Point& p, uint64_t v) { return p.hash < v; });
  std::vector<bool> taken(instances_.size(), false);
  for (size_t step = 0; step < points_.size() && out.size() < n; ++step, ++it) {
    if (it == points_.end()) it = points_.begin();
    if (!taken[it->instance]) {
      taken[it->instance] = true;
      out.push_back(instances_[it->instance]);
    }
  }
  return out;
}

std::string HashRing::Primary(std::string_view key) const {
  auto o = Owners(key, 1);
  return o.empty() ? std::string() : o[0];
}

}  // namespace sagebox::endpoint::route
