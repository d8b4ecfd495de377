// Tests of the TorchScript backend against tiny models that
// tests/endpoint/make_tiny_torchscript.py builds with Debian's python3-torch at
// test time; expected numbers come from PyTorch itself (expected.json).
#include "endpoint/torch/torch_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/env.h"
#include "core/testing/temp_dir.h"

namespace sagebox::endpoint {
namespace {

using nlohmann::json;

constexpr int64_t kPadBytes = 4'000'000;

std::string Script() {
  return std::string(SAGEBOX_TESTDATA) + "/../endpoint/make_tiny_torchscript.py";
}

class TorchBackendTest : public ::testing::Test {
 protected:
  // ctest runs each test in a process of its own, so models are generated on
  // first use: most tests need only the plain set (one Python start, ~2 s).
  static void SetUpTestSuite() { dir_ = new testing::TempDir("torch_backend"); }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // The folder of generated model `name`: set "plain" has every model,
  // "padded" only `linear`, with a kPadBytes dummy buffer.
  static std::string ModelDir(const std::string& name, const std::string& set = "plain") {
    std::string out = dir_->Path(set);
    if (!Env::Default()->Exists(out)) {
      std::string command = "/usr/bin/python3 " + Script() + " " + out;
      if (set == "padded") command += " --only linear --pad-bytes " + std::to_string(kPadBytes);
      EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
    return JoinPath(out, name);
  }

  static ModelSource Source(const std::string& dir) {
    ModelSource source;
    source.dir = dir;
    source.name = Basename(dir);
    source.version_dir = JoinPath(dir, "1");
    auto config = LoadModelConfig(Env::Default(), dir);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (config.ok()) source.config = *config;
    return source;
  }

  static std::unique_ptr<ModelInstance> Load(const ModelSource& source) {
    auto instance = backend_->LoadInstance(source, 0);
    EXPECT_TRUE(instance.ok()) << instance.status().ToString();
    return instance.ok() ? std::move(instance).value() : nullptr;
  }

  static json Expected(const std::string& dir) {
    std::string text;
    EXPECT_TRUE(Env::Default()->ReadFileToString(JoinPath(dir, "expected.json"), &text).ok());
    return json::parse(text);
  }

  static testing::TempDir* dir_;
  static std::unique_ptr<Backend> backend_;
};

testing::TempDir* TorchBackendTest::dir_ = nullptr;
std::unique_ptr<Backend> TorchBackendTest::backend_ = NewTorchScriptBackend();

template <typename T>
Tensor MakeTensor(const std::string& name, DataType type, std::vector<int64_t> shape,
                  const std::vector<T>& values) {
  Tensor t;
  t.name = name;
  t.datatype = type;
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.data.data(), out.size() * sizeof(T));
  return out;
}

// The request expected.json's inputs make, as `type`.
template <typename T>
InferRequest RequestFrom(const json& expected, DataType type) {
  InferRequest request;
  request.id = "req-1";
  for (const auto& [name, t] : expected["inputs"].items()) {
    request.inputs.push_back(MakeTensor<T>(name, type,
                                           t["shape"].template get<std::vector<int64_t>>(),
                                           t["data"].template get<std::vector<T>>()));
  }
  return request;
}

const Tensor* FindOutput(const InferResponse& response, const std::string& name) {
  for (const Tensor& t : response.outputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// Checks every output expected.json lists: floats within `tolerance`, integers exactly.
template <typename T>
void ExpectOutputs(const InferResponse& response, const json& expected, DataType type,
                   double tolerance) {
  ASSERT_EQ(response.outputs.size(), expected["outputs"].size());
  for (const auto& [name, want] : expected["outputs"].items()) {
    SCOPED_TRACE(name);
    const Tensor* got = FindOutput(response, name);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->datatype, type);
    EXPECT_EQ(got->shape, want["shape"].template get<std::vector<int64_t>>());
    std::vector<T> values = Values<T>(*got);
    auto want_values = want["data"].template get<std::vector<T>>();
    ASSERT_EQ(values.size(), want_values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        EXPECT_NEAR(values[i], want_values[i], tolerance) << "element " << i;
      } else {
        EXPECT_EQ(values[i], want_values[i]) << "element " << i;
      }
    }
  }
}

StatusOr<InferResponse> RunOne(ModelInstance& instance, const InferRequest& request) {
  auto results = instance.Execute({&request});
  EXPECT_EQ(results.size(), 1U);
  return results.front();
}

TEST_F(TorchBackendTest, NameIsPytorch) { EXPECT_EQ(backend_->name(), "pytorch"); }

TEST_F(TorchBackendTest, LinearReluMatchesPyTorch) {
  ModelSource source = Source(ModelDir("linear"));
  auto instance = Load(source);
  ASSERT_NE(instance, nullptr);
  json expected = Expected(source.dir);
  auto response = RunOne(*instance, RequestFrom<float>(expected, DataType::kFp32));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->id, "req-1");
  EXPECT_EQ(response->model_name, "linear");
  EXPECT_EQ(response->model_version, "1");
  ExpectOutputs<float>(*response, expected, DataType::kFp32, 1e-6);
  // Weight 3x4 + bias 3, FP32.
  EXPECT_EQ(instance->MeasuredBytes(), (12U + 3U) * 4U);
  auto predicted = backend_->PredictBytes(source);
  ASSERT_TRUE(predicted.ok());
  EXPECT_EQ(*predicted, *Env::Default()->FileSize(JoinPath(source.version_dir, "model.pt")));
}

TEST_F(TorchBackendTest, InputsAndOutputsMapByIndexSuffix) {
  // config.pbtxt lists INPUT__1 before INPUT__0; a - b shows which went where.
  ModelSource source = Source(ModelDir("addsub"));
  ASSERT_EQ(source.config.inputs[0].name, "INPUT__1");
  auto instance = Load(source);
  ASSERT_NE(instance, nullptr);
  json expected = Expected(source.dir);
  auto response = RunOne(*instance, RequestFrom<float>(expected, DataType::kFp32));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ExpectOutputs<float>(*response, expected, DataType::kFp32, 0);
}

TEST_F(TorchBackendTest, InputsMapByForwardArgumentName) {
  // Inputs named after forward(x, scale) but listed as (scale, x); INT64 values
  // beyond 2^53 come back exact.
  ModelSource source = Source(ModelDir("int64"));
  ASSERT_EQ(source.config.inputs[0].name, "scale");
  auto instance = Load(source);
  ASSERT_NE(instance, nullptr);
  json expected = Expected(source.dir);
  auto response = RunOne(*instance, RequestFrom<int64_t>(expected, DataType::kInt64));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ExpectOutputs<int64_t>(*response, expected, DataType::kInt64, 0);
}

TEST_F(TorchBackendTest, ListResultMapsToOutputsInConfigOrder) {
  ModelSource source = Source(ModelDir("listout"));
  auto instance = Load(source);
  ASSERT_NE(instance, nullptr);
  json expected = Expected(source.dir);
  auto response = RunOne(*instance, RequestFrom<double>(expected, DataType::kFp64));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ExpectOutputs<double>(*response, expected, DataType::kFp64, 0);
}

TEST_F(TorchBackendTest, WithoutBatchingEachRequestRunsAsSent) {
  // addsub has max_batch_size 0: no batch dimension, lengths may differ.
  auto instance = Load(Source(ModelDir("addsub")));
  ASSERT_NE(instance, nullptr);
  InferRequest two;
  two.inputs = {MakeTensor<float>("INPUT__0", DataType::kFp32, {2}, {5, 6}),
                MakeTensor<float>("INPUT__1", DataType::kFp32, {2}, {1, 1})};
  InferRequest three;
  three.inputs = {MakeTensor<float>("INPUT__0", DataType::kFp32, {3}, {1, 2, 3}),
                  MakeTensor<float>("INPUT__1", DataType::kFp32, {3}, {3, 2, 1})};
  auto results = instance->Execute({&two, &three});
  ASSERT_EQ(results.size(), 2U);
  ASSERT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(Values<float>(results[0]->outputs[1]), (std::vector<float>{4, 5}));
  EXPECT_EQ(Values<float>(results[1]->outputs[0]), (std::vector<float>{4, 4, 4}));
}

TEST_F(TorchBackendTest, RequestedOutputsOnly) {
  ModelSource source = Source(ModelDir("addsub"));
  auto instance = Load(source);
  ASSERT_NE(instance, nullptr);
  InferRequest request = RequestFrom<float>(Expected(source.dir), DataType::kFp32);
  request.outputs = {{"OUTPUT__1", false}};
  auto response = RunOne(*instance, request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 1U);
  EXPECT_EQ(response->outputs[0].name, "OUTPUT__1");
  EXPECT_EQ(Values<float>(response->outputs[0]), (std::vector<float>{0.5F, 3.0F, -7.0F, 0.0F}));

  request.outputs = {{"NOPE", false}};
  auto bad = RunOne(*instance, request);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

InferRequest Rows(const std::string& id, int64_t rows, float base, int64_t width = 4) {
  InferRequest request;
  request.id = id;
  std::vector<float> values;
  for (int64_t i = 0; i < rows * width; ++i) values.push_back(base + static_cast<float>(i) * 0.5F);
  request.inputs.push_back(MakeTensor<float>("INPUT__0", DataType::kFp32, {rows, width}, values));
  return request;
}

TEST_F(TorchBackendTest, BatchOfThreeEqualsThreeSingleCalls) {
  auto instance = Load(Source(ModelDir("linear")));
  ASSERT_NE(instance, nullptr);
  std::vector<InferRequest> requests = {Rows("a", 1, -1.0F), Rows("b", 2, 0.25F),
                                        Rows("c", 1, -3.0F)};
  auto batched = instance->Execute({&requests[0], &requests[1], &requests[2]});
  ASSERT_EQ(batched.size(), 3U);
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(requests[i].id);
    auto single = RunOne(*instance, requests[i]);
    ASSERT_TRUE(single.ok()) << single.status().ToString();
    ASSERT_TRUE(batched[i].ok()) << batched[i].status().ToString();
    EXPECT_EQ(batched[i]->id, requests[i].id);
    ASSERT_EQ(batched[i]->outputs.size(), 1U);
    EXPECT_EQ(batched[i]->outputs[0].shape,
              (std::vector<int64_t>{requests[i].inputs[0].shape[0], 3}));
    std::vector<float> got = Values<float>(batched[i]->outputs[0]);
    std::vector<float> want = Values<float>(single->outputs[0]);
    ASSERT_EQ(got.size(), want.size());
    bool any_positive = false;
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_NEAR(got[k], want[k], 1e-6) << k;
      any_positive = any_positive || want[k] > 0;
    }
    EXPECT_TRUE(any_positive) << "ReLU zeroed everything: the comparison would prove little";
  }
}

TEST_F(TorchBackendTest, BatchRunsAsOneForwardCall) {
  // `rows` answers how many rows its forward() call saw.
  auto instance = Load(Source(ModelDir("rows")));
  ASSERT_NE(instance, nullptr);
  std::vector<InferRequest> same = {Rows("a", 1, 0, 2), Rows("b", 2, 0, 2), Rows("c", 1, 0, 2)};
  auto results = instance->Execute({&same[0], &same[1], &same[2]});
  ASSERT_EQ(results.size(), 3U);
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    EXPECT_EQ(results[i]->outputs[0].shape, (std::vector<int64_t>{same[i].inputs[0].shape[0], 1}));
    for (float v : Values<float>(results[i]->outputs[0])) EXPECT_EQ(v, 4.0F);
  }
  // Widths 2 and 3 cannot be concatenated: each request runs on its own.
  std::vector<InferRequest> mixed = {Rows("a", 1, 0, 2), Rows("b", 2, 0, 3)};
  results = instance->Execute({&mixed[0], &mixed[1]});
  ASSERT_EQ(results.size(), 2U);
  ASSERT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(Values<float>(results[0]->outputs[0]), (std::vector<float>{1.0F}));
  EXPECT_EQ(Values<float>(results[1]->outputs[0]), (std::vector<float>{2.0F, 2.0F}));
}

TEST_F(TorchBackendTest, BadRequestInABatchFailsAlone) {
  auto instance = Load(Source(ModelDir("linear")));
  ASSERT_NE(instance, nullptr);
  InferRequest good = Rows("good", 1, 1.0F);
  InferRequest wrong_type;
  wrong_type.id = "wrong-type";
  wrong_type.inputs.push_back(
      MakeTensor<int32_t>("INPUT__0", DataType::kInt32, {1, 4}, {1, 2, 3, 4}));
  auto results = instance->Execute({&good, &wrong_type});
  ASSERT_EQ(results.size(), 2U);
  EXPECT_TRUE(results[0].ok()) << results[0].status().ToString();
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(results[1].status().message().find("INPUT__0"), std::string::npos);
  EXPECT_NE(results[1].status().message().find("FP32"), std::string::npos)
      << results[1].status().message();
}

TEST_F(TorchBackendTest, RequestsThatDoNotFitTheConfigAreInvalidArgument) {
  auto instance = Load(Source(ModelDir("linear")));
  ASSERT_NE(instance, nullptr);
  InferRequest wrong_shape = Rows("r", 1, 0.0F, 5);  // dims are [4]
  InferRequest missing;                              // no INPUT__0
  InferRequest unknown = Rows("u", 1, 0.0F);
  unknown.inputs.push_back(MakeTensor<float>("EXTRA", DataType::kFp32, {1}, {1.0F}));
  InferRequest no_batch_dim;
  no_batch_dim.inputs.push_back(MakeTensor<float>("INPUT__0", DataType::kFp32, {}, {1.0F}));
  for (const InferRequest* r : {&wrong_shape, &missing, &unknown, &no_batch_dim}) {
    auto result = RunOne(*instance, *r);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  }
}

TEST_F(TorchBackendTest, FailureInsideForwardIsInternal) {
  // a + b with lengths 4 and 3 passes the config (dims [-1]) but not broadcasting.
  auto instance = Load(Source(ModelDir("addsub")));
  ASSERT_NE(instance, nullptr);
  InferRequest request;
  request.inputs.push_back(MakeTensor<float>("INPUT__0", DataType::kFp32, {4}, {1, 2, 3, 4}));
  request.inputs.push_back(MakeTensor<float>("INPUT__1", DataType::kFp32, {3}, {1, 2, 3}));
  auto result = RunOne(*instance, request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("addsub"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(result.status().message().find('\n'), std::string::npos) << result.status().message();
}

// Copies a generated model folder so a test may edit it.
std::string CopyModel(const std::string& from, const std::string& to) {
  std::string config;
  std::string model;
  EXPECT_TRUE(Env::Default()->ReadFileToString(JoinPath(from, "config.pbtxt"), &config).ok());
  EXPECT_TRUE(Env::Default()->ReadFileToString(JoinPath(from, "1/model.pt"), &model).ok());
  EXPECT_TRUE(Env::Default()->CreateDirs(JoinPath(to, "1")).ok());
  EXPECT_TRUE(Env::Default()->WriteFileAtomic(JoinPath(to, "config.pbtxt"), config).ok());
  EXPECT_TRUE(Env::Default()->WriteFileAtomic(JoinPath(to, "1/model.pt"), model).ok());
  return config;
}

void ReplaceInFile(const std::string& path, const std::string& from, const std::string& to) {
  std::string text;
  ASSERT_TRUE(Env::Default()->ReadFileToString(path, &text).ok());
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, text).ok());
}

TEST_F(TorchBackendTest, OutputTypeNotMatchingTheConfigIsInternal) {
  testing::TempDir tmp("torch_out_type");
  std::string dir = tmp.Path("int64");
  CopyModel(ModelDir("int64"), dir);
  ReplaceInFile(JoinPath(dir, "config.pbtxt"), R"(name: "y" data_type: TYPE_INT64)",
                R"(name: "y" data_type: TYPE_INT32)");
  auto instance = Load(Source(dir));
  ASSERT_NE(instance, nullptr);
  auto result =
      RunOne(*instance, RequestFrom<int64_t>(Expected(ModelDir("int64")), DataType::kInt64));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_NE(result.status().message().find("TYPE_INT32"), std::string::npos)
      << result.status().message();
}

TEST_F(TorchBackendTest, MeasuredBytesGrowsByThePad) {
  auto plain = Load(Source(ModelDir("linear")));
  auto padded = Load(Source(ModelDir("linear", "padded")));
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(padded, nullptr);
  EXPECT_EQ(padded->MeasuredBytes() - plain->MeasuredBytes(), static_cast<uint64_t>(kPadBytes));
  auto small = backend_->PredictBytes(Source(ModelDir("linear")));
  auto big = backend_->PredictBytes(Source(ModelDir("linear", "padded")));
  ASSERT_TRUE(small.ok() && big.ok());
  EXPECT_GE(*big - *small, static_cast<uint64_t>(kPadBytes));
  EXPECT_LT(*big - *small, static_cast<uint64_t>(kPadBytes) + 64 * 1024);
}

TEST_F(TorchBackendTest, RandomBytesAsModelAreBadInput) {
  testing::TempDir tmp("torch_junk");
  std::string dir = tmp.Path("linear");
  CopyModel(ModelDir("linear"), dir);
  std::string junk(4096, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 2654435761U) >> 13);
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(JoinPath(dir, "1/model.pt"), junk).ok());
  auto instance = backend_->LoadInstance(Source(dir), 0);
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.status().code(), StatusCode::kBadInput);
  EXPECT_NE(instance.status().message().find(JoinPath(dir, "1/model.pt")), std::string::npos)
      << instance.status().message();
}

TEST_F(TorchBackendTest, MissingModelFileIsNotFound) {
  testing::TempDir tmp("torch_missing");
  std::string dir = tmp.Path("linear");
  CopyModel(ModelDir("linear"), dir);
  ASSERT_TRUE(Env::Default()->Remove(JoinPath(dir, "1/model.pt")).ok());
  ModelSource source = Source(dir);
  auto instance = backend_->LoadInstance(source, 0);
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.status().code(), StatusCode::kNotFound);
  auto predicted = backend_->PredictBytes(source);
  ASSERT_FALSE(predicted.ok());
  EXPECT_EQ(predicted.status().code(), StatusCode::kNotFound);
}

TEST_F(TorchBackendTest, DefaultModelFilenameIsHonoured) {
  testing::TempDir tmp("torch_filename");
  std::string dir = tmp.Path("linear");
  std::string config = CopyModel(ModelDir("linear"), dir);
  ASSERT_TRUE(Env::Default()->Rename(JoinPath(dir, "1/model.pt"), JoinPath(dir, "1/net.pt")).ok());
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(JoinPath(dir, "config.pbtxt"),
                                    config + "default_model_filename: \"net.pt\"\n")
                  .ok());
  auto instance = Load(Source(dir));
  ASSERT_NE(instance, nullptr);
  EXPECT_TRUE(RunOne(*instance, Rows("x", 1, 1.0F)).ok());
}

TEST_F(TorchBackendTest, ConfigTheBackendCannotServeIsBadInput) {
  testing::TempDir tmp("torch_config");
  struct Case {
    std::string what;
    std::string from;
    std::string to;
  };
  const std::vector<Case> cases = {
      {"string input", "data_type: TYPE_FP32 dims: [ 4 ]", "data_type: TYPE_STRING dims: [ 4 ]"},
      {"thread count", "max_batch_size: 8",
       "max_batch_size: 8\nparameters { key: \"INTRA_OP_THREAD_COUNT\" value { string_value: "
       "\"many\" } }"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string dir = tmp.Path("linear");
    CopyModel(ModelDir("linear"), dir);
    ReplaceInFile(JoinPath(dir, "config.pbtxt"), c.from, c.to);
    auto instance = backend_->LoadInstance(Source(dir), 0);
    ASSERT_FALSE(instance.ok());
    EXPECT_EQ(instance.status().code(), StatusCode::kBadInput);
    EXPECT_NE(instance.status().message().find("config.pbtxt"), std::string::npos)
        << instance.status().message();
  }
}

TEST_F(TorchBackendTest, ThreadCountParameterIsAccepted) {
  testing::TempDir tmp("torch_threads");
  std::string dir = tmp.Path("linear");
  CopyModel(ModelDir("linear"), dir);
  ReplaceInFile(JoinPath(dir, "config.pbtxt"), "max_batch_size: 8",
                "max_batch_size: 8\nparameters { key: \"INTRA_OP_THREAD_COUNT\" value { "
                "string_value: \"1\" } }");
  auto instance = Load(Source(dir));
  ASSERT_NE(instance, nullptr);
  EXPECT_TRUE(RunOne(*instance, Rows("x", 2, 1.0F)).ok());
}

TEST_F(TorchBackendTest, InstancesRunConcurrently) {
  ModelSource source = Source(ModelDir("linear"));
  auto first = Load(source);
  auto second = Load(source);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  InferRequest request = Rows("x", 3, -0.5F);
  auto reference = RunOne(*first, request);
  ASSERT_TRUE(reference.ok());
  auto worker = [&](ModelInstance* instance, int* mismatches) {
    for (int i = 0; i < 50; ++i) {
      auto r = instance->Execute({&request});
      if (!r[0].ok() || r[0]->outputs[0].data != reference->outputs[0].data) ++*mismatches;
    }
  };
  int bad_first = 0;
  int bad_second = 0;
  std::thread a(worker, first.get(), &bad_first);
  std::thread b(worker, second.get(), &bad_second);
  a.join();
  b.join();
  EXPECT_EQ(bad_first, 0);
  EXPECT_EQ(bad_second, 0);
}

}  // namespace
}  // namespace sagebox::endpoint
