// The copy and fill tables: which backend implements them on which device.
#include "kernels/copy.h"

namespace striate::kernels {

#ifdef STRIATE_WITH_CUDA
const Kernel<CopyFn> copy_kernel{"copy", {&cpu::copy, &cuda::copy}};
const Kernel<FillFn> fill_kernel{"fill", {&cpu::fill, &cuda::fill}};
#else
const Kernel<CopyFn> copy_kernel{"copy", {&cpu::copy, nullptr}};
const Kernel<FillFn> fill_kernel{"fill", {&cpu::fill, nullptr}};

void transfer(const TransferParams& p) {
  STRIATE_CHECK(false, DeviceError, "copy from ", p.src_device, " to ", p.dst_device,
                ": this build of Striate has no CUDA backend");
}
#endif

}  // namespace striate::kernels
