// What the emulated-kernel tests share: random inputs (never zero, so a
// term that goes missing shows), outputs poisoned with NaN (so an element a
// kernel forgets to write shows), and the comparison with a CPU reference
// computed in f64 on the same rounded inputs.
//
// Tolerance: a sum of `depth` products rounds differently in every order, so
// each element may differ by a few ulps of the dtype times the sum of the
// magnitudes of its terms (the same computation over |inputs|, also on the
// CPU): |got - want| <= eps * (4 + 2 sqrt(depth)) * magnitude.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace striate::emu_test {

// Uniform magnitudes in [0.25, 1] with random signs.
template <typename T>
std::vector<T> random_values(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> magnitude(0.25, 1.0);
  std::bernoulli_distribution negative(0.5);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(negative(gen) ? -magnitude(gen) : magnitude(gen));
  return v;
}

template <typename T>
std::vector<T> poisoned(size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

template <typename T>
std::vector<double> to_f64(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <typename T>
std::vector<double> abs_f64(const std::vector<T>& v) {
  std::vector<double> a(v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = std::abs(static_cast<double>(v[i]));
  return a;
}

// got may be wider than the dtype it was computed in (f64 statistics of
// f32 data): `epsilon` is that dtype's.
template <typename T>
void expect_close_eps(const std::vector<T>& got, const std::vector<double>& want,
                      const std::vector<double>& magnitude, int64_t depth, double epsilon, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(magnitude.size(), want.size());
  const double factor = epsilon * (4 + 2 * std::sqrt(static_cast<double>(depth)));
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = static_cast<double>(got[i]), bound = factor * magnitude[i] + 1e-300;
    if (!(std::abs(g - want[i]) <= bound) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": emulated " << g << ", cpu " << want[i] << " (bound " << bound << ")";
  }
  EXPECT_EQ(bad, 0) << bad << " of " << want.size() << " elements differ";
}

template <typename T>
void expect_close(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& magnitude,
                  int64_t depth, const std::string& what) {
  expect_close_eps(got, want, magnitude, depth, std::numeric_limits<T>::epsilon(), what);
}

// x rounded to TF32 (10 explicit mantissa bits, to nearest, ties away from
// zero), as cvt.rna.tf32.f32 does; written with frexp/round, independently
// of the emulator's bit arithmetic. Normal f32 values only.
inline float round_to_tf32(float x) {
  int exponent = 0;
  const double mantissa = std::frexp(static_cast<double>(x), &exponent);  // in [0.5, 1): 11 significant bits
  return static_cast<float>(std::ldexp(std::round(std::ldexp(mantissa, 11)), exponent - 11));
}

template <typename T>
std::vector<T> rounded_to_tf32(std::vector<T> v) {
  for (T& x : v) x = static_cast<T>(round_to_tf32(static_cast<float>(x)));
  return v;
}

// The result's scale, for kernels whose error is relative to the largest value.
inline std::vector<double> scale_of(const std::vector<double>& want) {
  double m = 0;
  for (double v : want) m = std::max(m, std::abs(v));
  return std::vector<double>(want.size(), m);
}

}  // namespace striate::emu_test
