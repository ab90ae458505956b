#include "striate/optim/sgd.h"

#include "striate/core/error.h"

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

// The order of operations is PyTorch's (_single_tensor_sgd), so that results
// agree to rounding.
void SGD::update(OptimizerParamGroup& group) {
  const auto& o = static_cast<const SGDOptions&>(group.options());
  for (Tensor param : group.params()) {
    if (!has_grad(param)) continue;
    const Tensor& grad = param.grad();
    Tensor d_p = o.maximize() ? grad.neg() : grad;
    if (o.weight_decay() != 0) d_p = d_p.add(param, o.weight_decay());
    if (o.momentum() != 0) {
      ParamState& state = state_for(param);
      auto it = state.buffers.find("momentum_buffer");
      Tensor buf;
      if (it == state.buffers.end() || !it->second.defined()) {
        buf = d_p.detach().clone();
        state.buffers["momentum_buffer"] = buf;
      } else {
        buf = it->second;
        buf.mul_(o.momentum()).add_(d_p, 1 - o.dampening());
      }
      d_p = o.nesterov() ? d_p.add(buf, o.momentum()) : buf;
    }
    param.add_(d_p, -o.lr());
  }
}

}  // namespace striate::optim
