// json_type.h: the words every module's error messages use for a JSON value's type
// ("expected a string, got an array"), so manifests, payloads, ASL paths and intrinsic
// arguments describe a wrong value the same way.
//
// A template over the JSON type (nlohmann::json, ordered_json) rather than a function of
// nlohmann::json, so the core layer stays free of the JSON library.
//
// Thread-safety: a pure function.
#pragma once

#include <string>

namespace sagebox {

template <typename Json>
std::string JsonTypeName(const Json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

}  // namespace sagebox
