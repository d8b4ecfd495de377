#include "pipeline/engine/cache.h"

#include <openssl/evp.h>

#include <array>

namespace sagebox::pipeline::engine {

std::optional<nlohmann::json> InMemoryTaskCache::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void InMemoryTaskCache::Put(const std::string& key, const nlohmann::json& result) {
  std::lock_guard lock(mu_);
  entries_[key] = result;
}

size_t InMemoryTaskCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::string TaskCacheKey(const std::string& resource, const nlohmann::json& parameters,
                         const std::vector<std::string>& digests) {
  // nlohmann::json keeps object keys sorted and dump() is compact: a canonical form.
  nlohmann::json doc = {{"resource", resource}, {"parameters", parameters}, {"digests", digests}};
  const std::string text = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

asl::AslOr<nlohmann::json> CachingDispatcher::Dispatch(const TaskRequest& request) {
  std::vector<std::string> digests;
  if (digester_ != nullptr) {
    StatusOr<std::vector<std::string>> d = digester_->Digests(request);
    if (!d.ok()) {
      ++misses_;
      return inner_->Dispatch(request);  // uncacheable: run, do not store
    }
    digests = std::move(d).value();
  }
  const std::string key = TaskCacheKey(
      request.resource, key_parameters_ ? key_parameters_(request) : request.parameters, digests);
  if (!bypass_) {
    if (std::optional<nlohmann::json> hit = cache_->Get(key)) {
      ++hits_;
      return *hit;
    }
  }
  ++misses_;
  asl::AslOr<nlohmann::json> result = inner_->Dispatch(request);
  // Only successes, and not one that raced a cancel (its result may be partial).
  if (result.ok() && !(request.cancel && request.cancel->cancelled())) cache_->Put(key, *result);
  return result;
}

}  // namespace sagebox::pipeline::engine
