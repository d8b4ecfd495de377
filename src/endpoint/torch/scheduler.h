// scheduler.h: the diffusion noise schedulers (DDIM and Euler), as diffusers computes them.
//
// A Stable Diffusion pipeline is a loop of UNet calls; the scheduler decides which
// timesteps are visited, how the UNet input is scaled and how one noise prediction
// moves the latents to the next timestep. A model's `scheduler.json` is diffusers'
// scheduler_config.json, so the same file that drives diffusers' DDIMScheduler /
// EulerDiscreteScheduler drives these, and the arithmetic follows diffusers' code
// (scheduling_ddim.py, scheduling_euler_discrete.py): betas from `beta_schedule`
// computed in float32 as torch does, `timestep_spacing` leading/linspace/trailing,
// `steps_offset`, `set_alpha_to_one`, `prediction_type` epsilon/v_prediction/sample.
// Deterministic only: DDIM's eta is 0 and Euler's s_churn is 0 (diffusers' defaults
// in every Stable Diffusion pipeline).
//
// Thread-safety: a Scheduler is an immutable value after SetTimesteps; Step and the
// other const methods may run concurrently.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::endpoint {

enum class SchedulerKind { kDdim, kEuler };
enum class PredictionType { kEpsilon, kVPrediction, kSample };
enum class TimestepSpacing { kLeading, kLinspace, kTrailing };

// The keys of diffusers' scheduler_config.json this code acts on. Defaults are
// diffusers' constructor defaults, except `timestep_spacing`, whose default depends
// on the scheduler (DDIM: leading, Euler: linspace), as in diffusers.
struct SchedulerConfig {
  int num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  std::string beta_schedule = "linear";  // "linear" | "scaled_linear"
  int steps_offset = 0;
  bool set_alpha_to_one = true;
  bool clip_sample = false;
  double clip_sample_range = 1.0;
  PredictionType prediction_type = PredictionType::kEpsilon;
  // Unset in the file: nullopt-like empty string, resolved per scheduler kind.
  std::string timestep_spacing;
};

// Parses scheduler_config.json text; unknown keys (e.g. PNDM's skip_prk_steps,
// `_class_name`) are ignored because one config file serves every scheduler class.
// BadInput "<file>: <key>: <what was expected>" for malformed JSON, a key of the
// wrong type, an unknown beta_schedule / prediction_type / timestep_spacing, or
// values out of range (num_train_timesteps < 1, betas outside (0, 1)).
StatusOr<SchedulerConfig> ParseSchedulerConfig(std::string_view json_text,
                                               const std::string& file_for_errors);

// "ddim" / "euler" (case-insensitive; "euler_discrete" too); InvalidArgument otherwise.
StatusOr<SchedulerKind> ParseSchedulerKind(std::string_view name);

class Scheduler {
 public:
  // Computes the betas and alphas_cumprod. InvalidArgument for a config that
  // ParseSchedulerConfig would refuse (an unknown beta_schedule, no timesteps).
  static StatusOr<Scheduler> Create(SchedulerKind kind, const SchedulerConfig& config);

  // Chooses the `num_inference_steps` timesteps (diffusers' set_timesteps).
  // InvalidArgument if it is below 1 or above num_train_timesteps.
  Status SetTimesteps(int num_inference_steps);

  SchedulerKind kind() const { return kind_; }
  // The timesteps of the loop, first (noisiest) to last; the UNet gets these values
  // (integers for DDIM, possibly fractional for Euler's linspace spacing).
  const std::vector<double>& timesteps() const { return timesteps_; }
  // Standard deviation the initial noise is multiplied by (1 for DDIM; Euler's
  // largest sigma, or sqrt(sigma_max^2 + 1) with leading spacing).
  double init_noise_sigma() const;
  // alphas_cumprod[t] (float32 values as diffusers computes them).
  double alpha_cumprod(int t) const { return alphas_cumprod_.at(static_cast<size_t>(t)); }

  // The UNet input at step `step_index` (diffusers' scale_model_input): unchanged
  // for DDIM, divided by sqrt(sigma^2 + 1) for Euler. step_index must be < timesteps().size().
  torch::Tensor ScaleModelInput(const torch::Tensor& sample, size_t step_index) const;

  // One deterministic step from timesteps()[step_index] to the next one.
  torch::Tensor Step(const torch::Tensor& model_output, size_t step_index,
                     const torch::Tensor& sample) const;

  // `original` noised to the level of timesteps()[step_index] (diffusers' add_noise):
  // sqrt(a_t) x0 + sqrt(1 - a_t) noise for DDIM, x0 + sigma noise for Euler.
  torch::Tensor AddNoise(const torch::Tensor& original, const torch::Tensor& noise,
                         size_t step_index) const;

 private:
  Scheduler() = default;

  SchedulerKind kind_ = SchedulerKind::kDdim;
  SchedulerConfig config_;
  TimestepSpacing spacing_ = TimestepSpacing::kLeading;
  std::vector<double> alphas_cumprod_;  // num_train_timesteps values
  double final_alpha_cumprod_ = 1.0;
  int num_inference_steps_ = 0;
  std::vector<double> timesteps_;
  std::vector<double> sigmas_;  // Euler: one per timestep plus the final 0
};

// alphas_cumprod of a beta schedule (float32 arithmetic as torch), for callers that
// noise with a second schedule (the x4 upscaler's low-res noise). InvalidArgument for
// an unknown beta_schedule.
StatusOr<std::vector<double>> AlphasCumprod(const SchedulerConfig& config);

}  // namespace sagebox::endpoint
