#include "striate/optim/sgd.h"

#include <algorithm>

#include "kernels/optim.h"
#include "optim/fused.h"
#include "striate/core/error.h"
#include "striate/core/ops/factory.h"

namespace striate::optim {

std::vector<std::pair<std::string, double>> SGDOptions::fields() const {
  return {{"lr", lr_},
          {"momentum", momentum_},
          {"dampening", dampening_},
          {"weight_decay", weight_decay_},
          {"nesterov", nesterov_ ? 1.0 : 0.0},
          {"maximize", maximize_ ? 1.0 : 0.0}};
}

bool SGDOptions::set_field(const std::string& name, double value) {
  if (name == "lr") lr_ = value;
  else if (name == "momentum") momentum_ = value;
  else if (name == "dampening") dampening_ = value;
  else if (name == "weight_decay") weight_decay_ = value;
  else if (name == "nesterov") nesterov_ = value != 0;
  else if (name == "maximize") maximize_ = value != 0;
  else return false;
  return true;
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& defaults)
    : SGD(single_group(std::move(params)), defaults) {}

SGD::SGD(std::vector<OptimizerParamGroup> groups, const SGDOptions& defaults)
    : Optimizer(std::make_unique<SGDOptions>(defaults)) {
  add_param_groups(std::move(groups));
}

void SGD::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const SGDOptions*>(&options);
  STRIATE_CHECK(o != nullptr, ValueError, "SGD: a parameter group's options must be SGDOptions");
  STRIATE_CHECK(o->lr() >= 0, ValueError, "SGD: invalid learning rate ", o->lr(), " (expected lr >= 0)");
  STRIATE_CHECK(o->momentum() >= 0, ValueError, "SGD: invalid momentum ", o->momentum(), " (expected >= 0)");
  STRIATE_CHECK(o->weight_decay() >= 0, ValueError, "SGD: invalid weight_decay ", o->weight_decay(),
                " (expected >= 0)");
  STRIATE_CHECK(!o->nesterov() || (o->momentum() > 0 && o->dampening() == 0), ValueError,
                "SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ", o->momentum(),
                ", dampening ", o->dampening(), ")");
}

namespace {

// The op chain the fused kernel replaces, in PyTorch's order of operations
// (_single_tensor_sgd), for a parameter the kernel does not take: a gradient
// or buffer of another dtype, device or layout than the parameter's.
void sgd_op_chain(const SGDOptions& o, Tensor param, ParamState* state) {
  const Tensor& grad = param.grad();
  Tensor d_p = o.maximize() ? grad.neg() : grad;
  if (o.weight_decay() != 0) d_p = d_p.add(param, o.weight_decay());
  if (o.momentum() != 0) {
    auto it = state->buffers.find("momentum_buffer");
    Tensor buf;
    if (it == state->buffers.end() || !it->second.defined()) {
      buf = d_p.detach().clone();
      state->buffers["momentum_buffer"] = buf;
    } else {
      buf = it->second;
      buf.mul_(o.momentum()).add_(d_p, 1 - o.dampening());
    }
    d_p = o.nesterov() ? d_p.add(buf, o.momentum()) : buf;
  }
  param.add_(d_p, -o.lr());
}

// The parameters of one fused call: one device, one dtype, and buffers all
// new or all old.
struct SgdBatch {
  Device device;
  bool new_buffers;
  kernels::SgdParams params;
  std::vector<Tensor> written, grads;  // bumped after the call; copies kept alive until then
};

}  // namespace

// The update of every parameter with a gradient, in one fused kernel call
// per (device, dtype) where the tensors allow (kernels/optim.h, with the op
// chain's arithmetic), else through the op chain.
void SGD::update(OptimizerParamGroup& group) {
  const auto& o = static_cast<const SGDOptions&>(group.options());
  const bool momentum = o.momentum() != 0;
  std::vector<SgdBatch> batches;
  for (Tensor param : group.params()) {
    if (!has_grad(param)) continue;
    // As before, SGD keeps state only for a momentum buffer.
    ParamState* state = momentum ? &state_for(param) : nullptr;
    Tensor buf;
    if (momentum) {
      auto it = state->buffers.find("momentum_buffer");
      if (it != state->buffers.end()) buf = it->second;
    }
    const std::optional<MemoryFormat> fmt = fused::dense_format(param);
    const Tensor grad = fused::gradient_in_layout(param, fmt);
    const auto fusable = [&](const Tensor& t) { return fmt && fused::matches(param, *fmt, t); };
    if (!fusable(grad) || (buf.defined() && !fusable(buf))) {
      sgd_op_chain(o, param, state);
      continue;
    }
    const bool new_buffer = momentum && !buf.defined();
    if (new_buffer) {
      buf = empty(param.sizes(), TensorOptions().dtype(param.dtype()).device(param.device()), *fmt);
      state->buffers["momentum_buffer"] = buf;
    }
    auto batch = std::find_if(batches.begin(), batches.end(), [&](const SgdBatch& b) {
      return b.device == param.device() && b.params.dtype == param.dtype() && b.new_buffers == new_buffer;
    });
    if (batch == batches.end()) {
      kernels::SgdParams p;
      p.hyper = {o.lr(), o.momentum(), o.dampening(), o.weight_decay(), o.nesterov(), o.maximize(), new_buffer};
      p.dtype = param.dtype();
      batches.push_back({param.device(), new_buffer, std::move(p), {}, {}});
      batch = batches.end() - 1;
    }
    batch->params.tensors.push_back({param.data_ptr(), grad.data_ptr(), buf.defined() ? buf.data_ptr() : nullptr,
                                     param.numel()});
    batch->written.push_back(param);
    if (buf.defined()) batch->written.push_back(buf);
    batch->grads.push_back(grad);
  }
  for (const SgdBatch& b : batches) {
    kernels::sgd_kernel.get(b.device)(b.params);
    fused::bump_versions(b.written);
  }
}

}  // namespace striate::optim
