// The GEMM table: which backend implements it on which device.
#include "kernels/gemm.h"

namespace striate::kernels {

const Kernel<GemmFn> gemm_kernel{"gemm", {&cpu::gemm, nullptr}};

}  // namespace striate::kernels
