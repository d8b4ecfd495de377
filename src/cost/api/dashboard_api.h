// dashboard_api.h: the dashboard's JSON API (docs/api.md), as plain
// request -> response functions.
//
// Nothing here knows about sockets or httplib: the HTTP server (http_server.h)
// turns a request into an ApiRequest and sends the http::ApiResponse back, so the
// API is tested and fuzzed without a network. Every answer is what the CLI
// prints for the same question (`/api/query` is `cost query --format json`,
// and so on), because both call the same library functions.
//
// The store is opened per request, so an ingest that lands while the server
// runs is visible to the next request. Findings are the one expensive
// answer; they are computed once per store state (the MANIFEST text) and kept.
//
// Thread-safety: DashboardApi::Handle may be called from many threads at
// once. Saved reports are read-modify-written under a mutex and the file is
// replaced atomically.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "cost/findings/engine.h"
#include "cost/plan/budgets.h"
#include "http/api.h"

namespace sagebox::cost::api {

struct DashboardOptions {
  std::string store_dir;
  // Budgets from `serve --budgets FILE` (already parsed); empty = none given.
  std::vector<plan::Budget> budgets;
  bool budgets_configured = false;
  // Findings inputs from `serve --jobs/--metrics/--logs/--catalog`
  // (already parsed). inputs.catalog must outlive the DashboardApi.
  findings::FindingsInputs findings_inputs;
  findings::FindingsConfig findings_config;
};

class DashboardApi {
 public:
  DashboardApi(Env* env, DashboardOptions opt);

  // Answers one cost API request: /api/cost/<name> (documented), or the
  // /api/<name> paths the dashboard used before the platform (kept so saved
  // links and scripts still work). Never throws for any input; unknown paths
  // are 404, wrong methods 405, bad parameters 400, all in the error shape.
  http::ApiResponse Handle(const http::ApiRequest& req);

 private:
  http::ApiResponse Meta();
  http::ApiResponse Query(const http::ApiRequest& req, bool csv);
  http::ApiResponse DimensionValues(const http::ApiRequest& req);
  http::ApiResponse Findings();
  http::ApiResponse Forecast(const http::ApiRequest& req);
  http::ApiResponse SavingsPlans(const http::ApiRequest& req);
  http::ApiResponse Budgets();
  // `path` is the request path in its /api/<name> form.
  http::ApiResponse Reports(const http::ApiRequest& req, const std::string& path);

  Env* env_;
  DashboardOptions opt_;
  std::mutex findings_mu_;
  std::string findings_manifest_;  // MANIFEST text the cached findings belong to
  std::string findings_json_;
  std::mutex reports_mu_;
};

}  // namespace sagebox::cost::api
