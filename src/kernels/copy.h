// Copy with dtype conversion between two strided buffers of one shape:
// behind contiguous(), to(dtype), copy_() and clone().
#pragma once

#include "kernels/cpu/loop.h"
#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct CopyParams {
  Loop<2> loop;  // operand 0: destination, 1: source
  DType dst_dtype;
  DType src_dtype;
};
using CopyFn = void (*)(const CopyParams&);
extern const Kernel<CopyFn> copy_kernel;

struct FillParams {
  Loop<1> loop;
  DType dtype;
  double value;       // used for floating dtypes
  int64_t int_value;  // used for integer and bool dtypes
};
using FillFn = void (*)(const FillParams&);
extern const Kernel<FillFn> fill_kernel;

namespace cpu {
void copy(const CopyParams& p);
void fill(const FillParams& p);
}  // namespace cpu

namespace cuda {
void copy(const CopyParams& p);
void fill(const FillParams& p);
}  // namespace cuda

// Moves bytes between devices (host <-> GPU, GPU <-> GPU) on the current
// stream of the GPU side; waits for the copy unless `non_blocking`.
struct TransferParams {
  void* dst;
  Device dst_device;
  const void* src;
  Device src_device;
  size_t nbytes;
  bool non_blocking;
};
void transfer(const TransferParams& p);

}  // namespace striate::kernels
