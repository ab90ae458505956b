// CPU class losses. Rows of scores are walked class by class with one slot
// per inner position, so [N, C, H, W] inputs stream through memory in order
// and the per-position work vectorises; [N, C] is the case inner = 1.
//
// Cross entropy never forms log-softmax: with m = max_c x_c and
// s = sum_c exp(x_c - m), -log p_y = m + log(s) - x_y, and the smoothing term
// sum_c w_c * -log p_c = sum_c w_c (m - x_c) + W log(s) adds only
// non-negative terms, so large logits lose no precision.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/loss.h"

namespace striate::kernels::cpu {
namespace {

template <typename T>
T class_weight(const T* weight, int64_t c) {
  return weight ? weight[c] : T(1);
}

template <typename T>
T weight_total(const ClassLossArgs& a) {
  const T* w = static_cast<const T*>(a.weight);
  if (!w) return static_cast<T>(a.shape.classes);
  T total = 0;
  for (int64_t c = 0; c < a.shape.classes; ++c) total += w[c];
  return total;
}

// Per inner position i of one [classes, inner] slice: the max over classes,
// sum_c exp(x_c - max) and (when smoothing) sum_c w_c (max - x_c).
template <typename T>
void slice_stats(const T* xo, const T* w, int64_t classes, int64_t inner, bool smoothing, T* row_max, T* exp_sum,
                 T* below_max) {
  if (inner == 1) {  // [N, C]: a contiguous row, kept in registers
    T m = xo[0];
    for (int64_t c = 1; c < classes; ++c) m = xo[c] > m ? xo[c] : m;
    T sum = 0, below = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(xo[c] - m);
    if (smoothing)
      for (int64_t c = 0; c < classes; ++c) below += class_weight(w, c) * (m - xo[c]);
    row_max[0] = m;
    exp_sum[0] = sum;
    below_max[0] = below;
    return;
  }
  for (int64_t i = 0; i < inner; ++i) row_max[i] = xo[i];
  for (int64_t c = 1; c < classes; ++c)
    for (int64_t i = 0; i < inner; ++i) row_max[i] = xo[c * inner + i] > row_max[i] ? xo[c * inner + i] : row_max[i];
  std::fill(exp_sum, exp_sum + inner, T(0));
  std::fill(below_max, below_max + inner, T(0));
  for (int64_t c = 0; c < classes; ++c) {
    const T* xc = xo + c * inner;
    for (int64_t i = 0; i < inner; ++i) exp_sum[i] += std::exp(xc[i] - row_max[i]);
    if (smoothing) {
      const T wc = class_weight(w, c);
      for (int64_t i = 0; i < inner; ++i) below_max[i] += wc * (row_max[i] - xc[i]);
    }
  }
}

template <typename T>
void forward_typed(const ClassLossForwardParams& p) {
  const ClassLossArgs& a = p.args;
  const int64_t outer = a.shape.outer, classes = a.shape.classes, inner = a.shape.inner;
  const T* x = static_cast<const T*>(a.input);
  const T* w = static_cast<const T*>(a.weight);
  T* loss = static_cast<T*>(p.loss);
  T* lse_out = static_cast<T*>(p.logsumexp);
  const T smoothing = static_cast<T>(a.label_smoothing);
  const T smooth_per_class = smoothing / static_cast<T>(classes);
  const T w_total = weight_total<T>(a);
  double total_loss = 0, total_weight = 0;
  std::vector<T> row_max(inner), exp_sum(inner), below_max(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * classes * inner;
    const int64_t* yo = a.target + o * inner;
    if (a.from_logits) slice_stats(xo, w, classes, inner, smoothing > 0, row_max.data(), exp_sum.data(), below_max.data());
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t e = o * inner + i;
      T log_sum = 0;
      if (a.from_logits) {
        log_sum = std::log(exp_sum[i]);
        lse_out[e] = row_max[i] + log_sum;
      }
      const int64_t y = yo[i];
      if (y == a.ignore_index) {
        loss[e] = 0;
        continue;
      }
      const T wy = class_weight(w, y);
      T l;
      if (a.from_logits) {
        l = (1 - smoothing) * wy * (lse_out[e] - xo[y * inner + i]);
        if (smoothing > 0) l += smooth_per_class * (below_max[i] + w_total * log_sum);
      } else {
        l = -wy * xo[y * inner + i];
      }
      loss[e] = l;
      total_loss += l;
      total_weight += wy;
    }
  }
  p.totals[0] = total_loss;
  p.totals[1] = total_weight;
}

// d loss / d x_c for a kept sample with upstream gradient g:
//   cross entropy: g * ((1-ls) w_y + ls/C W) p_c - g (1-ls) w_y [c == y] - g ls/C w_c
//   nll:           -g w_y [c == y]
template <typename T>
void backward_typed(const ClassLossBackwardParams& p) {
  const ClassLossArgs& a = p.args;
  const int64_t outer = a.shape.outer, classes = a.shape.classes, inner = a.shape.inner;
  const T* x = static_cast<const T*>(a.input);
  const T* w = static_cast<const T*>(a.weight);
  const T* lse = static_cast<const T*>(p.logsumexp);
  const T* grad = static_cast<const T*>(p.grad_loss);
  T* gx = static_cast<T*>(p.grad_input);
  const T smoothing = static_cast<T>(a.label_smoothing);
  const T smooth_per_class = smoothing / static_cast<T>(classes);
  const T w_total = weight_total<T>(a);
  std::vector<T> coef_prob(inner), coef_target(inner), coef_class(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * classes * inner;
    const int64_t* yo = a.target + o * inner;
    T* go = gx + o * classes * inner;
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t y = yo[i];
      if (y == a.ignore_index) {
        coef_prob[i] = coef_target[i] = coef_class[i] = 0;
        continue;
      }
      const T g = grad[(o * inner + i) * p.grad_stride];
      const T wy = class_weight(w, y);
      coef_target[i] = a.from_logits ? (1 - smoothing) * wy * g : wy * g;
      coef_class[i] = smooth_per_class * g;
      coef_prob[i] = coef_target[i] + coef_class[i] * w_total;
    }
    if (a.from_logits) {
      const T* lo = lse + o * inner;
      if (inner == 1) {
        const T cp = coef_prob[0], cw = coef_class[0], l = lo[0];
        for (int64_t c = 0; c < classes; ++c) go[c] = cp * std::exp(xo[c] - l) - cw * class_weight(w, c);
      } else {
        for (int64_t c = 0; c < classes; ++c) {
          const T wc = class_weight(w, c);
          const T* xc = xo + c * inner;
          T* gc = go + c * inner;
          for (int64_t i = 0; i < inner; ++i) gc[i] = coef_prob[i] * std::exp(xc[i] - lo[i]) - coef_class[i] * wc;
        }
      }
    } else {
      std::fill(go, go + classes * inner, T(0));
    }
    for (int64_t i = 0; i < inner; ++i)
      if (yo[i] != a.ignore_index) go[yo[i] * inner + i] -= coef_target[i];
  }
}

}  // namespace

void class_loss_forward(const ClassLossForwardParams& p) {
  if (p.args.dtype == DType::F64) return forward_typed<double>(p);
  if (p.args.dtype == DType::F32) return forward_typed<float>(p);
  throw DTypeError(detail::concat("class_loss_forward: expected float32 or float64, got ", dtype_name(p.args.dtype)));
}

void class_loss_backward(const ClassLossBackwardParams& p) {
  if (p.args.dtype == DType::F64) return backward_typed<double>(p);
  if (p.args.dtype == DType::F32) return backward_typed<float>(p);
  throw DTypeError(detail::concat("class_loss_backward: expected float32 or float64, got ", dtype_name(p.args.dtype)));
}

}  // namespace striate::kernels::cpu
