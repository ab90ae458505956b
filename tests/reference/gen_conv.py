#!/usr/bin/python3
"""Writes PyTorch reference values for tests/ops/conv_reference_test.cpp.

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_conv.py
Every case is a folder under tests/reference/data/conv/ holding float64 x, w,
b (input, weight, bias), y (output), gout (a random output gradient) and gx,
gw, gb (the gradients of sum(y * gout)). The C++ test lists the same cases
with the same arguments.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "conv")


def case(name, conv, x_shape, w_shape, **kwargs):
    x = torch.randn(x_shape, dtype=torch.float64, requires_grad=True)
    w = torch.randn(w_shape, dtype=torch.float64, requires_grad=True)
    b = torch.randn(w_shape[0], dtype=torch.float64, requires_grad=True)
    y = conv(x, w, b, **kwargs)
    gout = torch.randn(y.shape, dtype=torch.float64)
    (y * gout).sum().backward()
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    for key, value in dict(x=x, w=w, b=b, y=y, gout=gout, gx=x.grad, gw=w.grad, gb=b.grad).items():
        np.save(os.path.join(folder, key + ".npy"), value.detach().numpy())


def main():
    torch.manual_seed(0)
    shutil.rmtree(ROOT, ignore_errors=True)
    case("basic", F.conv2d, (2, 3, 6, 7), (4, 3, 3, 3), padding=1)
    case("stride_3_1", F.conv2d, (1, 2, 9, 6), (3, 2, 2, 3), stride=(3, 1), padding=(1, 0))
    case("same_even_kernel", F.conv2d, (1, 2, 6, 5), (2, 2, 4, 2), padding="same")
    case("dilation_2", F.conv2d, (1, 2, 9, 9), (3, 2, 3, 3), dilation=2, padding=2)
    case("groups_2", F.conv2d, (2, 4, 5, 5), (6, 2, 3, 3), groups=2, padding=1)
    case("depthwise", F.conv2d, (1, 3, 6, 6), (3, 1, 3, 3), groups=3, stride=2)
    case("pointwise", F.conv2d, (2, 5, 4, 3), (3, 5, 1, 1))
    case("alexnet_first", F.conv2d, (1, 3, 27, 27), (2, 3, 11, 11), stride=4, padding=2)
    case("conv1d", F.conv1d, (2, 4, 10), (6, 2, 3), stride=2, padding=1, dilation=2, groups=2)
    case("conv1d_same", F.conv1d, (1, 2, 9), (3, 2, 4), padding="same")


if __name__ == "__main__":
    main()
