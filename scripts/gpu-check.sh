#!/usr/bin/env bash
# Checks Striate on a (lent) GPU machine: CUDA, CMake, ninja and Python with
# PyTorch are expected; -dev packages and network may be missing.
#
#   bash scripts/gpu-check.sh [OUTPUT_DIR]      (default: $OUT, else ./gpu-check-out)
#
# Steps: describe the machine (GPU, driver, toolkit, PyTorch/cuDNN), configure
# and build with CUDA (and the benchmarks when there are any), run ctest, then
# the GPU tests (label `gpu`) on their own, compute-sanitizer (memcheck with the
# cache off, racecheck) on every GPU test executable, and the benchmarks.
# Each step logs to OUTPUT_DIR/<step>.log and
# adds a line to OUTPUT_DIR/summary.txt, which is printed at the end (more than
# 8 files: the logs are packed into logs.tar.gz, see pack_output). A missing
# piece (no GPU, no GPU tests yet, no compute-sanitizer, no benchmarks) is
# reported and skipped, never fatal.
#
# GoogleTest: the installed package, /usr/src/googletest, $STRIATE_GTEST_SOURCE_DIR,
# or build-gpu-deps/googletest in this checkout (copy /usr/src/googletest there
# on a machine that has it and carry the folder along).
#
# Time: a lent GPU comes with minutes, not hours. The whole check keeps to
# STRIATE_GPU_CHECK_BUDGET seconds (default 540, under the device tool's
# 10-minute limit per command): each step's limit is cut to
# what is left, and steps that no longer fit are reported as skipped. The
# order is what matters most first: build, GPU tests, memcheck of the main GPU
# test binary, benchmarks (--quick unless STRIATE_GPU_BENCH_ARGS says
# otherwise), then the other sanitizer runs. The CPU tests (CI runs them)
# run only with STRIATE_GPU_CHECK_CPU_TESTS=1. STRIATE_GPU_CHECK_PARTS (default
# "tests,memcheck,bench,sanitizers") picks the parts after the build, so a
# check can span two commands on one warm machine, e.g. "tests,memcheck" and
# then "bench,sanitizers" (the second build is a no-op).
#
# Exit status: 0 all passed on a GPU; 1 something failed; 2 nothing failed but
# there was no GPU, so nothing GPU-specific was verified.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-${OUT:-./gpu-check-out}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="${STRIATE_GPU_BUILD_DIR:-$STRIATE_REPO/build-gpu}"
summary="$out/summary.txt"
: >"$summary"
failed=0
step_timeout="${STRIATE_GPU_STEP_TIMEOUT:-1800}"
deadline=$((SECONDS + ${STRIATE_GPU_CHECK_BUDGET:-540}))
parts=",${STRIATE_GPU_CHECK_PARTS:-tests,memcheck,bench,sanitizers},"
wants() { [[ "$parts" == *",$1,"* ]]; }

# The device tool brings back at most 8 files from $OUT. When there are more,
# keep the summary and up to six result tables (benchmarks/*.md, *.json) as
# they are and pack everything else into logs.tar.gz — also when a step is
# killed, hence the trap.
# shellcheck disable=SC2317 # called by the EXIT trap
pack_output() {
  local all=() keep=(summary.txt) pack=() f
  mapfile -t all < <(cd "$out" && find . -type f ! -name logs.tar.gz -printf '%P\n' | sort)
  ((${#all[@]} > 8)) || return 0
  while IFS= read -r f; do keep+=("$f"); done < <(cd "$out" && find . -path './benchmarks/*' -type f \
    \( -name '*.md' -o -name '*.json' \) -printf '%P\n' | sort | head -n 6)
  for f in "${all[@]}"; do
    [[ " ${keep[*]} " == *" $f "* ]] || pack+=("$f")
  done
  echo "logs: packed into logs.tar.gz (${#pack[@]} files)" >>"$summary"
  tar -czf "$out/logs.tar.gz" -C "$out" "${pack[@]}" && (cd "$out" && rm -f "${pack[@]}")
  find "$out" -mindepth 1 -type d -empty -delete
}
trap pack_output EXIT

note() { printf '%s\n' "$*" | tee -a "$summary"; }
# step <name> <command...>: runs with a time limit, output to <name>.log.
step() {
  local name="$1"
  shift
  local start=$SECONDS
  local left=$((deadline - SECONDS))
  if ((left < 20)); then
    note "$(printf '%-28s skipped        (time budget spent)' "$name")"
    return 1
  fi
  local limit=$((step_timeout < left ? step_timeout : left))
  log "$name (log: $out/$name.log, limit ${limit}s)"
  if declare -F "$1" >/dev/null; then
    "$@" >"$out/$name.log" 2>&1  # a shell function: timeout cannot run it
  else
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
  fi
  local rc=$?
  tail -n 20 "$out/$name.log"
  local took=$((SECONDS - start))
  if ((rc == 0)); then
    note "$(printf '%-28s ok      %5ds' "$name" "$took")"
  else
    note "$(printf '%-28s FAILED  %5ds  (exit %d, see %s.log)' "$name" "$took" "$rc" "$name")"
    failed=1
  fi
  return "$rc"
}

note "Striate GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$STRIATE_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---- the machine -----------------------------------------------------------------
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi >"$out/nvidia-smi.log" 2>&1
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
  if ((gpus > 0)); then
    note "GPUs: $gpus"
    nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null |
      sed 's/^/  /' | tee -a "$summary"
  fi
else
  note "nvidia-smi: not found"
fi
python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [[ -n "$python" ]]; then
  "$python" - >"$out/pytorch.log" 2>&1 <<'PY'
try:
    import torch
    print("PyTorch", torch.__version__, "CUDA", torch.version.cuda,
          "cuDNN", torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
          "devices", torch.cuda.device_count() if torch.cuda.is_available() else 0)
except Exception as e:  # no torch, or a broken one: say so
    print("PyTorch: not usable:", e)
PY
  note "$(head -n 1 "$out/pytorch.log")"
else
  note "Python: not found"
fi
if ((gpus == 0)); then
  note "no GPU found: building and running what runs without one; GPU tests will skip"
fi

nvcc=""
if nvcc="$(find_nvcc)"; then
  note "nvcc: $nvcc ($("$nvcc" --version | grep -o 'release [0-9.]*' || echo '?'))"
else
  note "nvcc: not found: the CUDA backend cannot be built here"
fi
note "cmake: $(cmake --version | head -n 1)"

# ---- configure and build ------------------------------------------------------------
configure_args=(-DCMAKE_BUILD_TYPE=Release -DSTRIATE_BUILD_TESTS=ON -DSTRIATE_BUILD_EXAMPLES=ON)
if [[ -n "$nvcc" ]]; then
  configure_args+=(-DSTRIATE_CUDA=ON "-DCMAKE_CUDA_COMPILER=$nvcc")
fi
if [[ -f "$STRIATE_REPO/benchmarks/CMakeLists.txt" ]]; then
  configure_args+=(-DSTRIATE_BUILD_BENCHMARKS=ON)
fi
for gtest_dir in "${STRIATE_GTEST_SOURCE_DIR:-}" /usr/src/googletest "$STRIATE_REPO/build-gpu-deps/googletest"; do
  if [[ -n "$gtest_dir" && -f "$gtest_dir/CMakeLists.txt" ]]; then
    configure_args+=("-DSTRIATE_GTEST_SOURCE_DIR=$gtest_dir")
    break
  fi
done

built=0
if step configure configure "$build" "${configure_args[@]}"; then
  grep -E '^-- +[A-Za-z+ ]+ \.+ ' "$out/configure.log" | sed 's/^-- /  /' | tee -a "$summary"
  if step build cmake --build "$build" --parallel "$STRIATE_JOBS"; then
    built=1
  fi
fi

# ---- tests ------------------------------------------------------------------------
gpu_test_count=0
if ((built)); then
  if [[ "${STRIATE_GPU_CHECK_CPU_TESTS:-0}" == 1 ]]; then
    step ctest ctest --test-dir "$build" --output-on-failure -j "$STRIATE_JOBS" --timeout 900 -LE gpu
  fi
  gpu_test_count=$(ctest --test-dir "$build" -N -L gpu 2>/dev/null | sed -n 's/^Total Tests: *//p')
  gpu_test_count=${gpu_test_count:-0}
  if ((gpu_test_count == 0)); then
    note "GPU tests: none yet (no ctest test carries the label gpu)"
  elif wants tests; then
    # Poisoned allocations (0xFF bytes: NaN) expose outputs a kernel leaves unwritten.
    STRIATE_CUDA_ALLOC_CONF=poison:1 step ctest-gpu ctest --test-dir "$build" --output-on-failure -j 4 -L gpu --timeout 900
    # ctest marks a skipped test "***Skipped" (gtest's own "[  SKIPPED ]" is
    # printed only for failures); on a GPU machine a skip is worth knowing.
    skipped=$(grep -c '\*\*\*Skipped' "$out/ctest-gpu.log" || true)
    note "GPU tests: $gpu_test_count, of which skipped: $skipped"
  fi
fi

if ((!built)); then
  note "tests, compute-sanitizer, benchmarks: skipped (no build)"
fi

# ---- compute-sanitizer, then the benchmarks, then more compute-sanitizer ----------------
sanitizer=""
for candidate in "$(command -v compute-sanitizer 2>/dev/null)" "${nvcc%/nvcc}/compute-sanitizer" \
  /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then sanitizer="$candidate"; break; fi
done
gpu_binaries=()
can_sanitize=0
if ((built && gpu_test_count > 0)); then
  # The executables behind the `gpu` tests, from ctest's own listing; cuda_tests
  # (every kernel) first.
  mapfile -t gpu_binaries < <(ctest --test-dir "$build" -N -V -L gpu 2>/dev/null |
    sed -n 's/^[0-9]*: Test command: *\([^ ]*\).*/\1/p' | tr -d '"' | sort -u | awk '/\/cuda_tests$/ {print; next} {rest = rest $0 "\n"} END {printf "%s", rest}')
  if [[ -z "$sanitizer" ]]; then
    note "compute-sanitizer: not found, skipped"
  elif ((gpus == 0)); then
    note "compute-sanitizer: skipped (no GPU)"
  else
    can_sanitize=1
  fi
elif ((built)); then
  note "compute-sanitizer: skipped (no GPU tests yet)"
fi
# sanitize <tool> <binary>: sanitized runs are 10-100x slower, so each gets its
# own, shorter limit (STRIATE_SANITIZER_TIMEOUT) within the budget.
sanitize() {
  local tool="$1" binary="$2" saved_timeout="$step_timeout"
  [[ -x "$binary" ]] || return 0
  step_timeout="${STRIATE_SANITIZER_TIMEOUT:-240}"
  if [[ "$tool" == memcheck ]]; then
    # Without caching every tensor is its own cudaMalloc, so memcheck sees each one's exact bounds.
    STRIATE_CUDA_ALLOC_CONF=caching:0,poison:1 step "memcheck-$(basename "$binary")" "$sanitizer" --tool memcheck \
      --error-exitcode 1 --leak-check full "$binary"
  else
    step "$tool-$(basename "$binary")" "$sanitizer" --tool "$tool" --error-exitcode 1 "$binary"
  fi
  step_timeout="$saved_timeout"
}
if ((can_sanitize)) && wants memcheck; then
  sanitize memcheck "${gpu_binaries[0]}"
fi

if ((built)) && wants bench; then
  read -r -a bench_args <<<"${STRIATE_GPU_BENCH_ARGS:---quick}"
  if [[ -x "$STRIATE_REPO/benchmarks/run.sh" ]]; then
    step benchmarks "$STRIATE_REPO/benchmarks/run.sh" "$build" "$out/benchmarks" "${bench_args[@]}"
  else
    note "benchmarks: none yet"
  fi
fi

if ((can_sanitize)) && wants sanitizers; then
  for binary in "${gpu_binaries[@]:1}"; do sanitize memcheck "$binary"; done
  for binary in "${gpu_binaries[@]}"; do sanitize racecheck "$binary"; done
fi

log "summary ($summary)"
cat "$summary"
if ((failed)); then
  exit 1
elif ((gpus == 0)); then
  exit 2
fi
exit 0
