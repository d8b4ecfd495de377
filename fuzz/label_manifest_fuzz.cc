// Fuzz target for the label module's input readers: any bytes, read as a Ground Truth
// input manifest (for a project of the kind the first byte picks), as OpenAssistant
// trees and as SQuAD JSON, give items or a BadInput naming the file, never a crash.
// What parses keeps the promises the import relies on: manifest lines numbered in
// order, objects without `gold`, a qa-pairs passage, ≥ 2 responses on a ranking line;
// every converted OpenAssistant item imports into a ranking project and every SQuAD
// item into a qa-pairs project.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "label/manifest.h"

namespace {

using nlohmann::json;
using sagebox::Env;
using sagebox::StatusCode;
namespace label = sagebox::label;

// No media exist: a source-ref is always missing, never a real file of the fuzzing host.
class NoFilesEnv : public sagebox::EnvWrapper {
 public:
  NoFilesEnv() : EnvWrapper(Env::Default()) {}
  bool Exists(const std::string& /*path*/) override { return false; }
  bool IsDirectory(const std::string& /*path*/) override { return false; }
};

label::ProjectConfig Config(label::Kind kind) {
  label::ProjectConfig c;
  c.kind = kind;
  c.requirements.dimensions = {"overall"};
  return c;
}

bool Prefixed(const sagebox::Status& s, std::string_view file) {
  return s.code() == StatusCode::kBadInput && s.message().compare(0, file.size(), file) == 0;
}

std::string Lines(const std::vector<json>& items) {
  std::string text;
  for (const json& item : items)
    text += item.dump(-1, ' ', false, json::error_handler_t::strict) + "\n";
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static NoFilesEnv env;
  const auto kind = static_cast<label::Kind>(data[0] % 4);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const label::ProjectConfig config = Config(kind);

  auto lines = label::ParseManifest(&env, text, "fuzz.jsonl", config);
  if (!lines.ok()) {
    if (!Prefixed(lines.status(), "fuzz.jsonl")) __builtin_trap();
  } else {
    int last = 0;
    for (const label::ManifestLine& l : *lines) {
      if (l.line_no <= last || !l.line.is_object() || l.line.contains("gold")) __builtin_trap();
      last = l.line_no;
      if (kind == label::Kind::kQaPairs && l.source_text.empty()) __builtin_trap();
      if (kind == label::Kind::kRanking && l.line["responses"].size() < 2) __builtin_trap();
      if (l.duration_seconds < 0) __builtin_trap();
    }
  }

  auto trees = label::ConvertOasstTrees(text, "fuzz.jsonl");
  if (!trees.ok()) {
    if (!Prefixed(trees.status(), "fuzz.jsonl:")) __builtin_trap();
  } else if (!trees->empty()) {
    for (const json& item : *trees) {
      if (item["responses"].size() < 2 || item["human_ranks"].size() != item["responses"].size()) {
        __builtin_trap();
      }
    }
    auto again =
        label::ParseManifest(&env, Lines(*trees), "oasst.jsonl", Config(label::Kind::kRanking));
    if (!again.ok() || again->size() != trees->size()) __builtin_trap();
  }

  auto squad = label::ConvertSquad(text, "fuzz.json");
  if (!squad.ok()) {
    if (!Prefixed(squad.status(), "fuzz.json: ")) __builtin_trap();
  } else {
    size_t nonblank = 0;
    for (const json& item : *squad) {
      if (!item["source"].is_string()) __builtin_trap();
      const auto& s = item["source"].get_ref<const std::string&>();
      nonblank += s.find_first_not_of(" \t\r\n") != std::string::npos ? 1 : 0;
    }
    // Blank passages are refused by the import; the rest import as they are.
    if (nonblank == squad->size() && !squad->empty()) {
      auto again =
          label::ParseManifest(&env, Lines(*squad), "squad.jsonl", Config(label::Kind::kQaPairs));
      if (!again.ok() || again->size() != squad->size()) __builtin_trap();
    }
  }
  return 0;
}
