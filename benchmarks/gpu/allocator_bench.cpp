// The caching allocator: what an allocate + free costs the host from the
// cache and from the driver, that a training loop's steady state makes no
// device allocations, and ResNet-50's peak memory in one training step.
#include <cuda_runtime.h>

#include <cstdio>

#include "benches.h"
#include "striate/striate.h"
#include "timing.h"

namespace striate::bench {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kCacheIterations = 100'000;
// cudaMalloc + cudaFree takes tens of microseconds (cudaFree synchronises the device):
// a thousand give a steady mean in well under a second.
constexpr int64_t kDeviceIterations = 1'000;
constexpr int kSteadySteps = 10;

Device gpu() { return Device::cuda(cuda::current_device()); }

void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) throw DeviceError(std::string(call) + ": " + cudaGetErrorString(status));
}

void alloc_free_costs(AllocatorResult& a) {
  const TensorOptions options = TensorOptions(kByte).device(gpu());
  { const Tensor warm = empty({kMiB}, options); }  // the block is in the cache from here on
  a.cache_iterations = kCacheIterations;
  a.cache_ns = host_mean_ns([&] { const Tensor t = empty({kMiB}, options); }, kCacheIterations);
  cuda::synchronize();
  a.device_iterations = kDeviceIterations;
  a.device_ns = host_mean_ns(
      [] {
        void* p = nullptr;
        check(cudaMalloc(&p, static_cast<size_t>(kMiB)), "cudaMalloc");
        check(cudaFree(p), "cudaFree");
      },
      kDeviceIterations);
}

int64_t device_allocs() { return cuda::memory_stats().num_device_allocs; }

// A small CNN on 32x32 RGB images: conv, relu, pool, twice, then a linear layer.
void training_loop_allocations(AllocatorResult& a) {
  Generator gen(45);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(3, 16, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), nn::Linear(32 * 8 * 8, 10));
  model->to(gpu());
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
  const Tensor images = randn({64, 3, 32, 32}, TensorOptions(kFloat).device(gpu()), &gen);
  const Tensor labels = randint(0, 10, {64}, TensorOptions(kLong), &gen).to(gpu());
  const auto step = [&] {
    optimizer.zero_grad();
    const Tensor loss = cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
  };
  int64_t before = device_allocs();
  step();
  cuda::synchronize();
  a.first_step_device_allocs = device_allocs() - before;
  for (int i = 0; i < kSteadySteps; ++i) {
    before = device_allocs();
    step();
    a.steady_step_device_allocs.push_back(device_allocs() - before);
  }
  cuda::synchronize();
}

void resnet50_peaks(AllocatorResult& a, int64_t batch) {
  Generator gen(46);
  a.resnet_batch = batch;
  models::ResNet model = models::resnet50();
  model->to(gpu());
  model->train();
  optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  const Tensor images = randn({batch, 3, 224, 224}, TensorOptions(kFloat).device(gpu()), &gen);
  const Tensor labels = randint(0, 1000, {batch}, TensorOptions(kLong), &gen).to(gpu());
  const auto step = [&] {
    optimizer.zero_grad();
    const Tensor loss = cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    cuda::synchronize();
  };
  cuda::reset_peak_memory_stats();
  step();
  MemoryStats s = cuda::memory_stats();
  a.first_peak_allocated = s.allocated_bytes_peak;
  a.first_peak_reserved = s.reserved_bytes_peak;
  cuda::reset_peak_memory_stats();
  step();
  s = cuda::memory_stats();
  a.steady_peak_allocated = s.allocated_bytes_peak;
  a.steady_peak_reserved = s.reserved_bytes_peak;
}

}  // namespace

AllocatorResult run_allocator_suite(const BenchContext& ctx) {
  AllocatorResult a;
  try {
    alloc_free_costs(a);
    std::fprintf(stderr, "[allocator] 1 MiB allocate + free: cache %.0f ns, cudaMalloc + cudaFree %.0f ns\n",
                 a.cache_ns, a.device_ns);
  } catch (const std::exception& e) {
    a.cache_error = e.what();
  }
  try {
    training_loop_allocations(a);
    int64_t total = 0;
    for (int64_t n : a.steady_step_device_allocs) total += n;
    std::fprintf(stderr, "[allocator] training loop: %lld device allocations in the first step, %lld in the next %d\n",
                 static_cast<long long>(a.first_step_device_allocs), static_cast<long long>(total), kSteadySteps);
  } catch (const std::exception& e) {
    a.training_error = e.what();
  }
  try {
    cuda::empty_cache();  // the peaks are the step's own, not the earlier suites' leftovers
    resnet50_peaks(a, 32);
    std::fprintf(stderr, "[allocator] ResNet-50 step, batch 32: peak allocated %s, reserved %s\n",
                 format_bytes(a.steady_peak_allocated).c_str(), format_bytes(a.steady_peak_reserved).c_str());
  } catch (const std::exception& e) {
    a.resnet_error = e.what();
  }
  cuda::empty_cache();
  return a;
}

}  // namespace striate::bench
