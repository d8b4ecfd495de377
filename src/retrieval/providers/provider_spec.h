// provider_spec.h: embedders and generators from the one-line specs the CLI
// and the server take (`--embedder`, `--generator`):
//
//   words[@PATH]                   averaged word vectors (word_vectors.h); PATH
//                                  defaults to FindWordVectors()
//   sagemaker:ENDPOINT[@URL]       InvokeEndpoint; URL defaults to
//                                  https://runtime.sagemaker.<region>.amazonaws.com
//   openai:MODEL[@URL]             /v1/embeddings or /v1/chat/completions; URL
//                                  defaults to https://api.openai.com
//
// followed by optional ",key=value" settings:
//   batch=N          texts per request (embedders)
//   dim=N            expected vector length (embedders)
//   timeout=SECONDS  read timeout per request (default 120)
//   format=jumpstart|hf|kserve   SageMaker embedding content type (default jumpstart;
//                    kserve: KServe v2 JSON, as sagebox's own endpoint takes it)
//   input=NAME, output=NAME   format=kserve: the model's text input (default TEXT) and
//                    its embedding output (default the first)
//   target=MODEL     X-Amzn-SageMaker-Target-Model (SageMaker)
//
// SageMaker takes its key and region from AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION;
// openai sends OPENAI_API_KEY as a bearer token when it is set.
//
// Examples: "sagemaker:hf-textembedding-gpt-j-6b,batch=5",
// "sagemaker:minilm@http://127.0.0.1:8080,format=hf",
// "sagemaker:sagebox@http://127.0.0.1:8080,format=kserve,target=embed.tar.gz",
// "openai:nomic-embed-text@http://127.0.0.1:11434/v1".
//
// Thread-safety: pure functions (they read the environment through ctx).
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "retrieval/providers/embedder.h"
#include "retrieval/providers/generator.h"

namespace sagebox::retrieval {

struct ProviderContext {
  GetEnvFn getenv = nullptr;  // std::getenv when null
  Env* env = nullptr;         // Env::Default() when null (finding and reading word vectors)
};

// InvalidArgument "provider spec \"<spec>\": <what is wrong> (expected ...)" for an
// unknown kind, a missing name, an unknown or repeated setting, a bad number
// or URL, or SageMaker without credentials; NotFound/Corruption from loading
// the word vectors.
StatusOr<std::unique_ptr<Embedder>> MakeEmbedder(const std::string& spec,
                                                 const ProviderContext& ctx = {});
// As MakeEmbedder; `words` is not a generator, and batch/dim/format do not apply.
StatusOr<std::unique_ptr<Generator>> MakeGenerator(const std::string& spec,
                                                   const ProviderContext& ctx = {});

}  // namespace sagebox::retrieval
