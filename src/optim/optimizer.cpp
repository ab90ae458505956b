#include "striate/optim/optimizer.h"

#include <cmath>
#include <set>
#include <unordered_set>

#include "striate/core/autograd.h"
#include "striate/core/error.h"

namespace striate::optim {

void OptimizerOptions::set_momentum(double) {
  throw ValueError("this optimizer has no momentum to set");
}

// ---- OptimizerParamGroup -----------------------------------------------------

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
    : params_(std::move(params)), options_(std::move(options)) {}

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params, const OptimizerOptions& options)
    : params_(std::move(params)), options_(options.clone()) {}

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : initial_lr(other.initial_lr),
      params_(other.params_),
      options_(other.options_ ? other.options_->clone() : nullptr) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
    initial_lr = other.initial_lr;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  STRIATE_CHECK(options_ != nullptr, ValueError, "OptimizerParamGroup: this group has no options yet");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  STRIATE_CHECK(options_ != nullptr, ValueError, "OptimizerParamGroup: this group has no options yet");
  return *options_;
}

// ---- Optimizer -----------------------------------------------------------------

Optimizer::Optimizer(std::unique_ptr<OptimizerOptions> defaults) : defaults_(std::move(defaults)) {}

void Optimizer::add_param_groups(std::vector<OptimizerParamGroup> groups) {
  check_options(*defaults_);
  STRIATE_CHECK(!groups.empty(), ValueError, name(), ": optimizer got an empty parameter list");
  for (const auto& g : groups) add_param_group(g);
}

std::vector<OptimizerParamGroup> Optimizer::single_group(std::vector<Tensor> params) {
  std::vector<OptimizerParamGroup> groups;
  if (!params.empty()) groups.emplace_back(std::move(params));
  return groups;
}

void Optimizer::add_param_group(const OptimizerParamGroup& group) {
  const size_t index = param_groups_.size();
  std::unordered_set<const TensorImpl*> seen;
  for (const auto& g : param_groups_)
    for (const auto& p : g.params()) seen.insert(p.unsafe_impl());
  std::unordered_set<const TensorImpl*> in_group;
  for (size_t i = 0; i < group.params().size(); ++i) {
    const Tensor& p = group.params()[i];
    STRIATE_CHECK(p.defined(), ValueError, name(), ": parameter ", i, " of group ", index, " is undefined");
    STRIATE_CHECK(p.is_floating_point(), ValueError, name(), ": can only optimize floating-point tensors, parameter ",
                  i, " of group ", index, " is ", p.dtype());
    STRIATE_CHECK(p.is_leaf(), ValueError, name(), ": can't optimize a non-leaf tensor (parameter ", i, " of group ",
                  index, " was computed by ", p.grad_fn()->name(), ")");
    STRIATE_CHECK(in_group.insert(p.unsafe_impl()).second, ValueError, name(), ": parameter ", i, " of group ",
                  index, " appears twice in the group");
    STRIATE_CHECK(!seen.count(p.unsafe_impl()), ValueError, name(), ": parameter ", i, " of group ", index,
                  " is already in another parameter group");
  }
  OptimizerParamGroup added(group);
  if (!added.has_options()) added.set_options(defaults_->clone());
  check_options(added.options());
  param_groups_.push_back(std::move(added));
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const auto& g : param_groups_) out.insert(out.end(), g.params().begin(), g.params().end());
  return out;
}

namespace {

// Sets grad mode for a scope and restores it, also when the closure throws.
class GradModeScope {
 public:
  explicit GradModeScope(bool enabled) : previous_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~GradModeScope() { GradMode::set_enabled(previous_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool previous_;
};

}  // namespace

Tensor Optimizer::step(const LossClosure& closure) {
  Tensor loss;
  if (closure) {
    GradModeScope grad_on(true);
    loss = closure();
  }
  NoGradGuard no_grad;
  for (auto& group : param_groups_) update(group);
  return loss;
}

bool Optimizer::has_grad(const Tensor& param) const {
  const Tensor& grad = param.grad();
  if (!grad.defined()) return false;
  STRIATE_CHECK(grad.sizes() == param.sizes(), ShapeError, name(), ": step: a parameter of shape ", param.sizes(),
                " has a gradient of shape ", grad.sizes());
  return true;
}

std::vector<std::pair<Tensor, ParamState*>> Optimizer::params_with_grad(OptimizerParamGroup& group) {
  std::vector<std::pair<Tensor, ParamState*>> out;
  for (const Tensor& p : group.params())
    if (has_grad(p)) out.emplace_back(p, &state_for(p));
  return out;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& group : param_groups_) {
    for (Tensor p : group.params()) {
      if (!p.grad().defined()) continue;
      Tensor& g = p.mutable_grad();
      if (set_to_none) {
        g = Tensor();
      } else {
        if (g.grad_fn()) g = g.detach();  // a grad with history (create_graph) must not be written through
        g.zero_();
      }
    }
  }
}

double Optimizer::get_lr(size_t group) const {
  STRIATE_CHECK(group < param_groups_.size(), IndexError, name(), ": get_lr: group ", group, " out of range (",
                param_groups_.size(), " groups)");
  return param_groups_[group].options().get_lr();
}

void Optimizer::set_lr(double lr) {
  for (auto& g : param_groups_) g.options().set_lr(lr);
}

void Optimizer::set_lr(size_t group, double lr) {
  STRIATE_CHECK(group < param_groups_.size(), IndexError, name(), ": set_lr: group ", group, " out of range (",
                param_groups_.size(), " groups)");
  param_groups_[group].options().set_lr(lr);
}

ParamState* Optimizer::state(const Tensor& param) {
  auto it = state_.find(param.unsafe_impl());
  return it == state_.end() ? nullptr : &it->second;
}

const ParamState* Optimizer::state(const Tensor& param) const {
  auto it = state_.find(param.unsafe_impl());
  return it == state_.end() ? nullptr : &it->second;
}

// ---- state dict ------------------------------------------------------------------

namespace {

std::string group_key(size_t g, const std::string& field) {
  return "param_groups." + std::to_string(g) + "." + field;
}

std::string state_key(size_t i, const std::string& field) { return "state." + std::to_string(i) + "." + field; }

// "state.<i>.<rest>" -> (i, rest); false for any other shape of key.
bool parse_state_key(const std::string& key, size_t& index, std::string& rest) {
  const std::string prefix = "state.";
  if (key.compare(0, prefix.size(), prefix) != 0) return false;
  const size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot + 1 == key.size()) return false;
  const std::string digits = key.substr(prefix.size(), dot - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  index = std::stoul(digits);
  rest = key.substr(dot + 1);
  return true;
}

}  // namespace

OptimizerStateDict Optimizer::state_dict() const {
  OptimizerStateDict dict;
  dict.optimizer = name();
  size_t index = 0;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const auto& group = param_groups_[g];
    dict.scalars[group_key(g, "params")] = static_cast<double>(group.params().size());
    for (const auto& [field, value] : group.options().fields()) dict.scalars[group_key(g, field)] = value;
    if (group.initial_lr) dict.scalars[group_key(g, "initial_lr")] = *group.initial_lr;
    for (const auto& p : group.params()) {
      if (const ParamState* s = state(p)) {
        dict.scalars[state_key(index, "step")] = static_cast<double>(s->step);
        for (const auto& [buffer, t] : s->buffers)
          if (t.defined()) dict.tensors[state_key(index, buffer)] = t.detach().clone();
      }
      ++index;
    }
  }
  return dict;
}

void Optimizer::load_state_dict(const OptimizerStateDict& dict) {
  const std::string op = name() + ": load_state_dict";
  STRIATE_CHECK(dict.optimizer == name(), ValueError, op, ": the dict is of a ", dict.optimizer, " optimizer");

  // Group structure and options first: nothing changes until all is checked.
  size_t dict_groups = 0;
  while (dict.scalars.count(group_key(dict_groups, "params"))) ++dict_groups;
  STRIATE_CHECK(dict_groups == param_groups_.size(), ValueError, op, ": the dict has ", dict_groups,
                " parameter groups, this optimizer ", param_groups_.size());
  std::vector<std::unique_ptr<OptimizerOptions>> options;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const double n = dict.scalars.at(group_key(g, "params"));
    STRIATE_CHECK(n == static_cast<double>(param_groups_[g].params().size()), ValueError, op, ": group ", g,
                  " has ", n, " parameters in the dict and ", param_groups_[g].params().size(), " here");
    auto o = param_groups_[g].options().clone();
    std::vector<std::string> missing;
    for (const auto& [field, value] : o->fields()) {
      auto it = dict.scalars.find(group_key(g, field));
      if (it == dict.scalars.end()) missing.push_back(field);
      else o->set_field(field, it->second);
    }
    STRIATE_CHECK(missing.empty(), ValueError, op, ": group ", g, " lacks the option(s) ", missing);
    check_options(*o);
    options.push_back(std::move(o));
  }

  // Then the per-parameter state, checked against each parameter's shape.
  const std::vector<Tensor> params = parameters();
  std::map<size_t, ParamState> loaded;
  for (const auto& [key, value] : dict.scalars) {
    size_t i;
    std::string rest;
    if (key.compare(0, 6, "state.") != 0) continue;
    STRIATE_CHECK(parse_state_key(key, i, rest) && rest == "step", ValueError, op, ": unexpected key ", key);
    STRIATE_CHECK(i < params.size(), ValueError, op, ": ", key, " names parameter ", i, " of ", params.size());
    STRIATE_CHECK(value >= 0 && value == std::floor(value), ValueError, op, ": ", key,
                  " must be a non-negative integer, got ", value);
    loaded[i].step = static_cast<int64_t>(value);
  }
  for (const auto& [key, t] : dict.tensors) {
    size_t i;
    std::string buffer;
    STRIATE_CHECK(parse_state_key(key, i, buffer), ValueError, op, ": unexpected key ", key);
    STRIATE_CHECK(i < params.size(), ValueError, op, ": ", key, " names parameter ", i, " of ", params.size());
    STRIATE_CHECK(loaded.count(i), ValueError, op, ": ", key, " has no matching ", state_key(i, "step"));
    STRIATE_CHECK(t.defined(), ValueError, op, ": ", key, " is undefined");
    STRIATE_CHECK(t.sizes() == params[i].sizes(), ValueError, op, ": ", key, " has shape ", t.sizes(),
                  " but parameter ", i, " has shape ", params[i].sizes());
    loaded[i].buffers[buffer] = t;
  }

  for (size_t g = 0; g < param_groups_.size(); ++g) {
    param_groups_[g].set_options(std::move(options[g]));
    auto it = dict.scalars.find(group_key(g, "initial_lr"));
    param_groups_[g].initial_lr =
        it == dict.scalars.end() ? std::nullopt : std::optional<double>(it->second);
  }
  NoGradGuard no_grad;
  state_.clear();
  for (auto& [i, s] : loaded) {
    const Tensor& p = params[i];
    ParamState& dst = state_for(p);
    dst.step = s.step;
    // A copy in the parameter's dtype and device, as PyTorch casts state on load.
    for (auto& [buffer, t] : s.buffers) dst.buffers[buffer] = t.detach().to(p.options(), false, true);
  }
}

}  // namespace striate::optim
