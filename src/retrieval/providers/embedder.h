// embedder.h: text -> vector providers for dense retrieval, behind one
// interface: SageMaker InvokeEndpoint (JumpStart text embedding and Hugging
// Face feature extraction content types; sagebox's own `endpoint serve` speaks
// the same protocol), OpenAI-compatible /v1/embeddings (OpenAI, vLLM,
// llama.cpp's server, Ollama), and averaged word vectors (word_vectors.h).
//
// Every HTTP embedder sends its texts in batches of EmbedderOptions::batch_size
// and checks each reply (one vector per text, all of one dimension) before
// returning; errors name the provider, the URL, the HTTP status and quote the
// body's message (provider_http.h).
//
// Thread-safety: Embed may be called from several threads at once on one
// embedder (each call opens its own connection; the learned dimension is
// atomic). The options are fixed at construction.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "retrieval/providers/provider_http.h"

namespace sagebox::retrieval {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Names the provider and model in outputs and logs, e.g.
  // "sagemaker:my-gptj-endpoint", "openai:nomic-embed-text", "wink-sg-100d".
  virtual std::string name() const = 0;
  // The vector length: fixed for local models; for HTTP providers the length
  // given in the options, else learned from the first reply (0 before).
  virtual int dim() const = 0;
  // One vector per text, in order. An empty input gives an empty output
  // without a request. Errors: as the implementation says.
  virtual StatusOr<std::vector<std::vector<float>>> Embed(
      const std::vector<std::string>& texts) = 0;
};

struct EmbedderOptions {
  int batch_size = 0;  // texts per request; 0 = the provider's default
  int dim = 0;         // expected vector length; 0 = learn it from the first reply
  HttpTimeouts timeouts;
};

// AWS credentials and region for SageMaker Runtime.
struct AwsConfig {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  std::string region;         // e.g. "us-east-1"
};

// Reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional)
// and AWS_REGION, else AWS_DEFAULT_REGION, through `getenv` (std::getenv when
// null; tests pass their own). InvalidArgument naming the missing variables.
// Only the environment: no ~/.aws files, no instance metadata.
using GetEnvFn = const char* (*)(const char*);
StatusOr<AwsConfig> AwsConfigFromEnvironment(GetEnvFn getenv = nullptr);

// The content type a SageMaker endpoint speaks.
enum class SageMakerEmbedFormat {
  // JumpStart text embedding (GPT-J 6B in the seed article, via LangChain's
  // SagemakerEndpointEmbeddingsJumpStart): {"text_inputs": [...]} ->
  // {"embedding": [[...], ...]}.
  kJumpStart,
  // The Hugging Face inference toolkit's feature-extraction task:
  // {"inputs": [...]} -> one nested list per input: a vector (sentence
  // embedding models), or token vectors [tokens][dim] (possibly [1][tokens][dim])
  // that are mean-pooled over all tokens (no attention mask comes back, so
  // special tokens count too).
  kHuggingFace,
  // KServe v2 inference JSON, which sagebox's own `endpoint` module (and Triton behind
  // SageMaker) takes at InvokeEndpoint: {"inputs": [{"name": kserve_input, "shape": [n, 1],
  // "datatype": "BYTES", "data": [texts]}]} -> {"outputs": [...]}, of which the one named
  // kserve_output (the first when empty) holds n vectors: shape [n, dim] (or [n, 1, dim]),
  // a numeric datatype, data flat in row-major order or nested. The [n, 1] input is
  // Triton's layout for a batched string input: config max_batch_size >= the batch size,
  // dims [1].
  kKServe,
};

struct SageMakerEndpointConfig {
  std::string endpoint_name;  // [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}, as SageMaker requires
  // Where InvokeEndpoint lives: empty = https://runtime.sagemaker.<region>.amazonaws.com;
  // e.g. http://127.0.0.1:8080 for `sagebox endpoint serve`. A base path is kept.
  std::string url;
  std::string target_model;  // X-Amzn-SageMaker-Target-Model (multi-model endpoints), optional
  // kKServe only: the model's text input and its embedding output ("" = the first).
  std::string kserve_input = "TEXT";
  std::string kserve_output;
  AwsConfig aws;  // the key signs every request (SigV4, service "sagemaker")
};

// InvalidArgument for a bad endpoint name, URL or empty key/region.
// Embed: IoError when the endpoint cannot be reached or times out, HttpError's
// codes for a non-2xx reply, BadInput for a reply that is not the format's
// (malformed JSON, wrong vector count, ragged or changing dimension).
StatusOr<std::unique_ptr<Embedder>> NewSageMakerEmbedder(const SageMakerEndpointConfig& config,
                                                         SageMakerEmbedFormat format,
                                                         const EmbedderOptions& options = {});

struct OpenAiConfig {
  std::string model;  // "text-embedding-3-small", "nomic-embed-text", ...
  // The API base, with or without its "/v1": "https://api.openai.com",
  // "http://127.0.0.1:8080/v1". Requests go to <base>/v1/embeddings.
  std::string url;
  std::string api_key;  // sent as "Authorization: Bearer <key>" when not empty
};

// POST <base>/v1/embeddings {"model": M, "input": [...]} -> data[i].embedding,
// placed by data[i].index. Errors as NewSageMakerEmbedder's (plus BadInput for
// a missing, repeated or out-of-range index).
StatusOr<std::unique_ptr<Embedder>> NewOpenAiEmbedder(const OpenAiConfig& config,
                                                      const EmbedderOptions& options = {});

// Shared by the HTTP embedders; public for tests. Calls `embed_batch` on
// consecutive slices of at most `batch_size` texts (>= 1) and concatenates the
// results, checking each: BadInput "<who>: reply: <n> vectors for <m> texts"
// for a wrong count, "<who>: reply: vector <i> has <n> dimensions, expected
// <d>" unless every vector has `*dim` entries (a zero `*dim` becomes the first
// vector's length; an empty vector is always an error). The first failing
// batch's Status otherwise, prefixed with nothing (the batch names itself).
using EmbedBatchFn =
    std::function<StatusOr<std::vector<std::vector<float>>>(const std::vector<std::string>&)>;
StatusOr<std::vector<std::vector<float>>> EmbedInBatches(const std::vector<std::string>& texts,
                                                         int batch_size,
                                                         const EmbedBatchFn& embed_batch,
                                                         const std::string& who,
                                                         std::atomic<int>* dim);

}  // namespace sagebox::retrieval
