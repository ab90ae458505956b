#!/usr/bin/env python3
"""Trains LeNet-5 on Fashion-MNIST in PyTorch exactly as `striate train` does
by default (ReLU/max-pool LeNet-5 with a padded first layer, Adam lr 1e-3,
batch 64, shuffled, inputs standardised with mean 0.2860 and std 0.3530), and
prints one CSV line per epoch: epoch,train_seconds,test_accuracy.

Used by benchmarks/lenet_e2e.sh (CPU) and benchmarks/e2e_gpu.sh
(--device cuda: each batch is gathered on the host, pinned and copied to the
GPU without blocking, as `striate train --device cuda` does, and the device
is synchronised before an epoch's clock is read); reads the IDX files itself
so that the Python side needs nothing but torch and numpy."""
import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(root, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(root, name)):
            return os.path.join(root, name)
    raise SystemExit(f"lenet_torch.py: {stem} not found under {root}")


def load(root, split):
    images = read_idx(find(root, f"{split}-images-idx3-ubyte"))
    labels = read_idx(find(root, f"{split}-labels-idx1-ubyte"))
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.2860) / 0.3530
    return x.unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--per-batch-metrics", action="store_true",
                        help="read each batch's loss and accuracy on the host, as striate train does")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"lenet_torch.py: --device {args.device}: PyTorch sees no CUDA GPU")
    gpu = device.type == "cuda"
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data_root, "train")
    test_x, test_y = load(args.data_root, "t10k")
    model = lenet5()
    if gpu:
        model = model.to(device)

    def on_device(t):
        return t.pin_memory().to(device, non_blocking=True) if gpu else t

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(train_x))
        for first in range(0, len(order), args.batch_size):
            batch = order[first:first + args.batch_size]
            optimizer.zero_grad()
            target = on_device(train_y[batch])
            logits = model(on_device(train_x[batch]))
            loss = loss_fn(logits, target)
            loss.backward()
            optimizer.step()
            if args.per_batch_metrics:
                loss.item()
                (logits.detach().argmax(1) == target).sum().item()
        if gpu:
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            correct = sum((model(on_device(test_x[i:i + 1000])).argmax(1) == on_device(test_y[i:i + 1000]))
                          .sum().item() for i in range(0, len(test_x), 1000))
        print(f"{epoch},{seconds:.3f},{correct / len(test_x):.4f}", flush=True)


if __name__ == "__main__":
    main()
