// The activation tables: which backend implements them on which device.
#include "kernels/activation.h"

namespace striate::kernels {

const Kernel<ActivationFn> activation_kernel{"activation", {&cpu::activation, nullptr}};
const Kernel<ActivationBackwardFn> activation_backward_kernel{"activation backward",
                                                              {&cpu::activation_backward, nullptr}};
const Kernel<PreluFn> prelu_kernel{"prelu", {&cpu::prelu, nullptr}};
const Kernel<PreluBackwardFn> prelu_backward_kernel{"prelu backward", {&cpu::prelu_backward, nullptr}};

}  // namespace striate::kernels
