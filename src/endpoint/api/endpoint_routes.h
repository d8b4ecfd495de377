// endpoint_routes.h: the endpoint module's HTTP faces, over the shared server.
//
//   SageMaker Runtime   POST /endpoints/{name}/invocations   (SigV4 "sagemaker")
//   SageMaker (JSON 1.1) CreateModel, CreateEndpointConfig, CreateEndpoint,
//                       DescribeEndpoint, DeleteEndpoint, ListEndpoints, and the
//                       Describe/Delete of models and endpoint configs
//   Triton / KServe v2  /v2, /v2/health/*, /v2/models/{m}[/versions/{v}][/ready|/config|/infer],
//                       /v2/repository/index, /v2/repository/models/{m}/load|unload
//   MME container       GET /ping, GET|POST /models, DELETE /models/{m},
//                       POST /models/{m}/invoke
//   sagebox's own       GET /api/endpoint/endpoints, /api/endpoint/models?endpoint=
//   /metrics            SageMaker MME metric names plus per-model series
// Each API answers errors in its own shape (SageMaker: x-amzn-ErrorType and
// __type; KServe: {"error": ...}; MME: {"error": ...} with 404/409/507).
//
// Endpoints live in an EndpointRegistry: `sagebox endpoint serve` creates one
// from its flags; CreateEndpoint creates more over other stores. With a
// database, the control plane's objects (models, endpoint configs and the
// endpoints CreateEndpoint made) are kept in it (component "endpoint") and
// Restore() brings the endpoints back after a restart; without one they live
// in memory only.
//
// Thread-safety: EndpointRegistry is safe for concurrent use; handlers may run
// on every server thread at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"
#include "db/database.h"
#include "endpoint/backend.h"
#include "endpoint/model_server.h"
#include "endpoint/model_store.h"
#include "http/http_server.h"

namespace sagebox::endpoint::api {

struct RegistryOptions {
  std::string cache_root;            // extracted archives: <cache_root>/<endpoint name>/
  uint64_t memory_budget_bytes = 0;  // per endpoint, > 0
  uint64_t disk_budget_bytes = 0;    // per endpoint; 0 = unlimited
  int loader_threads = 2;
  std::chrono::milliseconds wait_budget{60'000};
  std::string region = "us-east-1";  // for ARNs and prices
  std::string account = "000000000000";
};

// Cost of one model on a shared endpoint (exact decimals, USD).
struct ModelCost {
  std::string model;
  int64_t busy_us = 0;
  uint64_t requests = 0;
  Decimal shared_usd;                        // the endpoint's cost shared by busy time
  std::optional<Decimal> per_1000_requests;  // shared_usd / requests * 1000
  Decimal dedicated_usd;                     // one endpoint of its own for the same time
};

struct EndpointCost {
  std::string instance_type;
  std::optional<Decimal> usd_per_hour;  // nullopt: type not in the catalog
  std::string price_source;
  int64_t uptime_s = 0;
  Decimal endpoint_usd;      // price x uptime
  Decimal unattributed_usd;  // no model was busy at all
  Decimal dedicated_total_usd;
  std::vector<ModelCost> models;
};

// Shares `price_per_hour` x `uptime_s` among the models by busy time; models
// never busy get 0. Pure, for tests.
EndpointCost ShareCost(std::optional<Decimal> usd_per_hour, int64_t uptime_s,
                       const std::vector<ModelReport>& models);

// The schema of the control plane's objects (component "endpoint").
std::vector<db::Migration> Migrations();

class EndpointRegistry {
 public:
  // Backends, catalog and database must outlive the registry. `database` may be
  // null (objects in memory only); otherwise Migrations() must be applied.
  EndpointRegistry(Env* env, RegistryOptions options, std::vector<Backend*> backends,
                   const catalog::Catalog* catalog, db::Database* database = nullptr);
  ~EndpointRegistry();

  struct Endpoint {
    std::string name;
    std::string config_name;
    std::string model_name;
    std::string model_data_url;
    std::string instance_type;
    int64_t created_unix = 0;
    std::chrono::steady_clock::time_point started;
    std::unique_ptr<ModelStore> store;
    std::unique_ptr<ModelServer> server;
  };

  // Creates and starts an endpoint over `model_data_url` (a folder or file://).
  // `persist`: record it in the database so Restore() starts it again (what
  // CreateEndpoint does; the command line's endpoint comes from its flags).
  // AlreadyExists for a taken name; the store's errors (NotFound,
  // InvalidArgument for s3:// and other remote URLs) and the database's otherwise.
  Status Create(const std::string& name, const std::string& model_data_url,
                const std::string& instance_type, const std::string& config_name = "",
                const std::string& model_name = "", bool persist = false);
  // NotFound for an unknown name. Requests in flight finish first.
  Status Delete(const std::string& name);
  // Starts every endpoint recorded in the database. An endpoint whose store is
  // gone is skipped and named in the returned messages; database errors fail.
  StatusOr<std::vector<std::string>> Restore();
  // Null when unknown. The shared_ptr keeps it alive across a concurrent Delete.
  std::shared_ptr<Endpoint> Find(const std::string& name) const;
  // The only endpoint, or the first created: what /v2 and /models address.
  std::shared_ptr<Endpoint> Default() const;
  std::vector<std::shared_ptr<Endpoint>> List() const;

  StatusOr<EndpointCost> Cost(const std::string& name) const;

  // Control-plane objects that are not endpoints (CreateModel, CreateEndpointConfig).
  struct ModelDef {
    std::string name, model_data_url, mode, image, role;
    int64_t created_unix = 0;
  };
  struct ConfigDef {
    std::string name, model_name, instance_type, variant;
    int64_t instance_count = 1;
    int64_t created_unix = 0;
  };
  // AlreadyExists for a taken name; the database's errors.
  Status PutModel(const ModelDef& m);
  Status PutConfig(const ConfigDef& c);
  // NotFound when absent.
  StatusOr<ModelDef> GetModel(const std::string& name) const;
  StatusOr<ConfigDef> GetConfig(const std::string& name) const;
  Status DeleteModel(const std::string& name);
  Status DeleteConfig(const std::string& name);

  Env* env() const { return env_; }
  const RegistryOptions& options() const { return options_; }
  std::string Arn(const std::string& kind, const std::string& name) const;

 private:
  Env* env_;
  RegistryOptions options_;
  std::vector<Backend*> backends_;
  const catalog::Catalog* catalog_;
  db::Database* db_;
  mutable std::mutex mu_;
  std::map<std::string, ModelDef> models_;            // without a database
  std::map<std::string, ConfigDef> configs_;          // without a database
  std::vector<std::shared_ptr<Endpoint>> endpoints_;  // creation order
};

// Registers every route above; `metrics` (optional) gets the /metrics source.
void RegisterEndpointRoutes(http::Router& router, http::Metrics* metrics,
                            EndpointRegistry* registry);

// The Prometheus text for every endpoint (labels endpoint=, model=).
std::string RenderEndpointMetrics(const EndpointRegistry& registry);

}  // namespace sagebox::endpoint::api
