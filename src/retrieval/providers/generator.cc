#include "retrieval/providers/generator.h"

#include <fmt/format.h>

#include <cmath>

namespace sagebox::retrieval {

Status ValidateGenerationParams(const GenerationParams& p) {
  if (p.max_length < 1) {
    return InvalidArgument(fmt::format("generation: max_length = {}: expected >= 1", p.max_length));
  }
  if (p.num_return_sequences < 1) {
    return InvalidArgument(fmt::format("generation: num_return_sequences = {}: expected >= 1",
                                       p.num_return_sequences));
  }
  if (p.top_k < 0) {
    return InvalidArgument(fmt::format("generation: top_k = {}: expected >= 0", p.top_k));
  }
  if (!(p.top_p > 0 && p.top_p <= 1)) {
    return InvalidArgument(fmt::format("generation: top_p = {}: expected in (0, 1]", p.top_p));
  }
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) {
    return InvalidArgument(
        fmt::format("generation: temperature = {}: expected a number >= 0", p.temperature));
  }
  return Status::Ok();
}

}  // namespace sagebox::retrieval
