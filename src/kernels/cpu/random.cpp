// The CPU fill: walks the reserved counters one Philox block at a time and
// writes the V elements each block serves (see kernels/random.h).
#include <utility>

#include "kernels/random.h"

namespace striate::kernels::cpu {

using namespace random_detail;

namespace {

template <typename T>
T store_float(double v) {
  if constexpr (std::is_same_v<T, double>) return v;
  else return static_cast<T>(static_cast<float>(v));
}

// The value of lane `lane` of block `b`, rounded to T.
template <typename T>
T element(const RandomParams& p, const philox::Block& b, int lane, bool wide) {
  switch (p.dist) {
    case Distribution::Uniform:
      if constexpr (std::is_floating_point_v<acc_t<T>>) {
        const double v = wide ? uniform_wide(p, b, lane) : uniform_narrow(p, b, lane);
        T out = store_float<T>(v);
        // Rounding to T may reach `to`; the interval stays half-open.
        if (static_cast<double>(static_cast<acc_t<T>>(out)) >= p.b && p.b > p.a) out = store_float<T>(p.a);
        return out;
      }
      break;
    case Distribution::Normal:
      if constexpr (std::is_floating_point_v<acc_t<T>>)
        return store_float<T>(wide ? normal_wide(p, b, lane) : normal_narrow(p, b, lane));
      break;
    case Distribution::Bernoulli:
      if constexpr (std::is_same_v<T, bool>) return bernoulli(p, b, lane);
      else return static_cast<T>(static_cast<acc_t<T>>(bernoulli(p, b, lane) ? 1 : 0));
    case Distribution::RandomInt: {
      const int64_t v = random_int(p, b, lane, wide);
      if constexpr (std::is_same_v<T, bool>) return v != 0;
      else return static_cast<T>(static_cast<acc_t<T>>(v));
    }
  }
  return T{};  // the op layer rejects the remaining (dist, dtype) pairs
}

}  // namespace

void random(const RandomParams& p) {
  const int per_counter = values_per_counter(p.dist, p.dtype, p.range);
  const bool wide = per_counter == 2;
  visit_dtype(p.dtype, [&]<typename T>() {
    T* out = static_cast<T*>(p.out);
    for (int64_t first = 0, k = 0; first < p.numel; first += per_counter, ++k) {
      const philox::Block b = philox::philox4x32_10(p.offset + static_cast<uint64_t>(k), 0, p.seed);
      const int lanes = static_cast<int>(std::min<int64_t>(per_counter, p.numel - first));
      for (int lane = 0; lane < lanes; ++lane) out[first + lane] = element<T>(p, b, lane, wide);
    }
  });
}

void randperm(const RandpermParams& p) {
  for (int64_t i = 0; i < p.n; ++i) p.out[i] = i;
  philox::Block b{};
  for (int64_t k = 0; k + 1 < p.n; ++k) {
    if (k % 2 == 0) b = philox::philox4x32_10(p.offset + static_cast<uint64_t>(k / 2), 0, p.seed);
    const int64_t last = p.n - 1 - k;
    const auto j = static_cast<int64_t>(wide_word(b, static_cast<int>(k % 2)) % static_cast<uint64_t>(last + 1));
    std::swap(p.out[last], p.out[j]);
  }
}

}  // namespace striate::kernels::cpu
