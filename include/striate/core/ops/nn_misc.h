// Small neural-network utilities: dropout, constant padding, one_hot and the
// accuracy helper. flatten lives with the views (Tensor::flatten, shape_ops.h)
// and linear with the matrix products (linalg.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "striate/core/generator.h"
#include "striate/core/tensor.h"

namespace striate {

// Training: zeroes each element with probability p (a Philox Bernoulli mask
// from `gen`, default_generator() when null) and scales the rest by
// 1 / (1 - p); p == 1 gives zeros. Eval (training = false) returns input
// unchanged. p outside [0, 1] is a ValueError. The same seed gives the same
// mask; backward multiplies by that same mask.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, Generator* gen = nullptr);

// Pads (or, with negative amounts, crops) the last dims, PyTorch's order:
// pad = {last_left, last_right, second_last_left, second_last_right, ...},
// at most 2 * input.dim() values. Only mode "constant" is implemented; new
// elements take `value`. Every resulting size must stay >= 0.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pad, const std::string& mode = "constant",
           double value = 0);

// int64 class indices [*] -> int64 [*, num_classes] with a 1 at each index.
// num_classes = -1 uses max(tensor) + 1. Indices outside [0, num_classes)
// are an IndexError.
Tensor one_hot(const Tensor& tensor, int64_t num_classes = -1);

// The fraction of rows where argmax(logits, 1) equals target:
// logits [N, C], target [N] int64 class indices.
double accuracy(const Tensor& logits, const Tensor& target);

}  // namespace striate
