// The activation tables: which backend implements them on which device.
#include "kernels/activation.h"

namespace striate::kernels {

const Kernel<ActivationFn> activation_kernel{"activation", {&cpu::activation, STRIATE_CUDA_ENTRY(&cuda::activation)}};
const Kernel<ActivationBackwardFn> activation_backward_kernel{"activation backward",
                                                              {&cpu::activation_backward, STRIATE_CUDA_ENTRY(&cuda::activation_backward)}};
const Kernel<PreluFn> prelu_kernel{"prelu", {&cpu::prelu, STRIATE_CUDA_ENTRY(&cuda::prelu)}};
const Kernel<PreluBackwardFn> prelu_backward_kernel{"prelu backward",
                                                    {&cpu::prelu_backward, STRIATE_CUDA_ENTRY(&cuda::prelu_backward)}};

}  // namespace striate::kernels
