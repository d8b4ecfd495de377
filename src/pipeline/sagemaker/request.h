// request.h: SageMaker's CreateProcessingJob and CreateTrainingJob requests, parsed and
// validated with AWS's own constraints, into what a local run needs (JobRequest).
//
// The request shapes are AWS's exactly (SageMaker API Reference, "CreateProcessingJob" and
// "CreateTrainingJob", docs.aws.amazon.com/sagemaker/latest/APIReference/): the JSON a boto3
// `sagemaker` client sends. Validation follows the reference's constraints: required members,
// lengths, the job name pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, the enums
// (S3DataType, S3InputMode, S3DataDistributionType, S3UploadMode, TrainingInputMode, ...)
// and ranges (InstanceCount 1-100, MaxRuntimeInSeconds >= 1). Every violation is reported,
// in AWS's words: "2 validation errors detected: Value null at 'roleArn' failed to satisfy
// constraint: Member must not be null; ...", member paths in AWS's lowerCamel form.
//
// Local runs need what a container would not: an entrypoint. Without
// AppSpecification.ContainerEntrypoint (processing) or AlgorithmSpecification.
// ContainerEntrypoint (training) the request is refused, saying so: images are recorded,
// never pulled. Only S3DataType S3Prefix and input mode File are run here; ManifestFile,
// Pipe and FastFile are refused with a message naming the member.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::sagemaker {

enum class JobKind { kProcessing, kTraining };

// "processing" / "training".
std::string_view KindName(JobKind k);
// The inverse of KindName; nullopt for anything else.
std::optional<JobKind> ParseKind(std::string_view name);

// One input: objects under `s3_uri` copied into `local_dir` before the job starts.
struct InputSpec {
  std::string name;       // InputName (processing) or ChannelName (training)
  std::string s3_uri;     // s3://bucket/prefix, file:///abs or /abs
  std::string local_dir;  // relative to the host's opt/ml: "processing/input/data"
  bool sharded = false;   // S3DataDistributionType ShardedByS3Key
  std::string distribution = "FullyReplicated";
  std::string content_type;  // training channels: ContentType, "" if none
};

// One output: the files of `local_dir` go to `s3_uri` at the end (and while running when
// `continuous`).
struct OutputSpec {
  std::string name;
  std::string s3_uri;
  std::string local_dir;  // relative to the host's opt/ml
  bool continuous = false;
};

struct MetricDefinition {
  std::string name;
  std::string regex;
};

// What a local run needs of a validated request.
struct JobRequest {
  JobKind kind = JobKind::kProcessing;
  std::string name;
  nlohmann::json raw;  // the request as received (echoed by Describe*)
  std::string image;   // ImageUri / TrainingImage: recorded only
  std::vector<std::string> entrypoint;
  std::vector<std::string> arguments;
  std::string instance_type;
  int instance_count = 1;
  std::optional<int64_t> max_runtime_s;
  std::vector<std::pair<std::string, std::string>> environment;  // sorted by name
  std::vector<InputSpec> inputs;
  std::vector<OutputSpec> outputs;                     // processing only
  std::string output_path;                             // training: OutputDataConfig.S3OutputPath
  std::map<std::string, std::string> hyperparameters;  // training
  std::vector<MetricDefinition> metrics;               // training
  std::string training_input_mode = "File";            // training
};

// Whether `name` is a valid SageMaker job name (1-63 characters, the pattern above).
bool ValidJobName(std::string_view name);

// Parses and validates a CreateProcessingJob (kind processing) or CreateTrainingJob
// request. InvalidArgument with AWS's ValidationException message on any violation.
StatusOr<JobRequest> ParseCreateRequest(JobKind kind, const nlohmann::json& request);

}  // namespace sagebox::pipeline::sagemaker
