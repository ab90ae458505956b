// How the row-wise kernels (softmax.cu, loss.cu) lay threads over a
// [outer, dim, inner] tensor: a warp or a block per contiguous row when
// inner == 1; otherwise a thread per (outer, inner) column, or `split`
// threads per column when there are too few columns to fill the GPU.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cuda/block_reduce.cuh"
#include "kernels/cuda/launch.cuh"

namespace striate::kernels::cuda::rows {

constexpr int64_t kWarpRowLimit = 1024;
// Kernels launched with this many threads declare __launch_bounds__(it, 1):
// without, nvcc may give a thread up to 255 registers, and a 512-thread block
// of those does not fit an SM's 64K (the launch would fail on the GPU only).
// The minimum of one block keeps ptxas from trading registers for occupancy
// (with the bound alone it spilled cross_entropy_rows_kernel<double>).
constexpr int kBlockRowThreads = 512;
constexpr int kMaxSplit = 32;
constexpr int64_t kTargetBlocks = 1024;  // a few waves of 256-thread blocks on a large GPU
constexpr int64_t kMaxGrid = 65535;

// The CPU's running maximum (`x > max ? x : max`): NaN never wins, so a
// slice holding NaN gets a NaN sum instead (and a NaN loss), as on the CPU.
struct RunningMax {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return b > a ? b : a; }
};

template <typename T>
__device__ __forceinline__ T neg_inf() {
  return -static_cast<T>(INFINITY);
}

// The threads that share one row: a warp (kWarp) or the whole block.
template <bool kWarp>
struct RowGroup {
  static __device__ __forceinline__ int lane() { return kWarp ? threadIdx.x % 32 : threadIdx.x; }
  static __device__ __forceinline__ int size() { return kWarp ? 32 : blockDim.x; }
  static __device__ __forceinline__ int64_t first() {
    return kWarp ? blockIdx.x * int64_t{blockDim.x / 32} + threadIdx.x / 32 : int64_t{blockIdx.x};
  }
  static __device__ __forceinline__ int64_t stride() {
    return kWarp ? int64_t{gridDim.x} * (blockDim.x / 32) : int64_t{gridDim.x};
  }
  // The fold of v over the group, in every thread of it.
  template <typename T, typename Op>
  static __device__ __forceinline__ T reduce(T v, Op op, T identity) {
    if constexpr (kWarp) return warp_reduce_all(v, op);
    else return block_reduce_all(v, op, identity);
  }
};

// The block viewed as [split][width]: thread (tx, ty) works on column tx of
// the block's current group, on the dim indices ty, ty + split, ...
struct ColumnTile {
  int split, width, tx, ty;

  __device__ explicit ColumnTile(int split_) : split(split_), width(blockDim.x / split_) {
    tx = threadIdx.x % width;
    ty = threadIdx.x / width;
  }

  // The fold of v over the threads of one column, in each of them. Every
  // thread of the block calls it (it synchronises when split > 1).
  template <typename T, typename Op>
  __device__ T fold(T v, Op op, T* shared) const {
    if (split == 1) return v;
    shared[ty * width + tx] = v;
    __syncthreads();
    if (ty == 0) {
      for (int j = 1; j < split; ++j) v = op(v, shared[j * width + tx]);
      shared[tx] = v;
    }
    __syncthreads();
    v = shared[tx];
    __syncthreads();  // the buffer is rewritten by the next fold
    return v;
  }
};

// ---- launching ---------------------------------------------------------------

inline unsigned capped_grid(int64_t blocks, int64_t cap = kMaxGrid) {
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks < cap ? blocks : cap));
}

// Threads per column for `columns` columns of `dim` elements: more while the
// grid would be small and every thread still gets a few elements.
inline int column_split(int64_t columns, int64_t dim) {
  int split = 1;
  while (split < kMaxSplit && dim >= 8 * split && (columns + kThreads / split - 1) / (kThreads / split) < kTargetBlocks)
    split *= 2;
  return split;
}

}  // namespace striate::kernels::cuda::rows
