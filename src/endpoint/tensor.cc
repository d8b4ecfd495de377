#include "endpoint/tensor.h"

#include <limits>

namespace sagebox::endpoint {

int64_t Tensor::ElementCount() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

Status Tensor::CheckConsistent() const {
  int64_t n = ElementCount();
  if (n < 0) return InvalidArgument("tensor '" + name + "': invalid shape");
  if (datatype == DataType::kInvalid) return InvalidArgument("tensor '" + name + "': no datatype");
  if (datatype == DataType::kString) {
    if (!data.empty() || static_cast<int64_t>(strings.size()) != n) {
      return InvalidArgument("tensor '" + name + "': shape has " + std::to_string(n) +
                             " elements but " + std::to_string(strings.size()) + " were given");
    }
    return Status::Ok();
  }
  auto want = static_cast<uint64_t>(n) * ElementSize(datatype);
  if (!strings.empty() || data.size() != want) {
    return InvalidArgument("tensor '" + name + "': shape needs " + std::to_string(want) +
                           " bytes of " + ToKServeDatatype(datatype) + " but " +
                           std::to_string(data.size()) + " were given");
  }
  return Status::Ok();
}

const Tensor* FindInput(const InferRequest& request, const std::string& name) {
  for (const auto& t : request.inputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace sagebox::endpoint
