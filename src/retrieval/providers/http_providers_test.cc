// The HTTP providers against local fake servers: the wire format each sends
// (path, headers, SigV4 signature, JSON body) and how each reads replies and
// errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "http/sigv4.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/providers/fake_server_test.h"
#include "retrieval/providers/generator.h"

namespace sagebox::retrieval {
namespace {

using ::testing::ElementsAre;
using testing::FakeServer;
using ::testing::HasSubstr;
using testing::Recorded;
using Json = nlohmann::json;

constexpr char kKey[] = "AKIASAGEBOXTEST00001";
constexpr char kSecret[] = "test/secret+key";

AwsConfig Aws(std::string token = "") {
  return AwsConfig{kKey, kSecret, std::move(token), "eu-west-1"};
}

SageMakerEndpointConfig Endpoint(const FakeServer& s, const std::string& name = "my-ep") {
  SageMakerEndpointConfig c;
  c.endpoint_name = name;
  c.url = s.url();
  c.aws = Aws();
  return c;
}

// What the project's verifier says about a recorded request: "accepted" or the failure.
std::string Verify(const Recorded& r) {
  http::SigV4Request req{r.method, r.target, r.headers, r.body};
  http::Credentials creds;
  creds.secret_by_access_key[kKey] = kSecret;
  http::SigV4Options opt;
  opt.service = "sagemaker";
  opt.must_sign = {"content-type"};
  const auto f = http::VerifySigV4(req, creds, Env::Default()->Now(), opt);
  return f ? f->aws_type + ": " + f->message : "accepted";
}

void ReplyJson(httplib::Response& res, const Json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

// A vector that encodes the text, so the test can see order and batching: [length, first byte, 1].
std::vector<float> Code(const std::string& t) {
  return {static_cast<float>(t.size()), static_cast<float>(t.empty() ? 0 : t[0]), 1.0F};
}

std::vector<std::string> Texts(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::string(static_cast<size_t>(i + 1), 'a' + static_cast<char>(i)));
  return out;
}

// ---------------------------------------------------------------------------
// SageMaker, JumpStart text embedding.

TEST(SageMakerEmbedder, JumpStartWireFormatBatchesAndSignature) {
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    Json vectors = Json::array();
    for (const auto& t : in.at("text_inputs")) vectors.push_back(Code(t.get<std::string>()));
    ReplyJson(res, {{"embedding", vectors}});
  });
  SageMakerEndpointConfig c = Endpoint(srv);
  c.target_model = "gpt-j.tar.gz";
  EmbedderOptions opt;
  opt.batch_size = 3;
  auto e = NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart, opt);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->name(), "sagemaker:my-ep");
  EXPECT_EQ((*e)->dim(), 0);
  const std::vector<std::string> texts = Texts(7);
  auto v = (*e)->Embed(texts);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 7u);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ((*v)[i], Code(texts[i])) << i;
  EXPECT_EQ((*e)->dim(), 3);

  const auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(Json::parse(reqs[0].body), Json({{"text_inputs", {"a", "bb", "ccc"}}}));
  EXPECT_EQ(Json::parse(reqs[2].body), Json({{"text_inputs", {"ggggggg"}}}));
  for (const Recorded& r : reqs) {
    EXPECT_EQ(r.target, "/endpoints/my-ep/invocations");
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_EQ(r.Header("Accept"), "application/json");
    EXPECT_EQ(r.Header("X-Amzn-SageMaker-Target-Model"), "gpt-j.tar.gz");
    EXPECT_EQ(r.Header("Host"), "127.0.0.1:" + std::to_string(srv.port()));
    EXPECT_THAT(r.Header("Authorization"), HasSubstr("Credential=" + std::string(kKey) + "/"));
    EXPECT_THAT(r.Header("Authorization"), HasSubstr("/eu-west-1/sagemaker/aws4_request"));
    EXPECT_EQ(Verify(r), "accepted");
  }
  // The verifier is not a rubber stamp: a changed body fails.
  Recorded tampered = reqs[0];
  tampered.body[3] = 'X';
  EXPECT_THAT(Verify(tampered), HasSubstr("InvalidSignatureException"));
}

TEST(SageMakerEmbedder, DefaultBatchIsTheWorkshopsFiveAndEmptyInputSendsNothing) {
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    Json vectors = Json::array();
    for (size_t i = 0; i < in.at("text_inputs").size(); ++i) vectors.push_back({1, 2});
    ReplyJson(res, {{"embedding", vectors}});
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart);
  ASSERT_TRUE(e.ok());
  auto none = (*e)->Embed({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(srv.requests().empty());
  ASSERT_TRUE((*e)->Embed(Texts(11)).ok());
  const auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(Json::parse(reqs[0].body)["text_inputs"].size(), 5u);
  EXPECT_EQ(Json::parse(reqs[2].body)["text_inputs"].size(), 1u);
}

TEST(SageMakerEmbedder, SingleTextFlatReplyBasePathAndSessionToken) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"embedding", {0.5, -0.25}}});
  });
  SageMakerEndpointConfig c = Endpoint(srv);
  c.url = srv.url() + "/prefix/";
  c.aws = Aws("session-token/==");
  auto e = NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"one"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_THAT(*v, ElementsAre(ElementsAre(0.5F, -0.25F)));
  const Recorded r = srv.requests().at(0);
  EXPECT_EQ(r.target, "/prefix/endpoints/my-ep/invocations");
  EXPECT_EQ(r.Header("X-Amz-Security-Token"), "session-token/==");
  EXPECT_THAT(r.Header("Authorization"), HasSubstr("x-amz-security-token"));
  EXPECT_EQ(r.Header("X-Amzn-SageMaker-Target-Model"), "(absent)");
  EXPECT_EQ(Verify(r), "accepted");
}

// ---------------------------------------------------------------------------
// SageMaker, Hugging Face feature extraction.

TEST(SageMakerEmbedder, HuggingFaceSentenceAndTokenLevelReplies) {
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    ASSERT_TRUE(in.contains("inputs"));
    // Item 0: a sentence embedding; 1: token vectors [tokens][dim]; 2: [1][tokens][dim].
    ReplyJson(res,
              Json::array(
                  {{1.0, 2.0}, {{1.0, 0.0}, {3.0, 4.0}}, {{{2.0, 2.0}, {4.0, 6.0}, {0.0, 1.0}}}}));
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kHuggingFace);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"x", "y", "z"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_THAT(
      *v, ElementsAre(ElementsAre(1.0F, 2.0F), ElementsAre(2.0F, 2.0F), ElementsAre(2.0F, 3.0F)));
  EXPECT_EQ(Json::parse(srv.requests().at(0).body), Json({{"inputs", {"x", "y", "z"}}}));
}

TEST(SageMakerEmbedder, HuggingFaceShapeErrorsNameTheItem) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, Json::array({{1.0, 2.0}, {{1.0}, {"a"}}}));
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kHuggingFace);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"x", "y"});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(v.status().message(), HasSubstr("item 1 has shape [2][1] numbers"));
}

// ---------------------------------------------------------------------------
// SageMaker with KServe v2 JSON (sagebox's own endpoint, Triton).

TEST(SageMakerEmbedder, KServeRequestAndFlatOrNestedReplies) {
  bool nested = false;
  FakeServer srv([&nested](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    const size_t n = in.at("inputs").at(0).at("data").size();
    Json data = Json::array();
    for (size_t i = 0; i < n; ++i) {
      const Json row = {static_cast<double>(i), 1.0, 2.0};
      if (nested) {
        data.push_back(row);
      } else {
        for (const Json& x : row) data.push_back(x);
      }
    }
    ReplyJson(
        res,
        {{"model_name", "embed"},
         {"outputs",
          {{{"name", "EMBEDDING"}, {"datatype", "FP32"}, {"shape", {n, 3}}, {"data", data}}}}});
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kKServe);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"alpha", "beta"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_THAT(*v, ElementsAre(ElementsAre(0.0F, 1.0F, 2.0F), ElementsAre(1.0F, 1.0F, 2.0F)));
  EXPECT_EQ(Json::parse(srv.requests().at(0).body), Json({{"inputs",
                                                           {{{"name", "TEXT"},
                                                             {"shape", {2, 1}},
                                                             {"datatype", "BYTES"},
                                                             {"data", {"alpha", "beta"}}}}}}));
  EXPECT_EQ(Verify(srv.requests().at(0)), "accepted");
  nested = true;
  v = (*e)->Embed({"alpha", "beta", "gamma"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_THAT(v->at(2), ElementsAre(2.0F, 1.0F, 2.0F));
}

TEST(SageMakerEmbedder, KServeReplyErrorsSayWhatIsWrong) {
  Json reply;
  FakeServer srv(
      [&reply](const httplib::Request&, httplib::Response& res) { ReplyJson(res, reply); });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kKServe);
  ASSERT_TRUE(e.ok());
  auto message = [&](Json r) {
    reply = std::move(r);
    auto v = (*e)->Embed({"x", "y"});
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kBadInput);
    return v.status().message();
  };
  EXPECT_THAT(message({{"embedding", {1}}}), HasSubstr("KServe v2 response with \"outputs\""));
  EXPECT_THAT(message({{"outputs", {{{"name", "E"}, {"shape", {3, 2}}, {"data", {1, 2}}}}}}),
              HasSubstr("shape [3,2] for 2 texts"));
  EXPECT_THAT(message({{"outputs", {{{"name", "E"}, {"shape", {2, 2}}, {"data", {1, 2, 3}}}}}}),
              HasSubstr("3 numbers for shape [2,2]"));
  EXPECT_THAT(message({{"outputs", {{{"name", "E"}, {"shape", {2, 1}}, {"data", {1, "a"}}}}}}),
              HasSubstr("data holds a string"));
  EXPECT_THAT(message({{"outputs", {{{"name", "E"}, {"shape", {2}}, {"data", {1, 2}}}}}}),
              HasSubstr("expected a shape [n, dim]"));
}

// ---------------------------------------------------------------------------
// Errors, in one vocabulary.

TEST(ProviderErrors, Http500QuotesTheBodysMessage) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"message", "model crashed: CUDA out of memory"}}, 500);
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"x"});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kIoError);
  EXPECT_EQ(v.status().message(), "sagemaker:my-ep: POST " + srv.url() +
                                      "/endpoints/my-ep/invocations: HTTP 500: \"model crashed: "
                                      "CUDA out of memory\"");
}

TEST(ProviderErrors, SageMakerModelErrorAndOpenAiErrorShapes) {
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    if (req.path.find("/endpoints/") == 0) {
      ReplyJson(res,
                {{"ErrorCode", "CLIENT_ERROR_FROM_MODEL"},
                 {"Message", "Received client error (400) from primary with message \"bad\""}},
                424);
    } else {
      ReplyJson(res, {{"error", {{"message", "Incorrect API key provided"}, {"type", "x"}}}}, 401);
    }
  });
  auto sm = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart);
  ASSERT_TRUE(sm.ok());
  auto v = (*sm)->Embed({"x"});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(),
              HasSubstr("HTTP 424: \"Received client error (400) from primary with message "
                        "\\\"bad\\\"\""));
  auto oa = NewOpenAiEmbedder({"m", srv.url(), "sk-wrong"});
  ASSERT_TRUE(oa.ok());
  auto w = (*oa)->Embed({"x"});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(w.status().message(), "openai:m: POST " + srv.url() +
                                      "/v1/embeddings: HTTP 401: \"Incorrect API key provided\"");
}

TEST(ProviderErrors, BodyWithoutAMessageIsQuotedShort) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    res.status = 502;
    res.set_content("<html>" + std::string(1000, 'x') + "</html>", "text/html");
  });
  auto e = NewOpenAiEmbedder({"m", srv.url(), ""});
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"x"});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("HTTP 502: \"<html>xxx"));
  EXPECT_THAT(v.status().message(), HasSubstr("x...\""));
  EXPECT_LT(v.status().message().size(), 420u);
}

TEST(ProviderErrors, MalformedJsonReply) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"embedding\": [[1, 2], ", "application/json");
  });
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"x"});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(v.status().message(),
            "sagemaker:my-ep: POST " + srv.url() + "/endpoints/my-ep/invocations: reply: not JSON");
}

TEST(ProviderErrors, WrongVectorCountAndChangingDimension) {
  int calls = 0;
  FakeServer srv([&calls](const httplib::Request& req, httplib::Response& res) {
    const size_t n = Json::parse(req.body).at("text_inputs").size();
    Json vectors = Json::array();
    // First call: one vector short. Later calls: the right count, but the
    // second batch's vectors have 3 dimensions instead of 2.
    const size_t want = calls == 0 ? n - 1 : n;
    for (size_t i = 0; i < want; ++i) {
      vectors.push_back(calls == 2 ? Json({1, 2, 3}) : Json({1, 2}));
    }
    ++calls;
    ReplyJson(res, {{"embedding", vectors}});
  });
  EmbedderOptions opt;
  opt.batch_size = 2;
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart, opt);
  ASSERT_TRUE(e.ok());
  auto short_reply = (*e)->Embed({"a", "b"});
  ASSERT_FALSE(short_reply.ok());
  EXPECT_EQ(short_reply.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(short_reply.status().message(), HasSubstr("reply: 1 vectors for 2 texts"));
  auto ragged = (*e)->Embed({"a", "b", "c"});
  ASSERT_FALSE(ragged.ok());
  EXPECT_THAT(ragged.status().message(), HasSubstr("reply: vector 2 has 3 dimensions, expected 2"));
}

TEST(ProviderErrors, DeclaredDimensionIsEnforced) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"embedding", {{1, 2}}}});
  });
  EmbedderOptions opt;
  opt.dim = 4096;  // GPT-J 6B's width
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart, opt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->dim(), 4096);
  auto v = (*e)->Embed({"a"});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("vector 0 has 2 dimensions, expected 4096"));
}

TEST(ProviderErrors, ReadTimeout) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ReplyJson(res, {{"embedding", {{1}}}});
  });
  EmbedderOptions opt;
  opt.timeouts.read = std::chrono::milliseconds(200);
  auto e = NewSageMakerEmbedder(Endpoint(srv), SageMakerEmbedFormat::kJumpStart, opt);
  ASSERT_TRUE(e.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto v = (*e)->Embed({"a"});
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kIoError);
  EXPECT_THAT(v.status().message(), HasSubstr("timed out after 200 ms"));
  EXPECT_LT(waited, std::chrono::milliseconds(1400));
}

TEST(ProviderErrors, NothingListening) {
  int port = 0;
  {
    FakeServer gone([](const httplib::Request&, httplib::Response&) {});
    port = gone.port();
  }
  OpenAiConfig c{"m", "http://127.0.0.1:" + std::to_string(port), ""};
  auto e = NewOpenAiEmbedder(c);
  ASSERT_TRUE(e.ok());
  auto v = (*e)->Embed({"a"});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kIoError);
  EXPECT_THAT(v.status().message(), HasSubstr("/v1/embeddings: cannot connect"));
}

TEST(ProviderErrors, BadConfigurationIsInvalidArgument) {
  SageMakerEndpointConfig c;
  c.aws = Aws();
  for (const char* name : {"", "-ep", "ep-", "my_ep", "a/b"}) {
    c.endpoint_name = name;
    auto e = NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart);
    ASSERT_FALSE(e.ok()) << name;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.status().message(), HasSubstr("endpoint name"));
  }
  c.endpoint_name = std::string(63, 'a');
  EXPECT_TRUE(NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart).ok());
  c.endpoint_name = std::string(64, 'a');
  EXPECT_FALSE(NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart).ok());
  c.endpoint_name = "ok";
  c.aws.region.clear();
  EXPECT_THAT(NewSageMakerEmbedder(c, SageMakerEmbedFormat::kJumpStart).status().message(),
              HasSubstr("a region are required"));
  for (const char* url : {"ftp://x", "http://", "http://h:0", "http://h:99999", "http://h?q=1",
                          "http://u@h", "localhost:8080"}) {
    auto e = NewOpenAiEmbedder({"m", url, ""});
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(e.status().message(), HasSubstr("expected http(s)://host[:port][/path]"));
  }
}

TEST(AwsEnvironment, ReadsTheUsualVariables) {
  static std::map<std::string, std::string> vars;
  auto fake = [](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  vars = {{"AWS_ACCESS_KEY_ID", "AK"},
          {"AWS_SECRET_ACCESS_KEY", "SK"},
          {"AWS_DEFAULT_REGION", "us-west-2"}};
  auto c = AwsConfigFromEnvironment(fake);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region, "us-west-2");
  EXPECT_EQ(c->session_token, "");
  vars["AWS_REGION"] = "eu-central-1";
  vars["AWS_SESSION_TOKEN"] = "T";
  c = AwsConfigFromEnvironment(fake);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region, "eu-central-1");
  EXPECT_EQ(c->session_token, "T");
  vars = {{"AWS_ACCESS_KEY_ID", "AK"}};
  c = AwsConfigFromEnvironment(fake);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("not set: AWS_SECRET_ACCESS_KEY, AWS_REGION (or AWS_DEFAULT_REGION)"));
}

// ---------------------------------------------------------------------------
// OpenAI-compatible embeddings.

TEST(OpenAiEmbedder, WireFormatOrderByIndexAndBearerKey) {
  FakeServer srv([](const httplib::Request& req, httplib::Response& res) {
    const Json in = Json::parse(req.body);
    Json data = Json::array();
    // Out of order on purpose: the client must place vectors by "index".
    const auto& input = in.at("input");
    for (size_t k = input.size(); k-- > 0;) {
      data.push_back({{"object", "embedding"},
                      {"index", k},
                      {"embedding", Code(input[k].get<std::string>())}});
    }
    ReplyJson(res, {{"object", "list"},
                    {"data", data},
                    {"model", in.at("model")},
                    {"usage", {{"prompt_tokens", 3}, {"total_tokens", 3}}}});
  });
  EmbedderOptions opt;
  opt.batch_size = 2;
  auto e = NewOpenAiEmbedder({"nomic-embed-text", srv.url() + "/v1", "sk-test"}, opt);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->name(), "openai:nomic-embed-text");
  const auto texts = Texts(3);
  auto v = (*e)->Embed(texts);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ((*v)[i], Code(texts[i]));
  const auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  EXPECT_EQ(reqs[0].Header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(reqs[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(reqs[0].body),
            Json({{"model", "nomic-embed-text"}, {"input", {"a", "bb"}}}));
  EXPECT_EQ(Json::parse(reqs[1].body)["input"], Json({"ccc"}));

  // Without "/v1" in the base, and without a key: no Authorization header.
  auto bare = NewOpenAiEmbedder({"m", srv.url() + "/api", ""});
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE((*bare)->Embed({"x"}).ok());
  EXPECT_EQ(srv.requests().back().target, "/api/v1/embeddings");
  EXPECT_EQ(srv.requests().back().Header("Authorization"), "(absent)");
}

TEST(OpenAiEmbedder, BadIndexesAreBadInput) {
  std::string mode;
  FakeServer srv([&mode](const httplib::Request&, httplib::Response& res) {
    Json data;
    if (mode == "repeat") {
      data = {{{"index", 0}, {"embedding", {1}}}, {{"index", 0}, {"embedding", {2}}}};
    } else if (mode == "range") {
      data = {{{"index", 0}, {"embedding", {1}}}, {{"index", 2}, {"embedding", {2}}}};
    } else if (mode == "base64") {
      data = {{{"index", 0}, {"embedding", "AACAPw=="}}, {{"index", 1}, {"embedding", "AACAPw=="}}};
    } else {
      data = {{{"embedding", {1}}}, {{"index", 1}, {"embedding", {2}}}};
    }
    ReplyJson(res, {{"data", data}});
  });
  auto e = NewOpenAiEmbedder({"m", srv.url(), ""});
  ASSERT_TRUE(e.ok());
  const std::map<std::string, std::string> expect = {
      {"repeat", "data[1].index = 0: expected each of 0..1 once"},
      {"range", "data[1].index = 2: expected each of 0..1 once"},
      {"base64", "data[0].embedding: expected a list of numbers (base64"},
      {"missing", "data[0].index: expected an integer"}};
  for (const auto& [m, want] : expect) {
    mode = m;
    auto v = (*e)->Embed({"a", "b"});
    ASSERT_FALSE(v.ok()) << m;
    EXPECT_EQ(v.status().code(), StatusCode::kBadInput) << m;
    EXPECT_THAT(v.status().message(), HasSubstr(want)) << m;
  }
}

// ---------------------------------------------------------------------------
// Generators.

TEST(SageMakerGenerator, FlanT5PayloadWithTheWorkshopsDefaults) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"generated_texts", {"SageMaker is a managed ML service."}}});
  });
  auto g = NewSageMakerGenerator(Endpoint(srv, "jumpstart-flan-t5-xxl"));
  ASSERT_TRUE(g.ok());
  auto out = (*g)->Generate("Answer based on context:\n\nctx\n\nWhat is SageMaker?", {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->text, "SageMaker is a managed ML service.");
  EXPECT_THAT(out->texts, ElementsAre("SageMaker is a managed ML service."));
  EXPECT_EQ(out->provider, "sagemaker:jumpstart-flan-t5-xxl");
  EXPECT_FALSE(out->prompt_tokens.has_value());
  EXPECT_FALSE(out->completion_tokens.has_value());
  EXPECT_GT(out->latency_ms, 0);
  const Recorded r = srv.requests().at(0);
  EXPECT_EQ(r.target, "/endpoints/jumpstart-flan-t5-xxl/invocations");
  EXPECT_EQ(Verify(r), "accepted");
  EXPECT_EQ(Json::parse(r.body),
            Json({{"text_inputs", "Answer based on context:\n\nctx\n\nWhat is SageMaker?"},
                  {"max_length", 500},
                  {"num_return_sequences", 1},
                  {"top_k", 250},
                  {"top_p", 0.95},
                  {"do_sample", false},
                  {"temperature", 1.0}}));
}

TEST(SageMakerGenerator, SeveralSequencesAndBadReplies) {
  std::string reply;
  FakeServer srv([&reply](const httplib::Request&, httplib::Response& res) {
    res.set_content(reply, "application/json");
  });
  auto g = NewSageMakerGenerator(Endpoint(srv));
  ASSERT_TRUE(g.ok());
  GenerationParams p;
  p.num_return_sequences = 2;
  p.do_sample = true;
  reply = R"({"generated_texts": ["one", "two"]})";
  auto out = (*g)->Generate("q", p);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(out->texts, ElementsAre("one", "two"));
  EXPECT_EQ(Json::parse(srv.requests().back().body)["num_return_sequences"], 2);
  for (const char* bad : {R"({"generated_text": "x"})", R"({"generated_texts": []})",
                          R"([{"generated_text": "x"}])"}) {
    reply = bad;
    out = (*g)->Generate("q", {});
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kBadInput);
    EXPECT_THAT(out.status().message(), HasSubstr("expected {\"generated_texts\": [\"...\"]}"));
  }
  reply = R"({"generated_texts": [1]})";
  EXPECT_THAT((*g)->Generate("q", {}).status().message(),
              HasSubstr("generated_texts[0] is not a string"));
}

TEST(Generators, ParamsAreCheckedBeforeAnyRequest) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"generated_texts", {"x"}}});
  });
  auto g = NewSageMakerGenerator(Endpoint(srv));
  ASSERT_TRUE(g.ok());
  GenerationParams p;
  p.top_p = 0;
  EXPECT_EQ((*g)->Generate("q", p).status().message(), "generation: top_p = 0: expected in (0, 1]");
  p = {};
  p.max_length = 0;
  EXPECT_THAT((*g)->Generate("q", p).status().message(), HasSubstr("max_length = 0"));
  p = {};
  p.temperature = -1;
  EXPECT_THAT((*g)->Generate("q", p).status().message(), HasSubstr("temperature = -1"));
  p = {};
  p.num_return_sequences = 0;
  EXPECT_EQ((*g)->Generate("q", p).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(srv.requests().empty());
}

TEST(OpenAiGenerator, ChatCompletionWireFormatAndUsage) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res,
              {{"id", "chatcmpl-1"},
               {"object", "chat.completion"},
               {"choices",
                {{{"index", 0},
                  {"message", {{"role", "assistant"}, {"content", "Paris."}}},
                  {"finish_reason", "stop"}}}},
               {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 2}, {"total_tokens", 14}}}});
  });
  auto g = NewOpenAiGenerator({"llama-3-8b", srv.url() + "/v1/", "sk-x"});
  ASSERT_TRUE(g.ok());
  auto out = (*g)->Generate("Capital of France?", {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->text, "Paris.");
  EXPECT_EQ(out->provider, "openai:llama-3-8b");
  EXPECT_EQ(out->prompt_tokens, 12);
  EXPECT_EQ(out->completion_tokens, 2);
  const Recorded r = srv.requests().at(0);
  EXPECT_EQ(r.target, "/v1/chat/completions");
  EXPECT_EQ(r.Header("Authorization"), "Bearer sk-x");
  // do_sample=false (the workshop's default) is greedy decoding: temperature 0.
  EXPECT_EQ(Json::parse(r.body),
            Json({{"model", "llama-3-8b"},
                  {"messages", {{{"role", "user"}, {"content", "Capital of France?"}}}},
                  {"max_tokens", 500},
                  {"n", 1},
                  {"top_p", 0.95},
                  {"temperature", 0.0}}));
  GenerationParams p;
  p.do_sample = true;
  p.temperature = 0.7;
  ASSERT_TRUE((*g)->Generate("q", p).ok());
  EXPECT_EQ(Json::parse(srv.requests().back().body)["temperature"], 0.7);
}

TEST(OpenAiGenerator, MissingContentIsBadInput) {
  FakeServer srv([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}}}}}}});
  });
  auto g = NewOpenAiGenerator({"m", srv.url(), ""});
  ASSERT_TRUE(g.ok());
  auto out = (*g)->Generate("q", {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kBadInput);
  EXPECT_THAT(out.status().message(), HasSubstr("choices[0].message.content: expected a string"));
}

}  // namespace
}  // namespace sagebox::retrieval
