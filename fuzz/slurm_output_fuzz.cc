// Fuzz target for what sagebox reads from Slurm (pipeline/slurm): squeue --json, sacct
// --parsable2 and sbatch --parsable outputs and array index expressions. Any bytes give
// BadInput (or, for squeue, its reported errors as Internal) or a result, never a crash; an
// index expression that parses round-trips through CompressIndices to the same indices.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipeline/slurm/array_indices.h"
#include "pipeline/slurm/slurm_client.h"

namespace slurm = sagebox::pipeline::slurm;
using sagebox::StatusCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = slurm::ParseSqueueJson(text, 41);
  if (!q.ok() && q.status().code() != StatusCode::kBadInput &&
      q.status().code() != StatusCode::kInternal) {
    __builtin_trap();
  }
  if (q.ok()) {
    for (size_t i = 1; i < q->tasks.size(); ++i) {
      if (q->tasks[i - 1].index >= q->tasks[i].index) __builtin_trap();  // sorted, distinct
    }
  }
  auto a = slurm::ParseSacctParsable(text, 41);
  if (!a.ok() && a.status().code() != StatusCode::kBadInput) __builtin_trap();
  auto b = slurm::ParseSbatchParsable(text);
  if (!b.ok() && b.status().code() != StatusCode::kBadInput) __builtin_trap();
  // Bounded: a range like 0-2000000000 is legal Slurm but not worth expanding here.
  if (size < 64) {
    auto indices = slurm::ExpandIndices(text);
    if (indices.ok() && indices->size() < 100000) {
      auto again = slurm::ExpandIndices(slurm::CompressIndices(*indices));
      if (!again.ok() || *again != *indices) __builtin_trap();
    }
  }
  return 0;
}
