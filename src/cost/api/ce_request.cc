#include "cost/api/ce_request.h"

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
#include "cost/billing_table.h"
#include "cost/line_item.h"
#include "cost/query.h"

namespace sagebox::cost::api::ce {

using nlohmann::json;

Err Ok() { return {}; }
Err Validation(std::string m) { return {"ValidationException", std::move(m), 400}; }

// Library statuses at the AWS edge: the caller's mistakes are validation
// errors, a missing store is "no data", our own failures are 500s.
Err FromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return Ok();
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadInput:
    case StatusCode::kUnimplemented:
      return Validation(s.message());
    case StatusCode::kNotFound:
      return {"DataUnavailableException", s.message(), 400};
    default:
      return {"InternalServerException", s.message(), 500};
  }
}

// ---------------------------------------------------------------------------
// Defensive field access (json::value() throws on a type mismatch).

const json* Field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Err GetString(const json& obj, const char* key, bool required, std::string* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) {
    if (required) return Validation(fmt::format("{} is required", key));
    return Ok();
  }
  if (!v->is_string()) return Validation(fmt::format("{} must be a string", key));
  *out = v->get<std::string>();
  return Ok();
}

Err GetInt(const json& obj, const char* key, int lo, int hi, int* out) {
  const json* v = Field(obj, key);
  if (v == nullptr) return Ok();
  if (!v->is_number_integer()) return Validation(fmt::format("{} must be an integer", key));
  auto x = v->get<int64_t>();
  if (x < lo || x > hi)
    return Validation(fmt::format("{} must be between {} and {}, got {}", key, lo, hi, x));
  *out = static_cast<int>(x);
  return Ok();
}

// ---------------------------------------------------------------------------
// Time periods.

namespace {

// "2024-01-31" or "2024-01-31T00:00:00Z" (HOURLY requests use timestamps);
// sagebox answers whole days, so a timestamp must be midnight UTC.
Err ParseDay(const std::string& text, const char* what, Days* out) {
  if (auto d = ParseDate(text); d && text.size() == 10) {
    *out = *d;
    return Ok();
  }
  if (auto t = ParseTimestamp(text)) {
    if (*t % 86400 != 0) {
      return Validation(fmt::format(
          "TimePeriod.{} '{}': sagebox answers whole days, use midnight UTC", what, text));
    }
    *out = DayOf(*t);
    return Ok();
  }
  return Validation(fmt::format("TimePeriod.{} '{}' is not a date (YYYY-MM-DD)", what, text));
}

}  // namespace

Err ParsePeriod(const json& req, Period* p) {
  const json* tp = Field(req, "TimePeriod");
  if (tp == nullptr) return Validation("TimePeriod is required");
  if (!tp->is_object()) return Validation("TimePeriod must be an object with Start and End");
  std::string s, e;
  if (auto r = GetString(*tp, "Start", true, &s); !r.ok()) return r;
  if (auto r = GetString(*tp, "End", true, &e); !r.ok()) return r;
  if (auto r = ParseDay(s, "Start", &p->from); !r.ok()) return r;
  if (auto r = ParseDay(e, "End", &p->to); !r.ok()) return r;
  // Years 1970..2199 keep every computation far from overflow.
  constexpr Days kMin = 0, kMax = 84000;
  if (p->from < kMin || p->to > kMax)
    return Validation("TimePeriod must lie between 1970-01-01 and 2199-12-31");
  if (p->from >= p->to)
    return Validation(
        fmt::format("TimePeriod.Start ({}) must be before End ({}, exclusive)", s, e));
  return Ok();
}

Err ParseGran(const json& req, bool required, cost::Granularity* g, bool* given) {
  std::string s;
  if (auto r = GetString(req, "Granularity", required, &s); !r.ok()) return r;
  if (given != nullptr) *given = !s.empty();
  if (s.empty()) return Ok();
  for (auto x :
       {cost::Granularity::kDaily, cost::Granularity::kMonthly, cost::Granularity::kHourly}) {
    if (cost::GranularityName(x) == s) {
      *g = x;
      return Ok();
    }
  }
  return Validation("Granularity '" + s + "' is not one of DAILY, MONTHLY, HOURLY");
}

// Keeps answers bounded: a request may not ask for more time buckets than this.
namespace {

constexpr int64_t kMaxBuckets = 20000;

}  // namespace

Err CheckBuckets(const Period& p, cost::Granularity g) {
  int64_t days = p.to - p.from;
  int64_t n = g == cost::Granularity::kHourly  ? days * 24
              : g == cost::Granularity::kDaily ? days
                                               : days / 28 + 2;
  if (n > kMaxBuckets) {
    return Validation(fmt::format("the TimePeriod has {} {} periods; sagebox answers at most {}", n,
                                  cost::GranularityName(g), kMaxBuckets));
  }
  return Ok();
}

// ---------------------------------------------------------------------------
// Dimensions.

namespace {

struct CeDim {
  std::string_view name;
  cost::DimKind kind;
};
// Cost Explorer dimension -> store dimension. RECORD_TYPE is the CUR's
// lineItem/LineItemType; SERVICE is shown by name, SERVICE_CODE by code.
// PURCHASE_TYPE is left out: CE derives it ("On Demand Instances", "Savings
// Plans", "Spot Instances", ...) from more than pricing/term holds.
constexpr CeDim kCeDims[] = {
    {"SERVICE", cost::DimKind::kService},
    {"SERVICE_CODE", cost::DimKind::kService},
    {"USAGE_TYPE", cost::DimKind::kUsageType},
    {"INSTANCE_TYPE", cost::DimKind::kInstanceType},
    {"REGION", cost::DimKind::kRegion},
    {"AZ", cost::DimKind::kAvailabilityZone},
    {"LINKED_ACCOUNT", cost::DimKind::kLinkedAccount},
    {"OPERATION", cost::DimKind::kOperation},
    {"RECORD_TYPE", cost::DimKind::kLineItemType},
    {"RESOURCE_ID", cost::DimKind::kResourceId},
};

// Product code -> the SERVICE name Cost Explorer shows. Source: the CUR's
// product/ProductName column for these codes (AWS CUR data dictionary and the
// public sample exports in /work/shared/data), which is the name CE's SERVICE
// dimension uses. Codes not listed are shown as they are.
struct ServiceName {
  std::string_view code, name;
};
constexpr ServiceName kServiceNames[] = {
    {"AmazonSageMaker", "Amazon SageMaker"},
    {"AmazonEC2", "Amazon Elastic Compute Cloud - Compute"},
    {"AmazonS3", "Amazon Simple Storage Service"},
    {"AWSCloudTrail", "AWS CloudTrail"},
    {"AmazonCloudWatch", "AmazonCloudWatch"},
    {"AWSLambda", "AWS Lambda"},
    {"AmazonECR", "Amazon EC2 Container Registry (ECR)"},
    {"AmazonVPC", "Amazon Virtual Private Cloud"},
    {"AmazonEFS", "Amazon Elastic File System"},
    {"AmazonRDS", "Amazon Relational Database Service"},
    {"AmazonDynamoDB", "Amazon DynamoDB"},
    {"AWSGlue", "AWS Glue"},
    {"AmazonAthena", "Amazon Athena"},
    {"awskms", "AWS Key Management Service"},
    {"AWSDataTransfer", "AWS Data Transfer"},
    {"AmazonSNS", "Amazon Simple Notification Service"},
    {"AWSQueueService", "Amazon Simple Queue Service"},
    {"AmazonECS", "Amazon Elastic Container Service"},
    {"AmazonEKS", "Amazon Elastic Container Service for Kubernetes"},
    {"ComputeSavingsPlans", "Savings Plans for AWS Compute usage"},
};

}  // namespace

std::string ServiceDisplayName(const std::string& code) {
  for (const auto& s : kServiceNames) {
    if (s.code == code) return std::string(s.name);
  }
  return code;
}

namespace {

std::string AcceptedDimensions() {
  std::string s;
  for (const auto& d : kCeDims) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

}  // namespace

Err MapDimension(const std::string& key, DimSpec* out) {
  for (const auto& d : kCeDims) {
    if (d.name == key) {
      out->dim = cost::Dimension{d.kind, ""};
      out->ce_key = key;
      out->service_names = key == "SERVICE";
      return Ok();
    }
  }
  return Validation(fmt::format("dimension '{}' is not supported by sagebox (accepted: {})", key,
                                AcceptedDimensions()));
}

DimSpec TagSpec(const std::string& key) {
  DimSpec d;
  d.dim = cost::Dimension{cost::DimKind::kTag, cost::NormalizeTagKey(key)};
  d.ce_key = key;
  return d;
}

// ---------------------------------------------------------------------------
// Filter expressions -> a conjunction of cost::Filter.

namespace {

// The distinct product codes of the store (each segment's dictionary), for
// resolving SERVICE filters written with names or codes.
std::vector<std::string> StoreServiceCodes(const store::Store& st, Err* err) {
  std::set<std::string> codes{""};
  for (const auto& info : st.segments()) {
    if (info.rows == 0) continue;
    auto seg = st.OpenSegment(info);
    if (!seg.ok()) {
      *err = FromStatus(seg.status());
      return {};
    }
    int c = (*seg)->FindColumn(cost::col::kService);
    if (c < 0) continue;
    for (const auto& v : (*seg)->Dictionary(c)) codes.insert(v);
  }
  return {codes.begin(), codes.end()};
}

class FilterCompiler {
 public:
  explicit FilterCompiler(const store::Store& st) : st_(st) {}

  Err Compile(const json& e, bool negate, int depth, std::vector<cost::Filter>* out) {
    if (depth > 16) return Validation("Filter is nested too deeply (more than 16 levels)");
    if (!e.is_object()) return Validation("a Filter Expression must be an object");
    int kinds = 0;
    for (const char* k : {"And", "Or", "Not", "Dimensions", "Tags", "CostCategories"})
      kinds += Field(e, k) != nullptr;
    if (kinds != 1) {
      return Validation(
          "a Filter Expression must have exactly one of And, Or, Not, Dimensions, Tags");
    }
    if (Field(e, "CostCategories") != nullptr)
      return Validation("CostCategories filters are not supported by sagebox");
    if (const json* n = Field(e, "Not")) return Compile(*n, !negate, depth + 1, out);
    if (const json* d = Field(e, "Dimensions")) return Leaf(*d, false, negate, out);
    if (const json* t = Field(e, "Tags")) return Leaf(*t, true, negate, out);
    const bool is_and = Field(e, "And") != nullptr;
    const json& list = is_and ? e["And"] : e["Or"];
    const char* name = is_and ? "And" : "Or";
    if (!list.is_array() || list.empty())
      return Validation(fmt::format("{} must be a non-empty list of expressions", name));
    // Not(And) is an Or of negations, Not(Or) an And of them.
    if (is_and != negate) {
      for (const auto& c : list) {
        if (auto r = Compile(c, negate, depth + 1, out); !r.ok()) return r;
      }
      return Ok();
    }
    // An Or of leaves on one key with the same match options is one leaf
    // with their values merged; anything else would need row-wise OR, which
    // the per-column filters of RunQuery do not do.
    std::vector<cost::Filter> alts;
    for (const auto& c : list) {
      std::vector<cost::Filter> one;
      if (auto r = Compile(c, negate, depth + 1, &one); !r.ok()) return r;
      if (one.size() != 1 || one[0].negate) return OrUnsupported();
      alts.push_back(std::move(one[0]));
    }
    cost::Filter merged = alts[0];
    for (size_t i = 1; i < alts.size(); ++i) {
      const auto& a = alts[i];
      if (a.dim.kind != merged.dim.kind || a.dim.tag_key != merged.dim.tag_key ||
          a.match != merged.match || a.case_insensitive != merged.case_insensitive) {
        return OrUnsupported();
      }
      merged.values.insert(merged.values.end(), a.values.begin(), a.values.end());
    }
    out->push_back(std::move(merged));
    return Ok();
  }

 private:
  static Err OrUnsupported() {
    return Validation(
        "sagebox supports Or only between Dimensions/Tags expressions on the same key with the "
        "same MatchOptions (e.g. two SERVICE values); Or across different keys, or of Not/And "
        "expressions (also Not of an And), is not supported");
  }

  Err Leaf(const json& leaf, bool tag, bool negate, std::vector<cost::Filter>* out) {
    const char* what = tag ? "Tags" : "Dimensions";
    if (!leaf.is_object()) return Validation(fmt::format("{} must be an object", what));
    std::string key;
    if (auto r = GetString(leaf, "Key", true, &key); !r.ok()) return r;
    DimSpec spec;
    if (tag) {
      if (key.empty()) return Validation("Tags.Key must not be empty");
      spec = TagSpec(key);
    } else if (auto r = MapDimension(key, &spec); !r.ok()) {
      return r;
    }
    cost::Filter f;
    f.dim = spec.dim;
    f.negate = negate;
    int kinds = 0;
    if (const json* mo = Field(leaf, "MatchOptions")) {
      if (!mo->is_array()) return Validation("MatchOptions must be a list");
      for (const auto& o : *mo) {
        if (!o.is_string()) return Validation("MatchOptions must be a list of strings");
        const auto& s = o.get_ref<const std::string&>();
        if (s == "CASE_SENSITIVE") {
          f.case_insensitive = false;
        } else if (s == "CASE_INSENSITIVE") {
          f.case_insensitive = true;
        } else {
          ++kinds;
          if (s == "EQUALS") {
            f.match = cost::MatchKind::kEquals;
          } else if (s == "CONTAINS") {
            f.match = cost::MatchKind::kContains;
          } else if (s == "STARTS_WITH") {
            f.match = cost::MatchKind::kStartsWith;
          } else if (s == "ENDS_WITH") {
            f.match = cost::MatchKind::kEndsWith;
          } else if (s == "ABSENT") {
            f.match = cost::MatchKind::kAbsent;
          } else {
            return Validation("MatchOptions value '" + s +
                              "' is not one of EQUALS, ABSENT, STARTS_WITH, ENDS_WITH, CONTAINS, "
                              "CASE_SENSITIVE, CASE_INSENSITIVE");
          }
        }
      }
    }
    if (kinds > 1) return Validation("MatchOptions may name only one of EQUALS, ABSENT, ...");
    if (const json* vs = Field(leaf, "Values")) {
      if (!vs->is_array()) return Validation("Values must be a list of strings");
      for (const auto& v : *vs) {
        if (!v.is_string()) return Validation("Values must be a list of strings");
        f.values.push_back(v.get<std::string>());
      }
    }
    if (f.values.empty() && f.match != cost::MatchKind::kAbsent) {
      return Validation(
          fmt::format("{} {}: Values must not be empty (use MatchOptions ABSENT)", what, key));
    }
    if (spec.service_names) {
      if (auto r = ResolveServices(&f); !r.ok()) return r;
    }
    out->push_back(std::move(f));
    return Ok();
  }

  // SERVICE values may be names ("Amazon SageMaker") or codes: the filter
  // becomes the exact list of the store's codes whose code or name matches.
  Err ResolveServices(cost::Filter* f) {
    if (!codes_loaded_) {
      Err e;
      codes_ = StoreServiceCodes(st_, &e);
      if (!e.ok()) return e;
      codes_loaded_ = true;
    }
    cost::Filter probe = *f;
    probe.negate = false;
    std::vector<std::string> keep;
    for (const auto& c : codes_) {
      if (cost::FilterMatches(probe, c) || cost::FilterMatches(probe, ServiceDisplayName(c)))
        keep.push_back(c);
    }
    f->values = std::move(keep);
    f->match = cost::MatchKind::kEquals;
    f->case_insensitive = false;
    return Ok();
  }

  const store::Store& st_;
  bool codes_loaded_ = false;
  std::vector<std::string> codes_;
};

}  // namespace

Err ParseFilter(const store::Store& st, const json& req, std::vector<cost::Filter>* out) {
  const json* f = Field(req, "Filter");
  if (f == nullptr) return Ok();
  FilterCompiler c(st);
  return c.Compile(*f, false, 0, out);
}

// ---------------------------------------------------------------------------
// Page tokens: "sbx1.<hash of the request>.<offset>".

namespace {

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

// The request without its token, canonically (json objects are sorted maps).
std::string RequestHash(std::string_view op, const json& req) {
  json r = req;
  r.erase("NextPageToken");
  r.erase("NextToken");
  return fmt::format("{:016x}", Fnv1a(std::string(op) + "\n" + r.dump()));
}

std::string MakeToken(const std::string& hash, size_t offset) {
  return fmt::format("sbx1.{}.{}", hash, offset);
}

// Reads NextPageToken into *offset (0 without one).
Err ParseToken(const json& req, const std::string& hash, size_t* offset) {
  *offset = 0;
  std::string tok;
  if (auto r = GetString(req, "NextPageToken", false, &tok); !r.ok()) return r;
  if (tok.empty()) return Ok();
  Err bad{"InvalidNextTokenException", "the NextPageToken is not one sagebox issued", 400};
  std::vector<std::string> parts;
  for (size_t i = 0; i <= tok.size();) {
    size_t j = std::min(tok.find('.', i), tok.size());
    parts.push_back(tok.substr(i, j - i));
    i = j + 1;
  }
  if (parts.size() != 3 || parts[0] != "sbx1" || parts[1].size() != 16 || parts[2].empty() ||
      parts[2].size() > 9) {
    return bad;
  }
  for (char c : parts[1]) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return bad;
  }
  size_t off = 0;
  for (char c : parts[2]) {
    if (c < '0' || c > '9') return bad;
    off = off * 10 + static_cast<size_t>(c - '0');
  }
  if (parts[1] != hash) {
    return {"RequestChangedException",
            "the NextPageToken belongs to a different request; repeat the request that returned "
            "it",
            400};
  }
  *offset = off;
  return Ok();
}

}  // namespace sagebox::cost::api::ce
