// Fused optimizer updates: SGD (momentum, dampening, Nesterov, weight decay,
// maximize) and Adam/AdamW (amsgrad, maximize, L2 or decoupled decay) over a
// list of parameters, each updated with its state in one pass over memory.
//
// The arithmetic is the op chain of striate::optim it replaces (PyTorch's
// _single_tensor_sgd / _single_tensor_adam), operation for operation: every
// intermediate is rounded to the parameter's dtype, as each op's result was,
// and each constant is rounded as that op rounded it (a Scalar operand
// becomes a tensor of the parameter's dtype; an `alpha` only goes to the
// arithmetic type). The CPU and CUDA kernels share the element functions
// below, so they agree bit for bit.
//
// Every tensor of one call has `dtype` and lives on one device; each is
// dense, and a parameter, its gradient and its state share one layout, so
// element i of each is the same element. Any dtype of floating point.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/kernel.h"
#include "striate/core/dtype.h"
#include "striate/core/half.h"

namespace striate::kernels {

// ---- SGD -------------------------------------------------------------------------

struct SgdTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* momentum_buffer = nullptr;  // unused (may be null) when momentum == 0
  int64_t numel = 0;
};

struct SgdHyper {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  // The momentum buffers are new (their contents undefined): the first step
  // sets b = g, as PyTorch's clone of the gradient does.
  bool new_buffers = false;
};

struct SgdParams {
  std::vector<SgdTensor> tensors;
  SgdHyper hyper;
  DType dtype = DType::F32;
};

// ---- Adam / AdamW ----------------------------------------------------------------

struct AdamTensor {
  void* param = nullptr;
  const void* grad = nullptr;
  void* exp_avg = nullptr;
  void* exp_avg_sq = nullptr;
  void* max_exp_avg_sq = nullptr;  // amsgrad only
  int64_t numel = 0;
  // Of this parameter's step count t (host-side, in double, as before):
  double step_size = 0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^t)
};

struct AdamHyper {
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  bool amsgrad = false, maximize = false;
  bool decoupled = false;  // AdamW: p *= 1 - lr * weight_decay, instead of g += weight_decay * p
};

struct AdamParams {
  std::vector<AdamTensor> tensors;
  AdamHyper hyper;
  DType dtype = DType::F32;
};

using SgdFn = void (*)(const SgdParams&);
using AdamFn = void (*)(const AdamParams&);
extern const Kernel<SgdFn> sgd_kernel;
extern const Kernel<AdamFn> adam_kernel;

namespace cpu {
void sgd(const SgdParams& p);
void adam(const AdamParams& p);
}  // namespace cpu

namespace cuda {
void sgd(const SgdParams& p);
void adam(const AdamParams& p);
}  // namespace cuda

// ---- the arithmetic both backends share --------------------------------------------

namespace optim_math {

// One IEEE operation, rounded once. On the GPU the _rn intrinsics keep nvcc
// from contracting a * b + c into one fma, which the CPU rounds twice.
template <typename A>
STRIATE_HOST_DEVICE inline A mul(A a, A b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<A, float>) return __fmul_rn(a, b);
  else return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

template <typename A>
STRIATE_HOST_DEVICE inline A add(A a, A b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<A, float>) return __fadd_rn(a, b);
  else return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

template <typename A>
STRIATE_HOST_DEVICE inline A div(A a, A b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<A, float>) return __fdiv_rn(a, b);
  else return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}

template <typename A>
STRIATE_HOST_DEVICE inline A sqrt(A a) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<A, float>) return __fsqrt_rn(a);
  else return __dsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}

// maximum(): NaN wins, from either side (a != a: NaN without <cmath> on the device).
template <typename A>
STRIATE_HOST_DEVICE inline A nan_max(A a, A b) {
  return a != a ? a : b != b ? b : (a > b ? a : b);
}

// A host constant as a Scalar operand of dtype `dtype` held it (rounded to
// the dtype, through float for the 16-bit ones, as fill does), read back in A.
template <typename A>
inline A scalar_operand(double v, DType dtype) {
  if (dtype == DType::F16) return static_cast<A>(static_cast<float>(Half(static_cast<float>(v))));
  if (dtype == DType::BF16) return static_cast<A>(static_cast<float>(BFloat16(static_cast<float>(v))));
  return static_cast<A>(v);
}

// SGD's constants in the arithmetic type A (float for 16-bit parameters).
template <typename A>
struct SgdConstants {
  A weight_decay;         // alpha of g.add(p, weight_decay)
  A momentum_operand;     // b.mul_(momentum)
  A one_minus_dampening;  // alpha of b.add_(g, 1 - dampening)
  A momentum;             // alpha of g.add(b, momentum)
  A neg_lr;               // alpha of p.add_(g, -lr)
  bool maximize, has_weight_decay, has_momentum, nesterov, new_buffers;

  SgdConstants(const SgdHyper& h, DType dtype)
      : weight_decay(static_cast<A>(h.weight_decay)),
        momentum_operand(scalar_operand<A>(h.momentum, dtype)),
        one_minus_dampening(static_cast<A>(1 - h.dampening)),
        momentum(static_cast<A>(h.momentum)),
        neg_lr(static_cast<A>(-h.lr)),
        maximize(h.maximize),
        has_weight_decay(h.weight_decay != 0),
        has_momentum(h.momentum != 0),
        nesterov(h.nesterov),
        new_buffers(h.new_buffers) {}
};

// One element of SGD. `R::round(x)` is x stored in the parameter's dtype and
// read back (the identity for float and double).
template <typename R, typename A>
STRIATE_HOST_DEVICE inline void sgd_element(const SgdConstants<A>& c, A& p, A g, A& buf) {
  if (c.maximize) g = -g;
  if (c.has_weight_decay) g = R::round(add(g, mul(c.weight_decay, p)));
  if (c.has_momentum) {
    if (c.new_buffers) {
      buf = g;
    } else {
      buf = R::round(mul(buf, c.momentum_operand));
      buf = R::round(add(buf, mul(c.one_minus_dampening, g)));
    }
    g = c.nesterov ? R::round(add(g, mul(c.momentum, buf))) : buf;
  }
  p = R::round(add(p, mul(c.neg_lr, g)));
}

// Adam's per-call constants in A.
template <typename A>
struct AdamConstants {
  A weight_decay;            // alpha of g.add(p, weight_decay)           (Adam)
  A decay_operand;           // p.mul_(1 - lr * weight_decay)             (AdamW)
  A beta1_operand;           // m.mul_(beta1)
  A one_minus_beta1;         // alpha of m.add_(g, 1 - beta1)
  A beta2_operand;           // v.mul_(beta2)
  A one_minus_beta2_operand; // g.mul(1 - beta2)
  A eps_operand;             // denom.add_(eps)
  bool maximize, amsgrad, decay_param, decay_grad;

  AdamConstants(const AdamHyper& h, DType dtype)
      : weight_decay(static_cast<A>(h.weight_decay)),
        decay_operand(scalar_operand<A>(1 - h.lr * h.weight_decay, dtype)),
        beta1_operand(scalar_operand<A>(h.beta1, dtype)),
        one_minus_beta1(static_cast<A>(1 - h.beta1)),
        beta2_operand(scalar_operand<A>(h.beta2, dtype)),
        one_minus_beta2_operand(scalar_operand<A>(1 - h.beta2, dtype)),
        eps_operand(scalar_operand<A>(h.eps, dtype)),
        maximize(h.maximize),
        amsgrad(h.amsgrad),
        decay_param(h.decoupled && h.weight_decay != 0),
        decay_grad(!h.decoupled && h.weight_decay != 0) {}
};

// A parameter's own constants (they depend on its step count).
template <typename A>
struct AdamStepConstants {
  A neg_step_size;          // m.mul(-step_size)
  A bias_correction2_sqrt;  // sqrt(v).div_(bias_correction2_sqrt)

  AdamStepConstants() = default;
  AdamStepConstants(const AdamTensor& t, DType dtype)
      : neg_step_size(scalar_operand<A>(-t.step_size, dtype)),
        bias_correction2_sqrt(scalar_operand<A>(t.bias_correction2_sqrt, dtype)) {}
};

// One element of Adam/AdamW; v_max is read and written only with amsgrad.
template <typename R, typename A>
STRIATE_HOST_DEVICE inline void adam_element(const AdamConstants<A>& c, const AdamStepConstants<A>& s, A& p, A g,
                                             A& m, A& v, A& v_max) {
  if (c.maximize) g = -g;
  if (c.decay_param) p = R::round(mul(p, c.decay_operand));
  if (c.decay_grad) g = R::round(add(g, mul(c.weight_decay, p)));
  m = R::round(mul(m, c.beta1_operand));
  m = R::round(add(m, mul(c.one_minus_beta1, g)));
  const A g2 = R::round(mul(R::round(mul(g, c.one_minus_beta2_operand)), g));
  v = R::round(mul(v, c.beta2_operand));
  v = R::round(add(v, g2));
  A second = v;
  if (c.amsgrad) second = v_max = nan_max(v_max, v);
  A denom = R::round(sqrt(second));
  denom = R::round(div(denom, s.bias_correction2_sqrt));
  denom = R::round(add(denom, c.eps_operand));
  const A update = R::round(div(R::round(mul(m, s.neg_step_size)), denom));
  p = R::round(add(p, update));
}

}  // namespace optim_math

}  // namespace striate::kernels
