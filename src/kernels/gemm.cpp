// The GEMM table: which backend implements it on which device.
#include "kernels/gemm.h"

namespace striate::kernels {

const Kernel<GemmFn> gemm_kernel{"gemm", {&cpu::gemm, STRIATE_CUDA_ENTRY(&cuda::gemm)},
                                 STRIATE_CUBLAS_ENTRY(&cudnn::gemm), OpFamily::Gemm};

}  // namespace striate::kernels
