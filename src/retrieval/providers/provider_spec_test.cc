#include "retrieval/providers/provider_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "http/sigv4.h"
#include "retrieval/providers/fake_server_test.h"
#include "retrieval/providers/word_vectors.h"

namespace sagebox::retrieval {
namespace {

using testing::FakeServer;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::map<std::string, std::string>& Vars() {
  static std::map<std::string, std::string> vars;
  return vars;
}
const char* FakeGetEnv(const char* name) {
  auto it = Vars().find(name);
  return it == Vars().end() ? nullptr : it->second.c_str();
}
ProviderContext Ctx() { return ProviderContext{&FakeGetEnv, nullptr}; }

void SetAws() {
  Vars() = {{"AWS_ACCESS_KEY_ID", "AKIASPEC"},
            {"AWS_SECRET_ACCESS_KEY", "spec-secret"},
            {"AWS_REGION", "ap-south-1"}};
}

std::string EmbedderError(const std::string& spec) {
  auto e = MakeEmbedder(spec, Ctx());
  if (e.ok()) return "(made " + (*e)->name() + ")";
  return e.status().message();
}

TEST(ProviderSpec, SageMakerEmbedderEndToEndWithSettings) {
  SetAws();
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    Json out = Json::array();
    for (size_t i = 0; i < in.at("inputs").size(); ++i) out.push_back({{{1, 2}, {3, 4}}});
    res.set_content(out.dump(), "application/json");
  });
  auto e =
      MakeEmbedder("sagemaker:minilm@" + srv.url() + ",format=hf,batch=2,target=m.tar.gz", Ctx());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "sagemaker:minilm");
  auto v = (*e)->Embed({"a", "b", "c"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->at(2), (std::vector<float>{2, 3}));
  const auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].Header("X-Amzn-SageMaker-Target-Model"), "m.tar.gz");
  EXPECT_THAT(reqs[0].Header("Authorization"), HasSubstr("Credential=AKIASPEC/"));
  EXPECT_THAT(reqs[0].Header("Authorization"), HasSubstr("/ap-south-1/sagemaker/aws4_request"));
  http::Credentials creds;
  creds.secret_by_access_key["AKIASPEC"] = "spec-secret";
  http::SigV4Options opt;
  opt.service = "sagemaker";
  EXPECT_FALSE(http::VerifySigV4({reqs[0].method, reqs[0].target, reqs[0].headers, reqs[0].body},
                                 creds, Env::Default()->Now(), opt)
                   .has_value());
}

TEST(ProviderSpec, OpenAiGeneratorUsesTheKeyFromTheEnvironment) {
  Vars() = {{"OPENAI_API_KEY", "sk-env"}};
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices": [{"message": {"content": "hi"}}]})", "application/json");
  });
  auto g = MakeGenerator("openai:qwen2.5:7b@" + srv.url() + "/v1,timeout=5", Ctx());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->name(), "openai:qwen2.5:7b");  // Ollama's model names carry a ':'
  auto out = (*g)->Generate("q", {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->text, "hi");
  EXPECT_EQ(srv.requests().at(0).Header("Authorization"), "Bearer sk-env");
  EXPECT_EQ(Json::parse(srv.requests().at(0).body)["model"], "qwen2.5:7b");
}

TEST(ProviderSpec, DefaultsForUrls) {
  SetAws();
  Vars().erase("OPENAI_API_KEY");
  // No request is made here; the names show what was built.
  auto sm = MakeGenerator("sagemaker:jumpstart-flan-t5", Ctx());
  ASSERT_TRUE(sm.ok()) << sm.status().ToString();
  EXPECT_EQ((*sm)->name(), "sagemaker:jumpstart-flan-t5");
  auto oa = MakeEmbedder("openai:text-embedding-3-small", Ctx());
  ASSERT_TRUE(oa.ok()) << oa.status().ToString();
  EXPECT_EQ((*oa)->dim(), 0);
  auto dim = MakeEmbedder("openai:text-embedding-3-small,dim=1536", Ctx());
  ASSERT_TRUE(dim.ok());
  EXPECT_EQ((*dim)->dim(), 1536);
}

TEST(ProviderSpec, KServeEmbedderNamesItsTensors) {
  SetAws();
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    const size_t n = in.at("inputs").at(0).at("data").size();
    Json data = Json::array();
    for (size_t i = 0; i < n; ++i) data.push_back({1.0 * static_cast<double>(i), 0.5});
    res.set_content(
        Json{{"outputs",
              {{{"name", "OTHER"}, {"shape", {1}}, {"datatype", "FP32"}, {"data", {9}}},
               {{"name", "EMB"}, {"shape", {n, 2}}, {"datatype", "FP32"}, {"data", data}}}}}
            .dump(),
        "application/json");
  });
  auto e = MakeEmbedder(
      "sagemaker:sagebox@" + srv.url() + ",format=kserve,input=SENTENCE,output=EMB,target=e.tar.gz",
      Ctx());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto v = (*e)->Embed({"a", "b"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (std::vector<std::vector<float>>{{0, 0.5}, {1, 0.5}}));
  const Json sent = Json::parse(srv.requests().at(0).body);
  EXPECT_EQ(sent["inputs"][0]["name"], "SENTENCE");
  EXPECT_EQ(srv.requests().at(0).Header("X-Amzn-SageMaker-Target-Model"), "e.tar.gz");
}

TEST(ProviderSpec, ErrorsSayWhatIsWrongAndWhatIsExpected) {
  SetAws();
  const std::string expected =
      "(expected words[@PATH], sagemaker:ENDPOINT[@URL] or "
      "openai:MODEL[@URL], then optional ,key=value settings)";
  EXPECT_EQ(EmbedderError("bedrock:titan"),
            "provider spec \"bedrock:titan\": unknown provider \"bedrock\" " + expected);
  EXPECT_THAT(EmbedderError(""), HasSubstr("no provider kind"));
  EXPECT_THAT(EmbedderError("sagemaker:"), HasSubstr("sagemaker needs an endpoint name"));
  EXPECT_THAT(EmbedderError("openai"), HasSubstr("openai needs a model name"));
  EXPECT_THAT(EmbedderError("openai:m@"), HasSubstr("nothing after '@'"));
  EXPECT_THAT(EmbedderError("openai:m,batch=0"),
              HasSubstr("batch=0: expected a whole number in 1..100000"));
  EXPECT_THAT(EmbedderError("openai:m,batch=x"), HasSubstr("batch=x"));
  EXPECT_THAT(EmbedderError("openai:m,batch"), HasSubstr("setting \"batch\" is not key=value"));
  EXPECT_THAT(EmbedderError("openai:m,batch=1,batch=2"), HasSubstr("setting batch given twice"));
  EXPECT_THAT(EmbedderError("openai:m,format=hf"),
              HasSubstr("setting \"format\" does not apply to openai"));
  EXPECT_THAT(EmbedderError("sagemaker:e,format=tei"),
              HasSubstr("format=tei: expected jumpstart, hf or kserve"));
  EXPECT_THAT(EmbedderError("sagemaker:e,input=TEXT"),
              HasSubstr("input= names a tensor: only with format=kserve"));
  EXPECT_THAT(EmbedderError("sagemaker:e,format=kserve,output="), HasSubstr("is not key=value"));
  EXPECT_THAT(EmbedderError("sagemaker:bad_name"), HasSubstr("endpoint name \"bad_name\""));
  EXPECT_THAT(EmbedderError("openai:m@ftp://x"), HasSubstr("the scheme is not http or https"));
  EXPECT_THAT(EmbedderError("words,batch=3"), HasSubstr("does not apply to words"));
  auto g = MakeGenerator("words", Ctx());
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.status().message(), HasSubstr("words embeds text, it cannot generate"));
  auto b = MakeGenerator("sagemaker:e,batch=3", Ctx());
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("setting \"batch\" does not apply to sagemaker"));
  Vars().clear();
  EXPECT_THAT(EmbedderError("sagemaker:e"),
              HasSubstr("not set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION"));
}

TEST(ProviderSpec, WordsFromAPath) {
  sagebox::testing::TempDir dir("spec");
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(dir.Path("v.wvec"), *EncodeWordVectors(2, {"a"}, {{3, 4}}))
                  .ok());
  auto e = MakeEmbedder("words@" + dir.Path("v.wvec"), Ctx());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "wink-sg-100d");
  auto v = (*e)->Embed({"A"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->at(0), (std::vector<float>{0.6F, 0.8F}));
  auto missing = MakeEmbedder("words@" + dir.Path("none.wvec"), Ctx());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sagebox::retrieval
