// The CUDA normalisation kernels (normalization.cu, channels.cuh) run by the
// emulator against the CPU: batch norm's per-channel statistics and backward
// sums (Welford merges through warp shuffles and shared memory, a tile of
// channels per block for channels-last-like layouts, a block per channel
// otherwise), batch norm apply / backward input, and layer norm forward and
// backward (a warp per row for short rows, a block per row for long ones,
// with the weight and bias gradients reduced over rows), and local response
// normalisation forward and backward (windows across channels, clipped at
// both ends).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "compare.h"
#include "kernels/normalization.h"

namespace striate::emu_test {
namespace {

template <typename T>
DType dtype_of() {
  return std::is_same_v<T, float> ? DType::F32 : DType::F64;
}

const std::vector<kernels::ChannelShape> kChannelShapes = {
    {4, 5, 7},    // a block per channel
    {37, 6, 1},   // inner 1: a tile of channels per block
    {300, 3, 1},  // long columns of few channels
    {9, 45, 1},   // more channels than one tile holds
    {1, 3, 513},
    // Few channels of many values: each split into parts (blocks along y)
    // whose partial results a second kernel merges.
    {8, 2, 4099},   // a block per channel and part
    {40001, 3, 1},  // a tile per part of the rows
};

std::string name_of(const kernels::ChannelShape& s) {
  return std::to_string(s.outer) + "x" + std::to_string(s.channels) + "x" + std::to_string(s.inner);
}

template <typename T>
void expect_batch_norm_matches(const kernels::ChannelShape& s) {
  const std::string where = name_of(s) + ", " + dtype_name(dtype_of<T>());
  const size_t n = static_cast<size_t>(s.outer * s.channels * s.inner), c = static_cast<size_t>(s.channels);
  const int64_t count = s.outer * s.inner;
  const std::vector<T> x = random_values<T>(n, 11), g = random_values<T>(n, 12);
  const double eps = std::numeric_limits<T>::epsilon();

  std::vector<double> mean = poisoned<double>(c), var = poisoned<double>(c), want_mean(c), want_var(c);
  kernels::cuda::batch_norm_stats({x.data(), s, dtype_of<T>(), mean.data(), var.data()});
  kernels::cpu::batch_norm_stats({x.data(), s, dtype_of<T>(), want_mean.data(), want_var.data()});
  const std::vector<double> x_abs64 = abs_f64(x);
  const std::vector<T> x_abs(x_abs64.begin(), x_abs64.end());
  std::vector<double> abs_mean(c), abs_var(c);
  kernels::cpu::batch_norm_stats({x_abs.data(), s, dtype_of<T>(), abs_mean.data(), abs_var.data()});
  expect_close_eps(mean, want_mean, abs_mean, count, eps, where + ": mean");
  expect_close_eps(var, want_var, scale_of(want_var), count, eps, where + ": var");

  // The backward sums, centred on the CPU's mean.
  std::vector<T> center(c), scale = random_values<T>(c, 13), shift = random_values<T>(c, 14);
  for (size_t i = 0; i < c; ++i) center[i] = static_cast<T>(want_mean[i]);
  std::vector<double> sum_grad = poisoned<double>(c), sum_centered = poisoned<double>(c), want_sum(c),
                      want_centered(c);
  kernels::cuda::batch_norm_backward_reduce(
      {g.data(), x.data(), center.data(), s, dtype_of<T>(), sum_grad.data(), sum_centered.data()});
  kernels::cpu::batch_norm_backward_reduce(
      {g.data(), x.data(), center.data(), s, dtype_of<T>(), want_sum.data(), want_centered.data()});
  // Magnitudes: the same sums over |g| and |x - center| (centred on zero).
  std::vector<T> g_abs(n), xc_abs(n), zeros(c, T(0));
  for (size_t i = 0; i < n; ++i) {
    const size_t ch = i / static_cast<size_t>(s.inner) % c;
    g_abs[i] = std::abs(g[i]);
    xc_abs[i] = std::abs(x[i] - center[ch]);
  }
  std::vector<double> size_sum(c), size_centered(c);
  kernels::cpu::batch_norm_backward_reduce(
      {g_abs.data(), xc_abs.data(), zeros.data(), s, dtype_of<T>(), size_sum.data(), size_centered.data()});
  expect_close_eps(sum_grad, want_sum, size_sum, count, eps, where + ": sum of grad");
  expect_close_eps(sum_centered, want_centered, size_centered, count, eps, where + ": sum of grad * centred");

  // Apply and backward input: elementwise over the channel index.
  std::vector<T> y = poisoned<T>(n), want_y(n);
  kernels::cuda::batch_norm_apply({x.data(), y.data(), center.data(), scale.data(), shift.data(), s, dtype_of<T>()});
  kernels::cpu::batch_norm_apply({x.data(), want_y.data(), center.data(), scale.data(), shift.data(), s,
                                  dtype_of<T>()});
  expect_close(y, to_f64(want_y), scale_of(to_f64(want_y)), 2, where + ": apply");
  for (bool centered : {true, false}) {
    const std::vector<T> k_grad = random_values<T>(c, 15), k_centered = random_values<T>(c, 16),
                         k_const = random_values<T>(c, 17);
    std::vector<T> gx = poisoned<T>(n), want_gx(n);
    const void* kc = centered ? k_centered.data() : nullptr;
    kernels::cuda::batch_norm_backward_input(
        {g.data(), x.data(), center.data(), k_grad.data(), kc, k_const.data(), gx.data(), s, dtype_of<T>()});
    kernels::cpu::batch_norm_backward_input(
        {g.data(), x.data(), center.data(), k_grad.data(), kc, k_const.data(), want_gx.data(), s, dtype_of<T>()});
    expect_close(gx, to_f64(want_gx), scale_of(to_f64(want_gx)), 3, where + ": backward input");
  }
}

struct RowsCase {
  int64_t rows, cols;
  bool affine;
};

const std::vector<RowsCase> kRowsCases = {
    {19, 40, true},    // warp rows, the last block part-filled
    {5, 1000, false},  // warp rows, 32 columns per lane
    {3, 1500, true},   // a block per row
};

template <typename T>
void expect_layer_norm_matches(const RowsCase& rc) {
  const std::string where = std::to_string(rc.rows) + "x" + std::to_string(rc.cols) + ", " + dtype_name(dtype_of<T>());
  const size_t n = static_cast<size_t>(rc.rows * rc.cols), r = static_cast<size_t>(rc.rows);
  const size_t cols = static_cast<size_t>(rc.cols);
  const std::vector<T> x = random_values<T>(n, 21), g = random_values<T>(n, 22);
  const std::vector<T> w = random_values<T>(cols, 23), b = random_values<T>(cols, 24);
  const T* wp = rc.affine ? w.data() : nullptr;
  const T* bp = rc.affine ? b.data() : nullptr;

  std::vector<T> y = poisoned<T>(n), mean = poisoned<T>(r), rstd = poisoned<T>(r);
  std::vector<T> want_y(n), want_mean(r), want_rstd(r);
  kernels::cuda::layer_norm_forward({x.data(), wp, bp, y.data(), mean.data(), rstd.data(), rc.rows, rc.cols, 1e-5,
                                     dtype_of<T>()});
  kernels::cpu::layer_norm_forward({x.data(), wp, bp, want_y.data(), want_mean.data(), want_rstd.data(), rc.rows,
                                    rc.cols, 1e-5, dtype_of<T>()});
  expect_close(y, to_f64(want_y), scale_of(to_f64(want_y)), rc.cols, where + ": output");
  expect_close(mean, to_f64(want_mean), std::vector<double>(r, 1.0), rc.cols, where + ": mean");
  expect_close(rstd, to_f64(want_rstd), scale_of(to_f64(want_rstd)), rc.cols, where + ": rstd");

  std::vector<T> gx = poisoned<T>(n), gw = poisoned<T>(cols), gb = poisoned<T>(cols);
  std::vector<T> want_gx(n), want_gw(cols), want_gb(cols);
  kernels::cuda::layer_norm_backward({g.data(), x.data(), wp, want_mean.data(), want_rstd.data(), gx.data(),
                                      rc.affine ? gw.data() : nullptr, rc.affine ? gb.data() : nullptr, rc.rows,
                                      rc.cols, dtype_of<T>()});
  kernels::cpu::layer_norm_backward({g.data(), x.data(), wp, want_mean.data(), want_rstd.data(), want_gx.data(),
                                     rc.affine ? want_gw.data() : nullptr, rc.affine ? want_gb.data() : nullptr,
                                     rc.rows, rc.cols, dtype_of<T>()});
  expect_close(gx, to_f64(want_gx), scale_of(to_f64(want_gx)), rc.cols, where + ": grad input");
  if (rc.affine) {
    expect_close(gw, to_f64(want_gw), scale_of(to_f64(want_gw)), rc.rows, where + ": grad weight");
    expect_close(gb, to_f64(want_gb), scale_of(to_f64(want_gb)), rc.rows, where + ": grad bias");
  }
}

// LRN over [outer, channels, inner]: odd and even window sizes, windows
// wider than the channel count.
template <typename T>
void expect_lrn_matches(const kernels::ChannelShape& s, int64_t size) {
  const std::string where = name_of(s) + ", size " + std::to_string(size) + ", " + dtype_name(dtype_of<T>());
  const size_t n = static_cast<size_t>(s.outer * s.channels * s.inner);
  const std::vector<T> x = random_values<T>(n, 31), g = random_values<T>(n, 32);
  const double alpha = 0.3, beta = 0.75, k = 2.0;  // large alpha: the window's sum matters
  std::vector<T> y = poisoned<T>(n), denom = poisoned<T>(n), want_y(n), want_denom(n);
  kernels::cuda::lrn_forward({x.data(), y.data(), denom.data(), s, size, alpha, beta, k, dtype_of<T>()});
  kernels::cpu::lrn_forward({x.data(), want_y.data(), want_denom.data(), s, size, alpha, beta, k, dtype_of<T>()});
  // A window sum of `size` squares, then a power: a few roundings each.
  expect_close(denom, to_f64(want_denom), scale_of(to_f64(want_denom)), size + 4, where + ": denominator");
  expect_close(y, to_f64(want_y), scale_of(to_f64(want_y)), size + 4, where + ": output");

  std::vector<T> gx = poisoned<T>(n), want_gx(n);
  kernels::cuda::lrn_backward({g.data(), x.data(), want_denom.data(), gx.data(), s, size, alpha, beta, dtype_of<T>()});
  kernels::cpu::lrn_backward(
      {g.data(), x.data(), want_denom.data(), want_gx.data(), s, size, alpha, beta, dtype_of<T>()});
  // A window sum of terms with both signs: scaled by the largest of them.
  const double largest =
      *std::max_element(want_gx.begin(), want_gx.end(), [](T a, T b) { return std::abs(a) < std::abs(b); });
  expect_close(gx, to_f64(want_gx), std::vector<double>(n, std::max(1.0, std::abs(largest))), 2 * size + 4,
               where + ": grad input");
}

TEST(EmulatedNorm, LocalResponseNormMatchesTheCpu) {
  for (const kernels::ChannelShape& s : {kernels::ChannelShape{3, 7, 5}, kernels::ChannelShape{2, 3, 9}})
    for (int64_t size : {1, 2, 5}) {
      expect_lrn_matches<float>(s, size);
      expect_lrn_matches<double>(s, size);
    }
}

TEST(EmulatedNorm, BatchNormMatchesTheCpu) {
  for (const kernels::ChannelShape& s : kChannelShapes) {
    expect_batch_norm_matches<float>(s);
    expect_batch_norm_matches<double>(s);
  }
}

TEST(EmulatedNorm, LayerNormMatchesTheCpu) {
  for (const RowsCase& rc : kRowsCases) {
    expect_layer_norm_matches<float>(rc);
    expect_layer_norm_matches<double>(rc);
  }
}

}  // namespace
}  // namespace striate::emu_test
