// CPU elementwise kernels. Each op is a small functor on the accumulation
// type; the loop template gives contiguous runs a plain pointer loop the
// compiler vectorises, and handles every other stride pattern generically.
#include "kernels/elementwise.h"

#include <cmath>
#include <type_traits>

namespace striate::kernels::cpu {
namespace {

template <typename Out, typename In, typename F>
void binary_loop(const Loop<3>& loop, F f) {
  for_each_run(loop, [&](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == sizeof(In)) {
      auto* o = reinterpret_cast<Out*>(p[0]);
      auto* a = reinterpret_cast<const In*>(p[1]);
      auto* b = reinterpret_cast<const In*>(p[2]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    } else if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == 0) {  // tensor op scalar
      auto* o = reinterpret_cast<Out*>(p[0]);
      auto* a = reinterpret_cast<const In*>(p[1]);
      const In b = *reinterpret_cast<const In*>(p[2]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b);
    } else {
      char *o = p[0], *a = p[1], *b = p[2];
      for (int64_t i = 0; i < n; ++i, o += s[0], a += s[1], b += s[2])
        *reinterpret_cast<Out*>(o) = f(*reinterpret_cast<const In*>(a), *reinterpret_cast<const In*>(b));
    }
  });
}

template <typename Out, typename In, typename F>
void unary_loop(const Loop<2>& loop, F f) {
  for_each_run(loop, [&](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(Out) && s[1] == sizeof(In)) {
      auto* o = reinterpret_cast<Out*>(p[0]);
      auto* a = reinterpret_cast<const In*>(p[1]);
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    } else {
      char *o = p[0], *a = p[1];
      for (int64_t i = 0; i < n; ++i, o += s[0], a += s[1])
        *reinterpret_cast<Out*>(o) = f(*reinterpret_cast<const In*>(a));
    }
  });
}

template <typename A>
bool is_nan(A v) {
  if constexpr (std::is_floating_point_v<A>) return std::isnan(v);
  else return false;
}

template <typename T>
void binary_typed(const BinaryParams& p) {
  using A = acc_t<T>;
  auto arith = [&](auto f) { binary_loop<T, T>(p.loop, [f](T a, T b) { return static_cast<T>(f(A(a), A(b))); }); };
  auto compare = [&](auto f) { binary_loop<bool, T>(p.loop, [f](T a, T b) { return f(A(a), A(b)); }); };
  const A alpha = std::is_floating_point_v<A> ? static_cast<A>(p.alpha) : static_cast<A>(p.int_alpha);
  switch (p.op) {
    case BinaryOp::Add:
      if (alpha == A(1)) return arith([](A a, A b) { return a + b; });
      return arith([alpha](A a, A b) { return a + alpha * b; });
    case BinaryOp::Sub:
      if (alpha == A(1)) return arith([](A a, A b) { return a - b; });
      return arith([alpha](A a, A b) { return a - alpha * b; });
    case BinaryOp::Mul:
      if constexpr (std::is_same_v<T, bool>) return arith([](A a, A b) { return a && b; });
      else return arith([](A a, A b) { return a * b; });
    case BinaryOp::Div:
      if constexpr (std::is_floating_point_v<A>) return arith([](A a, A b) { return a / b; });
      break;  // true division always computes in a floating type
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<A>) return arith([](A a, A b) { return std::pow(a, b); });
      else return arith([](A a, A b) { return int_pow(a, b); });
    case BinaryOp::Maximum:
      return arith([](A a, A b) { return is_nan(a) ? a : is_nan(b) ? b : (a > b ? a : b); });
    case BinaryOp::Minimum:
      return arith([](A a, A b) { return is_nan(a) ? a : is_nan(b) ? b : (a < b ? a : b); });
    case BinaryOp::Eq: return compare([](A a, A b) { return a == b; });
    case BinaryOp::Ne: return compare([](A a, A b) { return a != b; });
    case BinaryOp::Lt: return compare([](A a, A b) { return a < b; });
    case BinaryOp::Le: return compare([](A a, A b) { return a <= b; });
    case BinaryOp::Gt: return compare([](A a, A b) { return a > b; });
    case BinaryOp::Ge: return compare([](A a, A b) { return a >= b; });
    case BinaryOp::LogicalAnd: return compare([](A a, A b) { return a != A(0) && b != A(0); });
    case BinaryOp::LogicalOr: return compare([](A a, A b) { return a != A(0) || b != A(0); });
  }
  throw NotImplementedError(detail::concat("binary elementwise: op ", int(p.op), " is not defined for ", p.dtype));
}

template <typename T>
void unary_typed(const UnaryParams& p) {
  using A = acc_t<T>;
  auto apply = [&](auto f) { unary_loop<T, T>(p.loop, [f](T a) { return static_cast<T>(f(A(a))); }); };
  switch (p.op) {
    case UnaryOp::Neg: return apply([](A a) { return -a; });
    case UnaryOp::Abs:
      if constexpr (std::is_unsigned_v<A>) return apply([](A a) { return a; });
      else return apply([](A a) { return a < A(0) ? -a : a; });
    case UnaryOp::Sign:
      return apply([](A a) { return is_nan(a) ? a : static_cast<A>((A(0) < a) - (a < A(0))); });
    case UnaryOp::LogicalNot:
      return unary_loop<bool, T>(p.loop, [](T a) { return !(A(a) != A(0)); });
    case UnaryOp::Clamp: {
      const A lo = static_cast<A>(p.min), hi = static_cast<A>(p.max);
      const bool has_lo = p.has_min, has_hi = p.has_max;
      return apply([=](A a) {
        if (is_nan(a)) return a;
        if (has_lo && a < lo) a = lo;
        if (has_hi && a > hi) a = hi;
        return a;
      });
    }
    default: break;
  }
  if constexpr (std::is_floating_point_v<A>) {
    switch (p.op) {
      case UnaryOp::Exp: return apply([](A a) { return std::exp(a); });
      case UnaryOp::Log: return apply([](A a) { return std::log(a); });
      case UnaryOp::Sqrt: return apply([](A a) { return std::sqrt(a); });
      default: break;
    }
  }
  throw NotImplementedError(detail::concat("unary elementwise: op ", int(p.op), " is not defined for ", p.dtype));
}

}  // namespace

void binary(const BinaryParams& p) {
  visit_dtype(p.dtype, [&]<typename T>() { binary_typed<T>(p); });
}

void unary(const UnaryParams& p) {
  visit_dtype(p.dtype, [&]<typename T>() { unary_typed<T>(p); });
}

void where(const WhereParams& p) {
  visit_dtype(p.dtype, [&]<typename T>() {
    for_each_element(p.loop, [](char** ptr) {
      *reinterpret_cast<T*>(ptr[0]) = *reinterpret_cast<const bool*>(ptr[1]) ? *reinterpret_cast<const T*>(ptr[2])
                                                                               : *reinterpret_cast<const T*>(ptr[3]);
    });
  });
}

}  // namespace striate::kernels::cpu
