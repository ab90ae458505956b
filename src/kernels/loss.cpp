// The class-loss tables: which backend implements them on which device.
#include "kernels/loss.h"

namespace striate::kernels {

const Kernel<ClassLossForwardFn> class_loss_forward_kernel{
    "cross_entropy/nll_loss forward",
    {&cpu::class_loss_forward, STRIATE_CUDA_ENTRY(&cuda::class_loss_forward)}};
const Kernel<ClassLossBackwardFn> class_loss_backward_kernel{
    "cross_entropy/nll_loss backward",
    {&cpu::class_loss_backward, STRIATE_CUDA_ENTRY(&cuda::class_loss_backward)}};

}  // namespace striate::kernels
