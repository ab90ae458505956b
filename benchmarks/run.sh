#!/usr/bin/env bash
# Runs the benchmarks on a GPU machine, everything into one folder:
#   1. PyTorch eager's launch overhead (benchmarks/gpu/torch_overhead.py), where
#      PyTorch has CUDA, for the harness to set beside Striate's;
#   2. the kernel benchmarks (striate_kernel_bench): kernel_bench.json,
#      kernel_bench.md, kernel_bench_ratios.png (or .svg), kernel_bench.log;
#   3. the end-to-end benchmarks, when benchmarks/e2e_gpu.sh exists.
# Each part's time and exit status go to OUT_DIR/run-summary.txt.
#
#   benchmarks/run.sh BUILD_DIR OUT_DIR [--suite NAME]... [--quick | --full] [--layout nchw|nhwc|both]
#
# BUILD_DIR is a CUDA build configured with -DSTRIATE_BUILD_BENCHMARKS=ON
# (scripts/gpu-check.sh does both, then calls this). Further arguments go to
# the harness (see benchmarks/README.md); --suite selects kernel suites, and
# then the end-to-end part is skipped, as it is with STRIATE_BENCH_E2E=0.
# The default kernel run takes under 4 minutes on an H100; it is stopped after
# STRIATE_KERNEL_BENCH_TIMEOUT seconds (default 420), keeping the suites it finished.
#
# Exit status: 0 everything that ran succeeded (or there is no GPU: nothing
# to run); 1 a part failed or a case recorded an error.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if (($# < 2)); then
  sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
build="$(cd "$1" && pwd)" || { echo "run.sh: no build folder $1" >&2; exit 2; }
mkdir -p "$2"
out="$(cd "$2" && pwd)"
shift 2
python="${PYTHON:-python3}"
kernel_timeout="${STRIATE_KERNEL_BENCH_TIMEOUT:-420}"
summary="$out/run-summary.txt"
: >"$summary"
status=0
note() { printf '%s\n' "$*" | tee -a "$summary"; }

commit="$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [[ "$commit" != unknown ]] && ! git -C "$repo" diff --quiet HEAD 2>/dev/null; then
  commit="$commit+dirty"
fi
note "Striate benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, output $out"

gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
if ((${gpus:-0} == 0)); then
  note "no GPU found (nvidia-smi -L): nothing to benchmark"
  exit 0
fi

# Does the selection include the overhead suite (the only user of PyTorch's number)?
selected=0
wants_torch=1
args=("$@")
for ((i = 0; i < ${#args[@]}; ++i)); do
  if [[ "${args[i]}" == --suite ]]; then
    if ((!selected)); then wants_torch=0; fi
    selected=1
    if [[ ",${args[i + 1]:-}," =~ ,(overhead|all), ]]; then wants_torch=1; fi
  fi
done

# ---- 1. PyTorch's launch overhead ------------------------------------------------------
torch_args=()
if ((wants_torch)); then
  if command -v "$python" >/dev/null 2>&1; then
    start=$SECONDS
    if timeout 300 "$python" "$repo/benchmarks/gpu/torch_overhead.py" >"$out/torch_overhead.json" \
      2>"$out/torch_overhead.log"; then
      torch_args=(--torch-overhead "$out/torch_overhead.json")
      note "pytorch overhead: $(head -c 300 "$out/torch_overhead.json") ($((SECONDS - start)) s)"
    else
      note "pytorch overhead: failed ($((SECONDS - start)) s, see torch_overhead.log); Striate's number stands alone"
    fi
  else
    note "pytorch overhead: skipped ($python not found)"
  fi
fi

# ---- 2. the kernel benchmarks ------------------------------------------------------------
bench="$build/benchmarks/striate_kernel_bench"
if [[ -x "$bench" ]]; then
  start=$SECONDS
  # Progress (stderr) and the Markdown table (stdout) both reach the log and this script's output.
  timeout "$kernel_timeout" "$bench" --out "$out" --commit "$commit" "${torch_args[@]}" "$@" 2>&1 |
    tee "$out/kernel_bench.log"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - start))
  case $rc in
    0) note "kernel benchmarks: ok (${took} s)" ;;
    1) note "kernel benchmarks: some cases failed (${took} s): see the error cells in kernel_bench.md"; status=1 ;;
    124 | 137) note "kernel benchmarks: stopped after ${kernel_timeout} s; kernel_bench.md holds the suites finished"
      status=1 ;;
    *) note "kernel benchmarks: exit $rc (${took} s, see kernel_bench.log)"; status=1 ;;
  esac
else
  note "kernel benchmarks: $bench not built (it needs the CUDA backend and -DSTRIATE_BUILD_BENCHMARKS=ON)"
  status=1
fi

# ---- 3. end to end --------------------------------------------------------------------------
if ((selected)) || [[ "${STRIATE_BENCH_E2E:-1}" == 0 ]]; then
  note "end-to-end: skipped (kernel suites selected, or STRIATE_BENCH_E2E=0)"
elif [[ -f "$repo/benchmarks/e2e_gpu.sh" ]]; then
  start=$SECONDS
  bash "$repo/benchmarks/e2e_gpu.sh" "$build" "$out"
  rc=$?
  if ((rc == 0)); then
    note "end-to-end: ok ($((SECONDS - start)) s)"
  else
    note "end-to-end: exit $rc ($((SECONDS - start)) s)"
    status=1
  fi
else
  note "end-to-end: benchmarks/e2e_gpu.sh does not exist yet"
fi

echo
cat "$summary"
exit "$status"
