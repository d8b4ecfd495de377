// billing_columns.h: what every billing reader shares (internal to cost/).
//
// The canonical fields an export can provide, format detection from column
// names, binding an export's columns to fields (per-format tables in
// billing_reader.cc), and MapRow(), which turns one row into a LineItem. The
// CSV and Parquet readers supply the row through a small accessor, so both
// apply the same rules (null handling, FOCUS charge mapping, amortization)
// and the same data gives the same totals from either.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "cost/billing_reader.h"
#include "cost/line_item.h"

namespace sagebox::cost::internal {

// Canonical fields a format can provide, in one enum so each format is a
// table of (field, column name) and the row loop is shared.
enum Field : int {
  kBillingPeriodStart,
  kUsageStart,
  kUsageEnd,
  kPayer,
  kUsageAccount,
  kLineItemType,
  kProductCode,
  kUsageType,
  kOperation,
  kRegion,
  kRegionCode,
  kAz,
  kResourceId,
  kCurrency,
  kPricingTerm,
  kSpArn,
  kRiArn,
  kUsageAmount,
  kUnblended,
  kBlended,
  kNetUnblended,
  kPublicOnDemand,
  kSpEffective,
  kSpTotalCommitment,
  kSpUsedCommitment,
  kSpRate,
  kRiEffective,
  kRiUnusedUpfront,
  kRiUnusedRecurring,
  kTagsJson,
  kUnblendedRate,
  kBlendedRate,
  kDescription,
  kProductName,
  // FOCUS only.
  kFocusChargeCategory,
  kFocusChargeFrequency,
  kFocusCommitmentType,
  kFocusCommitmentStatus,
  kFocusEffectiveCost,
  kFocusServiceName,
  kNumFields
};

using ColumnIndex = std::array<int, kNumFields>;  // column per field, -1 if absent

struct BoundColumns {
  ColumnIndex idx{};
  // Flat tag columns (legacy "resourceTags/user:x", CUR 1.0 "resource_tags_user_x")
  // with their normalized keys.
  std::vector<std::pair<int, std::string>> tag_cols;
};

// The export format of a file with these column names. BadInput naming
// `file` if the names match no billing export.
StatusOr<ExportFormat> DetectFormat(const std::vector<std::string>& names, const std::string& file);

// Binds `names` (column i is names[i]) for `fmt`. BadInput naming `file` and
// the first missing required column.
Status BindColumns(ExportFormat fmt, const std::vector<std::string>& names, const std::string& file,
                   BoundColumns* out);

// "" and "NULL" are null in billing CSVs.
inline bool IsNull(std::string_view v) { return v.empty() || v == "NULL"; }

// A flat JSON object of string (or scalar) values, e.g. CUR 2.0's
// resource_tags {"user_team":"ml"} and FOCUS's Tags, as (offset, length) spans
// of alternating keys and values unescaped into `arena`. Returns false for
// anything that is not such an object.
bool ParseFlatJsonObject(std::string_view s, std::string* arena,
                         std::vector<std::pair<size_t, size_t>>* spans);

// Fills *it from one row. `Row` provides, for a field:
//   std::string_view Str(Field)    the text, "" if absent or null
//   bool Present(Field)            bound and not null
//   Status Num(Field, Decimal*)    0 if absent or null; BadInput if not a number
//   Status Time(Field, UnixSeconds*, bool required)  0 if absent or null (BadInput
//                                  if null and required); BadInput if not a time
//   Status Tags(LineItem*)         fills it->tags
template <class Row>
Status MapRow(ExportFormat fmt, const ColumnIndex& idx, Row& row, LineItem* it) {
  RETURN_IF_ERROR(row.Time(kUsageStart, &it->usage_start, true));
  RETURN_IF_ERROR(row.Time(kUsageEnd, &it->usage_end, false));
  if (it->usage_end == 0) it->usage_end = it->usage_start;
  UnixSeconds bp = 0;
  RETURN_IF_ERROR(row.Time(kBillingPeriodStart, &bp, fmt == ExportFormat::kFocus));
  it->billing_period =
      MonthStart(DayOf(idx[kBillingPeriodStart] >= 0 && bp != 0 ? bp : it->usage_start));

  it->payer_account = row.Str(kPayer);
  it->usage_account = row.Str(kUsageAccount);
  it->product_code = row.Str(kProductCode);
  it->usage_type = row.Str(kUsageType);
  it->operation = row.Str(kOperation);
  it->region = row.Str(kRegion);
  if (it->region.empty()) it->region = row.Str(kRegionCode);
  it->availability_zone = row.Str(kAz);
  it->resource_id = row.Str(kResourceId);
  it->currency = row.Str(kCurrency);
  it->pricing_term = row.Str(kPricingTerm);
  it->savings_plan_arn = row.Str(kSpArn);
  it->reservation_arn = row.Str(kRiArn);
  it->unblended_rate = row.Str(kUnblendedRate);
  it->blended_rate = row.Str(kBlendedRate);
  it->description = row.Str(kDescription);
  it->product_name = row.Str(kProductName);

  RETURN_IF_ERROR(row.Num(kUsageAmount, &it->usage_amount));
  RETURN_IF_ERROR(row.Num(kUnblended, &it->unblended_cost));
  RETURN_IF_ERROR(row.Num(kBlended, &it->blended_cost));
  if (idx[kBlended] < 0) it->blended_cost = it->unblended_cost;
  if (row.Present(kNetUnblended)) {
    RETURN_IF_ERROR(row.Num(kNetUnblended, &it->net_unblended_cost));
  } else {
    it->net_unblended_cost = it->unblended_cost;  // no discounts in this export
  }
  RETURN_IF_ERROR(row.Num(kPublicOnDemand, &it->public_on_demand_cost));
  RETURN_IF_ERROR(row.Num(kSpEffective, &it->sp_effective_cost));
  RETURN_IF_ERROR(row.Num(kSpTotalCommitment, &it->sp_total_commitment));
  RETURN_IF_ERROR(row.Num(kSpUsedCommitment, &it->sp_used_commitment));
  RETURN_IF_ERROR(row.Num(kSpRate, &it->sp_rate));
  RETURN_IF_ERROR(row.Num(kRiEffective, &it->ri_effective_cost));
  RETURN_IF_ERROR(row.Num(kRiUnusedUpfront, &it->ri_unused_amortized_upfront));
  RETURN_IF_ERROR(row.Num(kRiUnusedRecurring, &it->ri_unused_recurring));

  if (fmt == ExportFormat::kFocus) {
    // FOCUS has no line item type; derive the CUR one from the charge columns
    // so LINE_ITEM_TYPE means the same for every format. EffectiveCost is
    // FOCUS's amortized cost by definition.
    if (it->product_code.empty()) it->product_code = row.Str(kFocusServiceName);
    std::string_view cat = row.Str(kFocusChargeCategory);
    std::string_view ctype = row.Str(kFocusCommitmentType);
    std::string_view cstatus = row.Str(kFocusCommitmentStatus);
    bool sp = ctype == "Savings Plan";
    if (cat == "Usage") {
      if (cstatus == "Used")
        it->line_item_type = sp ? "SavingsPlanCoveredUsage" : "DiscountedUsage";
      else if (cstatus == "Unused")
        it->line_item_type = sp ? "SavingsPlanRecurringFee" : "RIFee";
      else
        it->line_item_type = "Usage";
    } else if (cat == "Purchase") {
      bool once = row.Str(kFocusChargeFrequency) == "One-Time";
      if (sp)
        it->line_item_type = once ? "SavingsPlanUpfrontFee" : "SavingsPlanRecurringFee";
      else if (ctype == "Reservation")
        it->line_item_type = "RIFee";
      else
        it->line_item_type = "Fee";
    } else if (cat == "Tax") {
      it->line_item_type = "Tax";
    } else if (cat == "Credit") {
      it->line_item_type = "Credit";
    } else if (cat == "Adjustment") {
      it->line_item_type = "Refund";
    } else {
      it->line_item_type = cat;
    }
    RETURN_IF_ERROR(row.Num(kFocusEffectiveCost, &it->amortized_cost));
    if (it->line_item_type == "SavingsPlanCoveredUsage") it->sp_effective_cost = it->amortized_cost;
  } else {
    it->line_item_type = row.Str(kLineItemType);
    DeriveAmortized(it);
  }
  return row.Tags(it);
}

}  // namespace sagebox::cost::internal
