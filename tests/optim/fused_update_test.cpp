// The fused SGD and Adam/AdamW updates (kernels/optim.h) against the op
// chains they replaced, kept below as the reference: bit for bit, over many
// steps, every option, every floating dtype; through the optimizers (with
// parameters the kernel takes and ones that fall back to the op chain,
// gradients missing at some steps, NaN and infinity among them) and through
// the kernels directly.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/optim.h"
#include "striate/striate.h"

namespace striate {
namespace {

using namespace optim;

// ---- the reference: the op chains of optim/sgd.cpp and optim/adam.cpp before the fused kernels

struct RefState {
  int64_t step = 0;
  Tensor momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq;
};

void reference_sgd(const SGDOptions& o, Tensor param, const Tensor& grad, RefState& s) {
  Tensor d_p = o.maximize() ? grad.neg() : grad;
  if (o.weight_decay() != 0) d_p = d_p.add(param, o.weight_decay());
  if (o.momentum() != 0) {
    if (!s.momentum_buffer.defined()) {
      s.momentum_buffer = d_p.detach().clone();
    } else {
      s.momentum_buffer.mul_(o.momentum()).add_(d_p, 1 - o.dampening());
    }
    d_p = o.nesterov() ? d_p.add(s.momentum_buffer, o.momentum()) : s.momentum_buffer;
  }
  param.add_(d_p, -o.lr());
}

// Adam's and AdamW's options as one set of numbers.
struct AdamCase {
  std::string name;
  bool decoupled;  // AdamW
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize;
};

void reference_adam(const AdamCase& o, Tensor param, const Tensor& param_grad, RefState& s) {
  const double lr = o.lr, weight_decay = o.weight_decay, beta1 = o.beta1, beta2 = o.beta2;
  Tensor grad = o.maximize ? param_grad.neg() : param_grad;
  if (!s.exp_avg.defined()) s.exp_avg = zeros_like(param);
  if (!s.exp_avg_sq.defined()) s.exp_avg_sq = zeros_like(param);
  s.step += 1;

  if (o.decoupled) {
    if (weight_decay != 0) param.mul_(1 - lr * weight_decay);
  } else if (weight_decay != 0) {
    grad = grad.add(param, weight_decay);
  }
  s.exp_avg.mul_(beta1).add_(grad, 1 - beta1);
  s.exp_avg_sq.mul_(beta2).add_(grad.mul(1 - beta2).mul_(grad));

  const double step = static_cast<double>(s.step);
  const double bias_correction1 = 1 - std::pow(beta1, step);
  const double bias_correction2 = 1 - std::pow(beta2, step);
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);

  Tensor denom;
  if (o.amsgrad) {
    if (!s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = zeros_like(param);
    s.max_exp_avg_sq.copy_(maximum(s.max_exp_avg_sq, s.exp_avg_sq));
    denom = s.max_exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(o.eps);
  } else {
    denom = s.exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(o.eps);
  }
  param.add_(s.exp_avg.mul(-step_size).div_(denom));
}

// ---- comparison ------------------------------------------------------------------------

// Every element bit for bit (any NaN equals any NaN; zeros keep their sign).
void expect_identical(const Tensor& actual, const Tensor& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(actual.defined());
  ASSERT_TRUE(expected.defined());
  ASSERT_EQ(actual.sizes(), expected.sizes());
  ASSERT_EQ(actual.dtype(), expected.dtype());
  // Widening any floating dtype to double is exact.
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  int64_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool same = (std::isnan(a[i]) && std::isnan(e[i])) || (a[i] == e[i] && std::signbit(a[i]) == std::signbit(e[i]));
    if (!same && bad++ < 5) ADD_FAILURE() << "element " << i << ": " << a[i] << ", expected " << e[i];
  }
  EXPECT_EQ(bad, 0) << bad << " of " << a.size() << " elements differ";
}

const DType kFloatingDTypes[] = {kFloat, kDouble, kHalf, kBFloat16};

// ---- the parameters of a run -------------------------------------------------------------

constexpr int kSteps = 12;

// Parameters of assorted shapes and layouts: contiguous, 0-dim, empty,
// channels-last (all fused), and a transposed one (the op chain).
std::vector<Tensor> make_params(DType dtype) {
  Generator gen(11);
  auto r = [&](const Shape& shape) { return randn(shape, TensorOptions(kDouble), &gen).to(dtype); };
  std::vector<Tensor> p;
  p.push_back(r({37}));
  p.push_back(r({5, 7, 3}));
  p.push_back(r({}));
  p.push_back(r({0, 4}));
  p.push_back(r({2, 3, 5, 4}).contiguous(MemoryFormat::ChannelsLast));
  p.push_back(r({5, 6}).t());
  p.push_back(r({1000}));
  for (auto& t : p) t.requires_grad_();
  return p;
}

// Param j's gradient at step k, or undefined (j + k ≡ 3 mod 5). Some arrive
// strided or expanded (the fused path copies them), one in another dtype (the
// op chain), one with NaN and infinities from step 6.
Tensor make_grad(const Tensor& param, size_t j, int k) {
  if ((j + static_cast<size_t>(k)) % 5 == 3) return Tensor();
  Generator gen(1000 * static_cast<uint64_t>(k) + j);
  const DType dtype = param.dtype();
  Tensor g = randn(param.sizes(), TensorOptions(kDouble), &gen);
  if (j == 1 && k % 2 == 0) g = randn({3, 7, 5}, TensorOptions(kDouble), &gen).permute({2, 1, 0});
  if (j == 0 && k == 4) g = randn({1}, TensorOptions(kDouble), &gen).expand({37});
  if (j == 6 && k >= 6) {
    g = g.clone();
    g[3].fill_(std::numeric_limits<double>::quiet_NaN());
    g[5].fill_(std::numeric_limits<double>::infinity());
    g[7].fill_(-std::numeric_limits<double>::infinity());
  }
  if (j == 2 && k == 5 && dtype != kDouble) return g.to(kDouble);  // the gradient's dtype is not the parameter's
  return g.to(dtype);
}

std::vector<Tensor> detached_copies(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const auto& p : params) {
    Tensor c = empty_strided(p.sizes(), p.strides(), TensorOptions(p.dtype()));
    c.copy_(p.detach());
    out.push_back(c);
  }
  return out;
}

// ---- through the optimizers ----------------------------------------------------------------

std::vector<SGDOptions> sgd_cases() {
  return {SGDOptions(0.1),
          SGDOptions(0.1).weight_decay(0.01),
          SGDOptions(0.1).weight_decay(0.1).maximize(true),
          SGDOptions(0.05).momentum(0.9),
          SGDOptions(0.05).momentum(0.9).dampening(0.25).weight_decay(0.01),
          SGDOptions(0.1).momentum(0.5).dampening(0.5).maximize(true),
          SGDOptions(0.05).momentum(0.9).nesterov(true),
          SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01).maximize(true)};
}

std::string describe(const SGDOptions& o, DType dtype) {
  return detail::concat("SGD lr ", o.lr(), " momentum ", o.momentum(), " dampening ", o.dampening(),
                        " weight_decay ", o.weight_decay(), " nesterov ", o.nesterov(), " maximize ", o.maximize(),
                        " ", dtype_name(dtype));
}

TEST(FusedSGD, MatchesTheOpChainBitForBit) {
  NoGradGuard no_grad;
  for (DType dtype : kFloatingDTypes)
    for (const SGDOptions& o : sgd_cases()) {
      SCOPED_TRACE(describe(o, dtype));
      std::vector<Tensor> params = make_params(dtype);
      std::vector<Tensor> ref = detached_copies(params);
      std::vector<RefState> states(params.size());
      SGD opt(params, o);
      for (int k = 0; k < kSteps; ++k) {
        for (size_t j = 0; j < params.size(); ++j) {
          params[j].mutable_grad() = make_grad(params[j], j, k);
          if (params[j].grad().defined()) reference_sgd(o, ref[j], params[j].grad(), states[j]);
        }
        opt.step();
        for (size_t j = 0; j < params.size(); ++j) {
          const std::string what = detail::concat("param ", j, " after step ", k);
          expect_identical(params[j], ref[j], what);
          const ParamState* s = opt.state(params[j]);
          if (!states[j].momentum_buffer.defined()) {
            EXPECT_TRUE(s == nullptr || !s->buffers.count("momentum_buffer")) << what;
            continue;
          }
          ASSERT_NE(s, nullptr) << what;
          expect_identical(s->buffers.at("momentum_buffer"), states[j].momentum_buffer, what + " momentum_buffer");
        }
        if (HasFatalFailure() || HasNonfatalFailure()) return;
      }
    }
}

std::vector<AdamCase> adam_cases() {
  return {{"Adam", false, 0.01, 0.9, 0.999, 1e-8, 0, false, false},
          {"Adam weight_decay", false, 0.01, 0.8, 0.99, 1e-6, 0.1, false, false},
          {"Adam amsgrad", false, 0.01, 0.9, 0.999, 1e-8, 0, true, false},
          {"Adam amsgrad maximize weight_decay", false, 0.02, 0.9, 0.999, 1e-8, 0.05, true, true},
          {"AdamW", true, 0.01, 0.9, 0.999, 1e-8, 0.01, false, false},
          {"AdamW amsgrad", true, 0.02, 0.85, 0.95, 1e-8, 0.1, true, false},
          {"AdamW maximize, no decay", true, 0.01, 0.9, 0.999, 1e-7, 0, false, true},
          {"Adam beta1 0", false, 0.01, 0.0, 0.9, 1e-3, 0, true, false}};
}

std::unique_ptr<Optimizer> make_adam(const AdamCase& c, const std::vector<Tensor>& params) {
  if (c.decoupled)
    return std::make_unique<AdamW>(params, AdamWOptions(c.lr)
                                               .betas({c.beta1, c.beta2})
                                               .eps(c.eps)
                                               .weight_decay(c.weight_decay)
                                               .amsgrad(c.amsgrad)
                                               .maximize(c.maximize));
  return std::make_unique<Adam>(params, AdamOptions(c.lr)
                                            .betas({c.beta1, c.beta2})
                                            .eps(c.eps)
                                            .weight_decay(c.weight_decay)
                                            .amsgrad(c.amsgrad)
                                            .maximize(c.maximize));
}

TEST(FusedAdam, MatchesTheOpChainBitForBit) {
  NoGradGuard no_grad;
  for (DType dtype : kFloatingDTypes)
    for (const AdamCase& c : adam_cases()) {
      SCOPED_TRACE(c.name + " " + dtype_name(dtype));
      std::vector<Tensor> params = make_params(dtype);
      std::vector<Tensor> ref = detached_copies(params);
      std::vector<RefState> states(params.size());
      auto opt = make_adam(c, params);
      for (int k = 0; k < kSteps; ++k) {
        for (size_t j = 0; j < params.size(); ++j) {
          params[j].mutable_grad() = make_grad(params[j], j, k);
          if (params[j].grad().defined()) reference_adam(c, ref[j], params[j].grad(), states[j]);
        }
        opt->step();
        for (size_t j = 0; j < params.size(); ++j) {
          const std::string what = detail::concat("param ", j, " after step ", k);
          expect_identical(params[j], ref[j], what);
          const ParamState* s = opt->state(params[j]);
          if (states[j].step == 0) {
            EXPECT_EQ(s, nullptr) << what;
            continue;
          }
          ASSERT_NE(s, nullptr) << what;
          EXPECT_EQ(s->step, states[j].step) << what;
          expect_identical(s->buffers.at("exp_avg"), states[j].exp_avg, what + " exp_avg");
          expect_identical(s->buffers.at("exp_avg_sq"), states[j].exp_avg_sq, what + " exp_avg_sq");
          EXPECT_EQ(s->buffers.count("max_exp_avg_sq"), c.amsgrad ? 1u : 0u) << what;
          if (c.amsgrad)
            expect_identical(s->buffers.at("max_exp_avg_sq"), states[j].max_exp_avg_sq, what + " max_exp_avg_sq");
        }
        if (HasFatalFailure() || HasNonfatalFailure()) return;
      }
    }
}

// ---- the kernels themselves ------------------------------------------------------------------
// The optimizer tests above would pass through the op chain alone; these
// call the kernels on raw buffers, several tensors per call.

const Shape kKernelShapes[] = {{129}, {0}, {1}, {3, 11}, {2000}};

std::vector<Tensor> kernel_tensors(DType dtype, uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> out;
  for (const Shape& s : kKernelShapes) out.push_back(randn(s, TensorOptions(kDouble), &gen).to(dtype));
  return out;
}

TEST(FusedSGD, KernelMatchesTheOpChain) {
  NoGradGuard no_grad;
  for (DType dtype : kFloatingDTypes)
    for (const SGDOptions& o : sgd_cases()) {
      SCOPED_TRACE(describe(o, dtype));
      std::vector<Tensor> params = kernel_tensors(dtype, 3), ref = detached_copies(params);
      std::vector<Tensor> buffers;
      for (const auto& p : params)  // poisoned: a new buffer must not be read
        buffers.push_back(full(p.sizes(), std::numeric_limits<double>::quiet_NaN(), TensorOptions(dtype)));
      std::vector<RefState> states(params.size());
      for (int k = 0; k < 6; ++k) {
        kernels::SgdParams p;
        p.hyper = {o.lr(), o.momentum(), o.dampening(), o.weight_decay(), o.nesterov(), o.maximize(), k == 0};
        p.dtype = dtype;
        std::vector<Tensor> grads = kernel_tensors(dtype, 100 + k);
        for (size_t j = 0; j < params.size(); ++j) {
          reference_sgd(o, ref[j], grads[j], states[j]);
          p.tensors.push_back({params[j].data_ptr(), grads[j].data_ptr(), buffers[j].data_ptr(), params[j].numel()});
        }
        kernels::sgd_kernel.get(Device::cpu())(p);
        for (size_t j = 0; j < params.size(); ++j) {
          const std::string what = detail::concat("tensor ", j, " after step ", k);
          expect_identical(params[j], ref[j], what);
          if (o.momentum() != 0) expect_identical(buffers[j], states[j].momentum_buffer, what + " buffer");
        }
      }
    }
}

TEST(FusedAdam, KernelMatchesTheOpChain) {
  NoGradGuard no_grad;
  for (DType dtype : kFloatingDTypes)
    for (const AdamCase& c : adam_cases()) {
      SCOPED_TRACE(c.name + " " + dtype_name(dtype));
      std::vector<Tensor> params = kernel_tensors(dtype, 5), ref = detached_copies(params);
      std::vector<Tensor> m, v, v_max;
      for (const auto& q : params) {
        m.push_back(zeros_like(q));
        v.push_back(zeros_like(q));
        v_max.push_back(zeros_like(q));
      }
      std::vector<RefState> states(params.size());
      for (int k = 0; k < 6; ++k) {
        kernels::AdamParams p;
        p.hyper = {c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.amsgrad, c.maximize, c.decoupled};
        p.dtype = dtype;
        std::vector<Tensor> grads = kernel_tensors(dtype, 200 + k);
        for (size_t j = 0; j < params.size(); ++j) {
          // Tensor j starts at step j % 3: each tensor of a call has its own step count.
          if (k == 0) states[j].step = static_cast<int64_t>(j % 3);
          reference_adam(c, ref[j], grads[j], states[j]);
          const double t = static_cast<double>(states[j].step);
          kernels::AdamTensor e;
          e.param = params[j].data_ptr();
          e.grad = grads[j].data_ptr();
          e.exp_avg = m[j].data_ptr();
          e.exp_avg_sq = v[j].data_ptr();
          e.max_exp_avg_sq = c.amsgrad ? v_max[j].data_ptr() : nullptr;
          e.numel = params[j].numel();
          e.step_size = c.lr / (1 - std::pow(c.beta1, t));
          e.bias_correction2_sqrt = std::sqrt(1 - std::pow(c.beta2, t));
          p.tensors.push_back(e);
        }
        kernels::adam_kernel.get(Device::cpu())(p);
        for (size_t j = 0; j < params.size(); ++j) {
          const std::string what = detail::concat("tensor ", j, " after step ", k);
          expect_identical(params[j], ref[j], what);
          expect_identical(m[j], states[j].exp_avg, what + " exp_avg");
          expect_identical(v[j], states[j].exp_avg_sq, what + " exp_avg_sq");
          if (c.amsgrad) expect_identical(v_max[j], states[j].max_exp_avg_sq, what + " max_exp_avg_sq");
        }
      }
    }
}

}  // namespace
}  // namespace striate
