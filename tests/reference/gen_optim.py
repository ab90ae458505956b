#!/usr/bin/python3
"""Writes PyTorch reference values for the optimizer tests (tests/optim/*_test.cpp).

Run by hand with Debian's python3-torch (1.13) from the repository root:
    /usr/bin/python3 tests/reference/gen_optim.py
Everything is saved as float64 .npy under tests/reference/data/optim/:

optimizer/<case>/  p<j>.npy: parameter j before the first step; g<j>.npy: its
    gradient at each step, shape [STEPS, *shape]; has_grad.npy: [STEPS, NPARAMS]
    (0 where the parameter has no gradient at that step, so it is skipped);
    out<j>.npy: the parameter after each step, [STEPS, *shape]. Cases ending in
    _f32 run in float32 (stored widened to float64).
scheduler/<case>/  lr.npy: [STEPS + 1, GROUPS], each group's lr after
    construction and after each step; momentum.npy likewise for OneCycleLR
    (SGD's momentum or Adam's beta1); metrics.npy for ReduceLROnPlateau.
clip/<case>/  g<j>.npy: the gradients, out<j>.npy: after clipping,
    total_norm.npy: the returned norm (clip_grad_norm_ only).

The C++ tests list the same cases with the same arguments.
"""
import math
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "optim")
STEPS = 6
SHAPES = [(3, 4), (5,)]


def save(folder, **arrays):
    folder = os.path.join(ROOT, folder)
    os.makedirs(folder, exist_ok=True)
    for name, value in arrays.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.array(value, dtype=np.float64, order="C"))


def optimizer_case(name, make, dtype=torch.float64, groups=False):
    """make(params or groups) -> optimizer. With groups, each parameter is its own group."""
    params = [torch.randn(s, dtype=torch.float64) for s in SHAPES]
    grads = [torch.randn((STEPS,) + s, dtype=torch.float64) for s in SHAPES]
    has_grad = torch.ones(STEPS, len(SHAPES))
    has_grad[2, 1] = 0  # parameter 1 gets no gradient at step 2: it must be left alone
    has_grad[4, 0] = 0
    live = [p.clone().to(dtype).requires_grad_(True) for p in params]
    opt = make(live)
    outs = [[] for _ in params]
    for k in range(STEPS):
        for j, p in enumerate(live):
            p.grad = grads[j][k].to(dtype).clone() if has_grad[k, j] else None
        opt.step()
        for j, p in enumerate(live):
            outs[j].append(p.detach().double().clone())
    arrays = {"has_grad": has_grad}
    for j in range(len(params)):
        arrays["p%d" % j] = params[j]
        arrays["g%d" % j] = grads[j]
        arrays["out%d" % j] = torch.stack(outs[j])
    save("optimizer/" + name, **arrays)


def optimizers():
    O = torch.optim
    optimizer_case("sgd_plain", lambda p: O.SGD(p, lr=0.1))
    optimizer_case("sgd_momentum_dampening", lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.1))
    optimizer_case("sgd_nesterov", lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True))
    optimizer_case("sgd_weight_decay", lambda p: O.SGD(p, lr=0.1, momentum=0.8, weight_decay=0.01))
    optimizer_case("sgd_maximize", lambda p: O.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True))
    optimizer_case("sgd_nesterov_f32", lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                   dtype=torch.float32)
    optimizer_case("adam", lambda p: O.Adam(p, lr=0.01))
    optimizer_case("adam_weight_decay",
                   lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1))
    optimizer_case("adam_amsgrad", lambda p: O.Adam(p, lr=0.01, amsgrad=True))
    optimizer_case("adam_maximize", lambda p: O.Adam(p, lr=0.02, weight_decay=0.05, amsgrad=True, maximize=True))
    optimizer_case("adam_f32", lambda p: O.Adam(p, lr=0.01, weight_decay=0.01, amsgrad=True), dtype=torch.float32)
    optimizer_case("adamw", lambda p: O.AdamW(p, lr=0.01))
    optimizer_case("adamw_amsgrad_weight_decay",
                   lambda p: O.AdamW(p, lr=0.02, betas=(0.85, 0.95), weight_decay=0.1, amsgrad=True))
    optimizer_case("adamw_f32", lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1), dtype=torch.float32)
    # Two groups: the second overrides lr, momentum / betas and weight decay.
    optimizer_case("sgd_two_groups", lambda p: O.SGD(
        [{"params": [p[0]]}, {"params": [p[1]], "lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}],
        lr=0.1, momentum=0.9))
    optimizer_case("adam_two_groups", lambda p: O.Adam(
        [{"params": [p[0]]}, {"params": [p[1]], "lr": 0.001, "betas": (0.5, 0.9), "weight_decay": 0.1}],
        lr=0.01))


def scheduler_case(name, make_sched, steps=20, adam=False, metrics=None):
    """Two groups (lr 0.1 and 0.05); make_sched(opt) -> a scheduler or a list of them (stepped in order)."""
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    opt = torch.optim.Adam(groups, lr=0.1) if adam else torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    scheds = make_sched(opt)
    if not isinstance(scheds, list):
        scheds = [scheds]

    def momenta():
        return [g["betas"][0] if adam else g["momentum"] for g in opt.param_groups]

    lrs = [[g["lr"] for g in opt.param_groups]]
    moms = [momenta()]
    for k in range(steps):
        opt.step()
        for s in scheds:
            if metrics is not None:
                s.step(metrics[k])
            else:
                s.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta())
    arrays = {"lr": np.array(lrs), "momentum": np.array(moms)}
    if metrics is not None:
        arrays["metrics"] = np.array(metrics)
    save("scheduler/" + name, **arrays)


def schedulers():
    S = torch.optim.lr_scheduler
    scheduler_case("step_lr", lambda o: S.StepLR(o, step_size=3, gamma=0.5))
    scheduler_case("multistep_lr", lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3))
    scheduler_case("exponential_lr", lambda o: S.ExponentialLR(o, gamma=0.9))
    scheduler_case("cosine_lr", lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001), steps=30)
    scheduler_case("linear_lr", lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=6))
    scheduler_case("linear_lr_decay", lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=8))
    scheduler_case("constant_lr", lambda o: S.ConstantLR(o, factor=0.5, total_iters=4))
    scheduler_case("lambda_lr", lambda o: S.LambdaLR(o, lambda e: 0.95 ** e))
    # Warm-up then cosine, both stepped every epoch (as ChainedScheduler does).
    scheduler_case("warmup_cosine", lambda o: [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                               S.CosineAnnealingLR(o, T_max=20)])
    scheduler_case("onecycle", lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=20))
    scheduler_case("onecycle_three_phase_linear_adam", lambda o: S.OneCycleLR(
        o, max_lr=0.3, total_steps=20, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
        final_div_factor=100.0, three_phase=True, base_momentum=0.8, max_momentum=0.9), adam=True)
    scheduler_case("onecycle_no_momentum", lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=12, pct_start=0.4,
                                                                  cycle_momentum=False), steps=12)
    metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.905, 0.8, 0.85, 0.85, 0.85, 0.85, 0.79, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8,
               0.7, 0.7]
    scheduler_case("plateau_min_rel", lambda o: S.ReduceLROnPlateau(
        o, mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=0.01), metrics=metrics)
    up = [0.1, 0.2, 0.25, 0.28, 0.5, 0.55, 0.58, 0.6, 0.61, 0.9, 0.9, 0.9, 0.95, 1.2, 1.2, 1.25, 1.3, 1.3, 1.3, 1.3]
    scheduler_case("plateau_max_abs", lambda o: S.ReduceLROnPlateau(
        o, mode="max", factor=0.3, patience=1, threshold=0.1, threshold_mode="abs", min_lr=[0.02, 0.001]),
        metrics=up)


def clip_case(name, fn):
    grads = [torch.randn(s, dtype=torch.float64) for s in [(3, 4), (7,), (2, 2, 2)]]
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = fn(params)
    arrays = {}
    for j, (p, g) in enumerate(zip(params, grads)):
        arrays["g%d" % j] = g
        arrays["out%d" % j] = p.grad
    if total is not None:
        arrays["total_norm"] = np.array([float(total)])
    save("clip/" + name, **arrays)


def clipping():
    U = torch.nn.utils
    clip_case("norm2", lambda p: U.clip_grad_norm_(p, max_norm=1.0))
    clip_case("norm1", lambda p: U.clip_grad_norm_(p, max_norm=2.0, norm_type=1))
    clip_case("norm3", lambda p: U.clip_grad_norm_(p, max_norm=0.7, norm_type=3))
    clip_case("norm_inf", lambda p: U.clip_grad_norm_(p, max_norm=0.5, norm_type=math.inf))
    clip_case("norm2_no_clip", lambda p: U.clip_grad_norm_(p, max_norm=100.0))
    clip_case("value", lambda p: U.clip_grad_value_(p, clip_value=0.3))


def main():
    torch.manual_seed(11)
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    optimizers()
    schedulers()
    clipping()


if __name__ == "__main__":
    main()
