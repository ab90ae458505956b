#!/usr/bin/env bash
# End to end: LeNet-5 on Fashion-MNIST, the same model, batch size, optimizer
# and thread count in Striate (`striate train`) and in PyTorch
# (benchmarks/lenet_torch.py, Debian's python3-torch), on this machine. Prints
# each epoch's training time and test accuracy side by side, and the ratio.
#
#   bash benchmarks/lenet_e2e.sh [EPOCHS] [THREADS]
#
# Needs a built `striate` command (STRIATE_BUILD_DIR, default build-release;
# scripts/demo.sh builds it) and /usr/share/datasets/fashion-mnist.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
epochs="${1:-2}"
threads="${2:-2}"
build="${STRIATE_BUILD_DIR:-$repo/build-release}"
striate="$build/tools/striate"
python="${PYTHON:-/usr/bin/python3}"
[[ -x "$striate" ]] || { echo "lenet_e2e: $striate not found; run scripts/demo.sh or build striate_cli" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "LeNet-5, Fashion-MNIST, batch 64, Adam 1e-3, $threads thread(s), $(nproc) cores: $(lscpu | sed -n 's/^Model name: *//p')"
# Striate: BLAS on $threads threads; data loading in the training thread, as
# the PyTorch script indexes tensors already in memory.
OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" "$striate" train --model lenet5 --dataset fashion-mnist \
  --epochs "$epochs" --batch-size 64 --optimizer adam --lr 1e-3 --seed 0 --workers 0 --no-progress \
  --out "$work/run" > "$work/striate.log"
OMP_NUM_THREADS="$threads" "$python" "$repo/benchmarks/lenet_torch.py" --epochs "$epochs" --threads "$threads" \
  > "$work/torch.csv"

# metrics.csv: epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,...
printf '%-6s %14s %14s %8s %16s %16s\n' epoch "striate (s)" "pytorch (s)" ratio "striate acc" "pytorch acc"
paste -d, <(tail -n +2 "$work/run/metrics.csv") "$work/torch.csv" | awk -F, '{
  s = $7; t = $11; printf "%-6d %14.2f %14.2f %8.2f %15.2f%% %15.2f%%\n", $1, s, t, s / t, 100 * $6, 100 * $12 }'
echo "ratio = Striate's epoch time / PyTorch's (below 1: Striate is faster)"
