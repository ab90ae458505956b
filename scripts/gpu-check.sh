#!/usr/bin/env bash
# Checks Striate on a (lent) GPU machine: CUDA, CMake, ninja and Python with
# PyTorch are expected; -dev packages and network may be missing, and the
# machine may run inside gVisor (where compute-sanitizer may not work).
#
#   bash scripts/gpu-check.sh [OUTPUT_DIR]      (default: $OUT, else ./gpu-check-out)
#
# In this order, so that a spent budget cuts the least:
#   1. the machine: GPU, driver, compute capability, nvcc, PyTorch and its cuDNN;
#   2. configure build-gpu/ (STRIATE_GPU_BUILD_DIR) with CUDA for the GPU present
#      only: CMAKE_CUDA_ARCHITECTURES from nvidia-smi's compute_cap (9.0 -> 90),
#      or STRIATE_GPU_CUDA_ARCH ("default": the project's own list); no examples;
#   3. build only what the chosen parts run: the GPU test executables
#      (cuda_tests, cudnn_tests, *_gpu_tests), striate_kernel_bench, and
#      resnet_throughput and striate_cli for the end-to-end benchmarks
#      (STRIATE_GPU_BUILD_TARGETS overrides the list; "all" builds everything);
#   4. the GPU tests (ctest -L gpu), at most STRIATE_GPU_TEST_TIMEOUT s each (60);
#   5. the benchmarks: benchmarks/run.sh, --quick unless STRIATE_GPU_BENCH_ARGS
#      says otherwise; they leave the time memcheck needs;
#   6. compute-sanitizer memcheck of cuda_tests on the gtest filter
#      STRIATE_MEMCHECK_FILTER (default CudaConv*:CudaPooling*:CudaSoftmax*:CudaMemory*);
#   7. memcheck of the other GPU test executables, and racecheck of all
#      (cuda_tests on STRIATE_RACECHECK_FILTER).
# STRIATE_GPU_CHECK_PARTS (default "tests,bench,memcheck,sanitizers") picks
# the parts after the build, so a check can span two commands on one warm
# machine, e.g. "tests,bench" and then "memcheck,sanitizers" (the second build
# is a no-op). The CPU tests (CI runs them) run, after a full build, only with
# STRIATE_GPU_CHECK_CPU_TESTS=1.
#
# Time: a lent GPU comes with minutes, not hours. The whole check keeps to
# STRIATE_GPU_CHECK_BUDGET seconds (default 540, under the device tool's
# 10-minute limit per command): each step's limit is cut to what is left, and a
# step that no longer fits is reported as skipped. Every step runs under
# `timeout --kill-after=10` and gets STRIATE_DEADLINE (epoch seconds, its own
# end less those 10 s): benchmarks/run.sh and benchmarks/e2e_gpu.sh start their
# inner timeouts in process groups of their own, which the outer timeout cannot
# reach, so they cut their own limits to that deadline. configure is limited to
# STRIATE_GPU_CONFIGURE_TIMEOUT (150 s), the PyTorch probe to 30 s, each
# sanitizer run to STRIATE_SANITIZER_TIMEOUT (90 s): a run stopped there is
# "incomplete (time cap)", not failed, unless it had already reported an error.
#
# Output: each step logs to OUTPUT_DIR/<step>.log and adds a line to
# OUTPUT_DIR/summary.txt, printed at the end. The device tool brings back at
# most 8 files, so with more the logs are packed into logs.tar.gz (see
# pack_output). A missing piece (no GPU, no compute-sanitizer or one that
# cannot run here, no benchmarks) is reported and skipped, never fatal. Failed:
# a step that fails, a configuration without GoogleTest (no GPU test can be
# built), and GPU tests that (mostly) skip although nvidia-smi lists a GPU: the
# library cannot see it, and the summary gives the tests' reason.
#
# GoogleTest: the installed package, /usr/src/googletest, $STRIATE_GTEST_SOURCE_DIR,
# or build-gpu-deps/googletest in this checkout (copy /usr/src/googletest there
# on a machine that has it and carry the folder along).
#
# Exit status: 1 something failed; 2 nothing failed but there was no GPU, so
# nothing GPU-specific was verified; 3 nothing failed on a GPU but a step was
# cut short or skipped for time; 0 everything ran and passed on a GPU.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${1:-${OUT:-./gpu-check-out}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="${STRIATE_GPU_BUILD_DIR:-$STRIATE_REPO/build-gpu}"
summary="$out/summary.txt"
: >"$summary"
failed=0     # something failed: exit 1
incomplete=0 # something was cut short or skipped for time: exit 3 if nothing failed
parts=",${STRIATE_GPU_CHECK_PARTS:-tests,bench,memcheck,sanitizers},"
wants() { [[ "$parts" == *",$1,"* ]]; }

# ---- time ---------------------------------------------------------------------------
step_timeout="${STRIATE_GPU_STEP_TIMEOUT:-1800}"
configure_timeout="${STRIATE_GPU_CONFIGURE_TIMEOUT:-150}"
test_timeout="${STRIATE_GPU_TEST_TIMEOUT:-60}"
sanitizer_timeout="${STRIATE_SANITIZER_TIMEOUT:-90}"
grace=10    # timeout --kill-after: a child that ignores SIGTERM gets SIGKILL this much later
min_step=20 # a step with less time than this left is skipped, not started
now() { date +%s; }
deadline=$(($(now) + ${STRIATE_GPU_CHECK_BUDGET:-540}))
# A caller's own deadline wins when it is earlier.
if [[ "${STRIATE_DEADLINE:-}" =~ ^[0-9]+$ ]] && ((STRIATE_DEADLINE < deadline)); then
  deadline=$STRIATE_DEADLINE
fi
export STRIATE_DEADLINE="$deadline"
time_left() { echo $((deadline - $(now))); }
# step_limit CAP: CAP seconds, cut so that even a SIGKILL after the grace lands
# before the deadline; fails when that leaves less than min_step.
step_limit() {
  local limit=$(($(time_left) - grace))
  if (($1 < limit)); then limit=$1; fi
  echo "$limit"
  ((limit >= min_step))
}

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
# Bash skips the EXIT trap when a signal kills it: stop the step in flight
# (its timeout, in a process group of its own, passes the signal on) and exit,
# so that the logs are packed.
step_pid=""
# shellcheck disable=SC2317 # called by the trap
on_signal() {
  [[ -z "$step_pid" ]] || kill -TERM "$step_pid" 2>/dev/null
  echo "gpu-check: stopped by a signal" >>"$summary"
  exit 143
}
trap on_signal TERM INT HUP

note() { printf '%s\n' "$*" | tee -a "$summary"; }
# result NAME SECONDS WHAT...: a step's line in the summary.
result() {
  local name="$1" took="$2"
  shift 2
  note "$(printf '%-28s %5s  %s' "$name" "$took" "$*")"
}
skip_for_time() {
  result "$1" - "skipped (time budget spent: $(time_left) s left)"
  incomplete=1
}

# run_logged NAME LIMIT COMMAND...: COMMAND under timeout, output to NAME.log
# (its end echoed); sets rc and took. COMMAND's STRIATE_DEADLINE is this limit's
# end less the grace, so that its own inner timeouts end within the limit.
run_logged() {
  local name="$1" limit="$2" start
  shift 2
  if declare -F "$1" >/dev/null; then
    # timeout runs programs, not shell functions: a child bash sources common.sh for it.
    # shellcheck disable=SC2016 # expanded by that bash
    set -- bash -c 'source "$1" && shift && "$@"' bash "$STRIATE_REPO/scripts/common.sh" "$@"
  fi
  log "$name (log: $out/$name.log, limit ${limit}s)"
  start=$(now)
  # In the background and waited for: bash runs a trap only once a foreground command ends.
  STRIATE_DEADLINE=$((start + limit - grace)) timeout --kill-after="$grace" "$limit" "$@" \
    >"$out/$name.log" 2>&1 </dev/null &
  step_pid=$!
  wait "$step_pid"
  rc=$?
  step_pid=""
  took=$(($(now) - start))
  tail -n 20 "$out/$name.log"
}

# step NAME CAP COMMAND...: a step that passes or fails (configure, build,
# ctest), limited to CAP seconds or what is left. A step that runs out of time
# verified nothing, so it fails too.
step() {
  local name="$1" cap="$2" limit
  shift 2
  limit=$(step_limit "$cap") || { skip_for_time "$name"; return 1; }
  run_logged "$name" "$limit" "$@"
  if ((rc == 0)); then
    result "$name" "${took}s" ok
  elif ((rc == 124 || rc == 137)); then
    result "$name" "${took}s" "FAILED (stopped at its ${limit} s limit, see $name.log)"
    failed=1
  else
    result "$name" "${took}s" "FAILED (exit $rc, see $name.log)"
    failed=1
  fi
  return "$rc"
}

# The checkout's commit, computed once for every report: the GPU machine's copy
# may not be a git checkout (then "unknown", unless the caller set
# STRIATE_GIT_COMMIT), and as root there git may distrust the folder's owner.
checkout_commit() {
  local git=(git -c "safe.directory=$STRIATE_REPO" -C "$STRIATE_REPO") commit
  commit="$("${git[@]}" rev-parse --short=12 HEAD 2>/dev/null)" || { echo unknown; return; }
  "${git[@]}" diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
  echo "$commit"
}
export STRIATE_GIT_COMMIT="${STRIATE_GIT_COMMIT:-$(checkout_commit)}"
note "Striate GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $STRIATE_GIT_COMMIT, budget $(time_left) s"

# ---- the machine -----------------------------------------------------------------
# cuda_arch: CMAKE_CUDA_ARCHITECTURES for this machine's GPUs (9.0 -> 90), or
# STRIATE_GPU_CUDA_ARCH; empty: the project's default list ("default", or a
# capability nvidia-smi cannot tell).
cuda_arch() {
  if [[ -n "${STRIATE_GPU_CUDA_ARCH:-}" ]]; then
    [[ "$STRIATE_GPU_CUDA_ARCH" == default ]] || echo "$STRIATE_GPU_CUDA_ARCH"
    return
  fi
  timeout --kill-after=5 30 nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null |
    tr -d ' \r' | grep -E '^[0-9]+\.[0-9]+$' | tr -d . | sort -un | paste -sd ';' -
}
gpus=0
if command -v nvidia-smi >/dev/null 2>&1; then
  # A broken driver can make nvidia-smi hang: every call is capped.
  timeout --kill-after=5 30 nvidia-smi >"$out/nvidia-smi.log" 2>&1
  gpus=$(timeout --kill-after=5 30 nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
  if ((gpus > 0)); then
    note "GPUs: $gpus"
    timeout --kill-after=5 30 nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap \
      --format=csv,noheader 2>/dev/null | sed 's/^/  /' | tee -a "$summary"
  fi
else
  note "nvidia-smi: not found"
fi
arch="$(cuda_arch)"
if [[ -n "$arch" ]]; then
  arch_from="nvidia-smi's compute_cap"
  [[ -n "${STRIATE_GPU_CUDA_ARCH:-}" ]] && arch_from=STRIATE_GPU_CUDA_ARCH
  note "CUDA architectures: $arch (from $arch_from)"
else
  note "CUDA architectures: the project's default (compute capability unknown, or STRIATE_GPU_CUDA_ARCH=default)"
fi

python=""
for candidate in "${PYTHON:-}" python3 python; do
  if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [[ -n "$python" ]]; then
  # Importing torch (and starting CUDA) can take long, or hang on a broken install.
  timeout --kill-after=5 30 "$python" - >"$out/pytorch.log" 2>&1 <<'PY'
try:
    import torch
    print("PyTorch", torch.__version__, "CUDA", torch.version.cuda,
          "cuDNN", torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
          "devices", torch.cuda.device_count() if torch.cuda.is_available() else 0)
except Exception as e:  # no torch, or a broken one: say so
    print("PyTorch: not usable:", e)
PY
  probe_rc=$?
  if ((probe_rc == 124 || probe_rc == 137)); then
    note "PyTorch: the probe ($python: import torch) took over 30 s and was stopped"
  else
    note "$(head -n 1 "$out/pytorch.log")"
  fi
  # The benchmarks then need not look for a python with torch again.
  if grep -q '^PyTorch [0-9]' "$out/pytorch.log"; then
    PYTHON="$(command -v "$python")"
    export PYTHON
  fi
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

# ---- configure ------------------------------------------------------------------------
# Examples are not needed on the GPU (they belong to the CPU tests).
examples=OFF
[[ "${STRIATE_GPU_CHECK_CPU_TESTS:-0}" == 1 ]] && examples=ON
configure_args=(-DCMAKE_BUILD_TYPE=Release -DSTRIATE_BUILD_TESTS=ON "-DSTRIATE_BUILD_EXAMPLES=$examples")
if [[ -n "$nvcc" ]]; then
  configure_args+=(-DSTRIATE_CUDA=ON "-DCMAKE_CUDA_COMPILER=$nvcc")
  [[ -n "$arch" ]] && configure_args+=("-DCMAKE_CUDA_ARCHITECTURES=$arch")
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

# has_gtest: whether the configure summary says the unit tests (the GPU ones
# among them) are built; without GoogleTest no GPU test can run.
has_gtest() {
  local line
  line="$(grep -E '^-- +tests \.+ ' "$out/configure.log" | head -n 1 | sed -E 's/^-- +tests \.+ //')"
  if [[ -z "$line" ]]; then # no summary line: trust the warning tests/CMakeLists.txt gives
    ! grep -q 'GoogleTest not found' "$out/configure.log"
    return
  fi
  [[ "$line" == yes* ]] || { echo "$line"; return 1; }
}

configured=0
gtest=0
if step configure "$configure_timeout" configure "$build" "${configure_args[@]}"; then
  configured=1
  grep -E '^-- +[A-Za-z+ ]+ \.+ ' "$out/configure.log" | sed 's/^-- /  /' | tee -a "$summary"
  if why="$(has_gtest)"; then
    gtest=1
  else
    note "GPU tests: FAILED: no GPU test can be built without GoogleTest (configure summary, tests: ${why:-GoogleTest not found});" \
      "see the GoogleTest paragraph of docs/building.md"
    failed=1
  fi
fi

# ---- build: only what the chosen parts run -------------------------------------------------
# available_targets: the build's target names (Ninja: "name: phony"; Makefiles: "... name").
available_targets() {
  timeout --kill-after=5 60 cmake --build "$build" --target help 2>/dev/null |
    sed -nE 's/^\.\.\. ([^ ]+).*/\1/p; s/^([^ :]+): .*/\1/p' | sed 's|.*/||' | sort -u
}
# e2e_wanted: benchmarks/run.sh runs the end-to-end part unless told not to.
e2e_wanted() {
  [[ "${STRIATE_BENCH_E2E:-1}" != 0 && " ${STRIATE_GPU_BENCH_ARGS:-} " != *" --suite "* ]]
}
# wanted_targets: one target a line, "all" for everything. Targets this
# configuration lacks (no CLI11: no striate_cli) are left out; run.sh and
# e2e_gpu.sh report what is missing.
wanted_targets() {
  if [[ -n "${STRIATE_GPU_BUILD_TARGETS:-}" ]]; then
    tr ' ' '\n' <<<"$STRIATE_GPU_BUILD_TARGETS" | grep -v '^$'
    return
  fi
  if [[ "${STRIATE_GPU_CHECK_CPU_TESTS:-0}" == 1 ]]; then echo all; return; fi
  local have
  have="$(available_targets)"
  if [[ -z "$have" ]]; then echo all; return; fi # no listing: build everything rather than guess
  # The GPU test executables, as tests/CMakeLists.txt names them.
  if ((gtest)) && { wants tests || wants memcheck || wants sanitizers; }; then
    grep -E '^((cuda|cudnn)_tests|.+_gpu_tests)$' <<<"$have"
  fi
  if wants bench; then
    grep -Fx striate_kernel_bench <<<"$have"
    if e2e_wanted; then grep -Fx -e resnet_throughput -e striate_cli <<<"$have"; fi
  fi
  return 0
}

built=0
if ((configured)); then
  mapfile -t targets < <(wanted_targets)
  if ((${#targets[@]} == 0)); then
    note "build: nothing to build (the chosen parts need no target this configuration has)"
  else
    note "build targets: ${targets[*]}"
    if step build "$step_timeout" cmake --build "$build" --parallel "$STRIATE_JOBS" --target "${targets[@]}"; then
      built=1
    fi
  fi
fi

# ---- the GPU tests ------------------------------------------------------------------------
# skip_reason: why the GPU tests skipped, from their messages (cuda_device.cpp:
# "no CUDA GPU on this machine (cudaGetDeviceCount: <error>: <text>)").
skip_reason() {
  local logs=("$out/ctest-gpu.log" "$out/ctest-gpu-output.log") reason
  reason="$(grep -ho 'cudaGetDeviceCount: [^)]*' "${logs[@]}" 2>/dev/null | head -n 1)"
  [[ -n "$reason" ]] || reason="$(grep -hoE 'no CUDA GPU on this machine|this build has no CUDA backend' \
    "${logs[@]}" 2>/dev/null | head -n 1)"
  [[ -n "$reason" ]] || reason="no reason in the test output, see ctest-gpu-output.log"
  echo "$reason"
}
run_gpu_tests() {
  # Poisoned allocations (0xFF bytes: NaN) expose outputs a kernel leaves unwritten.
  STRIATE_CUDA_ALLOC_CONF=poison:1 step ctest-gpu "$step_timeout" \
    ctest --test-dir "$build" --output-on-failure -j 4 -L gpu --timeout "$test_timeout"
  [[ -f "$out/ctest-gpu.log" ]] || return 0 # skipped for time
  # LastTest.log holds every test's output, a skipped test's message too.
  cp "$build/Testing/Temporary/LastTest.log" "$out/ctest-gpu-output.log" 2>/dev/null
  # ctest marks a skipped test "***Skipped"; on a GPU machine a skip is worth knowing.
  local skipped
  skipped=$(grep -c '\*\*\*Skipped' "$out/ctest-gpu.log" || true)
  note "GPU tests: $gpu_test_count, of which skipped: $skipped"
  if ((gpus > 0 && skipped * 2 > gpu_test_count)); then
    note "GPU tests: FAILED: the library could not see the GPU that nvidia-smi lists" \
      "($skipped of $gpu_test_count skipped: $(skip_reason))"
    failed=1
    gpu_unseen=1
  fi
}

gpu_test_count=0
gpu_unseen=0 # the GPU tests skipped although there is a GPU: the benchmarks and sanitizers would fail as well
if ((built)); then
  if [[ "${STRIATE_GPU_CHECK_CPU_TESTS:-0}" == 1 ]]; then
    step ctest "$step_timeout" ctest --test-dir "$build" --output-on-failure -j "$STRIATE_JOBS" --timeout 900 -LE gpu
  fi
  gpu_test_count=$(timeout --kill-after=5 60 ctest --test-dir "$build" -N -L gpu 2>/dev/null |
    sed -n 's/^Total Tests: *//p')
  gpu_test_count=${gpu_test_count:-0}
  if ((!gtest)); then
    : # said above: no GoogleTest, no GPU tests
  elif ((gpu_test_count == 0)); then
    note "GPU tests: none built (no ctest test carries the label gpu)"
  elif wants tests; then
    run_gpu_tests
  fi
else
  note "tests, benchmarks, compute-sanitizer: skipped (no build)"
fi

# ---- the benchmarks ---------------------------------------------------------------------
sanitizer=""
for candidate in "$(command -v compute-sanitizer 2>/dev/null)" "${nvcc%/nvcc}/compute-sanitizer" \
  /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then sanitizer="$candidate"; break; fi
done
gpu_binaries=()
can_sanitize=0
if ((built && gpu_test_count > 0)) && { wants memcheck || wants sanitizers; }; then
  # The executables behind the `gpu` tests, from ctest's own listing; cuda_tests
  # (every kernel) first.
  mapfile -t gpu_binaries < <(timeout --kill-after=5 60 ctest --test-dir "$build" -N -V -L gpu 2>/dev/null |
    sed -n 's/^[0-9]*: Test command: *\([^ ]*\).*/\1/p' | tr -d '"' | sort -u |
    awk '/\/cuda_tests$/ {print; next} {rest = rest $0 "\n"} END {printf "%s", rest}')
  if [[ -z "$sanitizer" ]]; then
    note "compute-sanitizer: not found, skipped"
  elif ((gpus == 0)); then
    note "compute-sanitizer: skipped (no GPU)"
  else
    can_sanitize=1
  fi
fi

# run_benchmarks: benchmarks/run.sh, which exits 3 when nothing failed but a
# part was cut short or skipped for time. When memcheck runs next, they leave
# it its time: STRIATE_GPU_MEMCHECK_RESERVE seconds, by default memcheck's cap
# and the grace but at most a third of what is left (the benchmarks come
# first); 0 lets the benchmarks take everything.
run_benchmarks() {
  local name=benchmarks reserve=0 limit bench_args=()
  read -r -a bench_args <<<"${STRIATE_GPU_BENCH_ARGS:---quick}"
  if ((can_sanitize)) && wants memcheck; then
    reserve=$((sanitizer_timeout + grace))
    if ((reserve > $(time_left) / 3)); then reserve=$(($(time_left) / 3)); fi
    reserve="${STRIATE_GPU_MEMCHECK_RESERVE:-$reserve}"
  fi
  limit=$(step_limit $(($(time_left) - grace - reserve))) || { skip_for_time "$name"; return; }
  ((limit <= step_timeout)) || limit=$step_timeout
  run_logged "$name" "$limit" "$STRIATE_REPO/benchmarks/run.sh" "$build" "$out/benchmarks" "${bench_args[@]}"
  case $rc in
    0) result "$name" "${took}s" ok ;;
    3 | 124 | 137)
      result "$name" "${took}s" "incomplete (cut short for time, limit ${limit} s; see benchmarks/run-summary.txt)"
      incomplete=1 ;;
    *)
      result "$name" "${took}s" "FAILED (exit $rc, see $name.log and benchmarks/run-summary.txt)"
      failed=1 ;;
  esac
}
if ((gpu_unseen)); then
  note "benchmarks, compute-sanitizer: skipped (the library cannot see the GPU)"
  can_sanitize=0
elif ((built)) && wants bench; then
  if [[ -x "$STRIATE_REPO/benchmarks/run.sh" ]]; then
    run_benchmarks
  else
    note "benchmarks: none yet"
  fi
fi

# ---- compute-sanitizer ----------------------------------------------------------------------
# sanitizer_unavailable LOG: the reason compute-sanitizer could not run at all
# here, if so (under gVisor: "Device not supported", then error 999 at the
# first allocation, which fails every test: not the code's fault).
sanitizer_unavailable() {
  grep -m 1 -E 'Device not supported|Unable to find injection library|^=+ .*[Nn]ot supported' "$1" |
    sed -E 's/^=+ *//' | cut -c 1-200
}
# sanitizer_errors LOG: whether the run reported an error (a sanitizer
# report, or a failed test) before it ended.
sanitizer_errors() {
  grep -qE '^=+ (Invalid |Program hit |Leaked |Uninitialized |Error: |.*Race reported)|^=+ (ERROR|RACECHECK) SUMMARY: [1-9]|^\[  FAILED  \]' "$1"
}
# sanitize TOOL BINARY [FILTER]: one compute-sanitizer run (10-100x slower than
# a plain one), capped at sanitizer_timeout; FILTER: a gtest filter.
sanitize() {
  local tool="$1" binary="$2" filter="${3:-}" name limit env=() args=() what
  name="$tool-$(basename "$binary")"
  ((can_sanitize)) && [[ -x "$binary" ]] || return 0
  limit=$(step_limit "$sanitizer_timeout") || { skip_for_time "$name"; return; }
  args=(--tool "$tool" --error-exitcode 1)
  if [[ "$tool" == memcheck ]]; then
    # Without caching every tensor is its own cudaMalloc, so memcheck sees each one's exact bounds.
    env=('STRIATE_CUDA_ALLOC_CONF=caching:0,poison:1')
    args+=(--leak-check full)
  fi
  args+=("$binary")
  [[ -n "$filter" ]] && args+=("--gtest_filter=$filter")
  run_logged "$name" "$limit" env "${env[@]}" "$sanitizer" "${args[@]}"
  what="${filter:+filter $filter; }see $name.log"
  local unavailable
  unavailable="$(sanitizer_unavailable "$out/$name.log")"
  if ((rc == 0)) && grep -q '^\[  PASSED  \] [1-9]' "$out/$name.log"; then
    result "$name" "${took}s" "ok ($what)"
  elif ((rc == 0)); then
    result "$name" "${took}s" "incomplete (exit 0 but no test passed under it: $what)"
    incomplete=1
  elif [[ -n "$unavailable" ]]; then
    note "compute-sanitizer: unavailable on this machine ($unavailable)"
    can_sanitize=0 # the other runs would only say so again
  elif ((rc == 124 || rc == 137)) && ! sanitizer_errors "$out/$name.log"; then
    result "$name" "${took}s" "incomplete (time cap): $(grep -c '^\[       OK \]' "$out/$name.log") tests" \
      "passed within ${limit} s, no error so far ($what)"
    incomplete=1
  else
    local errors
    errors="$(grep -m 1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/$name.log" | sed -E 's/^=+ *//')"
    result "$name" "${took}s" "FAILED (exit $rc${errors:+: $errors}; $what)"
    failed=1
  fi
}
cuda_tests_filter() { # sanitize's filter for BINARY: only cuda_tests has these suites
  [[ "$(basename "$1")" == cuda_tests ]] && echo "$2"
}
memcheck_filter="${STRIATE_MEMCHECK_FILTER-CudaConv*:CudaPooling*:CudaSoftmax*:CudaMemory*}"
racecheck_filter="${STRIATE_RACECHECK_FILTER-CudaConv*:CudaPooling*:CudaSoftmax*:CudaReduce*}"
if ((can_sanitize)) && wants memcheck; then
  sanitize memcheck "${gpu_binaries[0]}" "$(cuda_tests_filter "${gpu_binaries[0]}" "$memcheck_filter")"
fi
if ((can_sanitize)) && wants sanitizers; then
  for binary in "${gpu_binaries[@]:1}"; do sanitize memcheck "$binary"; done
  for binary in "${gpu_binaries[@]}"; do sanitize racecheck "$binary" "$(cuda_tests_filter "$binary" "$racecheck_filter")"; done
fi

log "summary ($summary)"
cat "$summary"
if ((failed)); then
  exit 1
elif ((gpus == 0)); then
  exit 2
elif ((incomplete)); then
  exit 3
fi
exit 0
