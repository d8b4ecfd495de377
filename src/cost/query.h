// query.h: Cost Explorer's GetCostAndUsage over the store.
//
// A Query names a time range ([from, to), dates, `to` exclusive as in Cost
// Explorer), a granularity, metrics, up to two group-by dimensions or tags,
// and filters. RunQuery scans the billing segments column by column:
// filters are decided once per dictionary entry, not per row, and sums are
// exact Decimals.
//
// Metrics are defined over line item types as AWS defines them (see
// line_item.h for the amortized rules):
//   UnblendedCost, BlendedCost, NetUnblendedCost, AmortizedCost,
//   UsageQuantity (sum of lineItem/UsageAmount, in mixed units as in CE).
//
// Thread-safety: RunQuery is reentrant; the Store it reads is not modified.
#pragma once

#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace sagebox::cost {

enum class Granularity { kHourly, kDaily, kMonthly };
enum class Metric { kUnblended, kBlended, kNetUnblended, kAmortized, kUsageQuantity };

// Dimension kinds; kTag uses Dimension::tag_key.
enum class DimKind {
  kService,
  kUsageType,
  kUsageKind,
  kInstanceType,
  kRegion,
  kLinkedAccount,
  kPayerAccount,
  kOperation,
  kLineItemType,
  kResourceId,
  kAvailabilityZone,
  kPricingTerm,
  kBillingPeriod,
  kTag
};

struct Dimension {
  DimKind kind = DimKind::kService;
  std::string tag_key;
  // "SERVICE", "TAG:team" as written on the command line.
  std::string Name() const;
};

// How a filter compares a value with its `values` (Cost Explorer's
// MatchOptions). A value matches when it matches any of `values`; kAbsent
// matches the empty value (no tag, no region) and ignores `values`.
enum class MatchKind { kEquals, kContains, kStartsWith, kEndsWith, kAbsent };

struct Filter {
  Dimension dim;
  std::vector<std::string> values;  // DIM=V1,V2: any equal
  bool contains = false;            // DIM~SUB: case-insensitive substring of values[0]
  // Used when `contains` is false (the Cost Explorer endpoint sets these).
  MatchKind match = MatchKind::kEquals;
  bool case_insensitive = false;
  bool negate = false;  // keep the rows that do not match (CE's Not)
};

// Whether `value` passes `f` (negate included). RunQuery decides this once
// per dictionary entry; exposed for callers that filter label lists.
bool FilterMatches(const Filter& f, std::string_view value);

struct Query {
  Days from = 0, to = 0;  // to exclusive; both 0 = all data
  Granularity granularity = Granularity::kMonthly;
  std::vector<Metric> metrics{Metric::kUnblended};
  std::vector<Dimension> group_by;
  std::vector<Filter> filters;
};

struct Group {
  std::vector<std::string> keys;
  std::vector<Decimal> values;  // one per metric
};

struct TimeBucket {
  UnixSeconds start = 0, end = 0;
  std::vector<Decimal> total;  // one per metric
  std::vector<Group> groups;   // sorted by first metric, descending
};

struct QueryResult {
  Query query;  // with from/to resolved
  std::vector<TimeBucket> buckets;
  std::string currency = "USD";
};

// Parsers for the command line and the API. InvalidArgument with the list
// of what is accepted.
StatusOr<Dimension> ParseDimension(std::string_view text);
StatusOr<Metric> ParseMetric(std::string_view text);
StatusOr<Granularity> ParseGranularity(std::string_view text);
// "SERVICE=AmazonSageMaker,AmazonEC2" or "USAGE_TYPE~Notebk".
StatusOr<Filter> ParseFilter(std::string_view text);
std::string_view MetricName(Metric m);  // "UnblendedCost"
std::string_view GranularityName(Granularity g);

// The [first, last] usage days in the store; NotFound if it is empty.
StatusOr<std::pair<Days, Days>> DataRange(const store::Store& st);

// Fills a missing from/to with the whole months around the data, as the
// console's default view does. InvalidArgument if the store is empty and a
// bound is missing.
Status ResolveDefaultRange(const store::Store& st, Query* q);

// The tag keys present in the store's segments ("team" for column tag:team),
// sorted. Corruption if a segment cannot be opened.
StatusOr<std::vector<std::string>> TagKeys(const store::Store& st);

// InvalidArgument for more than two group-bys or from >= to; Corruption if
// a segment is damaged.
StatusOr<QueryResult> RunQuery(const store::Store& st, Query q);

}  // namespace sagebox::cost
