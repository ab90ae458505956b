#!/usr/bin/env bash
# The main job: installs what is missing, builds Striate (Release; CUDA when
# nvcc is found) and runs the demo, python_free_examples/hello_tensor.cpp.
# (Once training lands, this trains a small CNN instead.) Knobs: scripts/common.sh.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_deps
mapfile -t main_args < <(main_configure_args)
log "configure ($STRIATE_BUILD_DIR)"
configure "$STRIATE_BUILD_DIR" "${main_args[@]}" -DSTRIATE_BUILD_EXAMPLES=ON
log "build hello_tensor"
cmake --build "$STRIATE_BUILD_DIR" --parallel "$STRIATE_JOBS" --target hello_tensor
log "run hello_tensor"
"$STRIATE_BUILD_DIR/python_free_examples/hello_tensor"
