// json_type.h: how the label module names a JSON value's type in its error messages
// ("expected a string, got an array"), the same words for manifests and payloads.
//
// Thread-safety: a pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sagebox::label {

inline std::string JsonTypeName(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace sagebox::label
