#include "endpoint/kserve_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
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

// ============================================================== inference requests
//
// Request shape: $inference_request / $request_input / $request_output in
// open_inference_rest.yaml. Binary data: Triton's binary tensor data extension
// (docs/protocol/extension_binary_data.md): the JSON is the first
// Inference-Header-Content-Length bytes; each input with `parameters.binary_data_size`
// takes that many bytes, in input order, from what follows; data is little-endian,
// row-major, BOOL one byte, BYTES each element a 4-byte little-endian length then the
// bytes.

namespace {

// Tensors are raw little-endian bytes (tensor.h); copying host values with memcpy is
// only right on a little-endian host.
static_assert(std::endian::native == std::endian::little, "tensor bytes are little-endian");

// Nested `data` deeper than this is refused rather than followed (a shape has far fewer
// dimensions; the bound keeps the recursion below small).
constexpr int kMaxDataDepth = 64;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

// What a JSON value is, for messages ("a string", "a number 1.5").
std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "the number " + v.dump();
  }
}

// Collects the leaves of `data` in row-major order (nested arrays are flattened).
Status Flatten(const json& v, int depth, const std::string& input, std::vector<const json*>* out) {
  if (!v.is_array()) {
    out->push_back(&v);
    return Status::Ok();
  }
  if (depth >= kMaxDataDepth) {
    return InvalidArgument("input " + Quote(input) + ": 'data' is nested deeper than " +
                           std::to_string(kMaxDataDepth) + " arrays");
  }
  for (const auto& e : v) RETURN_IF_ERROR(Flatten(e, depth + 1, input, out));
  return Status::Ok();
}

template <typename T>
void AppendRaw(T value, std::string* out) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out->append(buf, sizeof(T));
}

template <typename T>
T ReadRaw(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// One JSON element of an integer datatype: an integer within T's range, nothing else.
template <typename T>
Status AppendInteger(const json& v, std::string_view type_name, size_t index,
                     const std::string& input, std::string* out) {
  bool ok = false;
  T value{};
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      value = static_cast<T>(u);
      ok = true;
    }
  } else if (v.is_number_integer()) {
    const auto i = v.get<int64_t>();
    if constexpr (std::is_signed_v<T>) {
      if (i >= std::numeric_limits<T>::min() && i <= std::numeric_limits<T>::max()) {
        value = static_cast<T>(i);
        ok = true;
      }
    } else if (i >= 0 && static_cast<uint64_t>(i) <= std::numeric_limits<T>::max()) {
      value = static_cast<T>(i);
      ok = true;
    }
  }
  if (!ok) {
    return InvalidArgument("input " + Quote(input) + ": data[" + std::to_string(index) + "] is " +
                           Describe(v) + ", expected an integer in the range of " +
                           std::string(type_name) + " (" +
                           std::to_string(std::numeric_limits<T>::min()) + " to " +
                           std::to_string(std::numeric_limits<T>::max()) + ")");
  }
  AppendRaw(value, out);
  return Status::Ok();
}

// Fills t.data / t.strings from the flattened JSON `data` of a tensor of t.datatype.
Status DecodeJsonData(const std::vector<const json*>& leaves, Tensor* t) {
  const std::string type_name = ToKServeDatatype(t->datatype);
  const std::string& in = t->name;
  auto element_error = [&](size_t i, const std::string& expected) {
    return InvalidArgument("input " + Quote(in) + ": data[" + std::to_string(i) + "] is " +
                           Describe(*leaves[i]) + ", expected " + expected + " for " + type_name);
  };
  if (t->datatype == DataType::kFp16 || t->datatype == DataType::kBf16) {
    // JSON has no 16-bit float form; the binary-data extension is the way to send them.
    return InvalidArgument("input " + Quote(in) + ": " + type_name +
                           " data cannot be given as JSON; send it as binary data "
                           "(parameters.binary_data_size)");
  }
  if (t->datatype == DataType::kString) {
    t->strings.reserve(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (!leaves[i]->is_string()) return element_error(i, "a string");
      t->strings.push_back(leaves[i]->get<std::string>());
    }
    return Status::Ok();
  }
  t->data.reserve(leaves.size() * ElementSize(t->datatype));
  for (size_t i = 0; i < leaves.size(); ++i) {
    const json& v = *leaves[i];
    switch (t->datatype) {
      case DataType::kBool:
        if (!v.is_boolean()) return element_error(i, "true or false");
        t->data.push_back(v.get<bool>() ? '\1' : '\0');
        break;
      case DataType::kUint8:
        RETURN_IF_ERROR(AppendInteger<uint8_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kUint16:
        RETURN_IF_ERROR(AppendInteger<uint16_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kUint32:
        RETURN_IF_ERROR(AppendInteger<uint32_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kUint64:
        RETURN_IF_ERROR(AppendInteger<uint64_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kInt8:
        RETURN_IF_ERROR(AppendInteger<int8_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kInt16:
        RETURN_IF_ERROR(AppendInteger<int16_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kInt32:
        RETURN_IF_ERROR(AppendInteger<int32_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kInt64:
        RETURN_IF_ERROR(AppendInteger<int64_t>(v, type_name, i, in, &t->data));
        break;
      case DataType::kFp32: {
        if (!v.is_number()) return element_error(i, "a number");
        const auto d = v.get<double>();
        // A finite double beyond FLT_MAX would silently become infinity.
        if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max())) {
          return element_error(i, "a number within the range of FP32");
        }
        AppendRaw(static_cast<float>(d), &t->data);
        break;
      }
      case DataType::kFp64:
        if (!v.is_number()) return element_error(i, "a number");
        AppendRaw(v.get<double>(), &t->data);
        break;
      default:
        return InvalidArgument("input " + Quote(in) + ": datatype " + type_name +
                               " cannot be given as JSON");
    }
  }
  return Status::Ok();
}

// Takes the binary bytes of `t` (exactly `size` of them, already known to be present).
Status DecodeBinaryData(std::string_view bytes, Tensor* t) {
  const std::string& in = t->name;
  const int64_t n = t->ElementCount();  // checked >= 0 by the caller
  if (t->datatype != DataType::kString) {
    const uint64_t elem = ElementSize(t->datatype);
    // n * elem cannot overflow: n <= INT64_MAX and elem <= 8, but compare by division to
    // be plain about it.
    if (static_cast<uint64_t>(n) > bytes.size() / elem ||
        static_cast<uint64_t>(n) * elem != bytes.size()) {
      return InvalidArgument("input " + Quote(in) + ": binary_data_size is " +
                             std::to_string(bytes.size()) + " but shape " + ShapeString(t->shape) +
                             " of " + ToKServeDatatype(t->datatype) + " needs " +
                             (static_cast<uint64_t>(n) > std::numeric_limits<uint64_t>::max() / elem
                                  ? std::string("more")
                                  : std::to_string(static_cast<uint64_t>(n) * elem)) +
                             " bytes");
    }
    t->data.assign(bytes.data(), bytes.size());
    return Status::Ok();
  }
  // BYTES: each element a 4-byte little-endian length, then that many bytes.
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) {
      return InvalidArgument("input " + Quote(in) + ": BYTES element " +
                             std::to_string(t->strings.size()) +
                             " is cut short: a 4-byte length was expected, " +
                             std::to_string(bytes.size() - pos) + " bytes are left");
    }
    const auto len = ReadRaw<uint32_t>(bytes.data() + pos);
    pos += 4;
    if (len > bytes.size() - pos) {
      return InvalidArgument("input " + Quote(in) + ": BYTES element " +
                             std::to_string(t->strings.size()) + " says " + std::to_string(len) +
                             " bytes but only " + std::to_string(bytes.size() - pos) +
                             " are left in its binary_data_size");
    }
    if (static_cast<int64_t>(t->strings.size()) >= n) {
      return InvalidArgument("input " + Quote(in) + ": binary data holds more than the " +
                             std::to_string(n) + " BYTES elements of shape " +
                             ShapeString(t->shape));
    }
    t->strings.emplace_back(bytes.substr(pos, len));
    pos += len;
  }
  if (static_cast<int64_t>(t->strings.size()) != n) {
    return InvalidArgument("input " + Quote(in) + ": binary data holds " +
                           std::to_string(t->strings.size()) + " BYTES elements but shape " +
                           ShapeString(t->shape) + " needs " + std::to_string(n));
  }
  return Status::Ok();
}

// `parameters`, if present, must be an object; returns nullptr when absent.
StatusOr<const json*> Parameters(const json& owner, const std::string& where) {
  auto it = owner.find("parameters");
  if (it == owner.end()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) {
    return InvalidArgument(where + ": 'parameters' is " + Describe(*it) + ", expected an object");
  }
  return &*it;
}

struct PendingBinary {
  size_t input_index;
  uint64_t size;
};

Status ParseInput(const json& j, size_t index, Tensor* t, std::optional<uint64_t>* binary_size) {
  const std::string at = "inputs[" + std::to_string(index) + "]";
  if (!j.is_object()) return InvalidArgument(at + " is " + Describe(j) + ", expected an object");
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgument(at + ": 'name' must be a non-empty string");
  }
  t->name = name->get<std::string>();
  const std::string where = "input " + Quote(t->name);

  auto datatype = j.find("datatype");
  if (datatype == j.end() || !datatype->is_string()) {
    return InvalidArgument(where + ": 'datatype' must be a string such as \"FP32\" or \"BYTES\"");
  }
  auto type = DataTypeFromKServe(datatype->get<std::string>());
  if (!type || *type == DataType::kInvalid) {
    return InvalidArgument(where + ": unknown datatype '" + datatype->get<std::string>() +
                           "', expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, "
                           "INT16, INT32, INT64, FP16, FP32, FP64, BF16, BYTES");
  }
  t->datatype = *type;

  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array()) {
    return InvalidArgument(where + ": 'shape' must be an array of dimensions");
  }
  for (const auto& d : *shape) {
    if (d.is_number_unsigned() &&
        d.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      t->shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    } else if (d.is_number_integer() && d.get<int64_t>() >= 0) {
      t->shape.push_back(d.get<int64_t>());
    } else {
      return InvalidArgument(where + ": shape dimension " + std::to_string(t->shape.size()) +
                             " is " + Describe(d) + ", expected an integer >= 0");
    }
  }
  const int64_t n = t->ElementCount();
  if (n < 0) return InvalidArgument(where + ": shape " + ShapeString(t->shape) + " is too large");

  ASSIGN_OR_RETURN(const json* params, Parameters(j, where));
  if (params != nullptr) {
    auto size = params->find("binary_data_size");
    if (size != params->end()) {
      if (!size->is_number_unsigned() &&
          !(size->is_number_integer() && size->get<int64_t>() >= 0)) {
        return InvalidArgument(where + ": parameters.binary_data_size is " + Describe(*size) +
                               ", expected an integer >= 0");
      }
      *binary_size = size->get<uint64_t>();
    }
  }
  auto data = j.find("data");
  if (binary_size->has_value()) {
    if (data != j.end()) {
      return InvalidArgument(where +
                             ": has both 'data' and parameters.binary_data_size; "
                             "give one of them");
    }
    return Status::Ok();
  }
  if (data == j.end()) {
    return InvalidArgument(where + ": has neither 'data' nor parameters.binary_data_size");
  }
  std::vector<const json*> leaves;
  RETURN_IF_ERROR(Flatten(*data, 0, t->name, &leaves));
  if (static_cast<uint64_t>(leaves.size()) != static_cast<uint64_t>(n)) {
    return InvalidArgument(where + ": 'data' has " + std::to_string(leaves.size()) +
                           " elements but shape " + ShapeString(t->shape) + " needs " +
                           std::to_string(n));
  }
  return DecodeJsonData(leaves, t);
}

Status ParseOutput(const json& j, size_t index, RequestedOutput* out) {
  const std::string at = "outputs[" + std::to_string(index) + "]";
  if (!j.is_object()) return InvalidArgument(at + " is " + Describe(j) + ", expected an object");
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgument(at + ": 'name' must be a non-empty string");
  }
  out->name = name->get<std::string>();
  ASSIGN_OR_RETURN(const json* params, Parameters(j, "output " + Quote(out->name)));
  if (params != nullptr) {
    auto binary = params->find("binary_data");
    if (binary != params->end()) {
      if (!binary->is_boolean()) {
        return InvalidArgument("output " + Quote(out->name) + ": parameters.binary_data is " +
                               Describe(*binary) + ", expected true or false");
      }
      out->binary_data = binary->get<bool>();
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<InferRequest> ParseInferRequest(std::string_view body, std::optional<size_t> header_length,
                                         bool* binary_data_output) {
  if (binary_data_output != nullptr) *binary_data_output = false;
  std::string_view text = body;
  std::string_view binary;
  if (header_length) {
    if (*header_length > body.size()) {
      return InvalidArgument(std::string(kInferenceHeaderContentLength) + " is " +
                             std::to_string(*header_length) + " but the body has only " +
                             std::to_string(body.size()) + " bytes");
    }
    text = body.substr(0, *header_length);
    binary = body.substr(*header_length);
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) {
    return InvalidArgument("the request body is " + Describe(j) + ", expected a JSON object");
  }

  InferRequest request;
  if (auto id = j.find("id"); id != j.end()) {
    if (!id->is_string())
      return InvalidArgument("'id' is " + Describe(*id) + ", expected a string");
    request.id = id->get<std::string>();
  }
  bool all_binary = false;
  ASSIGN_OR_RETURN(const json* params, Parameters(j, "the request"));
  if (params != nullptr) {
    if (auto b = params->find("binary_data_output"); b != params->end()) {
      if (!b->is_boolean()) {
        return InvalidArgument("parameters.binary_data_output is " + Describe(*b) +
                               ", expected true or false");
      }
      all_binary = b->get<bool>();
    }
  }

  auto inputs = j.find("inputs");
  if (inputs == j.end() || !inputs->is_array()) {
    return InvalidArgument("'inputs' must be an array of input tensors");
  }
  std::vector<PendingBinary> pending;
  std::set<std::string> names;
  for (size_t i = 0; i < inputs->size(); ++i) {
    Tensor t;
    std::optional<uint64_t> binary_size;
    RETURN_IF_ERROR(ParseInput((*inputs)[i], i, &t, &binary_size));
    if (!names.insert(t.name).second) {
      return InvalidArgument("input " + Quote(t.name) + " is given more than once");
    }
    if (binary_size) pending.push_back({i, *binary_size});
    request.inputs.push_back(std::move(t));
  }

  // The binary sections follow the JSON in input order and must cover the rest exactly.
  if (!pending.empty() && !header_length) {
    return InvalidArgument("input " + Quote(request.inputs[pending[0].input_index].name) +
                           " has parameters.binary_data_size but the request has no " +
                           std::string(kInferenceHeaderContentLength) + " header");
  }
  size_t pos = 0;
  for (const auto& p : pending) {
    Tensor& t = request.inputs[p.input_index];
    if (p.size > binary.size() - pos) {
      return InvalidArgument("input " + Quote(t.name) + ": binary_data_size is " +
                             std::to_string(p.size) + " but only " +
                             std::to_string(binary.size() - pos) +
                             " bytes of binary data are left in the body");
    }
    RETURN_IF_ERROR(DecodeBinaryData(binary.substr(pos, p.size), &t));
    pos += p.size;
  }
  if (pos != binary.size()) {
    return InvalidArgument("the body has " + std::to_string(binary.size() - pos) +
                           " bytes after the JSON header and the inputs' binary data " +
                           "(binary_data_size values add up to " + std::to_string(pos) + ")");
  }

  if (auto outputs = j.find("outputs"); outputs != j.end()) {
    if (!outputs->is_array()) return InvalidArgument("'outputs' must be an array");
    std::set<std::string> out_names;
    for (size_t i = 0; i < outputs->size(); ++i) {
      RequestedOutput out;
      RETURN_IF_ERROR(ParseOutput((*outputs)[i], i, &out));
      if (!out_names.insert(out.name).second) {
        return InvalidArgument("output " + Quote(out.name) + " is requested more than once");
      }
      if (all_binary) out.binary_data = true;
      request.outputs.push_back(std::move(out));
    }
  }
  if (binary_data_output != nullptr) *binary_data_output = all_binary;
  return request;
}

// ============================================================= inference responses

namespace {

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c >> 5) == 0x6) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

template <typename T>
json NumbersJson(const std::string& data) {
  json out = json::array();
  for (size_t off = 0; off + sizeof(T) <= data.size(); off += sizeof(T)) {
    const T v = ReadRaw<T>(data.data() + off);
    if constexpr (std::is_same_v<T, float>) {
      // Printed through double: nlohmann writes the shortest text that reads back as the
      // same double, and that double converts back to the same float.
      out.push_back(static_cast<double>(v));
    } else {
      out.push_back(v);
    }
  }
  return out;
}

StatusOr<json> OutputDataJson(const Tensor& t) {
  const std::string where = "output " + Quote(t.name);
  switch (t.datatype) {
    case DataType::kBool: {
      json out = json::array();
      for (const char c : t.data) out.push_back(c != 0);
      return out;
    }
    case DataType::kUint8:
      return NumbersJson<uint8_t>(t.data);
    case DataType::kUint16:
      return NumbersJson<uint16_t>(t.data);
    case DataType::kUint32:
      return NumbersJson<uint32_t>(t.data);
    case DataType::kUint64:
      return NumbersJson<uint64_t>(t.data);
    case DataType::kInt8:
      return NumbersJson<int8_t>(t.data);
    case DataType::kInt16:
      return NumbersJson<int16_t>(t.data);
    case DataType::kInt32:
      return NumbersJson<int32_t>(t.data);
    case DataType::kInt64:
      return NumbersJson<int64_t>(t.data);
    case DataType::kFp32:
      return NumbersJson<float>(t.data);
    case DataType::kFp64:
      return NumbersJson<double>(t.data);
    case DataType::kString: {
      json out = json::array();
      for (size_t i = 0; i < t.strings.size(); ++i) {
        if (!IsUtf8(t.strings[i])) {
          return InvalidArgument(where + ": BYTES element " + std::to_string(i) +
                                 " is not UTF-8 text and cannot be sent as a JSON string; "
                                 "request the output as binary data");
        }
        out.push_back(t.strings[i]);
      }
      return out;
    }
    default:
      return InvalidArgument(where + ": " + ToKServeDatatype(t.datatype) +
                             " has no JSON form; request the output as binary data");
  }
}

Status AppendBinary(const Tensor& t, std::string* out) {
  if (t.datatype != DataType::kString) {
    out->append(t.data);
    return Status::Ok();
  }
  for (const auto& s : t.strings) {
    if (s.size() > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgument("output " + Quote(t.name) +
                             ": a BYTES element is longer than the 4-byte length allows");
    }
    AppendRaw(static_cast<uint32_t>(s.size()), out);
    out->append(s);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<EncodedBody> EncodeInferResponse(const InferResponse& response,
                                          const std::vector<RequestedOutput>& requested,
                                          bool all_binary) {
  // Which outputs go, and how: every one when nothing was requested.
  std::vector<std::pair<const Tensor*, bool>> chosen;
  if (requested.empty()) {
    for (const auto& t : response.outputs) chosen.emplace_back(&t, all_binary);
  } else {
    for (const auto& r : requested) {
      auto it = std::find_if(response.outputs.begin(), response.outputs.end(),
                             [&r](const Tensor& t) { return t.name == r.name; });
      if (it == response.outputs.end()) {
        return InvalidArgument("unexpected inference output " + Quote(r.name) + " for model " +
                               Quote(response.model_name));
      }
    }
    // In the model's (response's) order, as Triton answers.
    for (const auto& t : response.outputs) {
      for (const auto& r : requested) {
        if (r.name == t.name) {
          chosen.emplace_back(&t, r.binary_data || all_binary);
          break;
        }
      }
    }
  }

  json j = json::object();
  j["model_name"] = response.model_name;
  j["model_version"] = response.model_version;
  if (!response.id.empty()) j["id"] = response.id;
  json outputs = json::array();
  std::string binary;
  bool any_binary = false;
  for (const auto& [t, as_binary] : chosen) {
    RETURN_IF_ERROR(t->CheckConsistent());
    json o = {{"name", t->name}, {"datatype", ToKServeDatatype(t->datatype)}, {"shape", t->shape}};
    if (as_binary) {
      const size_t before = binary.size();
      RETURN_IF_ERROR(AppendBinary(*t, &binary));
      o["parameters"] = {{"binary_data_size", binary.size() - before}};
      any_binary = true;
    } else {
      ASSIGN_OR_RETURN(o["data"], OutputDataJson(*t));
    }
    outputs.push_back(std::move(o));
  }
  j["outputs"] = std::move(outputs);

  EncodedBody out;
  // Names and ids come from requests and backends; never let a stray byte throw here.
  out.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (any_binary) {
    out.header_length = out.body.size();
    out.body += binary;
    out.content_type = "application/octet-stream";
  } else {
    out.content_type = "application/json";
  }
  return out;
}

// ====================================================================== validation
//
// As Triton's InferenceRequest::ValidateRequestInputs / Normalize do
// (core/src/infer_request.cc), with its messages.

Status ValidateInferRequest(const ModelConfig& config, InferRequest* request) {
  const std::string model = Quote(config.name);
  std::set<std::string> given;
  for (const auto& t : request->inputs) {
    auto it = std::find_if(config.inputs.begin(), config.inputs.end(),
                           [&t](const TensorConfig& c) { return c.name == t.name; });
    if (it == config.inputs.end()) {
      return InvalidArgument("unexpected inference input " + Quote(t.name) + " for model " + model);
    }
    if (!given.insert(t.name).second) {
      return InvalidArgument("input " + Quote(t.name) + " is given more than once for model " +
                             model);
    }
  }
  std::vector<std::string> missing;
  size_t required = 0;
  for (const auto& c : config.inputs) {
    if (c.optional) continue;
    ++required;
    if (given.count(c.name) == 0) missing.push_back(c.name);
  }
  if (!missing.empty()) {
    auto list = [](const auto& names) {
      std::string s = "[";
      bool first = true;
      for (const auto& n : names) {
        if (!first) s += ",";
        s += Quote(n);
        first = false;
      }
      return s + "]";
    };
    const std::string expected =
        required == config.inputs.size()
            ? std::to_string(required)
            : std::to_string(required) + " to " + std::to_string(config.inputs.size());
    return InvalidArgument("expected " + expected + " inputs but got " +
                           std::to_string(request->inputs.size()) + " inputs for model " + model +
                           ". Got input(s) " + list(given) + ", but missing required input(s) " +
                           list(missing) + ". Please provide all required input(s).");
  }

  std::optional<int64_t> batch;
  for (const auto& t : request->inputs) {
    const TensorConfig& c = *std::find_if(config.inputs.begin(), config.inputs.end(),
                                          [&t](const TensorConfig& x) { return x.name == t.name; });
    if (t.datatype != c.data_type) {
      return InvalidArgument("inference input " + Quote(t.name) + " data-type is " +
                             Quote(ToKServeDatatype(t.datatype)) + ", but model " + model +
                             " expects " + Quote(ToKServeDatatype(c.data_type)));
    }
    RETURN_IF_ERROR(t.CheckConsistent());
    std::vector<int64_t> expected = c.dims;
    if (config.max_batch_size > 0) expected.insert(expected.begin(), -1);
    // The shape first: a request that forgot the batch dimension would otherwise be told
    // its first dimension is a batch size that is too large, which misleads.
    bool match = t.shape.size() == expected.size();
    for (size_t i = 0; match && i < t.shape.size(); ++i) {
      if (expected[i] != -1 && expected[i] != t.shape[i]) match = false;
    }
    if (!match) {
      std::string note;
      if (config.max_batch_size > 0) {
        note =
            " NOTE: Setting a non-zero max_batch_size in the model config requires a batch "
            "dimension to be prepended to each input shape.";
      }
      return InvalidArgument("unexpected shape for input " + Quote(t.name) + " for model " + model +
                             ". Expected " + ShapeString(expected) + ", got " +
                             ShapeString(t.shape) + "." + note);
    }
    if (config.max_batch_size > 0) {
      const int64_t b = t.shape[0];  // the shape has the batch dimension: it matched
      if (b > config.max_batch_size) {
        return InvalidArgument(
            "inference request batch-size must be <= " + std::to_string(config.max_batch_size) +
            " for " + model + " (input " + Quote(t.name) + " has batch-size " + std::to_string(b) +
            ")");
      }
      if (b < 1) {
        return InvalidArgument("inference request batch-size must be >= 1 for " + model +
                               " (input " + Quote(t.name) + " has batch-size " + std::to_string(b) +
                               ")");
      }
      if (batch && *batch != b) {
        return InvalidArgument("input " + Quote(t.name) + " batch size " + std::to_string(b) +
                               " does not match other inputs' batch size " +
                               std::to_string(*batch) + " for model " + model);
      }
      batch = b;
    }
  }

  std::set<std::string> outs;
  for (const auto& o : request->outputs) {
    auto it = std::find_if(config.outputs.begin(), config.outputs.end(),
                           [&o](const TensorConfig& c) { return c.name == o.name; });
    if (it == config.outputs.end()) {
      return InvalidArgument("unexpected inference output " + Quote(o.name) + " for model " +
                             model);
    }
    if (!outs.insert(o.name).second) {
      return InvalidArgument("output " + Quote(o.name) + " is requested more than once");
    }
  }
  return Status::Ok();
}

}  // namespace sagebox::endpoint
