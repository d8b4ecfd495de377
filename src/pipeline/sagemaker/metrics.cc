// metrics.cc: metric regexes over log lines (metrics.h).
#include "pipeline/sagemaker/metrics.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace sagebox::pipeline::sagemaker {

MetricScanner::MetricScanner(const std::vector<MetricDefinition>& defs) {
  for (const auto& d : defs) {
    try {
      defs_.push_back({d.name, std::regex(d.regex), 0});
    } catch (const std::regex_error&) {
      // Validated before (request.cc); a regex that still fails never matches.
    }
  }
}

std::optional<double> ParseMetricValue(std::string_view text) {
  std::string s(text);
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  const char* start = s.c_str() + b;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(start, &end);
  if (end == start || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

void MetricScanner::ScanLine(std::string_view line, int64_t now_us) {
  for (auto& d : defs_) {
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(line.begin(), line.end(), m, d.re) || m.size() < 2 || !m[1].matched ||
        m[1].length() == 0) {
      continue;
    }
    auto v = ParseMetricValue(std::string_view(&*m[1].first, static_cast<size_t>(m[1].length())));
    if (!v) continue;
    points_.push_back({d.name, *v, now_us, d.next_step++});
  }
}

std::vector<MetricPoint> MetricScanner::Final() const {
  std::vector<MetricPoint> out;
  for (const auto& d : defs_) {
    for (auto it = points_.rbegin(); it != points_.rend(); ++it) {
      if (it->name == d.name) {
        out.push_back(*it);
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> LogTail::ReadLines(bool flush) {
  std::vector<std::string> lines;
  std::ifstream in(path_, std::ios::binary);
  if (in) {
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    offset_ += chunk.size();
    partial_ += chunk;
  }
  size_t start = 0;
  for (size_t nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    std::string line = partial_.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  partial_.erase(0, start);
  if (flush && !partial_.empty()) {
    lines.push_back(partial_);
    partial_.clear();
  }
  return lines;
}

}  // namespace sagebox::pipeline::sagemaker
