// Every activation on the GPU against the CPU backend, forward and backward
// (through autograd), for each floating dtype, contiguous and strided,
// with NaN and infinities among the inputs. Then the 16-byte vector path
// and its fallback, bit for bit.
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <limits>
#include <string>
#include <tuple>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();

using ActivationFn = std::function<Tensor(const Tensor&)>;
const std::pair<const char*, ActivationFn> kActivations[] = {
    {"relu", [](const Tensor& x) { return relu(x); }},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }},
    {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
    {"selu", [](const Tensor& x) { return selu(x); }},
    {"gelu", [](const Tensor& x) { return gelu(x); }},
    {"gelu tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
    {"silu", [](const Tensor& x) { return silu(x); }},
    {"tanh", [](const Tensor& x) { return tanh(x); }},
    {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
    {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }},
    {"softsign", [](const Tensor& x) { return softsign(x); }},
    {"hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 1.5); }},
    {"relu6", [](const Tensor& x) { return relu6(x); }},
};

Tensor inputs(DType dtype, bool specials) {
  Generator gen(42);
  Tensor x = randn({37, 29}, TensorOptions(kDouble), &gen) * 4;
  x[0][0].fill_(0.0);  // the kink
  if (specials) {
    x[1][1].fill_(std::numeric_limits<double>::quiet_NaN());
    x[2][2].fill_(std::numeric_limits<double>::infinity());
    x[3][3].fill_(-std::numeric_limits<double>::infinity());
  }
  return x.to(dtype);
}

TEST(CudaActivation, ForwardMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16})
    for (const auto& [name, f] : kActivations) {
      Tensor x = inputs(dtype, true);
      const std::string what = std::string(name) + " " + dtype_name(dtype);
      testing::expect_matches_cpu(f(x.to(kGpu)), f(x), what);
      testing::expect_matches_cpu(f(x.to(kGpu).t()), f(x.t()), what + " transposed");
    }
}

TEST(CudaActivation, BackwardMatchesTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : {kFloat, kDouble})
    for (const auto& [name, f] : kActivations) {
      Tensor x_cpu = inputs(dtype, false).requires_grad_();
      Tensor x_gpu = x_cpu.detach().to(kGpu).requires_grad_();
      Generator gen(7);
      Tensor g = randn({37, 29}, TensorOptions(dtype), &gen);
      f(x_cpu).backward(g);
      f(x_gpu).backward(g.to(kGpu));
      testing::expect_matches_cpu(x_gpu.grad(), x_cpu.grad(), std::string(name) + " grad " + dtype_name(dtype));
    }
}

// The 16-byte vector path (kernels/cuda/vectorized.cuh) and its fallback,
// bit for bit against the CPU on the activations whose arithmetic is exact
// (a compare, a select, at most one multiply): contiguous aligned tensors
// with tails of 1 to 7 elements after the last vector, views at element 1
// (misaligned: the element path) and at element 8 (aligned, with the
// elements after the view watching for stores past its end).
using InPlaceFn = std::function<void(Tensor&)>;
const std::tuple<const char*, ActivationFn, InPlaceFn> kExactActivations[] = {
    {"relu", [](const Tensor& x) { return relu(x); }, [](Tensor& x) { relu_(x); }},
    {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.25); }, [](Tensor& x) { leaky_relu_(x, 0.25); }},
    {"hardtanh", [](const Tensor& x) { return hardtanh(x, -0.5, 1.5); }, [](Tensor& x) { hardtanh_(x, -0.5, 1.5); }},
};

TEST(CudaActivation, VectorPathAndItsFallbackMatchTheCpuExactly) {
  STRIATE_REQUIRE_GPU();
  KernelBackendGuard native(OpFamily::Activation, KernelBackend::Native);
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16})
    for (int64_t n : {1, 3, 7, 8, 9, 15, 16, 17, 23, 33, 39, 1003})
      for (int64_t offset : {0, 1, 8}) {
        Generator gen(n);
        Tensor base = randn({n + 2 * offset}, TensorOptions(kDouble), &gen) * 2;
        base[0].fill_(0.0);  // the kink
        if (base.numel() > 4) {
          base[2].fill_(-0.0);
          base[3].fill_(std::numeric_limits<double>::quiet_NaN());
          base[4].fill_(-std::numeric_limits<double>::infinity());
        }
        base = base.to(dtype);
        const Tensor base_gpu = base.to(kGpu);
        const Tensor g = randn({n}, TensorOptions(dtype), &gen);
        for (const auto& [name, f, f_] : kExactActivations) {
          const std::string what = ::striate::detail::concat(name, " ", dtype_name(dtype), " n=", n, " offset ", offset);
          testing::expect_same_bits(f(base_gpu.narrow(0, offset, n)), f(base.narrow(0, offset, n)), what);
          // In place: the view is the output too; the rest of the base must keep its values.
          Tensor cpu_copy = base.clone(), gpu_copy = base_gpu.clone();
          Tensor cpu_view = cpu_copy.narrow(0, offset, n), gpu_view = gpu_copy.narrow(0, offset, n);
          f_(cpu_view);
          f_(gpu_view);
          testing::expect_same_bits(gpu_copy, cpu_copy, what + " in place");
          // Backward: grad_out contiguous and aligned, the saved input the view.
          Tensor x_cpu = base.narrow(0, offset, n).detach().requires_grad_();
          Tensor x_gpu = base_gpu.narrow(0, offset, n).detach().requires_grad_();
          f(x_cpu).backward(g);
          f(x_gpu).backward(g.to(kGpu));
          testing::expect_same_bits(x_gpu.grad(), x_cpu.grad(), what + " grad");
        }
      }
}

TEST(CudaActivation, IntegerInputsAreRejectedAsOnTheCpu) {
  STRIATE_REQUIRE_GPU();
  Tensor i = ones({4}, TensorOptions(kInt));
  EXPECT_THROW(gelu(i), DTypeError);
  EXPECT_THROW(gelu(i.to(kGpu)), DTypeError);
}

}  // namespace
}  // namespace striate
