// Normalisation kernels: batch norm (per-channel statistics, the affine
// apply, and the two backward passes), layer norm and local response norm.
//
// Channel-wise kernels see a contiguous [outer, channels, inner] block:
// NCHW is outer = N, inner = H * W; ChannelsLast (NHWC) and [N, C] are
// outer = N * H * W (or N), inner = 1. Per-channel sums come back in double.
//
// Batch norm has a second, fused form (below): one library call per pass,
// which the op layer takes instead of the four kernels for CUDA tensors under
// KernelBackend::Library.
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct ChannelShape {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
};

// mean[c] and biased var[c] over outer and inner, in one pass.
struct BatchNormStatsParams {
  const void* input = nullptr;
  ChannelShape shape;
  DType dtype = DType::F32;  // F32 or F64, as for every kernel here
  double* mean = nullptr;    // [channels]
  double* var = nullptr;     // [channels]
};

// output = (input - center[c]) * scale[c] + shift[c].
struct BatchNormApplyParams {
  const void* input = nullptr;
  void* output = nullptr;
  const void* center = nullptr;  // [channels], dtype
  const void* scale = nullptr;
  const void* shift = nullptr;
  ChannelShape shape;
  DType dtype = DType::F32;
};

// sum_grad[c] = sum of grad_out, sum_grad_centered[c] = sum of
// grad_out * (input - center[c]).
struct BatchNormBackwardReduceParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* center = nullptr;  // [channels], dtype
  ChannelShape shape;
  DType dtype = DType::F32;
  double* sum_grad = nullptr;           // [channels]
  double* sum_grad_centered = nullptr;  // [channels]
};

// grad_input = grad_out * k_grad[c] + (input - center[c]) * k_centered[c] + k_const[c];
// with k_centered == null (eval mode) just grad_out * k_grad[c].
struct BatchNormBackwardInputParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* center = nullptr;  // [channels], dtype; each k_* too
  const void* k_grad = nullptr;
  const void* k_centered = nullptr;
  const void* k_const = nullptr;
  void* grad_input = nullptr;
  ChannelShape shape;
  DType dtype = DType::F32;
};

// Rows of `cols` contiguous elements, each normalised on its own.
struct LayerNormForwardParams {
  const void* input = nullptr;
  const void* weight = nullptr;  // [cols] or null
  const void* bias = nullptr;    // [cols] or null
  void* output = nullptr;
  void* mean = nullptr;          // [rows], kept for backward
  void* rstd = nullptr;          // [rows]: 1 / sqrt(var + eps)
  int64_t rows = 0, cols = 0;
  double eps = 1e-5;
  DType dtype = DType::F32;
};

// Any of grad_input, grad_weight, grad_bias may be null (not wanted).
struct LayerNormBackwardParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* weight = nullptr;  // [cols] or null
  const void* mean = nullptr;
  const void* rstd = nullptr;
  void* grad_input = nullptr;
  void* grad_weight = nullptr;   // [cols]
  void* grad_bias = nullptr;     // [cols]
  int64_t rows = 0, cols = 0;
  DType dtype = DType::F32;
};

// denom = k + alpha / size * (sum of squares over the channel window),
// output = input * denom^-beta; the window of channel c is
// [c - size / 2, c + (size - 1) / 2], clipped to [0, channels).
struct LrnForwardParams {
  const void* input = nullptr;
  void* output = nullptr;
  void* denom = nullptr;  // same shape as input, kept for backward
  ChannelShape shape;
  int64_t size = 5;
  double alpha = 1e-4, beta = 0.75, k = 1;
  DType dtype = DType::F32;
};

struct LrnBackwardParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* denom = nullptr;
  void* grad_input = nullptr;
  ChannelShape shape;
  int64_t size = 5;
  double alpha = 1e-4, beta = 0.75;
  DType dtype = DType::F32;
};

// ---- batch norm through one fused library call per pass (cuDNN) -------------
//
// x, y, dx and dy are one dense [n, c, h, w] block, NCHW or (channels_last)
// NHWC: an [N, C] input is [N, C, 1, 1], dims after the second fold into h.
// Per-channel tensors are contiguous [c] of `dtype` (f32 or f64).
struct BatchNormLibraryShape {
  int64_t n = 0, c = 0, h = 1, w = 1;
  bool channels_last = false;
};

// Training: y from the batch's mean and biased variance, which are also
// written to save_mean and save_invstd (kept for backward; cuDNN's own
// format); running_mean and running_var (both null: not tracked) become
// (1 - momentum) * running + momentum * batch, with the unbiased variance.
// Evaluation: y from running_mean and running_var, which are only read.
struct BatchNormLibraryForwardParams {
  const void* input = nullptr;
  void* output = nullptr;
  const void* weight = nullptr;  // never null: ones when the op has none
  const void* bias = nullptr;    // never null: zeros when the op has none
  void* running_mean = nullptr;
  void* running_var = nullptr;
  void* save_mean = nullptr;     // training only
  void* save_invstd = nullptr;   // training only
  BatchNormLibraryShape shape;
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
  DType dtype = DType::F32;
};

// The training-mode gradient, through the batch statistics: grad_input,
// grad_weight and grad_bias, each overwritten.
struct BatchNormLibraryBackwardParams {
  const void* grad_out = nullptr;
  const void* input = nullptr;
  const void* weight = nullptr;
  const void* save_mean = nullptr;
  const void* save_invstd = nullptr;
  void* grad_input = nullptr;
  void* grad_weight = nullptr;
  void* grad_bias = nullptr;
  BatchNormLibraryShape shape;
  double eps = 1e-5;
  DType dtype = DType::F32;
};

using BatchNormStatsFn = void (*)(const BatchNormStatsParams&);
using BatchNormApplyFn = void (*)(const BatchNormApplyParams&);
using BatchNormBackwardReduceFn = void (*)(const BatchNormBackwardReduceParams&);
using BatchNormBackwardInputFn = void (*)(const BatchNormBackwardInputParams&);
using LayerNormForwardFn = void (*)(const LayerNormForwardParams&);
using LayerNormBackwardFn = void (*)(const LayerNormBackwardParams&);
using LrnForwardFn = void (*)(const LrnForwardParams&);
using LrnBackwardFn = void (*)(const LrnBackwardParams&);
using BatchNormLibraryForwardFn = void (*)(const BatchNormLibraryForwardParams&);
using BatchNormLibraryBackwardFn = void (*)(const BatchNormLibraryBackwardParams&);
extern const Kernel<BatchNormStatsFn> batch_norm_stats_kernel;
extern const Kernel<BatchNormApplyFn> batch_norm_apply_kernel;
extern const Kernel<BatchNormBackwardReduceFn> batch_norm_backward_reduce_kernel;
extern const Kernel<BatchNormBackwardInputFn> batch_norm_backward_input_kernel;
extern const Kernel<LayerNormForwardFn> layer_norm_forward_kernel;
extern const Kernel<LayerNormBackwardFn> layer_norm_backward_kernel;
extern const Kernel<LrnForwardFn> lrn_forward_kernel;
extern const Kernel<LrnBackwardFn> lrn_backward_kernel;
// Library only: empty in builds without cuDNN.
extern const Kernel<BatchNormLibraryForwardFn> batch_norm_forward_library_kernel;
extern const Kernel<BatchNormLibraryBackwardFn> batch_norm_backward_library_kernel;
// Why the library cannot take this batch norm (null when it can): a dtype
// other than f32 and f64, an empty input, or sizes beyond 32-bit.
const char* batch_norm_library_limit(const BatchNormLibraryShape& s, DType dtype);

namespace cpu {
void batch_norm_stats(const BatchNormStatsParams& p);
void batch_norm_apply(const BatchNormApplyParams& p);
void batch_norm_backward_reduce(const BatchNormBackwardReduceParams& p);
void batch_norm_backward_input(const BatchNormBackwardInputParams& p);
void layer_norm_forward(const LayerNormForwardParams& p);
void layer_norm_backward(const LayerNormBackwardParams& p);
void lrn_forward(const LrnForwardParams& p);
void lrn_backward(const LrnBackwardParams& p);
}  // namespace cpu

namespace cuda {
void batch_norm_stats(const BatchNormStatsParams& p);
void batch_norm_apply(const BatchNormApplyParams& p);
void batch_norm_backward_reduce(const BatchNormBackwardReduceParams& p);
void batch_norm_backward_input(const BatchNormBackwardInputParams& p);
void layer_norm_forward(const LayerNormForwardParams& p);
void layer_norm_backward(const LayerNormBackwardParams& p);
void lrn_forward(const LrnForwardParams& p);
void lrn_backward(const LrnBackwardParams& p);
}  // namespace cuda

// cuDNN batch norm: cudnnBatchNormalizationForwardTraining,
// ForwardInference and Backward in CUDNN_BATCHNORM_SPATIAL mode.
namespace cudnn {
void batch_norm_forward(const BatchNormLibraryForwardParams& p);
void batch_norm_backward(const BatchNormLibraryBackwardParams& p);
}  // namespace cudnn

}  // namespace striate::kernels
