// Config → ASL. The request shapes are the SageMaker API's CreateTrainingJob and
// CreateProcessingJob requests (the Step Functions SageMaker integration passes
// Parameters through as the request), and the Lambda integration's Invoke
// (FunctionName, Payload). Values that differ per stage or candidate live in the Init
// state's `stages` data and are read with JSONPath (`.$` keys), so each job is written
// once however many candidates there are.
#include "pipeline/config/compiler.h"

#include <map>

namespace sagebox::pipeline::config {

namespace {

using nlohmann::json;

json Retry(const RetryPolicy& r) {
  json rule = {{"ErrorEquals", json::array({"States.ALL"})},
               {"IntervalSeconds", r.interval_seconds},
               {"MaxAttempts", r.max_attempts},
               // The number as written (validated); a JSON number in the output.
               {"BackoffRate", json::parse(r.backoff_rate, nullptr, false)}};
  if (r.max_delay_seconds > 0) rule["MaxDelaySeconds"] = r.max_delay_seconds;
  if (r.jitter) rule["JitterStrategy"] = "FULL";
  return json::array({rule});
}

// Catch everything into `next`, keeping the state's input and adding $.failure
// ({Error, Cause}).
json CatchAll(const std::string& next) {
  return json::array({{{"ErrorEquals", json::array({"States.ALL"})},
                       {"ResultPath", "$.failure"},
                       {"Next", next}}});
}

// A Pass that marks the result Failed (the Catch already put the error in $.failure).
json FailedPass(const std::string& next) {
  json s = {{"Type", "Pass"}, {"Result", "Failed"}, {"ResultPath", "$.status"}};
  if (next.empty()) {
    s["End"] = true;
  } else {
    s["Next"] = next;
  }
  return s;
}

json DonePass() {
  return {{"Type", "Pass"}, {"Result", "Completed"}, {"ResultPath", "$.status"}, {"End", true}};
}

json JsonPairs(const Pairs& p) {
  json o = json::object();
  for (const auto& [k, v] : p) o[k] = v;
  return o;
}

// The CreateProcessingJob request of `job`. `name` is the ProcessingJobName.$ expression.
// Per-stage jobs (stage_path set) read and write <uri>/<stage>/ and get SAGEBOX_STAGE
// and SAGEBOX_STAGE_VALUES; `extra_inputs` come first (the registered model).
json ProcessingRequest(const Config& cfg, const ProcessingJob& job, const std::string& name,
                       bool per_stage, const json& extra_inputs, const json& extra_env) {
  json app = {{"ImageUri", cfg.image}, {"ContainerEntrypoint", job.command}};
  if (!job.arguments.empty()) app["ContainerArguments"] = job.arguments;
  json inputs = extra_inputs;
  for (const auto& [in_name, uri] : job.inputs) {
    json s3 = {{"LocalPath", std::string(kProcessingInputDir) + "/" + in_name},
               {"S3DataDistributionType", "FullyReplicated"},
               {"S3DataType", "S3Prefix"},
               {"S3InputMode", "File"}};
    if (per_stage) {
      s3["S3Uri.$"] = "States.Format('" + uri + "/{}/', $.stage.name)";
    } else {
      s3["S3Uri"] = uri;
    }
    inputs.push_back({{"InputName", in_name}, {"S3Input", s3}});
  }
  json outputs = json::array();
  for (const auto& [out_name, uri] : job.outputs) {
    json s3 = {{"LocalPath", std::string(kProcessingOutputDir) + "/" + out_name},
               {"S3UploadMode", "EndOfJob"}};
    if (per_stage) {
      s3["S3Uri.$"] = "States.Format('" + uri + "/{}/', $.stage.name)";
    } else {
      s3["S3Uri"] = uri;
    }
    outputs.push_back({{"OutputName", out_name}, {"S3Output", s3}});
  }
  json req = {
      {"ProcessingJobName.$", name},
      {"RoleArn", cfg.role_arn},
      {"AppSpecification", app},
      {"ProcessingResources",
       {{"ClusterConfig",
         {{"InstanceCount", job.resources.instance_count},
          {"InstanceType", job.resources.instance_type},
          {"VolumeSizeInGB", job.resources.volume_size_gb}}}}},
      {"StoppingCondition", {{"MaxRuntimeInSeconds", job.resources.max_runtime_seconds}}},
  };
  if (!inputs.empty()) req["ProcessingInputs"] = inputs;
  if (!outputs.empty()) req["ProcessingOutputConfig"] = {{"Outputs", outputs}};
  json env = JsonPairs(job.environment);
  for (const auto& [k, v] : extra_env.items()) env[k] = v;
  if (!env.empty()) req["Environment"] = env;
  return req;
}

json ProcessingTask(const Config& cfg, const json& request, const std::string& next,
                    const std::string& on_failure, const std::string& result_path) {
  json s = {{"Type", "Task"},
            {"Resource", "arn:aws:states:::sagemaker:createProcessingJob.sync"},
            {"Parameters", request},
            {"ResultPath", result_path},
            {"Retry", Retry(cfg.retry)},
            {"Catch", CatchAll(on_failure)},
            {"Next", next}};
  return s;
}

// [{name, values}] of every stage, for the features and analytics jobs.
std::string StagesEnv(const Config& cfg) {
  json stages = json::array();
  for (const Stage& st : cfg.stages) {
    stages.push_back({{"name", st.name}, {"values", JsonPairs(st.values)}});
  }
  return stages.dump();
}

// The data of one stage the state machine iterates over (Init's `stages`).
json StageItem(const Config& cfg, const Stage& st) {
  json inputs = JsonPairs(cfg.channels);
  for (const auto& [k, v] : st.inputs) inputs[k] = v;
  json candidates = json::array();
  for (const Candidate& c : ExpandCandidates(cfg, st)) {
    const Algorithm& a = cfg.algorithms[c.algorithm];
    // --stage and --candidate first: ContainerArguments must not be empty (1-100
    // items), and they make a job's log say what it is.
    json args = json::array({"--stage", st.name, "--candidate", c.id});
    for (const auto& x : a.arguments) args.push_back(x);
    candidates.push_back({{"id", c.id},
                          {"algorithm", a.name},
                          {"command", a.command},
                          {"arguments", args},
                          {"instance_type", a.resources.instance_type},
                          {"instance_count", a.resources.instance_count},
                          {"volume_size_gb", a.resources.volume_size_gb},
                          {"max_runtime_seconds", a.resources.max_runtime_seconds},
                          {"hyperparameters", JsonPairs(c.hyperparameters)}});
  }
  return {{"name", st.name},
          {"values", JsonPairs(st.values)},
          {"inputs", inputs},
          {"model_name", st.model_name},
          {"candidates", candidates}};
}

json TrainState(const Config& cfg) {
  json channels = json::array();
  for (const auto& [name, root] : cfg.channels) {
    (void)root;  // per stage, from $.inputs (a stage may override the root)
    channels.push_back(
        {{"ChannelName", name},
         {"ContentType", "text/csv"},
         {"InputMode", "File"},
         {"DataSource",
          {{"S3DataSource",
            {{"S3DataDistributionType", "FullyReplicated"},
             {"S3DataType", "S3Prefix"},
             {"S3Uri.$", "States.Format('{}/{}/', $.inputs." + name + ", $.stage)"}}}}}});
  }
  json request = {
      // Unique per execution (token), stage, candidate and attempt: SageMaker refuses a
      // name already used, so a retry needs a new one.
      {"TrainingJobName.$",
       "States.Format('{}-{}-{}-{}', $.stage, $.candidate.id, $.token, $$.State.RetryCount)"},
      {"RoleArn", cfg.role_arn},
      {"AlgorithmSpecification",
       {{"TrainingImage", cfg.image},
        {"TrainingInputMode", "File"},
        {"ContainerEntrypoint.$", "$.candidate.command"},
        {"ContainerArguments.$", "$.candidate.arguments"},
        {"MetricDefinitions",
         json::array({{{"Name", cfg.metric_name}, {"Regex", cfg.metric_regex}}})}}},
      {"HyperParameters.$", "$.candidate.hyperparameters"},
      {"InputDataConfig", channels},
      {"OutputDataConfig",
       {{"S3OutputPath.$", "States.Format('" + cfg.data_root + "/models/{}/', $.stage)"}}},
      {"ResourceConfig",
       {{"InstanceCount.$", "$.candidate.instance_count"},
        {"InstanceType.$", "$.candidate.instance_type"},
        {"VolumeSizeInGB.$", "$.candidate.volume_size_gb"}}},
      {"StoppingCondition", {{"MaxRuntimeInSeconds.$", "$.candidate.max_runtime_seconds"}}},
      {"Tags", json::array({{{"Key", "sagebox:pipeline"}, {"Value", cfg.pipeline}}})},
  };
  return {{"Type", "Task"},
          {"Resource", "arn:aws:states:::sagemaker:createTrainingJob.sync"},
          {"Parameters", request},
          {"ResultPath", "$.training"},
          {"Retry", Retry(cfg.retry)},
          {"Catch", CatchAll("Candidate Failed")},
          {"Next", "Candidate Done"}};
}

json StageProcessor(const Config& cfg) {
  json states = json::object();
  json candidates_map = {
      {"Type", "Map"},
      {"ItemsPath", "$.stage.candidates"},
      {"ItemSelector",
       {{"candidate.$", "$$.Map.Item.Value"},
        {"stage.$", "$.stage.name"},
        {"inputs.$", "$.stage.inputs"},
        {"token.$", "$.token"}}},
      {"MaxConcurrency", cfg.candidate_max_concurrency},
      // ToleratedFailurePercentage is a Distributed Map field (Step Functions developer
      // guide, "Distributed Map state"), so the candidate Map runs in that mode.
      {"ToleratedFailurePercentage", cfg.tolerated_failure_percentage},
      {"ItemProcessor",
       {{"ProcessorConfig", {{"Mode", "DISTRIBUTED"}, {"ExecutionType", "STANDARD"}}},
        {"StartAt", "Train"},
        {"States",
         {{"Train", TrainState(cfg)},
          {"Candidate Done", DonePass()},
          {"Candidate Failed", FailedPass("")}}}}},
      {"ResultPath", "$.candidates"},
      {"Catch", CatchAll("Stage Failed")},
      {"Next", "Register Best"}};
  states["Candidates"] = candidates_map;

  const std::string after_register = cfg.predict.present ? "Predict" : "Stage Done";
  json payload = {
      {"stage.$", "$.stage.name"},
      {"model_name.$", "$.stage.model_name"},
      {"alias", cfg.registry_alias},
      {"metric",
       {{"name", cfg.metric_name}, {"direction", cfg.maximize ? "maximize" : "minimize"}}},
      {"candidates.$", "$.candidates"},
      {"execution.$", "$$.Execution.Id"}};
  states["Register Best"] = {
      {"Type", "Task"},
      {"Resource", "arn:aws:states:::lambda:invoke"},
      {"Parameters", {{"FunctionName", kRegisterFunction}, {"Payload", payload}}},
      {"ResultSelector", {{"best.$", "$.Payload"}}},
      {"ResultPath", "$.register"},
      {"Retry", Retry(cfg.retry)},
      {"Catch", CatchAll("Stage Failed")},
      {"Next", after_register}};
  if (cfg.predict.present) {
    json model =
        json::array({{{"InputName", "model"},
                      {"S3Input",
                       {{"LocalPath", kProcessingModelDir},
                        {"S3DataDistributionType", "FullyReplicated"},
                        {"S3DataType", "S3Prefix"},
                        {"S3InputMode", "File"},
                        {"S3Uri.$", "$.register.best.ModelArtifacts.S3ModelArtifacts"}}}}});
    json env = {{"SAGEBOX_STAGE.$", "$.stage.name"},
                {"SAGEBOX_STAGE_VALUES.$", "States.JsonToString($.stage.values)"}};
    json request = ProcessingRequest(
        cfg, cfg.predict,
        "States.Format('{}-predict-{}-{}', $.stage.name, $.token, $$.State.RetryCount)", true,
        model, env);
    states["Predict"] = ProcessingTask(cfg, request, "Stage Done", "Stage Failed", "$.prediction");
  }
  states["Stage Done"] = DonePass();
  states["Stage Failed"] = FailedPass("");
  return {{"ProcessorConfig", {{"Mode", "INLINE"}}}, {"StartAt", "Candidates"}, {"States", states}};
}

}  // namespace

StatusOr<nlohmann::json> Compile(const Config& cfg) {
  // A Config from ParseConfig satisfies these; one built by hand may not.
  if (cfg.pipeline.empty() || cfg.stages.empty() || cfg.algorithms.empty() ||
      cfg.data_root.empty() || cfg.metric_name.empty() || cfg.channels.empty()) {
    return InvalidArgument(
        "pipeline config incomplete: pipeline, data.root, stages, algorithms, metric and a "
        "training channel are required");
  }
  json stages = json::array();
  for (const Stage& st : cfg.stages) {
    if (ExpandCandidates(cfg, st).empty()) {
      return InvalidArgument("stage '" + st.name + "' has no candidates");
    }
    stages.push_back(StageItem(cfg, st));
  }
  json limits = {{"stage_max_concurrency", cfg.stage_max_concurrency},
                 {"candidate_max_concurrency", cfg.candidate_max_concurrency},
                 {"tolerated_failure_percentage", cfg.tolerated_failure_percentage}};
  // The cost limit is not an ASL concept: it travels in the state data, for the runner
  // to enforce (a decimal string, exact).
  if (cfg.has_max_cost) limits["max_cost_usd"] = cfg.max_cost_usd.ToString();

  const std::string after_init = cfg.features.present ? "Features" : "Stages";
  const std::string after_stages = cfg.analytics.present ? "Analytics" : "Done";
  json states = json::object();
  states["Init"] = {{"Type", "Pass"},
                    {"Comment",
                     "The run token (8 hex digits of a UUID, part of every job name) and the "
                     "stages with their candidates, expanded at compile time."},
                    {"Parameters",
                     {{"input.$", "$"},
                      {"pipeline", cfg.pipeline},
                      {"region", cfg.region},
                      {"token.$", "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 0)"},
                      {"limits", limits},
                      {"stages", stages}}},
                    {"Next", after_init}};
  if (cfg.features.present) {
    json env = {{"SAGEBOX_STAGES", StagesEnv(cfg)}};
    json request = ProcessingRequest(
        cfg, cfg.features,
        "States.Format('" + cfg.pipeline + "-features-{}-{}', $.token, $$.State.RetryCount)", false,
        json::array(), env);
    states["Features"] = ProcessingTask(cfg, request, "Stages", "Features Failed", "$.features");
    states["Features Failed"] = FailedPass("Pipeline Failed");
    states["Pipeline Failed"] = {{"Type", "Fail"},
                                 {"Error", "sagebox.FeaturesFailed"},
                                 {"Cause", "the feature-engineering job failed; see $.failure"}};
  }
  states["Stages"] = {{"Type", "Map"},
                      {"ItemsPath", "$.stages"},
                      {"ItemSelector", {{"stage.$", "$$.Map.Item.Value"}, {"token.$", "$.token"}}},
                      {"MaxConcurrency", cfg.stage_max_concurrency},
                      {"ItemProcessor", StageProcessor(cfg)},
                      {"ResultPath", "$.results"},
                      {"Next", after_stages}};
  if (cfg.analytics.present) {
    json env = {{"SAGEBOX_STAGES", StagesEnv(cfg)}};
    json request = ProcessingRequest(
        cfg, cfg.analytics,
        "States.Format('" + cfg.pipeline + "-analytics-{}-{}', $.token, $$.State.RetryCount)",
        false, json::array(), env);
    states["Analytics"] = ProcessingTask(cfg, request, "Done", "Analytics Failed", "$.analytics");
    states["Analytics Failed"] = FailedPass("Done");
  }
  states["Done"] = {{"Type", "Succeed"}};

  // The file's base name only: the output must not depend on where the file was.
  const std::string base = cfg.file.substr(cfg.file.find_last_of('/') + 1);
  json asl = {{"Comment", "sagebox pipeline " + cfg.pipeline + " (compiled from " + base +
                              " by `sagebox pipeline compile`)"},
              {"StartAt", "Init"},
              {"States", states}};
  if (cfg.pipeline_timeout_seconds > 0) asl["TimeoutSeconds"] = cfg.pipeline_timeout_seconds;
  return asl;
}

std::string DumpAsl(const nlohmann::json& asl) { return asl.dump(2) + "\n"; }

StatusOr<std::string> CompileFile(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(Config cfg, LoadConfig(path, env));
  ASSIGN_OR_RETURN(nlohmann::json asl, Compile(cfg));
  return DumpAsl(asl);
}

}  // namespace sagebox::pipeline::config
