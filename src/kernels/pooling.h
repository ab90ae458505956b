// Pooling kernels over [planes, H, W] blocks, forward and backward, f32 and
// f64 (the op layer computes f16/bf16 in f32; 1-D pooling is 2-D with H = 1).
// A block is NCHW (planes = N * C, each plane contiguous) or channels-last
// (NHWC: the C planes of an image interleaved pixel by pixel), as
// Pool2dShape::pixel_stride says. CPU kernels in cpu/pooling.cpp, CUDA ones
// in cuda/pooling.cu, cuDNN ones (OpFamily::Pooling's library backend) in
// cudnn/pooling.cpp.
//
// Max-pooling indices are positions in the flattened H * W plane of the
// input, as PyTorch returns them (in either layout); backward sums the
// gradients of the outputs that recorded each position. Index and output
// buffers are laid out as the output.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct Pool2dShape {
  int64_t planes = 0;
  int64_t in_h = 0, in_w = 0;
  int64_t out_h = 0, out_w = 0;
  // Elements between horizontally adjacent pixels of a plane: 1 for NCHW;
  // C for channels-last, where plane n * C + c has pixel (y, x) at
  // ((n * H + y) * W + x) * C + c. NCHW is the case C = 1 of that formula.
  int64_t pixel_stride = 1;
};

// Window of output (oh, ow): rows oh * stride_h - pad_h + i * dilation_h for
// i in [0, kernel_h), columns likewise; positions outside the input are skipped.
struct Pool2dWindow {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

// The largest element of each window (a NaN wins; among NaNs the last one)
// and, when indices is non-null, its position.
struct MaxPool2dParams {
  const void* input = nullptr;
  void* output = nullptr;
  int64_t* indices = nullptr;
  Pool2dShape shape;
  Pool2dWindow window;
  DType dtype;
};

// grad_input (overwritten) = for each input element, the sum of grad_out over
// the outputs whose recorded index is that element, added in output order;
// serves max_pool and adaptive_max_pool. The forward's window (plain) or the
// adaptive bins say which outputs can hold an element, so that the CUDA
// kernel gathers over those instead of scattering with atomics; the CPU
// kernel scatters through the indices alone.
struct MaxPoolBackwardParams {
  const void* grad_out = nullptr;
  const int64_t* indices = nullptr;
  void* grad_input = nullptr;
  Pool2dShape shape;
  DType dtype;
  Pool2dWindow window;    // the forward's; unused when adaptive
  bool adaptive = false;  // bins [floor(i * in / out), ceil((i + 1) * in / out)) instead of windows
};

// Window sums divided by divisor_override when non-zero, else by the window
// area clipped to the padded input (count_include_pad) or to the input.
// Dilation is not used.
struct AvgPool2dParams {
  const void* input = nullptr;
  void* output = nullptr;
  Pool2dShape shape;
  Pool2dWindow window;
  bool count_include_pad = true;
  int64_t divisor_override = 0;
  DType dtype;
};

// grad_input (zeroed here) receives grad_out / divisor over each window.
struct AvgPool2dBackwardParams {
  const void* grad_out = nullptr;
  void* grad_input = nullptr;
  Pool2dShape shape;
  Pool2dWindow window;
  bool count_include_pad = true;
  int64_t divisor_override = 0;
  DType dtype;
  // The forward's input and output, which cudnnPoolingBackward reads; the op
  // layer keeps them only when the library may run (else null, and the
  // library entry runs the native kernel). The native kernels ignore them.
  const void* input = nullptr;
  const void* output = nullptr;
};

// Max-pooling backward from the forward's input and output instead of
// indices (cuDNN finds each window's maximum again): the op layer's path
// under KernelBackend::Library, whose forward records no indices.
// grad_input is overwritten.
struct MaxPool2dLibraryBackwardParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* output = nullptr;
  void* grad_input = nullptr;
  Pool2dShape shape;
  Pool2dWindow window;
  DType dtype;
};

// Adaptive pooling: bin i of an axis covers [floor(i * in / out), ceil((i + 1) * in / out)).
struct AdaptivePool2dParams {
  const void* input = nullptr;
  void* output = nullptr;
  int64_t* indices = nullptr;  // max only; may be null
  Pool2dShape shape;
  DType dtype;
};

struct AdaptiveAvgPool2dBackwardParams {
  const void* grad_out = nullptr;
  void* grad_input = nullptr;
  Pool2dShape shape;
  DType dtype;
};

using MaxPool2dFn = void (*)(const MaxPool2dParams&);
using MaxPoolBackwardFn = void (*)(const MaxPoolBackwardParams&);
using AvgPool2dFn = void (*)(const AvgPool2dParams&);
using AvgPool2dBackwardFn = void (*)(const AvgPool2dBackwardParams&);
using AdaptivePool2dFn = void (*)(const AdaptivePool2dParams&);
using AdaptiveAvgPool2dBackwardFn = void (*)(const AdaptiveAvgPool2dBackwardParams&);
using MaxPool2dLibraryBackwardFn = void (*)(const MaxPool2dLibraryBackwardParams&);
extern const Kernel<MaxPool2dFn> max_pool2d_kernel;
extern const Kernel<MaxPoolBackwardFn> max_pool_backward_kernel;
extern const Kernel<AvgPool2dFn> avg_pool2d_kernel;
extern const Kernel<AvgPool2dBackwardFn> avg_pool2d_backward_kernel;
extern const Kernel<AdaptivePool2dFn> adaptive_avg_pool2d_kernel;
extern const Kernel<AdaptiveAvgPool2dBackwardFn> adaptive_avg_pool2d_backward_kernel;
extern const Kernel<AdaptivePool2dFn> adaptive_max_pool2d_kernel;
// Library only (empty in builds without cuDNN): the op layer takes it when its
// max-pooling forward ran through cuDNN.
extern const Kernel<MaxPool2dLibraryBackwardFn> max_pool2d_library_backward_kernel;

// The shape of a pooling, as Auto's measurements are keyed (max pooling
// passes the defaults of the last two).
std::vector<int64_t> pool_key(const Pool2dShape& s, const Pool2dWindow& w, DType dtype, bool count_include_pad = true,
                              int64_t divisor_override = 0);
// Why cuDNN cannot run this pooling (null when it can): it has no dilation,
// no divisor_override, floor-mode output sizes only (a ceil_mode window that
// PyTorch adds, or clips at the right padding, has no cuDNN counterpart) and
// 32-bit sizes. Shared by the op layer (what to keep for backward) and the
// cuDNN entries (when to run the native kernel).
const char* library_pool_limit(const Pool2dShape& s, const Pool2dWindow& w, int64_t divisor_override);
// The most planes one cuDNN call takes (whole images when channels-last):
// each call's tensor stays within 32-bit element counts and 65535 images.
int64_t library_pool_planes_per_call(const Pool2dShape& s);

namespace cpu {
void max_pool2d(const MaxPool2dParams& p);
void max_pool_backward(const MaxPoolBackwardParams& p);
void avg_pool2d(const AvgPool2dParams& p);
void avg_pool2d_backward(const AvgPool2dBackwardParams& p);
void adaptive_avg_pool2d(const AdaptivePool2dParams& p);
void adaptive_avg_pool2d_backward(const AdaptiveAvgPool2dBackwardParams& p);
void adaptive_max_pool2d(const AdaptivePool2dParams& p);
}  // namespace cpu

namespace cuda {
void max_pool2d(const MaxPool2dParams& p);
void max_pool_backward(const MaxPoolBackwardParams& p);
void avg_pool2d(const AvgPool2dParams& p);
void avg_pool2d_backward(const AvgPool2dBackwardParams& p);
void adaptive_avg_pool2d(const AdaptivePool2dParams& p);
void adaptive_avg_pool2d_backward(const AdaptiveAvgPool2dBackwardParams& p);
void adaptive_max_pool2d(const AdaptivePool2dParams& p);
}  // namespace cuda

// cuDNN pooling (cudnnPoolingForward/Backward, NCHW or NHWC, f32/f64): max pooling
// as CUDNN_POOLING_MAX_DETERMINISTIC, average as COUNT_INCLUDE_PADDING or
// COUNT_EXCLUDE_PADDING, NaN propagated. What cuDNN cannot do (see
// library_pool_limit; max pooling that must return indices; an average
// backward whose forward kept no x and y) runs the native kernel, said once
// on stderr.
namespace cudnn {
void max_pool2d(const MaxPool2dParams& p);
void max_pool2d_backward(const MaxPool2dLibraryBackwardParams& p);
void avg_pool2d(const AvgPool2dParams& p);
void avg_pool2d_backward(const AvgPool2dBackwardParams& p);
}  // namespace cudnn

}  // namespace striate::kernels
