// cuBLAS GEMM (kernels/gemm.h) for f32, f64, f16 and bf16.
//
// cuBLAS is column-major, and a row-major matrix is its transpose read
// column-major, so the row-major C = op(A) op(B) is asked for as the
// column-major C^T = op(B)^T op(A)^T: the operands and m with n swap, while
// every trans flag, leading dimension and batch stride carries over as it is
// (a batch stride of 0 repeats one matrix, which cuBLAS allows). Integer
// dtypes (cuBLAS has no wrapping integer GEMM) and sizes beyond its 32-bit
// ints run the native kernel, saying so once.
#ifdef STRIATE_WITH_CUBLAS

#include <climits>
#include <string>

#include "kernels/cudnn/library.h"
#include "kernels/gemm.h"

namespace striate::kernels::cudnn {
namespace {

bool fits_int(const GemmParams& p) {
  for (int64_t v : {p.batch, p.m, p.n, p.k, p.a.ld, p.b.ld, p.ldc})
    if (v > INT_MAX) return false;
  return true;
}

cublasOperation_t op_of(const GemmOperand& x) { return x.trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

void gemm(const GemmParams& p) {
  if (p.m == 0 || p.n == 0 || p.batch <= 0) return;
  const bool floating = p.dtype == kFloat || p.dtype == kDouble || p.dtype == kHalf || p.dtype == kBFloat16;
  if (!floating) {
    if (p.dtype != kBool)  // bool is refused by the native kernel, as on the CPU
      kernels::registry::log_once(std::string("striate: gemm: cuBLAS has no wrapping integer GEMM; running the native "
                                            "CUDA kernel for ") +
                                dtype_name(p.dtype));
    return kernels::cuda::gemm(p);
  }
  if (!fits_int(p)) {
    kernels::registry::log_once(
        "striate: gemm: cuBLAS takes 32-bit sizes; running the native CUDA kernel for a GEMM with a batch, "
        "dimension or leading dimension above INT_MAX");
    return kernels::cuda::gemm(p);
  }
  // Only C = beta C is left: the native kernel scales C without reading A
  // and B (so NaN there does not leak in when alpha == 0), as the CPU does.
  if (p.k == 0 || p.alpha == 0) return kernels::cuda::gemm(p);

  cublasHandle_t handle = cublas_handle();
  // Sums stay in the compute type even where the output is 16-bit (no
  // split-k partials rounded to f16), as on the CPU; TF32 for f32 only
  // where allow_tf32 says so.
  const cublasMath_t math = p.allow_tf32 && p.dtype == kFloat ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
  STRIATE_CUBLAS_CHECK(
      cublasSetMathMode(handle, static_cast<cublasMath_t>(math | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION)));
  const cublasOperation_t trans_first = op_of(p.b), trans_second = op_of(p.a);
  const int m = static_cast<int>(p.n), n = static_cast<int>(p.m), k = static_cast<int>(p.k);
  const int ld_first = static_cast<int>(p.b.ld), ld_second = static_cast<int>(p.a.ld), ldc = static_cast<int>(p.ldc);
  const int batch = static_cast<int>(p.batch);
  const long long stride_first = p.b.batch_stride, stride_second = p.a.batch_stride, stride_c = p.c_batch_stride;

  if (p.dtype == kFloat) {
    const float alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta);
    STRIATE_CUBLAS_CHECK(cublasSgemmStridedBatched(
        handle, trans_first, trans_second, m, n, k, &alpha, static_cast<const float*>(p.b.data), ld_first,
        stride_first, static_cast<const float*>(p.a.data), ld_second, stride_second, &beta, static_cast<float*>(p.c),
        ldc, stride_c, batch));
  } else if (p.dtype == kDouble) {
    const double alpha = p.alpha, beta = p.beta;
    STRIATE_CUBLAS_CHECK(cublasDgemmStridedBatched(
        handle, trans_first, trans_second, m, n, k, &alpha, static_cast<const double*>(p.b.data), ld_first,
        stride_first, static_cast<const double*>(p.a.data), ld_second, stride_second, &beta,
        static_cast<double*>(p.c), ldc, stride_c, batch));
  } else {
    // f16/bf16 in and out, products summed in f32; alpha and beta are f32 then.
    const cudaDataType_t type = p.dtype == kHalf ? CUDA_R_16F : CUDA_R_16BF;
    const float alpha = static_cast<float>(p.alpha), beta = static_cast<float>(p.beta);
    STRIATE_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, trans_first, trans_second, m, n, k, &alpha, p.b.data, type,
                                                    ld_first, stride_first, p.a.data, type, ld_second, stride_second,
                                                    &beta, p.c, type, ldc, stride_c, batch, CUBLAS_COMPUTE_32F,
                                                    CUBLAS_GEMM_DEFAULT));
  }
}

}  // namespace striate::kernels::cudnn

#endif  // STRIATE_WITH_CUBLAS
