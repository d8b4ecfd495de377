#include "cost/findings/demo_inputs.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "cost/findings/rules.h"

namespace sagebox::findings {

namespace {

std::string Iso(UnixSeconds t) {
  // The AWS CLI's default timestamp format.
  std::string s = FormatTimestamp(t);  // 2024-01-02T03:04:05Z
  return s.substr(0, s.size() - 1) + ".000000+00:00";
}

struct Run {
  std::string name, arn, kind, instance_type, account, region;
  UnixSeconds start = 0;
  double hours = 0;
};

struct Profile {
  double cpu_per_vcpu = 50, memory = 50, gpu = 0;  // percent peaks
  bool fail_every_third = false, io_overhead = false, athena = false;
};

Profile ProfileFor(const std::string& family) {
  Profile p;
  if (family.rfind("features-daily", 0) == 0) {
    p.cpu_per_vcpu = 22;
    p.memory = 28;
    p.io_overhead = true;
    p.athena = true;
  } else if (family.rfind("churn-xgb", 0) == 0) {
    p.cpu_per_vcpu = 88;
    p.memory = 64;
    p.fail_every_third = true;
  } else if (family.rfind("resnet-finetune", 0) == 0) {
    p.cpu_per_vcpu = 35;
    p.memory = 45;
    p.gpu = 92;
  } else if (family.rfind("dw-flow", 0) == 0) {
    p.cpu_per_vcpu = 70;
    p.memory = 85;
  }
  return p;
}

nlohmann::json Series(const std::string& ns, const std::string& metric, nlohmann::json dims,
                      UnixSeconds from, UnixSeconds to, int period, double peak, const char* unit,
                      uint64_t seed) {
  nlohmann::json ts = nlohmann::json::array(), vs = nlohmann::json::array();
  int i = 0;
  for (UnixSeconds t = from; t < to; t += period, ++i) {
    ts.push_back(FormatTimestamp(t));
    // A plateau below the peak with the peak reached once, as a job warms up.
    const double v = i == 1 ? peak : peak * (0.55 + 0.05 * static_cast<double>((seed + i) % 7));
    vs.push_back(std::round(v * 100) / 100);
  }
  return {{"namespace", ns},        {"metric", metric}, {"dimensions", std::move(dims)},
          {"statistic", "Maximum"}, {"period", period}, {"unit", unit},
          {"timestamps", ts},       {"values", vs}};
}

}  // namespace

StatusOr<DemoInputFiles> WriteDemoInputs(Env* env, const UsageFacts& usage,
                                         const std::string& dir) {
  std::map<std::string, Run> runs;
  std::vector<const ResourceUsage*> endpoints;
  for (const ResourceUsage& r : usage.resources) {
    if (!r.is_instance()) continue;
    if (r.resource_id.find(":endpoint/") != std::string::npos) {
      endpoints.push_back(&r);
      continue;
    }
    std::string kind;
    if (r.resource_id.find(":processing-job/") != std::string::npos) kind = "processing";
    if (r.resource_id.find(":training-job/") != std::string::npos) kind = "training";
    if (kind.empty()) continue;
    Run& run = runs[r.resource_id];
    run.name = NameFromArn(r.resource_id);
    run.arn = r.resource_id;
    run.kind = kind;
    run.instance_type = r.parsed.instance_type;
    run.account = r.account_id;
    run.region = r.region;
    run.start = run.start == 0 ? r.first_start : std::min(run.start, r.first_start);
    run.hours += r.TotalHours().ToDouble();
  }
  std::string jobs, metrics;
  nlohmann::json events = nlohmann::json::array();
  std::map<std::string, int> family_index;
  uint64_t seed = 0;
  // Descriptions, metrics and logs are exported per account and region: the
  // demo's are those of the first account and region with jobs, as one team
  // would export them.
  // CloudWatch is regional too: one account, one region.
  const std::string account = runs.empty() ? "" : runs.begin()->second.account;
  const std::string region = runs.empty() ? "" : runs.begin()->second.region;
  for (const auto& [arn, run] : runs) {
    if (run.account != account || run.region != region) continue;
    const std::string family = JobFamily(run.name);
    const Profile p = ProfileFor(family);
    const int idx = family_index[run.account + family]++;
    const UnixSeconds end = run.start + static_cast<UnixSeconds>(run.hours * 3600);
    const bool failed = p.fail_every_third && idx % 3 == 2;
    nlohmann::json j;
    if (run.kind == "processing") {
      j = {
          {"ProcessingJobName", run.name},
          {"ProcessingJobArn", run.arn},
          {"ProcessingJobStatus", failed ? "Failed" : "Completed"},
          {"ProcessingResources",
           {{"ClusterConfig",
             {{"InstanceCount", 1}, {"InstanceType", run.instance_type}, {"VolumeSizeInGB", 30}}}}},
          {"ProcessingStartTime", Iso(run.start)},
          {"ProcessingEndTime", Iso(end)},
          {"CreationTime", Iso(run.start - 120)},
          {"AppSpecification",
           {{"ImageUri", family.rfind("dw-flow", 0) == 0
                             ? "663277389841.dkr.ecr.us-east-1.amazonaws.com/"
                               "sagemaker-data-wrangler-container:3.x"
                             : "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                               "sagemaker-scikit-learn:1.2-1-cpu-py3"}}},
          {"ProcessingInputs",
           {{{"InputName", "input-1"},
             {"S3Input",
              {{"S3Uri", "s3://demo-ml-data/raw/" + family + "/"},
               {"LocalPath", "/opt/ml/processing/input"},
               {"S3DataType", "S3Prefix"},
               {"S3InputMode", "File"}}}}}},
          {"ProcessingOutputConfig",
           {{"Outputs",
             {{{"OutputName", "features"},
               {"S3Output",
                {{"S3Uri", "s3://demo-ml-data/features/" + run.name + "/"},
                 {"LocalPath", "/opt/ml/processing/output"},
                 {"S3UploadMode", "EndOfJob"}}}}}}}}};
      if (p.athena && idx == 0) {
        j["ProcessingInputs"].push_back(
            {{"InputName", "athena-features"},
             {"DatasetDefinition",
              {{"AthenaDatasetDefinition",
                {{"Catalog", "AwsDataCatalog"},
                 {"Database", "ml"},
                 {"QueryString", "SELECT * FROM events"},
                 {"WorkGroup", "primary"},
                 {"OutputS3Uri", "s3://demo-ml-data/athena-copies/" + run.name + "/"},
                 {"OutputFormat", "PARQUET"}}},
               {"LocalPath", "/opt/ml/processing/athena"},
               {"DataDistributionType", "FullyReplicated"},
               {"InputMode", "File"}}}});
      }
    } else {
      j = {{"TrainingJobName", run.name},
           {"TrainingJobArn", run.arn},
           {"TrainingJobStatus", failed ? "Failed" : "Completed"},
           {"ResourceConfig",
            {{"InstanceType", run.instance_type}, {"InstanceCount", 1}, {"VolumeSizeInGB", 30}}},
           {"TrainingStartTime", Iso(run.start)},
           {"TrainingEndTime", Iso(end)},
           {"CreationTime", Iso(run.start - 120)},
           {"BillableTimeInSeconds", static_cast<int64_t>(run.hours * 3600)}};
      if (failed) j["FailureReason"] = "AlgorithmError: ValueError: feature 'tenure' has NaN";
    }
    jobs += j.dump() + "\n";
    const std::string ns =
        run.kind == "processing" ? "/aws/sagemaker/ProcessingJobs" : "/aws/sagemaker/TrainingJobs";
    const nlohmann::json host = {{"Host", run.name + "/algo-1"}};
    const UnixSeconds mend = std::max(end, run.start + 600);
    // CPUUtilization sums the cores: 100% per vCPU. Instance sizes of the
    // demo: xlarge = 4 vCPU, 2xlarge (p3) = 8, 4xlarge = 16.
    int vcpu = 4;
    if (run.instance_type.find("4xlarge") != std::string::npos) vcpu = 16;
    if (run.instance_type.find("2xlarge") != std::string::npos) vcpu = 8;
    metrics += Series(ns, "CPUUtilization", host, run.start, mend, 300, p.cpu_per_vcpu * vcpu,
                      "Percent", ++seed)
                   .dump() +
               "\n";
    metrics +=
        Series(ns, "MemoryUtilization", host, run.start, mend, 300, p.memory, "Percent", ++seed)
            .dump() +
        "\n";
    if (p.gpu > 0) {
      metrics += Series(ns, "GPUUtilization", host, run.start, mend, 300, p.gpu, "Percent", ++seed)
                     .dump() +
                 "\n";
      metrics += Series(ns, "GPUMemoryUtilization", host, run.start, mend, 300, p.gpu * 0.8,
                        "Percent", ++seed)
                     .dump() +
                 "\n";
    }
    if (run.kind == "processing" && !failed) {
      const double job_s = static_cast<double>(end - run.start);
      const double lead = p.io_overhead ? 0.25 : 0.03, tail = p.io_overhead ? 0.10 : 0.02;
      const std::string stream = fmt::format("{}/algo-1-{}", run.name, run.start);
      const int64_t s_ms = (run.start + static_cast<UnixSeconds>(job_s * lead)) * 1000;
      const int64_t e_ms = (end - static_cast<UnixSeconds>(job_s * tail)) * 1000;
      events.push_back({{"logStreamName", stream},
                        {"timestamp", s_ms},
                        {"message", "Start custom script"},
                        {"ingestionTime", s_ms + 500},
                        {"eventId", fmt::format("{}", s_ms)}});
      events.push_back({{"logStreamName", stream},
                        {"timestamp", e_ms},
                        {"message", "End custom script"},
                        {"ingestionTime", e_ms + 500},
                        {"eventId", fmt::format("{}", e_ms)}});
    }
  }
  for (const ResourceUsage* ep : endpoints) {
    if (ep->account_id != account || ep->region != region) continue;
    const std::string name = NameFromArn(ep->resource_id);
    const bool idle = name.rfind("idle-endpoint", 0) == 0;
    const nlohmann::json dims = {{"EndpointName", name}, {"VariantName", "AllTraffic"}};
    const UnixSeconds from = ep->first_start, to = ep->last_end;
    // Hourly datapoints keep the file small; an idle endpoint has none.
    metrics += Series("/aws/sagemaker/Endpoints", "CPUUtilization", dims, from, to, 3600,
                      idle ? 2 : 60, "Percent", ++seed)
                   .dump() +
               "\n";
    nlohmann::json inv =
        Series("AWS/SageMaker", "Invocations", dims, from, to, 3600, 900, "None", ++seed);
    inv["statistic"] = "Sum";
    if (idle) {
      inv["timestamps"] = nlohmann::json::array();
      inv["values"] = nlohmann::json::array();
    }
    metrics += inv.dump() + "\n";
  }
  DemoInputFiles out{JoinPath(dir, "sagemaker-jobs.jsonl"),
                     JoinPath(dir, "cloudwatch-metrics.jsonl"),
                     JoinPath(dir, "processing-logs.json")};
  RETURN_IF_ERROR(env->WriteFileAtomic(out.jobs, jobs));
  RETURN_IF_ERROR(env->WriteFileAtomic(out.metrics, metrics));
  RETURN_IF_ERROR(env->WriteFileAtomic(out.logs, nlohmann::json{{"events", events}}.dump() + "\n"));
  return out;
}

}  // namespace sagebox::findings
