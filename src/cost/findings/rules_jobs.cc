// Processing, training and Data Wrangler job rules: oversized-job,
// processing-io-overhead, failed-jobs, data-wrangler-job-sizing,
// leftover-dataset-copies. They join the bill (job ARNs as resource ids)
// with saved describe-*/list-* output, CloudWatch metrics and logs.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "core/strings.h"
#include "cost/findings/rules.h"

namespace sagebox::findings {

namespace {

struct Job {
  std::string name, arn, account, region, kind_path;  // kind_path: "processing-job"
  std::string instance_type;
  int count = 1;
  bool data_wrangler = false;
  Decimal cost, hours;  // from the bill (instance + volume), instance-hours
  const ResourceUsage* instance = nullptr;
  const JobInfo* info = nullptr;
  UnixSeconds start = 0, end = 0;
};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool LooksLikeId(std::string_view s) {
  if (s.size() < 8) return false;
  bool digit = false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    digit |= c >= '0' && c <= '9';
  }
  return digit;
}

}  // namespace

// The recurring-job family of a job name: trailing run numbers, dates and
// ids removed ("features-daily-001" -> "features-daily",
// "xgb-2024-01-02-03-04-05-678" -> "xgb").
std::string JobFamily(std::string_view name) {
  std::string_view s = name;
  while (true) {
    size_t p = s.find_last_of("-_");
    if (p == std::string_view::npos || p == 0) break;
    std::string_view tail = s.substr(p + 1);
    if (!(AllDigits(tail) || LooksLikeId(tail))) break;
    s = s.substr(0, p);
  }
  // A name that was only digits keeps itself.
  return std::string(s.empty() ? name : s);
}

namespace {

std::vector<Job> CollectJobs(const RuleContext& ctx) {
  std::map<std::string, Job> by_name;  // lower-cased job name
  for (const ResourceUsage& r : ctx.usage.resources) {
    const std::string& id = r.resource_id;
    std::string path;
    for (const char* k : {"processing-job", "training-job", "transform-job"}) {
      if (id.find(std::string(":") + k + "/") != std::string::npos) path = k;
    }
    if (path.empty()) continue;
    // Keyed by ARN: the same job name can exist in several accounts.
    Job& j = by_name[AsciiLower(id)];
    j.name = NameFromArn(id);
    j.arn = id;
    j.kind_path = path;
    j.account = r.account_id;
    j.region = r.region;
    j.cost += r.TotalCost();
    if (r.is_instance()) {
      j.instance = &r;
      j.instance_type = r.parsed.instance_type;
      j.hours += r.TotalHours();
      j.data_wrangler |= r.parsed.data_wrangler;
      j.start = j.start == 0 ? r.first_start : std::min(j.start, r.first_start);
      j.end = std::max(j.end, r.last_end);
    }
  }
  for (const JobInfo& info : ctx.meta.jobs) {
    Job& j = by_name[info.arn.empty() ? "name:" + AsciiLower(info.name) : AsciiLower(info.arn)];
    j.info = &info;
    if (j.name.empty()) j.name = info.name;
    if (j.arn.empty()) j.arn = info.arn;
    if (j.kind_path.empty()) {
      j.kind_path = info.kind == JobKind::kTraining    ? "training-job"
                    : info.kind == JobKind::kTransform ? "transform-job"
                                                       : "processing-job";
    }
    if (j.account.empty()) j.account = info.account_id;
    if (j.region.empty()) j.region = info.region;
    if (!info.instance_type.empty()) j.instance_type = info.instance_type;
    j.count = std::max(1, info.instance_count);
    j.data_wrangler |= info.data_wrangler;
    if (info.start) j.start = info.start;
    if (info.end) j.end = info.end;
  }
  std::vector<Job> out;
  out.reserve(by_name.size());
  for (auto& [k, j] : by_name) out.push_back(std::move(j));
  return out;
}

struct Peaks {
  std::optional<double> cpu_per_vcpu, memory, gpu_per_gpu, gpu_memory_per_gpu;  // percent
  std::map<int, double> memory_by_host;  // peak MemoryUtilization per host
  int hosts = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  if (p >= 100) return v.back();
  double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Peaks of a set of jobs (one family) from the per-host series.
Peaks PeaksOf(const RuleContext& ctx, const std::vector<const Job*>& jobs,
              const catalog::InstanceSpec* spec) {
  std::set<std::string> names;
  for (const Job* j : jobs) names.insert(AsciiLower(j->name));
  std::vector<double> cpu, mem, gpu, gmem;
  std::set<std::string> hosts;
  Peaks p;
  for (const MetricSeries& m : ctx.metrics) {
    auto h = m.dimensions.find("Host");
    if (h == m.dimensions.end()) continue;
    auto ref = ParseHost(h->second);
    if (!ref || !names.count(AsciiLower(ref->job))) continue;
    hosts.insert(h->second);
    std::vector<double>* dst = nullptr;
    double scale = 1;
    if (m.metric == "CPUUtilization") {
      dst = &cpu;
      scale = spec && spec->vcpu > 0 ? 1.0 / spec->vcpu : 0;
    } else if (m.metric == "MemoryUtilization") {
      dst = &mem;
      for (double v : m.values)
        p.memory_by_host[ref->host] = std::max(p.memory_by_host[ref->host], v);
    } else if (m.metric == "GPUUtilization") {
      dst = &gpu;
      scale = spec && spec->gpus > 0 ? 1.0 / spec->gpus : 0;
    } else if (m.metric == "GPUMemoryUtilization") {
      dst = &gmem;
      scale = spec && spec->gpus > 0 ? 1.0 / spec->gpus : 0;
    }
    if (!dst || scale == 0) continue;
    for (double v : m.values) dst->push_back(v * scale);
  }
  const double pct = ctx.cfg.peak_percentile;
  if (!cpu.empty()) p.cpu_per_vcpu = Percentile(cpu, pct);
  if (!mem.empty()) p.memory = Percentile(mem, pct);
  if (!gpu.empty()) p.gpu_per_gpu = Percentile(gpu, pct);
  if (!gmem.empty()) p.gpu_memory_per_gpu = Percentile(gmem, pct);
  p.hosts = static_cast<int>(hosts.size());
  return p;
}

// CloudWatch series name a job's host ("<job>/algo-1") but not its account
// or region. A family may use them when its job names are unique in the
// bill, or when only its runs were described (--jobs) among same-named jobs.
using NameCounts = std::map<std::string, std::pair<int, int>>;  // name -> (jobs, described)

NameCounts CountNames(const std::vector<Job>& all) {
  NameCounts seen;
  for (const Job& j : all) {
    auto& c = seen[AsciiLower(j.name)];
    ++c.first;
    c.second += j.info ? 1 : 0;
  }
  return seen;
}

bool OwnsMetrics(const NameCounts& seen, const std::vector<const Job*>& runs) {
  for (const Job* r : runs) {
    auto it = seen.find(AsciiLower(r->name));
    if (it == seen.end()) continue;
    const auto& c = it->second;
    if (c.first > 1 && !(r->info && c.second == 1)) return false;
  }
  return true;
}

std::string FamilyArn(const Job& j, const std::string& family) {
  size_t p = j.arn.rfind('/');
  if (p == std::string::npos) return family + "*";
  return j.arn.substr(0, p + 1) + family + "*";
}

Decimal MonthlyFactor(const RuleContext& ctx) {
  // Data span in hours -> a 730-hour month.
  const int64_t span_h = std::max<int64_t>(1, (ctx.usage.data_end - ctx.usage.data_start) / 3600);
  return Decimal::Div(Decimal::FromInt(730), Decimal::FromInt(span_h));
}

// Instance-hours of a job: billed, else its duration times its count.
Decimal JobHours(const Job& j) {
  if (!j.hours.is_zero()) return j.hours;
  if (j.end > j.start && j.start > 0) {
    return Decimal::Div(Decimal::FromInt((j.end - j.start) * j.count), Decimal::FromInt(3600));
  }
  return Decimal();
}

Finding JobFinding(std::string_view kind, const Job& j, const std::string& resource_id) {
  Finding f;
  f.kind = std::string(kind);
  f.resource_id = resource_id;
  f.id = StableId(kind, resource_id);
  f.account_id = j.account;
  f.region = j.region;
  f.instance_type = j.instance_type;
  if (j.instance) f.usage_type = j.instance->usage_type;
  return f;
}

std::optional<Rate> JobRate(const RuleContext& ctx, const Job& j) {
  if (j.instance) return RateOf(ctx, *j.instance);
  return CatalogRate(ctx, j.instance_type, j.region);
}

std::optional<Rate> JobTargetRate(const RuleContext& ctx, const Job& j, const std::string& type) {
  if (j.instance) return TargetRate(ctx, *j.instance, type);
  return CatalogRate(ctx, type, j.region);
}

using Families = std::map<std::string, std::vector<const Job*>>;

// account|kind|family|instance type -> runs, newest last.
Families GroupFamilies(const std::vector<Job>& jobs, bool dw_only) {
  Families fam;
  for (const Job& j : jobs) {
    if (j.instance_type.empty() || j.data_wrangler != dw_only) continue;
    fam[j.account + "|" + j.kind_path + "|" + JobFamily(j.name) + "|" + j.instance_type].push_back(
        &j);
  }
  for (auto& [k, v] : fam) {
    std::sort(v.begin(), v.end(), [](const Job* a, const Job* b) {
      return a->start != b->start ? a->start < b->start : a->name < b->name;
    });
  }
  return fam;
}

void Oversized(const RuleContext& ctx, const std::vector<Job>& jobs, std::vector<Finding>* out) {
  const NameCounts names = CountNames(jobs);
  int unmeasured = 0;
  const double thr = ctx.cfg.oversized_pct, tgt = ctx.cfg.target_pct;
  for (const auto& [key, runs] : GroupFamilies(jobs, /*dw_only=*/false)) {
    const Job& last = *runs.back();
    const catalog::InstanceSpec* spec = ctx.catalog.Find(last.instance_type);
    if (!spec || !OwnsMetrics(names, runs)) continue;
    Peaks pk = PeaksOf(ctx, runs, spec);
    if (!pk.cpu_per_vcpu && !pk.memory) {
      ++unmeasured;
      continue;
    }
    const bool cpu_low = !pk.cpu_per_vcpu || *pk.cpu_per_vcpu < thr;
    const bool mem_low = !pk.memory || *pk.memory < thr;
    const bool gpu_low = spec->gpus == 0 || !pk.gpu_per_gpu || *pk.gpu_per_gpu < thr;
    if (!cpu_low && !mem_low) continue;
    // What the job needs at the target utilisation; unmeasured resources
    // are kept whole.
    const double need_vcpu = pk.cpu_per_vcpu ? spec->vcpu * *pk.cpu_per_vcpu / tgt : spec->vcpu;
    const double need_mem = pk.memory ? spec->memory_gib * *pk.memory / tgt : spec->memory_gib;
    auto cur_rate = JobRate(ctx, last);
    if (!cur_rate) continue;
    const catalog::InstanceSpec* best = nullptr;
    Rate best_rate{};
    const bool both_low = pk.cpu_per_vcpu && pk.memory && cpu_low && mem_low;
    if (both_low) {
      // The articles' rule: under 40% of both, cut the machine in half
      // (one size down in the family); GPUs only when they are low too.
      const catalog::InstanceSpec* down = ctx.catalog.NextSizeDown(spec->type);
      if (down && (spec->gpus == 0 || down->gpus >= spec->gpus || (pk.gpu_per_gpu && gpu_low))) {
        if (auto r = JobTargetRate(ctx, last, down->type);
            r && r->usd_per_hour < cur_rate->usd_per_hour) {
          best = down;
          best_rate = *r;
        }
      }
    } else {
      // CPU- or memory-bound (or one of them unmeasured, kept whole): the
      // cheapest instance of another family that still has what it needs.
      auto consider = [&](const catalog::InstanceSpec* s) {
        if (s->type == spec->type || s->vcpu < need_vcpu || s->memory_gib < need_mem) return;
        if (spec->gpus > 0) {
          if (s->family != spec->family || s->gpus < spec->gpus) return;
        } else if (s->gpus > 0) {
          return;
        }
        auto r = JobTargetRate(ctx, last, s->type);
        if (!r || r->usd_per_hour >= cur_rate->usd_per_hour) return;
        if (!best || r->usd_per_hour < best_rate.usd_per_hour) {
          best = s;
          best_rate = *r;
        }
      };
      for (const catalog::InstanceSpec* s : ctx.catalog.Family(spec->family)) consider(s);
      if (spec->gpus == 0) {
        for (const char* fam : {"m5", "m6i", "c5", "c6i", "r5", "r6i", "t3"}) {
          for (const catalog::InstanceSpec* s : ctx.catalog.Family(fam)) consider(s);
        }
      }
    }
    if (!best) continue;
    const Decimal saved_per_hour = cur_rate->usd_per_hour - best_rate.usd_per_hour;
    if (!both_low) {
      const double share = saved_per_hour.ToDouble() / cur_rate->usd_per_hour.ToDouble() * 100;
      if (share < ctx.cfg.family_switch_min_savings_pct) continue;
    }
    Decimal hours;
    for (const Job* j : runs) hours += JobHours(*j);
    const Decimal monthly_hours = Decimal::Mul(hours, MonthlyFactor(ctx));
    const std::string family = JobFamily(last.name);
    Finding f = JobFinding("oversized-job", last, last.arn);
    nlohmann::json arns = nlohmann::json::array();
    for (const Job* j : runs) arns.push_back(j->arn);
    nlohmann::json unmeasured_list = nlohmann::json::array();
    if (!pk.cpu_per_vcpu) unmeasured_list.push_back("CPUUtilization");
    if (!pk.memory) unmeasured_list.push_back("MemoryUtilization");
    if (spec->gpus > 0 && !pk.gpu_per_gpu) unmeasured_list.push_back("GPUUtilization");
    if (spec->gpus > 0 && !pk.gpu_memory_per_gpu) unmeasured_list.push_back("GPUMemoryUtilization");
    auto pct = [](const std::optional<double>& v) -> nlohmann::json {
      return v ? nlohmann::json(std::round(*v * 100) / 100) : nlohmann::json(nullptr);
    };
    f.evidence = {{"job_family", family},
                  {"runs", runs.size()},
                  {"jobs", arns},
                  {"hosts", pk.hosts},
                  {"vcpu", spec->vcpu},
                  {"memory_gib", spec->memory_gib},
                  {"peak_percentile", ctx.cfg.peak_percentile},
                  {"peak_cpu_per_vcpu_pct", pct(pk.cpu_per_vcpu)},
                  {"peak_memory_pct", pct(pk.memory)},
                  {"peak_gpu_per_gpu_pct", pct(pk.gpu_per_gpu)},
                  {"peak_gpu_memory_per_gpu_pct", pct(pk.gpu_memory_per_gpu)},
                  {"instance_hours", hours.ToString()},
                  {"rate_usd_per_hour", cur_rate->usd_per_hour.ToString()},
                  {"rate_source", cur_rate->source},
                  {"target_rate_usd_per_hour", best_rate.usd_per_hour.ToString()},
                  {"target_rate_source", best_rate.source},
                  {"unmeasured", unmeasured_list}};
    const bool same_family = best->family == spec->family;
    f.action = {{"type", "resize"},
                {"from", spec->type},
                {"to", best->type},
                {"instance_count", last.count},
                {"applies_to", FamilyArn(last, family)}};
    f.monthly_savings = Decimal::Mul(saved_per_hour, monthly_hours);
    const char* why = cpu_low && mem_low ? "CPU and memory stay low"
                      : cpu_low          ? "it is memory-bound with idle vCPUs"
                                         : "it is CPU-bound with idle memory";
    f.recommendation = fmt::format(
        "Run {} jobs ({} run(s)) on {} instead of {}: {} (peak CPU/vCPU {}%, memory {}%){}.",
        family, runs.size(), best->type, spec->type, why,
        pk.cpu_per_vcpu ? fmt::format("{:.1f}", *pk.cpu_per_vcpu) : "unmeasured",
        pk.memory ? fmt::format("{:.1f}", *pk.memory) : "unmeasured",
        same_family ? ", one size down in the same family" : ", a cheaper family");
    f.confidence = unmeasured_list.empty()
                       ? (runs.size() > 1 ? Confidence::kHigh : Confidence::kMedium)
                       : Confidence::kLow;
    out->push_back(std::move(f));
  }
  if (unmeasured > 0) {
    ctx.notes->push_back(fmt::format(
        "oversized-job: {} job famil(ies) not judged: no CPUUtilization or MemoryUtilization "
        "for their hosts in --metrics",
        unmeasured));
  }
}

void IoOverhead(const RuleContext& ctx, const std::vector<Job>& jobs, std::vector<Finding>* out) {
  if (ctx.logs.empty()) return;
  ScriptPatterns pat;
  pat.start = ctx.cfg.script_start_pattern;
  pat.end = ctx.cfg.script_end_pattern;
  std::map<std::string, std::vector<const Job*>> by_name;
  for (const Job& j : jobs) by_name[AsciiLower(j.name)].push_back(&j);
  struct Measured {
    const Job* job;
    double job_s, script_s;
  };
  std::map<std::string, std::vector<Measured>> families;  // account|kind|family
  for (const ScriptWindow& w : FindScriptWindows(ctx.logs, pat)) {
    auto it = by_name.find(AsciiLower(w.job));
    if (it == by_name.end()) continue;
    // Log streams carry only the job name; when several accounts or regions
    // ran a job of that name, take the run whose span holds the script,
    // preferring runs that have a description; never guess between several.
    std::vector<const Job*> holds, described;
    for (const Job* c : it->second) {
      if (c->start > 0 && c->start <= w.start_ms / 1000 && c->end >= w.end_ms / 1000) {
        holds.push_back(c);
        if (c->info) described.push_back(c);
      }
    }
    const Job* j = holds.size() == 1 ? holds[0] : described.size() == 1 ? described[0] : nullptr;
    if (!j) continue;
    const double job_s = static_cast<double>(j->end - j->start);
    const double script_s = static_cast<double>(w.end_ms - w.start_ms) / 1000.0;
    if (script_s <= 0 || job_s <= 0) continue;
    families[j->account + "|" + j->kind_path + "|" + JobFamily(j->name)].push_back(
        {j, job_s, script_s});
  }
  for (auto& [key, runs] : families) {
    std::sort(runs.begin(), runs.end(), [](const Measured& a, const Measured& b) {
      return a.job->start != b.job->start ? a.job->start < b.job->start : a.job->name < b.job->name;
    });
    double job_total = 0, script_total = 0;
    Decimal cost;
    bool priced = true;
    for (const Measured& m : runs) {
      job_total += m.job_s;
      script_total += m.script_s;
      if (auto rate = JobRate(ctx, *m.job)) {
        cost += Decimal::Mul(rate->usd_per_hour, JobHours(*m.job));
      } else {
        priced = false;
      }
    }
    // Time-weighted: the share of all job time spent outside the script.
    const double overhead = (job_total - script_total) / job_total;
    if (overhead * 100 < ctx.cfg.io_overhead_pct) continue;
    const Job& j = *runs.back().job;
    const std::string family = JobFamily(j.name);
    Finding f = JobFinding("processing-io-overhead", j, j.arn);
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = runs.size() > 20 ? runs.size() - 20 : 0; i < runs.size(); ++i) {
      const Measured& m = runs[i];
      list.push_back({{"job", m.job->arn.empty() ? m.job->name : m.job->arn},
                      {"job_seconds", m.job_s},
                      {"script_seconds", m.script_s}});
    }
    f.evidence = {{"job_family", family},
                  {"runs", runs.size()},
                  {"job_seconds", job_total},
                  {"script_seconds", script_total},
                  {"overhead_seconds", job_total - script_total},
                  {"overhead_pct", std::round(overhead * 1000) / 10},
                  {"latest_runs", list}};
    nlohmann::json advice = nlohmann::json::array();
    if (j.info) {
      for (const JobInput& in : j.info->inputs) {
        if (in.s3_input_mode == "File" || (in.s3_input_mode.empty() && !in.s3_uri.empty())) {
          advice.push_back("input '" + in.name +
                           "': S3InputMode File downloads everything first; use FastFile or "
                           "Pipe");
        }
      }
      for (const JobOutput& o : j.info->outputs) {
        if (o.s3_upload_mode != "Continuous") {
          advice.push_back("output '" + o.name +
                           "': S3UploadMode EndOfJob uploads after the script; use Continuous");
        }
      }
    }
    advice.push_back("download in parallel from the script (boto3 with multiprocessing, or s5cmd)");
    f.action = {{"type", "reconfigure"}, {"advice", advice}, {"applies_to", FamilyArn(j, family)}};
    // Upper bound: every instance-second outside the script.
    f.monthly_savings = Decimal::Mul(Decimal::Mul(cost, MonthlyFactor(ctx)), FromDouble(overhead));
    if (!priced) f.evidence["unmeasured"] = {"rate of some runs"};
    f.recommendation = fmt::format(
        "{} jobs ({} run(s)) spend {:.0f}% of their time outside the script (data download and "
        "upload): {}.",
        family, runs.size(), overhead * 100, advice[0].get<std::string>());
    f.confidence = Confidence::kMedium;
    out->push_back(std::move(f));
  }
}

void FailedJobs(const RuleContext& ctx, const std::vector<Job>& jobs, std::vector<Finding>* out) {
  struct Group {
    std::vector<const Job*> all, failed;
  };
  std::map<std::string, Group> groups;
  for (const Job& j : jobs) {
    if (!j.info || j.info->status.empty()) continue;
    Group& g = groups[j.account + "|" + j.kind_path + "|" + JobFamily(j.name)];
    g.all.push_back(&j);
    if (j.info->status == "Failed" || j.info->status == "Stopped") g.failed.push_back(&j);
  }
  for (const auto& [key, g] : groups) {
    const double share =
        100.0 * static_cast<double>(g.failed.size()) / static_cast<double>(g.all.size());
    if (static_cast<int>(g.failed.size()) < ctx.cfg.failed_min_jobs ||
        share < ctx.cfg.failed_share_pct) {
      continue;
    }
    const Job& last = *g.failed.back();
    const std::string family = JobFamily(last.name);
    Decimal cost;
    nlohmann::json runs = nlohmann::json::array();
    bool priced = true;
    for (const Job* j : g.failed) {
      Decimal c = j->cost;
      if (c.is_zero()) {
        if (auto r = JobRate(ctx, *j)) {
          c = Decimal::Mul(r->usd_per_hour, JobHours(*j));
        } else {
          priced = false;
        }
      }
      cost += c;
      runs.push_back({{"job", j->arn.empty() ? j->name : j->arn},
                      {"status", j->info->status},
                      {"failure_reason", j->info->failure_reason},
                      {"cost", c.ToString()}});
    }
    Finding f = JobFinding("failed-jobs", last, FamilyArn(last, family));
    f.instance_type.clear();
    f.evidence = {{"job_family", family},
                  {"runs", g.all.size()},
                  {"failed_or_stopped", g.failed.size()},
                  {"failure_share_pct", std::round(share * 10) / 10},
                  {"failed_cost", cost.ToString()},
                  {"failed_runs", runs}};
    if (!priced) f.evidence["unmeasured"] = {"cost of some failed runs"};
    f.monthly_savings = Decimal::Mul(cost, MonthlyFactor(ctx));
    f.action = {{"type", "use-local-mode"},
                {"advice",
                 "Run the job with the SageMaker Python SDK in local mode (instance_type='local') "
                 "or a LocalPipelineSession until it passes, then on managed instances."}};
    f.recommendation = fmt::format(
        "{} of {} runs of {} failed or were stopped (${} billed): test them in SageMaker local "
        "mode before launching on managed instances.",
        g.failed.size(), g.all.size(), family, cost.ToFixed(2));
    f.confidence = priced ? Confidence::kHigh : Confidence::kMedium;
    out->push_back(std::move(f));
  }
}

void DataWranglerSizing(const RuleContext& ctx, const std::vector<Job>& jobs,
                        std::vector<Finding>* out) {
  const NameCounts names = CountNames(jobs);
  // The article's memory figures, kept to show where they would mislead.
  const std::map<std::string, int> article = {
      {"ml.m5.4xlarge", 128}, {"ml.m5.12xlarge", 256}, {"ml.m5.24xlarge", 768}};
  int unmeasured = 0;
  for (const auto& [key, runs] : GroupFamilies(jobs, /*dw_only=*/true)) {
    const Job& last = *runs.back();
    const catalog::InstanceSpec* spec = ctx.catalog.Find(last.instance_type);
    if (!spec || !OwnsMetrics(names, runs)) continue;
    Peaks pk = PeaksOf(ctx, runs, spec);
    if (pk.memory_by_host.empty()) {
      ++unmeasured;
      continue;
    }
    // Peak memory in use: the busiest run's hosts together.
    double used = 0;
    for (const auto& [host, pct] : pk.memory_by_host) used += pct / 100.0 * spec->memory_gib;
    const double need = used * (1 + ctx.cfg.dw_headroom_pct / 100.0);
    auto cur = JobRate(ctx, last);
    if (!cur) continue;
    const Decimal cur_hourly = *&cur->usd_per_hour * last.count;
    struct Option {
      const catalog::InstanceSpec* s;
      int count;
      Decimal hourly;
      std::string source;
    };
    std::vector<Option> options;
    for (const std::string& t : ctx.cfg.dw_instances) {
      const catalog::InstanceSpec* s = ctx.catalog.Find(t);
      if (!s || s->memory_gib <= 0) continue;
      int n = static_cast<int>(std::ceil(need / s->memory_gib - 1e-9));
      n = std::max(n, 1);
      if (n > ctx.cfg.dw_max_instances) continue;
      auto r = s->type == spec->type ? cur : JobTargetRate(ctx, last, s->type);
      if (!r) continue;
      options.push_back({s, n, r->usd_per_hour * n, r->source});
    }
    if (options.empty()) continue;
    std::sort(options.begin(), options.end(), [](const Option& a, const Option& b) {
      return a.hourly != b.hourly ? a.hourly < b.hourly : a.count < b.count;
    });
    const Option& best = options.front();
    if (!(best.hourly < cur_hourly)) continue;
    Decimal hours;
    for (const Job* j : runs) hours += Decimal::Div(JobHours(*j), Decimal::FromInt(j->count));
    const Decimal monthly_hours = Decimal::Mul(hours, MonthlyFactor(ctx));
    Finding f = JobFinding("data-wrangler-job-sizing", last, last.arn);
    nlohmann::json opts = nlohmann::json::array();
    for (const Option& o : options) {
      opts.push_back({{"instance_type", o.s->type},
                      {"count", o.count},
                      {"memory_gib", o.s->memory_gib * o.count},
                      {"usd_per_hour", o.hourly.ToString()}});
    }
    nlohmann::json real = nlohmann::json::object(), art = nlohmann::json::object();
    for (const auto& [t, gib] : article) {
      art[t] = gib;
      if (const catalog::InstanceSpec* s = ctx.catalog.Find(t)) real[t] = s->memory_gib;
    }
    const double mib = best.s->memory_gib * 1024;
    const long executor = std::lround(55742.0 * mib / 65536.0);
    f.evidence = {{"job_family", JobFamily(last.name)},
                  {"runs", runs.size()},
                  {"current",
                   {{"instance_type", spec->type},
                    {"count", last.count},
                    {"usd_per_hour", cur_hourly.ToString()}}},
                  {"peak_memory_used_gib", std::round(used * 10) / 10},
                  {"headroom_pct", ctx.cfg.dw_headroom_pct},
                  {"memory_needed_gib", std::round(need * 10) / 10},
                  {"options", opts},
                  {"real_memory_gib", real},
                  {"article_memory_gib", art},
                  {"article_caveat",
                   "Part 3 of the articles sizes m5 instances at 128/256/768 GiB; the real sizes "
                   "are 64/192/384 GiB, so its '3 x ml.m5.4xlarge for 350 GiB' would have only "
                   "192 GiB. Sizing here uses the real specs."}};
    f.action = {{"type", "resize"},
                {"from", spec->type},
                {"from_count", last.count},
                {"to", best.s->type},
                {"instance_count", best.count},
                {"spark_config",
                 {{"spark.driver.memory", "2048m"},
                  {"spark.executor.memory", std::to_string(executor) + "m"}}},
                {"spark_config_note",
                 "executor memory scaled from the article's ml.m5.4xlarge setting (55742 MiB of "
                 "64 GiB) to the chosen instance's memory"}};
    f.monthly_savings = Decimal::Mul(cur_hourly - best.hourly, monthly_hours);
    f.recommendation = fmt::format(
        "Run Data Wrangler job {} on {} x {} ({} GiB) instead of {} x {}: peak memory {:.0f} GiB "
        "plus {:.0f}% headroom fits, and set spark.executor.memory to {}m.",
        JobFamily(last.name), best.count, best.s->type, best.s->memory_gib * best.count, last.count,
        spec->type, used, ctx.cfg.dw_headroom_pct, executor);
    f.confidence = Confidence::kMedium;
    out->push_back(std::move(f));
  }
  if (unmeasured > 0) {
    ctx.notes->push_back(
        fmt::format("data-wrangler-job-sizing: {} Data Wrangler job famil(ies) not judged: no "
                    "MemoryUtilization for their hosts in --metrics",
                    unmeasured));
  }
}

std::string BucketOf(std::string_view uri) {
  if (uri.substr(0, 5) != "s3://") return "";
  uri.remove_prefix(5);
  return std::string(uri.substr(0, uri.find('/')));
}

void LeftoverCopies(const RuleContext& ctx, const std::vector<Job>& jobs,
                    std::vector<Finding>* out) {
  for (const Job& j : jobs) {
    if (!j.info) continue;
    const std::string& st = j.info->status;
    if (st == "InProgress" || st == "Stopping") continue;
    for (const JobInput& in : j.info->inputs) {
      if (in.dataset_kind.empty() || in.dataset_output_s3_uri.empty()) continue;
      Finding f = JobFinding("leftover-dataset-copies", j, in.dataset_output_s3_uri);
      f.instance_type.clear();
      f.usage_type.clear();
      const std::string bucket = BucketOf(in.dataset_output_s3_uri);
      f.evidence = {{"job", j.arn.empty() ? j.name : j.arn},
                    {"job_status", st},
                    {"dataset", in.dataset_kind},
                    {"input", in.name},
                    {"copy_prefix", in.dataset_output_s3_uri},
                    {"unmeasured", {"size of the copy (sagebox does not list S3)"}}};
      auto it = ctx.usage.s3_storage_by_bucket.find(bucket);
      if (it != ctx.usage.s3_storage_by_bucket.end()) {
        f.evidence["bucket_storage_cost_in_period"] = it->second.ToString();
        f.evidence["note"] = "the whole bucket's storage cost: an upper bound for this prefix";
      }
      f.action = {{"type", "cleanup"},
                  {"commands",
                   {"aws s3 ls --recursive --summarize " + in.dataset_output_s3_uri,
                    "aws s3 rm --recursive " + in.dataset_output_s3_uri}},
                  {"prevent",
                   "Delete the copy at the end of the pipeline (a Lambda step) or give the "
                   "prefix an S3 lifecycle expiration rule."}};
      f.recommendation = fmt::format(
          "Job {} copied its {} dataset to {} and SageMaker does not delete it: remove the copy "
          "and add a cleanup step or lifecycle rule.",
          j.name, in.dataset_kind == "redshift" ? "Redshift" : "Athena", in.dataset_output_s3_uri);
      f.confidence = Confidence::kMedium;
      out->push_back(std::move(f));
    }
  }
}

}  // namespace

Status JobRules(const RuleContext& ctx, std::vector<Finding>* out) {
  const std::vector<Job> jobs = CollectJobs(ctx);
  if (jobs.empty()) return Status::Ok();
  Oversized(ctx, jobs, out);
  IoOverhead(ctx, jobs, out);
  DataWranglerSizing(ctx, jobs, out);
  if (ctx.meta.jobs.empty()) {
    ctx.notes->push_back(
        "failed-jobs, leftover-dataset-copies: not judged: no job descriptions (--jobs)");
  } else {
    FailedJobs(ctx, jobs, out);
    LeftoverCopies(ctx, jobs, out);
  }
  if (ctx.logs.empty()) {
    ctx.notes->push_back("processing-io-overhead: not judged: no CloudWatch log events (--logs)");
  }
  return Status::Ok();
}

}  // namespace sagebox::findings
