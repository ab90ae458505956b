// Learning-rate schedulers, with PyTorch's (chainable, recursive) formulas so
// that the lr sequences match torch.optim.lr_scheduler's.
//
//   SGD opt(model->parameters(), SGDOptions(0.1).momentum(0.9));
//   CosineAnnealingLR sched(opt, /*T_max=*/90);
//   for (int epoch = 0; epoch < 90; ++epoch) { train_one_epoch(opt); sched.step(); }
//
// Construction performs the first step (epoch 0) and may change the lr at
// once (LinearLR, OneCycleLR). A scheduler keeps a reference to its
// optimizer, which must outlive it. To resume from a checkpoint, construct
// the optimizer and the scheduler as at the start, then load both state dicts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "striate/layers/options.h"
#include "striate/optim/optimizer.h"

namespace striate::optim {

// A scheduler's progress as flat name -> number pairs ("last_epoch",
// "base_lrs.0", "last_lr.0", ...). The configuration (step_size, gamma, ...)
// is not in it: it comes from the constructor.
using SchedulerStateDict = std::map<std::string, double>;

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch (or iteration) and writes each group's new lr.
  void step();
  // The lr of each group after the latest step.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  int64_t last_epoch() const { return last_epoch_; }
  Optimizer& optimizer() const { return optimizer_; }

  virtual SchedulerStateDict state_dict() const;
  virtual void load_state_dict(const SchedulerStateDict& state);

 protected:
  // Sets each group's initial_lr (if unset) and takes base_lrs from it.
  explicit LRScheduler(Optimizer& optimizer);
  // Every constructor ends with this: the first step, at epoch 0.
  void initial_step();
  // Each group's lr at last_epoch(), from the current lrs (PyTorch's get_lr).
  virtual std::vector<double> compute_lr() = 0;
  std::vector<double> group_lrs() const;
  int64_t step_count() const { return step_count_; }

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;

 private:
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
  std::vector<double> last_lr_;
};

// lr * gamma every step_size epochs.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  std::vector<double> compute_lr() override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr * gamma at each milestone epoch (a milestone listed twice applies twice).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 protected:
  std::vector<double> compute_lr() override;

 private:
  std::map<int64_t, int64_t> milestones_;  // epoch -> how many times listed
  double gamma_;
};

// lr * gamma every epoch.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  std::vector<double> compute_lr() override;

 private:
  double gamma_;
};

// Cosine from the base lr down to eta_min over T_max epochs, then back up
// (a period of 2 * T_max), in PyTorch's recursive form.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

 protected:
  std::vector<double> compute_lr() override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// Linear warm-up (or decay): the factor on the base lr goes from
// start_factor to end_factor over total_iters epochs, then stays.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);

 protected:
  std::vector<double> compute_lr() override;

 private:
  double start_factor_;
  double end_factor_;
  int64_t total_iters_;
};

// base lr * factor for the first total_iters epochs, then the base lr.
class ConstantLR : public LRScheduler {
 public:
  ConstantLR(Optimizer& optimizer, double factor = 1.0 / 3, int64_t total_iters = 5);

 protected:
  std::vector<double> compute_lr() override;

 private:
  double factor_;
  int64_t total_iters_;
};

// base lr * lr_lambda(epoch): any schedule written as a function.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t epoch)> lr_lambda);

 protected:
  std::vector<double> compute_lr() override;

 private:
  std::function<double(int64_t)> lr_lambda_;
};

enum class AnnealStrategy { Cos, Linear };

struct OneCycleLROptions {
  // One max_lr for every group, or one per group.
  OneCycleLROptions(double max_lr, int64_t total_steps) : max_lr_({max_lr}), total_steps_(total_steps) {}
  OneCycleLROptions(std::vector<double> max_lr, int64_t total_steps)
      : max_lr_(std::move(max_lr)), total_steps_(total_steps) {}
  STRIATE_ARG(std::vector<double>, max_lr);
  STRIATE_ARG(int64_t, total_steps);
  STRIATE_ARG(double, pct_start) = 0.3;  // fraction of the steps spent increasing the lr
  STRIATE_ARG(AnnealStrategy, anneal_strategy) = AnnealStrategy::Cos;
  // Moves momentum (SGD) or beta1 (Adam) inversely to the lr, between these.
  STRIATE_ARG(bool, cycle_momentum) = true;
  STRIATE_ARG(double, base_momentum) = 0.85;
  STRIATE_ARG(double, max_momentum) = 0.95;
  STRIATE_ARG(double, div_factor) = 25;           // initial lr = max_lr / div_factor
  STRIATE_ARG(double, final_div_factor) = 1e4;    // final lr = initial lr / final_div_factor
  // Three phases (up, down to the initial lr, down to the final lr) instead of two.
  STRIATE_ARG(bool, three_phase) = false;
};

// The 1cycle policy (Smith & Topsakal): lr from max_lr / div_factor up to
// max_lr, then down to a far smaller final lr, over total_steps steps;
// step() once per batch.
class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options);

 protected:
  std::vector<double> compute_lr() override;

 private:
  struct Phase {
    double end_step;
    int start, end;  // 0: initial lr, 1: max lr, 2: min lr; momentum: 0 max, 1 base
    int start_momentum, end_momentum;
  };
  double anneal(double start, double end, double pct) const;

  OneCycleLROptions options_;
  std::vector<Phase> phases_;
  std::vector<double> initial_lrs_, max_lrs_, min_lrs_;
};

enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };

struct ReduceLROnPlateauOptions {
  STRIATE_ARG(PlateauMode, mode) = PlateauMode::Min;  // Min: the metric should fall (a loss)
  STRIATE_ARG(double, factor) = 0.1;                  // new lr = lr * factor
  STRIATE_ARG(int64_t, patience) = 10;                // bad epochs tolerated before reducing
  STRIATE_ARG(double, threshold) = 1e-4;              // what counts as an improvement
  STRIATE_ARG(ThresholdMode, threshold_mode) = ThresholdMode::Rel;
  STRIATE_ARG(int64_t, cooldown) = 0;                 // epochs to wait after a reduction
  STRIATE_ARG(std::vector<double>, min_lr) = {0.0};   // one for all groups, or one per group
  STRIATE_ARG(double, eps) = 1e-8;                    // smaller lr changes are ignored
};

// Reduces the lr by `factor` once a metric has not improved for `patience`
// epochs. Unlike the others, it steps on a metric: step(validation_loss).
class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer,
                             const ReduceLROnPlateauOptions& options = ReduceLROnPlateauOptions());
  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }
  Optimizer& optimizer() const { return optimizer_; }

  SchedulerStateDict state_dict() const;
  void load_state_dict(const SchedulerStateDict& state);

 private:
  bool is_better(double a, double best) const;
  void reduce_lr();

  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace striate::optim
