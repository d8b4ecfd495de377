// array_indices.h: Slurm job-array index lists, both ways: a sorted set of indices to the
// compact form sbatch --array and scancel take ("0-9", "1,3,7-9"), and Slurm's own forms
// back to indices ("2-5%2" from squeue's array_task_string, "0-15:4", "7_[1,3-4]").
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::slurm {

// "0-9", "1,3,7-9": sorted, duplicates dropped, runs of consecutive indices as ranges.
// Empty input gives "". Negative indices are the caller's bug (Slurm has none): they are
// kept as they are, so sbatch rejects them with its own message.
std::string CompressIndices(std::vector<int> indices);

// Parses an index expression: comma-separated items, each N, N-M or N-M:STEP, optionally
// ending in %K (the concurrency limit, ignored) and optionally wrapped in [ ]. Returns the
// sorted distinct indices. BadInput naming the expression and the offending item when it is
// not of that form or a range runs backwards.
StatusOr<std::vector<int>> ExpandIndices(std::string_view expr);

}  // namespace sagebox::pipeline::slurm
