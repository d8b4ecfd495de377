// metrics.h: SageMaker metric definitions (a Name and a Regex over the job's log lines,
// the first capture group a number) turned into metric points, and the log tail that feeds
// them while a job runs.
//
// As SageMaker does for AlgorithmSpecification.MetricDefinitions, every stdout and stderr
// line is searched with every regex; the first match's first group, parsed as a number,
// is one value of that metric. FinalMetricDataList is the last value of each metric (with
// the time its line was read); every value is kept in order with its step (0, 1, 2 ... per
// metric) so the tracking layer can log the whole series.
//
// Thread-safety: a MetricScanner or a LogTail belongs to one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/sagemaker/request.h"

namespace sagebox::pipeline::sagemaker {

struct MetricPoint {
  std::string name;
  double value = 0;
  int64_t timestamp_us = 0;  // when its line was read
  int64_t step = 0;          // 0, 1, 2 ... within the metric
};

class MetricScanner {
 public:
  // The definitions were validated (request.h): every regex compiles.
  explicit MetricScanner(const std::vector<MetricDefinition>& defs);
  // Adds the values `line` holds.
  void ScanLine(std::string_view line, int64_t now_us);
  // Every value, in the order read.
  const std::vector<MetricPoint>& points() const { return points_; }
  // The last value of each metric that has one, in definition order.
  std::vector<MetricPoint> Final() const;

 private:
  struct Def {
    std::string name;
    std::regex re;
    int64_t next_step = 0;
  };
  std::vector<Def> defs_;
  std::vector<MetricPoint> points_;
};

// The first number in `text` (a capture group): "0.93", "1e-3", "-2"; nullopt when `text`
// does not start with one (surrounding spaces ignored).
std::optional<double> ParseMetricValue(std::string_view text);

// Reads the lines appended to a log file since the last call.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  // The complete lines appended since the last call; with `flush`, a last line without
  // its newline too. A missing file reads as empty.
  std::vector<std::string> ReadLines(bool flush);

 private:
  std::string path_;
  uint64_t offset_ = 0;
  std::string partial_;
};

}  // namespace sagebox::pipeline::sagemaker
