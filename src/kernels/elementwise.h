// Elementwise kernels: unary, binary and where, over strided operands whose
// dtypes the op layer has already made uniform (the compute dtype).
#pragma once

#include "kernels/cpu/loop.h"
#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

enum class BinaryOp : uint8_t {
  Add,  // a + alpha * b
  Sub,  // a - alpha * b
  Mul, Div, Pow, Maximum, Minimum,
  // Comparisons and logic write bool.
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr,
};

constexpr bool writes_bool(BinaryOp op) { return op >= BinaryOp::Eq; }

// Integer power by squaring, shared by the CPU and CUDA kernels; the op
// layer rejects negative exponents.
template <typename A>
STRIATE_HOST_DEVICE inline A int_pow(A base, A exp) {
  A result = 1;
  while (exp > 0) {
    if (exp & 1) result = static_cast<A>(result * base);
    base = static_cast<A>(base * base);
    exp >>= 1;
  }
  return result;
}

struct BinaryParams {
  Loop<3> loop;  // out, a, b
  BinaryOp op;
  DType dtype;   // of a and b, and of out unless writes_bool(op)
  double alpha = 1;        // Add/Sub, floating dtypes
  int64_t int_alpha = 1;   // Add/Sub, integer dtypes
};

enum class UnaryOp : uint8_t { Neg, Abs, Exp, Log, Sqrt, Sign, LogicalNot, Clamp };

struct UnaryParams {
  Loop<2> loop;  // out, in (same dtype, except LogicalNot which writes bool)
  UnaryOp op;
  DType dtype;
  // Clamp bounds; NaN inputs stay NaN.
  bool has_min = false, has_max = false;
  double min = 0, max = 0;
};

struct WhereParams {
  Loop<4> loop;  // out, condition (bool), a, b
  DType dtype;   // of out, a and b
};

using BinaryFn = void (*)(const BinaryParams&);
using UnaryFn = void (*)(const UnaryParams&);
using WhereFn = void (*)(const WhereParams&);
extern const Kernel<BinaryFn> binary_kernel;
extern const Kernel<UnaryFn> unary_kernel;
extern const Kernel<WhereFn> where_kernel;

namespace cpu {
void binary(const BinaryParams& p);
void unary(const UnaryParams& p);
void where(const WhereParams& p);
}  // namespace cpu

namespace cuda {
void binary(const BinaryParams& p);
void unary(const UnaryParams& p);
void where(const WhereParams& p);
}  // namespace cuda

}  // namespace striate::kernels
