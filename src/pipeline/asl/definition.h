// definition.h: Amazon States Language definitions parsed into a typed model and validated
// statically, before anything runs.
//
// ParseDefinition turns the JSON text of a state machine into a StateMachine (states in the
// order written, plus a name index, so the UI can draw them as written); ValidateDefinition
// lists every problem found, each with a JSON-pointer location (`/States/Train/Retry/0/
// ErrorEquals`) and a message naming the state and field and saying what was expected.
//
// The rules follow the States Language spec (https://states-language.net/spec.html), the
// Step Functions developer guide (https://docs.aws.amazon.com/step-functions/latest/dg/) and
// asl-validator (github.com/ChristopheBougere/asl-validator: its JSON schemas and checks):
// fields per state type (unknown fields refused), field types and ranges, transitions inside
// one scope (no jumping into or out of a Parallel branch or Map processor), reachability,
// duplicate JSON keys, Retry/Catch, Choice rules, Map limits, path and payload-template
// syntax. JSONata definitions are refused with one "not supported yet" problem.
//
// Choice rules' `Variable` is checked as a Path (the spec: "MUST be a Path"), where
// asl-validator's schema asks for a Reference Path; the `...Path` comparison operands are
// Reference Paths in both.
//
// The legacy Map form (`Iterator` + `Parameters`) is normalised: `Iterator` becomes the
// processor (INLINE) and `Parameters` becomes `item_selector`; `MapFields::legacy_iterator`
// records that it was written that way.
//
// Thread-safety: pure functions over their arguments; the model types are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::asl {

// One thing wrong with a definition.
struct Problem {
  std::string location;  // JSON pointer into the definition, e.g. "/States/Train/Next"
  std::string message;   // names the state and field and what was expected
};

// A path field where JSON null means something: `"InputPath": null` gives the state `{}` as
// input, `"ResultPath": null` discards the result; absent means the default ("$").
struct PathField {
  enum class Kind { kAbsent, kNull, kPath };
  Kind kind = Kind::kAbsent;
  std::string path;  // set when kind == kPath

  bool absent() const { return kind == Kind::kAbsent; }
  bool is_null() const { return kind == Kind::kNull; }
  bool has_path() const { return kind == Kind::kPath; }
};

enum class StateType { kTask, kPass, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
// "Task", "Pass", ... as written in ASL.
std::string_view StateTypeName(StateType type);

enum class JitterStrategy { kNone, kFull };

// One element of `Retry`; the defaults are the spec's.
struct Retrier {
  std::vector<std::string> error_equals;
  int64_t interval_seconds = 1;
  int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<int64_t> max_delay_seconds;
  JitterStrategy jitter_strategy = JitterStrategy::kNone;
};

// One element of `Catch`.
struct Catcher {
  std::vector<std::string> error_equals;
  std::string next;
  PathField result_path;                 // absent means "$" (the error output replaces the input)
  std::optional<nlohmann::json> assign;  // JSONPath-mode variables assigned on this catch
};

struct State;

// A state machine, or one scope inside one: a Parallel branch or a Map processor.
struct StateMachine {
  std::string comment;
  std::string start_at;
  std::string version;                               // top level only
  std::optional<int64_t> timeout_seconds;            // top level only
  std::vector<State> states;                         // in the order written
  std::map<std::string, size_t, std::less<>> index;  // state name -> position in `states`

  // The state called `name`, or nullptr when this scope has none.
  const State* Find(std::string_view name) const;
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct TaskFields {
  nlohmann::json resource;  // a URI string, or a CloudFormation object (`Ref`, `Fn::GetAtt`)
  std::optional<int64_t> timeout_seconds;
  std::string timeout_seconds_path;
  std::optional<int64_t> heartbeat_seconds;
  std::string heartbeat_seconds_path;
  std::optional<nlohmann::json> credentials;
};

struct PassFields {
  std::optional<nlohmann::json> result;  // absent: the (processed) input is the result
};

// One top-level Choice rule: kept as the raw JSON (validated) for the evaluator.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ChoiceRule {
  nlohmann::json rule;
  std::string next;
};

struct ChoiceFields {
  std::vector<ChoiceRule> choices;
  std::string default_state;  // empty when absent (no match then fails States.NoChoiceMatched)
};

struct WaitFields {
  std::optional<int64_t> seconds;
  std::string timestamp;  // RFC 3339, as written
  std::string seconds_path;
  std::string timestamp_path;
};

struct SucceedFields {};

struct FailFields {
  std::string error, error_path, cause, cause_path;  // empty when absent
};

struct ParallelFields {
  std::vector<StateMachine> branches;
};

enum class ProcessorMode { kInline, kDistributed };

struct ProcessorConfig {
  ProcessorMode mode = ProcessorMode::kInline;
  std::string execution_type;  // DISTRIBUTED only: "STANDARD" or "EXPRESS"
};

struct MapFields {
  StateMachine processor;  // `ItemProcessor` (or the legacy `Iterator`)
  ProcessorConfig processor_config;
  bool legacy_iterator = false;  // written as `Iterator` (+ `Parameters` as the selector)
  std::string items_path;        // empty when absent ("$")
  std::optional<nlohmann::json> item_selector;
  std::optional<nlohmann::json> item_reader, item_batcher, result_writer;  // raw JSON
  int64_t max_concurrency = 0;                                             // 0: no limit
  std::string max_concurrency_path;
  std::optional<double> tolerated_failure_percentage;
  std::string tolerated_failure_percentage_path;
  std::optional<int64_t> tolerated_failure_count;
  std::string tolerated_failure_count_path;
  std::string label;
};

struct State {
  std::string name;
  StateType type = StateType::kPass;
  std::string comment;
  std::string next;  // empty for terminal states
  bool end = false;
  PathField input_path, output_path, result_path;
  // Payload templates; nullopt when absent, a JSON null when written as null.
  std::optional<nlohmann::json> parameters, result_selector, assign;
  std::vector<Retrier> retry;
  std::vector<Catcher> catchers;
  std::variant<TaskFields, PassFields, ChoiceFields, WaitFields, SucceedFields, FailFields,
               ParallelFields, MapFields>
      fields;

  const TaskFields* task() const { return std::get_if<TaskFields>(&fields); }
  const PassFields* pass() const { return std::get_if<PassFields>(&fields); }
  const ChoiceFields* choice() const { return std::get_if<ChoiceFields>(&fields); }
  const WaitFields* wait() const { return std::get_if<WaitFields>(&fields); }
  const FailFields* fail() const { return std::get_if<FailFields>(&fields); }
  const ParallelFields* parallel() const { return std::get_if<ParallelFields>(&fields); }
  const MapFields* map() const { return std::get_if<MapFields>(&fields); }
};

// Parses and validates `json_text`. Fails with kBadInput when the text is not JSON or the
// definition has problems; the message lists the first problems ("location: message").
StatusOr<StateMachine> ParseDefinition(std::string_view json_text);

// Every problem in `json_text`, roughly in document order (each scope's transition and
// reachability problems follow its states). Malformed JSON is one problem naming its line and
// column; a JSONata definition is one "not supported yet" problem. Empty when valid.
std::vector<Problem> ValidateDefinition(std::string_view json_text);

// The problems as `FILE: /States/X/Next: message` lines, one per problem, each ending "\n".
std::string FormatProblems(std::string_view file, const std::vector<Problem>& problems);

}  // namespace sagebox::pipeline::asl
