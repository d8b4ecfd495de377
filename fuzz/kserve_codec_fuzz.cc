// Fuzz target for the KServe v2 codec: any bytes, parsed as a whole-JSON body and as a
// binary-extension body (the first two bytes pick the header length), give an
// InferRequest or an InvalidArgument, never a crash. A request that parses keeps the
// promises the server relies on: every input consistent with its shape, unique input
// names; validating it against a fixed config gives OK or InvalidArgument; its inputs,
// encoded as a response (JSON and binary), parse back to the same tensors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "endpoint/kserve_codec.h"

namespace {

using sagebox::StatusCode;
using sagebox::endpoint::EncodeInferResponse;
using sagebox::endpoint::InferRequest;
using sagebox::endpoint::InferResponse;
using sagebox::endpoint::ModelConfig;
using sagebox::endpoint::ParseInferRequest;

const ModelConfig& Config() {
  static const ModelConfig config = [] {
    auto c = sagebox::endpoint::ParseModelConfig(R"(name: "m" backend: "python" max_batch_size: 4
        input [ { name: "a" data_type: TYPE_FP32 dims: [ -1, 2 ] },
                { name: "s" data_type: TYPE_STRING dims: [ 1 ] optional: true } ]
        output [ { name: "o" data_type: TYPE_INT8 dims: [ -1 ] } ])",
                                                 "fuzz.pbtxt", "m");
    if (!c.ok()) __builtin_trap();
    return *c;
  }();
  return config;
}

// Re-encodes the request's inputs as a response and parses that back as a request.
void RoundTrip(const InferRequest& request, bool binary) {
  InferResponse response{"m", "1", request.id, request.inputs};
  auto encoded = EncodeInferResponse(response, {}, binary);
  if (!encoded.ok()) {
    // Only data JSON cannot carry may be refused: FP16/BF16, BYTES that are not UTF-8.
    if (binary || encoded.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
    return;
  }
  const size_t json_len = encoded->header_length.value_or(encoded->body.size());
  auto j = nlohmann::json::parse(encoded->body.substr(0, json_len), nullptr, false);
  if (j.is_discarded()) __builtin_trap();
  std::string body = nlohmann::json{{"inputs", j["outputs"]}}.dump();
  std::optional<size_t> header;
  if (encoded->header_length) {
    header = body.size();
    body += encoded->body.substr(json_len);
  }
  auto back = ParseInferRequest(body, header);
  if (!back.ok() || back->inputs.size() != request.inputs.size()) __builtin_trap();
  for (size_t i = 0; i < back->inputs.size(); ++i) {
    const auto& x = back->inputs[i];
    const auto& y = request.inputs[i];
    if (x.name != y.name || x.datatype != y.datatype || x.shape != y.shape ||
        x.strings != y.strings) {
      __builtin_trap();
    }
    // FP32/FP64 through JSON: -0.0 and NaN payloads aside, bytes match; compare only binary.
    if (binary && x.data != y.data) __builtin_trap();
  }
}

void Check(std::string_view body, std::optional<size_t> header) {
  bool all_binary = false;
  auto request = ParseInferRequest(body, header, &all_binary);
  if (!request.ok()) {
    if (request.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
    return;
  }
  for (const auto& t : request->inputs) {
    if (!t.CheckConsistent().ok()) __builtin_trap();
  }
  InferRequest copy = *request;
  const auto status = sagebox::endpoint::ValidateInferRequest(Config(), &copy);
  if (!status.ok() && status.code() != StatusCode::kInvalidArgument) __builtin_trap();
  RoundTrip(*request, /*binary=*/true);
  RoundTrip(*request, /*binary=*/false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  Check(all, std::nullopt);
  if (size >= 2) {
    const std::string_view body = all.substr(2);
    const size_t header = (static_cast<size_t>(data[0]) << 8) | data[1];
    Check(body, header);
  }
  return 0;
}
