#!/usr/bin/python3
"""Builds tiny Stable Diffusion model folders for the `diffusion` backend's tests.

Usage: /usr/bin/python3 tests/endpoint/make_tiny_diffusion.py OUTDIR [--pad-bytes N]

Writes OUTDIR/{sd_base,sd_depth,sd_inpaint,sd_upscale}, each a Triton model folder
(config.pbtxt with the article's inputs/outputs and `backend: "diffusion"`, and a
version folder 1/) holding TorchScript components with random weights but the real
interfaces (see src/endpoint/torch/diffusion_backend.h for the layout):

  text_encoder.pt     ids int64 [B,77]                      -> [B,77,D] (D = 32)
  unet.pt             sample [B,C,h,w], timestep fp32 [B],
                      encoder_hidden_states [B,77,D]
                      (+ class_labels int64 [B], upscaler)   -> [B,4,h,w]
  vae_decoder.pt      latents [B,4,h,w]                     -> image [B,3,h*f,w*f] in [-1,1]
  vae_encoder.pt      image [B,3,H,W] in [-1,1]              -> latents [B,4,H/8,W/8]
  depth_estimator.pt  image [B,3,H,W] in [-1,1]              -> depth [B,1,H/2,W/2]

The weights are seeded, so the same command writes the same models. --pad-bytes adds
a zero buffer of N bytes to each UNet, so a test can give models a chosen size.
"""

import argparse
import json
import math
import os

import torch
from torch import nn
import torch.nn.functional as F

D = 32  # text embedding width
VOCAB = 1024  # ids are taken modulo this, so CLIP's ids (up to 49407) fit
HIDDEN = 16


class TextEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(77, D) * 0.1)
        self.proj = nn.Linear(D, D)
        self.vocab = VOCAB

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(torch.remainder(ids, self.vocab)) + self.pos
        return self.proj(torch.tanh(x))


class UNet(nn.Module):
    def __init__(self, in_channels: int, class_labels: bool, pad_bytes: int):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, HIDDEN, 3, padding=1)
        self.time = nn.Linear(HIDDEN, HIDDEN)
        self.q = nn.Conv2d(HIDDEN, HIDDEN, 1)
        self.k = nn.Linear(D, HIDDEN)
        self.v = nn.Linear(D, HIDDEN)
        self.mid = nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1)
        self.conv_out = nn.Conv2d(HIDDEN, 4, 3, padding=1)
        self.hidden = HIDDEN
        self.class_embed = nn.Embedding(351, HIDDEN)
        self.register_buffer("pad", torch.zeros(max(pad_bytes, 0), dtype=torch.uint8))

    def embed_time(self, t: torch.Tensor) -> torch.Tensor:
        half = self.hidden // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        args = t.float().reshape(-1, 1) * freqs.reshape(1, -1)
        return self.time(torch.cat([torch.sin(args), torch.cos(args)], dim=1))

    def body(self, sample: torch.Tensor, timestep: torch.Tensor,
             context: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        b, _, h, w = sample.shape
        x = F.silu(self.conv_in(sample))
        x = x + (self.embed_time(timestep) + extra).reshape(b, self.hidden, 1, 1)
        q = self.q(x).reshape(b, self.hidden, h * w).transpose(1, 2)  # [B, hw, H]
        k = self.k(context)  # [B, 77, H]
        v = self.v(context)
        attn = torch.softmax(torch.bmm(q, k.transpose(1, 2)) / math.sqrt(self.hidden), dim=-1)
        x = x + torch.bmm(attn, v).transpose(1, 2).reshape(b, self.hidden, h, w)
        x = F.silu(self.mid(x))
        return torch.tanh(self.conv_out(x))


class TextUNet(UNet):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        extra = torch.zeros(sample.shape[0], self.hidden)
        return self.body(sample, timestep, encoder_hidden_states, extra)


class UpscaleUNet(UNet):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor, class_labels: torch.Tensor) -> torch.Tensor:
        extra = self.class_embed(class_labels.long().clamp(0, 350))
        return self.body(sample, timestep, encoder_hidden_states, extra)


class VaeDecoder(nn.Module):
    def __init__(self, factor: int):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.out = nn.Conv2d(8, 3, 3, padding=1)
        self.factor = factor

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.conv(latents))
        x = F.interpolate(x, scale_factor=float(self.factor), mode="nearest")
        return torch.tanh(self.out(x))


class VaeEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.out = nn.Conv2d(8, 4, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.conv(image))
        x = F.avg_pool2d(x, 8)
        return self.out(x)


class DepthEstimator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.conv(F.avg_pool2d(image, 2)))


CONFIG_INPUT = """  {{
    name: "{name}"
    data_type: TYPE_STRING
    dims: [ -1 ]{optional}
  }}"""


def config_text(name, inputs, task):
    parts = []
    for inp in inputs:
        optional = "\n    optional: true" if inp in ("negative_prompt", "gen_args") else ""
        parts.append(CONFIG_INPUT.format(name=inp, optional=optional))
    return (f'name: "{name}"\nbackend: "diffusion"\nmax_batch_size: 8\n\n'
            "input [\n" + ",\n".join(parts) + "\n]\n\n"
            'output [\n  {\n    name: "generated_image"\n    data_type: TYPE_STRING\n'
            "    dims: [ -1 ]\n  }\n]\n\n"
            "instance_group [\n  {\n    kind: KIND_CPU\n  }\n]\n\n"
            f'parameters: {{\n  key: "task",\n  value: {{string_value: "{task}"}}\n}}\n')


# diffusers' scheduler_config.json of stabilityai/stable-diffusion-2-1-base (a PNDM
# config every SD pipeline converts to DDIM/Euler with from_config).
SD2_SCHEDULER = {
    "_class_name": "PNDMScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
}
# stabilityai/stable-diffusion-x4-upscaler's scheduler (DDIM, v-prediction).
UPSCALE_SCHEDULER = {
    "_class_name": "DDIMScheduler",
    "beta_end": 0.02,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.0001,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "steps_offset": 1,
}


def save(module, path):
    scripted = torch.jit.script(module.eval())
    scripted.save(path)


def make_model(out, name, task, pad_bytes):
    inputs = {
        "text2img": ["prompt", "negative_prompt", "gen_args"],
        "depth": ["prompt", "negative_prompt", "image", "gen_args"],
        "inpaint": ["prompt", "negative_prompt", "image", "mask_image", "gen_args"],
        "upscale": ["prompt", "negative_prompt", "image", "gen_args"],
    }[task]
    in_channels = {"text2img": 4, "depth": 5, "inpaint": 9, "upscale": 7}[task]
    model_dir = os.path.join(out, name)
    version = os.path.join(model_dir, "1")
    os.makedirs(version, exist_ok=True)
    with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
        f.write(config_text(name, inputs, task))
    save(TextEncoder(), os.path.join(version, "text_encoder.pt"))
    if task == "upscale":
        save(UpscaleUNet(in_channels, True, pad_bytes), os.path.join(version, "unet.pt"))
    else:
        save(TextUNet(in_channels, False, pad_bytes), os.path.join(version, "unet.pt"))
    save(VaeDecoder(4 if task == "upscale" else 8), os.path.join(version, "vae_decoder.pt"))
    if task in ("depth", "inpaint"):
        save(VaeEncoder(), os.path.join(version, "vae_encoder.pt"))
    if task == "depth":
        save(DepthEstimator(), os.path.join(version, "depth_estimator.pt"))
    pipeline = {
        "vae_scale_factor": 8,
        "latent_channels": 4,
        "scaling_factor": 0.18215,
        "height": 512,
        "width": 512,
        "unet_in_channels": in_channels,
    }
    scheduler = SD2_SCHEDULER
    if task == "upscale":
        pipeline.update({
            "vae_scale_factor": 4,
            "scaling_factor": 0.08333,
            "max_noise_level": 350,
            "low_res_scheduler": {"beta_start": 0.0001, "beta_end": 0.02,
                                  "beta_schedule": "scaled_linear",
                                  "num_train_timesteps": 1000},
        })
        scheduler = UPSCALE_SCHEDULER
    with open(os.path.join(version, "pipeline.json"), "w") as f:
        json.dump(pipeline, f, indent=2)
    with open(os.path.join(version, "scheduler.json"), "w") as f:
        json.dump(scheduler, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--pad-bytes", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(1234)
    for name, task in (("sd_base", "text2img"), ("sd_depth", "depth"),
                       ("sd_inpaint", "inpaint"), ("sd_upscale", "upscale")):
        make_model(args.outdir, name, task, args.pad_bytes)


if __name__ == "__main__":
    main()
