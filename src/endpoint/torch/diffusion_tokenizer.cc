#include "endpoint/torch/diffusion_tokenizer.h"

#include <algorithm>
#include <cstddef>

namespace sagebox::endpoint {

std::vector<int64_t> TokenizeFallback(std::string_view prompt, const TokenizerSettings& settings) {
  const auto length = static_cast<size_t>(std::max(settings.max_length, 2));
  std::vector<int64_t> ids;
  ids.reserve(length);
  ids.push_back(settings.bos_id);
  // Like CLIP's tokenizer, text beyond the window is cut, never an error: the
  // article's clients send free-form prompts of any length.
  const size_t keep = std::min(prompt.size(), length - 2);
  for (size_t i = 0; i < keep; ++i) ids.push_back(static_cast<unsigned char>(prompt[i]));
  ids.push_back(settings.eos_id);
  while (ids.size() < length) ids.push_back(settings.pad_id);
  return ids;
}

}  // namespace sagebox::endpoint
