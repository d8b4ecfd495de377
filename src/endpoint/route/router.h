// router.h: one front for several `sagebox endpoint serve` instances.
//
// `sagebox endpoint route --instance URL ...` is the scale-out of the endpoint
// (docs/endpoint.md, "Past one machine"). Every instance serves the same model
// store; the router sends each request for a model to the instance the hash
// ring (hash_ring.h) names for it, so a model is loaded on one instance, not on
// all of them, and the fleet's memory adds up instead of repeating. A model whose
// request rate passes a threshold is *hot* and gets `hot_replicas` owners (the
// next instances on the ring); each request goes to the owner with the fewest
// requests in flight from this router. An instance that refuses connections is
// marked down at once and skipped (its models go to their next owner, the
// consistent-hashing way, so the others do not move), then probed with
// `GET /ping` until it answers again.
//
// Only data-plane requests carry a model: InvokeEndpoint (the
// X-Amzn-SageMaker-Target-Model header), KServe `/v2/models/{m}/...` and
// `/v2/repository/models/{m}/...`, and the MME contract's `/models/{m}/...`.
// Everything else (`/ping`, `/v2`, the repository index, reads of the control
// plane) goes to the first healthy instance, and control-plane writes
// (`SageMaker.Create*` / `Delete*`) go to every healthy instance so their
// endpoint lists stay the same.
//
// Requests are forwarded with their headers (Host and Authorization too), so a
// SigV4 signature the router accepted also verifies on an instance that shares
// its credentials; instances on loopback without users trust the router.
//
// Thread-safety: Handle may be called from many threads at once; the health
// prober runs on its own thread between Start and Stop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "endpoint/route/hash_ring.h"
#include "http/api.h"
#include "http/http_server.h"
#include "http/metrics.h"

namespace sagebox::endpoint::route {

struct RouterOptions {
  std::vector<std::string> instances;  // base URLs: "http://127.0.0.1:8081"
  // A model with more than `hot_requests_per_second` (averaged over `window`)
  // is served by `hot_replicas` instances; 1 turns replication off.
  size_t hot_replicas = 2;
  double hot_requests_per_second = 20;
  std::chrono::milliseconds window{10'000};
  std::chrono::milliseconds health_interval{2'000};
  std::chrono::milliseconds connect_timeout{2'000};
  // A cold model can take a while: the instance answers 429 after its own wait
  // budget (60 s by default), so wait a little longer than that.
  std::chrono::milliseconds read_timeout{90'000};
  // The clock for request rates (tests step it); steady_clock when empty.
  std::function<std::chrono::steady_clock::time_point()> now;
};

// The model a request is for: the TargetModel header, or the {m} of a KServe
// or MME path. "" when the request names no model. Exposed for tests.
std::string RoutingKey(const http::ApiRequest& req);

// How the router handles a request: one owner, any instance, or all of them.
enum class Fanout { kOwner, kAny, kAll };
Fanout FanoutFor(const http::ApiRequest& req);

class EndpointRouter {
 public:
  // InvalidArgument when there is no instance or a URL is not http://HOST:PORT.
  static StatusOr<std::unique_ptr<EndpointRouter>> Create(RouterOptions opt);
  ~EndpointRouter();
  EndpointRouter(const EndpointRouter&) = delete;
  EndpointRouter& operator=(const EndpointRouter&) = delete;

  // Forwards `req` and returns the instance's answer (with an
  // X-Sagebox-Instance header naming it). When no owner can be reached the
  // answer is 503 in the API's own error shape. Never throws.
  http::ApiResponse Handle(const http::ApiRequest& req);

  // The owners a model would go to now (healthy ones, primary first).
  std::vector<std::string> OwnersOf(const std::string& model);

  // Probes every instance once with GET /ping and updates its health.
  void CheckHealth();
  // Starts / stops the background prober (every health_interval).
  void Start();
  void Stop();

  // Registers the SageMaker Runtime, control plane, KServe v2 and MME prefixes
  // on `r` (the same prefixes and signing services `endpoint serve` uses), the
  // router's JSON at /api/endpoint/route, and its counters on /metrics.
  void Register(http::Router& r, http::Metrics* metrics);

  // {"instances":[{"url","healthy","in_flight","forwarded","failures"}],
  //  "hot_models":[...], "models":[{"name","requests","owners"}]}
  nlohmann::json StatusJson();
  std::string RenderMetrics();

 private:
  struct Instance;
  explicit EndpointRouter(RouterOptions opt);
  std::chrono::steady_clock::time_point Now() const;
  struct Rate {
    std::chrono::steady_clock::time_point window_start;
    uint64_t current = 0, previous = 0, total = 0;
  };
  // Counts a request for `model` and says how many owners it should have;
  // `seq` is the request's number for that model (to take replicas in turn).
  size_t ReplicasFor(const std::string& model, uint64_t* seq);
  // Requests per second for `r` over the last window, after rolling its
  // windows forward to `now`. Called with mu_ held; routing and reporting
  // share it so both call the same models hot.
  double PerSecondLocked(Rate& r, std::chrono::steady_clock::time_point now) const;
  // The ring's owners of `key` that are healthy, primary first.
  std::vector<Instance*> HealthyOwners(const std::string& key);
  http::ApiResponse Forward(Instance& in, const http::ApiRequest& req, bool* unreachable);
  Instance* Find(const std::string& url);

  RouterOptions opt_;
  HashRing ring_;
  std::vector<std::unique_ptr<Instance>> instances_;

  std::mutex mu_;  // guards rates_
  std::map<std::string, Rate> rates_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread prober_;
};

}  // namespace sagebox::endpoint::route
