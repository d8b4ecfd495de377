// The pipeline config: one case per schema rule with its exact file:line:col: key message,
// grid expansion, job-name rules, the compiled ASL against a golden file, and the
// repository's example.
//
// Golden file: tests/data/pipeline/config/small.asl.json is `small.yaml` compiled. After
// an intended change to the compiler, regenerate it and review the diff:
//   SAGEBOX_UPDATE_GOLDEN=1 build/debug/pipeline_config_test --gtest_filter='*Golden*'
//   git diff tests/data/pipeline/config/
#include "pipeline/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <set>

#include "pipeline/config/compiler.h"

namespace sagebox::pipeline::config {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::string kTestData = SAGEBOX_TESTDATA;
const std::string kRepo = kTestData + "/../..";

// A valid config; cases below change one thing each.
const char* kBase = R"(pipeline: demo
data:
  root: s3://bucket-a/demo
stages:
  - name: iris
    values: {dataset: iris}
algorithms:
  - name: lr
    command: [python3, train.py]
    grid:
      C: [0.1, 1]
metric: {name: acc, regex: 'acc=([0-9.]+)', direction: maximize}
)";

std::string ErrorsOf(const std::string& yaml) {
  auto c = ParseConfig(yaml, "ocx.yaml");
  if (c.ok()) return "(no error)";
  EXPECT_EQ(c.status().code(), StatusCode::kBadInput);
  return c.status().message();
}

TEST(PipelineConfig, BaseIsValid) {
  auto c = ParseConfig(kBase, "ocx.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pipeline, "demo");
  EXPECT_EQ(c->data_root, "s3://bucket-a/demo");
  // Defaults: the channel, resources, retry.
  ASSERT_EQ(c->channels.size(), 1u);
  EXPECT_EQ(c->channels[0],
            (std::pair<std::string, std::string>{"train", "s3://bucket-a/demo/features"}));
  EXPECT_EQ(c->algorithms[0].resources.instance_type, "ml.m5.large");
  EXPECT_EQ(c->retry.max_attempts, 2);
  EXPECT_EQ(c->stages[0].model_name, "demo-iris");
  EXPECT_FALSE(c->features.present);
}

// Found by pipeline_config_fuzz: a stray byte reached the compiled JSON, whose dump threw.
TEST(PipelineConfig, InvalidUtf8IsRefusedWithItsLineAndColumn) {
  std::string y = kBase;
  y.replace(y.find("demo"), 4, "de\xffmo");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:1:13: (encoding): not valid UTF-8 (a YAML config is UTF-8 text)");
}

TEST(PipelineConfig, ListExpected) {
  EXPECT_EQ(ErrorsOf(R"(pipeline: demo
data: {root: s3://bucket-a/demo}
algorithms:
  - name: lr
    command: [python3, train.py]
metric: {name: acc, regex: 'acc=(\d+)', direction: maximize}
stages:
  - name: iris
  - name: wine
    algorithms: lr
)"),
            "ocx.yaml:10:17: stages[1].algorithms: expected a list");
}

TEST(PipelineConfig, UnknownKeys) {
  EXPECT_EQ(ErrorsOf(std::string(kBase) + "colour: blue\n"),
            "ocx.yaml:13:1: colour: unknown key (expected one of: pipeline, region, role_arn, "
            "image, data, defaults, features, training, stages, algorithms, metric, "
            "cross_validation, registry, predict, analytics, limits)");
  std::string nested = kBase;
  nested.replace(nested.find("    values:"), 4, "    nmae: x\n    ");
  EXPECT_EQ(ErrorsOf(nested),
            "ocx.yaml:6:5: stages[0].nmae: unknown key (expected one of: name, inputs, values, "
            "algorithms)");
}

TEST(PipelineConfig, MissingRequired) {
  std::string y = kBase;
  y.erase(0, y.find('\n') + 1);  // drop `pipeline:`
  EXPECT_EQ(ErrorsOf(y), "ocx.yaml:1:1: pipeline: missing (required)");
  EXPECT_EQ(ErrorsOf("pipeline: demo\n"),
            "ocx.yaml:1:1: data: missing (required)\n"
            "ocx.yaml:1:1: algorithms: missing (required)\n"
            "ocx.yaml:1:1: metric: missing (required)\n"
            "ocx.yaml:1:1: stages: missing (required)");
}

TEST(PipelineConfig, AllErrorsReportedInFileOrder) {
  std::string y = kBase;
  y.replace(y.find("maximize"), 8, "upward");
  y.replace(y.find("s3://bucket-a/demo"), 18, "http://x");
  y += "limits: {tolerated_failure_percentage: 150}\n";
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:3:9: data.root: expected an S3 URI s3://bucket/prefix without ' { } \\, "
            "got 'http://x'\n"
            "ocx.yaml:12:56: metric.direction: expected maximize or minimize, got 'upward'\n"
            "ocx.yaml:13:40: limits.tolerated_failure_percentage: expected a whole number from "
            "0 to 100, got '150'");
}

TEST(PipelineConfig, UnknownAlgorithmInStage) {
  std::string y = kBase;
  y.replace(y.find("    values: {dataset: iris}"), 27, "    algorithms: [lr, svm]");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:6:22: stages[0].algorithms[1]: 'svm' is not one of the algorithms");
}

TEST(PipelineConfig, MetricRules) {
  std::string y = kBase;
  y.replace(y.find("'acc=([0-9.]+)'"), 15, "'acc=[0-9.]+'");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:12:28: metric.regex: expected a capture group ( ) around the value");
  y = kBase;
  y.replace(y.find("'acc=([0-9.]+)'"), 15, "'acc=([0-9'");
  EXPECT_THAT(ErrorsOf(y),
              HasSubstr("ocx.yaml:12:28: metric.regex: not a valid regular expression"));
}

TEST(PipelineConfig, InstanceTypeAndNumbers) {
  std::string y = kBase;
  y.replace(y.find("    grid:"), 0, "    instance_type: m5.large\n    instance_count: two\n");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:10:20: algorithms[0].instance_type: expected a SageMaker instance type "
            "like ml.m5.large, got 'm5.large'\n"
            "ocx.yaml:11:21: algorithms[0].instance_count: expected a whole number from 1 to "
            "100, got 'two'");
}

TEST(PipelineConfig, DuplicateNames) {
  std::string y = kBase;
  y.replace(y.find("algorithms:"), 0, "  - name: iris\n");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:7:11: stages[1].name: 'iris' is already the name of another stage");
  y = kBase;
  y.replace(y.find("metric:"), 0, "  - name: lr\n    command: [x]\n");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:12:5: algorithms[1].name: 'lr' is already the name of another algorithm");
}

TEST(PipelineConfig, NamesMustFitJobNames) {
  std::string y = kBase;
  y.replace(y.find("name: iris"), 10, "name: breast_cancer");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:5:11: stages[0].name: 'breast_cancer' is not a valid name (letters, "
            "digits and inner hyphens, as in SageMaker job names)");
  // 30 + 1 + "lr-1" = 35 fits; a 30-character algorithm with a 20-character stage
  // (20 + 1 + 32 = 53) does not.
  y = kBase;
  y.replace(y.find("name: iris"), 10, "name: " + std::string(20, 's'));
  y.replace(y.find("name: lr"), 8, "name: " + std::string(30, 'a'));
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:5:5: stages[0].name: stage 'ssssssssssssssssssss' with candidate '" +
                std::string(30, 'a') +
                "-1' is 53 characters; at most 50 fit in a training job name (shorten the "
                "stage or algorithm name)");
  y = kBase;
  y.replace(y.find("demo\n"), 4, std::string(41, 'p'));
  EXPECT_EQ(ErrorsOf(y), "ocx.yaml:1:11: pipeline: '" + std::string(41, 'p') +
                             "' is 41 characters; at most 40 fit in a job name");
}

TEST(PipelineConfig, GridRules) {
  std::string y = kBase;
  y.replace(y.find("    grid:"), 0, "    combinations: [{C: 1}]\n");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:10:19: algorithms[0].combinations: give either grid or combinations, not "
            "both");
  y = kBase;
  y.replace(y.find("C: [0.1, 1]"), 11, "algorithm: [a]");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:11:7: algorithms[0].grid.algorithm: 'algorithm' is set by sagebox "
            "(reserved: algorithm, cv_folds, cv_scoring, cv_seed, metric_name)");
  y = kBase;
  y.replace(y.find("C: [0.1, 1]"), 11, "C: [1, 1]");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:11:10: algorithms[0].grid.C: repeated value (each candidate must differ)");
  y = kBase;
  y.replace(y.find("    grid:\n      C: [0.1, 1]\n"), 27,
            "    combinations:\n      - {C: 1}\n      - {C: 1}\n");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:12:9: algorithms[0].combinations[1]: the same combination is listed twice");
  // 11 × 10 × 10 = 1100 candidates.
  y = kBase;
  y.replace(y.find("C: [0.1, 1]"), 11,
            "a: [0,1,2,3,4,5,6,7,8,9,10]\n      b: [0,1,2,3,4,5,6,7,8,9]\n      c: "
            "[0,1,2,3,4,5,6,7,8,9]");
  EXPECT_EQ(ErrorsOf(y), "ocx.yaml:5:5: stages[0]: expands to 1100 candidates; at most 1000");
}

TEST(PipelineConfig, StageValuesMustNotShadowGrid) {
  std::string y = kBase;
  y.replace(y.find("{dataset: iris}"), 15, "{dataset: iris, C: 5}");
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:6:32: stages[0].values.C: also a hyperparameter of algorithm 'lr'");
}

TEST(PipelineConfig, RepeatedKeyAndSyntax) {
  std::string y = kBase;
  y += "pipeline: again\n";
  EXPECT_EQ(ErrorsOf(y), "ocx.yaml:13:1: pipeline: repeated key");
  EXPECT_THAT(ErrorsOf("pipeline: [demo\n"), HasSubstr("ocx.yaml:2:1: (syntax): "));
  EXPECT_EQ(ErrorsOf(""), "ocx.yaml:1:1: (top): the file is empty (expected a pipeline config)");
  EXPECT_EQ(ErrorsOf("- a\n"),
            "ocx.yaml:1:1: (top): expected a map of keys (pipeline, region, role_arn, image, "
            "data, defaults, features, training, stages, algorithms, metric, cross_validation, "
            "registry, predict, analytics, limits)");
}

TEST(PipelineConfig, CostAndRetry) {
  std::string y = kBase;
  y += "limits: {max_cost_usd: lots}\ndefaults: {retry: {backoff_rate: 0.5, max_attempts: 100}}\n";
  EXPECT_EQ(ErrorsOf(y),
            "ocx.yaml:13:24: limits.max_cost_usd: expected an amount in USD like 12.50, got "
            "'lots'\n"
            "ocx.yaml:14:34: defaults.retry.backoff_rate: expected a number from 1.0 to 1000, "
            "got '0.5'\n"
            "ocx.yaml:14:53: defaults.retry.max_attempts: expected a whole number from 0 to 99, "
            "got '100'");
  y = kBase;
  y += "limits: {max_cost_usd: 12.50}\n";
  auto c = ParseConfig(y, "ocx.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->has_max_cost);
  EXPECT_EQ(c->max_cost_usd.ToString(), "12.5");
}

TEST(PipelineConfig, LoadConfigNamesMissingFile) {
  auto c = LoadConfig(kTestData + "/pipeline/config/no-such.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no-such.yaml"));
}

TEST(PipelineConfig, GridExpansion) {
  std::string y = kBase;
  y.replace(y.find("C: [0.1, 1]"), 11,
            "C: [0.1, 1]\n      penalty: [l1, l2, none]\n      tol: 1e-4");
  y += "cross_validation: {folds: 3, seed: 7}\n";
  auto c = ParseConfig(y, "ocx.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto cands = ExpandCandidates(*c, c->stages[0]);
  ASSERT_EQ(cands.size(), 6u);
  // First key turns slowest, values kept as written, ids by position.
  std::vector<std::string> got;
  for (const auto& cand : cands) {
    std::string line = cand.id + ":";
    for (const auto& [k, v] : cand.hyperparameters) line += " " + k + "=" + v;
    got.push_back(line);
  }
  const std::string common = " algorithm=lr cv_folds=3 cv_seed=7";
  EXPECT_EQ(got[0], "lr-0: C=0.1" + common + " dataset=iris metric_name=acc penalty=l1 tol=1e-4");
  EXPECT_EQ(got[1], "lr-1: C=0.1" + common + " dataset=iris metric_name=acc penalty=l2 tol=1e-4");
  EXPECT_EQ(got[2], "lr-2: C=0.1" + common + " dataset=iris metric_name=acc penalty=none tol=1e-4");
  EXPECT_EQ(got[3], "lr-3: C=1" + common + " dataset=iris metric_name=acc penalty=l1 tol=1e-4");
  EXPECT_EQ(got[5], "lr-5: C=1" + common + " dataset=iris metric_name=acc penalty=none tol=1e-4");
}

TEST(PipelineConfig, CombinationsAndStageSubsets) {
  std::string y = R"(pipeline: demo
data: {root: s3://bucket-a/demo}
stages:
  - name: a
  - name: b
    algorithms: [rf]
algorithms:
  - name: lr
    command: [python3, train.py]
    combinations:
      - {C: 1, penalty: l2}
      - {C: 10}
  - name: rf
    command: [python3, train.py]
metric: {name: acc, regex: 'acc=([0-9.]+)', direction: minimize}
)";
  auto c = ParseConfig(y, "ocx.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto a = ExpandCandidates(*c, c->stages[0]);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].id, "lr-0");
  EXPECT_EQ(a[1].id, "lr-1");
  EXPECT_EQ(a[2].id, "rf-0");  // no grid: one candidate
  EXPECT_EQ(a[1].hyperparameters,
            (Pairs{{"C", "10"}, {"algorithm", "lr"}, {"metric_name", "acc"}}));
  auto b = ExpandCandidates(*c, c->stages[1]);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].id, "rf-0");
}

// Calls f on every object in the document, with its JSON pointer.
void Walk(const json& j, const std::string& at,
          const std::function<void(const json&, const std::string&)>& f) {
  if (j.is_object()) {
    f(j, at);
    for (const auto& [k, v] : j.items()) Walk(v, at + "/" + k, f);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Walk(j[i], at + "/" + std::to_string(i), f);
  }
}

StatusOr<json> CompileText(const std::string& yaml) {
  ASSIGN_OR_RETURN(Config c, ParseConfig(yaml, "small.yaml"));
  return Compile(c);
}

TEST(PipelineCompile, GoldenSmall) {
  const std::string dir = kTestData + "/pipeline/config/";
  auto text = CompileFile(dir + "small.yaml");
  ASSERT_TRUE(text.ok()) << text.status().message();
  if (std::getenv("SAGEBOX_UPDATE_GOLDEN") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir + "small.asl.json", *text).ok());
  }
  std::string golden;
  ASSERT_TRUE(Env::Default()->ReadFileToString(dir + "small.asl.json", &golden).ok());
  EXPECT_EQ(*text, golden) << "regenerate with SAGEBOX_UPDATE_GOLDEN=1 (see the top of this file)";
  // Byte-identical on a second run.
  auto again = CompileFile(dir + "small.yaml");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*text, *again);
}

TEST(PipelineCompile, StandardAslShape) {
  auto c = LoadConfig(kTestData + "/pipeline/config/small.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto asl = Compile(*c);
  ASSERT_TRUE(asl.ok()) << asl.status().message();
  int tasks = 0;
  int maps = 0;
  Walk(*asl, "", [&](const json& o, const std::string& at) {
    EXPECT_FALSE(o.contains("Iterator")) << at << ": the legacy Iterator";
    for (const auto& [k, v] : o.items()) {
      // Paths and `.$` keys use JSONPath (or an intrinsic over JSONPath) only.
      if (k.size() > 2 && k.compare(k.size() - 2, 2, ".$") == 0) {
        ASSERT_TRUE(v.is_string()) << at << "/" << k;
        const std::string s = v.get<std::string>();
        EXPECT_TRUE(s.rfind("$", 0) == 0 || s.rfind("States.", 0) == 0)
            << at << "/" << k << ": " << s;
      }
    }
    if (!o.contains("Type")) return;
    const std::string type = o["Type"].get<std::string>();
    if (type == "Map") {
      ++maps;
      EXPECT_TRUE(o.contains("ItemProcessor")) << at;
      EXPECT_TRUE(o.contains("ItemSelector")) << at;
      EXPECT_FALSE(o.contains("Parameters")) << at;
    }
    if (type == "Task") {
      ++tasks;
      ASSERT_TRUE(o.contains("Retry")) << at;
      ASSERT_TRUE(o.contains("Catch")) << at;
      EXPECT_EQ(o["Catch"][0]["ErrorEquals"], json::array({"States.ALL"})) << at;
      const json& next = o["Catch"][0]["Next"];
      EXPECT_THAT(next.get<std::string>(), HasSubstr("Failed")) << at;
    }
  });
  EXPECT_EQ(maps, 2);
  EXPECT_EQ(tasks, 5);  // features, train, register, predict, analytics

  const json& stages_map = (*asl)["States"]["Stages"];
  EXPECT_EQ(stages_map["MaxConcurrency"], 2);
  const json& cand_map = stages_map["ItemProcessor"]["States"]["Candidates"];
  EXPECT_EQ(cand_map["ToleratedFailurePercentage"], 50);
  EXPECT_EQ(cand_map["MaxConcurrency"], 3);
  const json& train = cand_map["ItemProcessor"]["States"]["Train"];
  EXPECT_EQ(train["Resource"], "arn:aws:states:::sagemaker:createTrainingJob.sync");
  EXPECT_EQ(train["Parameters"]["TrainingJobName.$"],
            "States.Format('{}-{}-{}-{}', $.stage, $.candidate.id, $.token, $$.State.RetryCount)");
  EXPECT_EQ(train["Retry"][0]["MaxAttempts"], 3);
  EXPECT_EQ(train["Retry"][0]["BackoffRate"], 1.5);
  const json& reg = stages_map["ItemProcessor"]["States"]["Register Best"];
  EXPECT_EQ(reg["Resource"], "arn:aws:states:::lambda:invoke");
  EXPECT_EQ(reg["Parameters"]["FunctionName"], "sagebox-register-best");

  // Every candidate's hyperparameters are strings (CreateTrainingJob's HyperParameters).
  for (const json& st : (*asl)["States"]["Init"]["Parameters"]["stages"]) {
    for (const json& cand : st["candidates"]) {
      for (const auto& [k, v] : cand["hyperparameters"].items()) {
        EXPECT_TRUE(v.is_string()) << cand["id"] << " " << k;
      }
      // <stage>-<candidate>-<8-char token>-<retry up to 2 digits> fits 63 characters.
      EXPECT_LE(st["name"].get<std::string>().size() + cand["id"].get<std::string>().size() + 13,
                63u);
    }
  }
}

TEST(PipelineCompile, OptionalJobsLeftOut) {
  auto asl = CompileText(kBase);
  ASSERT_TRUE(asl.ok()) << asl.status().message();
  const json& states = (*asl)["States"];
  EXPECT_EQ(states["Init"]["Next"], "Stages");
  EXPECT_EQ(states["Stages"]["Next"], "Done");
  EXPECT_FALSE(states.contains("Features"));
  EXPECT_FALSE(states.contains("Analytics"));
  const json& inner = states["Stages"]["ItemProcessor"]["States"];
  EXPECT_EQ(inner["Register Best"]["Next"], "Stage Done");
  EXPECT_FALSE(inner.contains("Predict"));
  EXPECT_FALSE(asl->contains("TimeoutSeconds"));
}

TEST(PipelineCompile, HandBuiltConfigRefused) {
  Config c;
  auto asl = Compile(c);
  ASSERT_FALSE(asl.ok());
  EXPECT_EQ(asl.status().code(), StatusCode::kInvalidArgument);
}

TEST(PipelineCompile, ExampleCompiles) {
  auto c = LoadConfig(kRepo + "/examples/pipeline/ocx.yaml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto asl = Compile(*c);
  ASSERT_TRUE(asl.ok()) << asl.status().message();
  const json& stages = (*asl)["States"]["Init"]["Parameters"]["stages"];
  ASSERT_EQ(stages.size(), 3u);
  std::set<std::string> names;
  for (const json& st : stages) {
    names.insert(st["name"].get<std::string>());
    // 3 logistic regressions, 4 random forests, 4 XGBoosts.
    EXPECT_EQ(st["candidates"].size(), 11u) << st["name"];
    std::set<std::string> algorithms;
    for (const json& cand : st["candidates"])
      algorithms.insert(cand["algorithm"].get<std::string>());
    EXPECT_EQ(algorithms,
              (std::set<std::string>{"logistic-regression", "random-forest", "xgboost"}));
  }
  EXPECT_EQ(names, (std::set<std::string>{"iris", "wine", "breast-cancer"}));
  EXPECT_EQ(stages[2]["values"]["dataset"], "breast_cancer");
  EXPECT_EQ(stages[2]["model_name"], "ocx-breast-cancer");
}

}  // namespace
}  // namespace sagebox::pipeline::config
