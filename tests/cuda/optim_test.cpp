// The fused SGD and Adam/AdamW updates on the GPU against the CPU's: the
// same parameters and gradients stepped on both devices, every option, every
// floating dtype, over many tensors of odd sizes (more than one launch's
// worth of tensors and of 65536-element chunks, empty tensors among them, a
// channels-last and a strided parameter), with gradients missing at some
// steps and NaN and infinities in some.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cuda/compare.h"
#include "striate/striate.h"
#include "support/gpu.h"

namespace striate {
namespace {

using namespace optim;

const Device kGpu = testing::test_gpu();
constexpr int64_t kChunk = 65536;  // the kernel's chunk; 320 chunks, 48 (SGD) or 36 (Adam) tensors per launch

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>;

// A parameter's layout: the fused kernel takes dense ones; a strided one goes through the op chain.
enum class Layout { Contiguous, ChannelsLast, Transposed };

struct ParamSpec {
  Shape shape;
  Layout layout = Layout::Contiguous;
};

// 120 tensors: odd sizes, every ninth empty, sizes about a chunk, a 4-D
// channels-last one and a transposed one: three launches of tensors.
std::vector<ParamSpec> many_params() {
  std::vector<ParamSpec> out{{{0}}, {{}}};
  for (int64_t i = 0; i < 110; ++i) {
    if (i % 9 == 4) out.push_back({{0, 3}});
    else out.push_back({{(i * 7919) % 3001 + 1}});
  }
  out.push_back({{kChunk - 1}});
  out.push_back({{kChunk}});
  out.push_back({{kChunk + 1}});
  out.push_back({{3, kChunk / 2 + 7}});
  out.push_back({{3, 5, 7, 2}, Layout::ChannelsLast});
  out.push_back({{9, 13}, Layout::Transposed});
  out.push_back({{0}});
  return out;
}

// Across the limit of 320 chunks per launch: a tensor that fills the table
// exactly with its last chunk, then one cut by a full table that continues
// in the next launch.
std::vector<ParamSpec> launch_filling_params() {
  std::vector<ParamSpec> out;
  for (int i = 0; i < 5; ++i) out.push_back({{1 + 37 * i}});
  out.push_back({{315 * kChunk}});
  for (int i = 0; i < 3; ++i) out.push_back({{kChunk / 3 + i}});
  out.push_back({{321 * kChunk + 17}});
  out.push_back({{0}});
  out.push_back({{11}});
  return out;
}

Tensor make_param(const ParamSpec& spec, DType dtype, Generator& gen) {
  if (spec.layout == Layout::Transposed) {
    const Shape flipped{spec.shape[1], spec.shape[0]};
    return randn(flipped, TensorOptions(kDouble), &gen).to(dtype).t();
  }
  Tensor p = randn(spec.shape, TensorOptions(kDouble), &gen).to(dtype);
  return spec.layout == Layout::ChannelsLast ? p.contiguous(MemoryFormat::ChannelsLast) : p;
}

// The same tensor on the GPU, in the same layout.
Tensor to_gpu_like(const Tensor& t) {
  Tensor g = empty_strided(t.sizes(), t.strides(), TensorOptions(t.dtype()).device(kGpu));
  g.copy_(t);
  return g;
}

// Steps an optimizer over the CPU parameters and one over their GPU copies
// with the same gradients, comparing every parameter and state buffer after
// every step. Gradient j is missing at step k when (j + k) % 7 == 5; with
// `specials`, tensor 3's carries NaN and infinities from step 2.
void expect_gpu_steps_match_cpu(const MakeOptimizer& make, const std::vector<ParamSpec>& specs, DType dtype,
                                int steps, bool specials, const std::string& what) {
  SCOPED_TRACE(what + " " + dtype_name(dtype));
  NoGradGuard no_grad;
  Generator gen(5);
  std::vector<Tensor> cpu, gpu;
  for (const auto& spec : specs) {
    Tensor p = make_param(spec, dtype, gen);
    gpu.push_back(to_gpu_like(p).requires_grad_());
    cpu.push_back(p.requires_grad_());
  }
  auto cpu_opt = make(cpu), gpu_opt = make(gpu);
  for (int k = 0; k < steps; ++k) {
    for (size_t j = 0; j < cpu.size(); ++j) {
      if ((j + static_cast<size_t>(k)) % 7 == 5) {
        cpu[j].mutable_grad() = Tensor();
        gpu[j].mutable_grad() = Tensor();
        continue;
      }
      Tensor g = randn(cpu[j].sizes(), TensorOptions(kDouble), &gen);
      if (specials && j == 3 && k >= 2 && g.numel() >= 3) {
        g.view({-1})[0].fill_(std::numeric_limits<double>::quiet_NaN());
        g.view({-1})[1].fill_(std::numeric_limits<double>::infinity());
        g.view({-1})[2].fill_(-std::numeric_limits<double>::infinity());
      }
      g = g.to(dtype);
      gpu[j].mutable_grad() = g.to(kGpu);
      cpu[j].mutable_grad() = g;
    }
    cpu_opt->step();
    gpu_opt->step();
    for (size_t j = 0; j < cpu.size(); ++j) {
      const std::string where = ::striate::detail::concat("param ", j, " after step ", k);
      testing::expect_matches_cpu(gpu[j], cpu[j], where);
      const ParamState* cs = cpu_opt->state(cpu[j]);
      const ParamState* gs = gpu_opt->state(gpu[j]);
      ASSERT_EQ(gs == nullptr, cs == nullptr) << where;
      if (cs == nullptr) continue;
      EXPECT_EQ(gs->step, cs->step) << where;
      ASSERT_EQ(gs->buffers.size(), cs->buffers.size()) << where;
      for (const auto& [name, buffer] : cs->buffers) {
        ASSERT_TRUE(gs->buffers.count(name)) << where << ": no " << name << " on the GPU";
        EXPECT_EQ(gs->buffers.at(name).device(), kGpu) << where << " " << name;
        testing::expect_matches_cpu(gs->buffers.at(name), buffer, where + " " + name);
      }
    }
    if (::testing::Test::HasFailure()) return;
  }
}

template <typename Opt, typename Options>
MakeOptimizer make(Options options) {
  return [options](const std::vector<Tensor>& p) { return std::make_unique<Opt>(p, options); };
}

const DType kFloatingDTypes[] = {kFloat, kDouble, kHalf, kBFloat16};

const std::pair<const char*, SGDOptions> kSgdCases[] = {
    {"plain", SGDOptions(0.1)},
    {"weight_decay maximize", SGDOptions(0.1).weight_decay(0.1).maximize(true)},
    {"momentum", SGDOptions(0.05).momentum(0.9)},
    {"momentum dampening weight_decay", SGDOptions(0.05).momentum(0.9).dampening(0.25).weight_decay(0.01)},
    {"momentum dampening maximize", SGDOptions(0.1).momentum(0.5).dampening(0.5).maximize(true)},
    {"nesterov", SGDOptions(0.05).momentum(0.9).nesterov(true)},
    {"nesterov weight_decay maximize", SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01).maximize(true)},
};

const std::pair<const char*, AdamOptions> kAdamCases[] = {
    {"default", AdamOptions(0.01)},
    {"weight_decay", AdamOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1)},
    {"amsgrad", AdamOptions(0.01).amsgrad(true)},
    {"amsgrad maximize weight_decay", AdamOptions(0.02).weight_decay(0.05).amsgrad(true).maximize(true)},
    {"beta1 0", AdamOptions(0.01).betas({0.0, 0.9}).eps(1e-3)},
};

const std::pair<const char*, AdamWOptions> kAdamWCases[] = {
    {"default", AdamWOptions(0.01)},
    {"amsgrad", AdamWOptions(0.02).betas({0.85, 0.95}).weight_decay(0.1).amsgrad(true)},
    {"maximize, no decay", AdamWOptions(0.01).weight_decay(0).eps(1e-7).maximize(true)},
};

TEST(CudaFusedSGD, StepsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kFloatingDTypes)
    for (const auto& [name, options] : kSgdCases)
      expect_gpu_steps_match_cpu(make<SGD>(options), many_params(), dtype, 6, true, std::string("SGD ") + name);
}

TEST(CudaFusedAdam, StepsMatchTheCpu) {
  STRIATE_REQUIRE_GPU();
  for (DType dtype : kFloatingDTypes) {
    for (const auto& [name, options] : kAdamCases)
      expect_gpu_steps_match_cpu(make<Adam>(options), many_params(), dtype, 6, true, std::string("Adam ") + name);
    for (const auto& [name, options] : kAdamWCases)
      expect_gpu_steps_match_cpu(make<AdamW>(options), many_params(), dtype, 6, true, std::string("AdamW ") + name);
  }
}

TEST(CudaFusedUpdates, TensorsAcrossTheChunkLimitOfALaunch) {
  STRIATE_REQUIRE_GPU();
  const auto specs = launch_filling_params();
  expect_gpu_steps_match_cpu(make<SGD>(SGDOptions(0.05).momentum(0.9).weight_decay(0.01)), specs, kFloat, 3, false,
                             "SGD momentum");
  expect_gpu_steps_match_cpu(make<Adam>(AdamOptions(0.01).amsgrad(true).weight_decay(0.1)), specs, kFloat, 3, false,
                             "Adam amsgrad");
  expect_gpu_steps_match_cpu(make<AdamW>(AdamWOptions(0.01)), specs, kFloat, 2, false, "AdamW");
}

TEST(CudaFusedUpdates, OnlyEmptyTensors) {
  STRIATE_REQUIRE_GPU();
  const std::vector<ParamSpec> specs{{{0}}, {{0, 5}}, {{2, 0, 3}}};
  expect_gpu_steps_match_cpu(make<SGD>(SGDOptions(0.1).momentum(0.9)), specs, kFloat, 2, false, "SGD");
  expect_gpu_steps_match_cpu(make<Adam>(AdamOptions(0.1).amsgrad(true)), specs, kFloat, 2, false, "Adam");
}

// Gradients from backward() on each device, then the updates: the loss
// sum(c * w * w) has the elementwise gradient 2 * c * w (no reduction).
TEST(CudaFusedUpdates, GradientsFromBackward) {
  STRIATE_REQUIRE_GPU();
  const std::vector<MakeOptimizer> makers{make<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true)),
                                          make<Adam>(AdamOptions(0.05).amsgrad(true)),
                                          make<AdamW>(AdamWOptions(0.05).weight_decay(0.1))};
  for (DType dtype : {kFloat, kDouble})
    for (const auto& make_opt : makers) {
      Generator gen(17);
      std::vector<Tensor> cpu, gpu, c_cpu, c_gpu;
      for (const Shape& s : std::vector<Shape>{{1}, {7, 3}, {65537}, {2, 3, 5, 7}}) {
        Tensor w = randn(s, TensorOptions(kDouble), &gen).to(dtype);
        Tensor c = randn(s, TensorOptions(kDouble), &gen).to(dtype);
        gpu.push_back(w.to(kGpu).requires_grad_());
        cpu.push_back(w.requires_grad_());
        c_gpu.push_back(c.to(kGpu));
        c_cpu.push_back(c);
      }
      auto cpu_opt = make_opt(cpu), gpu_opt = make_opt(gpu);
      SCOPED_TRACE(cpu_opt->name() + " " + dtype_name(dtype));
      for (int k = 0; k < 5; ++k) {
        cpu_opt->zero_grad();
        gpu_opt->zero_grad();
        for (size_t j = 0; j < cpu.size(); ++j) {
          (c_cpu[j] * cpu[j] * cpu[j]).sum().backward();
          (c_gpu[j] * gpu[j] * gpu[j]).sum().backward();
        }
        for (size_t j = 0; j < cpu.size(); ++j)
          testing::expect_matches_cpu(gpu[j].grad(), cpu[j].grad(), ::striate::detail::concat("grad ", j, " step ", k));
        cpu_opt->step();
        gpu_opt->step();
        for (size_t j = 0; j < cpu.size(); ++j)
          testing::expect_matches_cpu(gpu[j], cpu[j], ::striate::detail::concat("param ", j, " after step ", k));
      }
    }
}

}  // namespace
}  // namespace striate
