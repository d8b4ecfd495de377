// hash_ring.h: which serving instances own a model, by consistent hashing.
//
// Several `sagebox endpoint serve` processes share one model store; a router in
// front sends every request for a model to the instance that holds it, so each
// model is loaded once across the fleet instead of once per instance (what a
// round-robin balancer would do, multiplying memory by the fleet size). The ring
// places `virtual_nodes` points per instance on a 64-bit circle (Karger et al.,
// "Consistent hashing and random trees", STOC 1997); a model's owners are the
// first distinct instances clockwise from the model's hash. Adding or removing
// one instance of N moves only about 1/N of the models, so the others stay warm.
// Hot models get more than one owner (Owners(key, n)): the next instances on the
// ring, the same on every router, so replicas are deterministic too.
//
// Thread-safety: immutable after construction; safe to share across threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sagebox::endpoint::route {

// 64-bit FNV-1a, finished with splitmix64's mixer so nearby names spread over
// the whole circle. Stable across platforms and runs (std::hash is neither).
uint64_t RingHash(std::string_view s);

class HashRing {
 public:
  // `instances` are names (e.g. base URLs); duplicates are ignored. 128
  // virtual nodes per instance keep the load within a few percent of even.
  explicit HashRing(std::vector<std::string> instances, int virtual_nodes = 128);

  // Up to `n` distinct instances for `key`, primary first; fewer when the ring
  // has fewer instances; empty for an empty ring.
  std::vector<std::string> Owners(std::string_view key, size_t n) const;
  // Owners(key, 1)[0], or "" for an empty ring.
  std::string Primary(std::string_view key) const;

  const std::vector<std::string>& instances() const { return instances_; }

 private:
  struct Point {
    uint64_t hash;
    uint32_t instance;  // index into instances_
  };
  std::vector<std::string> instances_;
  std::vector<Point> points_;  // sorted by hash
};

}  // namespace sagebox::endpoint::route
