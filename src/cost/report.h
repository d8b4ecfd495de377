// report.h: what `query` and `summary` print.
//
// Query results render three ways: an aligned table for people, CSV with
// exact amounts, and JSON in the Cost Explorer GetCostAndUsage response
// shape (ResultsByTime[].TimePeriod/Total/Groups[].Keys/Metrics, amounts as
// decimal strings) so scripts written for `aws ce get-cost-and-usage` work.
//
// The summary is the billing console's overview: month-to-date spend, the
// top service, account and region, and the trend of the top five services
// over the last closed months.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cost/query.h"
#include "store/store.h"

namespace sagebox::cost {

nlohmann::json QueryToJson(const QueryResult& r);
std::string QueryToCsv(const QueryResult& r);
std::string QueryToTable(const QueryResult& r);

struct Ranked {
  std::string key;
  Decimal amount;
};

struct Summary {
  std::string currency = "USD";
  Days as_of = 0;          // last day with data (or the --as-of date)
  Days month_start = 0;    // current month
  Decimal month_to_date;   // unblended, current month through as_of
  Decimal previous_month;  // same days of the previous month, for comparison
  Decimal previous_month_full;
  std::vector<Ranked> top_services, top_accounts, top_regions;  // current month
  // Trend: last closed months (up to 6, oldest first) for the top 5 services.
  std::vector<Days> trend_months;
  std::vector<std::pair<std::string, std::vector<Decimal>>> trend;
};

// NotFound if the store is empty. `as_of` = 0 means the last day with data.
StatusOr<Summary> BuildSummary(const store::Store& st, Days as_of);
std::string SummaryToText(const Summary& s);
nlohmann::json SummaryToJson(const Summary& s);

}  // namespace sagebox::cost
