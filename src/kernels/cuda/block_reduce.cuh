// Warp- and block-wide reductions shared by the CUDA kernel files: each
// folds one value per thread into a result valid in thread 0 (block_*) or in
// every lane (warp_*_all). blockDim.x must be a multiple of 32, at most 1024.
#pragma once

#include <cuda_runtime.h>

#include <type_traits>

namespace striate::kernels::cuda {

template <typename T>
__device__ __forceinline__ T shfl_down(T v, int offset) {
  if constexpr (sizeof(T) < 4) return static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), offset));
  else return __shfl_down_sync(0xffffffffu, v, offset);
}

struct SumOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

// NaN wins, as in the CPU's max.
struct MaxOp {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return (a != a || a > b) ? a : b; }
};

// The fold of v over the warp, in every lane (butterfly exchange).
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce_all(T v, Op op) {
  for (int offset = 16; offset > 0; offset /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// The fold of v over the block, in every thread. `identity` fills the lanes
// of missing warps. Safe to call repeatedly: it synchronises before reusing
// its shared buffer.
template <typename T, typename Op>
__device__ T block_reduce_all(T v, Op op, T identity) {
  alignas(8) __shared__ unsigned char buffer[33 * 8];
  T* partial = reinterpret_cast<T*>(buffer);
  v = warp_reduce_all(v, op);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : identity;
    w = warp_reduce_all(w, op);
    if (lane == 0) partial[32] = w;
  }
  __syncthreads();
  return partial[32];
}

// The sum over the block, valid in thread 0 (cheaper than block_reduce_all).
template <typename Acc>
__device__ Acc block_sum(Acc v) {
  alignas(8) __shared__ unsigned char buffer[32 * 8];
  Acc* warp_sums = reinterpret_cast<Acc*>(buffer);
  for (int offset = 16; offset > 0; offset /= 2) v += shfl_down(v, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // the buffer may still be read by an earlier call
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = lane < static_cast<int>(blockDim.x / 32) ? warp_sums[lane] : Acc(0);
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) v += shfl_down(v, offset);
  return v;
}

}  // namespace striate::kernels::cuda
