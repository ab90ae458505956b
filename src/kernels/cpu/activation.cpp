// CPU activation kernels. The switch on the activation sits outside the
// loops: each case hands one small functor to a loop template that gives
// contiguous runs a plain pointer loop the compiler can vectorise.
//
// Branch conditions are written as PyTorch writes them (x <= 0 ? ... : ...),
// so that NaN inputs and the kinks at 0 and at the bounds take the same side
// as there: a NaN input gets the "else" branch.
#include "kernels/activation.h"

#include <cmath>
#include <vector>

namespace striate::kernels::cpu {
namespace {

constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2 / pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1 / sqrt(2 pi)
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
constexpr double kGeluKappa = 0.044715;

template <typename T, typename F>
void map_unary(const Loop<2>& loop, F f) {
  using A = acc_t<T>;
  for_each_run(loop, [&](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      auto* out = reinterpret_cast<T*>(p[0]);
      const auto* in = reinterpret_cast<const T*>(p[1]);
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(f(static_cast<A>(in[i])));
    } else {
      char *out = p[0], *in = p[1];
      for (int64_t i = 0; i < n; ++i, out += s[0], in += s[1])
        *reinterpret_cast<T*>(out) = static_cast<T>(f(static_cast<A>(*reinterpret_cast<const T*>(in))));
    }
  });
}

// grad_in = f(grad_out, saved).
template <typename T, typename F>
void map_binary(const Loop<3>& loop, F f) {
  using A = acc_t<T>;
  for_each_run(loop, [&](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      auto* gi = reinterpret_cast<T*>(p[0]);
      const auto* go = reinterpret_cast<const T*>(p[1]);
      const auto* sv = reinterpret_cast<const T*>(p[2]);
      for (int64_t i = 0; i < n; ++i) gi[i] = static_cast<T>(f(static_cast<A>(go[i]), static_cast<A>(sv[i])));
    } else {
      char *gi = p[0], *go = p[1], *sv = p[2];
      for (int64_t i = 0; i < n; ++i, gi += s[0], go += s[1], sv += s[2])
        *reinterpret_cast<T*>(gi) = static_cast<T>(f(static_cast<A>(*reinterpret_cast<const T*>(go)),
                                                     static_cast<A>(*reinterpret_cast<const T*>(sv))));
    }
  });
}

template <typename T>
void activation_typed(const ActivationParams& p) {
  using A = acc_t<T>;
  const A a = static_cast<A>(p.args.a), b = static_cast<A>(p.args.b), c = static_cast<A>(p.args.c);
  const auto& loop = p.loop;
  switch (p.args.op) {
    case Activation::Relu:
      return map_unary<T>(loop, [](A x) { return x < A(0) ? A(0) : x; });
    case Activation::LeakyRelu:
      return map_unary<T>(loop, [a](A x) { return x > A(0) ? x : x * a; });
    case Activation::Elu: {
      const A neg = a * b;  // scale * alpha
      return map_unary<T>(loop, [=](A x) { return x <= A(0) ? neg * std::expm1(x * c) : x * b; });
    }
    case Activation::Gelu:
      return map_unary<T>(loop, [](A x) { return A(0.5) * x * (A(1) + std::erf(x * A(kInvSqrt2))); });
    case Activation::GeluTanh:
      return map_unary<T>(loop, [](A x) {
        const A inner = A(kSqrt2OverPi) * (x + A(kGeluKappa) * x * x * x);
        return A(0.5) * x * (A(1) + std::tanh(inner));
      });
    case Activation::Silu:
      return map_unary<T>(loop, [](A x) { return x / (A(1) + std::exp(-x)); });
    case Activation::Tanh:
      return map_unary<T>(loop, [](A x) { return std::tanh(x); });
    case Activation::Sigmoid:
      return map_unary<T>(loop, [](A x) { return A(1) / (A(1) + std::exp(-x)); });
    case Activation::Softplus:
      return map_unary<T>(loop, [=](A x) { return x * a > b ? x : std::log1p(std::exp(x * a)) / a; });
    case Activation::Softsign:
      return map_unary<T>(loop, [](A x) { return x / (A(1) + std::abs(x)); });
    case Activation::Hardtanh:
      // As clamp: NaN passes through.
      return map_unary<T>(loop, [=](A x) { return x < a ? a : (x > b ? b : x); });
  }
  throw NotImplementedError(detail::concat("activation: unknown op ", int(p.args.op)));
}

template <typename T>
void activation_backward_typed(const ActivationBackwardParams& p) {
  using A = acc_t<T>;
  const A a = static_cast<A>(p.args.a), b = static_cast<A>(p.args.b), c = static_cast<A>(p.args.c);
  const auto& loop = p.loop;
  switch (p.args.op) {
    case Activation::Relu:
      return map_binary<T>(loop, [](A g, A x) { return x <= A(0) ? A(0) : g; });
    case Activation::LeakyRelu:
      return map_binary<T>(loop, [a](A g, A x) { return x > A(0) ? g : g * a; });
    case Activation::Elu: {
      const A neg = a * b * c;  // d/dx scale * alpha * (exp(input_scale x) - 1) at x = 0
      return map_binary<T>(loop, [=](A g, A x) { return x <= A(0) ? g * neg * std::exp(x * c) : g * b; });
    }
    case Activation::Gelu:
      return map_binary<T>(loop, [](A g, A x) {
        const A cdf = A(0.5) * (A(1) + std::erf(x * A(kInvSqrt2)));
        const A pdf = A(kInvSqrt2Pi) * std::exp(A(-0.5) * x * x);
        return g * (cdf + x * pdf);
      });
    case Activation::GeluTanh:
      return map_binary<T>(loop, [](A g, A x) {
        const A x2 = x * x;
        const A t = std::tanh(A(kSqrt2OverPi) * (x + A(kGeluKappa) * x2 * x));
        const A dinner = A(kSqrt2OverPi) * (A(1) + A(3 * kGeluKappa) * x2);
        return g * (A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * dinner);
      });
    case Activation::Silu:
      return map_binary<T>(loop, [](A g, A x) {
        const A s = A(1) / (A(1) + std::exp(-x));
        return g * s * (A(1) + x * (A(1) - s));
      });
    case Activation::Tanh:
      return map_binary<T>(loop, [](A g, A y) { return g * (A(1) - y * y); });
    case Activation::Sigmoid:
      return map_binary<T>(loop, [](A g, A y) { return g * (A(1) - y) * y; });
    case Activation::Softplus:
      // d/dx log1p(exp(beta x)) / beta = sigmoid(beta x).
      return map_binary<T>(loop, [=](A g, A x) { return x * a > b ? g : g / (A(1) + std::exp(-x * a)); });
    case Activation::Softsign:
      return map_binary<T>(loop, [](A g, A x) {
        const A d = A(1) + std::abs(x);
        return g / (d * d);
      });
    case Activation::Hardtanh:
      return map_binary<T>(loop, [=](A g, A x) { return (x <= a || x >= b) ? A(0) : g; });
  }
  throw NotImplementedError(detail::concat("activation backward: unknown op ", int(p.args.op)));
}

template <typename T>
void prelu_typed(const PreluParams& p) {
  using A = acc_t<T>;
  const auto* in = static_cast<const T*>(p.input);
  const auto* w = static_cast<const T*>(p.weight);
  auto* out = static_cast<T*>(p.output);
  const auto [outer, channels, inner] = p.shape;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ch = 0; ch < channels; ++ch) {
      const A wc = static_cast<A>(w[ch]);
      const int64_t base = (o * channels + ch) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const A x = static_cast<A>(in[base + i]);
        out[base + i] = static_cast<T>(x > A(0) ? x : wc * x);
      }
    }
}

template <typename T>
void prelu_backward_typed(const PreluBackwardParams& p) {
  using A = acc_t<T>;
  const auto* go = static_cast<const T*>(p.grad_out);
  const auto* in = static_cast<const T*>(p.input);
  const auto* w = static_cast<const T*>(p.weight);
  auto* gi = static_cast<T*>(p.grad_input);
  auto* gw = static_cast<T*>(p.grad_weight);
  const auto [outer, channels, inner] = p.shape;
  std::vector<double> weight_sums(gw ? channels : 0, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ch = 0; ch < channels; ++ch) {
      const A wc = static_cast<A>(w[ch]);
      const int64_t base = (o * channels + ch) * inner;
      if (gi)
        for (int64_t i = 0; i < inner; ++i) {
          const A x = static_cast<A>(in[base + i]), g = static_cast<A>(go[base + i]);
          gi[base + i] = static_cast<T>(x > A(0) ? g : wc * g);
        }
      if (gw) {
        A sum = 0;
        for (int64_t i = 0; i < inner; ++i) {
          const A x = static_cast<A>(in[base + i]), g = static_cast<A>(go[base + i]);
          sum += x > A(0) ? A(0) : x * g;
        }
        weight_sums[ch] += static_cast<double>(sum);
      }
    }
  if (gw)
    for (int64_t ch = 0; ch < channels; ++ch) gw[ch] = static_cast<T>(weight_sums[ch]);
}

}  // namespace

void activation(const ActivationParams& p) {
  visit_floating(p.dtype, "activation", [&]<typename T>() { activation_typed<T>(p); });
}

void activation_backward(const ActivationBackwardParams& p) {
  visit_floating(p.dtype, "activation backward", [&]<typename T>() { activation_backward_typed<T>(p); });
}

void prelu(const PreluParams& p) {
  visit_floating(p.dtype, "prelu", [&]<typename T>() { prelu_typed<T>(p); });
}

void prelu_backward(const PreluBackwardParams& p) {
  visit_floating(p.dtype, "prelu backward", [&]<typename T>() { prelu_backward_typed<T>(p); });
}

}  // namespace striate::kernels::cpu
