#include "cost/query.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include "core/strings.h"
#include "cost/billing_table.h"
#include "cost/usage_type.h"

namespace sagebox::cost {

namespace {

struct DimName {
  std::string_view name;
  DimKind kind;
};
constexpr DimName kDims[] = {
    {"SERVICE", DimKind::kService},
    {"USAGE_TYPE", DimKind::kUsageType},
    {"USAGE_KIND", DimKind::kUsageKind},
    {"INSTANCE_TYPE", DimKind::kInstanceType},
    {"REGION", DimKind::kRegion},
    {"LINKED_ACCOUNT", DimKind::kLinkedAccount},
    {"PAYER_ACCOUNT", DimKind::kPayerAccount},
    {"OPERATION", DimKind::kOperation},
    {"LINE_ITEM_TYPE", DimKind::kLineItemType},
    {"RECORD_TYPE", DimKind::kLineItemType},
    {"RESOURCE_ID", DimKind::kResourceId},
    {"AZ", DimKind::kAvailabilityZone},
    {"PURCHASE_TYPE", DimKind::kPricingTerm},
    // Not a Cost Explorer dimension: the invoice month a line belongs to, for
    // reconciling with invoices (usage can be dated outside its period).
    {"BILLING_PERIOD", DimKind::kBillingPeriod},
};

// The store column a dimension reads; derived dimensions read usage_type.
std::string ColumnOf(const Dimension& d) {
  switch (d.kind) {
    case DimKind::kService:
      return std::string(col::kService);
    case DimKind::kUsageType:
    case DimKind::kUsageKind:
    case DimKind::kInstanceType:
      return std::string(col::kUsageType);
    case DimKind::kRegion:
      return std::string(col::kRegion);
    case DimKind::kLinkedAccount:
      return std::string(col::kAccount);
    case DimKind::kPayerAccount:
      return std::string(col::kPayer);
    case DimKind::kOperation:
      return std::string(col::kOperation);
    case DimKind::kLineItemType:
      return std::string(col::kLineItemType);
    case DimKind::kResourceId:
      return std::string(col::kResourceId);
    case DimKind::kAvailabilityZone:
      return std::string(col::kAz);
    case DimKind::kPricingTerm:
      return std::string(col::kPricingTerm);
    case DimKind::kTag:
      return std::string(col::kTagPrefix) + d.tag_key;
    case DimKind::kBillingPeriod:
      return "";  // one value per segment: its partition
  }
  return "";
}

// The value a dimension shows for one dictionary entry.
std::string Label(const Dimension& d, const std::string& raw) {
  switch (d.kind) {
    case DimKind::kUsageKind:
      return raw.empty() ? "" : ParseUsageType(raw).kind;
    case DimKind::kInstanceType:
      return raw.empty() ? "" : ParseUsageType(raw).instance_type;
    default:
      return raw;
  }
}

// Labels for every code of `col` in `seg` (or a single "" when the segment
// lacks the column, e.g. a tag no row of it carries).
std::vector<std::string> Labels(const store::Segment& seg, const store::SegmentInfo& info, int col,
                                const Dimension& d) {
  if (d.kind == DimKind::kBillingPeriod) return {info.partition};
  if (col < 0) return {""};
  std::vector<std::string> out;
  const auto& dict = seg.Dictionary(col);
  out.reserve(dict.size());
  for (const auto& v : dict) out.push_back(Label(d, v));
  return out;
}

bool MatchesOne(const Filter& f, std::string_view label, std::string_view v) {
  switch (f.match) {
    case MatchKind::kEquals:
      return label == v;
    case MatchKind::kContains:
      return label.find(v) != std::string_view::npos;
    case MatchKind::kStartsWith:
      return label.substr(0, v.size()) == v;
    case MatchKind::kEndsWith:
      return label.size() >= v.size() && label.substr(label.size() - v.size()) == v;
    case MatchKind::kAbsent:
      return label.empty();
  }
  return false;
}

std::string_view MetricColumn(Metric m) {
  switch (m) {
    case Metric::kUnblended:
      return col::kUnblended;
    case Metric::kBlended:
      return col::kBlended;
    case Metric::kNetUnblended:
      return col::kNetUnblended;
    case Metric::kAmortized:
      return col::kAmortized;
    case Metric::kUsageQuantity:
      return col::kUsageAmount;
  }
  return col::kUnblended;
}

struct Key {
  int32_t bucket;
  uint32_t a, b;
  bool operator==(const Key& o) const { return bucket == o.bucket && a == o.a && b == o.b; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = static_cast<uint64_t>(static_cast<uint32_t>(k.bucket)) * 0x9E3779B97F4A7C15ULL;
    h ^= (static_cast<uint64_t>(k.a) << 32 | k.b) + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
    return static_cast<size_t>(h * 0xBF58476D1CE4E5B9ULL >> 17);
  }
};

// Sums per (time bucket, group codes) for one segment. A dense array when
// the key space is small (the usual case: days x a few dozen usage types),
// so the row loop does an index computation instead of a hash lookup; a hash
// map when it is large (e.g. hours x resource ids).
class SegmentSums {
 public:
  SegmentSums(size_t buckets, size_t na, size_t nb, size_t nm) : na_(na), nb_(nb), nm_(nm) {
    size_t keys = buckets * na * nb;
    dense_ = keys <= (size_t{1} << 20);
    if (dense_) {
      sums_.assign(keys * nm, 0);
      seen_.assign(keys, 0);
    }
  }

  // The nm running sums of one key.
  int128* At(int32_t bucket, uint32_t a, uint32_t b) {
    if (dense_) {
      size_t k = (static_cast<size_t>(bucket) * na_ + a) * nb_ + b;
      seen_[k] = 1;
      return &sums_[k * nm_];
    }
    auto& v = sparse_[Key{bucket, a, b}];
    if (v.empty()) v.assign(nm_, 0);
    return v.data();
  }

  // Calls f(key, sums) for every key that was touched.
  template <typename F>
  void ForEach(F f) const {
    if (!dense_) {
      for (const auto& [k, v] : sparse_) f(k, v.data());
      return;
    }
    for (size_t k = 0; k < seen_.size(); ++k) {
      if (!seen_[k]) continue;
      Key key{static_cast<int32_t>(k / (na_ * nb_)), static_cast<uint32_t>(k / nb_ % na_),
              static_cast<uint32_t>(k % nb_)};
      f(key, &sums_[k * nm_]);
    }
  }

 private:
  size_t na_, nb_, nm_;
  bool dense_ = false;
  std::vector<int128> sums_;
  std::vector<char> seen_;
  std::unordered_map<Key, std::vector<int128>, KeyHash> sparse_;
};

}  // namespace

bool FilterMatches(const Filter& f, std::string_view label) {
  if (f.contains) {
    return !f.values.empty() &&
           AsciiLower(label).find(AsciiLower(f.values[0])) != std::string::npos;
  }
  bool hit = false;
  if (f.match == MatchKind::kAbsent) {
    hit = label.empty();
  } else if (f.case_insensitive) {
    const std::string l = AsciiLower(label);
    for (const auto& v : f.values) hit = hit || MatchesOne(f, l, AsciiLower(v));
  } else {
    for (const auto& v : f.values) hit = hit || MatchesOne(f, label, v);
  }
  return hit != f.negate;
}

std::string Dimension::Name() const {
  if (kind == DimKind::kTag) return "TAG:" + tag_key;
  for (const auto& d : kDims) {
    if (d.kind == kind) return std::string(d.name);
  }
  return "?";
}

StatusOr<Dimension> ParseDimension(std::string_view text) {
  Dimension d;
  if (text.size() > 4 && EqualsIgnoreCase(text.substr(0, 4), "TAG:")) {
    d.kind = DimKind::kTag;
    d.tag_key = NormalizeTagKey(text.substr(4));
    return d;
  }
  for (const auto& n : kDims) {
    if (EqualsIgnoreCase(n.name, text)) {
      d.kind = n.kind;
      return d;
    }
  }
  return InvalidArgument("unknown dimension '" + std::string(text) +
                         "' (expected SERVICE, USAGE_TYPE, USAGE_KIND, INSTANCE_TYPE, REGION, "
                         "LINKED_ACCOUNT, PAYER_ACCOUNT, OPERATION, LINE_ITEM_TYPE, RESOURCE_ID, "
                         "AZ, PURCHASE_TYPE, BILLING_PERIOD or TAG:key)");
}

StatusOr<Metric> ParseMetric(std::string_view t) {
  // The names MetricName() prints are the ones accepted, in any case.
  for (Metric m : {Metric::kUnblended, Metric::kBlended, Metric::kNetUnblended, Metric::kAmortized,
                   Metric::kUsageQuantity}) {
    if (EqualsIgnoreCase(MetricName(m), t)) return m;
  }
  return InvalidArgument("unknown metric '" + std::string(t) +
                         "' (expected UnblendedCost, BlendedCost, NetUnblendedCost, "
                         "AmortizedCost or UsageQuantity)");
}

StatusOr<Granularity> ParseGranularity(std::string_view t) {
  for (Granularity g : {Granularity::kHourly, Granularity::kDaily, Granularity::kMonthly}) {
    if (EqualsIgnoreCase(GranularityName(g), t)) return g;
  }
  return InvalidArgument("unknown granularity '" + std::string(t) +
                         "' (expected HOURLY, DAILY or MONTHLY)");
}

StatusOr<Filter> ParseFilter(std::string_view t) {
  size_t eq = t.find('='), ti = t.find('~');
  size_t op = std::min(eq, ti);
  if (op == std::string_view::npos || op == 0 || op + 1 >= t.size()) {
    return InvalidArgument("bad filter '" + std::string(t) +
                           "' (expected DIM=VALUE[,VALUE...] or DIM~SUBSTRING, e.g. "
                           "SERVICE=AmazonSageMaker or USAGE_TYPE~Notebk)");
  }
  Filter f;
  ASSIGN_OR_RETURN(f.dim, ParseDimension(t.substr(0, op)));
  std::string_view rest = t.substr(op + 1);
  if (op == ti) {
    f.contains = true;
    f.values.emplace_back(rest);
    return f;
  }
  size_t i = 0;
  while (i <= rest.size()) {
    size_t j = rest.find(',', i);
    if (j == std::string_view::npos) j = rest.size();
    f.values.emplace_back(rest.substr(i, j - i));
    i = j + 1;
  }
  return f;
}

std::string_view MetricName(Metric m) {
  switch (m) {
    case Metric::kUnblended:
      return "UnblendedCost";
    case Metric::kBlended:
      return "BlendedCost";
    case Metric::kNetUnblended:
      return "NetUnblendedCost";
    case Metric::kAmortized:
      return "AmortizedCost";
    case Metric::kUsageQuantity:
      return "UsageQuantity";
  }
  return "?";
}

std::string_view GranularityName(Granularity g) {
  switch (g) {
    case Granularity::kHourly:
      return "HOURLY";
    case Granularity::kDaily:
      return "DAILY";
    case Granularity::kMonthly:
      return "MONTHLY";
  }
  return "?";
}

StatusOr<std::pair<Days, Days>> DataRange(const store::Store& st) {
  bool any = false;
  UnixSeconds lo = 0, hi = 0;
  for (const auto& s : st.segments()) {
    if (s.rows == 0) continue;
    UnixSeconds a = s.meta.value("usage_start_min", int64_t{0});
    UnixSeconds b = s.meta.value("usage_start_max", int64_t{0});
    if (!any || a < lo) lo = a;
    if (!any || b > hi) hi = b;
    any = true;
  }
  if (!any) {
    return InvalidArgument("the store is empty; run 'sagebox cost ingest PATH' first");
  }
  return std::make_pair(DayOf(lo), DayOf(hi));
}

Status ResolveDefaultRange(const store::Store& st, Query* q) {
  if (q->from && q->to) return Status::Ok();
  auto r = DataRange(st);
  if (!r.ok()) return r.status();
  if (!q->from) q->from = MonthStart(r->first);
  if (!q->to) q->to = NextMonthStart(r->second);
  return Status::Ok();
}

StatusOr<std::vector<std::string>> TagKeys(const store::Store& st) {
  std::set<std::string> keys;
  for (const auto& info : st.segments()) {
    ASSIGN_OR_RETURN(auto seg, st.OpenSegment(info));
    for (size_t c = 0; c < seg->num_columns(); ++c) {
      const std::string& name = seg->column(c).name;
      if (name.starts_with(col::kTagPrefix)) keys.insert(name.substr(col::kTagPrefix.size()));
    }
  }
  return std::vector<std::string>(keys.begin(), keys.end());
}

StatusOr<QueryResult> RunQuery(const store::Store& st, Query q) {
  if (q.group_by.size() > 2) {
    return InvalidArgument("at most two group-by dimensions, as in Cost Explorer");
  }
  if (q.metrics.empty()) q.metrics.push_back(Metric::kUnblended);
  if (q.from == 0 && q.to == 0) {
    auto r = DataRange(st);
    if (!r.ok()) {
      q.from = q.to = 0;
    } else {
      // Whole months around the data, like the console's default view.
      q.from = MonthStart(r->first);
      q.to = NextMonthStart(r->second);
    }
  }
  if (q.from >= q.to && !(q.from == 0 && q.to == 0)) {
    return InvalidArgument("--from must be before --to (--to is exclusive)");
  }
  QueryResult res;
  res.query = q;
  const UnixSeconds t0 = static_cast<UnixSeconds>(q.from) * 86400;
  const UnixSeconds t1 = static_cast<UnixSeconds>(q.to) * 86400;

  // Buckets covering [from, to).
  std::vector<UnixSeconds> starts;
  for (UnixSeconds t = t0; t < t1;) {
    starts.push_back(t);
    switch (q.granularity) {
      case Granularity::kHourly:
        t += 3600;
        break;
      case Granularity::kDaily:
        t += 86400;
        break;
      case Granularity::kMonthly:
        t = static_cast<UnixSeconds>(NextMonthStart(DayOf(t))) * 86400;
        break;
    }
  }
  const size_t nm = q.metrics.size();
  const size_t ng = q.group_by.size();
  // Global aggregation: bucket -> group label tuple -> sums.
  std::vector<std::map<std::vector<std::string>, std::vector<Decimal>>> agg(starts.size());
  std::vector<std::vector<Decimal>> totals(starts.size(), std::vector<Decimal>(nm));

  auto bucket_of = [&](UnixSeconds t) -> int32_t {
    switch (q.granularity) {
      case Granularity::kHourly:
        return static_cast<int32_t>((t - t0) / 3600);
      case Granularity::kDaily:
        return static_cast<int32_t>((t - t0) / 86400);
      case Granularity::kMonthly: {
        // Few buckets: find the last start <= t.
        auto it = std::upper_bound(starts.begin(), starts.end(), t);
        return static_cast<int32_t>(it - starts.begin()) - 1;
      }
    }
    return -1;
  };

  std::vector<uint32_t> codes;
  std::vector<int64_t> times;
  std::vector<int128> vals;
  for (const auto& info : st.segments()) {
    if (info.rows == 0) continue;
    UnixSeconds smin = info.meta.value("usage_start_min", INT64_MIN);
    UnixSeconds smax = info.meta.value("usage_start_max", INT64_MAX);
    if (smax < t0 || smin >= t1) continue;
    ASSIGN_OR_RETURN(auto seg, st.OpenSegment(info));
    // Per-dictionary-entry decisions.
    std::vector<int> fcol;
    std::vector<std::vector<char>> fallow;
    for (const auto& f : q.filters) {
      int c = seg->FindColumn(ColumnOf(f.dim));
      auto labels = Labels(*seg, info, c, f.dim);
      std::vector<char> allow(labels.size());
      for (size_t i = 0; i < labels.size(); ++i) allow[i] = FilterMatches(f, labels[i]);
      fcol.push_back(c);
      fallow.push_back(std::move(allow));
    }
    std::vector<int> gcol;
    std::vector<std::vector<std::string>> glabels;
    for (const auto& d : q.group_by) {
      int c = seg->FindColumn(ColumnOf(d));
      gcol.push_back(c);
      glabels.push_back(Labels(*seg, info, c, d));
    }
    std::vector<int> mcol;
    for (Metric m : q.metrics) mcol.push_back(seg->FindColumn(MetricColumn(m)));
    const int tcol = seg->FindColumn(col::kUsageStart);
    if (tcol < 0) return Corruption(info.file + ": billing segment without usage_start");

    SegmentSums local(starts.size(), ng > 0 ? glabels[0].size() : 1, ng > 1 ? glabels[1].size() : 1,
                      nm);
    std::vector<std::vector<int128>> mv(nm);
    std::vector<char> keep;
    std::vector<int32_t> bucket;
    std::vector<std::vector<uint32_t>> gcodes(ng);
    for (size_t rg = 0; rg < seg->num_row_groups(); ++rg) {
      const size_t n = seg->row_group_rows(rg);
      keep.assign(n, 1);
      bucket.assign(n, -1);
      RETURN_IF_ERROR(seg->ReadInt64(rg, tcol, &times));
      for (size_t i = 0; i < n; ++i) {
        UnixSeconds t = times[i];
        if (t < t0 || t >= t1)
          keep[i] = 0;
        else
          bucket[i] = bucket_of(t);
      }
      for (size_t f = 0; f < fcol.size(); ++f) {
        if (fcol[f] < 0) {
          if (!fallow[f][0]) std::fill(keep.begin(), keep.end(), 0);
          continue;
        }
        RETURN_IF_ERROR(seg->ReadCodes(rg, fcol[f], &codes));
        const auto& allow = fallow[f];
        for (size_t i = 0; i < n; ++i) keep[i] &= allow[codes[i]];
      }
      // Nothing survives the time range and filters: skip the other columns.
      if (std::find(keep.begin(), keep.end(), 1) == keep.end()) continue;
      for (size_t g = 0; g < ng; ++g) {
        if (gcol[g] < 0)
          gcodes[g].assign(n, 0);
        else
          RETURN_IF_ERROR(seg->ReadCodes(rg, gcol[g], &gcodes[g]));
      }
      // Metric columns one at a time into per-row sums keyed by group.
      for (size_t m = 0; m < nm; ++m) {
        if (mcol[m] < 0)
          mv[m].assign(n, 0);
        else
          RETURN_IF_ERROR(seg->ReadDecimal(rg, mcol[m], &mv[m]));
      }
      for (size_t i = 0; i < n; ++i) {
        if (!keep[i]) continue;
        int128* acc = local.At(bucket[i], ng > 0 ? gcodes[0][i] : 0, ng > 1 ? gcodes[1][i] : 0);
        for (size_t m = 0; m < nm; ++m) acc[m] += mv[m][i];
      }
    }
    local.ForEach([&](const Key& k, const int128* acc) {
      std::vector<std::string> keys;
      for (size_t g = 0; g < ng; ++g) {
        uint32_t c = g == 0 ? k.a : k.b;
        const auto& lab = glabels[g][c];
        const Dimension& d = q.group_by[g];
        keys.push_back(d.kind == DimKind::kTag ? d.tag_key + "$" + lab : lab);
      }
      auto& dst = agg[static_cast<size_t>(k.bucket)][keys];
      if (dst.empty()) dst.assign(nm, Decimal());
      for (size_t m = 0; m < nm; ++m) {
        dst[m] += Decimal::FromRaw(acc[m]);
        totals[static_cast<size_t>(k.bucket)][m] += Decimal::FromRaw(acc[m]);
      }
    });
  }
  for (size_t b = 0; b < starts.size(); ++b) {
    TimeBucket tb;
    tb.start = starts[b];
    tb.end = b + 1 < starts.size() ? starts[b + 1] : t1;
    tb.total = totals[b];
    if (ng > 0) {
      for (auto& [keys, v] : agg[b]) tb.groups.push_back({keys, v});
      std::stable_sort(tb.groups.begin(), tb.groups.end(), [](const Group& a, const Group& c) {
        if (a.values[0] != c.values[0]) return a.values[0] > c.values[0];
        return a.keys < c.keys;
      });
    }
    res.buckets.push_back(std::move(tb));
  }
  return res;
}

}  // namespace sagebox::cost
