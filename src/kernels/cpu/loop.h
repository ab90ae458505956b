// Walking N strided operands together over one shape: the engine behind every
// CPU elementwise kernel.
//
// Strides are in bytes, so one loop serves operands of different dtypes. The
// op layer coalesces dims before building a Loop (see core/ops/iter.h), so
// contiguous tensors arrive as a single long inner dim that the compiler
// vectorises.
#pragma once

#include <cstdint>

#include "striate/core/shape.h"

namespace striate::kernels {

template <int N>
struct Loop {
  int ndim = 0;                       // 0: a single element
  int64_t sizes[kMaxDims] = {};       // outermost first
  int64_t strides[N][kMaxDims] = {};  // bytes, per operand
  char* data[N] = {};                 // operand 0 is the output by convention

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }
};

namespace cpu {

// Calls inner(ptrs, strides_of_inner_dim, length) for each run along the
// innermost dim; ptrs point at the run's first element of each operand.
template <int N, typename Inner>
void for_each_run(const Loop<N>& loop, Inner&& inner) {
  char* ptrs[N];
  int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) ptrs[k] = loop.data[k];
  if (loop.ndim == 0) {
    for (int k = 0; k < N; ++k) inner_strides[k] = 0;
    inner(ptrs, inner_strides, int64_t{1});
    return;
  }
  const int last = loop.ndim - 1;
  const int64_t len = loop.sizes[last];
  for (int k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][last];
  for (int d = 0; d < loop.ndim; ++d)
    if (loop.sizes[d] == 0) return;
  int64_t index[kMaxDims] = {};
  while (true) {
    inner(ptrs, inner_strides, len);
    // Odometer increment over the outer dims.
    int d = last - 1;
    for (; d >= 0; --d) {
      for (int k = 0; k < N; ++k) ptrs[k] += loop.strides[k][d];
      if (++index[d] < loop.sizes[d]) break;
      for (int k = 0; k < N; ++k) ptrs[k] -= loop.strides[k][d] * loop.sizes[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// Calls f(ptrs) once per element.
template <int N, typename F>
void for_each_element(const Loop<N>& loop, F&& f) {
  for_each_run(loop, [&](char** base, const int64_t* strides, int64_t len) {
    char* p[N];
    for (int k = 0; k < N; ++k) p[k] = base[k];
    for (int64_t i = 0; i < len; ++i) {
      f(p);
      for (int k = 0; k < N; ++k) p[k] += strides[k];
    }
  });
}

}  // namespace cpu
}  // namespace striate::kernels
