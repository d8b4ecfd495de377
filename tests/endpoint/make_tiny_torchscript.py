#!/usr/bin/python3
"""Writes tiny Triton model folders with TorchScript models for the endpoint_torch tests.

Each model folder gets config.pbtxt (platform pytorch_libtorch), 1/model.pt and
expected.json: a fixed input and the outputs PyTorch itself computed for it, so the
C++ tests compare libtorch's answers with Python's and not with numbers of their own.

  /usr/bin/python3 make_tiny_torchscript.py OUT_DIR [--only NAME ...] [--pad-bytes N]

--pad-bytes N registers a dummy uint8 buffer of N bytes in every model written, so a
test controls how much memory a model holds (ModuleBytes) and how large model.pt is.
Models (folder names):
  linear   Linear(4, 3) + ReLU, FP32, INPUT__0 -> OUTPUT__0, max_batch_size 8
  addsub   forward(a, b) -> (a + b, a - b), FP32 dims [-1]; the config lists INPUT__1
           before INPUT__0 so only the NAME__<index> convention maps them right;
           max_batch_size 0
  int64    forward(x, scale) -> x * scale + 1, INT64; inputs named after forward()'s
           arguments but listed as (scale, x); output "y" (config order); max_batch_size 4
  listout  forward(x) -> [x * 2, x.sum(dim=1, keepdim=True)] (a list), FP64, max_batch_size 2
  rows     forward(x) -> one column holding x.shape[0], FP32 dims [-1], max_batch_size 8:
           shows how many rows one forward() call saw (batch concatenation)
"""

import argparse
import json
import os
from typing import List, Tuple

import torch


class Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        # Fixed weights (not the RNG's), mixed signs so ReLU zeroes some outputs only.
        with torch.no_grad():
            self.fc.weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10 - 0.5)
            self.fc.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


class AddSub(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return a + b, a - b


class Int64Model(torch.nn.Module):
    def forward(self, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return x * scale + 1


class Rows(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :1] * 0 + x.shape[0]


class ListOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x * 2, x.sum(dim=1, keepdim=True)]


def tensor_json(t):
    return {"shape": list(t.shape), "data": t.flatten().tolist()}


def tensor_config(name, dtype, dims):
    return '  { name: "%s" data_type: %s dims: [ %s ] }' % (name, dtype, ", ".join(map(str, dims)))


def write_model(out, name, module, max_batch_size, inputs, outputs, pad_bytes):
    """inputs/outputs: lists of (config name, TYPE_..., dims); inputs also carry a tensor."""
    if pad_bytes > 0:
        module.register_buffer("pad", torch.zeros(pad_bytes, dtype=torch.uint8))
    module.eval()
    scripted = torch.jit.script(module)
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(folder, "1"), exist_ok=True)
    scripted.save(os.path.join(folder, "1", "model.pt"))
    config = ['name: "%s"' % name, 'platform: "pytorch_libtorch"',
              "max_batch_size: %d" % max_batch_size, "input ["]
    config.append(",\n".join(tensor_config(n, t, d) for n, t, d, _ in inputs))
    config += ["]", "output ["]
    config.append(",\n".join(tensor_config(n, t, d) for n, t, d in outputs))
    config.append("]")
    with open(os.path.join(folder, "config.pbtxt"), "w") as f:
        f.write("\n".join(config) + "\n")
    # The forward() arguments in their order: the tests feed them by config name.
    by_name = {n: tensor for n, _, _, tensor in inputs}
    with torch.no_grad():
        result = scripted(*[by_name[n] for n in forward_order(name)])
    if isinstance(result, torch.Tensor):
        result = [result]
    expected = {
        "inputs": {n: tensor_json(tensor) for n, _, _, tensor in inputs},
        "outputs": {n: tensor_json(t) for (n, _, _), t in zip(outputs, result)},
    }
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f)


def forward_order(name):
    return {"linear": ["INPUT__0"], "addsub": ["INPUT__0", "INPUT__1"],
            "int64": ["x", "scale"], "listout": ["INPUT__0"], "rows": ["INPUT__0"]}[name]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--pad-bytes", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(0)
    wanted = lambda n: not args.only or n in args.only
    if wanted("linear"):
        x = torch.tensor([[1.0, -2.0, 3.0, 0.5], [0.25, 0.0, -1.0, 2.0], [-1.5, 2.0, 0.5, -0.75]])
        write_model(args.out, "linear", Linear(), 8,
                    [("INPUT__0", "TYPE_FP32", [4], x)], [("OUTPUT__0", "TYPE_FP32", [3])],
                    args.pad_bytes)
    if wanted("addsub"):
        a = torch.tensor([1.0, 2.0, 3.0, 4.0])
        b = torch.tensor([0.5, -1.0, 10.0, 4.0])
        write_model(args.out, "addsub", AddSub(), 0,
                    [("INPUT__1", "TYPE_FP32", [-1], b), ("INPUT__0", "TYPE_FP32", [-1], a)],
                    [("OUTPUT__0", "TYPE_FP32", [-1]), ("OUTPUT__1", "TYPE_FP32", [-1])],
                    args.pad_bytes)
    if wanted("int64"):
        # Beyond 2^53, so a detour through double would show.
        x = torch.tensor([[9007199254740993, -3, 7]], dtype=torch.int64)
        scale = torch.tensor([[1, 5, -2]], dtype=torch.int64)
        write_model(args.out, "int64", Int64Model(), 4,
                    [("scale", "TYPE_INT64", [3], scale), ("x", "TYPE_INT64", [3], x)],
                    [("y", "TYPE_INT64", [3])], args.pad_bytes)
    if wanted("listout"):
        x = torch.tensor([[1.5, 2.25], [-1.0, 0.125]], dtype=torch.float64)
        write_model(args.out, "listout", ListOut(), 2,
                    [("INPUT__0", "TYPE_FP64", [2], x)],
                    [("DOUBLED", "TYPE_FP64", [2]), ("SUM", "TYPE_FP64", [1])], args.pad_bytes)

    if wanted("rows"):
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        write_model(args.out, "rows", Rows(), 8, [("INPUT__0", "TYPE_FP32", [-1], x)],
                    [("OUTPUT__0", "TYPE_FP32", [1])], args.pad_bytes)


if __name__ == "__main__":
    main()
