// Fuzzes the Cost Explorer endpoint: the first byte picks the operation (or,
// past the seven, the rest of the first line is a raw X-Amz-Target), the
// remaining bytes are the JSON body. Any input must give a response with an
// AWS error shape or a body, never a crash, over a tiny store whose 20 days
// reach the forecast, paging and filter code.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cost/api/ce_api.h"
#include "cost/ingest.h"

namespace {

const sagebox::store::Store& TinyStore() {
  static sagebox::store::Store* st = [] {
    std::string dir = "/tmp/sagebox_ce_fuzz_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string csv =
        "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,"
        "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,"
        "product/region,lineItem/UnblendedCost,resourceTags/user:team\n";
    for (int d = 1; d <= 20; ++d) {
      char day[64];
      std::snprintf(day, sizeof day, "2024-03-%02dT00:00:00Z", d);
      csv += std::to_string(d) + ",2024-03-01T00:00:00Z,1," + (d == 3 ? "Credit" : "Usage") + "," +
             day + ",AmazonSageMaker,USE1-Host:ml.m5.xlarge,us-east-1," + std::to_string(d % 5) +
             ".5," + (d % 2 ? "a" : "") + "\n";
    }
    std::ofstream(dir + "/in.csv") << csv;
    auto r = sagebox::cost::Ingest(sagebox::Env::Default(), dir + "/store", {dir + "/in.csv"}, {});
    if (!r.ok()) std::abort();
    auto s = sagebox::store::Store::Open(sagebox::Env::Default(), dir + "/store");
    if (!s.ok()) std::abort();
    return s->release();
  }();
  return *st;
}

constexpr const char* kOps[] = {"GetCostAndUsage",
                                "GetCostForecast",
                                "GetDimensionValues",
                                "GetTags",
                                "GetSavingsPlansUtilization",
                                "GetSavingsPlansCoverage",
                                "GetSavingsPlansPurchaseRecommendation"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string target;
  if (data[0] % 8 < 7) {
    target = std::string("AWSInsightsIndexService.") + kOps[data[0] % 8];
  } else {
    size_t nl = rest.find('\n');
    target = rest.substr(0, nl);
    rest = nl == std::string::npos ? "" : rest.substr(nl + 1);
  }
  sagebox::cost::api::CeContext ctx;
  ctx.page_size = 1 + data[0] / 8 % 4;
  auto r = sagebox::cost::api::HandleCostExplorer(TinyStore(), target, rest, ctx);
  // The server sends this; it must serialize (error messages echo input).
  (void)r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (r.http_status != 200 && !r.body.contains("__type")) std::abort();
  return 0;
}
