#include "endpoint/api/endpoint_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "db/database.h"
#include "http/testing/test_server.h"

namespace sagebox::endpoint::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Echoes input "x" (FP32) as output "y" doubled; "boom" in the request id fails inside the model.
class EchoInstance : public ModelInstance {
 public:
  std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) override {
    std::vector<StatusOr<InferResponse>> out;
    for (const InferRequest* r : batch) {
      if (r->id == "boom") {
        out.emplace_back(Internal("the model threw: boom"));
        continue;
      }
      const Tensor* x = FindInput(*r, "x");
      Tensor y = *x;
      y.name = "y";
      auto* f = reinterpret_cast<float*>(y.data.data());
      for (size_t i = 0; i < y.data.size() / 4; ++i) f[i] *= 2;
      InferResponse resp;
      resp.id = r->id;
      resp.outputs.push_back(std::move(y));
      out.emplace_back(std::move(resp));
    }
    return out;
  }
  uint64_t MeasuredBytes() const override { return 1000; }
};

class EchoBackend : public Backend {
 public:
  std::string_view name() const override { return "echo"; }
  // "huge" can never fit the tests' 1 MiB budget.
  StatusOr<uint64_t> PredictBytes(const ModelSource& s) override {
    return s.name == "huge" ? uint64_t{2} << 20 : 1000;
  }
  StatusOr<std::unique_ptr<ModelInstance>> LoadInstance(const ModelSource&, int) override {
    return std::unique_ptr<ModelInstance>(std::make_unique<EchoInstance>());
  }
};

constexpr const char* kEchoConfig = R"(name: "double"
backend: "echo"
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 dims: [ 2 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ]
)";

class EndpointRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("sbx-routes-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "store" / "double" / "1");
    Env* env = Env::Default();
    ASSERT_TRUE(
        env->WriteFileAtomic((root_ / "store" / "double" / "config.pbtxt").string(), kEchoConfig)
            .ok());
    auto cat = catalog::Catalog::Builtin();
    ASSERT_TRUE(cat.ok());
    catalog_ = std::make_unique<catalog::Catalog>(std::move(*cat));
    RegistryOptions ro;
    ro.cache_root = (root_ / "cache").string();
    ro.memory_budget_bytes = 1 << 20;
    registry_ = std::make_unique<EndpointRegistry>(env, ro, std::vector<Backend*>{&backend_},
                                                   catalog_.get());
    ASSERT_TRUE(registry_->Create("ep", (root_ / "store").string(), "ml.g5.2xlarge").ok());
    server_ = std::make_unique<sagebox::testing::TestServer>(nullptr, [this](http::Router& r) {
      RegisterEndpointRoutes(r, &metrics_, registry_.get());
    });
  }
  void TearDown() override {
    server_.reset();
    registry_.reset();
    std::filesystem::remove_all(root_);
  }

  static std::string InferBody(const std::string& id = "r1") {
    return json{
        {"id", id},
        {"inputs",
         json::array(
             {{{"name", "x"}, {"shape", {1, 2}}, {"datatype", "FP32"}, {"data", {1.5, -2}}}})}}
        .dump();
  }
  httplib::Result Invoke(const std::string& endpoint, const std::string& target,
                         const std::string& body) {
    httplib::Headers h;
    if (!target.empty()) h.emplace("X-Amzn-SageMaker-Target-Model", target);
    return server_->Client().Post("/endpoints/" + endpoint + "/invocations", h, body,
                                  "application/octet-stream");
  }
  httplib::Result Aws(const std::string& op, const json& body) {
    httplib::Headers h = {{"X-Amz-Target", "SageMaker." + op}};
    return server_->Client().Post("/", h, body.dump(), "application/x-amz-json-1.1");
  }

  std::filesystem::path root_;
  EchoBackend backend_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<EndpointRegistry> registry_;
  http::Metrics metrics_{0};
  std::unique_ptr<sagebox::testing::TestServer> server_;
};

TEST_F(EndpointRoutesTest, InvokeEndpointRunsTheTargetModel) {
  auto r = Invoke("ep", "double", InferBody());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["model_name"], "double");
  EXPECT_EQ(j["id"], "r1");
  EXPECT_EQ(j["outputs"][0]["name"], "y");
  EXPECT_EQ(j["outputs"][0]["data"], json({3.0, -4.0}));
}

TEST_F(EndpointRoutesTest, InvokeEndpointErrorsAreSageMakers) {
  auto no_header = Invoke("ep", "", InferBody());
  ASSERT_TRUE(no_header);
  EXPECT_EQ(no_header->status, 400);
  EXPECT_EQ(no_header->get_header_value("x-amzn-ErrorType"), "ValidationError");
  EXPECT_THAT(no_header->body, HasSubstr("TargetModel"));

  auto no_endpoint = Invoke("nope", "double", InferBody());
  EXPECT_EQ(no_endpoint->status, 400);
  EXPECT_THAT(no_endpoint->body, HasSubstr("Endpoint nope of account"));

  auto no_model = Invoke("ep", "missing.tar.gz", InferBody());
  EXPECT_EQ(no_model->status, 400);
  EXPECT_EQ(no_model->get_header_value("x-amzn-ErrorType"), "ValidationError");

  auto traversal = Invoke("ep", "../etc/passwd", InferBody());
  EXPECT_EQ(traversal->status, 424);  // refused by the store, reported as the model's 400
  EXPECT_EQ(json::parse(traversal->body)["OriginalStatusCode"], 400);

  auto bad_json = Invoke("ep", "double", "{not json");
  EXPECT_EQ(bad_json->status, 424);
  EXPECT_EQ(json::parse(bad_json->body)["OriginalStatusCode"], 400);

  json wrong_type = json::parse(InferBody());
  wrong_type["inputs"][0]["datatype"] = "INT32";
  wrong_type["inputs"][0]["data"] = {1, 2};
  auto bad_type = Invoke("ep", "double", wrong_type.dump());
  EXPECT_EQ(bad_type->status, 424);
  json b = json::parse(bad_type->body);
  EXPECT_EQ(b["OriginalStatusCode"], 400);
  EXPECT_THAT(b["OriginalMessage"].get<std::string>(), HasSubstr("x"));

  json wrong_shape = json::parse(InferBody());
  wrong_shape["inputs"][0]["shape"] = {1, 3};
  wrong_shape["inputs"][0]["data"] = {1, 2, 3};
  EXPECT_EQ(Invoke("ep", "double", wrong_shape.dump())->status, 424);

  auto model_error = Invoke("ep", "double", InferBody("boom"));
  EXPECT_EQ(model_error->status, 424);
  json m = json::parse(model_error->body);
  EXPECT_EQ(m["OriginalStatusCode"], 500);
  EXPECT_EQ(model_error->get_header_value("x-amzn-ErrorType"), "ModelError");
}

TEST_F(EndpointRoutesTest, ControlPlaneCreatesDescribesListsAndDeletes) {
  auto s3 = Aws(
      "CreateModel",
      {{"ModelName", "m"},
       {"PrimaryContainer", {{"ModelDataUrl", "s3://bucket/models/"}, {"Mode", "MultiModel"}}}});
  EXPECT_EQ(s3->status, 400);
  EXPECT_THAT(s3->body, HasSubstr("local disk"));
  const std::string url = "file://" + (root_ / "store").string();
  auto single =
      Aws("CreateModel", {{"ModelName", "m"}, {"PrimaryContainer", {{"ModelDataUrl", url}}}});
  EXPECT_EQ(single->status, 400);
  EXPECT_THAT(single->body, HasSubstr("MultiModel"));

  ASSERT_EQ(
      Aws("CreateModel", {{"ModelName", "m"},
                          {"PrimaryContainer", {{"ModelDataUrl", url}, {"Mode", "MultiModel"}}}})
          ->status,
      200);
  EXPECT_EQ(
      Aws("CreateEndpointConfig",
          {{"EndpointConfigName", "c"},
           {"ProductionVariants",
            {{{"ModelName", "nope"}, {"InstanceType", "ml.g5.2xlarge"}, {"VariantName", "v"}}}}})
          ->status,
      400);
  ASSERT_EQ(Aws("CreateEndpointConfig",
                {{"EndpointConfigName", "c"},
                 {"ProductionVariants",
                  {{{"ModelName", "m"}, {"InstanceType", "ml.g5.2xlarge"}, {"VariantName", "v"}}}}})
                ->status,
            200);
  auto created = Aws("CreateEndpoint", {{"EndpointName", "second"}, {"EndpointConfigName", "c"}});
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(json::parse(created->body)["EndpointArn"],
            "arn:aws:sagemaker:us-east-1:000000000000:endpoint/second");
  EXPECT_EQ(
      Aws("CreateEndpoint", {{"EndpointName", "second"}, {"EndpointConfigName", "c"}})->status,
      400);
  auto described = Aws("DescribeEndpoint", {{"EndpointName", "second"}});
  EXPECT_EQ(json::parse(described->body)["EndpointStatus"], "InService");
  EXPECT_EQ(Invoke("second", "double", InferBody())->status, 200);
  auto listed = json::parse(Aws("ListEndpoints", json::object())->body);
  ASSERT_EQ(listed["Endpoints"].size(), 2u);
  ASSERT_EQ(Aws("DeleteEndpoint", {{"EndpointName", "second"}})->status, 200);
  EXPECT_EQ(Aws("DescribeEndpoint", {{"EndpointName", "second"}})->status, 400);
  EXPECT_EQ(Invoke("second", "double", InferBody())->status, 400);
  auto unknown = Aws("CreateTrainingJob", json::object());
  EXPECT_EQ(unknown->status, 400);
  EXPECT_EQ(unknown->get_header_value("x-amzn-ErrorType"), "UnknownOperationException");
}

TEST_F(EndpointRoutesTest, KServeV2) {
  auto c = server_->Client();
  EXPECT_EQ(c.Get("/v2/health/live")->status, 200);
  EXPECT_EQ(c.Get("/v2/health/ready")->status, 200);
  EXPECT_THAT(c.Get("/v2")->body, HasSubstr("binary_tensor_data"));
  auto meta = json::parse(c.Get("/v2/models/double")->body);
  EXPECT_EQ(meta["name"], "double");
  EXPECT_EQ(meta["inputs"][0]["shape"], json({-1, 2}));
  auto config = json::parse(c.Get("/v2/models/double/config")->body);
  EXPECT_EQ(config["max_batch_size"], 4);
  EXPECT_EQ(c.Get("/v2/models/double/versions/7")->status, 404);
  EXPECT_EQ(c.Get("/v2/models/double/ready")->status, 400);  // not loaded yet
  auto infer = c.Post("/v2/models/double/infer", InferBody(), "application/json");
  ASSERT_EQ(infer->status, 200) << infer->body;
  EXPECT_EQ(json::parse(infer->body)["outputs"][0]["data"], json({3.0, -4.0}));
  EXPECT_EQ(c.Get("/v2/models/double/ready")->status, 200);
  auto index = json::parse(c.Post("/v2/repository/index", "", "application/json")->body);
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0]["state"], "READY");
  EXPECT_EQ(c.Post("/v2/repository/models/double/unload", "", "application/json")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/double/ready")->status, 400);
  auto missing = c.Post("/v2/models/nope/infer", InferBody(), "application/json");
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body)["error"].is_string());
  EXPECT_EQ(c.Post("/v2/models/double/infer", "{", "application/json")->status, 400);
}

TEST_F(EndpointRoutesTest, MmeContainerContract) {
  auto c = server_->Client();
  EXPECT_EQ(c.Get("/ping")->status, 200);
  EXPECT_EQ(c.Post("/models/double/invoke", InferBody(), "application/json")->status, 404);
  ASSERT_EQ(
      c.Post("/models", R"({"model_name":"double","url":"double"})", "application/json")->status,
      200);
  EXPECT_EQ(
      c.Post("/models", R"({"model_name":"double","url":"double"})", "application/json")->status,
      409);
  EXPECT_THAT(c.Get("/models")->body, HasSubstr("\"modelName\":\"double\""));
  EXPECT_EQ(c.Post("/models/double/invoke", InferBody(), "application/json")->status, 200);
  EXPECT_EQ(c.Delete("/models/double")->status, 200);
  EXPECT_EQ(c.Delete("/models/double")->status, 404);
  EXPECT_EQ(c.Post("/models", R"({"url":"double"})", "application/json")->status, 400);
}

TEST_F(EndpointRoutesTest, AModelLargerThanTheBudgetIs507) {
  Env* env = Env::Default();
  ASSERT_TRUE(env->CreateDirs((root_ / "store" / "huge" / "1").string()).ok());
  std::string cfg = kEchoConfig;
  cfg.replace(cfg.find("double"), 6, "huge");
  ASSERT_TRUE(env->WriteFileAtomic((root_ / "store" / "huge" / "config.pbtxt").string(), cfg).ok());
  // Before its first load a model is predicted at its stored size: 2 MiB of weights.
  ASSERT_TRUE(env->WriteFileAtomic((root_ / "store" / "huge" / "1" / "weights.bin").string(),
                                   std::string(size_t{2} << 20, 'w'))
                  .ok());
  auto c = server_->Client();
  // The MME contract's "cannot fit", and KServe's load, say 507.
  auto r = c.Post("/models", R"({"model_name":"huge","url":"huge"})", "application/json");
  EXPECT_EQ(r->status, 507) << r->body;
  EXPECT_THAT(r->body, HasSubstr("more than the whole memory budget"));
  EXPECT_EQ(c.Post("/v2/repository/models/huge/load", "{}", "application/json")->status, 507);
  // SageMaker Runtime: a ModelError carrying the container's 507, not a 429 to retry.
  r = Invoke("ep", "huge", InferBody());
  EXPECT_EQ(r->status, 424) << r->body;
  const json j = json::parse(r->body);
  EXPECT_EQ(j["OriginalStatusCode"], 507);
  EXPECT_EQ(r->get_header_value("x-amzn-ErrorType"), "ModelError");
}

TEST_F(EndpointRoutesTest, ModelsJsonAndMetrics) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Invoke("ep", "double", InferBody())->status, 200);
  auto r = server_->Client().Get("/api/endpoint/models?endpoint=ep");
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["instance_type"], "ml.g5.2xlarge");
  EXPECT_TRUE(j["usd_per_hour"].is_string());
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["requests"], 3);
  EXPECT_EQ(j["models"][0]["hits"], 2);
  EXPECT_EQ(j["models"][0]["misses"], 1);
  EXPECT_EQ(j["models"][0]["state"], "loaded");
  const std::string text = RenderEndpointMetrics(*registry_);
  EXPECT_THAT(text, HasSubstr("sagemaker_LoadedModelCount{endpoint=\"ep\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("sagebox_endpoint_model_requests_total{endpoint=\"ep\",model=\"double\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE sagemaker_ModelCacheHit gauge"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("sagemaker_ModelLoadingTime_microseconds_total"));
}

TEST(ShareCostTest, SplitsTheEndpointByBusyTimeExactly) {
  ModelReport a, b, idle;
  a.name = "a";
  a.serving.busy_us = 3'000'000;
  a.serving.requests = 300;
  b.name = "b";
  b.serving.busy_us = 1'000'000;
  b.serving.requests = 100;
  idle.name = "never-used";
  Decimal price;
  ASSERT_TRUE(Decimal::Parse("1.212", &price));  // USD per hour
  EndpointCost c = ShareCost(price, 3600, {a, b, idle});
  EXPECT_EQ(c.endpoint_usd.ToString(), "1.212");
  ASSERT_EQ(c.models.size(), 2u);  // never-used models are not charged
  EXPECT_EQ(c.models[0].shared_usd.ToString(), "0.909");
  EXPECT_EQ(c.models[1].shared_usd.ToString(), "0.303");
  EXPECT_EQ(c.models[0].per_1000_requests->ToString(), "3.03");
  EXPECT_EQ(c.dedicated_total_usd.ToString(), "2.424");
  EXPECT_TRUE(c.unattributed_usd.is_zero());
  EndpointCost unpriced = ShareCost(std::nullopt, 3600, {a});
  EXPECT_TRUE(unpriced.models.empty());
}

}  // namespace
}  // namespace sagebox::endpoint::api

namespace sagebox::endpoint::api {
namespace {

TEST(EndpointRegistryTest, ControlPlaneObjectsSurviveARestartWithADatabase) {
  const auto root =
      std::filesystem::temp_directory_path() / ("sbx-registry-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "store");
  auto database = db::Database::Open((root / "state.db").string());
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  ASSERT_TRUE(db::Migrate(**database, Migrations()).ok());
  RegistryOptions ro;
  ro.cache_root = (root / "cache").string();
  ro.memory_budget_bytes = 1 << 20;
  const std::string url = "file://" + (root / "store").string();
  {
    EndpointRegistry reg(Env::Default(), ro, {}, nullptr, database->get());
    ASSERT_TRUE(reg.PutModel({"m", url, "MultiModel", "img", "role", 1}).ok());
    EXPECT_EQ(reg.PutModel({"m", url, "MultiModel", "img", "role", 1}).code(),
              StatusCode::kAlreadyExists);
    ASSERT_TRUE(reg.PutConfig({"c", "m", "ml.g5.2xlarge", "AllTraffic", 1, 1}).ok());
    ASSERT_TRUE(reg.Create("flags", url, "ml.g5.2xlarge").ok());  // not persisted
    ASSERT_TRUE(reg.Create("made", url, "ml.g5.2xlarge", "c", "m", /*persist=*/true).ok());
    ASSERT_TRUE(reg.Create("gone", url, "ml.g5.2xlarge", "c", "m", /*persist=*/true).ok());
    ASSERT_TRUE(reg.Delete("gone").ok());
  }
  EndpointRegistry again(Env::Default(), ro, {}, nullptr, database->get());
  auto notes = again.Restore();
  ASSERT_TRUE(notes.ok()) << notes.status().ToString();
  EXPECT_TRUE(notes->empty());
  ASSERT_NE(again.Find("made"), nullptr);
  EXPECT_EQ(again.Find("made")->config_name, "c");
  EXPECT_EQ(again.Find("flags"), nullptr);
  EXPECT_EQ(again.Find("gone"), nullptr);
  auto m = again.GetModel("m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->model_data_url, url);
  EXPECT_EQ(again.GetConfig("c")->instance_type, "ml.g5.2xlarge");
  ASSERT_TRUE(again.DeleteModel("m").ok());
  EXPECT_EQ(again.GetModel("m").status().code(), StatusCode::kNotFound);

  // A store that disappeared is reported, not fatal.
  std::filesystem::remove_all(root / "store");
  EndpointRegistry third(Env::Default(), ro, {}, nullptr, database->get());
  auto notes3 = third.Restore();
  ASSERT_TRUE(notes3.ok());
  ASSERT_EQ(notes3->size(), 1u);
  EXPECT_NE((*notes3)[0].find("endpoint made not started"), std::string::npos);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace sagebox::endpoint::api
