// `sagebox cost savings-plans recommend|utilization|coverage`: thin wrappers
// over plan/savings_plans.h.
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "cost/plan/savings_plans.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

struct ReportFlags {
  std::string from, to, granularity = "MONTHLY", format, type = "ALL";
};

struct RecommendFlags {
  std::string term = "ONE_YEAR", payment = "NO_UPFRONT", lookback = "THIRTY_DAYS", as_of, format;
  double discount = 0;
  bool has_discount = false;
  std::vector<std::string> plan_ends;
};

std::string FormatOr(const std::string& f) {
  if (!f.empty()) return f;
  return ::isatty(STDOUT_FILENO) == 1 ? "table" : "json";
}

StatusOr<plan::SpReportOptions> ReportOptions(const ReportFlags& f) {
  plan::SpReportOptions o;
  RETURN_IF_ERROR(ParseDateFlag("--from", f.from, &o.from));
  RETURN_IF_ERROR(ParseDateFlag("--to", f.to, &o.to));
  ASSIGN_OR_RETURN(o.granularity, cost::ParseGranularity(f.granularity));
  if (f.type == "SAGEMAKER_SP" || f.type == "sagemaker") {
    o.sagemaker_only = true;
  } else if (f.type != "ALL" && f.type != "all") {
    return InvalidArgument("--savings-plans-type must be ALL or SAGEMAKER_SP");
  }
  return o;
}

StatusOr<plan::RecommendOptions> RecommendOpts(const RecommendFlags& f) {
  plan::RecommendOptions o;
  ASSIGN_OR_RETURN(o.term, plan::ParseTerm(f.term));
  ASSIGN_OR_RETURN(o.payment, plan::ParsePayment(f.payment));
  ASSIGN_OR_RETURN(o.lookback_days, plan::ParseLookbackDays(f.lookback));
  RETURN_IF_ERROR(ParseDateFlag("--as-of", f.as_of, &o.as_of));
  if (f.has_discount) o.discount_pct = f.discount;
  for (const auto& pe : f.plan_ends) {
    size_t eq = pe.rfind('=');
    std::optional<Days> d;
    if (eq != std::string::npos) d = ParseDate(pe.substr(eq + 1));
    if (!d || eq == 0) {
      return InvalidArgument("--plan-end '" + pe +
                             "' is not ARN_OR_ID=YYYY-MM-DD (e.g. "
                             "arn:aws:savingsplans::111111111111:savingsplan/abc=2025-01-01)");
    }
    o.plan_ends.emplace_back(pe.substr(0, eq), static_cast<UnixSeconds>(*d) * 86400);
  }
  return o;
}

template <typename Fn>
void WithStore(const Globals& g, int* exit_code, Fn fn) {
  auto st = store::Store::Open(Env::Default(), g.store);
  if (!st.ok()) {
    *exit_code = Fail(st.status());
    return;
  }
  Status s = fn(**st);
  if (!s.ok()) *exit_code = Fail(s);
}

void AddReport(CLI::App* sp, const char* name, const char* help, ReportFlags* f, Globals& g,
               int* exit_code, bool utilization) {
  auto* c = sp->add_subcommand(name, help);
  c->add_option("--from", f->from, "First day, YYYY-MM-DD (default: start of the data's month)");
  c->add_option("--to", f->to, "Day after the last, YYYY-MM-DD, exclusive (default: end of data)");
  c->add_option("--granularity", f->granularity, "HOURLY, DAILY or MONTHLY")->capture_default_str();
  if (utilization) {
    c->add_option("--savings-plans-type", f->type, "ALL (every plan in the bill) or SAGEMAKER_SP")
        ->capture_default_str();
  }
  c->add_option("--format", f->format, "table or json (default: table on a terminal, else json)");
  c->callback([f, &g, exit_code, utilization] {
    auto o = ReportOptions(*f);
    if (!o.ok()) {
      *exit_code = Fail(o.status());
      return;
    }
    const std::string fmt = FormatOr(f->format);
    if (fmt != "table" && fmt != "json") {
      *exit_code = Fail(InvalidArgument("--format must be table or json"));
      return;
    }
    WithStore(g, exit_code, [&](const store::Store& st) -> Status {
      if (utilization) {
        ASSIGN_OR_RETURN(auto u, plan::GetSavingsPlansUtilization(st, *o));
        std::cout << (fmt == "json" ? plan::UtilizationToJson(u).dump(2) + "\n"
                                    : plan::UtilizationToTable(u));
      } else {
        ASSIGN_OR_RETURN(auto cov, plan::GetSavingsPlansCoverage(st, *o));
        std::cout << (fmt == "json" ? plan::CoverageToJson(cov).dump(2) + "\n"
                                    : plan::CoverageToTable(cov));
      }
      return Status::Ok();
    });
  });
}

}  // namespace

void AddSavingsPlansCommands(CLI::App& cost, Globals& g, int* exit_code) {
  auto* sp = cost.add_subcommand(
      "savings-plans",
      "SageMaker Savings Plans: purchase recommendation, utilization and coverage, from the bill");
  sp->require_subcommand(1);

  static RecommendFlags rf;
  auto* rec = sp->add_subcommand(
      "recommend",
      "Cost Explorer's GetSavingsPlansPurchaseRecommendation for a SageMaker Savings Plan.\n"
      "Takes the hourly eligible SageMaker usage (ML instance hours, at on-demand rates) of the\n"
      "lookback period, leaves what existing plans cover to them (until they expire inside the\n"
      "term), and finds the hourly commitment with the largest net savings exactly. Shows the\n"
      "savings-vs-commitment curve, expected utilization and coverage, break-even and what\n"
      "happens if usage falls 10, 25 or 50%. Rates come from the bill's savingsPlan/pricing\n"
      "columns when it has Savings Plans lines, else from --discount, else AWS's published\n"
      "'up to 64%' (an upper bound); the output names the source.\n"
      "Example: sagebox cost savings-plans recommend --term-in-years 1 --payment-option no\n"
      "         --lookback-period-in-days 30 --format json");
  rec->add_option("--term-in-years", rf.term, "ONE_YEAR or THREE_YEARS (or 1, 3)")
      ->capture_default_str();
  rec->add_option("--payment-option", rf.payment,
                  "NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT (or no, partial, all)")
      ->capture_default_str();
  rec->add_option("--lookback-period-in-days", rf.lookback,
                  "SEVEN_DAYS, THIRTY_DAYS or SIXTY_DAYS (or 7, 30, 60)")
      ->capture_default_str();
  rec->add_option("--as-of", rf.as_of,
                  "The lookback ends before this day, YYYY-MM-DD (default: after the last data)");
  rec->add_option("--discount", rf.discount,
                  "Flat Savings Plans discount in percent off on-demand, for every usage type "
                  "(overrides the bill's rates)");
  rec->add_option("--plan-end", rf.plan_ends,
                  "ARN_OR_ID=YYYY-MM-DD: when an existing plan ends (else inferred from the "
                  "bill)");
  rec->add_option("--format", rf.format, "table or json (default: table on a terminal, else json)");
  rec->callback([&g, exit_code, rec] {
    rf.has_discount = rec->count("--discount") > 0;
    auto o = RecommendOpts(rf);
    if (!o.ok()) {
      *exit_code = Fail(o.status());
      return;
    }
    const std::string fmt = FormatOr(rf.format);
    if (fmt != "table" && fmt != "json") {
      *exit_code = Fail(InvalidArgument("--format must be table or json"));
      return;
    }
    WithStore(g, exit_code, [&](const store::Store& st) -> Status {
      ASSIGN_OR_RETURN(auto r, plan::RecommendSavingsPlan(st, *o));
      std::cout << (fmt == "json" ? plan::RecommendationToJson(r).dump(2) + "\n"
                                  : plan::RecommendationToText(r));
      return Status::Ok();
    });
  });

  static ReportFlags uf, cf;
  AddReport(sp, "utilization",
            "Cost Explorer's GetSavingsPlansUtilization, exactly from the CUR's\n"
            "SavingsPlanRecurringFee (commitment, used) and SavingsPlanCoveredUsage lines.",
            &uf, g, exit_code, true);
  AddReport(sp, "coverage",
            "Cost Explorer's GetSavingsPlansCoverage over SageMaker eligible usage (ML instance\n"
            "hours): spend covered by Savings Plans vs on demand, at on-demand rates.",
            &cf, g, exit_code, false);
}

}  // namespace sagebox::cli
