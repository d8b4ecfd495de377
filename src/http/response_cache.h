// response_cache.h: answers already computed for the current store state.
//
// A dashboard asks the same questions again and again (every reload, every
// user opening the same saved report), and the answer can only change when
// the store does. The server keys each cacheable answer by the store's
// MANIFEST text (which names every live segment, so any ingest changes it)
// plus the request, and evicts least-recently-used entries beyond a byte
// budget. Entries of an older MANIFEST are never hit again and age out.
//
// Thread-safety: all methods may be called from many threads at once.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sagebox::http {

struct CachedResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class ResponseCache {
 public:
  // max_bytes = 0 disables the cache (Get always misses, Put does nothing).
  explicit ResponseCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cache key of a request against the store state `manifest`.
  static std::string Key(const std::string& manifest, const std::string& request);

  // nullptr on a miss.
  std::shared_ptr<const CachedResponse> Get(const std::string& key);
  // Stores `r` unless it alone is larger than a quarter of the budget.
  void Put(const std::string& key, CachedResponse r);

  size_t bytes() const;
  size_t hits() const;
  size_t misses() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedResponse>>;
  static size_t SizeOf(const Entry& e);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace sagebox::http
