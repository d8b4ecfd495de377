// resource_usage.h: per-resource evidence from the bill.
//
// The findings rules judge resources, not line items: "this notebook ARN ran
// 24 instance-hours on each of 12 consecutive days at $0.0464/h". This file
// turns the SageMaker lines of the store into that evidence in one columnar
// pass: per (resource id, usage type) the hours, cost and usage of every UTC
// day, the on-demand rate the bill charged, and an hour-of-week histogram of
// usage (UTC) so schedules can be judged in any timezone.
//
// Two instances of one usage type are two resources when their resource ids
// differ. Lines without a resource id (CUR without resource ids) collapse per
// usage type and account; their hours per day then count instances (48 h/day
// = two instances), which the rules report as such.
//
// Thread-safety: CollectUsage is reentrant; results are plain values.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"
#include "core/time.h"
#include "cost/usage_type.h"
#include "store/store.h"

namespace sagebox::findings {

struct DayUsage {
  Decimal hours;  // instance-hours (usage amount of instance usage types)
  Decimal usage;  // usage amount in the usage type's unit (hours, GB-month...)
  Decimal cost;   // amortized cost: what the day really cost
};

struct ResourceUsage {
  std::string resource_id;  // ARN as billed; "" when the export has none
  std::string usage_type;   // "USE1-Notebk:ml.t2.medium"
  std::string account_id;
  std::string region;
  cost::UsageType parsed;
  std::map<Days, DayUsage> days;
  // Sums for the billed rate: on-demand usage lines, and public on-demand
  // cost of every usage line (Savings Plan covered usage included).
  Decimal od_cost, od_usage, public_cost, all_usage;
  // Usage hours by UTC hour of week (0 = Monday 00:00 UTC).
  std::array<double, 168> hour_of_week{};
  UnixSeconds first_start = 0, last_end = 0;

  // The on-demand $/unit the bill charged: unblended/usage of on-demand
  // lines, else public on-demand cost/usage; nullopt when neither exists.
  std::optional<Decimal> BilledRate() const;
  Decimal TotalCost() const;
  Decimal TotalHours() const;
  bool is_instance() const { return !parsed.instance_type.empty() && !parsed.is_storage; }
};

struct TagCoverage {
  Decimal total, untagged;  // SageMaker cost (amortized)
  // Untagged cost per resource id (or usage type when there is none).
  std::map<std::string, Decimal> untagged_by_resource;
};

struct UsageFacts {
  // Span of all billing data in the store (every service): usage of the
  // first hour to the end of the last. Days at these edges may be partial.
  UnixSeconds data_start = 0, data_end = 0;
  std::vector<ResourceUsage> resources;              // sorted by resource id, usage type
  std::vector<std::pair<Days, Decimal>> daily_cost;  // SageMaker, every day in range
  std::map<std::string, TagCoverage> tags_by_account;
  // S3 storage cost per bucket (resource id of AmazonS3 TimedStorage lines),
  // for sizing leftover copies.
  std::map<std::string, Decimal> s3_storage_by_bucket;

  // Resources whose resource id equals `id` (ASCII case-insensitive: AWS
  // lower-cases some ARNs), any usage type.
  std::vector<const ResourceUsage*> ById(std::string_view id) const;
  // The first billed rate (resources in order) of a usage kind, region and
  // instance type; nullopt if the bill has none. For pricing resize targets.
  std::optional<Decimal> BilledRateFor(const std::string& kind, const std::string& region,
                                       const std::string& instance_type) const;

  // Lookup indexes, filled by CollectUsage.
  std::unordered_map<std::string, std::vector<size_t>> by_id;  // lower-cased id
  std::map<std::string, Decimal> rate_by_kind_region_type;     // "kind|region|type"
};

struct CollectOptions {
  Days from = 0, to = 0;  // [from, to); both 0 = everything
  // Tag keys (normalised, see cost::NormalizeTagKey) a line must carry to
  // count as allocated; empty = skip tag coverage.
  std::vector<std::string> required_tags;
};

// Scans the store once. Corruption if a segment is damaged; NotFound if the
// store holds no billing data.
StatusOr<UsageFacts> CollectUsage(const store::Store& st, const CollectOptions& opt);

}  // namespace sagebox::findings
