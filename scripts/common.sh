# shellcheck shell=bash
# Shared by the scripts in this folder (sourced, not run).
#
# Environment knobs (all optional):
#   STRIATE_BUILD_DIR       main build folder          (default: <repo>/build-release)
#   STRIATE_ASAN_BUILD_DIR  asan+ubsan build folder    (default: <repo>/build-asan)
#   STRIATE_TSAN_BUILD_DIR  tsan build folder          (default: <repo>/build-tsan)
#   STRIATE_JOBS            parallel compile jobs      (default: number of CPUs)
#   STRIATE_TEST_JOBS       parallel ctest jobs        (default: 2)
#   STRIATE_SKIP_DEPS=1     do not check Debian packages
#   STRIATE_CMAKE_ARGS      extra arguments for every configure, e.g. "-DSTRIATE_CUDA=OFF"

STRIATE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STRIATE_BUILD_DIR="${STRIATE_BUILD_DIR:-$STRIATE_REPO/build-release}"
STRIATE_ASAN_BUILD_DIR="${STRIATE_ASAN_BUILD_DIR:-$STRIATE_REPO/build-asan}"
STRIATE_TSAN_BUILD_DIR="${STRIATE_TSAN_BUILD_DIR:-$STRIATE_REPO/build-tsan}"
STRIATE_JOBS="${STRIATE_JOBS:-$(nproc 2>/dev/null || echo 2)}"
STRIATE_TEST_JOBS="${STRIATE_TEST_JOBS:-2}"

log() { printf '\n==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }

# The CUDA compiler, or nothing: CUDACXX, nvcc on PATH, then the usual toolkit folders.
find_nvcc() {
  local candidate
  for candidate in "${CUDACXX:-}" "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# Ninja when installed (faster incremental builds), else Makefiles.
generator_name() {
  if command -v ninja >/dev/null 2>&1; then echo "Ninja"; else echo "Unix Makefiles"; fi
}

# configure <build-dir> <cmake args...>: incremental when the folder was made
# with the same generator (its cache keeps earlier choices), else from scratch.
configure() {
  local dir="$1"
  shift
  local gen
  gen="$(generator_name)"
  if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -qx "CMAKE_GENERATOR:INTERNAL=$gen" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  # shellcheck disable=SC2086 # STRIATE_CMAKE_ARGS is a list of words
  cmake -S "$STRIATE_REPO" -B "$dir" -G "$gen" "$@" ${STRIATE_CMAKE_ARGS:-}
}

# The main build's configure arguments: Release, CUDA on when nvcc is found.
main_configure_args() {
  local nvcc
  echo "-DCMAKE_BUILD_TYPE=Release"
  if nvcc="$(find_nvcc)"; then
    echo "-DSTRIATE_CUDA=ON"
    echo "-DCMAKE_CUDA_COMPILER=$nvcc"
  else
    echo "-DSTRIATE_CUDA=OFF"
  fi
}

install_deps() {
  if [[ "${STRIATE_SKIP_DEPS:-0}" == 1 ]]; then
    log "dependencies: skipped (STRIATE_SKIP_DEPS=1)"
    return 0
  fi
  bash "$STRIATE_REPO/scripts/install-deps.sh"
}
