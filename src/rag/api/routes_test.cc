#include "rag/api/routes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"
#include "rag/question_log.h"

namespace sagebox::rag::api {
namespace {

using nlohmann::json;

class FakeGenerator : public retrieval::Generator {
 public:
  explicit FakeGenerator(std::string* last_prompt) : last_prompt_(last_prompt) {}
  std::string name() const override { return "fake:gen"; }
  StatusOr<retrieval::Generation> Generate(const std::string& prompt,
                                           const retrieval::GenerationParams& p) override {
    RETURN_IF_ERROR(retrieval::ValidateGenerationParams(p));
    *last_prompt_ = prompt;
    retrieval::Generation g;
    for (int i = 0; i < p.num_return_sequences; ++i) {
      g.texts.push_back("text " + std::to_string(i + 1) + " of " + std::to_string(p.max_length));
    }
    g.text = g.texts[0];
    return g;
  }

 private:
  std::string* last_prompt_;
};

class RagApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> m = retrieval::Migrations();
    for (auto& x : rag::Migrations()) m.push_back(x);
    db_ = db::testing::OpenMigrated(tmp_.Path("sagebox.db"), m);
    ASSERT_NE(db_, nullptr);
  }

  void Ingest(const std::string& index, const std::string& name, const std::string& text) {
    const std::string dir = tmp_.Path("src/" + index);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
    retrieval::OpenOptions o;
    o.data_dir = tmp_.Path("data");
    o.create = retrieval::IndexSettings{};
    auto kb = retrieval::KnowledgeBase::Open(db_.get(), index, o);
    ASSERT_TRUE(kb.ok()) << kb.status().ToString();
    auto r = (*kb)->Ingest({dir});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::unique_ptr<RagApi> Make(bool with_generator = false, std::string default_index = "") {
    RagApiOptions o;
    o.data_dir = tmp_.Path("data");
    o.default_index = std::move(default_index);
    if (with_generator) o.generator_instance = std::make_unique<FakeGenerator>(&prompt_);
    auto api = RagApi::Create(db_.get(), std::move(o));
    EXPECT_TRUE(api.ok()) << api.status().ToString();
    return api.ok() ? std::move(api).value() : nullptr;
  }

  static http::ApiResponse Call(RagApi& api, const std::string& method, const std::string& path,
                                const std::string& body = "",
                                std::multimap<std::string, std::string> params = {}) {
    http::ApiRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    req.params = std::move(params);
    return api.Handle(req);
  }

  static json Body(const http::ApiResponse& r) { return json::parse(r.body); }

  testing::TempDir tmp_{"ragapi"};
  std::unique_ptr<db::Database> db_;
  std::string prompt_;
};

const char kDoc[] =
    "# Serverless\n\nA serverless endpoint scales to zero when it is idle. Its memory size "
    "is between 1 GB and 6 GB.\n\n# Training\n\nSpot instances lower the price of training "
    "jobs.\n";

TEST_F(RagApiTest, WorkshopRagRequestWithItsDefaultsAndVerboseDocs) {
  Ingest("sm", "serverless.md", kDoc);
  auto api = Make();
  ASSERT_NE(api, nullptr);
  // The Streamlit app's request: {"q": ..., "verbose": True}.
  auto r = Call(*api, "POST", "/api/v1/llm/rag",
                R"({"q": "What memory size can a serverless endpoint have?", "verbose": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["question"], "What memory size can a serverless endpoint have?");
  EXPECT_NE(j["answer"].get<std::string>().find("between 1 GB and 6 GB"), std::string::npos)
      << j.dump();
  ASSERT_TRUE(j["docs"].is_array());
  ASSERT_GE(j["docs"].size(), 1u);
  EXPECT_LE(j["docs"].size(), 3u);  // max_matching_docs defaults to 3
  EXPECT_NE(j["docs"][0]["page_content"].get<std::string>().find("serverless"), std::string::npos);
  EXPECT_NE(j["docs"][0]["metadata"]["source"].get<std::string>().find("serverless.md"),
            std::string::npos);
  // The app's own line: sources = [d['metadata']['source'] for d in resp['docs']].
  for (const auto& d : j["docs"]) EXPECT_TRUE(d["metadata"]["source"].is_string());

  // Not verbose: exactly {"question", "answer"}.
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "price of training"})");
  ASSERT_EQ(r.status, 200) << r.body;
  j = Body(r);
  EXPECT_EQ(j.size(), 2u) << j.dump();
  EXPECT_TRUE(j.contains("question") && j.contains("answer"));

  // Both questions were logged, with their results.
  auto logged = RecentQuestions(*db_, "sm", 10);
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(logged->size(), 2u);
}

TEST_F(RagApiTest, WorkshopMalformedRequestsGetPydanticsErrors) {
  Ingest("sm", "serverless.md", kDoc);
  auto api = Make();
  auto r = Call(*api, "POST", "/api/v1/llm/rag", R"({"verbose": "perhaps", "top_p": "x",
      "max_matching_docs": 0, "vectordb_type": "chroma", "max_length": 1.5})");
  ASSERT_EQ(r.status, 422) << r.body;
  json d = Body(r)["detail"];
  std::map<std::string, std::string> by_field;
  for (const auto& e : d) by_field[e["loc"][1].get<std::string>()] = e["type"].get<std::string>();
  EXPECT_EQ(by_field["q"], "value_error.missing");
  EXPECT_EQ(by_field["verbose"], "type_error.bool");
  EXPECT_EQ(by_field["top_p"], "type_error.float");
  EXPECT_EQ(by_field["max_matching_docs"], "value_error.number.not_ge");
  EXPECT_EQ(by_field["vectordb_type"], "type_error.enum");
  EXPECT_EQ(by_field["max_length"], "type_error.integer");
  EXPECT_EQ(d[0]["loc"][0], "body");

  r = Call(*api, "POST", "/api/v1/llm/rag", "{not json");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["detail"][0]["type"], "value_error.jsondecode");
  r = Call(*api, "POST", "/api/v1/llm/rag", "[1, 2]");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["detail"][0]["type"], "type_error.dict");
  r = Call(*api, "GET", "/api/v1/llm/rag");
  EXPECT_EQ(r.status, 405);
  r = Call(*api, "POST", "/api/v1/llm/summarize", R"({"q": "x"})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["detail"], "Not Found");
  // Coercions pydantic v1 makes: "5" is an int, 1 is a bool, a number is a str.
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": 42, "max_matching_docs": "1", "verbose": 1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["question"], "42");
  EXPECT_LE(Body(r)["docs"].size(), 1u);
}

TEST_F(RagApiTest, WorkshopIndexChoice) {
  auto api = Make();
  auto r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "serverless"})");
  EXPECT_EQ(r.status, 404) << r.body;  // no index at all
  EXPECT_NE(Body(r)["detail"].get<std::string>().find("sagebox rag ingest"), std::string::npos);
  Ingest("a", "serverless.md", kDoc);
  Ingest("b", "other.md", "# Other\n\nBatch transform runs offline inference.\n");
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "serverless"})");
  EXPECT_EQ(r.status, 400) << r.body;  // two indexes, none named
  EXPECT_NE(Body(r)["detail"].get<std::string>().find("a, b"), std::string::npos);
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "batch transform", "index": "b",
      "verbose": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Body(r)["docs"][0]["metadata"]["source"].get<std::string>().find("other.md"),
            std::string::npos);
  auto with_default = Make(false, "a");
  r = Call(*with_default, "POST", "/api/v1/llm/rag", R"({"q": "serverless", "verbose": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Body(r)["docs"][0]["metadata"]["source"].get<std::string>().find("serverless.md"),
            std::string::npos);
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "x", "index": "nope"})");
  EXPECT_EQ(r.status, 404);
}

TEST_F(RagApiTest, Text2TextNeedsAGeneratorAndReturnsItsTexts) {
  Ingest("sm", "serverless.md", kDoc);
  auto extractive = Make();
  auto r = Call(*extractive, "POST", "/api/v1/llm/text2text", R"({"q": "Say hi"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(Body(r)["detail"].get<std::string>().find("--rag-generator"), std::string::npos);

  auto api = Make(true);
  r = Call(*api, "POST", "/api/v1/llm/text2text",
           R"({"q": "Say hi", "num_return_sequences": 2, "max_length": 64})");
  ASSERT_EQ(r.status, 200) << r.body;
  // The workshop app reads resp.json()['answer'][0]: a list of generated texts.
  EXPECT_EQ(Body(r), (json{{"question", "Say hi"}, {"answer", {"text 1 of 64", "text 2 of 64"}}}));
  EXPECT_EQ(prompt_, "Say hi");
  r = Call(*api, "POST", "/api/v1/llm/text2text", R"({"q": "Say hi", "top_p": 2})");
  EXPECT_EQ(r.status, 422) << r.body;  // the generator's own range check

  // rag with a generator: the article's prompt, the generator's first text as answer.
  r = Call(*api, "POST", "/api/v1/llm/rag", R"({"q": "price of training", "max_length": 9})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["answer"], "text 1 of 9");
  EXPECT_EQ(prompt_.rfind("Answer based on context:\n\n", 0), 0u);
  EXPECT_NE(prompt_.find("Spot instances"), std::string::npos);
}

TEST_F(RagApiTest, JsonApiAskFeedbackQuestionsIndexes) {
  Ingest("sm", "serverless.md", kDoc);
  auto api = Make();
  auto r = Call(*api, "GET", "/api/rag/indexes");
  ASSERT_EQ(r.status, 200);
  json ix = Body(r)["indexes"];
  ASSERT_EQ(ix.size(), 1u);
  EXPECT_EQ(ix[0]["name"], "sm");
  EXPECT_EQ(ix[0]["documents"], 1);
  EXPECT_GE(ix[0]["chunks"].get<int>(), 1);

  r = Call(*api, "POST", "/api/rag/ask",
           R"({"index": "sm", "question": "How much memory has a serverless endpoint?", "k": 2})");
  ASSERT_EQ(r.status, 200) << r.body;
  json a = Body(r);
  EXPECT_EQ(a["provider"], "extractive");
  EXPECT_EQ(a["cost_usd"], "0");
  ASSERT_GE(a["sources"].size(), 1u);
  EXPECT_LE(a["sources"].size(), 2u);
  EXPECT_EQ(a["sources"][0]["n"], 1);
  const int64_t id = a["id"];
  const std::string chunk = a["sources"][0]["chunk_id"];

  r = Call(*api, "POST", "/api/rag/feedback", json{{"id", id}, {"feedback", "up"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call(*api, "POST", "/api/rag/feedback", json{{"id", id}, {"feedback", "meh"}}.dump());
  EXPECT_EQ(r.status, 400);
  r = Call(*api, "POST", "/api/rag/feedback", json{{"id", id + 99}, {"feedback", "up"}}.dump());
  EXPECT_EQ(r.status, 404);
  r = Call(*api, "POST", "/api/rag/feedback",
           json{{"id", id}, {"feedback", "source:" + chunk}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;

  r = Call(*api, "GET", "/api/rag/questions", "", {{"index", "sm"}, {"limit", "5"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json qs = Body(r)["questions"];
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0]["id"], id);
  EXPECT_EQ(qs[0]["feedback"], "source:" + chunk);
  EXPECT_EQ(qs[0]["results"][0]["chunk_id"], chunk);

  EXPECT_EQ(Call(*api, "POST", "/api/rag/ask", R"({"index": "sm"})").status, 400);
  EXPECT_EQ(
      Call(*api, "POST", "/api/rag/ask", R"({"index": "sm", "question": "x", "k": 0})").status,
      400);
  EXPECT_EQ(Call(*api, "POST", "/api/rag/ask", R"({"index": "no", "question": "x"})").status, 404);
  EXPECT_EQ(Call(*api, "POST", "/api/rag/ask", "nope").status, 400);
  EXPECT_EQ(Call(*api, "GET", "/api/rag/ask").status, 405);
  EXPECT_EQ(Call(*api, "GET", "/api/rag/questions", "", {{"limit", "0"}}).status, 400);
  EXPECT_EQ(Call(*api, "GET", "/api/rag/what").status, 404);
}

TEST_F(RagApiTest, AnOpenIndexFollowsNewIngests) {
  Ingest("sm", "serverless.md", kDoc);
  auto api = Make();
  auto ask = [&](const std::string& q) {
    auto r = Call(*api, "POST", "/api/rag/ask", json{{"index", "sm"}, {"question", q}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  };
  EXPECT_TRUE(ask("quokka habitat")["sources"].empty());
  Ingest("sm", "animals.md", "# Animals\n\nThe quokka lives on Rottnest Island.\n");
  json a = ask("quokka habitat");
  ASSERT_EQ(a["sources"].size(), 1u) << a.dump();
  EXPECT_NE(a["answer"].get<std::string>().find("Rottnest"), std::string::npos);
  ASSERT_TRUE(retrieval::DropIndex(*db_, tmp_.Path("data"), "sm").ok());
  auto r = Call(*api, "POST", "/api/rag/ask", R"({"index": "sm", "question": "quokka"})");
  EXPECT_EQ(r.status, 404);
}

TEST_F(RagApiTest, ABadGeneratorSpecFailsCreate) {
  RagApiOptions o;
  o.data_dir = tmp_.Path("data");
  o.generator = "carrier-pigeon:fast";
  EXPECT_EQ(RagApi::Create(db_.get(), std::move(o)).status().code(), StatusCode::kInvalidArgument);
  RagApiOptions bad_index;
  bad_index.default_index = "../x";
  EXPECT_EQ(RagApi::Create(db_.get(), std::move(bad_index)).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sagebox::rag::api
