// Batched GEMM: C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b], row-major,
// with op(X) = X or X^T. Passing a transposed view as trans = true with its
// leading dimension avoids copying it, as BLAS does.
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

// One operand: element (r, c) of the untransposed storage is at
// data[r * ld + c]; op(X) is that matrix or its transpose.
struct GemmOperand {
  const void* data = nullptr;
  int64_t ld = 1;            // >= max(1, stored columns)
  int64_t batch_stride = 0;  // elements between batches; 0 repeats one matrix
  bool trans = false;
};

struct GemmParams {
  DType dtype;  // of A, B and C
  int64_t batch = 1;
  int64_t m = 0, n = 0, k = 0;  // op(A): [m, k], op(B): [k, n], C: [m, n]
  GemmOperand a, b;
  void* c = nullptr;
  int64_t ldc = 1;
  int64_t c_batch_stride = 0;
  // beta == 0 ignores C's contents (NaN in C does not propagate), as BLAS.
  double alpha = 1, beta = 0;
  // f32 products may run on TF32 tensor cores (backend.h's allow_tf32):
  // the native kernel and cuBLAS do; the CPU stays f32.
  bool allow_tf32 = false;
};

using GemmFn = void (*)(const GemmParams&);
extern const Kernel<GemmFn> gemm_kernel;

namespace cpu {
void gemm(const GemmParams& p);
}  // namespace cpu

// The tiled CUDA kernel (cuda/gemm.cu), every dtype but bool.
namespace cuda {
void gemm(const GemmParams& p);
}  // namespace cuda

// cuBLAS (cudnn/gemm.cpp) for f32, f64, f16 and bf16; other dtypes, and sizes
// above cuBLAS's 32-bit ints, run cuda::gemm.
namespace cudnn {
void gemm(const GemmParams& p);
}  // namespace cudnn

}  // namespace striate::kernels
