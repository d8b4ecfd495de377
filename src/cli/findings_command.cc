// `sagebox cost findings`: thin wrapper over findings::RunFindings.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "core/env.h"
#include "core/time.h"
#include "cost/findings/engine.h"
#include "cost/findings/findings_text.h"
#include "cost/findings/html_report.h"
#include "cost/line_item.h"
#include "store/store.h"

namespace sagebox::cli {

namespace {

struct FindingsFlags {
  std::vector<std::string> metrics, jobs, logs;
  std::string format = "table", output, catalog, from, to, config;
  std::string work_hours = "08-18", workdays = "MON-FRI";
  std::vector<std::string> required_tags{"team"};
  findings::FindingsConfig cfg;
};

StatusOr<std::vector<int>> ParseWorkdays(const std::string& text) {
  static const char* kNames[] = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};
  auto idx = [](std::string_view s) -> int {
    for (int i = 0; i < 7; ++i) {
      if (s.size() == 3 && std::toupper(s[0]) == kNames[i][0] &&
          std::toupper(s[1]) == kNames[i][1] && std::toupper(s[2]) == kNames[i][2]) {
        return i;
      }
    }
    return -1;
  };
  std::vector<int> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string_view part(text.data() + i, j - i);
    size_t dash = part.find('-');
    int a = idx(part.substr(0, dash)),
        b = dash == std::string_view::npos ? a : idx(part.substr(dash + 1));
    if (a < 0 || b < 0 || b < a) {
      return InvalidArgument("--workdays '" + text +
                             "': expected days like MON-FRI or MON,WED,FRI");
    }
    for (int d = a; d <= b; ++d) out.push_back(d);
    i = j + 1;
  }
  return out;
}

Status Configure(FindingsFlags& f) {
  RETURN_IF_ERROR(ParseDateFlag("--from", f.from, &f.cfg.from));
  RETURN_IF_ERROR(ParseDateFlag("--to", f.to, &f.cfg.to));
  int a = -1, b = -1;
  if (std::sscanf(f.work_hours.c_str(), "%d-%d", &a, &b) != 2 || a < 0 || b > 24 || a >= b) {
    return InvalidArgument("--work-hours '" + f.work_hours +
                           "': expected START-END hours like 08-18");
  }
  f.cfg.schedule.start_hour = a;
  f.cfg.schedule.end_hour = b;
  ASSIGN_OR_RETURN(f.cfg.schedule.weekdays, ParseWorkdays(f.workdays));
  f.cfg.required_tags.clear();
  for (const auto& t : f.required_tags) {
    if (!t.empty()) f.cfg.required_tags.push_back(std::string(cost::NormalizeTagKey(t)));
  }
  if (f.format != "table" && f.format != "json" && f.format != "html") {
    return InvalidArgument("--format must be table, json or html");
  }
  return Status::Ok();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string Unquote(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return std::string(v);
}

// `key = value` lines (a TOML subset: comments, quoted strings, numbers,
// flat arrays); a key names a long flag of the command. Flags given on the
// command line keep their value. CLI11 2.1's own config reader does not
// reach subcommand options, hence this.
Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  std::string text;
  if (Status s = Env::Default()->ReadFileToString(path, &text); !s.ok()) return s;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line = Trim(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#' || line.front() == '[') continue;
    const size_t eq = line.find('=');
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (eq == std::string_view::npos) {
      return InvalidArgument(where + ": expected `key = value`");
    }
    const std::string key(Trim(line.substr(0, eq)));
    std::string_view value = Trim(line.substr(eq + 1));
    CLI::Option* opt = nullptr;
    try {
      opt = cmd->get_option("--" + key);
    } catch (const CLI::Error&) {
      opt = nullptr;
    }
    if (opt == nullptr || key == "config") {
      return InvalidArgument(fmt::format("{}: unknown setting '{}'", where, key) +
                             "' (settings are the long flag names of `cost findings --help`)");
    }
    if (opt->count() > 0) continue;  // the command line wins
    std::vector<std::string> values;
    if (!value.empty() && value.front() == '[') {
      if (value.back() != ']') return InvalidArgument(where + ": unterminated array");
      std::string_view inner = value.substr(1, value.size() - 2);
      size_t i = 0;
      while (i <= inner.size()) {
        size_t j = inner.find(',', i);
        if (j == std::string_view::npos) j = inner.size();
        std::string v = Unquote(inner.substr(i, j - i));
        if (!v.empty()) values.push_back(v);
        i = j + 1;
      }
    } else {
      values.push_back(Unquote(value));
    }
    try {
      for (const auto& v : values) opt->add_result(v);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgument(fmt::format("{}: {}: {}", where, key, e.what()));
    }
  }
  return Status::Ok();
}

int Run(const Globals& g, FindingsFlags& f) {
  if (Status s = Configure(f); !s.ok()) return Fail(s);
  Env* env = Env::Default();
  catalog::Catalog catalog;
  findings::FindingsInputs in;
  if (Status s =
          findings::LoadFindingsInputs(env, {f.jobs, f.metrics, f.logs, f.catalog}, &catalog, &in);
      !s.ok()) {
    return Fail(s);
  }
  auto st = store::Store::Open(env, g.store);
  if (!st.ok()) return Fail(st.status());
  auto report = findings::RunFindings(**st, in, f.cfg);
  if (!report.ok()) return Fail(report.status());
  std::string text;
  if (f.format == "json") {
    text = findings::ReportToJson(*report).dump(2) + "\n";
  } else if (f.format == "html") {
    text = findings::RenderHtmlReport(*report);
  } else {
    text = findings::RenderFindingsTable(*report, ::isatty(STDOUT_FILENO) == 1 ? 160 : 0);
  }
  if (f.output.empty()) {
    std::cout << text;
  } else {
    if (Status s = env->WriteFileAtomic(f.output, text); !s.ok()) return Fail(s);
    std::cerr << "wrote " << f.output << "\n";
  }
  return 0;
}

}  // namespace

void AddFindingsCommand(CLI::App& cost, Globals& g, int* exit_code) {
  static FindingsFlags f;
  auto* c = cost.add_subcommand(
      "findings",
      "Ranked SageMaker savings: always-on notebooks and Studio apps, GPU notebooks, storage of\n"
      "stopped notebooks, idle endpoints, oversized and failing jobs, I/O overhead, Data\n"
      "Wrangler sizing, leftover dataset copies and untagged spend.\n"
      "Billing alone finds the notebook, Studio and tag findings; give CloudWatch metrics,\n"
      "job descriptions and logs for the rest (docs/findings-inputs.md shows the AWS CLI\n"
      "commands that produce them).\n"
      "Examples:\n"
      "  sagebox cost findings\n"
      "  sagebox cost findings --jobs jobs.json --metrics metrics.jsonl --logs logs.json\n"
      "  sagebox cost findings --timezone Europe/Berlin --work-hours 07-19 --format html -o "
      "r.html\n"
      "  sagebox cost findings --config findings.toml   # any flag below as key = value");
  c->add_option("--config", f.config,
                "Read flags from a file of `key = value` lines (TOML style; keys are the long\n"
                "flag names, e.g. `min-streak-days = 5`, `dw-instances = [\"ml.m5.4xlarge\"]`);\n"
                "flags on the command line win");
  c->add_option("--metrics", f.metrics, "CloudWatch metrics, JSON Lines (repeatable)");
  c->add_option("--jobs", f.jobs,
                "Saved describe-*/list-* output of processing/training jobs, endpoints and "
                "notebooks (repeatable)");
  c->add_option("--logs", f.logs, "Saved `aws logs filter-log-events` output (repeatable)");
  c->add_option("--format", f.format, "table, json (sagebox.findings/v1) or html")
      ->capture_default_str();
  c->add_option("-o,--output", f.output, "Write to this file instead of standard output");
  c->add_option("--catalog", f.catalog, "Instance catalog overrides (JSON, see data/catalog)");
  c->add_option("--from", f.from, "First billing day examined, YYYY-MM-DD (default: all data)");
  c->add_option("--to", f.to, "Day after the last examined, YYYY-MM-DD, exclusive");
  auto& cfg = f.cfg;
  c->add_option("--timezone", cfg.schedule.timezone, "Timezone of the stop schedule (IANA name)")
      ->capture_default_str();
  c->add_option("--work-hours", f.work_hours, "Hours resources should run, local time")
      ->capture_default_str();
  c->add_option("--workdays", f.workdays, "Days resources should run")->capture_default_str();
  c->add_option("--idle-timeout-minutes", cfg.idle_timeout_minutes,
                "Idle time before auto-stop, in the lifecycle configurations")
      ->capture_default_str();
  c->add_option("--full-day-hours", cfg.full_day_hours,
                "always-on: instance-hours that make a full day")
      ->capture_default_str();
  c->add_option("--min-streak-days", cfg.min_streak_days, "always-on: consecutive full days")
      ->capture_default_str();
  c->add_option("--gpu-hours-per-day", cfg.gpu_hours_per_day, "gpu-notebook: busy hours per day")
      ->capture_default_str();
  c->add_option("--gpu-days-share", cfg.gpu_days_share,
                "gpu-notebook: share of days that must be busy")
      ->capture_default_str();
  c->add_option("--gpu-min-days", cfg.gpu_min_days, "gpu-notebook: minimum busy days")
      ->capture_default_str();
  c->add_option("--stopped-days", cfg.stopped_days,
                "stopped-notebook-storage: days without instance hours")
      ->capture_default_str();
  c->add_option("--idle-days", cfg.idle_days, "idle-endpoint: consecutive days without traffic")
      ->capture_default_str();
  c->add_option("--oversized-pct", cfg.oversized_pct,
                "oversized-job: peak CPU per vCPU and memory below this percent")
      ->capture_default_str();
  c->add_option("--peak-percentile", cfg.peak_percentile,
                "oversized-job: percentile of the samples used as the peak (100 = maximum)")
      ->capture_default_str();
  c->add_option("--target-pct", cfg.target_pct,
                "oversized-job: peak utilisation a resize target may reach")
      ->capture_default_str();
  c->add_option("--family-switch-min-savings-pct", cfg.family_switch_min_savings_pct,
                "oversized-job: minimum saving for a CPU- or memory-bound family switch")
      ->capture_default_str();
  c->add_option("--io-overhead-pct", cfg.io_overhead_pct,
                "processing-io-overhead: job time outside the script, percent")
      ->capture_default_str();
  c->add_option("--script-start-pattern", cfg.script_start_pattern, "Log text at script start")
      ->capture_default_str();
  c->add_option("--script-end-pattern", cfg.script_end_pattern, "Log text at script end")
      ->capture_default_str();
  c->add_option("--failed-share-pct", cfg.failed_share_pct,
                "failed-jobs: failed or stopped share of a family's runs")
      ->capture_default_str();
  c->add_option("--failed-min-jobs", cfg.failed_min_jobs, "failed-jobs: minimum failed runs")
      ->capture_default_str();
  c->add_option("--dw-instances", cfg.dw_instances,
                "data-wrangler-job-sizing: allowed instance types")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--dw-headroom-pct", cfg.dw_headroom_pct,
                "data-wrangler-job-sizing: memory headroom over the observed peak")
      ->capture_default_str();
  c->add_option("--dw-max-instances", cfg.dw_max_instances,
                "data-wrangler-job-sizing: largest instance count considered")
      ->capture_default_str();
  c->add_option("--sp-term", cfg.sp_term, "savings-plan-opportunity: ONE_YEAR or THREE_YEARS")
      ->capture_default_str();
  c->add_option("--sp-payment", cfg.sp_payment,
                "savings-plan-opportunity: NO_UPFRONT, PARTIAL_UPFRONT or ALL_UPFRONT")
      ->capture_default_str();
  c->add_option("--sp-lookback", cfg.sp_lookback,
                "savings-plan-opportunity: SEVEN_DAYS, THIRTY_DAYS or SIXTY_DAYS")
      ->capture_default_str();
  c->add_option("--required-tags", f.required_tags,
                "untagged-spend: allocation tag keys (e.g. team or user:team)")
      ->delimiter(',')
      ->capture_default_str();
  c->add_option("--untagged-pct", cfg.untagged_pct,
                "untagged-spend: untagged share reported, percent")
      ->capture_default_str();
  c->callback([&g, exit_code, c] {
    if (!f.config.empty()) {
      if (Status s = ApplyConfigFile(c, f.config); !s.ok()) {
        *exit_code = Fail(s);
        return;
      }
    }
    *exit_code = Run(g, f);
  });
}

}  // namespace sagebox::cli
