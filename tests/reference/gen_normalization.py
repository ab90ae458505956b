#!/usr/bin/python3
"""Writes PyTorch reference values for the normalisation tests
(tests/ops/normalization_test.cpp).

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_normalization.py
Every case is a folder under tests/reference/data/normalization/ of small
float64 .npy files: inputs, outputs, updated running statistics and the
gradients of sum(out * gout).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "normalization")


def save(case, **arrays):
    folder = os.path.join(ROOT, case)
    os.makedirs(folder, exist_ok=True)
    for name, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.array(value, order="C"))  # keeps 0-dim arrays 0-dim


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def batch_norm_case(case, shape, training, momentum=0.1, eps=1e-5):
    c = shape[1]
    x = torch.randn(shape, dtype=torch.float64) * 1.5 + 0.7
    w = torch.rand(c, dtype=torch.float64) + 0.5
    b = torch.randn(c, dtype=torch.float64)
    rm = torch.randn(c, dtype=torch.float64) * 0.1
    rv = torch.rand(c, dtype=torch.float64) + 0.5
    rm_after, rv_after = rm.clone(), rv.clone()
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    out = F.batch_norm(xl, rm_after, rv_after, wl, bl, training=training, momentum=momentum, eps=eps)
    gout = torch.randn(out.shape, dtype=torch.float64)
    (out * gout).sum().backward()
    save(case, input=x, weight=w, bias=b, running_mean=rm, running_var=rv, out=out, gout=gout,
         running_mean_after=rm_after, running_var_after=rv_after, grad_input=xl.grad, grad_weight=wl.grad,
         grad_bias=bl.grad)


def layer_norm_case(case, shape, normalized_shape, affine, eps=1e-5):
    x = torch.randn(shape, dtype=torch.float64) * 2 - 1
    w = torch.rand(normalized_shape, dtype=torch.float64) + 0.5 if affine else None
    b = torch.randn(normalized_shape, dtype=torch.float64) if affine else None
    xl = leaf(x)
    wl = leaf(w) if affine else None
    bl = leaf(b) if affine else None
    out = F.layer_norm(xl, normalized_shape, wl, bl, eps)
    gout = torch.randn(out.shape, dtype=torch.float64)
    (out * gout).sum().backward()
    arrays = dict(input=x, out=out, gout=gout, grad_input=xl.grad)
    if affine:
        arrays.update(weight=w, bias=b, grad_weight=wl.grad, grad_bias=bl.grad)
    save(case, **arrays)


def lrn_case(case, shape, size, alpha, beta, k):
    x = torch.randn(shape, dtype=torch.float64) * 2
    xl = leaf(x)
    out = F.local_response_norm(xl, size, alpha, beta, k)
    gout = torch.randn(out.shape, dtype=torch.float64)
    (out * gout).sum().backward()
    save(case, input=x, out=out, gout=gout, grad_input=xl.grad)


def main():
    torch.manual_seed(5)
    batch_norm_case("bn_train_4d", (3, 4, 2, 3), training=True)
    batch_norm_case("bn_train_3d", (2, 3, 5), training=True, momentum=0.25, eps=1e-3)
    batch_norm_case("bn_train_2d", (6, 3), training=True)
    batch_norm_case("bn_eval_4d", (2, 3, 2, 2), training=False)
    layer_norm_case("ln_two_dims", (3, 4, 5), [4, 5], affine=True)
    layer_norm_case("ln_one_dim", (2, 3, 6), [6], affine=True, eps=1e-3)
    layer_norm_case("ln_no_affine", (4, 7), [7], affine=False)
    lrn_case("lrn_alexnet", (2, 7, 3, 3), size=5, alpha=1e-2, beta=0.75, k=2.0)
    lrn_case("lrn_even_size_3d", (2, 6, 4), size=4, alpha=0.3, beta=0.6, k=1.0)


if __name__ == "__main__":
    main()
