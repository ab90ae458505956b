// The random tables: which backend fills random tensors on which device.
#include "kernels/random.h"

namespace striate::kernels {

const Kernel<RandomFn> random_kernel{"random", {&cpu::random, STRIATE_CUDA_ENTRY(&cuda::random)}};
// Fisher–Yates is sequential; a GPU version would sort by random keys.
const Kernel<RandpermFn> randperm_kernel{"randperm", {&cpu::randperm, nullptr}};

}  // namespace striate::kernels
