#include "retrieval/remote/opensearch_client.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "retrieval/providers/fake_server_test.h"
#include "retrieval/remote/remote_index.h"

namespace sagebox::retrieval::remote {
namespace {

using Json = nlohmann::json;
using testing::FakeServer;
using testing::Recorded;

std::string Data(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/retrieval/" + rel;
}

// A 4-dimensional embedder: counts of a, e, i, o in the text; the zero vector for a
// text without them.
class VowelEmbedder : public Embedder {
 public:
  std::string name() const override { return "vowels"; }
  int dim() const override { return 4; }
  StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      std::vector<float> v(4, 0.0F);
      for (char c : t) {
        if (c == 'a') v[0] += 1;
        if (c == 'e') v[1] += 1;
        if (c == 'i') v[2] += 1;
        if (c == 'o') v[3] += 1;
      }
      out.push_back(std::move(v));
    }
    return out;
  }
};

EmbedderFactory Vowels() {
  return [](const std::string& spec) -> StatusOr<std::unique_ptr<Embedder>> {
    if (spec != "vowels") return InvalidArgument("unknown embedder " + spec);
    return std::unique_ptr<Embedder>(std::make_unique<VowelEmbedder>());
  };
}

std::vector<std::string> Lines(const std::string& ndjson) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < ndjson.size()) {
    const size_t nl = ndjson.find('\n', at);
    EXPECT_NE(nl, std::string::npos) << "NDJSON must end every line with \\n";
    if (nl == std::string::npos) break;
    out.push_back(ndjson.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// A fake cluster: 404 for GET /{index} until PUT, _bulk items 201 (or one failure when
// `fail_item` >= 0), and canned search replies.
struct Cluster {
  bool exists = false;
  Json existing;  // GET /{index} reply's entry once it exists
  int fail_item = -1;
  Json match_reply;
  Json knn_reply;

  void Handle(const httplib::Request& req, httplib::Response& res) {
    const std::string& p = req.path;
    if (req.method == "GET" && p == "/os/docs") {
      if (!exists) {
        res.status = 404;
        res.set_content(
            R"({"error":{"type":"index_not_found_exception","reason":"no such index [docs]"},"status":404})",
            "application/json");
        return;
      }
      res.set_content(Json{{"docs", existing}}.dump(), "application/json");
      return;
    }
    if (req.method == "PUT" && p == "/os/docs") {
      exists = true;
      existing = Json::parse(req.body);
      res.set_content(R"({"acknowledged":true,"shards_acknowledged":true,"index":"docs"})",
                      "application/json");
      return;
    }
    if (req.method == "POST" && p == "/os/_bulk") {
      Json items = Json::array();
      const auto lines = Lines(req.body);
      for (size_t i = 0; i + 1 < lines.size(); i += 2) {
        const Json action = Json::parse(lines[i]);
        const std::string id = action["index"]["_id"];
        if (static_cast<int>(i / 2) == fail_item) {
          items.push_back({{"index",
                            {{"_index", "docs"},
                             {"_id", id},
                             {"status", 400},
                             {"error",
                              {{"type", "mapper_parsing_exception"},
                               {"reason", "failed to parse field [vector_field]"}}}}}});
        } else {
          items.push_back(
              {{"index",
                {{"_index", "docs"}, {"_id", id}, {"status", 201}, {"result", "created"}}}});
        }
      }
      res.set_content(Json{{"took", 3}, {"errors", fail_item >= 0}, {"items", items}}.dump(),
                      "application/json");
      return;
    }
    if (req.method == "POST" && p == "/os/docs/_refresh") {
      res.set_content(R"({"_shards":{"total":1,"successful":1,"failed":0}})", "application/json");
      return;
    }
    if (req.method == "GET" && p == "/os/docs/_count") {
      res.set_content(R"({"count":42,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}})",
                      "application/json");
      return;
    }
    if (req.method == "POST" && p == "/os/docs/_search") {
      const Json q = Json::parse(req.body);
      res.set_content((q["query"].contains("knn") ? knn_reply : match_reply).dump(),
                      "application/json");
      return;
    }
    res.status = 400;
    res.set_content(R"({"error":{"type":"illegal_argument_exception","reason":"unexpected"}})",
                    "application/json");
  }
};

Json Hit(const std::string& id, double score, const std::string& text, const std::string& source) {
  return {{"_index", "docs"},
          {"_id", id},
          {"_score", score},
          {"_source",
           {{"text", text},
            {"metadata",
             {{"source", source},
              {"doc_id", source},
              {"page", 2},
              {"ordinal", 1},
              {"format", "text"},
              {"byte_begin", 5},
              {"byte_end", 9}}}}}};
}

Json Reply(std::vector<Json> hits) {
  return {{"took", 1}, {"hits", {{"total", {{"value", hits.size()}}}, {"hits", hits}}}};
}

GetEnvFn FakeEnv() {
  return [](const char* name) -> const char* {
    const std::map<std::string, const char*> env = {
        {"SAGEBOX_OPENSEARCH_USER", "admin:s3cret:x"},
        {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
        {"AWS_REGION", "eu-west-1"}};
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second;
  };
}

TEST(ClientOptionsTest, BasicFromTheEnvironmentAndSigV4) {
  auto o = ClientOptionsFromFlags("http://127.0.0.1:9200/os", "", FakeEnv());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->auth.kind, OpenSearchAuth::Kind::kBasic);  // the variable is set
  EXPECT_EQ(o->auth.user, "admin");
  EXPECT_EQ(o->auth.password, "s3cret:x");  // split at the first ':' only
  o = ClientOptionsFromFlags("http://h:9200", "none", FakeEnv());
  EXPECT_EQ(o->auth.kind, OpenSearchAuth::Kind::kNone);
  o = ClientOptionsFromFlags("https://h", "sigv4:aoss", FakeEnv());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->auth.kind, OpenSearchAuth::Kind::kSigV4);
  EXPECT_EQ(o->auth.service, "aoss");
  EXPECT_EQ(o->auth.region, "eu-west-1");

  auto none = [](const char*) -> const char* { return nullptr; };
  auto bad = ClientOptionsFromFlags("http://h", "basic", none);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SAGEBOX_OPENSEARCH_USER"), std::string::npos);
  EXPECT_EQ(ClientOptionsFromFlags("http://h", "sigv4", none).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ClientOptionsFromFlags("http://h", "kerberos", none).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ClientOptionsFromFlags("h:9200", "", none).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(IndexNameTest, OpenSearchRules) {
  EXPECT_TRUE(ValidateRemoteIndexName("docs-2024.v1_a").ok());
  for (const char* bad : {"", "Docs", "_x", "-x", ".x", "a/b", "a b", "a#b"}) {
    EXPECT_EQ(ValidateRemoteIndexName(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(BulkTest, BodyAndReply) {
  const std::string body =
      BulkBody("docs", {{"a.txt#0", {{"text", "x"}}}, {"a.txt#1", {{"text", "y\nz"}}}});
  EXPECT_EQ(body,
            "{\"index\":{\"_id\":\"a.txt#0\",\"_index\":\"docs\"}}\n{\"text\":\"x\"}\n"
            "{\"index\":{\"_id\":\"a.txt#1\",\"_index\":\"docs\"}}\n{\"text\":\"y\\nz\"}\n");

  auto r = ParseBulkReply(
      R"({"errors":true,"items":[{"index":{"_id":"a","status":201}},
          {"index":{"_id":"b","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]})",
      2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->failed, 1u);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].item, 1u);
  EXPECT_EQ(r->failures[0].status, 429);
  EXPECT_EQ(DescribeFailures(*r),
            "1 of 2 documents failed: item 1 (_id b): HTTP 429 es_rejected_execution_exception: "
            "queue full");
  // "errors": false is not trusted: every item's status is read.
  r = ParseBulkReply(R"({"errors":false,"items":[{"index":{"_id":"a","status":409}}]})", 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(ParseBulkReply(R"({"items":[]})", 1).status().code(), StatusCode::kBadInput);
  EXPECT_EQ(ParseBulkReply(R"({"items":[{"index":{"_id":"a"}}]})", 1).status().code(),
            StatusCode::kBadInput);
  EXPECT_EQ(ParseBulkReply("<html>", 1).status().code(), StatusCode::kBadInput);
}

TEST(ShardTest, ParseAndStableHash) {
  auto s = ParseShard("1/4");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 4);
  for (const char* bad : {"4/4", "-1/2", "1", "a/2", "0/0", "1/2/3", ""}) {
    EXPECT_EQ(ParseShard(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the FNV reference's test vectors).
  EXPECT_EQ(ShardOf("a", 1000), static_cast<int>(0xaf63dc4c8601ec8cULL % 1000));
  EXPECT_EQ(ShardOf("anything", 1), 0);
}

TEST(ShardTest, WorkersTakeDisjointSharesThatCoverEveryFile) {
  size_t total = 0;
  auto all = CollectShard(Env::Default(), {Data("text"), Data("rag")}, {0, 1}, &total);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), total);
  ASSERT_GE(total, 7u);
  EXPECT_EQ((*all)[0].key, "pip_authentication.md");  // relative to its argument
  std::multiset<std::string> taken;
  for (int i = 0; i < 3; ++i) {
    size_t t = 0;
    auto part = CollectShard(Env::Default(), {Data("text"), Data("rag")}, {i, 3}, &t);
    ASSERT_TRUE(part.ok());
    EXPECT_EQ(t, total);
    EXPECT_LT(part->size(), total) << "one shard took every file: the hash does not spread";
    for (const ShardFile& f : *part) taken.insert(f.path);
  }
  ASSERT_EQ(taken.size(), total);
  for (const ShardFile& f : *all) EXPECT_EQ(taken.count(f.path), 1u) << f.path;
  // A file argument is keyed by its name, wherever it lies.
  auto one = CollectShard(Env::Default(), {Data("rag/local_mode.rst")}, {0, 1});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].key, "local_mode.rst");
}

RemoteOptions Options(const FakeServer& srv, const std::string& auth = "basic") {
  RemoteOptions o;
  auto c = ClientOptionsFromFlags(srv.url() + "/os", auth, FakeEnv());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  o.client = *c;
  o.make_embedder = Vowels();
  o.bulk_docs = 3;  // several _bulk requests even for a small file
  return o;
}

TEST(IngestRemoteTest, CreatesTheIndexAndSendsLangChainShapedDocuments) {
  Cluster cluster;
  FakeServer srv([&](const httplib::Request& q, httplib::Response& r) { cluster.Handle(q, r); });
  IndexSettings s;
  s.chunk_size = 200;
  s.chunk_overlap = 0;
  s.embedder = "vowels";
  const std::string file = Data("rag/local_mode.rst");
  auto report = IngestRemote(Options(srv), "docs", {file}, s, {0, 1});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->created);
  EXPECT_EQ(report->files, 1u);
  EXPECT_EQ(report->documents, 1u);
  ASSERT_GT(report->chunks, 3u);
  EXPECT_EQ(report->requests, (report->chunks + 2) / 3);

  const std::vector<Recorded> reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2 + report->requests + 1);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/os/docs");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].target, "/os/docs");
  // "admin:s3cret:x" in base64.
  EXPECT_EQ(reqs[1].Header("Authorization"), "Basic YWRtaW46czNjcmV0Ong=");
  const Json mapping = Json::parse(reqs[1].body);
  EXPECT_EQ(mapping["settings"]["index"]["knn"], true);
  EXPECT_EQ(mapping["mappings"]["properties"]["vector_field"],
            Json::parse(R"({"type":"knn_vector","dimension":4,
                            "method":{"name":"hnsw","space_type":"cosinesimil"}})"));
  EXPECT_EQ(mapping["mappings"]["properties"]["text"]["type"], "text");
  EXPECT_EQ(mapping["mappings"]["_meta"]["sagebox"]["embedder"], "vowels");
  EXPECT_EQ(mapping["mappings"]["_meta"]["sagebox"]["chunk_size"], 200);

  size_t docs = 0;
  for (size_t i = 2; i < 2 + report->requests; ++i) {
    EXPECT_EQ(reqs[i].method, "POST");
    EXPECT_EQ(reqs[i].target, "/os/_bulk");
    EXPECT_EQ(reqs[i].Header("Content-Type"), "application/x-ndjson");
    const auto lines = Lines(reqs[i].body);
    ASSERT_EQ(lines.size() % 2, 0u);
    for (size_t l = 0; l < lines.size(); l += 2, ++docs) {
      const Json action = Json::parse(lines[l]);
      EXPECT_EQ(
          action,
          (Json{{"index", {{"_index", "docs"}, {"_id", file + "#" + std::to_string(docs)}}}}));
      const Json src = Json::parse(lines[l + 1]);
      EXPECT_TRUE(src["text"].is_string());
      EXPECT_EQ(src["metadata"]["source"], file);
      EXPECT_EQ(src["metadata"]["doc_id"], file);
      EXPECT_EQ(src["metadata"]["ordinal"], docs);
      EXPECT_EQ(src["metadata"]["format"], "rst");
      ASSERT_TRUE(src.contains("vector_field")) << src.dump();
      EXPECT_EQ(src["vector_field"].size(), 4u);
    }
  }
  EXPECT_EQ(docs, report->chunks);
  EXPECT_EQ(reqs.back().method, "POST");
  EXPECT_EQ(reqs.back().target, "/os/docs/_refresh");
}

TEST(IngestRemoteTest, BulkItemFailuresAreReportedAndNotRefreshed) {
  Cluster cluster;
  cluster.fail_item = 1;
  FakeServer srv([&](const httplib::Request& q, httplib::Response& r) { cluster.Handle(q, r); });
  IndexSettings s;
  s.chunk_size = 200;
  s.chunk_overlap = 0;
  const std::string file = Data("rag/local_mode.rst");
  auto report = IngestRemote(Options(srv), "docs", {file}, s, {0, 1});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kIoError);
  // Item 1 of each batch of 3 fails: items 1, 4, 7, ... of the whole ingest.
  EXPECT_NE(report.status().message().find("documents failed: item 1 (_id " + file +
                                           "#1): HTTP 400 mapper_parsing_exception: failed to "
                                           "parse field [vector_field]; item 4 (_id " +
                                           file + "#4)"),
            std::string::npos)
      << report.status().ToString();
  // Without an embedder the index has no knn_vector field and no knn setting.
  const Json mapping = Json::parse(srv.requests()[1].body);
  EXPECT_FALSE(mapping.contains("settings"));
  EXPECT_FALSE(mapping["mappings"]["properties"].contains("vector_field"));
  for (const Recorded& r : srv.requests()) EXPECT_NE(r.target, "/os/docs/_refresh");
}

TEST(IngestRemoteTest, DifferentSettingsOrABadFileSendNothing) {
  Cluster cluster;
  cluster.exists = true;
  cluster.existing = {
      {"mappings", {{"_meta", {{"sagebox", {{"chunk_size", 300}, {"embedder", ""}}}}}}}};
  FakeServer srv([&](const httplib::Request& q, httplib::Response& r) { cluster.Handle(q, r); });
  IndexSettings s;
  auto r = IngestRemote(Options(srv), "docs", {Data("rag/local_mode.rst")}, s, {0, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("chunk_size 300, not 600"), std::string::npos)
      << r.status().ToString();
  ASSERT_EQ(srv.requests().size(), 1u);  // the GET only

  cluster.existing = {{"mappings", Json::object()}};  // LangChain's index: no _meta
  r = IngestRemote(Options(srv), "docs",
                   {Data("rag/local_mode.rst"), Data("pdf/tagged-encrypted.pdf")}, s, {0, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tagged-encrypted.pdf"), std::string::npos)
      << r.status().ToString();
  ASSERT_EQ(srv.requests().size(), 2u);  // one more GET, nothing written
  EXPECT_EQ(srv.requests()[1].method, "GET");
}

TEST(RemoteIndexTest, Bm25DenseAndHybridSearchWithSigV4) {
  Cluster cluster;
  cluster.exists = true;
  cluster.existing = Json::parse(R"({"mappings":{"_meta":{"sagebox":{"embedder":"vowels"}},
      "properties":{"text":{"type":"text"},
                    "vector_field":{"type":"knn_vector","dimension":4}}}})");
  cluster.match_reply = Reply(
      {Hit("a#0", 7.5, "alpha", "a"), Hit("b#0", 3.0, "beta", "b"), Hit("c#0", 1.0, "gamma", "c")});
  cluster.knn_reply = Reply({Hit("c#0", 0.9, "gamma", "c"), Hit("b#0", 0.8, "beta", "b")});
  FakeServer srv([&](const httplib::Request& q, httplib::Response& r) { cluster.Handle(q, r); });
  auto ix = RemoteIndex::Open(Options(srv, "sigv4"), "docs");
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  EXPECT_TRUE((*ix)->has_embedder());
  EXPECT_EQ((*ix)->embedder_spec(), "vowels");

  SearchOptions so;
  so.k = 2;
  auto bm25 = (*ix)->Search("alpha", so);
  ASSERT_TRUE(bm25.ok()) << bm25.status().ToString();
  ASSERT_EQ(bm25->size(), 2u);
  EXPECT_EQ((*bm25)[0].chunk_id, "a#0");
  EXPECT_EQ((*bm25)[0].doc_id, "a");
  EXPECT_EQ((*bm25)[0].text, "alpha");
  EXPECT_EQ((*bm25)[0].page, 2);
  EXPECT_EQ((*bm25)[0].byte_end, 9);
  EXPECT_DOUBLE_EQ((*bm25)[0].score, 7.5);
  EXPECT_EQ((*bm25)[0].bm25_rank, 1);
  auto reqs = srv.requests();
  const Recorded& search = reqs.back();
  EXPECT_EQ(search.target, "/os/docs/_search");
  EXPECT_EQ(Json::parse(search.body),
            Json::parse(R"({"size":100,"_source":{"excludes":["vector_field"]},
                            "query":{"match":{"text":{"query":"alpha"}}}})"));
  EXPECT_EQ(search.Header("Authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u)
      << search.Header("Authorization");
  EXPECT_NE(search.Header("Authorization").find("/eu-west-1/es/aws4_request"), std::string::npos);
  EXPECT_NE(search.Header("X-Amz-Content-Sha256"), "(absent)");

  so.mode = SearchMode::kDense;
  auto dense = (*ix)->Search("gamma", so);
  ASSERT_TRUE(dense.ok()) << dense.status().ToString();
  ASSERT_EQ(dense->size(), 2u);
  EXPECT_EQ((*dense)[0].chunk_id, "c#0");
  const Json knn = Json::parse(srv.requests().back().body);
  // "gamma" has two a's and no e, i, o.
  EXPECT_EQ(knn["query"]["knn"]["vector_field"]["vector"], Json::parse("[2.0,0.0,0.0,0.0]"));
  EXPECT_EQ(knn["query"]["knn"]["vector_field"]["k"], 100);

  // RRF (k = 60): a is 1st by BM25 only (1/61); b 2nd in both (2/62 = 0.032258);
  // c 3rd and 1st (1/63 + 1/61 = 0.032266), just ahead of b.
  so.mode = SearchMode::kHybrid;
  so.k = 3;
  auto hybrid = (*ix)->Search("alpha", so);
  ASSERT_TRUE(hybrid.ok()) << hybrid.status().ToString();
  ASSERT_EQ(hybrid->size(), 3u);
  EXPECT_EQ((*hybrid)[0].chunk_id, "c#0");
  EXPECT_NEAR((*hybrid)[0].score, 1.0 / 63 + 1.0 / 61, 1e-12);
  EXPECT_EQ((*hybrid)[0].bm25_rank, 3);
  EXPECT_EQ((*hybrid)[0].dense_rank, 1);
  EXPECT_EQ((*hybrid)[1].chunk_id, "b#0");
  EXPECT_NEAR((*hybrid)[1].score, 2.0 / 62, 1e-12);
  EXPECT_EQ((*hybrid)[2].chunk_id, "a#0");
  EXPECT_FALSE((*hybrid)[2].dense_score.has_value());

  so.sources = {"a"};
  EXPECT_EQ((*ix)->Search("alpha", so).status().code(), StatusCode::kInvalidArgument);
}

TEST(RemoteIndexTest, MissingIndexCountAndErrors) {
  Cluster cluster;
  FakeServer srv([&](const httplib::Request& q, httplib::Response& r) { cluster.Handle(q, r); });
  auto ix = RemoteIndex::Open(Options(srv, "none"), "docs");
  ASSERT_FALSE(ix.ok());
  EXPECT_EQ(ix.status().code(), StatusCode::kNotFound);
  EXPECT_NE(ix.status().message().find("no index \"docs\" at " + srv.url() + "/os"),
            std::string::npos)
      << ix.status().ToString();
  EXPECT_EQ(srv.requests()[0].Header("Authorization"), "(absent)");

  auto client = OpenSearchClient::Create(Options(srv, "none").client);
  ASSERT_TRUE(client.ok());
  auto n = client->Count("docs");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 42);
  // An OpenSearch error body is quoted as "type: reason".
  Status s = client->Refresh("other");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("opensearch: POST " + srv.url() +
                             "/os/other/_refresh: HTTP 400: \"illegal_argument_exception: "
                             "unexpected\""),
            std::string::npos)
      << s.ToString();

  // A LangChain index without _meta: BM25 only unless an embedder is named.
  cluster.exists = true;
  cluster.existing = Json::parse(
      R"({"mappings":{"properties":{"vector_field":{"type":"knn_vector","dimension":4}}}})");
  ix = RemoteIndex::Open(Options(srv, "none"), "docs");
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  EXPECT_FALSE((*ix)->has_embedder());
  SearchOptions so;
  so.mode = SearchMode::kHybrid;
  EXPECT_EQ((*ix)->Search("q", so).status().code(), StatusCode::kInvalidArgument);
  ix = RemoteIndex::Open(Options(srv, "none"), "docs", "vowels");
  ASSERT_TRUE(ix.ok()) << ix.status().ToString();
  EXPECT_TRUE((*ix)->has_embedder());
}

}  // namespace
}  // namespace sagebox::retrieval::remote
