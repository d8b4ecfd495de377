#include "cost/findings/sagemaker_meta.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/env.h"

#ifndef SAGEBOX_TESTDATA
#define SAGEBOX_TESTDATA "tests/data"
#endif

namespace sagebox::findings {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Aux(const std::string& rel) { return std::string(SAGEBOX_TESTDATA) + "/aux/" + rel; }

void Load(SageMakerMeta* m, const std::string& rel) {
  Status st = LoadSageMakerMeta(Env::Default(), Aux(rel), m);
  ASSERT_TRUE(st.ok()) << st.ToString();
}

// 2024-01-02T02:00:00Z
constexpr UnixSeconds kJan2At2 = 1704160800;

TEST(SageMakerMeta, FixinventoryListAndDescribeMergeIntoOneJob) {
  for (bool describe_first : {false, true}) {
    SageMakerMeta m;
    if (describe_first) Load(&m, "fixinventory/describe-processing-job__pjob.json");
    Load(&m, "fixinventory/list-processing-jobs.json");
    if (!describe_first) Load(&m, "fixinventory/describe-processing-job__pjob.json");
    ASSERT_EQ(m.jobs.size(), 1u);
    const JobInfo& j = m.jobs[0];
    EXPECT_EQ(j.kind, JobKind::kProcessing);
    EXPECT_EQ(j.name, "pjob");
    EXPECT_TRUE(j.described);
    EXPECT_EQ(j.status, "InProgress");
    EXPECT_EQ(j.instance_type, "ml.t3.medium");
    EXPECT_EQ(j.instance_count, 123);
    EXPECT_EQ(j.volume_size_gb, 123);
    EXPECT_EQ(j.created, 1420070400);  // 2015-01-01T00:00:00Z
    EXPECT_EQ(j.start, 1420070400);
    EXPECT_EQ(j.end, 1420070400);
    // The placeholder "string" is not an ARN: no account or region.
    EXPECT_EQ(j.arn, "string");
    EXPECT_EQ(j.account_id, "");
    EXPECT_EQ(j.image_uri, "string");
    EXPECT_FALSE(j.data_wrangler);
    ASSERT_EQ(j.inputs.size(), 1u);
    EXPECT_EQ(j.inputs[0].s3_input_mode, "File");
    EXPECT_EQ(j.inputs[0].dataset_kind, "athena");
    ASSERT_EQ(j.outputs.size(), 1u);
    EXPECT_EQ(j.outputs[0].s3_upload_mode, "Continuous");
    EXPECT_EQ(j.environment.at("string"), "string");
    EXPECT_EQ(m.FindJob("pjob"), &m.jobs[0]);
  }
}

TEST(SageMakerMeta, FixinventoryNotebooks) {
  SageMakerMeta m;
  Load(&m, "fixinventory/list-notebook-instances.json");
  ASSERT_EQ(m.notebooks.size(), 1u);
  EXPECT_FALSE(m.notebooks[0].described);
  EXPECT_EQ(m.notebooks[0].volume_size_gb, 0);
  Load(&m, "fixinventory/describe-notebook-instance__notebookname.json");
  ASSERT_EQ(m.notebooks.size(), 1u);
  const NotebookInfo& n = m.notebooks[0];
  EXPECT_TRUE(n.described);
  EXPECT_EQ(n.name, "notebookname");
  EXPECT_EQ(n.status, "Pending");
  EXPECT_EQ(n.instance_type, "ml.t2.medium");
  EXPECT_EQ(n.lifecycle_config, "string");
  EXPECT_EQ(n.volume_size_gb, 123);
  EXPECT_EQ(n.created, 1420070400);
  EXPECT_EQ(n.last_modified, 1420070400);
  EXPECT_EQ(m.FindNotebook("NOTEBOOKNAME"), &n);
  EXPECT_EQ(m.skipped_objects, 0u);
}

TEST(SageMakerMeta, IsoWithOffsetsAndEpochNumbersAgree) {
  SageMakerMeta m;
  Load(&m, "list-processing-jobs-epoch.json");
  Load(&m, "describe-processing-job-features.json");
  ASSERT_EQ(m.jobs.size(), 2u);
  const JobInfo* j = m.FindJob("features-daily-001");
  ASSERT_NE(j, nullptr);
  EXPECT_TRUE(j->described);
  EXPECT_EQ(j->start, kJan2At2);          // 03:00:00.123+01:00
  EXPECT_EQ(j->end, kJan2At2 + 19 * 60);  // 03:19:00.456+01:00
  EXPECT_EQ(j->created, kJan2At2 - 150);  // same in both files
  EXPECT_EQ(j->last_modified, kJan2At2 + 19 * 60 + 1);
  EXPECT_EQ(j->DurationSeconds(), 19 * 60);
  EXPECT_EQ(j->account_id, "111122223333");
  EXPECT_EQ(j->region, "us-east-1");
  EXPECT_EQ(j->instance_type, "ml.c5.4xlarge");
  EXPECT_EQ(j->instance_count, 1);
  EXPECT_EQ(j->volume_size_gb, 30);
  ASSERT_EQ(j->inputs.size(), 2u);
  EXPECT_EQ(j->inputs[0].name, "raw");
  EXPECT_EQ(j->inputs[0].s3_uri, "s3://acme-ml/raw/2024-01-02/");
  EXPECT_EQ(j->inputs[0].dataset_kind, "");
  ASSERT_EQ(j->outputs.size(), 1u);
  EXPECT_EQ(j->outputs[0].s3_upload_mode, "EndOfJob");
  EXPECT_EQ(j->environment.at("STAGE"), "prod");

  const JobInfo* f = m.FindJob("features-daily-002");
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->described);
  EXPECT_EQ(f->status, "Failed");
  EXPECT_EQ(f->failure_reason, "AlgorithmError: See job logs for more information");
  EXPECT_EQ(f->instance_type, "");  // list summaries do not say
  EXPECT_EQ(f->instance_count, 1);
  EXPECT_EQ(f->created, 1704247050);
  EXPECT_EQ(f->start, 0);
  EXPECT_EQ(f->DurationSeconds(), 0);
}

TEST(SageMakerMeta, DescribeWinsOverListWhicheverComesFirst) {
  const std::string list =
      R"({"ProcessingJobSummaries": [{"ProcessingJobName": "j", "ProcessingJobStatus": "InProgress",
          "FailureReason": "from list", "CreationTime": 100}]})";
  const std::string describe =
      R"({"ProcessingJobName": "j", "ProcessingJobStatus": "Completed",
          "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 3}}})";
  for (bool list_first : {true, false}) {
    SageMakerMeta m;
    ASSERT_TRUE(ParseSageMakerMeta(list_first ? list : describe, "a", &m).ok());
    ASSERT_TRUE(ParseSageMakerMeta(list_first ? describe : list, "b", &m).ok());
    ASSERT_EQ(m.jobs.size(), 1u);
    EXPECT_EQ(m.jobs[0].status, "Completed");
    EXPECT_EQ(m.jobs[0].instance_count, 3);
    EXPECT_EQ(m.jobs[0].instance_type, "ml.m5.xlarge");
    // Fields only the list has still fill in.
    EXPECT_EQ(m.jobs[0].failure_reason, "from list");
    EXPECT_EQ(m.jobs[0].created, 100);
  }
  // Between two list summaries the later one wins.
  SageMakerMeta m;
  ASSERT_TRUE(ParseSageMakerMeta(list, "a", &m).ok());
  ASSERT_TRUE(
      ParseSageMakerMeta(
          R"({"ProcessingJobSummaries": [{"ProcessingJobName": "j", "ProcessingJobStatus": "Stopped"}]})",
          "b", &m)
          .ok());
  EXPECT_EQ(m.jobs[0].status, "Stopped");
}

TEST(SageMakerMeta, DataWranglerJobWithAthenaInput) {
  SageMakerMeta m;
  Load(&m, "describe-processing-job-dw.json");
  ASSERT_EQ(m.jobs.size(), 1u);
  const JobInfo& j = m.jobs[0];
  EXPECT_TRUE(j.data_wrangler);
  EXPECT_EQ(j.status, "Stopped");
  EXPECT_EQ(j.instance_type, "ml.m5.4xlarge");
  EXPECT_EQ(j.instance_count, 2);
  EXPECT_EQ(j.start, 1707887520);  // 2024-02-14T05:12:00Z
  EXPECT_EQ(j.end, 1707892800);    // 2024-02-14T06:40:00Z
  ASSERT_EQ(j.inputs.size(), 2u);
  EXPECT_EQ(j.inputs[1].name, "orders");
  EXPECT_EQ(j.inputs[1].dataset_kind, "athena");
  EXPECT_EQ(j.inputs[1].dataset_output_s3_uri, "s3://acme-ml/athena-copies/orders/");
  EXPECT_EQ(j.inputs[1].s3_input_mode, "File");
  EXPECT_EQ(j.inputs[1].s3_uri, "");
  EXPECT_EQ(j.environment.at("spark.executor.memory"), "55742");
}

TEST(SageMakerMeta, RedshiftDatasetAndPipeMode) {
  SageMakerMeta m;
  ASSERT_TRUE(ParseSageMakerMeta(R"({"ProcessingJobName": "r", "ProcessingInputs": [
      {"InputName": "q", "DatasetDefinition": {"InputMode": "Pipe",
       "RedshiftDatasetDefinition": {"ClusterId": "c", "OutputS3Uri": "s3://b/rs/"}}}]})",
                                 "x", &m)
                  .ok());
  ASSERT_EQ(m.jobs.size(), 1u);
  ASSERT_EQ(m.jobs[0].inputs.size(), 1u);
  EXPECT_EQ(m.jobs[0].inputs[0].dataset_kind, "redshift");
  EXPECT_EQ(m.jobs[0].inputs[0].dataset_output_s3_uri, "s3://b/rs/");
  EXPECT_EQ(m.jobs[0].inputs[0].s3_input_mode, "Pipe");
}

TEST(SageMakerMeta, TrainingJobWithEpochTimestamps) {
  SageMakerMeta m;
  Load(&m, "describe-training-job-epoch.json");
  ASSERT_EQ(m.jobs.size(), 1u);
  const JobInfo& j = m.jobs[0];
  EXPECT_EQ(j.kind, JobKind::kTraining);
  EXPECT_EQ(j.name, "churn-xgb-2024-01-03-10-00-00-123");
  EXPECT_EQ(j.account_id, "444455556666");
  EXPECT_EQ(j.region, "eu-west-1");
  EXPECT_EQ(j.status, "Completed");
  EXPECT_EQ(j.instance_type, "ml.m5.2xlarge");
  EXPECT_EQ(j.instance_count, 2);
  EXPECT_EQ(j.volume_size_gb, 50);
  EXPECT_EQ(j.created, 1704276000);
  EXPECT_EQ(j.start, 1704276120);
  EXPECT_EQ(j.end, 1704277920);
  EXPECT_EQ(j.DurationSeconds(), 1800);
  EXPECT_EQ(j.billable_seconds, 720);
  EXPECT_EQ(j.training_seconds, 1800);
  EXPECT_TRUE(j.managed_spot);
  EXPECT_EQ(j.image_uri, "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1");
  ASSERT_EQ(j.inputs.size(), 2u);
  EXPECT_EQ(j.inputs[0].name, "train");
  EXPECT_EQ(j.inputs[0].s3_input_mode, "File");  // AlgorithmSpecification's default
  EXPECT_EQ(j.inputs[1].s3_input_mode, "FastFile");
  EXPECT_EQ(j.inputs[1].s3_uri, "s3://acme-ml/churn/validation/");
  ASSERT_EQ(j.outputs.size(), 1u);
  EXPECT_EQ(j.outputs[0].s3_uri, "s3://acme-ml/models/churn/");
  EXPECT_EQ(JobKindName(j.kind), "training");
}

TEST(SageMakerMeta, HeterogeneousTrainingCluster) {
  SageMakerMeta m;
  ASSERT_TRUE(
      ParseSageMakerMeta(R"({"TrainingJobName": "h", "ResourceConfig": {"VolumeSizeInGB": 10,
      "InstanceGroups": [{"InstanceGroupName": "gpu", "InstanceType": "ml.p3.2xlarge", "InstanceCount": 1},
                         {"InstanceGroupName": "cpu", "InstanceType": "ml.c5.xlarge", "InstanceCount": 2}]}})",
                         "x", &m)
          .ok());
  ASSERT_EQ(m.jobs.size(), 1u);
  ASSERT_EQ(m.jobs[0].instance_groups.size(), 2u);
  EXPECT_EQ(m.jobs[0].instance_groups[1].instance_type, "ml.c5.xlarge");
  EXPECT_EQ(m.jobs[0].instance_type, "ml.p3.2xlarge");
  EXPECT_EQ(m.jobs[0].instance_count, 3);
}

void ExpectChurnEndpointJoined(const SageMakerMeta& m) {
  const EndpointInfo* e = m.FindEndpoint("churn-ep");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->status, "InService");
  EXPECT_EQ(e->config_name, "churn-ep-config-2");
  EXPECT_EQ(e->account_id, "111122223333");
  EXPECT_EQ(e->region, "us-east-1");
  EXPECT_EQ(e->created, 1704463200);  // 09:00-05:00 = 14:00Z
  EXPECT_EQ(e->last_modified, 1704463950);
  ASSERT_EQ(e->variants.size(), 2u);
  EXPECT_EQ(e->variants[0].variant_name, "AllTraffic");
  EXPECT_EQ(e->variants[0].instance_type, "ml.g4dn.xlarge");
  EXPECT_EQ(e->variants[0].instance_count, 3);  // current, not the initial 2
  EXPECT_EQ(e->variants[0].initial_instance_count, 2);
  EXPECT_FALSE(e->variants[0].serverless);
  EXPECT_EQ(e->variants[1].variant_name, "Shadow");
  EXPECT_TRUE(e->variants[1].serverless);
  EXPECT_EQ(e->variants[1].instance_type, "");
  EXPECT_EQ(e->variants[1].instance_count, 0);
}

TEST(SageMakerMeta, EndpointJoinsItsConfigInEitherOrder) {
  SageMakerMeta a;
  Load(&a, "describe-endpoint.json");
  Load(&a, "describe-endpoint-config.json");
  ExpectChurnEndpointJoined(a);
  SageMakerMeta b;
  Load(&b, "describe-endpoint-config.json");
  Load(&b, "list-endpoints.json");
  Load(&b, "describe-endpoint.json");
  ExpectChurnEndpointJoined(b);
  ASSERT_EQ(b.endpoints.size(), 2u);
  ASSERT_EQ(b.endpoint_configs.size(), 1u);
  const EndpointInfo* f =
      b.FindEndpoint("arn:aws:sagemaker:us-east-1:111122223333:endpoint/forgotten-demo");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, "InService");
  EXPECT_FALSE(f->described);
  EXPECT_TRUE(f->variants.empty());
  // Joining again (another file) changes nothing.
  ASSERT_TRUE(ParseSageMakerMeta("", "empty", &b).ok());
  ExpectChurnEndpointJoined(b);
}

TEST(SageMakerMeta, EndpointWithoutVariantsTakesTheConfigs) {
  SageMakerMeta m;
  ASSERT_TRUE(ParseSageMakerMeta(
                  R"([{"EndpointName": "e", "EndpointConfigName": "c"},
                      {"EndpointConfigName": "c", "ProductionVariants": [
                        {"VariantName": "v", "InstanceType": "ml.m5.large", "InitialInstanceCount": 2}]}])",
                  "x", &m)
                  .ok());
  ASSERT_EQ(m.endpoints.size(), 1u);
  ASSERT_EQ(m.endpoints[0].variants.size(), 1u);
  EXPECT_EQ(m.endpoints[0].variants[0].instance_type, "ml.m5.large");
  EXPECT_EQ(m.endpoints[0].variants[0].instance_count, 2);
  EXPECT_FALSE(m.endpoints[0].variants[0].current_count_known);
}

TEST(SageMakerMeta, ShadowVariantsJoinTheirShadowConfig) {
  SageMakerMeta m;
  ASSERT_TRUE(ParseSageMakerMeta(
                  R"({"EndpointName": "e", "EndpointConfigName": "c",
                      "ProductionVariants": [{"VariantName": "v", "CurrentInstanceCount": 1}],
                      "ShadowProductionVariants": [{"VariantName": "v", "CurrentInstanceCount": 2}]}
                     {"EndpointConfigName": "c",
                      "ProductionVariants": [{"VariantName": "v", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
                      "ShadowProductionVariants": [{"VariantName": "v", "InstanceType": "ml.c5.large", "InitialInstanceCount": 1}]})",
                  "x", &m)
                  .ok());
  ASSERT_EQ(m.endpoints.size(), 1u);
  ASSERT_EQ(m.endpoints[0].variants.size(), 2u);
  EXPECT_FALSE(m.endpoints[0].variants[0].shadow);
  EXPECT_EQ(m.endpoints[0].variants[0].instance_type, "ml.m5.large");
  EXPECT_TRUE(m.endpoints[0].variants[1].shadow);
  EXPECT_EQ(m.endpoints[0].variants[1].instance_type, "ml.c5.large");
  EXPECT_EQ(m.endpoints[0].variants[1].instance_count, 2);
}

TEST(SageMakerMeta, JsonLinesWithBlankLinesAndTransformJobs) {
  SageMakerMeta m;
  Load(&m, "jobs.jsonl");
  ASSERT_EQ(m.jobs.size(), 3u);
  EXPECT_EQ(m.jobs[1].status, "Failed");
  EXPECT_EQ(m.jobs[1].failure_reason, "ClientError: out of memory");
  const JobInfo* t =
      m.FindJob("arn:aws:sagemaker:us-east-1:111122223333:transform-job/churn-batch-0105");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind, JobKind::kTransform);
  EXPECT_EQ(t->instance_type, "ml.m5.xlarge");
  EXPECT_EQ(t->instance_count, 4);
  EXPECT_EQ(t->DurationSeconds(), 30 * 60);
  ASSERT_EQ(t->inputs.size(), 1u);
  EXPECT_EQ(t->inputs[0].s3_uri, "s3://acme-ml/batch/in/");
  ASSERT_EQ(t->outputs.size(), 1u);
  EXPECT_EQ(t->outputs[0].s3_uri, "s3://acme-ml/batch/out/");
}

TEST(SageMakerMeta, SingleArrayAndJsonLinesShapesGiveTheSameRecords) {
  const std::string a =
      R"({"TrainingJobName": "t1", "TrainingJobStatus": "Failed", "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1}})";
  const std::string b =
      R"({"TrainingJobSummaries": [{"TrainingJobName": "t2", "TrainingJobStatus": "Stopped", "TrainingEndTime": "2024-01-02T00:00:00Z"}]})";
  for (const std::string& text :
       {"[" + a + "," + b + "]", a + "\n" + b + "\n", a + b, "[[" + a + "], " + b + "]"}) {
    SageMakerMeta m;
    Status st = ParseSageMakerMeta(text, "x", &m);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(m.jobs.size(), 2u) << text;
    EXPECT_EQ(m.jobs[0].name, "t1");
    EXPECT_EQ(m.jobs[0].instance_type, "ml.p3.2xlarge");
    EXPECT_EQ(m.jobs[1].name, "t2");
    EXPECT_EQ(m.jobs[1].end, 1704153600);
    EXPECT_EQ(m.jobs[1].kind, JobKind::kTraining);
  }
}

TEST(SageMakerMeta, FindByNameArnCaseAndKind) {
  SageMakerMeta m;
  ASSERT_TRUE(
      ParseSageMakerMeta(
          R"({"ProcessingJobName": "Feat-A", "ProcessingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:processing-job/feat-a"}
                     {"TrainingJobName": "Feat-A", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:training-job/feat-a"}
                     {"ProcessingJobName": "feat-a", "ProcessingJobArn": "arn:aws:sagemaker:eu-west-1:999999999999:processing-job/feat-a"}
                     {"ProcessingJobName": "no-arn"})",
          "x", &m)
          .ok());
  ASSERT_EQ(m.jobs.size(), 4u);  // same name, other account: another job
  EXPECT_EQ(m.FindJob("Feat-A"), &m.jobs[0]);
  EXPECT_EQ(m.FindJob("feat-a"), &m.jobs[2]);  // exact case first
  EXPECT_EQ(m.FindJob("FEAT-A"), &m.jobs[0]);
  EXPECT_EQ(m.FindJob(JobKind::kTraining, "feat-a"), &m.jobs[1]);
  EXPECT_EQ(m.FindJob("arn:aws:sagemaker:us-east-1:111122223333:training-job/feat-a"), &m.jobs[1]);
  EXPECT_EQ(m.FindJob("arn:aws:sagemaker:us-east-1:111122223333:processing-job/FEAT-A"),
            &m.jobs[0]);
  EXPECT_EQ(m.FindJob("arn:aws:sagemaker:eu-west-1:999999999999:processing-job/feat-a"),
            &m.jobs[2]);
  // An ARN not seen: by its name, within its account and region only.
  EXPECT_EQ(m.FindJob("arn:aws:sagemaker:us-east-1:000000000000:processing-job/feat-a"), nullptr);
  EXPECT_EQ(m.FindJob("arn:aws:sagemaker:us-east-1:555555555555:processing-job/no-arn"),
            &m.jobs[3]);
  EXPECT_EQ(m.FindJob("missing"), nullptr);
  EXPECT_EQ(m.FindEndpoint("feat-a"), nullptr);

  // Copies keep working indexes; edits by hand need Reindex().
  SageMakerMeta copy = m;
  EXPECT_EQ(copy.FindJob("no-arn"), &copy.jobs[3]);
  copy.jobs[3].name = "renamed";
  copy.Reindex();
  EXPECT_EQ(copy.FindJob("renamed"), &copy.jobs[3]);
  EXPECT_EQ(copy.FindJob("no-arn"), nullptr);
}

TEST(SplitArn, Parts) {
  std::string account, region, name;
  ASSERT_TRUE(SplitArn("arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/nb", &account,
                       &region, &name));
  EXPECT_EQ(account, "111122223333");
  EXPECT_EQ(region, "us-east-1");
  EXPECT_EQ(name, "nb");
  EXPECT_FALSE(SplitArn("string", &account, &region, &name));
  EXPECT_FALSE(SplitArn("arn:aws:sagemaker", &account, &region, &name));
}

TEST(SageMakerMeta, UnknownObjectsAreSkippedNotErrors) {
  SageMakerMeta m;
  Status st = ParseSageMakerMeta(
      R"({"Foo": 1}
         42
         "text"
         {"EndpointConfigs": [{"EndpointConfigName": "c"}]}
         {"ProcessingJobName": ""}
         {"ProcessingJobName": "ok"})",
      "x", &m);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(m.jobs.size(), 1u);
  EXPECT_EQ(m.skipped_objects, 5u);
}

TEST(SageMakerMeta, MalformedJsonNamesLineAndColumn) {
  SageMakerMeta m;
  Status st = ParseSageMakerMeta("{\"ProcessingJobName\": \"a\"}\n{\"ProcessingJobName\": }\n",
                                 "jobs.jsonl", &m);
  ASSERT_EQ(st.code(), StatusCode::kBadInput);
  EXPECT_THAT(st.message(), StartsWith("jobs.jsonl:2:23: "));
  EXPECT_EQ(m.jobs.size(), 1u);  // what came before the bad value is kept
}

TEST(SageMakerMeta, WrongFieldTypesAreBadInputAtTheField) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"{\"ProcessingJobName\": \"a\",\n \"ProcessingResources\": {\"ClusterConfig\": "
       "{\"InstanceCount\": \"two\"}}}",
       "x:2:44: expected 'ProcessingResources.ClusterConfig.InstanceCount' to be an integer from "
       "0 to 100000, got a string"},
      {"{\"TrainingJobName\": \"a\", \"TrainingStartTime\": \"yesterday\"}",
       "x:1:26: expected 'TrainingStartTime' to be an ISO 8601 timestamp or epoch seconds, got a "
       "string"},
      {"{\"ProcessingJobSummaries\": {}}",
       "x:1:2: expected 'ProcessingJobSummaries' to be an array, got an object"},
      {"{\"ProcessingJobSummaries\": [1]}",
       "x:1:2: expected 'ProcessingJobSummaries' to be an array of objects"},
      {"{\"EndpointName\": 7}", "x:1:2: expected 'EndpointName' to be a string, got 7"},
      {"{\"NotebookInstanceName\": \"n\", \"VolumeSizeInGB\": -5}",
       "x:1:31: expected 'VolumeSizeInGB' to be an integer from 0 to 1000000, got -5"},
      {"{\"ProcessingJobName\": \"a\", \"Environment\": {\"K\": 1}}",
       "x:1:28: expected 'Environment.K' to be a string, got 1"},
  };
  for (const auto& c : cases) {
    SageMakerMeta m;
    Status st = ParseSageMakerMeta(c.text, "x", &m);
    EXPECT_EQ(st.code(), StatusCode::kBadInput) << c.text;
    EXPECT_EQ(st.message(), c.message);
  }
}

TEST(SageMakerMeta, MissingFileIsAnError) {
  SageMakerMeta m;
  Status st = LoadSageMakerMeta(Env::Default(), Aux("no-such-file.json"), &m);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.code(), StatusCode::kBadInput);
}

}  // namespace
}  // namespace sagebox::findings
