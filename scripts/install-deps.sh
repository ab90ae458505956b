#!/usr/bin/env bash
# Installs the Debian packages Striate builds and tests with, when missing.
# Runs as root without sudo (CI, containers); a normal user needs sudo.
# Installs nothing, and needs no network, when everything is present.
set -euo pipefail

packages=(
  build-essential   # g++ (C++20), make
  cmake             # >= 3.25 (Debian 12's)
  ninja-build
  ccache            # cheap rebuilds; used automatically when present
  pkg-config
  libopenblas-dev   # CPU GEMM (optional: a built-in GEMM otherwise)
  libgtest-dev      # GoogleTest, the test framework
  googletest        # its sources, for machines without the -dev package
  zlib1g-dev        # gzip-compressed IDX datasets
  libpng-dev        # PNG images (ImageFolder, the plots of `striate train`)
  libjpeg-dev       # JPEG images (ImageFolder); libjpeg62-turbo on Debian 12
  libcli11-dev      # argument parsing of the `striate` command
  python3           # scripts/kernel-resources.py, the ptxas check of CUDA builds
  dataset-fashion-mnist  # the main job's data, /usr/share/datasets/fashion-mnist
)

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all packages present (${packages[*]})"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; please install the equivalents of: ${missing[*]}" >&2
  echo "install-deps: continuing; CMake's configure summary says what is missing" >&2
  exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}; run as root, or install sudo" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
apt_options=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" \
  install --no-install-recommends "${missing[@]}"
