// The CUDA prelu kernels (prelu.cu) run by the emulator against the CPU:
// forward and grad input exactly (one rounding each, the same on both), the
// weight gradient (a per-channel sum in double) within the rounding of the
// sum, over [outer, channels, inner] shapes that take each reduction path
// (a block per channel; channel tiles when inner == 1), a shared weight, and
// f32/f64.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compare.h"
#include "kernels/activation.h"

namespace striate::emu_test {
namespace {

template <typename T>
void expect_prelu_matches(const kernels::PreluShape& s) {
  const DType dtype = std::is_same_v<T, float> ? DType::F32 : DType::F64;
  const std::string where = std::to_string(s.outer) + "x" + std::to_string(s.channels) + "x" +
                            std::to_string(s.inner) + ", " + dtype_name(dtype);
  const size_t n = static_cast<size_t>(s.outer * s.channels * s.inner), c = static_cast<size_t>(s.channels);
  const std::vector<T> x = random_values<T>(n, 41), g = random_values<T>(n, 42), w = random_values<T>(c, 43);

  std::vector<T> y = poisoned<T>(n), want_y(n);
  kernels::cuda::prelu({x.data(), w.data(), y.data(), s, dtype});
  kernels::cpu::prelu({x.data(), w.data(), want_y.data(), s, dtype});
  EXPECT_EQ(to_f64(y), to_f64(want_y)) << where << ": output";

  std::vector<T> gx = poisoned<T>(n), gw = poisoned<T>(c), want_gx(n), want_gw(c);
  kernels::cuda::prelu_backward({g.data(), x.data(), w.data(), gx.data(), gw.data(), s, dtype});
  kernels::cpu::prelu_backward({g.data(), x.data(), w.data(), want_gx.data(), want_gw.data(), s, dtype});
  EXPECT_EQ(to_f64(gx), to_f64(want_gx)) << where << ": grad input";
  // Magnitudes of the weight gradient's terms: sum over the channel of |x * g| where x <= 0.
  std::vector<double> size(c, 0.0);
  for (size_t i = 0; i < n; ++i)
    if (x[i] <= 0) size[i / static_cast<size_t>(s.inner) % c] += std::abs(static_cast<double>(x[i]) * g[i]);
  expect_close(gw, to_f64(want_gw), size, s.outer * s.inner, where + ": grad weight");

  // Only the weight gradient asked for: grad input is left alone.
  std::vector<T> gw2 = poisoned<T>(c);
  kernels::cuda::prelu_backward({g.data(), x.data(), w.data(), nullptr, gw2.data(), s, dtype});
  EXPECT_EQ(to_f64(gw2), to_f64(gw)) << where << ": grad weight alone";
}

TEST(EmulatedPrelu, MatchesTheCpu) {
  for (const kernels::PreluShape& s : {kernels::PreluShape{3, 4, 37}, kernels::PreluShape{200, 6, 1},
                                       kernels::PreluShape{9, 45, 1}, kernels::PreluShape{5, 1, 70}}) {
    expect_prelu_matches<float>(s);
    expect_prelu_matches<double>(s);
  }
}

}  // namespace
}  // namespace striate::emu_test
