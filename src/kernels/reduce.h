// Reduction kernels over a contiguous input viewed as [outer, reduce, inner]:
// every output element out[o, i] folds the `reduce` elements in[o, :, i].
// The op layer arranges any reduction into this shape (permuting the reduced
// dims to the end when they are not already one contiguous run), so kernels
// see plain pointers and three sizes.
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct ReduceShape {
  int64_t outer = 1;
  int64_t reduce = 1;
  int64_t inner = 1;
};

enum class ReduceOp : uint8_t {
  Sum,  // out = scale * sum; out dtype: the input's for floats, int64 for integers and bool
  Var,  // out = sum((x - mean)^2) / max(0, reduce - correction); floating only
};

struct ReduceParams {
  const void* in = nullptr;
  void* out = nullptr;  // [outer, inner], contiguous
  ReduceShape shape;
  DType dtype;          // of the input
  ReduceOp op = ReduceOp::Sum;
  double scale = 1;        // Sum on floating dtypes (mean passes 1/n)
  int64_t correction = 1;  // Var
};

// The extreme along the reduced dim, its index (the first one; NaN counts as
// the extreme), or both. reduce must be > 0.
struct ArgReduceParams {
  const void* in = nullptr;
  void* values = nullptr;      // [outer, inner] of the input dtype, or null
  int64_t* indices = nullptr;  // [outer, inner], or null
  ReduceShape shape;
  DType dtype;
  bool is_max = true;
};

using ReduceFn = void (*)(const ReduceParams&);
using ArgReduceFn = void (*)(const ArgReduceParams&);
extern const Kernel<ReduceFn> reduce_kernel;
extern const Kernel<ArgReduceFn> arg_reduce_kernel;

namespace cpu {
void reduce(const ReduceParams& p);
void arg_reduce(const ArgReduceParams& p);
}  // namespace cpu

namespace cuda {
void reduce(const ReduceParams& p);
void arg_reduce(const ArgReduceParams& p);
}  // namespace cuda

}  // namespace striate::kernels
