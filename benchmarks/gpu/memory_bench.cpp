// The memory-bound kernels through the public ops (striate/striate.h), each
// on tensors several times the L2 cache. A backward case times the op's
// autograd node alone (node->apply), not the rest of a backward pass.
#include <cstdio>
#include <functional>

#include "benches.h"
#include "striate/striate.h"
#include "timing.h"

namespace striate::bench {
namespace {

TensorOptions gpu_floats() { return TensorOptions(kFloat).device(Device::cuda(cuda::current_device())); }

// Times the backward of y = forward(x) (x random, requiring grad) for a random grad_output.
Measurement time_backward(const std::function<Tensor(const Tensor&)>& forward, const Shape& shape,
                          MemoryFormat format, Generator& gen, const RepPolicy& policy) {
  Tensor x = randn(shape, gpu_floats(), &gen).contiguous(format).requires_grad_();
  const Tensor y = forward(x);
  const Tensor gy = randn(y.sizes(), gpu_floats(), &gen).contiguous(y.suggest_memory_format());
  const std::shared_ptr<autograd::Node> node = y.grad_fn();
  if (node == nullptr) throw AutogradError("kernel bench: the op recorded no backward node");
  return time_on_gpu(
      [&](int64_t) {
        NoGradGuard no_grad;
        const TensorList grads = node->apply(TensorList{gy});
      },
      policy);
}

// An optimizer's step() over parameters of `shapes` with random values and gradients.
template <typename MakeOptimizer>
Measurement time_optimizer(const std::vector<std::vector<int64_t>>& shapes, Generator& gen, const RepPolicy& policy,
                           MakeOptimizer&& make) {
  std::vector<Tensor> params;
  for (const auto& s : shapes) {
    Tensor p = randn(s, gpu_floats(), &gen).requires_grad_();
    p.mutable_grad() = randn(s, gpu_floats(), &gen);
    params.push_back(p);
  }
  auto optimizer = make(params);
  return time_on_gpu([&](int64_t) { optimizer.step(); }, policy);
}

// batch_norm in training mode with running statistics, and a weight and bias requiring grad.
struct TrainingBatchNorm {
  Tensor running_mean, running_var, weight, bias;
  TrainingBatchNorm(int64_t channels, Generator& gen)
      : running_mean(zeros({channels}, gpu_floats())),
        running_var(ones({channels}, gpu_floats())),
        weight(randn({channels}, gpu_floats(), &gen).requires_grad_()),
        bias(randn({channels}, gpu_floats(), &gen).requires_grad_()) {}
  Tensor operator()(const Tensor& x) const {
    return batch_norm(x, running_mean, running_var, weight, bias, /*training=*/true, 0.1, 1e-5);
  }
};

Measurement time_case(const MemorySpec& s, const std::vector<std::vector<int64_t>>& param_shapes, Generator& gen,
                      const RepPolicy& policy) {
  const Shape shape(s.shape.begin(), s.shape.end());
  const MemoryFormat format = s.channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous;
  const auto input = [&] { return randn(shape, gpu_floats(), &gen).contiguous(format); };
  switch (s.op) {
    case MemoryOp::Relu: {
      const Tensor x = input();
      return time_on_gpu([&](int64_t) { const Tensor y = relu(x); }, policy);
    }
    case MemoryOp::ReluBackward:
      return time_backward([](const Tensor& x) { return relu(x); }, shape, format, gen, policy);
    case MemoryOp::Add: {
      const Tensor a = randn(shape, gpu_floats(), &gen), b = randn(shape, gpu_floats(), &gen);
      return time_on_gpu([&](int64_t) { const Tensor y = add(a, b); }, policy);
    }
    case MemoryOp::MaxPool: {
      const Tensor x = input();
      return time_on_gpu([&](int64_t) { const Tensor y = max_pool2d(x, 3, 2, 1); }, policy);
    }
    case MemoryOp::MaxPoolBackward:
      return time_backward([](const Tensor& x) { return max_pool2d(x, 3, 2, 1); }, shape, format, gen, policy);
    case MemoryOp::BatchNorm: {
      const Tensor x = input();
      const TrainingBatchNorm bn(shape[1], gen);
      NoGradGuard no_grad;  // no graph to record (weight and bias require grad); the batch statistics are still used
      return time_on_gpu([&](int64_t) { const Tensor y = bn(x); }, policy);
    }
    case MemoryOp::BatchNormBackward:
      return time_backward(TrainingBatchNorm(shape[1], gen), shape, format, gen, policy);
    case MemoryOp::Softmax: {
      const Tensor x = input();
      return time_on_gpu([&](int64_t) { const Tensor y = softmax(x, 1); }, policy);
    }
    case MemoryOp::SoftmaxBackward:
      return time_backward([](const Tensor& x) { return softmax(x, 1); }, shape, format, gen, policy);
    case MemoryOp::Sgd:
      return time_optimizer(param_shapes, gen, policy, [](const std::vector<Tensor>& p) {
        return optim::SGD(p, optim::SGDOptions(0.01).momentum(0.9));
      });
    case MemoryOp::Adam:
      return time_optimizer(param_shapes, gen, policy,
                            [](const std::vector<Tensor>& p) { return optim::Adam(p, optim::AdamOptions(1e-3)); });
  }
  return {};
}

}  // namespace

std::vector<std::vector<int64_t>> resnet50_parameter_shapes() {
  std::vector<std::vector<int64_t>> shapes;
  const models::ResNet model = models::resnet50();
  for (const Tensor& p : model->parameters()) shapes.emplace_back(p.sizes().begin(), p.sizes().end());
  return shapes;
}

std::vector<MemoryResult> run_memory_suite(const BenchContext& ctx) {
  std::vector<std::vector<int64_t>> param_shapes;
  int64_t parameters = kResNet50Parameters;
  try {
    param_shapes = resnet50_parameter_shapes();
    parameters = 0;
    for (const auto& s : param_shapes) {
      int64_t n = 1;
      for (int64_t d : s) n *= d;
      parameters += n;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[memory] ResNet-50's parameter shapes: %s\n", e.what());
  }
  std::vector<MemoryResult> results;
  Generator gen(44);
  for (const MemorySpec& spec : in_layouts(memory_suite(parameters), ctx.nchw, ctx.nhwc)) {
    MemoryResult r{spec, {}};
    try {
      const bool optimizer = spec.op == MemoryOp::Sgd || spec.op == MemoryOp::Adam;
      if (optimizer && param_shapes.empty()) throw ValueError("no ResNet-50 parameter shapes");
      r.time = time_case(spec, param_shapes, gen, ctx.policy);
    } catch (const std::exception& e) {
      r.time.error = std::string("setting up: ") + e.what();
    }
    const auto gbps = gigabytes_per_second(spec.bytes, r.time);
    std::fprintf(stderr, "[memory] %-34s %s\n", spec.name.c_str(),
                 gbps ? (std::to_string(r.time.time.median) + " ms, " + std::to_string(*gbps) + " GB/s").c_str()
                      : r.time.error.c_str());
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace striate::bench
