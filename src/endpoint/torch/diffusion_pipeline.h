// diffusion_pipeline.h: the native Stable Diffusion pipeline over TorchScript components.
//
// What the article's model.py does with diffusers (StableDiffusionPipeline,
// Img2Img, Depth2Img, Inpaint, x4 Upscale), done here in C++ with libtorch so a
// model folder of exported components serves without a Python environment. The
// folder layout the pipeline reads (version folder, e.g. <model>/1/):
//
//   text_encoder.pt     ids int64 [B,77] -> [B,77,D] (a tensor, or a tuple whose
//                       first element is it, as a traced CLIPTextModel returns)
//   unet.pt             (sample fp32 [B,C,h,w], timestep fp32 [B],
//                       encoder_hidden_states [B,77,D][, class_labels int64 [B]])
//                       -> noise prediction [B,4,h,w] (tensor or tuple/dict "sample")
//   vae_decoder.pt      latents / scaling_factor -> image [B,3,h*f,w*f] in [-1,1]
//   vae_encoder.pt      image [B,3,H,W] in [-1,1] -> latents [B,4,H/f,W/f] (the
//                       latent mean; multiplied by scaling_factor here)
//                       (img2img, depth, inpaint)
//   depth_estimator.pt  image [B,3,H,W] in [-1,1] -> depth [B,H',W'] or [B,1,H',W']
//                       (depth)
//   scheduler.json      diffusers' scheduler_config.json (scheduler.h)
//   tokenizer/          optional: CLIP's vocab.json and merges.txt, as diffusers'
//                       save_pretrained writes them; prompts and negative prompts
//                       are then CLIP BPE ids (ClipTokenizer, diffusion_tokenizer.h),
//                       else the byte fallback (TokenizeFallback)
//   pipeline.json       {"vae_scale_factor": 8, "latent_channels": 4,
//                       "scaling_factor": 0.18215, "height": 512, "width": 512,
//                       "unet_in_channels": 4|5|7|9, "default_scheduler": "ddim",
//                       "max_noise_level": 350, "low_res_scheduler": {...},
//                       "bos_id", "eos_id", "pad_id"}: every key optional
//                       (bos_id/eos_id are the byte fallback's: with tokenizer/,
//                       BOS/EOS come from vocab.json; pad_id applies to both)
//
// The task is config.pbtxt's parameter `task` (text2img | img2img | depth |
// inpaint | upscale); without it, it is inferred: depth_estimator.pt -> depth,
// unet_in_channels 9 -> inpaint, 7 -> upscale, vae_encoder.pt -> img2img, else
// text2img.
//
// The math follows diffusers: classifier-free guidance eps_u + s (eps_c - eps_u)
// when s > 1, with the unconditional and conditional rows in one UNet call (so
// one call per step; s <= 1 skips the unconditional rows as diffusers does);
// img2img/depth run the last int(N * strength) of N steps from the encoded image
// noised to the first of them; inpainting binarises the mask (white = repaint) and
// feeds [latents, mask, masked-image latents] to a 9-channel UNet, or blends the
// known region back after every step for a 4-channel one; depth conditioning
// appends the estimator's depth, resized (bicubic) to the latent size and scaled
// to [-1, 1], as a 5th channel; the x4 upscaler noises the low-res image to
// `noise_level` with the low-res scheduler, appends it to the latents (7 channels),
// passes noise_level as class_labels and decodes x4.
//
// Thread-safety: a DiffusionPipeline is used by one thread at a time (it is one
// ModelInstance); different pipelines run concurrently.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "endpoint/image.h"
#include "endpoint/torch/diffusion_tokenizer.h"
#include "endpoint/torch/scheduler.h"

namespace sagebox::endpoint {

enum class DiffusionTask { kText2Img, kImg2Img, kDepth, kInpaint, kUpscale };

// "text2img" etc.; InvalidArgument for another name.
StatusOr<DiffusionTask> ParseDiffusionTask(std::string_view name);
std::string_view DiffusionTaskName(DiffusionTask task);

// diffusers' x4 upscaler low_res_scheduler (DDPM, scaled_linear 0.0001..0.02).
inline SchedulerConfig UpscalerLowResScheduler() {
  SchedulerConfig c;
  c.beta_schedule = "scaled_linear";
  return c;
}

// pipeline.json.
struct PipelineSettings {
  int vae_scale_factor = 8;
  int latent_channels = 4;
  double scaling_factor = 0.18215;
  int height = 512;  // text2img default size
  int width = 512;
  int unet_in_channels = 4;
  std::string default_scheduler = "ddim";
  int max_noise_level = 350;
  SchedulerConfig low_res_scheduler = UpscalerLowResScheduler();
  TokenizerSettings tokenizer;
};

// Parses pipeline.json text. BadInput "<file>: <key>: <expected>" for malformed JSON,
// wrong types or values out of range.
StatusOr<PipelineSettings> ParsePipelineSettings(std::string_view json_text,
                                                 const std::string& file_for_errors);

// The request's `gen_args` with the task's defaults filled in (diffusers' pipeline
// defaults: 50 steps and guidance 7.5; strength 0.8 for img2img/depth, 1.0 for
// inpaint; the upscaler 75 steps, guidance 9, noise_level 20).
struct GenArgs {
  int num_inference_steps = 50;
  double guidance_scale = 7.5;
  double strength = 1.0;
  std::optional<uint64_t> seed;  // none: a random seed per request
  int height = 0;                // 0: the task's default (settings, or the input image)
  int width = 0;
  int noise_level = 20;
  std::string scheduler;  // "ddim" | "euler"
  int num_images_per_prompt = 1;
};

// Parses gen_args (a JSON object; "" means no gen_args). InvalidArgument naming
// `gen_args` and the key for malformed JSON, an unknown key, a wrong type or a value
// out of range (steps 1..1000, guidance >= 0, strength in [0, 1], sizes 8..4096,
// noise_level 0..max_noise_level, images per prompt 1..8, scheduler ddim|euler).
StatusOr<GenArgs> ParseGenArgs(std::string_view json_text, DiffusionTask task,
                               const PipelineSettings& settings);

// Classifier-free guidance: eps_u + scale * (eps_c - eps_u).
torch::Tensor ApplyGuidance(const torch::Tensor& eps_uncond, const torch::Tensor& eps_cond,
                            double scale);

// The steps img2img runs out of the scheduler's N: the last int(N * strength).
// Returns the index of the first of them (N - that count).
int FirstStepForStrength(int num_inference_steps, double strength);

struct GenerateRequest {
  std::vector<std::string> prompts;           // one image (per num_images) each
  std::vector<std::string> negative_prompts;  // empty, or one per prompt
  std::optional<Image> image;                 // img2img, depth, inpaint, upscale
  std::optional<Image> mask;                  // inpaint
  GenArgs args;
};

// What a pipeline has run since it was loaded (tests count UNet calls with it).
struct PipelineCounters {
  int64_t unet_calls = 0;
  int64_t unet_rows = 0;  // sum of the batch sizes of those calls
};

class DiffusionPipeline {
 public:
  // Loads the components from `version_dir`. `task_name` "" infers the task.
  // NotFound naming the file for a missing component, BadInput for a malformed
  // JSON file, a malformed tokenizer/vocab.json or merges.txt (file and line) or a
  // file libtorch cannot load, NotFound for a tokenizer/ folder without vocab.json or
  // merges.txt, InvalidArgument for an unknown task.
  static StatusOr<std::unique_ptr<DiffusionPipeline>> Load(const std::string& version_dir,
                                                           std::string_view task_name);

  DiffusionTask task() const { return task_; }
  const PipelineSettings& settings() const { return settings_; }

  // Runs the pipeline: one RGB image per prompt per num_images_per_prompt, prompt
  // major. InvalidArgument for a request the task cannot run (no image, a size not
  // a multiple of vae_scale_factor, strength giving zero steps); Internal when a
  // component throws (its message is kept).
  StatusOr<std::vector<Image>> Generate(const GenerateRequest& request);

  PipelineCounters counters() const { return counters_; }
  // Bytes of every component's parameters and buffers.
  uint64_t MeasuredBytes() const { return measured_bytes_; }

 private:
  DiffusionPipeline() = default;
  StatusOr<std::vector<Image>> GenerateOrThrow(const GenerateRequest& request);
  torch::Tensor Encode(const std::vector<std::string>& prompts);
  torch::Tensor RunUnet(const torch::Tensor& sample, double timestep, const torch::Tensor& context,
                        const std::optional<torch::Tensor>& class_labels);

  DiffusionTask task_ = DiffusionTask::kText2Img;
  PipelineSettings settings_;
  SchedulerConfig scheduler_config_;
  std::optional<ClipTokenizer> tokenizer_;  // none: the byte fallback
  torch::jit::Module text_encoder_;
  torch::jit::Module unet_;
  torch::jit::Module vae_decoder_;
  std::optional<torch::jit::Module> vae_encoder_;
  std::optional<torch::jit::Module> depth_estimator_;
  PipelineCounters counters_;
  uint64_t measured_bytes_ = 0;
};

}  // namespace sagebox::endpoint
