#include "http/response_cache.h"

#include <openssl/sha.h>

#include <array>

namespace sagebox::http {

std::string ResponseCache::Key(const std::string& manifest, const std::string& request) {
  // The MANIFEST can be tens of kilobytes; its SHA-256 stands for it.
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(manifest.data()), manifest.size(), d.data());
  std::string key(reinterpret_cast<const char*>(d.data()), d.size());
  key += request;
  return key;
}

size_t ResponseCache::SizeOf(const Entry& e) {
  size_t n = e.first.size() + e.second->body.size() + e.second->content_type.size() + 128;
  for (const auto& [k, v] : e.second->headers) n += k.size() + v.size();
  return n;
}

std::shared_ptr<const CachedResponse> ResponseCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ResponseCache::Put(const std::string& key, CachedResponse r) {
  if (max_bytes_ == 0) return;
  Entry e{key, std::make_shared<const CachedResponse>(std::move(r))};
  const size_t size = SizeOf(e);
  if (size > max_bytes_ / 4) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= SizeOf(*it->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(std::move(e));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= SizeOf(lru_.back());
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

size_t ResponseCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}
size_t ResponseCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}
size_t ResponseCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace sagebox::http
