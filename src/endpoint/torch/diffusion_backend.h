// diffusion_backend.h: the `diffusion` backend: Stable Diffusion model folders served natively.
//
// config.pbtxt selects it with `backend: "diffusion"`; the inputs and outputs are
// the article's sd_* models' (BYTES tensors of shape [n, 1] or [n]):
//   prompt           one prompt per row (required)
//   negative_prompt  optional; one row, used for every prompt, or one per prompt
//   image            base64 PNG or JPEG (img2img, depth, inpaint, upscale)
//   mask_image       base64 PNG or JPEG, white = repaint (inpaint)
//   gen_args         optional JSON object: num_inference_steps, guidance_scale,
//                    strength, seed, height, width, noise_level, scheduler
//                    ("ddim" | "euler"), num_images_per_prompt
// and the output `generated_image` holds one base64 PNG per prompt (times
// num_images_per_prompt), shape [n, 1]. The model folder's version directory
// holds the TorchScript components, scheduler.json and pipeline.json described in
// diffusion_pipeline.h; the config parameter `task` picks the pipeline (text2img,
// img2img, depth, inpaint, upscale) or it is inferred from the files.
//
// A batch of requests runs one request after another on the instance's pipeline;
// each request's prompts run as one batch. A malformed request (missing prompt,
// bad base64, not an image, bad gen_args JSON) is InvalidArgument naming the input.
//
// PredictBytes is the sum of the version folder's *.pt file sizes; MeasuredBytes
// the loaded components' parameter and buffer bytes.
//
// Thread-safety: as backend.h (the backend is stateless; an instance is used by one
// thread at a time). This header does not include libtorch.
#pragma once

#include <memory>

#include "endpoint/backend.h"

namespace sagebox::endpoint {

// The backend config.pbtxt names "diffusion".
std::unique_ptr<Backend> NewDiffusionBackend();

}  // namespace sagebox::endpoint
