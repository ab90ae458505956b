#!/usr/bin/python3
"""Writes PyTorch reference values for the pooling tests (tests/ops/pooling_test.cpp).

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_pooling.py
Every case is a folder under tests/reference/data/pooling/ holding float64
x (input), y (output), gout (a random output gradient) and gx (the input
gradient of sum(y * gout)), plus int64 idx for the ops that return indices.
The C++ test lists the same cases with the same arguments.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "pooling")


def save(case, **arrays):
    folder = os.path.join(ROOT, case)
    os.makedirs(folder, exist_ok=True)
    for name, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.array(value, order="C"))


def case(name, fn, x):
    """fn(x) -> y or (y, idx)."""
    x = x.detach().clone().requires_grad_(True)
    result = fn(x)
    y, idx = result if isinstance(result, tuple) else (result, None)
    gout = torch.randn(y.shape, dtype=torch.float64)
    (y * gout).sum().backward()
    arrays = dict(x=x, y=y, gout=gout, gx=x.grad)
    if idx is not None:
        arrays["idx"] = idx
    save(name, **arrays)


def rnd(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def ties(*shape):
    """Small integers, so that windows hold equal maxima; a NaN and a -inf too."""
    x = torch.randint(-2, 3, shape).double()
    flat = x.view(-1)
    flat[3] = float("nan")
    flat[7] = float("-inf")
    return x


def main():
    torch.manual_seed(7)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)

    # max_pool2d: kernel, stride, padding, dilation, ceil_mode.
    mp = lambda k, s, p, d, c: (lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode=c, return_indices=True))
    case("max2d_k3s2p1", mp(3, 2, 1, 1, False), rnd(2, 2, 9, 9))
    case("max2d_k2_default_stride", mp(2, None, 0, 1, False), rnd(1, 2, 6, 7))
    case("max2d_rect_k32_s31_p10", mp((3, 2), (3, 1), (1, 0), 1, False), rnd(2, 2, 8, 7))
    case("max2d_k3_s12_p1_d2_ceil", mp(3, (1, 2), 1, 2, True), rnd(1, 3, 9, 8))
    case("max2d_ceil_drops_last_window", mp(3, 3, 1, 1, True), rnd(1, 2, 5, 5))
    case("max2d_unbatched", mp(2, 1, 0, 1, False), rnd(3, 7, 5))
    case("max2d_ties_nan_inf", mp(2, 1, 0, 1, False), ties(1, 2, 4, 5))
    case("max2d_alexnet_k3s2", mp(3, 2, 0, 1, False), rnd(1, 2, 13, 13))

    # max_pool1d.
    case("max1d_k3s2p1d2", lambda x: F.max_pool1d(x, 3, 2, 1, 2, return_indices=True), rnd(2, 3, 11))
    case("max1d_k2_ceil", lambda x: F.max_pool1d(x, 2, 2, 0, 1, ceil_mode=True, return_indices=True), rnd(3, 7))

    # avg_pool2d: kernel, stride, padding, ceil_mode, count_include_pad, divisor_override.
    ap = lambda k, s, p, c, cip, div: (lambda x: F.avg_pool2d(x, k, s, p, c, cip, div))
    case("avg2d_k3s2p1", ap(3, 2, 1, False, True, None), rnd(2, 2, 9, 9))
    case("avg2d_k3s2p1_exclude_pad", ap(3, 2, 1, False, False, None), rnd(2, 2, 9, 9))
    case("avg2d_rect_k32_s31_p11_ceil_exclude_pad", ap((3, 2), (3, 1), (1, 1), True, False, None), rnd(1, 2, 8, 7))
    case("avg2d_k3s2p1_ceil_divisor5", ap(3, 2, 1, True, True, 5), rnd(1, 2, 8, 8))
    case("avg2d_unbatched_k2", ap(2, None, 0, False, True, None), rnd(3, 6, 5))
    case("avg2d_ceil_drops_last_window", ap(3, 3, 1, True, True, None), rnd(1, 2, 5, 5))
    case("avg2d_s12_ceil", ap(2, (1, 2), 0, True, True, None), rnd(1, 1, 4, 5))

    # avg_pool1d.
    case("avg1d_k3s2p1_ceil_exclude_pad", lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), rnd(2, 3, 10))

    # Adaptive pooling, with sizes that do not divide (overlapping bins) and outputs larger than inputs.
    case("adaptive_avg2d_3x2", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), rnd(2, 3, 7, 5))
    case("adaptive_avg2d_1x1", lambda x: F.adaptive_avg_pool2d(x, 1), rnd(2, 3, 7, 5))
    case("adaptive_avg2d_up_5x7", lambda x: F.adaptive_avg_pool2d(x, (5, 7)), rnd(1, 2, 3, 4))
    case("adaptive_avg2d_unbatched", lambda x: F.adaptive_avg_pool2d(x, (4, 3)), rnd(2, 6, 5))
    case("adaptive_max2d_3x2", lambda x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True), rnd(2, 3, 7, 5))
    case("adaptive_max2d_up_5x7", lambda x: F.adaptive_max_pool2d(x, (5, 7), return_indices=True), rnd(1, 2, 3, 4))
    case("adaptive_max2d_ties_nan_inf", lambda x: F.adaptive_max_pool2d(x, (2, 3), return_indices=True),
         ties(1, 2, 5, 6))
    case("adaptive_avg1d_4", lambda x: F.adaptive_avg_pool1d(x, 4), rnd(2, 3, 10))
    case("adaptive_max1d_3", lambda x: F.adaptive_max_pool1d(x, 3, return_indices=True), rnd(2, 3, 10))


if __name__ == "__main__":
    main()
