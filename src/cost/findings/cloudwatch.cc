#include "cost/findings/cloudwatch.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "cost/findings/aux_json.h"

namespace sagebox::findings {

using nlohmann::json;

std::string MetricSeries::Dimension(std::string_view name) const {
  auto it = dimensions.find(std::string(name));
  return it == dimensions.end() ? std::string() : it->second;
}

namespace {

Status ParseOne(const JsonValueAt& at, std::string_view text, std::string_view label,
                std::vector<MetricSeries>* out);

Status ParseValue(const JsonValueAt& at, std::string_view text, std::string_view label,
                  std::vector<MetricSeries>* out) {
  if (at.value.is_array()) {
    // A JSON array of series: each element stands for itself, located at
    // the array (element positions are not tracked).
    for (const auto& e : at.value) {
      JsonValueAt sub;
      sub.value = e;
      sub.raw = at.raw;
      sub.offset = at.offset;
      RETURN_IF_ERROR(ParseOne(sub, text, label, out));
    }
    return Status::Ok();
  }
  return ParseOne(at, text, label, out);
}

Status ParseOne(const JsonValueAt& at, std::string_view text, std::string_view label,
                std::vector<MetricSeries>* out) {
  FieldReader r(label, text, at);
  const json& o = at.value;
  if (!o.is_object()) {
    r.FailWith({},
               "expected a metric series object ({\"namespace\", \"metric\", "
               "\"timestamps\", \"values\", ...}), got " +
                   std::string(JsonTypeName(o)));
    return r.status();
  }
  MetricSeries s;
  s.ns = r.String(o, "namespace");
  s.metric = r.String(o, "metric");
  s.statistic = r.String(o, "statistic");
  s.unit = r.String(o, "unit");
  if (auto p = r.Int(o, "period", 1, 366LL * 86400)) s.period = static_cast<int>(*p);
  if (const json* dims = r.Object(o, "dimensions")) {
    for (const auto& [k, v] : dims->items()) {
      if (!v.is_string()) {
        r.Fail("dimensions", "dimensions." + k, "a string", &v);
        break;
      }
      s.dimensions[k] = v.get<std::string>();
    }
  }
  const json* ts = r.Array(o, "timestamps");
  const json* vs = r.Array(o, "values");
  if (!r.ok()) return r.status();
  if (s.ns.empty()) r.FailWith("namespace", "expected a non-empty \"namespace\" string");
  if (s.metric.empty()) r.FailWith("metric", "expected a non-empty \"metric\" string");
  if (ts == nullptr) {
    r.FailWith("timestamps", "expected a \"timestamps\" array");
    return r.status();
  }
  if (vs == nullptr) {
    r.FailWith("values", "expected a \"values\" array");
    return r.status();
  }
  if (!r.ok()) return r.status();
  if (ts->size() != vs->size()) {
    r.FailWith("values", "expected as many \"values\" (" + std::to_string(vs->size()) +
                             ") as \"timestamps\" (" + std::to_string(ts->size()) + ")");
    return r.status();
  }
  std::vector<std::pair<UnixSeconds, double>> points;
  points.reserve(ts->size());
  for (size_t i = 0; i < ts->size(); ++i) {
    const json& t = (*ts)[i];
    const json& v = (*vs)[i];
    auto when = ParseAwsTimestamp(t);
    if (!when) {
      r.Fail("timestamps", "timestamps[" + std::to_string(i) + "]",
             "an ISO 8601 timestamp or epoch seconds", &t);
      return r.status();
    }
    if (v.is_null()) continue;  // no datapoint in that period
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
      r.Fail("values", "values[" + std::to_string(i) + "]", "a finite number or null", &v);
      return r.status();
    }
    points.emplace_back(*when, v.get<double>());
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  s.timestamps.reserve(points.size());
  s.values.reserve(points.size());
  for (const auto& [t, v] : points) {
    s.timestamps.push_back(t);
    s.values.push_back(v);
  }
  out->push_back(std::move(s));
  return Status::Ok();
}

}  // namespace

Status ParseMetricSeries(std::string_view text, std::string_view label,
                         std::vector<MetricSeries>* out) {
  return ForEachJsonValue(text, label,
                          [&](const JsonValueAt& at) { return ParseValue(at, text, label, out); });
}

Status LoadMetricSeries(Env* env, const std::string& path, std::vector<MetricSeries>* out) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseMetricSeries(text, path, out);
}

std::optional<HostRef> ParseHost(std::string_view host) {
  constexpr std::string_view kAlgo = "/algo-";
  size_t p = host.rfind(kAlgo);
  if (p == std::string_view::npos || p == 0) return std::nullopt;
  std::string_view digits = host.substr(p + kAlgo.size());
  if (digits.empty() || digits.size() > 6 || digits[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  std::string_view job = host.substr(0, p);
  if (job.find('/') != std::string_view::npos) return std::nullopt;
  return HostRef{std::string(job), n};
}

}  // namespace sagebox::findings
