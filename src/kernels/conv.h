// Convolution kernels: the three passes of a 2-D convolution (conv1d runs as
// a 2-D one over a height of 1), and the im2col/col2im data movement the CPU
// backend builds them from.
//
// im2col, for one image and one channel group, writes the column matrix
//   col[(c, ki, kj), (oi, oj)] = x[c, oi*sh - pt + ki*dh, oj*sw - pl + kj*dw]
// (zero outside the input), shape [C*kH*kW, oH*oW]; the convolution is then
// the GEMM  weight [O, C*kH*kW] x col. col2im is im2col's adjoint: it adds
// each column entry back into the image (grad input).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

// One convolution. Tensors are dense, of `dtype` (f32 or f64), with the
// logical shapes input [batch, channels, height, width], weight
// [out_channels, channels / groups, kernel_h, kernel_w], output [batch,
// out_channels, out_h, out_w]; gradients are laid out as their tensors. In
// memory they are NCHW (and OIHW), or with `channels_last` NHWC (and OHWI),
// as cuDNN's and PyTorch's channels-last tensors are. The bottom/right
// padding is implied by out_h/out_w.
struct ConvParams {
  DType dtype;
  int64_t batch, channels, height, width;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t pad_top, pad_left;
  int64_t out_h, out_w;
  int64_t groups;
  bool channels_last = false;
  // f32 sums may run on TF32 tensor cores (backend.h's allow_tf32): the
  // native implicit GEMMs and cuDNN do; the CPU and the direct kernels stay f32.
  bool allow_tf32 = false;
  // The same bits every run (backend.h's use_deterministic_algorithms): the
  // native grad weight sums its K splits in order instead of with atomics,
  // and cuDNN takes its heuristic choice of a deterministic algorithm.
  bool deterministic = false;
};

// output = conv(input, weight) + bias (bias may be null).
using ConvForwardFn = void (*)(const ConvParams&, const void* input, const void* weight, const void* bias,
                               void* output);
// grad_input (overwritten) from weight and grad_output.
using ConvGradInputFn = void (*)(const ConvParams&, const void* weight, const void* grad_output, void* grad_input);
// grad_weight and grad_bias (each overwritten; either may be null when not
// needed) from input and grad_output.
using ConvGradWeightFn = void (*)(const ConvParams&, const void* input, const void* grad_output, void* grad_weight,
                                  void* grad_bias);

extern const Kernel<ConvForwardFn> conv2d_forward_kernel;
extern const Kernel<ConvGradInputFn> conv2d_grad_input_kernel;
extern const Kernel<ConvGradWeightFn> conv2d_grad_weight_kernel;
// The shape of a convolution, as Auto's measurements are keyed.
std::vector<int64_t> conv_key(const ConvParams& p);

struct Im2colParams {
  DType dtype;
  int64_t channels, height, width;  // of the image (contiguous CHW)
  int64_t kernel_h, kernel_w;
  // May be negative: a band of output rows starting at r0 is the same walk
  // with pad_top reduced by r0 * stride_h.
  int64_t pad_top, pad_left;
  int64_t stride_h, stride_w;
  int64_t dilation_h, dilation_w;
  int64_t out_h, out_w;  // of the band of output rows this column matrix covers
  // Elements between consecutive rows of col: out_h*out_w for one image, or
  // more when several images sit side by side in one column matrix.
  int64_t col_ld;
  void* image;  // im2col reads it; col2im adds into it
  void* col;    // im2col writes it; col2im reads it
};

using Im2colFn = void (*)(const Im2colParams&);
extern const Kernel<Im2colFn> im2col_kernel;
extern const Kernel<Im2colFn> col2im_kernel;

namespace cpu {
void im2col(const Im2colParams& p);
void col2im(const Im2colParams& p);
void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output);
void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input);
void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias);
}  // namespace cpu

// Hand-written CUDA convolutions (NCHW or NHWC, f32/f64). The unsuffixed functions
// pick a kernel for the problem: direct (a thread per output element, or a
// block per weight element; for few channels and depthwise layers) or an
// implicit GEMM (the rest). The suffixed ones are each kernel on its own, for
// the tests and benchmarks that compare them.
namespace cuda {
void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output);
void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input);
void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias);
void conv2d_forward_direct(const ConvParams& p, const void* input, const void* weight, const void* bias,
                           void* output);
void conv2d_grad_input_direct(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input);
void conv2d_grad_weight_direct(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                               void* grad_bias);
void conv2d_forward_implicit_gemm(const ConvParams& p, const void* input, const void* weight, const void* bias,
                                  void* output);
void conv2d_grad_input_implicit_gemm(const ConvParams& p, const void* weight, const void* grad_output,
                                     void* grad_input);
void conv2d_grad_weight_implicit_gemm(const ConvParams& p, const void* input, const void* grad_output,
                                      void* grad_weight, void* grad_bias);
// grad_bias[o] = the sum of grad_output over batch and pixels (in double, as the CPU).
void conv2d_grad_bias(const ConvParams& p, const void* grad_output, void* grad_bias);
}  // namespace cuda

// cuDNN convolutions (NCHW or NHWC, f32/f64), algorithms found once per shape.
namespace cudnn {
void conv2d_forward(const ConvParams& p, const void* input, const void* weight, const void* bias, void* output);
void conv2d_grad_input(const ConvParams& p, const void* weight, const void* grad_output, void* grad_input);
void conv2d_grad_weight(const ConvParams& p, const void* input, const void* grad_output, void* grad_weight,
                        void* grad_bias);
// How many calls above, on this thread, ran the native kernel because cuDNN
// does not take the case: the benchmarks tell a cuDNN timing from a fallback by it.
int64_t conv2d_native_runs();
}  // namespace cudnn

}  // namespace striate::kernels
