// The fused optimizer tables: which backend implements them on which device.
#include "kernels/optim.h"

namespace striate::kernels {

const Kernel<SgdFn> sgd_kernel{"sgd update", {&cpu::sgd, STRIATE_CUDA_ENTRY(&cuda::sgd)}};
const Kernel<AdamFn> adam_kernel{"adam update", {&cpu::adam, STRIATE_CUDA_ENTRY(&cuda::adam)}};

}  // namespace striate::kernels
