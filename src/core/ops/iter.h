// Building kernel Loops from tensors: broadcasting every input to the output
// shape (stride 0 where it repeats) and merging dims that are contiguous in
// every operand, so kernels see as few, as long, runs as possible.
#pragma once

#include <algorithm>
#include <array>

#include "kernels/cpu/loop.h"
#include "striate/core/tensor.h"

namespace striate::ops {

// Strides of `t` (in elements) as seen when broadcast to `shape`.
Shape broadcast_strides(const Tensor& t, const Shape& shape, const char* op);

template <int N>
kernels::Loop<N> make_loop(const std::array<const Tensor*, N>& operands, const Shape& shape, const char* op) {
  kernels::Loop<N> loop;
  STRIATE_CHECK(static_cast<int>(shape.size()) <= kMaxDims, ShapeError, op, ": tensors of more than ",
                kMaxDims, " dims are not supported, got ", shape.size());
  Shape strides[N];
  for (int k = 0; k < N; ++k) {
    strides[k] = broadcast_strides(*operands[k], shape, op);
    const int64_t es = static_cast<int64_t>(operands[k]->element_size());
    for (auto& s : strides[k]) s *= es;
    loop.data[k] = static_cast<char*>(operands[k]->data_ptr());
  }
  // Visit dims outermost-first in the output's memory order (by decreasing
  // stride), so an NHWC output walks C fastest and merges into long runs as
  // an NCHW one does. Ties keep their logical order.
  int order[kMaxDims];
  const int rank = static_cast<int>(shape.size());
  for (int d = 0; d < rank; ++d) order[d] = d;
  std::stable_sort(order, order + rank, [&](int x, int y) { return strides[0][x] > strides[0][y]; });
  // Drop size-1 dims, then merge dim d into the run before it when every
  // operand steps across d exactly as one row of the previous dim.
  int nd = 0;
  for (int i = 0; i < rank; ++i) {
    const int d = order[i];
    if (shape[d] == 1) continue;
    if (nd > 0) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k)
        mergeable &= loop.strides[k][nd - 1] == strides[k][d] * shape[d];
      if (mergeable) {
        loop.sizes[nd - 1] *= shape[d];
        for (int k = 0; k < N; ++k) loop.strides[k][nd - 1] = strides[k][d];
        continue;
      }
    }
    loop.sizes[nd] = shape[d];
    for (int k = 0; k < N; ++k) loop.strides[k][nd] = strides[k][d];
    ++nd;
  }
  loop.ndim = nd;
  return loop;
}

}  // namespace striate::ops
