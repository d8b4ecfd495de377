// backend.h: what the endpoint asks of a backend (TorchScript, Python, diffusion).
//
// The serving layer (model store, cache, batcher, APIs) knows nothing about how
// a model computes; a Backend turns one Triton model folder into executors. A
// model has `instance_group.count` ModelInstances, each used by one thread at a
// time; the batcher hands an instance a batch of requests and gets one response
// per request back, as Triton's execute(requests) does. Each backend decides how
// to run a batch (the TorchScript backend concatenates along the batch
// dimension; the Python backend passes the list to the user's execute()).
//
// Errors: a request the model cannot accept (missing input, wrong datatype or
// shape) is InvalidArgument, which the APIs answer with 400; anything that goes
// wrong inside the model (an exception, a crashed child) is any other code, which
// SageMaker answers with 424 ModelError.
//
// Thread-safety: Backend is safe for concurrent use (loads of different models
// run on different loader threads). A ModelInstance is used by one thread at a
// time; different instances of one model run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "endpoint/model_config.h"
#include "endpoint/tensor.h"

namespace sagebox::endpoint {

// One model ready to load: its folder on local disk and its parsed config.
struct ModelSource {
  std::string name;  // the model's name (config `name`, = the folder's name)
  std::string dir;   // the Triton model folder: config.pbtxt and numbered versions
  int64_t version = 1;
  std::string version_dir;  // dir/<version>
  ModelConfig config;
};

// One executor of a loaded model. Destroying it unloads it (frees memory, ends
// a child process after the model's finalize()).
class ModelInstance {
 public:
  virtual ~ModelInstance() = default;
  // Runs `batch` (1 to max(1, max_batch_size) requests, each already checked
  // against the config by the caller). Returns exactly batch.size() results,
  // in order; a failure of the whole batch is the same status in each.
  virtual std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) = 0;
  // Bytes this instance holds in memory now (weights, buffers, a child's RSS).
  virtual uint64_t MeasuredBytes() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The name config.pbtxt selects it by (ModelConfig::BackendName()).
  virtual std::string_view name() const = 0;
  // Memory one instance will need, predicted before loading from the files in
  // source.dir. Errors are the Env's (NotFound for a missing weights file).
  virtual StatusOr<uint64_t> PredictBytes(const ModelSource& source) = 0;
  // Loads instance `index` (0-based) of the model. Runs on a loader thread.
  // InvalidArgument/BadInput for a model folder the backend cannot serve (the
  // message names the file), other codes for failures while loading.
  virtual StatusOr<std::unique_ptr<ModelInstance>> LoadInstance(const ModelSource& source,
                                                                int index) = 0;
};

}  // namespace sagebox::endpoint
