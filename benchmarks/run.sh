#!/usr/bin/env bash
# Runs the benchmarks on a GPU machine, everything into one folder:
#   1. PyTorch eager's launch overhead (benchmarks/gpu/torch_overhead.py), where
#      PyTorch has CUDA, for the harness to set beside Striate's;
#   2. the kernel benchmarks (striate_kernel_bench): kernel_bench.json,
#      kernel_bench.md, kernel_bench_ratios.png (or .svg), kernel_bench.log;
#   3. the end-to-end benchmarks, when benchmarks/e2e_gpu.sh exists.
# Each part's time and exit status go to OUT_DIR/run-summary.txt as it ends.
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
# STRIATE_DEADLINE (epoch seconds; scripts/gpu-check.sh sets it) bounds the
# whole run: each part's limit is cut to what is left of it, and a part that no
# longer fits is skipped and reported. Each part runs under its own `timeout`,
# in a process group of its own that a caller's timeout does not reach, hence
# the deadline. e2e_gpu.sh gets the same deadline. STRIATE_GIT_COMMIT, when
# set, is the commit recorded (else git's, "+dirty" with uncommitted changes).
#
# Exit status: 0 everything ran and succeeded (or there is no GPU: nothing to
# run); 1 a part failed or a case recorded an error; 3 nothing failed, but a
# part was cut short or skipped for time.
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
status=0     # 1: a part failed
incomplete=0 # a part was cut short or skipped for time: exit 3 when nothing failed
note() { printf '%s\n' "$*" | tee -a "$summary"; }

# limit_for WANTED MIN: WANTED seconds, cut to what is left before
# STRIATE_DEADLINE less the 10 s a part killed at its limit may take to die;
# fails (after printing it) when that is under MIN.
grace=10
limit_for() {
  local limit="$1"
  if [[ "${STRIATE_DEADLINE:-}" =~ ^[0-9]+$ ]]; then
    local left=$((STRIATE_DEADLINE - $(date +%s) - grace))
    if ((left < limit)); then limit=$left; fi
  fi
  echo "$limit"
  ((limit >= $2))
}

# The caller's commit first: the GPU machine's copy may not be a git checkout.
commit="${STRIATE_GIT_COMMIT:-}"
if [[ -z "$commit" ]]; then
  commit="$(git -c safe.directory="$repo" -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  if [[ "$commit" != unknown ]] && ! git -c safe.directory="$repo" -C "$repo" diff --quiet HEAD 2>/dev/null; then
    commit="$commit+dirty"
  fi
fi
note "Striate benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, output $out"

gpus=$(timeout --kill-after=5 30 nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
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
  if ! command -v "$python" >/dev/null 2>&1; then
    note "pytorch overhead: skipped ($python not found)"
  elif ! limit=$(limit_for 300 30); then
    note "pytorch overhead: skipped (only ${limit} s usable before the deadline); Striate's number stands alone"
    incomplete=1
  else
    start=$SECONDS
    timeout --kill-after="$grace" "$limit" "$python" "$repo/benchmarks/gpu/torch_overhead.py" \
      >"$out/torch_overhead.json" 2>"$out/torch_overhead.log"
    rc=$?
    if ((rc == 0)); then
      torch_args=(--torch-overhead "$out/torch_overhead.json")
      note "pytorch overhead: $(head -c 300 "$out/torch_overhead.json") ($((SECONDS - start)) s)"
    elif ((rc == 124 || rc == 137)); then
      note "pytorch overhead: stopped after ${limit} s; Striate's number stands alone"
      incomplete=1
    else
      note "pytorch overhead: failed ($((SECONDS - start)) s, see torch_overhead.log); Striate's number stands alone"
    fi
  fi
fi

# ---- 2. the kernel benchmarks ------------------------------------------------------------
bench="$build/benchmarks/striate_kernel_bench"
if [[ ! -x "$bench" ]]; then
  note "kernel benchmarks: $bench not built (it needs the CUDA backend and -DSTRIATE_BUILD_BENCHMARKS=ON)"
  status=1
elif ! limit=$(limit_for "$kernel_timeout" 30); then
  note "kernel benchmarks: skipped (only ${limit} s usable before the deadline)"
  incomplete=1
else
  start=$SECONDS
  # Progress (stderr) and the Markdown table (stdout) both reach the log and this script's output.
  timeout --kill-after="$grace" "$limit" "$bench" --out "$out" --commit "$commit" "${torch_args[@]}" "$@" 2>&1 |
    tee "$out/kernel_bench.log"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - start))
  case $rc in
    0) note "kernel benchmarks: ok (${took} s)" ;;
    1) note "kernel benchmarks: some cases failed (${took} s): see the error cells in kernel_bench.md"; status=1 ;;
    124 | 137)
      # It writes its reports after every suite: what it finished stands.
      note "kernel benchmarks: incomplete: stopped after ${limit} s; kernel_bench.md holds the suites finished"
      incomplete=1 ;;
    *) note "kernel benchmarks: exit $rc (${took} s, see kernel_bench.log)"; status=1 ;;
  esac
fi

# ---- 3. end to end --------------------------------------------------------------------------
# e2e_gpu.sh runs in this script's process group (no timeout around it), so a
# caller's timeout reaches it; it keeps to STRIATE_DEADLINE by itself and
# rewrites e2e.md after every step. It exits 3 when it was cut short.
if ((selected)) || [[ "${STRIATE_BENCH_E2E:-1}" == 0 ]]; then
  note "end-to-end: skipped (kernel suites selected, or STRIATE_BENCH_E2E=0)"
elif [[ ! -f "$repo/benchmarks/e2e_gpu.sh" ]]; then
  note "end-to-end: benchmarks/e2e_gpu.sh does not exist yet"
elif ! limit=$(limit_for 999999 60); then
  note "end-to-end: skipped (only ${limit} s usable before the deadline)"
  incomplete=1
else
  start=$SECONDS
  bash "$repo/benchmarks/e2e_gpu.sh" "$build" "$out"
  rc=$?
  # e2e.json's own status line (indented once: the steps' are deeper).
  e2e_status="$(sed -n 's/^ "status": "\(.*\)",\{0,1\}$/\1/p' "$out/e2e.json" 2>/dev/null | head -n 1)"
  took=$((SECONDS - start))
  case $rc in
    0) note "end-to-end: ${e2e_status:-ok} (${took} s)" ;;
    3) note "end-to-end: ${e2e_status:-incomplete} (${took} s; e2e.md has what finished)"; incomplete=1 ;;
    *) note "end-to-end: exit $rc: ${e2e_status:-see e2e.log} (${took} s)"; status=1 ;;
  esac
fi

echo
cat "$summary"
if ((status == 0 && incomplete)); then status=3; fi
exit "$status"
