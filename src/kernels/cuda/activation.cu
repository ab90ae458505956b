// CUDA activations, forward and backward: the CPU formulas
// (kernels/cpu/activation.cpp) as device functors on the arithmetic type,
// with the same branch conditions, so NaN and the kinks take the same side.
// Contiguous, aligned tensors take the 16-byte vector path (vectorized.cuh).
#include "kernels/activation.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/vectorized.cuh"

namespace striate::kernels::cuda {
namespace {

constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
constexpr double kGeluKappa = 0.044715;

template <typename T, Activation OP>
struct Forward {
  using A = device_acc_t<T>;
  using Operands = cuda::Operands<T, T>;
  A a, b, c;

  __device__ void operator()(char* const* p) const {
    *reinterpret_cast<T*>(p[0]) = store_acc<T>(f(load_acc(*reinterpret_cast<const T*>(p[1]))));
  }

  __device__ A f(A x) const {
    if constexpr (OP == Activation::Relu) return x < A(0) ? A(0) : x;
    else if constexpr (OP == Activation::LeakyRelu) return x > A(0) ? x : x * a;
    else if constexpr (OP == Activation::Elu) return x <= A(0) ? a * b * expm1(x * c) : x * b;
    else if constexpr (OP == Activation::Gelu) return A(0.5) * x * (A(1) + erf(x * A(kInvSqrt2)));
    else if constexpr (OP == Activation::GeluTanh)
      return A(0.5) * x * (A(1) + tanh(A(kSqrt2OverPi) * (x + A(kGeluKappa) * x * x * x)));
    else if constexpr (OP == Activation::Silu) return x / (A(1) + exp(-x));
    else if constexpr (OP == Activation::Tanh) return tanh(x);
    else if constexpr (OP == Activation::Sigmoid) return A(1) / (A(1) + exp(-x));
    else if constexpr (OP == Activation::Softplus) return x * a > b ? x : log1p(exp(x * a)) / a;
    else if constexpr (OP == Activation::Softsign) return x / (A(1) + fabs(x));
    else return x < a ? a : (x > b ? b : x);  // Hardtanh
  }
};

// grad_in = f(grad_out, saved), saved being the input (or the output for
// tanh and sigmoid, see backward_uses_output).
template <typename T, Activation OP>
struct Backward {
  using A = device_acc_t<T>;
  using Operands = cuda::Operands<T, T, T>;
  A a, b, c;

  __device__ void operator()(char* const* p) const {
    const A g = load_acc(*reinterpret_cast<const T*>(p[1]));
    const A x = load_acc(*reinterpret_cast<const T*>(p[2]));
    *reinterpret_cast<T*>(p[0]) = store_acc<T>(f(g, x));
  }

  __device__ A f(A g, A x) const {
    if constexpr (OP == Activation::Relu) return x <= A(0) ? A(0) : g;
    else if constexpr (OP == Activation::LeakyRelu) return x > A(0) ? g : g * a;
    else if constexpr (OP == Activation::Elu) return x <= A(0) ? g * a * b * c * exp(x * c) : g * b;
    else if constexpr (OP == Activation::Gelu) {
      const A cdf = A(0.5) * (A(1) + erf(x * A(kInvSqrt2)));
      const A pdf = A(kInvSqrt2Pi) * exp(A(-0.5) * x * x);
      return g * (cdf + x * pdf);
    } else if constexpr (OP == Activation::GeluTanh) {
      const A x2 = x * x;
      const A t = tanh(A(kSqrt2OverPi) * (x + A(kGeluKappa) * x2 * x));
      const A dinner = A(kSqrt2OverPi) * (A(1) + A(3 * kGeluKappa) * x2);
      return g * (A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * dinner);
    } else if constexpr (OP == Activation::Silu) {
      const A s = A(1) / (A(1) + exp(-x));
      return g * s * (A(1) + x * (A(1) - s));
    } else if constexpr (OP == Activation::Tanh) return g * (A(1) - x * x);  // x is the output
    else if constexpr (OP == Activation::Sigmoid) return g * (A(1) - x) * x;
    else if constexpr (OP == Activation::Softplus) return x * a > b ? g : g / (A(1) + exp(-x * a));
    else if constexpr (OP == Activation::Softsign) {
      const A d = A(1) + fabs(x);
      return g / (d * d);
    } else return (x <= a || x >= b) ? A(0) : g;  // Hardtanh
  }
};

// Calls launch.template operator()<T, OP>() for the floating dtype and op.
template <typename Launch>
void dispatch(DType dtype, Activation op, const char* name, Launch launch) {
  visit_device_dtype(dtype, [&]<typename T>() {
    if constexpr (!std::is_floating_point_v<device_acc_t<T>>) {
      throw DTypeError(::striate::detail::concat(name, ": expected a floating-point tensor, got ", dtype_name(dtype)));
    } else {
      switch (op) {
        case Activation::Relu: return launch.template operator()<T, Activation::Relu>();
        case Activation::LeakyRelu: return launch.template operator()<T, Activation::LeakyRelu>();
        case Activation::Elu: return launch.template operator()<T, Activation::Elu>();
        case Activation::Gelu: return launch.template operator()<T, Activation::Gelu>();
        case Activation::GeluTanh: return launch.template operator()<T, Activation::GeluTanh>();
        case Activation::Silu: return launch.template operator()<T, Activation::Silu>();
        case Activation::Tanh: return launch.template operator()<T, Activation::Tanh>();
        case Activation::Sigmoid: return launch.template operator()<T, Activation::Sigmoid>();
        case Activation::Softplus: return launch.template operator()<T, Activation::Softplus>();
        case Activation::Softsign: return launch.template operator()<T, Activation::Softsign>();
        case Activation::Hardtanh: return launch.template operator()<T, Activation::Hardtanh>();
      }
      throw NotImplementedError(::striate::detail::concat(name, ": unknown op ", int(op)));
    }
  });
}

}  // namespace

void activation(const ActivationParams& p) {
  dispatch(p.dtype, p.args.op, "activation", [&]<typename T, Activation OP>() {
    using A = device_acc_t<T>;
    for_each_element_vectorized(p.loop, Forward<T, OP>{A(p.args.a), A(p.args.b), A(p.args.c)}, "activation");
  });
}

void activation_backward(const ActivationBackwardParams& p) {
  dispatch(p.dtype, p.args.op, "activation backward", [&]<typename T, Activation OP>() {
    using A = device_acc_t<T>;
    for_each_element_vectorized(p.loop, Backward<T, OP>{A(p.args.a), A(p.args.b), A(p.args.c)},
                                "activation backward");
  });
}

}  // namespace striate::kernels::cuda
