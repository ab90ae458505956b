// The im2col/col2im tables: which backend implements them on which device.
#include "kernels/conv.h"

namespace striate::kernels {

const Kernel<Im2colFn> im2col_kernel{"im2col", {&cpu::im2col, nullptr}};
const Kernel<Im2colFn> col2im_kernel{"col2im", {&cpu::col2im, nullptr}};

}  // namespace striate::kernels
