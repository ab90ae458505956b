"""Host time per operator launch in PyTorch eager, for the kernel harness's
framework-overhead comparison: relu of a small CUDA tensor, measured as
striate_kernel_bench measures Striate's (overhead_bench.cpp): the same op,
size, calls and rounds, one synchronize at the end of each round, the median
round.

Prints one JSON object: {"torch_version", "cuda", "device", "elements",
"calls", "rounds", "us_per_op"}, or {"error": "..."} when PyTorch or its CUDA
is not usable (exit status 0 either way; benchmarks/run.sh passes the file to
the harness with --torch-overhead).

    python3 benchmarks/gpu/torch_overhead.py [--elements 1024] [--calls 10000] [--rounds 3]
"""
import argparse
import json
import statistics
import sys
import time


def measure(torch, elements, calls, rounds, warmup):
    x = torch.randn(elements, device="cuda")
    for _ in range(warmup):
        torch.relu(x)
    torch.cuda.synchronize()
    per_op_us = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            torch.relu(x)
        torch.cuda.synchronize()
        per_op_us.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(per_op_us)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=1024)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1000)
    args = parser.parse_args()
    try:
        import torch
    except Exception as e:  # not installed, or a broken install: say which
        print(json.dumps({"error": f"PyTorch not importable: {e}"}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"error": f"PyTorch {torch.__version__} has no usable CUDA device"}))
        return 0
    try:
        us = measure(torch, args.elements, args.calls, args.rounds, args.warmup)
    except Exception as e:
        print(json.dumps({"error": f"PyTorch {torch.__version__}: {e}"}))
        return 0
    print(json.dumps({
        "torch_version": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "elements": args.elements,
        "calls": args.calls,
        "rounds": args.rounds,
        "us_per_op": us,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
