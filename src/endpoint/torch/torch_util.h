// torch_util.h: the bridge between the endpoint's types and libtorch, shared by the
// TorchScript backend (torch_backend.h) and the diffusion pipeline.
//
// Loading a TorchScript archive, measuring what a loaded module holds, and
// converting tensors between endpoint::Tensor (raw little-endian bytes, as they
// come off the wire) and torch::Tensor (CPU). libtorch reports errors by throwing
// c10::Error; every function here catches at this boundary and returns a Status,
// so no exception reaches the serving layer.
//
// This header includes <torch/script.h> (torch::jit::Module is returned by
// value); include it only from .cc files that run TorchScript, never from a
// header the serving layer sees, because each translation unit that includes it
// costs seconds of compile time.
//
// Thread-safety: free functions; safe from any thread. A torch::jit::Module is
// not safe to run from two threads at once: give each thread its own (load it
// once per thread) rather than sharing one.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <string>

#include "core/status.h"
#include "endpoint/model_config.h"
#include "endpoint/tensor.h"

namespace sagebox::endpoint {

// Loads the TorchScript archive at `path` onto the CPU and switches it to eval
// mode (dropout and batch norm behave as in inference, as Triton does).
// NotFound if the file does not exist; BadInput naming the file (and libtorch's
// first message line) if it is not a TorchScript archive libtorch can read
// (random bytes, a pickled state_dict, an archive from a newer PyTorch).
StatusOr<torch::jit::Module> LoadTorchScript(const std::string& path);

// Bytes the module's tensors hold: every parameter, buffer and other tensor
// attribute of the module and its submodules, counted once per storage (tied
// weights and views share one), by the storage's full size. Tensors baked into
// the code as constants (torch.jit.freeze) are not counted. Never fails.
uint64_t ModuleBytes(const torch::jit::Module& module);

// The torch dtype of an endpoint DataType. InvalidArgument for kString and for
// the types libtorch 1.13 lacks (UINT16, UINT32, UINT64), and for kInvalid.
StatusOr<c10::ScalarType> ToTorchType(DataType type);
// The endpoint DataType of a torch dtype; Unimplemented for dtypes Triton has no
// name for (complex, quantized).
StatusOr<DataType> FromTorchType(c10::ScalarType type);

// Copies `tensor` into a new contiguous CPU torch::Tensor of the same shape and
// element type. InvalidArgument naming the tensor if its type has no torch
// dtype (see ToTorchType) or its bytes do not match its shape
// (Tensor::CheckConsistent).
StatusOr<torch::Tensor> ToTorch(const Tensor& tensor);

// Copies a torch::Tensor (any strides; moved to the CPU if needed) into an
// endpoint Tensor called `name`. Unimplemented naming the tensor if its dtype
// has no endpoint DataType; Internal if libtorch fails while copying.
StatusOr<Tensor> FromTorch(const std::string& name, const torch::Tensor& tensor);

// libtorch's error message without the C++ stack trace it appends: the first
// line of what(), for error messages a user reads.
std::string TorchErrorSummary(const std::exception& e);

}  // namespace sagebox::endpoint
