#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run). Installs what is
# missing, then:
#   1. the main build (Release; CUDA sources compiled whenever nvcc is found,
#      GPU or not) and its ctest: unit tests, GPU tests (skipped without a
#      GPU), the examples;
#   2. the find_package consumer: the main build installed into a scratch
#      prefix, a user project configured, built and run against it;
#      then, where nvcc is found, the kernels' registers and spills from
#      ptxas (scripts/kernel-resources.py);
#   3. a CPU-only AddressSanitizer + UndefinedBehaviorSanitizer build of the
#      tests and its ctest (the consumer test included);
#   4. a CPU-only ThreadSanitizer build of the emulated CUDA kernels and
#      the data tests (emu_tests, data_tests), and a subset of them.
# Later steps run even after a failure, so one run reports everything; the
# exit status is non-zero if anything failed. Knobs: see scripts/common.sh.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

summary=()
failed=0
run_stage() {  # run_stage <name> <command...>
  local name="$1"
  shift
  log "$name"
  local start=$SECONDS
  "$@"
  local rc=$?
  local took=$((SECONDS - start))
  if ((rc == 0)); then
    summary+=("$(printf '%-40s ok       %5ds' "$name" "$took")")
  else
    summary+=("$(printf '%-40s FAILED   %5ds  (exit %d)' "$name" "$took" "$rc")")
    failed=1
  fi
  return "$rc"
}
skip_stage() {  # skip_stage <name> <reason>
  summary+=("$(printf '%-40s skipped         (%s)' "$1" "$2")")
}
run_ctest() {  # run_ctest <build-dir> <ctest args...>
  local dir="$1"
  shift
  ctest --test-dir "$dir" --output-on-failure -j "$STRIATE_TEST_JOBS" --timeout 900 --no-tests=error "$@"
}

total_start=$SECONDS
run_stage "dependencies" install_deps || { echo "test.sh: could not install dependencies" >&2; exit 1; }

# ---- 1. main build -------------------------------------------------------------
mapfile -t main_args < <(main_configure_args)
echo "main build: $STRIATE_BUILD_DIR ${main_args[*]}"
if run_stage "configure main" configure "$STRIATE_BUILD_DIR" "${main_args[@]}" \
    -DSTRIATE_BUILD_TESTS=ON -DSTRIATE_BUILD_EXAMPLES=ON; then
  if run_stage "build main" cmake --build "$STRIATE_BUILD_DIR" --parallel "$STRIATE_JOBS"; then
    run_stage "ctest main" run_ctest "$STRIATE_BUILD_DIR" -LE package
    # ---- 2. the installed package, as a user's project sees it ---------------
    run_stage "find_package consumer (ctest -L package)" run_ctest "$STRIATE_BUILD_DIR" -L package
  else
    skip_stage "ctest main" "build failed"
    skip_stage "find_package consumer" "build failed"
  fi
else
  skip_stage "build main" "configure failed"
fi

# ---- kernel resources: what ptxas gives each CUDA kernel (nvcc only, no GPU) --
# Fails on a kernel whose registers do not allow the block it launches with
# (on a GPU that launch would fail); spills are listed in the report only.
kernel_resources() {
  local arch status=0
  for arch in sm_80 sm_90; do
    CUDACXX="$(find_nvcc)" python3 "$STRIATE_REPO/scripts/kernel-resources.py" --arch "$arch" \
      --out "$STRIATE_BUILD_DIR/kernel-resources-$arch.md" || status=1
  done
  return "$status"
}
if find_nvcc >/dev/null; then
  run_stage "kernel resources (ptxas)" kernel_resources
else
  skip_stage "kernel resources (ptxas)" "no nvcc"
fi

# ---- 3. sanitizers (CPU only; -O1 keeps the tests quick and the traces exact) ---
# shellcheck disable=SC2054 # the commas belong to -fsanitize's list
asan_args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" -DSTRIATE_CUDA=OFF
  -DSTRIATE_SANITIZE=address,undefined -DSTRIATE_BUILD_TESTS=ON -DSTRIATE_BUILD_EXAMPLES=ON)
if run_stage "configure asan+ubsan" configure "$STRIATE_ASAN_BUILD_DIR" "${asan_args[@]}"; then
  if run_stage "build asan+ubsan" cmake --build "$STRIATE_ASAN_BUILD_DIR" --parallel "$STRIATE_JOBS"; then
    run_stage "ctest asan+ubsan" run_ctest "$STRIATE_ASAN_BUILD_DIR"
  else
    skip_stage "ctest asan+ubsan" "build failed"
  fi
else
  skip_stage "build asan+ubsan" "configure failed"
fi

# ---- 4. ThreadSanitizer: the emulated CUDA kernels and the DataLoader (CPU) --
# The emulator runs a block's threads as OS threads, so a kernel that reads
# shared memory another thread wrote with no barrier between is a data race
# TSan reports; the DataLoader's workers are the library's only threads.
# Two test executables are built (emu_tests, data_tests) and a subset of
# emu_tests runs: every kernel family with its cheapest cases, about 70 s
# under TSan. BatchNorm and the optimizers are left out (1-3 minutes each;
# their reductions are the ones EmulatedRows and EmulatedLoss exercise).
# OpenBLAS's own threads are not instrumented: one thread, no false reports.
# (A parameterised test's ctest name ends in "  # GetParam() = ...", so a
# pattern ends a name with a space, not $.)
tsan_tests=(
  '^data\.'
  '^emu\.(Emulator|SharedLayout|FastDivisor)\.'
  'EmulatedRows\.IntegerSums' 'EmulatedRows\..*_f32 '
  'EmulatedConv\.MatchesTheCpu/implicit_GEMM_plain_3x3_pad_1_'
  'EmulatedConv\.MatchesTheCpu/implicit_GEMM_12____40__split_K_f32_nchw'
  'EmulatedConv\.MatchesTheCpu/implicit_GEMM_groups_2_f32_nchw'
  'EmulatedConv\.MatchesTheCpu/direct_1x1_no_bias_f32_nchw'
  'EmulatedGemm\.MatchesTheCpu/(odd_sizes|two_tiles)'
  'EmulatedConv\.Deterministic' 'EmulatedPooling\.' 'EmulatedNorm\.(LayerNorm|LocalResponse)'
  'EmulatedLoss\.' 'EmulatedPrelu\.' 'EmulatedActivation\.'
)
tsan_regex="$(IFS='|'; echo "${tsan_tests[*]}")"
tsan_args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" -DSTRIATE_CUDA=OFF
  -DSTRIATE_SANITIZE=thread -DSTRIATE_BUILD_TESTS=ON -DSTRIATE_BUILD_EXAMPLES=OFF)
tsan_targets() {  # data_tests, and emu_tests where tests/emu found the CUDA headers it needs
  echo data_tests
  if grep -E '^STRIATE_EMU_CUDA_INCLUDE_DIR:[A-Z]+=' "$STRIATE_TSAN_BUILD_DIR/CMakeCache.txt" | grep -qv NOTFOUND; then
    echo emu_tests
  else
    warn "tsan: emu_tests not built (no CUDA headers for the emulator)"
  fi
}
if run_stage "configure tsan" configure "$STRIATE_TSAN_BUILD_DIR" "${tsan_args[@]}"; then
  mapfile -t targets < <(tsan_targets)
  if run_stage "build tsan (${targets[*]})" cmake --build "$STRIATE_TSAN_BUILD_DIR" --parallel "$STRIATE_JOBS" \
      --target "${targets[@]}"; then
    OPENBLAS_NUM_THREADS=1 run_stage "ctest tsan (subset)" run_ctest "$STRIATE_TSAN_BUILD_DIR" -R "$tsan_regex"
  else
    skip_stage "ctest tsan (subset)" "build failed"
  fi
else
  skip_stage "build tsan" "configure failed"
fi

log "summary ($((SECONDS - total_start))s in all)"
printf '  %s\n' "${summary[@]}"
if ((failed)); then
  echo "test.sh: FAILED"
  exit 1
fi
echo "test.sh: all passed"
