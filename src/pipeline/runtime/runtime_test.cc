// Tests for the runtime layer: the execution store and journal, the dispatcher's
// sagebox-register-best, and whole executions of real jobs (/bin/sh -c) through the
// PipelineService: success, a hidden failure resumed, stop, the cost limit, the step cache and
// recovery of a dead process's executions. Every case runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "db/testing/backends.h"
#include "jobs/job_runner.h"
#include "jobs/job_store.h"
#include "pipeline/runtime/dispatcher.h"
#include "pipeline/runtime/execution_store.h"
#include "pipeline/runtime/pipeline_service.h"

namespace sagebox::pipeline::runtime {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

// A Task running the item's script as a processing job named
// <execution>-<$.id>-<retry count>.
json ShTask(const std::string& next = "") {
  json t = {{"Type", "Task"},
            {"Resource", "arn:aws:states:::sagemaker:createProcessingJob.sync"},
            {"Parameters",
             {{"ProcessingJobName.$",
               "States.Format('{}-{}-{}', $$.Execution.Name, $.id, $$.State.RetryCount)"},
              {"RoleArn", "arn:aws:iam::123456789012:role/R"},
              {"AppSpecification",
               {{"ImageUri", "local"},
                {"ContainerEntrypoint", {"/bin/sh", "-c"}},
                {"ContainerArguments.$", "States.Array($.script)"}}},
              {"ProcessingResources",
               {{"ClusterConfig",
                 {{"InstanceCount", 1}, {"InstanceType", "ml.m5.xlarge"}, {"VolumeSizeInGB", 1}}}}},
              {"StoppingCondition", {{"MaxRuntimeInSeconds", 60}}}}},
            {"ResultSelector", {{"status.$", "$.ProcessingJobStatus"}}}};
  if (next.empty()) {
    t["End"] = true;
  } else {
    t["Next"] = next;
  }
  return t;
}

// A Map over $.items, each item {id, script} running as a job.
std::string MapDefinition(int max_concurrency = 0) {
  json d = {{"StartAt", "Fan"},
            {"States",
             {{"Fan",
               {{"Type", "Map"},
                {"ItemsPath", "$.items"},
                {"MaxConcurrency", max_concurrency},
                {"ItemProcessor",
                 {{"ProcessorConfig", {{"Mode", "INLINE"}}},
                  {"StartAt", "Job"},
                  {"States", {{"Job", ShTask()}}}}},
                {"End", true}}}}}};
  return d.dump();
}

class RuntimeTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    std::vector<db::Migration> all = jobs::Migrations();
    for (auto& m : sagemaker::Migrations()) all.push_back(m);
    for (const auto& m : tracking::Migrations()) all.push_back(m);
    for (auto& m : Migrations()) all.push_back(m);
    db_.Open(GetParam(), all);
    if (IsSkipped() || HasFatalFailure()) return;
    dir_ = db_.Folder();
    data_ = dir_ + "/data";
    sagemaker::JobServiceOptions jo;
    jo.data_dir = data_;
    jo.stop_grace = seconds(1);
    jo.poll_interval = milliseconds(50);
    auto jobs = sagemaker::JobService::Create(db_.db(), jo);
    ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
    jobs_ = std::move(*jobs);
    tracking::TrackingOptions to;
    to.artifact_root = dir_ + "/artifacts";
    auto tracking = tracking::TrackingStore::Open(db_.db(), to);
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(*tracking);
    NewService();
  }
  void TearDown() override {
    service_.reset();
    jobs_.reset();
  }
  void NewService() {
    service_.reset();
    PipelineServiceOptions o;
    o.data_dir = data_;
    o.job_poll = milliseconds(50);
    auto s = PipelineService::Create(db_.db(), jobs_.get(), tracking_.get(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = std::move(*s);
  }

  // Items whose scripts append their id to a log (to count runs) and fail while `flag`
  // exists for the item with id "b".
  json Items(const std::string& flag) {
    const std::string log = dir_ + "/runs.log";
    json items = json::array();
    for (const char* id : {"a", "b", "c"}) {
      std::string script = "echo " + std::string(id) + " >> " + log;
      if (std::string(id) == "b") script += "; test ! -e " + flag;
      items.push_back({{"id", id}, {"script", script}});
    }
    return {{"items", items}};
  }
  std::string RunLog() { return Slurp(dir_ + "/runs.log"); }

  ExecutionRow Finish(const std::string& arn) {
    auto e = service_->Wait(arn, seconds(60));
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : ExecutionRow{};
  }

  db::testing::BackendDatabase db_;
  std::string dir_;
  std::string data_;
  std::unique_ptr<sagemaker::JobService> jobs_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<PipelineService> service_;
};

TEST_P(RuntimeTest, StoreRefusesTakenNamesAndWrongTransitions) {
  ExecutionStore store(db_.db());
  StateMachineRow m{"arn:m", "m", "{}", "role", "STANDARD", 1};
  ASSERT_TRUE(store.InsertStateMachine(m).ok());
  m.arn = "arn:m2";
  EXPECT_EQ(store.InsertStateMachine(m).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.GetStateMachine("arn:nope").status().code(), StatusCode::kNotFound);

  ExecutionRow e;
  e.arn = "arn:e";
  e.state_machine_arn = "arn:m";
  e.name = "e";
  e.definition = "{}";
  e.input = "{}";
  e.start_ms = 5;
  e.owner = "x";
  ASSERT_TRUE(store.InsertExecution(e).ok());
  e.arn = "arn:e-again";
  EXPECT_EQ(store.InsertExecution(e).code(), StatusCode::kAlreadyExists);  // same name
  // Only a finished execution can be redriven, and only a running one finished.
  EXPECT_EQ(store.MarkRedriven("arn:e", "me", 6).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.FinishExecution("arn:e", "FAILED", std::nullopt, "E", "C", 7).ok());
  EXPECT_EQ(store.FinishExecution("arn:e", "SUCCEEDED", "{}", "", "", 8).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.MarkRedriven("arn:e", "me", 9).ok());
  auto got = store.GetExecution("arn:e");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "RUNNING");
  EXPECT_EQ(got->redrive_count, 1);
  EXPECT_EQ(got->owner, "me");
  EXPECT_EQ(got->error, "");
  EXPECT_EQ(got->redrive_ms, 9);
}

TEST_P(RuntimeTest, JournalContinuesIdsAndRecordsARedrive) {
  ExecutionStore store(db_.db());
  ASSERT_TRUE(store.InsertStateMachine({"arn:m", "m", "{}", "r", "STANDARD", 1}).ok());
  ExecutionRow e;
  e.arn = "arn:e";
  e.state_machine_arn = "arn:m";
  e.name = "e";
  e.definition = "{}";
  e.input = "{}";
  e.owner = "x";
  ASSERT_TRUE(store.InsertExecution(e).ok());
  {
    DbJournal first(&store, "arn:e", 1);
    first.OnEvent({{"id", 1},
                   {"previousEventId", 0},
                   {"type", "ExecutionStarted"},
                   {"executionStartedEventDetails", json::object()}});
    first.OnEvent({{"id", 2}, {"previousEventId", 1}, {"type", "ExecutionFailed"}});
    first.OnCheckpoint({"A", {{"x", 1}}, "B"});
    ASSERT_TRUE(first.Close().ok());
  }
  auto last = store.LastEventId("arn:e");
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(*last, 2);
  // The engine's redrive opens with ExecutionRedriven.
  DbJournal second(&store, "arn:e", *last + 1);
  second.OnEvent({{"id", 1},
                  {"previousEventId", 0},
                  {"type", "ExecutionRedriven"},
                  {"executionRedrivenEventDetails", {{"redriveCount", 1}}}});
  second.OnEvent({{"id", 2}, {"previousEventId", 1}, {"type", "PassStateEntered"}});
  second.OnCheckpoint({"A", {{"x", 2}}, "C"});  // replaces the first
  ASSERT_TRUE(second.Close().ok());
  auto events = store.Events("arn:e");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4U);
  EXPECT_EQ((*events)[2]["id"], 3);
  EXPECT_EQ((*events)[2]["previousEventId"], 2);
  EXPECT_EQ((*events)[2]["type"], "ExecutionRedriven");
  EXPECT_EQ((*events)[3]["id"], 4);
  EXPECT_EQ((*events)[3]["previousEventId"], 3);
  auto cps = store.Checkpoints("arn:e");
  ASSERT_TRUE(cps.ok());
  ASSERT_EQ(cps->size(), 1U);
  EXPECT_EQ((*cps)[0].output["x"], 2);
  EXPECT_EQ((*cps)[0].next, "C");
}

TEST_P(RuntimeTest, TaskCacheStoresAndReplaces) {
  DbTaskCache cache(db_.db());
  EXPECT_FALSE(cache.Get("k").has_value());
  cache.Put("k", {{"a", 1}});
  cache.Put("k", {{"a", 2}});
  auto v = cache.Get("k");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)["a"], 2);
}

TEST_P(RuntimeTest, MapOfJobsSucceedsWithHistoryAndCost) {
  auto m = service_->CreateStateMachine("fan", MapDefinition(2), "");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // The same definition again is the same machine; another one is refused unless updated.
  auto again = service_->CreateStateMachine("fan", MapDefinition(2), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->arn, m->arn);
  EXPECT_EQ(service_->CreateStateMachine("fan", MapDefinition(1), "").status().code(),
            StatusCode::kAlreadyExists);

  auto e = service_->StartExecution(m->arn, "run-1", Items(dir_ + "/no-such-flag").dump());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(service_->StartExecution(m->arn, "run-1", "{}").status().code(),
            StatusCode::kAlreadyExists);
  const ExecutionRow done = Finish(e->arn);
  EXPECT_EQ(done.status, "SUCCEEDED") << done.error << ": " << done.cause;
  ASSERT_TRUE(done.output.has_value());
  const json out = json::parse(*done.output);
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(out[1]["status"], "Completed");
  // ml.m5.xlarge has a catalog price: three jobs cost more than nothing.
  EXPECT_GT(done.cost_usd, Decimal());
  auto history = service_->History(e->arn);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->front()["type"], "ExecutionStarted");
  EXPECT_EQ(history->back()["type"], "ExecutionSucceeded");
  int submitted = 0;
  for (const auto& ev : *history) submitted += ev["type"] == "TaskSubmitted" ? 1 : 0;
  EXPECT_EQ(submitted, 3);
  auto list = service_->ListExecutions(m->arn, "SUCCEEDED");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1U);
  EXPECT_EQ(service_->ResolveExecution("run-1").value(), e->arn);
}

TEST_P(RuntimeTest, ResumeRerunsOnlyTheFailedIteration) {
  const std::string flag = dir_ + "/fail-b";
  std::ofstream(flag) << "x";
  auto m = service_->CreateStateMachine("fan", MapDefinition(), "");
  ASSERT_TRUE(m.ok());
  auto e = service_->StartExecution(m->arn, "run-1", Items(flag).dump());
  ASSERT_TRUE(e.ok());
  ExecutionRow failed = Finish(e->arn);
  ASSERT_EQ(failed.status, "FAILED");
  EXPECT_EQ(failed.error, "States.TaskFailed");
  const std::string before = RunLog();
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 3);

  fs::remove(flag);  // the cause is fixed
  auto r = service_->RedriveExecution(e->arn);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->redrive_count, 1);
  const ExecutionRow done = Finish(e->arn);
  EXPECT_EQ(done.status, "SUCCEEDED") << done.error << ": " << done.cause;
  // Only b ran again, under a new name (its failed attempt kept run-1-b-0).
  EXPECT_EQ(RunLog(), before + "b\n");
  auto d = jobs_->Describe(sagemaker::JobKind::kProcessing, "run-1-b-0-r1");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["ProcessingJobStatus"], "Completed");
  auto history = service_->History(e->arn);
  ASSERT_TRUE(history.ok());
  int redriven = 0;
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i]["id"], static_cast<int64_t>(i + 1));
    redriven += (*history)[i]["type"] == "ExecutionRedriven" ? 1 : 0;
  }
  EXPECT_EQ(redriven, 1);
  // A succeeded execution is not redriven again.
  EXPECT_EQ(service_->RedriveExecution(e->arn).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(RuntimeTest, StopAbortsAndStopsTheJob) {
  auto m = service_->CreateStateMachine("fan", MapDefinition(), "");
  ASSERT_TRUE(m.ok());
  const json input = {{"items", {{{"id", "slow"}, {"script", "sleep 30"}}}}};
  auto e = service_->StartExecution(m->arn, "run-1", input.dump());
  ASSERT_TRUE(e.ok());
  // Wait for the job to start, then stop the execution.
  for (int i = 0; i < 200; ++i) {
    auto d = jobs_->Describe(sagemaker::JobKind::kProcessing, "run-1-slow-0");
    if (d.ok()) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(service_->StopExecution(e->arn, "Why", "a test").ok());
  const ExecutionRow done = Finish(e->arn);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(20));
  EXPECT_EQ(done.status, "ABORTED");
  EXPECT_EQ(done.error, "Why");
  auto d = jobs_->Describe(sagemaker::JobKind::kProcessing, "run-1-slow-0");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["ProcessingJobStatus"], "Stopped");
}

TEST_P(RuntimeTest, CostLimitStartsNoJob) {
  auto m = service_->CreateStateMachine("fan", MapDefinition(), "");
  ASSERT_TRUE(m.ok());
  RunOptions run;
  run.max_cost_usd = Decimal();  // nothing may be spent
  auto e = service_->StartExecution(m->arn, "run-1", Items(dir_ + "/none").dump(), run);
  ASSERT_TRUE(e.ok());
  const ExecutionRow done = Finish(e->arn);
  EXPECT_EQ(done.status, "FAILED");
  EXPECT_EQ(done.error, kCostLimitExceeded);
  EXPECT_EQ(RunLog(), "");
}

TEST_P(RuntimeTest, DefinitionCostLimitComesFromAPassStatesLimits) {
  EXPECT_EQ(DefinitionCostLimit(R"({"StartAt":"Init","States":{"Init":{"Type":"Pass",
      "Parameters":{"limits":{"max_cost_usd":"1.25"}},"End":true}}})"),
            Decimal::FromRaw(12'500'000'000));
  EXPECT_FALSE(DefinitionCostLimit(MapDefinition()).has_value());
  EXPECT_FALSE(DefinitionCostLimit("not json").has_value());
}

TEST_P(RuntimeTest, CacheReusesSuccessesUnlessBypassed) {
  auto m = service_->CreateStateMachine("fan", MapDefinition(), "");
  ASSERT_TRUE(m.ok());
  const std::string input = Items(dir_ + "/none").dump();
  auto run = [&](const std::string& name, bool bypass) {
    RunOptions o;
    o.cache = true;
    o.bypass_cache = bypass;
    auto e = service_->StartExecution(m->arn, name, input, o);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? Finish(e->arn).status : "";
  };
  EXPECT_EQ(run("run-1", false), "SUCCEEDED");
  const std::string first = RunLog();
  EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 3);
  // Same work under other job names (the execution's): every task is a hit, nothing runs.
  EXPECT_EQ(run("run-2", false), "SUCCEEDED");
  EXPECT_EQ(RunLog(), first);
  EXPECT_EQ(jobs_->Describe(sagemaker::JobKind::kProcessing, "run-2-a-0").status().code(),
            StatusCode::kNotFound);
  // Bypassed: everything runs again.
  EXPECT_EQ(run("run-3", true), "SUCCEEDED");
  const std::string third = RunLog();
  EXPECT_EQ(std::count(third.begin(), third.end(), '\n'), 6);
}

TEST_P(RuntimeTest, RegisterBestLogsEveryCandidateOnceAndRegistersTheBest) {
  DispatcherOptions o;
  o.execution_arn = "arn:exec";
  o.experiment = "ocx";
  PipelineDispatcher dispatcher(jobs_.get(), tracking_.get(), o);
  auto candidate = [](const std::string& id, double value) {
    return json{
        {"candidate", {{"id", id}, {"algorithm", "rf"}, {"hyperparameters", {{"depth", id}}}}},
        {"stage", "iris"},
        {"status", "Completed"},
        {"training",
         {{"TrainingJobName", "iris-" + id},
          {"FinalMetricDataList", {{{"MetricName", "acc"}, {"Value", value}}}},
          {"ModelArtifacts", {{"S3ModelArtifacts", "s3://m/" + id + "/model.tar.gz"}}}}}};
  };
  const json failed_cause = {{"TrainingJobName", "iris-bad"}, {"TrainingJobStatus", "Failed"}};
  const json payload = {
      {"stage", "iris"},
      {"model_name", "ocx-iris"},
      {"alias", "champion"},
      {"metric", {{"name", "acc"}, {"direction", "maximize"}}},
      {"candidates",
       {candidate("a", 0.9),
        candidate("b", 0.95),
        candidate("c", 0.95),
        {{"candidate", {{"id", "bad"}}},
         {"stage", "iris"},
         {"status", "Failed"},
         {"failure", {{"Error", "States.TaskFailed"}, {"Cause", failed_cause.dump()}}}}}}};
  engine::TaskRequest req;
  req.resource = "arn:aws:states:::lambda:invoke";
  req.parameters = {{"FunctionName", kRegisterBestFunction}, {"Payload", payload}};
  auto r = dispatcher.Dispatch(req);
  ASSERT_TRUE(r.ok()) << r.error().cause;
  const json& best = r.value()["Payload"];
  EXPECT_EQ(best["candidate"]["id"], "b");  // a tie goes to the first
  EXPECT_EQ(best["version"], 1);
  EXPECT_EQ(best["ModelArtifacts"]["S3ModelArtifacts"], "s3://m/b/model.tar.gz");
  auto v = tracking_->GetVersionByAlias("ocx-iris", "champion");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, "1");
  EXPECT_EQ(v->source, "s3://m/b/model.tar.gz");
  auto run = tracking_->GetRun(v->run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.run_name, "iris-b");
  EXPECT_EQ(run->info.status, "FINISHED");
  ASSERT_EQ(run->params.size(), 1U);
  EXPECT_EQ(run->params[0].value, "b");

  // Again (a retried call): a new version, but no run twice; the failed one is FAILED.
  auto again = dispatcher.Dispatch(req);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value()["Payload"]["version"], 2);
  auto exp = tracking_->GetExperimentByName("ocx");
  ASSERT_TRUE(exp.ok());
  tracking::SearchRequest search;
  search.experiment_ids = {exp->experiment_id};
  auto runs = tracking_->SearchRuns(search);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->items.size(), 4U);
  int failed_runs = 0;
  for (const auto& x : runs->items) failed_runs += x.info.status == "FAILED" ? 1 : 0;
  EXPECT_EQ(failed_runs, 1);

  // Nothing to pick: the task fails, naming the metric.
  req.parameters["Payload"]["metric"]["name"] = "f1";
  auto none = dispatcher.Dispatch(req);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().cause.find("f1"), std::string::npos);
}

TEST_P(RuntimeTest, UnknownResourcesAndFunctionsFailTheTask) {
  PipelineDispatcher dispatcher(jobs_.get(), tracking_.get(), DispatcherOptions{});
  engine::TaskRequest req;
  req.resource = "arn:aws:states:::dynamodb:putItem";
  auto r = dispatcher.Dispatch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "States.TaskFailed");
  req.resource = "arn:aws:states:::lambda:invoke";
  req.parameters = {{"FunctionName", "my-function"}};
  r = dispatcher.Dispatch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "Lambda.ResourceNotFoundException");
  // A request SageMaker would refuse.
  req.resource = "arn:aws:states:::sagemaker:createProcessingJob.sync";
  req.parameters = {{"ProcessingJobName", "x"}};
  r = dispatcher.Dispatch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "SageMaker.AmazonSageMakerException");
}

TEST_P(RuntimeTest, RecoverFailsADeadProcesssExecution) {
  auto m = service_->CreateStateMachine("fan", MapDefinition(), "");
  ASSERT_TRUE(m.ok());
  ExecutionRow e;
  e.arn = "arn:aws:states:us-east-1:000000000000:execution:fan:orphan";
  e.state_machine_arn = m->arn;
  e.name = "orphan";
  e.definition = MapDefinition();
  e.input = "{}";
  auto me = jobs::RunnerIdentity::Current();
  me.pid = 0x7ffffff0;  // no such process
  e.owner = me.ToString();
  ASSERT_TRUE(service_->store()->InsertExecution(e).ok());
  auto n = service_->RecoverInterrupted();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto got = service_->DescribeExecution(e.arn);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "FAILED");
  EXPECT_EQ(got->error, "sagebox.Interrupted");
}

INSTANTIATE_TEST_SUITE_P(Backends, RuntimeTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         db::testing::BackendName);

}  // namespace
}  // namespace sagebox::pipeline::runtime
