// CPU conv2d timings for the shapes of LeNet-5 and a ResNet 3x3 layer;
// benchmarks/conv_cpu_torch.py times the same shapes in PyTorch.
#include <benchmark/benchmark.h>

#include "striate/core/ops/conv.h"
#include "striate/striate.h"

using namespace striate;

namespace {

struct Shape4 {
  int64_t n, c, h, w, o, k, pad;
};

const Shape4 kShapes[] = {
    {64, 1, 28, 28, 6, 5, 2},   // LeNet-5 conv1
    {64, 6, 14, 14, 16, 5, 0},  // LeNet-5 conv2
    {8, 64, 56, 56, 64, 3, 1},  // ResNet conv2_x 3x3
};

void Forward(benchmark::State& state) {
  const Shape4 s = kShapes[state.range(0)];
  manual_seed(0);
  Tensor x = randn({s.n, s.c, s.h, s.w}), w = randn({s.o, s.c, s.k, s.k}), b = randn({s.o});
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(x, w, b, 1, s.pad).data_ptr());
  state.SetItemsProcessed(state.iterations() * s.n);
}

void ForwardBackward(benchmark::State& state) {
  const Shape4 s = kShapes[state.range(0)];
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
  state.SetItemsProcessed(state.iterations() * s.n);
}

}  // namespace

BENCHMARK(Forward)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(ForwardBackward)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
