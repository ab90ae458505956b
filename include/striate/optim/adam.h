// Adam and AdamW (with amsgrad and maximize): PyTorch's update rules, step
// for step. Adam adds weight decay to the gradient (L2); AdamW decays the
// parameter itself, before the update (decoupled weight decay).
#pragma once

#include <tuple>

#include "striate/layers/options.h"
#include "striate/optim/optimizer.h"

namespace striate::optim {

using AdamBetas = std::tuple<double, double>;

class AdamOptions : public OptimizerCloneableOptions<AdamOptions> {
 public:
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  STRIATE_ARG(double, lr);
  STRIATE_ARG(AdamBetas, betas) = {0.9, 0.999};
  STRIATE_ARG(double, eps) = 1e-8;
  STRIATE_ARG(double, weight_decay) = 0;
  STRIATE_ARG(bool, amsgrad) = false;
  STRIATE_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::optional<double> get_momentum() const override { return std::get<0>(betas_); }
  void set_momentum(double beta1) override { std::get<0>(betas_) = beta1; }
  std::vector<std::pair<std::string, double>> fields() const override;
  bool set_field(const std::string& name, double value) override;
};

// AdamOptions with AdamW's default weight decay (0.01).
class AdamWOptions : public OptimizerCloneableOptions<AdamWOptions> {
 public:
  explicit AdamWOptions(double lr = 1e-3) : lr_(lr) {}
  STRIATE_ARG(double, lr);
  STRIATE_ARG(AdamBetas, betas) = {0.9, 0.999};
  STRIATE_ARG(double, eps) = 1e-8;
  STRIATE_ARG(double, weight_decay) = 1e-2;
  STRIATE_ARG(bool, amsgrad) = false;
  STRIATE_ARG(bool, maximize) = false;

 public:
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::optional<double> get_momentum() const override { return std::get<0>(betas_); }
  void set_momentum(double beta1) override { std::get<0>(betas_) = beta1; }
  std::vector<std::pair<std::string, double>> fields() const override;
  bool set_field(const std::string& name, double value) override;
};

// For each parameter p with a gradient g, at step t (m, v: running moments):
//   g = -g if maximize;  g += weight_decay * p  (Adam)  or  p *= 1 - lr * weight_decay  (AdamW)
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v) if amsgrad, and v_max replaces v below
//   p += -(lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& defaults = AdamOptions());
  Adam(std::vector<OptimizerParamGroup> groups, const AdamOptions& defaults = AdamOptions());
  std::string name() const override { return "Adam"; }

 protected:
  void update(OptimizerParamGroup& group) override;
  void check_options(const OptimizerOptions& options) const override;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& defaults = AdamWOptions());
  AdamW(std::vector<OptimizerParamGroup> groups, const AdamWOptions& defaults = AdamWOptions());
  std::string name() const override { return "AdamW"; }

 protected:
  void update(OptimizerParamGroup& group) override;
  void check_options(const OptimizerOptions& options) const override;
};

}  // namespace striate::optim
