#include "endpoint/model_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "endpoint/kserve_codec.h"

namespace sagebox::endpoint {

namespace {

int InstanceCount(const ModelConfig& c) {
  int n = 0;
  for (const auto& g : c.instance_groups) n += std::max(1, g.count);
  return std::max(1, n);
}

}  // namespace

// A loaded model: its instances behind a batcher. Destroying it unloads it and
// tells the store its extracted copy may go.
class ModelServer::ServedModel : public LoadedModel {
 public:
  ServedModel(ModelSource source, std::string backend, int instances,
              std::unique_ptr<Batcher> batcher, ModelStore* store, std::string target)
      : source_(std::move(source)),
        backend_(std::move(backend)),
        instances_(instances),
        batcher_(std::move(batcher)),
        store_(store),
        target_(std::move(target)) {}
  ~ServedModel() override {
    batcher_.reset();  // joins the workers, destroys the instances (finalize, child exit)
    store_->Release(target_);
  }
  uint64_t MeasuredBytes() const override { return batcher_->MeasuredBytes(); }

  const ModelSource& source() const { return source_; }
  Batcher& batcher() { return *batcher_; }
  const std::string& backend() const { return backend_; }
  int instances() const { return instances_; }

 private:
  ModelSource source_;
  std::string backend_;
  int instances_;
  std::unique_ptr<Batcher> batcher_;
  ModelStore* store_;
  std::string target_;
};

class ModelServer::Loader : public ModelLoader {
 public:
  explicit Loader(ModelServer* server) : server_(server) {}

  StatusOr<uint64_t> Predict(const std::string& target) override {
    {
      std::lock_guard<std::mutex> lock(server_->mu_);
      auto it = server_->known_.find(target);
      if (it != server_->known_.end()) {
        Backend* b = server_->FindBackend(it->second.source.config.BackendName());
        if (b != nullptr) {
          auto p = b->PredictBytes(it->second.source);
          if (p.ok()) return *p * static_cast<uint64_t>(it->second.instances);
        }
      }
    }
    // Not fetched yet: the stored size (an archive of weights barely compresses).
    return server_->store_->StoredBytes(target);
  }

  StatusOr<std::unique_ptr<LoadedModel>> Load(const std::string& target) override {
    const int64_t t0 = SteadyNowMicros();
    auto source = server_->store_->Fetch(target);
    if (!source.ok()) return source.status();
    const int64_t fetched = SteadyNowMicros();
    Backend* backend = server_->FindBackend(source->config.BackendName());
    if (backend == nullptr) {
      server_->store_->Release(target);
      std::string have;
      for (Backend* b : server_->backends_)
        have += (have.empty() ? "" : ", ") + std::string(b->name());
      return InvalidArgument(
          fmt::format("model {}: backend '{}' is not available in sagebox (available: {})", target,
                      source->config.BackendName(), have));
    }
    const int count = InstanceCount(source->config);
    std::vector<std::unique_ptr<ModelInstance>> instances;
    for (int i = 0; i < count; ++i) {
      auto inst = backend->LoadInstance(*source, i);
      if (!inst.ok()) {
        instances.clear();
        server_->store_->Release(target);
        return Status(inst.status().code(),
                      fmt::format("model {}: {}", target, inst.status().message()));
      }
      instances.push_back(std::move(*inst));
    }
    auto batcher = std::make_unique<Batcher>(source->config, std::move(instances),
                                             server_->CountersFor(target));
    {
      std::lock_guard<std::mutex> lock(server_->mu_);
      server_->known_[target] = Known{*source, count};
      server_->downloading_us_total_ += fetched - t0;
      ++server_->downloads_;
    }
    return std::unique_ptr<LoadedModel>(
        std::make_unique<ServedModel>(std::move(*source), std::string(backend->name()), count,
                                      std::move(batcher), server_->store_, target));
  }

 private:
  ModelServer* server_;
};

StatusOr<std::unique_ptr<ModelServer>> ModelServer::Create(ModelServerOptions options,
                                                           ModelStore* store,
                                                           std::vector<Backend*> backends) {
  if (options.memory_budget_bytes == 0) {
    return InvalidArgument("the endpoint needs a memory budget above 0 bytes");
  }
  if (options.loader_threads < 1) options.loader_threads = 1;
  return std::unique_ptr<ModelServer>(
      new ModelServer(std::move(options), store, std::move(backends)));
}

ModelServer::ModelServer(ModelServerOptions options, ModelStore* store,
                         std::vector<Backend*> backends)
    : options_(std::move(options)), store_(store), backends_(std::move(backends)) {
  loader_ = std::make_unique<Loader>(this);
  ModelCache::Options co;
  co.memory_budget_bytes = options_.memory_budget_bytes;
  co.loader_threads = options_.loader_threads;
  co.wait_budget = options_.wait_budget;
  co.clock = options_.clock;
  cache_ = std::make_unique<ModelCache>(co, loader_.get());
}

ModelServer::~ModelServer() { cache_.reset(); }

Backend* ModelServer::FindBackend(const std::string& name) const {
  for (Backend* b : backends_) {
    if (b->name() == name) return b;
  }
  return nullptr;
}

std::shared_ptr<ModelCounters> ModelServer::CountersFor(const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = counters_[target];
  if (!c) c = std::make_shared<ModelCounters>();
  return c;
}

StatusOr<InferResponse> ModelServer::Infer(const std::string& target, InferRequest request,
                                           std::chrono::steady_clock::time_point deadline,
                                           InferStage* failed_at) {
  InferStage ignored = InferStage::kLoad;
  InferStage& stage = failed_at ? *failed_at : ignored;
  stage = InferStage::kLoad;
  auto lease = cache_->Acquire(target, deadline);
  if (!lease.ok()) return lease.status();
  auto& served = static_cast<ServedModel&>(lease->model());
  stage = InferStage::kValidate;
  RETURN_IF_ERROR(ValidateInferRequest(served.source().config, &request));
  stage = InferStage::kExecute;
  auto response = served.batcher().Submit(std::move(request)).get();
  if (!response.ok()) return response.status();
  response->model_name = target;
  response->model_version = std::to_string(served.source().version);
  return response;
}

bool ModelServer::IsLoaded(const std::string& target) const {
  for (const auto& m : cache_->Stats().models) {
    if (m.name == target) return m.state == ModelState::kLoaded;
  }
  return false;
}

Status ModelServer::Load(const std::string& target,
                         std::chrono::steady_clock::time_point deadline) {
  if (IsLoaded(target)) return AlreadyExists("model " + target + " is already loaded");
  auto lease = cache_->Acquire(target, deadline);
  return lease.status();
}

Status ModelServer::Unload(const std::string& target) { return cache_->Unload(target); }

StatusOr<ModelSource> ModelServer::Describe(const std::string& target) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = known_.find(target);
    if (it != known_.end()) return it->second.source;
  }
  auto source = store_->Fetch(target);
  if (!source.ok()) return source.status();
  store_->Release(target);
  return source;
}

StatusOr<std::vector<ModelReport>> ModelServer::Models() const {
  auto entries = store_->List();
  if (!entries.ok()) return entries.status();
  std::map<std::string, ModelReport> out;
  for (const auto& e : *entries) {
    ModelReport r;
    r.name = e.name;
    r.state = "unloaded";
    r.store_bytes = e.bytes;
    out[e.name] = r;
  }
  CacheStats cs = cache_->Stats();
  for (const auto& m : cs.models) {
    ModelReport& r = out[m.name];
    r.name = m.name;
    r.cache = m;
    r.state = std::string(ModelStateName(m.state));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, r] : out) {
    auto c = counters_.find(name);
    if (c != counters_.end()) {
      r.serving = c->second->Get();
      r.queue_depth = r.serving.queue_depth;
      r.p50_us = Percentile(r.serving.latency_us, 0.5);
      r.p99_us = Percentile(r.serving.latency_us, 0.99);
    }
    auto k = known_.find(name);
    if (k != known_.end()) {
      r.backend = k->second.source.config.BackendName();
      r.instances = k->second.instances;
    }
  }
  std::vector<ModelReport> v;
  v.reserve(out.size());
  for (auto& [name, r] : out) v.push_back(std::move(r));
  return v;
}

int64_t ModelServer::DownloadingMicrosTotal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return downloading_us_total_;
}

}  // namespace sagebox::endpoint
