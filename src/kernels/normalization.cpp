// The normalisation tables: which backend implements them on which device.
#include "kernels/normalization.h"

#include <algorithm>
#include <cstdint>

namespace striate::kernels {

const Kernel<BatchNormStatsFn> batch_norm_stats_kernel{
    "batch_norm statistics", {&cpu::batch_norm_stats, STRIATE_CUDA_ENTRY(&cuda::batch_norm_stats)}};
const Kernel<BatchNormApplyFn> batch_norm_apply_kernel{
    "batch_norm", {&cpu::batch_norm_apply, STRIATE_CUDA_ENTRY(&cuda::batch_norm_apply)}};
const Kernel<BatchNormBackwardReduceFn> batch_norm_backward_reduce_kernel{
    "batch_norm backward (reduce)",
    {&cpu::batch_norm_backward_reduce, STRIATE_CUDA_ENTRY(&cuda::batch_norm_backward_reduce)}};
const Kernel<BatchNormBackwardInputFn> batch_norm_backward_input_kernel{
    "batch_norm backward (input)",
    {&cpu::batch_norm_backward_input, STRIATE_CUDA_ENTRY(&cuda::batch_norm_backward_input)}};
const Kernel<LayerNormForwardFn> layer_norm_forward_kernel{
    "layer_norm", {&cpu::layer_norm_forward, STRIATE_CUDA_ENTRY(&cuda::layer_norm_forward)}};
const Kernel<LayerNormBackwardFn> layer_norm_backward_kernel{
    "layer_norm backward", {&cpu::layer_norm_backward, STRIATE_CUDA_ENTRY(&cuda::layer_norm_backward)}};
const Kernel<LrnForwardFn> lrn_forward_kernel{"local_response_norm",
                                              {&cpu::lrn_forward, STRIATE_CUDA_ENTRY(&cuda::lrn_forward)}};
const Kernel<LrnBackwardFn> lrn_backward_kernel{"local_response_norm backward",
                                                {&cpu::lrn_backward, STRIATE_CUDA_ENTRY(&cuda::lrn_backward)}};
const Kernel<BatchNormLibraryForwardFn> batch_norm_forward_library_kernel{
    "batch_norm (cuDNN)", {nullptr, nullptr}, STRIATE_CUDNN_ENTRY(&cudnn::batch_norm_forward),
    OpFamily::Normalization};
const Kernel<BatchNormLibraryBackwardFn> batch_norm_backward_library_kernel{
    "batch_norm backward (cuDNN)", {nullptr, nullptr}, STRIATE_CUDNN_ENTRY(&cudnn::batch_norm_backward),
    OpFamily::Normalization};

const char* batch_norm_library_limit(const BatchNormLibraryShape& s, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::F64) return "a dtype other than f32 and f64";
  if (s.n == 0 || s.c == 0 || s.h == 0 || s.w == 0) return "an empty input";
  const int64_t largest = std::max({s.n, s.c, s.h, s.w});
  if (largest > INT32_MAX || s.n * s.c * s.h * s.w > INT32_MAX) return "sizes beyond 32-bit";
  return nullptr;
}

}  // namespace striate::kernels
