// diffusion_tokenizer.h: prompt text -> the 77 token ids a Stable Diffusion text encoder reads.
//
// Real Stable Diffusion text encoders are CLIP's and want CLIP's byte-pair ids. This
// build ships the documented fallback only (CLIP BPE from tokenizer/vocab.json and
// merges.txt is not implemented yet): the prompt's UTF-8 bytes, each byte b becoming
// id b, between CLIP's BOS (49406) and EOS (49407), truncated to max_length - 2
// bytes and padded with `pad_id` to max_length. Tiny test models take ids modulo
// their vocabulary, so any id works for them; a real CLIP encoder runs but reads
// byte ids as unrelated tokens, so real exported pipelines need the BPE files and
// are refused at load (see diffusion_pipeline.h) rather than producing nonsense.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sagebox::endpoint {

struct TokenizerSettings {
  int64_t bos_id = 49406;
  int64_t eos_id = 49407;
  int64_t pad_id = 49407;  // CLIP ViT-L (SD 1.x) pads with EOS; OpenCLIP (SD 2.x) with 0
  int max_length = 77;
};

// Exactly settings.max_length ids (max_length >= 2): BOS, the bytes, EOS, padding.
std::vector<int64_t> TokenizeFallback(std::string_view prompt, const TokenizerSettings& settings);

}  // namespace sagebox::endpoint
