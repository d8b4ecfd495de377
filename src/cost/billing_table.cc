#include "cost/billing_table.h"

namespace sagebox::cost {

using store::ColumnSpec;
using store::ColumnType;

namespace {
// Order matters: LineItemWriter indexes by position.
const std::string_view kStringCols[] = {
    col::kPayer,       col::kAccount, col::kLineItemType, col::kService,    col::kUsageType,
    col::kOperation,   col::kRegion,  col::kAz,           col::kResourceId, col::kCurrency,
    col::kPricingTerm, col::kSpArn,   col::kRiArn};
const std::string_view kTimeCols[] = {col::kUsageStart, col::kUsageEnd};
const std::string_view kDecimalCols[] = {
    col::kUsageAmount,      col::kUnblended,      col::kBlended,     col::kNetUnblended,
    col::kAmortized,        col::kPublicOnDemand, col::kSpEffective, col::kSpTotalCommitment,
    col::kSpUsedCommitment, col::kSpRate};
const std::string_view kLateStringCols[] = {col::kUnblendedRate, col::kBlendedRate,
                                            col::kDescription, col::kProductName};
}  // namespace

std::vector<ColumnSpec> BillingColumns() {
  std::vector<ColumnSpec> c;
  for (auto n : kStringCols) c.push_back({std::string(n), ColumnType::kString});
  for (auto n : kTimeCols) c.push_back({std::string(n), ColumnType::kInt64});
  for (auto n : kDecimalCols) c.push_back({std::string(n), ColumnType::kDecimal});
  for (auto n : kLateStringCols) c.push_back({std::string(n), ColumnType::kString});
  return c;
}

LineItemWriter::LineItemWriter(store::SegmentWriter* w) : w_(w) {
  for (const auto& c : BillingColumns()) idx_.push_back(w_->FindColumn(c.name));
}

Status LineItemWriter::Write(const LineItem& it, std::string_view region) {
  const int* i = idx_.data();
  w_->SetString(i[0], it.payer_account);
  w_->SetString(i[1], it.usage_account);
  w_->SetString(i[2], it.line_item_type);
  w_->SetString(i[3], it.product_code);
  w_->SetString(i[4], it.usage_type);
  w_->SetString(i[5], it.operation);
  w_->SetString(i[6], region);
  w_->SetString(i[7], it.availability_zone);
  w_->SetString(i[8], it.resource_id);
  w_->SetString(i[9], it.currency);
  w_->SetString(i[10], it.pricing_term);
  w_->SetString(i[11], it.savings_plan_arn);
  w_->SetString(i[12], it.reservation_arn);
  w_->SetInt64(i[13], it.usage_start);
  w_->SetInt64(i[14], it.usage_end);
  w_->SetDecimal(i[15], it.usage_amount);
  w_->SetDecimal(i[16], it.unblended_cost);
  w_->SetDecimal(i[17], it.blended_cost);
  w_->SetDecimal(i[18], it.net_unblended_cost);
  w_->SetDecimal(i[19], it.amortized_cost);
  w_->SetDecimal(i[20], it.public_on_demand_cost);
  w_->SetDecimal(i[21], it.sp_effective_cost);
  w_->SetDecimal(i[22], it.sp_total_commitment);
  w_->SetDecimal(i[23], it.sp_used_commitment);
  w_->SetDecimal(i[24], it.sp_rate);
  w_->SetString(i[25], it.unblended_rate);
  w_->SetString(i[26], it.blended_rate);
  w_->SetString(i[27], it.description);
  w_->SetString(i[28], it.product_name);
  for (const auto& [k, v] : it.tags) {
    int c = -1;
    for (const auto& [name, ci] : tag_cols_) {
      if (name == k) {
        c = ci;
        break;
      }
    }
    if (c < 0) {
      std::string name(k);
      c = w_->StringColumn(std::string(col::kTagPrefix) + name);
      tag_cols_.emplace_back(std::move(name), c);
    }
    w_->SetString(c, v);
  }
  return w_->EndRow();
}

}  // namespace sagebox::cost
