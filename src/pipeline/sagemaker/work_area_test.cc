// Tests for work_area.h and metrics.h: the /opt/ml layout, its files, sharding, metrics.
#include "pipeline/sagemaker/work_area.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/testing/temp_dir.h"
#include "pipeline/sagemaker/metrics.h"

namespace sagebox::pipeline::sagemaker {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}
void Put(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(WorkArea, ResolvesUris) {
  EXPECT_EQ(*ResolveUri("/d", "s3://bucket/a/b/"), "/d/s3/bucket/a/b");
  EXPECT_EQ(*ResolveUri("/d", "file:///x/y"), "/x/y");
  EXPECT_EQ(*ResolveUri("/d", "/abs"), "/abs");
  EXPECT_EQ(ResolveUri("/d", "s3://bucket/../../etc").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveUri("/d", "relative/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveUri("/d", "s3:///nobucket").status().code(), StatusCode::kInvalidArgument);
}

TEST(WorkArea, ShardsTenFilesOverThreeHostsBySortedKey) {
  testing::TempDir dir("shard");
  for (int i = 0; i < 10; ++i) Put(dir.Path("in/part-" + std::to_string(i) + ".csv"), "x");
  auto objects = ListObjects(dir.Path("in"));
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  ASSERT_EQ(objects->size(), 10u);
  std::vector<std::vector<std::string>> got;
  std::set<std::string> all;
  for (int h = 0; h < 3; ++h) {
    std::vector<std::string> keys;
    for (const auto& o : Shard(*objects, h, 3)) {
      keys.push_back(o.key);
      EXPECT_TRUE(all.insert(o.key).second) << o.key << " on two hosts";
    }
    got.push_back(keys);
  }
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(got[0],
            (std::vector<std::string>{"part-0.csv", "part-3.csv", "part-6.csv", "part-9.csv"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"part-1.csv", "part-4.csv", "part-7.csv"}));
  EXPECT_EQ(got[2], (std::vector<std::string>{"part-2.csv", "part-5.csv", "part-8.csv"}));
  EXPECT_EQ(ListObjects(dir.Path("nothing")).status().code(), StatusCode::kNotFound);
}

JobRequest ProcessingRequest(const std::string& data) {
  json q = json::parse(R"({
    "ProcessingJobName": "prep",
    "RoleArn": "arn:aws:iam::123456789012:role/R",
    "AppSpecification": {"ImageUri": "img", "ContainerEntrypoint": ["/bin/cat"],
                         "ContainerArguments": ["/opt/ml/processing/input/data/a.csv", "x"]},
    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large",
                                              "VolumeSizeInGB": 1}},
    "ProcessingInputs": [
      {"InputName": "data", "S3Input": {"S3Uri": "s3://b/in", "LocalPath":
       "/opt/ml/processing/input/data", "S3DataType": "S3Prefix",
       "S3DataDistributionType": "ShardedByS3Key"}},
      {"InputName": "code", "S3Input": {"S3Uri": "s3://b/code/run.sh", "LocalPath":
       "/opt/ml/processing/input/code", "S3DataType": "S3Prefix"}}],
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
       "S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/output", "S3UploadMode":
       "EndOfJob"}}]}
  })");
  (void)data;
  auto r = ParseCreateRequest(JobKind::kProcessing, q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

TEST(WorkArea, ProcessingLayoutAndConfigFiles) {
  testing::TempDir dir("wa");
  const std::string data = dir.path();
  Put(data + "/s3/b/in/a.csv", "a");
  Put(data + "/s3/b/in/b.csv", "b");
  Put(data + "/s3/b/in/sub/c.csv", "c");
  Put(data + "/s3/b/code/run.sh", "echo");
  const JobRequest req = ProcessingRequest(data);
  auto hosts = PrepareWorkArea(req, data, 4);
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  ASSERT_EQ(hosts->size(), 2u);
  const std::string w = data + "/pipeline/jobs/processing/prep";
  EXPECT_EQ((*hosts)[0].ml_root, w + "/algo-1/opt/ml");
  EXPECT_EQ((*hosts)[1].ml_root, w + "/algo-2/opt/ml");
  // Sharded: a.csv and sub/c.csv (keys 0 and 2) on algo-1, b.csv on algo-2; code on both.
  const std::string h1 = (*hosts)[0].ml_root, h2 = (*hosts)[1].ml_root;
  EXPECT_EQ(Slurp(h1 + "/processing/input/data/a.csv"), "a");
  EXPECT_EQ(Slurp(h1 + "/processing/input/data/sub/c.csv"), "c");
  EXPECT_FALSE(fs::exists(h1 + "/processing/input/data/b.csv"));
  EXPECT_EQ(Slurp(h2 + "/processing/input/data/b.csv"), "b");
  EXPECT_EQ(Slurp(h1 + "/processing/input/code/run.sh"), "echo");
  EXPECT_EQ(Slurp(h2 + "/processing/input/code/run.sh"), "echo");
  EXPECT_TRUE(fs::is_directory(h2 + "/processing/output"));
  EXPECT_EQ(json::parse(Slurp(h2 + "/config/resourceconfig.json")),
            json::parse(R"({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]})"));
  EXPECT_EQ(json::parse(Slurp(h1 + "/config/processingjobconfig.json")), req.raw);
  EXPECT_EQ((*hosts)[1].argv,
            (std::vector<std::string>{"/bin/cat", h2 + "/processing/input/data/a.csv", "x"}));
  bool root = false;
  for (const auto& [k, v] : (*hosts)[1].env) root |= k == "SAGEBOX_ML_ROOT" && v == h2;
  EXPECT_TRUE(root);
}

TEST(WorkArea, TrainingLayoutFilesAndToolkitVariables) {
  testing::TempDir dir("wa");
  const std::string data = dir.path();
  Put(data + "/s3/b/iris/iris.csv", "1,2\n");
  json q = json::parse(R"({
    "TrainingJobName": "fit",
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File",
      "ContainerEntrypoint": ["python3", "/opt/ml/code/train.py"]},
    "RoleArn": "arn:aws:iam::123456789012:role/R",
    "HyperParameters": {"max_depth": "3", "criterion": "gini", "flags": "[1, 2]"},
    "InputDataConfig": [{"ChannelName": "train", "ContentType": "text/csv", "DataSource":
      {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/iris"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://b/models"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 10}
  })");
  auto req = ParseCreateRequest(JobKind::kTraining, q);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  auto hosts = PrepareWorkArea(*req, data, 2);
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  const std::string ml = data + "/pipeline/jobs/training/fit/opt/ml";
  ASSERT_EQ((*hosts)[0].ml_root, ml);
  EXPECT_EQ(Slurp(ml + "/input/config/hyperparameters.json"),
            R"({"criterion":"gini","flags":"[1, 2]","max_depth":"3"})");
  EXPECT_EQ(json::parse(Slurp(ml + "/input/config/inputdataconfig.json")),
            json::parse(R"({"train": {"ContentType": "text/csv", "TrainingInputMode": "File",
              "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}})"));
  EXPECT_EQ(json::parse(Slurp(ml + "/input/config/resourceconfig.json")),
            json::parse(R"({"current_host": "algo-1", "hosts": ["algo-1"],
              "current_instance_type": "ml.m5.xlarge", "current_group_name": "homogeneousCluster",
              "instance_groups": [{"instance_group_name": "homogeneousCluster",
                "instance_type": "ml.m5.xlarge", "hosts": ["algo-1"]}],
              "network_interface_name": "eth0"})"));
  EXPECT_EQ(Slurp(ml + "/input/data/train/iris.csv"), "1,2\n");
  EXPECT_TRUE(fs::is_directory(ml + "/model"));
  EXPECT_TRUE(fs::is_directory(ml + "/output/data"));
  std::map<std::string, std::string> env((*hosts)[0].env.begin(), (*hosts)[0].env.end());
  EXPECT_EQ(env["SM_MODEL_DIR"], ml + "/model");
  EXPECT_EQ(env["SM_CHANNELS"], R"(["train"])");
  EXPECT_EQ(env["SM_CHANNEL_TRAIN"], ml + "/input/data/train");
  EXPECT_EQ(env["SM_HPS"], R"({"criterion":"gini","flags":[1,2],"max_depth":3})");
  EXPECT_EQ(env["SM_HP_MAX_DEPTH"], "3");
  EXPECT_EQ(env["SM_HP_CRITERION"], "gini");
  EXPECT_EQ(env["SM_HP_FLAGS"], "[1,2]");
  EXPECT_EQ(env["SM_OUTPUT_DATA_DIR"], ml + "/output/data");
  EXPECT_EQ(env["SM_INPUT_CONFIG_DIR"], ml + "/input/config");
  EXPECT_EQ(env["SM_CURRENT_HOST"], "algo-1");
  EXPECT_EQ(env["SM_HOSTS"], R"(["algo-1"])");
  EXPECT_EQ(env["SM_NUM_CPUS"], "2");
  EXPECT_EQ((*hosts)[0].argv, (std::vector<std::string>{"python3", ml + "/code/train.py"}));
}

TEST(WorkArea, MissingInputIsNotFoundNamingIt) {
  testing::TempDir dir("wa");
  const JobRequest req = ProcessingRequest(dir.path());
  auto hosts = PrepareWorkArea(req, dir.path(), 1);
  ASSERT_EQ(hosts.status().code(), StatusCode::kNotFound);
  EXPECT_NE(hosts.status().message().find("input data (s3://b/in)"), std::string::npos)
      << hosts.status().message();
}

TEST(Metrics, RegexesFillPointsAndFinalValues) {
  MetricScanner s({{"train:loss", "loss=([-0-9.e]+)"}, {"valid:acc", "acc: ([0-9.]+)%"}});
  s.ScanLine("epoch 1 loss=0.9 acc: 50.5%", 10);
  s.ScanLine("no metric here", 11);
  s.ScanLine("epoch 2 loss=4.5e-1", 12);
  s.ScanLine("loss=nan", 13);  // not a number: ignored
  ASSERT_EQ(s.points().size(), 3u);
  EXPECT_EQ(s.points()[0].name, "train:loss");
  EXPECT_DOUBLE_EQ(s.points()[0].value, 0.9);
  EXPECT_EQ(s.points()[0].step, 0);
  EXPECT_EQ(s.points()[1].name, "valid:acc");
  EXPECT_DOUBLE_EQ(s.points()[1].value, 50.5);
  EXPECT_DOUBLE_EQ(s.points()[2].value, 0.45);
  EXPECT_EQ(s.points()[2].step, 1);
  auto f = s.Final();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "train:loss");
  EXPECT_DOUBLE_EQ(f[0].value, 0.45);
  EXPECT_EQ(f[0].timestamp_us, 12);
  EXPECT_EQ(f[1].name, "valid:acc");
}

TEST(Metrics, LogTailReturnsOnlyCompleteNewLines) {
  testing::TempDir dir("tail");
  const std::string p = dir.Path("log");
  LogTail t(p);
  EXPECT_TRUE(t.ReadLines(false).empty());  // no file yet
  std::ofstream out(p);
  out << "one\ntw" << std::flush;
  EXPECT_EQ(t.ReadLines(false), (std::vector<std::string>{"one"}));
  out << "o\nthree" << std::flush;
  EXPECT_EQ(t.ReadLines(false), (std::vector<std::string>{"two"}));
  EXPECT_EQ(t.ReadLines(true), (std::vector<std::string>{"three"}));
}

}  // namespace
}  // namespace sagebox::pipeline::sagemaker
