// The copy and fill tables: which backend implements them on which device.
#include "kernels/copy.h"

namespace striate::kernels {

const Kernel<CopyFn> copy_kernel{"copy", {&cpu::copy, nullptr}};
const Kernel<FillFn> fill_kernel{"fill", {&cpu::fill, nullptr}};

}  // namespace striate::kernels
