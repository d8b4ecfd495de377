#include "cost/api/ce_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/strings.h"
#include "core/time.h"
#include "cost/api/ce_request.h"
#include "cost/billing_table.h"
#include "cost/line_item.h"
#include "cost/plan/forecast.h"
#include "cost/plan/savings_plans.h"
#include "cost/query.h"
#include "cost/report.h"

namespace sagebox::cost::api {

namespace {

using nlohmann::json;
using namespace ce;  // NOLINT(google-build-using-namespace): the endpoint's own helpers

// ---------------------------------------------------------------------------
// Operations.

Err ParseMetricName(const std::string& name, cost::Metric* m) {
  if (EqualsIgnoreCase(name, "NetAmortizedCost") ||
      EqualsIgnoreCase(name, "NormalizedUsageAmount")) {
    return Validation("metric " + name +
                      " is not supported by sagebox (supported: UnblendedCost, BlendedCost, "
                      "NetUnblendedCost, AmortizedCost, UsageQuantity)");
  }
  auto r = cost::ParseMetric(name);
  if (!r.ok()) return Validation(r.status().message());
  *m = *r;
  return Ok();
}

Err GetCostAndUsage(const store::Store& st, const json& req, const CeContext& ctx, json* out) {
  Period p;
  if (auto r = ParsePeriod(req, &p); !r.ok()) return r;
  cost::Query q;
  q.from = p.from;
  q.to = p.to;
  if (auto r = ParseGran(req, true, &q.granularity, nullptr); !r.ok()) return r;
  if (auto r = CheckBuckets(p, q.granularity); !r.ok()) return r;
  const json* ms = Field(req, "Metrics");
  if (ms == nullptr || !ms->is_array() || ms->empty())
    return Validation("Metrics is required: a non-empty list such as [\"UnblendedCost\"]");
  q.metrics.clear();
  for (const auto& m : *ms) {
    if (!m.is_string()) return Validation("Metrics must be a list of strings");
    cost::Metric mt{};
    if (auto r = ParseMetricName(m.get<std::string>(), &mt); !r.ok()) return r;
    if (std::find(q.metrics.begin(), q.metrics.end(), mt) == q.metrics.end())
      q.metrics.push_back(mt);
  }
  std::vector<DimSpec> groups;
  if (const json* gb = Field(req, "GroupBy")) {
    if (!gb->is_array()) return Validation("GroupBy must be a list");
    if (gb->size() > 2) return Validation("GroupBy takes at most two groups");
    for (const auto& g : *gb) {
      if (!g.is_object()) return Validation("GroupBy entries must be {Type, Key} objects");
      std::string type, key;
      if (auto r = GetString(g, "Type", true, &type); !r.ok()) return r;
      if (auto r = GetString(g, "Key", true, &key); !r.ok()) return r;
      DimSpec spec;
      if (type == "DIMENSION") {
        if (auto r = MapDimension(key, &spec); !r.ok()) return r;
      } else if (type == "TAG") {
        if (key.empty()) return Validation("GroupBy TAG needs a Key");
        spec = TagSpec(key);
      } else if (type == "COST_CATEGORY") {
        return Validation("GroupBy COST_CATEGORY is not supported by sagebox");
      } else {
        return Validation("GroupBy Type '" + type + "' is not one of DIMENSION, TAG");
      }
      q.group_by.push_back(spec.dim);
      groups.push_back(std::move(spec));
    }
  }
  if (auto r = ParseFilter(st, req, &q.filters); !r.ok()) return r;
  const std::string hash = RequestHash("GetCostAndUsage", req);
  size_t offset = 0;
  if (auto r = ParseToken(req, hash, &offset); !r.ok()) return r;

  auto res = cost::RunQuery(st, q);
  if (!res.ok()) return FromStatus(res.status());
  for (auto& b : res->buckets) {
    for (auto& g : b.groups) {
      for (size_t k = 0; k < g.keys.size() && k < groups.size(); ++k) {
        if (groups[k].service_names) g.keys[k] = ServiceDisplayName(g.keys[k]);
      }
    }
  }
  json full = cost::QueryToJson(*res);
  if (!groups.empty()) {
    json defs = json::array();
    for (const auto& g : groups) {
      defs.push_back(
          {{"Type", g.dim.kind == cost::DimKind::kTag ? "TAG" : "DIMENSION"}, {"Key", g.ce_key}});
    }
    full["GroupDefinitions"] = defs;
  }
  // Pages of page_size groups across ResultsByTime. A period without groups
  // goes to the page its position falls in (the last page if at the end), so
  // the pages concatenated are the unpaged answer.
  const size_t n = static_cast<size_t>(std::max(1, ctx.page_size));
  json& rbt = full["ResultsByTime"];
  size_t total = 0;
  for (const auto& b : rbt) total += b["Groups"].size();
  if (groups.empty() || total <= n) {
    if (offset != 0) return {"InvalidNextTokenException", "the NextPageToken is past the end", 400};
    *out = std::move(full);
    return Ok();
  }
  if (offset >= total)
    return {"InvalidNextTokenException", "the NextPageToken is past the end", 400};
  const size_t end = offset + n;
  const bool last = end >= total;
  json page = json::array();
  size_t pos = 0;
  for (auto& b : rbt) {
    const size_t cnt = b["Groups"].size();
    if (cnt == 0) {
      if (pos >= offset && (pos < end || last)) page.push_back(std::move(b));
      continue;
    }
    const size_t lo = std::max(pos, offset), hi = std::min(pos + cnt, end);
    if (lo < hi) {
      json pb = b;
      json gs = json::array();
      for (size_t i = lo; i < hi; ++i) gs.push_back(std::move(b["Groups"][i - pos]));
      pb["Groups"] = std::move(gs);
      page.push_back(std::move(pb));
    }
    pos += cnt;
  }
  rbt = std::move(page);
  if (!last) full["NextPageToken"] = MakeToken(hash, end);
  *out = std::move(full);
  return Ok();
}

// Pages of a sorted value list: MaxResults, else ctx.page_size.
Err PageValues(const json& req, const CeContext& ctx, std::string_view op,
               const std::vector<std::string>& values, const char* list_key, bool with_attributes,
               json* out) {
  int max = std::max(1, ctx.page_size);
  if (auto r = GetInt(req, "MaxResults", 1, 100000, &max); !r.ok()) return r;
  const std::string hash = RequestHash(op, req);
  size_t offset = 0;
  if (auto r = ParseToken(req, hash, &offset); !r.ok()) return r;
  if (offset != 0 && offset >= values.size())
    return {"InvalidNextTokenException", "the NextPageToken is past the end", 400};
  const size_t end = std::min(values.size(), offset + static_cast<size_t>(max));
  json list = json::array();
  for (size_t i = offset; i < end; ++i) {
    if (with_attributes)
      list.push_back({{"Value", values[i]}, {"Attributes", json::object()}});
    else
      list.push_back(values[i]);
  }
  json o;
  o[list_key] = std::move(list);
  o["ReturnSize"] = end - offset;
  o["TotalSize"] = values.size();
  if (end < values.size()) o["NextPageToken"] = MakeToken(hash, end);
  *out = std::move(o);
  return Ok();
}

// Distinct non-empty values of `dim` with unblended totals over the period.
Err DistinctValues(const store::Store& st, const Period& p, const cost::Dimension& dim,
                   const std::vector<cost::Filter>& filters,
                   std::vector<std::pair<std::string, Decimal>>* out) {
  cost::Query q;
  q.from = p.from;
  q.to = p.to;
  q.granularity = cost::Granularity::kMonthly;
  q.group_by = {dim};
  q.filters = filters;
  auto res = cost::RunQuery(st, q);
  if (!res.ok()) return FromStatus(res.status());
  std::map<std::string, Decimal> sums;
  for (const auto& b : res->buckets) {
    for (const auto& g : b.groups) sums[g.keys[0]] += g.values[0];
  }
  out->assign(sums.begin(), sums.end());
  return Ok();
}

bool SearchMatches(const std::string& search, const std::string& value) {
  return search.empty() || AsciiLower(value).find(AsciiLower(search)) != std::string::npos;
}

Err GetDimensionValues(const store::Store& st, const json& req, const CeContext& ctx, json* out) {
  Period p;
  if (auto r = ParsePeriod(req, &p); !r.ok()) return r;
  std::string dimname, context, search;
  if (auto r = GetString(req, "Dimension", true, &dimname); !r.ok()) return r;
  if (auto r = GetString(req, "Context", false, &context); !r.ok()) return r;
  if (auto r = GetString(req, "SearchString", false, &search); !r.ok()) return r;
  if (!context.empty() && context != "COST_AND_USAGE")
    return Validation("Context '" + context + "': sagebox supports only COST_AND_USAGE");
  if (Field(req, "SortBy") != nullptr)
    return Validation("SortBy is not supported by sagebox (values come by unblended cost)");
  DimSpec spec;
  if (auto r = MapDimension(dimname, &spec); !r.ok()) return r;
  std::vector<cost::Filter> filters;
  if (auto r = ParseFilter(st, req, &filters); !r.ok()) return r;
  std::vector<std::pair<std::string, Decimal>> vals;
  if (auto r = DistinctValues(st, p, spec.dim, filters, &vals); !r.ok()) return r;
  std::vector<std::pair<std::string, Decimal>> shown;
  for (auto& [v, amount] : vals) {
    if (v.empty()) continue;
    std::string label = spec.service_names ? ServiceDisplayName(v) : v;
    if (SearchMatches(search, label)) shown.emplace_back(std::move(label), amount);
  }
  // Largest spend first, as the console lists them; ties by value.
  std::stable_sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first < b.first;
  });
  std::vector<std::string> values;
  values.reserve(shown.size());
  for (auto& s : shown) values.push_back(std::move(s.first));
  return PageValues(req, ctx, "GetDimensionValues", values, "DimensionValues", true, out);
}

Err GetTags(const store::Store& st, const json& req, const CeContext& ctx, json* out) {
  Period p;
  if (auto r = ParsePeriod(req, &p); !r.ok()) return r;
  std::string tag_key, search;
  if (auto r = GetString(req, "TagKey", false, &tag_key); !r.ok()) return r;
  if (auto r = GetString(req, "SearchString", false, &search); !r.ok()) return r;
  if (Field(req, "SortBy") != nullptr)
    return Validation("SortBy is not supported by sagebox (tags come in alphabetical order)");
  std::vector<cost::Filter> filters;
  if (auto r = ParseFilter(st, req, &filters); !r.ok()) return r;
  std::vector<std::string> values;
  if (!tag_key.empty()) {
    const DimSpec spec = TagSpec(tag_key);
    std::vector<std::pair<std::string, Decimal>> vals;
    if (auto r = DistinctValues(st, p, spec.dim, filters, &vals); !r.ok()) return r;
    const std::string prefix = spec.dim.tag_key + "$";
    for (const auto& v : vals) {
      std::string value = v.first.substr(std::min(prefix.size(), v.first.size()));
      if (!value.empty() && SearchMatches(search, value)) values.push_back(std::move(value));
    }
  } else {
    // The tag keys of the segments in the period, kept if any line of the
    // period (after the filter) carries a value.
    std::set<std::string> keys;
    const UnixSeconds t0 = static_cast<UnixSeconds>(p.from) * 86400;
    const UnixSeconds t1 = static_cast<UnixSeconds>(p.to) * 86400;
    for (const auto& info : st.segments()) {
      if (info.rows == 0) continue;
      if (info.meta.is_object()) {
        auto lo = info.meta.find("usage_start_min"), hi = info.meta.find("usage_start_max");
        if (lo != info.meta.end() && lo->is_number_integer() && hi != info.meta.end() &&
            hi->is_number_integer() && (hi->get<int64_t>() < t0 || lo->get<int64_t>() >= t1)) {
          continue;
        }
      }
      auto seg = st.OpenSegment(info);
      if (!seg.ok()) return FromStatus(seg.status());
      for (size_t i = 0; i < (*seg)->num_columns(); ++i) {
        const auto& name = (*seg)->column(i).name;
        if (name.rfind(cost::col::kTagPrefix, 0) == 0)
          keys.insert(name.substr(cost::col::kTagPrefix.size()));
      }
    }
    for (const auto& k : keys) {
      if (!SearchMatches(search, k)) continue;
      std::vector<std::pair<std::string, Decimal>> vals;
      if (auto r = DistinctValues(st, p, TagSpec(k).dim, filters, &vals); !r.ok()) return r;
      const std::string empty = k + "$";
      if (std::any_of(vals.begin(), vals.end(), [&](const auto& v) { return v.first != empty; }))
        values.push_back(k);
    }
  }
  std::sort(values.begin(), values.end());
  return PageValues(req, ctx, "GetTags", values, "Tags", false, out);
}

Err ParseForecastMetric(const std::string& s, cost::Metric* m) {
  struct M {
    std::string_view name;
    cost::Metric m;
  };
  constexpr M kMetrics[] = {{"UNBLENDED_COST", cost::Metric::kUnblended},
                            {"BLENDED_COST", cost::Metric::kBlended},
                            {"NET_UNBLENDED_COST", cost::Metric::kNetUnblended},
                            {"AMORTIZED_COST", cost::Metric::kAmortized},
                            {"USAGE_QUANTITY", cost::Metric::kUsageQuantity}};
  for (const auto& x : kMetrics) {
    if (x.name == s) {
      *m = x.m;
      return Ok();
    }
  }
  return Validation("Metric '" + s +
                    "' is not supported by sagebox (accepted: UNBLENDED_COST, BLENDED_COST, "
                    "NET_UNBLENDED_COST, AMORTIZED_COST, USAGE_QUANTITY)");
}

// Forecast horizons longer than this are refused (AWS allows up to 18 months).
constexpr Days kMaxForecastDays = 550;

Err GetCostForecast(const store::Store& st, const json& req, json* out) {
  Period p;
  if (auto r = ParsePeriod(req, &p); !r.ok()) return r;
  std::string metric;
  if (auto r = GetString(req, "Metric", true, &metric); !r.ok()) return r;
  plan::ForecastRequest fr;
  cost::Metric m{};
  if (auto r = ParseForecastMetric(metric, &m); !r.ok()) return r;
  fr.query.metrics = {m};
  cost::Granularity g = cost::Granularity::kDaily;
  if (auto r = ParseGran(req, true, &g, nullptr); !r.ok()) return r;
  if (g == cost::Granularity::kHourly)
    return Validation("GetCostForecast Granularity must be DAILY or MONTHLY");
  int level = 80;
  if (auto r = GetInt(req, "PredictionIntervalLevel", 51, 99, &level); !r.ok()) return r;
  if (auto r = ParseFilter(st, req, &fr.query.filters); !r.ok()) return r;
  auto range = cost::DataRange(st);
  if (!range.ok()) return {"DataUnavailableException", "the store holds no billing data", 400};
  // History ends the day before Start, or with the data if Start is later;
  // the model forecasts every day from there and the answer covers
  // [Start, End).
  const Days as_of = std::min(p.from - 1, range->second);
  const Days train_from = std::max(range->first, as_of + 1 - 90);
  if (as_of + 1 - train_from < plan::kMinHistoryDays) {
    return {"DataUnavailableException",
            fmt::format("not enough history to forecast from {}: {} days of data before it, {} "
                        "needed (data covers {} to {})",
                        FormatDate(as_of + 1), std::max<Days>(0, as_of + 1 - train_from),
                        plan::kMinHistoryDays, FormatDate(range->first), FormatDate(range->second)),
            400};
  }
  const Days horizon = p.to - (as_of + 1);
  if (horizon > kMaxForecastDays) {
    return Validation(
        fmt::format("the forecast would reach {} days past the data; sagebox "
                    "forecasts at most {} days",
                    horizon, kMaxForecastDays));
  }
  fr.as_of = as_of;
  fr.horizon = static_cast<int>(horizon);
  fr.level = level;
  fr.granularity = cost::Granularity::kDaily;
  auto f = plan::ForecastCost(st, fr);
  if (!f.ok()) {
    if (f.status().code() == StatusCode::kInvalidArgument)
      return {"DataUnavailableException", f.status().message(), 400};
    return FromStatus(f.status());
  }
  // Sum the daily forecasts over [Start, End) per requested period (bounds
  // summed too, as plan::ForecastCost does for months).
  const std::string unit = m == cost::Metric::kUsageQuantity ? "N/A" : f->currency;
  json by = json::array();
  Decimal total;
  Days d = p.from;
  while (d < p.to) {
    Days e = g == cost::Granularity::kDaily ? d + 1 : std::min(NextMonthStart(d), p.to);
    Decimal mean, lo, hi;
    for (const auto& per : f->periods) {
      if (per.start >= d && per.start < e) {
        mean += per.mean;
        lo += per.lower;
        hi += per.upper;
      }
    }
    by.push_back({{"TimePeriod", {{"Start", FormatDate(d)}, {"End", FormatDate(e)}}},
                  {"MeanValue", mean.ToString()},
                  {"PredictionIntervalLowerBound", lo.ToString()},
                  {"PredictionIntervalUpperBound", hi.ToString()}});
    total += mean;
    d = e;
  }
  json o;
  o["Total"] = {{"Amount", total.ToString()}, {"Unit", unit}};
  o["ForecastResultsByTime"] = std::move(by);
  // What sagebox adds (the model and its backtest); SDKs ignore unknown keys.
  json lib = plan::ForecastToJson(*f);
  if (lib.contains("Sagebox")) o["Sagebox"] = std::move(lib["Sagebox"]);
  *out = std::move(o);
  return Ok();
}

Err NoFilter(const json& req, std::string_view op) {
  for (const char* k : {"Filter", "SortBy", "GroupBy"}) {
    if (Field(req, k) != nullptr)
      return Validation(fmt::format("{}: {} is not supported by sagebox", op, k));
  }
  return Ok();
}

Err SpOptions(const json& req, plan::SpReportOptions* opt, bool* by_time) {
  Period p;
  if (auto r = ParsePeriod(req, &p); !r.ok()) return r;
  opt->from = p.from;
  opt->to = p.to;
  opt->granularity = cost::Granularity::kMonthly;
  bool given = false;
  if (auto r = ParseGran(req, false, &opt->granularity, &given); !r.ok()) return r;
  *by_time = given;
  return CheckBuckets(p, opt->granularity);
}

Err GetSpUtilization(const store::Store& st, const json& req, json* out) {
  if (auto r = NoFilter(req, "GetSavingsPlansUtilization"); !r.ok()) return r;
  plan::SpReportOptions opt;
  bool by_time = false;
  if (auto r = SpOptions(req, &opt, &by_time); !r.ok()) return r;
  auto u = plan::GetSavingsPlansUtilization(st, opt);
  if (!u.ok()) return FromStatus(u.status());
  json o = plan::UtilizationToJson(*u);
  // Without a Granularity AWS answers only the Total.
  if (!by_time) o.erase("SavingsPlansUtilizationsByTime");
  *out = std::move(o);
  return Ok();
}

Err GetSpCoverage(const store::Store& st, const json& req, json* out) {
  if (auto r = NoFilter(req, "GetSavingsPlansCoverage"); !r.ok()) return r;
  if (Field(req, "NextToken") != nullptr)
    return {"InvalidNextTokenException", "sagebox returns every coverage period in one page", 400};
  if (const json* ms = Field(req, "Metrics")) {
    if (!ms->is_array()) return Validation("Metrics must be a list");
    for (const auto& m : *ms) {
      if (!m.is_string() || m.get<std::string>() != "SpendCoveredBySavingsPlans")
        return Validation("GetSavingsPlansCoverage Metrics: only SpendCoveredBySavingsPlans");
    }
  }
  plan::SpReportOptions opt;
  bool by_time = false;
  if (auto r = SpOptions(req, &opt, &by_time); !r.ok()) return r;
  auto c = plan::GetSavingsPlansCoverage(st, opt);
  if (!c.ok()) return FromStatus(c.status());
  *out = plan::CoverageToJson(*c);
  return Ok();
}

Err GetSpRecommendation(const store::Store& st, const json& req, json* out) {
  if (Field(req, "Filter") != nullptr)
    return Validation("GetSavingsPlansPurchaseRecommendation: Filter is not supported by sagebox");
  if (Field(req, "NextPageToken") != nullptr)
    return {"InvalidNextTokenException", "sagebox returns the recommendation in one page", 400};
  std::string type, term, payment, lookback, scope;
  if (auto r = GetString(req, "SavingsPlansType", true, &type); !r.ok()) return r;
  if (auto r = GetString(req, "TermInYears", true, &term); !r.ok()) return r;
  if (auto r = GetString(req, "PaymentOption", true, &payment); !r.ok()) return r;
  if (auto r = GetString(req, "LookbackPeriodInDays", true, &lookback); !r.ok()) return r;
  if (auto r = GetString(req, "AccountScope", false, &scope); !r.ok()) return r;
  if (type != "SAGEMAKER_SP") {
    return Validation("SavingsPlansType '" + type +
                      "': sagebox recommends only SAGEMAKER_SP (Compute and EC2 Instance Savings "
                      "Plans do not cover SageMaker)");
  }
  if (!scope.empty() && scope != "PAYER")
    return Validation("AccountScope '" + scope + "': sagebox recommends for the PAYER only");
  plan::RecommendOptions opt;
  auto t = plan::ParseTerm(term);
  if (!t.ok() || (term != "ONE_YEAR" && term != "THREE_YEARS"))
    return Validation("TermInYears '" + term + "' is not one of ONE_YEAR, THREE_YEARS");
  auto pay = plan::ParsePayment(payment);
  if (!pay.ok() ||
      (payment != "NO_UPFRONT" && payment != "PARTIAL_UPFRONT" && payment != "ALL_UPFRONT")) {
    return Validation("PaymentOption '" + payment +
                      "' is not one of NO_UPFRONT, PARTIAL_UPFRONT, ALL_UPFRONT");
  }
  auto lb = plan::ParseLookbackDays(lookback);
  if (!lb.ok() ||
      (lookback != "SEVEN_DAYS" && lookback != "THIRTY_DAYS" && lookback != "SIXTY_DAYS")) {
    return Validation("LookbackPeriodInDays '" + lookback +
                      "' is not one of SEVEN_DAYS, THIRTY_DAYS, SIXTY_DAYS");
  }
  opt.term = *t;
  opt.payment = *pay;
  opt.lookback_days = *lb;
  if (!cost::DataRange(st).ok())
    return {"DataUnavailableException", "the store holds no billing data", 400};
  auto rec = plan::RecommendSavingsPlan(st, opt);
  if (!rec.ok()) return FromStatus(rec.status());
  *out = plan::RecommendationToJson(*rec);
  return Ok();
}

constexpr std::string_view kTargetPrefix = "AWSInsightsIndexService.";

}  // namespace

CeResponse HandleCostExplorer(const store::Store& st, std::string_view target,
                              std::string_view body, const CeContext& ctx) {
  auto error = [](const Err& e) {
    CeResponse r;
    r.http_status = e.status;
    r.body = {{"__type", e.type}, {"Message", e.message}};
    return r;
  };
  std::string_view op;
  if (target.substr(0, kTargetPrefix.size()) == kTargetPrefix)
    op = target.substr(kTargetPrefix.size());
  json req = json::object();
  if (!body.empty()) {
    req = json::parse(body, nullptr, false);
    if (req.is_discarded() || !req.is_object()) {
      return error({"SerializationException", "the request body is not a JSON object", 400});
    }
  }
  json out;
  Err e;
  if (op == "GetCostAndUsage") {
    e = GetCostAndUsage(st, req, ctx, &out);
  } else if (op == "GetCostForecast") {
    e = GetCostForecast(st, req, &out);
  } else if (op == "GetDimensionValues") {
    e = GetDimensionValues(st, req, ctx, &out);
  } else if (op == "GetTags") {
    e = GetTags(st, req, ctx, &out);
  } else if (op == "GetSavingsPlansUtilization") {
    e = GetSpUtilization(st, req, &out);
  } else if (op == "GetSavingsPlansCoverage") {
    e = GetSpCoverage(st, req, &out);
  } else if (op == "GetSavingsPlansPurchaseRecommendation") {
    e = GetSpRecommendation(st, req, &out);
  } else {
    // Only printable ASCII of the header goes back (the body must stay UTF-8).
    std::string t;
    for (char c : target.substr(0, 200)) t += c >= 0x20 && c < 0x7f ? c : '?';
    return error({"UnknownOperationException",
                  "unknown operation '" + t +
                      "' (sagebox answers AWSInsightsIndexService.GetCostAndUsage, "
                      "GetCostForecast, GetDimensionValues, GetTags, GetSavingsPlansUtilization, "
                      "GetSavingsPlansCoverage, GetSavingsPlansPurchaseRecommendation)",
                  400});
  }
  if (!e.ok()) return error(e);
  CeResponse r;
  r.body = std::move(out);
  return r;
}

}  // namespace sagebox::cost::api
