#include "cost/api/cost_routes.h"

#include <fmt/format.h>

#include "store/store.h"

namespace sagebox::cost::api {

using http::ApiRequest;
using http::ApiResponse;

CostRoutes::CostRoutes(Env* env, CostRoutesOptions opt, DashboardApi* dashboard)
    : env_(env), opt_(std::move(opt)), dashboard_(dashboard), cache_(opt_.cache_bytes) {}

void CostRoutes::Register(http::Router& router) {
  router.AddApi("cost", "/api/cost/", [this](const ApiRequest& r) { return Dashboard(r); });
  // The paths of the dashboard API before the platform (docs/api.md).
  for (const char* legacy :
       {"/api/meta", "/api/query", "/api/dimension-values", "/api/findings", "/api/forecast",
        "/api/savings-plans/", "/api/budgets", "/api/reports"}) {
    router.AddApi("cost", legacy, [this](const ApiRequest& r) { return Dashboard(r); });
  }
  router.AddAwsJson("aws:ce", "AWSInsightsIndexService.", "ce",
                    [this](const ApiRequest& r) { return CostExplorer(r); });
}

std::string CostRoutes::CacheKey(const std::string& request) const {
  return http::ResponseCache::Key(store::Store::State(env_, opt_.store_dir), request);
}

ApiResponse CostRoutes::Dashboard(const ApiRequest& req) {
  // Reads answer from the store alone and can be cached; saved reports are
  // state of their own and never are.
  const bool cacheable = req.method == "GET" && req.path.find("/reports") == std::string::npos;
  std::string key;
  if (cacheable) {
    // Both spellings of a path share one entry.
    std::string path =
        req.path.starts_with("/api/cost/") ? "/api/" + req.path.substr(10) : req.path;
    std::string request = "GET " + path;
    for (const auto& [k, v] : req.params) {
      request += fmt::format("\n{}:{}={}:{}", k.size(), k, v.size(), v);
    }
    key = CacheKey(request);
    if (auto hit = cache_.Get(key)) {
      ApiResponse r{hit->status, hit->content_type, hit->body, hit->headers};
      r.headers.emplace_back("Cache-Control", "no-store");
      r.headers.emplace_back("X-Sagebox-Cache", "hit");
      return r;
    }
  }
  ApiResponse r = dashboard_->Handle(req);
  if (cacheable && r.status == 200) cache_.Put(key, {r.status, r.content_type, r.body, r.headers});
  r.headers.emplace_back("Cache-Control", "no-store");
  if (cacheable && r.status == 200) r.headers.emplace_back("X-Sagebox-Cache", "miss");
  return r;
}

ApiResponse CostRoutes::CostExplorer(const ApiRequest& req) {
  const std::string target = req.Header("X-Amz-Target");
  const std::string key = CacheKey("CE " + target + "\n" + req.body);
  if (auto hit = cache_.Get(key)) {
    ApiResponse r{200, http::kAmzJson, hit->body, {{"X-Sagebox-Cache", "hit"}}};
    return r;
  }
  auto st = store::Store::Open(env_, opt_.store_dir);
  if (!st.ok()) return http::AwsJsonError(500, "InternalServerError", st.status().message());
  CeResponse ce = HandleCostExplorer(**st, target, req.body, opt_.ce);
  ApiResponse r;
  r.status = ce.http_status;
  r.content_type = http::kAmzJson;
  if (ce.http_status >= 400 && ce.body.contains("__type") && ce.body["__type"].is_string()) {
    r.headers.emplace_back("x-amzn-ErrorType", ce.body["__type"].get<std::string>());
  }
  r.body = ce.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (ce.http_status == 200) {
    r.headers.emplace_back("X-Sagebox-Cache", "miss");
    cache_.Put(key, {200, http::kAmzJson, r.body, {}});
  }
  return r;
}

}  // namespace sagebox::cost::api
