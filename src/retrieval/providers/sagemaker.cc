// SageMaker Runtime InvokeEndpoint: embedders and the JumpStart text generator.
//
// Wire format: AWS's InvokeEndpoint API reference (POST
// /endpoints/{EndpointName}/invocations, body as the model's content type,
// X-Amzn-SageMaker-Target-Model for multi-model endpoints), signed with
// SigV4 for service "sagemaker". The payloads are the seed article's code
// (aws-samples/llm-apps-workshop blogs/rag/api/.../initialize.py and
// sm_helper.py) and the Hugging Face SageMaker inference toolkit's
// {"inputs": ...} request.
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/env.h"
#include "http/sigv4.h"
#include "retrieval/providers/batched_embedder.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/providers/generator.h"

namespace sagebox::retrieval {
namespace {

using Json = nlohmann::json;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// SageMaker's EndpointName pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$.
bool ValidEndpointName(const std::string& n) {
  if (n.empty() || n.size() > 63 || !IsAlnum(n.front()) || !IsAlnum(n.back())) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// One configured endpoint: where it is and how to sign for it.
class SageMakerClient {
 public:
  static StatusOr<SageMakerClient> Create(const SageMakerEndpointConfig& c) {
    if (!ValidEndpointName(c.endpoint_name)) {
      return InvalidArgument(fmt::format(
          "sagemaker: endpoint name {:?}: expected 1 to 63 letters, digits and inner hyphens",
          c.endpoint_name));
    }
    if (c.aws.access_key_id.empty() || c.aws.secret_access_key.empty() || c.aws.region.empty()) {
      return InvalidArgument("sagemaker: " + c.endpoint_name +
                             ": an access key, its secret and a region are required");
    }
    if (c.target_model.size() > 1024) {
      return InvalidArgument("sagemaker: target model: longer than 1024 characters");
    }
    const std::string url =
        c.url.empty() ? fmt::format("https://runtime.sagemaker.{}.amazonaws.com", c.aws.region)
                      : c.url;
    ASSIGN_OR_RETURN(ProviderUrl u, ParseProviderUrl(url, "sagemaker: endpoint URL"));
    SageMakerClient client;
    client.config_ = c;
    client.url_ = std::move(u);
    client.path_ = client.url_.path + "/endpoints/" + c.endpoint_name + "/invocations";
    return client;
  }

  std::string name() const { return "sagemaker:" + config_.endpoint_name; }
  const SageMakerEndpointConfig& config() const { return config_; }
  std::string full_url() const { return url_.Origin() + path_; }

  // The reply's body for a 2xx reply; Post's and HttpError's errors otherwise.
  StatusOr<std::string> Invoke(const std::string& body, const HttpTimeouts& timeouts) const {
    http::SigV4Request req;
    req.method = "POST";
    req.target = path_;
    req.body = body;
    req.headers = {{"Host", url_.HostHeader()},
                   {"Content-Type", "application/json"},
                   {"Accept", "application/json"}};
    if (!config_.target_model.empty()) {
      req.headers.emplace_back("X-Amzn-SageMaker-Target-Model", config_.target_model);
    }
    const http::SigV4Key key{config_.aws.access_key_id, config_.aws.secret_access_key,
                             config_.aws.session_token};
    http::SignSigV4(&req, key, config_.aws.region, "sagemaker", Env::Default()->Now());
    ASSIGN_OR_RETURN(HttpReply reply, Post(name(), url_, path_, req.headers, body, timeouts));
    if (reply.status < 200 || reply.status > 299) return HttpError(name(), full_url(), reply);
    return std::move(reply.body);
  }

 private:
  SageMakerEndpointConfig config_;
  ProviderUrl url_;
  std::string path_;
};

// A JSON array of numbers as floats, or nullopt when it is anything else.
std::optional<std::vector<float>> NumberArray(const Json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<float> v;
  v.reserve(j.size());
  for (const Json& x : j) {
    if (!x.is_number()) return std::nullopt;
    v.push_back(x.get<float>());
  }
  return v;
}

// "[2][3][768]"-style shape of the leading elements, for error messages.
std::string ShapeOf(const Json& j) {
  std::string s;
  const Json* p = &j;
  while (p->is_array()) {
    s += fmt::format("[{}]", p->size());
    if (p->empty()) break;
    p = &(*p)[0];
  }
  if (!p->is_array()) s += p->is_number() ? " numbers" : std::string(" of ") + p->type_name();
  return s;
}

// One item of a feature-extraction reply -> one vector: a vector as is, token
// vectors averaged, leading singleton dimensions dropped.
std::optional<std::vector<float>> PoolItem(const Json& item) {
  const Json* p = &item;
  while (p->is_array() && p->size() == 1 && (*p)[0].is_array() && !(*p)[0].empty() &&
         (*p)[0][0].is_array()) {
    p = &(*p)[0];
  }
  if (auto v = NumberArray(*p)) return v;
  if (!p->is_array() || p->empty()) return std::nullopt;
  std::vector<double> sum;
  for (const Json& tok : *p) {
    auto v = NumberArray(tok);
    if (!v || v->empty() || (!sum.empty() && v->size() != sum.size())) return std::nullopt;
    if (sum.empty()) sum.assign(v->size(), 0.0);
    for (size_t i = 0; i < v->size(); ++i) sum[i] += (*v)[i];
  }
  std::vector<float> out(sum.size());
  const auto n = static_cast<double>(p->size());
  for (size_t i = 0; i < sum.size(); ++i) out[i] = static_cast<float>(sum[i] / n);
  return out;
}

class SageMakerEmbedder final : public BatchedHttpEmbedder<SageMakerClient> {
 public:
  // The workshop's SagemakerEndpointEmbeddingsJumpStart sends 5 texts per request.
  SageMakerEmbedder(SageMakerClient client, SageMakerEmbedFormat format, const EmbedderOptions& opt)
      : BatchedHttpEmbedder(std::move(client), opt, /*default_batch=*/5), format_(format) {}

 private:
  StatusOr<std::vector<std::vector<float>>> EmbedBatch(
      const std::vector<std::string>& texts) override {
    if (format_ == SageMakerEmbedFormat::kKServe) return EmbedKServe(texts);
    const bool hf = format_ == SageMakerEmbedFormat::kHuggingFace;
    const Json request = {{hf ? "inputs" : "text_inputs", texts}};
    ASSIGN_OR_RETURN(std::string body, client_.Invoke(request.dump(), opt_.timeouts));
    const Json reply = Json::parse(body, nullptr, false);
    auto error = [&](const std::string& what) {
      return ReplyError(name(), client_.full_url(), what);
    };
    if (reply.is_discarded()) return error("not JSON");
    std::vector<std::vector<float>> out;
    if (!hf) {
      const Json* e = nullptr;
      if (reply.is_object()) {
        for (const char* key : {"embedding", "embeddings"}) {
          if (auto it = reply.find(key); it != reply.end()) e = &*it;
        }
      }
      if (e == nullptr) return error("expected an object with \"embedding\"");
      // A single text may come back as one flat vector (the workshop's
      // ContentHandlerForEmbeddings accepts both shapes).
      if (auto flat = NumberArray(*e); flat && texts.size() == 1 && !flat->empty()) {
        out.push_back(std::move(*flat));
        return out;
      }
      if (!e->is_array()) return error("\"embedding\" is not a list");
      for (size_t i = 0; i < e->size(); ++i) {
        auto v = NumberArray((*e)[i]);
        if (!v) return error(fmt::format("\"embedding\"[{}] is not a list of numbers", i));
        out.push_back(std::move(*v));
      }
      return out;
    }
    if (!reply.is_array())
      return error("expected a list (one item per input), got " + std::string(reply.type_name()));
    for (size_t i = 0; i < reply.size(); ++i) {
      auto v = PoolItem(reply[i]);
      if (!v) {
        return error(fmt::format("item {} has shape {}; expected [dim] or [tokens][dim] numbers", i,
                                 ShapeOf(reply[i])));
      }
      out.push_back(std::move(*v));
    }
    return out;
  }

  // KServe v2 JSON (embedder.h kKServe).
  StatusOr<std::vector<std::vector<float>>> EmbedKServe(const std::vector<std::string>& texts) {
    const SageMakerEndpointConfig& c = client_.config();
    const Json request = {{"inputs", Json::array({{{"name", c.kserve_input},
                                                   {"shape", {texts.size(), 1}},
                                                   {"datatype", "BYTES"},
                                                   {"data", texts}}})}};
    ASSIGN_OR_RETURN(std::string body, client_.Invoke(request.dump(), opt_.timeouts));
    const Json reply = Json::parse(body, nullptr, false);
    auto error = [&](const std::string& what) {
      return ReplyError(name(), client_.full_url(), what);
    };
    if (reply.is_discarded()) return error("not JSON");
    const auto outs = reply.is_object() ? reply.find("outputs") : reply.end();
    if (!reply.is_object() || outs == reply.end() || !outs->is_array() || outs->empty()) {
      return error("expected a KServe v2 response with \"outputs\"");
    }
    const Json* out = nullptr;
    for (const Json& o : *outs) {
      if (!o.is_object()) return error("an item of \"outputs\" is not an object");
      if (c.kserve_output.empty() || o.value("name", "") == c.kserve_output) {
        out = &o;
        break;
      }
    }
    if (out == nullptr) return error("no output named " + c.kserve_output);
    const std::string out_name = out->value("name", "");
    // The shape: n vectors of `dim`, with singleton middle dimensions allowed.
    const auto shape = out->find("shape");
    int64_t n = 0;
    int64_t dim = 1;
    if (shape == out->end() || !shape->is_array() || shape->size() < 2) {
      return error("output " + out_name + ": expected a shape [n, dim]");
    }
    for (size_t i = 0; i < shape->size(); ++i) {
      if (!(*shape)[i].is_number_integer() || (*shape)[i].get<int64_t>() < 1) {
        return error("output " + out_name + ": shape " + shape->dump() + " is not positive");
      }
      if (i == 0) {
        n = (*shape)[i].get<int64_t>();
      } else {
        dim *= (*shape)[i].get<int64_t>();
      }
    }
    if (n != static_cast<int64_t>(texts.size()) || dim > (int64_t{1} << 20)) {
      return error(
          fmt::format("output {}: shape {} for {} texts", out_name, shape->dump(), texts.size()));
    }
    // data: flat in row-major order, or nested as the shape.
    const auto data = out->find("data");
    if (data == out->end() || !data->is_array()) {
      return error("output " + out_name + ": no \"data\" list");
    }
    std::vector<float> flat;
    flat.reserve(static_cast<size_t>(n * dim));
    std::vector<const Json*> stack = {&*data};
    while (!stack.empty()) {
      const Json* j = stack.back();
      stack.pop_back();
      if (j->is_number()) {
        flat.push_back(j->get<float>());
      } else if (j->is_array()) {
        for (auto it = j->rbegin(); it != j->rend(); ++it) stack.push_back(&*it);
      } else {
        return error("output " + out_name + ": data holds a " + std::string(j->type_name()));
      }
      if (static_cast<int64_t>(flat.size()) > n * dim) break;
    }
    if (static_cast<int64_t>(flat.size()) != n * dim) {
      return error(
          fmt::format("output {}: {} numbers for shape {}", out_name, flat.size(), shape->dump()));
    }
    std::vector<std::vector<float>> vectors;
    for (int64_t i = 0; i < n; ++i) {
      vectors.emplace_back(flat.begin() + i * dim, flat.begin() + (i + 1) * dim);
    }
    return vectors;
  }

  SageMakerEmbedFormat format_;
};

class SageMakerGenerator final : public Generator {
 public:
  SageMakerGenerator(SageMakerClient client, const HttpTimeouts& timeouts)
      : client_(std::move(client)), timeouts_(timeouts) {}
  std::string name() const override { return client_.name(); }

  StatusOr<Generation> Generate(const std::string& prompt, const GenerationParams& p) override {
    RETURN_IF_ERROR(ValidateGenerationParams(p));
    const Json request = {{"text_inputs", prompt},
                          {"max_length", p.max_length},
                          {"num_return_sequences", p.num_return_sequences},
                          {"top_k", p.top_k},
                          {"top_p", p.top_p},
                          {"do_sample", p.do_sample},
                          {"temperature", p.temperature}};
    const auto t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(std::string body, client_.Invoke(request.dump(), timeouts_));
    Generation g;
    g.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    g.provider = name();
    const Json reply = Json::parse(body, nullptr, false);
    auto error = [&](const std::string& what) {
      return ReplyError(name(), client_.full_url(), what);
    };
    if (reply.is_discarded()) return error("not JSON");
    const auto it = reply.is_object() ? reply.find("generated_texts") : reply.end();
    if (!reply.is_object() || it == reply.end() || !it->is_array() || it->empty()) {
      return error("expected {\"generated_texts\": [\"...\"]}");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string())
        return error(fmt::format("generated_texts[{}] is not a string", i));
      g.texts.push_back((*it)[i].get<std::string>());
    }
    g.text = g.texts.front();
    return g;
  }

 private:
  SageMakerClient client_;
  HttpTimeouts timeouts_;
};

}  // namespace

StatusOr<std::unique_ptr<Embedder>> NewSageMakerEmbedder(const SageMakerEndpointConfig& config,
                                                         SageMakerEmbedFormat format,
                                                         const EmbedderOptions& options) {
  ASSIGN_OR_RETURN(SageMakerClient client, SageMakerClient::Create(config));
  return std::unique_ptr<Embedder>(
      std::make_unique<SageMakerEmbedder>(std::move(client), format, options));
}

StatusOr<std::unique_ptr<Generator>> NewSageMakerGenerator(const SageMakerEndpointConfig& config,
                                                           const HttpTimeouts& timeouts) {
  ASSIGN_OR_RETURN(SageMakerClient client, SageMakerClient::Create(config));
  return std::unique_ptr<Generator>(
      std::make_unique<SageMakerGenerator>(std::move(client), timeouts));
}

}  // namespace sagebox::retrieval
