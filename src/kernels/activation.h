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
  // cudnnActivationBackward reads the forward's input and output both: this
  // is the one not saved above, laid out as saved (the loop's strides of
  // operand 2 apply to it). The op layer sets it only when the library may
  // run; the native kernels ignore it, and the library entry runs them
  // without it.
  const void* other = nullptr;
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

// Whether cuDNN has this activation: relu, sigmoid, tanh, silu (swish), elu
// with scale and input_scale 1, and hardtanh with min_val 0 and a finite
// max_val > 0 (clipped relu, relu6). The rest runs the native kernels.
bool library_has_activation(const ActivationArgs& args);

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

// cuDNN activations (cudnnActivationForward/Backward, NaN propagated) over Nd
// descriptors of the loop: for operands with the same strides (positive, at
// most 5 dims after merging, 32-bit offsets), the activations of
// library_has_activation, and the dtypes cuDNN takes. Anything else, and a
// backward without `other`, runs the native kernel, said once on stderr.
namespace cudnn {
void activation(const ActivationParams& p);
void activation_backward(const ActivationBackwardParams& p);
}  // namespace cudnn

}  // namespace striate::kernels
