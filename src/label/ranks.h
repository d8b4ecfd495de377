// ranks.h: one annotator's ranking payload read as ranks, shared by the preference
// export (export.cc) and the agreement measures (agreement.cc) so both read ties the same
// way. Internal to the label layer: the other layers see export.h and agreement.h.
//
// A ranking payload entry is {"dimension","order":[ids best first],"ties":[[ids]]}
// (label.md "Task kinds"). A tie group holds ids of equal rank: every member gets the
// rank of the group's first member in `order`, so a pair inside one group is tied (no
// preference) and the members still beat everything ranked after that first member.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sagebox::label {

// A response id as a string: ids are strings in manifests, but a number is accepted
// (its JSON text) so a hand-written payload with numeric ids still lines up.
std::optional<std::string> RankId(const nlohmann::json& id);

// The entry of payload["rankings"] whose "dimension" is `dimension`; nullptr when the
// payload has none (or is not the ranking shape).
const nlohmann::json* FindRanking(const nlohmann::json& payload, std::string_view dimension);

// id → rank (0 = best) of one ranking entry. nullopt when the entry is malformed: no
// `order` array, an id that is not a string or number, an id listed twice, or `ties`
// that is not an array of arrays of ids. Ids in `ties` but not in `order` are ignored.
std::optional<std::unordered_map<std::string, int>> RankMap(const nlohmann::json& ranking);

}  // namespace sagebox::label
