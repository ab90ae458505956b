#!/usr/bin/python3
"""Writes safetensors files from PyTorch for the interop tests
(tests/io/state_dict_test.cpp and tests/io/safetensors_test.cpp).

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_safetensors.py

Debian has no `safetensors` Python package, so the format is written here by
hand with struct and json, which is all it is: an 8-byte little-endian header
length, a JSON header {name: {dtype, shape, data_offsets}} plus an optional
"__metadata__" map of strings, padded with spaces to a multiple of 8 bytes,
then the raw little-endian bytes. As the safetensors library does, tensors are
laid out by decreasing element size, then by name, and the header lists them
in that order, so the file's order differs from the state_dict's.

Writes under tests/reference/data/safetensors/:
  sequential/model.safetensors  state_dict of
      nn.Sequential(Conv2d(2, 3, 3), BatchNorm2d(3), ReLU(), Flatten(), Linear(48, 4))
      after three training-mode forward passes (so the running statistics
      and num_batches_tracked are not their initial values);
  sequential/<name>.npy          each state_dict tensor (float32 / int64);
  sequential/input.npy, output.npy   an eval-mode forward pass;
  dtypes/tensors.safetensors     one tensor of each dtype (f64, f32, f16, bf16,
                                  i64, i32, u8, bool) and metadata;
  dtypes/<name>.npy              their values (f16 and bf16 as float64, exact).
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "safetensors")

DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the raw 16 bits
        t = t.view(torch.int16)
    return t.numpy().tobytes()  # little-endian on every machine this runs on


def save_file(tensors, path, metadata=None):
    order = sorted(tensors, key=lambda name: (-tensors[name].element_size(), name))
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks, offset = [], 0
    for name in order:
        data = tensor_bytes(tensors[name])
        header[name] = {
            "dtype": DTYPES[tensors[name].dtype],
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def save_npy(folder, name, t):
    t = t.detach()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float64)  # exact: both are subsets of float64
    np.save(os.path.join(folder, name + ".npy"), np.array(t.numpy(), order="C"))


def sequential():
    folder = os.path.join(ROOT, "sequential")
    os.makedirs(folder, exist_ok=True)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(48, 4))
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(5, 2, 6, 6) * 2 + 0.5)
        # Non-trivial affine parameters, so that a swapped weight/bias shows.
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.5, 0.5)
    model.eval()
    state = model.state_dict()
    save_file(state, os.path.join(folder, "model.safetensors"), {"format": "pt"})
    for name, t in state.items():
        save_npy(folder, name, t)
    x = torch.randn(2, 2, 6, 6)
    with torch.no_grad():
        y = model(x)
    save_npy(folder, "input", x)
    save_npy(folder, "output", y)


def dtypes():
    folder = os.path.join(ROOT, "dtypes")
    os.makedirs(folder, exist_ok=True)
    tensors = {
        "f64": torch.randn(2, 3, dtype=torch.float64),
        "f32": torch.randn(3, 2),
        "f16": (torch.randn(4) * 100).to(torch.float16),
        "bf16": (torch.randn(2, 2) * 1e10).to(torch.bfloat16),
        "i64": torch.tensor([-(2**40), 0, 2**62 + 5], dtype=torch.int64),
        "i32": torch.tensor([[-7, 2**31 - 1], [-(2**31), 3]], dtype=torch.int32),
        "u8": torch.tensor([0, 17, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }
    save_file(tensors, os.path.join(folder, "tensors.safetensors"),
              {"format": "pt", "note": "written by gen_safetensors.py \u00e9\u4e2d\U0001f600"})
    for name, t in tensors.items():
        save_npy(folder, name, t)


if __name__ == "__main__":
    torch.manual_seed(0)
    sequential()
    dtypes()
