// The cuDNN (Library) backends of pooling, activations and batch norm, beside
// the native kernels and Auto, against the CPU: the public ops forward and
// backward through autograd, f32 and f64, over sweeps that include the cases
// cuDNN leaves to the native kernels (dilation, ceil_mode windows,
// divisor_override, indices; activations cuDNN lacks, mismatched strides,
// broadcast inputs; evaluation-mode batch-norm gradients), which must give
// the right answer too.
//
// cuDNN sums and rounds in its own order, so results are compared as
// |gpu - cpu| <= slack * rtol * (|cpu| + max|cpu|), rtol being compare.h's
// for the dtype: a few roundings of the result's scale, where a wrong window,
// divisor, variance or momentum is off by orders of magnitude more.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const KernelBackend kBackends[] = {KernelBackend::Native, KernelBackend::Library, KernelBackend::Auto};

std::string describe(const Shape& s) { return ::testing::PrintToString(s); }

// Expects gpu to match cpu within slack roundings of the result's scale; NaN
// in the same places, infinities equal.
void expect_near_cpu(const Tensor& gpu, const Tensor& cpu, double slack, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(gpu.defined());
  ASSERT_TRUE(cpu.defined());
  ASSERT_EQ(gpu.sizes(), cpu.sizes());
  ASSERT_EQ(gpu.dtype(), cpu.dtype());
  EXPECT_EQ(gpu.device(), kGpu);
  const auto g = gpu.cpu().to(kDouble).contiguous().flatten().to_vector<double>();
  const auto c = cpu.to(kDouble).contiguous().flatten().to_vector<double>();
  double scale = 0;
  for (double v : c)
    if (std::isfinite(v)) scale = std::max(scale, std::abs(v));
  const double rtol = slack * testing::tolerance_for(cpu.dtype()).rtol;
  int64_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const bool ok = std::isnan(c[i])   ? std::isnan(g[i])
                    : std::isinf(c[i]) ? g[i] == c[i]
                                       : std::abs(g[i] - c[i]) <= rtol * (std::abs(c[i]) + scale);
    if (!ok && bad++ < 5) ADD_FAILURE() << "element " << i << ": gpu " << g[i] << ", cpu " << c[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << c.size() << " elements differ";
}

// Normal values (mean `mean`, std `std`) from a seed, in `dtype`.
Tensor random(const Shape& sizes, DType dtype, uint64_t seed, double mean = 0, double std = 1) {
  Generator gen(seed);
  return (randn(sizes, TensorOptions(kDouble), &gen) * std + mean).to(dtype);
}

// The same values as a leaf on each device, both requiring grad.
struct Leaves {
  Tensor cpu, gpu;
};
Leaves leaves(const Tensor& values) {
  Tensor c = values.detach().clone();
  Tensor g = values.detach().to(kGpu);
  c.requires_grad_(true);
  g.requires_grad_(true);
  return {c, g};
}

// Auto measures on its first call of a shape and takes its choice on the
// next: both must be right.
int calls_for(KernelBackend backend) { return backend == KernelBackend::Auto ? 2 : 1; }

// ---- pooling --------------------------------------------------------------------

using Pair = std::array<int64_t, 2>;
ExpandingArray<2> ea(const Pair& p) { return {p[0], p[1]}; }
std::string pair_str(const Pair& p) { return "(" + std::to_string(p[0]) + "," + std::to_string(p[1]) + ")"; }

// A few roundings of a window's sum (average), or of several gradients
// meeting in one input (overlapping windows).
constexpr double kPoolSlack = 8;

const Shape kPoolInputs[] = {{3, 4, 7, 9}, {1, 5, 8, 8}, {2, 3, 1, 1}, {5, 7, 9}};
const Pair kPoolKernels[] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}};

// Batched inputs also channels-last: cuDNN's NHWC descriptors and the native NHWC kernels.
std::vector<MemoryFormat> pool_layouts(const Shape& sizes) {
  if (sizes.size() != 4) return {MemoryFormat::Contiguous};
  return {MemoryFormat::Contiguous, MemoryFormat::ChannelsLast};
}
const char* layout_name(MemoryFormat f) { return f == MemoryFormat::ChannelsLast ? " NHWC" : ""; }

struct PoolRun {
  int checked = 0, refused = 0;
};

// Runs `pool` on both devices from the same values (when the op accepts the
// arguments), then backpropagates the same gradient; counts what ran.
void compare_pooling(const std::function<Tensor(const Tensor&)>& pool, const Tensor& values, uint64_t seed,
                     PoolRun& run, const std::string& what) {
  SCOPED_TRACE(what);
  Leaves x = leaves(values);
  Tensor y_cpu;
  try {
    y_cpu = pool(x.cpu);
  } catch (const Error&) {  // arguments the op refuses, on either device
    EXPECT_THROW(pool(x.gpu), Error);
    ++run.refused;
    return;
  }
  const Tensor y_gpu = pool(x.gpu);
  EXPECT_EQ(y_gpu.suggest_memory_format(), y_cpu.suggest_memory_format());
  expect_near_cpu(y_gpu, y_cpu, kPoolSlack, "forward");
  const Tensor g = random(y_cpu.sizes(), values.dtype(), seed);
  y_cpu.backward(g);
  y_gpu.backward(g.to(kGpu));
  ASSERT_TRUE(x.gpu.grad().defined());
  expect_near_cpu(x.gpu.grad(), x.cpu.grad(), kPoolSlack, "grad");
  ++run.checked;
}

TEST(CudnnBackends, MaxPoolingMatchesTheCpuOnEveryBackend) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Pooling, backend);
    PoolRun run;
    for (DType dtype : {kFloat, kDouble})
      for (const Shape& sizes : kPoolInputs)
        for (const Pair& k : kPoolKernels)
          for (int64_t s : {1, 2, 3})
            for (int64_t p : {0, 1})
              for (int64_t d : {1, 2})  // dilation 2: native
                for (bool ceil_mode : {false, true})
                  for (MemoryFormat format : pool_layouts(sizes))
                    for (int call = 0; call < calls_for(backend); ++call) {
                      const std::string what = backend_name(OpFamily::Pooling, backend) + " " + dtype_name(dtype) +
                                               " input " + describe(sizes) + layout_name(format) + " kernel " +
                                               pair_str(k) + " stride " + std::to_string(s) + " padding " +
                                               std::to_string(p) + " dilation " + std::to_string(d) +
                                               (ceil_mode ? " ceil" : "");
                      compare_pooling([&](const Tensor& x) { return max_pool2d(x, ea(k), s, p, d, ceil_mode); },
                                      random(sizes, dtype, 100 + run.checked).contiguous(format), 7 + run.checked,
                                      run, what);
                    }
    EXPECT_GT(run.checked, 900);
    EXPECT_GT(run.refused, 90);
  }
}

TEST(CudnnBackends, AvgPoolingMatchesTheCpuOnEveryBackend) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Pooling, backend);
    PoolRun run;
    for (DType dtype : {kFloat, kDouble})
      for (const Shape& sizes : kPoolInputs)
        for (const Pair& k : kPoolKernels)
          for (int64_t s : {1, 2, 3})
            for (int64_t p : {0, 1})
              for (bool ceil_mode : {false, true})
                for (bool count_include_pad : {true, false})
                  for (std::optional<int64_t> divisor : {std::optional<int64_t>(), std::optional<int64_t>(3)})
                    for (MemoryFormat format : pool_layouts(sizes))
                      for (int call = 0; call < calls_for(backend); ++call) {
                        const std::string what =
                            backend_name(OpFamily::Pooling, backend) + " " + dtype_name(dtype) + " input " +
                            describe(sizes) + layout_name(format) + " kernel " + pair_str(k) + " stride " +
                            std::to_string(s) + " padding " + std::to_string(p) + (ceil_mode ? " ceil" : "") +
                            (count_include_pad ? " count_include_pad" : "") +
                            (divisor ? " divisor " + std::to_string(*divisor) : "");
                        compare_pooling(
                            [&](const Tensor& x) {
                              return avg_pool2d(x, ea(k), s, p, ceil_mode, count_include_pad, divisor);
                            },
                            random(sizes, dtype, 300 + run.checked).contiguous(format), 9 + run.checked, run, what);
                      }
    EXPECT_GT(run.checked, 900);
    EXPECT_GT(run.refused, 90);
  }
}

// More planes than one cuDNN call takes (65535; channels-last, more
// images), ChannelsLast inputs, the 1-D forms, rectangular windows, batch 1.
TEST(CudnnBackends, PoolingShapesBeyondTheSweep) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Pooling, backend);
    const std::string name = backend_name(OpFamily::Pooling, backend);
    PoolRun run;
    for (DType dtype : {kFloat, kDouble}) {
      const std::string what = name + " " + dtype_name(dtype);
      const Tensor many = random({1, 70001, 4, 4}, dtype, 31);
      compare_pooling([](const Tensor& x) { return max_pool2d(x, 2, 2); }, many, 32, run, what + " 70001 planes max");
      compare_pooling([](const Tensor& x) { return avg_pool2d(x, 3, 1, 1); }, many, 33, run,
                      what + " 70001 planes avg");
      const Tensor many_images = random({65537, 3, 2, 2}, dtype, 43).contiguous(MemoryFormat::ChannelsLast);
      compare_pooling([](const Tensor& x) { return max_pool2d(x, 2, 1); }, many_images, 44, run,
                      what + " 65537 NHWC images max");
      compare_pooling([](const Tensor& x) { return avg_pool2d(x, 2, 1, 1); }, many_images, 45, run,
                      what + " 65537 NHWC images avg");
      const Tensor nhwc = random({2, 6, 9, 7}, dtype, 34).contiguous(MemoryFormat::ChannelsLast);
      compare_pooling([](const Tensor& x) { return max_pool2d(x, 3, 2, 1); }, nhwc, 35, run, what + " NHWC max");
      compare_pooling([](const Tensor& x) { return avg_pool2d(x, {3, 2}, {2, 1}, {1, 0}, false, false); }, nhwc, 36,
                      run, what + " NHWC avg");
      const Tensor line = random({3, 4, 17}, dtype, 37);
      compare_pooling([](const Tensor& x) { return max_pool1d(x, 3, 2, 1); }, line, 38, run, what + " max_pool1d");
      compare_pooling([](const Tensor& x) { return avg_pool1d(x, 4, 3, 2, false, true); }, line, 39, run,
                      what + " avg_pool1d");
      const Tensor tall = random({1, 2, 13, 5}, dtype, 40);
      compare_pooling([](const Tensor& x) { return max_pool2d(x, {5, 3}, {1, 2}, {2, 1}); }, tall, 41, run,
                      what + " rectangular max");
      compare_pooling([](const Tensor& x) { return avg_pool2d(x, {5, 3}, {3, 1}, {2, 0}); }, tall, 42, run,
                      what + " rectangular avg");
    }
    EXPECT_EQ(run.checked, 20) << name;
  }
}

// max_pool2d_with_indices leaves cuDNN (which returns none) to the native
// kernel: the same values and indices as the CPU.
TEST(CudnnBackends, MaxPoolingIndicesUnderTheLibrary) {
  STRIATE_REQUIRE_GPU();
  KernelBackendGuard guard(OpFamily::Pooling, KernelBackend::Library);
  for (DType dtype : {kFloat, kDouble}) {
    const Tensor x = random({2, 3, 9, 8}, dtype, 51);
    auto [yc, ic] = max_pool2d_with_indices(x, 3, 2, 1);
    auto [yg, ig] = max_pool2d_with_indices(x.to(kGpu), 3, 2, 1);
    testing::expect_matches_cpu(yg, yc, std::string(dtype_name(dtype)) + " values");
    testing::expect_matches_cpu(ig, ic, std::string(dtype_name(dtype)) + " indices");
  }
}

// A window holding a NaN gives NaN (CUDNN_PROPAGATE_NAN) as on the CPU; a
// NaN or an infinity reaches the average. (Which input of a window with a NaN
// receives its gradient is cuDNN's choice: not compared.) An all -inf input
// shows cuDNN's max padding, the documented difference.
TEST(CudnnBackends, PoolingPropagatesNaNAndInfinities) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Pooling, backend);
    for (DType dtype : {kFloat, kDouble}) {
      const std::string what = backend_name(OpFamily::Pooling, backend) + " " + dtype_name(dtype);
      std::vector<double> v = random({2, 3, 8, 8}, kDouble, 61).to_vector<double>();
      for (size_t i = 0; i < v.size(); i += 7) v[i] = kNaN;
      for (size_t i = 3; i < v.size(); i += 29) v[i] = kInf;
      for (size_t i = 5; i < v.size(); i += 31) v[i] = -kInf;
      const Tensor x = from_vector(v, {2, 3, 8, 8}, TensorOptions(dtype));
      for (int call = 0; call < calls_for(backend); ++call) {
        expect_near_cpu(max_pool2d(x.to(kGpu), 3, 2, 1), max_pool2d(x, 3, 2, 1), kPoolSlack, what + " max");
        expect_near_cpu(max_pool2d(x.to(kGpu), 2, 2), max_pool2d(x, 2, 2), kPoolSlack, what + " max 2x2");
        expect_near_cpu(avg_pool2d(x.to(kGpu), 3, 2, 1), avg_pool2d(x, 3, 2, 1), kPoolSlack, what + " avg");
      }
      // All -inf: -inf natively; cuDNN's padding (the lowest finite value)
      // wins the windows that reach into it.
      const Tensor minus_inf = full({1, 2, 5, 5}, -kInf, TensorOptions(dtype));
      const std::vector<double> got = max_pool2d(minus_inf.to(kGpu), 3, 2, 1).cpu().to(kDouble).to_vector<double>();
      const double lowest =
          dtype == kFloat ? std::numeric_limits<float>::lowest() : std::numeric_limits<double>::lowest();
      for (double v : got) {
        if (backend == KernelBackend::Native) EXPECT_EQ(v, -kInf) << what;
        else EXPECT_TRUE(v == -kInf || v == lowest) << what << ": " << v;
      }
    }
  }
}

// The cuDNN max-pooling backward belongs to its forward: a backward run after
// the guard has gone (Native then) still takes it, and is right.
TEST(CudnnBackends, MaxPoolingBackwardOutlivesTheGuard) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble}) {
    Leaves x = leaves(random({2, 4, 11, 10}, dtype, 71));
    const Tensor y_cpu = max_pool2d(x.cpu, 3, 2, 1);
    Tensor y_gpu;
    {
      KernelBackendGuard guard(OpFamily::Pooling, KernelBackend::Library);
      y_gpu = max_pool2d(x.gpu, 3, 2, 1);
    }
    const Tensor g = random(y_cpu.sizes(), dtype, 72);
    y_cpu.backward(g);
    y_gpu.backward(g.to(kGpu));
    expect_near_cpu(x.gpu.grad(), x.cpu.grad(), kPoolSlack, std::string(dtype_name(dtype)) + " grad");
  }
}

// ---- activations -------------------------------------------------------------------

// cuDNN's exp, tanh and expm1 are not the CPU's, and elu may form
// exp(x) - 1: a few roundings of the scale; 16-bit results differ by a
// rounding of their own at most (both sides compute in f32).
constexpr double kActivationSlack = 8;
double activation_slack(DType dtype) { return dtype == kHalf || dtype == kBFloat16 ? 2 : kActivationSlack; }

struct ActivationCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
};

// cuDNN's modes first, then activations (or arguments) it lacks.
std::vector<ActivationCase> activation_cases() {
  return {
      {"relu", [](const Tensor& t) { return relu(t); }},
      {"sigmoid", [](const Tensor& t) { return sigmoid(t); }},
      {"tanh", [](const Tensor& t) { return tanh(t); }},
      {"silu", [](const Tensor& t) { return silu(t); }},
      {"elu", [](const Tensor& t) { return elu(t); }},
      {"elu alpha 0.5", [](const Tensor& t) { return elu(t, 0.5); }},
      {"relu6", [](const Tensor& t) { return relu6(t); }},
      {"hardtanh(0, 0.7)", [](const Tensor& t) { return hardtanh(t, 0, 0.7); }},
      {"hardtanh", [](const Tensor& t) { return hardtanh(t); }},
      {"leaky_relu", [](const Tensor& t) { return leaky_relu(t, 0.2); }},
      {"gelu", [](const Tensor& t) { return gelu(t); }},
      {"selu", [](const Tensor& t) { return selu(t); }},
      {"elu scale 2", [](const Tensor& t) { return elu(t, 1.0, 2.0); }},
      {"softplus", [](const Tensor& t) { return softplus(t); }},
  };
}

// The leaf's values and the view the activation sees: dense layouts (cuDNN),
// then ones whose strides the output does not share, and a broadcast (native).
struct ActivationInput {
  const char* name;
  Shape sizes;
  MemoryFormat format;
  std::function<Tensor(const Tensor&)> view;
};

std::vector<ActivationInput> activation_inputs() {
  const auto same = [](const Tensor& t) { return t; };
  return {
      {"[7]", {7}, MemoryFormat::Contiguous, same},
      {"[1, 5, 11]", {1, 5, 11}, MemoryFormat::Contiguous, same},
      {"[2, 3, 9, 9]", {2, 3, 9, 9}, MemoryFormat::Contiguous, same},
      {"[2, 5, 4, 3] NHWC", {2, 5, 4, 3}, MemoryFormat::ChannelsLast, same},
      {"[2, 1, 3, 1, 2, 1, 3, 1, 2]", {2, 1, 3, 1, 2, 1, 3, 1, 2}, MemoryFormat::Contiguous, same},
      {"[6, 9] transposed", {6, 9}, MemoryFormat::Contiguous, [](const Tensor& t) { return t.t(); }},
      {"[4, 10] every other column", {4, 10}, MemoryFormat::Contiguous,
       [](const Tensor& t) { return t.slice(1, 0, 10, 2); }},
      {"[1, 5] expanded to [4, 5]", {1, 5}, MemoryFormat::Contiguous,
       [](const Tensor& t) { return t.expand({4, 5}); }},
  };
}

void compare_activation(const ActivationCase& a, const ActivationInput& in, DType dtype, bool sum_backward,
                        uint64_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  Leaves x = leaves(random(in.sizes, dtype, seed).contiguous(in.format));
  const Tensor y_cpu = a.f(in.view(x.cpu)), y_gpu = a.f(in.view(x.gpu));
  expect_near_cpu(y_gpu, y_cpu, activation_slack(dtype), "forward");
  if (sum_backward) {  // an expanded gradient, not laid out as the input
    y_cpu.sum().backward();
    y_gpu.sum().backward();
  } else {
    const Tensor g = random(y_cpu.sizes(), dtype, seed + 1);
    y_cpu.backward(g);
    y_gpu.backward(g.to(kGpu));
  }
  ASSERT_TRUE(x.gpu.grad().defined());
  expect_near_cpu(x.gpu.grad(), x.cpu.grad(), activation_slack(dtype), "grad");
}

TEST(CudnnBackends, ActivationsMatchTheCpuOnEveryBackend) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Activation, backend);
    uint64_t seed = 1;
    for (DType dtype : {kFloat, kDouble})
      for (const ActivationCase& a : activation_cases())
        for (const ActivationInput& in : activation_inputs())
          for (bool sum_backward : {false, true})
            for (int call = 0; call < calls_for(backend); ++call)
              compare_activation(a, in, dtype, sum_backward, seed += 2,
                                 backend_name(OpFamily::Activation, backend) + " " + dtype_name(dtype) + " " +
                                     a.name + " " + in.name + (sum_backward ? " sum().backward()" : ""));
  }
}

// 16-bit floats go to cuDNN as they are (or to the native kernel, should
// cuDNN refuse the dtype): within a few of their roundings of the CPU.
TEST(CudnnBackends, HalfPrecisionActivations) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library}) {
    KernelBackendGuard guard(OpFamily::Activation, backend);
    uint64_t seed = 1000;
    for (DType dtype : {kHalf, kBFloat16})
      for (const ActivationCase& a : activation_cases())
        for (const ActivationInput& in : activation_inputs())
          compare_activation(a, in, dtype, false, seed += 2,
                             backend_name(OpFamily::Activation, backend) + " " + dtype_name(dtype) + " " + a.name +
                                 " " + in.name);
  }
}

// NaN and infinities in, out as on the CPU (cuDNN propagates NaN through
// relu and clipped relu as the CPU does).
TEST(CudnnBackends, ActivationsOfNaNAndInfinities) {
  STRIATE_REQUIRE_GPU();
  const std::vector<double> v{kNaN, kInf, -kInf, 0.0, -0.5, 0.5, 3.0, -3.0, 7.0, -7.0, kNaN};
  const std::vector<ActivationCase> cases = {
      {"relu", [](const Tensor& t) { return relu(t); }},
      {"sigmoid", [](const Tensor& t) { return sigmoid(t); }},
      {"tanh", [](const Tensor& t) { return tanh(t); }},
      {"elu", [](const Tensor& t) { return elu(t); }},
      {"relu6", [](const Tensor& t) { return relu6(t); }},
  };
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Activation, backend);
    for (DType dtype : {kFloat, kDouble}) {
      const Tensor x = from_vector(v, {static_cast<int64_t>(v.size())}, TensorOptions(dtype));
      for (const ActivationCase& a : cases)
        expect_near_cpu(a.f(x.to(kGpu)), a.f(x), kActivationSlack,
                        backend_name(OpFamily::Activation, backend) + " " + dtype_name(dtype) + " " + a.name);
    }
  }
}

// In place: the kernel writes straight into the tensor (cuDNN with one
// descriptor for both), or, when autograd records, into a copy.
TEST(CudnnBackends, InPlaceActivations) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Activation, backend);
    for (DType dtype : {kFloat, kDouble}) {
      const std::string what = backend_name(OpFamily::Activation, backend) + " " + dtype_name(dtype);
      const Tensor values = random({3, 4, 5, 6}, dtype, 81);
      Tensor c = values.clone(), g = values.to(kGpu);
      relu_(c);
      relu_(g);
      sigmoid_(c);
      sigmoid_(g);
      expect_near_cpu(g, c, kActivationSlack, what + " relu_ then sigmoid_");

      Leaves x = leaves(values);
      Tensor yc = x.cpu * 2, yg = x.gpu * 2;
      tanh_(yc);
      tanh_(yg);
      const Tensor grad = random(values.sizes(), dtype, 82);
      yc.backward(grad);
      yg.backward(grad.to(kGpu));
      expect_near_cpu(yg, yc, kActivationSlack, what + " tanh_");
      expect_near_cpu(x.gpu.grad(), x.cpu.grad(), kActivationSlack, what + " tanh_ grad");
    }
  }
}

// ---- batch norm ---------------------------------------------------------------------

// cuDNN forms the statistics in the data's precision and its own order, the
// CPU in double: float results agree to about 1e-5 of their scale.
// 16-bit results are rounded from f32 on both sides.
double batch_norm_slack(DType dtype) { return dtype == kFloat ? 25 : dtype == kDouble ? 1000 : 4; }

struct BnCase {
  Shape shape;
  bool channels_last;
};

const BnCase kBnCases[] = {
    {{7, 5}, false},        {{13, 1}, false},        {{3, 5, 11}, false},    {{1, 3, 17}, false},
    {{2, 64, 5, 7}, false}, {{4, 3, 13, 11}, false}, {{5, 16, 1, 1}, false}, {{2, 3, 4, 5, 3}, false},
    {{2, 64, 5, 7}, true},  {{1, 3, 9, 7}, true},    {{3, 5, 2, 3}, true},   {{8, 200, 7, 7}, true},
};

struct BnSetup {
  bool affine, running, training, grad;
  double momentum = 0.1, eps = 1e-5;
  DType running_dtype = kFloat;  // of running_mean and running_var
};

// Optional leaves/buffers: undefined unless `defined`.
struct MaybePair {
  Tensor cpu, gpu;
};
MaybePair maybe(bool defined, const Tensor& values, bool grad) {
  if (!defined) return {};
  Tensor c = values.clone(), g = values.to(kGpu);
  if (grad) {
    c.requires_grad_(true);
    g.requires_grad_(true);
  }
  return {c, g};
}

void compare_batch_norm(const BnCase& bc, DType dtype, const BnSetup& s, uint64_t seed, const std::string& what) {
  SCOPED_TRACE(what);
  const int64_t channels = bc.shape[1];
  const MemoryFormat format = bc.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  const Tensor values = random(bc.shape, dtype, seed, 0.5, 2).contiguous(format);
  MaybePair x = maybe(true, values, s.grad);
  MaybePair w = maybe(s.affine, random({channels}, dtype, seed + 1, 1, 0.5), s.grad);
  MaybePair b = maybe(s.affine, random({channels}, dtype, seed + 2), s.grad);
  MaybePair rm = maybe(s.running, random({channels}, s.running_dtype, seed + 3), false);
  MaybePair rv = maybe(s.running, random({channels}, s.running_dtype, seed + 4).abs() + 0.5, false);

  const Tensor y_cpu = batch_norm(x.cpu, rm.cpu, rv.cpu, w.cpu, b.cpu, s.training, s.momentum, s.eps);
  const Tensor y_gpu = batch_norm(x.gpu, rm.gpu, rv.gpu, w.gpu, b.gpu, s.training, s.momentum, s.eps);
  const double slack = batch_norm_slack(dtype);
  expect_near_cpu(y_gpu, y_cpu, slack, "output");
  EXPECT_EQ(y_gpu.strides(), y_cpu.strides()) << "the output keeps the input's memory format";
  if (s.running) {
    expect_near_cpu(rm.gpu, rm.cpu, batch_norm_slack(s.running_dtype), "running_mean");
    expect_near_cpu(rv.gpu, rv.cpu, batch_norm_slack(s.running_dtype), "running_var");
  }
  if (!s.grad) return;
  const Tensor g = random(bc.shape, dtype, seed + 5).contiguous(format);
  y_cpu.backward(g);
  y_gpu.backward(g.to(kGpu));
  expect_near_cpu(x.gpu.grad(), x.cpu.grad(), slack, "grad input");
  if (s.affine) {
    expect_near_cpu(w.gpu.grad(), w.cpu.grad(), slack, "grad weight");
    expect_near_cpu(b.gpu.grad(), b.cpu.grad(), slack, "grad bias");
  }
}

TEST(CudnnBackends, BatchNormMatchesTheCpuOnEveryBackend) {
  STRIATE_REQUIRE_GPU();
  const BnSetup setups[] = {
      {true, true, true, true},                 // training: cuDNN forward training and backward
      {false, false, true, true},               // no affine parameters, no running statistics
      {true, true, true, true, 0.3, 1e-3},      // another momentum and eps
      {true, true, false, false},               // evaluation without autograd: cuDNN forward inference
      {true, true, false, true},                // an evaluation-mode gradient: native
      {false, true, false, false},
  };
  for (KernelBackend backend : kBackends) {
    KernelBackendGuard guard(OpFamily::Normalization, backend);
    uint64_t seed = 1;
    for (DType dtype : {kFloat, kDouble})
      for (const BnCase& bc : kBnCases)
        for (BnSetup s : setups) {
          s.running_dtype = dtype;
          const std::string what = backend_name(OpFamily::Normalization, backend) + " " + dtype_name(dtype) + " " +
                                   describe(bc.shape) + (bc.channels_last ? " NHWC" : "") +
                                   (s.training ? " training" : " eval") + (s.affine ? " affine" : "") +
                                   (s.running ? " running" : "") + (s.grad ? " grad" : "") + " momentum " +
                                   std::to_string(s.momentum) + " eps " + std::to_string(s.eps);
          compare_batch_norm(bc, dtype, s, seed += 10, what);
        }
  }
}

// Running statistics of another dtype than the input's go through a copy
// that cuDNN updates; f16 inputs are normalised in f32, as natively.
TEST(CudnnBackends, BatchNormDtypes) {
  STRIATE_REQUIRE_GPU();
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library}) {
    KernelBackendGuard guard(OpFamily::Normalization, backend);
    const std::string name = backend_name(OpFamily::Normalization, backend);
    BnSetup f32_running{true, true, true, true};
    f32_running.running_dtype = kFloat;
    compare_batch_norm({{4, 6, 5, 5}, false}, kDouble, f32_running, 201, name + " f64 input, f32 running stats");
    compare_batch_norm({{4, 6, 5, 5}, true}, kDouble, f32_running, 211, name + " NHWC f64, f32 running stats");
    for (DType dtype : {kHalf, kBFloat16}) {
      BnSetup half{true, true, true, true};
      half.running_dtype = dtype;
      compare_batch_norm({{4, 6, 5, 5}, false}, dtype, half, 221, name + " " + dtype_name(dtype));
    }
  }
}

// Several steps: the running statistics follow striate's momentum rule
// (new = (1 - momentum) old + momentum batch, the variance unbiased) step by
// step, and evaluation with them matches.
TEST(CudnnBackends, BatchNormRunningStatisticsOverSteps) {
  STRIATE_REQUIRE_GPU();
  KernelBackendGuard guard(OpFamily::Normalization, KernelBackend::Library);
  for (DType dtype : {kFloat, kDouble}) {
    const std::string what = dtype_name(dtype);
    const int64_t channels = 5;
    Tensor rm_c = zeros({channels}, TensorOptions(dtype)), rv_c = ones({channels}, TensorOptions(dtype));
    Tensor rm_g = rm_c.to(kGpu), rv_g = rv_c.to(kGpu);
    for (int step = 0; step < 4; ++step) {
      const Tensor x = random({3, channels, 4, 2}, dtype, 300 + step, step, 1 + step);
      batch_norm(x, rm_c, rv_c, {}, {}, true, 0.25, 1e-5);
      batch_norm(x.to(kGpu), rm_g, rv_g, {}, {}, true, 0.25, 1e-5);
      expect_near_cpu(rm_g, rm_c, batch_norm_slack(dtype), what + " running_mean, step " + std::to_string(step));
      expect_near_cpu(rv_g, rv_c, batch_norm_slack(dtype), what + " running_var, step " + std::to_string(step));
    }
    const Tensor x = random({2, channels, 3, 3}, dtype, 400);
    expect_near_cpu(batch_norm(x.to(kGpu), rm_g, rv_g), batch_norm(x, rm_c, rv_c), batch_norm_slack(dtype),
                    what + " evaluation");
  }
}

}  // namespace
}  // namespace striate
