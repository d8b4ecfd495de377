// Fuzz target for the ASL language parsers: any bytes, read as a JSONPath, a reference path and
// an intrinsic invocation, give a BadInput or a parse, never a crash; whatever parses is
// evaluated against a small document and its context (no exceptions, no sanitizer reports), and
// a reference path always parses as a full path too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/asl/intrinsics.h"
#include "pipeline/asl/json_path.h"

namespace asl = sagebox::pipeline::asl;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const json input = json::parse(
      R"({"a": {"b": [1, 2, {"c": "x"}]}, "n": 3, "s": "p,q", "arr": [3, 1, 3], "o": {}})");
  static const json context = json::parse(R"({"Execution": {"Name": "e"}, "Map": {"Item": {}}})");
  auto path = asl::ParseJsonPath(text);
  if (path.ok()) {
    (void)asl::EvaluatePath(*path, input, context);
  } else if (path.status().code() != sagebox::StatusCode::kBadInput) {
    __builtin_trap();
  }
  auto ref = asl::ParseReferencePath(text);
  if (ref.ok()) {
    if (!path.ok()) __builtin_trap();
    (void)asl::ApplyResultPath(*ref, input, json(1));
  }
  asl::IntrinsicEnv env;
  env.random = [] { return uint64_t{7}; };
  env.uuid = [] { return std::string("u"); };
  auto call = asl::ParseIntrinsic(text);
  if (call.ok()) {
    (void)asl::EvaluateIntrinsic(*call, input, context, env);
  } else if (call.status().code() != sagebox::StatusCode::kBadInput) {
    __builtin_trap();
  }
  return 0;
}
