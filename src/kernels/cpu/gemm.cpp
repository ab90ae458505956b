// CPU GEMM: CBLAS (OpenBLAS) for f32/f64 when the library is built with it,
// otherwise a cache-blocked loop; f16/bf16 go through f32; integers use the
// blocked loop in unsigned arithmetic so that overflow wraps, as in PyTorch.
#include <algorithm>
#include <climits>
#include <type_traits>
#include <vector>

#include "kernels/gemm.h"

#ifdef STRIATE_WITH_BLAS
#include <cblas.h>
#endif

namespace striate::kernels {
namespace cpu {
namespace {

// Block sizes chosen so a packed A block (64 x 128) and B block (128 x 256)
// of doubles fit in L2 together.
constexpr int64_t kBlockM = 64, kBlockN = 256, kBlockK = 128;

// Element (r, c) of op(X).
template <typename T>
T element(const T* x, const GemmOperand& op, int64_t r, int64_t c) {
  return op.trans ? x[c * op.ld + r] : x[r * op.ld + c];
}

template <typename T>
void scale_rows(T* c, int64_t ldc, int64_t m, int64_t n, T beta) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) std::fill(row, row + n, T(0));
    else if (beta != T(1))
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
  }
}

// One matrix: packs blocks of op(A) (times alpha) and op(B) into contiguous
// buffers, so transposed operands cost nothing extra and the inner loop is a
// unit-stride axpy the compiler vectorises.
template <typename T>
void blocked_gemm(const T* a, const GemmOperand& ao, const T* b, const GemmOperand& bo, T* c, int64_t ldc,
                  int64_t m, int64_t n, int64_t k, T alpha, T beta) {
  scale_rows(c, ldc, m, n, beta);
  if (k == 0 || alpha == T(0)) return;
  std::vector<T> apack(kBlockM * kBlockK), bpack(kBlockK * kBlockN);
  for (int64_t j0 = 0; j0 < n; j0 += kBlockN) {
    const int64_t nb = std::min(kBlockN, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kBlockK) {
      const int64_t kb = std::min(kBlockK, k - p0);
      for (int64_t p = 0; p < kb; ++p)
        for (int64_t j = 0; j < nb; ++j) bpack[p * nb + j] = element(b, bo, p0 + p, j0 + j);
      for (int64_t i0 = 0; i0 < m; i0 += kBlockM) {
        const int64_t mb = std::min(kBlockM, m - i0);
        for (int64_t i = 0; i < mb; ++i)
          for (int64_t p = 0; p < kb; ++p) apack[i * kb + p] = alpha * element(a, ao, i0 + i, p0 + p);
        for (int64_t i = 0; i < mb; ++i) {
          T* crow = c + (i0 + i) * ldc + j0;
          for (int64_t p = 0; p < kb; ++p) {
            const T av = apack[i * kb + p];
            const T* brow = bpack.data() + p * nb;
            for (int64_t j = 0; j < nb; ++j) crow[j] += av * brow[j];
          }
        }
      }
    }
  }
}

bool fits_int(const GemmParams& p) {
  for (int64_t v : {p.m, p.n, p.k, p.a.ld, p.b.ld, p.ldc})
    if (v > INT_MAX) return false;
  return true;
}

// f32/f64: BLAS when available, else the blocked loop.
template <typename T>
void float_gemm(const T* a, const GemmOperand& ao, const T* b, const GemmOperand& bo, T* c, int64_t ldc, int64_t m,
                int64_t n, int64_t k, double alpha, double beta, bool use_blas) {
#ifdef STRIATE_WITH_BLAS
  if (use_blas && k > 0) {
    // Zeroing first makes beta == 0 ignore C whatever the BLAS does with NaN.
    if (beta == 0) scale_rows(c, ldc, m, n, T(0));
    const auto ta = ao.trans ? CblasTrans : CblasNoTrans, tb = bo.trans ? CblasTrans : CblasNoTrans;
    const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, ta, tb, im, in, ik, static_cast<float>(alpha), a, static_cast<int>(ao.ld), b,
                  static_cast<int>(bo.ld), static_cast<float>(beta), c, static_cast<int>(ldc));
    else
      cblas_dgemm(CblasRowMajor, ta, tb, im, in, ik, alpha, a, static_cast<int>(ao.ld), b, static_cast<int>(bo.ld),
                  beta, c, static_cast<int>(ldc));
    return;
  }
#endif
  blocked_gemm<T>(a, ao, b, bo, c, ldc, m, n, k, static_cast<T>(alpha), static_cast<T>(beta));
}

// f16/bf16: op(A), op(B) and C widened to f32, multiplied there, narrowed back.
template <typename T>
void half_gemm(const T* a, const GemmOperand& ao, const T* b, const GemmOperand& bo, T* c, int64_t ldc, int64_t m,
               int64_t n, int64_t k, double alpha, double beta, bool use_blas) {
  std::vector<float> fa(m * k), fb(k * n), fc(m * n, 0.f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) fa[i * k + p] = static_cast<float>(element(a, ao, i, p));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) fb[p * n + j] = static_cast<float>(element(b, bo, p, j));
  if (beta != 0)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) fc[i * n + j] = static_cast<float>(c[i * ldc + j]);
  const GemmOperand plain_a{nullptr, std::max<int64_t>(k, 1), 0, false};
  const GemmOperand plain_b{nullptr, std::max<int64_t>(n, 1), 0, false};
  float_gemm<float>(fa.data(), plain_a, fb.data(), plain_b, fc.data(), std::max<int64_t>(n, 1), m, n, k, alpha,
                    beta, use_blas);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = static_cast<T>(fc[i * n + j]);
}

// Signed integers multiply in their unsigned counterparts: same bits, no UB.
template <typename T>
using wrapping_t = std::conditional_t<std::is_integral_v<T> && std::is_signed_v<T>, std::make_unsigned_t<T>, T>;

}  // namespace

void gemm(const GemmParams& p) {
  if (p.m == 0 || p.n == 0) return;
  const bool use_blas = fits_int(p);
  visit_dtype(p.dtype, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw DTypeError("gemm: bool matrices are not supported");
    } else {
      for (int64_t batch = 0; batch < p.batch; ++batch) {
        const T* a = static_cast<const T*>(p.a.data) + batch * p.a.batch_stride;
        const T* b = static_cast<const T*>(p.b.data) + batch * p.b.batch_stride;
        T* c = static_cast<T*>(p.c) + batch * p.c_batch_stride;
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          float_gemm<T>(a, p.a, b, p.b, c, p.ldc, p.m, p.n, p.k, p.alpha, p.beta, use_blas);
        } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
          half_gemm<T>(a, p.a, b, p.b, c, p.ldc, p.m, p.n, p.k, p.alpha, p.beta, use_blas);
        } else {
          using W = wrapping_t<T>;
          // Integer alpha/beta: the op layer passes whole numbers.
          const W alpha = static_cast<W>(static_cast<int64_t>(p.alpha));
          const W beta = static_cast<W>(static_cast<int64_t>(p.beta));
          blocked_gemm<W>(reinterpret_cast<const W*>(a), p.a, reinterpret_cast<const W*>(b), p.b,
                          reinterpret_cast<W*>(c), p.ldc, p.m, p.n, p.k, alpha, beta);
        }
      }
    }
  });
}

}  // namespace cpu
}  // namespace striate::kernels
