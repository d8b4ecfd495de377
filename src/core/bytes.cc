#include "core/bytes.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/strings.h"

namespace sagebox {

StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(fmt::format(
        "'{}' is not a byte size (write e.g. 8GiB, 512MiB, 2GB or a number of bytes)", text));
  };
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const size_t start = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == start) return bad();
  const std::string number(text.substr(start, i - start));
  if (number.find('.') != number.rfind('.')) return bad();
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit = AsciiLower(text.substr(i));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  static constexpr std::array<std::pair<std::string_view, double>, 14> kUnits = {{
      {"", 1},
      {"b", 1},
      {"k", 1024.0},
      {"kib", 1024.0},
      {"kb", 1e3},
      {"m", 1048576.0},
      {"mib", 1048576.0},
      {"mb", 1e6},
      {"g", 1073741824.0},
      {"gib", 1073741824.0},
      {"gb", 1e9},
      {"t", 1099511627776.0},
      {"tib", 1099511627776.0},
      {"tb", 1e12},
  }};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    double v = std::stod(number) * factor;
    if (!std::isfinite(v) || v < 0 || v >= 9.2e18) return bad();
    return static_cast<uint64_t>(std::llround(v));
  }
  return bad();
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr std::array<const char*, 5> kNames = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  size_t k = 0;
  while (v >= 1024 && k + 1 < kNames.size()) {
    v /= 1024;
    ++k;
  }
  // "8 GiB", not "8.0 GiB": what `free -h` and GPU tools print.
  std::string num = fmt::format("{:.1f}", v);
  if (num.ends_with(".0")) num.resize(num.size() - 2);
  return fmt::format("{} {}", num, kNames[k]);
}

}  // namespace sagebox
