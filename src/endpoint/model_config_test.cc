#include "endpoint/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::endpoint {
namespace {

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

// The message of a config that must fail with BadInput.
std::string ParseError(const std::string& text, const std::string& expected_name = "m") {
  auto c = ParseModelConfig(text, "config.pbtxt", expected_name);
  if (c.ok()) return "(parsed)";
  EXPECT_EQ(c.status().code(), StatusCode::kBadInput) << c.status().ToString();
  return c.status().message();
}

const std::vector<std::string> kSamples = {
    "sagemaker-sd-mme/sd_base",
    "sagemaker-sd-mme/sd_depth",
    "sagemaker-sd-mme/sd_inpaint",
    "sagemaker-sd-mme/setup_conda",
    "triton-examples/densenet_onnx",
    "triton-examples/simple",
    "triton-examples/simple_dyna_sequence",
    "triton-examples/simple_identity",
    "triton-examples/simple_string",
};

void ExpectStringTensor(const TensorConfig& t, const std::string& name, bool optional) {
  EXPECT_EQ(t.name, name);
  EXPECT_EQ(t.data_type, DataType::kString);
  EXPECT_THAT(t.dims, ElementsAre(-1));
  EXPECT_EQ(t.optional, optional) << name;
  EXPECT_FALSE(t.reshape.has_value());
}

TEST(ModelConfigTest, ArticleSdBase) {
  const ModelConfig c = LoadOk("sagemaker-sd-mme/sd_base");
  EXPECT_EQ(c.name, "sd_base");
  EXPECT_EQ(c.backend, "python");
  EXPECT_EQ(c.platform, "");
  EXPECT_EQ(c.BackendName(), "python");
  EXPECT_EQ(c.max_batch_size, 8);
  ASSERT_EQ(c.inputs.size(), 3U);
  ExpectStringTensor(c.inputs[0], "prompt", false);
  ExpectStringTensor(c.inputs[1], "negative_prompt", true);
  ExpectStringTensor(c.inputs[2], "gen_args", true);
  ASSERT_EQ(c.outputs.size(), 1U);
  ExpectStringTensor(c.outputs[0], "generated_image", false);
  ASSERT_EQ(c.instance_groups.size(), 1U);
  EXPECT_EQ(c.instance_groups[0].kind, InstanceKind::kGpu);
  EXPECT_EQ(c.instance_groups[0].count, 1);
  EXPECT_TRUE(c.instance_groups[0].gpus.empty());
  EXPECT_EQ(
      c.parameters,
      (std::map<std::string, std::string>{{"EXECUTION_ENV_PATH", "/tmp/conda/sd_env.tar.gz"}}));
  EXPECT_FALSE(c.dynamic_batching.has_value());
  EXPECT_FALSE(c.sequence_batching.has_value());
  EXPECT_EQ(c.version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(c.default_model_filename, "");
}

TEST(ModelConfigTest, ArticleDepthAndInpaint) {
  const ModelConfig depth = LoadOk("sagemaker-sd-mme/sd_depth");
  EXPECT_EQ(depth.name, "sd_depth");
  ASSERT_EQ(depth.inputs.size(), 4U);
  ExpectStringTensor(depth.inputs[2], "image", false);
  ExpectStringTensor(depth.inputs[3], "gen_args", true);
  EXPECT_EQ(depth.parameters.at("EXECUTION_ENV_PATH"), "/tmp/conda/sd_env.tar.gz");

  const ModelConfig inpaint = LoadOk("sagemaker-sd-mme/sd_inpaint");
  EXPECT_EQ(inpaint.name, "sd_inpaint");
  EXPECT_EQ(inpaint.backend, "python");
  ASSERT_EQ(inpaint.inputs.size(), 5U);
  ExpectStringTensor(inpaint.inputs[0], "prompt", false);
  ExpectStringTensor(inpaint.inputs[1], "negative_prompt", true);
  ExpectStringTensor(inpaint.inputs[2], "image", false);
  ExpectStringTensor(inpaint.inputs[3], "mask_image", false);
  ExpectStringTensor(inpaint.inputs[4], "gen_args", true);
  ASSERT_EQ(inpaint.outputs.size(), 1U);
  ExpectStringTensor(inpaint.outputs[0], "generated_image", false);
  EXPECT_EQ(inpaint.instance_groups[0].kind, InstanceKind::kGpu);
}

// setup_conda has no `name`: Triton takes the folder's, and so do we.
TEST(ModelConfigTest, ArticleSetupCondaTakesFolderName) {
  const ModelConfig c = LoadOk("sagemaker-sd-mme/setup_conda/");
  EXPECT_EQ(c.name, "setup_conda");
  EXPECT_EQ(c.backend, "python");
  EXPECT_EQ(c.max_batch_size, 0);
  ASSERT_EQ(c.inputs.size(), 1U);
  ExpectStringTensor(c.inputs[0], "TEXT", false);
  ASSERT_EQ(c.outputs.size(), 1U);
  ExpectStringTensor(c.outputs[0], "conda_env_path", false);
  ASSERT_EQ(c.instance_groups.size(), 1U);
  EXPECT_EQ(c.instance_groups[0].kind, InstanceKind::kCpu);
  EXPECT_EQ(c.instance_groups[0].count, 1);
  EXPECT_TRUE(c.parameters.empty());
}

TEST(ModelConfigTest, TritonDensenetReshapeFormatLabels) {
  const ModelConfig c = LoadOk("triton-examples/densenet_onnx");
  EXPECT_EQ(c.name, "densenet_onnx");
  EXPECT_EQ(c.platform, "onnxruntime_onnx");
  EXPECT_EQ(c.backend, "");
  EXPECT_EQ(c.BackendName(), "onnxruntime");
  EXPECT_EQ(c.max_batch_size, 0);
  ASSERT_EQ(c.inputs.size(), 1U);
  EXPECT_EQ(c.inputs[0].name, "data_0");
  EXPECT_EQ(c.inputs[0].data_type, DataType::kFp32);
  EXPECT_EQ(c.inputs[0].format, TensorFormat::kNchw);
  EXPECT_THAT(c.inputs[0].dims, ElementsAre(3, 224, 224));
  ASSERT_TRUE(c.inputs[0].reshape.has_value());
  EXPECT_THAT(*c.inputs[0].reshape, ElementsAre(1, 3, 224, 224));
  ASSERT_EQ(c.outputs.size(), 1U);
  EXPECT_EQ(c.outputs[0].name, "fc6_1");
  EXPECT_THAT(c.outputs[0].dims, ElementsAre(1000));
  EXPECT_THAT(*c.outputs[0].reshape, ElementsAre(1, 1000, 1, 1));
  EXPECT_EQ(c.outputs[0].label_filename, "densenet_labels.txt");
  EXPECT_TRUE(c.instance_groups.empty());
}

TEST(ModelConfigTest, TritonSimpleAndStringAndIdentity) {
  const ModelConfig simple = LoadOk("triton-examples/simple");
  EXPECT_EQ(simple.max_batch_size, 8);
  ASSERT_EQ(simple.inputs.size(), 2U);
  ASSERT_EQ(simple.outputs.size(), 2U);
  EXPECT_EQ(simple.inputs[1].name, "INPUT1");
  EXPECT_EQ(simple.inputs[1].data_type, DataType::kInt32);
  EXPECT_THAT(simple.inputs[1].dims, ElementsAre(16));
  EXPECT_EQ(simple.outputs[1].name, "OUTPUT1");

  const ModelConfig str = LoadOk("triton-examples/simple_string");
  EXPECT_EQ(str.inputs[0].data_type, DataType::kString);
  EXPECT_EQ(ToKServeDatatype(str.inputs[0].data_type), "BYTES");
  EXPECT_THAT(str.outputs[0].dims, ElementsAre(16));

  const ModelConfig identity = LoadOk("triton-examples/simple_identity");
  EXPECT_EQ(identity.backend, "python");
  ExpectStringTensor(identity.inputs[0], "INPUT0", false);
}

TEST(ModelConfigTest, TritonDynaSequence) {
  const ModelConfig c = LoadOk("triton-examples/simple_dyna_sequence");
  ASSERT_TRUE(c.sequence_batching.has_value());
  const SequenceBatching& s = *c.sequence_batching;
  EXPECT_EQ(s.max_sequence_idle_microseconds, 10000000U);
  EXPECT_EQ(s.strategy, SequenceBatching::Strategy::kOldest);
  EXPECT_EQ(s.max_candidate_sequences, 1024);
  EXPECT_EQ(s.max_queue_delay_microseconds, 10000U);
  ASSERT_EQ(s.control_input.size(), 4U);
  EXPECT_EQ(s.control_input[0].name, "START");
  ASSERT_EQ(s.control_input[0].control.size(), 1U);
  EXPECT_EQ(s.control_input[0].control[0].kind, SequenceControlKind::kStart);
  EXPECT_THAT(s.control_input[0].control[0].int32_false_true, ElementsAre(0, 1));
  EXPECT_EQ(s.control_input[1].control[0].kind, SequenceControlKind::kEnd);
  EXPECT_EQ(s.control_input[2].control[0].kind, SequenceControlKind::kReady);
  EXPECT_EQ(s.control_input[3].name, "CORRID");
  EXPECT_EQ(s.control_input[3].control[0].kind, SequenceControlKind::kCorrid);
  EXPECT_EQ(s.control_input[3].control[0].data_type, DataType::kUint64);
  EXPECT_EQ(c.parameters, (std::map<std::string, std::string>{{"execute_delay_ms", "3"}}));
  ASSERT_EQ(c.instance_groups.size(), 1U);
  EXPECT_EQ(c.instance_groups[0].count, 2);
  EXPECT_EQ(c.instance_groups[0].kind, InstanceKind::kCpu);
}

// The syntax variants the text format allows, all in one config.
TEST(ModelConfigTest, SyntaxVariants) {
  const std::string text = R"pb(
    # comment
    name: 'm'
    ; platform: "pytorch_libtorch",
    max_batch_size: 4
    input { name: "a\tb\x41\101\'" data_type: TYPE_FP16 dims: 2 dims: -1 optional: True }
    input: < name: "c" "d" data_type: TYPE_BF16 dims: [] reshape: { shape: [ ] } >
    output [ { name: "o" data_type: TYPE_BOOL dims: [1] } ]
    instance_group { name: "g" kind: KIND_MODEL count: 3 gpus: [0, 1] gpus: 2 }
    dynamic_batching { preferred_batch_size: [ 2, 4 ] max_queue_delay_microseconds: 100 }
    parameters: { key: "A" value: { string_value: "1" } }
    parameters [ { key: "B", value { string_value: "2" } }, { key: "C" value {} } ]
    version_policy: { specific { versions: [1, 3] } }
    default_model_filename: "model.pt"
  )pb";
  auto c = ParseModelConfig(text, "config.pbtxt", "m");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->BackendName(), "pytorch");
  EXPECT_EQ(c->inputs[0].name, "a\tbAA'");
  EXPECT_EQ(c->inputs[0].data_type, DataType::kFp16);
  EXPECT_THAT(c->inputs[0].dims, ElementsAre(2, -1));
  EXPECT_TRUE(c->inputs[0].optional);
  EXPECT_EQ(c->inputs[1].name, "cd");
  EXPECT_TRUE(c->inputs[1].dims.empty());
  EXPECT_TRUE(c->inputs[1].reshape.has_value() && c->inputs[1].reshape->empty());
  EXPECT_EQ(c->instance_groups[0].name, "g");
  EXPECT_EQ(c->instance_groups[0].kind, InstanceKind::kModel);
  EXPECT_EQ(c->instance_groups[0].count, 3);
  EXPECT_THAT(c->instance_groups[0].gpus, ElementsAre(0, 1, 2));
  ASSERT_TRUE(c->dynamic_batching.has_value());
  EXPECT_THAT(c->dynamic_batching->preferred_batch_size, ElementsAre(2, 4));
  EXPECT_EQ(c->dynamic_batching->max_queue_delay_microseconds, 100U);
  EXPECT_EQ(c->parameters, (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}, {"C", ""}}));
  EXPECT_EQ(c->version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_THAT(c->version_policy.versions, ElementsAre(1, 3));
  EXPECT_EQ(c->default_model_filename, "model.pt");

  auto all = ParseModelConfig("backend: 'python' version_policy { all {} }", "f", "x");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->version_policy.kind, VersionPolicy::Kind::kAll);
  auto latest =
      ParseModelConfig("backend: 'python' version_policy { latest { num_versions: 2 } }", "f", "x");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->version_policy.num_versions, 2U);
}

TEST(ModelConfigTest, DataTypes) {
  EXPECT_EQ(ToKServeDatatype(DataType::kFp32), "FP32");
  EXPECT_EQ(ToKServeDatatype(DataType::kString), "BYTES");
  EXPECT_EQ(ToKServeDatatype(DataType::kBf16), "BF16");
  EXPECT_EQ(ToKServeDatatype(DataType::kInvalid), "");
  EXPECT_EQ(DataTypeFromKServe("BYTES"), DataType::kString);
  EXPECT_EQ(DataTypeFromKServe("STRING"), std::nullopt);
  EXPECT_EQ(TritonTypeName(DataType::kString), "TYPE_STRING");
  EXPECT_EQ(DataTypeFromTritonName("TYPE_UINT64"), DataType::kUint64);
  EXPECT_EQ(DataTypeFromTritonName("TYPE_INVALID"), std::nullopt);
  EXPECT_EQ(ElementSize(DataType::kString), 0U);
  EXPECT_EQ(ElementSize(DataType::kFp16), 2U);
  EXPECT_EQ(ElementSize(DataType::kInt64), 8U);
  EXPECT_EQ(ElementSize(DataType::kBool), 1U);
}

// Every error: file:line:col, the field path, what was expected.
TEST(ModelConfigTest, ErrorMessages) {
  const std::string head = "name: \"m\"\nbackend: \"python\"\n";
  EXPECT_EQ(ParseError(head + "input [\n  {\n    naem: \"x\"\n  }\n]\n"),
            "config.pbtxt:5:5: input[0].naem: unknown field 'naem' in ModelInput (supported: "
            "name, data_type, format, dims, reshape, optional)");
  EXPECT_EQ(ParseError(head + "ensemble_scheduling {}\n"),
            "config.pbtxt:3:1: ensemble_scheduling: unknown field 'ensemble_scheduling' in "
            "ModelConfig (supported: name, platform, backend, max_batch_size, input, output, "
            "instance_group, dynamic_batching, sequence_batching, parameters, version_policy, "
            "default_model_filename)");
  EXPECT_EQ(ParseError(head + "input [\n  {\n    name: \"x\"\n\n    dims: [1]\n"
                              "  data_type: TYPE_FLOAT33\n  }\n]\n"),
            "config.pbtxt:8:14: input[0].data_type: expected a TYPE_* value, found "
            "'TYPE_FLOAT33'");
  EXPECT_EQ(ParseError(head + "instance_group { kind: GPU }"),
            "config.pbtxt:3:24: instance_group[0].kind: expected KIND_AUTO, KIND_CPU, KIND_GPU "
            "or KIND_MODEL, found 'GPU'");
  EXPECT_EQ(ParseError("name: \"m\nbackend: \"python\"\n"),
            "config.pbtxt:1:7: name: unterminated string");
  EXPECT_EQ(ParseError("name: 'm'\nparameters { key: \"a\\q\" }"),
            "config.pbtxt:2:21: parameters[0].key: unknown escape '\\q'");
  EXPECT_EQ(ParseError(head + "input [\n  {\n    name: \"x\"\n"),
            "config.pbtxt:6:1: input[0]: expected '}' to close the message opened at 4:3, found "
            "end of input");
  EXPECT_EQ(ParseError(head + "output [ { name: \"o\" } "),
            "config.pbtxt:3:24: output[0]: expected ',' or ']' in the list, found end of input");
  EXPECT_EQ(ParseError(head + "}"), "config.pbtxt:3:1: expected a field name, found '}'");
  EXPECT_EQ(ParseError("name: \"sd_base\"\nbackend: \"python\"\n", "sd_depth"),
            "config.pbtxt:1:7: name: 'sd_base' does not match the model folder 'sd_depth'; Triton "
            "requires the name to match the folder");
  EXPECT_EQ(ParseError(head + "input { name: \"a\" data_type: TYPE_FP32 dims: 1 }\n"
                              "input { name: \"b\" data_type: TYPE_FP32 dims: 1 }\n"
                              "input { name: \"a\" data_type: TYPE_FP32 dims: 1 }\n"),
            "config.pbtxt:5:7: input[2].name: duplicate input name 'a' (first at 3:7)");
  EXPECT_EQ(ParseError(head + "max_batch_size: -4\n"),
            "config.pbtxt:3:17: max_batch_size: expected an integer >= 0, found -4");
  EXPECT_EQ(ParseError(head + "max_batch_size: \"8\"\n"),
            "config.pbtxt:3:17: max_batch_size: expected an integer, found '\"8\"'");
  EXPECT_EQ(ParseError(head + "max_batch_size: 8.5\n"),
            "config.pbtxt:3:17: max_batch_size: expected an integer, found '8.5'");
  EXPECT_EQ(ParseError(head + "max_batch_size: 99999999999999999999\n"),
            "config.pbtxt:3:17: max_batch_size: integer out of range, found "
            "'99999999999999999999'");
  EXPECT_EQ(ParseError(head + "name: \"m\"\n"),
            "config.pbtxt:3:1: name: given more than once (first at 1:1); it is not a repeated "
            "field");
  EXPECT_EQ(ParseError(head + "instance_group [ { count: 0 } ]\n"),
            "config.pbtxt:3:27: instance_group[0].count: expected an integer >= 1, found 0");
  EXPECT_EQ(ParseError(head + "output { name: \"o\" data_type: TYPE_FP32 }\n"),
            "config.pbtxt:3:8: output[0]: missing 'dims' (needed unless 'reshape' is given)");
  EXPECT_EQ(ParseError(head + "output { name: \"o\" data_type: TYPE_FP32 dims: [0] }\n"),
            "config.pbtxt:3:48: output[0].dims[0]: expected a dimension >= 1, or -1 for any "
            "size, found 0");
  EXPECT_EQ(ParseError(head + "input { name: \"i\" data_type: TYPE_FP32 dims: 1 optional: yes }"),
            "config.pbtxt:3:58: input[0].optional: expected true or false, found 'yes'");
  EXPECT_EQ(ParseError(head + "dynamic_batching: 5"),
            "config.pbtxt:3:19: dynamic_batching: expected a message '{ ... }', found '5'");
  EXPECT_EQ(ParseError(head + "max_batch_size 8"),
            "config.pbtxt:3:16: max_batch_size: expected ':' or '{' after the field name, found "
            "'8'");
  EXPECT_EQ(ParseError(head + "parameters { key: \"k\" value { string_value: \"1\" } }\n"
                              "parameters { key: \"k\" value { string_value: \"2\" } }"),
            "config.pbtxt:4:19: parameters[1].key: duplicate parameter key 'k'");
  EXPECT_EQ(ParseError(head + "parameters { key: \"k\" value { int_value: 1 } }"),
            "config.pbtxt:3:31: parameters[0].value.int_value: unknown field 'int_value' in "
            "ModelParameter (supported: string_value)");
  EXPECT_EQ(ParseError("backend: \"python\"", ""),
            "config.pbtxt:1:1: name: missing, and no model folder to name it");
  EXPECT_EQ(ParseError("name: \"m\" max_batch_size: 1"),
            "config.pbtxt:1:1: backend: missing: the model needs 'backend' or 'platform'");
  EXPECT_EQ(ParseError("name: \"\" backend: \"python\"", ""),
            "config.pbtxt:1:7: name: must not be empty");
  EXPECT_EQ(ParseError(head + "sequence_batching {}\ndynamic_batching {}\n"),
            "config.pbtxt:4:1: dynamic_batching: dynamic_batching and sequence_batching cannot "
            "both be given");
  EXPECT_EQ(ParseError(head + "version_policy { newest: 1 }"),
            "config.pbtxt:3:18: version_policy.newest: unknown field 'newest' in "
            "ModelVersionPolicy (supported: latest, all, specific)");
  EXPECT_EQ(ParseError(head + "sequence_batching { direct {} oldest {} }"),
            "config.pbtxt:3:31: sequence_batching.oldest: only one strategy may be given; "
            "'direct' was given at 3:21");
  EXPECT_EQ(ParseError("name: \"m\" @"), "config.pbtxt:1:11: unexpected character '@'");
  EXPECT_EQ(ParseError(std::string(200, '{')),
            "config.pbtxt:1:1: expected a field name, found '{'");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "a { ";
  EXPECT_THAT(ParseError(deep), HasSubstr("messages nested deeper than 64 levels"));
}

TEST(ModelConfigTest, LoadErrors) {
  testing::TempDir dir("model_config");
  auto missing = LoadModelConfig(Env::Default(), dir.Path("nothing"));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().code(), StatusCode::kOk);

  ASSERT_TRUE(Env::Default()->CreateDirs(dir.Path("sd_depth")).ok());
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(dir.Path("sd_depth/config.pbtxt"),
                                    "name: \"sd_base\"\nbackend: \"python\"\n")
                  .ok());
  auto mismatch = LoadModelConfig(Env::Default(), dir.Path("sd_depth"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(),
            dir.Path("sd_depth/config.pbtxt") +
                ":1:7: name: 'sd_base' does not match the model folder 'sd_depth'; Triton "
                "requires the name to match the folder");
}

// Any prefix or byte-flipped variant of a real config parses or fails with a BadInput
// that starts with file:line:col:, never anything else (and never crashes under ASan).
void ExpectParsesOrBadInput(const std::string& text) {
  static const std::regex kPrefix(R"(^config\.pbtxt:[0-9]+:[0-9]+: .+)");
  auto c = ParseModelConfig(text, "config.pbtxt", "");
  if (c.ok()) return;
  EXPECT_EQ(c.status().code(), StatusCode::kBadInput) << c.status().ToString();
  EXPECT_TRUE(std::regex_match(c.status().message(), kPrefix)) << c.status().message();
}

TEST(ModelConfigTest, MutationsNeverCrash) {
  size_t parsed = 0, cases = 0;
  std::mt19937 rng(13);
  for (const std::string& sample : kSamples) {
    std::string text;
    ASSERT_TRUE(Env::Default()->ReadFileToString(Data(sample + "/config.pbtxt"), &text).ok());
    for (size_t n = 0; n <= text.size(); ++n) {
      ExpectParsesOrBadInput(text.substr(0, n));
      ++cases;
    }
    static constexpr char kByteList[] = "{}[]<>:;,\"'\\#-.0 \n\xff\x00_aZ";
    const std::string_view kBytes(kByteList, sizeof(kByteList) - 1);
    for (int round = 0; round < 300; ++round) {
      std::string m = text;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < flips; ++i) {
        m[rng() % m.size()] = kBytes[rng() % kBytes.size()];
      }
      auto c = ParseModelConfig(m, "config.pbtxt", "");
      parsed += c.ok() ? 1 : 0;
      ExpectParsesOrBadInput(m);
      ++cases;
    }
  }
  EXPECT_GT(cases, 10000U);
  EXPECT_GT(parsed, 0U);  // some flips land in comments or strings
}

}  // namespace
}  // namespace sagebox::endpoint
