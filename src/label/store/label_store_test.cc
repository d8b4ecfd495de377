// label_store_test.cc: the quality loop on SQLite and on PostgreSQL.
#include "label/store/label_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "db/testing/backends.h"

namespace sagebox::label {
namespace {

using nlohmann::json;

// The real file system with a clock the test moves.
class ClockEnv : public EnvWrapper {
 public:
  ClockEnv() : EnvWrapper(Env::Default()) {}
  UnixSeconds Now() override { return now_.load(); }
  void Advance(int64_t s) { now_ += s; }

 private:
  std::atomic<int64_t> now_{1'700'000'000};
};

const Caller kManager{"mia", false};
const Caller kAnn1{"ann", false};
const Caller kAnn2{"bob", false};
const Caller kReviewer{"rita", false};
const Caller kRequester{"rex", false};
const Caller kStranger{"sam", false};

json RankingConfig(int overlap = 1, int max_rounds = 2, int batch_size = 100) {
  return {{"kind", "ranking"},
          {"overlap", overlap},
          {"max_rework_rounds", max_rounds},
          {"batch_size", batch_size},
          {"reservation_seconds", 600},
          {"hourly_rate", "36"},
          {"requirements", {{"dimensions", {"helpfulness"}}}}};
}

std::vector<ManifestLine> RankingItems(int n) {
  std::vector<ManifestLine> out;
  for (int i = 0; i < n; ++i) {
    ManifestLine l;
    l.line_no = i + 1;
    l.line = {{"source", "prompt " + std::to_string(i)},
              {"prompt", "prompt " + std::to_string(i)},
              {"responses",
               {{{"id", "a"}, {"text", "first"}},
                {{"id", "b"}, {"text", "second"}},
                {{"id", "c"}, {"text", "third"}}}},
              {"keep", i}};
    l.source_text = "prompt " + std::to_string(i);
    out.push_back(std::move(l));
  }
  return out;
}

json Ranked(std::vector<std::string> order) {
  return {{"rankings", {{{"dimension", "helpfulness"}, {"order", order}}}}};
}

class LabelStoreTest : public ::testing::TestWithParam<db::Backend> {
 protected:
  void SetUp() override {
    backend_.Open(GetParam(), Migrations());
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = std::make_unique<LabelStore>(backend_.db(), &env_, backend_.Folder());
  }

  // A ranking project with one member per role, and `items` imported.
  int64_t MakeProject(const json& config, int items) {
    auto cfg = ParseProjectConfig(config, "test");
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    auto p = store_->CreateProject(kManager, "prefs", *cfg);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    for (const auto& [user, role] :
         std::vector<std::pair<std::string, std::string>>{{"ann", "annotator"},
                                                          {"bob", "annotator"},
                                                          {"rita", "reviewer"},
                                                          {"rex", "requester"}}) {
      EXPECT_TRUE(store_->AddMember(kManager, p->id, user, role, std::nullopt).ok());
    }
    auto r = store_->Import(kManager, p->id, RankingItems(items));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return p->id;
  }

  std::string BatchState(int64_t project) {
    auto b = store_->Batches(kManager, project);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() && !b->empty() ? b->front().state : "";
  }

  ClockEnv env_;
  db::testing::BackendDatabase backend_;
  std::unique_ptr<LabelStore> store_;
};

TEST_P(LabelStoreTest, ReviewSendsWorkBackToTheSameAnnotatorWithTheComments) {
  int64_t p = MakeProject(RankingConfig(), 1);
  EXPECT_EQ(BatchState(p), "received");

  auto a = store_->Next(kAnn1, p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->round, 0);
  EXPECT_EQ((*a)->item["keep"], 0);  // pass-through keys reach the annotator
  EXPECT_EQ(BatchState(p), "in-progress");
  // The only item is taken: the other annotator gets nothing (overlap 1).
  auto none = store_->Next(kAnn2, p);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // A payload that misses a response fails the checks and stores nothing.
  auto bad = store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b"}), 30);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  ASSERT_FALSE(bad->failures.empty());
  EXPECT_EQ(bad->failures.front().requirement, "all_ranked");

  env_.Advance(40);
  auto ok = store_->Submit(kAnn1, (*a)->id, Ranked({"b", "a", "c"}), 30);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->failures.empty());
  EXPECT_TRUE(ok->reviewed);

  // Annotators cannot review; reviewers get the submission with its checklist.
  EXPECT_EQ(store_->NextReview(kAnn2, p).status().code(), StatusCode::kPermissionDenied);
  auto t = store_->NextReview(kReviewer, p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->worker, "ann");
  EXPECT_EQ((*t)->payload, Ranked({"b", "a", "c"}));
  ASSERT_FALSE((*t)->checklist.empty());
  EXPECT_TRUE((*t)->checklist[0]["passed"].get<bool>());

  Status rework = store_->Review(kReviewer, (*t)->annotation_id, Verdict::kRework,
                                 {Comment{"dimension:helpfulness", "c is the best answer", "", 0}},
                                 std::nullopt, 20);
  ASSERT_TRUE(rework.ok()) << rework.ToString();

  // The same annotator gets it back first, round 1, with the anchored comment.
  auto back = store_->Next(kAnn1, p);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->id, (*a)->id);
  EXPECT_EQ((*back)->round, 1);
  ASSERT_EQ((*back)->comments.size(), 1u);
  EXPECT_EQ((*back)->comments[0].anchor, "dimension:helpfulness");
  EXPECT_EQ((*back)->comments[0].author, "rita");
  // ... and the version that was sent back, to fix rather than redo.
  EXPECT_EQ((*back)->draft, Ranked({"b", "a", "c"}));
  EXPECT_FALSE(store_->Next(kAnn2, p)->has_value());

  auto fixed = store_->Submit(kAnn1, (*a)->id, Ranked({"c", "b", "a"}), 10);
  ASSERT_TRUE(fixed.ok());
  EXPECT_TRUE(fixed->reviewed);  // a rework round is always reviewed
  auto t2 = store_->NextReview(kReviewer, p);
  ASSERT_TRUE(t2.ok() && t2->has_value());
  EXPECT_EQ((*t2)->round, 1);
  ASSERT_TRUE(
      store_->Review(kReviewer, (*t2)->annotation_id, Verdict::kAccept, {}, std::nullopt, 5).ok());
  EXPECT_EQ(BatchState(p), "ready-for-review");

  // Nothing exported before the requester's gate; all-pairs after it: 3 pairs.
  ExportOptions o;
  o.format = ExportFormat::kPreference;
  auto before = store_->Export(kRequester, p, o, ExportScope::kAccepted);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->items, 0);
  auto batches = store_->Batches(kRequester, p);
  ASSERT_TRUE(batches.ok());
  EXPECT_EQ(store_->AcceptBatch(kAnn1, batches->front().id).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(store_->AcceptBatch(kRequester, batches->front().id).ok());
  auto after = store_->Export(kRequester, p, o, ExportScope::kAccepted);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->items, 1);
  std::string body;
  ASSERT_TRUE(Env::Default()->ReadFileToString(after->path, &body).ok());
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 3);
  EXPECT_EQ(after->sha256.size(), 64u);
  EXPECT_EQ(BatchState(p), "delivered");

  auto m = store_->Metrics(kManager, p);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)["accepted"], 1);
  EXPECT_EQ((*m)["first_reviews"], 1);
  EXPECT_EQ((*m)["first_review_acceptance"], 0.0);  // the first verdict was rework
  EXPECT_EQ((*m)["rework_rounds"]["max"], 1);
  // 30 s credited on the first submit (the client's count, within the 40 s elapsed),
  // 0 on the second (no time passed); review 5+20 s capped by elapsed time = 0.
  // Cost: 30 s at 36 USD/h = 0.30 USD.
  EXPECT_EQ((*m)["cost"], "0.3000");
  EXPECT_EQ((*m)["cost_per_accepted_label"], "0.3000");
}

TEST_P(LabelStoreTest, AReservationTimesOutAndTheItemGoesToSomeoneElse) {
  int64_t p = MakeProject(RankingConfig(), 1);
  auto a = store_->Next(kAnn1, p);
  ASSERT_TRUE(a.ok() && a->has_value());
  ASSERT_TRUE(store_->SaveDraft(kAnn1, (*a)->id, Ranked({"a"}), std::nullopt).ok());
  env_.Advance(601);
  auto b = store_->Next(kAnn2, p);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->item_id, (*a)->item_id);
  auto late = store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b", "c"}), std::nullopt);
  EXPECT_EQ(late.status().code(), StatusCode::kInvalidArgument);
  // Blind: the second annotator never sees the first one's draft.
  EXPECT_TRUE((*b)->draft.is_null());
  EXPECT_EQ(store_->GetAssignment(kAnn2, (*a)->id).status().code(), StatusCode::kPermissionDenied);
}

TEST_P(LabelStoreTest, OverlapGivesEachItemToDistinctAnnotators) {
  int64_t p = MakeProject(RankingConfig(/*overlap=*/2), 2);
  auto a1 = store_->Next(kAnn1, p);
  auto b1 = store_->Next(kAnn2, p);
  ASSERT_TRUE(a1.ok() && a1->has_value() && b1.ok() && b1->has_value());
  EXPECT_EQ((*a1)->item_id, (*b1)->item_id);
  ASSERT_TRUE(store_->Submit(kAnn1, (*a1)->id, Ranked({"a", "b", "c"}), 1).ok());
  auto a2 = store_->Next(kAnn1, p);
  ASSERT_TRUE(a2.ok() && a2->has_value());
  EXPECT_NE((*a2)->item_id, (*a1)->item_id);  // never the same item twice
  ASSERT_TRUE(store_->Submit(kAnn1, (*a2)->id, Ranked({"a", "b", "c"}), 1).ok());
  EXPECT_FALSE(store_->Next(kAnn1, p)->has_value());
}

TEST_P(LabelStoreTest, ReworkPastTheLastRoundEscalatesToTheManager) {
  int64_t p = MakeProject(RankingConfig(1, /*max_rounds=*/1), 1);
  auto a = store_->Next(kAnn1, p);
  ASSERT_TRUE(a.ok() && a->has_value());
  std::vector<Comment> fix = {Comment{"item", "please fix", "", 0}};
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b", "c"}), 1).ok());
    auto t = store_->NextReview(kReviewer, p);
    ASSERT_TRUE(t.ok() && t->has_value());
    ASSERT_TRUE(store_
                    ->Review(kReviewer, (*t)->annotation_id, Verdict::kRework, fix, std::nullopt,
                             std::nullopt)
                    .ok());
    if (round == 0) {
      auto back = store_->Next(kAnn1, p);
      ASSERT_TRUE(back.ok() && back->has_value());
      EXPECT_EQ((*back)->round, 1);
    }
  }
  // Round 1 was the last: the manager's queue has it now, the annotator's does not.
  EXPECT_FALSE(store_->Next(kAnn1, p)->has_value());
  EXPECT_FALSE(store_->NextReview(kReviewer, p)->has_value());
  auto e = store_->NextReview(kManager, p);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_TRUE((*e)->escalated);
  EXPECT_EQ(
      store_
          ->Review(kReviewer, (*e)->annotation_id, Verdict::kAccept, {}, std::nullopt, std::nullopt)
          .code(),
      StatusCode::kPermissionDenied);
  ASSERT_TRUE(store_
                  ->Review(kManager, (*e)->annotation_id, Verdict::kFixAccept, {},
                           Ranked({"c", "a", "b"}), std::nullopt)
                  .ok());
  EXPECT_EQ(BatchState(p), "ready-for-review");
}

TEST_P(LabelStoreTest, ARejectedBatchGoesBackForReworkWithTheFeedback) {
  int64_t p = MakeProject(RankingConfig(), 1);
  auto a = store_->Next(kAnn1, p);
  ASSERT_TRUE(a.ok() && a->has_value());
  ASSERT_TRUE(store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b", "c"}), 1).ok());
  auto t = store_->NextReview(kReviewer, p);
  ASSERT_TRUE(t.ok() && t->has_value());
  ASSERT_TRUE(
      store_->Review(kReviewer, (*t)->annotation_id, Verdict::kAccept, {}, std::nullopt, 1).ok());
  auto batches = store_->Batches(kRequester, p);
  ASSERT_TRUE(batches.ok());
  int64_t batch = batches->front().id;
  EXPECT_EQ(store_->RejectBatch(kRequester, batch, "").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->RejectBatch(kRequester, batch, "rank factual accuracy first").ok());
  EXPECT_EQ(BatchState(p), "sent-for-rework");
  auto back = store_->Next(kAnn1, p);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->round, 1);
  ASSERT_EQ((*back)->comments.size(), 1u);
  EXPECT_EQ((*back)->comments[0].text, "rank factual accuracy first");
  // Accepting needs a ready batch again.
  EXPECT_EQ(store_->AcceptBatch(kRequester, batch).code(), StatusCode::kInvalidArgument);
  auto h = store_->Batches(kRequester, p);
  ASSERT_TRUE(h.ok());
  std::vector<std::string> states;
  for (const auto& e : h->front().history) states.push_back(e["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"received", "in-progress", "ready-for-review",
                                              "rejected", "sent-for-rework"}));
}

TEST_P(LabelStoreTest, EveryCallChecksTheProjectRole) {
  int64_t p = MakeProject(RankingConfig(), 1);
  EXPECT_EQ(store_->GetProject(kStranger, "prefs").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Next(kStranger, p).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Next(kRequester, p).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Import(kAnn1, p, RankingItems(1)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->AddMember(kAnn1, p, "ann", "manager", std::nullopt).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Metrics(kAnn1, p).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Export(kReviewer, p, ExportOptions{}, ExportScope::kAccepted).status().code(),
            StatusCode::kPermissionDenied);
  // Nobody reviews their own work, even holding both roles.
  ASSERT_TRUE(store_->AddMember(kManager, p, "ann", "reviewer", std::nullopt).ok());
  auto a = store_->Next(kAnn1, p);
  ASSERT_TRUE(a.ok() && a->has_value());
  ASSERT_TRUE(store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b", "c"}), 1).ok());
  auto own = store_->NextReview(kAnn1, p);
  ASSERT_TRUE(own.ok());
  EXPECT_FALSE(own->has_value());
  // An admin acts as every role.
  EXPECT_TRUE(store_->Metrics(Caller{"root", true}, p).ok());
  EXPECT_EQ(store_->CreateProject(kManager, "prefs", ProjectConfig{}).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_P(LabelStoreTest, AnImportThatFailsLeavesNothing) {
  int64_t p = MakeProject(RankingConfig(), 2);
  auto lines = RankingItems(3);
  lines[2].media_path = backend_.Folder() + "/missing.jpg";
  EXPECT_FALSE(store_->Import(kManager, p, lines).ok());
  auto s = store_->Summary(kManager, p);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)["items"], 2);
}

TEST_P(LabelStoreTest, GoldItemsAreAlwaysReviewedAndScored) {
  json cfg = RankingConfig();
  cfg["review_rate"] = 0.0;  // nothing sampled: only the gold item waits for review
  auto parsed = ParseProjectConfig(cfg, "test");
  ASSERT_TRUE(parsed.ok());
  auto p = store_->CreateProject(kManager, "gold", *parsed);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(store_->AddMember(kManager, p->id, "ann", "annotator", std::nullopt).ok());
  auto items = RankingItems(2);
  items[1].gold = Ranked({"a", "b", "c"});
  ASSERT_TRUE(store_->Import(kManager, p->id, items).ok());
  auto first = store_->Next(kAnn1, p->id);
  ASSERT_TRUE(first.ok() && first->has_value());
  auto s1 = store_->Submit(kAnn1, (*first)->id, Ranked({"a", "b", "c"}), 1);
  ASSERT_TRUE(s1.ok());
  EXPECT_FALSE(s1->reviewed);  // review_rate 0: accepted as submitted
  auto second = store_->Next(kAnn1, p->id);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_FALSE((*second)->item.contains("gold"));  // the annotator never sees the answer
  // Against gold a, b, c: b > a is wrong, b > c and a > c are right: 2 of 3 pairs.
  auto s2 = store_->Submit(kAnn1, (*second)->id, Ranked({"b", "a", "c"}), 1);
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(s2->reviewed);
  auto m = store_->Metrics(kManager, p->id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["gold"]["submissions"], 1);
  EXPECT_NEAR((*m)["gold"]["accuracy"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ((*m)["accepted"], 1);
}

TEST_P(LabelStoreTest, ReviewIsSampledAtTheProjectsRate) {
  json cfg = RankingConfig(1, 2, 1000);
  cfg["review_rate"] = 0.25;
  auto parsed = ParseProjectConfig(cfg, "test");
  ASSERT_TRUE(parsed.ok());
  auto p = store_->CreateProject(kManager, "sampled", *parsed);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(store_->AddMember(kManager, p->id, "ann", "annotator", std::nullopt).ok());
  ASSERT_TRUE(store_->Import(kManager, p->id, RankingItems(200)).ok());
  int reviewed = 0;
  for (int i = 0; i < 200; ++i) {
    auto a = store_->Next(kAnn1, p->id);
    ASSERT_TRUE(a.ok() && a->has_value());
    auto s = store_->Submit(kAnn1, (*a)->id, Ranked({"a", "b", "c"}), 1);
    ASSERT_TRUE(s.ok());
    reviewed += s->reviewed ? 1 : 0;
  }
  // 200 draws at 25%: mean 50, standard deviation 6.1; the hash is fixed, so is the count.
  EXPECT_GT(reviewed, 30);
  EXPECT_LT(reviewed, 70);
}

// Many annotators asking at once: every item reserved exactly once (overlap 1), none lost.
TEST_P(LabelStoreTest, ConcurrentAnnotatorsNeverShareAReservation) {
  constexpr int kItems = 60;
  constexpr int kWorkers = 8;
  auto cfg = ParseProjectConfig(RankingConfig(1, 2, 25), "test");
  ASSERT_TRUE(cfg.ok());
  auto p = store_->CreateProject(kManager, "race", *cfg);
  ASSERT_TRUE(p.ok());
  for (int w = 0; w < kWorkers; ++w) {
    ASSERT_TRUE(
        store_->AddMember(kManager, p->id, "w" + std::to_string(w), "annotator", std::nullopt)
            .ok());
  }
  ASSERT_TRUE(store_->Import(kManager, p->id, RankingItems(kItems)).ok());
  std::mutex mu;
  std::map<int64_t, std::string> owner;
  std::atomic<int> duplicates{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      Caller me{"w" + std::to_string(w), false};
      for (;;) {
        auto a = store_->Next(me, p->id);
        if (!a.ok()) {
          ++errors;
          return;
        }
        if (!a->has_value()) return;
        {
          std::lock_guard<std::mutex> l(mu);
          if (!owner.emplace((*a)->item_id, me.user).second) ++duplicates;
        }
        auto s = store_->Submit(me, (*a)->id, Ranked({"a", "b", "c"}), 1);
        if (!s.ok() || !s->failures.empty()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_EQ(owner.size(), static_cast<size_t>(kItems));
}

INSTANTIATE_TEST_SUITE_P(Backends, LabelStoreTest,
                         ::testing::Values(db::Backend::kSqlite, db::Backend::kPostgres),
                         db::testing::BackendName);

}  // namespace
}  // namespace sagebox::label
