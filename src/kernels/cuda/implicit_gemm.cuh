// A tiled GEMM whose operands are computed, not stored: C[m, n] = sum_k
// A(m, k) B(k, n), where a Problem says how to read A and B at (row, k) and
// how to write C. The convolutions (conv_implicit_gemm.cu) are such GEMMs
// over the virtual im2col matrix, so they need no column buffer.
//
// The classic shape: a block computes a BM x BN tile of C, staging BK-deep
// slices of A and B in shared memory, two buffers each so that the next
// slice's global reads overlap the current one's multiply. A Math policy
// multiplies the slices, either FMA by FMA in per-thread micro-tiles or on
// TF32 tensor cores by warps (WarpMmaTf32Math, for f32 where allow_tf32
// permits), and owns the slices' shared layout. blockIdx.z
// enumerates (group, split): independent GEMMs (channel groups) and slices
// of K (split-K; the Problem then accumulates into C).
//
// A Problem provides
//   using T;  int M, N, K;
//   static constexpr bool kAFastK, kBFastK;   // stage along k (reads along k coalesce) or along rows
//   ACtx a_row(int group, int m) const;  T a(const ACtx&, int k) const;
//   BCtx b_col(int group, int n) const;  T b(const BCtx&, int k) const;
//   void store(int group, int m, int n, T value) const;
// The per-row contexts (base pointers, decoded coordinates) are computed
// once per thread; a(), b() are called only for m < M, n < N, k < K.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/mma.cuh"

namespace striate::kernels::cuda {

// N consecutive shared elements, as one 8- or 16-byte read where the type allows.
template <int N, typename A>
__device__ __forceinline__ void load_fragment(const A* src, A* dst) {
  if constexpr (std::is_same_v<A, float> && N == 4) {
    const float4 v = *reinterpret_cast<const float4*>(src);
    dst[0] = v.x, dst[1] = v.y, dst[2] = v.z, dst[3] = v.w;
  } else if constexpr (std::is_same_v<A, float> && N == 2) {
    const float2 v = *reinterpret_cast<const float2*>(src);
    dst[0] = v.x, dst[1] = v.y;
  } else if constexpr (std::is_same_v<A, double> && N == 2) {
    const double2 v = *reinterpret_cast<const double2*>(src);
    dst[0] = v.x, dst[1] = v.y;
  } else {
#pragma unroll
    for (int i = 0; i < N; ++i) dst[i] = src[i];
  }
}

// A thread's micro-tile rows are two runs of MICRO/2, half a tile apart (and
// its columns likewise): the quarter-warps then read contiguous 128-byte
// spans of each shared row, conflict-free, and the C stores of a warp are
// contiguous.
template <int TILE, int MICRO>
__device__ __forceinline__ int fragment_index(int thread, int i) {
  return (i < MICRO / 2 ? 0 : TILE / 2) + thread * (MICRO / 2) + i % (MICRO / 2);
}

// How a block multiplies its staged slices. A slice is a [BK][rows + kPad]
// array; column(k, row) says where row `row` of k lane `k` sits in it.
//
// A Math names the tile it computes (T, BM x BN) and its thread count;
// TileShape adds the depth of a slice.
//
// FMA math: each thread keeps a TM x TN micro-tile laid out by
// fragment_index, read from shared memory in runs of 8 or 16 bytes.
template <typename T_, int BM_, int BN_, int TM, int TN>
struct ThreadTileMath {
  using T = T_;
  static constexpr int BM = BM_, BN = BN_;
  static constexpr int kThreads = (BM / TM) * (BN / TN), kMicroM = TM, kMicroN = TN;
  // 16 bytes of padding per row: fast-k stores spread over all banks, and
  // rows stay 16-byte aligned for the fragment reads.
  static constexpr int kPad = 16 / static_cast<int>(sizeof(T));
  static_assert(TM % 2 == 0 && TN % 2 == 0, "a micro-tile is two runs per dimension");
  struct Acc {
    T v[TM][TN];
  };
  __device__ static T stage(T v) { return v; }
  __device__ static int column(int /*k*/, int row) { return row; }

  template <int BK, int LDA, int LDB>
  __device__ static void multiply(Acc& acc, const T (&a)[BK][LDA], const T (&b)[BK][LDB], int tid) {
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      T a_frag[TM], b_frag[TN];
      load_fragment<TM / 2>(&a[kk][ty * (TM / 2)], a_frag);
      load_fragment<TM / 2>(&a[kk][BM / 2 + ty * (TM / 2)], a_frag + TM / 2);
      load_fragment<TN / 2>(&b[kk][tx * (TN / 2)], b_frag);
      load_fragment<TN / 2>(&b[kk][BN / 2 + tx * (TN / 2)], b_frag + TN / 2);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc.v[i][j] += a_frag[i] * b_frag[j];
    }
  }

  // store(row, column, value) for each accumulator, in the tile's coordinates.
  template <typename Store>
  __device__ static void for_each(const Acc& acc, int tid, Store&& store) {
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
      for (int j = 0; j < TN; ++j) store(fragment_index<BM, TM>(ty, i), fragment_index<BN, TN>(tx, j), acc.v[i][j]);
  }
};

// TF32 tensor-core math (mma.cuh): each warp computes a WM x WN part of the
// tile as (WM/16) x (WN/8) mma.sync steps per 8 of k. Operands are rounded
// to TF32 as they are staged, once per element rather than per fragment.
template <int BM_, int BN_, int WM, int WN>
struct WarpMmaTf32Math {
  using T = float;
  static constexpr int BM = BM_, BN = BN_;
  static constexpr int kWarpsN = BN / WN, kThreads = (BM / WM) * kWarpsN * 32;
  static constexpr int MI = WM / 16, NI = WN / 8;
  // Shared layout. Rows are 8 floats (8 banks) apart, so a fragment's 32
  // reads (4 k lanes x 8 rows) land in 32 banks. A fast-k stage writes 16 k
  // lanes x 2 rows per warp, which that padding alone folds onto 8 banks;
  // XOR-ing bits 1-2 of the row with k / 4 spreads them over all 32. The
  // swizzle is constant over each group of 4 k lanes, so fragment reads stay
  // conflict-free, and it stays within an aligned run of 8 rows.
  static constexpr int kPad = 8;
  __device__ static int swizzle(int k) { return ((k >> 2) & 3) << 1; }
  __device__ static int column(int k, int row) { return row ^ swizzle(k); }
  static_assert(WM % 16 == 0 && WN % 8 == 0 && BM % WM == 0 && BN % WN == 0, "warp tile does not divide the block");
  struct Acc {
    float v[MI][NI][4];
  };
  __device__ static float stage(float v) { return to_tf32(v); }

  struct Lane {
    int wm, wn, g, t;  // the warp's corner in the tile; the lane's group and place in it
  };
  __device__ static Lane lane_of(int tid) {
    const int warp = tid / 32, lane = tid % 32;
    return {(warp / kWarpsN) * WM, (warp % kWarpsN) * WN, lane / 4, lane % 4};
  }

  template <int BK, int LDA, int LDB>
  __device__ static void multiply(Acc& acc, const float (&a)[BK][LDA], const float (&b)[BK][LDB], int tid) {
    static_assert(BK % 8 == 0, "the MMA steps through k by 8");
    const Lane l = lane_of(tid);
#pragma unroll
    for (int kk = 0; kk < BK; kk += 8) {
      const int lo = kk + l.t, hi = kk + 4 + l.t, s_lo = swizzle(kk), s_hi = swizzle(kk + 4);
      float a_frag[MI][4], b_frag[NI][2];
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        const int row = l.wm + i * 16 + l.g;
        a_frag[i][0] = a[lo][row ^ s_lo];
        a_frag[i][1] = a[lo][(row + 8) ^ s_lo];
        a_frag[i][2] = a[hi][row ^ s_hi];
        a_frag[i][3] = a[hi][(row + 8) ^ s_hi];
      }
#pragma unroll
      for (int j = 0; j < NI; ++j) {
        const int column = l.wn + j * 8 + l.g;
        b_frag[j][0] = b[lo][column ^ s_lo];
        b_frag[j][1] = b[hi][column ^ s_hi];
      }
#pragma unroll
      for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < NI; ++j) mma_tf32_m16n8k8(acc.v[i][j], a_frag[i], b_frag[j]);
    }
  }

  template <typename Store>
  __device__ static void for_each(const Acc& acc, int tid, Store&& store) {
    const Lane l = lane_of(tid);
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int j = 0; j < NI; ++j)
#pragma unroll
        for (int r = 0; r < 4; ++r)
          store(l.wm + i * 16 + l.g + (r >= 2 ? 8 : 0), l.wn + j * 8 + 2 * l.t + (r & 1), acc.v[i][j][r]);
  }
};

template <int BK_, typename Math_>
struct TileShape {
  using Math = Math_;
  using T = typename Math::T;
  static constexpr int BM = Math::BM, BN = Math::BN, BK = BK_;
  static constexpr int kThreads = Math::kThreads;
  static_assert(kThreads % BM == 0 && kThreads % BN == 0 && kThreads % BK == 0, "tile does not divide the block");
};

// 128x128x8 with 8x8 per thread (256 threads) for f32; 64x64x8, 4x4 for f64;
// TF32: 128x128x16, eight warps of 64x32. The f32 and TF32 tiles come with
// half-height (ShortM) and half-width (ShortN) variants for GEMMs of at most
// 64 rows or columns, where the square tile would spend half its work on
// padding (tile_for picks).
using FloatTile = TileShape<8, ThreadTileMath<float, 128, 128, 8, 8>>;
using FloatTileShortM = TileShape<8, ThreadTileMath<float, 64, 128, 4, 8>>;
using FloatTileShortN = TileShape<8, ThreadTileMath<float, 128, 64, 8, 4>>;
using DoubleTile = TileShape<8, ThreadTileMath<double, 64, 64, 4, 4>>;
using Tf32Tile = TileShape<16, WarpMmaTf32Math<128, 128, 64, 32>>;
using Tf32TileShortM = TileShape<16, WarpMmaTf32Math<64, 128, 32, 32>>;
using Tf32TileShortN = TileShape<16, WarpMmaTf32Math<128, 64, 32, 32>>;
template <typename Square, typename ShortM, typename ShortN>
struct TileFamily {};
using FloatTiles = TileFamily<FloatTile, FloatTileShortM, FloatTileShortN>;
using Tf32Tiles = TileFamily<Tf32Tile, Tf32TileShortM, Tf32TileShortN>;

// Calls f.template operator()<Shape>() with the family's tile for an m x n GEMM.
template <typename Square, typename ShortM, typename ShortN, typename F>
void tile_for(TileFamily<Square, ShortM, ShortN>, int64_t m, int64_t n, F&& f) {
  if (m <= ShortM::BM) f.template operator()<ShortM>();
  else if (n <= ShortN::BN) f.template operator()<ShortN>();
  else f.template operator()<Square>();
}

// Stages one operand's BK x ROWS slice into shared memory. Fast-k: each
// thread keeps one k lane and several rows; otherwise one row, several k.
template <int ROWS, int BK, int NT, bool FAST_K>
struct Stager {
  static constexpr int kPerThread = ROWS * BK / NT;
  static constexpr int kContexts = FAST_K ? kPerThread : 1;

  __device__ static int row(int tid, int i) { return FAST_K ? tid / BK + i * (NT / BK) : tid % ROWS; }
  __device__ static int k_lane(int tid, int i) { return FAST_K ? tid % BK : tid / ROWS + i * (NT / ROWS); }
};

template <typename Shape, typename Problem>
__global__ void __launch_bounds__(Shape::kThreads)
    implicit_gemm_kernel(const Problem p, int k_chunk, int splits) {
  using T = typename Shape::T;
  using Math = typename Shape::Math;
  constexpr int BM = Shape::BM, BN = Shape::BN, BK = Shape::BK;
  constexpr int NT = Shape::kThreads, kPad = Math::kPad;
  using SA = Stager<BM, BK, NT, Problem::kAFastK>;
  using SB = Stager<BN, BK, NT, Problem::kBFastK>;

  // Two buffers per operand: while the block multiplies one slice, each
  // thread holds its part of the next in registers (loads in flight), then
  // writes it to the other buffer. The barrier ending each step separates a
  // buffer's reads from its next writes, so one barrier per slice suffices.
  __shared__ __align__(16) T a_tile[2][BK][BM + kPad];
  __shared__ __align__(16) T b_tile[2][BK][BN + kPad];

  const int tid = threadIdx.x;
  const int group = blockIdx.z / splits, split = blockIdx.z % splits;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const int k_begin = split * k_chunk;
  const int k_end = min(p.K, k_begin + k_chunk);

  typename Problem::ACtx a_ctx[SA::kContexts];
  typename Problem::BCtx b_ctx[SB::kContexts];
  bool a_ok[SA::kContexts], b_ok[SB::kContexts];
#pragma unroll
  for (int i = 0; i < SA::kContexts; ++i) {
    const int m = m0 + SA::row(tid, i);
    a_ok[i] = m < p.M;
    if (a_ok[i]) a_ctx[i] = p.a_row(group, m);
  }
#pragma unroll
  for (int i = 0; i < SB::kContexts; ++i) {
    const int n = n0 + SB::row(tid, i);
    b_ok[i] = n < p.N;
    if (b_ok[i]) b_ctx[i] = p.b_col(group, n);
  }

  T a_next[SA::kPerThread], b_next[SB::kPerThread];
  const auto load = [&](int k0) {  // this thread's part of slice k0 into registers, zero outside
#pragma unroll
    for (int i = 0; i < SA::kPerThread; ++i) {
      const int c = Problem::kAFastK ? i : 0, k = k0 + SA::k_lane(tid, i);
      a_next[i] = Math::stage((a_ok[c] && k < k_end) ? p.a(a_ctx[c], k) : T(0));
    }
#pragma unroll
    for (int i = 0; i < SB::kPerThread; ++i) {
      const int c = Problem::kBFastK ? i : 0, k = k0 + SB::k_lane(tid, i);
      b_next[i] = Math::stage((b_ok[c] && k < k_end) ? p.b(b_ctx[c], k) : T(0));
    }
  };
  const auto store = [&](int buffer) {
#pragma unroll
    for (int i = 0; i < SA::kPerThread; ++i) {
      const int kl = SA::k_lane(tid, i);
      a_tile[buffer][kl][Math::column(kl, SA::row(tid, i))] = a_next[i];
    }
#pragma unroll
    for (int i = 0; i < SB::kPerThread; ++i) {
      const int kl = SB::k_lane(tid, i);
      b_tile[buffer][kl][Math::column(kl, SB::row(tid, i))] = b_next[i];
    }
  };

  typename Math::Acc acc{};
  load(k_begin);
  store(0);
  __syncthreads();
  int buffer = 0;
  for (int k0 = k_begin; k0 < k_end; k0 += BK) {
    const bool more = k0 + BK < k_end;
    if (more) load(k0 + BK);
    Math::multiply(acc, a_tile[buffer], b_tile[buffer], tid);
    if (more) store(buffer ^ 1);
    __syncthreads();
    buffer ^= 1;
  }

  Math::for_each(acc, tid, [&](int i, int j, T value) {
    const int m = m0 + i, n = n0 + j;
    if (m < p.M && n < p.N) p.store(group, m, n, value);
  });
}

// Whether M rows in `groups` groups fit the grid (M's tiles go in y, groups in z).
template <typename Shape>
bool gemm_grid_fits(int64_t m, int64_t groups) {
  return (m + Shape::BM - 1) / Shape::BM <= 65535 && groups <= 65535;
}

// The launch geometry of a problem: tiles of C in x/y, (group, split) in z.
struct GemmGrid {
  dim3 blocks;
  int k_chunk, splits;
};

// Splits K until the grid has about `target_blocks`, keeping each slice at
// least `min_slice` deep (splits = 1 unless split_k).
template <typename Shape>
GemmGrid gemm_grid(int64_t m, int64_t n, int64_t k, int64_t groups, bool split_k, int64_t target_blocks = 1024,
                   int64_t min_slice = 256) {
  const int64_t tiles = ((n + Shape::BN - 1) / Shape::BN) * ((m + Shape::BM - 1) / Shape::BM) * groups;
  int64_t splits = 1;
  if (k <= 0) k = 1;  // an empty sum: one slice that stores zeros
  if (split_k && tiles < target_blocks) {
    splits = (target_blocks + tiles - 1) / tiles;
    const int64_t max_splits = (k + min_slice - 1) / min_slice;
    splits = splits < max_splits ? splits : max_splits;
    splits = splits < 1 ? 1 : splits;
    while (groups * splits > 65535) --splits;
  }
  int64_t chunk = (k + splits - 1) / splits;
  chunk = (chunk + Shape::BK - 1) / Shape::BK * Shape::BK;
  splits = (k + chunk - 1) / chunk;
  if (splits < 1) splits = 1;
  return {dim3(static_cast<unsigned>((n + Shape::BN - 1) / Shape::BN), static_cast<unsigned>((m + Shape::BM - 1) / Shape::BM),
               static_cast<unsigned>(groups * splits)),
          static_cast<int>(chunk), static_cast<int>(splits)};
}

}  // namespace striate::kernels::cuda
