// Activation kernels: elementwise forward and backward over strided operands
// of one floating dtype (f16/bf16 are computed in float), plus prelu, whose
// per-channel weight does not fit the elementwise mould.
#pragma once

#include <cstdint>

#include "kernels/cpu/loop.h"
#include "kernels/kernel.h"
#include "striate/core/dtype.h"

namespace striate::kernels {

// selu and relu6 are Elu and Hardtanh with fixed arguments.
enum class Activation : uint8_t {
  Relu,       // max(x, 0)
  LeakyRelu,  // a = negative_slope
  Elu,        // a = alpha, b = scale, c = input_scale
  Gelu,       // exact (erf)
  GeluTanh,   // tanh approximation
  Silu,
  Tanh,
  Sigmoid,
  Softplus,   // a = beta, b = threshold
  Softsign,
  Hardtanh,   // a = min_val, b = max_val
};

// Whether the backward formula reads the forward output (else the input).
constexpr bool backward_uses_output(Activation op) { return op == Activation::Tanh || op == Activation::Sigmoid; }

struct ActivationArgs {
  Activation op = Activation::Relu;
  double a = 0, b = 0, c = 0;  // see Activation
};

struct ActivationParams {
  Loop<2> loop;  // out, in (out may alias in)
  ActivationArgs args;
  DType dtype;
};

struct ActivationBackwardParams {
  Loop<3> loop;  // grad_in, grad_out, saved (the input, or the output where backward_uses_output)
  ActivationArgs args;
  DType dtype;
};

// Contiguous input viewed as [outer, channels, inner]; weight has `channels`
// elements (1 for a shared weight, which the op layer expresses as channels = 1).
struct PreluShape {
  int64_t outer = 1, channels = 1, inner = 1;
};

struct PreluParams {
  const void* input = nullptr;
  const void* weight = nullptr;
  void* output = nullptr;
  PreluShape shape;
  DType dtype;
};

// grad_input (when non-null) and grad_weight (when non-null, [channels],
// summed in double then written in dtype).
struct PreluBackwardParams {
  const void* grad_out = nullptr;  // contiguous like input
  const void* input = nullptr;
  const void* weight = nullptr;
  void* grad_input = nullptr;
  void* grad_weight = nullptr;
  PreluShape shape;
  DType dtype;
};

using ActivationFn = void (*)(const ActivationParams&);
using ActivationBackwardFn = void (*)(const ActivationBackwardParams&);
using PreluFn = void (*)(const PreluParams&);
using PreluBackwardFn = void (*)(const PreluBackwardParams&);
extern const Kernel<ActivationFn> activation_kernel;
extern const Kernel<ActivationBackwardFn> activation_backward_kernel;
extern const Kernel<PreluFn> prelu_kernel;
extern const Kernel<PreluBackwardFn> prelu_backward_kernel;

namespace cpu {
void activation(const ActivationParams& p);
void activation_backward(const ActivationBackwardParams& p);
void prelu(const PreluParams& p);
void prelu_backward(const PreluBackwardParams& p);
}  // namespace cpu

namespace cuda {
void activation(const ActivationParams& p);
void activation_backward(const ActivationBackwardParams& p);
void prelu(const PreluParams& p);
void prelu_backward(const PreluBackwardParams& p);
}  // namespace cuda

}  // namespace striate::kernels
