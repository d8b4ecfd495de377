// untagged-spend: the share of SageMaker cost without the allocation tags.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "findings/rules.h"

namespace sagebox::findings {

Status AccountRules(const RuleContext& ctx, std::vector<Finding>* out) {
  if (ctx.cfg.required_tags.empty()) return Status::Ok();
  std::string tags;
  for (const auto& t : ctx.cfg.required_tags) tags += (tags.empty() ? "" : ", ") + t;
  for (const auto& [account, tc] : ctx.usage.tags_by_account) {
    if (tc.total <= Decimal() || tc.untagged.is_zero()) continue;
    const double share = tc.untagged.ToDouble() / tc.total.ToDouble() * 100;
    if (share < ctx.cfg.untagged_pct) continue;
    std::vector<std::pair<std::string, Decimal>> top(tc.untagged_by_resource.begin(),
                                                     tc.untagged_by_resource.end());
    std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (top.size() > 20) top.resize(20);
    nlohmann::json list = nlohmann::json::array();
    nlohmann::json commands = nlohmann::json::array();
    for (const auto& [res, cost] : top) {
      list.push_back({{"resource", res}, {"cost", cost.ToString()}});
      if (res.rfind("arn:", 0) == 0) {
        std::string kv;
        for (const auto& t : ctx.cfg.required_tags) kv += " Key=" + t + ",Value=<" + t + ">";
        commands.push_back("aws sagemaker add-tags --resource-arn " + res + " --tags" + kv);
      }
    }
    Finding f;
    f.kind = "untagged-spend";
    f.resource_id = account;
    f.account_id = account;
    f.id = StableId(f.kind, account, tags);
    f.evidence = {{"required_tags", ctx.cfg.required_tags},
                  {"sagemaker_cost", tc.total.ToString()},
                  {"untagged_cost", tc.untagged.ToString()},
                  {"untagged_share_pct", std::round(share * 10) / 10},
                  {"top_untagged", list}};
    f.action = {{"type", "tag"},
                {"commands", commands},
                {"advice",
                 "Tag the Studio domain and user profiles (SageMaker copies them to apps and "
                 "jobs) and activate the keys as cost allocation tags in the Billing console."}};
    f.recommendation = fmt::format(
        "{:.1f}% of account {}'s SageMaker cost (${}) carries no {} tag: tag the resources so "
        "the spend can be charged back.",
        share, account, tc.untagged.ToFixed(2), tags);
    f.confidence = Confidence::kHigh;
    out->push_back(std::move(f));
  }
  return Status::Ok();
}

}  // namespace sagebox::findings
