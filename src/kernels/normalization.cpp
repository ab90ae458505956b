// The normalisation tables: which backend implements them on which device.
#include "kernels/normalization.h"

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

}  // namespace striate::kernels
