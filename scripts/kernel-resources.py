#!/usr/bin/env python3
"""What each hand-written CUDA kernel costs the GPU, read from ptxas.

Compiles every src/kernels/cuda/*.cu for one architecture (no GPU needed;
nvcc only) and writes a Markdown table per kernel: registers per thread,
static shared memory, spills, the launch bound it declares, and the largest
block it can launch with. It exits non-zero when a kernel cannot
launch a block of the size it declares (or 256 threads, the size of every
undeclared launch), a launch that would fail only on a GPU; spills are
listed, not failed (they cost speed, not correctness).

    scripts/kernel-resources.py [--arch sm_90] [--out FILE]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGISTERS_PER_SM = 65536  # sm_70 to sm_100; also the most one block may hold
ALLOCATION_UNIT = 256  # registers are given to a warp in these units
UNDECLARED_BLOCK = 256  # kernels without __launch_bounds__ launch at most this many threads


def find_nvcc():
    for candidate in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("kernel-resources: no nvcc (set CUDACXX or put nvcc on PATH)")


def max_block(registers):
    """The most threads a block of this kernel can have, registers being the limit."""
    per_warp = -(-max(registers, 1) * 32 // ALLOCATION_UNIT) * ALLOCATION_UNIT
    return min(1024, REGISTERS_PER_SM // per_warp * 32)


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def short(name):
    """A demangled kernel name without namespaces, anonymous or not."""
    name = re.sub(r"\(anonymous namespace\)::", "", name)
    name = re.sub(r"striate::kernels::cuda::(\w+::)?", "", name)
    name = name.removeprefix("void ")
    depth = 0  # drop the parameter list: the template arguments say which kernel it is
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i]
    return name


def kernels_of(nvcc, source, arch, scratch):
    """[(mangled name, registers, shared bytes, stack, spill stores, spill loads, maxntid)] of one file."""
    ptx = os.path.join(scratch, os.path.basename(source) + ".ptx")
    flags = ["-std=c++20", "-O3", "-DNDEBUG", "-DSTRIATE_WITH_CUDA=1", "-I" + os.path.join(REPO, "include"),
             "-I" + os.path.join(REPO, "src")]
    subprocess.run([nvcc, *flags, "-x", "cu", "-ptx", f"-arch=compute_{arch[3:]}", source, "-o", ptx], check=True)
    bounds = {}
    text = open(ptx).read()
    for entry in re.finditer(r"\.entry\s+(\S+)\(.*?\)\s*(\.maxntid\s+(\d+),\s*(\d+),\s*(\d+))?", text, re.S):
        if entry.group(2):
            bounds[entry.group(1)] = int(entry.group(3)) * int(entry.group(4)) * int(entry.group(5))
    report = subprocess.run(["ptxas" if shutil.which("ptxas") else os.path.join(os.path.dirname(nvcc), "ptxas"),
                             f"-arch={arch}", "-v", ptx, "-o", os.devnull],
                            capture_output=True, text=True, check=True).stderr
    found, current = [], None
    for line in report.splitlines():
        if m := re.search(r"Compiling entry function '(\S+)'", line):
            current = {"name": m.group(1), "stack": 0, "stores": 0, "loads": 0, "smem": 0}
        elif current and (m := re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads",
                                         line)):
            current.update(stack=int(m.group(1)), stores=int(m.group(2)), loads=int(m.group(3)))
        elif current and (m := re.search(r"Used (\d+) registers", line)):
            current["registers"] = int(m.group(1))
            if s := re.search(r"(\d+) bytes smem", line):
                current["smem"] = int(s.group(1))
            current["bound"] = bounds.get(current["name"])
            found.append(current)
            current = None
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--out", help="Markdown file to write (default: stdout)")
    parser.add_argument("--heavy", type=int, default=64, help="list the kernels above this many registers")
    args = parser.parse_args()
    nvcc = find_nvcc()
    version = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    sources = sorted(f for f in os.listdir(os.path.join(REPO, "src/kernels/cuda")) if f.endswith(".cu"))
    rows, problems, spills = [], [], []  # problems fail the run; spills cost speed only
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        paths = [os.path.join(REPO, "src/kernels/cuda", source) for source in sources]
        for source, kernels in zip(sources, pool.map(lambda p: kernels_of(nvcc, p, args.arch, scratch), paths)):
            for k, name in zip(kernels, demangle([k["name"] for k in kernels])):
                k["file"], k["short"] = source, short(name)
                rows.append(k)
    for k in rows:
        needed = k["bound"] or UNDECLARED_BLOCK
        k["max_block"] = max_block(k["registers"])
        if k["max_block"] < needed:
            problems.append(f"{k['short']}: {k['registers']} registers allow {k['max_block']} threads, "
                            f"it launches {needed}")
        if k["stores"] or k["loads"]:
            spills.append(f"{k['short']}: spills {k['stores']} bytes (stores), {k['loads']} bytes (loads)")
    lines = [f"# Kernel resources ({args.arch})", "",
             f"Written by `scripts/kernel-resources.py --arch {args.arch}` from ptxas's report ({version}); "
             "no GPU involved. Registers are per thread; *max block* is the largest block they allow "
             f"({REGISTERS_PER_SM} registers per SM, given out per warp in units of {ALLOCATION_UNIT}); "
             f"*bound* is the kernel's `__launch_bounds__` (none: it launches at most {UNDECLARED_BLOCK} "
             "threads). Shared memory is the static part, in bytes per block; spills are bytes per thread.", "",
             "## Per file", "",
             "| file | kernels | most registers | most shared | spilling |", "|---|---:|---:|---:|---:|"]
    for source in sources:
        ks = [k for k in rows if k["file"] == source]
        if ks:
            spilling = sum(1 for k in ks if k["stores"] or k["loads"])
            lines.append(f"| {source} | {len(ks)} | {max(k['registers'] for k in ks)} | "
                         f"{max(k['smem'] for k in ks)} | {spilling} |")
    heavy = [k for k in rows if k["registers"] > args.heavy or k["stores"] or k["loads"]]
    lines += ["", f"## Kernels above {args.heavy} registers (fewer than 1024 threads per SM)", "",
              "| file | kernel | registers | shared | spill st/ld | bound | max block |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for k in sorted(heavy, key=lambda k: (-k["registers"], k["file"], k["short"])):
        name = k["short"].replace("|", "\\|")
        lines.append(f"| {k['file']} | `{name}` | {k['registers']} | {k['smem']} | {k['stores']}/{k['loads']} | "
                     f"{k['bound'] or ''} | {k['max_block']} |")
    lines += ["", f"{len(rows)} kernels in all; " + ("no launch problems." if not problems else
                                                     f"{len(problems)} launch problems:")]
    lines += [f"- {p}" for p in problems]
    lines += ["", "Spills: " + ("none." if not spills else f"{len(spills)} kernels (slower, not wrong):")]
    lines += [f"- {p}" for p in spills]
    text = "\n".join(lines) + "\n"
    if args.out:
        open(args.out, "w").write(text)
    else:
        sys.stdout.write(text)
    for p in problems:
        print("kernel-resources: cannot launch:", p, file=sys.stderr)
    for p in spills:
        print("kernel-resources: note:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
