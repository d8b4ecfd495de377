// Fuzz target for the pipeline's YAML config (pipeline/config): any bytes either fail with
// BadInput naming the file (the schema's file:line:col errors) or parse; whatever parses and
// compiles must give ASL that the validator accepts without a single problem and that parses
// as a state machine: the compiler never emits a definition the engine would refuse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/asl/definition.h"
#include "pipeline/config/compiler.h"
#include "pipeline/config/config.h"

namespace config = sagebox::pipeline::config;
namespace asl = sagebox::pipeline::asl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = config::ParseConfig(text, "fuzz.yaml");
  if (!parsed.ok()) {
    if (parsed.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    if (parsed.status().message().find("fuzz.yaml") == std::string::npos) __builtin_trap();
    return 0;
  }
  auto compiled = config::Compile(*parsed);
  if (!compiled.ok()) return 0;  // e.g. a grid too large: refused, with a message
  const std::string definition = config::DumpAsl(*compiled);
  if (!asl::ValidateDefinition(definition).empty()) __builtin_trap();
  if (!asl::ParseDefinition(definition).ok()) __builtin_trap();
  return 0;
}
