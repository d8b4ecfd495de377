#include "cost/findings/findings_text.h"

#include <fmt/format.h>

#include <map>

#include "core/table.h"

namespace sagebox::findings {

namespace {
// "arn:aws:sagemaker:us-east-1:1111:notebook-instance/dev-notebook" ->
// "notebook-instance/dev-notebook": the account and region have columns.
std::string ShortResource(const std::string& id) {
  if (id.rfind("arn:", 0) != 0) return id;
  size_t colons = 0, i = 0;
  for (; i < id.size() && colons < 5; ++i) colons += id[i] == ':';
  return colons == 5 ? id.substr(i) : id;
}
// How many findings share each value of `key`.
template <typename Key>
std::map<std::string, int> Counts(const std::vector<Finding>& fs, Key key) {
  std::map<std::string, int> n;
  for (const Finding& f : fs) ++n[key(f)];
  return n;
}

// " (account 111111111111, us-east-1)": what tells apart findings whose
// text is the same (one notebook name in seven accounts or regions).
std::string Where(const Finding& f) {
  std::string where;
  if (!f.account_id.empty()) where = "account " + f.account_id;
  if (!f.region.empty()) where += (where.empty() ? "" : ", ") + f.region;
  return where.empty() ? "" : " (" + where + ")";
}

}  // namespace

std::string RenderFindingsTable(const FindingsReport& r, size_t width) {
  std::string out = fmt::format("SageMaker savings findings, {} to {} (billing data examined)\n\n",
                                FormatDate(r.start), FormatDate(r.end - 1));
  if (r.findings.empty()) {
    out += "No findings: nothing in this data matched a rule.\n";
  } else {
    TextTable t({"#", "KIND", "RESOURCE", "ACCOUNT", "INSTANCE", "SAVINGS/MONTH", "CONFIDENCE"},
                {TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kLeft,
                 TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kRight,
                 TextTable::Align::kLeft});
    Decimal total;
    std::map<std::string, int> per_kind;
    const auto same_resource = Counts(r.findings, [](const Finding& f) {
      return f.kind + "\n" + ShortResource(f.resource_id) + "\n" + f.account_id;
    });
    const auto same_text = Counts(r.findings, [](const Finding& f) { return f.recommendation; });
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const Finding& f = r.findings[i];
      total += f.monthly_savings;
      ++per_kind[f.kind];
      // The account has a column; the region only shows where it is needed.
      std::string resource = ShortResource(f.resource_id);
      if (same_resource.at(f.kind + "\n" + resource + "\n" + f.account_id) > 1 &&
          !f.region.empty()) {
        resource += " (" + f.region + ")";
      }
      t.AddRow({std::to_string(i + 1), f.kind, resource, f.account_id, f.instance_type,
                fmt::format("${}", GroupThousands(f.monthly_savings.ToFixed(2))),
                std::string(ConfidenceName(f.confidence))});
    }
    out += t.Render(width > 0 ? width / 3 : 0);
    out += fmt::format(
        "\n{} finding(s), ${} per month in all (monthly = 730 hours; findings of "
        "one resource can overlap).\n\n",
        r.findings.size(), GroupThousands(total.ToFixed(2)));
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const Finding& f = r.findings[i];
      out += fmt::format("{:>3}. {}{}\n", i + 1, f.recommendation,
                         same_text.at(f.recommendation) > 1 ? Where(f) : "");
    }
  }
  if (!r.notes.empty()) {
    out += "\nNot judged:\n";
    for (const auto& n : r.notes) out += "  - " + n + "\n";
  }
  out +=
      "\nEvidence, actions and commands: --format json, or --format html for a shareable "
      "report.\n";
  return out;
}

}  // namespace sagebox::findings
