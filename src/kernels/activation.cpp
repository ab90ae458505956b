// The activation tables: which backend implements them on which device.
#include "kernels/activation.h"

#include <cmath>

namespace striate::kernels {

const Kernel<ActivationFn> activation_kernel{"activation",
                                             {&cpu::activation, STRIATE_CUDA_ENTRY(&cuda::activation)},
                                             STRIATE_CUDNN_ENTRY(&cudnn::activation),
                                             OpFamily::Activation};
const Kernel<ActivationBackwardFn> activation_backward_kernel{
    "activation backward",
    {&cpu::activation_backward, STRIATE_CUDA_ENTRY(&cuda::activation_backward)},
    STRIATE_CUDNN_ENTRY(&cudnn::activation_backward),
    OpFamily::Activation};
const Kernel<PreluFn> prelu_kernel{"prelu", {&cpu::prelu, STRIATE_CUDA_ENTRY(&cuda::prelu)}};
const Kernel<PreluBackwardFn> prelu_backward_kernel{"prelu backward",
                                                    {&cpu::prelu_backward, STRIATE_CUDA_ENTRY(&cuda::prelu_backward)}};

bool library_has_activation(const ActivationArgs& args) {
  switch (args.op) {
    case Activation::Relu:
    case Activation::Sigmoid:
    case Activation::Tanh:
    case Activation::Silu:
      return true;
    case Activation::Elu:
      return args.b == 1 && args.c == 1;
    case Activation::Hardtanh:
      return args.a == 0 && args.b > 0 && std::isfinite(args.b);
    default:
      return false;
  }
}

}  // namespace striate::kernels
