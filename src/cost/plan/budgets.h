// budgets.h: AWS Budgets checked against the store, with alerts fired once
// per budget period per threshold.
//
// Budgets are read in AWS's own JSON shapes so users can export theirs:
// `aws budgets describe-budgets` ({"Budgets": [Budget...]}) with the
// notifications of `aws budgets describe-notifications-for-budget`
// ({"Notifications": [Notification...]}) either inside each Budget object or
// in a top-level "Notifications" map from budget name to that output (see
// docs/budgets.md). Field names are AWS's (Budgets API reference, Budget,
// CostTypes, Notification, Spend, TimePeriod).
//
// COST and USAGE budgets sum the store; FORECASTED notifications add the
// forecast (forecast.h) from the day after as_of to the period end.
// SAVINGS_PLANS_UTILIZATION / _COVERAGE budgets ask a SavingsPlansProvider.
//
// Thread-safety: pure functions over a read-only Store, except
// Load/SaveAlertState, which read and replace one file.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"
#include "core/time.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::plan {

enum class BudgetType { kCost, kUsage, kSavingsPlansUtilization, kSavingsPlansCoverage };
enum class TimeUnit { kDaily, kMonthly, kQuarterly, kAnnually };

// AWS's name of the type: "COST", "USAGE", "SAVINGS_PLANS_UTILIZATION", ...
std::string BudgetTypeName(BudgetType t);

// AWS CostTypes; every Include* defaults to true, Use* to false.
struct CostTypes {
  bool include_tax = true, include_credit = true, include_refund = true;
  bool include_upfront = true, include_recurring = true, include_discount = true;
  bool include_subscription = true, include_other_subscription = true, include_support = true;
  bool use_amortized = false, use_blended = false;
};

struct Notification {
  std::string notification_type = "ACTUAL";          // ACTUAL | FORECASTED
  std::string comparison_operator = "GREATER_THAN";  // GREATER_THAN | LESS_THAN | EQUAL_TO
  double threshold = 0;
  std::string threshold_type = "PERCENTAGE";  // PERCENTAGE | ABSOLUTE_VALUE
};

struct Budget {
  std::string name;
  BudgetType type = BudgetType::kCost;
  TimeUnit time_unit = TimeUnit::kMonthly;
  Decimal limit;
  std::string unit = "USD";
  std::vector<cost::Filter> filters;  // from CostFilters
  CostTypes cost_types;
  Days start = 0, end = 0;  // TimePeriod [start, end); 0 = unbounded
  std::vector<Notification> notifications;
  // A CostFilters key sagebox cannot map onto the store (e.g. UsageTypeGroup):
  // the budget is reported as not evaluated rather than checked wrongly.
  std::string unsupported;
};

// Parses the budgets file. BadInput("path: ...") naming the budget and field
// for malformed JSON, unknown BudgetType/TimeUnit/operators, CostFilters
// keys that have no store dimension, and notifications for unknown budgets.
StatusOr<std::vector<Budget>> ParseBudgets(std::string_view text, const std::string& path);

// Savings Plans utilization or coverage, in percent, over [from, to).
// `type` is "SAVINGS_PLANS_UTILIZATION" or "SAVINGS_PLANS_COVERAGE".
using SavingsPlansProvider =
    std::function<StatusOr<double>(std::string_view type, Days from, Days to)>;

// The provider over the bill itself: SAVINGS_PLANS_UTILIZATION /
// _COVERAGE budgets get the percentage over the period so far, computed
// exactly from the bill's Savings Plan lines (plan/savings_plans.h);
// utilization of SageMaker plans only, as the tool is about SageMaker.
// `st` must outlive the provider.
SavingsPlansProvider StoreSavingsPlansProvider(const store::Store* st);

struct Alert {
  std::string budget;
  std::string unit;  // the budget's (USD, PERCENTAGE, ...)
  Notification notification;
  Days period_start = 0, period_end = 0;
  Decimal threshold;           // absolute, in the budget's unit
  Decimal value;               // actual or forecasted value compared
  std::string key;             // identifies (budget, period, threshold) in the alert state
  bool already_fired = false;  // fired in an earlier run for this period
  std::string fired_on;        // when it first fired (YYYY-MM-DD of as_of)
  std::string Text() const;    // one line for people and webhooks
};

struct BudgetStatus {
  std::string budget;
  BudgetType type = BudgetType::kCost;
  std::string unit;
  Days period_start = 0, period_end = 0;
  bool active = true;  // as_of inside the budget's TimePeriod
  Decimal limit;
  Decimal actual;
  std::optional<Decimal> forecast;  // actual + forecast to period end
  std::string note;                 // why a value is missing (forecast refused, provider error)
  Status error;                     // evaluation failed (provider, query)
  std::vector<Alert> alerts;        // notifications whose condition holds
};

struct CheckOptions {
  Days as_of = 0;  // "today", the last day with data counted (0 = last day in the store)
  SavingsPlansProvider savings_plans;
};

// The budget period containing `day`.
std::pair<Days, Days> BudgetPeriod(TimeUnit u, Days day);

// Evaluates every budget. Per-budget failures land in BudgetStatus::error;
// the call itself fails only when the store cannot be read at all.
StatusOr<std::vector<BudgetStatus>> CheckBudgets(const store::Store& st,
                                                 const std::vector<Budget>& budgets,
                                                 const CheckOptions& opt);

// The alert state: keys of alerts already fired, with the day they fired.
// Kept in <store>/budget_alerts.json. A missing file is an empty state;
// a damaged one is Corruption naming the file.
StatusOr<std::map<std::string, std::string>> LoadAlertState(Env* env, const std::string& store_dir);
// Written atomically (Env::WriteFileAtomic). IoError on failure.
Status SaveAlertState(Env* env, const std::string& store_dir,
                      const std::map<std::string, std::string>& state);

// Marks alerts present in `state` as already fired, and adds the others to
// `state` (fired on `today`). Returns how many are new.
int ApplyAlertState(std::vector<BudgetStatus>* statuses, std::map<std::string, std::string>* state,
                    Days today);

std::string BudgetsToText(const std::vector<BudgetStatus>& statuses);

}  // namespace sagebox::plan
