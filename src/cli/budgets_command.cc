// `sagebox cost budgets check FILE`: AWS Budgets against the store; exit 3
// when an alert fires.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cost/plan/budgets.h"
#include "cost/plan/webhook.h"
#include "cost/query.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

constexpr int kExitBudgetAlert = 3;

struct BudgetsFlags {
  std::string file, as_of;
  std::vector<std::string> webhooks;
};

int Run(const Globals& g, const BudgetsFlags& f) {
  plan::CheckOptions opt;
  if (Status ds = ParseDateFlag("--as-of", f.as_of, &opt.as_of); !ds.ok()) return Fail(ds);
  Env* env = Env::Default();
  std::string text;
  Status rs = env->ReadFileToString(f.file, &text);
  if (!rs.ok()) return Fail(rs);
  auto budgets = plan::ParseBudgets(text, f.file);
  if (!budgets.ok()) return Fail(budgets.status());
  auto st = store::Store::Open(env, g.store);
  if (!st.ok()) return Fail(st.status());
  opt.savings_plans = plan::StoreSavingsPlansProvider(st->get());
  auto statuses = plan::CheckBudgets(**st, *budgets, opt);
  if (!statuses.ok()) return Fail(statuses.status());
  auto state = plan::LoadAlertState(env, g.store);
  if (!state.ok()) return Fail(state.status());
  Days today = opt.as_of;
  if (!today) {
    auto r = cost::DataRange(**st);
    if (r.ok()) today = r->second;
  }
  int fresh = plan::ApplyAlertState(&*statuses, &*state, today);
  std::cout << plan::BudgetsToText(*statuses) << std::flush;
  if (fresh > 0) {
    // Remember before delivering: an alert fires once per period even if a
    // webhook is down (the failure is reported below).
    Status ss = plan::SaveAlertState(env, g.store, *state);
    if (!ss.ok()) {
      (void)std::fprintf(stderr, "sagebox: could not record the alerts: %s\n",
                         ss.message().c_str());
    }
    std::string msg = fmt::format(":rotating_light: sagebox: {} budget alert(s)", fresh);
    for (const auto& s : *statuses) {
      for (const auto& a : s.alerts) {
        if (!a.already_fired) msg += "\n• " + a.Text();
      }
    }
    std::string body = plan::SlackMessage(msg).dump();
    for (const auto& url : f.webhooks) {
      auto d = plan::PostJson(url, body);
      if (d.ok) {
        (void)std::fprintf(stderr, "webhook %s: delivered (HTTP %d)\n", url.c_str(), d.http_status);
      } else {
        (void)std::fprintf(stderr, "webhook %s: NOT delivered after %d attempt(s): %s\n",
                           url.c_str(), d.attempts, d.error.c_str());
      }
    }
    return kExitBudgetAlert;
  }
  for (const auto& s : *statuses) {
    if (!s.error.ok()) return Fail(s.error);
  }
  return 0;
}

}  // namespace

void AddBudgetsCommand(CLI::App& cost, Globals& g, int* exit_code) {
  auto* budgets = cost.add_subcommand("budgets", "AWS Budgets checked against the store");
  budgets->require_subcommand(1);
  static BudgetsFlags bf;
  auto* check = budgets->add_subcommand(
      "check",
      "Checks budgets written as `aws budgets describe-budgets` output (notifications as\n"
      "`describe-notifications-for-budget` returns them, per budget or in a top-level map; see\n"
      "docs/budgets.md). Prints every budget; an alert fires once per budget period and\n"
      "threshold (state in <store>/budget_alerts.json), is POSTed to each --webhook as Slack\n"
      "JSON, and makes the exit code 3.");
  check->add_option("FILE", bf.file, "Budgets JSON file")->required();
  check->add_option("--as-of", bf.as_of,
                    "Treat this day (YYYY-MM-DD) as today (default: the last day with data)");
  check->add_option("--webhook", bf.webhooks, "Slack-compatible webhook URL; repeat for more");
  check->callback([&g, exit_code] { *exit_code = Run(g, bf); });
}

}  // namespace sagebox::cli
