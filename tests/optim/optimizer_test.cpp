// SGD, Adam and AdamW against PyTorch 1.13 (tests/reference/gen_optim.py),
// parameter groups, state dicts, and bad arguments.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "optim/optim_test_util.h"

namespace striate {
namespace {

using namespace optim;
using optim_test::expect_close;
using optim_test::reference;

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>;

// The inputs of one reference case: initial parameters, per-step gradients,
// and which parameters have a gradient at each step.
struct Case {
  std::string name;
  std::vector<Tensor> init, grads, outs;
  std::vector<std::vector<bool>> has_grad;  // [step][param]

  explicit Case(const std::string& n) : name(n) {
    const std::string dir = "optimizer/" + n + "/";
    for (int j = 0; j < 2; ++j) {
      init.push_back(reference(dir + "p" + std::to_string(j)));
      grads.push_back(reference(dir + "g" + std::to_string(j)));
      outs.push_back(reference(dir + "out" + std::to_string(j)));
    }
    const Tensor mask = reference(dir + "has_grad");
    for (int64_t k = 0; k < mask.size(0); ++k) {
      has_grad.emplace_back();
      for (int64_t j = 0; j < mask.size(1); ++j) has_grad.back().push_back(mask[k][j].item<double>() != 0);
    }
  }
  int64_t steps() const { return grads[0].size(0); }

  std::vector<Tensor> params(DType dtype) const {
    std::vector<Tensor> out;
    for (const auto& p : init) out.push_back(p.to(dtype, true).requires_grad_(true));
    return out;
  }
  void set_grads(std::vector<Tensor>& params, int64_t k) const {
    for (size_t j = 0; j < params.size(); ++j)
      params[j].mutable_grad() = has_grad[k][j] ? grads[j][k].to(params[j].dtype(), true) : Tensor();
  }
};

void check_reference(const std::string& name, const MakeOptimizer& make, DType dtype = kDouble) {
  SCOPED_TRACE(name);
  const Case c(name);
  std::vector<Tensor> params = c.params(dtype);
  auto opt = make(params);
  const double tol = dtype == kDouble ? 1e-12 : 1e-6;
  for (int64_t k = 0; k < c.steps(); ++k) {
    c.set_grads(params, k);
    opt->step();
    for (size_t j = 0; j < params.size(); ++j)
      expect_close(params[j], c.outs[j][k], tol, tol, "param " + std::to_string(j) + " after step " + std::to_string(k));
  }
}

template <typename Opt, typename Options>
MakeOptimizer make(Options options) {
  return [options](const std::vector<Tensor>& p) { return std::make_unique<Opt>(p, options); };
}

TEST(SGD, MatchesPyTorch) {
  check_reference("sgd_plain", make<SGD>(SGDOptions(0.1)));
  check_reference("sgd_momentum_dampening", make<SGD>(SGDOptions(0.05).momentum(0.9).dampening(0.1)));
  check_reference("sgd_nesterov", make<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true)));
  check_reference("sgd_weight_decay", make<SGD>(SGDOptions(0.1).momentum(0.8).weight_decay(0.01)));
  check_reference("sgd_maximize", make<SGD>(SGDOptions(0.1).momentum(0.5).weight_decay(0.1).maximize(true)));
}

TEST(SGD, MatchesPyTorchInFloat32) {
  check_reference("sgd_nesterov_f32",
                  make<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01)), kFloat);
}

TEST(Adam, MatchesPyTorch) {
  check_reference("adam", make<Adam>(AdamOptions(0.01)));
  check_reference("adam_weight_decay", make<Adam>(AdamOptions(0.01).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.1)));
  check_reference("adam_amsgrad", make<Adam>(AdamOptions(0.01).amsgrad(true)));
  check_reference("adam_maximize", make<Adam>(AdamOptions(0.02).weight_decay(0.05).amsgrad(true).maximize(true)));
}

TEST(Adam, MatchesPyTorchInFloat32) {
  check_reference("adam_f32", make<Adam>(AdamOptions(0.01).weight_decay(0.01).amsgrad(true)), kFloat);
}

TEST(AdamW, MatchesPyTorch) {
  check_reference("adamw", make<AdamW>(AdamWOptions(0.01)));
  check_reference("adamw_amsgrad_weight_decay",
                  make<AdamW>(AdamWOptions(0.02).betas({0.85, 0.95}).weight_decay(0.1).amsgrad(true)));
  check_reference("adamw_f32", make<AdamW>(AdamWOptions(0.01).weight_decay(0.1)), kFloat);
}

TEST(AdamW, DefaultsAreAdamWs) {
  EXPECT_EQ(AdamWOptions().weight_decay(), 1e-2);
  EXPECT_EQ(AdamOptions().weight_decay(), 0.0);
  EXPECT_EQ(AdamOptions().lr(), 1e-3);
  EXPECT_EQ(std::get<1>(AdamOptions().betas()), 0.999);
}

TEST(ParamGroups, PerGroupOptionsMatchPyTorch) {
  check_reference("sgd_two_groups", [](const std::vector<Tensor>& p) {
    const SGDOptions defaults = SGDOptions(0.1).momentum(0.9);
    return std::make_unique<SGD>(
        std::vector<OptimizerParamGroup>{OptimizerParamGroup({p[0]}),
                                         OptimizerParamGroup({p[1]}, SGDOptions(defaults).lr(0.01).momentum(0.5)
                                                                         .weight_decay(0.1))},
        defaults);
  });
  check_reference("adam_two_groups", [](const std::vector<Tensor>& p) {
    return std::make_unique<Adam>(
        std::vector<OptimizerParamGroup>{
            OptimizerParamGroup({p[0]}),
            OptimizerParamGroup({p[1]}, std::make_unique<AdamOptions>(
                                            AdamOptions(0.001).betas({0.5, 0.9}).weight_decay(0.1)))},
        AdamOptions(0.01));
  });
}

TEST(ParamGroups, GroupsWithoutOptionsCopyTheDefaults) {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({3}).requires_grad_();
  SGD opt({OptimizerParamGroup({a}), OptimizerParamGroup({b}, SGDOptions(0.5))}, SGDOptions(0.1).momentum(0.9));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.get_lr(0), 0.1);
  EXPECT_EQ(opt.get_lr(1), 0.5);
  EXPECT_EQ(static_cast<SGDOptions&>(opt.param_groups()[0].options()).momentum(), 0.9);
  EXPECT_EQ(static_cast<SGDOptions&>(opt.param_groups()[1].options()).momentum(), 0.0);
  // A group's options are its own: changing one leaves the defaults alone.
  opt.set_lr(0, 0.2);
  EXPECT_EQ(opt.get_lr(0), 0.2);
  EXPECT_EQ(opt.defaults().get_lr(), 0.1);
  opt.set_lr(0.3);
  EXPECT_EQ(opt.get_lr(0), 0.3);
  EXPECT_EQ(opt.get_lr(1), 0.3);
  EXPECT_THROW(opt.get_lr(2), IndexError);
}

TEST(ParamGroups, AddParamGroupJoinsTheNextStep) {
  Tensor a = ones({2}, kDouble).requires_grad_(), b = ones({3}, kDouble).requires_grad_();
  SGD opt(std::vector<Tensor>{a}, SGDOptions(0.1));
  opt.add_param_group(OptimizerParamGroup({b}));
  opt.add_param_group(OptimizerParamGroup(std::vector<Tensor>{}, SGDOptions(1.0)));  // empty groups are allowed
  EXPECT_EQ(opt.param_groups().size(), 3u);
  EXPECT_EQ(opt.parameters().size(), 2u);
  b.mutable_grad() = full({3}, 2.0, kDouble);
  opt.step();
  EXPECT_TRUE(equal(b, full({3}, 0.8, kDouble)));
  EXPECT_TRUE(equal(a, ones({2}, kDouble)));  // no gradient: untouched
}

TEST(Optimizer, StepWithoutGradientsDoesNothing) {
  for (int which = 0; which < 3; ++which) {
    Tensor a = randn({4}, kDouble).requires_grad_();
    const Tensor before = a.detach().clone();
    std::unique_ptr<Optimizer> opt;
    if (which == 0) opt = std::make_unique<SGD>(std::vector<Tensor>{a}, SGDOptions(0.1).momentum(0.9));
    if (which == 1) opt = std::make_unique<Adam>(std::vector<Tensor>{a}, AdamOptions(0.1).weight_decay(0.1));
    if (which == 2) opt = std::make_unique<AdamW>(std::vector<Tensor>{a});
    opt->step();
    opt->step();
    EXPECT_TRUE(equal(a, before)) << opt->name();
    EXPECT_EQ(opt->state(a), nullptr) << opt->name();
    EXPECT_TRUE(opt->state_dict().tensors.empty()) << opt->name();
  }
}

TEST(Optimizer, ZeroGradDropsOrZeroesGradients) {
  Tensor a = ones({3}).requires_grad_(), b = ones({2}).requires_grad_();
  SGD opt(std::vector<Tensor>{a, b}, SGDOptions(0.1));
  (a * 2).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  opt.zero_grad(false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_TRUE(equal(a.grad(), zeros({3})));
  EXPECT_FALSE(b.grad().defined());
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizer, StepRunsTheClosureWithGradEnabled) {
  Tensor x = full({2}, 3.0, kDouble).requires_grad_();
  SGD opt(std::vector<Tensor>{x}, SGDOptions(0.25));
  NoGradGuard no_grad;  // the closure still records
  Tensor loss = opt.step([&] {
    opt.zero_grad();
    Tensor l = (x * x).sum();
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item<double>(), 18.0);
  EXPECT_TRUE(equal(x, full({2}, 1.5, kDouble)));  // 3 - 0.25 * 6
  EXPECT_FALSE(GradMode::is_enabled());
}

TEST(Optimizer, UpdatesAreNotRecorded) {
  Tensor x = ones({2}).requires_grad_();
  Adam opt(std::vector<Tensor>{x}, AdamOptions(0.1));
  (x * x).sum().backward();
  opt.step();
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn(), nullptr);
  EXPECT_EQ(opt.state(x)->step, 1);
  EXPECT_FALSE(opt.state(x)->buffers.at("exp_avg").requires_grad());
}

TEST(Optimizer, StateIsPerParameter) {
  Tensor a = ones({2}, kDouble).requires_grad_(), b = ones({2}, kDouble).requires_grad_();
  Adam opt(std::vector<Tensor>{a, b}, AdamOptions(0.1).amsgrad(true));
  a.mutable_grad() = ones({2}, kDouble);
  opt.step();
  opt.step();
  b.mutable_grad() = ones({2}, kDouble);
  opt.step();
  EXPECT_EQ(opt.state(a)->step, 3);
  EXPECT_EQ(opt.state(b)->step, 1);
  EXPECT_EQ(opt.state(b)->buffers.size(), 3u);  // exp_avg, exp_avg_sq, max_exp_avg_sq
}

// ---- state dict ---------------------------------------------------------------------

// Runs `steps` steps of a reference case's gradients from step `from`.
void run_steps(Optimizer& opt, std::vector<Tensor>& params, const Case& c, int64_t from, int64_t to) {
  for (int64_t k = from; k < to; ++k) {
    c.set_grads(params, k);
    opt.step();
  }
}

void check_round_trip(const std::string& name, const MakeOptimizer& make, const MakeOptimizer& make_other) {
  SCOPED_TRACE(name);
  const Case c("adam_amsgrad");
  std::vector<Tensor> params = c.params(kDouble);
  auto opt = make(params);
  run_steps(*opt, params, c, 0, 3);
  const OptimizerStateDict saved = opt->state_dict();
  std::vector<Tensor> resumed;
  for (const auto& p : params) resumed.push_back(p.detach().clone().requires_grad_(true));
  run_steps(*opt, params, c, 3, 6);

  // A fresh optimizer with other options: load_state_dict restores them too.
  auto opt2 = make_other(resumed);
  opt2->load_state_dict(saved);
  EXPECT_EQ(opt2->get_lr(0), opt->get_lr(0));
  run_steps(*opt2, resumed, c, 3, 6);
  for (size_t j = 0; j < params.size(); ++j) EXPECT_TRUE(equal(params[j], resumed[j])) << "param " << j;
  // Saving again gives the same dict as the uninterrupted optimizer's.
  const auto a = opt->state_dict(), b = opt2->state_dict();
  EXPECT_EQ(a.scalars, b.scalars);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [key, t] : a.tensors) EXPECT_TRUE(equal(t, b.tensors.at(key))) << key;
}

TEST(StateDict, RoundTripContinuesIdentically) {
  check_round_trip(
      "SGD", make<SGD>(SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01)),
      make<SGD>(SGDOptions(1.0)));
  check_round_trip("Adam", make<Adam>(AdamOptions(0.01).amsgrad(true).weight_decay(0.1).betas({0.8, 0.9})),
                   make<Adam>(AdamOptions(0.5)));
  check_round_trip("AdamW", make<AdamW>(AdamWOptions(0.02).eps(1e-6)), make<AdamW>(AdamWOptions(0.1).amsgrad(true)));
}

TEST(StateDict, KeysAreFlatAndDocumented) {
  Tensor a = ones({2}).requires_grad_(), b = ones({3}).requires_grad_(), c = ones({1}).requires_grad_();
  Adam opt({OptimizerParamGroup({a, b}), OptimizerParamGroup({c}, AdamOptions(0.5).amsgrad(true))},
           AdamOptions(0.1));
  b.mutable_grad() = ones({3});
  c.mutable_grad() = ones({1});
  opt.step();
  const auto dict = opt.state_dict();
  EXPECT_EQ(dict.optimizer, "Adam");
  std::vector<std::string> keys;
  for (const auto& [k, t] : dict.tensors) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"state.1.exp_avg", "state.1.exp_avg_sq", "state.2.exp_avg",
                                             "state.2.exp_avg_sq", "state.2.max_exp_avg_sq"}));
  EXPECT_EQ(dict.scalars.at("state.1.step"), 1.0);
  EXPECT_EQ(dict.scalars.count("state.0.step"), 0u);
  EXPECT_EQ(dict.scalars.at("param_groups.0.params"), 2.0);
  EXPECT_EQ(dict.scalars.at("param_groups.1.params"), 1.0);
  EXPECT_EQ(dict.scalars.at("param_groups.0.lr"), 0.1);
  EXPECT_EQ(dict.scalars.at("param_groups.1.lr"), 0.5);
  EXPECT_EQ(dict.scalars.at("param_groups.1.amsgrad"), 1.0);
  EXPECT_EQ(dict.scalars.at("param_groups.0.betas.1"), 0.999);
  // A snapshot: later steps do not change it.
  const Tensor saved = dict.tensors.at("state.1.exp_avg").clone();
  opt.step();
  EXPECT_TRUE(equal(dict.tensors.at("state.1.exp_avg"), saved));
}

TEST(StateDict, LoadCastsStateToTheParameterDtype) {
  Tensor a = ones({2}, kDouble).requires_grad_();
  SGD opt(std::vector<Tensor>{a}, SGDOptions(0.1).momentum(0.9));
  a.mutable_grad() = ones({2}, kDouble);
  opt.step();
  Tensor b = ones({2}, kFloat).requires_grad_();
  SGD opt2(std::vector<Tensor>{b}, SGDOptions(0.1).momentum(0.9));
  opt2.load_state_dict(opt.state_dict());
  EXPECT_EQ(opt2.state(b)->buffers.at("momentum_buffer").dtype(), kFloat);
}

TEST(StateDict, LoadRejectsMismatchesAndChangesNothing) {
  Tensor a = ones({2}).requires_grad_(), b = ones({3}).requires_grad_();
  Adam opt(std::vector<Tensor>{a, b}, AdamOptions(0.1));
  a.mutable_grad() = ones({2});
  b.mutable_grad() = ones({3});
  opt.step();
  const OptimizerStateDict good = opt.state_dict();

  Tensor c = ones({2}).requires_grad_(), d = ones({3}).requires_grad_();
  Adam target(std::vector<Tensor>{c, d}, AdamOptions(0.7));
  auto expect_rejected = [&](OptimizerStateDict bad, const std::string& why) {
    EXPECT_THROW(target.load_state_dict(bad), ValueError) << why;
    EXPECT_EQ(target.get_lr(0), 0.7) << why;
    EXPECT_EQ(target.state(c), nullptr) << why;
  };
  auto bad = good;
  bad.optimizer = "SGD";
  expect_rejected(bad, "other optimizer");
  bad = good;
  bad.tensors["state.1.exp_avg"] = zeros({4});
  expect_rejected(bad, "shape mismatch");
  bad = good;
  bad.tensors["state.7.exp_avg"] = zeros({2});
  expect_rejected(bad, "index out of range");
  bad = good;
  bad.tensors["momentum"] = zeros({2});
  expect_rejected(bad, "malformed key");
  bad = good;
  bad.scalars.erase("param_groups.0.eps");
  expect_rejected(bad, "missing option");
  bad = good;
  bad.scalars["param_groups.0.lr"] = -1;
  expect_rejected(bad, "invalid option");
  bad = good;
  bad.scalars["param_groups.1.params"] = 1;
  expect_rejected(bad, "extra group");
  bad = good;
  bad.scalars["param_groups.0.params"] = 3;
  expect_rejected(bad, "parameter count");
  bad = good;
  bad.scalars["state.0.step"] = 1.5;
  expect_rejected(bad, "fractional step");
  Adam one_param(std::vector<Tensor>{ones({2}).requires_grad_()});
  EXPECT_THROW(one_param.load_state_dict(good), ValueError);
}

// ---- bad arguments ---------------------------------------------------------------------

TEST(OptimizerErrors, InvalidOptionsAreValueErrors) {
  std::vector<Tensor> p{ones({2}).requires_grad_()};
  EXPECT_THROW(SGD(p, SGDOptions(-0.1)), ValueError);
  EXPECT_THROW(SGD(p, SGDOptions(0.1).momentum(-0.5)), ValueError);
  EXPECT_THROW(SGD(p, SGDOptions(0.1).weight_decay(-1)), ValueError);
  EXPECT_THROW(SGD(p, SGDOptions(0.1).nesterov(true)), ValueError);
  EXPECT_THROW(SGD(p, SGDOptions(0.1).nesterov(true).momentum(0.9).dampening(0.1)), ValueError);
  EXPECT_THROW(Adam(p, AdamOptions(-1e-3)), ValueError);
  EXPECT_THROW(Adam(p, AdamOptions().betas({1.0, 0.999})), ValueError);
  EXPECT_THROW(Adam(p, AdamOptions().betas({0.9, -0.1})), ValueError);
  EXPECT_THROW(Adam(p, AdamOptions().eps(-1)), ValueError);
  EXPECT_THROW(AdamW(p, AdamWOptions().weight_decay(-0.01)), ValueError);
  EXPECT_THROW(AdamW(p, AdamWOptions().betas({0.9, 1.5})), ValueError);
  try {
    SGD(p, SGDOptions(0.1).nesterov(true));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Nesterov"), std::string::npos) << e.what();
  }
  try {
    Adam(p, AdamOptions().betas({1.0, 0.999}));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("beta1"), std::string::npos) << e.what();
  }
}

TEST(OptimizerErrors, InvalidGroupsAndParameters) {
  Tensor a = ones({2}).requires_grad_();
  EXPECT_THROW(SGD(std::vector<Tensor>{}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD(std::vector<OptimizerParamGroup>{}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD(std::vector<Tensor>{Tensor()}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD(std::vector<Tensor>{ones({2}, kLong)}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD(std::vector<Tensor>{a * 2}, SGDOptions(0.1)), ValueError);  // not a leaf
  EXPECT_THROW(SGD(std::vector<Tensor>{a, a}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(SGD({OptimizerParamGroup({a}), OptimizerParamGroup({a})}, SGDOptions(0.1)), ValueError);
  // A group's options must be of the optimizer's kind, and valid.
  EXPECT_THROW(SGD({OptimizerParamGroup({a}, AdamOptions())}, SGDOptions(0.1)), ValueError);
  EXPECT_THROW(Adam({OptimizerParamGroup({a}, SGDOptions(0.1))}), ValueError);
  EXPECT_THROW(SGD({OptimizerParamGroup({a}, SGDOptions(-1))}, SGDOptions(0.1)), ValueError);
  SGD opt(std::vector<Tensor>{a}, SGDOptions(0.1));
  EXPECT_THROW(opt.add_param_group(OptimizerParamGroup({a})), ValueError);
  EXPECT_EQ(opt.param_groups().size(), 1u);
}

TEST(OptimizerErrors, GradientOfAnotherShape) {
  Tensor a = ones({2, 3}).requires_grad_();
  a.mutable_grad() = ones({3});
  SGD sgd(std::vector<Tensor>{a}, SGDOptions(0.1));
  EXPECT_THROW(sgd.step(), ShapeError);
  Adam adam(std::vector<Tensor>{a});
  EXPECT_THROW(adam.step(), ShapeError);
  EXPECT_TRUE(equal(a, ones({2, 3})));
}

}  // namespace
}  // namespace striate
