// The copy and fill tables: which backend implements them on which device.
#include "kernels/copy.h"

namespace striate::kernels {

const Kernel<CopyFn> copy_kernel{"copy", {&cpu::copy, STRIATE_CUDA_ENTRY(&cuda::copy)}};
const Kernel<FillFn> fill_kernel{"fill", {&cpu::fill, STRIATE_CUDA_ENTRY(&cuda::fill)}};

#ifndef STRIATE_WITH_CUDA  // with CUDA: kernels/cuda/transfer.cu
void transfer(const TransferParams& p) {
  STRIATE_CHECK(false, DeviceError, "copy from ", p.src_device, " to ", p.dst_device,
                ": this build of Striate has no CUDA backend");
}
#endif

}  // namespace striate::kernels
