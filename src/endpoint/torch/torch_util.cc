#include "endpoint/torch/torch_util.h"

#include <torch/version.h>

#include <cstring>
#include <exception>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/env.h"

namespace sagebox::endpoint {

// endpoint::Tensor holds little-endian bytes and the conversions below memcpy them
// into torch's native-order storage.
// (__BYTE_ORDER__ rather than C++20's std::endian: see .clang-tidy in this folder.)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "endpoint tensors are little-endian; a big-endian host needs byte swaps");

std::string TorchErrorSummary(const std::exception& e) {
  // c10::Error::what() appends a multi-line C++ backtrace; a user needs the message.
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  // TorchScript interpreter errors put the Python-level message on the last line
  // ("RuntimeError: ..."), after the serialized call stack; keep that line.
  if (size_t last = text.rfind('\n'); last != std::string::npos) {
    std::string tail = text.substr(last + 1);
    if (tail.find("Error") != std::string::npos) return tail;
    return text.substr(0, text.find('\n'));
  }
  return text;
}

StatusOr<torch::jit::Module> LoadTorchScript(const std::string& path) {
  // torch::jit::load reports a missing file as an unreadable archive; tell them apart.
  if (!Env::Default()->Exists(path)) return NotFound(path + ": no such TorchScript file");
  try {
    torch::jit::Module module = torch::jit::load(path, torch::kCPU);
    module.eval();
    return module;
  } catch (const std::exception& e) {
    return BadInput(path + ": not a TorchScript archive libtorch " + TORCH_VERSION +
                    " can load: " + TorchErrorSummary(e));
  }
}

uint64_t ModuleBytes(const torch::jit::Module& module) {
  std::unordered_set<const void*> seen;
  uint64_t total = 0;
  auto count = [&](const at::Tensor& t) {
    if (!t.defined() || !t.has_storage()) return;
    const c10::Storage& storage = t.storage();
    if (seen.insert(storage.unsafeGetStorageImpl()).second) total += storage.nbytes();
  };
  // named_attributes covers parameters and buffers and also plain tensor
  // attributes (a scripted module's `self.x = torch.zeros(...)`), which hold
  // memory just the same.
  for (const auto& attribute : module.named_attributes(/*recurse=*/true)) {
    const c10::IValue& value = attribute.value;
    if (value.isTensor()) {
      count(value.toTensor());
    } else if (value.isTensorList()) {
      for (const at::Tensor& t : value.toTensorVector()) count(t);
    }
  }
  return total;
}

StatusOr<c10::ScalarType> ToTorchType(DataType type) {
  switch (type) {
    case DataType::kBool:
      return c10::ScalarType::Bool;
    case DataType::kUint8:
      return c10::ScalarType::Byte;
    case DataType::kInt8:
      return c10::ScalarType::Char;
    case DataType::kInt16:
      return c10::ScalarType::Short;
    case DataType::kInt32:
      return c10::ScalarType::Int;
    case DataType::kInt64:
      return c10::ScalarType::Long;
    case DataType::kFp16:
      return c10::ScalarType::Half;
    case DataType::kFp32:
      return c10::ScalarType::Float;
    case DataType::kFp64:
      return c10::ScalarType::Double;
    case DataType::kBf16:
      return c10::ScalarType::BFloat16;
    case DataType::kUint16:
    case DataType::kUint32:
    case DataType::kUint64:
      return InvalidArgument(std::string(TritonTypeName(type)) + " has no libtorch " TORCH_VERSION
                                                                 " dtype");
    case DataType::kString:
      return InvalidArgument(
          "TYPE_STRING (BYTES) tensors cannot be passed to TorchScript models by this backend");
    case DataType::kInvalid:
      break;
  }
  return InvalidArgument("no datatype given");
}

StatusOr<DataType> FromTorchType(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::Bool:
      return DataType::kBool;
    case c10::ScalarType::Byte:
      return DataType::kUint8;
    case c10::ScalarType::Char:
      return DataType::kInt8;
    case c10::ScalarType::Short:
      return DataType::kInt16;
    case c10::ScalarType::Int:
      return DataType::kInt32;
    case c10::ScalarType::Long:
      return DataType::kInt64;
    case c10::ScalarType::Half:
      return DataType::kFp16;
    case c10::ScalarType::Float:
      return DataType::kFp32;
    case c10::ScalarType::Double:
      return DataType::kFp64;
    case c10::ScalarType::BFloat16:
      return DataType::kBf16;
    default:
      break;
  }
  return Unimplemented(std::string("torch dtype ") + c10::toString(type) +
                       " has no Triton datatype");
}

StatusOr<torch::Tensor> ToTorch(const Tensor& tensor) {
  auto dtype = ToTorchType(tensor.datatype);
  if (!dtype.ok()) return dtype.status().WithContext("tensor '" + tensor.name + "'");
  RETURN_IF_ERROR(tensor.CheckConsistent());
  try {
    torch::Tensor out = torch::empty(tensor.shape, torch::TensorOptions().dtype(*dtype));
    if (!tensor.data.empty()) std::memcpy(out.data_ptr(), tensor.data.data(), tensor.data.size());
    return out;
  } catch (const std::exception& e) {
    // Only an allocation failure or a shape torch refuses can land here.
    return InvalidArgument("tensor '" + tensor.name + "': " + TorchErrorSummary(e));
  }
}

StatusOr<Tensor> FromTorch(const std::string& name, const torch::Tensor& tensor) {
  if (!tensor.defined()) return Internal("output '" + name + "': the model returned no tensor");
  auto datatype = FromTorchType(tensor.scalar_type());
  if (!datatype.ok()) return datatype.status().WithContext("output '" + name + "'");
  try {
    torch::Tensor dense = tensor.to(torch::kCPU).contiguous();
    Tensor out;
    out.name = name;
    out.datatype = *datatype;
    out.shape.assign(dense.sizes().begin(), dense.sizes().end());
    out.data.resize(dense.nbytes());
    if (!out.data.empty()) std::memcpy(out.data.data(), dense.data_ptr(), out.data.size());
    return out;
  } catch (const std::exception& e) {
    return Internal("output '" + name + "': " + TorchErrorSummary(e));
  }
}

}  // namespace sagebox::endpoint
