// tracking_store_test.cc: runs and the registry on SQLite and on PostgreSQL: params are
// immutable, metric history with steps and NaN, search with MLflow's grammar and paging,
// cost, artifacts, RegisterBest with ties, aliases moving.
#include "pipeline/tracking/tracking_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "db/testing/backends.h"

namespace sagebox::pipeline::tracking {
namespace {

class TrackingStoreTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    backend_.Open(GetParam(), Migrations());
    if (IsSkipped() || HasFatalFailure()) return;
    TrackingOptions opt;
    opt.artifact_root = backend_.Folder() + "/artifacts";
    opt.now_ms = [this] { return now_.load(); };
    auto s = TrackingStore::Open(backend_.db(), opt);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto e = store_->CreateExperiment("iris", "", {{"stage", "iris"}});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    exp_ = *e;
  }

  std::string NewRun(const std::string& name, int64_t start) {
    auto r = store_->CreateRun(exp_, "ci", name, start, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->info.run_id : "";
  }

  db::testing::BackendDatabase backend_;
  std::atomic<int64_t> now_{1'700'000'000'000};
  std::unique_ptr<TrackingStore> store_;
  std::string exp_;
};

TEST_P(TrackingStoreTest, DefaultExperimentAndUniqueNames) {
  auto d = store_->GetExperiment("0");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "Default");
  auto e = store_->GetExperimentByName("iris");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->artifact_location, backend_.Folder() + "/artifacts/" + exp_);
  ASSERT_EQ(e->tags.size(), 1u);
  auto dup = store_->CreateExperiment("iris", "", {});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetExperiment("999").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteExperiment("0").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->DeleteExperiment(exp_).ok());
  EXPECT_EQ(store_->CreateRun(exp_, "u", "", 0, {}).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->RestoreExperiment(exp_).ok());
  ASSERT_TRUE(store_->RenameExperiment(exp_, "iris-2").ok());
  EXPECT_TRUE(store_->GetExperimentByName("iris-2").ok());
}

TEST_P(TrackingStoreTest, ParamsAreImmutableLikeMlflow) {
  const std::string run = NewRun("a", 1);
  ASSERT_TRUE(store_->LogBatch(run, {}, {{"C", "1.0"}}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(run, {}, {{"C", "1.0"}}, {}).ok());  // the same value: fine
  Status s = store_->LogBatch(run, {{"acc", 0.5, 1, 0}}, {{"C", "2.0"}}, {{"t", "x"}});
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Changing param values is not allowed. Param with key='C' was "
                             "already logged with value='1.0'"),
            std::string::npos)
      << s.message();
  auto got = store_->GetRun(run);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->params.size(), 1u);
  EXPECT_EQ(got->params[0].value, "1.0");
  EXPECT_TRUE(got->metrics.empty()) << "the refused batch kept a metric";
  for (const auto& t : got->tags) EXPECT_NE(t.key, "t") << "the refused batch kept a tag";
}

TEST_P(TrackingStoreTest, MetricHistoryWithStepsNanAndInfinity) {
  const std::string run = NewRun("a", 1);
  ASSERT_TRUE(store_
                  ->LogBatch(run,
                             {{"loss", 0.9, 100, 0},
                              {"loss", 0.5, 200, 1},
                              {"loss", std::nan(""), 300, 2},
                              {"loss", 0.7, 400, 1},  // an older step logged late
                              {"big", INFINITY, 100, 0}},
                             {}, {})
                  .ok());
  auto h = store_->MetricHistory(run, "loss");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].step, 0);
  EXPECT_DOUBLE_EQ((*h)[0].value, 0.9);
  EXPECT_EQ((*h)[1].step, 1);
  EXPECT_EQ((*h)[3].step, 2);
  EXPECT_TRUE(std::isnan((*h)[3].value));
  auto r = store_->GetRun(run);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->metrics.size(), 2u);
  EXPECT_EQ(r->metrics[0].key, "big");
  EXPECT_EQ(r->metrics[0].value, DBL_MAX);  // MLflow's SQL store clamps infinities
  EXPECT_EQ(r->metrics[1].key, "loss");
  EXPECT_EQ(r->metrics[1].step, 2);  // the latest is the highest step, even NaN
  EXPECT_TRUE(std::isnan(r->metrics[1].value));
}

TEST_P(TrackingStoreTest, SearchRunsWithMlflowsGrammarOrderAndPages) {
  const std::string a = NewRun("lr-1", 10);
  const std::string b = NewRun("rf-1", 20);
  const std::string c = NewRun("rf-2", 30);
  ASSERT_TRUE(
      store_->LogBatch(a, {{"acc", 0.90, 1, 0}}, {{"algo", "lr"}}, {{"stage", "Iris"}}).ok());
  ASSERT_TRUE(
      store_->LogBatch(b, {{"acc", 0.95, 1, 0}}, {{"algo", "rf"}}, {{"stage", "iris"}}).ok());
  ASSERT_TRUE(store_->LogBatch(c, {{"acc", 0.93, 1, 0}}, {{"algo", "rf"}}, {}).ok());
  ASSERT_TRUE(store_->UpdateRun(c, "FAILED", 40, "").ok());
  auto ids = [&](const std::string& filter, std::vector<std::string> order = {}) {
    SearchRequest req;
    req.experiment_ids = {exp_};
    req.filter = filter;
    req.order_by = std::move(order);
    auto page = store_->SearchRuns(req);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& r : page->items) out.push_back(r.info.run_name);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(""), (V{"rf-2", "rf-1", "lr-1"}));  // newest start first
  EXPECT_EQ(ids("metrics.acc > 0.92"), (V{"rf-2", "rf-1"}));
  EXPECT_EQ(ids("params.algo = 'rf' AND attributes.status = 'FAILED'"), (V{"rf-2"}));
  EXPECT_EQ(ids("tags.stage LIKE 'i%'"), (V{"rf-1"}));  // LIKE is case-sensitive
  EXPECT_EQ(ids("tags.stage ILIKE 'i%'", {"start_time ASC"}), (V{"lr-1", "rf-1"}));
  EXPECT_EQ(ids("attributes.run_name LIKE 'rf-_'", {"metrics.acc DESC"}), (V{"rf-1", "rf-2"}));
  EXPECT_EQ(ids("attributes.run_id IN ('" + a + "', '" + c + "')"), (V{"rf-2", "lr-1"}));
  EXPECT_EQ(ids("attributes.start_time >= 20 AND attributes.start_time < 30"), (V{"rf-1"}));
  EXPECT_EQ(ids("params.missing = 'x'"), V{});
  EXPECT_EQ(ids("", {"metrics.acc ASC"}), (V{"lr-1", "rf-2", "rf-1"}));
  // An injection attempt is only a value.
  EXPECT_EQ(ids("params.algo = 'rf'' OR 1=1 --'"), V{});

  SearchRequest req;
  req.experiment_ids = {exp_};
  req.max_results = 2;
  auto p1 = store_->SearchRuns(req);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->next_page_token.empty());
  req.page_token = p1->next_page_token;
  auto p2 = store_->SearchRuns(req);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].info.run_name, "lr-1");
  EXPECT_TRUE(p2->next_page_token.empty());

  ASSERT_TRUE(store_->DeleteRun(a).ok());
  EXPECT_EQ(ids(""), (V{"rf-2", "rf-1"}));
  req = {};
  req.experiment_ids = {exp_};
  req.view = ViewType::kDeletedOnly;
  auto deleted = store_->SearchRuns(req);
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(deleted->items.size(), 1u);
  EXPECT_EQ(deleted->items[0].info.run_id, a);
  req.filter = "metrics.acc > 'x'";
  EXPECT_EQ(store_->SearchRuns(req).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, CostIsExactAndTagged) {
  const std::string run = NewRun("a", 1);
  Decimal cost;
  ASSERT_TRUE(Decimal::Parse("0.0000321", &cost));
  ASSERT_TRUE(store_->SetCost(run, cost).ok());
  auto r = store_->GetRun(run);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->cost_usd.has_value());
  EXPECT_EQ(r->cost_usd->ToString(), "0.0000321");
  bool tagged = false;
  for (const auto& t : r->tags) tagged |= t.key == kCostTag && t.value == "0.0000321";
  EXPECT_TRUE(tagged);
}

TEST_P(TrackingStoreTest, ArtifactsAreRecordedWithSizesAndDigests) {
  const std::string run = NewRun("a", 1);
  auto dir = store_->ArtifactDir(run);
  ASSERT_TRUE(dir.ok());
  std::filesystem::create_directories(*dir + "/model");
  std::ofstream(*dir + "/model/model.pkl") << "abc";
  std::ofstream(*dir + "/predictions.csv") << "";
  auto recorded = store_->RecordArtifacts(run);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ((*recorded)[0].path, "model/model.pkl");
  EXPECT_EQ((*recorded)[0].size, 3);
  // sha256("abc"), FIPS 180-2's example.
  EXPECT_EQ((*recorded)[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto root = store_->ListArtifacts(run, "");
  ASSERT_TRUE(root.ok());
  ASSERT_EQ(root->size(), 2u);
  EXPECT_EQ((*root)[0].path, "model");
  EXPECT_TRUE((*root)[0].is_dir);
  EXPECT_EQ((*root)[1].path, "predictions.csv");
  auto sub = store_->ListArtifacts(run, "model");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(sub->size(), 1u);
  EXPECT_EQ((*sub)[0].file_size, 3);
}

TEST_P(TrackingStoreTest, RegisterBestBreaksTiesByStartThenRunIdAndMovesTheAlias) {
  const std::string late = NewRun("late", 50);
  const std::string early = NewRun("early", 10);
  const std::string worse = NewRun("worse", 5);
  const std::string nan = NewRun("nan", 1);
  const std::string other = NewRun("other-stage", 1);
  ASSERT_TRUE(store_->LogBatch(late, {{"cv_acc", 0.96, 1, 0}}, {}, {{"stage", "iris"}}).ok());
  ASSERT_TRUE(store_->LogBatch(early, {{"cv_acc", 0.96, 1, 0}}, {}, {{"stage", "iris"}}).ok());
  ASSERT_TRUE(store_->LogBatch(worse, {{"cv_acc", 0.90, 1, 0}}, {}, {{"stage", "iris"}}).ok());
  ASSERT_TRUE(
      store_->LogBatch(nan, {{"cv_acc", std::nan(""), 1, 0}}, {}, {{"stage", "iris"}}).ok());
  ASSERT_TRUE(store_->LogBatch(other, {{"cv_acc", 0.99, 1, 0}}, {}, {{"stage", "wine"}}).ok());
  auto best =
      store_->RegisterBest(exp_, "tags.stage = 'iris'", "cv_acc", "max", "iris-model", "champion",
                           {{"sagebox.execution", "exec-1"}, {"sagebox.stage", "iris"}});
  ASSERT_TRUE(best.ok()) << best.status().ToString();
  EXPECT_EQ(best->run.info.run_id, early);
  EXPECT_EQ(best->version.version, "1");
  EXPECT_EQ(best->version.run_id, early);
  EXPECT_EQ(best->version.source, best->run.info.artifact_uri + "/model");
  EXPECT_EQ(best->version.aliases, std::vector<std::string>{"champion"});
  bool lineage = false;
  for (const auto& t : best->version.tags)
    lineage |= t.key == "sagebox.execution" && t.value == "exec-1";
  EXPECT_TRUE(lineage);

  auto min = store_->RegisterBest(exp_, "tags.stage = 'iris'", "cv_acc", "min", "iris-model",
                                  "champion", {});
  ASSERT_TRUE(min.ok()) << min.status().ToString();
  EXPECT_EQ(min->run.info.run_id, worse);  // NaN never wins, even for "min"
  EXPECT_EQ(min->version.version, "2");
  auto by_alias = store_->GetVersionByAlias("iris-model", "champion");
  ASSERT_TRUE(by_alias.ok());
  EXPECT_EQ(by_alias->version, "2");  // the alias moved
  auto v1 = store_->GetModelVersion("iris-model", "1");
  ASSERT_TRUE(v1.ok());
  EXPECT_TRUE(v1->aliases.empty());
  auto model = store_->GetRegisteredModel("iris-model");
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(model->aliases.size(), 1u);
  EXPECT_EQ(model->aliases[0].second, "2");
  ASSERT_EQ(model->latest_versions.size(), 1u);
  EXPECT_EQ(model->latest_versions[0].version, "2");

  EXPECT_EQ(store_->RegisterBest(exp_, "", "no_such_metric", "max", "m", "a", {}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->RegisterBest(exp_, "", "cv_acc", "up", "m", "a", {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(TrackingStoreTest, RegisterBestBreaksAFullTieByTheSmallestRunId) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(NewRun("tie-" + std::to_string(i), 7));
    ASSERT_TRUE(store_->LogBatch(ids.back(), {{"f1", 0.5, 1, 0}}, {}, {}).ok());
  }
  auto best = store_->RegisterBest(exp_, "", "f1", "max", "tie-model", "best", {});
  ASSERT_TRUE(best.ok()) << best.status().ToString();
  EXPECT_EQ(best->run.info.run_id, *std::min_element(ids.begin(), ids.end()));
}

TEST_P(TrackingStoreTest, RegistryNamesVersionsAndSearch) {
  ASSERT_TRUE(store_->CreateRegisteredModel("a", "first", {{"team", "ml"}}).ok());
  EXPECT_EQ(store_->CreateRegisteredModel("a", "", {}).status().code(), StatusCode::kAlreadyExists);
  const std::string run = NewRun("r", 1);
  auto v1 = store_->CreateModelVersion("a", "/src/1", run, "", "", {});
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  ASSERT_TRUE(store_->DeleteModelVersion("a", "1").ok());
  auto v2 = store_->CreateModelVersion("a", "/src/2", run, "", "", {});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, "2");  // numbers are never reused
  EXPECT_EQ(store_->SetAlias("a", "latest", "2").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetAlias("a", "v3", "2").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->SetAlias("a", "prod", "9").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->SetAlias("a", "prod", "2").ok());
  auto renamed = store_->RenameRegisteredModel("a", "b");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->aliases.size(), 1u);
  EXPECT_EQ(store_->GetRegisteredModel("a").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->CreateRegisteredModel("c", "", {}).ok());
  SearchRequest req;
  req.filter = "name LIKE 'b%'";
  auto models = store_->SearchRegisteredModels(req);
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  ASSERT_EQ(models->items.size(), 1u);
  EXPECT_EQ(models->items[0].name, "b");
  req.filter = "tags.team = 'ml'";
  models = store_->SearchRegisteredModels(req);
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->items.size(), 1u);
  req.filter = "run_id = '" + run + "'";
  auto versions = store_->SearchModelVersions(req);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->items.size(), 1u);
  EXPECT_EQ(versions->items[0].name, "b");
  ASSERT_TRUE(store_->DeleteRegisteredModel("b").ok());
  EXPECT_EQ(store_->GetVersionByAlias("b", "prod").status().code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         db::testing::BackendName);

}  // namespace
}  // namespace sagebox::pipeline::tracking
