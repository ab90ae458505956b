// Matrix products through BLAS (OpenBLAS on the CPU).
#pragma once

#include "striate/core/tensor.h"

namespace striate {

// torch.matmul: 1-D x 1-D is a dot product; 2-D x 2-D a matrix product; a 1-D
// operand gets a dim prepended (left) or appended (right) and removed again;
// batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);    // [n, k] x [k, m]
Tensor bmm(const Tensor& a, const Tensor& b);   // [B, n, k] x [B, k, m]
Tensor dot(const Tensor& a, const Tensor& b);   // 1-D x 1-D
Tensor mv(const Tensor& a, const Tensor& v);    // [n, k] x [k]
// beta * input + alpha * (m1 @ m2); input broadcasts to [n, m].
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, const Scalar& beta = 1,
             const Scalar& alpha = 1);
// x @ weight^T + bias, for x of shape [..., in] and weight [out, in].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

}  // namespace striate
