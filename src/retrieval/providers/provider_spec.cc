#include "retrieval/providers/provider_spec.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <map>

#include "retrieval/providers/word_vectors.h"

namespace sagebox::retrieval {
namespace {

struct Spec {
  std::string kind;  // "words", "sagemaker", "openai"
  std::string name;  // endpoint or model; empty for words
  std::string url;   // or the word-vector path
  std::map<std::string, std::string> settings;
};

constexpr char kExpected[] =
    "expected words[@PATH], sagemaker:ENDPOINT[@URL] or openai:MODEL[@URL], then optional "
    ",key=value settings";

Status SpecError(const std::string& spec, const std::string& what) {
  return InvalidArgument(fmt::format("provider spec {:?}: {} ({})", spec, what, kExpected));
}

StatusOr<Spec> ParseSpec(const std::string& text) {
  Spec s;
  const size_t comma = text.find(',');
  const std::string head = text.substr(0, comma);
  if (comma != std::string::npos) {
    size_t start = comma + 1;
    while (start <= text.size()) {
      const size_t end = std::min(text.find(',', start), text.size());
      const std::string kv = text.substr(start, end - start);
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
        return SpecError(text, fmt::format("setting {:?} is not key=value", kv));
      }
      const std::string key = kv.substr(0, eq);
      if (!s.settings.emplace(key, kv.substr(eq + 1)).second) {
        return SpecError(text, "setting " + key + " given twice");
      }
      start = end + 1;
    }
  }
  const size_t colon = head.find(':');
  const size_t at = head.rfind('@');
  if (colon == std::string::npos || (at != std::string::npos && at < colon)) {
    s.kind = head.substr(0, at);
    if (at != std::string::npos) s.url = head.substr(at + 1);
  } else {
    s.kind = head.substr(0, colon);
    const size_t name_end = at == std::string::npos ? head.size() : at;
    s.name = head.substr(colon + 1, name_end - colon - 1);
    if (at != std::string::npos) s.url = head.substr(at + 1);
  }
  if (s.kind.empty()) return SpecError(text, "no provider kind");
  if (s.kind != "words" && s.kind != "sagemaker" && s.kind != "openai") {
    return SpecError(text, fmt::format("unknown provider {:?}", s.kind));
  }
  if (s.kind == "words" && !s.name.empty()) return SpecError(text, "words takes no name");
  if (s.kind != "words" && s.name.empty()) {
    return SpecError(text, s.kind +
                               (s.kind == "sagemaker" ? " needs an endpoint" : " needs a model") +
                               " name after the ':'");
  }
  if (at != std::string::npos && s.url.empty()) return SpecError(text, "nothing after '@'");
  return s;
}

// Takes the settings in `allowed` out of s->settings; any left over is an error.
Status CheckSettings(const std::string& text, const Spec& s,
                     std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : s.settings) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      return SpecError(text, fmt::format("setting {:?} does not apply to {}", key, s.kind));
    }
  }
  return Status::Ok();
}

StatusOr<int> PositiveSetting(const std::string& text, const Spec& s, const char* key, int dflt,
                              int max) {
  const auto it = s.settings.find(key);
  if (it == s.settings.end()) return dflt;
  int v = 0;
  const std::string& t = it->second;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || v < 1 || v > max) {
    return SpecError(text, fmt::format("{}={}: expected a whole number in 1..{}", key, t, max));
  }
  return v;
}

StatusOr<HttpTimeouts> Timeouts(const std::string& text, const Spec& s) {
  HttpTimeouts t;
  ASSIGN_OR_RETURN(int secs, PositiveSetting(text, s, "timeout", 120, 3600));
  t.read = std::chrono::seconds(secs);
  return t;
}

std::string GetEnv(const ProviderContext& ctx, const char* name) {
  const char* v = ctx.getenv != nullptr ? ctx.getenv(name)
                                        : std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return v == nullptr ? "" : v;
}

StatusOr<SageMakerEndpointConfig> SageMakerConfig(const std::string& text, const Spec& s,
                                                  const ProviderContext& ctx) {
  SageMakerEndpointConfig c;
  c.endpoint_name = s.name;
  c.url = s.url;
  if (auto it = s.settings.find("target"); it != s.settings.end()) c.target_model = it->second;
  auto aws = AwsConfigFromEnvironment(ctx.getenv);
  if (!aws.ok()) return SpecError(text, aws.status().message());
  c.aws = *aws;
  return c;
}

OpenAiConfig OpenAi(const Spec& s, const ProviderContext& ctx) {
  OpenAiConfig c;
  c.model = s.name;
  c.url = s.url.empty() ? "https://api.openai.com" : s.url;
  c.api_key = GetEnv(ctx, "OPENAI_API_KEY");
  return c;
}

}  // namespace

StatusOr<std::unique_ptr<Embedder>> MakeEmbedder(const std::string& text,
                                                 const ProviderContext& ctx) {
  ASSIGN_OR_RETURN(Spec s, ParseSpec(text));
  Env* env = ctx.env != nullptr ? ctx.env : Env::Default();
  if (s.kind == "words") {
    RETURN_IF_ERROR(CheckSettings(text, s, {}));
    std::string path = s.url;
    if (path.empty()) {
      ASSIGN_OR_RETURN(path, FindWordVectors(env));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const WordVectors> v, WordVectors::Load(env, path));
    return NewWordVectorEmbedder(std::move(v));
  }
  EmbedderOptions opt;
  ASSIGN_OR_RETURN(opt.batch_size, PositiveSetting(text, s, "batch", 0, 100000));
  ASSIGN_OR_RETURN(opt.dim, PositiveSetting(text, s, "dim", 0, 65536));
  ASSIGN_OR_RETURN(opt.timeouts, Timeouts(text, s));
  if (s.kind == "sagemaker") {
    RETURN_IF_ERROR(
        CheckSettings(text, s, {"batch", "dim", "timeout", "format", "target", "input", "output"}));
    SageMakerEmbedFormat format = SageMakerEmbedFormat::kJumpStart;
    if (auto it = s.settings.find("format"); it != s.settings.end()) {
      if (it->second == "hf") {
        format = SageMakerEmbedFormat::kHuggingFace;
      } else if (it->second == "kserve") {
        format = SageMakerEmbedFormat::kKServe;
      } else if (it->second != "jumpstart") {
        return SpecError(text, "format=" + it->second + ": expected jumpstart, hf or kserve");
      }
    }
    ASSIGN_OR_RETURN(SageMakerEndpointConfig c, SageMakerConfig(text, s, ctx));
    for (const char* key : {"input", "output"}) {
      auto it = s.settings.find(key);
      if (it == s.settings.end()) continue;
      if (format != SageMakerEmbedFormat::kKServe) {
        return SpecError(text, std::string(key) + "= names a tensor: only with format=kserve");
      }
      (std::string_view(key) == "input" ? c.kserve_input : c.kserve_output) = it->second;
    }
    return NewSageMakerEmbedder(c, format, opt);
  }
  RETURN_IF_ERROR(CheckSettings(text, s, {"batch", "dim", "timeout"}));
  return NewOpenAiEmbedder(OpenAi(s, ctx), opt);
}

StatusOr<std::unique_ptr<Generator>> MakeGenerator(const std::string& text,
                                                   const ProviderContext& ctx) {
  ASSIGN_OR_RETURN(Spec s, ParseSpec(text));
  if (s.kind == "words") return SpecError(text, "words embeds text, it cannot generate");
  ASSIGN_OR_RETURN(HttpTimeouts timeouts, Timeouts(text, s));
  if (s.kind == "sagemaker") {
    RETURN_IF_ERROR(CheckSettings(text, s, {"timeout", "target"}));
    ASSIGN_OR_RETURN(SageMakerEndpointConfig c, SageMakerConfig(text, s, ctx));
    return NewSageMakerGenerator(c, timeouts);
  }
  RETURN_IF_ERROR(CheckSettings(text, s, {"timeout"}));
  return NewOpenAiGenerator(OpenAi(s, ctx), timeouts);
}

}  // namespace sagebox::retrieval
