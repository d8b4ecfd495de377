// kserve_codec.h: the KServe v2 / Open Inference Protocol HTTP bodies, as Triton speaks them.
//
// The endpoint's `/v2/models/{m}/infer` route and the SageMaker invocations route
// (whose body the article sends in the v2 shape) decode requests here into the
// shared InferRequest, check them against the model's config as Triton would
// before a backend sees them, and encode InferResponses back. It also renders
// the read-only answers: model metadata (`GET /v2/models/{m}`), the model
// configuration (`GET /v2/models/{m}/config`, Triton's model-configuration
// extension) and the `{"error": "..."}` body.
//
// Sources of the rules (kept in comments beside the code that follows them):
//   - the Open Inference Protocol REST spec (open_inference_rest.yaml, the
//     `$inference_request` / `$inference_response` / `$metadata_model_response` shapes);
//   - Triton's binary tensor data extension (docs/protocol/extension_binary_data.md):
//     `Inference-Header-Content-Length`, `parameters.binary_data_size`,
//     `parameters.binary_data`, `parameters.binary_data_output`, BYTES elements
//     as a 4-byte little-endian length then the bytes;
//   - Triton's model configuration extension (docs/protocol/extension_model_configuration.md)
//     and its ModelConfigToJson (core/src/model_config_utils.cc): the ModelConfig
//     message as protobuf JSON with the proto field names (snake_case), every
//     primitive field printed, enums by name and 64-bit integers as JSON numbers.
//
// Nothing here trusts a size it reads: every count and length taken from a body is
// checked against the bytes actually present before anything is allocated for it.
//
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "endpoint/model_config.h"
#include "endpoint/tensor.h"

namespace sagebox::endpoint {

// The header that says how many leading bytes of a body are JSON (binary-data extension).
inline constexpr std::string_view kInferenceHeaderContentLength = "Inference-Header-Content-Length";

// Parses a v2 inference request body. With `header_length` (the value of the
// Inference-Header-Content-Length header), the JSON is the first header_length bytes and
// every input whose `parameters.binary_data_size` is set takes that many bytes, in input
// order, from the rest of the body; without it the whole body is JSON.
// Returns InvalidArgument naming the input (or field) and what was expected for: a body
// that is not JSON or not an object, a missing or mistyped field, an unknown datatype, a
// negative shape dimension, data whose element count differs from the shape, a value out
// of its datatype's range (300 for INT8, 1.5 for INT32, "x" for FP32), FP16/BF16 given as
// JSON, an input with both `data` and binary_data_size, a header_length beyond the body,
// binary sizes that do not match their tensor or do not add up to the body (missing or
// trailing bytes), a malformed BYTES element in binary form, or a duplicate input or
// output name.
// The request-level `parameters.binary_data_output` (every output as binary data) sets
// binary_data on each listed output, and is also stored in *binary_data_output when that
// is not null, because with no `outputs` listed InferRequest cannot carry it: pass it to
// EncodeInferResponse as `all_binary`.
StatusOr<InferRequest> ParseInferRequest(std::string_view body, std::optional<size_t> header_length,
                                         bool* binary_data_output = nullptr);

// A response body ready to send.
struct EncodedBody {
  std::string body;
  std::string content_type;  // "application/json", or "application/octet-stream" with binary
  // Set when binary tensors follow the JSON: the value for Inference-Header-Content-Length.
  std::optional<size_t> header_length;
};

// Encodes `response` as a v2 inference response. When `requested` is non-empty only those
// outputs are sent, in the model's order; an output goes as binary data when its
// RequestedOutput says so or `all_binary` (the request's `binary_data_output`) is set, else
// as JSON `data` (flat, row-major; BYTES as JSON strings, BOOL as true/false).
// Returns InvalidArgument for a requested output the response does not have, an output
// whose bytes do not match its shape (Tensor::CheckConsistent), or an FP16/BF16 output asked
// for as JSON (the protocol has no JSON form for them), or a BYTES output that is not valid
// UTF-8 asked for as JSON.
StatusOr<EncodedBody> EncodeInferResponse(const InferResponse& response,
                                          const std::vector<RequestedOutput>& requested,
                                          bool all_binary);

// Checks `request` against the model's config as Triton does before running it: every
// input known to the model, every non-optional input present, the datatype the config
// declares (TYPE_STRING = BYTES), the shape matching `dims` (-1 matches any size) after a
// leading batch dimension of 1..max_batch_size when max_batch_size > 0, and the tensor's
// bytes matching its shape; requested outputs must be model outputs. An input with a
// `reshape` is still checked against `dims`, as Triton checks the request's shape against
// `dims` and reshapes only for the backend. Fills nothing in; `request` is not modified
// (it is a pointer so later normalisation can happen here without an API change).
// Returns InvalidArgument with Triton's wording, e.g. "unexpected inference input 'x' for
// model 'm'", "expected 2 inputs but got 1 inputs for model 'm'. Got input(s) ['a'], but
// missing required input(s) ['b']. Please provide all required input(s).", "inference
// input 'a' data-type is 'FP32', but model 'm' expects 'INT32'", "unexpected shape for
// input 'a' for model 'm'. Expected [-1,16], got [1,15]. ...", "inference request batch-size
// must be <= 8 for 'm'".
Status ValidateInferRequest(const ModelConfig& config, InferRequest* request);

// The v2 model metadata answer (GET /v2/models/{m}): name, versions, platform, inputs and
// outputs with name, datatype and shape (a leading -1 when max_batch_size > 0). Never fails.
nlohmann::json ModelMetadataJson(const ModelConfig& config,
                                 const std::vector<std::string>& versions,
                                 std::string_view platform);

// Triton's GET /v2/models/{m}/config answer: the ModelConfig message as Triton prints it
// (proto field names, every primitive field including defaults, enums by name, 64-bit
// integers as numbers). Filled in as Triton's auto-complete does for the fields it always
// sets: `backend` from the platform, `version_policy` {"latest":{"num_versions":1}} by
// default, and one instance group named "<model>_<i>" per group (a config without groups
// gets one KIND_CPU group of count 1, as Triton does on a machine without GPUs). The
// Python backend hands this to model.py as args["model_config"]. Never fails.
nlohmann::json ModelConfigJson(const ModelConfig& config);

// The v2 error body: {"error": message}. Never fails.
nlohmann::json ErrorJson(std::string_view message);

}  // namespace sagebox::endpoint
