// The reduction tables: which backend implements them on which device.
#include "kernels/reduce.h"

namespace striate::kernels {

const Kernel<ReduceFn> reduce_kernel{"reduce", {&cpu::reduce, STRIATE_CUDA_ENTRY(&cuda::reduce)}};
const Kernel<ArgReduceFn> arg_reduce_kernel{"arg_reduce", {&cpu::arg_reduce, STRIATE_CUDA_ENTRY(&cuda::arg_reduce)}};

}  // namespace striate::kernels
