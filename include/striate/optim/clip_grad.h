// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
// Call between backward() and the optimizer's step(). Parameters without a
// gradient are skipped.
#pragma once

#include <vector>

#include "striate/core/tensor.h"

namespace striate::optim {

// Scales every gradient by max_norm / (total_norm + 1e-6) when that is below
// 1, where total_norm is the norm_type-norm of all gradients together (as if
// concatenated; norm_type may be INFINITY for the largest magnitude).
// Returns total_norm, computed before clipping. With error_if_nonfinite, a
// NaN or infinite total norm is a ValueError instead of corrupting the
// gradients.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace striate::optim

// Where LibTorch users look for them.
namespace striate::nn::utils {
using optim::clip_grad_norm_;
using optim::clip_grad_value_;
}  // namespace striate::nn::utils
