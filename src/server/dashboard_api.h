// dashboard_api.h: the dashboard's JSON API (docs/api.md), as plain
// request -> response functions.
//
// Nothing here knows about sockets or httplib: the HTTP server (http_server.h)
// turns a request into an ApiRequest and sends the ApiResponse back, so the
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
#include "findings/engine.h"
#include "plan/budgets.h"

namespace sagebox::server {

struct ApiRequest {
  std::string method;                              // "GET", "PUT", "DELETE", ...
  std::string path;                                // decoded path: "/api/query"
  std::multimap<std::string, std::string> params;  // decoded query parameters
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

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

// The API's one error shape, {"error": {"code": CODE, "message": MESSAGE}},
// with `http_status`; the server's own refusals (403, 413, 431) use it too.
ApiResponse ErrorBody(int http_status, std::string_view code, std::string_view message);
// ErrorBody for a library Status: the code's name ("InvalidArgument") and
// its HTTP status (http_status.h).
ApiResponse ErrorResponse(const Status& s);

class DashboardApi {
 public:
  DashboardApi(Env* env, DashboardOptions opt);

  // Answers one /api/* request. Never throws for any input; unknown paths
  // are 404, wrong methods 405, bad parameters 400, all in the error shape.
  ApiResponse Handle(const ApiRequest& req);

 private:
  ApiResponse Meta();
  ApiResponse Query(const ApiRequest& req, bool csv);
  ApiResponse DimensionValues(const ApiRequest& req);
  ApiResponse Findings();
  ApiResponse Forecast(const ApiRequest& req);
  ApiResponse SavingsPlans(const ApiRequest& req);
  ApiResponse Budgets();
  ApiResponse Reports(const ApiRequest& req);

  Env* env_;
  DashboardOptions opt_;
  std::mutex findings_mu_;
  std::string findings_manifest_;  // MANIFEST text the cached findings belong to
  std::string findings_json_;
  std::mutex reports_mu_;
};

}  // namespace sagebox::server
