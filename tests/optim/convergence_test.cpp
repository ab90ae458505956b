// Each optimizer minimises a badly scaled quadratic; with a scheduler and
// gradient clipping in the loop too.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "striate/striate.h"

namespace striate {
namespace {

using namespace optim;

// f(x) = sum(scale * (x - target)^2), minimum 0 at target; the curvatures
// differ by 20x.
struct Quadratic {
  Tensor target = tensor({1.0, -2.0, 0.5, 3.0}, kDouble);
  Tensor scale = tensor({1.0, 5.0, 10.0, 20.0}, kDouble).div(20.0);
  Tensor x = zeros({4}, kDouble).requires_grad_();

  Tensor loss() const { return ((x - target).pow(2) * scale).sum(); }
  double distance() const { return (x - target).abs().max().item<double>(); }
};

double minimise(Optimizer& opt, Quadratic& q, int iterations, const std::function<void()>& after_step = nullptr) {
  for (int i = 0; i < iterations; ++i) {
    opt.zero_grad();
    q.loss().backward();
    opt.step();
    if (after_step) after_step();
  }
  return q.distance();
}

TEST(Convergence, SGD) {
  Quadratic q;
  SGD opt(std::vector<Tensor>{q.x}, SGDOptions(0.5));
  EXPECT_LT(minimise(opt, q, 400), 1e-4);
}

TEST(Convergence, SGDMomentumNesterov) {
  Quadratic q;
  SGD opt(std::vector<Tensor>{q.x}, SGDOptions(0.2).momentum(0.9).nesterov(true));
  EXPECT_LT(minimise(opt, q, 300), 1e-4);
}

TEST(Convergence, Adam) {
  Quadratic q;
  Adam opt(std::vector<Tensor>{q.x}, AdamOptions(0.1));
  ExponentialLR sched(opt, 0.99);
  EXPECT_LT(minimise(opt, q, 500, [&] { sched.step(); }), 1e-3);
}

TEST(Convergence, AdamAmsgrad) {
  Quadratic q;
  Adam opt(std::vector<Tensor>{q.x}, AdamOptions(0.1).amsgrad(true));
  CosineAnnealingLR sched(opt, 500);
  EXPECT_LT(minimise(opt, q, 500, [&] { sched.step(); }), 1e-3);
}

TEST(Convergence, AdamWWithoutDecay) {
  Quadratic q;
  AdamW opt(std::vector<Tensor>{q.x}, AdamWOptions(0.1).weight_decay(0));
  StepLR sched(opt, 100, 0.3);
  EXPECT_LT(minimise(opt, q, 500, [&] { sched.step(); }), 1e-3);
}

TEST(Convergence, SGDWithClippingAndOneCycle) {
  Quadratic q;
  SGD opt(std::vector<Tensor>{q.x}, SGDOptions(0.1).momentum(0.9));
  OneCycleLR sched(opt, OneCycleLROptions(0.5, 400));
  for (int i = 0; i < 400; ++i) {
    opt.zero_grad();
    q.loss().backward();
    clip_grad_norm_({q.x}, 1.0);
    opt.step();
    sched.step();
  }
  EXPECT_LT(q.distance(), 1e-3);
}

}  // namespace
}  // namespace striate
