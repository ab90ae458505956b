// Pooling on the GPU against the CPU backend: max pooling with indices (equal
// to the CPU's exactly, NaN inputs and tied maxima included), average
// pooling (count_include_pad, divisor_override), adaptive average and max
// pooling, the 1-D forms; forward and backward through autograd, over sweeps
// of kernel size, stride, padding, dilation and ceil_mode on odd sizes, batch
// 1 and 3, many channels, NCHW and channels-last (the NHWC kernels), f32 and
// f64. Overlapping windows (kernel 3, stride 2 or 1) send several gradients
// to one input: the native max backward is a gather that adds them in the
// CPU's order, so its input gradients are compared bit for bit, with
// ordinary (not exactly summable) gradients.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using Pair = std::array<int64_t, 2>;
ExpandingArray<2> ea(const Pair& p) { return {p[0], p[1]}; }

enum class Values { Normal, WithNaN, Ties };

// Normal values; WithNaN makes about one in six NaN (so that some windows
// hold two or more); Ties rounds to halves so that windows hold equal maxima,
// with a few -inf among them.
Tensor sample(const Shape& sizes, DType dtype, uint64_t seed, Values kind = Values::Normal) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(shape_numel(sizes));
  for (double& x : v) {
    x = normal(rng);
    if (kind == Values::Ties) x = std::floor(x * 2) / 2;
    if (kind == Values::WithNaN && rng() % 6 == 0) x = kNaN;
    if (kind == Values::Ties && rng() % 16 == 0) x = -kInf;
  }
  return from_vector(v, sizes, TensorOptions(dtype));
}

// Multiples of 1/8 in [-2, 2]: every sum of a few of them is exact in any
// order and in every dtype (f16 and bf16 included), so that only a wrong or
// missing term shows, whichever backend runs.
Tensor dyadic(const Shape& sizes, DType dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> v(shape_numel(sizes));
  for (double& x : v) x = static_cast<double>(static_cast<int64_t>(rng() % 33) - 16) / 8;
  return from_vector(v, sizes, TensorOptions(dtype));
}

std::string pair_str(const Pair& p) { return "(" + std::to_string(p[0]) + "," + std::to_string(p[1]) + ")"; }
std::string shape_str(const Shape& s) { return ::testing::PrintToString(s); }

// The same leaf on the CPU and the GPU, both requiring grad.
struct Leaves {
  Tensor cpu, gpu;
};
Leaves leaves(const Tensor& x) {
  return {x.detach().clone().requires_grad_(true), x.detach().to(kGpu).requires_grad_(true)};
}

// How input gradients compare: within tolerance, or bit for bit where the GPU
// adds in the CPU's order (the native max backward, a gather).
enum class Match { Close, Bits };

// Backpropagates `g` through both outputs and compares the input gradients.
void expect_same_grad(const Tensor& y_cpu, const Tensor& y_gpu, Leaves& x, const Tensor& g, const std::string& what,
                      Match match = Match::Close) {
  y_cpu.backward(g);
  y_gpu.backward(g.to(kGpu));
  ASSERT_TRUE(x.gpu.grad().defined()) << what;
  EXPECT_EQ(x.gpu.grad().device(), kGpu) << what;
  if (match == Match::Bits)
    testing::expect_same_bits(x.gpu.grad(), x.cpu.grad(), what + " grad");
  else
    testing::expect_matches_cpu(x.gpu.grad(), x.cpu.grad(), what + " grad");
}

const Shape kInputs2d[] = {{3, 4, 7, 9}, {1, 64, 13, 5}, {3, 2, 1, 1}, {1, 3, 1, 1}, {5, 7, 9}};
const Pair kKernels[] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}};

// The layouts a pooling input of `sizes` comes in: batched ones also channels-last.
std::vector<MemoryFormat> layouts(const Shape& sizes) {
  if (sizes.size() != 4) return {MemoryFormat::Contiguous};
  return {MemoryFormat::Contiguous, MemoryFormat::ChannelsLast};
}
const char* layout_name(MemoryFormat f) { return f == MemoryFormat::ChannelsLast ? " NHWC" : ""; }

// The GPU result keeps the input's layout, as the CPU's does.
void expect_layout_kept(const Tensor& y_gpu, const Tensor& y_cpu) {
  EXPECT_EQ(y_gpu.suggest_memory_format(), y_cpu.suggest_memory_format());
}

TEST(CudaPooling, MaxPool2dMatchesTheCpuOverSweep) {
  STRIATE_REQUIRE_GPU();
  int checked = 0, refused = 0;
  for (DType dtype : {kFloat, kDouble})
    for (const Shape& sizes : kInputs2d)
      for (const Pair& k : kKernels)
        for (int64_t s : {1, 2, 3})
          for (int64_t p : {0, 1})
            for (int64_t d : {1, 2})
              for (bool ceil_mode : {false, true})
                for (Values kind : {Values::Normal, Values::WithNaN, Values::Ties})
                  for (MemoryFormat format : layouts(sizes)) {
                    const std::string what = std::string(dtype_name(dtype)) + " input " + shape_str(sizes) +
                                             layout_name(format) + " kernel " + pair_str(k) + " stride " +
                                             std::to_string(s) + " padding " + std::to_string(p) + " dilation " +
                                             std::to_string(d) + (ceil_mode ? " ceil" : "") + " values " +
                                             std::to_string(int(kind));
                    SCOPED_TRACE(what);
                    const Tensor x0 = sample(sizes, dtype, 100 + checked + refused, kind).contiguous(format);
                    auto run = [&](const Tensor& x) { return max_pool2d_with_indices(x, ea(k), s, p, d, ceil_mode); };
                    Leaves x = leaves(x0);
                    Tensor yc, ic;
                    try {
                      std::tie(yc, ic) = run(x.cpu);
                    } catch (const Error&) {  // arguments the op refuses, on either device
                      EXPECT_THROW(run(x.gpu), Error);
                      ++refused;
                      continue;
                    }
                    auto [yg, ig] = run(x.gpu);
                    EXPECT_EQ(yg.device(), kGpu);
                    expect_layout_kept(yg, yc);
                    expect_layout_kept(ig, ic);
                    testing::expect_matches_cpu(yg, yc, "values");
                    testing::expect_matches_cpu(ig, ic, "indices");
                    // Without grad and without asking, no indices are written.
                    testing::expect_matches_cpu(max_pool2d(x0.to(kGpu), ea(k), s, p, d, ceil_mode), yc, "no indices");
                    expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 7 + checked), "max", Match::Bits);
                    ++checked;
                  }
  EXPECT_GT(checked, 1500);
  EXPECT_GT(refused, 150);
}

TEST(CudaPooling, AvgPool2dMatchesTheCpuOverSweep) {
  STRIATE_REQUIRE_GPU();
  int checked = 0, refused = 0;
  for (DType dtype : {kFloat, kDouble})
    for (const Shape& sizes : kInputs2d)
      for (const Pair& k : kKernels)
        for (int64_t s : {1, 2, 3})
          for (int64_t p : {0, 1})
            for (bool ceil_mode : {false, true})
              for (bool count_include_pad : {true, false})
                for (std::optional<int64_t> divisor : {std::optional<int64_t>(), std::optional<int64_t>(3)})
                  for (MemoryFormat format : layouts(sizes)) {
                    const std::string what =
                        std::string(dtype_name(dtype)) + " input " + shape_str(sizes) + layout_name(format) +
                        " kernel " + pair_str(k) + " stride " + std::to_string(s) + " padding " + std::to_string(p) +
                        (ceil_mode ? " ceil" : "") + (count_include_pad ? " count_include_pad" : "") +
                        (divisor ? " divisor " + std::to_string(*divisor) : "");
                    SCOPED_TRACE(what);
                    auto run = [&](const Tensor& x) {
                      return avg_pool2d(x, ea(k), s, p, ceil_mode, count_include_pad, divisor);
                    };
                    Leaves x = leaves(sample(sizes, dtype, 300 + checked + refused).contiguous(format));
                    Tensor yc;
                    try {
                      yc = run(x.cpu);
                    } catch (const Error&) {
                      EXPECT_THROW(run(x.gpu), Error);
                      ++refused;
                      continue;
                    }
                    const Tensor yg = run(x.gpu);
                    expect_layout_kept(yg, yc);
                    testing::expect_matches_cpu(yg, yc, "values");
                    expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 9 + checked), "avg");
                    ++checked;
                  }
  EXPECT_GT(checked, 750);
  EXPECT_GT(refused, 75);
}

TEST(CudaPooling, RectangularStridesAndPaddings) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    const Tensor x0 = sample({3, 5, 13, 11}, dtype, 21, Values::Ties);
    {
      Leaves x = leaves(x0);
      auto [yc, ic] = max_pool2d_with_indices(x.cpu, {3, 2}, {2, 1}, {1, 0}, {1, 2}, true);
      auto [yg, ig] = max_pool2d_with_indices(x.gpu, {3, 2}, {2, 1}, {1, 0}, {1, 2}, true);
      testing::expect_matches_cpu(yg, yc, "max values");
      testing::expect_matches_cpu(ig, ic, "max indices");
      expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 22), "max", Match::Bits);
    }
    {
      Leaves x = leaves(x0);
      const Tensor yc = avg_pool2d(x.cpu, {2, 3}, {1, 3}, {1, 1}, true, false);
      const Tensor yg = avg_pool2d(x.gpu, {2, 3}, {1, 3}, {1, 1}, true, false);
      testing::expect_matches_cpu(yg, yc, "avg values");
      expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 23), "avg");
    }
  }
}

TEST(CudaPooling, OneDimensionalFormsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  int checked = 0;
  for (DType dtype : {kFloat, kDouble})
    for (const Shape& sizes : {Shape{3, 4, 11}, Shape{1, 64, 9}, Shape{6, 13}, Shape{3, 2, 1}})
      for (int64_t k : {1, 2, 3})
        for (int64_t s : {1, 2, 3})
          for (int64_t p : {0, 1})
            for (bool ceil_mode : {false, true}) {
              const std::string what = std::string(dtype_name(dtype)) + " input " + shape_str(sizes) + " kernel " +
                                       std::to_string(k) + " stride " + std::to_string(s) + " padding " +
                                       std::to_string(p) + (ceil_mode ? " ceil" : "");
              SCOPED_TRACE(what);
              for (int64_t d : {1, 2}) {
                auto run = [&](const Tensor& x) { return max_pool1d_with_indices(x, k, s, p, d, ceil_mode); };
                Leaves x = leaves(sample(sizes, dtype, 500 + checked, Values::WithNaN));
                Tensor yc, ic;
                try {
                  std::tie(yc, ic) = run(x.cpu);
                } catch (const Error&) {
                  EXPECT_THROW(run(x.gpu), Error);
                  continue;
                }
                auto [yg, ig] = run(x.gpu);
                testing::expect_matches_cpu(yg, yc, "max1d dilation " + std::to_string(d));
                testing::expect_matches_cpu(ig, ic, "max1d indices dilation " + std::to_string(d));
                testing::expect_matches_cpu(max_pool1d(x.gpu.detach(), k, s, p, d, ceil_mode), yc, "max1d");
                expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 11), "max1d", Match::Bits);
                ++checked;
              }
              for (bool count_include_pad : {true, false}) {
                auto run = [&](const Tensor& x) { return avg_pool1d(x, k, s, p, ceil_mode, count_include_pad); };
                Leaves x = leaves(sample(sizes, dtype, 700 + checked));
                Tensor yc;
                try {
                  yc = run(x.cpu);
                } catch (const Error&) {
                  EXPECT_THROW(run(x.gpu), Error);
                  continue;
                }
                const Tensor yg = run(x.gpu);
                testing::expect_matches_cpu(yg, yc, "avg1d");
                expect_same_grad(yc, yg, x, sample(yc.sizes(), dtype, 13), "avg1d");
                ++checked;
              }
            }
  EXPECT_GT(checked, 300);
  // Adaptive 1-D: bins that overlap (7 -> 3) and that repeat inputs (5 -> 7).
  for (DType dtype : {kFloat, kDouble})
    for (const auto& [in, out] : {Pair{7, 3}, Pair{5, 7}, Pair{11, 4}, Pair{1, 3}, Pair{9, 9}}) {
      const std::string what = std::string(dtype_name(dtype)) + " " + std::to_string(in) + " -> " + std::to_string(out);
      Leaves a = leaves(sample({3, 4, in}, dtype, 31));
      const Tensor ac = adaptive_avg_pool1d(a.cpu, out), ag = adaptive_avg_pool1d(a.gpu, out);
      testing::expect_matches_cpu(ag, ac, "adaptive avg1d " + what);
      expect_same_grad(ac, ag, a, sample(ac.sizes(), dtype, 32), "adaptive avg1d " + what);
      Leaves m = leaves(sample({3, 4, in}, dtype, 33, Values::Ties));
      auto [mc, mic] = adaptive_max_pool1d(m.cpu, out);
      auto [mg, mig] = adaptive_max_pool1d(m.gpu, out);
      testing::expect_matches_cpu(mg, mc, "adaptive max1d " + what);
      testing::expect_matches_cpu(mig, mic, "adaptive max1d indices " + what);
      expect_same_grad(mc, mg, m, sample(mc.sizes(), dtype, 34), "adaptive max1d " + what, Match::Bits);
    }
}

TEST(CudaPooling, AdaptivePool2dMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const Shape& sizes : {Shape{3, 4, 7, 5}, Shape{1, 64, 13, 9}, Shape{1, 2, 1, 1}, Shape{2, 6, 6}})
      for (const Pair& out : {Pair{3, 7}, Pair{7, 3}, Pair{1, 1}, Pair{4, 2}, Pair{5, 7}, Pair{13, 2}, Pair{6, 6}})
        for (MemoryFormat format : layouts(sizes)) {
          const std::string what = std::string(dtype_name(dtype)) + " input " + shape_str(sizes) + layout_name(format) +
                                   " -> " + pair_str(out);
          SCOPED_TRACE(what);
          Leaves a = leaves(sample(sizes, dtype, 41).contiguous(format));
          const Tensor ac = adaptive_avg_pool2d(a.cpu, ea(out)), ag = adaptive_avg_pool2d(a.gpu, ea(out));
          expect_layout_kept(ag, ac);
          testing::expect_matches_cpu(ag, ac, "adaptive avg");
          expect_same_grad(ac, ag, a, sample(ac.sizes(), dtype, 42), "adaptive avg");
          for (Values kind : {Values::Normal, Values::WithNaN, Values::Ties}) {
            Leaves m = leaves(sample(sizes, dtype, 43 + int(kind), kind).contiguous(format));
            auto [mc, ic] = adaptive_max_pool2d(m.cpu, ea(out));
            auto [mg, ig] = adaptive_max_pool2d(m.gpu, ea(out));
            expect_layout_kept(mg, mc);
            testing::expect_matches_cpu(mg, mc, "adaptive max values " + std::to_string(int(kind)));
            testing::expect_matches_cpu(ig, ic, "adaptive max indices " + std::to_string(int(kind)));
            expect_same_grad(mc, mg, m, sample(mc.sizes(), dtype, 44), "adaptive max " + std::to_string(int(kind)),
                             Match::Bits);
          }
        }
}

// A NaN wins its window and, among NaNs, the last one; with nothing above
// -inf the window's first position is reported.
TEST(CudaPooling, NaNAndInfinityRules) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    const Tensor x = from_vector(std::vector<double>{1, kNaN, 3, kNaN, 2, -kInf, -kInf, -kInf, 5, kNaN, 4, 4},
                                 {1, 1, 12}, TensorOptions(dtype))
                         .to(kGpu);
    auto [v, i] = max_pool1d_with_indices(x, 4);
    EXPECT_EQ(i.cpu().to_vector<int64_t>(), (std::vector<int64_t>{3, 4, 9}));
    const auto values = v.cpu().to(kDouble).to_vector<double>();
    EXPECT_TRUE(std::isnan(values[0]) && std::isnan(values[2]));
    EXPECT_EQ(values[1], 2.0);
    // All -inf: the first position; ties: the first of them.
    auto [v2, i2] = max_pool1d_with_indices(x.narrow(2, 5, 3), 3);
    EXPECT_EQ(i2.cpu().to_vector<int64_t>(), (std::vector<int64_t>{0}));
    EXPECT_EQ(v2.cpu().to(kDouble).to_vector<double>()[0], -kInf);
    auto [v3, i3] = max_pool1d_with_indices(x.narrow(2, 10, 2), 2);
    EXPECT_EQ(i3.cpu().to_vector<int64_t>(), (std::vector<int64_t>{0}));
    auto [am, ai] = adaptive_max_pool1d(x, 2);
    EXPECT_EQ(ai.cpu().to_vector<int64_t>(), (std::vector<int64_t>{3, 9}));
  }
}

// Kernel 3, stride 2 and stride 1: an input inside several windows gets the
// sum of their gradients, in max backward and avg backward (both gathers, in
// the CPU's order). The native kernels, whatever STRIATE_POOL_BACKEND says:
// max_pool2d without indices would otherwise take cuDNN's backward.
TEST(CudaPooling, OverlappingWindowsAccumulate) {
  STRIATE_REQUIRE_GPU();
  KernelBackendGuard native(OpFamily::Pooling, KernelBackend::Native);
  for (DType dtype : {kFloat, kDouble}) {
    // Equal inputs: each window's first position wins, shared by up to 4 windows.
    Leaves flat = leaves(zeros({3, 8, 9, 11}, TensorOptions(dtype)));
    const Tensor yc = max_pool2d(flat.cpu, 3, 2, 1), yg = max_pool2d(flat.gpu, 3, 2, 1);
    expect_same_grad(yc, yg, flat, ones(yc.sizes(), TensorOptions(dtype)), "equal inputs", Match::Bits);
    EXPECT_EQ(sum(flat.gpu.grad()).item<double>(), static_cast<double>(yc.numel()));
    // One peak inside all 9 windows of a 3x3 stride-1 pool.
    Tensor peak = full({1, 1, 4, 4}, -1.0, TensorOptions(dtype));
    peak.narrow(2, 1, 1).narrow(3, 1, 1).fill_(5.0);
    Leaves p = leaves(peak);
    sum(max_pool2d(p.gpu, 3, 1, 1)).backward();
    EXPECT_EQ(p.gpu.grad().cpu().to(kDouble).to_vector<double>()[5], 9.0);
    // Ordinary (not exactly summable) gradients, of both signs: the sums of
    // up to 9 (stride 1) come out bit for bit, added in the CPU's order.
    for (const Tensor& x0 : {sample({3, 16, 15, 17}, dtype, 51), sample({3, 16, 15, 17}, dtype, 52, Values::Ties)}) {
      Leaves x = leaves(x0);
      const Tensor mc = max_pool2d(x.cpu, 3, 2), mg = max_pool2d(x.gpu, 3, 2);
      expect_same_grad(mc, mg, x, sample(mc.sizes(), dtype, 53), "max kernel 3 stride 2", Match::Bits);
      Leaves y = leaves(x0);
      const Tensor m1c = max_pool2d(y.cpu, 3, 1, 1), m1g = max_pool2d(y.gpu, 3, 1, 1);
      expect_same_grad(m1c, m1g, y, sample(m1c.sizes(), dtype, 54), "max kernel 3 stride 1", Match::Bits);
      Leaves z = leaves(x0);
      const Tensor ac = avg_pool2d(z.cpu, 3, 2, 1, true, false), ag = avg_pool2d(z.gpu, 3, 2, 1, true, false);
      expect_same_grad(ac, ag, z, sample(ac.sizes(), dtype, 55), "avg kernel 3 stride 2");
    }
  }
}

TEST(CudaPooling, LayoutsHalfPrecisionAndEmptyShapes) {
  STRIATE_REQUIRE_GPU();
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> ops = {
      {"max", [](const Tensor& t) { return max_pool2d(t, 3, 2, 1); }},
      {"avg", [](const Tensor& t) { return avg_pool2d(t, {3, 2}, {2, 1}, {1, 0}, true, false); }},
      {"avg divisor", [](const Tensor& t) { return avg_pool2d(t, 2, 1, 1, false, true, 7); }},
      {"adaptive avg", [](const Tensor& t) { return adaptive_avg_pool2d(t, {3, 4}); }},
      {"adaptive max", [](const Tensor& t) { return std::get<0>(adaptive_max_pool2d(t, {4, 3})); }},
  };
  const Tensor x = sample({2, 3, 7, 6}, kFloat, 61);
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    // ChannelsLast in, ChannelsLast out, as on the CPU.
    Leaves cl{x.contiguous(MemoryFormat::ChannelsLast).requires_grad_(true),
              x.to(kGpu).contiguous(MemoryFormat::ChannelsLast).requires_grad_(true)};
    ASSERT_TRUE(cl.gpu.is_contiguous(MemoryFormat::ChannelsLast));
    const Tensor yc = op(cl.cpu), yg = op(cl.gpu);
    EXPECT_TRUE(yg.is_contiguous(MemoryFormat::ChannelsLast));
    testing::expect_matches_cpu(yg, yc, "channels last");
    expect_same_grad(yc, yg, cl, dyadic(yc.sizes(), kFloat, 62), "channels last");
    // f16 and bf16 are computed in f32.
    for (DType t : {kHalf, kBFloat16}) {
      Leaves h = leaves(x.to(t));
      const Tensor hc = op(h.cpu), hg = op(h.gpu);
      EXPECT_EQ(hg.dtype(), t);
      testing::expect_matches_cpu(hg, hc, dtype_name(t));
      expect_same_grad(hc, hg, h, dyadic(hc.sizes(), t, 63), dtype_name(t));
    }
    // A batch of zero samples.
    Leaves e = leaves(empty({0, 3, 8, 8}));
    const Tensor ec = op(e.cpu), eg = op(e.gpu);
    EXPECT_EQ(eg.sizes(), ec.sizes());
    expect_same_grad(ec, eg, e, zeros(ec.sizes()), "empty batch");
  }
  // An adaptive output with no elements: the gradient is zero.
  for (DType dtype : {kFloat, kDouble}) {
    Leaves a = leaves(sample({2, 3, 5, 4}, dtype, 64));
    const Tensor ag = adaptive_avg_pool2d(a.gpu, {0, 3});
    EXPECT_EQ(ag.sizes(), (Shape{2, 3, 0, 3}));
    expect_same_grad(adaptive_avg_pool2d(a.cpu, {0, 3}), ag, a, zeros({2, 3, 0, 3}, TensorOptions(dtype)), "avg");
    Leaves m = leaves(sample({2, 3, 5, 4}, dtype, 65));
    const Tensor mg = std::get<0>(adaptive_max_pool2d(m.gpu, {2, 0}));
    expect_same_grad(std::get<0>(adaptive_max_pool2d(m.cpu, {2, 0})), mg, m, zeros({2, 3, 2, 0}, TensorOptions(dtype)),
                     "max");
  }
}

// The kernels run on the current stream: a side stream's results are
// complete once that stream is synchronized.
TEST(CudaPooling, RunsOnTheCurrentStream) {
  STRIATE_REQUIRE_REAL_GPU();
  const Tensor x0 = sample({3, 64, 31, 29}, kFloat, 71);
  Leaves x = leaves(x0);
  const Tensor yc = max_pool2d(x.cpu, 3, 2, 1);
  const Tensor ac = avg_pool2d(x.cpu, 3, 2, 1);
  (sum(yc) + sum(ac)).backward();
  cuda::Stream side = cuda::Stream::create();
  Tensor yg, ag, grad;
  {
    cuda::StreamGuard guard(side);
    Tensor xg = x0.to(kGpu, /*non_blocking=*/false).requires_grad_(true);
    yg = max_pool2d(xg, 3, 2, 1);
    ag = avg_pool2d(xg, 3, 2, 1);
    (sum(yg) + sum(ag)).backward();
    grad = xg.grad();
    side.synchronize();
  }
  testing::expect_matches_cpu(yg, yc, "max on a side stream");
  testing::expect_matches_cpu(ag, ac, "avg on a side stream");
  testing::expect_matches_cpu(grad, x.cpu.grad(), "grad on a side stream");
}

// More elements than one grid holds (65536 blocks of 256 threads), so the
// kernels' grid-stride loops take a second turn.
TEST(CudaPooling, LargerThanOneGrid) {
  STRIATE_REQUIRE_GPU();
  Leaves x = leaves(sample({1, 1, 4100, 4100}, kFloat, 81));
  {
    auto [yc, ic] = max_pool2d_with_indices(x.cpu, 2, 1);
    auto [yg, ig] = max_pool2d_with_indices(x.gpu, 2, 1);
    ASSERT_GT(yc.numel(), int64_t{65536} * 256);
    testing::expect_matches_cpu(yg, yc, "max");
    testing::expect_matches_cpu(ig, ic, "max indices");
    expect_same_grad(yc, yg, x, sample(yc.sizes(), kFloat, 82), "max", Match::Bits);
  }
  Leaves a = leaves(x.cpu.detach());
  const Tensor ac = avg_pool2d(a.cpu, 2, 1), ag = avg_pool2d(a.gpu, 2, 1);
  testing::expect_matches_cpu(ag, ac, "avg");
  expect_same_grad(ac, ag, a, sample(ac.sizes(), kFloat, 83), "avg");
}

}  // namespace
}  // namespace striate
