#include "cost/line_item.h"

namespace sagebox::cost {

void DeriveAmortized(LineItem* it) {
  const std::string_view t = it->line_item_type;
  if (t == "SavingsPlanCoveredUsage") {
    it->amortized_cost = it->sp_effective_cost;
  } else if (t == "SavingsPlanRecurringFee") {
    it->amortized_cost = it->sp_total_commitment - it->sp_used_commitment;
  } else if (t == "SavingsPlanNegation" || t == "SavingsPlanUpfrontFee" ||
             (t == "Fee" && !it->reservation_arn.empty())) {
    it->amortized_cost = Decimal();
  } else if (t == "DiscountedUsage") {
    it->amortized_cost = it->ri_effective_cost;
  } else if (t == "RIFee") {
    it->amortized_cost = it->ri_unused_amortized_upfront + it->ri_unused_recurring;
  } else {
    it->amortized_cost = it->unblended_cost;
  }
}

std::string NormalizeTagKey(std::string_view k) {
  for (std::string_view p : {"resourceTags/", "resource_tags_"}) {
    if (k.substr(0, p.size()) == p) k.remove_prefix(p.size());
  }
  for (std::string_view p : {"user:", "user_"}) {
    if (k.substr(0, p.size()) == p) {
      k.remove_prefix(p.size());
      break;
    }
  }
  return std::string(k);
}

}  // namespace sagebox::cost
