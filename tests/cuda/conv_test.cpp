// Every CUDA convolution against the CPU backend: the direct and the
// implicit-GEMM kernels on their own (raw calls into poisoned buffers), and
// conv2d / conv1d through autograd on each backend (native, cuDNN, auto),
// forward and all three gradients, f32 and f64, NCHW and channels last
// (NHWC, OHWI weights), over a sweep of shapes.
//
// Tolerance: the reference is the CPU in f64 on the same (rounded) inputs. A
// sum of K products rounds differently in every summation order, so each
// element may differ by a few ulps of the sum of the magnitudes of its terms,
// which the CPU computes too (the same convolution over |x|, |w|, |grad|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
using Pair = std::array<int64_t, 2>;

struct Case {
  const char* name;
  Shape input, weight;
  Pair stride{1, 1}, pad{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
  PaddingMode mode = PaddingMode::Explicit;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"plain 3x3", {2, 3, 7, 7}, {4, 3, 3, 3}},
      {"batch 1, stride 2", {1, 3, 7, 7}, {2, 3, 3, 3}, {2, 2}},
      {"rectangular kernel, asymmetric stride", {2, 2, 9, 6}, {3, 2, 2, 3}, {3, 1}, {1, 0}},
      {"dilation 2", {1, 2, 8, 8}, {2, 2, 3, 3}, {1, 1}, {2, 1}, {2, 2}},
      {"groups 2", {2, 4, 6, 5}, {6, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2},
      {"depthwise", {2, 8, 9, 7}, {8, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 8},
      {"1x1 no bias", {2, 5, 4, 3}, {3, 5, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1, false},
      {"same, even kernel", {1, 2, 6, 6}, {2, 2, 4, 4}, {1, 1}, {0, 0}, {1, 1}, 1, true, PaddingMode::Same},
      {"LeNet conv1", {3, 1, 28, 28}, {6, 1, 5, 5}, {1, 1}, {2, 2}},
      {"LeNet conv2", {3, 6, 14, 14}, {16, 6, 5, 5}},
      // Many channels: the implicit GEMM in every pass.
      {"64 -> 64, 3x3 pad 1", {2, 64, 9, 11}, {64, 64, 3, 3}, {1, 1}, {1, 1}},
      {"96 -> 130, 1x1", {3, 96, 7, 5}, {130, 96, 1, 1}},
      {"40 -> 72, 3x3 stride 2", {2, 40, 13, 13}, {72, 40, 3, 3}, {2, 2}, {1, 1}},
      {"48 -> 64, dilation 2", {1, 48, 12, 10}, {64, 48, 3, 3}, {1, 1}, {2, 2}, {2, 2}},
      {"groups 2 of 48", {2, 96, 8, 8}, {96, 48, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2},
      {"7x7 stride 2 (ResNet stem)", {2, 3, 29, 31}, {64, 3, 7, 7}, {2, 2}, {3, 3}},
      {"1x1 stride 2 (downsample)", {2, 64, 9, 9}, {128, 64, 1, 1}, {2, 2}},
      {"11x11 stride 4 (AlexNet)", {1, 3, 39, 39}, {64, 3, 11, 11}, {4, 4}, {2, 2}},
      {"same, 64 channels, even kernel", {1, 64, 7, 7}, {64, 64, 2, 2}, {1, 1}, {0, 0}, {1, 1}, 1, true,
       PaddingMode::Same},
  };
  return all;
}

// The kernels' view of a case, worked out as the op layer does.
kernels::ConvParams params_of(const Case& c, DType dtype) {
  kernels::ConvParams p{};
  p.dtype = dtype;
  p.batch = c.input[0];
  p.channels = c.input[1];
  p.height = c.input[2];
  p.width = c.input[3];
  p.out_channels = c.weight[0];
  p.kernel_h = c.weight[2];
  p.kernel_w = c.weight[3];
  p.stride_h = c.stride[0];
  p.stride_w = c.stride[1];
  p.dilation_h = c.dilation[0];
  p.dilation_w = c.dilation[1];
  p.groups = c.groups;
  const Pair extent{c.dilation[0] * (p.kernel_h - 1) + 1, c.dilation[1] * (p.kernel_w - 1) + 1};
  Pair before = c.pad, total{2 * c.pad[0], 2 * c.pad[1]};
  if (c.mode == PaddingMode::Same) {
    total = {extent[0] - 1, extent[1] - 1};
    before = {total[0] / 2, total[1] / 2};
  }
  p.pad_top = before[0];
  p.pad_left = before[1];
  p.out_h = (p.height + total[0] - extent[0]) / p.stride_h + 1;
  p.out_w = (p.width + total[1] - extent[1]) / p.stride_w + 1;
  return p;
}

ConvPadding<2> padding_of(const Case& c) {
  if (c.mode != PaddingMode::Explicit) return c.mode;
  return ConvPadding<2>(std::vector<int64_t>{c.pad[0], c.pad[1]});
}

Tensor run_conv(const Case& c, const Tensor& x, const Tensor& w, const Tensor& b) {
  return conv2d(x, w, b, std::vector<int64_t>{c.stride[0], c.stride[1]}, padding_of(c),
                std::vector<int64_t>{c.dilation[0], c.dilation[1]}, c.groups);
}

// The four results of one convolution: output and the three gradients.
struct Results {
  Tensor y, gx, gw, gb;
};

// Forward and backward with grad_output `gy` (all tensors on one device).
Results forward_backward(const Case& c, const Tensor& x0, const Tensor& w0, const Tensor& b0, const Tensor& gy) {
  Tensor x = x0.detach().requires_grad_(), w = w0.detach().requires_grad_();
  Tensor b = c.bias ? b0.detach().requires_grad_() : Tensor();
  Tensor y = run_conv(c, x, w, b);
  y.backward(gy);
  return {y.detach(), x.grad(), w.grad(), c.bias ? b.grad() : Tensor()};
}

double epsilon(DType dtype) {
  return dtype == kDouble ? std::numeric_limits<double>::epsilon() : std::numeric_limits<float>::epsilon();
}

// |got - want| <= (input_rounding + eps * (4 + 2 sqrt(depth))) * magnitude,
// element by element. input_rounding bounds the relative error of each
// product when the inputs were rounded on the way (TF32: 2^-9).
void expect_close(const Tensor& got, const Tensor& want, const Tensor& magnitude, int64_t depth, DType dtype,
                  const std::string& what, double input_rounding = 0) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(got.defined());
  ASSERT_EQ(got.sizes(), want.sizes());
  const auto g = got.cpu().to(kDouble).contiguous().to_vector<double>();
  const auto r = want.contiguous().to_vector<double>();
  const auto m = magnitude.contiguous().to_vector<double>();
  const double factor = input_rounding + epsilon(dtype) * (4 + 2 * std::sqrt(static_cast<double>(depth)));
  int64_t bad = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double bound = factor * m[i] + 1e-300;
    if (!(std::abs(g[i] - r[i]) <= bound) && bad++ < 5)
      ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << r[i] << " (bound " << bound << ")";
  }
  EXPECT_EQ(bad, 0) << bad << " of " << r.size() << " elements differ";
}

// t rounded to TF32 as cvt.rna.tf32.f32 rounds (10 explicit mantissa bits,
// to nearest, ties away from zero), in f64.
Tensor tf32_rounded(const Tensor& t) {
  std::vector<double> v = t.to(kDouble).contiguous().to_vector<double>();
  for (double& x : v) {
    int exponent = 0;
    const double mantissa = std::frexp(x, &exponent);
    x = std::ldexp(std::round(std::ldexp(mantissa, 11)), exponent - 11);
  }
  return from_vector(v, t.sizes());
}

// How a TF32 result is judged: against the reference on TF32-rounded inputs
// with the f32 tolerance (the native kernels, which round as cvt.rna does),
// or against the f32 inputs' reference with TF32's rounding allowed per
// product (cuDNN, whose rounding is its own).
enum class Tf32 { No, RoundedReference, Bound };

// One case's inputs (rounded to dtype), its f64 CPU reference and the magnitudes.
struct Problem {
  Case c;
  DType dtype;
  Tensor x, w, b, gy;   // dtype, on the CPU
  Results want, size;   // f64
  int64_t depth_forward, depth_grad_input, depth_grad_weight;
  double input_rounding = 0;

  Problem(const Case& cs, DType t, Tf32 tf32 = Tf32::No) : c(cs), dtype(t) {
    Generator gen(7);
    x = randn(c.input, TensorOptions(kDouble), &gen).to(t);
    w = randn(c.weight, TensorOptions(kDouble), &gen).to(t);
    b = randn({c.weight[0]}, TensorOptions(kDouble), &gen).to(t);
    const kernels::ConvParams p = params_of(c, t);
    gy = randn({p.batch, p.out_channels, p.out_h, p.out_w}, TensorOptions(kDouble), &gen).to(t);
    want = forward_backward(c, x.to(kDouble), w.to(kDouble), b.to(kDouble), gy.to(kDouble));
    size = forward_backward(c, x.to(kDouble).abs(), w.to(kDouble).abs(), b.to(kDouble).abs(), gy.to(kDouble).abs());
    if (tf32 == Tf32::RoundedReference) {  // the bias gradient is an f32 sum of gy either way
      const Tensor rx = tf32_rounded(x), rw = tf32_rounded(w), rgy = tf32_rounded(gy), b64 = b.to(kDouble);
      Results rounded = forward_backward(c, rx, rw, b64, rgy);
      Results rounded_size = forward_backward(c, rx.abs(), rw.abs(), b64.abs(), rgy.abs());
      rounded.gb = want.gb;
      rounded_size.gb = size.gb;
      want = rounded;
      size = rounded_size;
    }
    // Each input within one TF32 ulp (2^-10 relative), whether a library
    // rounds or truncates: each product within 2^-9.
    if (tf32 == Tf32::Bound) input_rounding = std::ldexp(1.0, -9);
    const int64_t taps = p.kernel_h * p.kernel_w;
    depth_forward = p.channels / p.groups * taps + 1;
    depth_grad_input = p.out_channels / p.groups * taps;
    depth_grad_weight = p.batch * p.out_h * p.out_w;
  }

  void expect_matches(const Results& got, const std::string& what) const {
    const std::string where = std::string(c.name) + ", " + dtype_name(dtype) + ", " + what;
    const double r = input_rounding;
    expect_close(got.y, want.y, size.y, depth_forward, dtype, where + ": output", r);
    if (got.gx.defined()) expect_close(got.gx, want.gx, size.gx, depth_grad_input, dtype, where + ": grad input", r);
    if (got.gw.defined())
      expect_close(got.gw, want.gw, size.gw, depth_grad_weight, dtype, where + ": grad weight", r);
    if (c.bias && got.gb.defined())
      expect_close(got.gb, want.gb, size.gb, depth_grad_weight, dtype, where + ": grad bias");
  }
};

MemoryFormat layout_of(bool channels_last) {
  return channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
}

Tensor poisoned(const Shape& sizes, DType dtype, MemoryFormat layout = MemoryFormat::Contiguous) {
  return full(sizes, std::numeric_limits<double>::quiet_NaN(), TensorOptions(dtype).device(kGpu)).contiguous(layout);
}

using ForwardFn = decltype(&kernels::cuda::conv2d_forward);
using GradInputFn = decltype(&kernels::cuda::conv2d_grad_input);
using GradWeightFn = decltype(&kernels::cuda::conv2d_grad_weight);

// One set of kernels called directly, outputs poisoned with NaN first.
Results run_kernels(const Problem& pr, bool channels_last, ForwardFn forward, GradInputFn grad_input,
                    GradWeightFn grad_weight, bool allow_tf32 = false) {
  kernels::ConvParams p = params_of(pr.c, pr.dtype);
  p.channels_last = channels_last;
  p.allow_tf32 = allow_tf32;
  const MemoryFormat layout = layout_of(channels_last);
  const Tensor x = pr.x.to(kGpu).contiguous(layout), w = pr.w.to(kGpu).contiguous(layout), b = pr.b.to(kGpu);
  const Tensor gy = pr.gy.to(kGpu).contiguous(layout);
  Results r{poisoned(pr.gy.sizes(), pr.dtype, layout), poisoned(pr.x.sizes(), pr.dtype, layout),
            poisoned(pr.w.sizes(), pr.dtype, layout), poisoned(pr.b.sizes(), pr.dtype)};
  forward(p, x.data_ptr(), w.data_ptr(), pr.c.bias ? b.data_ptr() : nullptr, r.y.data_ptr());
  grad_input(p, w.data_ptr(), gy.data_ptr(), r.gx.data_ptr());
  grad_weight(p, x.data_ptr(), gy.data_ptr(), r.gw.data_ptr(), pr.c.bias ? r.gb.data_ptr() : nullptr);
  cuda::synchronize();
  if (!pr.c.bias) r.gb = Tensor();
  return r;
}

// The kernels themselves exist only in builds with the CUDA backend.
TEST(CudaConv, DirectKernelsMatchTheCpu) {
  STRIATE_REQUIRE_REAL_GPU();
#if STRIATE_WITH_CUDA
  for (DType dtype : {kFloat, kDouble})
    for (const Case& c : cases()) {
      const Problem pr(c, dtype);
      for (bool channels_last : {false, true})
        pr.expect_matches(run_kernels(pr, channels_last, &kernels::cuda::conv2d_forward_direct,
                                      &kernels::cuda::conv2d_grad_input_direct,
                                      &kernels::cuda::conv2d_grad_weight_direct),
                          channels_last ? "direct kernels, NHWC" : "direct kernels");
    }
#endif
}

TEST(CudaConv, ImplicitGemmKernelsMatchTheCpu) {
  STRIATE_REQUIRE_REAL_GPU();
#if STRIATE_WITH_CUDA
  for (DType dtype : {kFloat, kDouble})
    for (const Case& c : cases()) {
      const Problem pr(c, dtype);
      for (bool channels_last : {false, true})
        pr.expect_matches(run_kernels(pr, channels_last, &kernels::cuda::conv2d_forward_implicit_gemm,
                                      &kernels::cuda::conv2d_grad_input_implicit_gemm,
                                      &kernels::cuda::conv2d_grad_weight_implicit_gemm),
                          channels_last ? "implicit GEMM kernels, NHWC" : "implicit GEMM kernels");
    }
#endif
}

// The TF32 tile (tensor cores): every pass, both layouts, against the
// reference on TF32-rounded inputs within the f32 tolerance.
TEST(CudaConv, Tf32ImplicitGemmKernelsMatchTheCpuOnRoundedInputs) {
  STRIATE_REQUIRE_REAL_GPU();
#if STRIATE_WITH_CUDA
  for (const Case& c : cases()) {
    const Problem pr(c, kFloat, Tf32::RoundedReference);
    for (bool channels_last : {false, true})
      pr.expect_matches(run_kernels(pr, channels_last, &kernels::cuda::conv2d_forward_implicit_gemm,
                                    &kernels::cuda::conv2d_grad_input_implicit_gemm,
                                    &kernels::cuda::conv2d_grad_weight_implicit_gemm, true),
                        channels_last ? "TF32 implicit GEMM kernels, NHWC" : "TF32 implicit GEMM kernels");
  }
#endif
}

// allow_tf32 through conv2d on every backend: within TF32's rounding of the
// f32 result; the flag is restored afterwards.
TEST(CudaConv, AllowTf32KeepsEveryBackendWithinTf32Precision) {
  STRIATE_REQUIRE_GPU();
  set_allow_tf32(OpFamily::Conv, true);
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library, KernelBackend::Auto}) {
    KernelBackendGuard guard(OpFamily::Conv, backend);
    for (const Case& c : cases())
      for (bool channels_last : {false, true}) {
        const Problem pr(c, kFloat, Tf32::Bound);
        const MemoryFormat layout = layout_of(channels_last);
        const Tensor x = pr.x.to(kGpu).contiguous(layout), w = pr.w.to(kGpu).contiguous(layout);
        const std::string what =
            "TF32, " + std::string(backend_name(OpFamily::Conv, backend)) + (channels_last ? ", NHWC" : "");
        pr.expect_matches(forward_backward(c, x, w, pr.b.to(kGpu), pr.gy.to(kGpu)), what);
      }
  }
  set_allow_tf32(OpFamily::Conv, false);
}

TEST(CudaConv, EveryBackendMatchesTheCpuThroughAutograd) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library, KernelBackend::Auto}) {
    KernelBackendGuard guard(OpFamily::Conv, backend);
    for (DType dtype : {kFloat, kDouble})
      for (const Case& c : cases())
        for (bool channels_last : {false, true}) {
          const Problem pr(c, dtype);
          const MemoryFormat layout = layout_of(channels_last);
          const Tensor x = pr.x.to(kGpu).contiguous(layout), w = pr.w.to(kGpu).contiguous(layout);
          const Tensor b = pr.b.to(kGpu), gy = pr.gy.to(kGpu);
          const std::string what =
              std::string(backend_name(OpFamily::Conv, backend)) + ", " + c.name + (channels_last ? ", NHWC" : "");
          const Results got = forward_backward(c, x, w, b, gy);
          // The outputs keep a channels-last input's layout. (With one channel,
          // contiguous(ChannelsLast) has nothing to move, and the input stays NCHW.)
          if (channels_last && c.input[1] > 1) {
            EXPECT_TRUE(got.y.is_contiguous(MemoryFormat::ChannelsLast)) << what;
            EXPECT_TRUE(got.gx.is_contiguous(MemoryFormat::ChannelsLast)) << what;
          }
          pr.expect_matches(got, what);
          // Auto's second call takes its remembered choice: it must agree too.
          if (backend == KernelBackend::Auto) pr.expect_matches(forward_backward(c, x, w, b, gy), what + ", second call");
        }
  }
}

// use_deterministic_algorithms: each backend gives the same bits on a second
// run (native: the split-K grad weight summed in order; cuDNN: its heuristic
// deterministic algorithms) and still matches the CPU. The last case's grad
// weight has K = 8 * 16 * 16 = 2048, split across blocks.
TEST(CudaConv, DeterministicAlgorithmsGiveTheSameBitsOnEveryRun) {
  STRIATE_REQUIRE_GPU();
  use_deterministic_algorithms(true);
  std::vector<Case> sweep(cases().begin(), cases().end());
  sweep.push_back({"split K: 32 -> 32, 3x3, batch 8 of 16x16", {8, 32, 16, 16}, {32, 32, 3, 3}, {1, 1}, {1, 1}});
  const auto same_bits = [](const Tensor& a, const Tensor& b) {
    if (!a.defined() || !b.defined()) return a.defined() == b.defined();
    const Tensor ca = a.cpu().contiguous(), cb = b.cpu().contiguous();
    return ca.sizes() == cb.sizes() && std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
  };
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library, KernelBackend::Auto}) {
    KernelBackendGuard guard(OpFamily::Conv, backend);
    for (const Case& c : sweep)
      for (bool channels_last : {false, true}) {
        const Problem pr(c, kFloat);
        const MemoryFormat layout = layout_of(channels_last);
        const Tensor x = pr.x.to(kGpu).contiguous(layout), w = pr.w.to(kGpu).contiguous(layout);
        const Tensor b = pr.b.to(kGpu), gy = pr.gy.to(kGpu);
        const std::string what = std::string(backend_name(OpFamily::Conv, backend)) + ", deterministic, " + c.name +
                                 (channels_last ? ", NHWC" : "");
        const Results first = forward_backward(c, x, w, b, gy), second = forward_backward(c, x, w, b, gy);
        pr.expect_matches(first, what);
        EXPECT_TRUE(same_bits(first.y, second.y)) << what << ": output";
        EXPECT_TRUE(same_bits(first.gx, second.gx)) << what << ": grad input";
        EXPECT_TRUE(same_bits(first.gw, second.gw)) << what << ": grad weight";
        EXPECT_TRUE(same_bits(first.gb, second.gb)) << what << ": grad bias";
      }
  }
  use_deterministic_algorithms(false);
}

#ifdef STRIATE_WITH_CUDNN
// cuDNN pads symmetrically, so an even "same" kernel is left to the native
// kernel, and counted (the benchmarks mark such cells by it); a plain case
// runs cuDNN's own algorithms in all three passes.
TEST(CudaConv, CudnnCountsWhatItLeavesToTheNativeKernel) {
  STRIATE_REQUIRE_REAL_GPU();
  KernelBackendGuard guard(OpFamily::Conv, KernelBackend::Library);
  const auto native_runs_of = [](const char* name) {
    const auto c =
        std::find_if(cases().begin(), cases().end(), [&](const Case& k) { return std::string(k.name) == name; });
    const Problem pr(*c, kFloat);
    const int64_t before = kernels::cudnn::conv2d_native_runs();
    pr.expect_matches(forward_backward(*c, pr.x.to(kGpu), pr.w.to(kGpu), pr.b.to(kGpu), pr.gy.to(kGpu)), name);
    return kernels::cudnn::conv2d_native_runs() - before;
  };
  EXPECT_EQ(native_runs_of("plain 3x3"), 0);
  EXPECT_EQ(native_runs_of("same, even kernel"), 3);  // forward, grad input, grad weight
}
#endif

TEST(CudaConv, HalfPrecisionAndChannelsLastMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  Generator gen(3);
  const Tensor x = randn({2, 32, 9, 9}, TensorOptions(kFloat), &gen), w = randn({48, 32, 3, 3}, TensorOptions(kFloat), &gen);
  const Tensor want = conv2d(x, w, Tensor(), 1, 1);
  for (DType dtype : {kHalf, kBFloat16}) {
    const Tensor got = conv2d(x.to(dtype).to(kGpu), w.to(dtype).to(kGpu), Tensor(), 1, 1);
    EXPECT_EQ(got.dtype(), dtype);
    const Tensor cpu16 = conv2d(x.to(dtype), w.to(dtype), Tensor(), 1, 1);
    const double tol = dtype == kHalf ? 2e-2 : 1.5e-1;
    EXPECT_LT((got.cpu().to(kFloat) - cpu16.to(kFloat)).abs().max().item<double>(), tol * want.abs().max().item<double>())
        << dtype_name(dtype);
  }
  const Tensor nhwc = x.contiguous(MemoryFormat::ChannelsLast).to(kGpu);
  const Tensor got = conv2d(nhwc, w.to(kGpu), Tensor(), 1, 1);
  EXPECT_TRUE(got.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_LT((got.cpu() - want).abs().max().item<double>(), 1e-4 * want.abs().max().item<double>());
}

TEST(CudaConv, Conv1dMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  Generator gen(5);
  const Tensor x = randn({3, 40, 37}, TensorOptions(kDouble), &gen), w = randn({50, 20, 5}, TensorOptions(kDouble), &gen);
  const Tensor b = randn({50}, TensorOptions(kDouble), &gen);
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library}) {
    KernelBackendGuard guard(OpFamily::Conv, backend);
    const Tensor want = conv1d(x, w, b, 2, 3, 2, 2);
    const Tensor got = conv1d(x.to(kGpu), w.to(kGpu), b.to(kGpu), 2, 3, 2, 2);
    EXPECT_LT((got.cpu() - want).abs().max().item<double>(), 1e-12 * want.abs().max().item<double>());
  }
}

}  // namespace
}  // namespace striate
