// The random tables: which backend fills random tensors on which device.
#include "kernels/random.h"

namespace striate::kernels {

#ifdef STRIATE_WITH_CUDA
const Kernel<RandomFn> random_kernel{"random", {&cpu::random, &cuda::random}};
#else
const Kernel<RandomFn> random_kernel{"random", {&cpu::random, nullptr}};
#endif
// Fisher–Yates is sequential; a GPU version would sort by random keys.
const Kernel<RandpermFn> randperm_kernel{"randperm", {&cpu::randperm, nullptr}};

}  // namespace striate::kernels
