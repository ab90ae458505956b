// The softmax tables: which backend implements them on which device.
#include "kernels/softmax.h"

namespace striate::kernels {

const Kernel<SoftmaxFn> softmax_kernel{"softmax", {&cpu::softmax, STRIATE_CUDA_ENTRY(&cuda::softmax)}};
const Kernel<SoftmaxBackwardFn> softmax_backward_kernel{
    "softmax backward", {&cpu::softmax_backward, STRIATE_CUDA_ENTRY(&cuda::softmax_backward)}};

}  // namespace striate::kernels
