#include "endpoint/torch/torch_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/testing/temp_dir.h"

namespace sagebox::endpoint {
namespace {

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

TEST(TorchUtilTest, EveryFixedSizeTypeRoundTrips) {
  struct Case {
    DataType type;
    c10::ScalarType torch_type;
    size_t size;
  };
  const std::vector<Case> cases = {
      {DataType::kBool, c10::ScalarType::Bool, 1},
      {DataType::kUint8, c10::ScalarType::Byte, 1},
      {DataType::kInt8, c10::ScalarType::Char, 1},
      {DataType::kInt16, c10::ScalarType::Short, 2},
      {DataType::kInt32, c10::ScalarType::Int, 4},
      {DataType::kInt64, c10::ScalarType::Long, 8},
      {DataType::kFp16, c10::ScalarType::Half, 2},
      {DataType::kFp32, c10::ScalarType::Float, 4},
      {DataType::kFp64, c10::ScalarType::Double, 8},
      {DataType::kBf16, c10::ScalarType::BFloat16, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(TritonTypeName(c.type)));
    Tensor in;
    in.name = "x";
    in.datatype = c.type;
    in.shape = {2, 3};
    // Byte patterns every type can hold (bool needs 0/1).
    for (size_t i = 0; i < 6 * c.size; ++i) {
      in.data.push_back(static_cast<char>(c.type == DataType::kBool ? (i % 2) : (i * 7 + 1)));
    }
    auto t = ToTorch(in);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->scalar_type(), c.torch_type);
    EXPECT_EQ(t->sizes().vec(), (std::vector<int64_t>{2, 3}));
    auto back = FromTorch("y", *t);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->name, "y");
    EXPECT_EQ(back->datatype, c.type);
    EXPECT_EQ(back->shape, in.shape);
    EXPECT_EQ(back->data, in.data);
  }
}

TEST(TorchUtilTest, ValuesLandWhereTorchExpectsThem) {
  auto t = ToTorch(MakeTensor<float>("x", DataType::kFp32, {2, 2}, {1.5F, -2.0F, 3.25F, 4.0F}));
  ASSERT_TRUE(t.ok());
  EXPECT_FLOAT_EQ((*t)[1][0].item<float>(), 3.25F);
  // A transposed (non-contiguous) tensor comes back row-major in its own shape.
  auto back = FromTorch("t", t->t());
  ASSERT_TRUE(back.ok());
  std::vector<float> values(4);
  std::memcpy(values.data(), back->data.data(), 16);
  EXPECT_EQ(values, (std::vector<float>{1.5F, 3.25F, -2.0F, 4.0F}));
  // A scalar has an empty shape and one element.
  auto scalar = FromTorch("s", torch::tensor(int64_t{42}));
  ASSERT_TRUE(scalar.ok());
  EXPECT_TRUE(scalar->shape.empty());
  int64_t v = 0;
  std::memcpy(&v, scalar->data.data(), 8);
  EXPECT_EQ(v, 42);
}

TEST(TorchUtilTest, UnsupportedTypesAreInvalidArgument) {
  Tensor s;
  s.name = "text";
  s.datatype = DataType::kString;
  s.shape = {1};
  s.strings = {"hello"};
  auto r = ToTorch(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'text'"), std::string::npos) << r.status().message();

  auto u = ToTorch(MakeTensor<uint32_t>("u", DataType::kUint32, {1}, {7}));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(u.status().message().find("TYPE_UINT32"), std::string::npos) << u.status().message();

  auto complex = FromTorch("c", torch::zeros({2}, torch::kComplexFloat));
  ASSERT_FALSE(complex.ok());
  EXPECT_EQ(complex.status().code(), StatusCode::kUnimplemented);
}

TEST(TorchUtilTest, BytesNotMatchingTheShapeAreInvalidArgument) {
  auto r = ToTorch(MakeTensor<float>("x", DataType::kFp32, {2, 2}, {1.0F, 2.0F, 3.0F}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(TorchUtilTest, ModuleBytesCountsEachStorageOnce) {
  torch::jit::Module root("Root");
  torch::Tensor weight = torch::zeros({10, 10});  // 400 bytes
  root.register_parameter("weight", weight, /*is_buffer=*/false);
  // A view of the same storage (tied weights) adds nothing.
  root.register_buffer("tied", weight.view({100}));
  torch::jit::Module child("Child");
  child.register_buffer("counts", torch::zeros({25}, torch::kInt64));  // 200 bytes
  root.register_module("child", child);
  EXPECT_EQ(ModuleBytes(root), 600U);
}

TEST(TorchUtilTest, LoadTorchScriptErrors) {
  testing::TempDir dir("torch_util");
  auto missing = LoadTorchScript(dir.Path("nope.pt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  std::string path = dir.Path("junk.pt");
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, "definitely not a zip archive").ok());
  auto junk = LoadTorchScript(path);
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), StatusCode::kBadInput);
  EXPECT_NE(junk.status().message().find(path), std::string::npos) << junk.status().message();
  // The message is one line: libtorch's backtrace is cut off.
  EXPECT_EQ(junk.status().message().find('\n'), std::string::npos) << junk.status().message();
}

}  // namespace
}  // namespace sagebox::endpoint
