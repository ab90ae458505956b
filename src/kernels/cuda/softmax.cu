// CUDA softmax and log-softmax over [outer, dim, inner] (kernels/softmax.h),
// forward and backward, f32 and f64, with the CPU's formulas
// (kernels/cpu/softmax.cpp): the maximum along dim is subtracted before exp,
// sums are kept in the tensor's type, log-softmax is (x - max) - log(sum),
// and an all -inf (or NaN-holding) slice gives NaN.
//
// Two shapes of work, as in reduce.cu.
//  - inner == 1: each slice is a contiguous row. A warp owns a row of up to
//    kWarpRowLimit elements (several rows per block, no shared memory), a
//    whole block a longer one. Three passes over the row: max, sum of exp,
//    write; the second and third reads come from cache.
//  - inner > 1: a thread owns one (outer, inner) column and walks dim at a
//    stride of `inner`, so consecutive threads read consecutive addresses.
//    When there are too few columns to fill the GPU, the block is viewed as
//    [split][columns]: `split` threads share each column's dim and combine
//    through shared memory.
#include <cmath>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/row_layout.cuh"
#include "kernels/softmax.h"

namespace striate::kernels::cuda {
namespace {

using namespace rows;  // the row and column layouts (row_layout.cuh)

// ---- forward -----------------------------------------------------------------

template <typename T, bool kWarp>
__global__ void __launch_bounds__(kBlockRowThreads, 1)
    softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t n, bool log_out) {
  using G = RowGroup<kWarp>;
  for (int64_t r = G::first(); r < rows; r += G::stride()) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T max = neg_inf<T>();
    for (int64_t j = G::lane(); j < n; j += G::size()) max = RunningMax{}(max, xr[j]);
    max = G::reduce(max, RunningMax{}, neg_inf<T>());
    T sum = 0;
    for (int64_t j = G::lane(); j < n; j += G::size()) sum += exp(xr[j] - max);
    sum = G::reduce(sum, SumOp{}, T(0));
    if (log_out) {
      const T log_sum = log(sum);
      for (int64_t j = G::lane(); j < n; j += G::size()) yr[j] = (xr[j] - max) - log_sum;
    } else {
      const T inv = T(1) / sum;
      for (int64_t j = G::lane(); j < n; j += G::size()) yr[j] = exp(xr[j] - max) * inv;
    }
  }
}

template <typename T>
__global__ void softmax_columns_kernel(const T* x, T* y, SoftmaxShape s, int split, bool log_out) {
  alignas(8) __shared__ unsigned char buffer[kThreads * sizeof(double)];
  T* shared = reinterpret_cast<T*>(buffer);
  const ColumnTile tile(split);
  const int64_t columns = s.outer * s.inner;
  for (int64_t group = blockIdx.x * int64_t{tile.width}; group < columns; group += int64_t{gridDim.x} * tile.width) {
    const int64_t k = group + tile.tx;
    const bool live = k < columns;
    const int64_t start = live ? (k / s.inner) * s.dim * s.inner + k % s.inner : 0;
    const T* xc = x + start;
    T* yc = y + start;
    const int64_t end = live ? s.dim : 0;
    T max = neg_inf<T>();
    for (int64_t d = tile.ty; d < end; d += split) max = RunningMax{}(max, xc[d * s.inner]);
    max = tile.fold(max, RunningMax{}, shared);
    T sum = 0;
    for (int64_t d = tile.ty; d < end; d += split) sum += exp(xc[d * s.inner] - max);
    sum = tile.fold(sum, SumOp{}, shared);
    if (log_out) {
      const T log_sum = log(sum);
      for (int64_t d = tile.ty; d < end; d += split) yc[d * s.inner] = (xc[d * s.inner] - max) - log_sum;
    } else {
      const T inv = T(1) / sum;
      for (int64_t d = tile.ty; d < end; d += split) yc[d * s.inner] = exp(xc[d * s.inner] - max) * inv;
    }
  }
}

// ---- backward ----------------------------------------------------------------
// softmax:     grad_in = y * (g - sum_dim(g * y))
// log_softmax: grad_in = g - exp(y) * sum_dim(g)

template <typename T, bool kWarp>
__global__ void __launch_bounds__(kBlockRowThreads, 1)
    softmax_backward_rows_kernel(const T* g, const T* y, T* gi, int64_t rows, int64_t n, bool log_out) {
  using G = RowGroup<kWarp>;
  for (int64_t r = G::first(); r < rows; r += G::stride()) {
    const T* gr = g + r * n;
    const T* yr = y + r * n;
    T* out = gi + r * n;
    T sum = 0;
    if (log_out)
      for (int64_t j = G::lane(); j < n; j += G::size()) sum += gr[j];
    else
      for (int64_t j = G::lane(); j < n; j += G::size()) sum += gr[j] * yr[j];
    sum = G::reduce(sum, SumOp{}, T(0));
    if (log_out)
      for (int64_t j = G::lane(); j < n; j += G::size()) out[j] = gr[j] - exp(yr[j]) * sum;
    else
      for (int64_t j = G::lane(); j < n; j += G::size()) out[j] = yr[j] * (gr[j] - sum);
  }
}

template <typename T>
__global__ void softmax_backward_columns_kernel(const T* g, const T* y, T* gi, SoftmaxShape s, int split,
                                                bool log_out) {
  alignas(8) __shared__ unsigned char buffer[kThreads * sizeof(double)];
  T* shared = reinterpret_cast<T*>(buffer);
  const ColumnTile tile(split);
  const int64_t columns = s.outer * s.inner;
  for (int64_t group = blockIdx.x * int64_t{tile.width}; group < columns; group += int64_t{gridDim.x} * tile.width) {
    const int64_t k = group + tile.tx;
    const bool live = k < columns;
    const int64_t start = live ? (k / s.inner) * s.dim * s.inner + k % s.inner : 0;
    const T* gc = g + start;
    const T* yc = y + start;
    T* out = gi + start;
    const int64_t end = live ? s.dim : 0;
    T sum = 0;
    if (log_out)
      for (int64_t d = tile.ty; d < end; d += split) sum += gc[d * s.inner];
    else
      for (int64_t d = tile.ty; d < end; d += split) sum += gc[d * s.inner] * yc[d * s.inner];
    sum = tile.fold(sum, SumOp{}, shared);
    if (log_out)
      for (int64_t d = tile.ty; d < end; d += split) out[d * s.inner] = gc[d * s.inner] - exp(yc[d * s.inner]) * sum;
    else
      for (int64_t d = tile.ty; d < end; d += split) out[d * s.inner] = yc[d * s.inner] * (gc[d * s.inner] - sum);
  }
}

}  // namespace

void softmax(const SoftmaxParams& p) {
  const SoftmaxShape s = p.shape;
  if (s.outer == 0 || s.dim == 0 || s.inner == 0) return;
  const cudaStream_t stream = current_stream();
  visit_f32_f64(p.dtype, "softmax", [&]<typename T>() {
    const T* x = static_cast<const T*>(p.input);
    T* y = static_cast<T*>(p.output);
    if (s.inner == 1 && s.dim <= kWarpRowLimit) {
      const int64_t rows_per_block = kThreads / 32;
      launch_on(stream, "softmax", softmax_rows_kernel<T, true>,
                capped_grid((s.outer + rows_per_block - 1) / rows_per_block), kThreads, 0, x, y, s.outer, s.dim, p.log);
    } else if (s.inner == 1) {
      launch_on(stream, "softmax", softmax_rows_kernel<T, false>, capped_grid(s.outer), kBlockRowThreads, 0, x, y,
                s.outer, s.dim, p.log);
    } else {
      const int split = column_split(s.outer * s.inner, s.dim);
      const int64_t width = kThreads / split;
      launch_on(stream, "softmax", softmax_columns_kernel<T>, capped_grid((s.outer * s.inner + width - 1) / width),
                kThreads, 0, x, y, s, split, p.log);
    }
  });
}

void softmax_backward(const SoftmaxBackwardParams& p) {
  const SoftmaxShape s = p.shape;
  if (s.outer == 0 || s.dim == 0 || s.inner == 0) return;
  const cudaStream_t stream = current_stream();
  visit_f32_f64(p.dtype, "softmax backward", [&]<typename T>() {
    const T* g = static_cast<const T*>(p.grad_out);
    const T* y = static_cast<const T*>(p.output);
    T* gi = static_cast<T*>(p.grad_input);
    if (s.inner == 1 && s.dim <= kWarpRowLimit) {
      const int64_t rows_per_block = kThreads / 32;
      launch_on(stream, "softmax backward", softmax_backward_rows_kernel<T, true>,
                capped_grid((s.outer + rows_per_block - 1) / rows_per_block), kThreads, 0, g, y, gi, s.outer, s.dim,
                p.log);
    } else if (s.inner == 1) {
      launch_on(stream, "softmax backward", softmax_backward_rows_kernel<T, false>, capped_grid(s.outer),
                kBlockRowThreads, 0, g, y, gi, s.outer, s.dim, p.log);
    } else {
      const int split = column_split(s.outer * s.inner, s.dim);
      const int64_t width = kThreads / split;
      launch_on(stream, "softmax backward", softmax_backward_columns_kernel<T>,
                capped_grid((s.outer * s.inner + width - 1) / width), kThreads, 0, g, y, gi, s, split, p.log);
    }
  });
}

}  // namespace striate::kernels::cuda
