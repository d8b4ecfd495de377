#include "rag/opensearch/routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"
#include "http/testing/test_server.h"

namespace sagebox::rag::opensearch {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  json body;
};

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(dir_.Path("sagebox.db"), Migrations());
    ASSERT_NE(db_, nullptr);
    auto s = Store::Open(db_.get(), dir_.Path("opensearch"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    server_ = std::make_unique<testing::TestServer>(
        nullptr, [this](http::Router& r) { Register(r, store_.get()); });
  }
  void TearDown() override { server_.reset(); }

  // Sends `body` (JSON text, NDJSON or nothing) to /opensearch + path.
  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& type = "application/json") {
    httplib::Client c = server_->Client();
    httplib::Request req;
    req.method = method;
    req.path = std::string(kPrefix) + path;
    if (!body.empty()) {
      req.body = body;
      req.set_header("Content-Type", type);
    }
    auto res = c.send(req);
    Reply r;
    if (!res) {
      ADD_FAILURE() << method << " " << path << ": no response";
      return r;
    }
    r.status = res->status;
    if (!res->body.empty()) r.body = json::parse(res->body, nullptr, false);
    return r;
  }
  // A recorded step of the LangChain fixture.
  Reply Step(const json& step) {
    std::string body;
    std::string type = "application/json";
    if (step.contains("ndjson")) {
      for (const json& line : step["ndjson"]) body += line.dump() + "\n";
      type = "application/x-ndjson";
    } else if (step.contains("body")) {
      body = step["body"].dump();
    }
    return Send(step["method"], step["path"], body, type);
  }
  static std::vector<std::pair<std::string, double>> Hits(const Reply& r) {
    std::vector<std::pair<std::string, double>> out;
    for (const json& h : r.body["hits"]["hits"])
      out.emplace_back(h["_id"], h["_score"].get<double>());
    return out;
  }

  testing::TempDir dir_{"opensearch_routes"};
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<testing::TestServer> server_;
};

json LoadFixture() {
  std::ifstream in(std::string(SAGEBOX_TESTDATA) + "/rag/opensearch/langchain_requests.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TEST_F(RoutesTest, ClusterInfoAtThePrefixRoot) {
  for (const std::string path : {"", "/"}) {
    Reply r = Send("GET", path);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["version"]["distribution"], "opensearch");
    EXPECT_EQ(r.body["version"]["number"], "2.11.0");
  }
}

TEST_F(RoutesTest, ErrorsHaveOpenSearchShapes) {
  Reply r = Send("GET", "/nope/_search");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["status"], 404);
  EXPECT_EQ(r.body["error"]["type"], "index_not_found_exception");
  EXPECT_EQ(r.body["error"]["reason"], "no such index [nope]");
  EXPECT_EQ(r.body["error"]["root_cause"][0]["type"], "index_not_found_exception");
  EXPECT_EQ(r.body["error"]["index"], "nope");
  EXPECT_EQ(Send("HEAD", "/nope").status, 404);
  EXPECT_EQ(Send("PUT", "/x").status, 200);
  EXPECT_EQ(Send("HEAD", "/x").status, 200);
  r = Send("PUT", "/x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["type"], "resource_already_exists_exception");
  r = Send("PUT", "/Upper");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["type"], "invalid_index_name_exception");
  r = Send("POST", "/x/_search", R"({"query": {"range": {"n": {"gte": 1}}}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["error"]["reason"].get<std::string>(), HasSubstr("range"));
  r = Send("POST", "/x/_search", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["type"], "parse_exception");
  r = Send("GET", "/x/_doc/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["found"], false);
  r = Send("POST", "/x/_search?scroll=1m", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["error"]["reason"].get<std::string>(), HasSubstr("scroll"));
  EXPECT_EQ(Send("DELETE", "/x").body["acknowledged"], true);
  EXPECT_EQ(Send("DELETE", "/x").status, 404);
}

TEST_F(RoutesTest, DocumentsCountAndMapping) {
  ASSERT_EQ(
      Send("PUT", "/d", R"({"mappings": {"properties": {"tag": {"type": "keyword"}}}})").status,
      200);
  Reply r = Send("PUT", "/d/_doc/1", R"({"tag": "x", "text": "hello world"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body["result"], "created");
  EXPECT_EQ(r.body["_version"], 1);
  r = Send("PUT", "/d/_doc/1", R"({"tag": "y", "text": "hello again"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["result"], "updated");
  EXPECT_EQ(r.body["_version"], 2);
  r = Send("POST", "/d/_doc", R"({"tag": "x"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body["_id"].get<std::string>().size(), 20U);
  r = Send("PUT", "/d/_create/1", R"({"tag": "z"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"]["type"], "version_conflict_engine_exception");
  r = Send("GET", "/d/_doc/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["_source"]["tag"], "y");
  r = Send("GET", "/d/_count");
  EXPECT_EQ(
      r.body,
      json::parse(R"({"count":2,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}})"));
  r = Send("POST", "/d/_count", R"({"query": {"match": {"text": "hello"}}})");
  EXPECT_EQ(r.body["count"], 1);
  r = Send("GET", "/d/_mapping");
  EXPECT_EQ(r.body["d"]["mappings"]["properties"]["tag"]["type"], "keyword");
  EXPECT_EQ(r.body["d"]["mappings"]["properties"]["text"]["type"], "text");
  r = Send("POST", "/d/_update/1", R"({"doc": {"extra": true}})");
  EXPECT_EQ(r.body["result"], "updated");
  r = Send("DELETE", "/d/_doc/1");
  EXPECT_EQ(r.body["result"], "deleted");
  r = Send("DELETE", "/d/_doc/1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["result"], "not_found");
  EXPECT_EQ(Send("GET", "/d/_count").body["count"], 1);
}

// The requests LangChain's OpenSearchVectorSearch sends (the fixture names the
// source and commit), replayed in the order LangChain makes them.
TEST_F(RoutesTest, LangChainRecordedRequests) {
  const json fx = LoadFixture();
  // _bulk_ingest_embeddings: indices.get -> 404 -> indices.create.
  Reply r = Step(fx["index_exists"]);
  EXPECT_EQ(r.status, 404);
  r = Step(fx["create_index"]);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["index"], "lc-test");
  r = Step(fx["bulk"]);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["errors"], false);
  ASSERT_EQ(r.body["items"].size(), 3U);
  EXPECT_EQ(r.body["items"][0]["index"]["status"], 201);
  EXPECT_EQ(r.body["items"][0]["index"]["result"], "created");
  EXPECT_EQ(r.body["items"][0]["index"]["_id"], "id-a");
  EXPECT_EQ(Step(fx["refresh"]).status, 200);

  // q = [1, 0.5, 0]; l2 scores 1 / (1 + d²): a 1/1.25, b 1/2.25, c 1/3.25.
  const double sa = 1 / 1.25;
  const double sb = 1 / 2.25;
  const double sc = 1 / 3.25;
  r = Step(fx["approximate_search"]);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  auto hits = Hits(r);
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].first, "id-a");
  EXPECT_NEAR(hits[0].second, sa, 1e-6);
  EXPECT_NEAR(hits[1].second, sb, 1e-6);
  EXPECT_NEAR(hits[2].second, sc, 1e-6);
  // What LangChain reads of a hit: _source.text, _source.metadata, _id, _score.
  EXPECT_EQ(r.body["hits"]["hits"][0]["_source"]["text"], "the quick brown fox");
  EXPECT_EQ(r.body["hits"]["hits"][0]["_source"]["metadata"]["source"], "a.txt");
  EXPECT_EQ(r.body["hits"]["total"]["value"], 3);

  for (const char* name : {"boolean_filter", "efficient_filter"}) {
    r = Step(fx[name]);
    ASSERT_EQ(r.status, 200) << name << " " << r.body.dump();
    hits = Hits(r);
    ASSERT_EQ(hits.size(), 2U) << name;
    EXPECT_EQ(hits[0].first, "id-a") << name;
    EXPECT_NEAR(hits[0].second, sa, 1e-6) << name;
    EXPECT_EQ(hits[1].first, "id-c") << name;
    EXPECT_NEAR(hits[1].second, sc, 1e-6) << name;
  }
  for (const char* name : {"script_scoring", "painless_scripting"}) {
    r = Step(fx[name]);
    ASSERT_EQ(r.status, 200) << name << " " << r.body.dump();
    hits = Hits(r);
    ASSERT_EQ(hits.size(), 3U) << name;
    EXPECT_NEAR(hits[0].second, sa, 1e-6) << name;
    EXPECT_NEAR(hits[1].second, sb, 1e-6) << name;
    EXPECT_NEAR(hits[2].second, sc, 1e-6) << name;
  }
  // Script scoring with a pre-filter in the cosine space: 1 + cos.
  r = Step(fx["script_scoring_cosine_prefilter"]);
  hits = Hits(r);
  ASSERT_EQ(hits.size(), 2U) << r.body.dump();
  EXPECT_NEAR(hits[0].second, 1 + 1 / std::sqrt(1.25), 1e-6);
  EXPECT_NEAR(hits[1].second, 1.0, 1e-6);

  // Hybrid: the pipeline, then GET with a body and ?search_pipeline.
  r = Step(fx["configure_search_pipeline"]);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["acknowledged"], true);
  r = Step(fx["search_pipeline_exists"]);
  EXPECT_TRUE(r.body.contains("lc_pipeline"));
  // LangChain sends the hybrid search as GET with a body, which the server's
  // HTTP library cannot read: a clear 400, never a search without its body.
  r = Step(fx["hybrid_search"]);
  ASSERT_EQ(r.status, 400) << r.body.dump();
  EXPECT_THAT(r.body["error"]["reason"].get<std::string>(), HasSubstr("send_get_body_as"));
  // With send_get_body_as="POST" (opensearch-py), the same request as POST.
  json as_post = fx["hybrid_search"];
  as_post["method"] = "POST";
  r = Step(as_post);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  hits = Hits(r);
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].first, "id-a");
  EXPECT_NEAR(hits[0].second, 1.0, 1e-6);
  EXPECT_EQ(hits[1].first, "id-c");
  EXPECT_NEAR(hits[1].second, 0.7 + 0.3 * 0.001, 1e-6);
  EXPECT_EQ(hits[2].first, "id-b");
  EXPECT_NEAR(hits[2].second, 0.3 * (sb - sc) / (sa - sc), 1e-6);
  EXPECT_FALSE(r.body["hits"]["hits"][0]["_source"].contains("vector_field"));
  EXPECT_EQ(r.body["hits"]["hits"][0]["_source"]["text"], "the quick brown fox");
  json filtered = fx["hybrid_search_with_filter"];
  filtered["method"] = "POST";
  r = Step(filtered);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  hits = Hits(r);
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].first, "id-a");
  EXPECT_EQ(hits[1].first, "id-c");

  // A vector of the wrong dimension fails its item only.
  r = Step(fx["bulk_bad_dimension"]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["errors"], true);
  EXPECT_EQ(r.body["items"][0]["index"]["status"], 400);
  EXPECT_EQ(r.body["items"][0]["index"]["error"]["type"], "mapper_parsing_exception");
  EXPECT_EQ(r.body["items"][0]["index"]["error"]["caused_by"]["reason"],
            "Vector dimension mismatch. Expected: 3, Given: 2");
  EXPECT_EQ(r.body["items"][1]["index"]["status"], 201);

  // delete(ids) -> bulk delete with refresh=true.
  r = Step(fx["delete"]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["items"][0]["delete"]["result"], "deleted");
  EXPECT_EQ(Send("GET", "/lc-test/_count").body["count"], 3);
  EXPECT_EQ(Step(fx["delete_index"]).status, 200);
  EXPECT_EQ(Step(fx["index_exists"]).status, 404);
}

}  // namespace
}  // namespace sagebox::rag::opensearch
