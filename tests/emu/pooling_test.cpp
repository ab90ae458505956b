// The CUDA pooling kernels (pooling.cu) run by the emulator against the CPU:
// max / avg / adaptive forward (a thread per output, windows clipped at the
// padded borders, dilation, count_include_pad, divisor_override) and their
// backward passes (gathers per input element), on NCHW blocks and on
// channels-last ones (planes interleaved pixel by pixel). Max backward is
// compared bit for bit, on inputs where one element is the maximum of three
// or more overlapping windows (repeated peaks, constant inputs: ties go to the
// first), so that the order of its additions shows.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
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
    with_output({"overlapping 3x3 stride 1", {4, 9, 10}, {3, 3, 1, 1, 0, 0}}),
    with_output({"3x3 stride 1 pad 1, dilation 2", {3, 9, 9}, {3, 3, 1, 1, 1, 1, 2, 2}}),
    with_output({"3x2 stride 2x1 pad 1x0, dilation 1x2", {3, 11, 9}, {3, 2, 2, 1, 1, 0, 1, 2}}),
    with_output({"1x4 stride 1 pad 0x2", {2, 5, 12}, {1, 4, 1, 1, 0, 2}}),
    // Channels-last: planes / C images of C = pixel_stride channels (2 of 3,
    // 1 of 4, 3 of 2, ...).
    with_output({"NHWC 3x3 stride 2 pad 1", {6, 9, 11, 0, 0, 3}, {3, 3, 2, 2, 1, 1}}),
    with_output({"NHWC 2x3 stride 1x2, dilation 2", {4, 8, 9, 0, 0, 4}, {2, 3, 1, 2, 0, 1, 2, 2}}),
    with_output({"NHWC overlapping 3x3 stride 1 pad 1", {6, 5, 7, 0, 0, 2}, {3, 3, 1, 1, 1, 1}}),
    with_output({"NHWC overlapping 3x3 stride 1", {4, 9, 10, 0, 0, 2}, {3, 3, 1, 1, 0, 0}}),
    with_output({"NHWC 3x3 stride 1 pad 1, dilation 2", {6, 9, 9, 0, 0, 3}, {3, 3, 1, 1, 1, 1, 2, 2}}),
    with_output({"NHWC 3x2 stride 2x1 pad 1x0, dilation 1x2", {4, 11, 9, 0, 0, 4}, {3, 2, 2, 1, 1, 0, 1, 2}}),
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

// Bit for bit, the sign of zero included (max backward adds in the CPU's
// order, so not even the last bit may differ).
template <typename T>
void expect_same_bits(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::bit_cast<Bits>(got[i]) != std::bit_cast<Bits>(want[i]) && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": emulated " << got[i] << ", cpu " << want[i];
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << want.size() << " elements differ";
}

// The inputs max backward is checked on: random (distinct values); peaks, a
// repeated large value every 7th element, each the maximum of every window
// that holds it (the first of them where a window holds two); constant, where
// every window's first in-bounds position wins.
template <typename T>
std::vector<std::pair<const char*, std::vector<T>>> max_inputs(size_t n, uint32_t seed) {
  std::vector<T> random = random_values<T>(n, seed), peaks = random;
  for (size_t i = 3; i < n; i += 7) peaks[i] = T(4);
  return {{"random", random}, {"peaks", peaks}, {"constant", std::vector<T>(n, T(0.5))}};
}

// The most outputs whose recorded index is one input element.
int64_t most_shared(const kernels::Pool2dShape& s, const std::vector<int64_t>& indices) {
  std::vector<int64_t> count(static_cast<size_t>(s.planes * s.in_h * s.in_w));
  const int64_t c = s.pixel_stride;
  for (size_t o = 0; o < indices.size(); ++o) {
    const int64_t pixel = static_cast<int64_t>(o) / c, image = pixel / (s.out_h * s.out_w);
    const int64_t plane = image * c + static_cast<int64_t>(o) % c;
    ++count[static_cast<size_t>(plane * s.in_h * s.in_w + indices[o])];
  }
  return count.empty() ? 0 : *std::max_element(count.begin(), count.end());
}

// Max backward, plain (window) or adaptive, of each of max_inputs through the
// CPU forward's indices: the emulated gather equals the CPU's scatter bit for
// bit, gradients of any sign added in a fixed order. Returns the most outputs
// that one input received gradients from.
template <typename T>
int64_t expect_max_backward_exact(const kernels::Pool2dShape& s, const kernels::Pool2dWindow& window, bool adaptive,
                                  const std::string& where) {
  const size_t in = static_cast<size_t>(s.planes * s.in_h * s.in_w);
  const size_t out = static_cast<size_t>(s.planes * s.out_h * s.out_w);
  const std::vector<T> g = random_values<T>(out, 33);
  int64_t shared = 0;
  for (const auto& [name, x] : max_inputs<T>(in, 34)) {
    std::vector<T> y(out);
    std::vector<int64_t> idx(out, -1);
    if (adaptive)
      kernels::cpu::adaptive_max_pool2d({x.data(), y.data(), idx.data(), s, dtype_of<T>()});
    else
      kernels::cpu::max_pool2d({x.data(), y.data(), idx.data(), s, window, dtype_of<T>()});
    shared = std::max(shared, most_shared(s, idx));
    std::vector<T> gx = poisoned<T>(in), want_gx = poisoned<T>(in);
    kernels::MaxPoolBackwardParams bp{g.data(), idx.data(), gx.data(), s, dtype_of<T>(), window, adaptive};
    kernels::cuda::max_pool_backward(bp);
    bp.grad_input = want_gx.data();
    kernels::cpu::max_pool_backward(bp);
    expect_same_bits(gx, want_gx, where + ", " + name + " input: max backward");
  }
  return shared;
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
  // Every case has overlapping windows: some input is the maximum of 3 or more.
  EXPECT_GE(expect_max_backward_exact<T>(s, c.window, false, where), 3) << where;

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
// Returns the most outputs whose max recorded one input.
template <typename T>
int64_t expect_adaptive_matches(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t channels) {
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
  const int64_t shared = expect_max_backward_exact<T>(s, {}, true, where + ": adaptive");

  std::vector<T> a = poisoned<T>(out), want_a(out);
  kernels::cuda::adaptive_avg_pool2d({x.data(), a.data(), nullptr, s, dtype_of<T>()});
  kernels::cpu::adaptive_avg_pool2d({x.data(), want_a.data(), nullptr, s, dtype_of<T>()});
  expect_close(a, to_f64(want_a), unit_scale(to_f64(want_a)), window, where + ": adaptive avg");
  std::vector<T> ga = poisoned<T>(in), want_ga(in);
  kernels::cuda::adaptive_avg_pool2d_backward({g.data(), ga.data(), s, dtype_of<T>()});
  kernels::cpu::adaptive_avg_pool2d_backward({g.data(), want_ga.data(), s, dtype_of<T>()});
  expect_close(ga, to_f64(want_ga), unit_scale(to_f64(want_ga)), window, where + ": adaptive avg backward");
  return shared;
}

TEST(EmulatedPooling, WindowsMatchTheCpu) {
  for (const PoolCase& c : kCases) {
    expect_pooling_matches<float>(c);
    expect_pooling_matches<double>(c);
  }
}

// Bins that overlap (9 -> 4), that repeat inputs (5 -> 7, 3 -> 8: one input
// in up to 3 bins per axis) and one bin over everything.
TEST(EmulatedPooling, AdaptiveMatchesTheCpu) {
  int64_t shared = 0;
  for (auto [ih, iw, oh, ow] : {std::array<int64_t, 4>{9, 11, 4, 5}, {5, 6, 7, 3}, {3, 4, 8, 9}, {8, 8, 1, 1}})
    for (int64_t channels : {1, 3, 6}) {
      shared = std::max(shared, expect_adaptive_matches<float>(ih, iw, oh, ow, channels));
      shared = std::max(shared, expect_adaptive_matches<double>(ih, iw, oh, ow, channels));
    }
  EXPECT_GE(shared, 3);
}

}  // namespace
}  // namespace striate::emu_test
