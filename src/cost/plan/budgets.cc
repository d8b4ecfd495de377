#include "cost/plan/budgets.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/table.h"
#include "cost/line_item.h"
#include "cost/plan/forecast.h"
#include "cost/plan/savings_plans.h"

namespace sagebox::plan {

namespace {

using nlohmann::json;

constexpr std::string_view kStateFile = "budget_alerts.json";

// Cost Explorer / Budgets service names for the product codes the store
// keeps (AWS Price List service codes). Unknown names pass through, so a
// product code works as well.
std::string ServiceCode(const std::string& name) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"Amazon SageMaker", "AmazonSageMaker"},
      {"Amazon Elastic Compute Cloud - Compute", "AmazonEC2"},
      {"EC2 - Other", "AmazonEC2"},
      {"Amazon Simple Storage Service", "AmazonS3"},
      {"Amazon CloudWatch", "AmazonCloudWatch"},
      {"AWS Lambda", "AWSLambda"},
      {"Amazon Elastic File System", "AmazonEFS"},
      {"Amazon Elastic Container Registry (ECR)", "AmazonECR"},
      {"AWS Glue", "AWSGlue"},
      {"Amazon Athena", "AmazonAthena"},
      {"Amazon Virtual Private Cloud", "AmazonVPC"},
      {"AWS Key Management Service", "awskms"},
      {"Savings Plans for AWS Compute usage", "ComputeSavingsPlans"},
  };
  for (const auto& [n, c] : kNames) {
    if (name == n) return std::string(c);
  }
  return name;
}

Status Bad(const std::string& path, const std::string& where, const std::string& what) {
  return BadInput(fmt::format("{}: {}: {}", path, where, what));
}

StatusOr<std::string> Str(const json& j, const char* key, const std::string& path,
                          const std::string& where, bool required, std::string def = "") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Bad(path, where, fmt::format("missing \"{}\"", key));
    return def;
  }
  if (!it->is_string()) return Bad(path, where + "." + key, "expected a string");
  return it->get<std::string>();
}

StatusOr<double> Number(const json& j, const std::string& path, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    Decimal d;
    if (Decimal::Parse(j.get<std::string>(), &d)) return d.ToDouble();
  }
  return Bad(path, where, "expected a number");
}

StatusOr<Decimal> DecimalField(const json& j, const std::string& path, const std::string& where) {
  Decimal d;
  if (j.is_string() && Decimal::Parse(j.get<std::string>(), &d)) return d;
  if (j.is_number()) return DecimalFromDouble(j.get<double>());
  return Bad(path, where, "expected a decimal amount such as \"100.0\"");
}

// TimePeriod Start/End: the AWS CLI prints ISO 8601 ("2024-01-01T00:00:00+00:00")
// or, with cli_timestamp_format = none, epoch seconds.
StatusOr<Days> TimeField(const json& j, const std::string& path, const std::string& where) {
  if (j.is_number()) return DayOf(static_cast<UnixSeconds>(j.get<double>()));
  if (j.is_string()) {
    auto t = ParseTimestamp(j.get<std::string>());
    if (t) return DayOf(*t);
  }
  return Bad(path, where, "expected a timestamp such as \"2024-01-01T00:00:00+00:00\"");
}

StatusOr<Notification> ParseNotification(const json& j, const std::string& path,
                                         const std::string& where) {
  if (!j.is_object()) return Bad(path, where, "expected a Notification object");
  Notification n;
  ASSIGN_OR_RETURN(n.notification_type, Str(j, "NotificationType", path, where, true));
  if (n.notification_type != "ACTUAL" && n.notification_type != "FORECASTED") {
    return Bad(path, where + ".NotificationType", "expected ACTUAL or FORECASTED");
  }
  ASSIGN_OR_RETURN(n.comparison_operator, Str(j, "ComparisonOperator", path, where, true));
  if (n.comparison_operator != "GREATER_THAN" && n.comparison_operator != "LESS_THAN" &&
      n.comparison_operator != "EQUAL_TO") {
    return Bad(path, where + ".ComparisonOperator", "expected GREATER_THAN, LESS_THAN or EQUAL_TO");
  }
  auto th = j.find("Threshold");
  if (th == j.end()) return Bad(path, where, "missing \"Threshold\"");
  ASSIGN_OR_RETURN(n.threshold, Number(*th, path, where + ".Threshold"));
  ASSIGN_OR_RETURN(n.threshold_type, Str(j, "ThresholdType", path, where, false, "PERCENTAGE"));
  if (n.threshold_type != "PERCENTAGE" && n.threshold_type != "ABSOLUTE_VALUE") {
    return Bad(path, where + ".ThresholdType", "expected PERCENTAGE or ABSOLUTE_VALUE");
  }
  return n;
}

// Accepts [Notification...] or describe-notifications-for-budget's
// {"Notifications": [...]}.
Status ParseNotifications(const json& j, const std::string& path, const std::string& where,
                          std::vector<Notification>* out) {
  const json* arr = &j;
  if (j.is_object()) {
    auto it = j.find("Notifications");
    if (it == j.end()) return Bad(path, where, "expected a \"Notifications\" array");
    arr = &*it;
  }
  if (!arr->is_array()) return Bad(path, where, "expected an array of Notification objects");
  for (size_t i = 0; i < arr->size(); ++i) {
    ASSIGN_OR_RETURN(auto n, ParseNotification((*arr)[i], path, fmt::format("{}[{}]", where, i)));
    out->push_back(n);
  }
  return Status::Ok();
}

Status ParseCostFilters(const json& j, const std::string& path, const std::string& where,
                        Budget* b) {
  if (!j.is_object()) return Bad(path, where, "expected an object of KEY: [values]");
  static const std::pair<std::string_view, cost::DimKind> kKeys[] = {
      {"Service", cost::DimKind::kService},
      {"LinkedAccount", cost::DimKind::kLinkedAccount},
      {"UsageType", cost::DimKind::kUsageType},
      {"Region", cost::DimKind::kRegion},
      {"AZ", cost::DimKind::kAvailabilityZone},
      {"Operation", cost::DimKind::kOperation},
      {"InstanceType", cost::DimKind::kInstanceType},
      {"RecordType", cost::DimKind::kLineItemType},
  };
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const json& val = item.value();
    std::string w = where;
    w += ".";
    w += key;
    if (!val.is_array()) return Bad(path, w, "expected an array of strings");
    std::vector<std::string> values;
    for (const auto& v : val) {
      if (!v.is_string()) return Bad(path, w, "expected an array of strings");
      values.push_back(v.get<std::string>());
    }
    if (key == "TagKeyValue") {
      // "user:team$ml": tag key, '$', value (empty value = untagged).
      std::string tag;
      cost::Filter f;
      for (const auto& v : values) {
        size_t d = v.find('$');
        if (d == std::string::npos) return Bad(path, w, "expected \"user:key$value\"");
        std::string k = cost::NormalizeTagKey(v.substr(0, d));
        if (!tag.empty() && k != tag) {
          b->unsupported = "TagKeyValue with more than one tag key";
          break;
        }
        tag = k;
        f.values.push_back(v.substr(d + 1));
      }
      f.dim.kind = cost::DimKind::kTag;
      f.dim.tag_key = tag;
      if (!tag.empty()) b->filters.push_back(f);
      continue;
    }
    auto it = std::find_if(std::begin(kKeys), std::end(kKeys),
                           [&key](const auto& p) { return p.first == key; });
    if (it == std::end(kKeys)) {
      b->unsupported = "CostFilters key " + key;
      continue;
    }
    cost::Filter f;
    f.dim.kind = it->second;
    for (auto& v : values) {
      if (it->second == cost::DimKind::kService) v = ServiceCode(v);
      if (it->second == cost::DimKind::kLinkedAccount) v = v.substr(0, v.find(' '));
      f.values.push_back(v);
    }
    b->filters.push_back(f);
  }
  return Status::Ok();
}

Status ParseCostTypes(const json& j, const std::string& path, const std::string& where,
                      CostTypes* c) {
  if (!j.is_object()) return Bad(path, where, "expected an object of booleans");
  const std::pair<const char*, bool*> kFields[] = {
      {"IncludeTax", &c->include_tax},
      {"IncludeCredit", &c->include_credit},
      {"IncludeRefund", &c->include_refund},
      {"IncludeUpfront", &c->include_upfront},
      {"IncludeRecurring", &c->include_recurring},
      {"IncludeDiscount", &c->include_discount},
      {"IncludeSubscription", &c->include_subscription},
      {"IncludeOtherSubscription", &c->include_other_subscription},
      {"IncludeSupport", &c->include_support},
      {"UseAmortized", &c->use_amortized},
      {"UseBlended", &c->use_blended},
  };
  for (const auto& [k, field] : kFields) {
    auto it = j.find(k);
    if (it == j.end()) continue;
    if (!it->is_boolean()) return Bad(path, where + "." + k, "expected true or false");
    *field = it->get<bool>();
  }
  return Status::Ok();
}

StatusOr<Budget> ParseBudget(const json& j, const std::string& path, const std::string& where) {
  if (!j.is_object()) return Bad(path, where, "expected a Budget object");
  Budget b;
  ASSIGN_OR_RETURN(b.name, Str(j, "BudgetName", path, where, true));
  std::string w = where + " (" + b.name + ")";
  ASSIGN_OR_RETURN(auto type, Str(j, "BudgetType", path, w, true));
  if (type == "COST") {
    b.type = BudgetType::kCost;
  } else if (type == "USAGE") {
    b.type = BudgetType::kUsage;
  } else if (type == "SAVINGS_PLANS_UTILIZATION") {
    b.type = BudgetType::kSavingsPlansUtilization;
  } else if (type == "SAVINGS_PLANS_COVERAGE") {
    b.type = BudgetType::kSavingsPlansCoverage;
  } else {
    return Bad(path, w + ".BudgetType",
               "expected COST, USAGE, SAVINGS_PLANS_UTILIZATION or SAVINGS_PLANS_COVERAGE "
               "(RI budgets are not supported), got '" +
                   type + "'");
  }
  ASSIGN_OR_RETURN(auto unit, Str(j, "TimeUnit", path, w, false, "MONTHLY"));
  if (unit == "DAILY") {
    b.time_unit = TimeUnit::kDaily;
  } else if (unit == "MONTHLY") {
    b.time_unit = TimeUnit::kMonthly;
  } else if (unit == "QUARTERLY") {
    b.time_unit = TimeUnit::kQuarterly;
  } else if (unit == "ANNUALLY") {
    b.time_unit = TimeUnit::kAnnually;
  } else {
    return Bad(path, w + ".TimeUnit", "expected DAILY, MONTHLY, QUARTERLY or ANNUALLY");
  }
  auto lim = j.find("BudgetLimit");
  if (lim == j.end() || !lim->is_object() || !lim->contains("Amount")) {
    return Bad(path, w, "missing \"BudgetLimit\": {\"Amount\": ..., \"Unit\": ...}");
  }
  ASSIGN_OR_RETURN(b.limit, DecimalField((*lim)["Amount"], path, w + ".BudgetLimit.Amount"));
  ASSIGN_OR_RETURN(b.unit, Str(*lim, "Unit", path, w + ".BudgetLimit", false, "USD"));
  if (auto it = j.find("CostFilters"); it != j.end() && !it->is_null()) {
    RETURN_IF_ERROR(ParseCostFilters(*it, path, w + ".CostFilters", &b));
  }
  if (auto it = j.find("FilterExpression"); it != j.end() && !it->is_null()) {
    b.unsupported = "FilterExpression (use CostFilters)";
  }
  if (auto it = j.find("CostTypes"); it != j.end() && !it->is_null()) {
    RETURN_IF_ERROR(ParseCostTypes(*it, path, w + ".CostTypes", &b.cost_types));
  }
  if (auto it = j.find("TimePeriod"); it != j.end() && it->is_object()) {
    if (it->contains("Start")) {
      ASSIGN_OR_RETURN(b.start, TimeField((*it)["Start"], path, w + ".TimePeriod.Start"));
    }
    if (it->contains("End")) {
      ASSIGN_OR_RETURN(b.end, TimeField((*it)["End"], path, w + ".TimePeriod.End"));
    }
  }
  if (auto it = j.find("Notifications"); it != j.end()) {
    RETURN_IF_ERROR(ParseNotifications(*it, path, w + ".Notifications", &b.notifications));
  }
  return b;
}

Decimal ThresholdValue(const Budget& b, const Notification& n) {
  Decimal t = DecimalFromDouble(n.threshold);
  if (n.threshold_type == "ABSOLUTE_VALUE") return t;
  return Decimal::Div(Decimal::Mul(b.limit, t), Decimal::FromInt(100));
}

bool Holds(const std::string& op, Decimal value, Decimal threshold) {
  if (op == "GREATER_THAN") return value > threshold;
  if (op == "LESS_THAN") return value < threshold;
  return value == threshold;
}

std::vector<std::string> Excluded(const CostTypes& c) {
  // lineItem/LineItemType values (AWS CUR data dictionary) behind each CostTypes switch.
  std::vector<std::string> out;
  if (!c.include_tax) out.emplace_back("Tax");
  if (!c.include_credit) out.emplace_back("Credit");
  if (!c.include_refund) out.emplace_back("Refund");
  if (!c.include_upfront) {
    out.emplace_back("Fee");
    out.emplace_back("SavingsPlanUpfrontFee");
  }
  if (!c.include_recurring) {
    out.emplace_back("RIFee");
    out.emplace_back("SavingsPlanRecurringFee");
  }
  if (!c.include_discount) {
    out.emplace_back("EdpDiscount");
    out.emplace_back("BundledDiscount");
    out.emplace_back("PrivateRateDiscount");
    out.emplace_back("DistributorDiscount");
  }
  return out;
}

Status EvaluateSpend(const store::Store& st, const Budget& b, Days as_of, BudgetStatus* s) {
  cost::Metric metric = b.type == BudgetType::kUsage ? cost::Metric::kUsageQuantity
                        : b.cost_types.use_amortized ? cost::Metric::kAmortized
                        : b.cost_types.use_blended   ? cost::Metric::kBlended
                                                     : cost::Metric::kUnblended;
  cost::Query q;
  q.metrics = {metric};
  q.filters = b.filters;
  q.from = s->period_start;
  q.to = std::min(as_of + 1, s->period_end);
  ASSIGN_OR_RETURN(auto days, DailySeries(st, q, Excluded(b.cost_types)));
  for (auto d : days) s->actual += d;
  bool wants_forecast =
      std::any_of(b.notifications.begin(), b.notifications.end(),
                  [](const Notification& n) { return n.notification_type == "FORECASTED"; });
  if (!wants_forecast) return Status::Ok();
  int horizon = s->period_end - (as_of + 1);
  if (horizon <= 0) {
    s->forecast = s->actual;
    return Status::Ok();
  }
  ForecastRequest req;
  req.query.metrics = {metric};
  req.query.filters = b.filters;
  req.as_of = as_of;
  req.horizon = horizon;
  auto f = ForecastCost(st, req);
  if (!f.ok()) {
    s->note = "no forecast: " + f.status().message();
    return Status::Ok();
  }
  s->forecast = s->actual + f->total_mean;
  return Status::Ok();
}

}  // namespace

std::string Alert::Text() const {
  std::string thr = GroupThousands(threshold.ToFixed(2)) + " " + unit;
  std::string what = notification.threshold_type == "PERCENTAGE"
                         ? fmt::format("{}% of the budget ({})", notification.threshold, thr)
                         : thr;
  std::string op = notification.comparison_operator == "GREATER_THAN" ? "is above"
                   : notification.comparison_operator == "LESS_THAN"  ? "is below"
                                                                      : "equals";
  return fmt::format(
      "Budget '{}': {} {} {} {} {} for {} to {}", budget,
      notification.notification_type == "ACTUAL" ? "actual" : "forecasted (to period end)",
      GroupThousands(value.ToFixed(2)), unit, op, what, FormatDate(period_start),
      FormatDate(period_end - 1));
}

StatusOr<std::vector<Budget>> ParseBudgets(std::string_view text, const std::string& path) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return BadInput(path + ": not valid JSON");
  if (!j.is_object()) return BadInput(path + ": expected an object with \"Budgets\"");
  std::vector<Budget> out;
  if (auto it = j.find("Budgets"); it != j.end()) {
    if (!it->is_array()) return Bad(path, "Budgets", "expected an array of Budget objects");
    for (size_t i = 0; i < it->size(); ++i) {
      ASSIGN_OR_RETURN(auto b, ParseBudget((*it)[i], path, fmt::format("Budgets[{}]", i)));
      out.push_back(std::move(b));
    }
  } else if (auto one = j.find("Budget"); one != j.end()) {  // describe-budget
    ASSIGN_OR_RETURN(auto b, ParseBudget(*one, path, "Budget"));
    out.push_back(std::move(b));
  } else {
    return BadInput(path +
                    ": expected \"Budgets\": [...] (the output of aws budgets "
                    "describe-budgets)");
  }
  if (auto it = j.find("Notifications"); it != j.end()) {
    if (!it->is_object()) {
      return Bad(path, "Notifications",
                 "expected an object from budget name to that budget's notifications");
    }
    for (const auto& item : it->items()) {
      const std::string& name = item.key();
      const json& v = item.value();
      auto b =
          std::find_if(out.begin(), out.end(), [&](const Budget& x) { return x.name == name; });
      if (b == out.end()) return Bad(path, "Notifications." + name, "no budget has this name");
      RETURN_IF_ERROR(ParseNotifications(v, path, "Notifications." + name, &b->notifications));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (out[k].name == out[i].name) return Bad(path, out[i].name, "duplicate BudgetName");
    }
  }
  return out;
}

std::pair<Days, Days> BudgetPeriod(TimeUnit u, Days day) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  switch (u) {
    case TimeUnit::kDaily:
      return {day, day + 1};
    case TimeUnit::kMonthly:
      return {MonthStart(day), NextMonthStart(day)};
    case TimeUnit::kQuarterly: {
      unsigned q0 = (m - 1) / 3 * 3 + 1;
      Days s = DaysFromCivil(y, q0, 1);
      Days e = q0 == 10 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, q0 + 3, 1);
      return {s, e};
    }
    case TimeUnit::kAnnually:
      return {DaysFromCivil(y, 1, 1), DaysFromCivil(y + 1, 1, 1)};
  }
  return {day, day + 1};
}

StatusOr<std::vector<BudgetStatus>> CheckBudgets(const store::Store& st,
                                                 const std::vector<Budget>& budgets,
                                                 const CheckOptions& opt) {
  Days as_of = opt.as_of;
  if (!as_of) {
    ASSIGN_OR_RETURN(auto range, cost::DataRange(st));
    as_of = range.second;
  }
  std::vector<BudgetStatus> out;
  for (const auto& b : budgets) {
    BudgetStatus s;
    s.budget = b.name;
    s.type = b.type;
    s.unit = b.unit;
    s.limit = b.limit;
    std::tie(s.period_start, s.period_end) = BudgetPeriod(b.time_unit, as_of);
    s.active = (!b.start || as_of >= b.start) && (!b.end || as_of < b.end);
    if (!s.active) {
      s.note = "outside the budget's TimePeriod";
      out.push_back(std::move(s));
      continue;
    }
    if (!b.unsupported.empty()) {
      s.error = Unimplemented("budget '" + b.name + "' uses " + b.unsupported +
                              ", which sagebox cannot evaluate");
      out.push_back(std::move(s));
      continue;
    }
    if (b.type == BudgetType::kCost || b.type == BudgetType::kUsage) {
      s.error = EvaluateSpend(st, b, as_of, &s);
    } else {
      std::string type = BudgetTypeName(b.type);
      if (!opt.savings_plans) {
        s.error = Unimplemented(type + " budgets need a Savings Plans provider");
      } else {
        auto v = opt.savings_plans(type, s.period_start, std::min(as_of + 1, s.period_end));
        if (v.ok()) {
          s.actual = DecimalFromDouble(*v);
        } else {
          s.error = v.status().WithContext("budget '" + b.name + "'");
        }
      }
      if (std::any_of(b.notifications.begin(), b.notifications.end(),
                      [](const Notification& n) { return n.notification_type == "FORECASTED"; })) {
        s.note = "FORECASTED notifications apply to COST and USAGE budgets only";
      }
    }
    if (s.error.ok()) {
      for (const auto& n : b.notifications) {
        const bool forecasted = n.notification_type == "FORECASTED";
        if (forecasted && !s.forecast) continue;
        Decimal value = forecasted ? *s.forecast : s.actual;
        Decimal thr = ThresholdValue(b, n);
        if (!Holds(n.comparison_operator, value, thr)) continue;
        Alert a;
        a.budget = b.name;
        a.unit = b.unit;
        a.notification = n;
        a.period_start = s.period_start;
        a.period_end = s.period_end;
        a.threshold = thr;
        a.value = value;
        a.key =
            fmt::format("{}|{}|{}|{}|{}|{}", b.name, FormatDate(s.period_start),
                        n.notification_type, n.comparison_operator, n.threshold, n.threshold_type);
        s.alerts.push_back(std::move(a));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> LoadAlertState(Env* env,
                                                            const std::string& store_dir) {
  std::map<std::string, std::string> state;
  std::string path = JoinPath(store_dir, kStateFile);
  if (!env->Exists(path)) return state;
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("fired") || !j["fired"].is_object()) {
    return Corruption(path + ": not a sagebox budget alert state file; remove it to start afresh");
  }
  for (const auto& [k, v] : j["fired"].items()) {
    if (v.is_string()) state[k] = v.get<std::string>();
  }
  return state;
}

Status SaveAlertState(Env* env, const std::string& store_dir,
                      const std::map<std::string, std::string>& state) {
  json j = {{"schema", "sagebox.budget-alerts/v1"}, {"fired", state}};
  return env->WriteFileAtomic(JoinPath(store_dir, kStateFile), j.dump(2) + "\n");
}

int ApplyAlertState(std::vector<BudgetStatus>* statuses, std::map<std::string, std::string>* state,
                    Days today) {
  int fresh = 0;
  for (auto& s : *statuses) {
    for (auto& a : s.alerts) {
      auto it = state->find(a.key);
      if (it != state->end()) {
        a.already_fired = true;
        a.fired_on = it->second;
      } else {
        a.fired_on = FormatDate(today);
        (*state)[a.key] = a.fired_on;
        ++fresh;
      }
    }
  }
  return fresh;
}

std::string BudgetsToText(const std::vector<BudgetStatus>& statuses) {
  using A = TextTable::Align;
  TextTable t({"Budget", "Type", "Period", "Limit", "Actual", "Forecast", "Status"},
              {A::kLeft, A::kLeft, A::kLeft, A::kRight, A::kRight, A::kRight, A::kLeft});
  std::string notes;
  for (const auto& s : statuses) {
    std::string status;
    if (!s.active) {
      status = "inactive";
    } else if (!s.error.ok()) {
      status = "not evaluated";
      notes += fmt::format("  {}: {}\n", s.budget, s.error.message());
    } else {
      int fresh = 0, old = 0;
      for (const auto& a : s.alerts) (a.already_fired ? old : fresh)++;
      status = fresh ? fmt::format("ALERT ({})", fresh) : old ? "alerted earlier" : "ok";
    }
    if (!s.note.empty()) notes += fmt::format("  {}: {}\n", s.budget, s.note);
    const bool sp = s.type == BudgetType::kSavingsPlansUtilization ||
                    s.type == BudgetType::kSavingsPlansCoverage;
    auto amt = [&](Decimal d) { return sp ? d.ToFixed(2) + "%" : GroupThousands(d.ToFixed(2)); };
    t.AddRow({s.budget, BudgetTypeName(s.type),
              FormatDate(s.period_start) + ".." + FormatDate(s.period_end - 1), amt(s.limit),
              s.active && s.error.ok() ? amt(s.actual) : "-", s.forecast ? amt(*s.forecast) : "-",
              status});
  }
  std::string out = t.Render();
  if (!notes.empty()) out += "notes:\n" + notes;
  for (const auto& s : statuses) {
    for (const auto& a : s.alerts) {
      out += (a.already_fired ? "alerted on " + a.fired_on + ": " : "ALERT: ") + a.Text() + "\n";
    }
  }
  return out;
}

SavingsPlansProvider StoreSavingsPlansProvider(const store::Store* st) {
  return [st](std::string_view type, Days from, Days to) -> StatusOr<double> {
    SpReportOptions o;
    o.from = from;
    o.to = to;
    if (type == "SAVINGS_PLANS_UTILIZATION") {
      o.sagemaker_only = true;
      ASSIGN_OR_RETURN(auto u, GetSavingsPlansUtilization(*st, o));
      return u.total.utilization_percentage().ToDouble();
    }
    ASSIGN_OR_RETURN(auto c, GetSavingsPlansCoverage(*st, o));
    return c.total.coverage_percentage().ToDouble();
  };
}

std::string BudgetTypeName(BudgetType t) {
  switch (t) {
    case BudgetType::kCost:
      return "COST";
    case BudgetType::kUsage:
      return "USAGE";
    case BudgetType::kSavingsPlansUtilization:
      return "SAVINGS_PLANS_UTILIZATION";
    case BudgetType::kSavingsPlansCoverage:
      return "SAVINGS_PLANS_COVERAGE";
  }
  return "?";
}

}  // namespace sagebox::plan
