// The elementwise tables: which backend implements them on which device.
#include "kernels/elementwise.h"

namespace striate::kernels {

#ifdef STRIATE_WITH_CUDA
const Kernel<BinaryFn> binary_kernel{"binary elementwise", {&cpu::binary, &cuda::binary}};
const Kernel<UnaryFn> unary_kernel{"unary elementwise", {&cpu::unary, &cuda::unary}};
const Kernel<WhereFn> where_kernel{"where", {&cpu::where, &cuda::where}};
#else
const Kernel<BinaryFn> binary_kernel{"binary elementwise", {&cpu::binary, nullptr}};
const Kernel<UnaryFn> unary_kernel{"unary elementwise", {&cpu::unary, nullptr}};
const Kernel<WhereFn> where_kernel{"where", {&cpu::where, nullptr}};
#endif

}  // namespace striate::kernels
