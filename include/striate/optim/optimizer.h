// The Optimizer base: parameter groups with per-group options, per-parameter
// state, and a flat state dict for checkpoints.
//
//   SGD opt(model->parameters(), SGDOptions(0.1).momentum(0.9));
//   SGDOptions defaults(0.1);
//   SGD opt({OptimizerParamGroup(backbone), OptimizerParamGroup(head, SGDOptions(defaults).lr(0.01))},
//           defaults);
//
// As in LibTorch, a group given its own options uses those options in full;
// start from a copy of the defaults to change only some fields.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "striate/core/tensor.h"

namespace striate::optim {

// What every optimizer's options share, reachable without knowing the
// optimizer: schedulers read and write lr (and OneCycleLR the momentum), and
// state_dict saves every field by name.
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;

  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // The momentum OneCycleLR cycles: SGD's momentum, Adam's beta1. nullopt
  // for an optimizer without one.
  virtual std::optional<double> get_momentum() const { return std::nullopt; }
  virtual void set_momentum(double momentum);

  // Every field as a number (bools as 0/1, betas as betas.0 and betas.1), in
  // a fixed order; set_field returns false for a name it does not know.
  virtual std::vector<std::pair<std::string, double>> fields() const = 0;
  virtual bool set_field(const std::string& name, double value) = 0;
};

template <typename Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
 public:
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// A list of parameters optimized with the same options. Without options of
// its own, a group takes a copy of the optimizer's defaults when added.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params);  // NOLINT: {params} reads naturally
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options);
  OptimizerParamGroup(std::vector<Tensor> params, const OptimizerOptions& options);
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) noexcept = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) noexcept = default;

  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }
  bool has_options() const { return options_ != nullptr; }
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

  // The lr a schedule starts from: set by the first scheduler attached (as
  // PyTorch's group['initial_lr']), so that a second scheduler on the same
  // optimizer starts from the same base.
  std::optional<double> initial_lr;

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

// What an optimizer keeps per parameter: its step count and buffers such as
// "momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq".
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers;
};

// An optimizer's state as flat name -> value maps, easy to write to a file:
//   tensors  "state.<i>.<buffer>"             i: the parameter's index over all groups, in order
//   scalars  "state.<i>.step"
//            "param_groups.<g>.params"         how many parameters the group has
//            "param_groups.<g>.<field>"        every option field (lr, momentum, betas.0, ...)
//            "param_groups.<g>.initial_lr"     when a scheduler set it
// Tensors are copies, so the dict is a snapshot that later steps leave alone.
struct OptimizerStateDict {
  std::string optimizer;  // "SGD", "Adam", "AdamW": loading checks it
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;
};

class Optimizer {
 public:
  using LossClosure = std::function<Tensor()>;

  virtual ~Optimizer() = default;
  // Schedulers hold a reference to their optimizer: it does not move.
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string name() const = 0;

  // Updates every parameter whose grad is defined (under NoGradGuard). The
  // closure, when given, runs first with grad mode on; its loss is returned.
  Tensor step(const LossClosure& closure = nullptr);
  // Drops every parameter's gradient (or zeroes it in place).
  void zero_grad(bool set_to_none = true);

  // Validates the group's parameters (defined, floating, leaves, in no other
  // group) and options, giving it a copy of the defaults if it has none.
  void add_param_group(const OptimizerParamGroup& group);
  std::vector<OptimizerParamGroup>& param_groups() { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return param_groups_; }
  // Every parameter of every group, in order (the indices of the state dict).
  std::vector<Tensor> parameters() const;
  const OptimizerOptions& defaults() const { return *defaults_; }
  OptimizerOptions& defaults() { return *defaults_; }

  double get_lr(size_t group = 0) const;
  void set_lr(double lr);  // every group
  void set_lr(size_t group, double lr);

  // A parameter's state; null until its first update.
  ParamState* state(const Tensor& param);
  const ParamState* state(const Tensor& param) const;

  OptimizerStateDict state_dict() const;
  // Restores state and group options from a dict of the same optimizer over
  // parameters of the same groups and shapes; checks everything before
  // changing anything. State tensors are copied to each parameter's dtype
  // and device.
  void load_state_dict(const OptimizerStateDict& dict);

 protected:
  explicit Optimizer(std::unique_ptr<OptimizerOptions> defaults);
  // Called by each optimizer's constructor once its defaults are validated.
  void add_param_groups(std::vector<OptimizerParamGroup> groups);
  // One group holding `params`; none when it is empty (an error, as in PyTorch).
  static std::vector<OptimizerParamGroup> single_group(std::vector<Tensor> params);
  virtual void update(OptimizerParamGroup& group) = 0;
  // Throws ValueError for options of the wrong type or invalid values.
  virtual void check_options(const OptimizerOptions& options) const = 0;
  ParamState& state_for(const Tensor& param) { return state_[param.unsafe_impl()]; }
  // Whether step() updates `param`: its grad is defined (and of its shape).
  bool has_grad(const Tensor& param) const;
  // The parameters of `group` that step() updates, each with its state (created if new).
  std::vector<std::pair<Tensor, ParamState*>> params_with_grad(OptimizerParamGroup& group);

 private:
  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<OptimizerParamGroup> param_groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

}  // namespace striate::optim
