// ce_api.h: the Cost Explorer-compatible endpoint (AWS JSON 1.1 protocol).
//
// `aws ce ... --endpoint-url`, boto3's "ce" client and other AWS SDKs send
// `POST /` with `X-Amz-Target: AWSInsightsIndexService.<Operation>` and a
// JSON body. HandleCostExplorer answers seven operations from the store:
//   GetCostAndUsage, GetCostForecast, GetDimensionValues, GetTags,
//   GetSavingsPlansUtilization, GetSavingsPlansCoverage,
//   GetSavingsPlansPurchaseRecommendation
// in the shapes of botocore's service model (botocore/data/ce/2017-10-25/
// service-2.json). What is supported and how it differs from AWS is in
// docs/cost-explorer.md.
//
// Errors use AWS's JSON 1.1 shape, which botocore turns into a ClientError
// with Error.Code = __type and Error.Message = Message (botocore 1.29
// parsers.py BaseJSONParser._do_error_parse reads "message", then "Message"):
//   {"__type": "ValidationException", "Message": "..."}
//
// Page tokens (NextPageToken) are opaque but deterministic: the same request
// gives the same token, and a token only works with the request that
// produced it (RequestChangedException otherwise).
//
// Thread-safety: HandleCostExplorer is reentrant; the Store is only read, so
// concurrent calls need only a Store that is not being modified.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "store/store.h"

namespace sagebox::cost::api {

struct CeContext {
  int page_size = 500;  // groups per page of GetCostAndUsage; values per page by default
};

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc, as anywhere.
struct CeResponse {
  int http_status = 200;
  nlohmann::json body;
};

// `target` is the whole X-Amz-Target header value; `body` the raw request
// body (empty means {}). Never throws: bad requests are 400 with
// ValidationException, SerializationException (body is not a JSON object),
// UnknownOperationException (unknown target), InvalidNextTokenException,
// RequestChangedException or DataUnavailableException; a damaged store is
// 500 with InternalServerException.
CeResponse HandleCostExplorer(const store::Store& st, std::string_view target,
                              std::string_view body, const CeContext& ctx);

}  // namespace sagebox::cost::api
