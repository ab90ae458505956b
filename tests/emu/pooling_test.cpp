// The CUDA pooling kernels (pooling.cu) run by the emulator against the CPU:
// max / avg / adaptive forward (a thread per output, windows clipped at the
// padded borders, dilation, count_include_pad, divisor_override) and their
// backward passes (the average ones a gather per input element, the max ones
// an atomicAdd scatter at the recorded indices into a zeroed grad input), on
// NCHW blocks and on channels-last ones (planes interleaved pixel by pixel).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "compare.h"
#include "kernels/pooling.h"

namespace striate::emu_test {
namespace {

struct PoolCase {
  const char* name;
  kernels::Pool2dShape shape;  // out_h/out_w worked out from the window
  kernels::Pool2dWindow window;
};

PoolCase with_output(PoolCase c) {
  const auto out = [](int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
  };
  const kernels::Pool2dWindow& w = c.window;
  c.shape.out_h = out(c.shape.in_h, w.kernel_h, w.stride_h, w.pad_h, w.dilation_h);
  c.shape.out_w = out(c.shape.in_w, w.kernel_w, w.stride_w, w.pad_w, w.dilation_w);
  return c;
}

const std::vector<PoolCase> kCases = {
    with_output({"3x3 stride 2 pad 1", {6, 9, 11}, {3, 3, 2, 2, 1, 1}}),
    with_output({"2x3 stride 1x2, dilation 2", {4, 8, 9}, {2, 3, 1, 2, 0, 1, 2, 2}}),
    with_output({"overlapping 3x3 stride 1 pad 1", {3, 5, 7}, {3, 3, 1, 1, 1, 1}}),
    // Channels-last: 2 images of 3 channels, 1 image of 4, 3 images of 1.
    with_output({"NHWC 3x3 stride 2 pad 1", {6, 9, 11, 0, 0, 3}, {3, 3, 2, 2, 1, 1}}),
    with_output({"NHWC 2x3 stride 1x2, dilation 2", {4, 8, 9, 0, 0, 4}, {2, 3, 1, 2, 0, 1, 2, 2}}),
    with_output({"NHWC overlapping 3x3 stride 1 pad 1", {6, 5, 7, 0, 0, 2}, {3, 3, 1, 1, 1, 1}}),
};

// A sum of terms below 1 in magnitude: its error scales with the larger of 1 and the result.
std::vector<double> unit_scale(const std::vector<double>& want) {
  std::vector<double> m = scale_of(want);
  for (double& v : m) v = std::max(v, 1.0);
  return m;
}

template <typename T>
DType dtype_of() {
  return std::is_same_v<T, float> ? DType::F32 : DType::F64;
}

template <typename T>
void expect_pooling_matches(const PoolCase& c) {
  const std::string where = std::string(c.name) + ", " + dtype_name(dtype_of<T>());
  const kernels::Pool2dShape& s = c.shape;
  const size_t in = static_cast<size_t>(s.planes * s.in_h * s.in_w);
  const size_t out = static_cast<size_t>(s.planes * s.out_h * s.out_w);
  const std::vector<T> x = random_values<T>(in, 31), g = random_values<T>(out, 32);
  const int64_t window = c.window.kernel_h * c.window.kernel_w;

  // Max: values and indices exactly; backward through those indices.
  std::vector<T> y = poisoned<T>(out), want_y(out);
  std::vector<int64_t> idx(out, -1), want_idx(out, -2);
  kernels::cuda::max_pool2d({x.data(), y.data(), idx.data(), s, c.window, dtype_of<T>()});
  kernels::cpu::max_pool2d({x.data(), want_y.data(), want_idx.data(), s, c.window, dtype_of<T>()});
  EXPECT_EQ(y, want_y) << where << ": max";
  EXPECT_EQ(idx, want_idx) << where << ": max indices";
  std::vector<T> gx = poisoned<T>(in), want_gx(in);
  kernels::cuda::max_pool_backward({g.data(), want_idx.data(), gx.data(), s, dtype_of<T>()});
  kernels::cpu::max_pool_backward({g.data(), want_idx.data(), want_gx.data(), s, dtype_of<T>()});
  expect_close(gx, to_f64(want_gx), unit_scale(to_f64(want_gx)), window, where + ": max backward");

  for (bool include_pad : {true, false})
    for (int64_t divisor : {int64_t{0}, int64_t{5}}) {
      const std::string what = where + (include_pad ? ", include pad" : ", exclude pad") +
                               (divisor ? ", divisor 5" : "");
      std::vector<T> a = poisoned<T>(out), want_a(out);
      kernels::cuda::avg_pool2d({x.data(), a.data(), s, c.window, include_pad, divisor, dtype_of<T>()});
      kernels::cpu::avg_pool2d({x.data(), want_a.data(), s, c.window, include_pad, divisor, dtype_of<T>()});
      expect_close(a, to_f64(want_a), unit_scale(to_f64(want_a)), window, what + ": avg");
      std::vector<T> ga = poisoned<T>(in), want_ga(in);
      kernels::AvgPool2dBackwardParams bp{g.data(), ga.data(), s, c.window, include_pad, divisor, dtype_of<T>()};
      kernels::cuda::avg_pool2d_backward(bp);
      bp.grad_input = want_ga.data();
      kernels::cpu::avg_pool2d_backward(bp);
      expect_close(ga, to_f64(want_ga), unit_scale(to_f64(want_ga)), window, what + ": avg backward");
    }
}

// Over 6 planes: NCHW, or channels-last with `channels` of them per image.
template <typename T>
void expect_adaptive_matches(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t channels) {
  const std::string where = std::to_string(in_h) + "x" + std::to_string(in_w) + " -> " + std::to_string(out_h) + "x" +
                            std::to_string(out_w) + ", " + dtype_name(dtype_of<T>()) + ", pixel stride " +
                            std::to_string(channels);
  const kernels::Pool2dShape s{6, in_h, in_w, out_h, out_w, channels};
  const size_t in = static_cast<size_t>(6 * in_h * in_w), out = static_cast<size_t>(6 * out_h * out_w);
  const std::vector<T> x = random_values<T>(in, 41), g = random_values<T>(out, 42);
  const int64_t window = (in_h / out_h + 2) * (in_w / out_w + 2);

  std::vector<T> y = poisoned<T>(out), want_y(out);
  std::vector<int64_t> idx(out, -1), want_idx(out, -2);
  kernels::cuda::adaptive_max_pool2d({x.data(), y.data(), idx.data(), s, dtype_of<T>()});
  kernels::cpu::adaptive_max_pool2d({x.data(), want_y.data(), want_idx.data(), s, dtype_of<T>()});
  EXPECT_EQ(y, want_y) << where << ": adaptive max";
  EXPECT_EQ(idx, want_idx) << where << ": adaptive max indices";

  std::vector<T> a = poisoned<T>(out), want_a(out);
  kernels::cuda::adaptive_avg_pool2d({x.data(), a.data(), nullptr, s, dtype_of<T>()});
  kernels::cpu::adaptive_avg_pool2d({x.data(), want_a.data(), nullptr, s, dtype_of<T>()});
  expect_close(a, to_f64(want_a), unit_scale(to_f64(want_a)), window, where + ": adaptive avg");
  std::vector<T> ga = poisoned<T>(in), want_ga(in);
  kernels::cuda::adaptive_avg_pool2d_backward({g.data(), ga.data(), s, dtype_of<T>()});
  kernels::cpu::adaptive_avg_pool2d_backward({g.data(), want_ga.data(), s, dtype_of<T>()});
  expect_close(ga, to_f64(want_ga), unit_scale(to_f64(want_ga)), window, where + ": adaptive avg backward");
}

TEST(EmulatedPooling, WindowsMatchTheCpu) {
  for (const PoolCase& c : kCases) {
    expect_pooling_matches<float>(c);
    expect_pooling_matches<double>(c);
  }
}

TEST(EmulatedPooling, AdaptiveMatchesTheCpu) {
  for (auto [ih, iw, oh, ow] : {std::array<int64_t, 4>{9, 11, 4, 5}, {5, 6, 7, 3}, {8, 8, 1, 1}})
    for (int64_t channels : {1, 3, 6}) {
      expect_adaptive_matches<float>(ih, iw, oh, ow, channels);
      expect_adaptive_matches<double>(ih, iw, oh, ow, channels);
    }
}

}  // namespace
}  // namespace striate::emu_test
