// Views and joins as free functions; see Tensor's methods for the views.
#pragma once

#include <vector>

#include "striate/core/tensor.h"

namespace striate {

Tensor reshape(const Tensor& a, const Shape& shape);
Tensor permute(const Tensor& a, const Shape& dims);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
Tensor squeeze(const Tensor& a);
Tensor squeeze(const Tensor& a, int64_t dim);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor expand(const Tensor& a, const Shape& sizes);
Tensor contiguous(const Tensor& a, MemoryFormat fmt = MemoryFormat::Contiguous);

// Joins along an existing dim (cat) or a new one (stack); dtypes promote.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Broadcasts every tensor to their common shape (views).
std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& tensors);

}  // namespace striate
