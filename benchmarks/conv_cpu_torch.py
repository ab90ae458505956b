#!/usr/bin/python3
"""Times conv2d forward and forward+backward in PyTorch (CPU) for the shapes
of benchmarks/conv_cpu_bench.cpp, and prints the ratio to Striate's times
when given the JSON that conv_cpu_bench wrote:

    build-bench/benchmarks/conv_cpu_bench --benchmark_format=json > striate.json
    OPENBLAS_NUM_THREADS=1 ... (same for Striate's single-thread run)
    /usr/bin/python3 benchmarks/conv_cpu_torch.py striate.json --threads 1
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

SHAPES = [  # n, c, h, w, o, k, pad  (same order as kShapes in conv_cpu_bench.cpp)
    (64, 1, 28, 28, 6, 5, 2),
    (64, 6, 14, 14, 16, 5, 0),
    (8, 64, 56, 56, 64, 3, 1),
]


def median_ms(fn, repeats=15):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("striate_json", nargs="?")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    striate = {}
    if args.striate_json:
        for b in json.load(open(args.striate_json))["benchmarks"]:
            striate[b["name"]] = b["real_time"]  # milliseconds (the benchmarks use kMillisecond)
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"{'case':<22}{'pass':<18}{'PyTorch ms':>12}{'Striate ms':>12}{'Striate/PyTorch':>17}")
    for i, (n, c, h, w, o, k, pad) in enumerate(SHAPES):
        x = torch.randn(n, c, h, w, requires_grad=True)
        wt = torch.randn(o, c, k, k, requires_grad=True)
        b = torch.randn(o, requires_grad=True)

        def forward():
            with torch.no_grad():
                F.conv2d(x, wt, b, padding=pad)

        def forward_backward():
            y = F.conv2d(x, wt, b, padding=pad)
            y.backward(torch.ones_like(y))
            x.grad = wt.grad = b.grad = None

        for name, fn in (("Forward", forward), ("ForwardBackward", forward_backward)):
            ms = median_ms(fn)
            ours = striate.get(f"{name}/{i}")
            ratio = f"{ours / ms:17.2f}" if ours else f"{'-':>17}"
            ours_text = f"{ours:12.2f}" if ours else f"{'-':>12}"
            label = f"[{n},{c},{h},{w}]x{o}@{k}x{k}"
            print(f"{label:<22}{name:<18}{ms:12.2f}{ours_text}{ratio}")


if __name__ == "__main__":
    main()
