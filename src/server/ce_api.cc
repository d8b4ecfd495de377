#include "server/ce_api.h"

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
#include "cost/report.h"
#include "plan/forecast.h"
#include "plan/savings_plans.h"

namespace sagebox::server {

namespace {

using nlohmann::json;

// An error in AWS's terms; an empty type is success.
struct Err {
  std::string type;
  std::string message;
  int status = 400;
  bool ok() const { return type.empty(); }
};

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

struct Period {
  Days from = 0, to = 0;
};

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
constexpr int64_t kMaxBuckets = 20000;

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

std::string ServiceDisplayName(const std::string& code) {
  for (const auto& s : kServiceNames) {
    if (s.code == code) return std::string(s.name);
  }
  return code;
}

struct DimSpec {
  cost::Dimension dim;
  std::string ce_key;          // as the request named it (GroupDefinitions echo it)
  bool service_names = false;  // SERVICE: show names, not codes
};

std::string AcceptedDimensions() {
  std::string s;
  for (const auto& d : kCeDims) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

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

Err ParseFilter(const store::Store& st, const json& req, std::vector<cost::Filter>* out) {
  const json* f = Field(req, "Filter");
  if (f == nullptr) return Ok();
  FilterCompiler c(st);
  return c.Compile(*f, false, 0, out);
}

// ---------------------------------------------------------------------------
// Page tokens: "sbx1.<hash of the request>.<offset>".

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

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

}  // namespace sagebox::server
