// LR schedulers against PyTorch 1.13's lr sequences (tests/reference/gen_optim.py),
// their state dicts, and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "optim/optim_test_util.h"

namespace striate {
namespace {

using namespace optim;
using optim_test::expect_close;
using optim_test::reference;

// The optimizer every reference case uses: two groups, lr 0.1 and 0.05,
// SGD with momentum 0.9 (or Adam).
struct TwoGroups {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({3}).requires_grad_();
  std::unique_ptr<Optimizer> opt;

  explicit TwoGroups(bool adam = false) {
    if (adam) {
      opt = std::make_unique<Adam>(
          std::vector<OptimizerParamGroup>{OptimizerParamGroup({a}), OptimizerParamGroup({b}, AdamOptions(0.05))},
          AdamOptions(0.1));
    } else {
      const SGDOptions defaults = SGDOptions(0.1).momentum(0.9);
      opt = std::make_unique<SGD>(
          std::vector<OptimizerParamGroup>{OptimizerParamGroup({a}),
                                           OptimizerParamGroup({b}, SGDOptions(defaults).lr(0.05))},
          defaults);
    }
  }
  std::vector<double> lrs() const { return {opt->get_lr(0), opt->get_lr(1)}; }
  std::vector<double> momenta() const {
    return {*opt->param_groups()[0].options().get_momentum(), *opt->param_groups()[1].options().get_momentum()};
  }
};

std::vector<double> row(const Tensor& t, int64_t k) { return t[k].to_vector<double>(); }

// step(k) advances the schedulers once; the lr after construction is row 0.
void check_sequence(const std::string& name, const TwoGroups& g, const std::function<void(int64_t)>& step,
                    const std::function<std::vector<double>()>& last_lr, bool check_momentum = false) {
  SCOPED_TRACE(name);
  const Tensor lr = reference("scheduler/" + name + "/lr");
  const Tensor momentum = reference("scheduler/" + name + "/momentum");
  expect_close(g.lrs(), row(lr, 0), 1e-12, "lr at construction");
  for (int64_t k = 1; k < lr.size(0); ++k) {
    g.opt->step();
    step(k - 1);
    expect_close(g.lrs(), row(lr, k), 1e-12, "lr after step " + std::to_string(k));
    expect_close(last_lr(), row(lr, k), 1e-12, "get_last_lr after step " + std::to_string(k));
    if (check_momentum) expect_close(g.momenta(), row(momentum, k), 1e-12, "momentum after step " + std::to_string(k));
  }
}

template <typename Sched, typename... Args>
void check_scheduler(const std::string& name, Args... args) {
  TwoGroups g;
  Sched sched(*g.opt, args...);
  check_sequence(name, g, [&](int64_t) { sched.step(); }, [&] { return sched.get_last_lr(); });
}

TEST(LRScheduler, StepLR) { check_scheduler<StepLR>("step_lr", int64_t{3}, 0.5); }
TEST(LRScheduler, MultiStepLR) {
  check_scheduler<MultiStepLR>("multistep_lr", std::vector<int64_t>{2, 5, 5, 9}, 0.3);
}
TEST(LRScheduler, ExponentialLR) { check_scheduler<ExponentialLR>("exponential_lr", 0.9); }
TEST(LRScheduler, CosineAnnealingLRPastTMax) { check_scheduler<CosineAnnealingLR>("cosine_lr", int64_t{7}, 0.001); }
TEST(LRScheduler, LinearLRWarmup) { check_scheduler<LinearLR>("linear_lr", 0.25, 1.0, int64_t{6}); }
TEST(LRScheduler, LinearLRDecay) { check_scheduler<LinearLR>("linear_lr_decay", 1.0, 0.1, int64_t{8}); }
TEST(LRScheduler, ConstantLR) { check_scheduler<ConstantLR>("constant_lr", 0.5, int64_t{4}); }
TEST(LRScheduler, LambdaLR) {
  check_scheduler<LambdaLR>("lambda_lr", std::function<double(int64_t)>([](int64_t e) {
                              return std::pow(0.95, static_cast<double>(e));
                            }));
}

TEST(LRScheduler, WarmupThenCosineShareTheBaseLr) {
  TwoGroups g;
  LinearLR warmup(*g.opt, 0.1, 1.0, 5);
  CosineAnnealingLR cosine(*g.opt, 20);
  EXPECT_EQ(cosine.base_lrs(), (std::vector<double>{0.1, 0.05}));  // the initial lr, not the warmed-down one
  check_sequence(
      "warmup_cosine", g,
      [&](int64_t) {
        warmup.step();
        cosine.step();
      },
      [&] { return cosine.get_last_lr(); });
}

TEST(OneCycleLR, CosWithMomentum) {
  TwoGroups g;
  OneCycleLR sched(*g.opt, OneCycleLROptions(std::vector<double>{1.0, 0.5}, 20));
  check_sequence("onecycle", g, [&](int64_t) { sched.step(); }, [&] { return sched.get_last_lr(); }, true);
  EXPECT_THROW(sched.step(), ValueError);  // past total_steps
}

TEST(OneCycleLR, ThreePhaseLinearCyclesAdamBeta1) {
  TwoGroups g(/*adam=*/true);
  OneCycleLR sched(*g.opt, OneCycleLROptions(0.3, 20)
                               .pct_start(0.25)
                               .anneal_strategy(AnnealStrategy::Linear)
                               .div_factor(10)
                               .final_div_factor(100)
                               .three_phase(true)
                               .base_momentum(0.8)
                               .max_momentum(0.9));
  check_sequence("onecycle_three_phase_linear_adam", g, [&](int64_t) { sched.step(); },
                 [&] { return sched.get_last_lr(); }, true);
}

TEST(OneCycleLR, WithoutMomentumCycling) {
  TwoGroups g;
  OneCycleLR sched(*g.opt, OneCycleLROptions(0.2, 12).pct_start(0.4).cycle_momentum(false));
  check_sequence("onecycle_no_momentum", g, [&](int64_t) { sched.step(); }, [&] { return sched.get_last_lr(); },
                 true);
}

TEST(ReduceLROnPlateau, MinRelativeWithCooldown) {
  TwoGroups g;
  const auto metrics = reference("scheduler/plateau_min_rel/metrics").to_vector<double>();
  ReduceLROnPlateau sched(*g.opt, ReduceLROnPlateauOptions()
                                      .mode(PlateauMode::Min)
                                      .factor(0.5)
                                      .patience(2)
                                      .threshold(0.01)
                                      .cooldown(1)
                                      .min_lr({0.01}));
  check_sequence("plateau_min_rel", g, [&](int64_t k) { sched.step(metrics[k]); },
                 [&] { return sched.get_last_lr(); });
}

TEST(ReduceLROnPlateau, MaxAbsoluteWithPerGroupMinLr) {
  TwoGroups g;
  const auto metrics = reference("scheduler/plateau_max_abs/metrics").to_vector<double>();
  ReduceLROnPlateau sched(*g.opt, ReduceLROnPlateauOptions()
                                      .mode(PlateauMode::Max)
                                      .factor(0.3)
                                      .patience(1)
                                      .threshold(0.1)
                                      .threshold_mode(ThresholdMode::Abs)
                                      .min_lr({0.02, 0.001}));
  check_sequence("plateau_max_abs", g, [&](int64_t k) { sched.step(metrics[k]); },
                 [&] { return sched.get_last_lr(); });
}

// ---- state dicts -------------------------------------------------------------------------

// Runs 7 steps, saves optimizer and scheduler, runs 9 more; a fresh pair
// that loads the saved state must produce the same 9 lrs.
template <typename Sched>
void check_resume(const std::string& what, const std::function<std::unique_ptr<Sched>(Optimizer&)>& make,
                  const std::function<void(Sched&, int64_t)>& step) {
  SCOPED_TRACE(what);
  TwoGroups g;
  auto sched = make(*g.opt);
  for (int64_t k = 0; k < 7; ++k) step(*sched, k);
  const auto opt_state = g.opt->state_dict();
  const auto sched_state = sched->state_dict();
  std::vector<std::vector<double>> expected, expected_momenta;
  for (int64_t k = 7; k < 16; ++k) {
    step(*sched, k);
    expected.push_back(g.lrs());
    expected_momenta.push_back(g.momenta());
  }
  TwoGroups h;
  auto resumed = make(*h.opt);
  h.opt->load_state_dict(opt_state);
  resumed->load_state_dict(sched_state);
  for (int64_t k = 7; k < 16; ++k) {
    step(*resumed, k);
    EXPECT_EQ(h.lrs(), expected[k - 7]) << "step " << k;
    EXPECT_EQ(h.momenta(), expected_momenta[k - 7]) << "step " << k;
  }
}

TEST(LRSchedulerState, ResumeContinuesTheSchedule) {
  auto plain = [](auto& s, int64_t) { s.step(); };
  check_resume<StepLR>("StepLR", [](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.5); }, plain);
  check_resume<CosineAnnealingLR>(
      "CosineAnnealingLR", [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 10, 0.01); }, plain);
  check_resume<LinearLR>("LinearLR", [](Optimizer& o) { return std::make_unique<LinearLR>(o, 0.2, 1.0, 10); },
                         plain);
  check_resume<OneCycleLR>(
      "OneCycleLR", [](Optimizer& o) { return std::make_unique<OneCycleLR>(o, OneCycleLROptions(1.0, 20)); },
      plain);
  std::vector<double> metrics{5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2};
  check_resume<ReduceLROnPlateau>(
      "ReduceLROnPlateau",
      [](Optimizer& o) {
        return std::make_unique<ReduceLROnPlateau>(o, ReduceLROnPlateauOptions().patience(1).cooldown(1));
      },
      [&](ReduceLROnPlateau& s, int64_t k) { s.step(metrics[k]); });
}

TEST(LRSchedulerState, StateDictContents) {
  TwoGroups g;
  StepLR sched(*g.opt, 2, 0.5);
  sched.step();
  sched.step();
  const auto state = sched.state_dict();
  EXPECT_EQ(state.at("last_epoch"), 2.0);
  EXPECT_EQ(state.at("base_lrs.1"), 0.05);
  EXPECT_EQ(state.at("last_lr.0"), 0.05);
  auto bad = state;
  bad.erase("base_lrs.0");
  EXPECT_THROW(sched.load_state_dict(bad), ValueError);
  bad = state;
  bad["base_lrs.2"] = 1.0;
  EXPECT_THROW(sched.load_state_dict(bad), ValueError);
  // Scheduler state in the optimizer's dict: the initial lr.
  EXPECT_EQ(g.opt->state_dict().scalars.at("param_groups.1.initial_lr"), 0.05);
}

// ---- bad arguments -------------------------------------------------------------------------

TEST(LRSchedulerErrors, InvalidArguments) {
  TwoGroups g;
  Optimizer& o = *g.opt;
  EXPECT_THROW(StepLR(o, 0), ValueError);
  EXPECT_THROW(CosineAnnealingLR(o, 0), ValueError);
  EXPECT_THROW(LinearLR(o, 1.5), ValueError);
  EXPECT_THROW(LinearLR(o, 0.5, -0.1), ValueError);
  EXPECT_THROW(LinearLR(o, 0.5, 1.0, 0), ValueError);
  EXPECT_THROW(ConstantLR(o, 2.0), ValueError);
  EXPECT_THROW(LambdaLR(o, nullptr), ValueError);
  EXPECT_THROW(OneCycleLR(o, OneCycleLROptions(0.1, 0)), ValueError);
  EXPECT_THROW(OneCycleLR(o, OneCycleLROptions(0.1, 10).pct_start(1.5)), ValueError);
  EXPECT_THROW(OneCycleLR(o, OneCycleLROptions(std::vector<double>{0.1, 0.2, 0.3}, 10)), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(o, ReduceLROnPlateauOptions().factor(1.0)), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(o, ReduceLROnPlateauOptions().min_lr({0.1, 0.1, 0.1})), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(o, ReduceLROnPlateauOptions().patience(-1)), ValueError);
}

TEST(LRSchedulerErrors, GroupAddedAfterTheScheduler) {
  TwoGroups g;
  StepLR step_lr(*g.opt, 2);
  ReduceLROnPlateau plateau(*g.opt);
  g.opt->add_param_group(OptimizerParamGroup({zeros({1}).requires_grad_()}));
  EXPECT_THROW(step_lr.step(), ValueError);
  EXPECT_THROW(plateau.step(1.0), ValueError);
}

}  // namespace
}  // namespace striate
