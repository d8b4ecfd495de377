// untagged-spend: the share of SageMaker cost without the allocation tags.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cost/findings/rules.h"
#include "cost/plan/savings_plans.h"

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
        for (const auto& t : ctx.cfg.required_tags) kv += fmt::format(" Key={0},Value=<{0}>", t);
        commands.push_back(
            fmt::format("aws sagemaker add-tags --resource-arn {} --tags{}", res, kv));
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

Status SavingsPlanRule(const RuleContext& ctx, const store::Store& st, std::vector<Finding>* out) {
  plan::RecommendOptions o;
  ASSIGN_OR_RETURN(o.term, plan::ParseTerm(ctx.cfg.sp_term));
  ASSIGN_OR_RETURN(o.payment, plan::ParsePayment(ctx.cfg.sp_payment));
  ASSIGN_OR_RETURN(o.lookback_days, plan::ParseLookbackDays(ctx.cfg.sp_lookback));
  auto rec = plan::RecommendSavingsPlan(st, o);
  if (!rec.ok()) {
    // No eligible SageMaker usage is not an error for the findings.
    ctx.notes->push_back("savings-plan-opportunity: not judged: " + rec.status().message());
    return Status::Ok();
  }
  const plan::Recommendation& r = *rec;
  if (r.hourly_commitment <= Decimal() || r.monthly_savings <= Decimal()) return Status::Ok();
  Finding f;
  f.kind = "savings-plan-opportunity";
  // The payer account buys the plan; a bill without payer ids names the
  // usage account instead.
  std::string payer = r.account_id;
  if (payer.empty() && !ctx.usage.resources.empty()) payer = ctx.usage.resources[0].account_id;
  f.resource_id = payer;
  f.account_id = payer;
  f.id = StableId(f.kind, payer, ctx.cfg.sp_term + ctx.cfg.sp_payment);
  f.monthly_savings = r.monthly_savings;
  f.evidence = {
      {"term", plan::TermName(o.term)},
      {"payment_option", plan::PaymentName(o.payment)},
      {"lookback", plan::LookbackName(o.lookback_days)},
      {"lookback_start", FormatTimestamp(r.lookback_start)},
      {"lookback_end", FormatTimestamp(r.lookback_end)},
      {"hourly_commitment", r.hourly_commitment.ToString()},
      {"eligible_on_demand_in_lookback", r.eligible_on_demand.ToString()},
      {"net_savings_in_lookback", r.net_savings.ToString()},
      {"expected_utilization_pct", std::round(r.utilization_pct * 100) / 100},
      {"expected_coverage_pct", std::round(r.coverage_pct * 100) / 100},
      {"break_even_commitment", r.break_even_commitment.ToString()},
      {"usage_drop_to_break_even_pct", std::round(r.usage_drop_to_break_even_pct * 100) / 100},
      {"rate_source", r.rate_source},
      {"notes", r.notes}};
  f.action = {{"type", "buy-savings-plan"},
              {"savings_plan_type", "SageMaker"},
              {"hourly_commitment", r.hourly_commitment.ToString()},
              {"term", plan::TermName(o.term)},
              {"payment_option", plan::PaymentName(o.payment)},
              {"commands",
               {"aws savingsplans describe-savings-plans-offerings --plan-types SageMaker "
                "--durations " +
                    std::string(o.term == plan::SpTerm::kOneYear ? "31536000" : "94608000") +
                    " --payment-options '" +
                    std::string(o.payment == plan::SpPayment::kNoUpfront        ? "No Upfront"
                                : o.payment == plan::SpPayment::kPartialUpfront ? "Partial Upfront"
                                                                                : "All Upfront") +
                    "'",
                "aws savingsplans create-savings-plan --savings-plan-offering-id <offering-id> "
                "--commitment " +
                    r.hourly_commitment.ToString()}},
              {"details", "sagebox cost savings-plans recommend --format json"}};
  f.recommendation = fmt::format(
      "Commit ${}/hour to a SageMaker Savings Plan ({}, {}): at the last {}'s usage it would be "
      "{:.1f}% utilized and save ${} a month; right-size first, as the articles advise.",
      r.hourly_commitment.ToString(), plan::TermName(o.term), plan::PaymentName(o.payment),
      plan::LookbackName(o.lookback_days), r.utilization_pct, r.monthly_savings.ToFixed(2));
  f.confidence =
      r.rate_source.find("fallback") != std::string::npos ? Confidence::kLow : Confidence::kMedium;
  out->push_back(std::move(f));
  return Status::Ok();
}

}  // namespace sagebox::findings
