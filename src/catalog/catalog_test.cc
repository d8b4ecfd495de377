#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "core/time.h"

namespace sagebox::catalog {
namespace {

Catalog Builtin() {
  auto c = Catalog::Builtin();
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

std::string PriceText(const Catalog& c, std::string_view type, std::string_view region) {
  auto q = c.OnDemandPrice(type, region);
  return q ? q->usd_per_hour.ToString() : "none";
}

TEST(CatalogTest, EmbeddedCatalogParsesWithSourceDateAndManyFamilies) {
  Catalog c = Builtin();
  EXPECT_FALSE(c.source().empty());
  EXPECT_TRUE(ParseDate(c.as_of()).has_value()) << c.as_of();
  std::set<std::string> families;
  for (const InstanceSpec* s : c.All()) families.insert(s->family);
  EXPECT_GE(families.size(), 25u);
  for (const char* f : {"t2",  "t3",  "m4",   "m5",  "m5d",  "m6i", "m7i",  "c4",   "c5",  "c5d",
                        "c6i", "c7i", "r5",   "r5d", "r6i",  "r7i", "g4dn", "g5",   "g6",  "g6e",
                        "p2",  "p3",  "p3dn", "p4d", "p4de", "p5",  "inf1", "inf2", "trn1"}) {
    EXPECT_TRUE(families.count(f)) << f;
  }
  EXPECT_EQ(c.size(), c.All().size());
  EXPECT_GE(c.size(), 150u);
}

TEST(CatalogTest, EveryEmbeddedEntryIsComplete) {
  Catalog c = Builtin();
  const std::set<std::string> categories = {"burstable", "general", "compute", "memory",
                                            "accelerated"};
  for (const InstanceSpec* s : c.All()) {
    SCOPED_TRACE(s->type);
    EXPECT_EQ(s->type, "ml." + s->family + "." + s->size);
    EXPECT_GT(s->vcpu, 0);
    EXPECT_GT(s->memory_gib, 0);
    EXPECT_TRUE(categories.count(s->category));
    EXPECT_FALSE(s->spec_source.empty());
    // GPU families are exactly the ones with GPUs, and GPUs come with memory.
    EXPECT_EQ(Catalog::IsGpuFamily(s->family), s->gpus > 0);
    EXPECT_EQ(s->gpus > 0, s->gpu_memory_gib > 0);
    EXPECT_EQ(s->gpus > 0, !s->gpu_model.empty());
    if (s->gpus > 0 || s->accelerators > 0) {
      EXPECT_EQ(s->category, "accelerated");
    }
    auto q = c.OnDemandPrice(s->type, "us-east-1");
    if (q) {
      EXPECT_FALSE(q->source.empty());
    }
  }
}

TEST(CatalogTest, RealSpecs) {
  Catalog c = Builtin();
  struct Want {
    const char* type;
    int vcpu;
    double mem;
  };
  for (Want w : {Want{"ml.m5.4xlarge", 16, 64}, Want{"ml.m5.12xlarge", 48, 192},
                 Want{"ml.m5.24xlarge", 96, 384}, Want{"ml.t2.medium", 2, 4},
                 Want{"ml.c5.2xlarge", 8, 16}, Want{"ml.r5.large", 2, 16}}) {
    const InstanceSpec* s = c.Find(w.type);
    ASSERT_NE(s, nullptr) << w.type;
    EXPECT_EQ(s->vcpu, w.vcpu) << w.type;
    EXPECT_EQ(s->memory_gib, w.mem) << w.type;
    EXPECT_EQ(s->gpus, 0) << w.type;
  }
  const InstanceSpec* g = c.Find("ml.g4dn.xlarge");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->gpus, 1);
  EXPECT_EQ(g->gpu_memory_gib, 16);
  EXPECT_EQ(g->gpu_model, "NVIDIA T4");
  EXPECT_EQ(g->category, "accelerated");
  const InstanceSpec* p4 = c.Find("ml.p4d.24xlarge");
  ASSERT_NE(p4, nullptr);
  EXPECT_EQ(p4->gpus, 8);
  EXPECT_EQ(p4->gpu_memory_gib, 320);  // 8 x A100 40 GB, not V100 as cloudhw.csv says
  // The SDK's GPU table has "ml.g5n.xlarge" (typo) for ml.g5.xlarge.
  const InstanceSpec* g5 = c.Find("ml.g5.xlarge");
  ASSERT_NE(g5, nullptr);
  EXPECT_EQ(g5->gpus, 1);
  EXPECT_EQ(g5->gpu_memory_gib, 24);
  EXPECT_EQ(c.Find("ml.g5n.xlarge"), nullptr);
  // Inferentia is accelerated but not a GPU.
  const InstanceSpec* inf = c.Find("ml.inf2.xlarge");
  ASSERT_NE(inf, nullptr);
  EXPECT_EQ(inf->gpus, 0);
  EXPECT_EQ(inf->accelerators, 1);
  EXPECT_EQ(inf->accelerator_model, "AWS Inferentia2");
}

TEST(CatalogTest, FindAcceptsBothSpellings) {
  Catalog c = Builtin();
  const InstanceSpec* a = c.Find("ml.m5.4xlarge");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(c.Find("m5.4xlarge"), a);
  EXPECT_EQ(c.Find("ML.M5.4XLARGE"), a);
  EXPECT_EQ(a->family, "m5");
  EXPECT_EQ(a->size, "4xlarge");
  EXPECT_EQ(a->category, "general");
  EXPECT_EQ(c.Find("ml.m5.5xlarge"), nullptr);
  EXPECT_EQ(c.Find("ml.m5"), nullptr);
  EXPECT_EQ(c.Find(""), nullptr);
  EXPECT_EQ(c.Find("ml.m5.4xlarge.extra"), nullptr);
  EXPECT_EQ(c.Find("ml.m5.4x large"), nullptr);
}

TEST(CatalogTest, FamilyIsOrderedByVcpuThenMemory) {
  Catalog c = Builtin();
  auto m5 = c.Family("m5");
  ASSERT_EQ(m5.size(), 8u);
  EXPECT_EQ(m5.front()->type, "ml.m5.large");
  EXPECT_EQ(m5[1]->type, "ml.m5.xlarge");
  EXPECT_EQ(m5.back()->type, "ml.m5.24xlarge");
  for (size_t i = 1; i < m5.size(); ++i) {
    EXPECT_LT(m5[i - 1]->vcpu, m5[i]->vcpu);
    EXPECT_EQ(m5[i]->family, "m5");
  }
  EXPECT_EQ(c.Family("ml.m5"), m5);
  // "m5" must not pull in m5d.
  for (const InstanceSpec* s : m5) EXPECT_NE(s->family, "m5d");
  // Same vCPUs, more memory: g4dn.12xlarge (48) sorts before g4dn.16xlarge (64).
  auto g4 = c.Family("g4dn");
  ASSERT_EQ(g4.size(), 6u);
  EXPECT_EQ(g4.front()->type, "ml.g4dn.xlarge");
  EXPECT_EQ(g4.back()->type, "ml.g4dn.16xlarge");
  EXPECT_TRUE(c.Family("zz9").empty());
}

TEST(CatalogTest, NextSizeDown) {
  Catalog c = Builtin();
  const InstanceSpec* d = c.NextSizeDown("ml.c5.4xlarge");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, "ml.c5.2xlarge");
  d = c.NextSizeDown("m5.24xlarge");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, "ml.m5.16xlarge");
  d = c.NextSizeDown("ml.m5.xlarge");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, "ml.m5.large");
  EXPECT_EQ(c.NextSizeDown("ml.c5.large"), nullptr);  // smallest
  EXPECT_EQ(c.NextSizeDown("ml.t3.micro"), nullptr);
  EXPECT_EQ(c.NextSizeDown("ml.p4d.24xlarge"), nullptr);  // only size
  EXPECT_EQ(c.NextSizeDown("ml.nope.xlarge"), nullptr);
}

TEST(CatalogTest, ArticlePricesAreExact) {
  Catalog c = Builtin();
  EXPECT_EQ(PriceText(c, "ml.t2.medium", "us-east-1"), "0.0464");
  EXPECT_EQ(PriceText(c, "ml.t3.medium", "us-east-1"), "0.05");
  EXPECT_EQ(PriceText(c, "ml.m5.4xlarge", "us-east-1"), "0.922");
  // 24 h of the notebook in the article: $1.1136.
  auto q = c.OnDemandPrice("ml.t2.medium", "us-east-1");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(Decimal::Mul(q->usd_per_hour, Decimal::FromInt(24)).ToString(), "1.1136");
  EXPECT_EQ(q->region, "us-east-1");
  EXPECT_NE(q->source.find("Blog"), std::string::npos) << q->source;
}

TEST(CatalogTest, PriceFallsBackToUsEast1) {
  Catalog c = Builtin();
  // eu-west-1 is known for ml.m5.xlarge (a real Irish bill), so no fallback.
  auto eu = c.OnDemandPrice("ml.m5.xlarge", "eu-west-1");
  ASSERT_TRUE(eu.has_value());
  EXPECT_EQ(eu->usd_per_hour.ToString(), "0.257");
  EXPECT_EQ(eu->region, "eu-west-1");
  // Not known for ap-southeast-2: the us-east-1 price, saying so.
  auto syd = c.OnDemandPrice("m5.4xlarge", "ap-southeast-2");
  ASSERT_TRUE(syd.has_value());
  EXPECT_EQ(syd->usd_per_hour.ToString(), "0.922");
  EXPECT_EQ(syd->region, "us-east-1");
  auto empty = c.OnDemandPrice("ml.m5.4xlarge", "");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->region, "us-east-1");
  // No sourced price at all: nothing rather than a guess.
  ASSERT_NE(c.Find("ml.r5.large"), nullptr);
  EXPECT_FALSE(c.OnDemandPrice("ml.r5.large", "us-east-1").has_value());
  EXPECT_FALSE(c.OnDemandPrice("ml.nope.large", "us-east-1").has_value());
}

TEST(CatalogTest, IsGpuFamily) {
  for (const char* f : {"g4dn", "g5", "g6e", "p3dn", "p4d", "ml.p5", "P3"}) {
    EXPECT_TRUE(Catalog::IsGpuFamily(f)) << f;
  }
  for (const char* f : {"inf2", "trn1", "m5", "c5", "t3", "r5d", "", "g", "gr"}) {
    EXPECT_FALSE(Catalog::IsGpuFamily(f)) << f;
  }
}

constexpr char kOverride[] = R"({
  "source": "my team's negotiated prices, 2026-10",
  "as_of": "2026-10-01",
  "instances": [
    {"type": "ml.m5.4xlarge", "prices": {"us-east-1": "0.9"}},
    {"type": "m8g.xlarge", "category": "general", "vcpu": 4, "memory_gib": 16,
     "prices": {"eu-west-1": "0.2"}, "price_source": "quote from AWS account team"}
  ]
})";

TEST(CatalogTest, OverrideReplacesAPriceAndAddsAnInstance) {
  testing::TempDir dir("catalog");
  std::string path = dir.Path("override.json");
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, kOverride).ok());
  Catalog c = Builtin();
  size_t before = c.size();
  const InstanceSpec* m5 = c.Find("ml.m5.4xlarge");
  Status st = c.MergeFile(Env::Default(), path);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.size(), before + 1);
  // The price changed, the specs the override did not give did not.
  auto q = c.OnDemandPrice("ml.m5.4xlarge", "us-east-1");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->usd_per_hour.ToString(), "0.9");
  EXPECT_EQ(q->source, "my team's negotiated prices, 2026-10");
  EXPECT_EQ(c.Find("ml.m5.4xlarge"), m5);
  EXPECT_EQ(m5->vcpu, 16);
  EXPECT_EQ(m5->memory_gib, 64);
  // The new type.
  const InstanceSpec* n = c.Find("ml.m8g.xlarge");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->family, "m8g");
  EXPECT_EQ(n->size, "xlarge");
  EXPECT_EQ(n->vcpu, 4);
  auto nq = c.OnDemandPrice("ml.m8g.xlarge", "eu-west-1");
  ASSERT_TRUE(nq.has_value());
  EXPECT_EQ(nq->usd_per_hour.ToString(), "0.2");
  EXPECT_EQ(nq->source, "quote from AWS account team");
  EXPECT_FALSE(c.OnDemandPrice("ml.m8g.xlarge", "us-west-2").has_value());  // no us-east-1 either
  EXPECT_EQ(c.Family("m8g").size(), 1u);
  EXPECT_NE(c.source().find(path), std::string::npos);
}

Status MergeText(Catalog* c, const testing::TempDir& dir, const std::string& text) {
  std::string path = dir.Path("o.json");
  Status w = Env::Default()->WriteFileAtomic(path, text);
  if (!w.ok()) return w;
  return c->MergeFile(Env::Default(), path);
}

TEST(CatalogTest, BadOverrideJsonIsBadInputWithLineAndColumn) {
  testing::TempDir dir("catalog");
  Catalog c = Builtin();
  // Line 3 has a missing comma after the first entry's closing brace.
  Status st = MergeText(&c, dir,
                        "{\n"
                        "  \"instances\": [\n"
                        "    {\"type\": \"ml.m5.4xlarge\", \"prices\": {\"us-east-1\": \"1\"}} {}\n"
                        "  ]\n"
                        "}\n");
  ASSERT_EQ(st.code(), StatusCode::kBadInput) << st.ToString();
  EXPECT_EQ(st.message().rfind(dir.Path("o.json") + ":3:61: ", 0), 0u) << st.message();
  // Nothing was applied.
  EXPECT_EQ(PriceText(c, "ml.m5.4xlarge", "us-east-1"), "0.922");
}

TEST(CatalogTest, BadOverrideShapesNameTheField) {
  testing::TempDir dir("catalog");
  Catalog c = Builtin();
  struct Case {
    const char* text;
    const char* want;  // prefix after the path
  };
  const Case cases[] = {
      {"{\"instances\": [\n {\"type\": \"ml.m5.large\",\n  \"vcpu\": \"two\"}]}", ":3:3: "},
      {"{\"instances\": [\n {\"type\": \"ml.m5.large\", \"prices\": {\"us-east-1\": 0.1}}]}",
       ":2:37: "},
      {"{\"instances\": [\n {\"type\": \"ml.zz1.large\", \"prices\": {\"us-east-1\": \"1\"}}]}",
       ":2:2: "},
      {"{\"instances\": [\n {\"type\": \"ml.m5.large\", \"vcpus\": 2}]}", ":2:26: "},
      {"{\"instances\": [\n {\"type\": \"ml.m5.large\"},\n {\"type\": \"m5.large\"}]}", ":3:2: "},
      {"{\"instances\": [\n {\"type\": \"ml.m5\"}]}", ":2:3: "},
      {"{\"instances\": [\n 7]}", ":2:2: "},
      {"{\"instances\": {}}", ":1:2: "},
      {"[]", ":1:1: "},
      {"{\"as_of\": \"yesterday\", \"instances\": []}", ":1:2: "},
      {"", ":1:1: "},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.text);
    Status st = MergeText(&c, dir, k.text);
    ASSERT_EQ(st.code(), StatusCode::kBadInput) << st.ToString();
    EXPECT_EQ(st.message().rfind(dir.Path("o.json") + k.want, 0), 0u) << st.message();
  }
  EXPECT_EQ(PriceText(c, "ml.m5.4xlarge", "us-east-1"), "0.922");
}

TEST(CatalogTest, MissingOverrideFileIsAnIoError) {
  testing::TempDir dir("catalog");
  Catalog c = Builtin();
  Status st = c.MergeFile(Env::Default(), dir.Path("absent.json"));
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
}

TEST(CatalogTest, FromJsonDemandsCompleteEntries) {
  auto ok = Catalog::FromJson(
      R"({"source": "test", "as_of": "2024-01-02", "instances": [
        {"type": "ml.c5.large", "vcpu": 2, "memory_gib": 4},
        {"type": "ml.c5.xlarge", "vcpu": 4, "memory_gib": 8, "prices": {"us-east-1": "0.204"}}]})",
      "t.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ(ok->source(), "test");
  EXPECT_EQ(ok->as_of(), "2024-01-02");
  EXPECT_EQ(ok->Find("ml.c5.large")->category, "compute");  // implied by the family letter
  EXPECT_EQ(ok->NextSizeDown("ml.c5.xlarge")->type, "ml.c5.large");
  auto q = ok->OnDemandPrice("ml.c5.xlarge", "us-east-1");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->source, "test");  // the document's source when the entry names none

  auto bad = Catalog::FromJson(R"({"instances": [{"type": "ml.c5.large", "vcpu": 2}]})", "t.json");
  ASSERT_EQ(bad.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(bad.status().message().rfind("t.json:1:16: ", 0), 0u) << bad.status().message();
}

}  // namespace
}  // namespace sagebox::catalog
