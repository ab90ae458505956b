// The elementwise tables: which backend implements them on which device.
#include "kernels/elementwise.h"

namespace striate::kernels {

const Kernel<BinaryFn> binary_kernel{"binary elementwise", {&cpu::binary, nullptr}};
const Kernel<UnaryFn> unary_kernel{"unary elementwise", {&cpu::unary, nullptr}};
const Kernel<WhereFn> where_kernel{"where", {&cpu::where, nullptr}};

}  // namespace striate::kernels
