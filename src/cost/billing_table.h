// billing_table.h: how line items are laid out as store columns.
//
// One place names every column of the billing table so the ingester and the
// query engine agree. Tags are extra string columns named "tag:<key>".
//
// Thread-safety: constants and a writer with one owner.
#pragma once

#include <string_view>
#include <vector>

#include "cost/line_item.h"
#include "store/segment.h"

namespace sagebox::cost {

namespace col {
// String columns.
inline constexpr std::string_view kPayer = "payer_account";
inline constexpr std::string_view kAccount = "usage_account";
inline constexpr std::string_view kLineItemType = "line_item_type";
inline constexpr std::string_view kService = "product_code";
inline constexpr std::string_view kUsageType = "usage_type";
inline constexpr std::string_view kOperation = "operation";
inline constexpr std::string_view kRegion = "region";
inline constexpr std::string_view kAz = "availability_zone";
inline constexpr std::string_view kResourceId = "resource_id";
inline constexpr std::string_view kCurrency = "currency";
inline constexpr std::string_view kPricingTerm = "pricing_term";
inline constexpr std::string_view kSpArn = "savings_plan_arn";
inline constexpr std::string_view kRiArn = "reservation_arn";
// Int64 columns (UTC seconds).
inline constexpr std::string_view kUsageStart = "usage_start";
inline constexpr std::string_view kUsageEnd = "usage_end";
// Decimal columns.
inline constexpr std::string_view kUsageAmount = "usage_amount";
inline constexpr std::string_view kUnblended = "unblended_cost";
inline constexpr std::string_view kBlended = "blended_cost";
inline constexpr std::string_view kNetUnblended = "net_unblended_cost";
inline constexpr std::string_view kAmortized = "amortized_cost";
inline constexpr std::string_view kPublicOnDemand = "public_on_demand_cost";
inline constexpr std::string_view kSpEffective = "sp_effective_cost";
inline constexpr std::string_view kSpTotalCommitment = "sp_total_commitment";
inline constexpr std::string_view kSpUsedCommitment = "sp_used_commitment";
inline constexpr std::string_view kSpRate = "sp_rate";
// String columns added after the first release (older segments lack them).
inline constexpr std::string_view kUnblendedRate = "unblended_rate";
inline constexpr std::string_view kBlendedRate = "blended_rate";
inline constexpr std::string_view kDescription = "line_item_description";
inline constexpr std::string_view kProductName = "product_name";
inline constexpr std::string_view kTagPrefix = "tag:";
}  // namespace col

// The fixed columns of a billing segment, in order.
std::vector<store::ColumnSpec> BillingColumns();

// Writes LineItems into a SegmentWriter created with BillingColumns().
class LineItemWriter {
 public:
  explicit LineItemWriter(store::SegmentWriter* w);
  // `region` overrides item.region (the ingester fills it from the usage
  // type when the export has none). IoError from the segment writer.
  Status Write(const LineItem& item, std::string_view region);

 private:
  store::SegmentWriter* w_;
  std::vector<int> idx_;
  std::vector<std::pair<std::string, int>> tag_cols_;  // small; linear lookup
};

}  // namespace sagebox::cost
