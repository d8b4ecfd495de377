#include "endpoint/kserve_codec.h"

#include <cstdint>
#include <string>
#include <utility>

namespace sagebox::endpoint {
namespace {

using nlohmann::json;

std::string_view FormatName(TensorFormat f) {
  switch (f) {
    case TensorFormat::kNhwc:
      return "FORMAT_NHWC";
    case TensorFormat::kNchw:
      return "FORMAT_NCHW";
    case TensorFormat::kNone:
      break;
  }
  return "FORMAT_NONE";
}

std::string_view KindName(InstanceKind k) {
  switch (k) {
    case InstanceKind::kGpu:
      return "KIND_GPU";
    case InstanceKind::kModel:
      return "KIND_MODEL";
    case InstanceKind::kCpu:
    case InstanceKind::kAuto:
      // Triton resolves KIND_AUTO when it loads the model: GPU when it has one, else
      // CPU. The endpoint runs on CPUs, so the answer is what Triton says there.
      break;
  }
  return "KIND_CPU";
}

std::string_view ControlKindName(SequenceControlKind k) {
  switch (k) {
    case SequenceControlKind::kEnd:
      return "CONTROL_SEQUENCE_END";
    case SequenceControlKind::kReady:
      return "CONTROL_SEQUENCE_READY";
    case SequenceControlKind::kCorrid:
      return "CONTROL_SEQUENCE_CORRID";
    case SequenceControlKind::kStart:
      break;
  }
  return "CONTROL_SEQUENCE_START";
}

// TYPE_INVALID is the proto's zero value: protobuf prints it by name too.
std::string TritonTypeString(DataType t) {
  if (t == DataType::kInvalid) return "TYPE_INVALID";
  return std::string(TritonTypeName(t));
}

json IoConfigJson(const TensorConfig& t, bool is_input) {
  // Field order and defaults of ModelInput / ModelOutput in model_config.proto; Triton
  // prints with always_print_primitive_fields, so false/"" fields appear too.
  json j = json::object();
  j["name"] = t.name;
  j["data_type"] = TritonTypeString(t.data_type);
  if (is_input) j["format"] = FormatName(t.format);
  j["dims"] = t.dims;
  if (t.reshape) j["reshape"] = {{"shape", *t.reshape}};
  j["is_shape_tensor"] = false;
  if (is_input) {
    j["allow_ragged_batch"] = false;
    j["optional"] = t.optional;
  } else {
    j["label_filename"] = t.label_filename;
  }
  return j;
}

json VersionPolicyJson(const VersionPolicy& v) {
  switch (v.kind) {
    case VersionPolicy::Kind::kAll:
      return {{"all", json::object()}};
    case VersionPolicy::Kind::kSpecific:
      return {{"specific", {{"versions", v.versions}}}};
    case VersionPolicy::Kind::kLatest:
      break;
  }
  return {{"latest", {{"num_versions", v.num_versions}}}};
}

json SequenceBatchingJson(const SequenceBatching& s) {
  json j = json::object();
  j["max_sequence_idle_microseconds"] = s.max_sequence_idle_microseconds;
  json controls = json::array();
  for (const auto& ci : s.control_input) {
    json cs = json::array();
    for (const auto& c : ci.control) {
      cs.push_back({{"kind", ControlKindName(c.kind)},
                    {"int32_false_true", c.int32_false_true},
                    {"fp32_false_true", c.fp32_false_true},
                    {"bool_false_true", json::array()},
                    {"data_type", TritonTypeString(c.data_type)}});
    }
    controls.push_back({{"name", ci.name}, {"control", std::move(cs)}});
  }
  j["control_input"] = std::move(controls);
  j["state"] = json::array();
  if (s.strategy == SequenceBatching::Strategy::kOldest) {
    j["oldest"] = {{"max_candidate_sequences", s.max_candidate_sequences},
                   {"preferred_batch_size", s.preferred_batch_size},
                   {"max_queue_delay_microseconds", s.max_queue_delay_microseconds},
                   {"preserve_ordering", false}};
  } else {
    j["direct"] = {{"max_queue_delay_microseconds", s.max_queue_delay_microseconds},
                   {"minimum_slot_utilization", 0.0}};
  }
  return j;
}

// Replaces bytes that are not UTF-8 with U+FFFD. Config text and error messages may carry
// arbitrary bytes (a pbtxt escape, a name echoed back), and nlohmann throws when it dumps
// invalid UTF-8; what these functions return must always be printable.
json Printable(const json& j) {
  return json::parse(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

nlohmann::json ModelConfigJson(const ModelConfig& config) {
  json j = json::object();
  j["name"] = config.name;
  j["platform"] = config.platform;
  j["backend"] = config.BackendName();
  j["version_policy"] = VersionPolicyJson(config.version_policy);
  j["max_batch_size"] = config.max_batch_size;
  json inputs = json::array();
  for (const auto& t : config.inputs) inputs.push_back(IoConfigJson(t, /*is_input=*/true));
  j["input"] = std::move(inputs);
  json outputs = json::array();
  for (const auto& t : config.outputs) outputs.push_back(IoConfigJson(t, /*is_input=*/false));
  j["output"] = std::move(outputs);
  j["batch_input"] = json::array();
  j["batch_output"] = json::array();
  if (config.dynamic_batching) {
    j["dynamic_batching"] = {
        {"preferred_batch_size", config.dynamic_batching->preferred_batch_size},
        {"max_queue_delay_microseconds", config.dynamic_batching->max_queue_delay_microseconds},
        {"preserve_ordering", false},
        {"priority_levels", 0},
        {"default_priority_level", 0},
        {"priority_queue_policy", json::object()}};
  }
  if (config.sequence_batching)
    j["sequence_batching"] = SequenceBatchingJson(*config.sequence_batching);
  // Triton names unnamed groups "<model>_<index>" and, with no group at all, adds one
  // (model_config_utils.cc, SetDefaultInstanceCount / NormalizeInstanceGroup).
  json groups = json::array();
  std::vector<InstanceGroup> given = config.instance_groups;
  if (given.empty()) given.push_back(InstanceGroup{});
  for (size_t i = 0; i < given.size(); ++i) {
    const InstanceGroup& g = given[i];
    groups.push_back({{"name", g.name.empty() ? config.name + "_" + std::to_string(i) : g.name},
                      {"kind", KindName(g.kind)},
                      {"count", g.count},
                      {"gpus", g.gpus},
                      {"secondary_devices", json::array()},
                      {"profile", json::array()},
                      {"passive", false},
                      {"host_policy", ""}});
  }
  j["instance_group"] = std::move(groups);
  j["default_model_filename"] = config.default_model_filename;
  j["cc_model_filenames"] = json::object();
  j["metric_tags"] = json::object();
  json params = json::object();
  for (const auto& [key, value] : config.parameters) params[key] = {{"string_value", value}};
  j["parameters"] = std::move(params);
  j["model_warmup"] = json::array();
  return Printable(j);
}

nlohmann::json ModelMetadataJson(const ModelConfig& config,
                                 const std::vector<std::string>& versions,
                                 std::string_view platform) {
  // $metadata_model_response in open_inference_rest.yaml; Triton reports the batch
  // dimension as -1 in front of `dims` when the model batches.
  auto tensors = [&config](const std::vector<TensorConfig>& list) {
    json out = json::array();
    for (const auto& t : list) {
      std::vector<int64_t> shape;
      if (config.max_batch_size > 0) shape.push_back(-1);
      shape.insert(shape.end(), t.dims.begin(), t.dims.end());
      out.push_back(
          {{"name", t.name}, {"datatype", ToKServeDatatype(t.data_type)}, {"shape", shape}});
    }
    return out;
  };
  json j = json::object();
  j["name"] = config.name;
  j["versions"] = versions;
  j["platform"] = platform;
  j["inputs"] = tensors(config.inputs);
  j["outputs"] = tensors(config.outputs);
  return Printable(j);
}

nlohmann::json ErrorJson(std::string_view message) {
  return Printable({{"error", std::string(message)}});
}

// TEMPORARY: filled in by the next commits on this branch.
StatusOr<InferRequest> ParseInferRequest(std::string_view, std::optional<size_t>) {
  return Unimplemented("ParseInferRequest");
}
StatusOr<EncodedBody> EncodeInferResponse(const InferResponse&, const std::vector<RequestedOutput>&,
                                          bool) {
  return Unimplemented("EncodeInferResponse");
}
Status ValidateInferRequest(const ModelConfig&, InferRequest*) {
  return Unimplemented("ValidateInferRequest");
}

}  // namespace sagebox::endpoint
