// html_report.h: the findings report as one self-contained HTML page.
//
// `sagebox cost findings --format html` writes this page so a report can be
// mailed around and opened offline: all CSS is inline, charts are inline SVG,
// there is no JavaScript and no reference to any other file or URL (a
// Content-Security-Policy of default-src 'none' makes that hold even if a
// browser were tempted). Every string that comes from billing data, evidence
// or actions is HTML-escaped, so a resource named "<script>" stays text.
//
// Money on the page comes from Decimal::ToFixed(2) and Decimal sums; doubles
// are used only for chart geometry and axis ticks.
//
// Output is deterministic: the same report gives the same bytes (no clock,
// no locale, JSON objects iterate in key order).
//
// Thread-safety: pure functions; reentrant.
#pragma once

#include <string>
#include <string_view>

#include "cost/findings/finding.h"

namespace sagebox::findings {

// Renders the whole report: header with period, currency and totals, a chart
// of daily SageMaker cost, savings by kind, the ranked findings table, one
// <details> block per finding (evidence, daily-hours chart, unmeasured
// inputs, action) and the report notes. Never fails; findings are shown in
// the order given (callers rank them with RankBySavings).
std::string RenderHtmlReport(const FindingsReport& report,
                             std::string_view title = "SageMaker savings findings");

// Escapes & < > " ' for use in text and in quoted attribute values. Bytes
// that are not valid UTF-8 and control characters other than tab, newline
// and carriage return become U+FFFD, so the page is always well-formed UTF-8.
std::string HtmlEscape(std::string_view s);

}  // namespace sagebox::findings
