// The elementwise tables: which backend implements them on which device.
#include "kernels/elementwise.h"

namespace striate::kernels {

const Kernel<BinaryFn> binary_kernel{"binary elementwise", {&cpu::binary, STRIATE_CUDA_ENTRY(&cuda::binary)}};
const Kernel<UnaryFn> unary_kernel{"unary elementwise", {&cpu::unary, STRIATE_CUDA_ENTRY(&cuda::unary)}};
const Kernel<WhereFn> where_kernel{"where", {&cpu::where, STRIATE_CUDA_ENTRY(&cuda::where)}};

}  // namespace striate::kernels
