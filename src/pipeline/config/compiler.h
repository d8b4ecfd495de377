// compiler.h: a pipeline Config → a standard Amazon States Language state machine
// (JSONPath) that AWS Step Functions would also accept and sagebox's interpreter runs.
// The shape (docs/pipeline.md, "Compiled state machine"):
//
//   Init (Pass: run token, the stages with their candidates expanded)
//   → Features (createProcessingJob.sync)            [if `features`]
//   → Stages (Map over stages, INLINE, MaxConcurrency)
//       → Candidates (Map, DISTRIBUTED, MaxConcurrency, ToleratedFailurePercentage)
//           → Train (createTrainingJob.sync) → Candidate Done | Candidate Failed
//       → Register Best (lambda:invoke sagebox-register-best)
//       → Predict (createProcessingJob.sync)         [if `predict`]
//       → Stage Done | Stage Failed
//   → Analytics (createProcessingJob.sync)           [if `analytics`]
//   → Done
//
// Every job has the config's Retry, then a Catch of States.ALL into a Pass that records
// the failure ($.failure and $.status) in the result.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "pipeline/config/config.h"

namespace sagebox::pipeline::config {

// The register function the interpreter implements as a built-in (docs/pipeline.md,
// "sagebox-register-best").
inline constexpr const char* kRegisterFunction = "sagebox-register-best";

// Local paths inside a job (the SageMaker container contract, under /opt/ml).
inline constexpr const char* kProcessingInputDir = "/opt/ml/processing/input";
inline constexpr const char* kProcessingOutputDir = "/opt/ml/processing/output";
inline constexpr const char* kProcessingModelDir = "/opt/ml/processing/model";

// The state machine for `config`. Deterministic: the same Config gives the same JSON
// (objects keep nlohmann::json's sorted key order). InvalidArgument if the Config
// breaks a rule ParseConfig enforces (a Config built by hand).
StatusOr<nlohmann::json> Compile(const Config& config);

// `asl` pretty-printed with two-space indents and a final newline: the bytes
// `sagebox pipeline compile` writes.
std::string DumpAsl(const nlohmann::json& asl);

// LoadConfig then Compile then DumpAsl: a file's compiled text. The loader's and the
// compiler's errors.
StatusOr<std::string> CompileFile(const std::string& path, Env* env = Env::Default());

}  // namespace sagebox::pipeline::config
