// Per-channel work over a contiguous [outer, channels, inner] block, shared
// by the normalisation and prelu kernels: index arithmetic for one thread per
// element, rounding-exact float arithmetic, and per-channel reductions.
//
// Reductions finish each channel inside one block, so they need no scratch
// memory and give the same bits on every run:
// - inner > 1 (NCHW): a block per channel; its threads stride over the
//   channel's outer * inner values (runs of `inner` contiguous elements).
// - inner <= 1 ([N, C], ChannelsLast as [N*H*W, C, 1]): a block per tile of
//   `width` adjacent channels, its threads laid out width-by-rows, so that a
//   warp reads whole 32-byte sectors of each row; the row-threads of a
//   column then merge through shuffles and shared memory.
// With few channels either leaves most of the GPU idle (a channel's values
// are never split across blocks): a split pass with a workspace is the next
// step there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/normalization.h"

namespace striate::kernels::cuda::channels {

// ---- arithmetic rounded like the CPU's -----------------------------------------
//
// nvcc contracts a * b + c into one fused multiply-add, the CPU build does
// not; an elementwise formula written with these rounds each step as the CPU
// does, so the GPU gives the CPU's bits (a fused result near a cancellation
// would differ from the CPU's by far more than the test tolerances).

template <typename T>
__device__ __forceinline__ T add_rn(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fadd_rn(a, b);
  else return __dadd_rn(a, b);
}
template <typename T>
__device__ __forceinline__ T sub_rn(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fsub_rn(a, b);
  else return __dsub_rn(a, b);
}
template <typename T>
__device__ __forceinline__ T mul_rn(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fmul_rn(a, b);
  else return __dmul_rn(a, b);
}
template <typename T>
__device__ __forceinline__ T div_rn(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return __fdiv_rn(a, b);
  else return __ddiv_rn(a, b);
}
template <typename T>
__device__ __forceinline__ T sqrt_rn(T a) {
  if constexpr (std::is_same_v<T, float>) return __fsqrt_rn(a);
  else return __dsqrt_rn(a);
}

// ---- index arithmetic ---------------------------------------------------------------

// n / d by a multiply and a shift (PyTorch's IntDivider), exact for n, d < 2^31.
struct Div32 {
  uint32_t d = 1, magic = 1, shift = 0;
  Div32() = default;
  explicit Div32(uint32_t divisor) : d(divisor) {
    while (shift < 32 && (uint32_t{1} << shift) < d) ++shift;
    const uint64_t one = 1;
    magic = static_cast<uint32_t>(((one << 32) * ((one << shift) - d)) / d + 1);
  }
  __device__ __forceinline__ uint32_t div(uint32_t n) const { return (__umulhi(n, magic) + n) >> shift; }
};

struct Div64 {
  int64_t d = 1;
  Div64() = default;
  explicit Div64(int64_t divisor) : d(divisor) {}
  __device__ __forceinline__ int64_t div(int64_t n) const { return n / d; }
};

// Splits a linear element index into (outer, channel, inner) coordinates;
// Index is uint32_t when every index fits in 31 bits (the fast divider), else int64_t.
template <typename Index>
struct ChannelIndexer {
  using Div = std::conditional_t<std::is_same_v<Index, uint32_t>, Div32, Div64>;
  Div by_inner, by_channels;
  Index inner = 1, channels = 1;

  ChannelIndexer() = default;
  explicit ChannelIndexer(const ChannelShape& s)
      : by_inner(static_cast<Index>(s.inner)), by_channels(static_cast<Index>(s.channels)),
        inner(static_cast<Index>(s.inner)), channels(static_cast<Index>(s.channels)) {}

  __device__ __forceinline__ Index channel(Index e) const {
    const Index q = by_inner.div(e);
    return q - by_channels.div(q) * channels;
  }
  __device__ __forceinline__ void split(Index e, Index& o, Index& c, Index& i) const {
    const Index q = by_inner.div(e);
    i = e - q * inner;
    o = by_channels.div(q);
    c = q - o * channels;
  }
};

// Calls launch.template operator()<Index>() with the narrowest index type that
// holds every element index of `shape` (the sizes must be positive).
template <typename F>
void visit_index(const ChannelShape& s, F&& launch) {
  constexpr int64_t kMax32 = std::numeric_limits<int32_t>::max();
  const bool small = s.outer <= kMax32 && s.channels <= kMax32 && s.inner <= kMax32 &&
                     s.outer * s.channels <= kMax32 && s.outer * s.channels * s.inner <= kMax32;
  if (small) launch.template operator()<uint32_t>();
  else launch.template operator()<int64_t>();
}

// Grid-stride loop over [0, n) for an elementwise kernel.
template <typename Index>
__device__ __forceinline__ Index first_index() {
  return static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) + static_cast<Index>(threadIdx.x);
}
template <typename Index>
__device__ __forceinline__ Index grid_stride() {
  return static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
}

// ---- per-channel reductions -------------------------------------------------------------
//
// An Op describes one reduction:
//   using Value = ...; using Acc = ...;  (Acc: a trivial struct or a double)
//   __device__ Value load(int64_t offset, int64_t outer_index, int64_t channel) const;
//   __device__ void push(Acc&, const Value (&)[kUnroll], int count) const;
//   __device__ static Acc identity();
//   __device__ static Acc merge(Acc, Acc);      // associative, as the tree needs
//   __device__ static Acc shfl_down(Acc, int);  // __shfl_down_sync of each field
//   __device__ void finish(const Acc&, int64_t channel) const;  // writes channel's result

constexpr int kReduceThreads = 512;
constexpr int kUnroll = 4;  // values loaded before they are folded: loads in flight

// A sum of doubles, and two side by side.
struct SumDouble {
  __device__ static double identity() { return 0; }
  __device__ static double merge(double a, double b) { return a + b; }
  __device__ static double shfl_down(double v, int offset) { return __shfl_down_sync(0xffffffffu, v, offset); }
};

struct Pair {
  double a, b;
};

struct SumPair {
  __device__ static Pair identity() { return {0, 0}; }
  __device__ static Pair merge(Pair x, Pair y) { return {x.a + y.a, x.b + y.b}; }
  __device__ static Pair shfl_down(Pair v, int offset) {
    return {__shfl_down_sync(0xffffffffu, v.a, offset), __shfl_down_sync(0xffffffffu, v.b, offset)};
  }
};

// The fold of acc over the block, valid in thread 0; `partial` holds blockDim.x / 32 entries.
template <typename Op, typename Acc>
__device__ Acc block_merge(Acc acc, Acc* partial) {
  for (int offset = 16; offset > 0; offset /= 2) acc = Op::merge(acc, Op::shfl_down(acc, offset));
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads();  // partial may still be read for the previous channel
  if (lane == 0) partial[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : Op::identity();
    for (int offset = 16; offset > 0; offset /= 2) acc = Op::merge(acc, Op::shfl_down(acc, offset));
  }
  return acc;
}

// inner > 1: a block per channel. Each thread walks the channel's elements
// k = threadIdx.x, threadIdx.x + blockDim.x, ... as (o, i) coordinates,
// advanced without a division.
template <typename Op>
__global__ void __launch_bounds__(kReduceThreads) channel_blocks_kernel(Op op, ChannelShape s) {
  using Acc = typename Op::Acc;
  using Value = typename Op::Value;
  __shared__ Acc partial[kReduceThreads / 32];
  const int64_t step_o = blockDim.x / s.inner, step_i = blockDim.x % s.inner;
  for (int64_t c = blockIdx.x; c < s.channels; c += gridDim.x) {
    int64_t o = threadIdx.x / s.inner, i = threadIdx.x % s.inner;
    Acc acc = Op::identity();
    while (o < s.outer) {
      Value v[kUnroll];
      int count = 0;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (o < s.outer) {
          v[u] = op.load((o * s.channels + c) * s.inner + i, o, c);
          count = u + 1;
          o += step_o;
          i += step_i;
          if (i >= s.inner) i -= s.inner, ++o;
        }
      op.push(acc, v, count);
    }
    acc = block_merge<Op>(acc, partial);
    if (threadIdx.x == 0) op.finish(acc, c);
  }
}

// inner <= 1: rows of `channels` contiguous values; a block per tile of
// `width` channels (a power of two up to 32), thread t on channel
// t % width of the tile and rows t / width, t / width + blockDim.x / width, ...
template <typename Op>
__global__ void __launch_bounds__(kReduceThreads) channel_tiles_kernel(Op op, int64_t rows, int64_t channels,
                                                                        int width) {
  using Acc = typename Op::Acc;
  using Value = typename Op::Value;
  __shared__ Acc partial[kReduceThreads];  // [warp][width]
  const int column = threadIdx.x % width;
  const int64_t row_step = blockDim.x / width;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  for (int64_t tile = blockIdx.x; tile * width < channels; tile += gridDim.x) {
    const int64_t c = tile * width + column;
    Acc acc = Op::identity();
    if (c < channels)
      for (int64_t r = threadIdx.x / width; r < rows;) {
        Value v[kUnroll];
        int count = 0;
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
          if (r < rows) {
            v[u] = op.load(r * channels + c, r, c);
            count = u + 1;
            r += row_step;
          }
        op.push(acc, v, count);
      }
    // Lanes width apart share a column: fold them, then the warps.
    for (int offset = 16; offset >= width; offset /= 2) acc = Op::merge(acc, Op::shfl_down(acc, offset));
    __syncthreads();  // partial may still be read for the previous tile
    if (lane < width) partial[warp * width + lane] = acc;
    __syncthreads();
    if (static_cast<int>(threadIdx.x) < width && c < channels) {
      Acc total = partial[threadIdx.x];
      for (int w = 1; w < warps; ++w) total = Op::merge(total, partial[w * width + threadIdx.x]);
      op.finish(total, c);
    }
  }
}

inline unsigned capped_grid(int64_t blocks) {
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

// The tile width for rows of `channels` values of `elem_size` bytes: a
// 32-byte sector of each row per warp (more tiles, so more blocks busy), wider
// when there are too few rows to occupy the block's row-threads.
inline int tile_width(int64_t channels, int64_t rows, int elem_size) {
  int full = 1;
  while (full < 32 && full < channels) full *= 2;
  int width = std::min(full, std::max(1, 32 / elem_size));
  while (width < full && kReduceThreads / width > rows) width *= 2;
  return width;
}

// Runs op over every channel of `s`; elem_size is the input's element size.
template <typename Op>
void reduce_channels(const Op& op, const ChannelShape& s, int elem_size, const char* name) {
  if (s.channels <= 0) return;
  const cudaStream_t stream = current_stream();
  if (s.inner <= 1) {
    const int64_t rows = s.inner == 1 ? s.outer : 0;
    const int width = tile_width(s.channels, rows, elem_size);
    const unsigned grid = capped_grid((s.channels + width - 1) / width);
    launch_on(stream, name, channel_tiles_kernel<Op>, grid, kReduceThreads, 0, op, rows, s.channels, width);
  } else {
    launch_on(stream, name, channel_blocks_kernel<Op>, capped_grid(s.channels), kReduceThreads, 0, op, s);
  }
}

}  // namespace striate::kernels::cuda::channels
