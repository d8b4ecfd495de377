#include "cost/findings/finding.h"

#include <algorithm>
#include <cstdio>

namespace sagebox::findings {

std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kHigh:
      return "high";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kLow:
      return "low";
  }
  return "low";
}

std::string StableId(std::string_view kind, std::string_view resource_id, std::string_view scope) {
  // FNV-1a: tiny, stable across platforms and releases (std::hash is not).
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // separator, so ("ab","c") differs from ("a","bc")
    h *= 1099511628211ULL;
  };
  mix(kind);
  mix(resource_id);
  mix(scope);
  char hex[17];
  (void)std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(kind) + "-" + hex;
}

void RankBySavings(std::vector<Finding>* findings) {
  std::stable_sort(findings->begin(), findings->end(), [](const Finding& a, const Finding& b) {
    if (a.monthly_savings != b.monthly_savings) return a.monthly_savings > b.monthly_savings;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.resource_id != b.resource_id) return a.resource_id < b.resource_id;
    return a.id < b.id;
  });
}

nlohmann::json FindingToJson(const Finding& f) {
  return nlohmann::json{{"id", f.id},
                        {"kind", f.kind},
                        {"resource_id", f.resource_id},
                        {"account_id", f.account_id},
                        {"region", f.region},
                        {"usage_type", f.usage_type},
                        {"instance_type", f.instance_type},
                        {"evidence", f.evidence},
                        {"recommendation", f.recommendation},
                        {"action", f.action},
                        {"monthly_savings_usd", f.monthly_savings.ToFixed(2)},
                        {"confidence", ConfidenceName(f.confidence)}};
}

nlohmann::json ReportToJson(const FindingsReport& r) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : r.findings) list.push_back(FindingToJson(f));
  return nlohmann::json{{"schema", "sagebox.findings/v1"},
                        {"currency", r.currency},
                        {"period", {{"start", FormatDate(r.start)}, {"end", FormatDate(r.end)}}},
                        {"findings", std::move(list)},
                        {"notes", r.notes}};
}

}  // namespace sagebox::findings
