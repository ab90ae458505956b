// Class-index losses (cross entropy from logits, nll_loss from
// log-probabilities), forward and backward in one pass over the scores.
//
// Scores are contiguous [outer, classes, inner]: [N, C] is outer = N,
// inner = 1; [N, C, d1, ...] is outer = N, inner = d1 * ...; targets are
// [outer, inner]. The op layer has already checked every label.
#pragma once

#include <cstdint>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

struct ClassLossShape {
  int64_t outer = 1;
  int64_t classes = 1;
  int64_t inner = 1;
};

struct ClassLossArgs {
  const void* input = nullptr;     // logits (from_logits) or log-probabilities
  const int64_t* target = nullptr;
  const void* weight = nullptr;    // [classes] or null for all ones
  ClassLossShape shape;
  DType dtype = DType::F32;        // of input, weight, and every floating output (F32 or F64)
  int64_t ignore_index = -100;
  double label_smoothing = 0;      // from_logits only
  bool from_logits = true;
};

struct ClassLossForwardParams {
  ClassLossArgs args;
  void* loss = nullptr;        // [outer, inner]: the loss of each sample, 0 where ignored
  void* logsumexp = nullptr;   // [outer, inner], from_logits only: kept for backward
  double* totals = nullptr;    // [2]: sum of the losses, sum of w[y] over kept samples (written, not added to)
};

struct ClassLossBackwardParams {
  ClassLossArgs args;
  const void* logsumexp = nullptr;  // from the forward, from_logits only
  const void* grad_loss = nullptr;  // d(result)/d(loss) per sample, dtype
  int64_t grad_stride = 1;          // 0: one value for every sample
  void* grad_input = nullptr;       // [outer, classes, inner]
};

using ClassLossForwardFn = void (*)(const ClassLossForwardParams&);
using ClassLossBackwardFn = void (*)(const ClassLossBackwardParams&);
extern const Kernel<ClassLossForwardFn> class_loss_forward_kernel;
extern const Kernel<ClassLossBackwardFn> class_loss_backward_kernel;

namespace cpu {
void class_loss_forward(const ClassLossForwardParams& p);
void class_loss_backward(const ClassLossBackwardParams& p);
}  // namespace cpu

namespace cuda {
void class_loss_forward(const ClassLossForwardParams& p);
void class_loss_backward(const ClassLossBackwardParams& p);
}  // namespace cuda

}  // namespace striate::kernels
