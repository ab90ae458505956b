// Every activation on the GPU against the CPU backend, forward and backward
// (through autograd), for each floating dtype, contiguous and strided,
// with NaN and infinities among the inputs.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = Device::cuda(0);

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

TEST(CudaActivation, IntegerInputsAreRejectedAsOnTheCpu) {
  STRIATE_REQUIRE_GPU();
  Tensor i = ones({4}, TensorOptions(kInt));
  EXPECT_THROW(gelu(i), DTypeError);
  EXPECT_THROW(gelu(i.to(kGpu)), DTypeError);
}

}  // namespace
}  // namespace striate
