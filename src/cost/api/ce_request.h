// ce_request.h: reading Cost Explorer requests (AWS JSON 1.1), for ce_api.cc.
//
// Internal to the Cost Explorer endpoint: errors in AWS's terms, defensive
// field access, time periods, CE dimension names, Filter expressions
// compiled into cost::Filter conjunctions, and NextPageToken paging. The
// operations themselves are in ce_api.cc; the public entry point is
// ce_api.h.
//
// Thread-safety: pure functions over their arguments (ParseFilter reads the
// store's segment dictionaries).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::cost::api::ce {

// An error in AWS's terms; an empty type is success.
struct Err {
  std::string type;
  std::string message;
  int status = 400;
  bool ok() const { return type.empty(); }
};

Err Ok();
Err Validation(std::string m);
// Library statuses at the AWS edge: the caller's mistakes are validation
// errors, a missing store is "no data", our own failures are 500s.
Err FromStatus(const Status& s);

// Defensive field access (json::value() throws on a type mismatch). Field
// is nullptr for a missing or null key; the getters give a validation error
// for a wrong type, a missing required key or an int outside [lo, hi].
const nlohmann::json* Field(const nlohmann::json& obj, const char* key);
Err GetString(const nlohmann::json& obj, const char* key, bool required, std::string* out);
Err GetInt(const nlohmann::json& obj, const char* key, int lo, int hi, int* out);

// TimePeriod {Start, End} as whole days, End exclusive.
struct Period {
  Days from = 0, to = 0;
};

Err ParsePeriod(const nlohmann::json& req, Period* p);
// Granularity (DAILY, MONTHLY, HOURLY); *given says whether the request named one.
Err ParseGran(const nlohmann::json& req, bool required, cost::Granularity* g, bool* given);
// A validation error when the period has more buckets than sagebox answers at once.
Err CheckBuckets(const Period& p, cost::Granularity g);

// Cost Explorer's name of a product code ("AmazonSageMaker" -> "Amazon SageMaker"),
// or the code itself when the table does not know it.
std::string ServiceDisplayName(const std::string& code);

struct DimSpec {
  cost::Dimension dim;
  std::string ce_key;          // as the request named it (GroupDefinitions echo it)
  bool service_names = false;  // SERVICE: show names, not codes
};

// A CE dimension name (SERVICE, RECORD_TYPE, AZ, ...) into a store dimension;
// a validation error naming the accepted ones otherwise.
Err MapDimension(const std::string& key, DimSpec* out);
DimSpec TagSpec(const std::string& key);

// The request's Filter expression as a conjunction of cost::Filter (nothing
// when it has none); a validation error for what sagebox cannot express.
Err ParseFilter(const store::Store& st, const nlohmann::json& req, std::vector<cost::Filter>* out);

// Page tokens "sbx1.<hash of the request without its token>.<offset>".
std::string RequestHash(std::string_view op, const nlohmann::json& req);
std::string MakeToken(const std::string& hash, size_t offset);
// Reads NextPageToken into *offset (0 without one): InvalidNextTokenException
// for a token sagebox did not issue, RequestChangedException for another request's.
Err ParseToken(const nlohmann::json& req, const std::string& hash, size_t* offset);

}  // namespace sagebox::cost::api::ce
