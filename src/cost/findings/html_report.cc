#include "cost/findings/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "core/table.h"

#ifndef SAGEBOX_VERSION
#define SAGEBOX_VERSION "dev"
#endif

namespace sagebox::findings {
namespace {

using nlohmann::json;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// JSON text for display. `replace` keeps dump() from throwing on strings
// that are not valid UTF-8 (billing data can hold anything).
std::string Dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string E(std::string_view s) { return HtmlEscape(s); }

// "1234567.891" -> "1,234,567.89": money as people read it, from the exact value.
std::string Money(Decimal d) { return GroupThousands(d.ToFixed(2)); }

// A number for SVG attributes: fixed, locale-free, never NaN.
std::string Num(double v) {
  if (!std::isfinite(v)) v = 0;
  return fmt::format("{:.1f}", v);
}

// Text of a scalar: strings as they are, everything else as JSON.
std::string ScalarText(const json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>();
  return Dump(j);
}

// A number held either as a JSON number or as a decimal string ("24").
std::optional<double> NumberOf(const json& j) {
  if (j.is_number()) {
    double v = j.get<double>();
    if (std::isfinite(v)) return v;
    return std::nullopt;
  }
  if (j.is_string()) {
    Decimal d;
    if (Decimal::Parse(j.get_ref<const std::string&>(), &d)) return d.ToDouble();
  }
  return std::nullopt;
}

// Moves `pos` back to the start of a UTF-8 sequence so cuts never split one.
size_t CharBoundary(std::string_view s, size_t pos) {
  while (pos > 0 && pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

// The readable part of a resource id: the resource of an ARN
// ("notebook-instance/dev"), and long ids cut in the middle.
std::string ShortResource(std::string_view id) {
  if (id.rfind("arn:", 0) == 0) {
    size_t pos = 0;
    int colons = 0;
    while (colons < 5) {
      pos = id.find(':', pos);
      if (pos == std::string_view::npos) break;
      ++pos;
      ++colons;
    }
    if (colons == 5 && pos < id.size()) id = id.substr(pos);
  }
  constexpr size_t kMax = 48;
  if (id.size() <= kMax) return std::string(id);
  size_t head = CharBoundary(id, 22);
  size_t tail = CharBoundary(id, id.size() - 23);
  return std::string(id.substr(0, head)) + "\xE2\x80\xA6" + std::string(id.substr(tail));
}

// Escaped, with a line-break opportunity after each "/" so long resource
// paths wrap at their natural joints in a narrow column.
std::string WrappableResource(std::string_view id) {
  if (id.empty()) return "&mdash;";
  std::string escaped = E(ShortResource(id)), out;
  for (char c : escaped) {
    out += c;
    if (c == '/') out += "<wbr>";
  }
  return out;
}

std::string PeriodText(const FindingsReport& r) {
  if (r.end <= r.start) return "no billing period";
  Days days = r.end - r.start;
  return fmt::format("{} to {} ({} day{})", FormatDate(r.start), FormatDate(r.end - 1), days,
                     days == 1 ? "" : "s");
}

// ---------------------------------------------------------------- charts ---

struct Bar {
  std::string label;  // x-axis text (a date)
  double value = 0;
  std::string tip;  // tooltip, already plain text (escaped on output)
  bool marked = false;
};

struct ChartStyle {
  std::string aria;  // what the chart shows, for screen readers and tests
  std::string color = "#2563eb";
  std::string marked_color = "#ea580c";
  double min_top = 0;               // the y-axis reaches at least this
  std::optional<double> reference;  // dashed horizontal line
  std::string reference_label;      // text beside that line
};

// 1, 2 or 5 times a power of ten, so axis ticks read well.
double NiceStep(double range, int target) {
  if (!(range > 0) || !std::isfinite(range)) return 1;
  double raw = range / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

std::string TickText(double v, double step) {
  int decimals = step >= 1 ? 0 : std::min(4, static_cast<int>(std::ceil(-std::log10(step))));
  if (std::fabs(v) < step / 1e6) v = 0;  // no "-0"
  return fmt::format("{:.{}f}", v, decimals);
}

// A vertical bar chart as inline SVG, one bar per entry in order. Values may
// be negative (credits); the zero line is then drawn inside the plot.
std::string BarChartSvg(const std::vector<Bar>& bars, const ChartStyle& style) {
  constexpr double kW = 960, kH = 230, kLeft = 58, kRight = 14, kTop = 14, kBottom = 34;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  double lo = 0, hi = style.min_top;
  for (const Bar& b : bars) {
    lo = std::min(lo, b.value);
    hi = std::max(hi, b.value);
  }
  if (style.reference) hi = std::max(hi, *style.reference);
  if (hi <= lo) hi = lo + 1;
  double step = NiceStep(hi - lo, 5);
  double top = std::ceil(hi / step) * step, bottom = std::floor(lo / step) * step;
  if (top <= bottom) top = bottom + step;
  auto y = [&](double v) { return kTop + ph * (top - v) / (top - bottom); };

  std::string out = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">"
      "<title>{}</title>",
      Num(kW), Num(kH), E(style.aria), E(style.aria));
  // Grid and y ticks.
  int ticks = static_cast<int>(std::lround((top - bottom) / step));
  for (int i = 0; i <= ticks && i <= 20; ++i) {
    double v = bottom + i * step;
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#e5e7eb\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" fill=\"#6b7280\">{}</text>",
        Num(kLeft), Num(kW - kRight), Num(y(v)), Num(y(v)), Num(kLeft - 6), Num(y(v) + 4),
        TickText(v, step));
  }
  // Bars.
  const size_t n = bars.size();
  const double slot = n == 0 ? pw : pw / static_cast<double>(n);
  // Few bars stay slim; many bars keep a hairline gap until they cannot.
  const double bw = std::min(slot >= 4 ? slot * 0.78 : slot * 0.95, 40.0);
  for (size_t i = 0; i < n; ++i) {
    const Bar& b = bars[i];
    double x = kLeft + static_cast<double>(i) * slot + (slot - bw) / 2;
    double y0 = y(std::max(b.value, 0.0)), y1 = y(std::min(b.value, 0.0));
    double h = std::max(y1 - y0, b.value != 0 ? 0.8 : 0.0);
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
        Num(x), Num(y0), fmt::format("{:.2f}", bw), Num(h),
        b.marked ? style.marked_color : style.color, E(b.tip));
  }
  // Zero line and reference line over the bars.
  out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#9ca3af\"/>",
                     Num(kLeft), Num(kW - kRight), Num(y(0)), Num(y(0)));
  if (style.reference) {
    double ry = y(*style.reference);
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#374151\" "
        "stroke-dasharray=\"5 4\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" fill=\"#374151\">{}</text>",
        Num(kLeft), Num(kW - kRight), Num(ry), Num(ry), Num(kW - kRight - 2), Num(ry - 4),
        E(style.reference_label));
  }
  // X labels: about one per 90 px, always the first and the last bar.
  if (n > 0) {
    size_t max_labels = std::max<size_t>(2, static_cast<size_t>(pw / 90));
    size_t every = (n + max_labels - 1) / max_labels;
    std::vector<size_t> at;
    for (size_t i = 0; i < n; i += every) at.push_back(i);
    if (at.back() != n - 1) {
      // Too close to the previous label: the last one replaces it.
      if (at.size() > 1 && (n - 1 - at.back()) * 5 < every * 3) at.pop_back();
      at.push_back(n - 1);
    }
    for (size_t i : at) {
      std::string_view label = bars[i].label;
      std::string text(label.substr(0, CharBoundary(label, std::min<size_t>(label.size(), 12))));
      // The outer labels align to the plot edges so they never leave the chart.
      double x = kLeft + (static_cast<double>(i) + 0.5) * slot;
      const char* anchor = "middle";
      if (n > 1 && i == 0) {
        x = kLeft;
        anchor = "start";
      } else if (n > 1 && i == n - 1) {
        x = kW - kRight;
        anchor = "end";
      }
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" font-size=\"11\" fill=\"#4b5563\">{}</text>",
          Num(x), Num(kH - kBottom + 16), anchor, E(text));
    }
  }
  out += "</svg>";
  return out;
}

// Horizontal bars with a label and value per row (savings by kind).
struct Row {
  std::string label;
  double value = 0;
  std::string value_text;
};

std::string HorizontalBarSvg(const std::vector<Row>& rows, std::string_view aria) {
  constexpr double kW = 960, kRowH = 28, kLabelW = 250, kValueW = 120, kPad = 8;
  const double h = kPad * 2 + kRowH * static_cast<double>(rows.size());
  const double bar_area = kW - kLabelW - kValueW - 2 * kPad;
  double max = 0;
  for (const Row& r : rows) max = std::max(max, r.value);
  std::string out = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">"
      "<title>{}</title>",
      Num(kW), Num(h), E(aria), E(aria));
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    double top = kPad + kRowH * static_cast<double>(i);
    double w = max > 0 ? bar_area * std::max(r.value, 0.0) / max : 0;
    if (r.value > 0) w = std::max(w, 1.0);
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1f2937\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#16a34a\">"
        "<title>{}: {}</title></rect>"
        "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#1f2937\">{}</text>",
        Num(kLabelW - 8), Num(top + kRowH / 2 + 4), E(r.label), Num(kLabelW), Num(top + 5), Num(w),
        Num(kRowH - 10), E(r.label), E(r.value_text), Num(kLabelW + w + 6),
        Num(top + kRowH / 2 + 4), E(r.value_text));
  }
  out += "</svg>";
  return out;
}

// Daily SageMaker cost: one slot per calendar day so gaps show as gaps
// (unless the span is implausibly long, then one slot per entry).
std::string DailyCostChart(const FindingsReport& r) {
  std::map<Days, Decimal> by_day;
  for (const auto& [day, cost] : r.daily_cost) by_day[day] += cost;
  if (by_day.empty()) return {};
  std::vector<std::pair<Days, Decimal>> series;
  Days first = by_day.begin()->first, last = by_day.rbegin()->first;
  if (static_cast<int64_t>(last) - first <= 3660) {
    for (Days d = first; d <= last; ++d) {
      auto it = by_day.find(d);
      series.emplace_back(d, it == by_day.end() ? Decimal() : it->second);
    }
  } else {
    series.assign(by_day.begin(), by_day.end());
  }
  Decimal total;
  std::vector<Bar> bars;
  bars.reserve(series.size());
  for (const auto& [day, cost] : series) {
    total += cost;
    std::string date = FormatDate(day);
    bars.push_back(Bar{date, cost.ToDouble(), date + ": " + Money(cost) + " " + r.currency, false});
  }
  ChartStyle style;
  style.aria = "Daily SageMaker cost";
  std::string out = "<section class=\"chart-box\"><h2>Daily SageMaker cost</h2>";
  out += BarChartSvg(bars, style);
  out += fmt::format(
      "<p class=\"caption\">Unblended cost per day, {}. {} days shown, {} {} in total.</p>"
      "</section>",
      E(r.currency), series.size(), E(Money(total)), E(r.currency));
  return out;
}

// ------------------------------------------------------------- evidence ---

void RenderValue(std::string* out, const json& v, int depth);

bool AllOf(const json& arr, bool (json::*pred)() const noexcept) {
  return std::all_of(arr.begin(), arr.end(), [pred](const json& e) { return (e.*pred)(); });
}

bool IsScalar(const json& j) { return !j.is_object() && !j.is_array(); }

// An array of objects as a small table; columns in first-seen key order.
void RenderObjectTable(std::string* out, const json& arr) {
  constexpr size_t kMaxRows = 60, kMaxCols = 12;
  std::vector<std::string> cols;
  for (const json& row : arr) {
    for (const auto& [k, unused] : row.items()) {
      if (cols.size() < kMaxCols && std::find(cols.begin(), cols.end(), k) == cols.end()) {
        cols.push_back(k);
      }
    }
  }
  *out += "<table class=\"mini\"><thead><tr>";
  for (const std::string& c : cols) *out += "<th>" + E(c) + "</th>";
  *out += "</tr></thead><tbody>";
  size_t shown = 0;
  for (const json& row : arr) {
    if (shown == kMaxRows) break;
    ++shown;
    *out += "<tr>";
    for (const std::string& c : cols) {
      auto it = row.find(c);
      *out += "<td>";
      if (it != row.end()) RenderValue(out, *it, 2);
      *out += "</td>";
    }
    *out += "</tr>";
  }
  *out += "</tbody></table>";
  if (arr.size() > shown) {
    *out += fmt::format(
        "<p class=\"muted\">and {} more rows (all of them are in <code>--format json</code>)</p>",
        arr.size() - shown);
  }
}

void RenderValue(std::string* out, const json& v, int depth) {
  if (v.is_null()) {
    *out += "<span class=\"muted\">none</span>";
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find('\n') != std::string::npos) {
      *out += "<pre>" + E(s) + "</pre>";
    } else {
      *out += E(s);
    }
  } else if (IsScalar(v)) {
    *out += E(Dump(v));
  } else if (v.empty()) {
    *out += "<span class=\"muted\">(empty)</span>";
  } else if (v.is_array() && AllOf(v, &json::is_primitive)) {
    std::string joined;
    for (const json& e : v) joined += (joined.empty() ? "" : ", ") + ScalarText(e);
    *out += E(joined);
  } else if (v.is_array() && depth < 2 && AllOf(v, &json::is_object)) {
    RenderObjectTable(out, v);
  } else {
    *out += "<code class=\"json\">" + E(Dump(v)) + "</code>";
  }
}

// Daily evidence as bars: hours when the rule recorded hours, else cost.
std::string EvidenceDailyChart(const json& daily) {
  if (!daily.is_array() || daily.empty()) return {};
  std::string field;
  for (const char* f : {"hours", "cost"}) {
    bool any = std::any_of(daily.begin(), daily.end(), [f](const json& e) {
      return e.is_object() && e.contains(f) && NumberOf(e[f]).has_value();
    });
    if (any) {
      field = f;
      break;
    }
  }
  if (field.empty()) return {};
  const bool hours = field == "hours";
  const Decimal full_day = Decimal::FromInt(24);
  std::vector<Bar> bars;
  size_t full_days = 0;
  for (size_t i = 0; i < daily.size(); ++i) {
    const json& e = daily[i];
    if (!e.is_object()) continue;
    std::string date = e.contains("date") ? ScalarText(e["date"]) : fmt::format("#{}", i + 1);
    std::string value_text = e.contains(field) ? ScalarText(e[field]) : "";
    double value = e.contains(field) ? NumberOf(e[field]).value_or(0) : 0;
    bool marked = false;
    if (hours && e.contains("hours")) {
      Decimal h;
      // Compare exactly: 23.9999 hours is not a full day.
      if (e["hours"].is_string() && Decimal::Parse(e["hours"].get_ref<const std::string&>(), &h)) {
        marked = h >= full_day;
      } else {
        marked = value >= 24;
      }
    }
    if (marked) ++full_days;
    std::string tip = fmt::format("{}: {}{}", date, value_text, hours ? " h" : "");
    if (hours && e.contains("cost")) tip += ", cost " + ScalarText(e["cost"]);
    bars.push_back(Bar{std::move(date), value, std::move(tip), marked});
  }
  if (bars.empty()) return {};
  ChartStyle style;
  if (hours) {
    style.aria = "Daily instance-hours";
    style.color = "#94a3b8";
    style.reference = 24;
    style.reference_label = "24 h";
  } else {
    style.aria = "Daily cost from the evidence";
  }
  std::string out = "<div class=\"chart-box\"><h4>" + E(style.aria) + "</h4>";
  out += BarChartSvg(bars, style);
  if (hours) {
    out += fmt::format(
        "<p class=\"legend\"><span class=\"sw\" style=\"background:{}\"></span>24-hour day "
        "<span class=\"sw\" style=\"background:{}\"></span>less than 24 h &middot; "
        "{} of {} days billed the full 24 hours</p>",
        style.marked_color, style.color, full_days, bars.size());
  }
  out += "</div>";
  return out;
}

std::string EvidenceTable(const json& evidence) {
  std::string out;
  if (!evidence.is_object()) {
    out += "<div class=\"kv-raw\">";
    RenderValue(&out, evidence, 1);
    out += "</div>";
    return out;
  }
  if (evidence.empty()) return "<p class=\"muted\">The rule recorded no evidence.</p>";
  out += "<table class=\"kv\"><tbody>";
  for (const auto& [key, value] : evidence.items()) {
    if (key == "unmeasured") continue;  // shown as its own note
    out += "<tr><th>" + E(key) + "</th><td>";
    if (key == "daily" && value.is_array() && !value.empty()) {
      // Charted above; the numbers stay one click away.
      out +=
          fmt::format("<details class=\"inner\"><summary>{} daily values</summary>", value.size());
      RenderValue(&out, value, 1);
      out += "</details>";
    } else {
      RenderValue(&out, value, 1);
    }
    out += "</td></tr>";
  }
  out += "</tbody></table>";
  return out;
}

std::vector<std::string> Unmeasured(const json& evidence) {
  std::vector<std::string> names;
  if (!evidence.is_object()) return names;
  auto it = evidence.find("unmeasured");
  if (it == evidence.end()) return names;
  if (it->is_array()) {
    for (const json& e : *it) names.push_back(ScalarText(e));
  } else if (it->is_string() && !it->get_ref<const std::string&>().empty()) {
    names.push_back(it->get<std::string>());
  }
  return names;
}

// ---------------------------------------------------------------- action ---

bool LooksLikeCodeKey(std::string_view key) {
  std::string k = AsciiLower(key);
  for (std::string_view w : {"command", "script", "cli", "policy", "config"}) {
    if (k.find(w) != std::string::npos) return true;
  }
  return false;
}

// Pieces of an action a person copies: scripts, commands and policies,
// shown as plain text with their newlines (JSON would show "\n").
void CollectCopyText(const json& v, const std::string& path, std::string_view key, int depth,
                     std::vector<std::pair<std::string, std::string>>* out) {
  constexpr size_t kMaxBlocks = 20;
  if (out->size() >= kMaxBlocks || depth > 8) return;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.find('\n') != std::string::npos) {
      out->emplace_back(path, s);
      return;
    }
    if (!s.empty() && (s.front() == '{' || s.front() == '[')) {
      json parsed = json::parse(s, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_structured()) {
        out->emplace_back(path, Dump(parsed, 2));
        return;
      }
    }
    if (LooksLikeCodeKey(key) && !s.empty()) out->emplace_back(path, s);
    return;
  }
  if (v.is_array() && !v.empty() && AllOf(v, &json::is_string) && LooksLikeCodeKey(key)) {
    std::string joined;
    for (const json& e : v) joined += (joined.empty() ? "" : "\n") + e.get<std::string>();
    out->emplace_back(path, joined);
    return;
  }
  if (v.is_object() && !v.empty() && AsciiLower(key).find("policy") != std::string::npos) {
    out->emplace_back(path, Dump(v, 2));
    return;
  }
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      CollectCopyText(child, path.empty() ? k : fmt::format("{}.{}", path, k), k, depth + 1, out);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      CollectCopyText(v[i], fmt::format("{}[{}]", path, i), key, depth + 1, out);
    }
  }
}

std::string ActionBlock(const json& action) {
  std::string out = "<h4>Action";
  if (action.is_object() && action.contains("type")) {
    out += " <span class=\"tag\">" + E(ScalarText(action["type"])) + "</span>";
  }
  out += "</h4>";
  std::vector<std::pair<std::string, std::string>> texts;
  CollectCopyText(action, "", "", 0, &texts);
  for (const auto& [path, text] : texts) {
    out += "<p class=\"label\">" + E(path) + "</p><pre class=\"copy\">" + E(text) + "</pre>";
  }
  // With the copyable parts above, the full JSON is one click away; alone it shows.
  std::string pre = "<pre class=\"json\">" + E(Dump(action, 2)) + "</pre>";
  if (texts.empty()) {
    out += "<p class=\"label\">action JSON</p>" + pre;
  } else {
    out += "<details class=\"inner\"><summary class=\"label\">action JSON</summary>" + pre +
           "</details>";
  }
  return out;
}

// ----------------------------------------------------------------- page ---

constexpr std::string_view kCss = R"css(
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#1f2937;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1320px;margin:0 auto;padding:24px 24px 40px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h4{font-size:14px;margin:16px 0 6px}
.meta{color:#4b5563;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;min-width:170px}
.card .k{color:#6b7280;font-size:11px;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card.save .v{color:#15803d}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
.chip{background:#f3f4f6;border-radius:12px;padding:2px 10px;font-size:12.5px}
.chip b{font-variant-numeric:tabular-nums}
.muted,.caption{color:#6b7280}
.caption{font-size:12.5px;margin:4px 0 0}
svg.chart{width:100%;height:auto;display:block}
.chart-box{margin:8px 0 4px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse}
table.findings{width:100%;font-size:13px}
table.findings th,table.findings td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
table.findings th{background:#f9fafb;font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#4b5563;vertical-align:bottom}
table.findings td.kind{min-width:150px}
table.findings td.kind code{font-size:12px}
table.findings td.res{min-width:190px;overflow-wrap:anywhere}
table.findings td.rec{min-width:240px}
td.num,th.num{text-align:right!important;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
a{color:#1d4ed8;text-decoration:none}
a:hover{text-decoration:underline}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code.json{word-break:break-all}
pre{background:#f6f8fa;border:1px solid #e5e7eb;border-radius:6px;padding:10px 12px;margin:4px 0 10px;white-space:pre-wrap;word-break:break-word}
.conf{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;white-space:nowrap}
.conf-high{background:#dcfce7;color:#166534}
.conf-medium{background:#fef3c7;color:#92400e}
.conf-low{background:#f3f4f6;color:#4b5563}
.partial{display:inline-block;margin-left:4px;font-size:11px;color:#b45309}
.tag{display:inline-block;background:#e0e7ff;color:#3730a3;border-radius:4px;padding:0 6px;font-size:12px;font-weight:500}
details.finding{border:1px solid #e5e7eb;border-radius:8px;margin:10px 0;padding:0 16px}
details.finding>summary{cursor:pointer;padding:10px 0;font-weight:600}
details.finding[open]>summary{border-bottom:1px solid #f3f4f6}
summary .save{color:#15803d;font-variant-numeric:tabular-nums}
.rec-text{font-size:15px;margin:12px 0}
table.facts td,table.facts th,table.kv>tbody>tr>th,table.kv>tbody>tr>td{padding:3px 12px 3px 0;text-align:left;vertical-align:top}
table.facts th,table.kv>tbody>tr>th{color:#6b7280;font-weight:500;white-space:nowrap}
table.facts td{word-break:break-all}
table.mini{font-size:12px;margin:2px 0}
table.mini th,table.mini td{border:1px solid #e5e7eb;padding:2px 6px;text-align:left}
table.mini th{background:#f9fafb}
.note{background:#fffbeb;border-left:4px solid #f59e0b;padding:8px 12px;margin:10px 0}
.empty{background:#f0fdf4;border:1px solid #bbf7d0;border-radius:8px;padding:16px;font-size:15px}
.legend{font-size:12.5px;color:#4b5563;margin:2px 0}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.label{font-size:12px;color:#6b7280;margin:8px 0 0}
footer{margin-top:32px;color:#6b7280;font-size:12px;border-top:1px solid #e5e7eb;padding-top:8px}
@media print{
 main{max-width:none;padding:0}
 body{font-size:11.5px}
 a{color:inherit}
 details.finding{break-inside:avoid-page}
 svg.chart,.chart-box{break-inside:avoid}
}
/* Findings print expanded where ::details-content is known (Chromium 131+);
   other browsers drop this rule alone and print what is open. */
@media print{details.finding::details-content{content-visibility:visible;display:block}}
)css";

std::string ConfidenceBadge(Confidence c) {
  std::string_view name = ConfidenceName(c);
  return fmt::format("<span class=\"conf conf-{}\">{}</span>", name, name);
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += static_cast<char>(c);
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence (RFC 3629: no overlongs, no surrogates).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
      ok = b >= min && b <= max;
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string RenderHtmlReport(const FindingsReport& report, std::string_view title) {
  const std::string cur = E(report.currency);
  Decimal total;
  struct KindStat {
    int count = 0;
    Decimal savings;
  };
  std::map<std::string, KindStat> kinds;
  for (const Finding& f : report.findings) {
    total += f.monthly_savings;
    KindStat& k = kinds[f.kind];
    ++k.count;
    k.savings += f.monthly_savings;
  }

  std::string out;
  out.reserve(16384 + report.findings.size() * 4096);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing on this page may load anything: no scripts, no fetches.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"sagebox " SAGEBOX_VERSION "\">\n";
  out += "<title>" + E(title) + "</title>\n<style>" + std::string(kCss) + "</style>\n";
  out += "</head>\n<body>\n<main>\n";

  // Header.
  out += "<header>\n<h1>" + E(title) + "</h1>\n";
  out += fmt::format(
      "<p class=\"meta\">Billing period {} &middot; currency {} &middot; generated by "
      "sagebox " SAGEBOX_VERSION "</p>\n",
      E(PeriodText(report)), cur);
  out += "<div class=\"cards\">";
  out += fmt::format(
      "<div class=\"card save\"><div class=\"k\">Monthly savings</div>"
      "<div class=\"v\">{} {}</div></div>",
      E(Money(total)), cur);
  out += fmt::format(
      "<div class=\"card\"><div class=\"k\">Findings</div><div class=\"v\">{}</div></div>",
      report.findings.size());
  out +=
      fmt::format("<div class=\"card\"><div class=\"k\">Kinds</div><div class=\"v\">{}</div></div>",
                  kinds.size());
  out += "</div>\n";
  if (!kinds.empty()) {
    out += "<div class=\"chips\">";
    for (const auto& [kind, stat] : kinds) {
      out += fmt::format("<span class=\"chip\"><b>{}</b> {}</span>", stat.count, E(kind));
    }
    out += "</div>\n";
    out +=
        "<p class=\"caption\">Monthly means 730 hours. Findings can overlap (a schedule and a "
        "Savings Plan may cover the same hours), so the total is an upper bound.</p>\n";
  }
  out += "</header>\n";

  if (report.findings.empty()) {
    out +=
        "<p class=\"empty\"><strong>No findings.</strong> sagebox found no SageMaker waste to "
        "report in this period.</p>\n";
  }

  out += DailyCostChart(report);

  if (!kinds.empty()) {
    std::vector<std::pair<std::string, KindStat>> ranked(kinds.begin(), kinds.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.second.savings > b.second.savings;
    });
    std::vector<Row> rows;
    rows.reserve(ranked.size());
    for (const auto& [kind, stat] : ranked) {
      rows.push_back(
          Row{kind, stat.savings.ToDouble(), Money(stat.savings) + " " + report.currency});
    }
    out += "<section class=\"chart-box\"><h2>Monthly savings by kind</h2>";
    out += HorizontalBarSvg(rows, "Monthly savings by kind");
    out += "</section>\n";

    // Ranked table.
    out += "<section><h2>Findings, ranked by monthly savings</h2>\n<div class=\"table-wrap\">";
    out += fmt::format(
        "<table class=\"findings\"><thead><tr><th class=\"num\">#</th><th>Kind</th>"
        "<th>Resource</th><th>Account</th><th>Region</th><th>Instance type</th>"
        "<th class=\"num\">Monthly savings ({})</th><th>Confidence</th><th>Recommendation</th>"
        "</tr></thead>\n<tbody>\n",
        cur);
    for (size_t i = 0; i < report.findings.size(); ++i) {
      const Finding& f = report.findings[i];
      const bool partial = !Unmeasured(f.evidence).empty();
      out += fmt::format(
          "<tr><td class=\"num\"><a href=\"#finding-{0}\">{0}</a></td>"
          "<td class=\"kind\"><code>{1}</code></td>"
          "<td class=\"res\"><a href=\"#finding-{0}\" title=\"{2}\">{3}</a></td>"
          "<td class=\"nowrap\">{4}</td><td class=\"nowrap\">{5}</td><td class=\"nowrap\">{6}</td>"
          "<td class=\"num\">{7}</td><td>{8}{9}</td><td class=\"rec\">{10}</td></tr>\n",
          i + 1, E(f.kind), E(f.resource_id), WrappableResource(f.resource_id), E(f.account_id),
          E(f.region), E(f.instance_type), E(Money(f.monthly_savings)),
          ConfidenceBadge(f.confidence),
          partial ? "<span class=\"partial\" title=\"some inputs were not measured\">"
                    "partial data</span>"
                  : "",
          E(f.recommendation));
    }
    out += "</tbody></table></div></section>\n";

    // One block per finding; the top few open so the page shows what matters.
    out += "<section><h2>Details and evidence</h2>\n";
    for (size_t i = 0; i < report.findings.size(); ++i) {
      const Finding& f = report.findings[i];
      out += fmt::format(
          "<details class=\"finding\" id=\"finding-{}\"{}><summary>#{} <code>{}</code> &middot; "
          "{} &middot; <span class=\"save\">{} {}/month</span> {}</summary>\n",
          i + 1, i < 3 ? " open" : "", i + 1, E(f.kind),
          f.resource_id.empty() ? "&mdash;" : E(ShortResource(f.resource_id)),
          E(Money(f.monthly_savings)), cur, ConfidenceBadge(f.confidence));
      out += "<p class=\"rec-text\">" + E(f.recommendation) + "</p>\n";
      out += "<table class=\"facts\"><tbody>";
      auto fact = [&out](std::string_view k, const std::string& v) {
        if (v.empty()) return;
        out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", k, E(v));
      };
      fact("Finding id", f.id);
      fact("Resource", f.resource_id);
      fact("Account", f.account_id);
      fact("Region", f.region);
      fact("Usage type", f.usage_type);
      fact("Instance type", f.instance_type);
      out += "</tbody></table>\n";
      std::vector<std::string> unmeasured = Unmeasured(f.evidence);
      if (!unmeasured.empty()) {
        std::string list;
        for (const std::string& u : unmeasured) list += (list.empty() ? "" : ", ") + u;
        out += "<p class=\"note\"><strong>Not measured:</strong> " + E(list) +
               ". The rule lacked these inputs, so this finding claims only what the data it had "
               "shows; confidence is lower and savings may be understated or need checking.</p>\n";
      }
      if (f.evidence.is_object() && f.evidence.contains("daily")) {
        out += EvidenceDailyChart(f.evidence["daily"]);
      }
      out += "<h4>Evidence</h4>" + EvidenceTable(f.evidence) + "\n";
      out += ActionBlock(f.action) + "\n</details>\n";
    }
    out += "</section>\n";
  }

  if (!report.notes.empty()) {
    out += "<section><h2>Notes</h2><ul class=\"notes\">";
    for (const std::string& note : report.notes) out += "<li>" + E(note) + "</li>";
    out += "</ul></section>\n";
  }
  out += "<footer>Generated by sagebox " SAGEBOX_VERSION
         " from AWS billing data. Amounts are exact decimal sums rounded to cents; monthly "
         "means 730 hours. This file is self-contained and works offline.</footer>\n";
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace sagebox::findings
