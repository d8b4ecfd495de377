// Fuzz target for ParseModelConfig: any bytes give a ModelConfig or a BadInput
// whose message starts with "fuzz:<line>:<col>: ", never a crash. A config that
// parses keeps the promises the endpoint relies on: a name, a backend, unique
// input and output names, dims of -1 or >= 1, instance counts >= 1, and the same
// text parses to the same result again.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "endpoint/model_config.h"

namespace {

bool GoodDims(const sagebox::endpoint::TensorConfig& t) {
  for (const int64_t d : t.dims) {
    if (d != -1 && d < 1) return false;
  }
  return !t.dims.empty() || t.reshape.has_value();
}

bool HasPosition(const std::string& message) {
  // "fuzz:" then digits, ':', digits, ": ".
  size_t i = 5;
  if (message.compare(0, 5, "fuzz:") != 0) return false;
  for (int part = 0; part < 2; ++part) {
    const size_t start = i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9') ++i;
    if (i == start || i >= message.size() || message[i] != ':') return false;
    ++i;
  }
  return i < message.size() && message[i] == ' ';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = sagebox::endpoint::ParseModelConfig(text, "fuzz", "");
  if (!config.ok()) {
    if (config.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    if (!HasPosition(config.status().message())) __builtin_trap();
    return 0;
  }
  if (config->name.empty() || config->BackendName().empty()) __builtin_trap();
  if (config->max_batch_size < 0) __builtin_trap();
  for (const auto* tensors : {&config->inputs, &config->outputs}) {
    std::set<std::string> names;
    for (const auto& t : *tensors) {
      if (t.name.empty() || !names.insert(t.name).second || !GoodDims(t)) __builtin_trap();
      if (sagebox::endpoint::ToKServeDatatype(t.data_type).empty()) __builtin_trap();
    }
  }
  for (const auto& g : config->instance_groups) {
    if (g.count < 1) __builtin_trap();
  }
  auto again = sagebox::endpoint::ParseModelConfig(text, "fuzz", config->name);
  if (!again.ok() || again->inputs.size() != config->inputs.size() ||
      again->parameters != config->parameters) {
    __builtin_trap();
  }
  return 0;
}
