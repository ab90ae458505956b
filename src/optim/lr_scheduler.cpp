#include "striate/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "striate/core/error.h"

namespace striate::optim {

namespace {

constexpr double kPi = std::numbers::pi;

std::string indexed(const char* name, size_t i) { return std::string(name) + "." + std::to_string(i); }

double lookup(const SchedulerStateDict& state, const std::string& key, const char* op) {
  auto it = state.find(key);
  STRIATE_CHECK(it != state.end(), ValueError, op, ": load_state_dict: missing key ", key);
  return it->second;
}

}  // namespace

// ---- LRScheduler -----------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (auto& group : optimizer_.param_groups()) {
    if (!group.initial_lr) group.initial_lr = group.options().get_lr();
    base_lrs_.push_back(*group.initial_lr);
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

void LRScheduler::step() {
  auto& groups = optimizer_.param_groups();
  STRIATE_CHECK(base_lrs_.size() == groups.size(), ValueError, "LRScheduler: step: the optimizer has ",
                groups.size(), " parameter groups, the scheduler was made for ", base_lrs_.size(),
                " (add parameter groups before creating the scheduler)");
  ++step_count_;
  ++last_epoch_;
  const std::vector<double> lrs = compute_lr();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lrs[i]);
  last_lr_ = group_lrs();
}

SchedulerStateDict LRScheduler::state_dict() const {
  SchedulerStateDict state{{"last_epoch", static_cast<double>(last_epoch_)},
                           {"step_count", static_cast<double>(step_count_)}};
  for (size_t i = 0; i < base_lrs_.size(); ++i) state[indexed("base_lrs", i)] = base_lrs_[i];
  for (size_t i = 0; i < last_lr_.size(); ++i) state[indexed("last_lr", i)] = last_lr_[i];
  return state;
}

void LRScheduler::load_state_dict(const SchedulerStateDict& state) {
  const char* op = "LRScheduler";
  const size_t n = base_lrs_.size();
  STRIATE_CHECK(!state.count(indexed("base_lrs", n)), ValueError, op,
                ": load_state_dict: the state has more than ", n, " groups");
  std::vector<double> base(n), last(n);
  for (size_t i = 0; i < n; ++i) {
    base[i] = lookup(state, indexed("base_lrs", i), op);
    last[i] = lookup(state, indexed("last_lr", i), op);
  }
  last_epoch_ = static_cast<int64_t>(lookup(state, "last_epoch", op));
  step_count_ = static_cast<int64_t>(lookup(state, "step_count", op));
  base_lrs_ = std::move(base);
  last_lr_ = std::move(last);
}

// ---- the epoch schedulers ----------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  STRIATE_CHECK(step_size > 0, ValueError, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::compute_lr() {
  auto lrs = group_lrs();
  if (last_epoch() == 0 || last_epoch() % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  for (int64_t m : milestones) ++milestones_[m];
  initial_step();
}

std::vector<double> MultiStepLR::compute_lr() {
  auto lrs = group_lrs();
  auto it = milestones_.find(last_epoch());
  if (it == milestones_.end()) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(gamma_, static_cast<double>(it->second));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma) : LRScheduler(optimizer), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::compute_lr() {
  auto lrs = group_lrs();
  if (last_epoch() == 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  STRIATE_CHECK(T_max > 0, ValueError, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}

// The recursive form multiplies the current lr by a ratio of cosines, so an
// lr changed from outside (by another scheduler) is annealed from there.
std::vector<double> CosineAnnealingLR::compute_lr() {
  auto lrs = group_lrs();
  const int64_t e = last_epoch();
  const double T = static_cast<double>(T_max_);
  if (e == 0) return lrs;
  if (step_count() == 1 && e > 0) {  // resumed at a later epoch: the closed form
    for (size_t i = 0; i < lrs.size(); ++i)
      lrs[i] = eta_min_ + (base_lrs_[i] - eta_min_) * (1 + std::cos(static_cast<double>(e) * kPi / T)) / 2;
    return lrs;
  }
  if ((e - 1 - T_max_) % (2 * T_max_) == 0) {  // at the bottom the ratio would divide by zero
    for (size_t i = 0; i < lrs.size(); ++i) lrs[i] = lrs[i] + (base_lrs_[i] - eta_min_) * (1 - std::cos(kPi / T)) / 2;
    return lrs;
  }
  for (double& lr : lrs)
    lr = (1 + std::cos(kPi * static_cast<double>(e) / T)) / (1 + std::cos(kPi * static_cast<double>(e - 1) / T)) *
             (lr - eta_min_) +
         eta_min_;
  return lrs;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer), start_factor_(start_factor), end_factor_(end_factor), total_iters_(total_iters) {
  STRIATE_CHECK(start_factor > 0 && start_factor <= 1, ValueError,
                "LinearLR: start_factor must be in (0, 1], got ", start_factor);
  STRIATE_CHECK(end_factor >= 0 && end_factor <= 1, ValueError, "LinearLR: end_factor must be in [0, 1], got ",
                end_factor);
  STRIATE_CHECK(total_iters > 0, ValueError, "LinearLR: total_iters must be positive, got ", total_iters);
  initial_step();
}

std::vector<double> LinearLR::compute_lr() {
  auto lrs = group_lrs();
  const int64_t e = last_epoch();
  if (e == 0) {
    for (double& lr : lrs) lr *= start_factor_;
    return lrs;
  }
  if (e > total_iters_) return lrs;
  const double delta = end_factor_ - start_factor_;
  for (double& lr : lrs)
    lr *= 1. + delta / (static_cast<double>(total_iters_) * start_factor_ + static_cast<double>(e - 1) * delta);
  return lrs;
}

ConstantLR::ConstantLR(Optimizer& optimizer, double factor, int64_t total_iters)
    : LRScheduler(optimizer), factor_(factor), total_iters_(total_iters) {
  STRIATE_CHECK(factor > 0 && factor <= 1, ValueError, "ConstantLR: factor must be in (0, 1], got ", factor);
  STRIATE_CHECK(total_iters >= 0, ValueError, "ConstantLR: total_iters must be >= 0, got ", total_iters);
  initial_step();
}

std::vector<double> ConstantLR::compute_lr() {
  auto lrs = group_lrs();
  if (last_epoch() == 0) {
    for (double& lr : lrs) lr *= factor_;
  } else if (last_epoch() == total_iters_) {
    for (double& lr : lrs) lr *= 1.0 / factor_;
  }
  return lrs;
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> lr_lambda)
    : LRScheduler(optimizer), lr_lambda_(std::move(lr_lambda)) {
  STRIATE_CHECK(lr_lambda_ != nullptr, ValueError, "LambdaLR: lr_lambda is empty");
  initial_step();
}

std::vector<double> LambdaLR::compute_lr() {
  std::vector<double> lrs;
  const double f = lr_lambda_(last_epoch());
  for (double base : base_lrs_) lrs.push_back(base * f);
  return lrs;
}

// ---- OneCycleLR -------------------------------------------------------------------

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options)
    : LRScheduler(optimizer), options_(options) {
  const char* op = "OneCycleLR";
  auto& groups = optimizer_.param_groups();
  const auto& o = options_;
  STRIATE_CHECK(o.total_steps() > 0, ValueError, op, ": total_steps must be positive, got ", o.total_steps());
  STRIATE_CHECK(o.pct_start() >= 0 && o.pct_start() <= 1, ValueError, op, ": pct_start must be in [0, 1], got ",
                o.pct_start());
  STRIATE_CHECK(o.max_lr().size() == 1 || o.max_lr().size() == groups.size(), ValueError, op,
                ": expected 1 or ", groups.size(), " values for max_lr, got ", o.max_lr().size());
  STRIATE_CHECK(o.div_factor() > 0 && o.final_div_factor() > 0, ValueError, op,
                ": div_factor and final_div_factor must be positive, got ", o.div_factor(), " and ",
                o.final_div_factor());
  const double total = static_cast<double>(o.total_steps());
  if (o.three_phase()) {
    phases_ = {{o.pct_start() * total - 1, 0, 1, 0, 1},
               {2 * o.pct_start() * total - 2, 1, 0, 1, 0},
               {total - 1, 0, 2, 0, 0}};
  } else {
    phases_ = {{o.pct_start() * total - 1, 0, 1, 0, 1}, {total - 1, 1, 2, 1, 0}};
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const double max_lr = o.max_lr().size() == 1 ? o.max_lr()[0] : o.max_lr()[i];
    max_lrs_.push_back(max_lr);
    initial_lrs_.push_back(max_lr / o.div_factor());
    min_lrs_.push_back(initial_lrs_.back() / o.final_div_factor());
    groups[i].initial_lr = initial_lrs_.back();
  }
  base_lrs_ = initial_lrs_;
  if (o.cycle_momentum()) {
    STRIATE_CHECK(optimizer_.defaults().get_momentum().has_value(), ValueError, op, ": ", optimizer_.name(),
                  " has no momentum to cycle; set cycle_momentum(false)");
    for (auto& group : groups) group.options().set_momentum(o.max_momentum());
  }
  initial_step();
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy() == AnnealStrategy::Linear) return (end - start) * pct + start;
  const double cos_out = std::cos(kPi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

std::vector<double> OneCycleLR::compute_lr() {
  const int64_t step_num = last_epoch();
  STRIATE_CHECK(step_num <= options_.total_steps(), ValueError, "OneCycleLR: tried to step ", step_num + 1,
                " times; the specified number of total steps is ", options_.total_steps());
  auto& groups = optimizer_.param_groups();
  std::vector<double> lrs;
  const double momenta[2] = {options_.max_momentum(), options_.base_momentum()};
  for (size_t i = 0; i < groups.size(); ++i) {
    const double group_lrs[3] = {initial_lrs_[i], max_lrs_[i], min_lrs_[i]};
    double start_step = 0, lr = 0, momentum = 0;
    for (size_t p = 0; p < phases_.size(); ++p) {
      const Phase& phase = phases_[p];
      if (static_cast<double>(step_num) <= phase.end_step || p == phases_.size() - 1) {
        const double pct = (static_cast<double>(step_num) - start_step) / (phase.end_step - start_step);
        lr = anneal(group_lrs[phase.start], group_lrs[phase.end], pct);
        momentum = anneal(momenta[phase.start_momentum], momenta[phase.end_momentum], pct);
        break;
      }
      start_step = phase.end_step;
    }
    lrs.push_back(lr);
    if (options_.cycle_momentum()) groups[i].options().set_momentum(momentum);
  }
  return lrs;
}

// ---- ReduceLROnPlateau ---------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, const ReduceLROnPlateauOptions& options)
    : optimizer_(optimizer), options_(options) {
  const char* op = "ReduceLROnPlateau";
  const size_t n = optimizer_.param_groups().size();
  STRIATE_CHECK(options.factor() < 1.0, ValueError, op, ": factor should be < 1.0, got ", options.factor());
  STRIATE_CHECK(options.patience() >= 0 && options.cooldown() >= 0, ValueError, op,
                ": patience and cooldown must be >= 0, got ", options.patience(), " and ", options.cooldown());
  STRIATE_CHECK(options.min_lr().size() == 1 || options.min_lr().size() == n, ValueError, op, ": expected 1 or ", n,
                " values for min_lr, got ", options.min_lr().size());
  min_lrs_ = options.min_lr().size() == 1 ? std::vector<double>(n, options.min_lr()[0]) : options.min_lr();
  best_ = options.mode() == PlateauMode::Min ? INFINITY : -INFINITY;
  for (const auto& group : optimizer_.param_groups()) last_lr_.push_back(group.options().get_lr());
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  const double t = options_.threshold();
  const bool rel = options_.threshold_mode() == ThresholdMode::Rel;
  if (options_.mode() == PlateauMode::Min) return rel ? a < best * (1. - t) : a < best - t;
  return rel ? a > best * (t + 1.) : a > best + t;
}

void ReduceLROnPlateau::step(double metric) {
  STRIATE_CHECK(min_lrs_.size() == optimizer_.param_groups().size(), ValueError,
                "ReduceLROnPlateau: step: the optimizer has ", optimizer_.param_groups().size(),
                " parameter groups, the scheduler was made for ", min_lrs_.size(),
                " (add parameter groups before creating the scheduler)");
  last_epoch_ += 1;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    num_bad_epochs_ += 1;
  }
  if (in_cooldown()) {
    cooldown_counter_ -= 1;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience()) {
    reduce_lr();
    cooldown_counter_ = options_.cooldown();
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (const auto& group : optimizer_.param_groups()) last_lr_.push_back(group.options().get_lr());
}

void ReduceLROnPlateau::reduce_lr() {
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = groups[i].options().get_lr();
    const double new_lr = std::max(old_lr * options_.factor(), min_lrs_[i]);
    if (old_lr - new_lr > options_.eps()) groups[i].options().set_lr(new_lr);
  }
}

SchedulerStateDict ReduceLROnPlateau::state_dict() const {
  SchedulerStateDict state{{"last_epoch", static_cast<double>(last_epoch_)},
                           {"best", best_},
                           {"num_bad_epochs", static_cast<double>(num_bad_epochs_)},
                           {"cooldown_counter", static_cast<double>(cooldown_counter_)}};
  for (size_t i = 0; i < last_lr_.size(); ++i) state[indexed("last_lr", i)] = last_lr_[i];
  return state;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerStateDict& state) {
  const char* op = "ReduceLROnPlateau";
  const size_t n = optimizer_.param_groups().size();
  STRIATE_CHECK(!state.count(indexed("last_lr", n)), ValueError, op, ": load_state_dict: the state has more than ",
                n, " groups");
  std::vector<double> last(n);
  for (size_t i = 0; i < n; ++i) last[i] = lookup(state, indexed("last_lr", i), op);
  const double epoch = lookup(state, "last_epoch", op), best = lookup(state, "best", op);
  const double bad = lookup(state, "num_bad_epochs", op), cooldown = lookup(state, "cooldown_counter", op);
  last_epoch_ = static_cast<int64_t>(epoch);
  best_ = best;
  num_bad_epochs_ = static_cast<int64_t>(bad);
  cooldown_counter_ = static_cast<int64_t>(cooldown);
  last_lr_ = std::move(last);
}

}  // namespace striate::optim
