#include "endpoint/torch/torch_backend.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env.h"
#include "endpoint/torch/torch_util.h"

namespace sagebox::endpoint {
namespace {

constexpr char kIntraOpThreads[] = "INTRA_OP_THREAD_COUNT";

// The <index> of a Triton-style "NAME__<index>" name, or nullopt.
std::optional<size_t> IndexSuffix(std::string_view name) {
  size_t sep = name.rfind("__");
  if (sep == std::string_view::npos || sep + 2 == name.size()) return std::nullopt;
  std::string_view digits = name.substr(sep + 2);
  size_t index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return index;
}

// position[i] for tensor config i when every name carries a distinct __<index>
// below `limit` (limit 0 = no upper bound); nullopt if any does not.
std::optional<std::vector<size_t>> IndicesBySuffix(const std::vector<TensorConfig>& tensors,
                                                   size_t limit) {
  std::vector<size_t> positions;
  std::set<size_t> used;
  for (const TensorConfig& t : tensors) {
    std::optional<size_t> index = IndexSuffix(t.name);
    if (!index || (limit > 0 && *index >= limit) || !used.insert(*index).second) {
      return std::nullopt;
    }
    positions.push_back(*index);
  }
  return positions;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

// Whether `shape` (without the batch dimension) fits config `dims` (-1 = any).
bool ShapeMatches(const std::vector<int64_t>& dims, const int64_t* shape, size_t rank) {
  if (dims.size() != rank) return false;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] != -1 && dims[i] != shape[i]) return false;
  }
  return true;
}

// What one loaded model needs at execution time, fixed at load.
struct Plan {
  std::string model_name;
  std::string model_version;
  std::string config_file;  // for error messages
  int32_t max_batch_size = 0;
  std::vector<TensorConfig> inputs;
  std::vector<TensorConfig> outputs;
  std::vector<std::string> input_arg;  // inputs[i] -> forward() argument name
  std::vector<size_t> output_index;    // outputs[i] -> element of forward()'s result
  int intra_op_threads = 0;            // 0 = libtorch's default
};

// One request's inputs as torch tensors, keyed by config input index.
struct PreparedRequest {
  std::map<size_t, torch::Tensor> inputs;
  int64_t batch = 0;  // rows along dimension 0 (max_batch_size > 0), else 0
};

class TorchInstance : public ModelInstance {
 public:
  // torch::jit::Module has no move constructor; a copy shares the loaded object
  // (a reference count), which is why each instance loads its own.
  TorchInstance(Plan plan, const torch::jit::Module& module)
      : plan_(std::move(plan)), module_(module), bytes_(ModuleBytes(module_)) {}

  std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) override;

  uint64_t MeasuredBytes() const override { return bytes_; }

 private:
  StatusOr<PreparedRequest> Prepare(const InferRequest& request) const;
  // Runs forward() on inputs keyed by config input index; returns the config
  // outputs in config order.
  StatusOr<std::vector<torch::Tensor>> Forward(const std::map<size_t, torch::Tensor>& inputs);
  StatusOr<InferResponse> Respond(const InferRequest& request,
                                  const std::vector<torch::Tensor>& outputs) const;
  // Runs the whole batch as one forward() call; nullopt if the requests cannot be
  // concatenated (different input sets or non-batch dimensions).
  std::optional<std::vector<StatusOr<InferResponse>>> ExecuteConcatenated(
      const std::vector<const InferRequest*>& batch, const std::vector<PreparedRequest>& prepared);

  Plan plan_;
  torch::jit::Module module_;
  uint64_t bytes_;
};

StatusOr<PreparedRequest> TorchInstance::Prepare(const InferRequest& request) const {
  PreparedRequest out;
  for (const Tensor& input : request.inputs) {
    auto it = std::find_if(plan_.inputs.begin(), plan_.inputs.end(),
                           [&](const TensorConfig& c) { return c.name == input.name; });
    if (it == plan_.inputs.end()) {
      return InvalidArgument("model '" + plan_.model_name + "' has no input '" + input.name + "'");
    }
    const TensorConfig& config = *it;
    auto index = static_cast<size_t>(it - plan_.inputs.begin());
    if (out.inputs.count(index) > 0) {
      return InvalidArgument("input '" + input.name + "' given twice");
    }
    if (input.datatype != config.data_type) {
      return InvalidArgument("input '" + input.name + "': expected " +
                             ToKServeDatatype(config.data_type) + ", got " +
                             ToKServeDatatype(input.datatype));
    }
    const bool batched = plan_.max_batch_size > 0;
    const size_t skip = batched ? 1 : 0;
    if (input.shape.size() < skip ||
        !ShapeMatches(config.dims, input.shape.data() + skip, input.shape.size() - skip)) {
      return InvalidArgument("input '" + input.name + "': shape " + ShapeText(input.shape) +
                             " does not match dims " + ShapeText(config.dims) +
                             (batched ? " after the batch dimension" : ""));
    }
    if (batched) {
      if (input.shape[0] < 1) {
        return InvalidArgument("input '" + input.name + "': batch dimension must be at least 1");
      }
      if (out.batch != 0 && out.batch != input.shape[0]) {
        return InvalidArgument("input '" + input.name + "': batch size " +
                               std::to_string(input.shape[0]) + " differs from the other inputs' " +
                               std::to_string(out.batch));
      }
      out.batch = input.shape[0];
    }
    ASSIGN_OR_RETURN(torch::Tensor t, ToTorch(input));
    if (config.reshape) {
      std::vector<int64_t> shape;
      if (batched) shape.push_back(out.batch);
      shape.insert(shape.end(), config.reshape->begin(), config.reshape->end());
      try {
        t = t.reshape(shape);
      } catch (const std::exception& e) {
        return InvalidArgument("input '" + input.name + "': cannot reshape to " + ShapeText(shape) +
                               ": " + TorchErrorSummary(e));
      }
    }
    out.inputs.emplace(index, std::move(t));
  }
  for (size_t i = 0; i < plan_.inputs.size(); ++i) {
    if (!plan_.inputs[i].optional && out.inputs.count(i) == 0) {
      return InvalidArgument("missing input '" + plan_.inputs[i].name + "'");
    }
  }
  return out;
}

StatusOr<std::vector<torch::Tensor>> TorchInstance::Forward(
    const std::map<size_t, torch::Tensor>& inputs) {
  torch::jit::Kwargs kwargs;
  for (const auto& [index, tensor] : inputs) kwargs.emplace(plan_.input_arg[index], tensor);
  torch::jit::Method forward = module_.get_method("forward");
  // Argument errors (a missing argument without a default) are the request's
  // fault; find them before running so they are not reported as model errors.
  try {
    std::vector<c10::IValue> check{module_._ivalue()};
    forward.function().getSchema().checkAndNormalizeInputs(check, kwargs);
  } catch (const std::exception& e) {
    return InvalidArgument("model '" + plan_.model_name + "': " + TorchErrorSummary(e));
  }
  c10::IValue result;
  try {
    result = forward(std::vector<c10::IValue>{}, kwargs);
  } catch (const std::exception& e) {
    return Internal("model '" + plan_.model_name + "': forward() failed: " + TorchErrorSummary(e));
  }
  std::vector<c10::IValue> elements;
  if (result.isTuple()) {
    elements = result.toTupleRef().elements().vec();
  } else if (result.isList()) {
    elements = result.toListRef().vec();
  } else {
    elements.push_back(result);
  }
  std::vector<torch::Tensor> outputs;
  for (size_t i = 0; i < plan_.outputs.size(); ++i) {
    const TensorConfig& config = plan_.outputs[i];
    size_t at = plan_.output_index[i];
    if (at >= elements.size()) {
      return Internal("model '" + plan_.model_name + "': output '" + config.name + "' is element " +
                      std::to_string(at) + " of forward()'s result, which has " +
                      std::to_string(elements.size()));
    }
    if (!elements[at].isTensor()) {
      return Internal("model '" + plan_.model_name + "': output '" + config.name +
                      "': forward() returned a " + elements[at].tagKind() + ", not a tensor");
    }
    torch::Tensor t = elements[at].toTensor();
    auto type = FromTorchType(t.scalar_type());
    if (!type.ok() || *type != config.data_type) {
      return Internal("model '" + plan_.model_name + "': output '" + config.name +
                      "': forward() returned " + c10::toString(t.scalar_type()) + ", " +
                      plan_.config_file + " says " + std::string(TritonTypeName(config.data_type)));
    }
    outputs.push_back(std::move(t));
  }
  return outputs;
}

StatusOr<InferResponse> TorchInstance::Respond(const InferRequest& request,
                                               const std::vector<torch::Tensor>& outputs) const {
  InferResponse response;
  response.model_name = plan_.model_name;
  response.model_version = plan_.model_version;
  response.id = request.id;
  auto add = [&](size_t i) -> Status {
    torch::Tensor t = outputs[i];
    const TensorConfig& config = plan_.outputs[i];
    if (config.reshape) {
      // The model returns the reshaped shape; the client sees `dims`.
      std::vector<int64_t> shape;
      if (plan_.max_batch_size > 0) shape.push_back(t.dim() > 0 ? t.size(0) : 1);
      shape.insert(shape.end(), config.dims.begin(), config.dims.end());
      try {
        t = t.reshape(shape);
      } catch (const std::exception& e) {
        return Internal("output '" + config.name + "': cannot reshape to " + ShapeText(shape) +
                        ": " + TorchErrorSummary(e));
      }
    }
    ASSIGN_OR_RETURN(Tensor out, FromTorch(config.name, t));
    response.outputs.push_back(std::move(out));
    return Status::Ok();
  };
  if (request.outputs.empty()) {
    for (size_t i = 0; i < plan_.outputs.size(); ++i) RETURN_IF_ERROR(add(i));
    return response;
  }
  for (const RequestedOutput& wanted : request.outputs) {
    auto it = std::find_if(plan_.outputs.begin(), plan_.outputs.end(),
                           [&](const TensorConfig& c) { return c.name == wanted.name; });
    if (it == plan_.outputs.end()) {
      return InvalidArgument("model '" + plan_.model_name + "' has no output '" + wanted.name +
                             "'");
    }
    RETURN_IF_ERROR(add(static_cast<size_t>(it - plan_.outputs.begin())));
  }
  return response;
}

std::optional<std::vector<StatusOr<InferResponse>>> TorchInstance::ExecuteConcatenated(
    const std::vector<const InferRequest*>& batch, const std::vector<PreparedRequest>& prepared) {
  const PreparedRequest& first = prepared.front();
  for (const PreparedRequest& p : prepared) {
    if (p.inputs.size() != first.inputs.size()) return std::nullopt;
    for (const auto& [index, tensor] : p.inputs) {
      auto it = first.inputs.find(index);
      if (it == first.inputs.end() || tensor.dim() != it->second.dim() ||
          tensor.sizes().slice(1) != it->second.sizes().slice(1)) {
        return std::nullopt;
      }
    }
  }
  std::map<size_t, torch::Tensor> joined;
  int64_t total = 0;
  for (const PreparedRequest& p : prepared) total += p.batch;
  std::vector<StatusOr<InferResponse>> results;
  auto fail_all = [&](const Status& status) {
    results.assign(batch.size(), status);
    return results;
  };
  std::vector<StatusOr<std::vector<torch::Tensor>>> outputs_per_request;
  try {
    for (const auto& entry : first.inputs) {
      std::vector<torch::Tensor> parts;
      parts.reserve(prepared.size());
      for (const PreparedRequest& p : prepared) parts.push_back(p.inputs.at(entry.first));
      joined.emplace(entry.first, torch::cat(parts, 0));
    }
  } catch (const std::exception& e) {
    return fail_all(Internal("concatenating the batch: " + TorchErrorSummary(e)));
  }
  auto outputs = Forward(joined);
  if (!outputs.ok()) return fail_all(outputs.status());
  for (size_t i = 0; i < outputs->size(); ++i) {
    const torch::Tensor& t = (*outputs)[i];
    if (t.dim() == 0 || t.size(0) != total) {
      return fail_all(Internal("model '" + plan_.model_name + "': output '" +
                               plan_.outputs[i].name + "' has shape " + ShapeText(t.sizes().vec()) +
                               ", expected " + std::to_string(total) + " rows for a batch of " +
                               std::to_string(total) + " (max_batch_size > 0)"));
    }
  }
  int64_t row = 0;
  for (size_t r = 0; r < batch.size(); ++r) {
    std::vector<torch::Tensor> mine;
    mine.reserve(outputs->size());
    for (const torch::Tensor& t : *outputs) mine.push_back(t.narrow(0, row, prepared[r].batch));
    row += prepared[r].batch;
    results.push_back(Respond(*batch[r], mine));
  }
  return results;
}

std::vector<StatusOr<InferResponse>> TorchInstance::Execute(
    const std::vector<const InferRequest*>& batch) {
  std::vector<StatusOr<InferResponse>> results;
  if (batch.empty()) return results;
  try {
    c10::InferenceMode inference_mode;
    torch::NoGradGuard no_grad;
    if (plan_.intra_op_threads > 0 && at::get_num_threads() != plan_.intra_op_threads) {
      at::set_num_threads(plan_.intra_op_threads);
    }
    std::vector<StatusOr<PreparedRequest>> prepared;
    prepared.reserve(batch.size());
    bool all_ok = true;
    for (const InferRequest* request : batch) {
      prepared.push_back(Prepare(*request));
      all_ok = all_ok && prepared.back().ok();
    }
    if (plan_.max_batch_size > 0 && batch.size() > 1 && all_ok) {
      std::vector<PreparedRequest> ready;
      ready.reserve(prepared.size());
      for (auto& p : prepared) ready.push_back(std::move(p).value());
      if (auto joined = ExecuteConcatenated(batch, ready)) return std::move(*joined);
      for (size_t i = 0; i < ready.size(); ++i) prepared[i] = std::move(ready[i]);
    }
    // One by one: max_batch_size 0, a single request, shapes that do not stack,
    // or a bad request that must not fail its neighbours.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!prepared[i].ok()) {
        results.emplace_back(prepared[i].status());
        continue;
      }
      auto outputs = Forward(prepared[i]->inputs);
      if (!outputs.ok()) {
        results.emplace_back(outputs.status());
        continue;
      }
      results.push_back(Respond(*batch[i], *outputs));
    }
    return results;
  } catch (const std::exception& e) {
    // Anything libtorch throws outside the guarded calls above is still the
    // model's side, never the request's.
    results.assign(batch.size(),
                   Internal("model '" + plan_.model_name + "': " + TorchErrorSummary(e)));
    return results;
  }
}

class TorchScriptBackend : public Backend {
 public:
  std::string_view name() const override { return "pytorch"; }

  StatusOr<uint64_t> PredictBytes(const ModelSource& source) override {
    std::string path = ModelPath(source);
    // The Env reports a missing file as an IoError; a model folder without its
    // weights is NotFound, as backend.h promises.
    if (!Env::Default()->Exists(path)) return NotFound(path + ": no such TorchScript file");
    return Env::Default()->FileSize(path);
  }

  StatusOr<std::unique_ptr<ModelInstance>> LoadInstance(const ModelSource& source,
                                                        int index) override;

 private:
  static std::string ModelPath(const ModelSource& source) {
    const std::string& file = source.config.default_model_filename;
    return JoinPath(source.version_dir, file.empty() ? "model.pt" : file);
  }
};

StatusOr<std::unique_ptr<ModelInstance>> TorchScriptBackend::LoadInstance(const ModelSource& source,
                                                                          int /*index*/) {
  const ModelConfig& config = source.config;
  Plan plan;
  plan.model_name = source.name;
  plan.model_version = std::to_string(source.version);
  plan.config_file = JoinPath(source.dir, "config.pbtxt");
  plan.max_batch_size = config.max_batch_size;
  plan.inputs = config.inputs;
  plan.outputs = config.outputs;
  auto bad = [&](const std::string& field, const std::string& what) {
    return BadInput(plan.config_file + ": " + field + ": " + what);
  };
  for (size_t i = 0; i < config.inputs.size(); ++i) {
    auto type = ToTorchType(config.inputs[i].data_type);
    if (!type.ok()) {
      return bad("input[" + std::to_string(i) + "].data_type", type.status().message());
    }
  }
  for (size_t i = 0; i < config.outputs.size(); ++i) {
    auto type = ToTorchType(config.outputs[i].data_type);
    if (!type.ok()) {
      return bad("output[" + std::to_string(i) + "].data_type", type.status().message());
    }
  }
  if (auto it = config.parameters.find(kIntraOpThreads); it != config.parameters.end()) {
    const std::string& text = it->second;
    int threads = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), threads);
    if (ec != std::errc() || end != text.data() + text.size() || threads < 1) {
      return bad(std::string("parameters[") + kIntraOpThreads + "]",
                 "expected a positive integer, got \"" + text + "\"");
    }
    plan.intra_op_threads = threads;
  }

  std::string path = ModelPath(source);
  ASSIGN_OR_RETURN(torch::jit::Module module, LoadTorchScript(path));

  // forward()'s arguments after `self`, to map config inputs onto.
  std::vector<std::string> args;
  try {
    auto forward = module.find_method("forward");
    if (!forward) return BadInput(path + ": the TorchScript module has no forward() method");
    const c10::FunctionSchema& schema = forward->function().getSchema();
    for (size_t i = 1; i < schema.arguments().size(); ++i) {
      args.push_back(schema.arguments()[i].name());
    }
  } catch (const std::exception& e) {
    return BadInput(path + ": reading forward()'s signature: " + TorchErrorSummary(e));
  }
  if (config.inputs.size() > args.size()) {
    return bad("input", std::to_string(config.inputs.size()) + " inputs, but " + path +
                            " forward() takes " + std::to_string(args.size()) + " arguments");
  }
  bool by_name = std::all_of(config.inputs.begin(), config.inputs.end(), [&](const auto& in) {
    return std::find(args.begin(), args.end(), in.name) != args.end();
  });
  if (by_name) {
    for (const TensorConfig& in : config.inputs) plan.input_arg.push_back(in.name);
  } else if (auto indices = IndicesBySuffix(config.inputs, args.size())) {
    for (size_t i : *indices) plan.input_arg.push_back(args[i]);
  } else {
    for (size_t i = 0; i < config.inputs.size(); ++i) plan.input_arg.push_back(args[i]);
  }
  if (auto indices = IndicesBySuffix(config.outputs, 0)) {
    plan.output_index = *indices;
  } else {
    for (size_t i = 0; i < config.outputs.size(); ++i) plan.output_index.push_back(i);
  }
  return std::unique_ptr<ModelInstance>(std::make_unique<TorchInstance>(std::move(plan), module));
}

}  // namespace

std::unique_ptr<Backend> NewTorchScriptBackend() { return std::make_unique<TorchScriptBackend>(); }

}  // namespace sagebox::endpoint
