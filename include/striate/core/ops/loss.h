// Loss functions, as torch.nn.functional defines them.
//
// Every loss takes a `reduction`: kNone keeps one loss per element (per
// sample for the class losses), kSum adds them, kMean averages them. For
// cross_entropy and nll_loss with class weights, the mean is PyTorch's
// weighted mean: sum(w[y_i] * loss_i) / sum(w[y_i]) over the samples whose
// label is not ignore_index. See docs/ops/losses.md.
#pragma once

#include <cstdint>

#include "striate/core/tensor.h"

namespace striate {

enum class Reduction { None, Mean, Sum };

// LibTorch spells these torch::kNone, torch::kMean, torch::kSum.
inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;

// Softmax cross entropy from logits and class indices, computed as one fused,
// numerically stable log-softmax + negative log-likelihood.
//   input:  [C] (unbatched), [N, C] or [N, C, d1, ...], floating
//   target: [] , [N]    or [N, d1, ...], int64 class indices in [0, C) or
//           ignore_index (class probabilities are not supported)
//   weight: [C] per-class weights, or undefined for all ones
// label_smoothing in [0, 1] mixes the one-hot target with the uniform
// distribution: loss = (1 - ls) * nll + ls / C * sum_c w_c * -log p_c.
// Gradients flow to input; weight is a constant.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     Reduction reduction = kMean, int64_t ignore_index = -100, double label_smoothing = 0.0);

// Negative log-likelihood of log-probabilities (e.g. log_softmax output):
// loss_i = -w[y_i] * input[i, y_i]; shapes as for cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {}, Reduction reduction = kMean,
                int64_t ignore_index = -100);

// (input - target)^2 and |input - target|, elementwise; input and target have
// the same shape. Gradients flow to both.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = kMean);

// Sigmoid + binary cross entropy in one stable formula:
//   loss = w * ((1 - t) * x + (1 + (pos_weight - 1) * t) * log(1 + exp(-x)))
// with log(1 + exp(-x)) = max(-x, 0) + log(1 + exp(-|x|)), which never
// overflows. weight broadcasts to input's shape; pos_weight (one weight per
// class) broadcasts along the last dim. Gradients flow to input and target;
// weight and pos_weight are constants.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                                        const Tensor& pos_weight = {}, Reduction reduction = kMean);

}  // namespace striate
