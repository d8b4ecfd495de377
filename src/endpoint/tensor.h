// tensor.h: the tensors, requests and responses every endpoint API and backend shares.
//
// One in-memory shape for an inference, whatever carried it (KServe v2 JSON,
// the binary-data extension, a SageMaker body, a Python backend child): the APIs
// decode into these types, the batcher queues them, the backends read and
// write them. Fixed-size elements are raw little-endian bytes in row-major
// order, as KServe's binary extension and TorchScript's CPU tensors lay them
// out, so a tensor crosses from the wire to a backend without a conversion.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "endpoint/model_config.h"

namespace sagebox::endpoint {

struct Tensor {
  std::string name;
  DataType datatype = DataType::kInvalid;
  std::vector<int64_t> shape;
  // Fixed-size types: ElementCount() * ElementSize(datatype) bytes, little-endian,
  // row-major. Empty for kString.
  std::string data;
  // kString (KServe BYTES): one entry per element, row-major. Empty otherwise.
  std::vector<std::string> strings;

  // Product of `shape` (1 for a scalar); -1 if a dimension is negative or the
  // product overflows int64.
  int64_t ElementCount() const;
  // OK when `data` / `strings` hold exactly ElementCount() elements of `datatype`;
  // InvalidArgument naming the tensor otherwise.
  Status CheckConsistent() const;
};

// An output the caller asked for, and how it wants it sent back.
struct RequestedOutput {
  std::string name;
  bool binary_data = false;  // KServe binary-data extension: raw bytes after the JSON
};

struct InferRequest {
  std::string id;  // echoed in the response; may be empty
  std::vector<Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output of the model, as JSON
};

struct InferResponse {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<Tensor> outputs;
};

// The input named `name`, or nullptr.
const Tensor* FindInput(const InferRequest& request, const std::string& name);

}  // namespace sagebox::endpoint
