#include "endpoint/kserve_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/env.h"

namespace sagebox::endpoint {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Data(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/endpoint/" + rel;
}

ModelConfig LoadOk(const std::string& rel) {
  auto c = LoadModelConfig(Env::Default(), Data(rel));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : ModelConfig{};
}

// ---------------------------------------------------------------- helpers

template <typename T>
std::string Raw(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
std::vector<T> Values(const std::string& raw) {
  std::vector<T> out(raw.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), raw.data(), out.size() * sizeof(T));
  return out;
}

Tensor Fixed(const std::string& name, DataType type, std::vector<int64_t> shape, std::string data) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

Tensor Strings(const std::string& name, std::vector<int64_t> shape, std::vector<std::string> s) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kString;
  t.shape = std::move(shape);
  t.strings = std::move(s);
  return t;
}

// One tensor of each datatype with its edge values, shaped [2, n/2] or [n].
std::vector<Tensor> EveryType() {
  return {
      Fixed("bool", DataType::kBool, {2, 2}, std::string("\1\0\0\1", 4)),
      Fixed("u8", DataType::kUint8, {3}, Raw<uint8_t>({0, 1, 255})),
      Fixed("u16", DataType::kUint16, {3}, Raw<uint16_t>({0, 7, 65535})),
      Fixed("u32", DataType::kUint32, {3}, Raw<uint32_t>({0, 7, 4294967295U})),
      Fixed("u64", DataType::kUint64, {3},
            Raw<uint64_t>({0, 7, std::numeric_limits<uint64_t>::max()})),
      Fixed("i8", DataType::kInt8, {3}, Raw<int8_t>({-128, 0, 127})),
      Fixed("i16", DataType::kInt16, {3}, Raw<int16_t>({-32768, 0, 32767})),
      Fixed("i32", DataType::kInt32, {3},
            Raw<int32_t>({std::numeric_limits<int32_t>::min(), 0, 2147483647})),
      Fixed("i64", DataType::kInt64, {3},
            Raw<int64_t>(
                {std::numeric_limits<int64_t>::min(), -1, std::numeric_limits<int64_t>::max()})),
      Fixed("f32", DataType::kFp32, {2, 3},
            Raw<float>({0.1F, -1.0F / 3.0F, std::numeric_limits<float>::max(),
                        std::numeric_limits<float>::denorm_min(), -0.0F, 16777217.0F})),
      Fixed("f64", DataType::kFp64, {2, 2},
            Raw<double>({0.1, -1.0 / 3.0, std::numeric_limits<double>::max(),
                         std::numeric_limits<double>::denorm_min()})),
      Strings("bytes", {1, 3}, {"", "héllo", "Infinity pool"}),
  };
}

void ExpectSameTensor(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.datatype, want.datatype) << want.name;
  EXPECT_EQ(got.shape, want.shape) << want.name;
  EXPECT_EQ(got.data, want.data) << want.name;
  EXPECT_EQ(got.strings, want.strings) << want.name;
}

// Turns an encoded response into a request carrying the same tensors as inputs: the
// response's "outputs" array is a valid "inputs" array, binary sections included.
std::pair<std::string, std::optional<size_t>> AsRequest(const EncodedBody& encoded) {
  const size_t json_len = encoded.header_length.value_or(encoded.body.size());
  json j = json::parse(encoded.body.substr(0, json_len));
  json request = {{"inputs", j["outputs"]}};
  std::string body = request.dump();
  std::optional<size_t> header;
  if (encoded.header_length) {
    header = body.size();
    body += encoded.body.substr(json_len);
  }
  return {body, header};
}

InferRequest ParseOk(std::string_view body, std::optional<size_t> header = std::nullopt) {
  auto r = ParseInferRequest(body, header);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : InferRequest{};
}

// The message of a request that must fail with InvalidArgument.
std::string ParseError(std::string_view body, std::optional<size_t> header = std::nullopt) {
  auto r = ParseInferRequest(body, header);
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}

// A binary-extension body: the JSON, then the sections.
std::string WithBinary(const json& header, const std::string& binary, size_t* header_length) {
  std::string body = header.dump();
  *header_length = body.size();
  return body + binary;
}

// ---------------------------------------------------------------- round trips

TEST(KServeCodecTest, EveryDatatypeRoundTripsThroughJson) {
  InferResponse response{"m", "1", "req-1", {}};
  for (auto& t : EveryType()) response.outputs.push_back(t);
  auto encoded = EncodeInferResponse(response, {}, /*all_binary=*/false);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->content_type, "application/json");
  EXPECT_FALSE(encoded->header_length.has_value());
  const json j = json::parse(encoded->body);
  EXPECT_EQ(j["model_name"], "m");
  EXPECT_EQ(j["model_version"], "1");
  EXPECT_EQ(j["id"], "req-1");
  EXPECT_EQ(j["outputs"][0]["data"], json::parse("[true,false,false,true]"));
  EXPECT_EQ(j["outputs"][5]["data"], json::parse("[-128,0,127]"));
  EXPECT_EQ(j["outputs"][11]["data"], json::parse(R"(["","héllo","Infinity pool"])"));

  auto [body, header] = AsRequest(*encoded);
  const InferRequest back = ParseOk(body, header);
  ASSERT_EQ(back.inputs.size(), response.outputs.size());
  for (size_t i = 0; i < back.inputs.size(); ++i) {
    ExpectSameTensor(back.inputs[i], response.outputs[i]);
  }
}

TEST(KServeCodecTest, EveryDatatypeRoundTripsThroughBinaryData) {
  InferResponse response{"m", "1", "", {}};
  for (auto& t : EveryType()) response.outputs.push_back(t);
  response.outputs.push_back(Fixed("f16", DataType::kFp16, {2}, Raw<uint16_t>({0x3C00, 0xC000})));
  response.outputs.push_back(Fixed("bf16", DataType::kBf16, {1}, Raw<uint16_t>({0x3F80})));
  // BYTES in binary form may hold anything: NULs, bytes that are not UTF-8.
  response.outputs.push_back(Strings("blob", {2}, {std::string("\0\xff\x01", 3), "png"}));
  auto encoded = EncodeInferResponse(response, {}, /*all_binary=*/true);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->content_type, "application/octet-stream");
  ASSERT_TRUE(encoded->header_length.has_value());
  const json j = json::parse(encoded->body.substr(0, *encoded->header_length));
  EXPECT_FALSE(j.contains("id"));  // an empty id is left out
  for (const auto& o : j["outputs"]) {
    EXPECT_FALSE(o.contains("data")) << o.dump();
    EXPECT_TRUE(o["parameters"].contains("binary_data_size")) << o.dump();
  }
  // BYTES: a 4-byte little-endian length before each element.
  EXPECT_EQ(j["outputs"][11]["parameters"]["binary_data_size"], 4 + 0 + 4 + 6 + 4 + 13);
  EXPECT_EQ(encoded->body.substr(encoded->body.size() - 14),
            std::string("\3\0\0\0\0\xff\x01\3\0\0\0png", 14));

  auto [body, header] = AsRequest(*encoded);
  const InferRequest back = ParseOk(body, header);
  ASSERT_EQ(back.inputs.size(), response.outputs.size());
  for (size_t i = 0; i < back.inputs.size(); ++i) {
    ExpectSameTensor(back.inputs[i], response.outputs[i]);
  }
}

TEST(KServeCodecTest, Fp32PrintsShortestRoundTrippingText) {
  InferResponse response{
      "m", "1", "", {Fixed("f", DataType::kFp32, {2}, Raw<float>({0.5F, 3.0F}))}};
  auto encoded = EncodeInferResponse(response, {}, false);
  ASSERT_TRUE(encoded.ok());
  EXPECT_THAT(encoded->body, HasSubstr(R"("data":[0.5,3.0])"));
}

TEST(KServeCodecTest, NestedDataIsFlattenedRowMajor) {
  const InferRequest r = ParseOk(R"({"inputs":[
      {"name":"a","shape":[2,3],"datatype":"INT32","data":[[1,2,3],[4,5,6]]},
      {"name":"b","shape":[2,2],"datatype":"BYTES","data":[["w","x"],["y","z"]]},
      {"name":"c","shape":[2,1,2],"datatype":"FP64","data":[[[1.5,2]],[[3,-4.25]]]}]})");
  ASSERT_EQ(r.inputs.size(), 3U);
  EXPECT_EQ(Values<int32_t>(r.inputs[0].data), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_THAT(r.inputs[1].strings, ElementsAre("w", "x", "y", "z"));
  EXPECT_EQ(Values<double>(r.inputs[2].data), (std::vector<double>{1.5, 2, 3, -4.25}));
  // The flat form gives the same tensor.
  const InferRequest flat =
      ParseOk(R"({"inputs":[{"name":"a","shape":[2,3],"datatype":"INT32","data":[1,2,3,4,5,6]}]})");
  ExpectSameTensor(flat.inputs[0], r.inputs[0]);
}

TEST(KServeCodecTest, IdParametersAndOutputs) {
  bool all_binary = true;
  auto r = ParseInferRequest(R"({"id":"42","parameters":{"custom":1},
      "inputs":[{"name":"a","shape":[1],"datatype":"BOOL","data":[true],"parameters":{}}],
      "outputs":[{"name":"x","parameters":{"binary_data":true}},{"name":"y"}]})",
                             std::nullopt, &all_binary);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(all_binary);
  EXPECT_EQ(r->id, "42");
  ASSERT_EQ(r->outputs.size(), 2U);
  EXPECT_EQ(r->outputs[0].name, "x");
  EXPECT_TRUE(r->outputs[0].binary_data);
  EXPECT_FALSE(r->outputs[1].binary_data);
}

TEST(KServeCodecTest, BinaryDataOutputAtRequestLevel) {
  bool all_binary = false;
  auto r = ParseInferRequest(R"({"parameters":{"binary_data_output":true},
      "inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[1]}],
      "outputs":[{"name":"x"}]})",
                             std::nullopt, &all_binary);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(all_binary);
  EXPECT_TRUE(r->outputs[0].binary_data);  // listed outputs carry it themselves
  auto none = ParseInferRequest(R"({"parameters":{"binary_data_output":true},
      "inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[1]}]})",
                                std::nullopt, &all_binary);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(all_binary);
  EXPECT_TRUE(none->outputs.empty());
}

TEST(KServeCodecTest, BinaryInputsMixedWithJsonInputs) {
  // Triton's documented example shape: one input binary, one JSON.
  size_t header = 0;
  const std::string body =
      WithBinary(json::parse(R"({"inputs":[
          {"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},
          {"name":"b","shape":[1],"datatype":"BYTES","data":["json"]},
          {"name":"c","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7}}],
          "outputs":[{"name":"o","parameters":{"binary_data":false}}]})"),
                 Raw<float>({1.5F, -2.0F}) + std::string("\3\0\0\0abc", 7), &header);
  const InferRequest r = ParseOk(body, header);
  ASSERT_EQ(r.inputs.size(), 3U);
  EXPECT_EQ(Values<float>(r.inputs[0].data), (std::vector<float>{1.5F, -2.0F}));
  EXPECT_THAT(r.inputs[1].strings, ElementsAre("json"));
  EXPECT_THAT(r.inputs[2].strings, ElementsAre("abc"));
  EXPECT_FALSE(r.outputs[0].binary_data);
}

TEST(KServeCodecTest, HeaderLengthWithoutBinaryInputs) {
  const std::string body = R"({"inputs":[{"name":"a","shape":[1],"datatype":"UINT8","data":[9]}]})";
  const InferRequest r = ParseOk(body, body.size());
  EXPECT_EQ(r.inputs[0].data, "\x09");
}

// ---------------------------------------------------------------- the article

constexpr const char* kArticleRequest = R"({"inputs": [
  {"name": "prompt", "shape": [1, 1], "datatype": "BYTES",
   "data": ["Infinity pool on top of a high rise overlooking Central Park"]},
  {"name": "negative_prompt", "shape": [1, 1], "datatype": "BYTES",
   "data": ["blur,low detail, low quality"]},
  {"name": "gen_args", "shape": [1, 1], "datatype": "BYTES",
   "data": ["{\"num_inference_steps\": 50, \"guidance_scale\": 8}"]}]})";

TEST(KServeCodecTest, ArticleRequestParsesAndValidatesAgainstSdBase) {
  const ModelConfig config = LoadOk("sagemaker-sd-mme/sd_base");
  InferRequest r = ParseOk(kArticleRequest);
  ASSERT_EQ(r.inputs.size(), 3U);
  EXPECT_EQ(r.inputs[0].name, "prompt");
  EXPECT_EQ(r.inputs[0].datatype, DataType::kString);
  EXPECT_EQ(r.inputs[0].shape, (std::vector<int64_t>{1, 1}));
  EXPECT_THAT(r.inputs[0].strings,
              ElementsAre("Infinity pool on top of a high rise overlooking Central Park"));
  EXPECT_THAT(r.inputs[2].strings,
              ElementsAre(R"({"num_inference_steps": 50, "guidance_scale": 8})"));
  EXPECT_TRUE(r.outputs.empty());
  const Status s = ValidateInferRequest(config, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();

  // The optional inputs may be left out; the prompt may not.
  InferRequest only_prompt =
      ParseOk(R"({"inputs":[{"name":"prompt","shape":[1,1],"datatype":"BYTES","data":["x"]}]})");
  EXPECT_TRUE(ValidateInferRequest(config, &only_prompt).ok());

  // The article's response: one base64 PNG string back as JSON.
  InferResponse response{
      "sd_base", "1", "", {Strings("generated_image", {1, 1}, {"iVBORw0KGgo="})}};
  auto encoded = EncodeInferResponse(response, {}, false);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(json::parse(encoded->body)["outputs"][0]["data"][0], "iVBORw0KGgo=");
}

// ---------------------------------------------------------------- parse errors

TEST(KServeCodecParseErrorTest, BodyAndTopLevelFields) {
  EXPECT_THAT(ParseError("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseError("[1]"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(ParseError("{}"), HasSubstr("'inputs' must be an array"));
  EXPECT_THAT(ParseError(R"({"id":5,"inputs":[]})"), HasSubstr("'id' is the number 5"));
  EXPECT_THAT(ParseError(R"({"inputs":[],"parameters":[]})"),
              HasSubstr("'parameters' is an array"));
  EXPECT_THAT(ParseError(R"({"inputs":[],"parameters":{"binary_data_output":1}})"),
              HasSubstr("binary_data_output is the number 1, expected true or false"));
  EXPECT_THAT(ParseError(R"({"inputs":[],"outputs":{}})"), HasSubstr("'outputs' must be an array"));
  EXPECT_THAT(ParseError(R"({"inputs":[],"outputs":[{"name":"o"},{"name":"o"}]})"),
              HasSubstr("output 'o' is requested more than once"));
  EXPECT_THAT(
      ParseError(R"({"inputs":[],"outputs":[{"name":"o","parameters":{"binary_data":"yes"}}]})"),
      HasSubstr("output 'o': parameters.binary_data is a string"));
}

TEST(KServeCodecParseErrorTest, InputFields) {
  EXPECT_THAT(ParseError(R"({"inputs":[3]})"), HasSubstr("inputs[0] is the number 3"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"shape":[1],"datatype":"INT8","data":[1]}]})"),
              HasSubstr("inputs[0]: 'name' must be a non-empty string"));
  EXPECT_THAT(
      ParseError(R"({"inputs":[{"name":"a","shape":[1],"datatype":"FLOAT32","data":[1]}]})"),
      HasSubstr("input 'a': unknown datatype 'FLOAT32', expected one of BOOL"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"name":"a","shape":[1],"data":[1]}]})"),
              HasSubstr("input 'a': 'datatype' must be a string"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"name":"a","datatype":"INT8","data":[1]}]})"),
              HasSubstr("input 'a': 'shape' must be an array"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"name":"a","shape":[-1],"datatype":"INT8","data":[1]}]})"),
              HasSubstr("input 'a': shape dimension 0 is the number -1, expected an integer >= 0"));
  EXPECT_THAT(
      ParseError(
          R"({"inputs":[{"name":"a","shape":[4294967296,4294967296,4],"datatype":"INT8","data":[1]}]})"),
      HasSubstr("input 'a': shape [4294967296,4294967296,4] is too large"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"name":"a","shape":[1],"datatype":"INT8"}]})"),
              HasSubstr("input 'a': has neither 'data' nor parameters.binary_data_size"));
  EXPECT_THAT(ParseError(R"({"inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[1]},
                                       {"name":"a","shape":[1],"datatype":"INT8","data":[1]}]})"),
              HasSubstr("input 'a' is given more than once"));
}

TEST(KServeCodecParseErrorTest, DataAgainstShapeAndDatatype) {
  auto one = [](const std::string& type, const std::string& data,
                const std::string& shape = "[1]") {
    return ParseError(R"({"inputs":[{"name":"a","shape":)" + shape + R"(,"datatype":")" + type +
                      R"(","data":)" + data + "}]}");
  };
  EXPECT_THAT(one("INT32", "[1,2,3]", "[2,2]"),
              HasSubstr("input 'a': 'data' has 3 elements but shape [2,2] needs 4"));
  EXPECT_THAT(one("INT8", "[300]"),
              HasSubstr("input 'a': data[0] is the number 300, expected an integer in the range "
                        "of INT8 (-128 to 127)"));
  EXPECT_THAT(one("INT8", "[-129]"), HasSubstr("range of INT8"));
  EXPECT_THAT(one("UINT8", "[-1]"), HasSubstr("range of UINT8 (0 to 255)"));
  EXPECT_THAT(one("UINT64", "[18446744073709551616]"), HasSubstr("range of UINT64"));
  EXPECT_THAT(one("INT32", "[1.5]"), HasSubstr("data[0] is the number 1.5, expected an integer"));
  EXPECT_THAT(one("INT64", "[\"7\"]"), HasSubstr("data[0] is a string"));
  EXPECT_THAT(one("FP32", "[\"x\"]"), HasSubstr("data[0] is a string, expected a number for FP32"));
  EXPECT_THAT(one("FP32", "[1e39]"), HasSubstr("expected a number within the range of FP32"));
  EXPECT_THAT(one("FP64", "[null]"), HasSubstr("data[0] is null, expected a number for FP64"));
  EXPECT_THAT(one("BOOL", "[1]"), HasSubstr("data[0] is the number 1, expected true or false"));
  EXPECT_THAT(one("BYTES", "[1]"), HasSubstr("expected a string for BYTES"));
  EXPECT_THAT(one("BYTES", "[{}]"), HasSubstr("data[0] is an object"));
  EXPECT_THAT(one("FP16", "[1.0]"),
              HasSubstr("FP16 data cannot be given as JSON; send it as binary"));
  EXPECT_THAT(one("BF16", "[1.0]"), HasSubstr("BF16 data cannot be given as JSON"));
  // A scalar `data` counts as one element.
  EXPECT_EQ(one("INT8", "5", "[]"), "(parsed)");
}

TEST(KServeCodecParseErrorTest, DeepNestingIsRefusedNotFollowed) {
  const std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
  EXPECT_THAT(
      ParseError(R"({"inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":)" + deep + "}]}"),
      HasSubstr("nested deeper than 64"));
}

TEST(KServeCodecParseErrorTest, BinarySizes) {
  const json two_floats = json::parse(
      R"({"inputs":[{"name":"a","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]})");
  size_t header = 0;
  std::string body = WithBinary(two_floats, Raw<float>({1, 2}), &header);
  EXPECT_EQ(ParseError(body, header), "(parsed)");
  // Missing bytes, trailing bytes, a header length past the body, no header at all.
  EXPECT_THAT(
      ParseError(body.substr(0, body.size() - 1), header),
      HasSubstr("input 'a': binary_data_size is 8 but only 7 bytes of binary data are left"));
  EXPECT_THAT(ParseError(body + "xy", header),
              HasSubstr("the body has 2 bytes after the JSON header and the inputs' binary data"));
  EXPECT_THAT(ParseError(body, body.size() + 1),
              HasSubstr("Inference-Header-Content-Length is " + std::to_string(body.size() + 1) +
                        " but the body has only"));
  EXPECT_THAT(ParseError(two_floats.dump()),
              HasSubstr("input 'a' has parameters.binary_data_size but the request has no "
                        "Inference-Header-Content-Length header"));
  // A header length that cuts the JSON.
  EXPECT_THAT(ParseError(body, header - 1), HasSubstr("not valid JSON"));
  // A size that does not match the shape.
  json wrong = two_floats;
  wrong["inputs"][0]["parameters"]["binary_data_size"] = 4;
  body = WithBinary(wrong, Raw<float>({1}), &header);
  EXPECT_THAT(ParseError(body, header),
              HasSubstr("input 'a': binary_data_size is 4 but shape [2] of FP32 needs 8 bytes"));
  // A huge size is compared with the body, never allocated.
  wrong["inputs"][0]["parameters"]["binary_data_size"] = std::numeric_limits<uint64_t>::max();
  body = WithBinary(wrong, Raw<float>({1, 2}), &header);
  EXPECT_THAT(ParseError(body, header), HasSubstr("but only 8 bytes of binary data are left"));
  wrong["inputs"][0]["parameters"]["binary_data_size"] = -8;
  body = WithBinary(wrong, Raw<float>({1, 2}), &header);
  EXPECT_THAT(ParseError(body, header), HasSubstr("binary_data_size is the number -8"));
  // Both data and a binary size.
  json both = two_floats;
  both["inputs"][0]["data"] = json::parse("[1,2]");
  body = WithBinary(both, Raw<float>({1, 2}), &header);
  EXPECT_THAT(ParseError(body, header),
              HasSubstr("has both 'data' and parameters.binary_data_size"));
}

TEST(KServeCodecParseErrorTest, BinaryBytesElements) {
  auto bytes_input = [](int64_t n, size_t size, const std::string& binary) {
    json j = {{"inputs",
               {{{"name", "s"},
                 {"shape", {n}},
                 {"datatype", "BYTES"},
                 {"parameters", {{"binary_data_size", size}}}}}}};
    size_t header = 0;
    const std::string body = WithBinary(j, binary, &header);
    return ParseError(body, header);
  };
  EXPECT_EQ(bytes_input(2, 10, std::string("\1\0\0\0a\1\0\0\0b", 10)), "(parsed)");
  EXPECT_THAT(bytes_input(1, 6, std::string("\5\0\0\0ab", 6)),
              HasSubstr("input 's': BYTES element 0 says 5 bytes but only 2 are left"));
  // A length of 4 GiB - 1 is checked against the bytes, not allocated.
  EXPECT_THAT(bytes_input(1, 5, std::string("\xff\xff\xff\xffz", 5)),
              HasSubstr("says 4294967295 bytes but only 1 are left"));
  EXPECT_THAT(bytes_input(1, 2, std::string("\1\0", 2)),
              HasSubstr("BYTES element 0 is cut short: a 4-byte length was expected, 2 bytes"));
  EXPECT_THAT(bytes_input(2, 5, std::string("\1\0\0\0a", 5)),
              HasSubstr("binary data holds 1 BYTES elements but shape [2] needs 2"));
  EXPECT_THAT(bytes_input(1, 10, std::string("\1\0\0\0a\1\0\0\0b", 10)),
              HasSubstr("binary data holds more than the 1 BYTES elements of shape [1]"));
}

// ---------------------------------------------------------------- encode

InferResponse SimpleResponse() {
  return {"simple",
          "1",
          "",
          {Fixed("OUTPUT0", DataType::kInt32, {1, 2}, Raw<int32_t>({1, 2})),
           Fixed("OUTPUT1", DataType::kInt32, {1, 2}, Raw<int32_t>({3, -4}))}};
}

TEST(KServeCodecEncodeTest, RequestedOutputsOnlyBinaryOnesAfterTheJson) {
  auto e = EncodeInferResponse(SimpleResponse(), {{"OUTPUT1", true}}, false);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_TRUE(e->header_length.has_value());
  EXPECT_EQ(e->content_type, "application/octet-stream");
  const json j = json::parse(e->body.substr(0, *e->header_length));
  ASSERT_EQ(j["outputs"].size(), 1U);
  EXPECT_EQ(j["outputs"][0], json::parse(R"({"name":"OUTPUT1","datatype":"INT32","shape":[1,2],
      "parameters":{"binary_data_size":8}})"));
  EXPECT_EQ(e->body.substr(*e->header_length), Raw<int32_t>({3, -4}));
}

TEST(KServeCodecEncodeTest, MixedJsonAndBinaryOutputs) {
  auto e = EncodeInferResponse(SimpleResponse(), {{"OUTPUT1", true}, {"OUTPUT0", false}}, false);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const json j = json::parse(e->body.substr(0, *e->header_length));
  ASSERT_EQ(j["outputs"].size(), 2U);
  EXPECT_EQ(j["outputs"][0]["name"], "OUTPUT0");  // the model's order
  EXPECT_EQ(j["outputs"][0]["data"], json::parse("[1,2]"));
  EXPECT_FALSE(j["outputs"][0].contains("parameters"));
  EXPECT_EQ(j["outputs"][1]["parameters"]["binary_data_size"], 8);
  EXPECT_EQ(e->body.size(), *e->header_length + 8);
}

TEST(KServeCodecEncodeTest, AllBinaryOverridesJsonRequests) {
  auto e = EncodeInferResponse(SimpleResponse(), {{"OUTPUT0", false}}, /*all_binary=*/true);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->body.substr(*e->header_length), Raw<int32_t>({1, 2}));
}

TEST(KServeCodecEncodeTest, Errors) {
  auto unknown = EncodeInferResponse(SimpleResponse(), {{"NOPE", false}}, false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unexpected inference output 'NOPE' for model 'simple'");

  InferResponse bad = SimpleResponse();
  bad.outputs[0].data.pop_back();  // 7 bytes for two INT32
  auto inconsistent = EncodeInferResponse(bad, {}, false);
  ASSERT_FALSE(inconsistent.ok());
  EXPECT_THAT(inconsistent.status().message(), HasSubstr("OUTPUT0"));

  InferResponse half{"m", "1", "", {Fixed("h", DataType::kFp16, {1}, Raw<uint16_t>({0x3C00}))}};
  auto as_json = EncodeInferResponse(half, {}, false);
  ASSERT_FALSE(as_json.ok());
  EXPECT_THAT(as_json.status().message(), HasSubstr("output 'h': FP16 has no JSON form"));
  EXPECT_TRUE(EncodeInferResponse(half, {}, true).ok());

  InferResponse blob{"m", "1", "", {Strings("b", {1}, {std::string("\xff\xfe", 2)})}};
  auto not_text = EncodeInferResponse(blob, {}, false);
  ASSERT_FALSE(not_text.ok());
  EXPECT_THAT(not_text.status().message(), HasSubstr("BYTES element 0 is not UTF-8 text"));
  EXPECT_TRUE(EncodeInferResponse(blob, {{"b", true}}, false).ok());
}

// ---------------------------------------------------------------- validate

std::string ValidateError(const ModelConfig& config, const std::string& body) {
  InferRequest r = ParseOk(body);
  const Status s = ValidateInferRequest(config, &r);
  if (s.ok()) return "(valid)";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  return s.message();
}

std::string SimpleInput(const std::string& name, const std::string& shape, int n,
                        const std::string& type = "INT32") {
  std::string data = "[";
  for (int i = 0; i < n; ++i) data += (i > 0 ? ",0" : "0");
  return R"({"name":")" + name + R"(","shape":)" + shape + R"(,"datatype":")" + type +
         R"(","data":)" + data + "]}";
}

TEST(KServeCodecValidateTest, SimpleModel) {
  const ModelConfig simple = LoadOk("triton-examples/simple");
  const std::string in0 = SimpleInput("INPUT0", "[1,16]", 16);
  const std::string in1 = SimpleInput("INPUT1", "[1,16]", 16);
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + in0 + "," + in1 + "]}"), "(valid)");
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[8,16]", 128) + "," +
                                      SimpleInput("INPUT1", "[8,16]", 128) + "]}"),
            "(valid)");
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + in0 + "," + in1 + "," +
                                      SimpleInput("INPUT2", "[1]", 1) + "]}"),
            "unexpected inference input 'INPUT2' for model 'simple'");
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + in0 + "]}"),
            "expected 2 inputs but got 1 inputs for model 'simple'. Got input(s) ['INPUT0'], but "
            "missing required input(s) ['INPUT1']. Please provide all required input(s).");
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + in0 + "," +
                                      SimpleInput("INPUT1", "[1,16]", 16, "FP32") + "]}"),
            "inference input 'INPUT1' data-type is 'FP32', but model 'simple' expects 'INT32'");
  EXPECT_THAT(ValidateError(simple, R"({"inputs":[)" + in0 + "," +
                                        SimpleInput("INPUT1", "[1,15]", 15) + "]}"),
              HasSubstr("unexpected shape for input 'INPUT1' for model 'simple'. Expected "
                        "[-1,16], got [1,15]. NOTE: Setting a non-zero max_batch_size"));
  // Without the batch dimension the rank is wrong.
  EXPECT_THAT(ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[16]", 16) + "," +
                                        SimpleInput("INPUT1", "[16]", 16) + "]}"),
              HasSubstr("Expected [-1,16], got [16]"));
  EXPECT_THAT(ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[9,16]", 144) + "," +
                                        SimpleInput("INPUT1", "[9,16]", 144) + "]}"),
              HasSubstr("inference request batch-size must be <= 8 for 'simple'"));
  EXPECT_THAT(ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[0,16]", 0) + "," +
                                        SimpleInput("INPUT1", "[0,16]", 0) + "]}"),
              HasSubstr("inference request batch-size must be >= 1 for 'simple' (input 'INPUT0' "
                        "has batch-size 0)"));
  EXPECT_THAT(ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[2,16]", 32) + "," +
                                        in1 + "]}"),
              HasSubstr("input 'INPUT1' batch size 1 does not match other inputs' batch size 2"));
  EXPECT_THAT(
      ValidateError(simple, R"({"inputs":[)" + SimpleInput("INPUT0", "[]", 1) + "," + in1 + "]}"),
      HasSubstr("Expected [-1,16], got []"));
  EXPECT_EQ(ValidateError(simple, R"({"inputs":[)" + in0 + "," + in1 +
                                      R"(],"outputs":[{"name":"OUTPUT1"},{"name":"OUT"}]})"),
            "unexpected inference output 'OUT' for model 'simple'");
}

TEST(KServeCodecValidateTest, WildcardDimsAndStrings) {
  const ModelConfig identity = LoadOk("triton-examples/simple_identity");
  EXPECT_EQ(ValidateError(identity, R"({"inputs":[{"name":"INPUT0","shape":[3,5],
      "datatype":"BYTES","data":[["a","b","c","d","e"],["f","g","h","i","j"],
      ["k","l","m","n","o"]]}]})"),
            "(valid)");
  EXPECT_THAT(ValidateError(identity, R"({"inputs":[{"name":"INPUT0","shape":[1],
      "datatype":"BYTES","data":["a"]}]})"),
              HasSubstr("Expected [-1,-1], got [1]"));
}

TEST(KServeCodecValidateTest, NoBatchingAndReshape) {
  // densenet: max_batch_size 0, dims [3,224,224] reshaped to [1,3,224,224] for the backend;
  // the request carries `dims`.
  const ModelConfig densenet = LoadOk("triton-examples/densenet_onnx");
  InferRequest r;
  r.inputs.push_back(Fixed("data_0", DataType::kFp32, {3, 224, 224},
                           std::string(size_t{3} * 224 * 224 * 4, '\0')));
  EXPECT_TRUE(ValidateInferRequest(densenet, &r).ok());
  r.inputs[0].shape = {1, 3, 224, 224};
  const Status s = ValidateInferRequest(densenet, &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "unexpected shape for input 'data_0' for model 'densenet_onnx'. Expected [3,224,224], "
            "got [1,3,224,224].");
}

TEST(KServeCodecValidateTest, OptionalInputsAndInconsistentTensors) {
  const ModelConfig sd = LoadOk("sagemaker-sd-mme/sd_base");
  EXPECT_EQ(ValidateError(sd, R"({"inputs":[{"name":"negative_prompt","shape":[1,1],
      "datatype":"BYTES","data":["x"]}]})"),
            "expected 1 to 3 inputs but got 1 inputs for model 'sd_base'. Got input(s) "
            "['negative_prompt'], but missing required input(s) ['prompt']. Please provide all "
            "required input(s).");
  // A tensor built by hand (not through the parser) whose strings do not fill its shape.
  InferRequest r;
  r.inputs.push_back(Strings("prompt", {1, 2}, {"only one"}));
  const Status s = ValidateInferRequest(sd, &r);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("tensor 'prompt': shape has 2 elements but 1 were given"));
}

// ---------------------------------------------------------------- config / metadata

TEST(ModelConfigJsonTest, SdBaseAsTritonPrintsIt) {
  const json j = ModelConfigJson(LoadOk("sagemaker-sd-mme/sd_base"));
  EXPECT_EQ(j["name"], "sd_base");
  EXPECT_EQ(j["backend"], "python");
  EXPECT_EQ(j["platform"], "");
  EXPECT_EQ(j["max_batch_size"], 8);
  EXPECT_EQ(j["version_policy"], json::parse(R"({"latest":{"num_versions":1}})"));
  ASSERT_EQ(j["input"].size(), 3U);
  EXPECT_EQ(j["input"][0], json::parse(R"({"name":"prompt","data_type":"TYPE_STRING",
      "format":"FORMAT_NONE","dims":[-1],"is_shape_tensor":false,"allow_ragged_batch":false,
      "optional":false})"));
  EXPECT_EQ(j["input"][1]["optional"], true);
  EXPECT_EQ(j["output"][0], json::parse(R"({"name":"generated_image","data_type":"TYPE_STRING",
      "dims":[-1],"is_shape_tensor":false,"label_filename":""})"));
  ASSERT_EQ(j["instance_group"].size(), 1U);
  EXPECT_EQ(j["instance_group"][0]["name"], "sd_base_0");
  EXPECT_EQ(j["instance_group"][0]["kind"], "KIND_GPU");
  EXPECT_EQ(j["instance_group"][0]["count"], 1);
  EXPECT_EQ(j["parameters"],
            json::parse(R"({"EXECUTION_ENV_PATH":{"string_value":"/tmp/conda/sd_env.tar.gz"}})"));
  EXPECT_FALSE(j.contains("dynamic_batching"));
  EXPECT_FALSE(j.contains("sequence_batching"));
}

TEST(ModelConfigJsonTest, ReshapeLabelsAndDefaultInstanceGroup) {
  const json j = ModelConfigJson(LoadOk("triton-examples/densenet_onnx"));
  EXPECT_EQ(j["platform"], "onnxruntime_onnx");
  EXPECT_EQ(j["backend"], "onnxruntime");  // derived from the platform, as Triton fills it
  EXPECT_EQ(j["max_batch_size"], 0);
  EXPECT_EQ(j["input"][0]["format"], "FORMAT_NCHW");
  EXPECT_EQ(j["input"][0]["dims"], json::parse("[3,224,224]"));
  EXPECT_EQ(j["input"][0]["reshape"], json::parse(R"({"shape":[1,3,224,224]})"));
  EXPECT_EQ(j["output"][0]["label_filename"], "densenet_labels.txt");
  EXPECT_EQ(j["instance_group"], json::parse(R"([{"name":"densenet_onnx_0","kind":"KIND_CPU",
      "count":1,"gpus":[],"secondary_devices":[],"profile":[],"passive":false,"host_policy":""}])"));
}

TEST(ModelConfigJsonTest, SequenceBatchingAndParameters) {
  const json j = ModelConfigJson(LoadOk("triton-examples/simple_dyna_sequence"));
  const json& sb = j["sequence_batching"];
  EXPECT_EQ(sb["max_sequence_idle_microseconds"], 10000000);  // a number, not "10000000"
  EXPECT_EQ(sb["oldest"]["max_candidate_sequences"], 1024);
  EXPECT_EQ(sb["oldest"]["max_queue_delay_microseconds"], 10000);
  ASSERT_EQ(sb["control_input"].size(), 4U);
  EXPECT_EQ(sb["control_input"][0]["name"], "START");
  EXPECT_EQ(sb["control_input"][0]["control"][0]["kind"], "CONTROL_SEQUENCE_START");
  EXPECT_EQ(sb["control_input"][0]["control"][0]["int32_false_true"], json::parse("[0,1]"));
  EXPECT_EQ(sb["control_input"][3]["control"][0]["data_type"], "TYPE_UINT64");
  EXPECT_EQ(j["parameters"]["execute_delay_ms"]["string_value"], "3");
  EXPECT_EQ(j["instance_group"][0]["kind"], "KIND_CPU");
  EXPECT_EQ(j["instance_group"][0]["count"], 2);
}

TEST(ModelConfigJsonTest, DynamicBatchingAndVersionPolicy) {
  auto c = ParseModelConfig(R"(name: "m" backend: "python" max_batch_size: 4
      input [{ name: "a" data_type: TYPE_FP32 dims: [2] }]
      output [{ name: "b" data_type: TYPE_BOOL dims: [2] }]
      dynamic_batching { preferred_batch_size: [2, 4] max_queue_delay_microseconds: 100 }
      version_policy: { specific: { versions: [1, 3] } })",
                            "config.pbtxt", "m");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const json j = ModelConfigJson(*c);
  EXPECT_EQ(j["dynamic_batching"]["preferred_batch_size"], json::parse("[2,4]"));
  EXPECT_EQ(j["dynamic_batching"]["max_queue_delay_microseconds"], 100);
  EXPECT_EQ(j["version_policy"], json::parse(R"({"specific":{"versions":[1,3]}})"));
  EXPECT_EQ(j["output"][0]["data_type"], "TYPE_BOOL");
}

TEST(ModelConfigJsonTest, InvalidUtf8InAParameterStaysPrintable) {
  ModelConfig c = LoadOk("triton-examples/simple");
  c.parameters["k"] = std::string("a\xff", 2);
  const json j = ModelConfigJson(c);
  EXPECT_EQ(j["parameters"]["k"]["string_value"], "a\xEF\xBF\xBD");
  EXPECT_NO_THROW((void)j.dump());
}

TEST(ModelMetadataJsonTest, BatchDimensionIsMinusOne) {
  const json j = ModelMetadataJson(LoadOk("triton-examples/simple"), {"1"}, "onnxruntime_onnx");
  EXPECT_EQ(j, json::parse(R"({"name":"simple","versions":["1"],"platform":"onnxruntime_onnx",
      "inputs":[{"name":"INPUT0","datatype":"INT32","shape":[-1,16]},
                {"name":"INPUT1","datatype":"INT32","shape":[-1,16]}],
      "outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[-1,16]},
                 {"name":"OUTPUT1","datatype":"INT32","shape":[-1,16]}]})"));
}

TEST(ModelMetadataJsonTest, StringsAreBytesAndNoBatchKeepsDims) {
  const json s = ModelMetadataJson(LoadOk("triton-examples/simple_string"), {"1", "2"}, "x");
  EXPECT_EQ(s["inputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(s["versions"], json::parse(R"(["1","2"])"));
  const json d = ModelMetadataJson(LoadOk("triton-examples/densenet_onnx"), {"1"}, "onnx");
  // The request shape is `dims`, not the reshape the backend sees.
  EXPECT_EQ(d["inputs"][0]["shape"], json::parse("[3,224,224]"));
  EXPECT_EQ(d["outputs"][0]["shape"], json::parse("[1000]"));
}

TEST(ErrorJsonTest, Shape) {
  EXPECT_EQ(ErrorJson("no such model").dump(), R"({"error":"no such model"})");
  EXPECT_NO_THROW((void)ErrorJson(std::string("bad \xc3", 5)).dump());
}

}  // namespace
}  // namespace sagebox::endpoint
