// CPU softmax kernels. The maximum along the dim is subtracted before exp,
// so inputs of any magnitude give finite results (and an all -inf slice gives
// NaN, as in PyTorch).
//
// When the softmax dim is not innermost (inner > 1), the loops run over the
// whole contiguous [dim, inner] block of one outer index with per-inner
// running maxima and sums, so every pass reads memory in order instead of
// striding by `inner`.
#include "kernels/softmax.h"

#include <cmath>
#include <limits>
#include <vector>

namespace striate::kernels::cpu {
namespace {

template <typename T>
void softmax_row(const T* x, T* y, int64_t n, bool log) {
  T max = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  T sum = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - max);
    // (x - max) - log(sum), not x - (max + log(sum)): for |max| >> 1 the
    // latter rounds log(sum) to the ulp of max.
    const T log_sum = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - max) - log_sum;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      y[i] = std::exp(x[i] - max);
      sum += y[i];
    }
    const T inv = T(1) / sum;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// One outer block: x and y are [dim, inner]; max and sum have `inner` slots.
template <typename T>
void softmax_block(const T* x, T* y, int64_t dim, int64_t inner, bool log, T* max, T* sum) {
  for (int64_t i = 0; i < inner; ++i) max[i] = x[i];
  for (int64_t d = 1; d < dim; ++d) {
    const T* row = x + d * inner;
    for (int64_t i = 0; i < inner; ++i) max[i] = row[i] > max[i] ? row[i] : max[i];
  }
  for (int64_t i = 0; i < inner; ++i) sum[i] = 0;
  for (int64_t d = 0; d < dim; ++d) {
    const T* row = x + d * inner;
    T* out = y + d * inner;
    for (int64_t i = 0; i < inner; ++i) {
      const T e = std::exp(row[i] - max[i]);
      if (!log) out[i] = e;
      sum[i] += e;
    }
  }
  if (log) {
    for (int64_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
    for (int64_t d = 0; d < dim; ++d) {
      const T* row = x + d * inner;
      T* out = y + d * inner;
      for (int64_t i = 0; i < inner; ++i) out[i] = (row[i] - max[i]) - sum[i];
    }
  } else {
    for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
    for (int64_t d = 0; d < dim; ++d) {
      T* out = y + d * inner;
      for (int64_t i = 0; i < inner; ++i) out[i] *= sum[i];
    }
  }
}

template <typename T>
void softmax_typed(const SoftmaxParams& p) {
  const auto* x = static_cast<const T*>(p.input);
  auto* y = static_cast<T*>(p.output);
  const auto [outer, dim, inner] = p.shape;
  if (dim == 0 || inner == 0) return;
  const int64_t block = dim * inner;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) softmax_row(x + o * block, y + o * block, dim, p.log);
    return;
  }
  std::vector<T> scratch(2 * inner);
  for (int64_t o = 0; o < outer; ++o)
    softmax_block(x + o * block, y + o * block, dim, inner, p.log, scratch.data(), scratch.data() + inner);
}

template <typename T>
void softmax_backward_row(const T* g, const T* y, T* gi, int64_t n, bool log) {
  T sum = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) sum += g[i];
    for (int64_t i = 0; i < n; ++i) gi[i] = g[i] - std::exp(y[i]) * sum;
  } else {
    for (int64_t i = 0; i < n; ++i) sum += g[i] * y[i];
    for (int64_t i = 0; i < n; ++i) gi[i] = y[i] * (g[i] - sum);
  }
}

template <typename T>
void softmax_backward_block(const T* g, const T* y, T* gi, int64_t dim, int64_t inner, bool log, T* sum) {
  for (int64_t i = 0; i < inner; ++i) sum[i] = 0;
  for (int64_t d = 0; d < dim; ++d) {
    const T* grow = g + d * inner;
    const T* yrow = y + d * inner;
    if (log)
      for (int64_t i = 0; i < inner; ++i) sum[i] += grow[i];
    else
      for (int64_t i = 0; i < inner; ++i) sum[i] += grow[i] * yrow[i];
  }
  for (int64_t d = 0; d < dim; ++d) {
    const T* grow = g + d * inner;
    const T* yrow = y + d * inner;
    T* out = gi + d * inner;
    if (log)
      for (int64_t i = 0; i < inner; ++i) out[i] = grow[i] - std::exp(yrow[i]) * sum[i];
    else
      for (int64_t i = 0; i < inner; ++i) out[i] = yrow[i] * (grow[i] - sum[i]);
  }
}

template <typename T>
void softmax_backward_typed(const SoftmaxBackwardParams& p) {
  const auto* g = static_cast<const T*>(p.grad_out);
  const auto* y = static_cast<const T*>(p.output);
  auto* gi = static_cast<T*>(p.grad_input);
  const auto [outer, dim, inner] = p.shape;
  if (dim == 0 || inner == 0) return;
  const int64_t block = dim * inner;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o)
      softmax_backward_row(g + o * block, y + o * block, gi + o * block, dim, p.log);
    return;
  }
  std::vector<T> sum(inner);
  for (int64_t o = 0; o < outer; ++o)
    softmax_backward_block(g + o * block, y + o * block, gi + o * block, dim, inner, p.log, sum.data());
}

template <typename F>
void visit_f32_f64(DType t, const char* op, F&& f) {
  if (t == DType::F32) return f.template operator()<float>();
  if (t == DType::F64) return f.template operator()<double>();
  throw DTypeError(detail::concat(op, ": the CPU kernel takes float32 or float64, got ", dtype_name(t)));
}

}  // namespace

void softmax(const SoftmaxParams& p) {
  visit_f32_f64(p.dtype, "softmax", [&]<typename T>() { softmax_typed<T>(p); });
}

void softmax_backward(const SoftmaxBackwardParams& p) {
  visit_f32_f64(p.dtype, "softmax backward", [&]<typename T>() { softmax_backward_typed<T>(p); });
}

}  // namespace striate::kernels::cpu
