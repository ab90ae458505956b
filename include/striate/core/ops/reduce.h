// Reductions over any set of dims, with keepdim, as in PyTorch.
//
// An empty `dims` list means all dims. Integer and bool sums give int64;
// mean and var need a floating input. max/min over a dim return
// (values, indices) with the index of the first extreme; NaN wins.
#pragma once

#include <optional>
#include <tuple>

#include "striate/core/tensor.h"

namespace striate {

Tensor sum(const Tensor& a, std::optional<DType> dtype = std::nullopt);
Tensor sum(const Tensor& a, const Shape& dims, bool keepdim = false,
           std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, const Shape& dims, bool keepdim = false);
// Variance with Bessel's correction by default (correction = 1).
Tensor var(const Tensor& a, int64_t correction = 1);
Tensor var(const Tensor& a, const Shape& dims, int64_t correction = 1, bool keepdim = false);
Tensor max(const Tensor& a);  // over all elements
Tensor min(const Tensor& a);
std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& a, const Shape& dims, bool keepdim = false);
Tensor amin(const Tensor& a, const Shape& dims, bool keepdim = false);
// Without dim: the index into the flattened tensor.
Tensor argmax(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& a, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

// Sums `grad` down to `sizes`: the adjoint of broadcasting (used by backward).
Tensor sum_to(const Tensor& grad, const Shape& sizes);

}  // namespace striate
