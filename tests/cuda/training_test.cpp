// Training on the GPU follows training on the CPU: the same network, the
// same initial weights and the same batches give the same losses step after
// step (within f32 rounding, which grows slowly over steps), for LeNet-5 with
// Adam and a small ResNet with batch norm and SGD momentum, on each conv
// backend. And steady-state steps make no device allocations.
#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

const Device kGpu = testing::test_gpu();

struct Curve {
  std::vector<double> losses;
};

// A copy of the model's state: state_dict() shares the parameters' storage,
// which training then changes in place.
nn::StateDict snapshot(const nn::StateDict& state) {
  nn::StateDict copy;
  for (const auto& [name, tensor] : state) copy.emplace_back(name, tensor.clone());
  return copy;
}

// `steps` steps on two fixed random batches; the model starts from `state`.
template <typename Model, typename MakeOptimizer>
Curve train(Model& model, const nn::StateDict& state, Device device, int steps, MakeOptimizer make_optimizer,
          const Shape& input_shape, int64_t classes) {
  model->load_state_dict(state);
  model->to(device);
  model->train();
  auto optimizer = make_optimizer(model->parameters());
  // Two batches, taken in turn: random, but fixed, so that the losses fall.
  Generator gen(11);
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int i = 0; i < 2; ++i) {
    Tensor x = randn(input_shape, TensorOptions(kFloat), &gen);
    batches.emplace_back(x.to(device), randint(0, classes, {input_shape[0]}, TensorOptions(kLong), &gen).to(device));
  }
  Curve run;
  for (int step = 0; step < steps; ++step) {
    const auto& [x, y] = batches[step % 2];
    optimizer->zero_grad();
    const Tensor loss = cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer->step();
    run.losses.push_back(loss.item<double>());
  }
  return run;
}

void expect_same_curve(const Curve& gpu, const Curve& cpu, double rtol, const char* what) {
  ASSERT_EQ(gpu.losses.size(), cpu.losses.size());
  for (size_t i = 0; i < cpu.losses.size(); ++i)
    EXPECT_NEAR(gpu.losses[i], cpu.losses[i], rtol * std::abs(cpu.losses[i])) << what << ", step " << i;
  EXPECT_LT(cpu.losses.back(), cpu.losses.front()) << what << ": the network should learn the fixed batches";
}

TEST(CudaTraining, LeNet5WithAdamFollowsTheCpu) {
  STRIATE_REQUIRE_GPU();
  manual_seed(0);
  models::LeNet5 model(models::LeNet5Options().variant(models::LeNet5Variant::ReLUMaxPool).input_size(28));
  const nn::StateDict initial = snapshot(model->state_dict());
  auto adam = [](std::vector<Tensor> params) {
    return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions(1e-3));
  };
  const Curve cpu = train(model, initial, Device::cpu(), 12, adam, {32, 1, 28, 28}, 10);
  for (KernelBackend backend : {KernelBackend::Native, KernelBackend::Library}) {
    KernelBackendGuard conv(OpFamily::Conv, backend);
    KernelBackendGuard gemm(OpFamily::Gemm, backend);
    const Curve gpu = train(model, initial, kGpu, 12, adam, {32, 1, 28, 28}, 10);
    expect_same_curve(gpu, cpu, 1e-3, backend_name(OpFamily::Conv, backend).c_str());
  }
}

TEST(CudaTraining, ResNetWithBatchNormAndMomentumFollowsTheCpu) {
  STRIATE_REQUIRE_GPU();
  manual_seed(0);
  models::ResNet model = models::resnet18(models::ResNetOptions().num_classes(10));
  const nn::StateDict initial = snapshot(model->state_dict());
  auto sgd = [](std::vector<Tensor> params) {
    return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions(0.01).momentum(0.9));
  };
  const Curve cpu = train(model, initial, Device::cpu(), 4, sgd, {4, 3, 64, 64}, 10);
  const Curve gpu = train(model, initial, kGpu, 4, sgd, {4, 3, 64, 64}, 10);
  expect_same_curve(gpu, cpu, 2e-3, "resnet18");
}

TEST(CudaTraining, SteadyStateStepsMakeNoDeviceAllocations) {
  STRIATE_REQUIRE_REAL_GPU();
  manual_seed(0);
  models::LeNet5 model(models::LeNet5Options().variant(models::LeNet5Variant::ReLUMaxPool).input_size(28));
  model->to(kGpu);
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
  const Tensor x = randn({64, 1, 28, 28}).to(kGpu);
  const Tensor y = randint(0, 10, {64}, TensorOptions(kLong)).to(kGpu);
  auto step = [&] {
    optimizer.zero_grad();
    const Tensor loss = cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  };
  step();
  step();  // the second step creates the momentum buffers' steady state
  const int64_t before = cuda::memory_stats().num_device_allocs;
  for (int i = 0; i < 10; ++i) step();
  EXPECT_EQ(cuda::memory_stats().num_device_allocs, before) << cuda::memory_stats();
}

}  // namespace
}  // namespace striate
