// The convolution tables: which backend implements them on which device.
#include "kernels/conv.h"

namespace striate::kernels {

const Kernel<Im2colFn> im2col_kernel{"im2col", {&cpu::im2col, nullptr}};
const Kernel<Im2colFn> col2im_kernel{"col2im", {&cpu::col2im, nullptr}};
const Kernel<ConvForwardFn> conv2d_forward_kernel{"conv2d_forward",
                                                  {&cpu::conv2d_forward, STRIATE_CUDA_ENTRY(&cuda::conv2d_forward)},
                                                  STRIATE_CUDNN_ENTRY(&cudnn::conv2d_forward),
                                                  OpFamily::Conv};
const Kernel<ConvGradInputFn> conv2d_grad_input_kernel{
    "conv2d_grad_input",
    {&cpu::conv2d_grad_input, STRIATE_CUDA_ENTRY(&cuda::conv2d_grad_input)},
    STRIATE_CUDNN_ENTRY(&cudnn::conv2d_grad_input),
    OpFamily::Conv};
const Kernel<ConvGradWeightFn> conv2d_grad_weight_kernel{
    "conv2d_grad_weight",
    {&cpu::conv2d_grad_weight, STRIATE_CUDA_ENTRY(&cuda::conv2d_grad_weight)},
    STRIATE_CUDNN_ENTRY(&cudnn::conv2d_grad_weight),
    OpFamily::Conv};

std::vector<int64_t> conv_key(const ConvParams& p) {
  return {static_cast<int64_t>(p.dtype), p.batch, p.channels, p.height, p.width, p.out_channels, p.kernel_h,
          p.kernel_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, p.out_h, p.out_w,
          p.groups, p.channels_last ? 1 : 0, p.allow_tf32 ? 1 : 0, p.deterministic ? 1 : 0};
}

}  // namespace striate::kernels
