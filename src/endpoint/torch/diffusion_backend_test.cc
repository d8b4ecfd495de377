#include "endpoint/torch/diffusion_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/env.h"
#include "core/testing/temp_dir.h"
#include "endpoint/image.h"
#include "endpoint/torch/diffusion_pipeline.h"
#include "endpoint/torch/testing/tiny_diffusion.h"

namespace sagebox::endpoint {
namespace {

namespace fs = std::filesystem;

// Builds the four tiny article models once for the whole suite (the script takes a
// few seconds; every test only reads the folders).
class DiffusionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new sagebox::testing::TempDir("diffusion");
    sagebox::endpoint::testing::MakeTinyDiffusion(dir_->path());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string ModelDir(const std::string& name) { return dir_->Path(name); }

  static ModelSource Source(const std::string& name) {
    ModelSource s;
    s.name = name;
    s.dir = ModelDir(name);
    s.version = 1;
    s.version_dir = JoinPath(s.dir, "1");
    auto config = LoadModelConfig(Env::Default(), s.dir);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (config.ok()) s.config = *config;
    return s;
  }

  static std::unique_ptr<ModelInstance> Load(const std::string& name) {
    auto backend = NewDiffusionBackend();
    auto instance = backend->LoadInstance(Source(name), 0);
    EXPECT_TRUE(instance.ok()) << instance.status().ToString();
    return instance.ok() ? std::move(instance).value() : nullptr;
  }

  static Tensor Strings(const std::string& name, std::vector<std::string> values) {
    Tensor t;
    t.name = name;
    t.datatype = DataType::kString;
    t.shape = {static_cast<int64_t>(values.size()), 1};
    t.strings = std::move(values);
    return t;
  }

  // A base64 PNG of a colour gradient, as the article's encode_image sends.
  static std::string GradientPng(int width, int height) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = 3;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        img.pixels.push_back(static_cast<uint8_t>(x * 255 / width));
        img.pixels.push_back(static_cast<uint8_t>(y * 255 / height));
        img.pixels.push_back(128);
      }
    }
    return Base64Encode(*EncodePng(img));
  }

  // White (repaint) right half.
  static std::string MaskPng(int width, int height) {
    Image img;
    img.width = width;
    img.height = height;
    img.channels = 1;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) img.pixels.push_back(x >= width / 2 ? 255 : 0);
    }
    return Base64Encode(*EncodePng(img));
  }

  static StatusOr<InferResponse> Run(ModelInstance* instance, const InferRequest& request) {
    auto out = instance->Execute({&request});
    EXPECT_EQ(out.size(), 1U);
    return std::move(out.at(0));
  }

  // The decoded image of output row `row`.
  static Image OutputImage(const InferResponse& response, size_t row = 0) {
    EXPECT_EQ(response.outputs.size(), 1U);
    const Tensor& t = response.outputs.at(0);
    EXPECT_EQ(t.name, "generated_image");
    EXPECT_EQ(t.datatype, DataType::kString);
    auto png = Base64Decode(t.strings.at(row));
    EXPECT_TRUE(png.ok());
    EXPECT_EQ(png->substr(1, 3), "PNG");
    auto img = DecodeImage(*png);
    EXPECT_TRUE(img.ok()) << img.status().ToString();
    return img.ok() ? *img : Image{};
  }

  static sagebox::testing::TempDir* dir_;
};

sagebox::testing::TempDir* DiffusionTest::dir_ = nullptr;

TEST_F(DiffusionTest, BaseCellMakesA512Png) {
  auto instance = Load("sd_base");
  ASSERT_NE(instance, nullptr);
  InferRequest r;
  r.id = "base";
  r.inputs = {Strings("prompt", {"Infinity pool on top of a high rise overlooking Central Park"}),
              Strings("negative_prompt", {"blur,low detail, low quality"}),
              Strings("gen_args", {R"({"num_inference_steps": 50, "guidance_scale": 8})"})};
  auto response = Run(instance.get(), r);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->id, "base");
  EXPECT_EQ(response->model_name, "sd_base");
  EXPECT_EQ(response->outputs.at(0).shape, (std::vector<int64_t>{1, 1}));
  Image img = OutputImage(*response);
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 512);
  EXPECT_EQ(img.channels, 3);
}

TEST_F(DiffusionTest, DepthAndInpaintKeepTheInputSize) {
  auto depth = Load("sd_depth");
  ASSERT_NE(depth, nullptr);
  InferRequest d;
  d.inputs = {
      Strings("prompt",
              {"highly detailed oil painting of an inifinity pool overlooking central park"}),
      Strings("image", {GradientPng(512, 512)}),
      Strings("gen_args", {R"({"num_inference_steps": 50, "strength": 0.9})"})};
  auto dr = Run(depth.get(), d);
  ASSERT_TRUE(dr.ok()) << dr.status().ToString();
  Image di = OutputImage(*dr);
  EXPECT_EQ(di.width, 512);
  EXPECT_EQ(di.height, 512);
  // A non-square input keeps its size too (multiples of 8 as they are).
  d.inputs[1] = Strings("image", {GradientPng(96, 64)});
  dr = Run(depth.get(), d);
  ASSERT_TRUE(dr.ok()) << dr.status().ToString();
  di = OutputImage(*dr);
  EXPECT_EQ(di.width, 96);
  EXPECT_EQ(di.height, 64);

  auto inpaint = Load("sd_inpaint");
  ASSERT_NE(inpaint, nullptr);
  InferRequest p;
  p.inputs = {Strings("prompt", {"building, facade, paint, windows"}),
              Strings("image", {GradientPng(160, 120)}), Strings("mask_image", {MaskPng(160, 120)}),
              Strings("negative_prompt", {"tree, obstruction, sky, clouds"}),
              Strings("gen_args", {R"({"num_inference_steps": 50, "guidance_scale": 10})"})};
  auto pr = Run(inpaint.get(), p);
  ASSERT_TRUE(pr.ok()) << pr.status().ToString();
  Image pi = OutputImage(*pr);
  EXPECT_EQ(pi.width, 160);
  EXPECT_EQ(pi.height, 120);
}

TEST_F(DiffusionTest, UpscaleTurns128Into512) {
  auto instance = Load("sd_upscale");
  ASSERT_NE(instance, nullptr);
  InferRequest r;
  r.inputs = {Strings("prompt", {"Infinity pool on top of a high rise overlooking Central Park"}),
              Strings("image", {GradientPng(128, 128)})};
  auto response = Run(instance.get(), r);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  Image img = OutputImage(*response);
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 512);
}

TEST_F(DiffusionTest, SameSeedSameBytesOtherSeedOtherBytes) {
  auto instance = Load("sd_base");
  ASSERT_NE(instance, nullptr);
  auto run = [&](const std::string& gen_args) {
    InferRequest r;
    r.inputs = {Strings("prompt", {"a cat"}), Strings("gen_args", {gen_args})};
    auto response = Run(instance.get(), r);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? response->outputs.at(0).strings.at(0) : std::string();
  };
  const std::string a = R"({"num_inference_steps": 5, "seed": 42, "height": 64, "width": 64})";
  const std::string b = R"({"num_inference_steps": 5, "seed": 43, "height": 64, "width": 64})";
  const std::string first = run(a);
  EXPECT_EQ(run(a), first);
  EXPECT_NE(run(b), first);
  // Euler is selectable per request and differs from DDIM.
  EXPECT_NE(run(R"({"num_inference_steps": 5, "seed": 42, "height": 64, "width": 64,
                    "scheduler": "euler"})"),
            first);
}

TEST_F(DiffusionTest, BatchGivesOneResponsePerRequestAndOneImagePerPrompt) {
  auto instance = Load("sd_base");
  ASSERT_NE(instance, nullptr);
  const std::string args = R"({"num_inference_steps": 2, "height": 64, "width": 96, "seed": 1})";
  InferRequest one;
  one.id = "one";
  one.inputs = {Strings("prompt", {"a", "b"}), Strings("gen_args", {args})};
  InferRequest two;
  two.id = "two";
  two.inputs = {Strings("prompt", {"c"}),
                Strings("gen_args", {R"({"num_inference_steps": 2, "height": 64, "width": 64,
                                        "num_images_per_prompt": 3})"})};
  InferRequest bad;
  bad.id = "bad";
  bad.inputs = {Strings("gen_args", {args})};  // no prompt
  auto out = instance->Execute({&one, &bad, &two});
  ASSERT_EQ(out.size(), 3U);
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  EXPECT_EQ(out[0]->id, "one");
  EXPECT_EQ(out[0]->outputs.at(0).shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(OutputImage(*out[0], 1).width, 96);
  EXPECT_EQ(out[1].status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(out[2].ok()) << out[2].status().ToString();
  EXPECT_EQ(out[2]->outputs.at(0).strings.size(), 3U);
}

TEST_F(DiffusionTest, BadRequestsAreInvalidArgument) {
  auto base = Load("sd_base");
  auto depth = Load("sd_depth");
  ASSERT_NE(base, nullptr);
  ASSERT_NE(depth, nullptr);
  auto code = [&](ModelInstance* m, std::vector<Tensor> inputs) {
    InferRequest r;
    r.inputs = std::move(inputs);
    auto response = Run(m, r);
    return response.ok() ? StatusCode::kOk : response.status().code();
  };
  const auto inv = StatusCode::kInvalidArgument;
  EXPECT_EQ(code(base.get(), {Strings("prompt", {"x"}), Strings("gen_args", {"{not json"})}), inv);
  EXPECT_EQ(code(base.get(), {Strings("prompt", {"x"}), Strings("gen_args", {"[1, 2]"})}), inv);
  EXPECT_EQ(code(base.get(), {Strings("prompt", {"x"}),
                              Strings("gen_args", {R"({"num_inference_steps": "many"})"})}),
            inv);
  EXPECT_EQ(code(base.get(), {Strings("prompt", {"x"}), Strings("gen_args", {R"({"steps": 3})"})}),
            inv);
  EXPECT_EQ(
      code(base.get(), {Strings("prompt", {"x"}), Strings("gen_args", {R"({"height": 100})"})}),
      inv);  // not a multiple of 8
  EXPECT_EQ(code(base.get(),
                 {Strings("prompt", {"x"}), Strings("gen_args", {R"({"scheduler": "pndm"})"})}),
            inv);
  // `image` that is base64 but not a picture, and one that is not base64 at all.
  EXPECT_EQ(code(depth.get(), {Strings("prompt", {"x"}),
                               Strings("image", {Base64Encode("hello, not an image")})}),
            inv);
  EXPECT_EQ(code(depth.get(), {Strings("prompt", {"x"}), Strings("image", {"***"})}), inv);
  EXPECT_EQ(code(depth.get(), {Strings("prompt", {"x"})}), inv);  // depth needs an image
  // strength 0.01 of 50 steps runs no step.
  EXPECT_EQ(code(depth.get(), {Strings("prompt", {"x"}), Strings("image", {GradientPng(64, 64)}),
                               Strings("gen_args", {R"({"strength": 0.01})"})}),
            inv);
}

// An img2img folder: the base model's components plus a VAE encoder.
std::string MakeImg2ImgFolder(const std::string& root, const std::string& base,
                              const std::string& depth) {
  const std::string dir = JoinPath(root, "sd_img2img/1");
  fs::create_directories(dir);
  for (const char* f :
       {"text_encoder.pt", "unet.pt", "vae_decoder.pt", "scheduler.json", "pipeline.json"}) {
    fs::copy_file(JoinPath(base, std::string("1/") + f), JoinPath(dir, f),
                  fs::copy_options::overwrite_existing);
  }
  fs::copy_file(JoinPath(depth, "1/vae_encoder.pt"), JoinPath(dir, "vae_encoder.pt"),
                fs::copy_options::overwrite_existing);
  return dir;
}

TEST_F(DiffusionTest, StrengthPointEightOf50StepsRuns40UnetCalls) {
  const std::string dir =
      MakeImg2ImgFolder(dir_->path(), ModelDir("sd_base"), ModelDir("sd_depth"));
  auto pipeline = DiffusionPipeline::Load(dir, "");
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  EXPECT_EQ((*pipeline)->task(), DiffusionTask::kImg2Img);
  GenerateRequest g;
  g.prompts = {"a", "b"};
  Image input = *DecodeImage(*Base64Decode(GradientPng(64, 64)));
  g.image = input;
  auto args = ParseGenArgs(R"({"num_inference_steps": 50, "strength": 0.8, "seed": 3})",
                           DiffusionTask::kImg2Img, (*pipeline)->settings());
  ASSERT_TRUE(args.ok());
  g.args = *args;
  // Guidance on (7.5): one UNet call per step, unconditional and conditional rows batched.
  auto images = (*pipeline)->Generate(g);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  EXPECT_EQ(images->size(), 2U);
  EXPECT_EQ((*pipeline)->counters().unet_calls, 40);
  EXPECT_EQ((*pipeline)->counters().unet_rows, 40 * 4);
  // Guidance 1: diffusers skips the unconditional rows: same calls, half the rows.
  g.args.guidance_scale = 1.0;
  ASSERT_TRUE((*pipeline)->Generate(g).ok());
  EXPECT_EQ((*pipeline)->counters().unet_calls, 80);
  EXPECT_EQ((*pipeline)->counters().unet_rows, 40 * 4 + 40 * 2);
  // A 4-channel UNet serves inpainting by blending the known region back per step.
  auto blend = DiffusionPipeline::Load(dir, "inpaint");
  ASSERT_TRUE(blend.ok()) << blend.status().ToString();
  g.mask = *DecodeImage(*Base64Decode(MaskPng(64, 64)));
  g.args.num_inference_steps = 4;  // strength is still 0.8: int(4 * 0.8) = 3 steps
  auto inpainted = (*blend)->Generate(g);
  ASSERT_TRUE(inpainted.ok()) << inpainted.status().ToString();
  EXPECT_EQ((*blend)->counters().unet_calls, 3);
  g.args.strength = 1.0;  // inpainting's default: from pure noise, every step
  ASSERT_TRUE((*blend)->Generate(g).ok());
  EXPECT_EQ((*blend)->counters().unet_calls, 3 + 4);
}

TEST_F(DiffusionTest, SizesPredictedAndMeasured) {
  auto backend = NewDiffusionBackend();
  EXPECT_EQ(backend->name(), "diffusion");
  ModelSource source = Source("sd_depth");
  uint64_t files = 0;
  for (const auto& entry : fs::directory_iterator(source.version_dir)) {
    if (entry.path().extension() == ".pt") files += entry.file_size();
  }
  auto predicted = backend->PredictBytes(source);
  ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
  EXPECT_EQ(*predicted, files);
  auto instance = Load("sd_depth");
  ASSERT_NE(instance, nullptr);
  // Parameters are float32 inside zip files with some overhead: less than the files.
  EXPECT_GT(instance->MeasuredBytes(), 100000U);
  EXPECT_LT(instance->MeasuredBytes(), files);
}

TEST_F(DiffusionTest, BrokenFoldersFailToLoadNamingTheFile) {
  const std::string root = dir_->Path("broken");
  const std::string dir = MakeImg2ImgFolder(root, ModelDir("sd_base"), ModelDir("sd_depth"));
  fs::remove(JoinPath(dir, "unet.pt"));
  auto missing = DiffusionPipeline::Load(dir, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("unet.pt"), std::string::npos);

  ASSERT_TRUE(Env::Default()->WriteFileAtomic(JoinPath(dir, "unet.pt"), "not a zip").ok());
  auto garbage = DiffusionPipeline::Load(dir, "");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().code(), StatusCode::kBadInput);

  ASSERT_TRUE(
      Env::Default()->WriteFileAtomic(JoinPath(dir, "pipeline.json"), "{\"height\": -1}").ok());
  auto bad_json = DiffusionPipeline::Load(dir, "");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("pipeline.json: height"), std::string::npos);

  auto bad_task = DiffusionPipeline::Load(ModelDir("sd_base") + "/1", "video");
  EXPECT_EQ(bad_task.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sagebox::endpoint
