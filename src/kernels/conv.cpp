// The convolution tables: which backend implements them on which device.
#include "kernels/conv.h"

namespace striate::kernels {

const Kernel<Im2colFn> im2col_kernel{"im2col", {&cpu::im2col, nullptr}};
const Kernel<Im2colFn> col2im_kernel{"col2im", {&cpu::col2im, nullptr}};
const Kernel<ConvForwardFn> conv2d_forward_kernel{"conv2d_forward", {&cpu::conv2d_forward, nullptr}};
const Kernel<ConvGradInputFn> conv2d_grad_input_kernel{"conv2d_grad_input", {&cpu::conv2d_grad_input, nullptr}};
const Kernel<ConvGradWeightFn> conv2d_grad_weight_kernel{"conv2d_grad_weight", {&cpu::conv2d_grad_weight, nullptr}};

}  // namespace striate::kernels
