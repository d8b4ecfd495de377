// Notebook instance and Studio app rules: *-always-on, gpu-notebook,
// stopped-notebook-storage. All of them need only the bill.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "cost/findings/remedies.h"
#include "cost/findings/rules.h"
#include "cost/findings/schedule.h"

namespace sagebox::findings {

namespace {

enum class AppKind { kNone, kNotebook, kStudio, kDataWrangler };

AppKind KindOf(const ResourceUsage& r) {
  const std::string& k = r.parsed.kind;
  if (k == "Notebk") return AppKind::kNotebook;
  if (k.rfind("Studio_DW", 0) == 0) return AppKind::kDataWrangler;
  if (k.rfind("Studio", 0) == 0) return AppKind::kStudio;
  return AppKind::kNone;
}

struct Streak {
  Days first = 0, last = -1;  // inclusive; empty when last < first
  Decimal hours;              // over the streak
  int days() const { return static_cast<int>(last - first + 1); }
};

// The latest longest run of consecutive days with at least `min_hours`.
Streak LongestFullStreak(const ResourceUsage& r, Decimal min_hours) {
  Streak best, cur;
  Days prev = 0;
  bool in = false;
  for (const auto& [day, u] : r.days) {
    if (u.hours >= min_hours) {
      if (in && day == prev + 1) {
        cur.last = day;
        cur.hours += u.hours;
      } else {
        cur = Streak{day, day, u.hours};
      }
      in = true;
      prev = day;
      if (cur.days() >= best.days()) best = cur;
    } else {
      in = false;
    }
  }
  return best;
}

// Studio app ARN: arn:aws:sagemaker:<region>:<acct>:app/<domain>/<user or space>/<type>/<name>.
struct StudioApp {
  std::string domain, owner, type, name;
};
StudioApp ParseAppArn(std::string_view arn) {
  StudioApp a;
  size_t p = arn.find(":app/");
  if (p == std::string_view::npos) return a;
  std::string_view rest = arn.substr(p + 5);
  std::string* parts[] = {&a.domain, &a.owner, &a.type, &a.name};
  for (auto* part : parts) {
    size_t s = rest.find('/');
    *part = std::string(rest.substr(0, s));
    if (s == std::string_view::npos) break;
    rest.remove_prefix(s + 1);
  }
  return a;
}

std::string_view KindName(AppKind k) {
  switch (k) {
    case AppKind::kNotebook:
      return "notebook-always-on";
    case AppKind::kStudio:
      return "studio-app-always-on";
    case AppKind::kDataWrangler:
      return "data-wrangler-app-always-on";
    case AppKind::kNone:
      break;
  }
  return "";
}

Finding Base(std::string_view kind, const ResourceUsage& r) {
  Finding f;
  f.kind = std::string(kind);
  f.resource_id = r.resource_id.empty() ? r.usage_type : r.resource_id;
  f.id = StableId(kind, f.resource_id, r.resource_id.empty() ? r.account_id : "");
  f.account_id = r.account_id;
  f.region = r.region;
  f.usage_type = r.usage_type;
  f.instance_type = r.parsed.instance_type;
  return f;
}

bool IsGpuInstance(const RuleContext& ctx, const std::string& type) {
  if (const catalog::InstanceSpec* s = ctx.catalog.Find(type)) return s->gpus > 0;
  return catalog::Catalog::IsGpuFamily(FamilyOf(type));
}

Status AlwaysOn(const RuleContext& ctx, const ResourceUsage& r, AppKind kind,
                std::vector<Finding>* out) {
  const Decimal min_hours = FromDouble(ctx.cfg.full_day_hours - 0.01);
  Streak s = LongestFullStreak(r, min_hours);
  if (s.last < s.first || s.days() < ctx.cfg.min_streak_days) return Status::Ok();
  Finding f = Base(KindName(kind), r);
  const Decimal per_day = Decimal::Div(s.hours, Decimal::FromInt(s.days()));
  auto rate = RateOf(ctx, r);
  ASSIGN_OR_RETURN(int64_t offset, UtcOffsetSeconds(ctx.cfg.schedule.timezone,
                                                    static_cast<UnixSeconds>(s.last) * 86400));
  const MonthlyHours split =
      MonthlyHoursBySchedule(r.hour_of_week, ctx.cfg.schedule, offset, r.first_start, r.last_end);
  const double outside = split.total > 0 ? split.outside / split.total : 0;
  const Decimal monthly_hours = MonthlyHoursAt(per_day);
  const Days last_day = DayOf(ctx.usage.data_end - 1);
  const bool running_at_end = s.last >= last_day - 1;
  long instances = std::lround(per_day.ToDouble() / 24.0);
  if (instances < 1) instances = 1;
  f.evidence = {{"streak_start", FormatDate(s.first)},
                {"streak_end", FormatDate(s.last)},
                {"streak_days", s.days()},
                {"hours_per_day", per_day.ToString()},
                {"instances", instances},
                {"running_at_end_of_data", running_at_end},
                {"total_cost", r.TotalCost().ToString()},
                {"schedule_share_outside", FromDouble(outside).ToFixed(4)},
                {"daily", DailySeries(r)}};
  if (r.resource_id.empty()) {
    f.evidence["note"] =
        "the export has no resource ids: this is every resource of the usage type in the "
        "account together";
  }
  if (rate) {
    f.evidence["rate_usd_per_hour"] = rate->usd_per_hour.ToString();
    f.evidence["rate_source"] = rate->source;
    const Decimal day_cost = Decimal::Mul(rate->usd_per_hour, per_day);
    f.evidence["daily_cost_at_rate"] = day_cost.ToString();
    f.evidence["monthly_cost_at_rate"] = Decimal::Mul(rate->usd_per_hour, monthly_hours).ToString();
    // Hours the schedule removes, at the billed rate.
    f.monthly_savings = Decimal::Mul(rate->usd_per_hour, FromDouble(split.outside));
    f.evidence["monthly_hours_outside_schedule"] = std::round(split.outside * 10) / 10;
  } else {
    f.evidence["unmeasured"] = {"rate"};
  }
  const std::string name = NameFromArn(f.resource_id);
  const Schedule& sc = ctx.cfg.schedule;
  const std::string window = fmt::format("{} {:02}:00-{:02}:00 {}", WeekdaysText(sc), sc.start_hour,
                                         sc.end_hour, sc.timezone);
  if (kind == AppKind::kNotebook) {
    f.action = ScheduleAction(sc, name, "stopNotebookInstance", "startNotebookInstance",
                              {{"NotebookInstanceName", name}});
    f.action["auto_stop"] = NotebookAutoStop(name, ctx.cfg.idle_timeout_minutes);
    f.recommendation = fmt::format(
        "Notebook instance {} ran {} h/day for {} days in a row: stop it outside {} and install "
        "the auto-stop lifecycle configuration.",
        name, per_day.ToFixed(1), s.days(), window);
  } else {
    StudioApp app = ParseAppArn(r.resource_id);
    nlohmann::json params = {{"DomainId", app.domain.empty() ? "<domain-id>" : app.domain},
                             {"AppType", app.type.empty() ? "KernelGateway" : app.type},
                             {"AppName", app.name.empty() ? "<app-name>" : app.name}};
    if (!app.owner.empty()) params["UserProfileName"] = app.owner;
    f.action = ScheduleAction(sc, app.name.empty() ? name : app.name, "deleteApp", "", params);
    f.action["auto_stop"] = StudioIdleShutdown(app.domain, ctx.cfg.idle_timeout_minutes);
    f.action["cleanup"] = {
        fmt::format("aws sagemaker delete-app --domain-id {} --user-profile-name {} --app-type {} "
                    "--app-name {}",
                    params["DomainId"].get<std::string>(), app.owner.empty() ? "<user>" : app.owner,
                    params["AppType"].get<std::string>(), params["AppName"].get<std::string>())};
    f.recommendation = fmt::format(
        "{} app {} of {} ran {} h/day for {} days in a row: shut it down when idle (idle "
        "shutdown after {} min) and outside {}.",
        kind == AppKind::kDataWrangler ? "Studio Data Wrangler" : "Studio", app.name,
        app.owner.empty() ? std::string("its user") : app.owner, per_day.ToFixed(1), s.days(),
        ctx.cfg.idle_timeout_minutes, window);
  }
  f.confidence = running_at_end && rate ? Confidence::kHigh : Confidence::kMedium;
  // Stopped before the data ends (a notebook that ran for 10 days and then sat
  // stopped for 81): stopping it now saves nothing. The finding stays, because
  // the pattern can repeat and the auto-stop action prevents that, but it
  // claims no savings and says why.
  if (const std::optional<Days> stopped = StoppedSince(ctx, r)) {
    const int64_t idle_days = DayOf(ctx.usage.data_end - 1) - *stopped + 1;
    f.evidence["stopped_since"] = FormatDate(*stopped);
    f.evidence["days_stopped_at_end_of_data"] = idle_days;
    f.monthly_savings = Decimal();
    f.confidence = Confidence::kLow;
    f.recommendation += fmt::format(
        " It has not run since {} ({} days before the data ends), so this saves nothing "
        "now; the auto-stop settings keep it from running all day again.",
        FormatDate(*stopped), idle_days);
  }
  out->push_back(std::move(f));
  return Status::Ok();
}

// A cheaper instance without GPUs that still has the vCPUs and memory.
const catalog::InstanceSpec* CpuAlternative(const RuleContext& ctx, const ResourceUsage& r,
                                            Decimal* alt_rate) {
  const catalog::InstanceSpec* cur = ctx.catalog.Find(r.parsed.instance_type);
  if (!cur) return nullptr;
  const catalog::InstanceSpec* best = nullptr;
  for (const char* fam : {"t3", "m5", "m6i", "m7i", "c5", "c6i", "r5", "r6i"}) {
    for (const catalog::InstanceSpec* s : ctx.catalog.Family(fam)) {
      if (s->gpus > 0 || s->vcpu < cur->vcpu || s->memory_gib < cur->memory_gib) continue;
      auto rate = TargetRate(ctx, r, s->type);
      if (!rate) continue;
      if (!best || rate->usd_per_hour < *alt_rate) {
        best = s;
        *alt_rate = rate->usd_per_hour;
      }
    }
  }
  return best;
}

void GpuNotebook(const RuleContext& ctx, const ResourceUsage& r, AppKind kind,
                 std::vector<Finding>* out) {
  if (r.days.empty()) return;
  const Days first = r.days.begin()->first, last = r.days.rbegin()->first;
  const int span = static_cast<int>(last - first + 1);
  const Decimal min_hours = FromDouble(ctx.cfg.gpu_hours_per_day);
  int busy = 0;
  for (const auto& [d, u] : r.days) busy += u.hours >= min_hours ? 1 : 0;
  if (busy < ctx.cfg.gpu_min_days ||
      static_cast<double>(busy) <= ctx.cfg.gpu_days_share * static_cast<double>(span)) {
    return;
  }
  if (StoppedSince(ctx, r)) return;  // already gone: nothing to resize
  Finding f = Base("gpu-notebook", r);
  const Decimal per_day = Decimal::Div(r.TotalHours(), Decimal::FromInt(span));
  const Decimal monthly_hours = MonthlyHoursAt(per_day);
  f.evidence = {{"days_observed", span},
                {"days_at_or_over_threshold", busy},
                {"threshold_hours_per_day", ctx.cfg.gpu_hours_per_day},
                {"hours_per_day", per_day.ToString()},
                {"total_cost", r.TotalCost().ToString()},
                {"daily", DailySeries(r)}};
  auto rate = RateOf(ctx, r);
  Decimal alt_rate;
  const catalog::InstanceSpec* alt = CpuAlternative(ctx, r, &alt_rate);
  std::vector<std::string> allowed = {"ml.t3.medium", "ml.t3.large", "ml.m5.xlarge"};
  if (alt && std::find(allowed.begin(), allowed.end(), alt->type) == allowed.end()) {
    allowed.push_back(alt->type);
  }
  if (kind != AppKind::kNotebook) allowed.emplace_back("system");
  const std::string action =
      kind == AppKind::kNotebook ? "sagemaker:CreateNotebookInstance" : "sagemaker:CreateApp";
  f.action = {{"type", "resize"},
              {"from", r.parsed.instance_type},
              {"iam_policy", RestrictInstanceTypesPolicy("BlockGpuNotebooks", action, allowed)}};
  if (rate) {
    f.evidence["rate_usd_per_hour"] = rate->usd_per_hour.ToString();
    f.evidence["rate_source"] = rate->source;
  }
  if (rate && alt && alt_rate < rate->usd_per_hour) {
    f.action["to"] = alt->type;
    f.evidence["cpu_alternative"] = alt->type;
    f.evidence["cpu_alternative_rate_usd_per_hour"] = alt_rate.ToString();
    f.monthly_savings = Decimal::Mul(rate->usd_per_hour - alt_rate, monthly_hours);
    f.recommendation = fmt::format(
        "{} runs a GPU instance ({}) {} h/day on most days: do exploration on {} and move GPU "
        "work to training jobs; restrict GPU instance types with the IAM policy.",
        NameFromArn(f.resource_id), r.parsed.instance_type, per_day.ToFixed(1), alt->type);
  } else {
    f.evidence["unmeasured"] = {"cpu_alternative_rate"};
    f.recommendation = fmt::format(
        "{} runs a GPU instance ({}) {} h/day on most days: use a CPU instance for "
        "exploration and restrict GPU instance types with the IAM policy.",
        NameFromArn(f.resource_id), r.parsed.instance_type, per_day.ToFixed(1));
  }
  // Whether the GPU is needed is not visible in the bill.
  f.confidence = Confidence::kMedium;
  out->push_back(std::move(f));
}

void StoppedStorage(const RuleContext& ctx, const ResourceUsage& vol, std::vector<Finding>* out) {
  if (vol.days.empty() || vol.resource_id.empty()) return;
  Days last_hours = -1;
  bool any_instance = false;
  for (const ResourceUsage* r : ctx.usage.ById(vol.resource_id)) {
    if (!r->is_instance()) continue;
    any_instance = true;
    for (const auto& [d, u] : r->days) {
      if (!u.hours.is_zero()) last_hours = std::max(last_hours, d);
    }
  }
  const Days last_storage = vol.days.rbegin()->first;
  const Days idle_from = last_hours >= 0 ? last_hours + 1 : DayOf(ctx.usage.data_start);
  const int idle_days = static_cast<int>(last_storage - idle_from + 1);
  if (idle_days < ctx.cfg.stopped_days) return;
  Decimal idle_cost;
  int billed_days = 0;
  for (const auto& [d, u] : vol.days) {
    if (d >= idle_from) {
      idle_cost += u.cost;
      ++billed_days;
    }
  }
  if (billed_days == 0) return;
  Finding f = Base("stopped-notebook-storage", vol);
  const std::string name = NameFromArn(vol.resource_id);
  const Decimal per_day = Decimal::Div(idle_cost, Decimal::FromInt(billed_days));
  f.monthly_savings = Decimal::Div(per_day * 730, Decimal::FromInt(24));
  f.evidence = {{"last_instance_hours", last_hours >= 0 ? FormatDate(last_hours) : "none in data"},
                {"idle_days", idle_days},
                {"storage_cost_while_stopped", idle_cost.ToString()},
                {"storage_cost_per_day", per_day.ToString()},
                {"storage_gb_month", vol.all_usage.ToString()}};
  if (!any_instance) f.evidence["note"] = "no instance hours for this notebook in the data";
  f.action = {
      {"type", "delete"},
      {"commands",
       {"aws sagemaker start-notebook-instance --notebook-instance-name " + name,
        "# on the instance: aws s3 sync /home/ec2-user/SageMaker s3://<bucket>/" + name + "/",
        "aws sagemaker stop-notebook-instance --notebook-instance-name " + name,
        "aws sagemaker delete-notebook-instance --notebook-instance-name " + name}}};
  f.recommendation = fmt::format(
      "Notebook instance {} has been stopped for {} days but its volume is still billed: back "
      "up /home/ec2-user/SageMaker to S3 and delete the instance.",
      name, idle_days);
  f.confidence = idle_days >= 2 * ctx.cfg.stopped_days ? Confidence::kHigh : Confidence::kMedium;
  out->push_back(std::move(f));
}

}  // namespace

Status NotebookRules(const RuleContext& ctx, std::vector<Finding>* out) {
  for (const ResourceUsage& r : ctx.usage.resources) {
    const AppKind kind = KindOf(r);
    if (kind == AppKind::kNone) continue;
    if (r.is_instance()) {
      RETURN_IF_ERROR(AlwaysOn(ctx, r, kind, out));
      if (IsGpuInstance(ctx, r.parsed.instance_type)) GpuNotebook(ctx, r, kind, out);
    } else if (kind == AppKind::kNotebook && r.parsed.is_storage) {
      StoppedStorage(ctx, r, out);
    }
  }
  return Status::Ok();
}

}  // namespace sagebox::findings
