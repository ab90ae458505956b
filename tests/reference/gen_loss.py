#!/usr/bin/python3
"""Writes PyTorch reference values for the loss tests (tests/ops/loss_test.cpp).

Run by hand with Debian's python3-torch from the repository root:
    /usr/bin/python3 tests/reference/gen_loss.py
Every case is a folder under tests/reference/data/loss/ of small .npy files:
float64 inputs, outputs and gradients, int64 labels.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "loss")
REDUCTIONS = ("none", "mean", "sum")


def save(case, **arrays):
    folder = os.path.join(ROOT, case)
    os.makedirs(folder, exist_ok=True)
    for name, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.array(value, order="C"))  # keeps 0-dim arrays 0-dim


def with_grads(fn, inputs):
    """For each reduction: the output and the gradients of sum(out * gout)."""
    arrays = {}
    for reduction in REDUCTIONS:
        leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
        out = fn(*leaves, reduction=reduction)
        gout = torch.randn(out.shape, dtype=torch.float64) if reduction == "none" else torch.tensor(0.7, dtype=torch.float64)
        (out * gout).sum().backward()
        arrays["out_" + reduction] = out
        arrays["gout_" + reduction] = gout
        for i, leaf in enumerate(leaves):
            arrays["grad%d_%s" % (i, reduction)] = leaf.grad
    return arrays


def class_case(case, input_shape, classes, weight, ignore_index, label_smoothing, ignored_positions=()):
    x = torch.randn(input_shape, dtype=torch.float64) * 2
    target_shape = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    target = torch.randint(0, classes, target_shape)
    flat = target.view(-1)
    for p in ignored_positions:
        flat[p] = ignore_index
    w = torch.rand(classes, dtype=torch.float64) + 0.2 if weight else None
    fn = lambda inp, reduction: F.cross_entropy(inp, target, weight=w, reduction=reduction,
                                                ignore_index=ignore_index, label_smoothing=label_smoothing)
    arrays = with_grads(fn, [x])
    arrays.update(input=x, target=target)
    if w is not None:
        arrays["weight"] = w
    save(case, **arrays)


def main():
    torch.manual_seed(3)
    # Cross entropy: the plain case, then weight + ignore_index + label smoothing, alone and together.
    class_case("ce_plain", (5, 4), 4, False, -100, 0.0)
    class_case("ce_weight_ignore", (7, 5), 5, True, -100, 0.0, ignored_positions=(1, 4))
    class_case("ce_smoothing", (6, 5), 5, False, -100, 0.25, ignored_positions=(2,))
    class_case("ce_weight_ignore_smoothing", (8, 6), 6, True, -100, 0.15, ignored_positions=(0, 5))
    class_case("ce_spatial", (2, 4, 3, 2), 4, True, 2, 0.1)  # ignore_index 2 is a real class here
    class_case("ce_unbatched", (7,), 7, True, -100, 0.05)

    # nll_loss on log-probabilities, with weight and ignored samples.
    logp = F.log_softmax(torch.randn(6, 4, dtype=torch.float64), 1)
    target = torch.tensor([0, 3, -100, 1, 2, 3])
    w = torch.rand(4, dtype=torch.float64) + 0.5
    arrays = with_grads(lambda inp, reduction: F.nll_loss(inp, target, weight=w, reduction=reduction), [logp])
    save("nll_weight_ignore", input=logp, target=target, weight=w, **arrays)

    # bce_with_logits with weight and pos_weight; large logits check stability.
    x = torch.randn(4, 3, dtype=torch.float64) * 3
    x[0, 0], x[1, 2] = 40.0, -45.0
    t = torch.rand(4, 3, dtype=torch.float64)
    w = torch.rand(4, 1, dtype=torch.float64) + 0.5
    pw = torch.tensor([0.5, 2.0, 3.5], dtype=torch.float64)
    fn = lambda inp, tgt, reduction: F.binary_cross_entropy_with_logits(inp, tgt, weight=w, pos_weight=pw,
                                                                        reduction=reduction)
    save("bce_weight_pos_weight", input=x, target=t, weight=w, pos_weight=pw, **with_grads(fn, [x, t]))
    fn = lambda inp, tgt, reduction: F.binary_cross_entropy_with_logits(inp, tgt, reduction=reduction)
    save("bce_plain", input=x, target=t, **with_grads(fn, [x, t]))

    # mse and l1, gradients for input and target.
    a, b = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    save("mse", input=a, target=b, **with_grads(F.mse_loss, [a, b]))
    save("l1", input=a, target=b, **with_grads(F.l1_loss, [a, b]))


if __name__ == "__main__":
    main()
