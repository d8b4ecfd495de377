// engine.h: the Amazon States Language interpreter. Execute runs a parsed StateMachine
// (asl/definition.h) on an input, in memory, and returns how it ended, its output and its
// history in GetExecutionHistory's event shape.
//
// Semantics follow the States Language spec (https://states-language.net/spec.html) and the
// Step Functions developer guide (https://docs.aws.amazon.com/step-functions/latest/dg/),
// JSONPath mode: every state type; InputPath → Parameters → task → ResultSelector →
// ResultPath → OutputPath ("Processing input and output"); Retry then Catch; Map (ItemsPath,
// ItemSelector, MaxConcurrency(Path), ToleratedFailure*) and Parallel run concurrently on engine
// threads; Wait, retry back-off and time-outs use the injected Clock.
//
// Not supported yet (each ends the execution with States.Runtime naming the field):
// `Assign` and JSONPath variables, a Map's ItemReader/ItemBatcher/ResultWriter (DISTRIBUTED Maps
// otherwise run like INLINE ones). JSONata definitions are refused by ParseDefinition.
//
// Resume (redrive): every completed state is reported as a Checkpoint under a stable key
// (`Train`, `Stages/3/Candidates/7/Train`, `Fork/branch-1/Load`, `Loop#2` for a second visit in
// one scope); whole Map iterations (`Stages/3`) and Parallel branches (`Fork/branch-1`) too.
// Passing an earlier attempt's checkpoints in ExecuteOptions::resume_from skips what completed
// (no dispatch, no events; the recorded output is used) and runs the rest.
//
// Failed Map iterations that the Map tolerates keep their slot in the results array, holding
// the iteration's error output {"Error": ..., "Cause": ...} (AWS documents no inline shape;
// this is the Catch error output's).
//
// `$$.Execution.Input` is in the context object (and TaskRequest::context) only when some path
// or template of the definition may read it: copying a large input into every state's context
// made big Maps quadratic.
//
// Thread-safety: Execute may be called from several threads at once for different executions;
// one execution uses up to max_parallel threads per Map/Parallel level and calls the Services
// from them (see interfaces.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/asl/definition.h"
#include "pipeline/asl/payload.h"
#include "pipeline/engine/interfaces.h"

namespace sagebox::pipeline::engine {

struct Limits {
  // Per state input/output, task parameters and result (Step Functions quotas: 256 KiB).
  size_t max_payload_bytes = asl::kMaxPayloadBytes;
  // "Maximum execution history size: 25,000 events ... If the execution history reaches this
  // quota, the execution fails" (Step Functions service quotas,
  // https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). The benchmark
  // raises it.
  int64_t max_history_events = 25000;
};

struct ExecuteOptions {
  std::string execution_name = "execution";
  std::string execution_arn;  // default: built from the state machine ARN and the name
  std::string state_machine_name = "StateMachine";
  std::string
      state_machine_arn;  // default: arn:aws:states:<region>:000000000000:stateMachine:<name>
  std::string role_arn;
  std::string region = "us-east-1";
  std::optional<int64_t> start_time_ms;  // default: the clock's now
  int64_t redrive_count = 0;             // $$.Execution.RedriveCount
  // Checkpoints of an earlier attempt of this execution (resume, redrive style).
  std::vector<Checkpoint> resume_from;
  // Stop: cancelling it aborts the execution (running dispatches are cancelled).
  std::shared_ptr<CancelToken> stop;
  // Concurrent Map iterations when MaxConcurrency is 0, and concurrent Parallel branches. Step
  // Functions runs up to 40 inline Map iterations at once ("Map state", concurrency).
  int64_t max_parallel = 40;
  // When positive, a Map runs up to this many iterations at once whatever its
  // MaxConcurrency, and leaves MaxConcurrency to the dispatcher (TaskRequest::fan_out): an
  // executor that throttles a whole fan-out itself (a Slurm job array's %K) must see every
  // iteration's task, not MaxConcurrency of them at a time.
  int64_t fan_out_width = 0;
  Limits limits;
  bool keep_events =
      true;  // also return the events in ExecutionResult (the journal gets them anyway)
};

// What the engine calls. dispatcher and clock are required; random and journal are optional
// (a SeededRandom from std::random_device; no journal).
struct Services {
  TaskDispatcher* dispatcher = nullptr;
  Clock* clock = nullptr;
  RandomSource* random = nullptr;
  ExecutionJournal* journal = nullptr;
};

enum class ExecutionStatus { kSucceeded, kFailed, kTimedOut, kAborted };
// "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED" (DescribeExecution's status).
std::string_view ExecutionStatusName(ExecutionStatus status);

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ExecutionResult {
  ExecutionStatus status = ExecutionStatus::kFailed;
  nlohmann::json output;  // SUCCEEDED only
  std::string error;      // otherwise: the ASL error name ("States.Timeout", a task's own)
  std::string cause;
  std::vector<nlohmann::json> events;   // when keep_events
  std::vector<Checkpoint> checkpoints;  // this attempt's, in completion order
  int64_t start_ms = 0;
  int64_t stop_ms = 0;
};

// Runs `machine` on `input` to the end. The execution's own outcome (a failed task, a time-out,
// a Stop) is data in the result. InvalidArgument only when Services lacks the dispatcher or the
// clock.
StatusOr<ExecutionResult> Execute(const asl::StateMachine& machine, const nlohmann::json& input,
                                  const ExecuteOptions& options, const Services& services);

// "arn:aws:states:::sagemaker:createTrainingJob.sync" → {"sagemaker", "createTrainingJob.sync"};
// "arn:aws:lambda:us-east-1:123:function:f" → {"lambda", the ARN}; anything else → {"", it}.
// The resourceType/resource pair of TaskScheduled events.
std::pair<std::string, std::string> SplitResource(std::string_view resource);

// 2019-03-26T20:14:13.192Z for Unix milliseconds (the context object's times).
std::string FormatIsoMillis(int64_t unix_ms);

}  // namespace sagebox::pipeline::engine
