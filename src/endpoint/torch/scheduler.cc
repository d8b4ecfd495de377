#include "endpoint/torch/scheduler.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

namespace sagebox::endpoint {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Reads `key` if present; BadInput naming the file and key when the type is wrong.
template <typename T>
Status ReadKey(const nlohmann::json& j, const char* key, const std::string& file, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return BadInput(file + ": " + key + ": expected true or false");
  } else if constexpr (std::is_same_v<T, int>) {
    if (!it->is_number_integer()) return BadInput(file + ": " + key + ": expected an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (!it->is_number()) return BadInput(file + ": " + key + ": expected a number");
  } else {
    if (!it->is_string()) return BadInput(file + ": " + key + ": expected a string");
  }
  *out = it->get<T>();
  return Status::Ok();
}

// np.linspace(start, stop, n)[i], computed as numpy does (start + i * step).
double Linspace(double start, double stop, int n, int i) {
  if (n == 1) return start;
  return start + i * ((stop - start) / (n - 1));
}

}  // namespace

StatusOr<SchedulerConfig> ParseSchedulerConfig(std::string_view json_text,
                                               const std::string& file_for_errors) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return BadInput(file_for_errors +
                    ": expected a JSON object (diffusers' scheduler_config.json)");
  }
  SchedulerConfig c;
  const std::string& f = file_for_errors;
  RETURN_IF_ERROR(ReadKey(j, "num_train_timesteps", f, &c.num_train_timesteps));
  RETURN_IF_ERROR(ReadKey(j, "beta_start", f, &c.beta_start));
  RETURN_IF_ERROR(ReadKey(j, "beta_end", f, &c.beta_end));
  RETURN_IF_ERROR(ReadKey(j, "beta_schedule", f, &c.beta_schedule));
  RETURN_IF_ERROR(ReadKey(j, "steps_offset", f, &c.steps_offset));
  RETURN_IF_ERROR(ReadKey(j, "set_alpha_to_one", f, &c.set_alpha_to_one));
  RETURN_IF_ERROR(ReadKey(j, "clip_sample", f, &c.clip_sample));
  RETURN_IF_ERROR(ReadKey(j, "clip_sample_range", f, &c.clip_sample_range));
  RETURN_IF_ERROR(ReadKey(j, "timestep_spacing", f, &c.timestep_spacing));
  std::string prediction = "epsilon";
  RETURN_IF_ERROR(ReadKey(j, "prediction_type", f, &prediction));
  if (j.contains("trained_betas") && !j["trained_betas"].is_null()) {
    return BadInput(f + ": trained_betas: not supported; use beta_start/beta_end/beta_schedule");
  }
  if (prediction == "epsilon") {
    c.prediction_type = PredictionType::kEpsilon;
  } else if (prediction == "v_prediction") {
    c.prediction_type = PredictionType::kVPrediction;
  } else if (prediction == "sample") {
    c.prediction_type = PredictionType::kSample;
  } else {
    return BadInput(f + ": prediction_type: expected epsilon, v_prediction or sample, got \"" +
                    prediction + "\"");
  }
  if (c.beta_schedule != "linear" && c.beta_schedule != "scaled_linear") {
    return BadInput(f + ": beta_schedule: expected linear or scaled_linear, got \"" +
                    c.beta_schedule + "\"");
  }
  if (!c.timestep_spacing.empty() && c.timestep_spacing != "leading" &&
      c.timestep_spacing != "linspace" && c.timestep_spacing != "trailing") {
    return BadInput(f + ": timestep_spacing: expected leading, linspace or trailing, got \"" +
                    c.timestep_spacing + "\"");
  }
  if (c.num_train_timesteps < 1 || c.num_train_timesteps > 100000) {
    return BadInput(f + ": num_train_timesteps: expected 1 to 100000");
  }
  if (!(c.beta_start > 0 && c.beta_start < 1 && c.beta_end > 0 && c.beta_end < 1)) {
    return BadInput(f + ": beta_start/beta_end: expected values in (0, 1)");
  }
  if (c.steps_offset < 0 || c.steps_offset >= c.num_train_timesteps) {
    return BadInput(f + ": steps_offset: expected 0 to num_train_timesteps - 1");
  }
  return c;
}

StatusOr<SchedulerKind> ParseSchedulerKind(std::string_view name) {
  std::string n = Lower(name);
  if (n == "ddim" || n == "ddimscheduler") return SchedulerKind::kDdim;
  if (n == "euler" || n == "euler_discrete" || n == "eulerdiscretescheduler") {
    return SchedulerKind::kEuler;
  }
  return InvalidArgument("scheduler: expected \"ddim\" or \"euler\", got \"" + std::string(name) +
                         "\"");
}

StatusOr<std::vector<double>> AlphasCumprod(const SchedulerConfig& config) {
  if (config.num_train_timesteps < 1) return InvalidArgument("num_train_timesteps must be >= 1");
  const auto n = static_cast<int64_t>(config.num_train_timesteps);
  torch::Tensor betas;
  // float32 throughout, as diffusers' torch code: alphas_cumprod differ in the
  // last bits otherwise, and timesteps near 999 amplify that.
  if (config.beta_schedule == "linear") {
    betas = torch::linspace(config.beta_start, config.beta_end, n, torch::kFloat32);
  } else if (config.beta_schedule == "scaled_linear") {
    betas = torch::linspace(std::sqrt(config.beta_start), std::sqrt(config.beta_end), n,
                            torch::kFloat32)
                .pow(2);
  } else {
    return InvalidArgument("beta_schedule: expected linear or scaled_linear, got \"" +
                           config.beta_schedule + "\"");
  }
  torch::Tensor cumprod = torch::cumprod(1.0 - betas, 0).contiguous();
  const float* p = cumprod.data_ptr<float>();
  return std::vector<double>(p, p + n);
}

StatusOr<Scheduler> Scheduler::Create(SchedulerKind kind, const SchedulerConfig& config) {
  Scheduler s;
  s.kind_ = kind;
  s.config_ = config;
  ASSIGN_OR_RETURN(s.alphas_cumprod_, AlphasCumprod(config));
  s.final_alpha_cumprod_ = config.set_alpha_to_one ? 1.0 : s.alphas_cumprod_[0];
  std::string spacing = config.timestep_spacing;
  if (spacing.empty()) spacing = kind == SchedulerKind::kDdim ? "leading" : "linspace";
  if (spacing == "leading") {
    s.spacing_ = TimestepSpacing::kLeading;
  } else if (spacing == "linspace") {
    s.spacing_ = TimestepSpacing::kLinspace;
  } else if (spacing == "trailing") {
    s.spacing_ = TimestepSpacing::kTrailing;
  } else {
    return InvalidArgument("timestep_spacing: expected leading, linspace or trailing");
  }
  return s;
}

Status Scheduler::SetTimesteps(int num_inference_steps) {
  const int t_train = config_.num_train_timesteps;
  if (num_inference_steps < 1 || num_inference_steps > t_train) {
    return InvalidArgument("num_inference_steps: expected 1 to " + std::to_string(t_train) +
                           ", got " + std::to_string(num_inference_steps));
  }
  const int n = num_inference_steps;
  num_inference_steps_ = n;
  timesteps_.clear();
  for (int k = n - 1; k >= 0; --k) {
    double t = 0;
    switch (spacing_) {
      case TimestepSpacing::kLeading:
        t = static_cast<double>(k * (t_train / n) + config_.steps_offset);
        break;
      case TimestepSpacing::kLinspace:
        t = Linspace(0, t_train - 1, n, k);
        // DDIM feeds integer timesteps to the UNet: np.round (half to even).
        if (kind_ == SchedulerKind::kDdim) t = std::nearbyint(t);
        break;
      case TimestepSpacing::kTrailing:
        // np.round(np.arange(T, 0, -T / n)) - 1, listed from largest.
        t = std::nearbyint(t_train - (n - 1 - k) * (static_cast<double>(t_train) / n)) - 1;
        break;
    }
    timesteps_.push_back(t);
  }
  if (kind_ == SchedulerKind::kEuler) {
    // sigmas = sqrt((1 - a) / a) in float32, interpolated at the (fractional)
    // timesteps in float64 as np.interp does, stored as float32, then a final 0.
    std::vector<double> full(alphas_cumprod_.size());
    for (size_t i = 0; i < full.size(); ++i) {
      const auto a = static_cast<float>(alphas_cumprod_[i]);
      full[i] = static_cast<float>(std::sqrt((1.0F - a) / a));
    }
    sigmas_.clear();
    for (double t : timesteps_) {
      double v = 0;
      if (t <= 0) {
        v = full.front();
      } else if (t >= static_cast<double>(full.size() - 1)) {
        v = full.back();
      } else {
        const auto lo = static_cast<size_t>(std::floor(t));
        const double frac = t - static_cast<double>(lo);
        v = full[lo] + frac * (full[lo + 1] - full[lo]);
      }
      sigmas_.push_back(static_cast<float>(v));
    }
    sigmas_.push_back(0.0);
  }
  return Status::Ok();
}

double Scheduler::init_noise_sigma() const {
  if (kind_ == SchedulerKind::kDdim || sigmas_.empty()) return 1.0;
  const double max_sigma = *std::max_element(sigmas_.begin(), sigmas_.end());
  if (spacing_ == TimestepSpacing::kLeading) return std::sqrt(max_sigma * max_sigma + 1);
  return max_sigma;
}

torch::Tensor Scheduler::ScaleModelInput(const torch::Tensor& sample, size_t step_index) const {
  if (kind_ == SchedulerKind::kDdim) return sample;
  const double sigma = sigmas_.at(step_index);
  return sample / std::sqrt(sigma * sigma + 1);
}

torch::Tensor Scheduler::Step(const torch::Tensor& model_output, size_t step_index,
                              const torch::Tensor& sample) const {
  const double t = timesteps_.at(step_index);
  if (kind_ == SchedulerKind::kEuler) {
    const double sigma = sigmas_.at(step_index);
    torch::Tensor x0;
    switch (config_.prediction_type) {
      case PredictionType::kEpsilon:
        x0 = sample - sigma * model_output;
        break;
      case PredictionType::kVPrediction:
        x0 = model_output * (-sigma / std::sqrt(sigma * sigma + 1)) + sample / (sigma * sigma + 1);
        break;
      case PredictionType::kSample:
        x0 = model_output;
        break;
    }
    const torch::Tensor derivative = (sample - x0) / sigma;
    const double dt = sigmas_.at(step_index + 1) - sigma;
    return sample + derivative * dt;
  }
  // DDIM, eta = 0 (formula (12) of the DDIM paper as diffusers writes it).
  const int prev_t = static_cast<int>(t) - config_.num_train_timesteps / num_inference_steps_;
  const double a_t = alphas_cumprod_.at(static_cast<size_t>(t));
  const double a_prev =
      prev_t >= 0 ? alphas_cumprod_.at(static_cast<size_t>(prev_t)) : final_alpha_cumprod_;
  const double b_t = 1 - a_t;
  torch::Tensor x0;
  torch::Tensor eps;
  switch (config_.prediction_type) {
    case PredictionType::kEpsilon:
      x0 = (sample - std::sqrt(b_t) * model_output) / std::sqrt(a_t);
      eps = model_output;
      break;
    case PredictionType::kVPrediction:
      x0 = std::sqrt(a_t) * sample - std::sqrt(b_t) * model_output;
      eps = std::sqrt(a_t) * model_output + std::sqrt(b_t) * sample;
      break;
    case PredictionType::kSample:
      x0 = model_output;
      eps = (sample - std::sqrt(a_t) * model_output) / std::sqrt(b_t);
      break;
  }
  if (config_.clip_sample) {
    x0 = x0.clamp(-config_.clip_sample_range, config_.clip_sample_range);
  }
  return std::sqrt(a_prev) * x0 + std::sqrt(1 - a_prev) * eps;
}

torch::Tensor Scheduler::AddNoise(const torch::Tensor& original, const torch::Tensor& noise,
                                  size_t step_index) const {
  if (kind_ == SchedulerKind::kEuler) return original + noise * sigmas_.at(step_index);
  const double a = alphas_cumprod_.at(static_cast<size_t>(timesteps_.at(step_index)));
  return std::sqrt(a) * original + std::sqrt(1 - a) * noise;
}

}  // namespace sagebox::endpoint
