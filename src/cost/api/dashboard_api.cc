#include "cost/api/dashboard_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <exception>

#include "core/time.h"
#include "cost/findings/finding.h"
#include "cost/plan/forecast.h"
#include "cost/plan/savings_plans.h"
#include "cost/query.h"
#include "cost/report.h"
#include "store/store.h"

namespace sagebox::cost::api {

namespace {

using http::ApiRequest;
using http::ApiResponse;
using http::ErrorResponse;
using http::JsonResponse;
using http::MethodNotAllowed;
using nlohmann::json;

std::string Param(const ApiRequest& req, const std::string& name, const std::string& def = "") {
  auto it = req.params.find(name);
  return it == req.params.end() ? def : it->second;
}

std::vector<std::string> Params(const ApiRequest& req, const std::string& name) {
  std::vector<std::string> out;
  auto [a, b] = req.params.equal_range(name);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

Status DateParam(const ApiRequest& req, const std::string& name, Days* out) {
  std::string v = Param(req, name);
  if (v.empty()) return Status::Ok();
  auto d = ParseDate(v);
  if (!d) return InvalidArgument(name + " '" + v + "' is not a date (expected YYYY-MM-DD)");
  *out = *d;
  return Status::Ok();
}

StatusOr<int> IntParam(const ApiRequest& req, const std::string& name, int def, int lo, int hi) {
  std::string v = Param(req, name);
  if (v.empty()) return def;
  int x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi) {
    return InvalidArgument(
        fmt::format("{} '{}' must be a whole number from {} to {}", name, v, lo, hi));
  }
  return x;
}

Status AddFilters(const ApiRequest& req, std::vector<cost::Filter>* out) {
  for (const auto& f : Params(req, "filter")) {
    ASSIGN_OR_RETURN(auto x, cost::ParseFilter(f));
    out->push_back(std::move(x));
  }
  return Status::Ok();
}

// The query parameters of /api/query, read as `cost query` reads its flags.
StatusOr<cost::Query> QueryOf(const ApiRequest& req) {
  cost::Query q;
  RETURN_IF_ERROR(DateParam(req, "from", &q.from));
  RETURN_IF_ERROR(DateParam(req, "to", &q.to));
  ASSIGN_OR_RETURN(q.granularity, cost::ParseGranularity(Param(req, "granularity", "MONTHLY")));
  q.metrics.clear();
  for (const auto& m : Params(req, "metric")) {
    ASSIGN_OR_RETURN(auto x, cost::ParseMetric(m));
    q.metrics.push_back(x);
  }
  if (q.metrics.empty()) q.metrics.push_back(cost::Metric::kUnblended);
  auto gbs = Params(req, "group_by");
  if (gbs.size() > 2) return InvalidArgument("at most two group_by, as in Cost Explorer");
  for (const auto& g : gbs) {
    ASSIGN_OR_RETURN(auto d, cost::ParseDimension(g));
    q.group_by.push_back(d);
  }
  RETURN_IF_ERROR(AddFilters(req, &q.filters));
  // A year of hourly buckets is ~9k rows per group: more than a page shows.
  if (q.granularity == cost::Granularity::kHourly && q.from && q.to && q.to - q.from > 14) {
    return InvalidArgument("HOURLY covers at most 14 days per request, as in Cost Explorer");
  }
  return q;
}

StatusOr<std::unique_ptr<store::Store>> OpenStore(Env* env, const std::string& dir) {
  return store::Store::Open(env, dir);
}

json BudgetJson(const plan::BudgetStatus& b) {
  json j;
  j["name"] = b.budget;
  j["type"] = plan::BudgetTypeName(b.type);
  j["unit"] = b.unit;
  j["period"] = {{"start", FormatDate(b.period_start)}, {"end", FormatDate(b.period_end)}};
  j["active"] = b.active;
  j["limit"] = b.limit.ToString();
  j["actual"] = b.actual.ToString();
  j["forecast"] = b.forecast ? json(b.forecast->ToString()) : json(nullptr);
  j["percent_used"] =
      b.limit.is_zero() ? json(nullptr) : json(Decimal::Div(b.actual * 100, b.limit).ToFixed(2));
  json alerts = json::array();
  for (const auto& a : b.alerts) {
    alerts.push_back({{"type", a.notification.notification_type},
                      {"threshold", a.threshold.ToString()},
                      {"value", a.value.ToString()},
                      {"text", a.Text()}});
  }
  j["alerts"] = alerts;
  j["note"] = b.note;
  j["error"] = b.error.ok() ? json(nullptr) : json(b.error.message());
  return j;
}

bool ValidReportName(const std::string& n) {
  if (n.empty() || n.size() > 100) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

}  // namespace

DashboardApi::DashboardApi(Env* env, DashboardOptions opt) : env_(env), opt_(std::move(opt)) {}

ApiResponse DashboardApi::Handle(const ApiRequest& req) {
  // The library reports failures as Status; only std::bad_alloc (or a bug)
  // can throw, and a server thread must not die of it.
  try {
    constexpr std::string_view kModulePrefix = "/api/cost/";
    const std::string p = req.path.starts_with(kModulePrefix)
                              ? "/api/" + req.path.substr(kModulePrefix.size())
                              : req.path;
    if (p.starts_with("/api/reports")) return Reports(req, p);
    if (req.method != "GET" && req.method != "HEAD") {
      return MethodNotAllowed(req.method + " is not allowed on " + p, "GET");
    }
    if (p == "/api/meta") return Meta();
    if (p == "/api/query") return Query(req, false);
    if (p == "/api/query.csv") return Query(req, true);
    if (p == "/api/dimension-values") return DimensionValues(req);
    if (p == "/api/findings") return Findings();
    if (p == "/api/forecast") return Forecast(req);
    if (p == "/api/savings-plans/recommendation") return SavingsPlans(req);
    if (p == "/api/budgets") return Budgets();
    return ErrorResponse(NotFound("no API at " + p + " (see docs/api.md)"));
  } catch (const std::exception& e) {
    return ErrorResponse(Internal(std::string("internal error: ") + e.what()));
  }
}

ApiResponse DashboardApi::Meta() {
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  json j;
  j["version"] = SAGEBOX_VERSION;
  j["store"] = opt_.store_dir;
  j["currency"] = "USD";
  auto range = cost::DataRange(**st);
  j["data_range"] =
      range.ok() ? json{{"first", FormatDate(range->first)}, {"last", FormatDate(range->second)}}
                 : json(nullptr);
  j["dimensions"] = {
      "SERVICE",       "USAGE_TYPE", "USAGE_KIND",     "INSTANCE_TYPE", "REGION", "LINKED_ACCOUNT",
      "PAYER_ACCOUNT", "OPERATION",  "LINE_ITEM_TYPE", "RESOURCE_ID",   "AZ",     "PURCHASE_TYPE",
      "BILLING_PERIOD"};
  auto tags = cost::TagKeys(**st);
  if (!tags.ok()) return ErrorResponse(tags.status());
  j["tag_keys"] = *tags;
  j["metrics"] = {"UnblendedCost", "AmortizedCost", "BlendedCost", "NetUnblendedCost",
                  "UsageQuantity"};
  j["budgets_configured"] = opt_.budgets_configured;
  return JsonResponse(j);
}

ApiResponse DashboardApi::Query(const ApiRequest& req, bool csv) {
  auto q = QueryOf(req);
  if (!q.ok()) return ErrorResponse(q.status());
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  if (Status s = cost::ResolveDefaultRange(**st, &*q); !s.ok()) return ErrorResponse(s);
  auto r = cost::RunQuery(**st, *q);
  if (!r.ok()) return ErrorResponse(r.status());
  if (!csv) return JsonResponse(cost::QueryToJson(*r));
  ApiResponse out;
  out.content_type = "text/csv; charset=utf-8";
  out.body = cost::QueryToCsv(*r);
  out.headers.emplace_back("Content-Disposition",
                           fmt::format("attachment; filename=\"sagebox-{}-{}.csv\"",
                                       FormatDate(r->query.from), FormatDate(r->query.to)));
  return out;
}

ApiResponse DashboardApi::DimensionValues(const ApiRequest& req) {
  std::string dim = Param(req, "dimension");
  if (dim.empty()) return ErrorResponse(InvalidArgument("dimension is required, e.g. REGION"));
  auto d = cost::ParseDimension(dim);
  if (!d.ok()) return ErrorResponse(d.status());
  cost::Query q;
  if (Status s = DateParam(req, "from", &q.from); !s.ok()) return ErrorResponse(s);
  if (Status s = DateParam(req, "to", &q.to); !s.ok()) return ErrorResponse(s);
  if (Status s = AddFilters(req, &q.filters); !s.ok()) return ErrorResponse(s);
  q.group_by = {*d};
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  if (Status s = cost::ResolveDefaultRange(**st, &q); !s.ok()) return ErrorResponse(s);
  // One bucket over the whole range: the months between are summed below.
  q.granularity = cost::Granularity::kMonthly;
  auto r = cost::RunQuery(**st, q);
  if (!r.ok()) return ErrorResponse(r.status());
  std::map<std::string, Decimal> sums;
  for (const auto& b : r->buckets) {
    for (const auto& g : b.groups) {
      std::string key = g.keys.empty() ? "" : g.keys[0];
      // Tag groups are "key$value", as Cost Explorer prints them.
      if (d->kind == cost::DimKind::kTag) {
        size_t dollar = key.find('$');
        if (dollar != std::string::npos) key = key.substr(dollar + 1);
      }
      sums[key] += g.values.empty() ? Decimal() : g.values[0];
    }
  }
  std::vector<std::pair<std::string, Decimal>> v(sums.begin(), sums.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return b.second < a.second; });
  json values = json::array();
  for (const auto& [k, amount] : v) values.push_back({{"value", k}, {"amount", amount.ToString()}});
  return JsonResponse({{"dimension", d->Name()}, {"values", values}});
}

ApiResponse DashboardApi::Findings() {
  const std::string manifest = store::Store::State(env_, opt_.store_dir);
  std::lock_guard<std::mutex> lock(findings_mu_);
  if (!findings_json_.empty() && manifest == findings_manifest_) {
    ApiResponse r;
    r.body = findings_json_;
    return r;
  }
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  auto report = findings::RunFindings(**st, opt_.findings_inputs, opt_.findings_config);
  if (!report.ok()) return ErrorResponse(report.status());
  ApiResponse r = JsonResponse(findings::ReportToJson(*report));
  findings_manifest_ = manifest;
  findings_json_ = r.body;
  return r;
}

ApiResponse DashboardApi::Forecast(const ApiRequest& req) {
  plan::ForecastRequest fr;
  auto metric = cost::ParseMetric(Param(req, "metric", "UnblendedCost"));
  if (!metric.ok()) return ErrorResponse(metric.status());
  fr.query.metrics = {*metric};
  auto gran = cost::ParseGranularity(Param(req, "granularity", "DAILY"));
  if (!gran.ok()) return ErrorResponse(gran.status());
  if (*gran == cost::Granularity::kHourly) {
    return ErrorResponse(InvalidArgument("granularity must be DAILY or MONTHLY for a forecast"));
  }
  fr.granularity = *gran;
  auto horizon = IntParam(req, "horizon", 30, 1, 366);
  if (!horizon.ok()) return ErrorResponse(horizon.status());
  fr.horizon = *horizon;
  auto level = IntParam(req, "interval", 80, 51, 99);
  if (!level.ok()) return ErrorResponse(level.status());
  fr.level = *level;
  if (Status s = AddFilters(req, &fr.query.filters); !s.ok()) return ErrorResponse(s);
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  auto f = plan::ForecastCost(**st, fr);
  if (!f.ok()) return ErrorResponse(f.status());
  return JsonResponse(plan::ForecastToJson(*f));
}

ApiResponse DashboardApi::SavingsPlans(const ApiRequest& req) {
  plan::RecommendOptions o;
  auto term = plan::ParseTerm(Param(req, "term", "ONE_YEAR"));
  if (!term.ok()) return ErrorResponse(term.status());
  o.term = *term;
  auto pay = plan::ParsePayment(Param(req, "payment", "NO_UPFRONT"));
  if (!pay.ok()) return ErrorResponse(pay.status());
  o.payment = *pay;
  auto lb = plan::ParseLookbackDays(Param(req, "lookback", "THIRTY_DAYS"));
  if (!lb.ok()) return ErrorResponse(lb.status());
  o.lookback_days = *lb;
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  auto r = plan::RecommendSavingsPlan(**st, o);
  if (!r.ok()) return ErrorResponse(r.status());
  return JsonResponse(plan::RecommendationToJson(*r));
}

ApiResponse DashboardApi::Budgets() {
  json j;
  j["configured"] = opt_.budgets_configured;
  j["budgets"] = json::array();
  if (!opt_.budgets_configured) return JsonResponse(j);
  auto st = OpenStore(env_, opt_.store_dir);
  if (!st.ok()) return ErrorResponse(st.status());
  plan::CheckOptions co;
  co.savings_plans = plan::StoreSavingsPlansProvider(st->get());
  auto statuses = plan::CheckBudgets(**st, opt_.budgets, co);
  if (!statuses.ok()) return ErrorResponse(statuses.status());
  auto range = cost::DataRange(**st);
  j["as_of"] = range.ok() ? json(FormatDate(range->second)) : json(nullptr);
  for (const auto& b : *statuses) j["budgets"].push_back(BudgetJson(b));
  return JsonResponse(j);
}

ApiResponse DashboardApi::Reports(const ApiRequest& req, const std::string& path) {
  const std::string file = JoinPath(opt_.store_dir, "reports.json");
  std::lock_guard<std::mutex> lock(reports_mu_);
  json doc = {{"reports", json::array()}};
  std::string text;
  if (env_->Exists(file)) {
    if (Status s = env_->ReadFileToString(file, &text); !s.ok()) return ErrorResponse(s);
    doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("reports") ||
        !doc["reports"].is_array()) {
      return ErrorResponse(Corruption(file + " is not a sagebox reports file"));
    }
  }
  auto& reports = doc["reports"];
  if (path == "/api/reports") {
    if (req.method != "GET") {
      return MethodNotAllowed(req.method + " is not allowed on /api/reports", "GET");
    }
    return JsonResponse(doc);
  }
  if (!path.starts_with("/api/reports/")) {
    return ErrorResponse(NotFound("no API at " + path + " (see docs/api.md)"));
  }
  const std::string name = path.substr(std::string_view("/api/reports/").size());
  if (!ValidReportName(name)) {
    return ErrorResponse(InvalidArgument("a report name is 1 to 100 printable characters"));
  }
  auto it = std::find_if(reports.begin(), reports.end(), [&](const json& r) {
    return r.is_object() && r.value("name", "") == name;
  });
  if (req.method == "GET") {
    if (it == reports.end()) return ErrorResponse(NotFound("no saved report '" + name + "'"));
    return JsonResponse(*it);
  }
  if (req.method == "DELETE") {
    if (it == reports.end()) return ErrorResponse(NotFound("no saved report '" + name + "'"));
    reports.erase(it);
  } else if (req.method == "PUT") {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("query") ||
        !body["query"].is_object()) {
      return ErrorResponse(BadInput("the body must be a JSON object {\"query\": {...}}"));
    }
    json entry = {{"name", name}, {"query", body["query"]}};
    if (it == reports.end())
      reports.push_back(entry);
    else
      *it = entry;
  } else {
    return MethodNotAllowed(req.method + " is not allowed on a report", "GET, PUT, DELETE");
  }
  if (Status s = env_->CreateDirs(opt_.store_dir); !s.ok()) return ErrorResponse(s);
  if (Status s = env_->WriteFileAtomic(
          file, doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
      !s.ok()) {
    return ErrorResponse(s);
  }
  return JsonResponse(doc);
}

}  // namespace sagebox::cost::api
