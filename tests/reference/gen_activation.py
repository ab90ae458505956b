#!/usr/bin/python3
"""Writes PyTorch reference values for the activation and softmax tests
(tests/ops/activation_test.cpp, tests/ops/softmax_test.cpp).

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_activation.py
Every case is a folder under tests/reference/data/activation/ holding float64
x (input), y (output), gout (a random output gradient) and gx (the input
gradient of sum(y * gout)); prelu adds w and gw. The inputs include the
kinks themselves (0, the hardtanh bounds, the softplus threshold), NaN and
infinities, so the tests pin PyTorch's convention for the derivative there.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "activation")


def save(case, **arrays):
    folder = os.path.join(ROOT, case)
    os.makedirs(folder, exist_ok=True)
    for name, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.array(value, order="C"))


def case(name, fn, *inputs):
    """fn(*inputs) -> y; saves x (and w for a second input) with their gradients."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    y = fn(*leaves)
    gout = torch.randn(y.shape, dtype=torch.float64)
    (y * gout).sum().backward()
    arrays = dict(x=leaves[0], y=y, gout=gout, gx=leaves[0].grad)
    if len(leaves) > 1:
        arrays.update(w=leaves[1], gw=leaves[1].grad)
    save(name, **arrays)


def values(*extra):
    """A sweep over [-25, 25] plus the kinks, NaN and the infinities."""
    base = [-25.0, -8.0, -3.0, -1.5, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 1.5, 3.0, 6.0, 8.0, 20.0, 25.0]
    special = [float("nan"), float("inf"), float("-inf")]
    return torch.tensor(base + list(extra) + special, dtype=torch.float64)


def main():
    torch.manual_seed(11)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)

    case("relu", F.relu, values())
    case("leaky_relu_default", F.leaky_relu, values())
    case("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), values())
    case("elu_default", F.elu, values())
    case("elu_alpha1.5_scale2_input_scale0.5", lambda x: torch.ops.aten.elu(x, 1.5, 2.0, 0.5), values())
    case("selu", F.selu, values())
    case("gelu", F.gelu, values())
    case("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), values())
    case("silu", F.silu, values(-50.0, 50.0))
    case("tanh", torch.tanh, values())
    case("sigmoid", torch.sigmoid, values(-50.0, 50.0, -800.0, 800.0))
    case("softplus_default", F.softplus, values(19.999, 20.001))
    case("softplus_beta2_threshold5", lambda x: F.softplus(x, 2.0, 5.0), values(2.5, 2.4999))
    case("softsign", F.softsign, values())
    case("hardtanh_default", F.hardtanh, values())
    case("hardtanh_-2_3", lambda x: F.hardtanh(x, -2.0, 3.0), values(-2.0, 3.0))
    case("relu6", F.relu6, values())

    # prelu: one weight per channel (dim 1), a shared weight, a 1-D input, exact zeros.
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    x[0, 1, 2] = 0.0
    case("prelu_per_channel", F.prelu, x, torch.tensor([0.25, -0.5, 1.5], dtype=torch.float64))
    case("prelu_shared", F.prelu, torch.randn(2, 3, 2, 2, dtype=torch.float64), torch.tensor([0.1], dtype=torch.float64))
    case("prelu_1d", F.prelu, values()[:17], torch.tensor([0.3], dtype=torch.float64))
    case("prelu_2d_input", F.prelu, torch.randn(4, 3, dtype=torch.float64), torch.rand(3, dtype=torch.float64))

    # softmax / log_softmax along inner and outer dims, large inputs, -inf entries.
    for name, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        case(name + "_dim1", lambda x: fn(x, 1), torch.randn(3, 5, dtype=torch.float64) * 3)
        case(name + "_3d_dim1", lambda x: fn(x, 1), torch.randn(2, 4, 3, dtype=torch.float64))
        case(name + "_3d_dim0", lambda x: fn(x, 0), torch.randn(2, 4, 3, dtype=torch.float64))
        case(name + "_3d_dim-1", lambda x: fn(x, -1), torch.randn(2, 4, 3, dtype=torch.float64))
        big = torch.tensor([[1000.0, 999.0, -1000.0, 998.5], [-1e4, -1e4 + 1, -1e4 + 2, -1e4 - 5]],
                           dtype=torch.float64)
        case(name + "_large", lambda x: fn(x, 1), big)
        neg_inf = torch.tensor([[0.5, float("-inf"), 2.0, float("-inf")], [float("-inf"), 1.0, -1.0, 3.0]],
                               dtype=torch.float64)
        case(name + "_neg_inf", lambda x: fn(x, 1), neg_inf)


if __name__ == "__main__":
    main()
