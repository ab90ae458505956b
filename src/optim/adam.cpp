#include "striate/optim/adam.h"

#include <algorithm>
#include <cmath>

#include "kernels/optim.h"
#include "optim/fused.h"
#include "striate/core/error.h"
#include "striate/core/ops/elementwise.h"
#include "striate/core/ops/factory.h"

namespace striate::optim {

namespace {

template <typename Options>
std::vector<std::pair<std::string, double>> adam_fields(const Options& o) {
  return {{"lr", o.lr()},
          {"betas.0", std::get<0>(o.betas())},
          {"betas.1", std::get<1>(o.betas())},
          {"eps", o.eps()},
          {"weight_decay", o.weight_decay()},
          {"amsgrad", o.amsgrad() ? 1.0 : 0.0},
          {"maximize", o.maximize() ? 1.0 : 0.0}};
}

template <typename Options>
bool set_adam_field(Options& o, const std::string& name, double value) {
  if (name == "lr") o.lr(value);
  else if (name == "betas.0") o.betas({value, std::get<1>(o.betas())});
  else if (name == "betas.1") o.betas({std::get<0>(o.betas()), value});
  else if (name == "eps") o.eps(value);
  else if (name == "weight_decay") o.weight_decay(value);
  else if (name == "amsgrad") o.amsgrad(value != 0);
  else if (name == "maximize") o.maximize(value != 0);
  else return false;
  return true;
}

template <typename Options>
void check_adam_options(const char* op, const OptimizerOptions& options) {
  const auto* o = dynamic_cast<const Options*>(&options);
  STRIATE_CHECK(o != nullptr, ValueError, op, ": a parameter group's options must be ", op, "Options");
  const auto [beta1, beta2] = o->betas();
  STRIATE_CHECK(o->lr() >= 0, ValueError, op, ": invalid learning rate ", o->lr(), " (expected lr >= 0)");
  STRIATE_CHECK(o->eps() >= 0, ValueError, op, ": invalid eps ", o->eps(), " (expected >= 0)");
  STRIATE_CHECK(beta1 >= 0 && beta1 < 1, ValueError, op, ": invalid beta1 ", beta1, " (expected 0 <= beta1 < 1)");
  STRIATE_CHECK(beta2 >= 0 && beta2 < 1, ValueError, op, ": invalid beta2 ", beta2, " (expected 0 <= beta2 < 1)");
  STRIATE_CHECK(o->weight_decay() >= 0, ValueError, op, ": invalid weight_decay ", o->weight_decay(),
                " (expected >= 0)");
}

Tensor& buffer(ParamState& state, const char* name, const Tensor& like) {
  Tensor& b = state.buffers[name];
  if (!b.defined()) b = zeros_like(like);
  return b;
}

// One step of Adam (decoupled = false) or AdamW (true) for one parameter, in
// the order of operations of PyTorch's _single_tensor_adam / _single_tensor_adamw:
// the op chain the fused kernel replaces, for a parameter the kernel does not
// take (a gradient or buffer of another dtype, device or layout than the parameter's).
template <typename Options>
void adam_op_chain(const Options& o, bool decoupled, Tensor param, ParamState& state) {
  const auto [beta1, beta2] = o.betas();
  const double lr = o.lr(), weight_decay = o.weight_decay();
  Tensor grad = o.maximize() ? param.grad().neg() : param.grad();
  Tensor& exp_avg = buffer(state, "exp_avg", param);
  Tensor& exp_avg_sq = buffer(state, "exp_avg_sq", param);
  state.step += 1;

  if (decoupled) {
    if (weight_decay != 0) param.mul_(1 - lr * weight_decay);
  } else if (weight_decay != 0) {
    grad = grad.add(param, weight_decay);
  }
  exp_avg.mul_(beta1).add_(grad, 1 - beta1);
  // addcmul_(grad, grad, value): self + (value * grad) * grad.
  exp_avg_sq.mul_(beta2).add_(grad.mul(1 - beta2).mul_(grad));

  const double step = static_cast<double>(state.step);
  const double bias_correction1 = 1 - std::pow(beta1, step);
  const double bias_correction2 = 1 - std::pow(beta2, step);
  const double step_size = lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);

  Tensor denom;
  if (o.amsgrad()) {
    Tensor& max_exp_avg_sq = buffer(state, "max_exp_avg_sq", param);
    max_exp_avg_sq.copy_(maximum(max_exp_avg_sq, exp_avg_sq));
    denom = max_exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(o.eps());
  } else {
    denom = exp_avg_sq.sqrt().div_(bias_correction2_sqrt).add_(o.eps());
  }
  // addcdiv_(exp_avg, denom, value): self + (value * exp_avg) / denom.
  param.add_(exp_avg.mul(-step_size).div_(denom));
}

// The parameters of one fused call: one device, one dtype.
struct AdamBatch {
  Device device;
  kernels::AdamParams params;
  std::vector<Tensor> written, grads;  // bumped after the call; copies kept alive until then
};

// One step over a group: a fused kernel call per (device, dtype) where the
// tensors allow (kernels/optim.h, with the op chain's arithmetic), else the op chain.
template <typename Options>
void adam_update(const Options& o, bool decoupled, const std::vector<std::pair<Tensor, ParamState*>>& params) {
  const auto [beta1, beta2] = o.betas();
  const double lr = o.lr();
  std::vector<AdamBatch> batches;
  for (auto [param, state_ptr] : params) {
    ParamState& state = *state_ptr;
    const std::optional<MemoryFormat> fmt = fused::dense_format(param);
    const Tensor grad = fused::gradient_in_layout(param, fmt);
    // New buffers are zeros, in the parameter's layout, on either path.
    Tensor& exp_avg = buffer(state, "exp_avg", param);
    Tensor& exp_avg_sq = buffer(state, "exp_avg_sq", param);
    Tensor max_exp_avg_sq = o.amsgrad() ? buffer(state, "max_exp_avg_sq", param) : Tensor();
    const auto fusable = [&](const Tensor& t) { return fmt && fused::matches(param, *fmt, t); };
    if (!fusable(grad) || !fusable(exp_avg) || !fusable(exp_avg_sq) || (o.amsgrad() && !fusable(max_exp_avg_sq))) {
      adam_op_chain(o, decoupled, param, state);
      continue;
    }
    state.step += 1;
    const double step = static_cast<double>(state.step);
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);

    auto batch = std::find_if(batches.begin(), batches.end(), [&](const AdamBatch& b) {
      return b.device == param.device() && b.params.dtype == param.dtype();
    });
    if (batch == batches.end()) {
      kernels::AdamParams p;
      p.hyper = {lr, beta1, beta2, o.eps(), o.weight_decay(), o.amsgrad(), o.maximize(), decoupled};
      p.dtype = param.dtype();
      batches.push_back({param.device(), std::move(p), {}, {}});
      batch = batches.end() - 1;
    }
    kernels::AdamTensor t;
    t.param = param.data_ptr();
    t.grad = grad.data_ptr();
    t.exp_avg = exp_avg.data_ptr();
    t.exp_avg_sq = exp_avg_sq.data_ptr();
    t.max_exp_avg_sq = o.amsgrad() ? max_exp_avg_sq.data_ptr() : nullptr;
    t.numel = param.numel();
    t.step_size = lr / bias_correction1;
    t.bias_correction2_sqrt = std::sqrt(bias_correction2);
    batch->params.tensors.push_back(t);
    batch->written.insert(batch->written.end(), {param, exp_avg, exp_avg_sq});
    if (o.amsgrad()) batch->written.push_back(max_exp_avg_sq);
    batch->grads.push_back(grad);
  }
  for (const AdamBatch& b : batches) {
    kernels::adam_kernel.get(b.device)(b.params);
    fused::bump_versions(b.written);
  }
}

}  // namespace

std::vector<std::pair<std::string, double>> AdamOptions::fields() const { return adam_fields(*this); }
bool AdamOptions::set_field(const std::string& name, double value) { return set_adam_field(*this, name, value); }
std::vector<std::pair<std::string, double>> AdamWOptions::fields() const { return adam_fields(*this); }
bool AdamWOptions::set_field(const std::string& name, double value) { return set_adam_field(*this, name, value); }

Adam::Adam(std::vector<Tensor> params, const AdamOptions& defaults)
    : Adam(single_group(std::move(params)), defaults) {}

Adam::Adam(std::vector<OptimizerParamGroup> groups, const AdamOptions& defaults)
    : Optimizer(std::make_unique<AdamOptions>(defaults)) {
  add_param_groups(std::move(groups));
}

void Adam::check_options(const OptimizerOptions& options) const { check_adam_options<AdamOptions>("Adam", options); }

void Adam::update(OptimizerParamGroup& group) {
  adam_update(static_cast<const AdamOptions&>(group.options()), false, params_with_grad(group));
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& defaults)
    : AdamW(single_group(std::move(params)), defaults) {}

AdamW::AdamW(std::vector<OptimizerParamGroup> groups, const AdamWOptions& defaults)
    : Optimizer(std::make_unique<AdamWOptions>(defaults)) {
  add_param_groups(std::move(groups));
}

void AdamW::check_options(const OptimizerOptions& options) const {
  check_adam_options<AdamWOptions>("AdamW", options);
}

void AdamW::update(OptimizerParamGroup& group) {
  adam_update(static_cast<const AdamWOptions&>(group.options()), true, params_with_grad(group));
}

}  // namespace striate::optim
