// batch_norm, layer_norm and local_response_norm on the GPU against the CPU
// backend, forward and backward (through autograd), float32 and float64:
// batch norm in training and evaluation, with and without weight, bias and
// running statistics, over [N, C], [N, C, L] and [N, C, H, W] in both memory
// formats (odd sizes, batch 1, C = 1 and 64, means far from zero); layer norm
// over one and two trailing dims, with and without affine parameters; LRN
// over several window sizes and channel counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();

std::string describe(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// |gpu - cpu| <= rtol |cpu| + atol max|cpu|: the absolute part scales with
// the result, so values that cancel to near zero compare sensibly.
struct Tol {
  double rtol, atol;
};
Tol tol_for(DType dtype) { return dtype == kDouble ? Tol{1e-11, 1e-12} : Tol{2e-5, 2e-6}; }

void expect_close(const Tensor& gpu, const Tensor& cpu, Tol tol, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(gpu.defined());
  ASSERT_TRUE(cpu.defined());
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  EXPECT_EQ(gpu.device(), kGpu);
  const auto g = gpu.cpu().to(kDouble).contiguous().flatten().to_vector<double>();
  const auto c = cpu.to(kDouble).contiguous().flatten().to_vector<double>();
  double scale = 0;
  for (double v : c) scale = std::max(scale, std::abs(v));
  int64_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const double bound = tol.rtol * std::abs(c[i]) + tol.atol * scale;
    const bool ok = std::isnan(c[i]) ? std::isnan(g[i]) : std::abs(g[i] - c[i]) <= bound;
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << c[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << c.size() << " elements differ";
}

Tensor random(const Shape& shape, uint64_t seed, double mean = 0, double std = 1) {
  Generator gen(seed);
  return randn(shape, TensorOptions(kDouble), &gen) * std + mean;
}

// The same leaf on both devices (requires_grad when `grad`).
struct Pair {
  Tensor cpu, gpu;
};
Pair leaf(const Tensor& values, DType dtype, bool grad, MemoryFormat format = MemoryFormat::Contiguous) {
  Tensor c = values.to(dtype).contiguous(format);
  Tensor g = c.to(kGpu);
  if (grad) {
    c.requires_grad_();
    g.requires_grad_();
  }
  return {c, g};
}
Pair optional_leaf(bool defined, const Tensor& values, DType dtype, bool grad) {
  return defined ? leaf(values, dtype, grad) : Pair{};
}

// ---- batch_norm -----------------------------------------------------------------

struct BnCase {
  Shape shape;
  bool channels_last;
};

const BnCase kBnCases[] = {
    {{7, 5}, false},        {{13, 1}, false},      {{9, 64}, false},       {{3, 1000}, false},
    {{3, 5, 11}, false},    {{1, 3, 17}, false},   {{2, 64, 5}, false},    {{4, 1, 9}, false},
    {{2, 64, 5, 7}, false}, {{1, 1, 9, 7}, false}, {{4, 3, 13, 11}, false}, {{5, 16, 1, 1}, false},
    {{2, 64, 5, 7}, true},  {{1, 3, 9, 7}, true},  {{4, 1, 13, 11}, true}, {{3, 5, 2, 3}, true},
    {{8, 200, 7, 7}, true}, {{1, 64, 3, 5}, true},
};

struct BnSetup {
  bool affine, running, training;
  double momentum = 0.1, eps = 1e-5;
};

// One batch_norm forward and backward on each device from the same values.
void compare_batch_norm(const Tensor& x_values, bool channels_last, DType dtype, const BnSetup& s, Tol tol,
                        const std::string& what) {
  const int64_t channels = x_values.size(1);
  const MemoryFormat format = channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  Pair x = leaf(x_values, dtype, true, format);
  if (channels_last && x_values.size(1) > 1 && x_values.size(2) * x_values.size(3) > 1) {
    ASSERT_TRUE(x.gpu.is_contiguous(MemoryFormat::ChannelsLast) && !x.gpu.is_contiguous()) << what;
  }
  Pair w = optional_leaf(s.affine, random({channels}, 11, 1, 0.5), dtype, true);
  Pair b = optional_leaf(s.affine, random({channels}, 12), dtype, true);
  Pair rm = optional_leaf(s.running, random({channels}, 13), dtype, false);
  Pair rv = optional_leaf(s.running, random({channels}, 14).abs() + 0.5, dtype, false);
  const Tensor grad = random(x_values.sizes(), 15).to(dtype).contiguous(format);

  Tensor out_cpu = batch_norm(x.cpu, rm.cpu, rv.cpu, w.cpu, b.cpu, s.training, s.momentum, s.eps);
  Tensor out_gpu = batch_norm(x.gpu, rm.gpu, rv.gpu, w.gpu, b.gpu, s.training, s.momentum, s.eps);
  expect_close(out_gpu, out_cpu, tol, what + " output");
  EXPECT_EQ(out_gpu.strides(), out_cpu.strides()) << what << ": the output keeps the input's memory format";
  if (s.running) {
    expect_close(rm.gpu, rm.cpu, tol, what + " running_mean");
    expect_close(rv.gpu, rv.cpu, tol, what + " running_var");
  }
  out_cpu.backward(grad);
  out_gpu.backward(grad.to(kGpu));
  expect_close(x.gpu.grad(), x.cpu.grad(), tol, what + " grad input");
  if (s.affine) {
    expect_close(w.gpu.grad(), w.cpu.grad(), tol, what + " grad weight");
    expect_close(b.gpu.grad(), b.cpu.grad(), tol, what + " grad bias");
  }
}

TEST(CudaBatchNorm, TrainingMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const BnCase& c : kBnCases)
      for (bool affine : {false, true})
        for (bool running : {false, true}) {
          const std::string what = describe(c.shape) + (c.channels_last ? " channels-last " : " ") +
                                   dtype_name(dtype) + (affine ? " affine" : "") + (running ? " running" : "");
          compare_batch_norm(random(c.shape, 1, 0.5, 2), c.channels_last, dtype, {affine, running, true},
                             tol_for(dtype), what);
        }
}

TEST(CudaBatchNorm, EvaluationMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const BnCase& c : kBnCases)
      for (bool affine : {false, true}) {
        const std::string what = describe(c.shape) + (c.channels_last ? " channels-last " : " ") +
                                 dtype_name(dtype) + (affine ? " affine" : "") + " eval";
        compare_batch_norm(random(c.shape, 2, 0.5, 2), c.channels_last, dtype, {affine, true, false},
                           tol_for(dtype), what);
      }
}

// Enough values per channel that every thread of a block folds many, and
// channel tiles of rows longer than a block.
TEST(CudaBatchNorm, LargeInputsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  const BnCase cases[] = {
      {{64, 3, 32, 32}, false}, {{16, 64, 16, 16}, true}, {{4099, 3}, false}, {{2, 7, 300, 301}, false}};
  for (DType dtype : {kFloat, kDouble})
    for (const BnCase& c : cases)
      compare_batch_norm(random(c.shape, 3, -1.5, 3), c.channels_last, dtype, {true, true, true}, tol_for(dtype),
                         describe(c.shape) + (c.channels_last ? " channels-last " : " ") + dtype_name(dtype));
}

// Values around `mean` with std 1: E[x^2] - E[x]^2 would lose every digit of
// the variance (in float at 1000, in double at 1e6); Welford keeps them.
TEST(CudaBatchNorm, LargeMeansKeepTheVariance) {
  STRIATE_REQUIRE_GPU();
  const BnCase cases[] = {{{8, 4, 33, 17}, false}, {{8, 4, 33, 17}, true}, {{4099, 3}, false}, {{2, 3, 5000}, false}};
  for (DType dtype : {kFloat, kDouble}) {
    const double mean = dtype == kFloat ? 1000 : 1e6;
    for (const BnCase& c : cases) {
      const std::string what = describe(c.shape) + (c.channels_last ? " channels-last " : " ") + dtype_name(dtype);
      const Tensor values = random(c.shape, 4, mean, 1);
      // momentum 1: the running statistics become the batch's (the variance unbiased).
      const BnSetup setup{true, true, true, 1.0};
      // The float inputs keep their few bits below the point exactly; the
      // double statistics differ from the CPU's in the last bits of 1e6.
      const Tol tol = dtype == kFloat ? Tol{2e-5, 2e-6} : Tol{1e-8, 1e-8};
      compare_batch_norm(values, c.channels_last, dtype, setup, tol, what);

      const int64_t channels = c.shape[1];
      Tensor rm = zeros({channels}, TensorOptions(dtype).device(kGpu));
      Tensor rv = ones({channels}, TensorOptions(dtype).device(kGpu));
      const MemoryFormat format = c.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
      Tensor x = values.to(dtype).contiguous(format).to(kGpu);
      Tensor out = batch_norm(x, rm, rv, {}, {}, true, 1.0, 1e-5);
      const auto var = rv.cpu().to(kDouble).to_vector<double>();
      const auto mu = rm.cpu().to(kDouble).to_vector<double>();
      for (int64_t ch = 0; ch < channels; ++ch) {
        EXPECT_NEAR(var[ch], 1.0, 0.1) << what << " channel " << ch;
        EXPECT_NEAR(mu[ch], mean, 0.1) << what << " channel " << ch;
      }
      // The output is standardised: per-channel mean 0, variance 1.
      const auto y = out.cpu().to(kDouble).transpose(0, 1).contiguous().flatten().to_vector<double>();
      const size_t per_channel = y.size() / channels;
      for (int64_t ch = 0; ch < channels; ++ch) {
        double sum = 0, sq = 0;
        for (size_t k = 0; k < per_channel; ++k) sum += y[ch * per_channel + k];
        const double ym = sum / per_channel;
        for (size_t k = 0; k < per_channel; ++k) sq += (y[ch * per_channel + k] - ym) * (y[ch * per_channel + k] - ym);
        EXPECT_NEAR(ym, 0.0, 1e-3) << what << " channel " << ch;
        EXPECT_NEAR(sq / per_channel, 1.0, 1e-3) << what << " channel " << ch;
      }
    }
  }
}

// ---- layer_norm ---------------------------------------------------------------

struct LnCase {
  Shape shape, normalized;
};

const LnCase kLnCases[] = {
    {{5, 1}, {1}},         {{4, 7}, {7}},           {{3, 1000}, {1000}},  {{2, 3, 7}, {3, 7}},
    {{6, 2, 500}, {2, 500}}, {{3, 5000}, {5000}},   {{1, 7}, {7}},        {{300, 64}, {64}},
    {{2, 4, 3, 1}, {3, 1}}, {{2, 2, 1000}, {2, 1000}}, {{7}, {7}},
};

TEST(CudaLayerNorm, MatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const LnCase& c : kLnCases)
      for (bool has_weight : {false, true})
        for (bool has_bias : {false, true}) {
          const std::string what = describe(c.shape) + " over " + describe(c.normalized) + " " +
                                   dtype_name(dtype) + (has_weight ? " weight" : "") + (has_bias ? " bias" : "");
          Pair x = leaf(random(c.shape, 21, 0.3, 2), dtype, true);
          Pair w = optional_leaf(has_weight, random(c.normalized, 22, 1, 0.5), dtype, true);
          Pair b = optional_leaf(has_bias, random(c.normalized, 23), dtype, true);
          const Tensor grad = random(c.shape, 24).to(dtype);
          Tensor out_cpu = layer_norm(x.cpu, c.normalized, w.cpu, b.cpu, 1e-5);
          Tensor out_gpu = layer_norm(x.gpu, c.normalized, w.gpu, b.gpu, 1e-5);
          const Tol tol = tol_for(dtype);
          expect_close(out_gpu, out_cpu, tol, what + " output");
          out_cpu.backward(grad);
          out_gpu.backward(grad.to(kGpu));
          expect_close(x.gpu.grad(), x.cpu.grad(), tol, what + " grad input");
          if (has_weight) expect_close(w.gpu.grad(), w.cpu.grad(), tol, what + " grad weight");
          if (has_bias) expect_close(b.gpu.grad(), b.cpu.grad(), tol, what + " grad bias");
        }
}

// Only the parameters want a gradient: the input's backward is skipped.
TEST(CudaLayerNorm, ParameterGradientsAlone) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    const Shape shape{33, 40}, normalized{40};
    Pair x = leaf(random(shape, 31), dtype, false);
    Pair w = leaf(random(normalized, 32), dtype, true);
    Pair b = leaf(random(normalized, 33), dtype, true);
    const Tensor grad = random(shape, 34).to(dtype);
    layer_norm(x.cpu, normalized, w.cpu, b.cpu).backward(grad);
    layer_norm(x.gpu, normalized, w.gpu, b.gpu).backward(grad.to(kGpu));
    expect_close(w.gpu.grad(), w.cpu.grad(), tol_for(dtype), std::string("grad weight ") + dtype_name(dtype));
    expect_close(b.gpu.grad(), b.cpu.grad(), tol_for(dtype), std::string("grad bias ") + dtype_name(dtype));
  }
}

// ---- local_response_norm ----------------------------------------------------------

TEST(CudaLocalResponseNorm, MatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (int64_t channels : {1, 3, 16})
      for (int64_t size : {1, 2, 5})
        for (const Shape& shape : {Shape{2, channels, 5, 4}, Shape{3, channels, 7}})
          for (double beta : {0.75, 0.6}) {
            const std::string what = describe(shape) + " size " + std::to_string(size) + " beta " +
                                     std::to_string(beta) + " " + dtype_name(dtype);
            Pair x = leaf(random(shape, 41, 0.2, 1.5), dtype, true);
            const Tensor grad = random(shape, 42).to(dtype);
            const double alpha = 0.5, k = 1.5;
            Tensor out_cpu = local_response_norm(x.cpu, size, alpha, beta, k);
            Tensor out_gpu = local_response_norm(x.gpu, size, alpha, beta, k);
            const Tol tol = tol_for(dtype);
            expect_close(out_gpu, out_cpu, tol, what + " output");
            out_cpu.backward(grad);
            out_gpu.backward(grad.to(kGpu));
            expect_close(x.gpu.grad(), x.cpu.grad(), tol, what + " grad input");
          }
}

// AlexNet's setting (size 5, alpha 1e-4, beta 0.75, k 2) on a larger input.
TEST(CudaLocalResponseNorm, AlexNetSettingMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    Pair x = leaf(random({4, 96, 13, 13}, 51, 0, 5), dtype, true);
    const Tensor grad = random({4, 96, 13, 13}, 52).to(dtype);
    Tensor out_cpu = local_response_norm(x.cpu, 5, 1e-4, 0.75, 2);
    Tensor out_gpu = local_response_norm(x.gpu, 5, 1e-4, 0.75, 2);
    expect_close(out_gpu, out_cpu, tol_for(dtype), std::string("output ") + dtype_name(dtype));
    out_cpu.backward(grad);
    out_gpu.backward(grad.to(kGpu));
    expect_close(x.gpu.grad(), x.cpu.grad(), tol_for(dtype), std::string("grad input ") + dtype_name(dtype));
  }
}

}  // namespace
}  // namespace striate
