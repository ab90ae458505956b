// Per-channel work over a contiguous [outer, channels, inner] block, shared
// by the normalisation and prelu kernels: index arithmetic for one thread per
// element, rounding-exact float arithmetic, and per-channel reductions.
//
// Reductions give the same bits on every run (no atomics):
// - inner > 1 (NCHW): a block per channel; its threads stride over the
//   channel's outer * inner values (runs of `inner` contiguous elements).
// - inner <= 1 ([N, C], ChannelsLast as [N*H*W, C, 1]): a block per tile of
//   `width` adjacent channels, its threads laid out width-by-rows, so that a
//   warp reads whole 32-byte sectors of each row; the row-threads of a
//   column then merge through shuffles and shared memory.
// With few channels that would leave most of the GPU idle (ResNet's stem:
// 64 channels of 400k values each), so each channel's values are split into
// up to kMaxSplits contiguous parts, one block each (blockIdx.y); the parts'
// partial results go to a scratch buffer and a second kernel merges them in
// order, one thread per channel.
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
// For sums of doubles (or pairs of them) SumDouble (SumPair) below supplies
// all but load and finish.

constexpr int kReduceThreads = 512;
constexpr int kUnroll = 4;  // values loaded before they are folded: loads in flight

// A sum of doubles, and two side by side: an Op's Value, Acc, push and
// merge when its load returns the terms.
struct SumDouble {
  using Value = double;
  using Acc = double;
  __device__ static void push(double& acc, const double (&v)[kUnroll], int count) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (u < count) acc += v[u];
  }
  __device__ static double identity() { return 0; }
  __device__ static double merge(double a, double b) { return a + b; }
  __device__ static double shfl_down(double v, int offset) { return __shfl_down_sync(0xffffffffu, v, offset); }
};

struct Pair {
  double a, b;
};

struct SumPair {
  using Value = Pair;
  using Acc = Pair;
  __device__ static void push(Pair& acc, const Pair (&v)[kUnroll], int count) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (u < count) acc.a += v[u].a, acc.b += v[u].b;
  }
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

// Part `part` of `parts` of [0, n): [n * part / parts, n * (part + 1) / parts).
struct Range {
  int64_t begin, end;
};
__device__ __forceinline__ Range part_of(int64_t n, int64_t part, int64_t parts) {
  return {n * part / parts, n * (part + 1) / parts};
}

// A channel's result: finished, or with several parts left in `partials`
// ([channels][parts]) for merge_parts_kernel.
template <typename Op>
__device__ __forceinline__ void finish_part(const Op& op, const typename Op::Acc& acc, int64_t c,
                                            typename Op::Acc* partials) {
  if (gridDim.y == 1)
    op.finish(acc, c);
  else
    partials[c * gridDim.y + blockIdx.y] = acc;
}

// inner > 1: a block per channel (and part). Each thread walks the part's
// elements k = begin + threadIdx.x, k + blockDim.x, ... as (o, i)
// coordinates, advanced without a division.
template <typename Op>
__global__ void __launch_bounds__(kReduceThreads)
    channel_blocks_kernel(Op op, ChannelShape s, typename Op::Acc* partials) {
  using Acc = typename Op::Acc;
  using Value = typename Op::Value;
  __shared__ Acc partial[kReduceThreads / 32];
  const int64_t step_o = blockDim.x / s.inner, step_i = blockDim.x % s.inner;
  const Range range = part_of(s.outer * s.inner, blockIdx.y, gridDim.y);
  for (int64_t c = blockIdx.x; c < s.channels; c += gridDim.x) {
    int64_t k = range.begin + threadIdx.x, o = k / s.inner, i = k % s.inner;
    Acc acc = Op::identity();
    while (k < range.end) {
      Value v[kUnroll];
      int count = 0;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (k < range.end) {
          v[u] = op.load((o * s.channels + c) * s.inner + i, o, c);
          count = u + 1;
          k += blockDim.x;
          o += step_o;
          i += step_i;
          if (i >= s.inner) i -= s.inner, ++o;
        }
      op.push(acc, v, count);
    }
    acc = block_merge<Op>(acc, partial);
    if (threadIdx.x == 0) finish_part(op, acc, c, partials);
  }
}

// inner <= 1: rows of `channels` contiguous values; a block per tile of
// `width` channels (a power of two up to 32) and part of the rows, thread t
// on channel t % width of the tile and rows begin + t / width, that plus
// blockDim.x / width, ...
template <typename Op>
__global__ void __launch_bounds__(kReduceThreads)
    channel_tiles_kernel(Op op, int64_t rows, int64_t channels, int width, typename Op::Acc* partials) {
  using Acc = typename Op::Acc;
  using Value = typename Op::Value;
  __shared__ Acc partial[kReduceThreads];  // [warp][width]
  const int column = threadIdx.x % width;
  const int64_t row_step = blockDim.x / width;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const Range range = part_of(rows, blockIdx.y, gridDim.y);
  for (int64_t tile = blockIdx.x; tile * width < channels; tile += gridDim.x) {
    const int64_t c = tile * width + column;
    Acc acc = Op::identity();
    if (c < channels)
      for (int64_t r = range.begin + threadIdx.x / width; r < range.end;) {
        Value v[kUnroll];
        int count = 0;
#pragma unroll
        for (int u = 0; u < kUnroll; ++u)
          if (r < range.end) {
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
      finish_part(op, total, c, partials);
    }
  }
}

// The second pass of a split reduction: channel c's parts merged in order.
template <typename Op>
__global__ void merge_parts_kernel(Op op, const typename Op::Acc* partials, int64_t channels, int64_t parts) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < channels; c += int64_t{gridDim.x} * blockDim.x) {
    typename Op::Acc acc = partials[c * parts];
    for (int64_t p = 1; p < parts; ++p) acc = Op::merge(acc, partials[c * parts + p]);
    op.finish(acc, c);
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

// Splitting: enough blocks to fill any GPU (4 of 512 threads per SM on 132
// SMs is 528), each with at least kMinPartLoads loads per thread.
constexpr int64_t kTargetBlocks = 1024;
constexpr int64_t kMaxSplits = 256;
constexpr int64_t kMinPartLoads = 4 * kUnroll;

// How many parts to split each channel into, given `blocks` blocks for the
// unsplit reduction and `per_thread` loads a thread would make in one of them.
inline int64_t parts_for(int64_t blocks, int64_t per_thread) {
  const int64_t wanted = (kTargetBlocks + blocks - 1) / blocks;
  return std::max<int64_t>(1, std::min({wanted, per_thread / kMinPartLoads, kMaxSplits}));
}

// Runs op over every channel of `s`; elem_size is the input's element size.
template <typename Op>
void reduce_channels(const Op& op, const ChannelShape& s, int elem_size, const char* name) {
  using Acc = typename Op::Acc;
  if (s.channels <= 0) return;
  const cudaStream_t stream = current_stream();
  const bool tiles = s.inner <= 1;
  const int64_t rows = tiles ? (s.inner == 1 ? s.outer : 0) : 0;
  const int width = tiles ? tile_width(s.channels, rows, elem_size) : 1;
  const int64_t blocks = tiles ? (s.channels + width - 1) / width : s.channels;
  const int64_t parts = tiles ? parts_for(blocks, rows / (kReduceThreads / width))
                              : parts_for(blocks, s.outer * s.inner / kReduceThreads);
  std::shared_ptr<Storage> partials;
  if (parts > 1) partials = scratch(static_cast<size_t>(s.channels * parts) * sizeof(Acc));
  Acc* partial_data = partials ? static_cast<Acc*>(partials->data()) : nullptr;
  const dim3 grid(capped_grid(blocks), static_cast<unsigned>(parts));
  if (tiles)
    launch_on(stream, name, channel_tiles_kernel<Op>, grid, kReduceThreads, 0, op, rows, s.channels, width,
              partial_data);
  else
    launch_on(stream, name, channel_blocks_kernel<Op>, grid, kReduceThreads, 0, op, s, partial_data);
  if (parts > 1)
    launch_on(stream, name, merge_parts_kernel<Op>, grid_for(s.channels), kThreads, 0, op,
              static_cast<const Acc*>(partial_data), s.channels, parts);
}

}  // namespace striate::kernels::cuda::channels
