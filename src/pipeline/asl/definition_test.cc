#include "pipeline/asl/definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sagebox::pipeline::asl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kDataDir = fs::path(SAGEBOX_TESTDATA) / "pipeline" / "asl";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> Fixtures(std::string_view prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDataDir / "asl-validator")) {
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Dump(const std::vector<Problem>& problems) { return FormatProblems("def", problems); }

// True when some problem sits exactly at `location` and its message holds `text`.
bool HasProblem(const std::vector<Problem>& problems, std::string_view location,
                std::string_view text) {
  return std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
    return p.location == location && p.message.find(text) != std::string::npos;
  });
}

#define EXPECT_PROBLEM(def, location, text)                                \
  do {                                                                     \
    auto problems_ = ValidateDefinition(def);                              \
    EXPECT_TRUE(HasProblem(problems_, location, text)) << Dump(problems_); \
  } while (0)

#define EXPECT_VALID(def)                              \
  do {                                                 \
    auto problems_ = ValidateDefinition(def);          \
    EXPECT_TRUE(problems_.empty()) << Dump(problems_); \
  } while (0)

// A machine of the one state "S", so each case shows only its rule.
std::string One(const std::string& state_body) {
  return R"({"StartAt":"S","States":{"S":)" + state_body + "}}";
}

// ---------------------------------------------------------------------------------------------
// asl-validator's own fixtures

struct InvalidCase {
  const char* file;
  const char* location;
  const char* text;  // in the message; every message also names the state
};

const InvalidCase kInvalid[] = {
    {"invalid-assign.asl.json", "/States/ProvideTestData/QueryLanguage",
     "JSONata is not supported yet"},
    {"invalid-dupe-fields.asl.json", "/States/PassState/Parameters/dynamic/conflict.$",
     "both become \"conflict\""},
    {"invalid-duplicate-fields-nested.json",
     "/States/Publish to Slack/Parameters/slackMessage/blocks/0/text/type.$",
     "both become \"type\""},
    {"invalid-duplicate-fields.json", "/States/Publish to Slack/Parameters/slackMessage/channel",
     "both become \"channel\""},
    {"invalid-error-equals-type.json", "/States/Testing/Catch/0/ErrorEquals/0",
     "must hold error name strings, not true"},
    {"invalid-error-equals.json", "/States/Testing/Catch/0/Error Equals",
     "unknown field \"Error Equals\""},
    {"invalid-exercise-ajv-additional-properties.asl.json", "/States/PassState/bugInputPath",
     "unknown field \"bugInputPath\""},
    {"invalid-exercise-ajv.asl.json", "/States/PassState/InputPath", "is not a valid path"},
    {"invalid-fail-dupe-cause.json", "/States/Hello/CausePath",
     "has both \"Cause\" and \"CausePath\""},
    {"invalid-fail-dupe-error.json", "/States/Hello/ErrorPath",
     "has both \"Error\" and \"ErrorPath\""},
    {"invalid-inexistant-state.json", "/States/Start State/Next",
     "names \"Finished\", which is not a state"},
    {"invalid-next-with-end.json", "/States/Send SNS Message/End", "has both \"Next\" and \"End\""},
    {"invalid-parallel-branch-type.json", "/States/A/Branches/0",
     "must be a JSON object with \"StartAt\""},
    {"invalid-parallel-missing-branches.json", "/States/Parallel/Branches", "missing \"Branches\""},
    {"invalid-parallel-ob-link.json",
     "/States/Parallel/Branches/1/States/ChoiceState/Choices/1/Next",
     "is outside this Parallel branch"},
    {"invalid-payload-template.asl.json", "/States/Hello, World/Parameters/lorem.$",
     "expected a path"},
    {"invalid-state-name-too-long.json",
     "/States/This is an exceptionally long state name that I know will fail when I try to "
     "deploy to AWS",
     "is 90 characters long"},
    {"invalid-unreachable-state.json", "/States/Finished Choice", "is unreachable"},
    {"invalid-variable-result-path.json", "/States/Fin/ResultPath", "cannot be a variable ($foo)"},
    {"invalid-wait-duration.json", "/States/wait_using_seconds",
     "needs exactly one of \"Seconds\""},
};

TEST(AslValidatorFixtures, EveryInvalidFileIsRejectedAtTheExpectedStateAndField) {
  std::set<std::string> covered;
  for (const InvalidCase& c : kInvalid) covered.insert(c.file);
  std::set<std::string> on_disk;
  for (const fs::path& p : Fixtures("invalid-")) on_disk.insert(p.filename().string());
  EXPECT_EQ(covered, on_disk) << "every invalid fixture has a row in kInvalid";

  for (const InvalidCase& c : kInvalid) {
    SCOPED_TRACE(c.file);
    const std::string text = ReadFile(kDataDir / "asl-validator" / c.file);
    auto problems = ValidateDefinition(text);
    ASSERT_FALSE(problems.empty());
    EXPECT_TRUE(HasProblem(problems, c.location, c.text)) << Dump(problems);
    auto parsed = ParseDefinition(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kBadInput);
    EXPECT_THAT(parsed.status().message(), HasSubstr(problems[0].message));
  }
}

TEST(AslValidatorFixtures, ProblemMessagesNameTheState) {
  const std::string text = ReadFile(kDataDir / "asl-validator" / "invalid-next-with-end.json");
  auto problems = ValidateDefinition(text);
  ASSERT_EQ(problems.size(), 1U) << Dump(problems);
  EXPECT_THAT(problems[0].message, HasSubstr("state \"Send SNS Message\""));
}

// The JSONPath-mode `Assign` beside the bad ResultPath is valid: the only problem is the path.
TEST(AslValidatorFixtures, VariableResultPathIsTheOnlyProblem) {
  auto problems = ValidateDefinition(
      ReadFile(kDataDir / "asl-validator" / "invalid-variable-result-path.json"));
  ASSERT_EQ(problems.size(), 1U) << Dump(problems);
  EXPECT_EQ(problems[0].location, "/States/Fin/ResultPath");
}

TEST(AslValidatorFixtures, EveryValidFileIsAcceptedExceptTheJsonataOnes) {
  const std::set<std::string> kJsonata = {
      "valid-assign.asl.json",
      "valid-comments-are-not-parsed.asl.json",
      "valid-json-surround-syntax.json",
      "valid-jsonata-syntax-function-call.json",
      "valid-jsonata-syntax-path-expression.json",
      "valid-jsonata-syntax-simple-arithmetic.json",
      "valid-jsonata.asl.json",
      "valid-map-items.asl.json",
      "valid-map-with-item-batcher-jsonata.json",
      "valid-task-timeout-jsonata.json",
      "valid-wait-jsonata.asl.json",
  };
  // Two valid files use jsonpath-plus forms beyond Jayway's: a bare word as a filter operand
  // (`[?(@.OutputKey == FooBar)]`, taken as the string) and Goessner's `$[(@.length-1)]`;
  // json_path.h accepts both, so they count among the accepted ones.
  std::set<std::string> refused;
  size_t accepted = 0;
  for (const fs::path& p : Fixtures("valid-")) {
    SCOPED_TRACE(p.filename().string());
    auto problems = ValidateDefinition(ReadFile(p));
    if (problems.empty()) {
      ++accepted;
      EXPECT_TRUE(ParseDefinition(ReadFile(p)).ok());
      continue;
    }
    refused.insert(p.filename().string());
    ASSERT_EQ(problems.size(), 1U) << Dump(problems);
    EXPECT_EQ(problems[0].message, "JSONata is not supported yet: use JSONPath (the default)");
  }
  std::set<std::string> expected_refused = kJsonata;
  EXPECT_EQ(refused, expected_refused);
  EXPECT_EQ(accepted, 51U);
}

TEST(AwsSampleWorkflows, AllSixParse) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(kDataDir / "sfn-workflows-collection")) {
    SCOPED_TRACE(e.path().filename().string());
    auto m = ParseDefinition(ReadFile(e.path()));
    EXPECT_TRUE(m.ok()) << m.status().message();
    ++n;
  }
  EXPECT_EQ(n, 6U);
}

TEST(AwsSampleWorkflows, TrainMlModelKeepsStateOrderAndTypes) {
  auto m =
      ParseDefinition(ReadFile(kDataDir / "sfn-workflows-collection" / "train-ml-model.asl.json"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_GE(m->states.size(), 2U);
  EXPECT_EQ(m->start_at, "Generate dataset");
  EXPECT_EQ(m->states[0].name, "Generate dataset");
  EXPECT_EQ(m->states[1].name, "Train model (XGBoost)");
  const State* train = m->Find("Train model (XGBoost)");
  ASSERT_NE(train, nullptr);
  ASSERT_NE(train->task(), nullptr);
  EXPECT_EQ(train->task()->resource, "arn:${partition}:states:::sagemaker:createTrainingJob.sync");
  ASSERT_TRUE(train->parameters.has_value());
  EXPECT_EQ((*train->parameters)["TrainingJobName.$"], "$$.Execution.Name");
  for (size_t i = 0; i < m->states.size(); ++i) EXPECT_EQ(m->index.at(m->states[i].name), i);
}

TEST(AwsSampleWorkflows, DistributedMapKeepsReaderAsRawJson) {
  auto m = ParseDefinition(
      ReadFile(kDataDir / "sfn-workflows-collection" / "distributed-map-csv-iterator.asl.json"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const MapFields* map = m->Find("Map")->map();
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->processor_config.mode, ProcessorMode::kDistributed);
  EXPECT_EQ(map->processor_config.execution_type, "EXPRESS");
  EXPECT_EQ(map->max_concurrency, 100);
  ASSERT_TRUE(map->item_reader.has_value());
  EXPECT_EQ((*map->item_reader)["ReaderConfig"]["InputType"], "CSV");
  EXPECT_EQ(map->processor.start_at, "Start Child Step Function");
  EXPECT_FALSE(map->legacy_iterator);
}

// ---------------------------------------------------------------------------------------------
// The model

TEST(Model, StatesKeepTheirWrittenOrder) {
  auto m = ParseDefinition(
      R"({"StartAt":"Zed","States":{"Zed":{"Type":"Pass","Next":"Alpha"},
          "Alpha":{"Type":"Pass","Next":"Mid"},"Mid":{"Type":"Succeed"}}})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->states.size(), 3U);
  EXPECT_EQ(m->states[0].name, "Zed");
  EXPECT_EQ(m->states[1].name, "Alpha");
  EXPECT_EQ(m->states[2].name, "Mid");
  EXPECT_EQ(m->Find("Mid")->type, StateType::kSucceed);
  EXPECT_EQ(m->Find("Nope"), nullptr);
}

TEST(Model, NullPathsAreDistinctFromAbsentOnes) {
  auto m = ParseDefinition(One(
      R"({"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","InputPath":null,
          "ResultPath":null,"Parameters":null,"End":true})"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const State& s = m->states[0];
  EXPECT_TRUE(s.input_path.is_null());
  EXPECT_TRUE(s.result_path.is_null());
  EXPECT_TRUE(s.output_path.absent());
  ASSERT_TRUE(s.parameters.has_value());
  EXPECT_TRUE(s.parameters->is_null());
  EXPECT_FALSE(s.result_selector.has_value());

  auto with_path = ParseDefinition(One(R"({"Type":"Pass","OutputPath":"$.a","End":true})"));
  ASSERT_TRUE(with_path.ok());
  EXPECT_TRUE(with_path->states[0].output_path.has_path());
  EXPECT_EQ(with_path->states[0].output_path.path, "$.a");
}

TEST(Model, RetryDefaultsAreTheSpecs) {
  auto m = ParseDefinition(One(
      R"({"Type":"Task","Resource":"r","End":true,
          "Retry":[{"ErrorEquals":["X"]},{"ErrorEquals":["States.ALL"],"IntervalSeconds":5,
          "MaxAttempts":0,"BackoffRate":1,"MaxDelaySeconds":10,"JitterStrategy":"FULL"}]})"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const auto& retry = m->states[0].retry;
  ASSERT_EQ(retry.size(), 2U);
  EXPECT_EQ(retry[0].interval_seconds, 1);
  EXPECT_EQ(retry[0].max_attempts, 3);
  EXPECT_DOUBLE_EQ(retry[0].backoff_rate, 2.0);
  EXPECT_FALSE(retry[0].max_delay_seconds.has_value());
  EXPECT_EQ(retry[0].jitter_strategy, JitterStrategy::kNone);
  EXPECT_EQ(retry[1].interval_seconds, 5);
  EXPECT_EQ(retry[1].max_attempts, 0);
  EXPECT_DOUBLE_EQ(retry[1].backoff_rate, 1.0);
  EXPECT_EQ(retry[1].max_delay_seconds, 10);
  EXPECT_EQ(retry[1].jitter_strategy, JitterStrategy::kFull);
}

TEST(Model, LegacyIteratorIsNormalisedToAProcessorAndItemSelector) {
  auto m = ParseDefinition(ReadFile(kDataDir / "asl-validator" / "valid-map-with-parameters.json"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const State& s = *m->Find("Map");
  const MapFields* map = s.map();
  ASSERT_NE(map, nullptr);
  EXPECT_TRUE(map->legacy_iterator);
  EXPECT_EQ(map->processor_config.mode, ProcessorMode::kInline);
  EXPECT_EQ(map->processor.start_at, "Wait 20s");
  ASSERT_TRUE(map->item_selector.has_value());
  EXPECT_EQ((*map->item_selector)["courier.$"], "$.delivery-partner");
  EXPECT_FALSE(s.parameters.has_value());
  EXPECT_EQ(map->items_path, "$.items");
}

TEST(Model, ParallelBranchesAreNestedMachinesAndChoiceRulesRawJson) {
  auto m = ParseDefinition(ReadFile(kDataDir / "asl-validator" / "valid-parallel.json"));
  ASSERT_TRUE(m.ok()) << m.status().message();
  const ParallelFields* p = m->Find("Parallel")->parallel();
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->branches.size(), 2U);
  EXPECT_EQ(p->branches[1].states[1].name, "Wait 10s");
  EXPECT_EQ(p->branches[1].states[1].wait()->seconds, 10);

  auto c = ParseDefinition(ReadFile(kDataDir / "asl-validator" / "valid-choice-state.json"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const ChoiceFields* choice = c->Find("ChoiceState")->choice();
  ASSERT_NE(choice, nullptr);
  ASSERT_EQ(choice->choices.size(), 2U);
  EXPECT_EQ(choice->choices[1].next, "SecondMatchState");
  EXPECT_EQ(choice->choices[1].rule["Or"][1]["NumericEquals"], 3);
  EXPECT_EQ(choice->default_state, "DefaultState");
}

// ---------------------------------------------------------------------------------------------
// Rules, each with a valid twin and an invalid twin

TEST(Rules, MalformedJsonNamesLineAndColumn) {
  auto problems = ValidateDefinition("{\n  \"StartAt\": \"A\",\n  \"States\": {\n}");
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_THAT(problems[0].message, HasSubstr("malformed JSON at line 4"));
}

TEST(Rules, UnknownTopLevelFieldsAreRefused) {
  EXPECT_VALID(R"({"StartAt":"S","Version":"1.0","TimeoutSeconds":60,"Comment":"c",
                  "QueryLanguage":"JSONPath","States":{"S":{"Type":"Succeed"}}})");
  EXPECT_PROBLEM(R"({"StartAt":"S","Startat":"S","States":{"S":{"Type":"Succeed"}}})", "/Startat",
                 "unknown field \"Startat\" in the state machine");
}

TEST(Rules, FieldTypes) {
  EXPECT_VALID(One(R"({"Type":"Pass","Comment":"hi","End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Comment":3,"End":true})"), "/States/S/Comment",
                 "Pass state \"S\": \"Comment\" must be a string");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Next":7})"), "/States/S/Next", "\"Next\" must be a string");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Result":1,"End":true,"InputPath":5})"),
                 "/States/S/InputPath", "must be a path string or null");
}

TEST(Rules, TypeMustBeKnown) {
  EXPECT_PROBLEM(One(R"({"Type":"Lambda","End":true})"), "/States/S/Type",
                 "state \"S\": \"Type\" must be one of");
  EXPECT_PROBLEM(One(R"({"End":true})"), "/States/S/Type", "(missing)");
}

TEST(Rules, StartAtMustNameAState) {
  EXPECT_PROBLEM(R"({"States":{"S":{"Type":"Succeed"}}})", "/StartAt", "missing \"StartAt\"");
  EXPECT_PROBLEM(R"({"StartAt":"T","States":{"S":{"Type":"Succeed"}}})", "/StartAt",
                 "names \"T\", which is not a state");
}

TEST(Rules, TransitionTargetsMustExist) {
  const std::string choice = R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
      {"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"%s"},
      "A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"%s"}],
      "End":true},"B":{"Type":"Succeed"}}})";
  auto fill = [&](const std::string& d, const std::string& c) {
    std::string s = choice;
    s.replace(s.find("%s"), 2, d);
    s.replace(s.find("%s"), 2, c);
    return s;
  };
  EXPECT_VALID(fill("B", "B"));
  EXPECT_PROBLEM(fill("Nope", "B"), "/States/C/Default", "\"Default\" names \"Nope\"");
  EXPECT_PROBLEM(fill("B", "Gone"), "/States/A/Catch/0/Next",
                 "\"Catch\"[0] \"Next\" names \"Gone\"");
}

TEST(Rules, NoJumpingIntoABranchOrOutOfAMapProcessor) {
  EXPECT_PROBLEM(R"({"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"Inner",
      "Branches":[{"StartAt":"Inner","States":{"Inner":{"Type":"Succeed"}}}]}}})",
                 "/States/P/Next", "is inside a Parallel branch or Map processor");
  EXPECT_PROBLEM(R"({"StartAt":"M","States":{"M":{"Type":"Map","Next":"After",
      "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Next":"After"}}}},
      "After":{"Type":"Succeed"}}})",
                 "/States/M/ItemProcessor/States/I/Next", "is outside this Map processor");
  EXPECT_VALID(R"({"StartAt":"M","States":{"M":{"Type":"Map","Next":"After",
      "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}},
      "After":{"Type":"Succeed"}}})");
}

TEST(Rules, ExactlyOneOfNextAndEnd) {
  EXPECT_PROBLEM(One(R"({"Type":"Pass"})"), "/States/S",
                 "Pass state \"S\": needs \"Next\" (the state to go to) or \"End\": true");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","End":false})"), "/States/S/End", "must be true");
}

TEST(Rules, TerminalStatesHaveNoNextOrEnd) {
  EXPECT_PROBLEM(One(R"({"Type":"Succeed","End":true})"), "/States/S/End",
                 "a Succeed state must not have \"End\"");
  EXPECT_PROBLEM(R"({"StartAt":"S","States":{"S":{"Type":"Fail","Next":"T"},
                    "T":{"Type":"Succeed"}}})",
                 "/States/S/Next", "a Fail state must not have \"Next\"");
  EXPECT_PROBLEM(R"({"StartAt":"C","States":{"C":{"Type":"Choice","End":true,
      "Choices":[{"Variable":"$.a","IsNull":true,"Next":"T"}]},"T":{"Type":"Succeed"}}})",
                 "/States/C/End", "its transitions are in \"Choices\"");
}

TEST(Rules, SomeStateMustEndTheScope) {
  EXPECT_PROBLEM(R"({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
                    "B":{"Type":"Pass","Next":"A"}}})",
                 "/States", "no state ends this scope");
}

TEST(Rules, StateNamesAreAtMost80Characters) {
  const std::string ok(80, 'n');
  const std::string bad(81, 'n');
  EXPECT_VALID(R"({"StartAt":")" + ok + R"(","States":{")" + ok + R"(":{"Type":"Succeed"}}})");
  EXPECT_PROBLEM(R"({"StartAt":")" + bad + R"(","States":{")" + bad + R"(":{"Type":"Succeed"}}})",
                 "/States/" + bad, "is 81 characters long");
}

TEST(Rules, DuplicateJsonKeysAnywhere) {
  EXPECT_PROBLEM(R"({"StartAt":"S","States":{"S":{"Type":"Succeed"},"S":{"Type":"Succeed"}}})",
                 "/States/S", "duplicate key \"S\"");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Result":{"a":[{"k":1,"k":2}]},"End":true})"),
                 "/States/S/Result/a/0/k", "duplicate key \"k\"");
  // A state name with a slash is escaped in the pointer (RFC 6901).
  EXPECT_PROBLEM(R"({"StartAt":"a/b","States":{"a/b":{"Type":"Succeed","Type":"Succeed"}}})",
                 "/States/a~1b/Type", "duplicate key \"Type\"");
}

TEST(Rules, FailErrorAndCause) {
  EXPECT_VALID(
      One(R"j({"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('x{}', $.c)"})j"));
  EXPECT_PROBLEM(One(R"j({"Type":"Fail","ErrorPath":"$.e[*]"})j"), "/States/S/ErrorPath",
                 "must be a reference path or an intrinsic function");
}

TEST(Rules, WaitNeedsExactlyOneDuration) {
  EXPECT_VALID(One(R"({"Type":"Wait","Timestamp":"2024-02-29T23:59:60.5+01:00","End":true})"));
  EXPECT_VALID(One(R"({"Type":"Wait","Seconds":0,"End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Wait","End":true})"), "/States/S", "found 0");
  EXPECT_PROBLEM(One(R"({"Type":"Wait","Seconds":1.5,"End":true})"), "/States/S/Seconds",
                 "must be an integer from 0");
  EXPECT_PROBLEM(One(R"({"Type":"Wait","Timestamp":"2024-02-30T00:00:00Z","End":true})"),
                 "/States/S/Timestamp", "is not an RFC 3339 time");
  EXPECT_PROBLEM(One(R"({"Type":"Wait","Timestamp":"2024-01-01 00:00:00Z","End":true})"),
                 "/States/S/Timestamp", "is not an RFC 3339 time");
}

std::string WithRetry(const std::string& retry) {
  return One(R"({"Type":"Task","Resource":"r","End":true,"Retry":)" + retry + "}");
}

TEST(Rules, ErrorEquals) {
  EXPECT_VALID(WithRetry(R"([{"ErrorEquals":["A","B"]},{"ErrorEquals":["States.ALL"]}])"));
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":[]}])"), "/States/S/Retry/0/ErrorEquals",
                 "must be a non-empty array");
  EXPECT_PROBLEM(WithRetry(R"([{"MaxAttempts":1}])"), "/States/S/Retry/0/ErrorEquals",
                 "missing \"ErrorEquals\"");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["States.ALL","X"]}])"),
                 "/States/S/Retry/0/ErrorEquals", "must appear alone");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}])"),
                 "/States/S/Retry/0/ErrorEquals", "must be last");
}

TEST(Rules, RetryRanges) {
  EXPECT_VALID(WithRetry(R"([{"ErrorEquals":["X"],"MaxAttempts":0,"BackoffRate":1.0,
                  "IntervalSeconds":1,"MaxDelaySeconds":1,"JitterStrategy":"NONE"}])"));
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"MaxAttempts":-1}])"),
                 "/States/S/Retry/0/MaxAttempts", "must be an integer from 0");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"BackoffRate":0.5}])"),
                 "/States/S/Retry/0/BackoffRate", "must be a number from 1");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"IntervalSeconds":0}])"),
                 "/States/S/Retry/0/IntervalSeconds", "must be an integer from 1");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"MaxDelaySeconds":0}])"),
                 "/States/S/Retry/0/MaxDelaySeconds", "must be an integer from 1");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"JitterStrategy":"HALF"}])"),
                 "/States/S/Retry/0/JitterStrategy", "must be \"FULL\" or \"NONE\"");
  EXPECT_PROBLEM(WithRetry(R"([{"ErrorEquals":["X"],"Tries":2}])"), "/States/S/Retry/0/Tries",
                 "unknown field \"Tries\"");
}

std::string WithChoice(const std::string& rule) {
  return R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[)" + rule +
         R"(],"Default":"T"},"T":{"Type":"Succeed"}}})";
}

TEST(Rules, ChoiceRules) {
  EXPECT_VALID(WithChoice(
      R"({"And":[{"Variable":"$.a","NumericGreaterThanEquals":1},
                 {"Not":{"Variable":"$.b","StringMatches":"x*"}},
                 {"Variable":"$.t","TimestampLessThan":"2024-01-01T00:00:00Z"},
                 {"Variable":"$.c","StringEqualsPath":"$.d"}],"Next":"T"})"));
  EXPECT_PROBLEM(
      WithChoice(R"({"Variable":"$.a","NumericEquals":1,"StringEquals":"x","Next":"T"})"),
      "/States/C/Choices/0", "needs exactly one comparison operator");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","Next":"T"})"), "/States/C/Choices/0",
                 "found none");
  EXPECT_PROBLEM(WithChoice(R"({"NumericEquals":1,"Next":"T"})"), "/States/C/Choices/0/Variable",
                 "needs \"Variable\"");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","NumericEquals":"1","Next":"T"})"),
                 "/States/C/Choices/0/NumericEquals", "compares to a number");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","BooleanEquals":"true","Next":"T"})"),
                 "/States/C/Choices/0/BooleanEquals", "takes true or false");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","TimestampEquals":"yesterday","Next":"T"})"),
                 "/States/C/Choices/0/TimestampEquals", "RFC 3339");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","StringEqualsPath":"$.b[*]","Next":"T"})"),
                 "/States/C/Choices/0/StringEqualsPath", "is not a valid reference path");
  EXPECT_PROBLEM(WithChoice(R"({"Not":{"Variable":"$.a","IsNull":true,"Next":"T"},"Next":"T"})"),
                 "/States/C/Choices/0/Not/Next", "nested Choice rule must not have \"Next\"");
  EXPECT_PROBLEM(WithChoice(R"({"And":[],"Next":"T"})"), "/States/C/Choices/0/And",
                 "non-empty array");
  EXPECT_PROBLEM(WithChoice(R"({"Variable":"$.a","IsNull":true})"), "/States/C/Choices/0/Next",
                 "needs \"Next\"");
  EXPECT_PROBLEM(R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[]}}})",
                 "/States/C/Choices", "non-empty array of Choice rules");
}

std::string WithMap(const std::string& fields) {
  return One(R"({"Type":"Map","End":true,"ItemProcessor":{"StartAt":"I","States":{
      "I":{"Type":"Pass","End":true}}})" +
             fields + "}");
}

TEST(Rules, MapLimits) {
  EXPECT_VALID(WithMap(R"(,"ToleratedFailurePercentage":100,"MaxConcurrency":0,
                          "ToleratedFailureCount":0,"ItemsPath":"$.items","Label":"L")"));
  EXPECT_PROBLEM(WithMap(R"(,"ToleratedFailurePercentage":101)"),
                 "/States/S/ToleratedFailurePercentage", "must be a number from 0 to 100");
  EXPECT_PROBLEM(WithMap(R"(,"MaxConcurrency":-1)"), "/States/S/MaxConcurrency",
                 "must be an integer from 0");
  EXPECT_PROBLEM(WithMap(R"(,"MaxConcurrency":2,"MaxConcurrencyPath":"$.n")"),
                 "/States/S/MaxConcurrencyPath", "has both \"MaxConcurrency\"");
  EXPECT_PROBLEM(WithMap(R"(,"ToleratedFailureCount":1,"ToleratedFailureCountPath":"$.n")"),
                 "/States/S/ToleratedFailureCountPath", "use only one");
  EXPECT_PROBLEM(WithMap(R"(,"ItemSelector":{},"Parameters":{})"), "/States/S/Parameters",
                 "has both \"ItemSelector\" and \"Parameters\"");
  EXPECT_PROBLEM(WithMap(R"(,"Iterator":{"StartAt":"J","States":{"J":{"Type":"Succeed"}}})"),
                 "/States/S/Iterator", "exactly one of \"ItemProcessor\" and \"Iterator\"");
  EXPECT_PROBLEM(One(R"({"Type":"Map","End":true})"), "/States/S",
                 "exactly one of \"ItemProcessor\"");
  EXPECT_PROBLEM(WithMap(R"(,"ItemsPath":"$..items")"), "/States/S/ItemsPath",
                 "is not a valid reference path");
  EXPECT_VALID(WithMap(R"(,"ItemBatcher":{"MaxItemsPerBatch":2,"MaxInputBytesPerBatchPath":"$.b"},
      "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"MaxItems":5}})"));
  EXPECT_PROBLEM(WithMap(R"(,"ItemBatcher":{"MaxItemsPerBatch":2,"MaxItemsPerBatchPath":"$.b"})"),
                 "/States/S/ItemBatcher/MaxItemsPerBatchPath", "use only one");
  EXPECT_PROBLEM(WithMap(R"(,"ItemReader":{"Resource":"r","ReaderConfig":{"MaxItems":5,
      "MaxItemsPath":"$.m"}})"),
                 "/States/S/ItemReader/ReaderConfig/MaxItemsPath", "use only one");
  EXPECT_PROBLEM(WithMap(R"(,"ItemReader":{"ReaderConfig":{}})"), "/States/S/ItemReader/Resource",
                 "needs a \"Resource\"");
}

TEST(Rules, MapProcessorConfig) {
  const std::string distributed = One(R"({"Type":"Map","End":true,"ItemProcessor":{
      "ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
      "StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}})");
  EXPECT_VALID(distributed);
  std::string no_type = distributed;
  no_type.replace(no_type.find(R"(,"ExecutionType":"STANDARD")"), 27, "");
  EXPECT_PROBLEM(no_type, "/States/S/ItemProcessor/ProcessorConfig/ExecutionType",
                 "DISTRIBUTED mode needs \"ExecutionType\"");
  std::string bad_mode = distributed;
  bad_mode.replace(bad_mode.find("DISTRIBUTED"), 11, "PARALLEL");
  EXPECT_PROBLEM(bad_mode, "/States/S/ItemProcessor/ProcessorConfig/Mode",
                 "must be \"INLINE\" or \"DISTRIBUTED\"");
}

TEST(Rules, ResultPathIsAReferencePath) {
  EXPECT_VALID(One(R"({"Type":"Pass","ResultPath":"$.a['b c'][0]","End":true})"));
  EXPECT_VALID(One(R"({"Type":"Pass","ResultPath":"$","End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Pass","ResultPath":"$..a","End":true})"), "/States/S/ResultPath",
                 "the operator '..' is not allowed");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","ResultPath":"$.a[*]","End":true})"), "/States/S/ResultPath",
                 "the operator '*' is not allowed");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","ResultPath":"$.a[?(@.b)]","End":true})"),
                 "/States/S/ResultPath", "the operator '?' (filter) is not allowed");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","ResultPath":"$$.Execution.Id","End":true})"),
                 "/States/S/ResultPath", "context object");
}

TEST(Rules, InputAndOutputPathsAreJsonPaths) {
  EXPECT_VALID(One(R"({"Type":"Pass","InputPath":"$.books[?(@.price < 10)]",
                       "OutputPath":"$..title","End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Pass","OutputPath":"$.a[","End":true})"), "/States/S/OutputPath",
                 "expected '*', '?(', a quoted name, an index or a slice after '['");
}

TEST(Rules, DynamicTemplateFields) {
  EXPECT_VALID(One(R"j({"Type":"Pass","Parameters":{"a.$":"$.x","b.$":"$$.Map.Item.Value",
      "c.$":"States.ArrayGetItem(States.Array(1, 'two', null), $.i)","d.$":"$var.field"},
      "End":true})j"));
  EXPECT_PROBLEM(One(R"j({"Type":"Pass","Parameters":{"a.$":5},"End":true})j"),
                 "/States/S/Parameters/a.$", "its value must be a path or intrinsic");
  EXPECT_PROBLEM(One(R"j({"Type":"Pass","Parameters":{"a.$":"States.Nope($.x)"},"End":true})j"),
                 "/States/S/Parameters/a.$", "unknown intrinsic function 'States.Nope'");
  EXPECT_PROBLEM(
      One(R"j({"Type":"Pass","Parameters":{"a.$":"States.Format('x', $.y"},"End":true})j"),
      "/States/S/Parameters/a.$", "expected ',' or ')' after an argument");
  EXPECT_PROBLEM(One(R"j({"Type":"Pass","ResultSelector":{"r.$":"$.x","r":1},"End":true})j"),
                 "/States/S/ResultSelector/r", "both become \"r\"");
}

TEST(Rules, JsonPathAssignIsValid) {
  EXPECT_VALID(One(R"({"Type":"Pass","Assign":{"count":1,"name.$":"$.name"},"End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Assign":["x"],"End":true})"), "/States/S/Assign",
                 "must be a JSON object");
  EXPECT_PROBLEM(One(R"({"Type":"Pass","Assign":{"v.$":"nope"},"End":true})"),
                 "/States/S/Assign/v.$", "expected a path");
}

TEST(Rules, TaskTimeouts) {
  EXPECT_VALID(One(R"({"Type":"Task","Resource":"r","TimeoutSeconds":60,"HeartbeatSeconds":10,
                       "End":true})"));
  EXPECT_VALID(One(R"({"Type":"Task","Resource":"r","TimeoutSecondsPath":"$.t",
                       "HeartbeatSecondsPath":"$.h","End":true})"));
  EXPECT_PROBLEM(One(R"({"Type":"Task","Resource":"r","TimeoutSeconds":60,
                         "TimeoutSecondsPath":"$.t","End":true})"),
                 "/States/S/TimeoutSecondsPath", "has both \"TimeoutSeconds\"");
  EXPECT_PROBLEM(One(R"({"Type":"Task","Resource":"r","TimeoutSeconds":60,"HeartbeatSeconds":60,
                         "End":true})"),
                 "/States/S/HeartbeatSeconds", "must be less than \"TimeoutSeconds\" (60)");
  EXPECT_PROBLEM(One(R"({"Type":"Task","TimeoutSeconds":0,"End":true})"),
                 "/States/S/TimeoutSeconds", "must be an integer from 1");
  EXPECT_PROBLEM(One(R"({"Type":"Task","End":true})"), "/States/S/Resource",
                 "missing \"Resource\"");
}

TEST(Rules, JsonataIsRefusedWithOneProblem) {
  auto problems = ValidateDefinition(One(R"({"Type":"Pass","Parameters":{"a":"{% $x %}"},
                                             "Comment":"{% not code","End":true})"));
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].location, "/States/S/Parameters/a");
  EXPECT_EQ(problems[0].message, "JSONata is not supported yet: use JSONPath (the default)");
  auto top = ValidateDefinition(
      R"({"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Succeed"}}})");
  ASSERT_EQ(top.size(), 1U);
  EXPECT_EQ(top[0].location, "/QueryLanguage");
  // `{%` in a comment is text.
  EXPECT_VALID(One(R"({"Type":"Pass","Comment":"{% x %}","End":true})"));
}

TEST(Rules, DeepNestingIsOneProblemNotACrash) {
  std::string deep = One(R"({"Type":"Pass","Result":)" + std::string(5000, '[') +
                         std::string(5000, ']') + R"(,"End":true})");
  auto problems = ValidateDefinition(deep);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_THAT(problems[0].message, HasSubstr("nested deeper than"));
}

// ---------------------------------------------------------------------------------------------
// Reporting

TEST(Report, ParseDefinitionListsTheFirstProblems) {
  auto m = ParseDefinition(R"({"StartAt":"S","States":{"S":{"Type":"Pass","Next":"X"}}})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(m.status().message(), HasSubstr("/States/S/Next: state \"S\": \"Next\" names \"X\""));
}

TEST(Report, FormatProblemsPrintsOneLinePerProblem) {
  std::vector<Problem> problems = {{"/States/X/Next", "state \"X\": bad"}, {"", "malformed"}};
  EXPECT_EQ(FormatProblems("a.json", problems),
            "a.json: /States/X/Next: state \"X\": bad\na.json: malformed\n");
  EXPECT_EQ(FormatProblems("a.json", {}), "");
}

}  // namespace
}  // namespace sagebox::pipeline::asl
