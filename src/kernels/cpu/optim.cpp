// CPU fused optimizer updates: for each tensor of the list, one loop over its
// elements applying the shared element functions (kernels/optim.h).
#include "kernels/optim.h"

namespace striate::kernels::cpu {
namespace {

// x stored in T and read back: each op of the replaced chain wrote T.
template <typename T>
struct RoundTo {
  using A = acc_t<T>;
  static A round(A x) {
    if constexpr (std::is_same_v<T, A>) return x;
    else return static_cast<A>(T(x));
  }
};

template <typename T>
void sgd_typed(const SgdParams& p) {
  using A = acc_t<T>;
  const optim_math::SgdConstants<A> c(p.hyper, p.dtype);
  for (const SgdTensor& t : p.tensors) {
    auto* param = static_cast<T*>(t.param);
    const auto* grad = static_cast<const T*>(t.grad);
    auto* buf = static_cast<T*>(t.momentum_buffer);
    for (int64_t i = 0; i < t.numel; ++i) {
      A w = static_cast<A>(param[i]);
      A b = c.has_momentum && !c.new_buffers ? static_cast<A>(buf[i]) : A(0);
      optim_math::sgd_element<RoundTo<T>>(c, w, static_cast<A>(grad[i]), b);
      param[i] = static_cast<T>(w);
      if (c.has_momentum) buf[i] = static_cast<T>(b);
    }
  }
}

template <typename T>
void adam_typed(const AdamParams& p) {
  using A = acc_t<T>;
  const optim_math::AdamConstants<A> c(p.hyper, p.dtype);
  for (const AdamTensor& t : p.tensors) {
    const optim_math::AdamStepConstants<A> s(t, p.dtype);
    auto* param = static_cast<T*>(t.param);
    const auto* grad = static_cast<const T*>(t.grad);
    auto* exp_avg = static_cast<T*>(t.exp_avg);
    auto* exp_avg_sq = static_cast<T*>(t.exp_avg_sq);
    auto* max_exp_avg_sq = static_cast<T*>(t.max_exp_avg_sq);
    for (int64_t i = 0; i < t.numel; ++i) {
      A w = static_cast<A>(param[i]), m = static_cast<A>(exp_avg[i]), v = static_cast<A>(exp_avg_sq[i]);
      A v_max = c.amsgrad ? static_cast<A>(max_exp_avg_sq[i]) : A(0);
      optim_math::adam_element<RoundTo<T>>(c, s, w, static_cast<A>(grad[i]), m, v, v_max);
      param[i] = static_cast<T>(w);
      exp_avg[i] = static_cast<T>(m);
      exp_avg_sq[i] = static_cast<T>(v);
      if (c.amsgrad) max_exp_avg_sq[i] = static_cast<T>(v_max);
    }
  }
}

}  // namespace

void sgd(const SgdParams& p) {
  visit_floating(p.dtype, "sgd", [&]<typename T>() { sgd_typed<T>(p); });
}

void adam(const AdamParams& p) {
  visit_floating(p.dtype, "adam", [&]<typename T>() { adam_typed<T>(p); });
}

}  // namespace striate::kernels::cpu
