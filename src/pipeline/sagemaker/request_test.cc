// Tests for request.h: AWS's constraints on CreateProcessingJob / CreateTrainingJob.
#include "pipeline/sagemaker/request.h"

#include <gtest/gtest.h>

namespace sagebox::pipeline::sagemaker {
namespace {

using nlohmann::json;

json Processing() {
  return json::parse(R"({
    "ProcessingJobName": "prep-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AppSpecification": {"ImageUri": "img:latest", "ContainerEntrypoint": ["/bin/sh", "-c"],
                         "ContainerArguments": ["echo hi"]},
    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 3, "InstanceType": "ml.m5.large",
                                              "VolumeSizeInGB": 30}},
    "ProcessingInputs": [{"InputName": "data", "S3Input": {
        "S3Uri": "s3://bucket/in", "LocalPath": "/opt/ml/processing/input/data",
        "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "ShardedByS3Key"}}],
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
        "S3Uri": "s3://bucket/out", "LocalPath": "/opt/ml/processing/output",
        "S3UploadMode": "Continuous"}}]},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    "Environment": {"MODE": "fast"}
  })");
}

TEST(Request, ParsesAProcessingJob) {
  auto r = ParseCreateRequest(JobKind::kProcessing, Processing());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "prep-1");
  EXPECT_EQ(r->instance_count, 3);
  EXPECT_EQ(r->instance_type, "ml.m5.large");
  EXPECT_EQ(r->entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(r->arguments, (std::vector<std::string>{"echo hi"}));
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_TRUE(r->inputs[0].sharded);
  EXPECT_EQ(r->inputs[0].local_dir, "processing/input/data");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_TRUE(r->outputs[0].continuous);
  EXPECT_EQ(r->outputs[0].local_dir, "processing/output");
  EXPECT_EQ(r->max_runtime_s, 60);
  EXPECT_EQ(r->environment, (std::vector<std::pair<std::string, std::string>>{{"MODE", "fast"}}));
}

TEST(Request, NamesEveryViolatedMemberInAwsWords) {
  json q = Processing();
  q.erase("RoleArn");
  q["ProcessingJobName"] = "bad_name";
  q["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 0;
  q["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] = "Sharded";
  q["ProcessingOutputConfig"]["Outputs"][0]["S3Output"].erase("S3UploadMode");
  auto r = ParseCreateRequest(JobKind::kProcessing, q);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("5 validation errors detected"), std::string::npos) << m;
  EXPECT_NE(m.find("Value null at 'roleArn' failed to satisfy constraint: Member must not be "
                   "null"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Value 'bad_name' at 'processingJobName' failed to satisfy constraint: Member "
                   "must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("at 'processingResources.clusterConfig.instanceCount'"), std::string::npos) << m;
  EXPECT_NE(m.find("'Sharded' at 'processingInputs.1.member.s3Input.s3DataDistributionType' failed "
                   "to satisfy constraint: Member must satisfy enum value set: [FullyReplicated, "
                   "ShardedByS3Key]"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("null at 'processingOutputConfig.outputs.1.member.s3Output.s3UploadMode'"),
            std::string::npos)
      << m;
}

TEST(Request, RefusesAJobWithoutEntrypointSayingWhy) {
  json q = Processing();
  q["AppSpecification"].erase("ContainerEntrypoint");
  auto r = ParseCreateRequest(JobKind::kProcessing, q);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("appSpecification.containerEntrypoint"), std::string::npos);
  EXPECT_NE(r.status().message().find("not containers"), std::string::npos);
}

TEST(Request, LocalPathMustBeUnderProcessing) {
  json q = Processing();
  q["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/tmp/x";
  auto r = ParseCreateRequest(JobKind::kProcessing, q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("processingInputs.1.member.s3Input.localPath"),
            std::string::npos);
}

TEST(Request, JobNamePattern) {
  EXPECT_TRUE(ValidJobName("a"));
  EXPECT_TRUE(ValidJobName("train-2024--01"));
  EXPECT_FALSE(ValidJobName(""));
  EXPECT_FALSE(ValidJobName("-lead"));
  EXPECT_FALSE(ValidJobName("trail-"));
  EXPECT_FALSE(ValidJobName("under_score"));
  EXPECT_FALSE(ValidJobName(std::string(64, 'a')));
  EXPECT_TRUE(ValidJobName(std::string(63, 'a')));
}

TEST(Request, TrainingNeedsItsRequiredMembersAndStringHyperparameters) {
  json q = json::parse(R"({
    "TrainingJobName": "t1",
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File",
      "ContainerEntrypoint": ["python3"],
      "MetricDefinitions": [{"Name": "acc", "Regex": "no group"}]},
    "RoleArn": "arn:aws:iam::123456789012:role/R",
    "HyperParameters": {"depth": 3},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 10}
  })");
  auto r = ParseCreateRequest(JobKind::kTraining, q);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("null at 'outputDataConfig'"), std::string::npos) << m;
  EXPECT_NE(m.find("'hyperParameters.depth' failed to satisfy constraint: Map values must be "
                   "strings"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("algorithmSpecification.metricDefinitions.1.member.regex"), std::string::npos)
      << m;
  q["OutputDataConfig"] = {{"S3OutputPath", "s3://b/models"}};
  q["HyperParameters"]["depth"] = "3";
  q["AlgorithmSpecification"]["MetricDefinitions"][0]["Regex"] = "acc=([0-9.]+)";
  q["InputDataConfig"] = json::parse(R"([{"ChannelName": "train", "DataSource": {"S3DataSource":
      {"S3DataType": "S3Prefix", "S3Uri": "s3://b/iris"}}}])");
  auto ok = ParseCreateRequest(JobKind::kTraining, q);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->hyperparameters.at("depth"), "3");
  ASSERT_EQ(ok->inputs.size(), 1u);
  EXPECT_EQ(ok->inputs[0].local_dir, "input/data/train");
  EXPECT_EQ(ok->output_path, "s3://b/models");
  ASSERT_EQ(ok->metrics.size(), 1u);
}

}  // namespace
}  // namespace sagebox::pipeline::sagemaker
