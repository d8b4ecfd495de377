#include "endpoint/torch/diffusion_backend.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "core/env.h"
#include "endpoint/image.h"
#include "endpoint/torch/diffusion_pipeline.h"

namespace sagebox::endpoint {
namespace {

// The BYTES elements of input `name`; nullptr (no error) when absent.
StatusOr<const std::vector<std::string>*> StringsOf(const InferRequest& request,
                                                    const std::string& name) {
  const Tensor* t = FindInput(request, name);
  if (t == nullptr) return static_cast<const std::vector<std::string>*>(nullptr);
  if (t->datatype != DataType::kString) {
    return InvalidArgument("input " + name + ": expected BYTES, got " +
                           ToKServeDatatype(t->datatype));
  }
  return &t->strings;
}

StatusOr<Image> DecodeInputImage(const std::string& name, const std::string& text) {
  auto bytes = Base64Decode(text);
  if (!bytes.ok()) {
    return InvalidArgument("input " + name +
                           ": expected a base64 PNG or JPEG: " + bytes.status().message());
  }
  auto image = DecodeImage(*bytes);
  if (!image.ok()) {
    return InvalidArgument("input " + name +
                           ": expected a base64 PNG or JPEG: " + image.status().message());
  }
  return std::move(image).value();
}

StatusOr<GenerateRequest> ParseRequest(const InferRequest& request, const DiffusionPipeline& p) {
  GenerateRequest g;
  ASSIGN_OR_RETURN(const std::vector<std::string>* prompts, StringsOf(request, "prompt"));
  if (prompts == nullptr || prompts->empty()) {
    return InvalidArgument("input prompt: required (BYTES, one prompt per row)");
  }
  g.prompts = *prompts;
  ASSIGN_OR_RETURN(const std::vector<std::string>* negatives,
                   StringsOf(request, "negative_prompt"));
  if (negatives != nullptr && !negatives->empty()) {
    if (negatives->size() == 1) {
      g.negative_prompts.assign(g.prompts.size(), negatives->front());
    } else if (negatives->size() == g.prompts.size()) {
      g.negative_prompts = *negatives;
    } else {
      return InvalidArgument("input negative_prompt: expected 1 or " +
                             std::to_string(g.prompts.size()) + " rows, got " +
                             std::to_string(negatives->size()));
    }
  }
  ASSIGN_OR_RETURN(const std::vector<std::string>* gen_args, StringsOf(request, "gen_args"));
  std::string gen_args_text;
  if (gen_args != nullptr && !gen_args->empty()) {
    if (gen_args->size() != 1) {
      return InvalidArgument("input gen_args: expected one JSON string, got " +
                             std::to_string(gen_args->size()));
    }
    gen_args_text = gen_args->front();
  }
  ASSIGN_OR_RETURN(g.args, ParseGenArgs(gen_args_text, p.task(), p.settings()));
  for (const char* name : {"image", "mask_image"}) {
    ASSIGN_OR_RETURN(const std::vector<std::string>* images, StringsOf(request, name));
    if (images == nullptr || images->empty()) continue;
    // One image for all prompts: the article sends [1, 1] tensors.
    if (images->size() != 1) {
      return InvalidArgument(std::string("input ") + name + ": expected one image, got " +
                             std::to_string(images->size()));
    }
    ASSIGN_OR_RETURN(Image img, DecodeInputImage(name, images->front()));
    (std::string_view(name) == "image" ? g.image : g.mask) = std::move(img);
  }
  return g;
}

class DiffusionInstance : public ModelInstance {
 public:
  DiffusionInstance(std::unique_ptr<DiffusionPipeline> pipeline, std::string model_name,
                    std::string version)
      : pipeline_(std::move(pipeline)),
        model_name_(std::move(model_name)),
        version_(std::move(version)) {}

  std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) override {
    std::vector<StatusOr<InferResponse>> out;
    out.reserve(batch.size());
    for (const InferRequest* request : batch) out.push_back(RunOne(*request));
    return out;
  }

  uint64_t MeasuredBytes() const override { return pipeline_->MeasuredBytes(); }

 private:
  StatusOr<InferResponse> RunOne(const InferRequest& request) {
    ASSIGN_OR_RETURN(GenerateRequest g, ParseRequest(request, *pipeline_));
    ASSIGN_OR_RETURN(std::vector<Image> images, pipeline_->Generate(g));
    Tensor t;
    t.name = "generated_image";
    t.datatype = DataType::kString;
    t.shape = {static_cast<int64_t>(images.size()), 1};
    for (const Image& image : images) {
      ASSIGN_OR_RETURN(std::string png, EncodePng(image));
      t.strings.push_back(Base64Encode(png));
    }
    InferResponse response;
    response.model_name = model_name_;
    response.model_version = version_;
    response.id = request.id;
    response.outputs.push_back(std::move(t));
    return response;
  }

  std::unique_ptr<DiffusionPipeline> pipeline_;
  std::string model_name_;
  std::string version_;
};

class DiffusionBackend : public Backend {
 public:
  std::string_view name() const override { return "diffusion"; }

  StatusOr<uint64_t> PredictBytes(const ModelSource& source) override {
    Env* env = Env::Default();
    ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(source.version_dir));
    uint64_t total = 0;
    bool has_unet = false;
    for (const auto& n : names) {
      if (n.size() < 3 || n.compare(n.size() - 3, 3, ".pt") != 0) continue;
      has_unet = has_unet || n == "unet.pt";
      ASSIGN_OR_RETURN(uint64_t size, env->FileSize(JoinPath(source.version_dir, n)));
      total += size;
    }
    if (!has_unet) return NotFound(JoinPath(source.version_dir, "unet.pt") + ": missing");
    return total;
  }

  StatusOr<std::unique_ptr<ModelInstance>> LoadInstance(const ModelSource& source,
                                                        int /*index*/) override {
    std::string task;
    if (auto it = source.config.parameters.find("task"); it != source.config.parameters.end()) {
      task = it->second;
    }
    auto pipeline = DiffusionPipeline::Load(source.version_dir, task);
    if (!pipeline.ok()) {
      return pipeline.status().WithContext("model " + source.name);
    }
    return std::unique_ptr<ModelInstance>(std::make_unique<DiffusionInstance>(
        std::move(pipeline).value(), source.name, std::to_string(source.version)));
  }
};

}  // namespace

std::unique_ptr<Backend> NewDiffusionBackend() { return std::make_unique<DiffusionBackend>(); }

}  // namespace sagebox::endpoint
