#include "cost/findings/resource_usage.h"

#include <algorithm>
#include <unordered_map>

#include "core/strings.h"
#include "cost/billing_table.h"

namespace sagebox::findings {

namespace {

constexpr std::string_view kSageMaker = "AmazonSageMaker";
constexpr std::string_view kS3 = "AmazonS3";

bool IsUsageLine(std::string_view t) {
  return t == "Usage" || t == "DiscountedUsage" || t == "SavingsPlanCoveredUsage";
}

// Monday 00:00 UTC = 0. 1970-01-01 was a Thursday (index 3).
size_t HourOfWeek(UnixSeconds t) {
  Days d = DayOf(t);
  int64_t wd = ((d % 7) + 7 + 3) % 7;
  int64_t h = (t - static_cast<UnixSeconds>(d) * 86400) / 3600;
  return static_cast<size_t>(wd * 24 + h);
}

// Spreads `hours` of usage over [start, end) by the hour, as AWS bills it
// (hourly lines put everything in their hour; daily lines spread evenly).
void Spread(std::array<double, 168>* how, UnixSeconds start, UnixSeconds end, double hours) {
  if (end <= start + 3600) {
    (*how)[HourOfWeek(start)] += hours;
    return;
  }
  const int64_t n = (end - start + 3599) / 3600;
  const double per = hours / static_cast<double>(n);
  for (int64_t i = 0; i < n && i < 24 * 62; ++i) (*how)[HourOfWeek(start + i * 3600)] += per;
}

struct Cols {
  int product = -1, type = -1, usage_type = -1, resource = -1, account = -1, region = -1;
  int start = -1, end = -1, usage = -1, unblended = -1, amortized = -1, pod = -1, term = -1;
};

}  // namespace

std::optional<Decimal> ResourceUsage::BilledRate() const {
  if (!od_usage.is_zero() && od_usage > Decimal()) return Decimal::Div(od_cost, od_usage);
  if (!all_usage.is_zero() && !public_cost.is_zero()) return Decimal::Div(public_cost, all_usage);
  return std::nullopt;
}

Decimal ResourceUsage::TotalCost() const {
  Decimal s;
  for (const auto& [d, u] : days) s += u.cost;
  return s;
}

Decimal ResourceUsage::TotalHours() const {
  Decimal s;
  for (const auto& [d, u] : days) s += u.hours;
  return s;
}

std::vector<const ResourceUsage*> UsageFacts::ById(std::string_view id) const {
  std::vector<const ResourceUsage*> out;
  auto it = by_id.find(AsciiLower(id));
  if (it == by_id.end()) return out;
  for (size_t i : it->second) out.push_back(&resources[i]);
  return out;
}

std::optional<Decimal> UsageFacts::BilledRateFor(const std::string& kind, const std::string& region,
                                                 const std::string& instance_type) const {
  std::string key = kind;
  key.append(1, '|').append(region).append(1, '|').append(instance_type);
  auto it = rate_by_kind_region_type.find(key);
  if (it == rate_by_kind_region_type.end()) return std::nullopt;
  return it->second;
}

StatusOr<UsageFacts> CollectUsage(const store::Store& st, const CollectOptions& opt) {
  UsageFacts f;
  const bool ranged = !(opt.from == 0 && opt.to == 0);
  const UnixSeconds t0 = static_cast<UnixSeconds>(opt.from) * 86400;
  const UnixSeconds t1 = static_cast<UnixSeconds>(opt.to) * 86400;
  f.data_start = INT64_MAX;
  f.data_end = INT64_MIN;
  std::map<std::string, size_t> index;  // resource|usage type|account -> resources[i]
  std::map<Days, Decimal> daily;

  std::vector<uint32_t> product, type, ut, rid, acct, region, term;
  std::vector<int64_t> start, end;
  std::vector<int128> usage, unblended, amortized, pod;
  std::vector<std::vector<uint32_t>> tagc(opt.required_tags.size());
  for (const auto& info : st.segments()) {
    if (info.rows == 0) continue;
    ASSIGN_OR_RETURN(auto seg, st.OpenSegment(info));
    Cols c;
    c.product = seg->FindColumn(cost::col::kService);
    c.type = seg->FindColumn(cost::col::kLineItemType);
    c.usage_type = seg->FindColumn(cost::col::kUsageType);
    c.resource = seg->FindColumn(cost::col::kResourceId);
    c.account = seg->FindColumn(cost::col::kAccount);
    c.region = seg->FindColumn(cost::col::kRegion);
    c.start = seg->FindColumn(cost::col::kUsageStart);
    c.end = seg->FindColumn(cost::col::kUsageEnd);
    c.usage = seg->FindColumn(cost::col::kUsageAmount);
    c.unblended = seg->FindColumn(cost::col::kUnblended);
    c.amortized = seg->FindColumn(cost::col::kAmortized);
    c.pod = seg->FindColumn(cost::col::kPublicOnDemand);
    c.term = seg->FindColumn(cost::col::kPricingTerm);
    if (c.product < 0 || c.type < 0 || c.usage_type < 0 || c.start < 0 || c.end < 0 ||
        c.usage < 0 || c.unblended < 0 || c.amortized < 0 || c.resource < 0 || c.account < 0) {
      return Corruption(info.file + ": billing segment lacks a required column");
    }
    std::vector<int> tag_cols;
    for (const auto& k : opt.required_tags) {
      tag_cols.push_back(seg->FindColumn(std::string(cost::col::kTagPrefix) + k));
    }
    // Decisions per dictionary entry, not per row.
    const auto& pdict = seg->Dictionary(c.product);
    std::vector<char> is_sm(pdict.size()), is_s3(pdict.size());
    for (size_t i = 0; i < pdict.size(); ++i) {
      is_sm[i] = pdict[i] == kSageMaker;
      is_s3[i] = pdict[i] == kS3;
    }
    const auto& tdict = seg->Dictionary(c.type);
    std::vector<char> is_usage(tdict.size()), is_plain_usage(tdict.size());
    for (size_t i = 0; i < tdict.size(); ++i) {
      is_usage[i] = IsUsageLine(tdict[i]);
      is_plain_usage[i] = tdict[i] == "Usage";
    }
    const auto& udict = seg->Dictionary(c.usage_type);
    std::vector<cost::UsageType> uparsed(udict.size());
    std::vector<char> timed_storage(udict.size());
    for (size_t i = 0; i < udict.size(); ++i) {
      uparsed[i] = cost::ParseUsageType(udict[i]);
      timed_storage[i] = udict[i].find("TimedStorage") != std::string::npos;
    }
    std::vector<char> ondemand;
    if (c.term >= 0) {
      const auto& d = seg->Dictionary(c.term);
      ondemand.resize(d.size());
      for (size_t i = 0; i < d.size(); ++i) ondemand[i] = d[i] == "OnDemand" || d[i].empty();
    }
    std::unordered_map<uint64_t, size_t> local;  // (rid, ut, acct) codes -> resources index

    for (size_t rg = 0; rg < seg->num_row_groups(); ++rg) {
      const size_t n = seg->row_group_rows(rg);
      RETURN_IF_ERROR(seg->ReadInt64(rg, c.start, &start));
      RETURN_IF_ERROR(seg->ReadInt64(rg, c.end, &end));
      RETURN_IF_ERROR(seg->ReadCodes(rg, c.product, &product));
      RETURN_IF_ERROR(seg->ReadCodes(rg, c.type, &type));
      for (size_t i = 0; i < n; ++i) {
        if (ranged && (start[i] < t0 || start[i] >= t1)) continue;
        f.data_start = std::min<UnixSeconds>(f.data_start, start[i]);
        f.data_end = std::max<UnixSeconds>(f.data_end, std::max(end[i], start[i]));
      }
      bool any = false;
      for (size_t i = 0; i < n && !any; ++i) any = is_sm[product[i]] || is_s3[product[i]];
      if (!any) continue;
      RETURN_IF_ERROR(seg->ReadCodes(rg, c.usage_type, &ut));
      RETURN_IF_ERROR(seg->ReadCodes(rg, c.resource, &rid));
      RETURN_IF_ERROR(seg->ReadCodes(rg, c.account, &acct));
      if (c.region >= 0) RETURN_IF_ERROR(seg->ReadCodes(rg, c.region, &region));
      if (c.term >= 0) RETURN_IF_ERROR(seg->ReadCodes(rg, c.term, &term));
      RETURN_IF_ERROR(seg->ReadDecimal(rg, c.usage, &usage));
      RETURN_IF_ERROR(seg->ReadDecimal(rg, c.unblended, &unblended));
      RETURN_IF_ERROR(seg->ReadDecimal(rg, c.amortized, &amortized));
      if (c.pod >= 0) RETURN_IF_ERROR(seg->ReadDecimal(rg, c.pod, &pod));
      for (size_t k = 0; k < tag_cols.size(); ++k) {
        if (tag_cols[k] >= 0) RETURN_IF_ERROR(seg->ReadCodes(rg, tag_cols[k], &tagc[k]));
      }
      for (size_t i = 0; i < n; ++i) {
        if (ranged && (start[i] < t0 || start[i] >= t1)) continue;
        const Days day = DayOf(start[i]);
        const Decimal cost_i = Decimal::FromRaw(amortized[i]);
        if (is_s3[product[i]]) {
          if (is_usage[type[i]] && rid[i] != 0 && timed_storage[ut[i]]) {
            f.s3_storage_by_bucket[seg->Dictionary(c.resource)[rid[i]]] += cost_i;
          }
          continue;
        }
        if (!is_sm[product[i]]) continue;
        daily[day] += cost_i;
        if (!is_usage[type[i]]) continue;
        const std::string& acct_s = seg->Dictionary(c.account)[acct[i]];
        if (!opt.required_tags.empty()) {
          bool tagged = true;
          for (size_t k = 0; k < tag_cols.size() && tagged; ++k) {
            tagged = tag_cols[k] >= 0 && tagc[k][i] != 0;
          }
          auto& tc = f.tags_by_account[acct_s];
          tc.total += cost_i;
          if (!tagged) {
            tc.untagged += cost_i;
            const std::string& r = seg->Dictionary(c.resource)[rid[i]];
            tc.untagged_by_resource[r.empty() ? seg->Dictionary(c.usage_type)[ut[i]] : r] += cost_i;
          }
        }
        const uint64_t key =
            (static_cast<uint64_t>(rid[i]) << 40) ^ (static_cast<uint64_t>(ut[i]) << 20) ^ acct[i];
        auto it = local.find(key);
        if (it == local.end()) {
          const std::string& r = seg->Dictionary(c.resource)[rid[i]];
          const std::string& u = udict[ut[i]];
          std::string gkey = r;
          gkey.append(1, '\x1f').append(u).append(1, '\x1f').append(acct_s);
          auto [git, fresh] = index.emplace(gkey, f.resources.size());
          if (fresh) {
            ResourceUsage ru;
            ru.resource_id = r;
            ru.usage_type = u;
            ru.account_id = acct_s;
            ru.parsed = uparsed[ut[i]];
            ru.region = c.region >= 0 && !seg->Dictionary(c.region)[region[i]].empty()
                            ? seg->Dictionary(c.region)[region[i]]
                            : ru.parsed.region;
            ru.first_start = start[i];
            f.resources.push_back(std::move(ru));
          }
          it = local.emplace(key, git->second).first;
        }
        ResourceUsage& ru = f.resources[it->second];
        const Decimal u = Decimal::FromRaw(usage[i]);
        DayUsage& du = ru.days[day];
        du.usage += u;
        du.cost += cost_i;
        if (ru.is_instance()) {
          du.hours += u;
          Spread(&ru.hour_of_week, start[i], end[i], u.ToDouble());
        }
        ru.all_usage += u;
        if (c.pod >= 0) ru.public_cost += Decimal::FromRaw(pod[i]);
        const bool od = is_plain_usage[type[i]] && (c.term < 0 || ondemand[term[i]]);
        if (od) {
          ru.od_cost += Decimal::FromRaw(unblended[i]);
          ru.od_usage += u;
        }
        ru.first_start = std::min<UnixSeconds>(ru.first_start, start[i]);
        ru.last_end = std::max<UnixSeconds>(ru.last_end, end[i]);
      }
    }
  }
  if (f.data_start == INT64_MAX) return NotFound("the store holds no billing data in that range");
  // Sort an index, then move each resource once (they are large).
  std::vector<size_t> order(f.resources.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&f](size_t x, size_t y) {
    const auto& a = f.resources[x];
    const auto& b = f.resources[y];
    if (a.resource_id != b.resource_id) return a.resource_id < b.resource_id;
    if (a.usage_type != b.usage_type) return a.usage_type < b.usage_type;
    return a.account_id < b.account_id;
  });
  std::vector<ResourceUsage> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(f.resources[i]));
  f.resources = std::move(sorted);
  for (size_t i = 0; i < f.resources.size(); ++i) {
    const ResourceUsage& r = f.resources[i];
    if (!r.resource_id.empty()) f.by_id[AsciiLower(r.resource_id)].push_back(i);
    if (r.parsed.is_storage || r.parsed.instance_type.empty()) continue;
    if (auto rate = r.BilledRate()) {
      std::string key = r.parsed.kind;
      key.append(1, '|').append(r.region).append(1, '|').append(r.parsed.instance_type);
      f.rate_by_kind_region_type.emplace(std::move(key), *rate);
    }
  }
  for (Days d = DayOf(f.data_start); d <= DayOf(f.data_end - 1); ++d) {
    auto it = daily.find(d);
    f.daily_cost.emplace_back(d, it == daily.end() ? Decimal() : it->second);
  }
  return f;
}

}  // namespace sagebox::findings
