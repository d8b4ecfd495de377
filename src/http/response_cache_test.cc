#include "http/response_cache.h"

#include <gtest/gtest.h>

namespace sagebox::http {
namespace {

CachedResponse Body(size_t n) {
  CachedResponse r;
  r.body.assign(n, 'x');
  return r;
}

TEST(ResponseCache, HitsOnlyTheSameRequestOnTheSameManifest) {
  ResponseCache c(1 << 20);
  std::string k1 = ResponseCache::Key("manifest v1", "GET /api/query?group_by=REGION");
  c.Put(k1, Body(10));
  ASSERT_NE(c.Get(k1), nullptr);
  EXPECT_EQ(c.Get(k1)->body.size(), 10u);
  EXPECT_EQ(c.Get(ResponseCache::Key("manifest v2", "GET /api/query?group_by=REGION")), nullptr);
  EXPECT_EQ(c.Get(ResponseCache::Key("manifest v1", "GET /api/query?group_by=SERVICE")), nullptr);
  EXPECT_EQ(c.hits(), 2u);
  EXPECT_EQ(c.misses(), 2u);
}

TEST(ResponseCache, EvictsLeastRecentlyUsedBeyondTheBudget) {
  ResponseCache c(4000);
  c.Put("a", Body(800));
  c.Put("b", Body(800));
  c.Put("c", Body(800));
  ASSERT_NE(c.Get("a"), nullptr);  // a is now the most recent
  c.Put("d", Body(800));           // over budget: b goes first
  c.Put("e", Body(800));
  EXPECT_NE(c.Get("a"), nullptr);
  EXPECT_EQ(c.Get("b"), nullptr);
  EXPECT_LE(c.bytes(), 4000u);
  // An entry over a quarter of the budget is not kept at all.
  c.Put("big", Body(1500));
  EXPECT_EQ(c.Get("big"), nullptr);
  // Replacing a key does not count it twice.
  size_t before = c.bytes();
  c.Put("a", Body(800));
  EXPECT_EQ(c.bytes(), before);
}

TEST(ResponseCache, ZeroBudgetDisables) {
  ResponseCache c(0);
  c.Put("a", Body(1));
  EXPECT_EQ(c.Get("a"), nullptr);
}

}  // namespace
}  // namespace sagebox::http
