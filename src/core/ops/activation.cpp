// Activations: argument checks, the kernel call, one autograd node per op
// whose backward runs the matching backward kernel, and the in-place forms.
#include "striate/core/ops/activation.h"

#include <vector>

#include "core/ops/internal.h"
#include "kernels/activation.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate {

using autograd::SavedTensor;
using kernels::Activation;
using kernels::ActivationArgs;

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

void check_floating_input(const Tensor& input, const char* op) {
  ops::check_defined(input, op, "input");
  STRIATE_CHECK(input.is_floating_point(), DTypeError, op, ": expected a floating-point input, got ", input.dtype());
}

// Auto's key for an activation of `loop`: the op, dtype and extent.
template <int N>
std::vector<int64_t> activation_key(const kernels::Loop<N>& loop, const ActivationArgs& args, DType dtype) {
  std::vector<int64_t> key{static_cast<int64_t>(args.op), static_cast<int64_t>(dtype), loop.ndim};
  for (int d = 0; d < loop.ndim; ++d) key.push_back(loop.sizes[d]);
  return key;
}

// Whether cuDNN may run this activation of `input` (under the Library
// backend, or Auto measuring it): its backward then reads the forward's
// input and output both.
bool library_may_activate(const Tensor& input, const ActivationArgs& args) {
  return input.is_cuda() && kernel_backend(OpFamily::Activation) != KernelBackend::Native &&
         kernels::activation_kernel.library != nullptr && kernels::library_has_activation(args);
}

// Same sizes, and the same strides wherever a dim has more than one element.
bool same_layout(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;
  return true;
}

Tensor activation_raw(const Tensor& input, const ActivationArgs& args, const char* op) {
  Tensor out = empty(input.sizes(), input.options(), input.suggest_memory_format());
  kernels::ActivationParams p{ops::make_loop<2>({&out, &input}, input.sizes(), op), args, input.dtype()};
  kernels::activation_kernel.run(input.device(), activation_key(p.loop, args, input.dtype()), p);
  return out;
}

// `other` (may be undefined) is the forward tensor not saved, for the library.
Tensor activation_backward_raw(const Tensor& grad, const Tensor& saved, const Tensor& other,
                               const ActivationArgs& args, const char* op) {
  Tensor g = grad.to(saved.dtype());
  Tensor grad_input = empty(saved.sizes(), saved.options(), saved.suggest_memory_format());
  const bool library = other.defined() && same_layout(other, saved);
  // cuDNN takes operands laid out alike; autograd's gradient may not be (an
  // expanded one from sum(), say).
  if (library && !same_layout(g, grad_input)) g = g.contiguous(saved.suggest_memory_format());
  kernels::ActivationBackwardParams p{ops::make_loop<3>({&grad_input, &g, &saved}, saved.sizes(), op), args,
                                      saved.dtype()};
  if (library) p.other = other.data_ptr();
  kernels::activation_backward_kernel.run(saved.device(), activation_key(p.loop, args, saved.dtype()), p);
  return grad_input;
}

Tensor apply_activation(const Tensor& input, const ActivationArgs& args, const char* op, const char* node) {
  check_floating_input(input, op);
  Tensor out = activation_raw(input, args, op);
  if (autograd::any_requires_grad({input})) {
    const bool uses_output = kernels::backward_uses_output(args.op);
    const SavedTensor saved(uses_output ? out : input);
    const SavedTensor other = library_may_activate(input, args) ? SavedTensor(uses_output ? input : out)
                                                                : SavedTensor();
    autograd::record(node, {input}, {out}, [saved, other, args, op](const TensorList& g) {
      const Tensor o = other.defined() ? other.unpack(op) : Tensor();
      return TensorList{activation_backward_raw(g[0], saved.unpack(op), o, args, op)};
    });
  }
  return out;
}

// The in-place form: the kernel writes straight into self unless autograd
// must record, in which case ops::inplace runs the out-of-place op on a copy.
// Auto does not time the direct form (running it twice would apply the
// activation twice), so that is native there.
Tensor& apply_activation_(Tensor& self, const ActivationArgs& args, const char* op, const char* node) {
  check_floating_input(self, op);
  return ops::inplace(
      self, op, [&](const Tensor& s) { return apply_activation(s, args, op, node); },
      [&] {
        kernels::ActivationParams p{ops::make_loop<2>({&self, &self}, self.sizes(), op), args, self.dtype()};
        kernels::activation_kernel.get(self.device())(p);
      });
}

ActivationArgs args(Activation op, double a = 0, double b = 0, double c = 0) { return {op, a, b, c}; }

ActivationArgs elu_args(double alpha, double scale, double input_scale) {
  return args(Activation::Elu, alpha, scale, input_scale);
}

ActivationArgs hardtanh_args(double min_val, double max_val, const char* op) {
  STRIATE_CHECK(min_val <= max_val, ValueError, op, ": expected min_val <= max_val, got min_val = ", min_val,
                " and max_val = ", max_val);
  return args(Activation::Hardtanh, min_val, max_val);
}

}  // namespace

Tensor relu(const Tensor& input) {
  ops::check_defined(input, "relu", "input");
  STRIATE_CHECK(input.dtype() != kBool, DTypeError, "relu: bool tensors are not supported");
  // Integers have no gradient to record; clamp gives the same values.
  if (!input.is_floating_point()) return clamp_min(input, 0);
  return apply_activation(input, args(Activation::Relu), "relu", "ReluBackward");
}
Tensor& relu_(Tensor& input) {
  ops::check_defined(input, "relu_", "input");
  STRIATE_CHECK(input.dtype() != kBool, DTypeError, "relu_: bool tensors are not supported");
  if (!input.is_floating_point()) return input.clamp_(0, std::nullopt);
  return apply_activation_(input, args(Activation::Relu), "relu_", "ReluBackward");
}

Tensor leaky_relu(const Tensor& input, double negative_slope) {
  return apply_activation(input, args(Activation::LeakyRelu, negative_slope), "leaky_relu", "LeakyReluBackward");
}
Tensor& leaky_relu_(Tensor& input, double negative_slope) {
  return apply_activation_(input, args(Activation::LeakyRelu, negative_slope), "leaky_relu_", "LeakyReluBackward");
}

Tensor elu(const Tensor& input, double alpha, double scale, double input_scale) {
  return apply_activation(input, elu_args(alpha, scale, input_scale), "elu", "EluBackward");
}
Tensor& elu_(Tensor& input, double alpha, double scale, double input_scale) {
  return apply_activation_(input, elu_args(alpha, scale, input_scale), "elu_", "EluBackward");
}

Tensor selu(const Tensor& input) {
  return apply_activation(input, elu_args(kSeluAlpha, kSeluScale, 1.0), "selu", "SeluBackward");
}
Tensor& selu_(Tensor& input) {
  return apply_activation_(input, elu_args(kSeluAlpha, kSeluScale, 1.0), "selu_", "SeluBackward");
}

Tensor gelu(const Tensor& input, const std::string& approximate) {
  STRIATE_CHECK(approximate == "none" || approximate == "tanh", ValueError,
                "gelu: expected approximate to be \"none\" or \"tanh\", got \"", approximate, "\"");
  return apply_activation(input, args(approximate == "tanh" ? Activation::GeluTanh : Activation::Gelu), "gelu",
                          "GeluBackward");
}

Tensor silu(const Tensor& input) { return apply_activation(input, args(Activation::Silu), "silu", "SiluBackward"); }
Tensor& silu_(Tensor& input) {
  return apply_activation_(input, args(Activation::Silu), "silu_", "SiluBackward");
}

Tensor tanh(const Tensor& input) { return apply_activation(input, args(Activation::Tanh), "tanh", "TanhBackward"); }
Tensor& tanh_(Tensor& input) {
  return apply_activation_(input, args(Activation::Tanh), "tanh_", "TanhBackward");
}

Tensor sigmoid(const Tensor& input) {
  return apply_activation(input, args(Activation::Sigmoid), "sigmoid", "SigmoidBackward");
}
Tensor& sigmoid_(Tensor& input) {
  return apply_activation_(input, args(Activation::Sigmoid), "sigmoid_", "SigmoidBackward");
}

Tensor softplus(const Tensor& input, double beta, double threshold) {
  STRIATE_CHECK(beta != 0, ValueError, "softplus: expected a non-zero beta, got ", beta);
  return apply_activation(input, args(Activation::Softplus, beta, threshold), "softplus", "SoftplusBackward");
}

Tensor softsign(const Tensor& input) {
  return apply_activation(input, args(Activation::Softsign), "softsign", "SoftsignBackward");
}

Tensor hardtanh(const Tensor& input, double min_val, double max_val) {
  return apply_activation(input, hardtanh_args(min_val, max_val, "hardtanh"), "hardtanh", "HardtanhBackward");
}
Tensor& hardtanh_(Tensor& input, double min_val, double max_val) {
  return apply_activation_(input, hardtanh_args(min_val, max_val, "hardtanh_"), "hardtanh_", "HardtanhBackward");
}

Tensor relu6(const Tensor& input) {
  return apply_activation(input, hardtanh_args(0, 6, "relu6"), "relu6", "Relu6Backward");
}
Tensor& relu6_(Tensor& input) {
  return apply_activation_(input, hardtanh_args(0, 6, "relu6_"), "relu6_", "Relu6Backward");
}

// ---- prelu -----------------------------------------------------------------

Tensor prelu(const Tensor& input, const Tensor& weight) {
  check_floating_input(input, "prelu");
  ops::check_defined(weight, "prelu", "weight");
  ops::check_same_device(input, weight, "prelu");
  STRIATE_CHECK(weight.is_floating_point(), DTypeError, "prelu: expected a floating-point weight, got ",
                weight.dtype());
  STRIATE_CHECK(weight.dim() <= 1, ShapeError, "prelu: expected a weight of at most 1 dim, got shape ",
                weight.sizes());
  const int64_t channels = input.dim() >= 2 ? input.size(1) : 1;
  STRIATE_CHECK(weight.numel() == 1 || weight.numel() == channels, ShapeError,
                "prelu: expected a weight with 1 element or one per input channel (", channels,
                ", dim 1 of input shape ", input.sizes(), "), got weight of shape ", weight.sizes());
  if (input.dtype() == kHalf || input.dtype() == kBFloat16)
    return prelu(input.to(kFloat), weight.to(kFloat)).to(input.dtype());
  if (weight.dtype() != input.dtype()) return prelu(input, weight.to(input.dtype()));

  kernels::PreluShape shape;
  if (weight.numel() == 1) {
    shape.inner = input.numel();
  } else {
    shape.outer = input.size(0);
    shape.channels = channels;
    shape.inner = input.numel() / std::max<int64_t>(1, shape.outer * channels);
  }
  const Tensor x = input.detach().contiguous(), w = weight.detach().contiguous();
  Tensor out = empty(input.sizes(), input.options());
  kernels::prelu_kernel.get(input.device())(
      {x.data_ptr(), w.data_ptr(), out.data_ptr(), shape, input.dtype()});
  const MemoryFormat fmt = input.suggest_memory_format();
  if (fmt != MemoryFormat::Contiguous) out = out.contiguous(fmt);
  if (autograd::any_requires_grad({input, weight})) {
    const bool need_input = input.requires_grad(), need_weight = weight.requires_grad();
    autograd::record(
        "PreluBackward", {input, weight}, {out},
        [sx = SavedTensor(x), sw = SavedTensor(w), shape, need_input, need_weight](const TensorList& g) {
          const Tensor x = sx.unpack("prelu"), w = sw.unpack("prelu");
          const Tensor go = g[0].to(x.dtype()).contiguous();
          Tensor gi = need_input ? empty(x.sizes(), x.options()) : Tensor();
          Tensor gw = need_weight ? empty(w.sizes(), w.options()) : Tensor();
          kernels::prelu_backward_kernel.get(x.device())({go.data_ptr(), x.data_ptr(), w.data_ptr(),
                                                          gi.defined() ? gi.data_ptr() : nullptr,
                                                          gw.defined() ? gw.data_ptr() : nullptr, shape, x.dtype()});
          return TensorList{gi, gw};
        });
  }
  return out;
}

}  // namespace striate
