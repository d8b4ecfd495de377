// Tests for sagemaker_routes.h: the AWS JSON 1.1 actions, their errors and the region.
#include "pipeline/api/sagemaker_routes.h"

#include <gtest/gtest.h>

#include "db/testing/backends.h"
#include "jobs/job_store.h"

namespace sagebox::pipeline::api {
namespace {

using nlohmann::json;

class SageMakerRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> all = jobs::Migrations();
    for (auto& m : sagemaker::Migrations()) all.push_back(m);
    db_.Open(db::Backend::kSqlite, all);
    if (HasFatalFailure()) return;
    sagemaker::JobServiceOptions o;
    o.data_dir = db_.Folder() + "/data";
    o.stop_grace = std::chrono::seconds(1);
    auto s = sagemaker::JobService::Create(db_.db(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }

  http::ApiResponse Call(const std::string& action, const std::string& body,
                         const std::string& role = "admin", const std::string& auth = "") {
    http::ApiRequest req;
    req.method = "POST";
    req.path = "/";
    req.body = body;
    req.headers = {{"X-Amz-Target", "SageMaker." + action}};
    if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
    req.principal.role = role;
    return HandleSageMakerJobs(service_.get(), req);
  }
  static std::string ErrorType(const http::ApiResponse& r) {
    for (const auto& [k, v] : r.headers) {
      if (k == "x-amzn-ErrorType" || k == "X-Amzn-ErrorType") return v;
    }
    return json::parse(r.body).value("__type", "");
  }

  db::testing::BackendDatabase db_;
  std::unique_ptr<sagemaker::JobService> service_;
};

const char* kJob = R"({"ProcessingJobName": "echo-1",
  "RoleArn": "arn:aws:iam::123456789012:role/R",
  "AppSpecification": {"ImageUri": "local", "ContainerEntrypoint": ["/bin/true"]},
  "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                            "VolumeSizeInGB": 1}}})";

TEST_F(SageMakerRoutesTest, CreateDescribeListInAwsShapes) {
  auto created = Call("CreateProcessingJob", kJob, "user",
                      "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/sagemaker/aws4_request, "
                      "SignedHeaders=host, Signature=00");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.content_type, http::kAmzJson);
  EXPECT_EQ(json::parse(created.body)["ProcessingJobArn"],
            "arn:aws:sagemaker:eu-west-1:000000000000:processing-job/echo-1");
  auto waited = service_->Wait(sagemaker::JobKind::kProcessing, "echo-1", std::chrono::seconds(30));
  ASSERT_TRUE(waited.ok());
  auto d = Call("DescribeProcessingJob", R"({"ProcessingJobName": "echo-1"})", "viewer");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(json::parse(d.body)["ProcessingJobStatus"], "Completed");
  auto cost = service_->Cost(sagemaker::JobKind::kProcessing, "echo-1");
  ASSERT_TRUE(cost.ok() && cost->has_value());
  EXPECT_EQ((*cost)->region, "eu-west-1");
  EXPECT_EQ((*cost)->usd_per_hour.ToString(), "0.257");  // the catalog's eu-west-1 price
  auto l = Call("ListProcessingJobs", R"({"StatusEquals": "Completed"})");
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(json::parse(l.body)["ProcessingJobSummaries"].size(), 1u);
}

TEST_F(SageMakerRoutesTest, ErrorsInAwsShapes) {
  auto bad = Call("CreateProcessingJob", R"({"ProcessingJobName": "x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorType(bad), "ValidationException");
  EXPECT_NE(json::parse(bad.body)["message"].get<std::string>().find("'roleArn'"),
            std::string::npos);
  EXPECT_EQ(ErrorType(Call("DescribeTrainingJob", R"({"TrainingJobName": "none"})")),
            "ResourceNotFound");
  EXPECT_EQ(ErrorType(Call("DescribeTrainingJob", "{}")), "ValidationException");
  EXPECT_EQ(ErrorType(Call("StopProcessingJob", "[1]")), "SerializationException");
  auto viewer = Call("CreateProcessingJob", kJob, "viewer");
  EXPECT_EQ(viewer.status, 403);
  EXPECT_EQ(ErrorType(viewer), "AccessDeniedException");
  ASSERT_EQ(Call("CreateProcessingJob", kJob).status, 200);
  EXPECT_EQ(ErrorType(Call("CreateProcessingJob", kJob)), "ResourceInUse");
  EXPECT_EQ(ErrorType(Call("ListTrainingJobs", R"({"MaxResults": 101})")), "ValidationException");
}

TEST(RegionOfRequest, ReadsTheCredentialScope) {
  http::ApiRequest req;
  EXPECT_EQ(RegionOfRequest(req), "");
  req.headers = {{"Authorization",
                  "AWS4-HMAC-SHA256 Credential=AK/20240101/ap-south-1/sagemaker/aws4_request, "
                  "SignedHeaders=host, Signature=ab"}};
  EXPECT_EQ(RegionOfRequest(req), "ap-south-1");
  req.headers = {{"Authorization", "Bearer token"}};
  EXPECT_EQ(RegionOfRequest(req), "");
}

}  // namespace
}  // namespace sagebox::pipeline::api
