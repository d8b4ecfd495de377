// OpenAI-compatible APIs: /v1/embeddings and /v1/chat/completions.
//
// Wire format: OpenAI's API reference ("Create embeddings": {"model",
// "input": [...]} -> {"data": [{"index", "embedding"}], "usage"}; "Create
// chat completion": {"model", "messages", "max_tokens", "n", "top_p",
// "temperature"} -> {"choices": [{"index", "message": {"content"}}],
// "usage": {"prompt_tokens", "completion_tokens"}}), which vLLM, llama.cpp's
// server and Ollama implement too.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "retrieval/providers/batched_embedder.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/providers/generator.h"

namespace sagebox::retrieval {
namespace {

using Json = nlohmann::json;

class OpenAiClient {
 public:
  static StatusOr<OpenAiClient> Create(const OpenAiConfig& c, const std::string& operation) {
    if (c.model.empty()) return InvalidArgument("openai: a model name is required");
    ASSIGN_OR_RETURN(ProviderUrl u, ParseProviderUrl(c.url, "openai: API URL"));
    OpenAiClient client;
    client.config_ = c;
    // The base may or may not carry the version, as OpenAI's SDKs' base_url does.
    const bool has_v1 = u.path.size() >= 3 && u.path.compare(u.path.size() - 3, 3, "/v1") == 0;
    client.path_ = u.path + (has_v1 ? "" : "/v1") + "/" + operation;
    client.url_ = std::move(u);
    return client;
  }

  std::string name() const { return "openai:" + config_.model; }
  std::string full_url() const { return url_.Origin() + path_; }
  const std::string& model() const { return config_.model; }

  // The parsed JSON of a 2xx reply; Post's, HttpError's or ReplyError's errors.
  StatusOr<Json> Call(const Json& request, const HttpTimeouts& timeouts) const {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!config_.api_key.empty())
      headers.emplace_back("Authorization", "Bearer " + config_.api_key);
    ASSIGN_OR_RETURN(HttpReply reply, Post(name(), url_, path_, headers, request.dump(), timeouts));
    if (reply.status < 200 || reply.status > 299) return HttpError(name(), full_url(), reply);
    Json j = Json::parse(reply.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return ReplyError(name(), full_url(), "not a JSON object");
    }
    return j;
  }

 private:
  OpenAiConfig config_;
  ProviderUrl url_;
  std::string path_;
};

class OpenAiEmbedder final : public BatchedHttpEmbedder<OpenAiClient> {
 public:
  OpenAiEmbedder(OpenAiClient client, const EmbedderOptions& opt)
      : BatchedHttpEmbedder(std::move(client), opt, /*default_batch=*/64) {}

 private:
  StatusOr<std::vector<std::vector<float>>> EmbedBatch(
      const std::vector<std::string>& texts) override {
    ASSIGN_OR_RETURN(Json reply,
                     client_.Call({{"model", client_.model()}, {"input", texts}}, opt_.timeouts));
    auto error = [&](const std::string& what) {
      return ReplyError(name(), client_.full_url(), what);
    };
    const auto data = reply.find("data");
    if (data == reply.end() || !data->is_array()) return error("expected \"data\": [...]");
    if (data->size() != texts.size()) {
      return error(fmt::format("{} vectors for {} texts", data->size(), texts.size()));
    }
    std::vector<std::vector<float>> out(texts.size());
    std::vector<bool> seen(texts.size(), false);
    for (size_t i = 0; i < data->size(); ++i) {
      const Json& d = (*data)[i];
      const auto index = d.is_object() ? d.find("index") : d.end();
      const auto emb = d.is_object() ? d.find("embedding") : d.end();
      if (index == d.end() || !index->is_number_integer()) {
        return error(fmt::format("data[{}].index: expected an integer", i));
      }
      const auto k = index->get<int64_t>();
      if (k < 0 || k >= static_cast<int64_t>(texts.size()) || seen[static_cast<size_t>(k)]) {
        return error(fmt::format("data[{}].index = {}: expected each of 0..{} once", i, k,
                                 texts.size() - 1));
      }
      if (emb == d.end() || !emb->is_array()) {
        return error(
            fmt::format("data[{}].embedding: expected a list of numbers (base64 "
                        "encoding is not supported)",
                        i));
      }
      std::vector<float>& v = out[static_cast<size_t>(k)];
      v.reserve(emb->size());
      for (const Json& x : *emb) {
        if (!x.is_number()) {
          return error(fmt::format("data[{}].embedding: expected a list of numbers", i));
        }
        v.push_back(x.get<float>());
      }
      seen[static_cast<size_t>(k)] = true;
    }
    return out;
  }
};

class OpenAiGenerator final : public Generator {
 public:
  OpenAiGenerator(OpenAiClient client, const HttpTimeouts& timeouts)
      : client_(std::move(client)), timeouts_(timeouts) {}
  std::string name() const override { return client_.name(); }

  StatusOr<Generation> Generate(const std::string& prompt, const GenerationParams& p) override {
    RETURN_IF_ERROR(ValidateGenerationParams(p));
    const Json request = {{"model", client_.model()},
                          {"messages", Json::array({{{"role", "user"}, {"content", prompt}}})},
                          {"max_tokens", p.max_length},
                          {"n", p.num_return_sequences},
                          {"top_p", p.top_p},
                          {"temperature", p.do_sample ? p.temperature : 0.0}};
    const auto t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(Json reply, client_.Call(request, timeouts_));
    Generation g;
    g.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    g.provider = name();
    auto error = [&](const std::string& what) {
      return ReplyError(name(), client_.full_url(), what);
    };
    const auto choices = reply.find("choices");
    if (choices == reply.end() || !choices->is_array() || choices->empty()) {
      return error("expected \"choices\": [...] with at least one choice");
    }
    for (size_t i = 0; i < choices->size(); ++i) {
      const Json& c = (*choices)[i];
      const Json* content = nullptr;
      if (c.is_object() && c.contains("message") && c["message"].is_object() &&
          c["message"].contains("content")) {
        content = &c["message"]["content"];
      }
      if (content == nullptr || !content->is_string()) {
        return error(fmt::format("choices[{}].message.content: expected a string", i));
      }
      g.texts.push_back(content->get<std::string>());
    }
    g.text = g.texts.front();
    if (const auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
      auto count = [&](const char* key) -> std::optional<int> {
        const auto it = usage->find(key);
        if (it == usage->end() || !it->is_number_integer()) return std::nullopt;
        return it->get<int>();
      };
      g.prompt_tokens = count("prompt_tokens");
      g.completion_tokens = count("completion_tokens");
    }
    return g;
  }

 private:
  OpenAiClient client_;
  HttpTimeouts timeouts_;
};

}  // namespace

StatusOr<std::unique_ptr<Embedder>> NewOpenAiEmbedder(const OpenAiConfig& config,
                                                      const EmbedderOptions& options) {
  ASSIGN_OR_RETURN(OpenAiClient client, OpenAiClient::Create(config, "embeddings"));
  return std::unique_ptr<Embedder>(std::make_unique<OpenAiEmbedder>(std::move(client), options));
}

StatusOr<std::unique_ptr<Generator>> NewOpenAiGenerator(const OpenAiConfig& config,
                                                        const HttpTimeouts& timeouts) {
  ASSIGN_OR_RETURN(OpenAiClient client, OpenAiClient::Create(config, "chat/completions"));
  return std::unique_ptr<Generator>(std::make_unique<OpenAiGenerator>(std::move(client), timeouts));
}

}  // namespace sagebox::retrieval
