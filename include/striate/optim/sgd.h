// Stochastic gradient descent with momentum, dampening, Nesterov momentum,
// weight decay (L2) and maximize: PyTorch's update rule, step for step.
#pragma once

#include "striate/layers/options.h"
#include "striate/optim/optimizer.h"

namespace striate::optim {

class SGDOptions : public OptimizerCloneableOptions<SGDOptions> {
 public:
  explicit SGDOptions(double lr) : lr_(lr) {}  // SGD has no default lr, as in PyTorch
  STRIATE_ARG(double, lr);
  STRIATE_ARG(double, momentum) = 0;
  STRIATE_ARG(double, dampening) = 0;
  STRIATE_ARG(double, weight_decay) = 0;
  STRIATE_ARG(bool, nesterov) = false;
  STRIATE_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::optional<double> get_momentum() const override { return momentum_; }
  void set_momentum(double momentum) override { momentum_ = momentum; }
  std::vector<std::pair<std::string, double>> fields() const override;
  bool set_field(const std::string& name, double value) override;
};

// For each parameter with a gradient g (p: the parameter, b: its momentum buffer):
//   g = -g if maximize;  g += weight_decay * p
//   b = g on the first step, else b = momentum * b + (1 - dampening) * g
//   g = g + momentum * b if nesterov, else g = b        (when momentum != 0)
//   p -= lr * g
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& defaults);
  SGD(std::vector<OptimizerParamGroup> groups, const SGDOptions& defaults);
  std::string name() const override { return "SGD"; }

 protected:
  void update(OptimizerParamGroup& group) override;
  void check_options(const OptimizerOptions& options) const override;
};

}  // namespace striate::optim
