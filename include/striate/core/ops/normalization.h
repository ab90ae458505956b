// Normalisation layers as functions: batch_norm, layer_norm and AlexNet's
// local_response_norm, with the semantics of torch.nn.functional.
// See docs/ops/normalization.md.
#pragma once

#include <cstdint>

#include "striate/core/tensor.h"

namespace striate {

// Normalises each channel (dim 1) of an [N, C], [N, C, L], [N, C, H, W] (NCHW
// or ChannelsLast) or higher-rank input:
//   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
// training: mean and biased variance over every dim but 1; running_mean and
//   running_var (when defined) are updated in place:
//   running = (1 - momentum) * running + momentum * batch_stat, the variance
//   entering unbiased (n / (n - 1)), as PyTorch does. Needs more than one
//   value per channel.
// eval: the running statistics are used, and must be defined.
// weight and bias ([C]) are optional. Gradients flow to input, weight and
// bias in both modes (through the batch statistics when training).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false, double momentum = 0.1,
                  double eps = 1e-5);

// Normalises over the trailing dims given by normalized_shape (which must
// equal input's last dims), with per-element weight and bias of that shape:
//   y = (x - mean) / sqrt(var + eps) * weight + bias, biased variance.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// Local response normalisation across channels (AlexNet), for inputs of at
// least 3 dims [N, C, ...]:
//   y_c = x_c / (k + alpha / size * sum_{j = c - size/2}^{c + (size-1)/2} x_j^2)^beta
// where channels outside [0, C) count as zero (the sum is always divided by size).
Tensor local_response_norm(const Tensor& input, int64_t size, double alpha = 1e-4, double beta = 0.75,
                           double k = 1.0);

}  // namespace striate
