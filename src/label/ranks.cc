// ranks.cc: ranking payloads read as ranks (ranks.h).
#include "label/ranks.h"

#include <vector>

namespace sagebox::label {

std::optional<std::string> RankId(const nlohmann::json& id) {
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return id.dump();
  return std::nullopt;
}

const nlohmann::json* FindRanking(const nlohmann::json& payload, std::string_view dimension) {
  if (!payload.is_object()) return nullptr;
  auto rankings = payload.find("rankings");
  if (rankings == payload.end() || !rankings->is_array()) return nullptr;
  for (const nlohmann::json& r : *rankings) {
    if (!r.is_object()) continue;
    auto dim = r.find("dimension");
    if (dim != r.end() && dim->is_string() && dim->get_ref<const std::string&>() == dimension) {
      return &r;
    }
  }
  return nullptr;
}

std::optional<std::unordered_map<std::string, int>> RankMap(const nlohmann::json& ranking) {
  if (!ranking.is_object()) return std::nullopt;
  auto order = ranking.find("order");
  if (order == ranking.end() || !order->is_array()) return std::nullopt;
  // id → its tie group's index; a group's rank is fixed by its first member in `order`.
  std::unordered_map<std::string, size_t> group_of;
  std::vector<int> group_rank;
  auto ties = ranking.find("ties");
  if (ties != ranking.end() && !ties->is_null()) {
    if (!ties->is_array()) return std::nullopt;
    for (const nlohmann::json& group : *ties) {
      if (!group.is_array()) return std::nullopt;
      for (const nlohmann::json& id : group) {
        std::optional<std::string> s = RankId(id);
        if (!s) return std::nullopt;
        group_of.emplace(std::move(*s), group_rank.size());
      }
      group_rank.push_back(-1);
    }
  }
  std::unordered_map<std::string, int> ranks;
  ranks.reserve(order->size());
  int pos = 0;
  for (const nlohmann::json& id : *order) {
    std::optional<std::string> s = RankId(id);
    if (!s) return std::nullopt;
    int rank = pos++;
    if (auto g = group_of.find(*s); g != group_of.end()) {
      int& gr = group_rank[g->second];
      if (gr < 0) gr = rank;
      rank = gr;
    }
    if (!ranks.emplace(std::move(*s), rank).second) return std::nullopt;
  }
  return ranks;
}

}  // namespace sagebox::label
