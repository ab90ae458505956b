// Activation functions and softmax, with the semantics (and the derivative at
// every kink) of torch.nn.functional. See docs/ops/activations.md.
//
// Every activation is elementwise, keeps the input's shape and memory format,
// and takes floating inputs (relu also integers); f16/bf16 are computed in
// float. The in-place forms (relu_, ...) write into their argument and are
// recorded by autograd like the out-of-place ones.
#pragma once

#include <optional>
#include <string>

#include "striate/core/tensor.h"

namespace striate {

// max(x, 0); the gradient at 0 is 0.
Tensor relu(const Tensor& input);
Tensor& relu_(Tensor& input);

// x for x > 0, negative_slope * x otherwise (the gradient at 0 is negative_slope).
Tensor leaky_relu(const Tensor& input, double negative_slope = 0.01);
Tensor& leaky_relu_(Tensor& input, double negative_slope = 0.01);

// x for x > 0, weight[c] * x otherwise, where c is the index along dim 1
// (any index for an input of fewer than 2 dims). weight holds 1 element
// (shared) or one per channel; it gets a gradient too.
Tensor prelu(const Tensor& input, const Tensor& weight);

// scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise
// (LibTorch's three-argument elu; the gradient at 0 takes the negative branch).
Tensor elu(const Tensor& input, double alpha = 1.0, double scale = 1.0, double input_scale = 1.0);
Tensor& elu_(Tensor& input, double alpha = 1.0, double scale = 1.0, double input_scale = 1.0);

// elu with alpha = 1.6732632423543772 and scale = 1.0507009873554805.
Tensor selu(const Tensor& input);
Tensor& selu_(Tensor& input);

// x * Phi(x) ("none": the exact Gaussian CDF) or its tanh approximation ("tanh").
Tensor gelu(const Tensor& input, const std::string& approximate = "none");

// x * sigmoid(x).
Tensor silu(const Tensor& input);
Tensor& silu_(Tensor& input);

Tensor tanh(const Tensor& input);
Tensor& tanh_(Tensor& input);
Tensor sigmoid(const Tensor& input);
Tensor& sigmoid_(Tensor& input);

// log(1 + exp(beta * x)) / beta, or x where beta * x > threshold.
Tensor softplus(const Tensor& input, double beta = 1.0, double threshold = 20.0);

// x / (1 + |x|).
Tensor softsign(const Tensor& input);

// clamp(x, min_val, max_val); the gradient is 0 at and beyond the bounds.
Tensor hardtanh(const Tensor& input, double min_val = -1.0, double max_val = 1.0);
Tensor& hardtanh_(Tensor& input, double min_val = -1.0, double max_val = 1.0);

// hardtanh(x, 0, 6).
Tensor relu6(const Tensor& input);
Tensor& relu6_(Tensor& input);

// exp(x) / sum(exp(x)) along `dim` (negative counts from the end), computed
// after subtracting the maximum so that large inputs do not overflow. With
// `dtype`, the input is converted to it first (the result has that dtype).
Tensor softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);

// log(softmax(x)) computed as x - max - log(sum(exp(x - max))).
Tensor log_softmax(const Tensor& input, int64_t dim, std::optional<DType> dtype = std::nullopt);

}  // namespace striate
