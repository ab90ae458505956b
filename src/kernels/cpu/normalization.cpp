// CPU normalisation kernels.
//
// Batch-norm statistics take one pass: each channel's values are summed as
// x - shift (shift = the channel's first value) in double, so the variance
// E[d^2] - E[d]^2 does not cancel catastrophically when |mean| >> std.
// Sums over a contiguous run keep four independent chains, which the
// compiler can pipeline without reassociating; [outer, C] rows (inner = 1)
// update all channels' sums side by side instead.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/normalization.h"

namespace striate::kernels::cpu {
namespace {

template <typename F>
decltype(auto) visit_compute(DType t, const char* op, F&& f) {
  if (t == DType::F64) return f.template operator()<double>();
  if (t == DType::F32) return f.template operator()<float>();
  throw DTypeError(detail::concat(op, ": expected float32 or float64 (16-bit inputs are converted by the op), got ",
                                  dtype_name(t)));
}

// a += sum of f(i), b += sum of g(i), i < n, in double.
template <typename F, typename G>
void sum_two(int64_t n, F f, G g, double& a, double& b) {
  double sa[4] = {0, 0, 0, 0}, sb[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) {
      sa[k] += f(i + k);
      sb[k] += g(i + k);
    }
  for (; i < n; ++i) {
    sa[0] += f(i);
    sb[0] += g(i);
  }
  a += (sa[0] + sa[1]) + (sa[2] + sa[3]);
  b += (sb[0] + sb[1]) + (sb[2] + sb[3]);
}

// The sum of f(i), i < n, in double.
template <typename F>
double sum_one(int64_t n, F f) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += f(i + k);
  for (; i < n; ++i) s[0] += f(i);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// ---- batch norm ------------------------------------------------------------

template <typename T>
void stats_typed(const BatchNormStatsParams& p) {
  const int64_t outer = p.shape.outer, channels = p.shape.channels, inner = p.shape.inner;
  const T* x = static_cast<const T*>(p.input);
  const int64_t n = outer * inner;
  std::vector<double> shift(channels, 0), s1(channels, 0), s2(channels, 0);
  if (n > 0)
    for (int64_t c = 0; c < channels; ++c) shift[c] = static_cast<double>(x[c * inner]);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * channels * inner;
    if (inner == 1) {
      for (int64_t c = 0; c < channels; ++c) {
        const double d = static_cast<double>(xo[c]) - shift[c];
        s1[c] += d;
        s2[c] += d * d;
      }
      continue;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const T* run = xo + c * inner;
      const double sh = shift[c];
      sum_two(
          inner, [&](int64_t i) { return static_cast<double>(run[i]) - sh; },
          [&](int64_t i) {
            const double d = static_cast<double>(run[i]) - sh;
            return d * d;
          },
          s1[c], s2[c]);
    }
  }
  for (int64_t c = 0; c < channels; ++c) {
    const double m1 = s1[c] / static_cast<double>(n);
    p.mean[c] = shift[c] + m1;
    p.var[c] = std::max(0.0, s2[c] / static_cast<double>(n) - m1 * m1);
  }
}

template <typename T>
void apply_typed(const BatchNormApplyParams& p) {
  const int64_t outer = p.shape.outer, channels = p.shape.channels, inner = p.shape.inner;
  const T* x = static_cast<const T*>(p.input);
  const T* center = static_cast<const T*>(p.center);
  const T* scale = static_cast<const T*>(p.scale);
  const T* shift = static_cast<const T*>(p.shift);
  T* y = static_cast<T*>(p.output);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * channels * inner;
    T* yo = y + o * channels * inner;
    if (inner == 1) {
      for (int64_t c = 0; c < channels; ++c) yo[c] = (xo[c] - center[c]) * scale[c] + shift[c];
      continue;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const T m = center[c], s = scale[c], b = shift[c];
      const T* xc = xo + c * inner;
      T* yc = yo + c * inner;
      for (int64_t i = 0; i < inner; ++i) yc[i] = (xc[i] - m) * s + b;
    }
  }
}

template <typename T>
void backward_reduce_typed(const BatchNormBackwardReduceParams& p) {
  const int64_t outer = p.shape.outer, channels = p.shape.channels, inner = p.shape.inner;
  const T* g = static_cast<const T*>(p.grad_out);
  const T* x = static_cast<const T*>(p.input);
  const T* center = static_cast<const T*>(p.center);
  double* s1 = p.sum_grad;
  double* s2 = p.sum_grad_centered;
  std::fill(s1, s1 + channels, 0.0);
  std::fill(s2, s2 + channels, 0.0);
  for (int64_t o = 0; o < outer; ++o) {
    const T* go = g + o * channels * inner;
    const T* xo = x + o * channels * inner;
    if (inner == 1) {
      for (int64_t c = 0; c < channels; ++c) {
        s1[c] += static_cast<double>(go[c]);
        s2[c] += static_cast<double>(go[c]) * static_cast<double>(xo[c] - center[c]);
      }
      continue;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const T* gc = go + c * inner;
      const T* xc = xo + c * inner;
      const T m = center[c];
      sum_two(
          inner, [&](int64_t i) { return static_cast<double>(gc[i]); },
          [&](int64_t i) { return static_cast<double>(gc[i]) * static_cast<double>(xc[i] - m); }, s1[c], s2[c]);
    }
  }
}

template <typename T>
void backward_input_typed(const BatchNormBackwardInputParams& p) {
  const int64_t outer = p.shape.outer, channels = p.shape.channels, inner = p.shape.inner;
  const T* g = static_cast<const T*>(p.grad_out);
  const T* x = static_cast<const T*>(p.input);
  const T* center = static_cast<const T*>(p.center);
  const T* k_grad = static_cast<const T*>(p.k_grad);
  const T* k_centered = static_cast<const T*>(p.k_centered);
  const T* k_const = static_cast<const T*>(p.k_const);
  T* gx = static_cast<T*>(p.grad_input);
  const bool eval = k_centered == nullptr;
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t base = o * channels * inner;
    if (inner == 1) {
      if (eval)
        for (int64_t c = 0; c < channels; ++c) gx[base + c] = g[base + c] * k_grad[c];
      else
        for (int64_t c = 0; c < channels; ++c)
          gx[base + c] = g[base + c] * k_grad[c] + (x[base + c] - center[c]) * k_centered[c] + k_const[c];
      continue;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const T* gc = g + base + c * inner;
      const T* xc = x + base + c * inner;
      T* out = gx + base + c * inner;
      const T kg = k_grad[c];
      if (eval) {
        for (int64_t i = 0; i < inner; ++i) out[i] = gc[i] * kg;
      } else {
        const T m = center[c], kc = k_centered[c], k0 = k_const[c];
        for (int64_t i = 0; i < inner; ++i) out[i] = gc[i] * kg + (xc[i] - m) * kc + k0;
      }
    }
  }
}

// ---- layer norm ----------------------------------------------------------------

template <typename T>
void layer_norm_forward_typed(const LayerNormForwardParams& p) {
  const int64_t cols = p.cols;
  const T* w = static_cast<const T*>(p.weight);
  const T* b = static_cast<const T*>(p.bias);
  for (int64_t r = 0; r < p.rows; ++r) {
    const T* x = static_cast<const T*>(p.input) + r * cols;
    T* y = static_cast<T*>(p.output) + r * cols;
    // Two passes over a row that stays in cache: the mean, then the spread around it.
    const double mean = sum_one(cols, [&](int64_t j) { return static_cast<double>(x[j]); }) / static_cast<double>(cols);
    const double sq = sum_one(cols, [&](int64_t j) {
      const double d = static_cast<double>(x[j]) - mean;
      return d * d;
    });
    const T m = static_cast<T>(mean);
    const T rstd = static_cast<T>(1.0 / std::sqrt(sq / static_cast<double>(cols) + p.eps));
    static_cast<T*>(p.mean)[r] = m;
    static_cast<T*>(p.rstd)[r] = rstd;
    if (w && b)
      for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - m) * rstd * w[j] + b[j];
    else if (w)
      for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - m) * rstd * w[j];
    else if (b)
      for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - m) * rstd + b[j];
    else
      for (int64_t j = 0; j < cols; ++j) y[j] = (x[j] - m) * rstd;
  }
}

// With xhat = (x - mean) * rstd and gh = grad_out * weight:
//   grad_input = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)).
template <typename T>
void layer_norm_backward_typed(const LayerNormBackwardParams& p) {
  const int64_t cols = p.cols;
  const T* w = static_cast<const T*>(p.weight);
  std::vector<double> gw(p.grad_weight ? cols : 0, 0.0), gb(p.grad_bias ? cols : 0, 0.0);
  std::vector<T> xhat(cols), gh(cols);
  for (int64_t r = 0; r < p.rows; ++r) {
    const T* x = static_cast<const T*>(p.input) + r * cols;
    const T* g = static_cast<const T*>(p.grad_out) + r * cols;
    const T m = static_cast<const T*>(p.mean)[r], rstd = static_cast<const T*>(p.rstd)[r];
    for (int64_t j = 0; j < cols; ++j) xhat[j] = (x[j] - m) * rstd;
    if (p.grad_input) {
      for (int64_t j = 0; j < cols; ++j) gh[j] = w ? g[j] * w[j] : g[j];
      double s1 = 0, s2 = 0;
      sum_two(
          cols, [&](int64_t j) { return static_cast<double>(gh[j]); },
          [&](int64_t j) { return static_cast<double>(gh[j]) * static_cast<double>(xhat[j]); }, s1, s2);
      const T mean_gh = static_cast<T>(s1 / static_cast<double>(cols));
      const T mean_gh_xhat = static_cast<T>(s2 / static_cast<double>(cols));
      T* gx = static_cast<T*>(p.grad_input) + r * cols;
      for (int64_t j = 0; j < cols; ++j) gx[j] = rstd * (gh[j] - mean_gh - xhat[j] * mean_gh_xhat);
    }
    if (p.grad_weight)
      for (int64_t j = 0; j < cols; ++j) gw[j] += static_cast<double>(g[j]) * static_cast<double>(xhat[j]);
    if (p.grad_bias)
      for (int64_t j = 0; j < cols; ++j) gb[j] += static_cast<double>(g[j]);
  }
  if (p.grad_weight)
    for (int64_t j = 0; j < cols; ++j) static_cast<T*>(p.grad_weight)[j] = static_cast<T>(gw[j]);
  if (p.grad_bias)
    for (int64_t j = 0; j < cols; ++j) static_cast<T*>(p.grad_bias)[j] = static_cast<T>(gb[j]);
}

// ---- local response norm ----------------------------------------------------------

// d^-beta; AlexNet's beta = 0.75 as two square roots, much cheaper than pow.
template <typename T>
T inverse_power(T d, T beta) {
  if (beta == T(0.75)) {
    const T r = std::sqrt(d);
    return T(1) / (r * std::sqrt(r));
  }
  return std::pow(d, -beta);
}

template <typename T>
void lrn_forward_typed(const LrnForwardParams& p) {
  const int64_t channels = p.shape.channels, inner = p.shape.inner;
  const int64_t before = p.size / 2, after = p.size - 1 - before;
  const T coef = static_cast<T>(p.alpha / static_cast<double>(p.size));
  const T k = static_cast<T>(p.k), beta = static_cast<T>(p.beta);
  std::vector<T> acc(inner);
  for (int64_t o = 0; o < p.shape.outer; ++o) {
    const int64_t base = o * channels * inner;
    const T* x = static_cast<const T*>(p.input) + base;
    T* y = static_cast<T*>(p.output) + base;
    T* den = static_cast<T*>(p.denom) + base;
    for (int64_t c = 0; c < channels; ++c) {
      std::fill(acc.begin(), acc.end(), T(0));
      const int64_t lo = std::max<int64_t>(0, c - before), hi = std::min(channels - 1, c + after);
      for (int64_t j = lo; j <= hi; ++j) {
        const T* xj = x + j * inner;
        for (int64_t i = 0; i < inner; ++i) acc[i] += xj[i] * xj[i];
      }
      const T* xc = x + c * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const T d = k + coef * acc[i];
        den[c * inner + i] = d;
        y[c * inner + i] = xc[i] * inverse_power(d, beta);
      }
    }
  }
}

// y_c = x_c d_c^-beta with d_c = k + coef * sum_{j in W(c)} x_j^2, so
//   dL/dx_j = g_j d_j^-beta - 2 coef beta x_j * sum_{c : j in W(c)} g_c x_c d_c^(-beta-1)
// and j in W(c) exactly when c lies in [j - after, j + before].
template <typename T>
void lrn_backward_typed(const LrnBackwardParams& p) {
  const int64_t channels = p.shape.channels, inner = p.shape.inner;
  const int64_t before = p.size / 2, after = p.size - 1 - before;
  const T coef = static_cast<T>(p.alpha / static_cast<double>(p.size));
  const T beta = static_cast<T>(p.beta);
  const T cross = 2 * coef * beta;
  std::vector<T> scale(channels * inner), through(channels * inner), acc(inner);
  for (int64_t o = 0; o < p.shape.outer; ++o) {
    const int64_t base = o * channels * inner;
    const T* x = static_cast<const T*>(p.input) + base;
    const T* g = static_cast<const T*>(p.grad_out) + base;
    const T* den = static_cast<const T*>(p.denom) + base;
    T* gx = static_cast<T*>(p.grad_input) + base;
    for (int64_t e = 0; e < channels * inner; ++e) {
      scale[e] = inverse_power(den[e], beta);
      through[e] = g[e] * x[e] * scale[e] / den[e];
    }
    for (int64_t j = 0; j < channels; ++j) {
      std::fill(acc.begin(), acc.end(), T(0));
      const int64_t lo = std::max<int64_t>(0, j - after), hi = std::min(channels - 1, j + before);
      for (int64_t c = lo; c <= hi; ++c) {
        const T* tc = through.data() + c * inner;
        for (int64_t i = 0; i < inner; ++i) acc[i] += tc[i];
      }
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t e = j * inner + i;
        gx[e] = g[e] * scale[e] - cross * x[e] * acc[i];
      }
    }
  }
}

}  // namespace

void batch_norm_stats(const BatchNormStatsParams& p) {
  visit_compute(p.dtype, "batch_norm", [&]<typename T>() { stats_typed<T>(p); });
}
void batch_norm_apply(const BatchNormApplyParams& p) {
  visit_compute(p.dtype, "batch_norm", [&]<typename T>() { apply_typed<T>(p); });
}
void batch_norm_backward_reduce(const BatchNormBackwardReduceParams& p) {
  visit_compute(p.dtype, "batch_norm backward", [&]<typename T>() { backward_reduce_typed<T>(p); });
}
void batch_norm_backward_input(const BatchNormBackwardInputParams& p) {
  visit_compute(p.dtype, "batch_norm backward", [&]<typename T>() { backward_input_typed<T>(p); });
}
void layer_norm_forward(const LayerNormForwardParams& p) {
  visit_compute(p.dtype, "layer_norm", [&]<typename T>() { layer_norm_forward_typed<T>(p); });
}
void layer_norm_backward(const LayerNormBackwardParams& p) {
  visit_compute(p.dtype, "layer_norm backward", [&]<typename T>() { layer_norm_backward_typed<T>(p); });
}
void lrn_forward(const LrnForwardParams& p) {
  visit_compute(p.dtype, "local_response_norm", [&]<typename T>() { lrn_forward_typed<T>(p); });
}
void lrn_backward(const LrnBackwardParams& p) {
  visit_compute(p.dtype, "local_response_norm backward", [&]<typename T>() { lrn_backward_typed<T>(p); });
}

}  // namespace striate::kernels::cpu
