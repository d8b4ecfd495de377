#include "endpoint/torch/scheduler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "endpoint/torch/diffusion_pipeline.h"

namespace sagebox::endpoint {
namespace {

// stabilityai/stable-diffusion-2-1-base's scheduler_config.json (the keys that matter).
SchedulerConfig Sd2Config() {
  auto c = ParseSchedulerConfig(R"({"_class_name": "PNDMScheduler", "beta_end": 0.012,
      "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false,
      "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": false,
      "skip_prk_steps": true, "steps_offset": 1})",
                                "scheduler.json");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

Scheduler Make(SchedulerKind kind, const SchedulerConfig& config, int steps) {
  auto s = Scheduler::Create(kind, config);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->SetTimesteps(steps).ok());
  return *s;
}

// Runs the scheduler from x0 noised at its first step, with an oracle model that
// predicts exactly the noise (or v) that was added; returns the final sample.
torch::Tensor RunOracle(const Scheduler& s, const torch::Tensor& x0, const torch::Tensor& eps,
                        PredictionType type) {
  torch::Tensor x = s.AddNoise(x0, eps, 0);
  for (size_t i = 0; i < s.timesteps().size(); ++i) {
    torch::Tensor out = eps;
    if (type == PredictionType::kVPrediction) {
      if (s.kind() == SchedulerKind::kDdim) {
        const double a = s.alpha_cumprod(static_cast<int>(s.timesteps()[i]));
        out = std::sqrt(a) * eps - std::sqrt(1 - a) * x0;
      } else {
        // In Euler's parametrisation x = x0 + sigma eps; the v-model sees x / sqrt(s^2+1).
        const double sigma = s.sigma(i);
        out = (eps - sigma * x0) / std::sqrt(sigma * sigma + 1);
      }
    }
    x = s.Step(out, i, x);
  }
  return x;
}

TEST(SchedulerTest, DdimTimestepsMatchDiffusersFor50Steps) {
  // diffusers' DDIMScheduler.from_config(sd-2-1-base).set_timesteps(50) gives
  // [981, 961, ..., 21, 1] (leading spacing, steps_offset 1); with steps_offset 0 it
  // is [980, ..., 0] and with linspace spacing [999, 979, 958, ..., 20, 0] - the
  // numbers quoted in huggingface/diffusers issue #2585.
  Scheduler s = Make(SchedulerKind::kDdim, Sd2Config(), 50);
  ASSERT_EQ(s.timesteps().size(), 50U);
  EXPECT_EQ(s.timesteps().front(), 981);
  EXPECT_EQ(s.timesteps()[1], 961);
  EXPECT_EQ(s.timesteps().back(), 1);

  SchedulerConfig no_offset = Sd2Config();
  no_offset.steps_offset = 0;
  Scheduler s0 = Make(SchedulerKind::kDdim, no_offset, 50);
  EXPECT_EQ(s0.timesteps().front(), 980);
  EXPECT_EQ(s0.timesteps().back(), 0);

  SchedulerConfig lin = Sd2Config();
  lin.timestep_spacing = "linspace";
  Scheduler sl = Make(SchedulerKind::kDdim, lin, 50);
  const std::vector<double> head = {999, 979, 958, 938, 917, 897, 877, 856};
  for (size_t i = 0; i < head.size(); ++i) EXPECT_EQ(sl.timesteps()[i], head[i]) << i;
  EXPECT_EQ(sl.timesteps()[47], 41);
  EXPECT_EQ(sl.timesteps()[48], 20);
  EXPECT_EQ(sl.timesteps()[49], 0);
}

TEST(SchedulerTest, EulerTimestepsAndSigmasMatchDiffusers) {
  // EulerDiscreteScheduler's default spacing is linspace: np.linspace(0, 999, 50)[::-1]
  // = 999, 978.6122..., ..., 0; init_noise_sigma is the largest sigma, which for
  // SD's scaled_linear betas is 14.6146 (diffusers prints tensor(14.6146)).
  Scheduler s = Make(SchedulerKind::kEuler, Sd2Config(), 50);
  ASSERT_EQ(s.timesteps().size(), 50U);
  EXPECT_DOUBLE_EQ(s.timesteps().front(), 999.0);
  EXPECT_NEAR(s.timesteps()[1], 978.6122448979592, 1e-9);
  EXPECT_DOUBLE_EQ(s.timesteps().back(), 0.0);
  EXPECT_NEAR(s.init_noise_sigma(), 14.6146, 1e-3);

  SchedulerConfig leading = Sd2Config();
  leading.timestep_spacing = "leading";
  Scheduler sl = Make(SchedulerKind::kEuler, leading, 50);
  EXPECT_EQ(sl.timesteps().front(), 981);
  EXPECT_GT(sl.init_noise_sigma(), 1.0);
}

TEST(SchedulerTest, DdimWithOracleNoiseRecoversX0InOneAndManySteps) {
  torch::manual_seed(7);
  const torch::Tensor x0 = torch::randn({2, 4, 8, 8});
  const torch::Tensor eps = torch::randn({2, 4, 8, 8});
  SchedulerConfig c = Sd2Config();
  c.set_alpha_to_one = true;  // the last step lands on alpha = 1: x0 itself
  for (int steps : {1, 50}) {
    Scheduler s = Make(SchedulerKind::kDdim, c, steps);
    torch::Tensor out = RunOracle(s, x0, eps, PredictionType::kEpsilon);
    EXPECT_TRUE(torch::allclose(out, x0, 1e-4, 1e-4)) << steps << " steps";
  }
  // set_alpha_to_one false: the last step lands on alphas_cumprod[0], slightly noisy.
  Scheduler s = Make(SchedulerKind::kDdim, Sd2Config(), 50);
  torch::Tensor out = RunOracle(s, x0, eps, PredictionType::kEpsilon);
  const double a0 = s.alpha_cumprod(0);
  EXPECT_TRUE(torch::allclose(out, std::sqrt(a0) * x0 + std::sqrt(1 - a0) * eps, 1e-4, 1e-4));
  EXPECT_FALSE(torch::allclose(out, x0, 1e-4, 1e-4));
}

TEST(SchedulerTest, DdimVPredictionWithOracleRecoversX0) {
  torch::manual_seed(8);
  const torch::Tensor x0 = torch::randn({1, 4, 6, 6});
  const torch::Tensor eps = torch::randn({1, 4, 6, 6});
  SchedulerConfig c = Sd2Config();
  c.set_alpha_to_one = true;
  c.prediction_type = PredictionType::kVPrediction;
  Scheduler s = Make(SchedulerKind::kDdim, c, 20);
  EXPECT_TRUE(torch::allclose(RunOracle(s, x0, eps, PredictionType::kVPrediction), x0, 1e-4, 1e-4));
}

TEST(SchedulerTest, EulerWithOracleNoiseConvergesToX0) {
  torch::manual_seed(9);
  const torch::Tensor x0 = torch::randn({1, 4, 8, 8});
  const torch::Tensor eps = torch::randn({1, 4, 8, 8});
  for (int steps : {1, 30}) {
    Scheduler s = Make(SchedulerKind::kEuler, Sd2Config(), steps);
    EXPECT_TRUE(torch::allclose(RunOracle(s, x0, eps, PredictionType::kEpsilon), x0, 1e-3, 1e-3))
        << steps;
  }
  SchedulerConfig v = Sd2Config();
  v.prediction_type = PredictionType::kVPrediction;
  Scheduler sv = Make(SchedulerKind::kEuler, v, 30);
  EXPECT_TRUE(
      torch::allclose(RunOracle(sv, x0, eps, PredictionType::kVPrediction), x0, 1e-3, 1e-3));
}

TEST(SchedulerTest, EulerScalesModelInputBySigma) {
  Scheduler s = Make(SchedulerKind::kEuler, Sd2Config(), 50);
  torch::Tensor x = torch::ones({1, 1, 1, 1});
  const double sigma = s.init_noise_sigma();  // linspace: the first sigma is the largest
  EXPECT_NEAR(s.ScaleModelInput(x, 0).item<double>(), 1 / std::sqrt(sigma * sigma + 1), 1e-6);
  Scheduler d = Make(SchedulerKind::kDdim, Sd2Config(), 50);
  EXPECT_EQ(d.ScaleModelInput(x, 0).item<double>(), 1.0);
}

TEST(SchedulerTest, GuidanceScaleOneIsTheConditionalPrediction) {
  torch::manual_seed(10);
  const torch::Tensor u = torch::randn({2, 4, 4, 4});
  const torch::Tensor c = torch::randn({2, 4, 4, 4});
  EXPECT_TRUE(torch::allclose(ApplyGuidance(u, c, 1.0), c, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(ApplyGuidance(u, c, 0.0), u));
  EXPECT_TRUE(torch::allclose(ApplyGuidance(u, c, 7.5), u + 7.5 * (c - u)));
}

TEST(SchedulerTest, StrengthKeepsTheLastStepsAsDiffusers) {
  EXPECT_EQ(FirstStepForStrength(50, 0.8), 10);  // 40 steps run
  EXPECT_EQ(FirstStepForStrength(50, 0.9), 5);
  EXPECT_EQ(FirstStepForStrength(50, 1.0), 0);
  EXPECT_EQ(FirstStepForStrength(50, 0.01), 50);  // int(0.5) = 0 steps
}

TEST(SchedulerTest, BadConfigsNameTheKey) {
  auto bad_json = ParseSchedulerConfig("{", "m/1/scheduler.json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.status().code(), StatusCode::kBadInput);
  EXPECT_NE(bad_json.status().message().find("m/1/scheduler.json"), std::string::npos);
  auto bad_schedule = ParseSchedulerConfig(R"({"beta_schedule": "cosine"})", "s.json");
  ASSERT_FALSE(bad_schedule.ok());
  EXPECT_NE(bad_schedule.status().message().find("beta_schedule"), std::string::npos);
  auto bad_type = ParseSchedulerConfig(R"({"steps_offset": "1"})", "s.json");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("steps_offset"), std::string::npos);
  EXPECT_FALSE(ParseSchedulerKind("pndm").ok());
  auto s = Scheduler::Create(SchedulerKind::kDdim, Sd2Config());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->SetTimesteps(0).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sagebox::endpoint
