// generator.h: prompt -> text providers for answering questions: SageMaker
// JumpStart text generation (FLAN-T5 in the seed article: text_inputs plus
// the workshop's parameters -> generated_texts) and OpenAI-compatible
// /v1/chat/completions. The extractive generator (no model) lives with the
// rag module; it implements the same interface.
//
// Thread-safety: Generate may be called from several threads at once on one
// generator (each call opens its own connection).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "retrieval/providers/embedder.h"

namespace sagebox::retrieval {

// The workshop's request model (llm-apps-workshop blogs/rag/api/.../fastapi_request.py,
// class Request), with its defaults.
struct GenerationParams {
  int max_length = 500;
  int num_return_sequences = 1;
  int top_k = 250;
  double top_p = 0.95;
  bool do_sample = false;
  double temperature = 1;
};

struct Generation {
  std::string text;                // the first (or only) sequence
  std::vector<std::string> texts;  // every sequence returned, text == texts[0]
  std::string provider;            // Generator::name()
  // Token counts when the API reports them (OpenAI's usage); JumpStart does not.
  std::optional<int> prompt_tokens;
  std::optional<int> completion_tokens;
  double latency_ms = 0;  // wall time of the request, connect to last byte
};

// InvalidArgument "generation: <field> = <value>: expected ..." for max_length
// < 1, num_return_sequences < 1, top_k < 0, top_p outside (0, 1], or
// temperature < 0 (or not finite). Every generator checks this first.
Status ValidateGenerationParams(const GenerationParams& p);

class Generator {
 public:
  virtual ~Generator() = default;
  // e.g. "sagemaker:jumpstart-flan-t5-xxl", "openai:llama-3-8b".
  virtual std::string name() const = 0;
  // Errors: InvalidArgument for params out of range (max_length < 1,
  // num_return_sequences < 1, top_p outside (0, 1], temperature < 0); IoError
  // when the provider cannot be reached or times out; HttpError's codes for a
  // non-2xx reply; BadInput for a reply without the promised text.
  virtual StatusOr<Generation> Generate(const std::string& prompt,
                                        const GenerationParams& params) = 0;
};

// POST /endpoints/NAME/invocations, SigV4-signed, with
// {"text_inputs": prompt, "max_length", "num_return_sequences", "top_k",
//  "top_p", "do_sample", "temperature"} (the workshop's SagemakerEndpoint
// model_kwargs) -> {"generated_texts": [...]}. InvalidArgument as
// NewSageMakerEmbedder for the config.
StatusOr<std::unique_ptr<Generator>> NewSageMakerGenerator(const SageMakerEndpointConfig& config,
                                                           const HttpTimeouts& timeouts = {});

// POST <base>/v1/chat/completions with {"model", "messages": [{"role": "user",
// "content": prompt}], "max_tokens": max_length, "n": num_return_sequences,
// "top_p", "temperature"}: temperature 0 (greedy) when do_sample is false, as
// the workshop's do_sample=false means; top_k is not part of OpenAI's API and
// is not sent. -> choices[i].message.content, usage.prompt_tokens /
// completion_tokens.
StatusOr<std::unique_ptr<Generator>> NewOpenAiGenerator(const OpenAiConfig& config,
                                                        const HttpTimeouts& timeouts = {});

}  // namespace sagebox::retrieval
