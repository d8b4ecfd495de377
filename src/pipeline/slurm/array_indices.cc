#include "pipeline/slurm/array_indices.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace sagebox::pipeline::slurm {
namespace {

constexpr int64_t kMaxArraySpan = 4000001;

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end && *out >= 0;
}

}  // namespace

std::string CompressIndices(std::vector<int> indices) {
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  std::string out;
  for (size_t i = 0; i < indices.size();) {
    size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(indices[i]);
    if (j > i) out += '-' + std::to_string(indices[j]);
    i = j + 1;
  }
  return out;
}

StatusOr<std::vector<int>> ExpandIndices(std::string_view expr) {
  std::string_view s = expr;
  // sacct wraps the list ("[4-5%2]"), squeue does not ("4-5%2"); the %K limit is last.
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (size_t pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
  auto bad = [&](std::string_view item, const char* why) {
    return BadInput("array index list \"" + std::string(expr) + "\": item \"" + std::string(item) +
                    "\" " + why + " (expected N, N-M or N-M:STEP, separated by commas)");
  };
  if (s.empty()) return bad(s, "is empty");
  std::vector<int> out;
  while (true) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    std::string_view range = item;
    int step = 1;
    if (size_t colon = item.find(':'); colon != std::string_view::npos) {
      if (!ParseInt(item.substr(colon + 1), &step) || step == 0) {
        return bad(item, "has a bad step");
      }
      range = item.substr(0, colon);
    }
    int lo = 0;
    int hi = 0;
    size_t dash = range.find('-');
    if (dash == std::string_view::npos) {
      if (!ParseInt(range, &lo)) return bad(item, "is not a number");
      hi = lo;
    } else if (!ParseInt(range.substr(0, dash), &lo) || !ParseInt(range.substr(dash + 1), &hi)) {
      return bad(item, "is not a range of two numbers");
    }
    if (hi < lo) return bad(item, "runs backwards");
    // Slurm's MaxArraySize cannot exceed 4000001, so no real list is longer; the bound
    // keeps a hostile "0-2000000000" from allocating gigabytes.
    if (static_cast<int64_t>(hi) - lo > kMaxArraySpan) return bad(item, "spans too many indices");
    for (int64_t i = lo; i <= hi; i += step) out.push_back(static_cast<int>(i));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sagebox::pipeline::slurm
