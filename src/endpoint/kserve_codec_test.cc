#include "endpoint/kserve_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/env.h"

namespace sagebox::endpoint {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

std::string Data(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/endpoint/" + rel;
}

ModelConfig LoadOk(const std::string& rel) {
  auto c = LoadModelConfig(Env::Default(), Data(rel));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : ModelConfig{};
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
