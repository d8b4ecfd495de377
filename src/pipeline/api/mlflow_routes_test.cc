// mlflow_routes_test.cc: the MLflow REST subset through the handler, without sockets.
// Requests and response fields follow MLflow's REST API reference for MLflow 2.x
// (https://mlflow.org/docs/latest/rest-api.html: "Create Experiment", "Create Run",
// "Log Batch" with its request limits, "Search Runs", "Get Metric History", "Create
// RegisteredModel", "Create ModelVersion", "Set Registered Model Alias", "Get Model Version
// by Alias") and the proto JSON of MLflow's Python client (mlflow/store/*/rest_store.py).
#include "pipeline/api/mlflow_routes.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"

namespace sagebox::pipeline::api {
namespace {

using nlohmann::json;

class MlflowApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(dir_.Path("sagebox.db"), tracking::Migrations());
    ASSERT_NE(db_, nullptr);
    tracking::TrackingOptions opt;
    opt.artifact_root = dir_.Path("artifacts");
    auto s = tracking::TrackingStore::Open(db_.get(), opt);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    api_ = std::make_unique<MlflowApi>(store_.get());
  }

  // method, path below /api/2.0/mlflow/, JSON body (or the query string for GET).
  http::ApiResponse Call(const std::string& method, const std::string& path,
                         const json& body = json::object(),
                         const std::string& prefix = kMlflowPrefix) {
    http::ApiRequest req;
    req.method = method;
    req.path = prefix + path;
    req.principal.name = "local";
    req.principal.role = "admin";
    if (method == "GET") {
      for (const auto& [k, v] : body.items()) {
        if (v.is_array()) {
          for (const auto& e : v) req.params.emplace(k, e.get<std::string>());
        } else {
          req.params.emplace(k, v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
    } else {
      req.body = body.dump();
    }
    return api_->Handle(req);
  }
  static json Body(const http::ApiResponse& r) { return json::parse(r.body); }

  testing::TempDir dir_{"mlflow_api"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<tracking::TrackingStore> store_;
  std::unique_ptr<MlflowApi> api_;
};

TEST_F(MlflowApiTest, ExperimentsCreateGetAndTheErrorsMlflowGives) {
  auto r = Call("POST", "experiments/create",
                {{"name", "iris"}, {"tags", {{{"key", "stage"}, {"value", "iris"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Body(r)["experiment_id"];
  EXPECT_EQ(id, "1");
  r = Call("GET", "experiments/get", {{"experiment_id", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  json e = Body(r)["experiment"];
  EXPECT_EQ(e["name"], "iris");
  EXPECT_EQ(e["lifecycle_stage"], "active");
  EXPECT_EQ(e["tags"][0]["key"], "stage");
  EXPECT_TRUE(e["creation_time"].is_number_integer());

  r = Call("POST", "experiments/create", {{"name", "iris"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "RESOURCE_ALREADY_EXISTS");
  r = Call("GET", "experiments/get", {{"experiment_id", "42"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error_code"], "RESOURCE_DOES_NOT_EXIST");
  r = Call("POST", "experiments/create", json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(Body(r)["message"].get<std::string>().find("Missing value for required parameter "
                                                       "'name'"),
            std::string::npos);
  r = Call("GET", "experiments/get-by-name", {{"experiment_name", "Default"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["experiment"]["experiment_id"], "0");
  r = Call("POST", "experiments/search", {{"filter", "name LIKE 'ir%'"}, {"max_results", 10}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Body(r)["experiments"].size(), 1u);
  r = Call("GET", "experiments/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error_code"], "ENDPOINT_NOT_FOUND");
  r = Call("GET", "experiments/create");
  EXPECT_EQ(r.status, 405);
}

TEST_F(MlflowApiTest, RunLifecycleLogBatchSearchAndHistory) {
  // "Create Run": experiment_id, user_id, run_name, start_time, tags.
  auto r = Call("POST", "runs/create",
                {{"experiment_id", "0"},
                 {"user_id", "ci"},
                 {"run_name", "lr-C1"},
                 {"start_time", 1700000000000},
                 {"tags", {{{"key", "sagebox.stage"}, {"value", "iris"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  json run = Body(r)["run"];
  const std::string id = run["info"]["run_id"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(run["info"]["run_uuid"], id);
  EXPECT_EQ(run["info"]["status"], "RUNNING");
  EXPECT_EQ(run["info"]["start_time"], 1700000000000);

  // "Log Batch" as the Python client sends it: proto JSON, int64 timestamps as strings too.
  r = Call("POST", "runs/log-batch",
           {{"run_id", id},
            {"metrics",
             {{{"key", "cv_acc"}, {"value", 0.9}, {"timestamp", "1700000000100"}, {"step", "0"}},
              {{"key", "cv_acc"}, {"value", 0.95}, {"timestamp", 1700000000200}, {"step", 1}},
              {{"key", "loss"}, {"value", "NaN"}, {"timestamp", 1700000000200}, {"step", 1}}}},
            {"params", {{{"key", "C"}, {"value", "1.0"}}}},
            {"tags", {{{"key", "algo"}, {"value", "logreg"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), json::object());
  r = Call("POST", "runs/log-parameter", {{"run_id", id}, {"key", "C"}, {"value", "2.0"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "INVALID_PARAMETER_VALUE");

  r = Call("GET", "metrics/get-history", {{"run_id", id}, {"metric_key", "cv_acc"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json h = Body(r)["metrics"];
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1]["step"], 1);
  EXPECT_EQ(h[1]["value"], 0.95);
  r = Call("GET", "runs/get", {{"run_id", id}});
  ASSERT_EQ(r.status, 200);
  json data = Body(r)["run"]["data"];
  bool nan_seen = false;
  for (const auto& m : data["metrics"]) nan_seen |= m["key"] == "loss" && m["value"] == "NaN";
  EXPECT_TRUE(nan_seen) << data.dump();

  r = Call("POST", "runs/search",
           {{"experiment_ids", {"0"}},
            {"filter", "metrics.cv_acc > 0.9 AND params.C = '1.0'"},
            {"order_by", {"metrics.cv_acc DESC"}},
            {"max_results", 5}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Body(r)["runs"].size(), 1u);
  r = Call("POST", "runs/search", {{"experiment_ids", {"0"}}, {"filter", "metrics.cv_acc > 0.99"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r), json::object());  // proto3 JSON leaves the empty list out
  r = Call("POST", "runs/search", {{"experiment_ids", {"0"}}, {"filter", "a.b.c = 1 OR x"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "INVALID_PARAMETER_VALUE");

  r = Call("POST", "runs/update",
           {{"run_id", id}, {"status", "FINISHED"}, {"end_time", 1700000009000}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["run_info"]["status"], "FINISHED");
  EXPECT_EQ(Body(r)["run_info"]["end_time"], 1700000009000);
  r = Call("POST", "runs/set-tag", {{"run_id", id}, {"key", "k"}, {"value", "v"}});
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "runs/delete-tag", {{"run_id", id}, {"key", "k"}});
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "runs/delete-tag", {{"run_id", id}, {"key", "k"}});
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "runs/delete", {{"run_id", id}});
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "runs/restore", {{"run_id", id}});
  EXPECT_EQ(r.status, 200);
  r = Call("GET", "artifacts/list", {{"run_id", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["root_uri"], run["info"]["artifact_uri"]);
  // The ajax prefix MLflow's UI uses reaches the same handlers.
  r = Call("GET", "runs/get", {{"run_id", id}}, kMlflowAjaxPrefix);
  EXPECT_EQ(r.status, 200);
}

TEST_F(MlflowApiTest, LogBatchEnforcesMlflowsLimits) {
  auto r = Call("POST", "runs/create", {{"experiment_id", "0"}});
  ASSERT_EQ(r.status, 200);
  const std::string id = Body(r)["run"]["info"]["run_id"];
  json metrics = json::array();
  for (int i = 0; i < 1001; ++i) {
    metrics.push_back({{"key", "m"}, {"value", i}, {"timestamp", 1}, {"step", i}});
  }
  r = Call("POST", "runs/log-batch", {{"run_id", id}, {"metrics", metrics}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Body(r)["message"].get<std::string>().find("at most 1000 metrics. Got 1001"),
            std::string::npos);
  json params = json::array();
  for (int i = 0; i < 101; ++i)
    params.push_back({{"key", "p" + std::to_string(i)}, {"value", "1"}});
  r = Call("POST", "runs/log-batch", {{"run_id", id}, {"params", params}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Body(r)["message"].get<std::string>().find("at most 100 params"), std::string::npos);
  params.erase(params.begin());  // 100 params + 1000 metrics: each within, 1100 in total
  metrics.erase(metrics.begin());
  r = Call("POST", "runs/log-batch", {{"run_id", id}, {"params", params}, {"metrics", metrics}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Body(r)["message"].get<std::string>().find("in total"), std::string::npos);
  r = Call("GET", "runs/get", {{"run_id", id}});
  EXPECT_FALSE(Body(r)["run"]["data"].contains("metrics")) << "a refused batch logged";
  r = Call("POST", "runs/log-batch", {{"run_id", id}, {"metrics", metrics}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(MlflowApiTest, RegistryModelVersionsAndAliases) {
  auto r = Call("POST", "runs/create", {{"experiment_id", "0"}});
  ASSERT_EQ(r.status, 200);
  const std::string run_id = Body(r)["run"]["info"]["run_id"];
  r = Call("POST", "registered-models/create", {{"name", "iris-best"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["registered_model"]["name"], "iris-best");
  r = Call("POST", "registered-models/create", {{"name", "iris-best"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "RESOURCE_ALREADY_EXISTS");
  r = Call("POST", "model-versions/create",
           {{"name", "iris-best"}, {"source", "/a/model"}, {"run_id", run_id}});
  ASSERT_EQ(r.status, 200) << r.body;
  json mv = Body(r)["model_version"];
  EXPECT_EQ(mv["version"], "1");
  EXPECT_EQ(mv["status"], "READY");
  EXPECT_EQ(mv["current_stage"], "None");
  r = Call("POST", "registered-models/alias",
           {{"name", "iris-best"}, {"alias", "champion"}, {"version", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("GET", "registered-models/alias", {{"name", "iris-best"}, {"alias", "champion"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["model_version"]["version"], "1");
  EXPECT_EQ(Body(r)["model_version"]["aliases"], json::array({"champion"}));
  r = Call("GET", "registered-models/get", {{"name", "iris-best"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["registered_model"]["aliases"][0],
            (json{{"alias", "champion"}, {"version", "1"}}));
  r = Call("GET", "model-versions/search", {{"filter", "name = 'iris-best'"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["model_versions"].size(), 1u);
  r = Call("GET", "registered-models/search",
           {{"filter", "name LIKE 'iris%'"}, {"max_results", "5"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["registered_models"].size(), 1u);
  r = Call("PATCH", "model-versions/update",
           {{"name", "iris-best"}, {"version", "1"}, {"description", "best"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["model_version"]["description"], "best");
  r = Call("POST", "model-versions/set-tag",
           {{"name", "iris-best"}, {"version", "1"}, {"key", "k"}, {"value", "v"}});
  EXPECT_EQ(r.status, 200);
  r = Call("DELETE", "registered-models/alias", {{"name", "iris-best"}, {"alias", "champion"}});
  EXPECT_EQ(r.status, 200);
  r = Call("GET", "registered-models/alias", {{"name", "iris-best"}, {"alias", "champion"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error_code"], "RESOURCE_DOES_NOT_EXIST");
  r = Call("POST", "registered-models/rename", {{"name", "iris-best"}, {"new_name", "iris"}});
  ASSERT_EQ(r.status, 200);
  r = Call("DELETE", "model-versions/delete", {{"name", "iris"}, {"version", "1"}});
  EXPECT_EQ(r.status, 200);
  r = Call("DELETE", "registered-models/delete", {{"name", "iris"}});
  EXPECT_EQ(r.status, 200);
  r = Call("GET", "registered-models/get", {{"name", "iris"}});
  EXPECT_EQ(r.status, 404);
}

}  // namespace
}  // namespace sagebox::pipeline::api
