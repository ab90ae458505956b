// CPU reductions. Floating sums are pairwise over a contiguous run, or
// cascaded in blocks of rows when the reduced dim is strided, in a wide
// accumulator (double for f32/f64, float for f16/bf16): a sum of a million
// ones is exact, and rounding error grows with log n rather than n.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/reduce.h"

namespace striate::kernels {
namespace cpu {
namespace {

template <typename T>
using sum_acc_t = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float,
                                     std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>;

constexpr int64_t kPairwiseBase = 64;
// Rows summed sequentially before their block total joins the running total.
constexpr int64_t kRowBlock = 128;

// Pairwise sum of at(0) .. at(n - 1).
template <typename Acc, typename At>
Acc pairwise_sum(int64_t begin, int64_t n, const At& at) {
  if (n <= kPairwiseBase) {
    Acc s[4] = {0, 0, 0, 0};  // independent chains let the compiler vectorise
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) s[k] += at(begin + i + k);
    for (; i < n; ++i) s[0] += at(begin + i);
    return (s[0] + s[1]) + (s[2] + s[3]);
  }
  const int64_t half = (n / 2 + kPairwiseBase - 1) / kPairwiseBase * kPairwiseBase;
  return pairwise_sum<Acc>(begin, half, at) + pairwise_sum<Acc>(begin + half, n - half, at);
}

// acc[i] = sum over r of at(r, i), i < inner, for a strided reduced dim.
template <typename Acc, typename At>
void row_sums(int64_t reduce, int64_t inner, const At& at, std::vector<Acc>& acc) {
  acc.assign(inner, Acc(0));
  std::vector<Acc> block(inner);
  for (int64_t r0 = 0; r0 < reduce; r0 += kRowBlock) {
    std::fill(block.begin(), block.end(), Acc(0));
    const int64_t r1 = std::min(reduce, r0 + kRowBlock);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t i = 0; i < inner; ++i) block[i] += at(r, i);
    for (int64_t i = 0; i < inner; ++i) acc[i] += block[i];
  }
}

template <typename T>
void sum_kernel(const ReduceParams& p) {
  using Acc = sum_acc_t<T>;
  using Out = std::conditional_t<std::is_floating_point_v<acc_t<T>>, T, int64_t>;
  const T* in = static_cast<const T*>(p.in);
  Out* out = static_cast<Out*>(p.out);
  const int64_t outer = p.shape.outer, len = p.shape.reduce, inner = p.shape.inner;
  auto finish = [&](Acc s) -> Out {
    if constexpr (std::is_floating_point_v<Acc>) return static_cast<Out>(static_cast<acc_t<Out>>(s * p.scale));
    else return static_cast<Out>(s);
  };
  // Integer sums wrap on overflow, as two's complement does, without UB.
  auto value = [](T v) -> Acc {
    if constexpr (std::is_floating_point_v<Acc>) return static_cast<Acc>(static_cast<acc_t<T>>(v));
    else return static_cast<Acc>(v);
  };
  std::vector<Acc> acc;
  for (int64_t o = 0; o < outer; ++o) {
    const T* block = in + o * len * inner;
    if (inner == 1) {
      if constexpr (std::is_floating_point_v<Acc>) {
        out[o] = finish(pairwise_sum<Acc>(0, len, [&](int64_t r) { return value(block[r]); }));
      } else {
        uint64_t s = 0;
        for (int64_t r = 0; r < len; ++r) s += static_cast<uint64_t>(value(block[r]));
        out[o] = static_cast<Out>(static_cast<int64_t>(s));
      }
      continue;
    }
    if constexpr (std::is_floating_point_v<Acc>) {
      row_sums<Acc>(len, inner, [&](int64_t r, int64_t i) { return value(block[r * inner + i]); }, acc);
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = finish(acc[i]);
    } else {
      std::vector<uint64_t> s(inner, 0);
      for (int64_t r = 0; r < len; ++r)
        for (int64_t i = 0; i < inner; ++i) s[i] += static_cast<uint64_t>(value(block[r * inner + i]));
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<Out>(static_cast<int64_t>(s[i]));
    }
  }
}

// Two passes (mean, then squared deviations): no cancellation, unlike
// sum(x^2) - n mean^2.
template <typename T>
void var_kernel(const ReduceParams& p) {
  using Acc = sum_acc_t<T>;
  const T* in = static_cast<const T*>(p.in);
  T* out = static_cast<T*>(p.out);
  const int64_t outer = p.shape.outer, len = p.shape.reduce, inner = p.shape.inner;
  const Acc n = static_cast<Acc>(len);
  const Acc divisor = static_cast<Acc>(std::max<int64_t>(0, len - p.correction));
  std::vector<Acc> mean, m2;
  for (int64_t o = 0; o < outer; ++o) {
    const T* block = in + o * len * inner;
    auto x = [&](int64_t r, int64_t i) { return static_cast<Acc>(static_cast<acc_t<T>>(block[r * inner + i])); };
    if (inner == 1) {
      const Acc mu = pairwise_sum<Acc>(0, len, [&](int64_t r) { return x(r, 0); }) / n;
      const Acc sq = pairwise_sum<Acc>(0, len, [&](int64_t r) {
        const Acc d = x(r, 0) - mu;
        return d * d;
      });
      out[o] = static_cast<T>(static_cast<acc_t<T>>(sq / divisor));
      continue;
    }
    row_sums<Acc>(len, inner, x, mean);
    for (auto& m : mean) m /= n;
    row_sums<Acc>(len, inner, [&](int64_t r, int64_t i) {
      const Acc d = x(r, i) - mean[i];
      return d * d;
    }, m2);
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<T>(static_cast<acc_t<T>>(m2[i] / divisor));
  }
}

template <typename T>
void arg_reduce_kernel(const ArgReduceParams& p) {
  using V = acc_t<T>;
  const T* in = static_cast<const T*>(p.in);
  T* values = static_cast<T*>(p.values);
  const int64_t outer = p.shape.outer, len = p.shape.reduce, inner = p.shape.inner;
  auto is_nan = [](V v) {
    if constexpr (std::is_floating_point_v<V>) return std::isnan(v);
    else return false;
  };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* x = in + o * len * inner + i;
      V best = static_cast<V>(x[0]);
      int64_t best_index = 0;
      for (int64_t r = 1; r < len && !is_nan(best); ++r) {
        const V v = static_cast<V>(x[r * inner]);
        if (is_nan(v) || (p.is_max ? v > best : v < best)) {
          best = v;
          best_index = r;
        }
      }
      if (values) values[o * inner + i] = x[best_index * inner];
      if (p.indices) p.indices[o * inner + i] = best_index;
    }
}

}  // namespace

void reduce(const ReduceParams& p) {
  if (p.op == ReduceOp::Sum) {
    visit_dtype(p.dtype, [&]<typename T>() { sum_kernel<T>(p); });
  } else {
    visit_floating(p.dtype, "var", [&]<typename T>() { var_kernel<T>(p); });
  }
}

void arg_reduce(const ArgReduceParams& p) {
  visit_dtype(p.dtype, [&]<typename T>() { arg_reduce_kernel<T>(p); });
}

}  // namespace cpu
}  // namespace striate::kernels
