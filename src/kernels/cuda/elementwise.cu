// CUDA elementwise kernels: unary, binary and where. Contiguous, aligned
// operands take 16-byte vectors per thread (vectorized.cuh), anything else
// one thread per element of the coalesced loop; either way each op is the
// same small functor on the arithmetic type, with the CPU kernel's
// semantics (kernels/cpu/elementwise.cpp): NaN propagates through maximum,
// minimum, sign and clamp; 16-bit floats compute in float and round once.
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/vectorized.cuh"
#include "kernels/elementwise.h"

namespace striate::kernels::cuda {
namespace {

template <typename A>
__device__ __forceinline__ bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>) return isnan(v);
  else return false;
}

template <typename T, BinaryOp OP>
struct BinaryElement {
  using A = device_acc_t<T>;
  static constexpr bool kWritesBool = OP >= BinaryOp::Eq;
  using Operands = cuda::Operands<std::conditional_t<kWritesBool, bool, T>, T, T>;
  A alpha;

  __device__ void operator()(char* const* p) const {
    const A a = load_acc(*reinterpret_cast<const T*>(p[1]));
    const A b = load_acc(*reinterpret_cast<const T*>(p[2]));
    if constexpr (kWritesBool) *reinterpret_cast<bool*>(p[0]) = compare(a, b);
    else *reinterpret_cast<T*>(p[0]) = store_acc<T>(arith(a, b));
  }

  __device__ A arith(A a, A b) const {
    if constexpr (OP == BinaryOp::Add) return static_cast<A>(a + alpha * b);
    else if constexpr (OP == BinaryOp::Sub) return static_cast<A>(a - alpha * b);
    else if constexpr (OP == BinaryOp::Mul) {
      if constexpr (std::is_same_v<T, bool>) return a && b;
      else return static_cast<A>(a * b);
    } else if constexpr (OP == BinaryOp::Div) return a / b;
    else if constexpr (OP == BinaryOp::Pow) {
      if constexpr (std::is_floating_point_v<A>) return pow(a, b);
      else return int_pow(a, b);
    } else if constexpr (OP == BinaryOp::Maximum) return is_nan(a) ? a : is_nan(b) ? b : (a > b ? a : b);
    else return is_nan(a) ? a : is_nan(b) ? b : (a < b ? a : b);  // Minimum
  }

  __device__ bool compare(A a, A b) const {
    if constexpr (OP == BinaryOp::Eq) return a == b;
    else if constexpr (OP == BinaryOp::Ne) return a != b;
    else if constexpr (OP == BinaryOp::Lt) return a < b;
    else if constexpr (OP == BinaryOp::Le) return a <= b;
    else if constexpr (OP == BinaryOp::Gt) return a > b;
    else if constexpr (OP == BinaryOp::Ge) return a >= b;
    else if constexpr (OP == BinaryOp::LogicalAnd) return a != A(0) && b != A(0);
    else return a != A(0) || b != A(0);  // LogicalOr
  }
};

template <typename T, UnaryOp OP>
struct UnaryElement {
  using A = device_acc_t<T>;
  using Operands = cuda::Operands<std::conditional_t<OP == UnaryOp::LogicalNot, bool, T>, T>;
  A lo, hi;
  bool has_lo, has_hi;

  __device__ void operator()(char* const* p) const {
    const A a = load_acc(*reinterpret_cast<const T*>(p[1]));
    if constexpr (OP == UnaryOp::LogicalNot) *reinterpret_cast<bool*>(p[0]) = !(a != A(0));
    else *reinterpret_cast<T*>(p[0]) = store_acc<T>(apply(a));
  }

  __device__ A apply(A a) const {
    if constexpr (OP == UnaryOp::Neg) return static_cast<A>(-a);
    else if constexpr (OP == UnaryOp::Abs) {
      if constexpr (std::is_unsigned_v<A>) return a;
      else return a < A(0) ? static_cast<A>(-a) : a;
    } else if constexpr (OP == UnaryOp::Sign) {
      if constexpr (std::is_unsigned_v<A>) return static_cast<A>(a != A(0));
      else return is_nan(a) ? a : static_cast<A>((A(0) < a) - (a < A(0)));
    }
    else if constexpr (OP == UnaryOp::Clamp) {
      if (is_nan(a)) return a;
      if (has_lo && a < lo) a = lo;
      if (has_hi && a > hi) a = hi;
      return a;
    } else if constexpr (OP == UnaryOp::Exp) return exp(a);
    else if constexpr (OP == UnaryOp::Log) return log(a);
    else return sqrt(a);  // Sqrt
  }
};

template <typename T>
struct WhereElement {
  using Operands = cuda::Operands<T, bool, T, T>;

  __device__ void operator()(char* const* p) const {
    *reinterpret_cast<T*>(p[0]) = *reinterpret_cast<const bool*>(p[1]) ? *reinterpret_cast<const T*>(p[2])
                                                                        : *reinterpret_cast<const T*>(p[3]);
  }
};

[[noreturn]] void undefined(const char* family, int op, DType dtype) {
  throw NotImplementedError(
      ::striate::detail::concat(family, " elementwise: op ", op, " is not defined for ", dtype_name(dtype)));
}

template <typename T, BinaryOp OP>
void launch_binary(const BinaryParams& p) {
  using A = device_acc_t<T>;
  const A alpha = std::is_floating_point_v<A> ? static_cast<A>(p.alpha) : static_cast<A>(p.int_alpha);
  for_each_element_vectorized(p.loop, BinaryElement<T, OP>{alpha}, "binary elementwise");
}

template <typename T, UnaryOp OP>
void launch_unary(const UnaryParams& p) {
  using A = device_acc_t<T>;
  for_each_element_vectorized(
      p.loop, UnaryElement<T, OP>{static_cast<A>(p.min), static_cast<A>(p.max), p.has_min, p.has_max},
      "unary elementwise");
}

}  // namespace

void binary(const BinaryParams& p) {
  visit_device_dtype(p.dtype, [&]<typename T>() {
    constexpr bool kFloating = std::is_floating_point_v<device_acc_t<T>>;
    switch (p.op) {
      case BinaryOp::Add: return launch_binary<T, BinaryOp::Add>(p);
      case BinaryOp::Sub: return launch_binary<T, BinaryOp::Sub>(p);
      case BinaryOp::Mul: return launch_binary<T, BinaryOp::Mul>(p);
      case BinaryOp::Div:
        if constexpr (kFloating) return launch_binary<T, BinaryOp::Div>(p);
        else undefined("binary", int(p.op), p.dtype);  // true division computes in a floating type
      case BinaryOp::Pow: return launch_binary<T, BinaryOp::Pow>(p);
      case BinaryOp::Maximum: return launch_binary<T, BinaryOp::Maximum>(p);
      case BinaryOp::Minimum: return launch_binary<T, BinaryOp::Minimum>(p);
      case BinaryOp::Eq: return launch_binary<T, BinaryOp::Eq>(p);
      case BinaryOp::Ne: return launch_binary<T, BinaryOp::Ne>(p);
      case BinaryOp::Lt: return launch_binary<T, BinaryOp::Lt>(p);
      case BinaryOp::Le: return launch_binary<T, BinaryOp::Le>(p);
      case BinaryOp::Gt: return launch_binary<T, BinaryOp::Gt>(p);
      case BinaryOp::Ge: return launch_binary<T, BinaryOp::Ge>(p);
      case BinaryOp::LogicalAnd: return launch_binary<T, BinaryOp::LogicalAnd>(p);
      case BinaryOp::LogicalOr: return launch_binary<T, BinaryOp::LogicalOr>(p);
    }
    undefined("binary", int(p.op), p.dtype);
  });
}

void unary(const UnaryParams& p) {
  visit_device_dtype(p.dtype, [&]<typename T>() {
    constexpr bool kFloating = std::is_floating_point_v<device_acc_t<T>>;
    switch (p.op) {
      case UnaryOp::Neg: return launch_unary<T, UnaryOp::Neg>(p);
      case UnaryOp::Abs: return launch_unary<T, UnaryOp::Abs>(p);
      case UnaryOp::Sign: return launch_unary<T, UnaryOp::Sign>(p);
      case UnaryOp::LogicalNot: return launch_unary<T, UnaryOp::LogicalNot>(p);
      case UnaryOp::Clamp: return launch_unary<T, UnaryOp::Clamp>(p);
      case UnaryOp::Exp:
      case UnaryOp::Log:
      case UnaryOp::Sqrt:
        if constexpr (kFloating) {
          if (p.op == UnaryOp::Exp) return launch_unary<T, UnaryOp::Exp>(p);
          if (p.op == UnaryOp::Log) return launch_unary<T, UnaryOp::Log>(p);
          return launch_unary<T, UnaryOp::Sqrt>(p);
        }
        break;
    }
    undefined("unary", int(p.op), p.dtype);
  });
}

void where(const WhereParams& p) {
  visit_device_dtype(p.dtype, [&]<typename T>() { for_each_element_vectorized(p.loop, WhereElement<T>{}, "where"); });
}

}  // namespace striate::kernels::cuda
