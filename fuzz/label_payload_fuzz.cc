// Fuzz target for the label module's checks of untrusted JSON: any bytes that parse as
// JSON, checked as a payload of each of the four kinds (against requirements that turn
// every check on) and read as a project config, give failures or a BadInput, never a
// crash or an exception. Every failure names its requirement and says what is wrong;
// a config that parses round-trips through ProjectConfigJson.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "label/project.h"

namespace {

using nlohmann::json;
namespace label = sagebox::label;

label::ProjectConfig Config(label::Kind kind) {
  label::ProjectConfig c;
  c.kind = kind;
  c.question_types = {"factual", "reasoning"};
  label::Requirements& q = c.requirements;
  q.min_pairs = 1;
  q.max_pairs = 4;
  q.question_type_min_share = {{"reasoning", 0.3}};
  q.answer_words = {1, 20};
  q.question_words = {2, 0};
  q.dimensions = {"clarity", "accuracy"};
  q.allow_ties = (static_cast<int>(kind) % 2) == 1;
  q.require_rationale = true;
  q.min_objects = 1;
  q.min_relationships = 1;
  q.caption_words = {2, 30};
  q.require_setting = true;
  q.min_activities = 1;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const json payload = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) return 0;
  static const json line = json::parse(
      R"({"prompt":"p","responses":[{"id":"a","text":"x"},{"id":"b","text":"y"},{"id":3,"text":"z"}]})");
  label::ItemView item;
  item.line = &line;
  item.text = "caf\xC3\xA9 \xE2\x86\x92 ok";
  item.duration_seconds = 10;
  for (int k = 0; k < 4; ++k) {
    const auto failures = label::CheckPayload(Config(static_cast<label::Kind>(k)), item, payload);
    for (const label::Failure& f : failures) {
      if (f.requirement.empty() || f.message.empty()) __builtin_trap();
    }
    if (label::FailuresJson(failures).size() != failures.size()) __builtin_trap();
  }
  auto config = label::ParseProjectConfig(payload, "fuzz");
  if (!config.ok()) {
    if (config.status().code() != sagebox::StatusCode::kBadInput ||
        config.status().message().compare(0, 6, "fuzz: ") != 0) {
      __builtin_trap();
    }
    return 0;
  }
  const json once = label::ProjectConfigJson(*config);
  auto again = label::ParseProjectConfig(once, "fuzz");
  if (!again.ok() || label::ProjectConfigJson(*again) != once) __builtin_trap();
  return 0;
}
