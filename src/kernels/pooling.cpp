// The pooling tables: which backend implements them on which device.
#include "kernels/pooling.h"

namespace striate::kernels {

const Kernel<MaxPool2dFn> max_pool2d_kernel{"max_pool2d",
                                            {&cpu::max_pool2d, STRIATE_CUDA_ENTRY(&cuda::max_pool2d)}};
const Kernel<MaxPoolBackwardFn> max_pool_backward_kernel{
    "max_pool backward", {&cpu::max_pool_backward, STRIATE_CUDA_ENTRY(&cuda::max_pool_backward)}};
const Kernel<AvgPool2dFn> avg_pool2d_kernel{"avg_pool2d", {&cpu::avg_pool2d, STRIATE_CUDA_ENTRY(&cuda::avg_pool2d)}};
const Kernel<AvgPool2dBackwardFn> avg_pool2d_backward_kernel{
    "avg_pool2d backward", {&cpu::avg_pool2d_backward, STRIATE_CUDA_ENTRY(&cuda::avg_pool2d_backward)}};
const Kernel<AdaptivePool2dFn> adaptive_avg_pool2d_kernel{
    "adaptive_avg_pool2d", {&cpu::adaptive_avg_pool2d, STRIATE_CUDA_ENTRY(&cuda::adaptive_avg_pool2d)}};
const Kernel<AdaptiveAvgPool2dBackwardFn> adaptive_avg_pool2d_backward_kernel{
    "adaptive_avg_pool2d backward",
    {&cpu::adaptive_avg_pool2d_backward, STRIATE_CUDA_ENTRY(&cuda::adaptive_avg_pool2d_backward)}};
const Kernel<AdaptivePool2dFn> adaptive_max_pool2d_kernel{
    "adaptive_max_pool2d", {&cpu::adaptive_max_pool2d, STRIATE_CUDA_ENTRY(&cuda::adaptive_max_pool2d)}};

}  // namespace striate::kernels
