#include "pipeline/asl/payload.h"

#include <string>
#include <utility>

#include "fmt/format.h"
#include "pipeline/asl/json_path.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

namespace {

bool IsDynamicKey(const std::string& key) {
  return key.size() > 2 && key.compare(key.size() - 2, 2, ".$") == 0;
}

std::string Escape(const std::string& key) {
  // JSON Pointer escaping (RFC 6901): '~' then '/'.
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out.push_back(c);
  }
  return out;
}

Status Check(const json& node, std::string_view field, const std::string& pointer) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      RETURN_IF_ERROR(Check(node[i], field, fmt::format("{}/{}", pointer, i)));
    }
    return Status::Ok();
  }
  if (!node.is_object()) return Status::Ok();
  for (const auto& [key, value] : node.items()) {
    const std::string here = pointer + "/" + Escape(key);
    if (!IsDynamicKey(key)) {
      RETURN_IF_ERROR(Check(value, field, here));
      continue;
    }
    if (!value.is_string()) {
      return BadInput(
          fmt::format("{}: {}: a key ending in \".$\" needs a string value (a path or an intrinsic "
                      "function), got {}",
                      field, here, value.type_name()));
    }
    const std::string& text = value.get_ref<const std::string&>();
    const Status st =
        IsIntrinsicInvocation(text) ? ParseIntrinsic(text).status() : ParseJsonPath(text).status();
    if (!st.ok()) return BadInput(fmt::format("{}: {}: {}", field, here, st.message()));
  }
  return Status::Ok();
}

std::string Preview(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

AslOr<json> Build(const json& node, const json& input, const json& context,
                  const IntrinsicEnv& env) {
  if (node.is_array()) {
    json out = json::array();
    for (const json& item : node) {
      ASL_ASSIGN_OR_RETURN(json v, Build(item, input, context, env));
      out.push_back(std::move(v));
    }
    return out;
  }
  if (!node.is_object()) return node;
  json out = json::object();
  for (const auto& [key, value] : node.items()) {
    if (!IsDynamicKey(key)) {
      ASL_ASSIGN_OR_RETURN(json v, Build(value, input, context, env));
      out[key] = std::move(v);
      continue;
    }
    const std::string name = key.substr(0, key.size() - 2);
    if (!value.is_string()) {
      return RuntimeError(
          fmt::format("The value for the field '{}' must be a STRING that "
                      "contains a JSONPath or an intrinsic function",
                      key));
    }
    const std::string& text = value.get_ref<const std::string&>();
    if (IsIntrinsicInvocation(text)) {
      ASL_ASSIGN_OR_RETURN(out[name], EvaluateIntrinsic(text, input, context, env));
      continue;
    }
    auto path = ParseJsonPath(text);
    if (!path.ok()) return RuntimeError(path.status().message());
    auto v = EvaluatePath(*path, input, context);
    if (!v.ok()) {
      return RuntimeError(fmt::format(
          "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
          text, key, Preview(path->is_context() ? context : input)));
    }
    out[name] = std::move(v).value();
  }
  return out;
}

}  // namespace

Status CheckPayloadTemplate(const json& tmpl, std::string_view field) {
  return Check(tmpl, field, "");
}

AslOr<json> ApplyPayloadTemplate(const json& tmpl, const json& input, const json& context,
                                 const IntrinsicEnv& env) {
  return Build(tmpl, input, context, env);
}

size_t PayloadBytes(const json& value) {
  // ensure_ascii=false: non-ASCII characters stay UTF-8, as AWS counts them.
  return value.dump(-1, ' ', false, json::error_handler_t::replace).size();
}

AslOr<size_t> CheckPayloadSize(const json& value, std::string_view what, size_t limit) {
  const size_t bytes = PayloadBytes(value);
  if (bytes > limit) {
    return AslError{
        std::string(kStatesDataLimitExceeded),
        fmt::format("{} is {} bytes, over the payload limit of {} bytes", what, bytes, limit)};
  }
  return bytes;
}

}  // namespace sagebox::pipeline::asl
