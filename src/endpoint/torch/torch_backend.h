// torch_backend.h: Triton's `pytorch_libtorch` platform (backend "pytorch"):
// TorchScript models run in-process through Debian's libtorch, on the CPU.
//
// A model folder holds config.pbtxt and <version>/model.pt (or the config's
// `default_model_filename`), an archive written by torch.jit.script/trace +
// save. The conventions are Triton's PyTorch backend's:
//   - inputs reach forward() by argument name when every config input is named
//     after one of forward()'s arguments; else by the `NAME__<index>` suffix
//     (INPUT__0 is the first argument) when every input has one; else in
//     config order. Inputs a request leaves out (optional ones) take forward()'s
//     default value.
//   - outputs: `NAME__<index>` picks element <index> of what forward() returns
//     when every output has the suffix; else config order. A forward() returning
//     one tensor is output 0; a tuple or list gives outputs in order.
//   - max_batch_size > 0: a batch of requests runs as ONE forward() call on the
//     inputs concatenated along dimension 0, and each output is split back by
//     the requests' batch sizes (what makes dynamic batching pay off). Requests
//     whose non-batch dimensions differ run one by one. max_batch_size 0 runs
//     each request on its own, shapes as sent.
//   - `reshape` on an input or output is honoured (the model sees / returns the
//     reshaped shape; the client sees `dims`).
//   - parameter INTRA_OP_THREAD_COUNT (a positive integer) sets libtorch's
//     intra-op threads for this model's forward() calls. libtorch keeps that
//     setting per calling thread (OpenMP) with a process-wide default for new
//     threads, so it is applied on the executing thread before each call, and
//     also becomes the default for threads started afterwards. Without it,
//     libtorch's default applies (OMP_NUM_THREADS, else one per physical core).
//     Other Triton PyTorch parameters (DISABLE_OPTIMIZED_EXECUTION, ...) are
//     accepted and ignored.
// Every forward() runs under torch::NoGradGuard and c10::InferenceMode.
//
// Sizes: PredictBytes is the size of model.pt (the archive stores the weights
// uncompressed, so it is close to what loading allocates); MeasuredBytes is
// what the loaded module's tensors hold (ModuleBytes in torch_util.h).
//
// Errors: a request that does not fit the config (missing or unknown input,
// wrong datatype or shape, an argument forward() refuses before running) is
// InvalidArgument; a failure inside forward() or outputs that do not match
// the config are Internal (the model's fault: SageMaker's ModelError).
//
// This header does not include libtorch, so the serving layer can register the
// backend without paying for torch's headers.
//
// Thread-safety: the Backend is safe for concurrent use. Each ModelInstance
// loads and owns its own module copy, so different instances run concurrently;
// one instance is used by one thread at a time (backend.h).
#pragma once

#include <memory>

#include "endpoint/backend.h"

namespace sagebox::endpoint {

// The TorchScript backend; name() is "pytorch" (what ModelConfig::BackendName()
// gives for platform "pytorch_libtorch"). Never fails.
std::unique_ptr<Backend> NewTorchScriptBackend();

}  // namespace sagebox::endpoint
