// Tests for job_service.h: real jobs (/bin/sh -c) through the job runner, on SQLite and
// PostgreSQL (db/testing/backends.h).
#include "pipeline/sagemaker/job_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "db/testing/backends.h"
#include "jobs/job_store.h"

namespace sagebox::pipeline::sagemaker {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

void Put(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}
std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

json ProcessingJob(const std::string& name, const std::string& script, int count = 1) {
  return {{"ProcessingJobName", name},
          {"RoleArn", "arn:aws:iam::123456789012:role/R"},
          {"AppSpecification",
           {{"ImageUri", "local"},
            {"ContainerEntrypoint", {"/bin/sh", "-c"}},
            {"ContainerArguments", {script}}}},
          {"ProcessingResources",
           {{"ClusterConfig",
             {{"InstanceCount", count}, {"InstanceType", "ml.m5.xlarge"}, {"VolumeSizeInGB", 1}}}}},
          {"StoppingCondition", {{"MaxRuntimeInSeconds", 60}}}};
}

class JobServiceTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::vector<db::Migration> all = jobs::Migrations();
    for (auto& m : Migrations()) all.push_back(m);
    db_.Open(GetParam(), all);
    if (IsSkipped() || HasFatalFailure()) return;
    data_ = db_.Folder() + "/data";
    JobServiceOptions o;
    o.data_dir = data_;
    o.stop_grace = seconds(1);
    o.poll_interval = milliseconds(50);
    auto s = JobService::Create(db_.db(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }
  void TearDown() override { service_.reset(); }

  json RunToEnd(JobKind kind, const json& request) {
    auto arn = service_->CreateJob(kind, request);
    EXPECT_TRUE(arn.ok()) << arn.status().ToString();
    const std::string name =
        request.value(kind == JobKind::kProcessing ? "ProcessingJobName" : "TrainingJobName", "");
    auto d = service_->Wait(kind, name, seconds(60));
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : json();
  }

  db::testing::BackendDatabase db_;
  std::string data_;
  std::unique_ptr<JobService> service_;
};

TEST_P(JobServiceTest, ShardedProcessingJobCompletesAndUploadsEveryHostsOutput) {
  for (int i = 0; i < 10; ++i) Put(data_ + "/s3/in/part-" + std::to_string(i) + ".csv", "x");
  json q =
      ProcessingJob("shard-job",
                    "cd \"$SAGEBOX_ML_ROOT\" && ls processing/input/data | sort > "
                    "processing/output/$(python3 -c 'import json;print(json.load(open(\"config/"
                    "resourceconfig.json\"))[\"current_host\"])').txt && echo \"$MODE\" >> "
                    "processing/output/mode.txt",
                    3);
  q["Environment"] = {{"MODE", "fast"}};
  q["ProcessingInputs"] = {{{"InputName", "data"},
                            {"S3Input",
                             {{"S3Uri", "s3://in"},
                              {"LocalPath", "/opt/ml/processing/input/data"},
                              {"S3DataType", "S3Prefix"},
                              {"S3DataDistributionType", "ShardedByS3Key"}}}}};
  q["ProcessingOutputConfig"] = {{"Outputs",
                                  {{{"OutputName", "out"},
                                    {"S3Output",
                                     {{"S3Uri", "s3://out/run1"},
                                      {"LocalPath", "/opt/ml/processing/output"},
                                      {"S3UploadMode", "EndOfJob"}}}}}}};
  json d = RunToEnd(JobKind::kProcessing, q);
  ASSERT_EQ(d["ProcessingJobStatus"], "Completed") << d.dump(2);
  EXPECT_EQ(d["ProcessingJobArn"],
            "arn:aws:sagemaker:us-east-1:000000000000:processing-job/shard-job");
  EXPECT_EQ(d["AppSpecification"], q["AppSpecification"]);
  EXPECT_TRUE(d.contains("ProcessingStartTime") && d.contains("ProcessingEndTime"));
  EXPECT_EQ(Slurp(data_ + "/s3/out/run1/algo-1.txt"),
            "part-0.csv\npart-3.csv\npart-6.csv\npart-9.csv\n");
  EXPECT_EQ(Slurp(data_ + "/s3/out/run1/algo-2.txt"), "part-1.csv\npart-4.csv\npart-7.csv\n");
  EXPECT_EQ(Slurp(data_ + "/s3/out/run1/algo-3.txt"), "part-2.csv\npart-5.csv\npart-8.csv\n");
  EXPECT_EQ(Slurp(data_ + "/s3/out/run1/mode.txt"), "fast\n");
  auto cost = service_->Cost(JobKind::kProcessing, "shard-job");
  ASSERT_TRUE(cost.ok()) << cost.status().ToString();
  ASSERT_TRUE(cost->has_value());
  EXPECT_EQ((*cost)->instance_count, 3);
  EXPECT_EQ((*cost)->usd_per_hour.ToString(), "0.23");  // the catalog's ml.m5.xlarge, us-east-1
  EXPECT_EQ((*cost)->region, "us-east-1");
  EXPECT_GE((*cost)->billable_seconds, 1);
  EXPECT_EQ((*cost)->usd, ComputeCost((*cost)->usd_per_hour, (*cost)->billable_seconds, 3));
  // The name is taken now.
  EXPECT_EQ(service_->CreateJob(JobKind::kProcessing, q).status().code(),
            StatusCode::kAlreadyExists);
}

// An executor's job: recorded and waiting, started once (by a second service, as `sagebox
// job exec` would in its own process), and a deferred job nobody started can be abandoned.
TEST_P(JobServiceTest, DeferredJobsStartOnceWhereTheExecutorRunsThemOrAreAbandoned) {
  ASSERT_TRUE(service_
                  ->CreateJob(JobKind::kProcessing, ProcessingJob("later", "echo ran > out.txt"),
                              "", JobStart::kDeferred)
                  .ok());
  auto waiting = service_->Wait(JobKind::kProcessing, "later", milliseconds(300));
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ((*waiting)["ProcessingJobStatus"], "InProgress");
  EXPECT_FALSE(waiting->contains("ProcessingStartTime"));

  JobServiceOptions o;
  o.data_dir = data_;
  o.poll_interval = milliseconds(50);
  auto executor = JobService::Create(db_.db(), o);
  ASSERT_TRUE(executor.ok());
  ASSERT_TRUE((*executor)->StartDeferred(JobKind::kProcessing, "later").ok());
  const Status again = service_->StartDeferred(JobKind::kProcessing, "later");
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("already started"), std::string::npos) << again.message();
  auto done = (*executor)->Wait(JobKind::kProcessing, "later", seconds(60));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ((*done)["ProcessingJobStatus"], "Completed") << done->dump(2);
  // The creating service sees the end through the database.
  auto seen = service_->Describe(JobKind::kProcessing, "later");
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ((*seen)["ProcessingJobStatus"], "Completed");
  auto closed = service_->Abandon(JobKind::kProcessing, "later", "too late");
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(*closed);

  ASSERT_TRUE(
      service_
          ->CreateJob(JobKind::kProcessing, ProcessingJob("never", "true"), "", JobStart::kDeferred)
          .ok());
  auto abandoned = service_->Abandon(JobKind::kProcessing, "never",
                                     "the Slurm task 7_3 ended CANCELLED before the job started");
  ASSERT_TRUE(abandoned.ok());
  EXPECT_TRUE(*abandoned);
  auto d = service_->Describe(JobKind::kProcessing, "never");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProcessingJobStatus"], "Failed");
  EXPECT_EQ((*d)["FailureReason"], "the Slurm task 7_3 ended CANCELLED before the job started");
  EXPECT_EQ(service_->StartDeferred(JobKind::kProcessing, "never").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->StartDeferred(JobKind::kProcessing, "nope").code(), StatusCode::kNotFound);
}

TEST_P(JobServiceTest, FailureFileBecomesTheFailureReason) {
  json d =
      RunToEnd(JobKind::kProcessing, ProcessingJob("fails",
                                                   "printf 'bad row 7: expected 4 columns' > "
                                                   "\"$SAGEBOX_ML_ROOT/output/failure\"; exit 3"));
  EXPECT_EQ(d["ProcessingJobStatus"], "Failed");
  EXPECT_EQ(d["FailureReason"], "bad row 7: expected 4 columns");
}

TEST_P(JobServiceTest, ExitCodeAndLastStderrLineWithoutAFailureFile) {
  json d = RunToEnd(JobKind::kProcessing,
                    ProcessingJob("exits", "echo first >&2; echo 'no such column' >&2; exit 5"));
  EXPECT_EQ(d["ProcessingJobStatus"], "Failed");
  EXPECT_EQ(d["FailureReason"], "AlgorithmError: algo-1 ended with exit code 5: no such column");
}

TEST_P(JobServiceTest, OneFailingHostFailsTheJobAndStopsTheOthers) {
  auto t0 = std::chrono::steady_clock::now();
  json d =
      RunToEnd(JobKind::kProcessing,
               ProcessingJob("one-fails",
                             "case \"$SAGEBOX_ML_ROOT\" in *algo-2*) exit 9;; esac; sleep 30", 3));
  EXPECT_EQ(d["ProcessingJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("algo-2 ended with exit code 9"),
            std::string::npos)
      << d.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(20));
}

TEST_P(JobServiceTest, MaxRuntimeFailsTheJobNamingTheLimit) {
  json q = ProcessingJob("slow", "sleep 30");
  q["StoppingCondition"]["MaxRuntimeInSeconds"] = 1;
  json d = RunToEnd(JobKind::kProcessing, q);
  EXPECT_EQ(d["ProcessingJobStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("MaxRuntimeInSeconds (1 s)"),
            std::string::npos)
      << d.dump();
}

TEST_P(JobServiceTest, StopEndsStoppingThenStopped) {
  // The job ignores SIGTERM: only the SIGKILL after the 1 s grace ends it.
  ASSERT_TRUE(
      service_
          ->CreateJob(JobKind::kProcessing, ProcessingJob("sleepy",
                                                          "trap '' TERM; echo up; sleep 30 & wait; "
                                                          "sleep 30"))
          .ok());
  // Wait for the process to be running.
  for (int i = 0; i < 200; ++i) {
    auto l = service_->List(JobKind::kProcessing, json::object());
    ASSERT_TRUE(l.ok());
    auto logs = db_.db()->Query("SELECT state FROM jobs WHERE name = 'sleepy/algo-1'");
    if (logs.ok() && !logs->empty() && logs->Text(0, 0) == "running") break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(service_->Stop(JobKind::kProcessing, "sleepy").ok());
  auto mid = service_->Describe(JobKind::kProcessing, "sleepy");
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ((*mid)["ProcessingJobStatus"], "Stopping");
  auto d = service_->Wait(JobKind::kProcessing, "sleepy", seconds(30));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProcessingJobStatus"], "Stopped");
  // A second stop is refused: the job is no longer InProgress.
  Status again = service_->Stop(JobKind::kProcessing, "sleepy");
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("is in status Stopped"), std::string::npos);
  EXPECT_EQ(service_->Stop(JobKind::kProcessing, "nobody").code(), StatusCode::kNotFound);
}

TEST_P(JobServiceTest, ContinuousUploadIsSeenBeforeTheJobEnds) {
  json q = ProcessingJob("cont",
                         "echo early > \"$SAGEBOX_ML_ROOT/processing/out/early.txt\"; "
                         "while [ ! -f \"$RELEASE\" ]; do sleep 0.05; done; "
                         "echo late > \"$SAGEBOX_ML_ROOT/processing/out/late.txt\"");
  const std::string release = data_ + "/release";
  q["Environment"] = {{"RELEASE", release}};
  q["ProcessingOutputConfig"] = {{"Outputs",
                                  {{{"OutputName", "o"},
                                    {"S3Output",
                                     {{"S3Uri", "s3://res/cont"},
                                      {"LocalPath", "/opt/ml/processing/out"},
                                      {"S3UploadMode", "Continuous"}}}}}}};
  ASSERT_TRUE(service_->CreateJob(JobKind::kProcessing, q).ok());
  const std::string early = data_ + "/s3/res/cont/early.txt";
  bool seen = false;
  for (int i = 0; i < 400 && !seen; ++i) {
    seen = fs::exists(early);
    if (!seen) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(seen) << "early.txt was not uploaded while the job ran";
  auto mid = service_->Describe(JobKind::kProcessing, "cont");
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ((*mid)["ProcessingJobStatus"], "InProgress");
  EXPECT_FALSE(fs::exists(data_ + "/s3/res/cont/late.txt"));
  Put(release, "go");
  auto d = service_->Wait(JobKind::kProcessing, "cont", seconds(30));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProcessingJobStatus"], "Completed");
  EXPECT_EQ(Slurp(data_ + "/s3/res/cont/late.txt"), "late\n");
}

TEST_P(JobServiceTest, TrainingJobMetricsHyperparametersAndModel) {
  Put(data_ + "/s3/b/train/rows.csv", "1\n2\n");
  json q = json::parse(R"J({
    "TrainingJobName": "fit-1",
    "AlgorithmSpecification": {"TrainingImage": "local", "TrainingInputMode": "File",
      "ContainerEntrypoint": ["/bin/sh", "-c"],
      "ContainerArguments": ["for e in 1 2 3; do echo \"epoch=$e loss=0.$((10 - e))\"; done; echo \"acc=0.93\" >&2; cat $SAGEBOX_ML_ROOT/input/config/hyperparameters.json > $SM_MODEL_DIR/hp.json; wc -l < $SM_CHANNEL_TRAIN/rows.csv > $SM_OUTPUT_DATA_DIR/rows.txt"],
      "MetricDefinitions": [{"Name": "train:loss", "Regex": "loss=([0-9.]+)"},
                            {"Name": "validation:accuracy", "Regex": "acc=([0-9.]+)"}]},
    "RoleArn": "arn:aws:iam::123456789012:role/R",
    "HyperParameters": {"max_depth": "3"},
    "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource":
      {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://b/models"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60}
  })J");
  json d = RunToEnd(JobKind::kTraining, q);
  ASSERT_EQ(d["TrainingJobStatus"], "Completed") << d.dump(2);
  EXPECT_EQ(d["SecondaryStatus"], "Completed");
  std::vector<std::string> statuses;
  for (const auto& t : d["SecondaryStatusTransitions"]) statuses.push_back(t["Status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"Starting", "Downloading", "Training", "Uploading",
                                                "Completed"}));
  ASSERT_EQ(d["FinalMetricDataList"].size(), 2u) << d.dump(2);
  EXPECT_EQ(d["FinalMetricDataList"][0]["MetricName"], "train:loss");
  EXPECT_DOUBLE_EQ(d["FinalMetricDataList"][0]["Value"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(d["FinalMetricDataList"][1]["Value"].get<double>(), 0.93);
  EXPECT_EQ(d["HyperParameters"], q["HyperParameters"]);
  EXPECT_EQ(d["ModelArtifacts"]["S3ModelArtifacts"], "s3://b/models/fit-1/output/model.tar.gz");
  EXPECT_GE(d["BillableTimeInSeconds"].get<int64_t>(), 1);
  EXPECT_TRUE(fs::exists(data_ + "/s3/b/models/fit-1/output/model.tar.gz"));
  EXPECT_TRUE(fs::exists(data_ + "/s3/b/models/fit-1/output/output.tar.gz"));
  const std::string ml = data_ + "/pipeline/jobs/training/fit-1/opt/ml";
  EXPECT_EQ(Slurp(ml + "/model/hp.json"), R"({"max_depth":"3"})");
  EXPECT_EQ(Slurp(ml + "/output/data/rows.txt"), "2\n");
  auto steps = service_->MetricSteps(JobKind::kTraining, "fit-1");
  ASSERT_TRUE(steps.ok());
  std::vector<double> losses;
  for (const auto& p : *steps) {
    if (p.name == "train:loss") {
      EXPECT_EQ(p.step, static_cast<int64_t>(losses.size()));
      losses.push_back(p.value);
    }
  }
  EXPECT_EQ(losses, (std::vector<double>{0.9, 0.8, 0.7}));
}

TEST_P(JobServiceTest, ListFiltersSortsAndPages) {
  json a = RunToEnd(JobKind::kProcessing, ProcessingJob("list-a", "true"));
  json b = RunToEnd(JobKind::kProcessing, ProcessingJob("list-b", "exit 1"));
  json c = RunToEnd(JobKind::kProcessing, ProcessingJob("other-c", "true"));
  auto failed = service_->List(JobKind::kProcessing, {{"StatusEquals", "Failed"}});
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  ASSERT_EQ((*failed)["ProcessingJobSummaries"].size(), 1u);
  EXPECT_EQ((*failed)["ProcessingJobSummaries"][0]["ProcessingJobName"], "list-b");
  auto named =
      service_->List(JobKind::kProcessing,
                     {{"NameContains", "LIST"}, {"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  ASSERT_TRUE(named.ok());
  ASSERT_EQ((*named)["ProcessingJobSummaries"].size(), 2u);
  EXPECT_EQ((*named)["ProcessingJobSummaries"][0]["ProcessingJobName"], "list-a");
  auto page1 = service_->List(JobKind::kProcessing, {{"MaxResults", 2}});
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ((*page1)["ProcessingJobSummaries"].size(), 2u);
  EXPECT_EQ((*page1)["ProcessingJobSummaries"][0]["ProcessingJobName"], "other-c");  // newest
  ASSERT_TRUE(page1->contains("NextToken"));
  auto page2 = service_->List(JobKind::kProcessing,
                              {{"MaxResults", 2}, {"NextToken", (*page1)["NextToken"]}});
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ((*page2)["ProcessingJobSummaries"].size(), 1u);
  EXPECT_EQ((*page2)["ProcessingJobSummaries"][0]["ProcessingJobName"], "list-a");
  EXPECT_FALSE(page2->contains("NextToken"));
  auto after = service_->List(JobKind::kProcessing,
                              {{"CreationTimeAfter", c["CreationTime"].get<double>() - 1e-3}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["ProcessingJobSummaries"].size(), 1u);
  EXPECT_EQ(service_->List(JobKind::kProcessing, {{"MaxResults", 0}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->List(JobKind::kProcessing, {{"SortBy", "Size"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->Describe(JobKind::kProcessing, "nope").status().code(),
            StatusCode::kNotFound);
}

TEST_P(JobServiceTest, UnknownInstanceTypeIsAValidationError) {
  json q = ProcessingJob("typo", "true");
  q["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.m5.huge";
  auto r = service_->CreateJob(JobKind::kProcessing, q);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("processingResources.clusterConfig.instanceType"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, JobServiceTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         db::testing::BackendName);

TEST(Cost, PriceTimesSecondsTimesCountExactly) {
  Decimal price;
  ASSERT_TRUE(Decimal::Parse("0.115", &price));
  EXPECT_EQ(ComputeCost(price, 3600, 1).ToString(), "0.115");
  EXPECT_EQ(ComputeCost(price, 90, 3).ToString(), "0.008625");     // 0.115 * 270 / 3600
  EXPECT_EQ(ComputeCost(price, 1, 1).ToString(), "0.0000319444");  // rounded to 10^-10
  EXPECT_EQ(ComputeCost(price, 0, 4).ToString(), "0");
}

}  // namespace
}  // namespace sagebox::pipeline::sagemaker
