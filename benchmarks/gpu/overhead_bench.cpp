// Framework overhead: the host time of one op launch on a small GPU tensor,
// where the kernel itself is negligible. torch_overhead.py measures PyTorch
// eager the same way (same op, size, calls and rounds).
#include <chrono>
#include <cstdio>
#include <vector>

#include "benches.h"
#include "striate/striate.h"

namespace striate::bench {
namespace {

constexpr int64_t kElements = 1024;
constexpr int64_t kCalls = 10'000;
constexpr int64_t kWarmupCalls = 1'000;
constexpr int64_t kRounds = 3;

}  // namespace

OverheadResult run_overhead_suite(const BenchContext& ctx) {
  OverheadResult o;
  o.elements = kElements;
  o.calls = kCalls;
  o.rounds = kRounds;
  try {
    Generator gen(47);
    const Tensor x = randn({kElements}, TensorOptions(kFloat).device(Device::cuda(cuda::current_device())), &gen);
    for (int64_t i = 0; i < kWarmupCalls; ++i) const Tensor y = relu(x);
    cuda::synchronize();
    std::vector<double> per_op_us;
    for (int64_t r = 0; r < kRounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < kCalls; ++i) const Tensor y = relu(x);
      cuda::synchronize();  // the only one: the queue may run behind the host, never ahead of the total
      const auto end = std::chrono::steady_clock::now();
      per_op_us.push_back(std::chrono::duration<double, std::micro>(end - start).count() / kCalls);
    }
    o.striate_us = median_of(per_op_us);
    std::fprintf(stderr, "[overhead] relu of %lld elements: %.2f us per launch\n", static_cast<long long>(kElements),
                 o.striate_us);
  } catch (const std::exception& e) {
    o.error = e.what();
  }
  return o;
}

}  // namespace striate::bench
