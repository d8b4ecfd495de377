// cost_routes.h: the cost module on the platform's HTTP server.
//
// Registers, on an http::Router:
//   /api/cost/...  the dashboard's JSON API (dashboard_api.h; docs/api.md), and
//                  the same paths under /api/... that it had before the
//                  platform, so saved links and scripts keep working;
//   AWS JSON 1.1   X-Amz-Target AWSInsightsIndexService.* (Cost Explorer,
//                  ce_api.h), SigV4 scope service "ce".
// Answers that depend on the store alone are kept in a ResponseCache keyed by
// the store's state, so a dashboard reload costs nothing until an ingest.
//
// Thread-safety: the handlers may run on many threads at once; the
// CostRoutes object must outlive the server it is registered on.
#pragma once

#include <string>

#include "core/env.h"
#include "cost/api/ce_api.h"
#include "cost/api/dashboard_api.h"
#include "http/http_server.h"
#include "http/response_cache.h"

namespace sagebox::cost::api {

struct CostRoutesOptions {
  std::string store_dir;
  // Budget of the response cache (http/response_cache.h); 0 turns it off.
  size_t cache_bytes = size_t{64} << 20;
  CeContext ce;
};

class CostRoutes {
 public:
  // `dashboard` must outlive this object.
  CostRoutes(Env* env, CostRoutesOptions opt, DashboardApi* dashboard);
  void Register(http::Router& router);

  http::ApiResponse Dashboard(const http::ApiRequest& req);
  http::ApiResponse CostExplorer(const http::ApiRequest& req);

 private:
  // The cache key of a request against the store's current state.
  std::string CacheKey(const std::string& request) const;

  Env* env_;
  CostRoutesOptions opt_;
  DashboardApi* dashboard_;
  http::ResponseCache cache_;
};

}  // namespace sagebox::cost::api
