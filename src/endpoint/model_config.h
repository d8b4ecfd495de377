// model_config.h: a Triton model folder's config.pbtxt as an endpoint::ModelConfig.
//
// The endpoint serves Triton model folders; config.pbtxt (Triton's ModelConfig
// message in protobuf text format) says which backend runs the model, its inputs
// and outputs, how many instances to start and how to batch. The text format is
// parsed here by hand (no protobuf library in the build). Only the part of
// ModelConfig the endpoint acts on is accepted; every other field, and every
// malformed value, is a BadInput naming file:line:col and the field path
// ("input[0].data_type"), because a field we skipped silently (a
// `sequence_batching` strategy, an `ensemble_scheduling`) would make the model
// answer differently from Triton without anyone noticing.
//
// Thread-safety: free functions over values; safe from any thread. LoadModelConfig
// is as thread-safe as the Env it reads through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::endpoint {

// Triton's DataType enum (model_config.proto), TYPE_INVALID excluded from configs.
enum class DataType {
  kInvalid,
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kString,  // KServe calls it BYTES
  kBf16,
};

// "TYPE_FP32" for kFp32: the spelling config.pbtxt uses.
std::string_view TritonTypeName(DataType type);
// The DataType named "TYPE_..."; nullopt for any other text (and for TYPE_INVALID).
std::optional<DataType> DataTypeFromTritonName(std::string_view name);
// KServe v2 / Open Inference Protocol datatype: "FP32", "BYTES" for kString, "" for kInvalid.
std::string ToKServeDatatype(DataType type);
// The DataType of a KServe datatype name ("BYTES" gives kString); nullopt if unknown.
std::optional<DataType> DataTypeFromKServe(std::string_view name);
// Bytes per element: 0 for kString (each BYTES element carries its own length) and kInvalid.
size_t ElementSize(DataType type);

// ModelInput.format: the layout an image input is in (FORMAT_NONE when not given).
enum class TensorFormat { kNone, kNhwc, kNchw };

// One `input` or `output` entry.
struct TensorConfig {
  std::string name;
  DataType data_type = DataType::kInvalid;
  TensorFormat format = TensorFormat::kNone;  // inputs only
  // Without the batch dimension (max_batch_size > 0 adds it); -1 = any size.
  std::vector<int64_t> dims;
  bool optional = false;  // inputs only: a request may leave it out
  // `reshape { shape: [...] }`: the shape the backend sees instead of `dims`.
  std::optional<std::vector<int64_t>> reshape;
  std::string label_filename;  // outputs only: class labels file in the model folder
};

// InstanceGroup.kind.
enum class InstanceKind { kAuto, kCpu, kGpu, kModel };

struct InstanceGroup {
  std::string name;
  InstanceKind kind = InstanceKind::kAuto;
  int32_t count = 1;          // instances per device (per listed GPU for KIND_GPU)
  std::vector<int32_t> gpus;  // empty = all GPUs
};

struct DynamicBatching {
  std::vector<int32_t> preferred_batch_size;
  uint64_t max_queue_delay_microseconds = 0;
};

// ModelSequenceBatching.Control.kind.
enum class SequenceControlKind { kStart, kEnd, kReady, kCorrid };

struct SequenceControl {
  SequenceControlKind kind = SequenceControlKind::kStart;
  std::vector<int32_t> int32_false_true;  // [value when false, value when true]
  std::vector<float> fp32_false_true;
  DataType data_type = DataType::kInvalid;  // CONTROL_SEQUENCE_CORRID only
};

struct SequenceControlInput {
  std::string name;
  std::vector<SequenceControl> control;
};

// `sequence_batching` (Triton's stateful models): the strategy and the control inputs
// the backend expects to be fed per request.
struct SequenceBatching {
  enum class Strategy { kDirect, kOldest };
  Strategy strategy = Strategy::kDirect;
  uint64_t max_sequence_idle_microseconds = 0;  // 0 = Triton's default (1 s)
  // Strategy kOldest (`oldest { ... }`) and the queue delay also for kDirect.
  int32_t max_candidate_sequences = 0;
  std::vector<int32_t> preferred_batch_size;
  uint64_t max_queue_delay_microseconds = 0;
  std::vector<SequenceControlInput> control_input;
};

// `version_policy`: which numbered version folders are served (Triton: latest 1).
struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific };
  Kind kind = Kind::kLatest;
  uint32_t num_versions = 1;      // kLatest
  std::vector<int64_t> versions;  // kSpecific
};

struct ModelConfig {
  std::string name;            // the folder name when config.pbtxt leaves it out, as Triton does
  std::string platform;        // e.g. "onnxruntime_onnx", "pytorch_libtorch"; "" if not given
  std::string backend;         // e.g. "python", "onnxruntime"; "" if not given
  int32_t max_batch_size = 0;  // 0 = the model takes no batch dimension
  std::vector<TensorConfig> inputs;
  std::vector<TensorConfig> outputs;
  std::vector<InstanceGroup> instance_groups;
  std::optional<DynamicBatching> dynamic_batching;  // set iff `dynamic_batching` is present
  std::optional<SequenceBatching> sequence_batching;
  std::map<std::string, std::string> parameters;  // key -> string_value
  VersionPolicy version_policy;
  std::string default_model_filename;

  // The backend that runs the model: `backend` if given, else the one Triton derives
  // from `platform` ("onnxruntime_onnx" -> "onnxruntime", "pytorch_libtorch" ->
  // "pytorch", "tensorflow_*" -> "tensorflow", "tensorrt_plan" -> "tensorrt"),
  // else the platform itself.
  std::string BackendName() const;
};

// Parses config.pbtxt text. `file_for_errors` starts every error message;
// `expected_name` is the model folder's name ("" = no check): Triton requires
// `name` to match it, and fills it in when the file has no `name`.
// Returns BadInput("<file>:<line>:<col>: <field path>: <what was expected>") for a
// syntax error, an unknown field, a value of the wrong kind or range, a field given
// twice that is not repeated, a missing `name` with no folder name, a name that does
// not match the folder, neither `backend` nor `platform`, inputs or outputs without
// a name, data_type or dims (unless reshaped), duplicate input or output names, an
// instance count below 1, or nesting deeper than 64 messages.
StatusOr<ModelConfig> ParseModelConfig(std::string_view text, const std::string& file_for_errors,
                                       const std::string& expected_name = "");

// Reads <model_dir>/config.pbtxt and parses it with the folder's base name as the
// expected name. Returns the Env's error (NotFound, IoError) if the file cannot be
// read, else what ParseModelConfig returns.
StatusOr<ModelConfig> LoadModelConfig(Env* env, const std::string& model_dir);

}  // namespace sagebox::endpoint
