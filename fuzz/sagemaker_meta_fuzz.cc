// Fuzz target for ParseSageMakerMeta: any bytes give records or a Status,
// never a crash; every record it keeps is found again by its name, and
// parsing the same text twice merges into the same records. (Names with
// ':' are skipped: SageMaker names cannot hold one, and "arn:..." is looked
// up as an ARN.)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cost/findings/sagemaker_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sagebox::findings::SageMakerMeta m;
  if (!sagebox::findings::ParseSageMakerMeta(text, "fuzz", &m).ok()) return 0;
  auto plain = [](const std::string& name) { return name.find(':') == std::string::npos; };
  for (const auto& j : m.jobs) {
    if (plain(j.name) && m.FindJob(j.kind, j.name) == nullptr) __builtin_trap();
  }
  for (const auto& e : m.endpoints) {
    if (plain(e.name) && m.FindEndpoint(e.name) == nullptr) __builtin_trap();
  }
  for (const auto& n : m.notebooks) {
    if (plain(n.name) && m.FindNotebook(n.name) == nullptr) __builtin_trap();
  }
  const size_t jobs = m.jobs.size(), endpoints = m.endpoints.size();
  const size_t notebooks = m.notebooks.size();
  if (!sagebox::findings::ParseSageMakerMeta(text, "fuzz", &m).ok()) __builtin_trap();
  if (m.jobs.size() != jobs || m.endpoints.size() != endpoints || m.notebooks.size() != notebooks) {
    __builtin_trap();
  }
  return 0;
}
