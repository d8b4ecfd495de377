// mlflow_routes.h: the MLflow REST subset on `sagebox serve`, over the tracking store
// (pipeline/tracking/tracking_store.h), so MLflow's clients can read and write pipeline runs
// and the model registry. Requests and responses follow MLflow's REST API reference
// (mlflow.org/docs/latest/rest-api.html, MLflow 2.x) and the proto JSON its Python client
// sends (mlflow/store/tracking/rest_store.py, mlflow/store/model_registry/rest_store.py):
// GET takes its fields from the query string, the other methods from a JSON body.
//
// Under /api/2.0/mlflow/ (and /ajax-api/2.0/mlflow/, where MLflow's own UI calls):
//   experiments/ create|get|get-by-name|search|update|delete|restore|set-experiment-tag
//   runs/ create|get|update|delete|restore|search|log-metric|log-parameter|set-tag|
//         delete-tag|log-batch           (log-batch: MLflow's limits, 1000 metrics,
//                                        100 params, 100 tags, 1000 in total)
//   metrics/get-history, artifacts/list
//   registered-models/ create|get|rename|update|delete|search|set-tag, alias (POST sets,
//         DELETE removes, GET reads: MLflow's get-model-version-by-alias)
//   model-versions/ create|get|update|delete|search|set-tag
// Errors are MLflow's: {"error_code": "RESOURCE_DOES_NOT_EXIST" (404) |
// "INVALID_PARAMETER_VALUE" (400) | "RESOURCE_ALREADY_EXISTS" (400) | "ENDPOINT_NOT_FOUND"
// (404) | "INTERNAL_ERROR" (500), "message": ...} (mlflow/exceptions.py's HTTP statuses).
// Authentication is the server's, as for every JSON API.
//
// Thread-safety: Handle is safe on every server thread (the store is).
#pragma once

#include "http/api.h"
#include "http/http_server.h"
#include "pipeline/tracking/tracking_store.h"

namespace sagebox::pipeline::api {

inline constexpr const char* kMlflowPrefix = "/api/2.0/mlflow/";
inline constexpr const char* kMlflowAjaxPrefix = "/ajax-api/2.0/mlflow/";

class MlflowApi {
 public:
  // `store` must outlive the object.
  explicit MlflowApi(tracking::TrackingStore* store) : store_(store) {}

  // One request under either prefix. Never fails: errors are MLflow's error responses.
  http::ApiResponse Handle(const http::ApiRequest& req);

  // Adds both prefixes to `router`; this object must outlive the server.
  void Register(http::Router& router);

 private:
  tracking::TrackingStore* store_;
};

// The JSON MLflow answers with for each entity (proto3 JSON: int64 as numbers, NaN and
// infinities as the strings "NaN", "Infinity", "-Infinity", empty lists left out).
nlohmann::json ExperimentJson(const tracking::Experiment& e);
nlohmann::json RunJson(const tracking::Run& r);
nlohmann::json RunInfoJson(const tracking::RunInfo& i);
nlohmann::json MetricJson(const tracking::Metric& m);
nlohmann::json RegisteredModelJson(const tracking::RegisteredModel& m);
nlohmann::json ModelVersionJson(const tracking::ModelVersion& v);

}  // namespace sagebox::pipeline::api
