// finding.h: one savings finding and the report that ranks them.
//
// A Finding is what every rule produces: what it saw (evidence), what to do
// (recommendation + action), how much that saves per month (730 hours, as
// AWS prices a month) and how sure the rule is. The JSON shape is the
// contract `sagebox.findings/v1` of spec/cost.md; kinds are part of it.
//
// Conventions inside `evidence` that renderers understand:
//   "daily": [{"date": "2024-01-02", "hours": "24", "cost": "1.1136"}, ...]
//            per-day series the HTML report charts as bars;
//   "unmeasured": ["CPUUtilization", ...]  inputs the rule lacked; a finding
//            with unmeasured inputs never claims more than it saw.
//
// Thread-safety: value types; functions are reentrant.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decimal.h"
#include "core/time.h"

namespace sagebox::findings {

enum class Confidence { kHigh, kMedium, kLow };
std::string_view ConfidenceName(Confidence c);  // "high" | "medium" | "low"

struct Finding {
  std::string id;    // StableId(kind, resource_id, scope)
  std::string kind;  // "notebook-always-on", ... (spec table)
  std::string resource_id;
  std::string account_id;
  std::string region;
  std::string usage_type;
  std::string instance_type;
  nlohmann::json evidence = nlohmann::json::object();
  std::string recommendation;                        // one plain sentence
  nlohmann::json action = nlohmann::json::object();  // {"type": "schedule|stop|..."}
  Decimal monthly_savings;                           // USD per 730 h
  Confidence confidence = Confidence::kMedium;
};

struct FindingsReport {
  Days start = 0, end = 0;  // billing data examined, [start, end)
  std::string currency = "USD";
  std::vector<Finding> findings;
  // Things the reader should know: rules skipped for lack of input, catalog
  // fallbacks. Printed under the table and kept in JSON as "notes".
  std::vector<std::string> notes;
  // Daily SageMaker unblended cost over [start, end), for the report chart.
  std::vector<std::pair<Days, Decimal>> daily_cost;
};

// A short id that stays the same across runs for the same evidence key:
// "<kind>-<16 hex of FNV-1a 64 over kind, resource_id, scope>".
std::string StableId(std::string_view kind, std::string_view resource_id,
                     std::string_view scope = {});

// Highest monthly savings first; ties by kind, then resource id, so the
// order is deterministic.
void RankBySavings(std::vector<Finding>* findings);

// The `sagebox.findings/v1` document. Amounts are decimal strings with two
// places for savings, exact elsewhere.
nlohmann::json FindingToJson(const Finding& f);
nlohmann::json ReportToJson(const FindingsReport& r);

}  // namespace sagebox::findings
