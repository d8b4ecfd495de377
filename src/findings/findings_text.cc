#include "findings/findings_text.h"

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
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const Finding& f = r.findings[i];
      total += f.monthly_savings;
      ++per_kind[f.kind];
      t.AddRow({std::to_string(i + 1), f.kind, ShortResource(f.resource_id), f.account_id,
                f.instance_type, fmt::format("${}", GroupThousands(f.monthly_savings.ToFixed(2))),
                std::string(ConfidenceName(f.confidence))});
    }
    out += t.Render(width > 0 ? width / 3 : 0);
    out += fmt::format(
        "\n{} finding(s), ${} per month in all (monthly = 730 hours; findings of "
        "one resource can overlap).\n\n",
        r.findings.size(), GroupThousands(total.ToFixed(2)));
    for (size_t i = 0; i < r.findings.size(); ++i) {
      out += fmt::format("{:>3}. {}\n", i + 1, r.findings[i].recommendation);
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
