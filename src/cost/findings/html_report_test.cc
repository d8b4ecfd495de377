#include "cost/findings/html_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

namespace sagebox::findings {
namespace {

using nlohmann::json;

Decimal D(const char* s) {
  Decimal d;
  EXPECT_TRUE(Decimal::Parse(s, &d)) << s;
  return d;
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every markup tag in the page ("<name ...>"), in order. Text is escaped, so
// each literal '<' starts a tag the renderer wrote itself.
std::vector<std::string> Tags(const std::string& html) {
  std::vector<std::string> tags;
  for (size_t pos = html.find('<'); pos != std::string::npos; pos = html.find('<', pos + 1)) {
    size_t end = html.find('>', pos);
    if (end == std::string::npos) {
      tags.push_back(html.substr(pos));
      break;
    }
    tags.push_back(html.substr(pos, end - pos + 1));
  }
  return tags;
}

// A tag with its double-quoted attribute values cut out; a stray quote from
// the data would leave an unbalanced tail, which the caller then sees.
std::string OutsideQuotes(const std::string& tag) {
  std::string out;
  bool in = false;
  for (char c : tag) {
    if (c == '"') {
      in = !in;
    } else if (!in) {
      out += c;
    }
  }
  EXPECT_FALSE(in) << "unbalanced quotes in " << tag;
  return out;
}

std::string TagName(const std::string& tag) {
  size_t i = 1;
  if (i < tag.size() && tag[i] == '/') ++i;
  size_t j = i;
  while (j < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[j])) || tag[j] == '!')) {
    ++j;
  }
  return Lower(tag.substr(i, j - i));
}

// What the report looks like on a small realistic account: the article's
// always-on t2.medium notebook, an idle endpoint, a Data Wrangler app, a
// right-sizing job with a missing metric, a GPU notebook with an IAM policy.
FindingsReport SampleReport() {
  FindingsReport r;
  r.start = DaysFromCivil(2024, 1, 1);
  r.end = DaysFromCivil(2024, 4, 1);
  for (Days d = r.start; d < r.end; ++d) {
    int64_t i = d - r.start;
    // 40..70 USD a day with a weekly shape, exact in 10^-4.
    r.daily_cost.emplace_back(
        d, Decimal::FromRaw((400000 + (i * 37 % 7) * 41234 + i * 313) * int128{1000000}));
  }

  Finding nb;
  nb.kind = "notebook-always-on";
  nb.resource_id = "arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/dev-notebook";
  nb.id = StableId(nb.kind, nb.resource_id);
  nb.account_id = "111111111111";
  nb.region = "us-east-1";
  nb.usage_type = "USE1-Notebk:ml.t2.medium";
  nb.instance_type = "ml.t2.medium";
  json daily = json::array();
  for (int i = 0; i < 21; ++i) {
    std::string hours = i < 2 ? (i == 0 ? "9" : "17.5") : "24";
    std::string cost = i < 2 ? (i == 0 ? "0.4176" : "0.812") : "1.1136";
    daily.push_back(
        {{"date", FormatDate(DaysFromCivil(2024, 3, 11) + i)}, {"hours", hours}, {"cost", cost}});
  }
  nb.evidence = {{"daily", daily},
                 {"hourly_rate_usd", "0.0464"},
                 {"streak_days", 19},
                 {"cost_per_24h_day_usd", "1.1136"},
                 {"schedule", {{"timezone", "Europe/Berlin"}, {"on", "Mon-Fri 08:00-19:00"}}}};
  nb.recommendation =
      "Stop dev-notebook outside working hours (Mon-Fri 08:00-19:00 Europe/Berlin) with an "
      "auto-stop lifecycle configuration.";
  nb.action = {{"type", "schedule"},
               {"timezone", "Europe/Berlin"},
               {"lifecycle_config_name", "sagebox-auto-stop"},
               {"on_start_script",
                "#!/bin/bash\nset -e\nIDLE_TIME=3600\necho \"Fetching the autostop script\"\n"
                "(crontab -l 2>/dev/null; echo \"*/5 * * * * /usr/bin/python3 "
                "/home/ec2-user/autostop.py --time $IDLE_TIME\") | crontab -\n"}};
  nb.monthly_savings = D("19.14");
  nb.confidence = Confidence::kHigh;
  r.findings.push_back(nb);

  Finding dw;
  dw.kind = "data-wrangler-app-always-on";
  dw.resource_id =
      "arn:aws:sagemaker:us-east-1:111111111111:app/d-abc123/alice/JupyterServer/datawrangler";
  dw.id = StableId(dw.kind, dw.resource_id);
  dw.account_id = "111111111111";
  dw.region = "us-east-1";
  dw.usage_type = "USE1-Studio_DW:ml.m5.4xlarge";
  dw.instance_type = "ml.m5.4xlarge";
  json dw_daily = json::array();
  for (int i = 0; i < 6; ++i) {
    dw_daily.push_back({{"date", FormatDate(DaysFromCivil(2024, 3, 26) + i)},
                        {"hours", "24"},
                        {"cost", "22.128"}});
  }
  dw.evidence = {{"daily", dw_daily}, {"hourly_rate_usd", "0.922"}, {"streak_days", 6}};
  dw.recommendation = "Shut down the Data Wrangler app when not in use; it bills $22.128 a day.";
  dw.action = {{"type", "delete"},
               {"commands",
                {"aws sagemaker delete-app --domain-id d-abc123 --user-profile-name alice "
                 "--app-type JupyterServer --app-name datawrangler"}}};
  dw.monthly_savings = D("673.06");
  dw.confidence = Confidence::kHigh;
  r.findings.push_back(dw);

  Finding ep;
  ep.kind = "idle-endpoint";
  ep.resource_id = "arn:aws:sagemaker:eu-west-1:222222222222:endpoint/churn-model-staging";
  ep.id = StableId(ep.kind, ep.resource_id);
  ep.account_id = "222222222222";
  ep.region = "eu-west-1";
  ep.usage_type = "EU-Host:ml.c5.xlarge";
  ep.instance_type = "ml.c5.xlarge";
  ep.evidence = {{"invocations_total", 0},
                 {"idle_days", 23},
                 {"first_idle_day", "2024-03-09"},
                 {"hourly_rate_usd", "0.23"}};
  ep.recommendation = "Delete the endpoint churn-model-staging; it had no invocations for 23 days.";
  ep.action = {{"type", "delete"},
               {"commands",
                {"aws sagemaker delete-endpoint --endpoint-name churn-model-staging",
                 "aws sagemaker delete-endpoint-config --endpoint-config-name "
                 "churn-model-staging"}}};
  ep.monthly_savings = D("167.9");
  ep.confidence = Confidence::kHigh;
  r.findings.push_back(ep);

  Finding job;
  job.kind = "oversized-job";
  job.resource_id = "arn:aws:sagemaker:us-east-1:111111111111:processing-job/nightly-features-*";
  job.id = StableId(job.kind, job.resource_id);
  job.account_id = "111111111111";
  job.region = "us-east-1";
  job.usage_type = "USE1-Processing:ml.m5.4xlarge";
  job.instance_type = "ml.m5.4xlarge";
  job.evidence = {{"family_runs", 31},
                  {"max_cpu_per_vcpu_pct", 18.5},
                  {"max_memory_pct", 27.25},
                  {"unmeasured", {"GPUUtilization"}},
                  {"target", {{"instance_type", "ml.m5.2xlarge"}, {"hourly_rate_usd", "0.461"}}},
                  {"runs",
                   {{{"job", "nightly-features-0301"}, {"hours", "1.5"}, {"cpu_max", 17.1}},
                    {{"job", "nightly-features-0302"}, {"hours", "1.4"}, {"cpu_max", 18.5}}}}};
  job.recommendation = "Run nightly-features-* on ml.m5.2xlarge instead of ml.m5.4xlarge.";
  job.action = {{"type", "resize"}, {"from", "ml.m5.4xlarge"}, {"to", "ml.m5.2xlarge"}};
  job.monthly_savings = D("21.44");
  job.confidence = Confidence::kMedium;
  r.findings.push_back(job);

  Finding gpu;
  gpu.kind = "gpu-notebook";
  gpu.resource_id = "arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/cv-experiments";
  gpu.id = StableId(gpu.kind, gpu.resource_id);
  gpu.account_id = "111111111111";
  gpu.region = "us-east-1";
  gpu.usage_type = "USE1-Notebk:ml.p3.2xlarge";
  gpu.instance_type = "ml.p3.2xlarge";
  gpu.evidence = {{"days_over_8h", 17}, {"days_seen", 20}, {"hourly_rate_usd", "3.825"}};
  gpu.recommendation =
      "Move development off ml.p3.2xlarge to a CPU notebook and restrict GPU notebook types.";
  gpu.action = {
      {"type", "restrict"},
      {"iam_policy",
       {{"Version", "2012-10-17"},
        {"Statement",
         {{{"Sid", "DenyGpuNotebooks"},
           {"Effect", "Deny"},
           {"Action", {"sagemaker:CreateNotebookInstance"}},
           {"Resource", "*"},
           {"Condition",
            {{"ForAnyValue:StringLike", {{"sagemaker:InstanceTypes", {"ml.p*", "ml.g*"}}}}}}}}}}}};
  gpu.monthly_savings = D("1396.13");
  gpu.confidence = Confidence::kLow;
  r.findings.push_back(gpu);

  RankBySavings(&r.findings);
  r.notes = {"failed-jobs skipped: no --jobs input was given.",
             "Prices for ml.m5.2xlarge come from the catalog (the bill has no such line)."};
  return r;
}

TEST(HtmlEscape, EscapesMarkupAndKeepsValidUtf8) {
  EXPECT_EQ(HtmlEscape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape("Zürich €5 \xF0\x9F\x98\x80"), "Zürich €5 \xF0\x9F\x98\x80");
  EXPECT_EQ(HtmlEscape("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(HtmlEscape(std::string_view("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an
  // overlong "<" (0xC0 0xBC) that must not turn into markup, a surrogate.
  EXPECT_EQ(HtmlEscape("x\x80y"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(HtmlEscape("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xC0\xBC"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(RenderHtmlReport, ScriptInjectionIsNeutralised) {
  FindingsReport r = SampleReport();
  Finding evil;
  evil.kind = "idle-endpoint<script>alert(1)</script>";
  evil.id = "id\"><script>alert(2)</script>";
  evil.resource_id = "arn:aws:sagemaker:us-east-1:1:endpoint/\" onmouseover=\"alert(3)\" x=\"";
  evil.account_id = "<img src=x onerror=alert(4)>";
  evil.region = "</td></tr></table><iframe src=//evil.example>";
  evil.instance_type = "<svg onload=alert(5)>";
  evil.usage_type = "<style>body{display:none}</style>";
  evil.recommendation = "Delete it <script src=\"https://evil.example/x.js\"></script>";
  evil.evidence = {{"<b>key</b>", "</pre><script>alert(6)</script>"},
                   {"daily", {{{"date", "<script>"}, {"hours", "24"}}}},
                   {"unmeasured", {"<img src=y>"}},
                   {"rows", {{{"<th>", "<td>"}}}}};
  evil.action = {{"type", "<a href=javascript:alert(7)>x</a>"},
                 {"script", "echo '</pre><script>alert(8)</script>'\nrm -rf /tmp/x"},
                 {"policy", "{\"a\": \"</pre><script>alert(9)</script>\"}"}};
  evil.monthly_savings = D("1");
  r.findings.push_back(evil);
  r.notes.push_back("<script>alert(10)</script>");
  r.currency = "<b>USD</b>";
  std::string html = RenderHtmlReport(r, "<title></title><script>alert(11)</script>");

  const std::set<std::string> allowed = {
      "!doctype", "html",    "head", "meta",   "title", "style", "body",  "main",
      "header",   "h1",      "h2",   "h4",     "p",     "div",   "span",  "b",
      "strong",   "section", "svg",  "line",   "text",  "rect",  "table", "thead",
      "tbody",    "tr",      "th",   "td",     "a",     "code",  "pre",   "details",
      "summary",  "ul",      "li",   "footer", "wbr"};
  for (const std::string& tag : Tags(html)) {
    EXPECT_TRUE(allowed.count(TagName(tag))) << "unexpected tag " << tag;
    // Data only ever lands inside quoted values, where it cannot be markup.
    std::string t = Lower(OutsideQuotes(tag));
    EXPECT_EQ(t.find("onmouseover"), std::string::npos) << tag;
    EXPECT_EQ(t.find("onerror"), std::string::npos) << tag;
    EXPECT_EQ(t.find("onload"), std::string::npos) << tag;
    EXPECT_EQ(t.find("javascript:"), std::string::npos) << tag;
  }
  // Exactly one <style> and one <title>: the renderer's own.
  EXPECT_EQ(Count(Lower(html), "<style"), 1u);
  EXPECT_NE(html.find("<title>&lt;title&gt;&lt;/title&gt;&lt;script&gt;alert(11)"),
            std::string::npos);
  EXPECT_EQ(Count(Lower(html), "<script"), 0u);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot; onmouseover=&quot;alert(3)&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(4)&gt;"), std::string::npos);
  // The multi-line script keeps its newline, escaped inside <pre>.
  EXPECT_NE(html.find("echo &#39;&lt;/pre&gt;&lt;script&gt;alert(8)&lt;/script&gt;&#39;\nrm -rf"),
            std::string::npos);
}

TEST(RenderHtmlReport, ReferencesNothingOutsideThePage) {
  FindingsReport r = SampleReport();
  // Links in the data are text, never followed.
  r.findings[0].recommendation +=
      " See https://docs.aws.amazon.com/sagemaker/latest/dg/notebook-lifecycle-config.html";
  r.notes.push_back("Docs: http://example.com/notes");
  std::string html = RenderHtmlReport(r);
  for (const std::string& tag : Tags(html)) {
    std::string t = Lower(tag);
    EXPECT_EQ(t.find("src="), std::string::npos) << tag;
    EXPECT_EQ(t.find("http:"), std::string::npos) << tag;
    EXPECT_EQ(t.find("https:"), std::string::npos) << tag;
    EXPECT_EQ(t.find("<link"), std::string::npos) << tag;
    EXPECT_EQ(t.find("<script"), std::string::npos) << tag;
    EXPECT_EQ(t.find("<img"), std::string::npos) << tag;
    for (size_t p = t.find("href=\""); p != std::string::npos; p = t.find("href=\"", p + 1)) {
      EXPECT_EQ(t[p + 6], '#') << "href to somewhere else: " << tag;
    }
  }
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(RenderHtmlReport, NoUrlsAtAllWhenTheDataHasNone) {
  // Inline SVG needs no xmlns in HTML, so the page has no URL of its own.
  std::string html = RenderHtmlReport(SampleReport());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none';"),
            std::string::npos);
}

TEST(RenderHtmlReport, EveryFindingIdAndKindAppears) {
  FindingsReport r = SampleReport();
  std::string html = RenderHtmlReport(r);
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    EXPECT_NE(html.find(f.id), std::string::npos) << f.id;
    EXPECT_NE(html.find("<code>" + f.kind + "</code>"), std::string::npos) << f.kind;
    EXPECT_NE(html.find("id=\"finding-" + std::to_string(i + 1) + "\""), std::string::npos);
    // Full ARN in the title attribute, the readable part as the cell text.
    EXPECT_NE(html.find("title=\"" + f.resource_id + "\""), std::string::npos);
  }
  EXPECT_NE(html.find(">notebook-instance/<wbr>dev-notebook</a>"), std::string::npos);
  // Ranked order is kept: the GPU notebook saves most, the notebook schedule least.
  EXPECT_LT(html.find("<code>gpu-notebook</code>"), html.find("<code>idle-endpoint</code>"));
  EXPECT_LT(html.find("<code>idle-endpoint</code>"), html.find("<code>notebook-always-on</code>"));
  EXPECT_EQ(Count(html, "<details class=\"finding\""), r.findings.size());
  for (const std::string& note : r.notes) {
    EXPECT_NE(html.find("<li>" + HtmlEscape(note) + "</li>"), std::string::npos);
  }
}

TEST(RenderHtmlReport, HeaderShowsPeriodTotalsAndCountsPerKind) {
  FindingsReport r = SampleReport();
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("2024-01-01 to 2024-03-31 (91 days)"), std::string::npos);
  EXPECT_NE(html.find("currency USD"), std::string::npos);
  EXPECT_NE(html.find("generated by sagebox"), std::string::npos);
  // 19.14 + 673.06 + 167.9 + 21.44 + 1396.13, summed exactly.
  EXPECT_NE(html.find("<div class=\"v\">2,277.67 USD</div>"), std::string::npos);
  EXPECT_NE(html.find("<b>1</b> oversized-job"), std::string::npos);
  EXPECT_NE(html.find("<div class=\"k\">Findings</div><div class=\"v\">5</div>"),
            std::string::npos);
}

TEST(RenderHtmlReport, MoneyIsExactAndRoundedHalfAwayFromZero) {
  FindingsReport r;
  r.start = DaysFromCivil(2024, 1, 1);
  r.end = DaysFromCivil(2024, 2, 1);
  for (const char* s : {"0.1", "0.2", "1000000.005"}) {
    Finding f;
    f.kind = "k";
    f.resource_id = s;
    f.id = StableId(f.kind, s);
    f.monthly_savings = D(s);
    r.findings.push_back(f);
  }
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("<td class=\"num\">1,000,000.01</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.10</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.20</td>"), std::string::npos);
  EXPECT_NE(html.find("1,000,000.31 USD"), std::string::npos);  // 1000000.305 exactly
  EXPECT_NE(html.find("<b>3</b> k"), std::string::npos);
}

TEST(RenderHtmlReport, DailyCostChartWhenThereIsDailyCost) {
  FindingsReport r;
  r.start = DaysFromCivil(2024, 1, 1);
  r.end = DaysFromCivil(2024, 1, 11);
  std::string without = RenderHtmlReport(r);
  EXPECT_EQ(Count(without, "<svg"), 0u);

  // Days 1..10 with day 5 missing: one slot per calendar day, 10 bars.
  for (int i = 0; i < 10; ++i) {
    if (i == 4) continue;
    r.daily_cost.emplace_back(r.start + i, D(i == 2 ? "-3.5" : "12.25"));
  }
  std::string with = RenderHtmlReport(r);
  EXPECT_EQ(Count(with, "<svg"), 1u);
  EXPECT_NE(with.find("aria-label=\"Daily SageMaker cost\""), std::string::npos);
  EXPECT_EQ(Count(with, "<rect"), 10u);
  EXPECT_NE(with.find("<title>2024-01-02: 12.25 USD</title>"), std::string::npos);
  EXPECT_NE(with.find("<title>2024-01-05: 0.00 USD</title>"), std::string::npos);
  EXPECT_NE(with.find("<title>2024-01-03: -3.50 USD</title>"), std::string::npos);
  // 8 x 12.25 - 3.5
  EXPECT_NE(with.find("10 days shown, 94.50 USD in total"), std::string::npos);
  EXPECT_EQ(with.find("nan"), std::string::npos);
}

TEST(RenderHtmlReport, EvidenceDailyHoursChartMarksFullDays) {
  FindingsReport r = SampleReport();
  std::string html = RenderHtmlReport(r);
  // Two findings carry evidence.daily hours.
  EXPECT_EQ(Count(html, "aria-label=\"Daily instance-hours\""), 2u);
  // The notebook: 21 days, the first two partial (9 h, 17.5 h).
  EXPECT_NE(html.find("19 of 21 days billed the full 24 hours"), std::string::npos);
  EXPECT_NE(html.find("6 of 6 days billed the full 24 hours"), std::string::npos);
  EXPECT_EQ(Count(html, "fill=\"#ea580c\"><title>"), 19u + 6u);
  EXPECT_NE(html.find("<title>2024-03-12: 17.5 h, cost 0.812</title>"), std::string::npos);
  EXPECT_NE(html.find("24 h</text>"), std::string::npos);  // the reference line

  // A finding without daily evidence gets no hours chart.
  FindingsReport one;
  one.findings.push_back(r.findings.back());
  one.findings[0].evidence = {{"idle_days", 3}};
  EXPECT_EQ(RenderHtmlReport(one).find("Daily instance-hours"), std::string::npos);
  // 23.9999 hours is not a full day.
  one.findings[0].evidence = {{"daily", {{{"date", "2024-01-01"}, {"hours", "23.9999"}}}}};
  EXPECT_NE(RenderHtmlReport(one).find("0 of 1 days billed the full 24 hours"), std::string::npos);
}

TEST(RenderHtmlReport, UnmeasuredInputsGetANote) {
  FindingsReport r = SampleReport();
  std::string html = RenderHtmlReport(r);
  EXPECT_EQ(Count(html, "<strong>Not measured:</strong>"), 1u);
  EXPECT_NE(html.find("<strong>Not measured:</strong> GPUUtilization."), std::string::npos);
  EXPECT_EQ(Count(html, ">partial data</span>"), 1u);
  // An empty list is no note.
  r.findings[0].evidence["unmeasured"] = json::array();
  EXPECT_EQ(Count(RenderHtmlReport(r), "Not measured:"), 1u);
}

TEST(RenderHtmlReport, EvidenceIsAReadableKeyValueList) {
  std::string html = RenderHtmlReport(SampleReport());
  EXPECT_NE(html.find("<tr><th>max_memory_pct</th><td>27.25</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>hourly_rate_usd</th><td>0.0464</td></tr>"), std::string::npos);
  // Nested objects compactly, arrays of objects as small tables.
  EXPECT_NE(html.find("<code class=\"json\">{&quot;hourly_rate_usd&quot;:&quot;0.461&quot;,"
                      "&quot;instance_type&quot;:&quot;ml.m5.2xlarge&quot;}</code>"),
            std::string::npos);
  EXPECT_NE(html.find("<table class=\"mini\"><thead><tr><th>cpu_max</th><th>hours</th>"
                      "<th>job</th></tr></thead><tbody><tr><td>17.1</td><td>1.5</td>"
                      "<td>nightly-features-0301</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<summary>21 daily values</summary>"), std::string::npos);
}

TEST(RenderHtmlReport, ActionsArePrettyPrintedWithNewlinesKept) {
  std::string html = RenderHtmlReport(SampleReport());
  // The lifecycle script as copyable text with its real newlines.
  EXPECT_NE(html.find("<pre class=\"copy\">#!/bin/bash\nset -e\nIDLE_TIME=3600\n"),
            std::string::npos);
  // Commands one per line.
  EXPECT_NE(html.find("delete-endpoint --endpoint-name churn-model-staging\naws sagemaker "
                      "delete-endpoint-config"),
            std::string::npos);
  // The IAM policy pretty-printed, both alone and inside the action JSON.
  EXPECT_NE(html.find("<p class=\"label\">iam_policy</p><pre class=\"copy\">{\n  "
                      "&quot;Statement&quot;: ["),
            std::string::npos);
  EXPECT_NE(html.find("<pre class=\"json\">{\n  &quot;iam_policy&quot;: {\n    "
                      "&quot;Statement&quot;: ["),
            std::string::npos);
  EXPECT_NE(html.find("<span class=\"tag\">resize</span>"), std::string::npos);
}

TEST(RenderHtmlReport, EmptyReportSaysSoFriendly) {
  FindingsReport r;
  r.start = DaysFromCivil(2024, 1, 1);
  r.end = DaysFromCivil(2024, 2, 1);
  std::string html = RenderHtmlReport(r);
  EXPECT_NE(html.find("<strong>No findings.</strong>"), std::string::npos);
  EXPECT_EQ(html.find("<table class=\"findings\""), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("0.00 USD"), std::string::npos);
  EXPECT_EQ(html.substr(0, 15), "<!DOCTYPE html>");
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
  // A default-constructed report renders too.
  EXPECT_NE(RenderHtmlReport(FindingsReport{}).find("no billing period"), std::string::npos);
}

TEST(RenderHtmlReport, SameInputSameBytes) {
  std::string a = RenderHtmlReport(SampleReport());
  std::string b = RenderHtmlReport(SampleReport());
  EXPECT_EQ(a, b);
  // Evidence keys inserted in another order render the same.
  FindingsReport r1 = SampleReport(), r2 = SampleReport();
  r1.findings[0].evidence = json::object();
  r1.findings[0].evidence["b"] = 1;
  r1.findings[0].evidence["a"] = 2;
  r2.findings[0].evidence = json::object();
  r2.findings[0].evidence["a"] = 2;
  r2.findings[0].evidence["b"] = 1;
  EXPECT_EQ(RenderHtmlReport(r1), RenderHtmlReport(r2));
}

TEST(RenderHtmlReport, OddInputsRenderWithoutThrowing) {
  FindingsReport r;
  Finding f;
  f.kind = "k";
  f.resource_id = std::string(300, 'x') + "\xC3";  // long, cut mid-character
  f.action = "not an object";
  f.evidence = {{"daily", {1, "x", {{"hours", "abc"}}, {{"date", "d"}, {"hours", 5}}}},
                {"bad_utf8", "\xFF\xFE"},
                {"deep", {{"a", {{"b", {{"c", {1, 2, {{"d", nullptr}}}}}}}}}},
                {"unmeasured", "MemoryUtilization"}};
  f.monthly_savings = D("-5");
  r.findings.push_back(f);
  Finding g;
  g.kind = "k";
  g.evidence = json::array({1, "two", nullptr});
  g.action = json::array({"echo a", "echo b"});
  r.findings.push_back(g);
  r.daily_cost = {{0, D("1")}, {100000, D("2")}};  // implausible span: no gap filling
  std::string html;
  ASSERT_NO_THROW(html = RenderHtmlReport(r));
  EXPECT_EQ(Count(html, "<rect"), 2u + 2u + 1u);  // 2 cost days, 2 daily entries, 1 kind bar
  EXPECT_NE(html.find("Not measured:</strong> MemoryUtilization"), std::string::npos);
  EXPECT_NE(html.find("-5.00"), std::string::npos);
  EXPECT_NE(html.find("\xE2\x80\xA6"), std::string::npos);  // the shortened resource
  EXPECT_EQ(html.find("\xFF"), std::string::npos);
}

// Writes the sample page where SAGEBOX_HTML_SAMPLE says, to look at it in a
// browser (the brief's screenshot check); does nothing otherwise.
TEST(RenderHtmlReport, WritesSampleWhenAsked) {
  const char* path = std::getenv("SAGEBOX_HTML_SAMPLE");
  if (path == nullptr) GTEST_SKIP() << "set SAGEBOX_HTML_SAMPLE=/tmp/sample-findings.html";
  std::ofstream(path) << RenderHtmlReport(SampleReport());
  std::ifstream in(path);
  EXPECT_TRUE(in.good());
}

}  // namespace
}  // namespace sagebox::findings
