#include "cost/report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/table.h"

namespace sagebox::cost {

namespace {

std::string PeriodText(UnixSeconds t, Granularity g) {
  return g == Granularity::kHourly ? FormatTimestamp(t) : FormatDate(DayOf(t));
}

std::string Unit(Metric m, const std::string& currency) {
  return m == Metric::kUsageQuantity ? "N/A" : currency;
}

nlohmann::json Metrics(const QueryResult& r, const std::vector<Decimal>& v) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t m = 0; m < r.query.metrics.size(); ++m) {
    Metric mt = r.query.metrics[m];
    j[std::string(MetricName(mt))] = {{"Amount", v[m].ToString()}, {"Unit", Unit(mt, r.currency)}};
  }
  return j;
}

std::string Money(Decimal d) { return GroupThousands(d.ToFixed(2)); }

}  // namespace

nlohmann::json QueryToJson(const QueryResult& r) {
  nlohmann::json out;
  nlohmann::json defs = nlohmann::json::array();
  for (const auto& d : r.query.group_by) {
    if (d.kind == DimKind::kTag)
      defs.push_back({{"Type", "TAG"}, {"Key", d.tag_key}});
    else
      defs.push_back({{"Type", "DIMENSION"}, {"Key", d.Name()}});
  }
  if (!defs.empty()) out["GroupDefinitions"] = defs;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& b : r.buckets) {
    nlohmann::json jb;
    jb["TimePeriod"] = {{"Start", PeriodText(b.start, r.query.granularity)},
                        {"End", PeriodText(b.end, r.query.granularity)}};
    // Cost Explorer leaves Total empty when results are grouped.
    jb["Total"] = r.query.group_by.empty() ? Metrics(r, b.total) : nlohmann::json::object();
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : b.groups)
      groups.push_back({{"Keys", g.keys}, {"Metrics", Metrics(r, g.values)}});
    jb["Groups"] = groups;
    jb["Estimated"] = false;
    results.push_back(std::move(jb));
  }
  out["ResultsByTime"] = results;
  out["DimensionValueAttributes"] = nlohmann::json::array();
  return out;
}

namespace {
TextTable QueryTable(const QueryResult& r, bool exact) {
  std::vector<std::string> head{"Start"};
  std::vector<TextTable::Align> align{TextTable::Align::kLeft};
  if (exact) {
    head.emplace_back("End");
    align.push_back(TextTable::Align::kLeft);
  }
  for (const auto& d : r.query.group_by) {
    head.push_back(d.Name());
    align.push_back(TextTable::Align::kLeft);
  }
  for (Metric m : r.query.metrics) {
    head.emplace_back(MetricName(m));
    align.push_back(TextTable::Align::kRight);
  }
  TextTable t(head, align);
  auto num = [&](Decimal d, Metric m) {
    if (exact) return d.ToString();
    return m == Metric::kUsageQuantity ? GroupThousands(d.ToFixed(4)) : Money(d);
  };
  for (const auto& b : r.buckets) {
    std::vector<std::string> base{PeriodText(b.start, r.query.granularity)};
    if (exact) base.push_back(PeriodText(b.end, r.query.granularity));
    if (r.query.group_by.empty()) {
      auto row = base;
      for (size_t m = 0; m < r.query.metrics.size(); ++m)
        row.push_back(num(b.total[m], r.query.metrics[m]));
      t.AddRow(row);
      continue;
    }
    for (const auto& g : b.groups) {
      auto row = base;
      for (size_t k = 0; k < g.keys.size(); ++k) {
        std::string key = g.keys[k];
        if (!exact && r.query.group_by[k].kind != DimKind::kTag && key.empty()) key = "(none)";
        row.push_back(key);
      }
      for (size_t m = 0; m < r.query.metrics.size(); ++m)
        row.push_back(num(g.values[m], r.query.metrics[m]));
      t.AddRow(row);
    }
  }
  return t;
}
}  // namespace

std::string QueryToCsv(const QueryResult& r) { return QueryTable(r, true).RenderCsv(); }

std::string QueryToTable(const QueryResult& r) {
  TextTable t = QueryTable(r, false);
  std::string out = t.Render(72);
  // Totals per metric over the whole range, for people.
  std::vector<Decimal> sum(r.query.metrics.size());
  for (const auto& b : r.buckets) {
    for (size_t m = 0; m < sum.size(); ++m) sum[m] += b.total[m];
  }
  out += "\nTotal " + FormatDate(r.query.from) + " to " + FormatDate(r.query.to) + " (exclusive):";
  for (size_t m = 0; m < sum.size(); ++m) {
    out += fmt::format("  {} {}", MetricName(r.query.metrics[m]),
                       r.query.metrics[m] == Metric::kUsageQuantity
                           ? GroupThousands(sum[m].ToFixed(4))
                           : Money(sum[m]) + " " + r.currency);
  }
  return out + "\n";
}

StatusOr<Summary> BuildSummary(const store::Store& st, Days as_of) {
  ASSIGN_OR_RETURN(auto range, DataRange(st));
  Summary s;
  s.as_of = as_of ? as_of : range.second;
  s.month_start = MonthStart(s.as_of);
  Days prev_start = MonthStart(s.month_start - 1);

  Query q;
  q.from = s.month_start;
  q.to = s.as_of + 1;
  ASSIGN_OR_RETURN(auto mtd, RunQuery(st, q));
  for (const auto& b : mtd.buckets) s.month_to_date += b.total[0];

  // The same number of days of the previous month, for a fair comparison.
  q.from = prev_start;
  q.to = std::min(s.month_start, prev_start + (s.as_of + 1 - s.month_start));
  if (q.to > q.from) {
    ASSIGN_OR_RETURN(auto prev, RunQuery(st, q));
    for (const auto& b : prev.buckets) s.previous_month += b.total[0];
  }
  q.to = s.month_start;
  ASSIGN_OR_RETURN(auto prevfull, RunQuery(st, q));
  for (const auto& b : prevfull.buckets) s.previous_month_full += b.total[0];

  auto top = [&](DimKind k, std::vector<Ranked>* out) -> Status {
    Query g;
    g.from = s.month_start;
    g.to = s.as_of + 1;
    g.group_by = {Dimension{k, ""}};
    ASSIGN_OR_RETURN(auto r, RunQuery(st, g));
    for (const auto& b : r.buckets) {
      for (const auto& gr : b.groups) out->push_back({gr.keys[0], gr.values[0]});
    }
    std::sort(out->begin(), out->end(),
              [](const Ranked& a, const Ranked& b) { return a.amount > b.amount; });
    if (out->size() > 5) out->resize(5);
    return Status::Ok();
  };
  RETURN_IF_ERROR(top(DimKind::kService, &s.top_services));
  RETURN_IF_ERROR(top(DimKind::kLinkedAccount, &s.top_accounts));
  RETURN_IF_ERROR(top(DimKind::kRegion, &s.top_regions));

  // Trend of the top five services over the last closed months (up to 6).
  Days first = MonthStart(range.first);
  std::vector<Days> months;
  for (Days m = prev_start; m >= first && months.size() < 6; m = MonthStart(m - 1))
    months.insert(months.begin(), m);
  if (!months.empty()) {
    Query t;
    t.from = months.front();
    t.to = s.month_start;
    t.granularity = Granularity::kMonthly;
    t.group_by = {Dimension{DimKind::kService, ""}};
    ASSIGN_OR_RETURN(auto r, RunQuery(st, t));
    std::map<std::string, std::vector<Decimal>> by;
    std::map<std::string, Decimal> total;
    for (size_t i = 0; i < r.buckets.size(); ++i) {
      for (const auto& g : r.buckets[i].groups) {
        auto& v = by[g.keys[0]];
        v.resize(r.buckets.size());
        v[i] = g.values[0];
        total[g.keys[0]] += g.values[0];
      }
    }
    std::vector<std::pair<std::string, Decimal>> order(total.begin(), total.end());
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    if (order.size() > 5) order.resize(5);
    s.trend_months = months;
    for (const auto& [name, _] : order) {
      auto v = by[name];
      v.resize(months.size());
      s.trend.emplace_back(name, v);
    }
  }
  return s;
}

std::string SummaryToText(const Summary& s) {
  std::string out;
  out += fmt::format("Month to date ({} to {}):  {} {}\n", FormatDate(s.month_start),
                     FormatDate(s.as_of), Money(s.month_to_date), s.currency);
  if (!s.previous_month.is_zero()) {
    double change = (s.month_to_date.ToDouble() - s.previous_month.ToDouble()) /
                    std::abs(s.previous_month.ToDouble()) * 100;
    out += fmt::format("Same days last month:       {} {}  ({:+.1f}%)\n", Money(s.previous_month),
                       s.currency, change);
  }
  out += fmt::format("Last month in full:         {} {}\n\n", Money(s.previous_month_full),
                     s.currency);
  auto top = [&](const char* title, const std::vector<Ranked>& v) {
    out += std::string(title) + "\n";
    if (v.empty()) {
      out += "  (no spend this month)\n\n";
      return;
    }
    TextTable t({"", "amount", "share"},
                {TextTable::Align::kLeft, TextTable::Align::kRight, TextTable::Align::kRight});
    for (const auto& r : v) {
      double share =
          s.month_to_date.is_zero() ? 0 : r.amount.ToDouble() / s.month_to_date.ToDouble() * 100;
      t.AddRow({r.key.empty() ? "(none)" : r.key, Money(r.amount), fmt::format("{:.1f}%", share)});
    }
    std::string rendered = t.Render(60);
    // Drop the blank header line; keep the rule.
    out += rendered.substr(rendered.find('\n') + 1) + "\n";
  };
  top("Top services this month", s.top_services);
  top("Top accounts this month", s.top_accounts);
  top("Top regions this month", s.top_regions);
  if (!s.trend.empty()) {
    out += "Top services over the last closed months\n";
    std::vector<std::string> head{"service"};
    std::vector<TextTable::Align> al{TextTable::Align::kLeft};
    for (Days m : s.trend_months) {
      head.push_back(FormatMonth(m));
      al.push_back(TextTable::Align::kRight);
    }
    head.emplace_back("trend");
    al.push_back(TextTable::Align::kLeft);
    TextTable t(head, al);
    for (const auto& [name, v] : s.trend) {
      std::vector<std::string> row{name.empty() ? "(none)" : name};
      Decimal mx;
      for (auto d : v) mx = std::max(mx, d);
      std::string spark;
      const char* ticks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                             "\u2585", "\u2586", "\u2587", "\u2588"};
      for (auto d : v) {
        row.push_back(Money(d));
        int idx = mx.raw() > 0 && d.raw() > 0
                      ? static_cast<int>(std::lround(d.ToDouble() / mx.ToDouble() * 7))
                      : 0;
        spark += ticks[std::clamp(idx, 0, 7)];
      }
      row.push_back(spark);
      t.AddRow(row);
    }
    out += t.Render(40);
  }
  return out;
}

nlohmann::json SummaryToJson(const Summary& s) {
  auto ranked = [](const std::vector<Ranked>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : v) a.push_back({{"Key", r.key}, {"Amount", r.amount.ToString()}});
    return a;
  };
  nlohmann::json trend = nlohmann::json::array();
  for (const auto& [name, v] : s.trend) {
    nlohmann::json amounts = nlohmann::json::array();
    for (auto d : v) amounts.push_back(d.ToString());
    trend.push_back({{"Service", name}, {"Amounts", amounts}});
  }
  nlohmann::json months = nlohmann::json::array();
  for (Days m : s.trend_months) months.push_back(FormatMonth(m));
  return {{"Currency", s.currency},
          {"AsOf", FormatDate(s.as_of)},
          {"MonthStart", FormatDate(s.month_start)},
          {"MonthToDate", s.month_to_date.ToString()},
          {"SameDaysLastMonth", s.previous_month.ToString()},
          {"LastMonth", s.previous_month_full.ToString()},
          {"TopServices", ranked(s.top_services)},
          {"TopAccounts", ranked(s.top_accounts)},
          {"TopRegions", ranked(s.top_regions)},
          {"TrendMonths", months},
          {"Trend", trend}};
}

}  // namespace sagebox::cost
