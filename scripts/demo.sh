#!/usr/bin/env bash
# The main job: installs what is missing (Fashion-MNIST included), builds
# Striate (Release; CUDA when nvcc is found) and trains LeNet-5 on
# Fashion-MNIST on the CPU with the `striate` command:
#
#   striate train --model lenet5 --dataset fashion-mnist --epochs 10 \
#       --batch-size 64 --optimizer adam --lr 1e-3 --device cpu --seed 0 --out runs/lenet5-fashion-mnist
#
# Extra arguments are passed on to `striate train` (e.g. --epochs 1, or
# --out elsewhere). The run folder gets metrics.csv, the learning curves and
# the first layer's filters as PNG, and a checkpoint. Knobs: scripts/common.sh.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_deps
mapfile -t main_args < <(main_configure_args)
log "configure ($STRIATE_BUILD_DIR)"
configure "$STRIATE_BUILD_DIR" "${main_args[@]}" -DSTRIATE_BUILD_TOOLS=ON
log "build the striate command"
cmake --build "$STRIATE_BUILD_DIR" --parallel "$STRIATE_JOBS" --target striate_cli
if [[ ! -x "$STRIATE_BUILD_DIR/tools/striate" ]]; then
  echo "demo: the striate command was not built (is libcli11-dev installed? see the configure summary)" >&2
  exit 1
fi
log "train LeNet-5 on Fashion-MNIST"
"$STRIATE_BUILD_DIR/tools/striate" train --model lenet5 --dataset fashion-mnist --epochs 10 --batch-size 64 \
  --optimizer adam --lr 1e-3 --device cpu --seed 0 --out runs/lenet5-fashion-mnist --force "$@"
