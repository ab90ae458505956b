// prelu on the GPU against the CPU backend, forward and backward (grad
// input and the per-channel grad weight, through autograd), float32 and
// float64: a shared weight and one per channel, on 1-D, 2-D and 4-D inputs
// (both memory formats), small and large.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

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

// |gpu - cpu| <= rtol |cpu| + atol max|cpu|.
void expect_close(const Tensor& gpu, const Tensor& cpu, double rtol, double atol, const std::string& what) {
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
  for (size_t i = 0; i < c.size(); ++i)
    if (!(std::abs(g[i] - c[i]) <= rtol * std::abs(c[i]) + atol * scale) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << c[i];
  EXPECT_EQ(bad, 0) << bad << " of " << c.size() << " elements differ";
}

Tensor random(const Shape& shape, uint64_t seed, double mean = 0, double std = 1) {
  Generator gen(seed);
  return randn(shape, TensorOptions(kDouble), &gen) * std + mean;
}

struct PreluCase {
  Shape shape;
  bool per_channel;
  bool channels_last = false;
};

const PreluCase kCases[] = {
    {{7, 5}, false},           {{7, 5}, true},           {{3, 4, 5, 6}, false},     {{3, 4, 5, 6}, true},
    {{3, 4, 5, 6}, true, true}, {{11}, false},            {{1, 1}, false},           {{1, 1}, true},
    {{2, 64, 3, 3}, true},      {{1000, 20}, true},       {{64, 3, 32, 32}, false},  {{64, 3, 32, 32}, true},
    {{16, 64, 8, 8}, true, true}, {{5, 3, 7}, true},
};

TEST(CudaPrelu, MatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const PreluCase& c : kCases) {
      const std::string what = describe(c.shape) + (c.per_channel ? " per-channel" : " shared") +
                               (c.channels_last ? " channels-last " : " ") + dtype_name(dtype);
      const int64_t channels = c.per_channel ? c.shape[1] : 1;
      const MemoryFormat format = c.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
      Tensor x_cpu = random(c.shape, 61).to(dtype).contiguous(format);
      Tensor w_cpu = random({channels}, 62, 0.25, 0.2).to(dtype);
      Tensor x_gpu = x_cpu.to(kGpu), w_gpu = w_cpu.to(kGpu);
      x_cpu.requires_grad_();
      w_cpu.requires_grad_();
      x_gpu.requires_grad_();
      w_gpu.requires_grad_();
      const Tensor grad = random(c.shape, 63).to(dtype);

      Tensor out_cpu = prelu(x_cpu, w_cpu), out_gpu = prelu(x_gpu, w_gpu);
      // Forward and grad input are one rounding each: the same bits.
      expect_close(out_gpu, out_cpu, 0, 0, what + " output");
      EXPECT_EQ(out_gpu.strides(), out_cpu.strides()) << what;
      out_cpu.backward(grad);
      out_gpu.backward(grad.to(kGpu));
      expect_close(x_gpu.grad(), x_cpu.grad(), 0, 0, what + " grad input");
      // The CPU sums each run of a channel in the dtype, the GPU all of it in double.
      const double rtol = dtype == kDouble ? 1e-11 : 1e-4;
      expect_close(w_gpu.grad(), w_cpu.grad(), rtol, rtol, what + " grad weight");
    }
}

// Only the weight wants a gradient, then only the input.
TEST(CudaPrelu, OneGradientAtATime) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (bool weight_grad : {false, true}) {
      Tensor x_cpu = random({4, 6, 5}, 71).to(dtype), w_cpu = random({6}, 72, 0.25, 0.2).to(dtype);
      Tensor x_gpu = x_cpu.to(kGpu), w_gpu = w_cpu.to(kGpu);
      (weight_grad ? w_cpu : x_cpu).requires_grad_();
      (weight_grad ? w_gpu : x_gpu).requires_grad_();
      const Tensor grad = random({4, 6, 5}, 73).to(dtype);
      prelu(x_cpu, w_cpu).backward(grad);
      prelu(x_gpu, w_gpu).backward(grad.to(kGpu));
      const std::string what = std::string(weight_grad ? "weight " : "input ") + dtype_name(dtype);
      if (weight_grad) expect_close(w_gpu.grad(), w_cpu.grad(), 1e-5, 1e-5, what);
      else expect_close(x_gpu.grad(), x_cpu.grad(), 0, 0, what);
      EXPECT_FALSE((weight_grad ? x_gpu : w_gpu).grad().defined()) << what;
    }
}

}  // namespace
}  // namespace striate
