// sagemaker_meta.h: what SageMaker itself says about jobs, endpoints and
// notebook instances, read from saved AWS CLI output, so findings can join
// it to billing lines by name or ARN (instance type and count, status,
// inputs/outputs, the Data Wrangler container, ...).
//
// Accepted input (any mix, in one file or several loaded into the same
// SageMakerMeta): `aws sagemaker describe-processing-job`,
// `describe-training-job`, `describe-transform-job`, `describe-endpoint`,
// `describe-endpoint-config`, `describe-notebook-instance` objects, and the
// `list-processing-jobs`, `list-training-jobs`, `list-transform-jobs`,
// `list-endpoints`, `list-notebook-instances` responses (or their summary
// objects alone, e.g. from `jq -c '.ProcessingJobSummaries[]'`), as one
// object, a JSON array, JSON Lines or concatenated documents. Field names
// are AWS's (SageMaker API reference, DescribeProcessingJob,
// DescribeTrainingJob, DescribeTransformJob, DescribeEndpoint,
// DescribeEndpointConfig, DescribeNotebookInstance, List* responses).
//
// Records for the same resource merge: fields of describe-* output win over
// list summaries, and otherwise later input wins. Endpoint configs are
// joined to endpoints by EndpointConfigName whenever either arrives.
//
// Thread-safety: a SageMakerMeta is a value; const methods are safe to call
// concurrently, parsing into one needs a single owner.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "core/strings.h"
#include "core/time.h"

namespace sagebox::findings {

enum class JobKind { kProcessing, kTraining, kTransform };
std::string_view JobKindName(JobKind k);  // "processing" | "training" | "transform"

struct JobInput {
  std::string name;
  std::string s3_uri;
  std::string s3_input_mode;          // File | Pipe | FastFile ("" if not said)
  std::string dataset_kind;           // "" | "athena" | "redshift" (DatasetDefinition inputs)
  std::string dataset_output_s3_uri;  // where SageMaker copies the query result; never cleaned up
};

struct JobOutput {
  std::string name;
  std::string s3_uri;
  std::string s3_upload_mode;  // EndOfJob | Continuous ("" if not said)
};

// One group of a heterogeneous training cluster (ResourceConfig.InstanceGroups).
struct InstanceGroup {
  std::string name, instance_type;
  int instance_count = 0;
};

struct JobInfo {
  JobKind kind = JobKind::kProcessing;
  std::string name, arn;
  std::string status;  // Completed | Failed | Stopped | InProgress | Stopping
  std::string failure_reason;
  std::string account_id, region;  // from the ARN ("" if there is none)
  std::string instance_type;
  int instance_count = 1;
  int volume_size_gb = 0;
  UnixSeconds created = 0, start = 0, end = 0;  // 0 = unknown
  UnixSeconds last_modified = 0;
  int64_t billable_seconds = 0;  // training BillableTimeInSeconds, 0 if absent
  int64_t training_seconds = 0;  // training TrainingTimeInSeconds, 0 if absent
  bool managed_spot = false;     // training EnableManagedSpotTraining
  // Container image (AppSpecification.ImageUri, AlgorithmSpecification.
  // TrainingImage); data_wrangler when it is the Data Wrangler container
  // ("sagemaker-data-wrangler-container").
  std::string image_uri;
  bool data_wrangler = false;
  std::vector<JobInput> inputs;
  std::vector<JobOutput> outputs;
  std::vector<InstanceGroup> instance_groups;  // training only, when used
  std::map<std::string, std::string> environment;
  bool described = false;  // a describe-* object contributed (not only list summaries)

  // End - start when both are known, else 0.
  int64_t DurationSeconds() const { return start > 0 && end >= start ? end - start : 0; }
};

struct EndpointVariant {
  std::string variant_name, instance_type;
  // CurrentInstanceCount from describe-endpoint when given, else the
  // config's InitialInstanceCount.
  int instance_count = 0;
  int initial_instance_count = 0;  // from the endpoint config
  bool current_count_known = false;
  bool serverless = false;
  bool shadow = false;  // a ShadowProductionVariants entry (billed like any other)
};

struct EndpointInfo {
  std::string name, arn, status, config_name, account_id, region;
  UnixSeconds created = 0, last_modified = 0;
  std::vector<EndpointVariant> variants;
  bool described = false;
};

// describe-endpoint-config, kept to be joined to endpoints.
struct EndpointConfigInfo {
  std::string name, arn, account_id, region;
  UnixSeconds created = 0;
  std::vector<EndpointVariant> variants;  // instance_count = InitialInstanceCount
};

struct NotebookInfo {
  std::string name, arn, status, instance_type, lifecycle_config, account_id, region;
  int volume_size_gb = 0;
  UnixSeconds created = 0, last_modified = 0;
  bool described = false;
};

struct SageMakerMeta {
  std::vector<JobInfo> jobs;
  std::vector<EndpointInfo> endpoints;
  std::vector<NotebookInfo> notebooks;
  std::vector<EndpointConfigInfo> endpoint_configs;
  size_t skipped_objects = 0;  // JSON objects that were none of the above

  // By name (exact, then case-insensitively, as ARNs lower-case names) or
  // by ARN (case-insensitively; an ARN whose resource is not known falls
  // back to its name within the same account and region). nullptr if none.
  // When a processing and a training job share a name, a bare name finds
  // the first loaded; pass the kind or the ARN to choose.
  const JobInfo* FindJob(std::string_view name_or_arn) const;
  const JobInfo* FindJob(JobKind kind, std::string_view name_or_arn) const;
  const EndpointInfo* FindEndpoint(std::string_view name_or_arn) const;
  const NotebookInfo* FindNotebook(std::string_view name_or_arn) const;

  // Rebuilds the lookup indexes and redoes the endpoint/config join; Parse
  // calls it. Call it after editing the vectors by hand.
  void Reindex();

 private:
  using Index = std::unordered_multimap<std::string, size_t>;  // lower-cased key -> position
  Index job_names_, job_arns_, endpoint_names_, endpoint_arns_, notebook_names_, notebook_arns_;
  friend class SageMakerMetaBuilder;
};

// Parses `text` (label names it in errors) and merges what it holds into
// *into. Unknown objects are skipped and counted, not errors. Malformed JSON
// or a known field of the wrong type is BadInput "label:line:col: ..."; on
// error *into keeps what was merged before the mistake was met (callers that
// stop on the error need not care).
Status ParseSageMakerMeta(std::string_view text, std::string_view label, SageMakerMeta* into);
// Reads `path` through env and parses it; IoError/NotFound from env, else as above.
Status LoadSageMakerMeta(Env* env, const std::string& path, SageMakerMeta* into);

// Account and region of an ARN ("arn:aws:sagemaker:us-east-1:123456789012:..."),
// and the resource name after the last '/'; false if `arn` is not an ARN.
bool SplitArn(std::string_view arn, std::string* account, std::string* region,
              std::string* resource_name);

}  // namespace sagebox::findings
