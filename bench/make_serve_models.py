#!/usr/bin/python3
"""Writes the Triton model folders bench/endpoint_serve.sh serves (bench/RESULTS.md,
"Endpoint: serving"): TorchScript models for the pytorch_libtorch backend.

  /usr/bin/python3 bench/make_serve_models.py OUT_DIR [--pad-bytes 200000000]

Folders (each: config.pbtxt and 1/model.pt; the folder name is the model's name):
  tiny          Linear(4, 3) + ReLU, FP32 INPUT__0 [4] -> OUTPUT__0 [3], max_batch_size 8,
                no dynamic_batching: the server's overhead on a model that costs almost
                nothing to run.
  mlp_batched   4 x (Linear(256, 256) + ReLU), FP32 [256] -> [256], max_batch_size 16,
                dynamic_batching { preferred_batch_size [4, 8, 16]
                max_queue_delay_microseconds 500 }.
  mlp_single    the same weights (the same model.pt bytes) and config but for the
                dynamic_batching block: one request per forward().
  big           tiny plus a dummy uint8 buffer of --pad-bytes (default 200,000,000), so
                model.pt is about 200 MB: the cold-load benchmark.
Every model runs with one intra-op thread (INTRA_OP_THREAD_COUNT 1) and one CPU
instance, as the bench's in-process floor does, so both sides do the same work.
Weights are fixed by the seed; nothing here depends on the machine.
"""

import argparse
import os
import shutil

import torch


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


class Mlp(torch.nn.Module):
    def __init__(self, width: int, layers: int):
        super().__init__()
        self.body = torch.nn.Sequential(
            *[m for _ in range(layers) for m in (torch.nn.Linear(width, width), torch.nn.ReLU())])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def write(out, name, module, width_in, width_out, max_batch, batching, pad_bytes=0):
    if pad_bytes > 0:
        module.register_buffer("pad", torch.zeros(pad_bytes, dtype=torch.uint8))
    module.eval()
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(folder, "1"), exist_ok=True)
    torch.jit.script(module).save(os.path.join(folder, "1", "model.pt"))
    lines = [
        'name: "%s"' % name,
        'platform: "pytorch_libtorch"',
        "max_batch_size: %d" % max_batch,
        'input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ %d ] } ]' % width_in,
        'output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ %d ] } ]' % width_out,
        "instance_group [ { kind: KIND_CPU count: 1 } ]",
        'parameters { key: "INTRA_OP_THREAD_COUNT" value { string_value: "1" } }',
    ]
    if batching:
        lines.append("dynamic_batching { preferred_batch_size: [ 4, 8, 16 ] "
                     "max_queue_delay_microseconds: 500 }")
    with open(os.path.join(folder, "config.pbtxt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--pad-bytes", type=int, default=200_000_000)
    args = parser.parse_args()
    torch.manual_seed(0)
    write(args.out, "tiny", Tiny(), 4, 3, 8, False)
    write(args.out, "mlp_batched", Mlp(256, 4), 256, 256, 16, True)
    # Identical weights and bytes: copy the file rather than re-scripting a new module.
    write(args.out, "mlp_single", Mlp(256, 4), 256, 256, 16, False)
    shutil.copyfile(os.path.join(args.out, "mlp_batched", "1", "model.pt"),
                    os.path.join(args.out, "mlp_single", "1", "model.pt"))
    torch.manual_seed(0)
    write(args.out, "big", Tiny(), 4, 3, 8, False, args.pad_bytes)


if __name__ == "__main__":
    main()
