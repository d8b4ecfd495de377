// project.cc: the kind names and the failures' JSON (project.h). The config parser is in
// project_config.cc, the requirement checks in checks.cc.
#include "label/project.h"

#include <array>
#include <utility>

namespace sagebox::label {

namespace {
constexpr std::array<std::pair<Kind, std::string_view>, 4> kKinds = {{
    {Kind::kQaPairs, "qa-pairs"},
    {Kind::kRanking, "ranking"},
    {Kind::kImageCaption, "image-caption"},
    {Kind::kVideoCaption, "video-caption"},
}};
}  // namespace

std::string_view KindName(Kind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "?";
}

StatusOr<Kind> ParseKind(std::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return InvalidArgument("unknown project kind '" + std::string(name) +
                         "' (expected qa-pairs, ranking, image-caption or video-caption)");
}

nlohmann::json FailuresJson(const std::vector<Failure>& failures) {
  nlohmann::json out = nlohmann::json::array();
  for (const Failure& f : failures) {
    out.push_back({{"requirement", f.requirement}, {"message", f.message}, {"path", f.path}});
  }
  return out;
}

}  // namespace sagebox::label
