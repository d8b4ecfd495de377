#include "endpoint/python/python_backend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sagebox::endpoint {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Tensor Fp32(const std::string& name, std::vector<float> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp32;
  t.shape = {static_cast<int64_t>(values.size())};
  t.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return t;
}

std::vector<float> AsFloats(const Tensor& t) {
  std::vector<float> out(t.data.size() / sizeof(float));
  std::memcpy(out.data(), t.data.data(), out.size() * sizeof(float));
  return out;
}

Tensor Strings(const std::string& name, std::vector<std::string> values) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kString;
  t.shape = {1, static_cast<int64_t>(values.size())};
  t.strings = std::move(values);
  return t;
}

const Tensor* FindOutput(const InferResponse& r, const std::string& name) {
  for (const auto& t : r.outputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// True while `pid` exists at all (running or a zombie).
bool ProcessExists(int pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

constexpr const char* kAddSubConfig = R"(
name: "add_sub"
backend: "python"
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ 4 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] },
  { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ 4 ] }
]
instance_group [ { count: 2 kind: KIND_CPU } ]
)";

// Triton's add_sub example shape: outputs typed from the config via pb_utils.
constexpr const char* kAddSubModel = R"(
import json
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        self.model_config = json.loads(args["model_config"])
        c0 = pb_utils.get_output_config_by_name(self.model_config, "OUTPUT0")
        c1 = pb_utils.get_output_config_by_name(self.model_config, "OUTPUT1")
        self.t0 = pb_utils.triton_string_to_numpy(c0["data_type"])
        self.t1 = pb_utils.triton_string_to_numpy(c1["data_type"])
        assert pb_utils.get_input_config_by_name(self.model_config, "INPUT0")["dims"] == [4]
        assert pb_utils.get_output_config_by_name(self.model_config, "NOPE") is None
        assert args["model_name"] == "add_sub" and args["model_version"] == "1"
        assert args["model_instance_kind"] == "CPU"
        print("initialized", args["model_instance_name"])

    def execute(self, requests):
        responses = []
        for request in requests:
            in0 = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            in1 = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            assert pb_utils.get_input_tensor_by_name(request, "MISSING") is None
            print("a print() between frames must not break the protocol")
            out0 = pb_utils.Tensor("OUTPUT0", (in0 + in1).astype(self.t0))
            out1 = pb_utils.Tensor("OUTPUT1", (in0 - in1).astype(self.t1))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out0, out1]))
        return responses

    def finalize(self):
        with open("FINALIZE_MARKER", "a") as f:
            f.write("finalized\n")
)";

// The article's sd_base model.py, with the pipeline replaced by string work.
constexpr const char* kSdBaseModel = R"(
import json
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        self.model_dir = args["model_repository"]
        self.config = json.loads(args["model_config"])
        # Triton's JSON of config.pbtxt, as Triton's python backend passes it.
        assert self.config["name"] == "sd_base" and self.config["max_batch_size"] == 8
        assert self.config["instance_group"][0]["kind"] == "KIND_GPU"
        assert self.config["parameters"]["EXECUTION_ENV_PATH"]["string_value"].endswith(".tar.gz")
        assert pb_utils.triton_string_to_numpy(
            pb_utils.get_output_config_by_name(self.config, "generated_image")["data_type"]) == np.object_
        assert args["model_instance_kind"] == "GPU"

    def execute(self, requests):
        responses = []
        for request in requests:
            prompt = pb_utils.get_input_tensor_by_name(request, "prompt")
            prompt = prompt.as_numpy().item().decode("utf-8")
            negative_prompt = pb_utils.get_input_tensor_by_name(request, "negative_prompt")
            if negative_prompt:
                negative_prompt = negative_prompt.as_numpy().item().decode("utf-8")
            gen_args = pb_utils.get_input_tensor_by_name(request, "gen_args")
            if gen_args:
                gen_args = json.loads(gen_args.as_numpy().item().decode("utf-8"))
            else:
                gen_args = {}
            if prompt == "fail":
                responses.append(pb_utils.InferenceResponse(
                    output_tensors=[], error=pb_utils.TritonError("prompt rejected: fail")))
                continue
            image = "IMG[%s|%s|%d]" % (prompt, negative_prompt, gen_args.get("seed", -1))
            out = pb_utils.Tensor("generated_image", np.array([image], dtype=object))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
)";

class PythonBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/sagebox-pytest-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = templ;
    PythonBackendOptions options;
    options.temp_dir = root_;
    options.kill_grace = std::chrono::milliseconds(2000);
    backend_ = NewPythonBackend(options);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes <root>/<name>/config.pbtxt and <root>/<name>/1/model.py; returns the source.
  ModelSource WriteModel(const std::string& name, const std::string& config,
                         const std::string& model_py) {
    std::string dir = root_ + "/" + name;
    fs::create_directories(dir + "/1");
    std::ofstream(dir + "/config.pbtxt") << config;
    std::ofstream(dir + "/1/model.py") << model_py;
    auto parsed = ParseModelConfig(config, dir + "/config.pbtxt", name);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    ModelSource s;
    s.name = name;
    s.dir = dir;
    s.version = 1;
    s.version_dir = dir + "/1";
    if (parsed.ok()) s.config = *parsed;
    return s;
  }

  std::unique_ptr<ModelInstance> Load(const ModelSource& s, int index = 0) {
    auto inst = backend_->LoadInstance(s, index);
    EXPECT_TRUE(inst.ok()) << inst.status().ToString();
    return inst.ok() ? std::move(inst).value() : nullptr;
  }

  static InferRequest AddSubRequest(std::vector<float> a, std::vector<float> b,
                                    std::string id = "") {
    InferRequest r;
    r.id = std::move(id);
    r.inputs.push_back(Fp32("INPUT0", std::move(a)));
    r.inputs.push_back(Fp32("INPUT1", std::move(b)));
    return r;
  }

  std::string root_;
  std::unique_ptr<Backend> backend_;
};

TEST_F(PythonBackendTest, NameIsPython) { EXPECT_EQ(backend_->name(), "python"); }

TEST_F(PythonBackendTest, AddSubComputesBothOutputs) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest r = AddSubRequest({1, 2, 3, 4}, {0.5F, 0.25F, -1, 10}, "req-7");
  auto out = inst->Execute({&r});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  EXPECT_EQ(out[0]->id, "req-7");
  EXPECT_EQ(out[0]->model_name, "add_sub");
  EXPECT_EQ(out[0]->model_version, "1");
  const Tensor* o0 = FindOutput(*out[0], "OUTPUT0");
  const Tensor* o1 = FindOutput(*out[0], "OUTPUT1");
  ASSERT_NE(o0, nullptr);
  ASSERT_NE(o1, nullptr);
  EXPECT_EQ(o0->datatype, DataType::kFp32);
  EXPECT_EQ(o0->shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(AsFloats(*o0), (std::vector<float>{1.5F, 2.25F, 2, 14}));
  EXPECT_EQ(AsFloats(*o1), (std::vector<float>{0.5F, 1.75F, 4, -6}));
  // The print() calls in initialize and execute went to the log, not the protocol.
  auto* py = dynamic_cast<PythonModelInstance*>(inst.get());
  ASSERT_NE(py, nullptr);
  std::string log = ReadAll(py->log_path());
  EXPECT_NE(log.find("initialized add_sub_0_0"), std::string::npos) << log;
  EXPECT_NE(log.find("a print() between frames"), std::string::npos) << log;
}

TEST_F(PythonBackendTest, RequestedOutputsAreFiltered) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest r = AddSubRequest({1, 1, 1, 1}, {2, 2, 2, 2});
  r.outputs.push_back({"OUTPUT1", false});
  auto out = inst->Execute({&r});
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  ASSERT_EQ(out[0]->outputs.size(), 1u);
  EXPECT_EQ(out[0]->outputs[0].name, "OUTPUT1");
  EXPECT_EQ(AsFloats(out[0]->outputs[0]), (std::vector<float>{-1, -1, -1, -1}));
}

TEST_F(PythonBackendTest, RequestIdThatIsNotUtf8IsEchoedUnchanged) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest r = AddSubRequest({1, 1, 1, 1}, {2, 2, 2, 2}, "id-\xff\xfe");
  auto out = inst->Execute({&r});
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  EXPECT_EQ(out[0]->id, "id-\xff\xfe");
}

TEST_F(PythonBackendTest, ChildInheritsNoOtherDescriptors) {
  // A descriptor the server opened without O_CLOEXEC must not reach the child: the
  // model looks for any descriptor of its own that points at the marker file.
  std::string marker = root_ + "/leak-marker";
  std::ofstream(marker) << "x";
  int opened = ::open(marker.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(opened, 0);
  // Above the descriptors the child's setup overwrites (0-3), without O_CLOEXEC.
  int leaked = ::fcntl(opened, F_DUPFD, 20);
  ::close(opened);
  ASSERT_GE(leaked, 20);
  auto s = WriteModel("fds", R"(name: "fds" backend: "python")", R"(
import os
def targets():
    out = []
    for f in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink("/proc/self/fd/" + f))
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return out
class TritonPythonModel:
    def initialize(self, args):
        leaked = [t for t in targets() if t.endswith("/leak-marker")]
        if leaked:
            raise RuntimeError("inherited %r" % leaked)
    def execute(self, requests):
        return []
)");
  auto inst = backend_->LoadInstance(s, 0);
  ::close(leaked);
  EXPECT_TRUE(inst.ok()) << inst.status().ToString();
}

TEST_F(PythonBackendTest, BatchOfThreeGivesThreeResponsesInOrder) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest a = AddSubRequest({1, 1, 1, 1}, {1, 1, 1, 1}, "a");
  InferRequest b = AddSubRequest({2, 2, 2, 2}, {1, 1, 1, 1}, "b");
  InferRequest c = AddSubRequest({3, 3, 3, 3}, {1, 1, 1, 1}, "c");
  auto out = inst->Execute({&a, &b, &c});
  ASSERT_EQ(out.size(), 3u);
  const char* ids[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(out[i].ok()) << out[i].status().ToString();
    EXPECT_EQ(out[i]->id, ids[i]);
    float v = static_cast<float>(i + 2);
    EXPECT_EQ(AsFloats(*FindOutput(*out[i], "OUTPUT0")), (std::vector<float>{v, v, v, v}));
  }
}

TEST_F(PythonBackendTest, BytesModelLikeTheArticlesSdBase) {
  // The article's own config.pbtxt, EXECUTION_ENV_PATH included.
  std::string config =
      ReadAll(std::string(SAGEBOX_TESTDATA) + "/endpoint/sagemaker-sd-mme/sd_base/config.pbtxt");
  ASSERT_NE(config.find("EXECUTION_ENV_PATH"), std::string::npos);
  auto s = WriteModel("sd_base", config, kSdBaseModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  auto* py = dynamic_cast<PythonModelInstance*>(inst.get());
  ASSERT_NE(py, nullptr);
  EXPECT_EQ(py->execution_env_path(), "/tmp/conda/sd_env.tar.gz");
  EXPECT_NE(ReadAll(py->log_path()).find("EXECUTION_ENV_PATH=/tmp/conda/sd_env.tar.gz accepted"),
            std::string::npos);

  InferRequest r1;
  r1.id = "1";
  r1.inputs.push_back(Strings("prompt", {"a cat, \xC3\xA9t\xC3\xA9"}));
  r1.inputs.push_back(Strings("negative_prompt", {"blurry"}));
  r1.inputs.push_back(Strings("gen_args", {R"({"seed": 42})"}));
  InferRequest r2;
  r2.id = "2";
  r2.inputs.push_back(Strings("prompt", {"fail"}));
  InferRequest r3;
  r3.id = "3";
  r3.inputs.push_back(Strings("prompt", {""}));
  auto out = inst->Execute({&r1, &r2, &r3});
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  const Tensor* img = FindOutput(*out[0], "generated_image");
  ASSERT_NE(img, nullptr);
  EXPECT_EQ(img->datatype, DataType::kString);
  EXPECT_EQ(img->shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(img->strings, (std::vector<std::string>{"IMG[a cat, \xC3\xA9t\xC3\xA9|blurry|42]"}));
  // A TritonError in one response fails that request only, with the model's message.
  ASSERT_FALSE(out[1].ok());
  EXPECT_EQ(out[1].status().code(), StatusCode::kInternal);
  EXPECT_NE(out[1].status().message().find("prompt rejected: fail"), std::string::npos);
  ASSERT_TRUE(out[2].ok()) << out[2].status().ToString();
  EXPECT_EQ(FindOutput(*out[2], "generated_image")->strings,
            (std::vector<std::string>{"IMG[|None|-1]"}));
}

TEST_F(PythonBackendTest, ExceptionInExecuteFailsTheBatchWithItsMessage) {
  auto s = WriteModel("boom", R"(name: "boom" backend: "python")", R"(
class TritonPythonModel:
    def execute(self, requests):
        raise ValueError("no GPU for you")
)");
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest a;
  InferRequest b;
  auto out = inst->Execute({&a, &b});
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) {
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInternal);
    EXPECT_NE(o.status().message().find("ValueError: no GPU for you"), std::string::npos)
        << o.status().message();
  }
  // The child survives a raising execute(): the next batch reaches it again.
  int pid = dynamic_cast<PythonModelInstance*>(inst.get())->child_pid();
  (void)inst->Execute({&a});
  EXPECT_EQ(dynamic_cast<PythonModelInstance*>(inst.get())->child_pid(), pid);
}

TEST_F(PythonBackendTest, WrongNumberOfResponsesIsAModelError) {
  auto s = WriteModel("short", R"(name: "short" backend: "python")", R"(
class TritonPythonModel:
    def execute(self, requests):
        return []
)");
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest a;
  auto out = inst->Execute({&a});
  ASSERT_FALSE(out[0].ok());
  EXPECT_NE(out[0].status().message().find("returned 0 responses for 1 requests"),
            std::string::npos)
      << out[0].status().message();
}

TEST_F(PythonBackendTest, ExceptionInInitializeFailsTheLoad) {
  auto s = WriteModel("badinit", R"(name: "badinit" backend: "python")", R"(
class TritonPythonModel:
    def initialize(self, args):
        raise RuntimeError("weights missing: unet.pt")
    def execute(self, requests):
        return []
)");
  auto inst = backend_->LoadInstance(s, 0);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), StatusCode::kInternal);
  EXPECT_NE(inst.status().message().find("RuntimeError: weights missing: unet.pt"),
            std::string::npos)
      << inst.status().message();
}

TEST_F(PythonBackendTest, MissingModelPyIsBadInputNamingTheFile) {
  auto s = WriteModel("nomodel", R"(name: "nomodel" backend: "python")", "");
  fs::remove(s.version_dir + "/model.py");
  auto inst = backend_->LoadInstance(s, 0);
  ASSERT_FALSE(inst.ok());
  EXPECT_EQ(inst.status().code(), StatusCode::kBadInput);
  EXPECT_NE(inst.status().message().find(s.version_dir + "/model.py"), std::string::npos);
}

TEST_F(PythonBackendTest, MissingInterpreterFailsTheLoad) {
  PythonBackendOptions options;
  options.temp_dir = root_;
  options.python = root_ + "/no-such-python";
  auto backend = NewPythonBackend(options);
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = backend->LoadInstance(s, 0);
  ASSERT_FALSE(inst.ok());
  EXPECT_NE(inst.status().message().find("no-such-python"), std::string::npos)
      << inst.status().message();
}

TEST_F(PythonBackendTest, KilledChildIsInternalThenRestarts) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  auto* py = dynamic_cast<PythonModelInstance*>(inst.get());
  int pid = py->child_pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  InferRequest r = AddSubRequest({1, 2, 3, 4}, {1, 1, 1, 1});
  auto out = inst->Execute({&r});
  ASSERT_FALSE(out[0].ok());
  EXPECT_EQ(out[0].status().code(), StatusCode::kInternal);
  EXPECT_NE(out[0].status().message().find("killed by signal SIGKILL"), std::string::npos)
      << out[0].status().message();
  // Reaped: no zombie left behind.
  EXPECT_FALSE(ProcessExists(pid));
  EXPECT_EQ(py->child_pid(), -1);
  EXPECT_EQ(inst->MeasuredBytes(), 0u);
  // The next request starts a new child.
  auto again = inst->Execute({&r});
  ASSERT_TRUE(again[0].ok()) << again[0].status().ToString();
  EXPECT_EQ(AsFloats(*FindOutput(*again[0], "OUTPUT0")), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_GT(py->child_pid(), 0);
  EXPECT_NE(py->child_pid(), pid);
}

TEST_F(PythonBackendTest, ChildExitingReportsExitCodeAndLogTail) {
  auto s = WriteModel("quitter", R"(name: "quitter" backend: "python")", R"(
import os, sys
class TritonPythonModel:
    def execute(self, requests):
        sys.stderr.write("about to give up\n")
        sys.stderr.flush()
        os._exit(7)
)");
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest r;
  auto out = inst->Execute({&r});
  ASSERT_FALSE(out[0].ok());
  EXPECT_NE(out[0].status().message().find("exit code 7"), std::string::npos)
      << out[0].status().message();
  EXPECT_NE(out[0].status().message().find("about to give up"), std::string::npos)
      << out[0].status().message();
}

TEST_F(PythonBackendTest, DestroyCallsFinalizeAndReapsTheChild) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  int pid = dynamic_cast<PythonModelInstance*>(inst.get())->child_pid();
  ASSERT_GT(pid, 0);
  EXPECT_GT(inst->MeasuredBytes(), 4u << 20);  // an interpreter with numpy
  EXPECT_FALSE(fs::exists(s.version_dir + "/FINALIZE_MARKER"));
  inst.reset();
  EXPECT_EQ(ReadAll(s.version_dir + "/FINALIZE_MARKER"), "finalized\n");
  EXPECT_FALSE(ProcessExists(pid));
}

TEST_F(PythonBackendTest, ChildIgnoringTheEndIsKilled) {
  PythonBackendOptions options;
  options.temp_dir = root_;
  options.finalize_timeout = std::chrono::milliseconds(300);
  options.kill_grace = std::chrono::milliseconds(300);
  auto backend = NewPythonBackend(options);
  auto s = WriteModel("stubborn", R"(name: "stubborn" backend: "python")", R"(
import signal, time
class TritonPythonModel:
    def initialize(self, args):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    def execute(self, requests):
        return []
    def finalize(self):
        time.sleep(60)
)");
  auto inst = backend->LoadInstance(s, 0);
  ASSERT_TRUE(inst.ok()) << inst.status().ToString();
  int pid = dynamic_cast<PythonModelInstance*>(inst->get())->child_pid();
  auto start = std::chrono::steady_clock::now();
  inst->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_FALSE(ProcessExists(pid));
}

TEST_F(PythonBackendTest, TwoInstancesRunInParallel) {
  // Each execute waits (up to 20 s) until both instances are inside execute at
  // once: with one child at a time, neither would ever see the other's file.
  auto s = WriteModel("pair", R"(name: "pair" backend: "python"
instance_group [ { count: 2 kind: KIND_CPU } ])",
                      R"(
import os, time
import numpy as np
import triton_python_backend_utils as pb_utils
class TritonPythonModel:
    def initialize(self, args):
        self.me = args["model_instance_name"]
    def execute(self, requests):
        open(self.me + ".inside", "w").close()
        others = lambda: [f for f in os.listdir(".") if f.endswith(".inside") and f != self.me + ".inside"]
        deadline = time.time() + 20
        while not others() and time.time() < deadline:
            time.sleep(0.01)
        seen = "yes" if others() else "no"
        return [pb_utils.InferenceResponse([pb_utils.Tensor("SEEN", np.array([seen], dtype=object)),
                                            pb_utils.Tensor("PID", np.array([os.getpid()], dtype=np.int64))])
                for _ in requests]
)");
  auto a = Load(s, 0);
  auto b = Load(s, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  int pa = dynamic_cast<PythonModelInstance*>(a.get())->child_pid();
  int pb = dynamic_cast<PythonModelInstance*>(b.get())->child_pid();
  EXPECT_NE(pa, pb);
  InferRequest r;
  std::vector<StatusOr<InferResponse>> ra;
  std::vector<StatusOr<InferResponse>> rb;
  std::thread ta([&] { ra = a->Execute({&r}); });
  std::thread tb([&] { rb = b->Execute({&r}); });
  ta.join();
  tb.join();
  for (auto* res : {&ra, &rb}) {
    ASSERT_EQ(res->size(), 1u);
    ASSERT_TRUE((*res)[0].ok()) << (*res)[0].status().ToString();
    EXPECT_EQ(FindOutput(*(*res)[0], "SEEN")->strings, (std::vector<std::string>{"yes"}));
  }
  int64_t pid_a = 0;
  int64_t pid_b = 0;
  std::memcpy(&pid_a, FindOutput(*ra[0], "PID")->data.data(), 8);
  std::memcpy(&pid_b, FindOutput(*rb[0], "PID")->data.data(), 8);
  EXPECT_EQ(pid_a, pa);
  EXPECT_EQ(pid_b, pb);
}

TEST_F(PythonBackendTest, Bf16InputIsInvalidArgumentOthersStillRun) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest bad;
  Tensor t;
  t.name = "INPUT0";
  t.datatype = DataType::kBf16;
  t.shape = {1};
  t.data = std::string(2, '\0');
  bad.inputs.push_back(t);
  InferRequest good = AddSubRequest({1, 1, 1, 1}, {1, 1, 1, 1});
  auto out = inst->Execute({&bad, &good});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out[1].ok()) << out[1].status().ToString();
}

TEST_F(PythonBackendTest, PredictBytesIsFilesPlusInterpreter) {
  auto s = WriteModel("add_sub", kAddSubConfig, "x = 1\n");  // 6 bytes
  fs::create_directories(s.version_dir + "/weights");
  std::ofstream(s.version_dir + "/weights/w.bin") << std::string(1000, 'w');
  auto bytes = backend_->PredictBytes(s);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, kPythonInterpreterBytes + 1006);
  s.version_dir = root_ + "/missing/1";
  EXPECT_EQ(backend_->PredictBytes(s).status().code(), StatusCode::kNotFound);
}

TEST_F(PythonBackendTest, BytesOutputsTakeStrAndBytesAndRejectOthers) {
  auto s = WriteModel("texts", R"(name: "texts" backend: "python")", R"(
import numpy as np
import triton_python_backend_utils as pb_utils
class TritonPythonModel:
    def execute(self, requests):
        pb_utils.Logger.log_info("logged through pb_utils")
        out = []
        for r in requests:
            kind = r.request_id()
            if kind == "mixed":
                arr = np.array([["caf\u00e9", b"\x00\xff"], ["", b"z"]], dtype=object)
            elif kind == "fixed":
                arr = np.array([b"ab", b"c"], dtype=np.bytes_)
            else:
                arr = np.array([1, 2], dtype=object)
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("OUT", arr)]))
        return out
)");
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  InferRequest mixed;
  mixed.id = "mixed";
  InferRequest fixed;
  fixed.id = "fixed";
  auto out = inst->Execute({&mixed, &fixed});
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  const Tensor* m = FindOutput(*out[0], "OUT");
  EXPECT_EQ(m->datatype, DataType::kString);
  EXPECT_EQ(m->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(m->strings,
            (std::vector<std::string>{"caf\xC3\xA9", std::string("\0\xff", 2), "", "z"}));
  ASSERT_TRUE(out[1].ok()) << out[1].status().ToString();
  EXPECT_EQ(FindOutput(*out[1], "OUT")->strings, (std::vector<std::string>{"ab", "c"}));
  // An element that is neither str nor bytes is the model's error, named.
  InferRequest ints;
  ints.id = "ints";
  auto bad = inst->Execute({&ints});
  ASSERT_FALSE(bad[0].ok());
  EXPECT_NE(bad[0].status().message().find("output 'OUT': a BYTES element must be bytes or str"),
            std::string::npos)
      << bad[0].status().message();
  std::string log = ReadAll(dynamic_cast<PythonModelInstance*>(inst.get())->log_path());
  EXPECT_NE(log.find("INFO: logged through pb_utils"), std::string::npos) << log;
}

TEST_F(PythonBackendTest, EmbeddedSourcesAreTheFilesAndAreWrittenOut) {
  // The binary carries the .py files (an installed binary has no source tree).
  std::string src = std::string(SAGEBOX_TESTDATA) + "/../../src/endpoint/python/";
  EXPECT_EQ(ReadAll(src + "sagebox_python_runner.py"), python_sources::kRunner);
  EXPECT_EQ(ReadAll(src + "triton_python_backend_utils.py"), python_sources::kUtils);
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  std::string dir =
      fs::path(dynamic_cast<PythonModelInstance*>(inst.get())->log_path()).parent_path();
  EXPECT_EQ(ReadAll(dir + "/sagebox_python_runner.py"), python_sources::kRunner);
  EXPECT_EQ(ReadAll(dir + "/triton_python_backend_utils.py"), python_sources::kUtils);
}

TEST_F(PythonBackendTest, TempDirIsRemovedWithTheInstance) {
  auto s = WriteModel("add_sub", kAddSubConfig, kAddSubModel);
  auto inst = Load(s);
  ASSERT_NE(inst, nullptr);
  std::string log = dynamic_cast<PythonModelInstance*>(inst.get())->log_path();
  std::string dir = fs::path(log).parent_path();
  EXPECT_TRUE(fs::exists(dir + "/sagebox_python_runner.py"));
  EXPECT_TRUE(fs::exists(dir + "/triton_python_backend_utils.py"));
  inst.reset();
  EXPECT_FALSE(fs::exists(dir));
}

}  // namespace
}  // namespace sagebox::endpoint
