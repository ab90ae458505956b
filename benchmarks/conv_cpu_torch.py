#!/usr/bin/python3
"""Times conv2d forward and forward+backward in PyTorch (CPU) for the shapes
of benchmarks/conv_cpu_bench.cpp and prints the ratio to Striate's times.

    OPENBLAS_NUM_THREADS=1 build-bench/benchmarks/conv_cpu_bench --benchmark_repetitions=5 \\
        --benchmark_out=striate.json --benchmark_out_format=json
    /usr/bin/python3 benchmarks/conv_cpu_torch.py striate.json

Striate is single-threaded, so the comparison is with PyTorch at one thread
(torch.set_num_threads(1)), in CPU time: on a machine shared with other work
CPU time is far steadier than wall time. PyTorch with its default thread
count is reported too, in wall time (CPU time would add up its threads).
Every figure is the minimum over repetitions, the one least disturbed by
other processes.
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


def minimum_ms(fn, clock, min_repeats=10, min_seconds=1.0):
    fn()  # warm-up: first-call allocations and oneDNN primitive creation
    best, repeats, start = float("inf"), 0, time.perf_counter()
    while repeats < min_repeats or time.perf_counter() - start < min_seconds:
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
        repeats += 1
    return best * 1e3


def passes(shape):
    n, c, h, w, o, k, pad = shape
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

    return (("Forward", forward), ("ForwardBackward", forward_backward))


def load_striate(path):
    """{benchmark name: (cpu ms, wall ms)}, minimums when repetitions ran."""
    times = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "min":
            continue
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate" or name not in times:
            times[name] = (b["cpu_time"], b["real_time"])  # milliseconds (kMillisecond)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("striate_json", nargs="?", help="conv_cpu_bench --benchmark_out JSON")
    args = parser.parse_args()
    striate = load_striate(args.striate_json) if args.striate_json else {}
    torch.manual_seed(0)
    default_threads = torch.get_num_threads()

    rows = []
    for i, shape in enumerate(SHAPES):
        for name, fn in passes(shape):
            torch.set_num_threads(1)
            one = minimum_ms(fn, time.process_time)
            torch.set_num_threads(default_threads)
            default = minimum_ms(fn, time.perf_counter)
            rows.append((i, shape, name, one, default))

    print(f"PyTorch {torch.__version__}; default thread count {default_threads}")
    header = ("case", "pass", "torch 1t cpu", f"torch {default_threads}t wall", "striate cpu", "striate wall",
              "ratio 1t", f"ratio {default_threads}t")
    print("{:<22}{:<17}{:>13}{:>14}{:>12}{:>13}{:>10}{:>10}".format(*header))
    for i, (n, c, h, w, o, k, pad), name, one, default in rows:
        cpu, wall = striate.get(f"{name}/{i}", (None, None))
        fmt = lambda v, width: f"{v:{width}.2f}" if v else f"{'-':>{width}}"
        label = f"[{n},{c},{h},{w}]x{o}@{k}x{k}"
        print(f"{label:<22}{name:<17}{one:13.2f}{default:14.2f}{fmt(cpu, 12)}{fmt(wall, 13)}"
              f"{fmt(cpu and cpu / one, 10)}{fmt(wall and wall / default, 10)}")
    print("ratio = Striate / PyTorch (below 1: Striate is faster); 1t compares CPU times, "
          f"{default_threads}t Striate's wall time with PyTorch's")


if __name__ == "__main__":
    main()
