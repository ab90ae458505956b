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
#      tests and its ctest (the consumer test included).
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

log "summary ($((SECONDS - total_start))s in all)"
printf '  %s\n' "${summary[@]}"
if ((failed)); then
  echo "test.sh: FAILED"
  exit 1
fi
echo "test.sh: all passed"
