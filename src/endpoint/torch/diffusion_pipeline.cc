#include "endpoint/torch/diffusion_pipeline.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <utility>

#include "core/env.h"
#include "endpoint/torch/torch_util.h"

namespace sagebox::endpoint {
namespace {

using nlohmann::json;

Status ReadInt(const json& j, const char* key, const std::string& where, int64_t lo, int64_t hi,
               int* out, StatusCode code) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  // JSON clients write 50.0 for 50 now and then; accept integral floats.
  int64_t v = 0;
  if (it->is_number_integer()) {
    v = it->get<int64_t>();
  } else if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>() &&
             std::fabs(it->get<double>()) < 1e15) {
    v = static_cast<int64_t>(it->get<double>());
  } else {
    return {code, where + ": " + key + ": expected an integer"};
  }
  if (v < lo || v > hi) {
    return {code, where + ": " + key + ": expected " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ", got " + std::to_string(v)};
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

Status ReadDouble(const json& j, const char* key, const std::string& where, double lo, double hi,
                  double* out, StatusCode code) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return {code, where + ": " + key + ": expected a number"};
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return {code,
            where + ": " + key + ": expected " + std::to_string(lo) + " to " + std::to_string(hi)};
  }
  *out = v;
  return Status::Ok();
}

// The first output of a component: a tensor, or the first element of a tuple/list,
// or the "sample" / "last_hidden_state" / "predicted_depth" entry of a dict.
torch::Tensor FirstTensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple()) return FirstTensor(v.toTupleRef().elements().at(0));
  if (v.isList()) return FirstTensor(v.toListRef().at(0));
  if (v.isGenericDict()) {
    auto dict = v.toGenericDict();
    for (const char* key : {"sample", "last_hidden_state", "predicted_depth", "latent_dist"}) {
      auto it = dict.find(c10::IValue(std::string(key)));
      if (it != dict.end()) return FirstTensor(it->value());
    }
  }
  throw std::runtime_error("component returned no tensor (type " + v.tagKind() + ")");
}

// Image -> [1,3,H,W] float in [-1, 1] (diffusers' preprocess: x / 255 * 2 - 1).
torch::Tensor ImageToTensor(const Image& rgb) {
  torch::Tensor t = torch::from_blob(const_cast<uint8_t*>(rgb.pixels.data()),
                                     {rgb.height, rgb.width, 3}, torch::kUInt8)
                        .to(torch::kFloat32)
                        .permute({2, 0, 1})
                        .unsqueeze(0);
  return t / 127.5 - 1.0;
}

// [3,H,W] in [-1,1] -> RGB image, (x / 2 + 0.5).clamp(0, 1) * 255 rounded, as diffusers.
Image TensorToImage(const torch::Tensor& chw) {
  torch::Tensor t = ((chw / 2 + 0.5).clamp(0, 1) * 255).round().to(torch::kUInt8);
  t = t.permute({1, 2, 0}).contiguous();
  Image img;
  img.height = static_cast<int>(t.size(0));
  img.width = static_cast<int>(t.size(1));
  img.channels = 3;
  const uint8_t* p = t.data_ptr<uint8_t>();
  img.pixels.assign(p, p + t.numel());
  return img;
}

StatusOr<Image> Prepare(const Image& image, int channels, int width, int height) {
  Image converted = ConvertChannels(image, channels);
  if (converted.width == width && converted.height == height) return converted;
  return Resize(converted, width, height);
}

}  // namespace

StatusOr<DiffusionTask> ParseDiffusionTask(std::string_view name) {
  if (name == "text2img" || name == "txt2img") return DiffusionTask::kText2Img;
  if (name == "img2img") return DiffusionTask::kImg2Img;
  if (name == "depth") return DiffusionTask::kDepth;
  if (name == "inpaint") return DiffusionTask::kInpaint;
  if (name == "upscale") return DiffusionTask::kUpscale;
  return InvalidArgument("task: expected text2img, img2img, depth, inpaint or upscale, got \"" +
                         std::string(name) + "\"");
}

std::string_view DiffusionTaskName(DiffusionTask task) {
  switch (task) {
    case DiffusionTask::kText2Img:
      return "text2img";
    case DiffusionTask::kImg2Img:
      return "img2img";
    case DiffusionTask::kDepth:
      return "depth";
    case DiffusionTask::kInpaint:
      return "inpaint";
    case DiffusionTask::kUpscale:
      return "upscale";
  }
  return "?";
}

StatusOr<PipelineSettings> ParsePipelineSettings(std::string_view json_text,
                                                 const std::string& file_for_errors) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  const std::string& f = file_for_errors;
  if (j.is_discarded() || !j.is_object()) return BadInput(f + ": expected a JSON object");
  PipelineSettings s;
  const auto bad = StatusCode::kBadInput;
  RETURN_IF_ERROR(ReadInt(j, "vae_scale_factor", f, 1, 64, &s.vae_scale_factor, bad));
  RETURN_IF_ERROR(ReadInt(j, "latent_channels", f, 1, 64, &s.latent_channels, bad));
  RETURN_IF_ERROR(ReadDouble(j, "scaling_factor", f, 1e-6, 1e6, &s.scaling_factor, bad));
  RETURN_IF_ERROR(ReadInt(j, "height", f, 8, 4096, &s.height, bad));
  RETURN_IF_ERROR(ReadInt(j, "width", f, 8, 4096, &s.width, bad));
  RETURN_IF_ERROR(ReadInt(j, "unet_in_channels", f, 1, 64, &s.unet_in_channels, bad));
  RETURN_IF_ERROR(ReadInt(j, "max_noise_level", f, 0, 100000, &s.max_noise_level, bad));
  int bos = static_cast<int>(s.tokenizer.bos_id);
  int eos = static_cast<int>(s.tokenizer.eos_id);
  int pad = static_cast<int>(s.tokenizer.pad_id);
  RETURN_IF_ERROR(ReadInt(j, "bos_id", f, 0, 1 << 30, &bos, bad));
  RETURN_IF_ERROR(ReadInt(j, "eos_id", f, 0, 1 << 30, &eos, bad));
  RETURN_IF_ERROR(ReadInt(j, "pad_id", f, 0, 1 << 30, &pad, bad));
  s.tokenizer.bos_id = bos;
  s.tokenizer.eos_id = eos;
  s.tokenizer.pad_id = pad;
  if (auto it = j.find("default_scheduler"); it != j.end()) {
    if (!it->is_string()) return BadInput(f + ": default_scheduler: expected a string");
    s.default_scheduler = it->get<std::string>();
    auto kind = ParseSchedulerKind(s.default_scheduler);
    if (!kind.ok()) return BadInput(f + ": default_scheduler: " + kind.status().message());
  }
  if (auto it = j.find("low_res_scheduler"); it != j.end()) {
    ASSIGN_OR_RETURN(s.low_res_scheduler,
                     ParseSchedulerConfig(it->dump(), f + ": low_res_scheduler"));
  }
  return s;
}

StatusOr<GenArgs> ParseGenArgs(std::string_view json_text, DiffusionTask task,
                               const PipelineSettings& settings) {
  GenArgs a;
  a.scheduler = settings.default_scheduler;
  switch (task) {
    case DiffusionTask::kImg2Img:
    case DiffusionTask::kDepth:
      a.strength = 0.8;
      break;
    case DiffusionTask::kUpscale:
      a.num_inference_steps = 75;
      a.guidance_scale = 9.0;
      break;
    default:
      break;
  }
  if (json_text.empty()) return a;
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(
        "gen_args: expected a JSON object such as "
        "{\"num_inference_steps\": 50}");
  }
  static const std::set<std::string> kKnown = {"num_inference_steps",
                                               "guidance_scale",
                                               "strength",
                                               "seed",
                                               "height",
                                               "width",
                                               "noise_level",
                                               "scheduler",
                                               "num_images_per_prompt"};
  for (const auto& item : j.items()) {
    if (kKnown.count(item.key()) == 0) {
      return InvalidArgument("gen_args: " + item.key() + ": unknown key (known: " +
                             "num_inference_steps, guidance_scale, strength, seed, height, "
                             "width, noise_level, scheduler, num_images_per_prompt)");
    }
  }
  const std::string w = "gen_args";
  const auto inv = StatusCode::kInvalidArgument;
  RETURN_IF_ERROR(ReadInt(j, "num_inference_steps", w, 1, 1000, &a.num_inference_steps, inv));
  RETURN_IF_ERROR(ReadDouble(j, "guidance_scale", w, 0, 1000, &a.guidance_scale, inv));
  RETURN_IF_ERROR(ReadDouble(j, "strength", w, 0, 1, &a.strength, inv));
  RETURN_IF_ERROR(ReadInt(j, "height", w, 8, 4096, &a.height, inv));
  RETURN_IF_ERROR(ReadInt(j, "width", w, 8, 4096, &a.width, inv));
  RETURN_IF_ERROR(ReadInt(j, "noise_level", w, 0, settings.max_noise_level, &a.noise_level, inv));
  RETURN_IF_ERROR(ReadInt(j, "num_images_per_prompt", w, 1, 8, &a.num_images_per_prompt, inv));
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() ||
        (it->is_number_integer() && it->get<int64_t>() < 0 && !it->is_number_unsigned())) {
      return InvalidArgument("gen_args: seed: expected a non-negative integer");
    }
    a.seed = it->get<uint64_t>();
  }
  if (auto it = j.find("scheduler"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("gen_args: scheduler: expected a string");
    auto kind = ParseSchedulerKind(it->get<std::string>());
    if (!kind.ok()) return InvalidArgument("gen_args: " + kind.status().message());
    a.scheduler = it->get<std::string>();
  }
  return a;
}

torch::Tensor ApplyGuidance(const torch::Tensor& eps_uncond, const torch::Tensor& eps_cond,
                            double scale) {
  return eps_uncond + scale * (eps_cond - eps_uncond);
}

int FirstStepForStrength(int num_inference_steps, double strength) {
  // diffusers' get_timesteps: init_timestep = min(int(N * strength), N).
  const int run = std::min(static_cast<int>(num_inference_steps * strength), num_inference_steps);
  return std::max(num_inference_steps - run, 0);
}

StatusOr<std::unique_ptr<DiffusionPipeline>> DiffusionPipeline::Load(const std::string& version_dir,
                                                                     std::string_view task_name) {
  Env* env = Env::Default();
  std::unique_ptr<DiffusionPipeline> p(new DiffusionPipeline());
  // An exported pipeline ships CLIP's tokenizer as tokenizer/{vocab.json,merges.txt};
  // a tokenizer/ folder missing either file is refused (NotFound) rather than
  // silently served with the byte fallback, which a real CLIP encoder misreads.
  const std::string tokenizer_dir = JoinPath(version_dir, "tokenizer");
  if (env->IsDirectory(tokenizer_dir)) {
    ASSIGN_OR_RETURN(ClipTokenizer tokenizer, ClipTokenizer::Load(env, tokenizer_dir));
    p->tokenizer_.emplace(std::move(tokenizer));
  }
  const std::string pipeline_file = JoinPath(version_dir, "pipeline.json");
  if (env->Exists(pipeline_file)) {
    std::string text;
    RETURN_IF_ERROR(env->ReadFileToString(pipeline_file, &text));
    ASSIGN_OR_RETURN(p->settings_, ParsePipelineSettings(text, pipeline_file));
  }
  const std::string scheduler_file = JoinPath(version_dir, "scheduler.json");
  {
    std::string text;
    RETURN_IF_ERROR(env->ReadFileToString(scheduler_file, &text));
    ASSIGN_OR_RETURN(p->scheduler_config_, ParseSchedulerConfig(text, scheduler_file));
  }
  const bool has_depth = env->Exists(JoinPath(version_dir, "depth_estimator.pt"));
  const bool has_encoder = env->Exists(JoinPath(version_dir, "vae_encoder.pt"));
  if (!task_name.empty()) {
    ASSIGN_OR_RETURN(p->task_, ParseDiffusionTask(task_name));
  } else if (has_depth) {
    p->task_ = DiffusionTask::kDepth;
  } else if (p->settings_.unet_in_channels == 9) {
    p->task_ = DiffusionTask::kInpaint;
  } else if (p->settings_.unet_in_channels == 7) {
    p->task_ = DiffusionTask::kUpscale;
  } else if (has_encoder) {
    p->task_ = DiffusionTask::kImg2Img;
  }
  const int lc = p->settings_.latent_channels;
  const int want_channels = [&] {
    switch (p->task_) {
      case DiffusionTask::kDepth:
        return lc + 1;
      case DiffusionTask::kUpscale:
        return lc + 3;
      case DiffusionTask::kInpaint:
        return p->settings_.unet_in_channels == lc ? lc : 2 * lc + 1;
      default:
        return lc;
    }
  }();
  if (p->settings_.unet_in_channels != want_channels) {
    return BadInput(pipeline_file + ": unet_in_channels: task " +
                    std::string(DiffusionTaskName(p->task_)) + " needs " +
                    std::to_string(want_channels) + ", got " +
                    std::to_string(p->settings_.unet_in_channels));
  }
  ASSIGN_OR_RETURN(p->text_encoder_, LoadTorchScript(JoinPath(version_dir, "text_encoder.pt")));
  ASSIGN_OR_RETURN(p->unet_, LoadTorchScript(JoinPath(version_dir, "unet.pt")));
  ASSIGN_OR_RETURN(p->vae_decoder_, LoadTorchScript(JoinPath(version_dir, "vae_decoder.pt")));
  if (p->task_ == DiffusionTask::kImg2Img || p->task_ == DiffusionTask::kDepth ||
      p->task_ == DiffusionTask::kInpaint) {
    ASSIGN_OR_RETURN(auto enc, LoadTorchScript(JoinPath(version_dir, "vae_encoder.pt")));
    p->vae_encoder_ = std::move(enc);
  }
  if (p->task_ == DiffusionTask::kDepth) {
    ASSIGN_OR_RETURN(auto depth, LoadTorchScript(JoinPath(version_dir, "depth_estimator.pt")));
    p->depth_estimator_ = std::move(depth);
  }
  p->measured_bytes_ = ModuleBytes(p->text_encoder_) + ModuleBytes(p->unet_) +
                       ModuleBytes(p->vae_decoder_) +
                       (p->vae_encoder_ ? ModuleBytes(*p->vae_encoder_) : 0) +
                       (p->depth_estimator_ ? ModuleBytes(*p->depth_estimator_) : 0);
  return p;
}

StatusOr<std::vector<Image>> DiffusionPipeline::Generate(const GenerateRequest& request) {
  try {
    torch::InferenceMode guard;
    return GenerateOrThrow(request);
  } catch (const std::exception& e) {
    // A component that throws (shape mismatch inside the UNet, out of memory) is
    // the model's failure, not the request's: Internal, which the APIs answer 424.
    return Internal(std::string("diffusion pipeline: ") + e.what());
  }
}

torch::Tensor DiffusionPipeline::Encode(const std::vector<std::string>& prompts) {
  std::vector<int64_t> ids;
  for (const auto& prompt : prompts) {
    auto row = tokenizer_ ? tokenizer_->Encode(prompt, settings_.tokenizer)
                          : TokenizeFallback(prompt, settings_.tokenizer);
    ids.insert(ids.end(), row.begin(), row.end());
  }
  const auto rows = static_cast<int64_t>(prompts.size());
  torch::Tensor input =
      torch::from_blob(ids.data(), {rows, settings_.tokenizer.max_length}, torch::kInt64).clone();
  return FirstTensor(text_encoder_.forward({input})).to(torch::kFloat32);
}

torch::Tensor DiffusionPipeline::RunUnet(const torch::Tensor& sample, double timestep,
                                         const torch::Tensor& context,
                                         const std::optional<torch::Tensor>& class_labels) {
  std::vector<c10::IValue> args;
  args.emplace_back(sample);
  args.emplace_back(torch::full({sample.size(0)}, timestep, torch::kFloat32));
  args.emplace_back(context);
  if (class_labels) args.emplace_back(*class_labels);
  ++counters_.unet_calls;
  counters_.unet_rows += sample.size(0);
  return FirstTensor(unet_.forward(args)).to(torch::kFloat32);
}

StatusOr<std::vector<Image>> DiffusionPipeline::GenerateOrThrow(const GenerateRequest& request) {
  const GenArgs& args = request.args;
  const PipelineSettings& s = settings_;
  if (request.prompts.empty()) return InvalidArgument("prompt: expected at least one prompt");
  if (!request.negative_prompts.empty() &&
      request.negative_prompts.size() != request.prompts.size()) {
    return InvalidArgument("negative_prompt: expected one per prompt (" +
                           std::to_string(request.prompts.size()) + "), got " +
                           std::to_string(request.negative_prompts.size()));
  }
  const bool needs_image = task_ != DiffusionTask::kText2Img;
  if (needs_image && !request.image) {
    return InvalidArgument("image: the " + std::string(DiffusionTaskName(task_)) +
                           " model needs an input image");
  }
  if (task_ == DiffusionTask::kInpaint && !request.mask) {
    return InvalidArgument("mask_image: the inpaint model needs a mask image");
  }

  // Output size: text2img from gen_args or pipeline.json; image tasks keep the input
  // size (rounded down to a multiple of the VAE factor, as diffusers' preprocess).
  const int f = s.vae_scale_factor;
  int width = args.width;
  int height = args.height;
  if (task_ == DiffusionTask::kUpscale) {
    width = request.image->width;
    height = request.image->height;
  } else if (needs_image) {
    if (width == 0) width = request.image->width - request.image->width % f;
    if (height == 0) height = request.image->height - request.image->height % f;
  } else {
    if (width == 0) width = s.width;
    if (height == 0) height = s.height;
  }
  if (task_ != DiffusionTask::kUpscale &&
      (width % f != 0 || height % f != 0 || width < f || height < f)) {
    return InvalidArgument("gen_args: height and width: expected multiples of " +
                           std::to_string(f) + ", got " + std::to_string(height) + "x" +
                           std::to_string(width));
  }
  const int64_t out_w = task_ == DiffusionTask::kUpscale ? int64_t{width} * f : width;
  const int64_t out_h = task_ == DiffusionTask::kUpscale ? int64_t{height} * f : height;
  if (out_w * out_h > kMaxImagePixels) {
    return InvalidArgument("output image: " + std::to_string(out_w) + "x" + std::to_string(out_h) +
                           " is larger than the limit of " + std::to_string(kMaxImagePixels) +
                           " pixels");
  }
  const int64_t lh = task_ == DiffusionTask::kUpscale ? height : height / f;
  const int64_t lw = task_ == DiffusionTask::kUpscale ? width : width / f;

  ASSIGN_OR_RETURN(SchedulerKind kind, ParseSchedulerKind(args.scheduler));
  ASSIGN_OR_RETURN(Scheduler scheduler, Scheduler::Create(kind, scheduler_config_));
  RETURN_IF_ERROR(scheduler.SetTimesteps(args.num_inference_steps));
  const int n_steps = args.num_inference_steps;
  const bool from_image = task_ == DiffusionTask::kImg2Img || task_ == DiffusionTask::kDepth ||
                          (task_ == DiffusionTask::kInpaint && args.strength < 1.0);
  const int first_step = from_image ? FirstStepForStrength(n_steps, args.strength) : 0;
  if (first_step >= n_steps) {
    return InvalidArgument("gen_args: strength " + std::to_string(args.strength) + " with " +
                           std::to_string(n_steps) + " steps runs no denoising step");
  }

  uint64_t seed = 0;
  if (args.seed) {
    seed = *args.seed;
  } else {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) | rd();
  }
  at::Generator gen = at::detail::createCPUGenerator(seed);
  // No lock here: ATen's sampling kernels take the generator's mutex themselves
  // (locking it too deadlocks), and the generator is this request's alone.
  auto randn = [&](at::IntArrayRef shape) {
    return at::randn(shape, gen, torch::TensorOptions().dtype(torch::kFloat32));
  };

  // Text embeddings: [uncond; cond] rows when guidance is on, each prompt repeated
  // num_images_per_prompt times (prompt major, as diffusers).
  const int per = args.num_images_per_prompt;
  const auto batch = static_cast<int64_t>(request.prompts.size()) * per;
  const bool cfg = args.guidance_scale > 1.0;
  torch::Tensor context = Encode(request.prompts).repeat_interleave(per, 0);
  if (cfg) {
    std::vector<std::string> negatives = request.negative_prompts;
    if (negatives.empty()) negatives.assign(request.prompts.size(), "");
    context = torch::cat({Encode(negatives).repeat_interleave(per, 0), context}, 0);
  }
  const int64_t rows = cfg ? 2 * batch : batch;
  auto for_rows = [&](const torch::Tensor& t) {  // [batch,...] -> [rows,...]
    return cfg ? torch::cat({t, t}, 0) : t;
  };

  const int64_t lc = s.latent_channels;
  torch::Tensor image;  // [batch,3,h,w] in [-1,1]
  if (request.image) {
    ASSIGN_OR_RETURN(Image rgb, Prepare(*request.image, 3, width, height));
    image = ImageToTensor(rgb).repeat({batch, 1, 1, 1});
  }
  torch::Tensor noise = randn({batch, lc, lh, lw});
  torch::Tensor latents;
  torch::Tensor image_latents;
  if (vae_encoder_ && request.image) {
    image_latents =
        FirstTensor(vae_encoder_->forward({image})).to(torch::kFloat32) * s.scaling_factor;
  }
  if (from_image) {
    latents = scheduler.AddNoise(image_latents, noise, static_cast<size_t>(first_step));
  } else {
    latents = noise * scheduler.init_noise_sigma();
  }

  // Extra UNet channels per task.
  std::optional<torch::Tensor> extra;
  std::optional<torch::Tensor> class_labels;
  torch::Tensor mask_latent;  // [batch,1,lh,lw], 1 = repaint
  if (task_ == DiffusionTask::kDepth) {
    torch::Tensor depth = FirstTensor(depth_estimator_->forward({image})).to(torch::kFloat32);
    if (depth.dim() == 3) depth = depth.unsqueeze(1);
    depth =
        torch::nn::functional::interpolate(depth, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{lh, lw})
                                                      .mode(torch::kBicubic)
                                                      .align_corners(false));
    const torch::Tensor lo = depth.amin({1, 2, 3}, true);
    const torch::Tensor hi = depth.amax({1, 2, 3}, true);
    // A flat depth map has no range to scale; it becomes 0 instead of NaN.
    depth = 2.0 * (depth - lo) / (hi - lo).clamp_min(1e-12) - 1.0;
    extra = for_rows(depth);
  } else if (task_ == DiffusionTask::kInpaint) {
    ASSIGN_OR_RETURN(Image gray, Prepare(*request.mask, 1, width, height));
    torch::Tensor m = torch::from_blob(gray.pixels.data(), {1, 1, height, width}, torch::kUInt8)
                          .to(torch::kFloat32) /
                      255.0;
    m = (m >= 0.5).to(torch::kFloat32).repeat({batch, 1, 1, 1});
    torch::Tensor masked_image = image * (m < 0.5).to(torch::kFloat32);
    mask_latent =
        torch::nn::functional::interpolate(m, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{lh, lw})
                                                  .mode(torch::kNearest));
    if (s.unet_in_channels != lc) {
      torch::Tensor masked_latents =
          FirstTensor(vae_encoder_->forward({masked_image})).to(torch::kFloat32) * s.scaling_factor;
      extra = for_rows(torch::cat({mask_latent, masked_latents}, 1));
    }
  } else if (task_ == DiffusionTask::kUpscale) {
    ASSIGN_OR_RETURN(Scheduler low_res,
                     Scheduler::Create(SchedulerKind::kDdim, s.low_res_scheduler));
    const double a = low_res.alpha_cumprod(args.noise_level);
    torch::Tensor image_noise = randn(image.sizes());
    torch::Tensor noised = std::sqrt(a) * image + std::sqrt(1 - a) * image_noise;
    extra = for_rows(noised);
    class_labels = torch::full({rows}, args.noise_level, torch::kInt64);
  }

  for (int i = first_step; i < n_steps; ++i) {
    const auto step = static_cast<size_t>(i);
    torch::Tensor input = scheduler.ScaleModelInput(for_rows(latents), step);
    if (extra) input = torch::cat({input, *extra}, 1);
    torch::Tensor eps = RunUnet(input, scheduler.timesteps()[step], context, class_labels);
    if (cfg) {
      auto halves = eps.chunk(2, 0);
      eps = ApplyGuidance(halves[0], halves[1], args.guidance_scale);
    }
    latents = scheduler.Step(eps, step, latents);
    if (task_ == DiffusionTask::kInpaint && s.unet_in_channels == lc) {
      // 4-channel UNet: keep the known region at the next step's noise level.
      torch::Tensor known =
          i + 1 < n_steps ? scheduler.AddNoise(image_latents, noise, step + 1) : image_latents;
      latents = (1 - mask_latent) * known + mask_latent * latents;
    }
  }

  torch::Tensor decoded =
      FirstTensor(vae_decoder_.forward({latents / s.scaling_factor})).to(torch::kFloat32);
  if (decoded.dim() != 4 || decoded.size(1) != 3) {
    return Internal("vae_decoder.pt: expected an image [B,3,H,W], got " +
                    c10::str(decoded.sizes()));
  }
  std::vector<Image> out;
  out.reserve(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) out.push_back(TensorToImage(decoded[b]));
  return out;
}

}  // namespace sagebox::endpoint
