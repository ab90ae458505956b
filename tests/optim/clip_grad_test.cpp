// Gradient clipping against torch.nn.utils (tests/reference/gen_optim.py).
#include <gtest/gtest.h>

#include <cmath>

#include "optim/optim_test_util.h"

namespace striate {
namespace {

using namespace optim;
using optim_test::expect_close;
using optim_test::reference;

// Parameters whose gradients are the case's g0..g2.
std::vector<Tensor> params_with_grads(const std::string& name, DType dtype = kDouble) {
  std::vector<Tensor> params;
  for (int j = 0; j < 3; ++j) {
    const Tensor g = reference("clip/" + name + "/g" + std::to_string(j));
    Tensor p = zeros(g.sizes(), dtype).requires_grad_();
    p.mutable_grad() = g.to(dtype, true);
    params.push_back(p);
  }
  return params;
}

void expect_clipped(const std::string& name, const std::vector<Tensor>& params, double tol) {
  for (int j = 0; j < 3; ++j)
    expect_close(params[j].grad(), reference("clip/" + name + "/out" + std::to_string(j)), tol, tol,
                 name + " grad " + std::to_string(j));
}

void check_norm(const std::string& name, double max_norm, double norm_type) {
  SCOPED_TRACE(name);
  auto params = params_with_grads(name);
  const double total = clip_grad_norm_(params, max_norm, norm_type);
  EXPECT_NEAR(total, reference("clip/" + name + "/total_norm").item<double>(), 1e-12);
  expect_clipped(name, params, 1e-12);
}

TEST(ClipGradNorm, MatchesPyTorch) {
  check_norm("norm2", 1.0, 2);
  check_norm("norm1", 2.0, 1);
  check_norm("norm3", 0.7, 3);
  check_norm("norm_inf", 0.5, INFINITY);
  check_norm("norm2_no_clip", 100.0, 2);
}

TEST(ClipGradNorm, Float32AndNnUtilsAlias) {
  auto params = params_with_grads("norm2", kFloat);
  const double total = nn::utils::clip_grad_norm_(params, 1.0);
  EXPECT_NEAR(total, reference("clip/norm2/total_norm").item<double>(), 1e-5);
  expect_clipped("norm2", params, 1e-6);
}

TEST(ClipGradNorm, SkipsParametersWithoutGradients) {
  Tensor a = zeros({2}).requires_grad_(), b = zeros({2}).requires_grad_();
  EXPECT_EQ(clip_grad_norm_({a, b}, 1.0), 0.0);
  b.mutable_grad() = full({2}, 3.0);  // norm sqrt(18)
  const double total = clip_grad_norm_({a, b}, 1.0);
  EXPECT_NEAR(total, std::sqrt(18.0), 1e-6);
  EXPECT_FALSE(a.grad().defined());
  EXPECT_NEAR(clip_grad_norm_(b, 10.0), 1.0, 1e-5);  // already clipped to norm 1
}

TEST(ClipGradNorm, NonFiniteNorms) {
  Tensor a = zeros({2}).requires_grad_();
  a.mutable_grad() = tensor({1.f, INFINITY});
  EXPECT_THROW(clip_grad_norm_(a, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  EXPECT_TRUE(std::isinf(clip_grad_norm_(a, 1.0)));
  EXPECT_THROW(clip_grad_norm_(a, 1.0, 0.0), ValueError);
  EXPECT_THROW(clip_grad_norm_(a, 1.0, -2.0), ValueError);
}

TEST(ClipGradValue, MatchesPyTorch) {
  auto params = params_with_grads("value");
  clip_grad_value_(params, 0.3);
  expect_clipped("value", params, 0.0);
  EXPECT_THROW(clip_grad_value_(params, -1.0), ValueError);
}

}  // namespace
}  // namespace striate
