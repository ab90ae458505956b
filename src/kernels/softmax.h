// Softmax and log-softmax along one dim of a contiguous tensor viewed as
// [outer, dim, inner], forward and backward (f32 and f64 on the CPU and the
// GPU; the op layer computes f16/bf16 in f32).
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct SoftmaxShape {
  int64_t outer = 1, dim = 1, inner = 1;
};

struct SoftmaxParams {
  const void* input = nullptr;
  void* output = nullptr;
  SoftmaxShape shape;
  bool log = false;  // log_softmax
  DType dtype;
};

// softmax:     grad_in = y * (g - sum_dim(g * y))
// log_softmax: grad_in = g - exp(y) * sum_dim(g)
struct SoftmaxBackwardParams {
  const void* grad_out = nullptr;
  const void* output = nullptr;  // the forward result y
  void* grad_input = nullptr;
  SoftmaxShape shape;
  bool log = false;
  DType dtype;
};

using SoftmaxFn = void (*)(const SoftmaxParams&);
using SoftmaxBackwardFn = void (*)(const SoftmaxBackwardParams&);
extern const Kernel<SoftmaxFn> softmax_kernel;
extern const Kernel<SoftmaxBackwardFn> softmax_backward_kernel;

namespace cpu {
void softmax(const SoftmaxParams& p);
void softmax_backward(const SoftmaxBackwardParams& p);
}  // namespace cpu

namespace cuda {
void softmax(const SoftmaxParams& p);
void softmax_backward(const SoftmaxBackwardParams& p);
}  // namespace cuda

}  // namespace striate::kernels
