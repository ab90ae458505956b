// CPU conv2d timings for the layers of LeNet-5 and a ResNet 3x3 layer;
// benchmarks/conv_cpu_torch.py times the same shapes in PyTorch and prints
// the ratio. Run single-threaded (OPENBLAS_NUM_THREADS=1) with repetitions:
//
//   OPENBLAS_NUM_THREADS=1 build-bench/benchmarks/conv_cpu_bench --benchmark_repetitions=5 \
//       --benchmark_out=striate.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "striate/striate.h"

using namespace striate;

namespace {

struct ConvShape {
  int64_t n, c, h, w, o, k, pad;

  // Multiply-adds of the forward pass, counted as two FLOPs each.
  double forward_flops() const {
    const int64_t out = (h + 2 * pad - k) + 1;
    return 2.0 * n * o * c * k * k * out * (w + 2 * pad - k + 1);
  }
};

// Same order as SHAPES in conv_cpu_torch.py.
const ConvShape kShapes[] = {
    {64, 1, 28, 28, 6, 5, 2},   // LeNet-5 conv1
    {64, 6, 14, 14, 16, 5, 0},  // LeNet-5 conv2
    {8, 64, 56, 56, 64, 3, 1},  // ResNet conv2_x 3x3
};

void Forward(benchmark::State& state) {
  const ConvShape s = kShapes[state.range(0)];
  manual_seed(0);
  Tensor x = randn({s.n, s.c, s.h, s.w}), w = randn({s.o, s.c, s.k, s.k}), b = randn({s.o});
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(x, w, b, 1, s.pad).data_ptr());
  state.counters["GFLOP/s"] =
      benchmark::Counter(s.forward_flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Forward, then grad input, grad weight and grad bias (backward costs two
// forward-sized GEMMs).
void ForwardBackward(benchmark::State& state) {
  const ConvShape s = kShapes[state.range(0)];
  manual_seed(0);
  Tensor x = randn({s.n, s.c, s.h, s.w}).requires_grad_(), w = randn({s.o, s.c, s.k, s.k}).requires_grad_();
  Tensor b = randn({s.o}).requires_grad_();
  for (auto _ : state) {
    Tensor y = conv2d(x, w, b, 1, s.pad);
    y.backward(ones_like(y));
    benchmark::DoNotOptimize(x.grad().data_ptr());
    x.mutable_grad() = Tensor();
    w.mutable_grad() = Tensor();
    b.mutable_grad() = Tensor();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(3 * s.forward_flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The minimum over repetitions is the statistic least disturbed by other
// processes on a shared machine; conv_cpu_torch.py compares minimums.
double minimum(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

}  // namespace

BENCHMARK(Forward)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", minimum);
BENCHMARK(ForwardBackward)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->ComputeStatistics("min", minimum);
BENCHMARK_MAIN();
