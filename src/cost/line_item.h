// line_item.h: the canonical billing line item every export format maps to.
//
// Legacy CUR, CUR 1.0 (Athena snake_case), CUR 2.0 and FOCUS all describe the
// same thing with different names. Format readers fill a LineItem; the
// ingester stores it; queries never see which format it came from.
//
// String fields are views into the reader's current record and are valid
// until the reader's next call.
//
// Thread-safety: a plain struct.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decimal.h"
#include "core/time.h"

namespace sagebox::cost {

struct LineItem {
  Days billing_period = 0;  // first day of the billing period (UTC)
  UnixSeconds usage_start = 0;
  UnixSeconds usage_end = 0;

  std::string_view payer_account;
  std::string_view usage_account;
  std::string_view line_item_type;  // Usage, SavingsPlanCoveredUsage, Tax, ... (CUR names)
  std::string_view product_code;    // AmazonSageMaker
  std::string_view usage_type;      // USE1-Notebk:ml.t2.medium
  std::string_view operation;
  std::string_view region;  // us-east-1 (product/region, else from the usage type)
  std::string_view availability_zone;
  std::string_view resource_id;
  std::string_view currency;
  std::string_view pricing_term;  // OnDemand, Spot, Reserved, Savings Plan
  std::string_view savings_plan_arn;
  std::string_view reservation_arn;
  // Kept as the export wrote them: Athena's CUR table types the rates as
  // strings, and `cost sql` groups by them.
  std::string_view unblended_rate;
  std::string_view blended_rate;
  std::string_view description;   // lineItem/LineItemDescription
  std::string_view product_name;  // product/ProductName

  Decimal usage_amount;
  Decimal unblended_cost;
  Decimal blended_cost;
  Decimal net_unblended_cost;  // equals unblended where the export has no net column
  Decimal amortized_cost;      // derived by DeriveAmortized()
  Decimal public_on_demand_cost;
  Decimal sp_effective_cost;
  Decimal sp_total_commitment;
  Decimal sp_used_commitment;
  Decimal sp_rate;
  Decimal ri_effective_cost;
  Decimal ri_unused_amortized_upfront;
  Decimal ri_unused_recurring;

  // Normalised tag key (see NormalizeTagKey) and value; empty values are dropped.
  std::vector<std::pair<std::string_view, std::string_view>> tags;
};

// Fills item->amortized_cost from the other fields, by AWS's rules (the AWS
// CUR Query Library's amortized_cost_by_charge_type.sql, which matches Cost
// Explorer's "amortized" view):
//   SavingsPlanCoveredUsage -> savingsPlan/SavingsPlanEffectiveCost
//   SavingsPlanRecurringFee -> TotalCommitmentToDate - UsedCommitment (unused part)
//   SavingsPlanNegation, SavingsPlanUpfrontFee -> 0
//   DiscountedUsage -> reservation/EffectiveCost
//   RIFee -> UnusedAmortizedUpfrontFeeForBillingPeriod + UnusedRecurringFee
//   Fee with a reservation ARN (RI upfront) -> 0
//   anything else -> unblended cost
void DeriveAmortized(LineItem* item);

// Tag keys as users write them in TAG:key: "resourceTags/user:team",
// "resource_tags_user_team" and "user:team" all become "team"; AWS-generated
// tags keep their prefix ("aws:createdBy", "aws_created_by").
std::string NormalizeTagKey(std::string_view raw);

}  // namespace sagebox::cost
