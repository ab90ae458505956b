// CUDA GEMM (kernels/gemm.h): C = alpha op(A) op(B) + beta C, row-major,
// batched, with the CPU's arithmetic: f32 and f64 accumulate in their own
// type (as cuBLAS does), f16/bf16 widen to f32 and round once on the store,
// integers wrap in their unsigned type.
//
// One tiled kernel serves every dtype. A block owns a BM x BN tile of C and
// walks k in BK-wide slabs: each slab of op(A) and op(B) is staged in shared
// memory, k-major, so that every thread reads its row and column fragments
// as short vectors; each thread accumulates a TM x TN micro-tile in
// registers, which is what turns the kernel from memory- into compute-bound.
// The slabs are double-buffered: the next one's global loads are in flight
// while the current one is multiplied, and one barrier per slab suffices.
// Transposed operands and leading dimensions are read in place (no copies).
//
// f32 with allow_tf32 runs on TF32 tensor cores instead: the convolutions'
// tiled GEMM (implicit_gemm.cuh) with its TF32 tile, over the stored
// matrices, a batch per blockIdx.z.
#include <algorithm>
#include <climits>

#include "kernels/cuda/implicit_gemm.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/gemm.h"

namespace striate::kernels::cuda {
namespace {

// The type a dtype's products are summed in.
template <typename T> struct gemm_acc { using type = T; };  // float, double
template <> struct gemm_acc<__half> { using type = float; };
template <> struct gemm_acc<__nv_bfloat16> { using type = float; };
template <> struct gemm_acc<uint8_t> { using type = uint32_t; };  // wraps as uint8 does, modulo 2^8
template <> struct gemm_acc<int32_t> { using type = uint32_t; };
template <> struct gemm_acc<int64_t> { using type = uint64_t; };
template <typename T> using gemm_acc_t = typename gemm_acc<T>::type;

// Block tile BM x BN, slab depth BK, micro-tile TM x TN; 256 threads each.
// f32 (and the 16-bit floats, which compute in f32) get the large tile;
// the 8-byte types and the integers a smaller one that keeps registers in hand.
template <typename A> struct GemmTile { static constexpr int BM = 64, BN = 64, BK = 8, TM = 4, TN = 4; };
template <> struct GemmTile<float> { static constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8; };
template <typename A>
constexpr int kTileThreads = (GemmTile<A>::BM / GemmTile<A>::TM) * (GemmTile<A>::BN / GemmTile<A>::TN);

// 16 bytes of padding per shared row keeps the k-contiguous slab stores free
// of bank conflicts and every row 16-byte aligned for vector reads.
template <typename A> constexpr int kPad = 16 / static_cast<int>(sizeof(A));

template <typename A>
A to_acc(double v) {
  if constexpr (std::is_floating_point_v<A>) return static_cast<A>(v);
  else return static_cast<A>(static_cast<int64_t>(v));  // integer alpha/beta: whole numbers, as on the CPU
}

// A thread's share of the slabs of one operand, seen as X(row, p) for rows
// [row0, row0 + ROWS) of a rows x k operand, zero outside it. X(row, p) is at
// x[row * ld + p] when k is contiguous, else at x[p * ld + row]; the thread
// mapping follows the contiguous index so that a warp's loads coalesce. A
// thread's N elements differ only in one coordinate, by a fixed step, so
// their offsets are sums, computed once per tile.
template <int ROWS, int BK, int THREADS>
struct SlabMap {
  static constexpr int N = ROWS * BK / THREADS;
  static_assert(N * THREADS == ROWS * BK && THREADS % BK == 0 && THREADS % ROWS == 0,
                "each thread loads an equal share of the slab");
  bool k_contiguous;
  int row, p;               // the thread's first element in the slab
  int row_step, p_step;     // from one of its elements to the next
  int64_t offset, step;     // the same, in elements of x (slab 0)
  int64_t slab_step;        // from one slab to the next, in elements of x

  __device__ SlabMap(bool k_contiguous_, int64_t ld, int64_t row0) : k_contiguous(k_contiguous_) {
    const int t = static_cast<int>(threadIdx.x);
    row = k_contiguous ? t / BK : t % ROWS;
    p = k_contiguous ? t % BK : t / ROWS;
    row_step = k_contiguous ? THREADS / BK : 0;
    p_step = k_contiguous ? 0 : THREADS / ROWS;
    const int64_t r = row0 + row;
    offset = k_contiguous ? r * ld + p : p * ld + r;
    step = k_contiguous ? row_step * ld : p_step * ld;
    slab_step = k_contiguous ? BK : BK * ld;
  }

  // Slab s of x into registers; rows_left = rows - row0.
  template <typename T, typename A>
  __device__ __forceinline__ void load(const T* x, int64_t rows_left, int64_t k, int64_t s, A (&regs)[N]) const {
    const int64_t base = offset + s * slab_step, k_left = k - s * BK;
#pragma unroll
    for (int r = 0; r < N; ++r) {
      const bool inside = row + r * row_step < rows_left && p + r * p_step < k_left;
      regs[r] = inside ? static_cast<A>(load_acc(x[base + r * step])) : A(0);
    }
  }

  template <typename A>
  __device__ __forceinline__ void store(const A (&regs)[N], A (*slab)[ROWS + kPad<A>]) const {
#pragma unroll
    for (int r = 0; r < N; ++r) slab[p + r * p_step][row + r * row_step] = regs[r];
  }
};

template <typename T>
__global__ void __launch_bounds__(kTileThreads<gemm_acc_t<T>>)
    tiled_gemm_kernel(GemmParams p, gemm_acc_t<T> alpha, gemm_acc_t<T> beta) {
  using A = gemm_acc_t<T>;
  using S = GemmTile<A>;
  constexpr int BM = S::BM, BN = S::BN, BK = S::BK, TM = S::TM, TN = S::TN;
  constexpr int kThreadsX = BN / TN, kThreads = kTileThreads<A>;
  __shared__ __align__(16) A a_slab[2][BK][BM + kPad<A>];
  __shared__ __align__(16) A b_slab[2][BK][BN + kPad<A>];
  using AMap = SlabMap<BM, BK, kThreads>;
  using BMap = SlabMap<BN, BK, kThreads>;
  A a_regs[AMap::N], b_regs[BMap::N];

  const int tx = static_cast<int>(threadIdx.x) % kThreadsX, ty = static_cast<int>(threadIdx.x) / kThreadsX;
  // op(A)(i, p) is k-contiguous unless A is transposed; op(B)(p, j), read as
  // the n x k operand (j, p), is k-contiguous when B is transposed.
  const bool a_k_contiguous = !p.a.trans, b_k_contiguous = p.b.trans;
  const int64_t tiles_m = (p.m + BM - 1) / BM, tiles_n = (p.n + BN - 1) / BN, slabs = (p.k + BK - 1) / BK;

  // Every grid dimension strides, so any size launches; the trip counts are
  // the same for all threads of a block, so the barriers are uniform.
  for (int64_t z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const T* a = static_cast<const T*>(p.a.data) + z * p.a.batch_stride;
    const T* b = static_cast<const T*>(p.b.data) + z * p.b.batch_stride;
    T* c = static_cast<T*>(p.c) + z * p.c_batch_stride;
    for (int64_t tile_m = blockIdx.y; tile_m < tiles_m; tile_m += gridDim.y)
      for (int64_t tile_n = blockIdx.x; tile_n < tiles_n; tile_n += gridDim.x) {
        const int64_t row0 = tile_m * BM, col0 = tile_n * BN;
        A acc[TM][TN];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = A(0);

        const AMap a_map(a_k_contiguous, p.a.ld, row0);
        const BMap b_map(b_k_contiguous, p.b.ld, col0);
        const int64_t rows_left = p.m - row0, cols_left = p.n - col0;
        a_map.load(a, rows_left, p.k, 0, a_regs);
        b_map.load(b, cols_left, p.k, 0, b_regs);
        a_map.store(a_regs, a_slab[0]);
        b_map.store(b_regs, b_slab[0]);
        __syncthreads();
        for (int64_t s = 0; s < slabs; ++s) {
          // Reads of buffer `cur` and writes of the other are separated from
          // the previous and next slab's by the barrier that ends each step.
          const int cur = static_cast<int>(s & 1);
          const bool more = s + 1 < slabs;
          if (more) {
            a_map.load(a, rows_left, p.k, s + 1, a_regs);
            b_map.load(b, cols_left, p.k, s + 1, b_regs);
          }
#pragma unroll
          for (int q = 0; q < BK; ++q) {
            A af[TM], bf[TN];
            load_fragment<TM / 2>(&a_slab[cur][q][ty * (TM / 2)], af);
            load_fragment<TM / 2>(&a_slab[cur][q][BM / 2 + ty * (TM / 2)], af + TM / 2);
            load_fragment<TN / 2>(&b_slab[cur][q][tx * (TN / 2)], bf);
            load_fragment<TN / 2>(&b_slab[cur][q][BN / 2 + tx * (TN / 2)], bf + TN / 2);
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
              for (int j = 0; j < TN; ++j) acc[i][j] += af[i] * bf[j];
          }
          if (more) {
            a_map.store(a_regs, a_slab[cur ^ 1]);
            b_map.store(b_regs, b_slab[cur ^ 1]);
          }
          __syncthreads();
        }

        // beta == 0 never reads C, so NaN there does not propagate (BLAS semantics).
#pragma unroll
        for (int i = 0; i < TM; ++i) {
          const int64_t r = row0 + fragment_index<BM, TM>(ty, i);
          if (r >= p.m) continue;
#pragma unroll
          for (int j = 0; j < TN; ++j) {
            const int64_t col = col0 + fragment_index<BN, TN>(tx, j);
            if (col >= p.n) continue;
            T* out = c + r * p.ldc + col;
            A v = alpha * acc[i][j];
            if (beta != A(0)) v += beta * static_cast<A>(load_acc(*out));
            *out = store_acc<T>(v);
          }
        }
      }
  }
}

// C = beta C when there is no product to add (k == 0 or alpha == 0): the
// CPU then only scales C, and A and B are never read.
template <typename T, typename A>
__global__ void scale_c_kernel(T* c, int64_t batch, int64_t m, int64_t n, int64_t ldc, int64_t c_batch_stride,
                               A beta) {
  const int64_t total = batch * m * n;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = e % n, i = (e / n) % m, z = e / (m * n);
    T* out = c + z * c_batch_stride + i * ldc + j;
    *out = store_acc<T>(beta == A(0) ? A(0) : static_cast<A>(beta * static_cast<A>(load_acc(*out))));
  }
}

unsigned capped(int64_t count, int64_t limit) { return static_cast<unsigned>(count < limit ? count : limit); }

// op(A) and op(B) read in place, as implicit_gemm.cuh's Problem; C = alpha
// * sum + beta * C on the store. Indices within a matrix are 32-bit
// (tf32_fits checks), batch offsets 64-bit.
template <bool kTransA, bool kTransB>
struct Tf32MatrixProblem {
  using T = float;
  static constexpr bool kAFastK = !kTransA;  // op(A)[m, k] is a[m * ld + k], or a[k * ld + m] transposed
  static constexpr bool kBFastK = kTransB;   // op(B)[k, n] is b[k * ld + n], or b[n * ld + k] transposed
  const float* a_data;
  const float* b_data;
  float* c_data;
  int a_ld, b_ld, c_ld;
  int64_t a_batch, b_batch, c_batch;  // batch strides
  float alpha, beta;
  int M, N, K;

  struct ACtx { const float* start; };
  __device__ ACtx a_row(int z, int m) const {
    const float* base = a_data + z * a_batch;
    return {kTransA ? base + m : base + m * a_ld};
  }
  __device__ float a(const ACtx& c, int k) const { return kTransA ? c.start[k * a_ld] : c.start[k]; }

  struct BCtx { const float* start; };
  __device__ BCtx b_col(int z, int n) const {
    const float* base = b_data + z * b_batch;
    return {kTransB ? base + n * b_ld : base + n};
  }
  __device__ float b(const BCtx& c, int k) const { return kTransB ? c.start[k] : c.start[k * b_ld]; }

  __device__ void store(int z, int m, int n, float v) const {
    float* target = c_data + z * c_batch + m * c_ld + n;
    *target = beta == 0.0f ? alpha * v : alpha * v + beta * *target;  // beta == 0 never reads C
  }
};

// Whether the TF32 path takes p: 32-bit sizes and offsets within a matrix,
// batches and row tiles within the grid.
bool tf32_fits(const GemmParams& p) {
  const auto extent = [](int64_t rows, int64_t ld) { return rows * ld; };
  const int64_t largest = std::max({extent(p.a.trans ? p.k : p.m, p.a.ld), extent(p.b.trans ? p.n : p.k, p.b.ld),
                                    extent(p.m, p.ldc), p.m, p.n, p.k});
  return largest <= INT_MAX && gemm_grid_fits<Tf32Tile>(p.m, p.batch);
}

template <bool kTransA, bool kTransB>
bool try_tf32_gemm(const GemmParams& p) {
  using Problem = Tf32MatrixProblem<kTransA, kTransB>;
  if (!runs_tf32_mma(implicit_gemm_kernel<Tf32Tile, Problem>)) return false;
  const Problem problem{static_cast<const float*>(p.a.data), static_cast<const float*>(p.b.data),
                        static_cast<float*>(p.c), static_cast<int>(p.a.ld), static_cast<int>(p.b.ld),
                        static_cast<int>(p.ldc), p.a.batch_stride, p.b.batch_stride, p.c_batch_stride,
                        static_cast<float>(p.alpha), static_cast<float>(p.beta), static_cast<int>(p.m),
                        static_cast<int>(p.n), static_cast<int>(p.k)};
  tile_for(Tf32Tiles{}, p.m, p.n, [&]<typename Shape>() {
    const GemmGrid grid = gemm_grid<Shape>(p.m, p.n, p.k, p.batch, false);
    launch("gemm tf32 implicit_gemm_kernel", implicit_gemm_kernel<Shape, Problem>, grid.blocks, Shape::kThreads, 0,
           problem, grid.k_chunk, grid.splits);
  });
  return true;
}

// The TF32 kernel for p if it may and can run it; false leaves p to the f32 kernel.
bool tf32_gemm(const GemmParams& p) {
  if (!p.allow_tf32 || p.dtype != DType::F32 || !tf32_fits(p)) return false;
  if (p.a.trans) return p.b.trans ? try_tf32_gemm<true, true>(p) : try_tf32_gemm<true, false>(p);
  return p.b.trans ? try_tf32_gemm<false, true>(p) : try_tf32_gemm<false, false>(p);
}

}  // namespace

void gemm(const GemmParams& p) {
  if (p.m == 0 || p.n == 0 || p.batch <= 0) return;
  const cudaStream_t stream = current_stream();
  visit_device_dtype(p.dtype, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw DTypeError("gemm: bool matrices are not supported");
    } else {
      using A = gemm_acc_t<T>;
      const A alpha = to_acc<A>(p.alpha), beta = to_acc<A>(p.beta);
      if (p.k == 0 || alpha == A(0)) {
        if (beta == A(1)) return;  // C stays as it is, as on the CPU
        launch_on(stream, "gemm scale_c_kernel", scale_c_kernel<T, A>, grid_for(p.batch * p.m * p.n), kThreads, 0,
                  static_cast<T*>(p.c), p.batch, p.m, p.n, p.ldc, p.c_batch_stride, beta);
        return;
      }
      if (tf32_gemm(p)) return;
      using S = GemmTile<A>;
      const int64_t tiles_m = (p.m + S::BM - 1) / S::BM, tiles_n = (p.n + S::BN - 1) / S::BN;
      const dim3 grid(capped(tiles_n, INT_MAX), capped(tiles_m, 65535), capped(p.batch, 65535));
      launch_on(stream, "gemm tiled_gemm_kernel", tiled_gemm_kernel<T>, grid, kTileThreads<A>, 0, p, alpha, beta);
    }
  });
}

}  // namespace striate::kernels::cuda
