// Elementwise ops: values against hand-computed results, PyTorch's type
// promotion, broadcasting, in-place forms, error paths and gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "striate/striate.h"

using namespace striate;

namespace {
Tensor f32(std::vector<float> v, Shape s) { return from_vector(v, s); }
Tensor f64(std::vector<double> v, Shape s) { return from_vector(v, s); }
Tensor i32(std::vector<int32_t> v, Shape s) { return from_vector(v, s); }
Tensor i64(std::vector<int64_t> v, Shape s) { return from_vector(v, s); }
}  // namespace

TEST(Elementwise, ArithmeticValues) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2}), b = f32({10, 20, 30, 40}, {2, 2});
  EXPECT_EQ((a + b).to_vector<float>(), (std::vector<float>{11, 22, 33, 44}));
  EXPECT_EQ((b - a).to_vector<float>(), (std::vector<float>{9, 18, 27, 36}));
  EXPECT_EQ((a * b).to_vector<float>(), (std::vector<float>{10, 40, 90, 160}));
  EXPECT_EQ((b / a).to_vector<float>(), (std::vector<float>{10, 10, 10, 10}));
  EXPECT_EQ(add(a, b, 2).to_vector<float>(), (std::vector<float>{21, 42, 63, 84}));
  EXPECT_EQ(sub(a, b, 0.5).to_vector<float>(), (std::vector<float>{-4, -8, -12, -16}));
  EXPECT_EQ((10 - a).to_vector<float>(), (std::vector<float>{9, 8, 7, 6}));
  EXPECT_EQ((12 / a).to_vector<float>(), (std::vector<float>{12, 6, 4, 3}));
  EXPECT_EQ((-a).to_vector<float>(), (std::vector<float>{-1, -2, -3, -4}));
  EXPECT_EQ(pow(a, 2).to_vector<float>(), (std::vector<float>{1, 4, 9, 16}));
  EXPECT_EQ(pow(2, a).to_vector<float>(), (std::vector<float>{2, 4, 8, 16}));
}

TEST(Elementwise, UnaryValuesMatchLibm) {
  std::vector<double> x = {0.25, 0.5, 1.0, 2.0, 7.5};
  Tensor t = f64(x, {5});
  auto e = exp(t).to_vector<double>(), l = log(t).to_vector<double>(), s = sqrt(t).to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_DOUBLE_EQ(e[i], std::exp(x[i]));
    EXPECT_DOUBLE_EQ(l[i], std::log(x[i]));
    EXPECT_DOUBLE_EQ(s[i], std::sqrt(x[i]));
  }
  EXPECT_EQ(abs(f32({-1.5, 0, 2}, {3})).to_vector<float>(), (std::vector<float>{1.5, 0, 2}));
  EXPECT_EQ(sign(f32({-3, 0, 5}, {3})).to_vector<float>(), (std::vector<float>{-1, 0, 1}));
  EXPECT_EQ(abs(i32({-7, 7}, {2})).to_vector<int32_t>(), (std::vector<int32_t>{7, 7}));
}

TEST(Elementwise, Clamp) {
  Tensor t = f32({-2, -0.5, 0.5, 2}, {4});
  EXPECT_EQ(clamp(t, -1, 1).to_vector<float>(), (std::vector<float>{-1, -0.5, 0.5, 1}));
  EXPECT_EQ(clamp_min(t, 0).to_vector<float>(), (std::vector<float>{0, 0, 0.5, 2}));
  EXPECT_EQ(clamp_max(t, 0).to_vector<float>(), (std::vector<float>{-2, -0.5, 0, 0}));
  Tensor n = f32({std::nanf(""), 5}, {2});
  EXPECT_TRUE(std::isnan(clamp(n, 0, 1).to_vector<float>()[0]));  // NaN propagates
  EXPECT_THROW(clamp(t, std::nullopt, std::nullopt), ValueError);
  // An integer tensor clamped by a float bound becomes floating, as in PyTorch.
  EXPECT_EQ(clamp(i64({1, 5}, {2}), 0.5, 2.5).dtype(), kFloat);
}

TEST(Elementwise, BroadcastingFollowsNumpyRules) {
  Tensor col = f32({1, 2, 3}, {3, 1}), row = f32({10, 20}, {2});
  Tensor s = col + row;
  EXPECT_EQ(s.sizes(), (Shape{3, 2}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{11, 21, 12, 22, 13, 23}));
  Tensor big = ones({2, 1, 4}), other = ones({3, 1});
  EXPECT_EQ((big * other).sizes(), (Shape{2, 3, 4}));
  try {
    (void)(ones({2, 3}) + ones({4}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3] and [4]"), std::string::npos) << e.what();
  }
}

TEST(Elementwise, NonContiguousAndChannelsLastOperands) {
  Tensor a = arange(12, TensorOptions(kFloat)).reshape({3, 4});
  Tensor t = a.t();  // [4, 3], strides [1, 4]
  Tensor r = t + t;
  auto expect = a.t().contiguous().to_vector<float>();
  auto got = r.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], 2 * expect[i]);
  Tensor nhwc = arange(24, TensorOptions(kFloat)).reshape({1, 2, 3, 4}).contiguous(MemoryFormat::ChannelsLast);
  Tensor y = nhwc * 2;
  EXPECT_TRUE(y.is_contiguous(MemoryFormat::ChannelsLast));  // layout is preserved
  EXPECT_TRUE(equal(y.contiguous(), arange(24, TensorOptions(kFloat)).reshape({1, 2, 3, 4}) * 2));
  Tensor strided = arange(10, TensorOptions(kFloat)).slice(0, 1, 10, 3);  // 1, 4, 7
  EXPECT_EQ((strided * strided).to_vector<float>(), (std::vector<float>{1, 16, 49}));
}

TEST(Elementwise, TypePromotionMatchesPyTorch) {
  Tensor i = i32({1, 2}, {2}), l = i64({1, 2}, {2}), f = f32({1, 2}, {2}), d = f64({1, 2}, {2});
  Tensor h = f.to(kHalf), bf = f.to(kBFloat16), b = from_vector<bool>({true, false}, {2});
  EXPECT_EQ((i + l).dtype(), kLong);
  EXPECT_EQ((i + f).dtype(), kFloat);
  EXPECT_EQ((f + d).dtype(), kDouble);
  EXPECT_EQ((h + bf).dtype(), kFloat);
  EXPECT_EQ((h + f).dtype(), kFloat);
  EXPECT_EQ((b + b).dtype(), kBool);
  EXPECT_EQ((b + i).dtype(), kInt);
  // Scalars do not widen within a category but do lift the category.
  EXPECT_EQ((i * 2).dtype(), kInt);
  EXPECT_EQ((i * 2.5).dtype(), kFloat);
  EXPECT_EQ((h * 2.5).dtype(), kHalf);
  EXPECT_EQ((b + 1).dtype(), kLong);
  // A 0-dim tensor behaves like a scalar unless of a higher category.
  EXPECT_EQ((f + scalar_tensor(1.0, kDouble)).dtype(), kFloat);
  EXPECT_EQ((i + scalar_tensor(1.0, kDouble)).dtype(), kDouble);
  EXPECT_EQ((scalar_tensor(1, kInt) + scalar_tensor(1.0, kDouble)).dtype(), kDouble);
  // True division gives a float for integers.
  Tensor q = i64({3, 4}, {2}) / i64({2, 8}, {2});
  EXPECT_EQ(q.dtype(), kFloat);
  EXPECT_EQ(q.to_vector<float>(), (std::vector<float>{1.5, 0.5}));
  EXPECT_EQ(exp(i).dtype(), kFloat);
  EXPECT_EQ(result_type(i, Scalar(2.0)), kFloat);
}

TEST(Elementwise, HalfAndBFloat16ComputeInFloatAndRound) {
  Tensor h = f32({1, 2049, 0.1f}, {3}).to(kHalf);
  Tensor s = h + h;
  EXPECT_EQ(s.dtype(), kHalf);
  auto v = s.to_vector<float>();
  EXPECT_EQ(v[0], 2.0f);
  EXPECT_EQ(v[1], 4096.0f);  // 2049 rounds to 2048 in f16
  EXPECT_NEAR(v[2], 0.2f, 1e-3);
  Tensor bf = f32({1, 3}, {2}).to(kBFloat16);
  EXPECT_EQ((bf * bf).to_vector<float>(), (std::vector<float>{1, 9}));
}

TEST(Elementwise, IntegerOps) {
  Tensor a = i64({2, 3, -4}, {3});
  EXPECT_EQ(pow(a, 3).to_vector<int64_t>(), (std::vector<int64_t>{8, 27, -64}));
  EXPECT_EQ((a * 3).to_vector<int64_t>(), (std::vector<int64_t>{6, 9, -12}));
  EXPECT_THROW(pow(a, -1), ValueError);
  EXPECT_THROW(add(a, a, 0.5), DTypeError);
}

TEST(Elementwise, ComparisonsAndWhere) {
  Tensor a = f32({1, 2, 3}, {3}), b = f32({3, 2, 1}, {3});
  EXPECT_EQ((a < b).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ((a <= b).to_vector<bool>(), (std::vector<bool>{true, true, false}));
  EXPECT_EQ((a == b).to_vector<bool>(), (std::vector<bool>{false, true, false}));
  EXPECT_EQ((a != 2).to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ((a > 1.5).dtype(), kBool);
  EXPECT_EQ(where(a > b, a, b).to_vector<float>(), (std::vector<float>{3, 2, 3}));
  EXPECT_EQ(where(a > 1, a, 0.0).to_vector<float>(), (std::vector<float>{0, 2, 3}));
  EXPECT_THROW(where(a, a, b), DTypeError);
  EXPECT_EQ(logical_not(a > 1).to_vector<bool>(), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(maximum(a, b).to_vector<float>(), (std::vector<float>{3, 2, 3}));
  EXPECT_EQ(minimum(a, b).to_vector<float>(), (std::vector<float>{1, 2, 1}));
  EXPECT_TRUE(allclose(a, a + 1e-9));
  EXPECT_FALSE(allclose(a, a + 1e-3));
  EXPECT_TRUE(equal(a, f32({1, 2, 3}, {3})));
  EXPECT_FALSE(equal(a, b));
}

TEST(Elementwise, InPlaceFormsWriteIntoSelf) {
  Tensor a = f32({1, 2, 3, 4}, {2, 2});
  Tensor alias = a.view({4});
  a.add_(f32({10, 20}, {2}));  // broadcast the other operand
  EXPECT_EQ(alias.to_vector<float>(), (std::vector<float>{11, 22, 13, 24}));
  a.mul_(2).sub_(1).div_(2);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{10.5, 21.5, 12.5, 23.5}));
  a.clamp_(11, 22);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{11, 21.5, 12.5, 22}));
  Tensor t = f32({1, 4}, {2});
  t.sqrt_();
  t.pow_(3);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 8}));
  Tensor s = arange(6, TensorOptions(kFloat)).reshape({2, 3}).t();  // non-contiguous self
  s += 1;
  EXPECT_EQ(s.contiguous().to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // The version counter moves with every in-place write.
  const uint32_t v = s._version();
  s.neg_();
  EXPECT_EQ(s._version(), v + 1);
}

TEST(Elementwise, InPlaceRejectsImpossibleResults) {
  Tensor i = i64({1, 2}, {2});
  EXPECT_THROW(i.add_(0.5), DTypeError);  // float result into an int tensor
  EXPECT_THROW(i.div_(2), DTypeError);    // true division is float
  Tensor small = zeros({3});
  EXPECT_THROW(small.add_(ones({2, 3})), ShapeError);  // would need to grow self
  Tensor i2 = i64({1, 2}, {2});
  i2.mul_(f32({2, 3}, {2}).to(kInt));  // int into int is fine
  EXPECT_EQ(i2.to_vector<int64_t>(), (std::vector<int64_t>{2, 6}));
}

TEST(Elementwise, ErrorsNameTheOp) {
  Tensor b = from_vector<bool>({true}, {1});
  EXPECT_THROW(-b, DTypeError);
  EXPECT_THROW(b - b, DTypeError);
  EXPECT_THROW(add(Tensor(), ones({1})), ValueError);
  try {
    (void)mul(ones({2}), ones({3}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("mul:", 0), 0u) << e.what();
  }
}

TEST(ElementwiseGrad, BinaryGradientsWithBroadcasting) {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor b = f64({2, 4, 8}, {3}).requires_grad_();
  Tensor y = (a * b + a / b - b).sum();
  y.backward();
  // d/da = b + 1/b (per element); d/db = sum over rows of (a - a/b^2 - 1).
  auto ga = a.grad().to_vector<double>(), gb = b.grad().to_vector<double>();
  std::vector<double> av = {1, 2, 3, 4, 5, 6}, bv = {2, 4, 8};
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_DOUBLE_EQ(ga[r * 3 + c], bv[c] + 1 / bv[c]);
  for (int c = 0; c < 3; ++c) {
    double expect = 0;
    for (int r = 0; r < 2; ++r) expect += av[r * 3 + c] - av[r * 3 + c] / (bv[c] * bv[c]) - 1;
    EXPECT_NEAR(gb[c], expect, 1e-12);
  }
  EXPECT_EQ(b.grad().sizes(), (Shape{3}));
}

TEST(ElementwiseGrad, MixedDtypeGradientsKeepInputDtype) {
  Tensor a = f32({1, 2}, {2}).requires_grad_();
  Tensor b = f64({3, 4}, {2}).requires_grad_();
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().dtype(), kFloat);
  EXPECT_EQ(b.grad().dtype(), kDouble);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{3, 4}));
}

TEST(ElementwiseGrad, GradcheckEveryDifferentiableOp) {
  auto x = [] { return f64({0.7, 1.3, 2.1, 0.4, 1.9, 0.8}, {2, 3}).requires_grad_(); };
  auto y = [] { return f64({1.1, 0.6, 1.7}, {3}).requires_grad_(); };
  using F = std::function<Tensor(const TensorList&)>;
  std::vector<std::pair<const char*, F>> binary = {
      {"add", [](const TensorList& v) { return add(v[0], v[1], 0.5); }},
      {"sub", [](const TensorList& v) { return sub(v[0], v[1], 2); }},
      {"mul", [](const TensorList& v) { return v[0] * v[1]; }},
      {"div", [](const TensorList& v) { return v[0] / v[1]; }},
      {"pow", [](const TensorList& v) { return pow(v[0], v[1]); }},
      {"maximum", [](const TensorList& v) { return maximum(v[0], v[1]); }},
      {"minimum", [](const TensorList& v) { return minimum(v[0], v[1]); }},
      {"where", [](const TensorList& v) { return where(v[0] > 1, v[0], v[1]); }},
  };
  for (auto& [name, fn] : binary) EXPECT_TRUE(gradcheck(fn, {x(), y()})) << name;
  std::vector<std::pair<const char*, F>> unary = {
      {"neg", [](const TensorList& v) { return -v[0]; }},
      {"abs", [](const TensorList& v) { return abs(v[0] - 1); }},
      {"exp", [](const TensorList& v) { return exp(v[0]); }},
      {"log", [](const TensorList& v) { return log(v[0]); }},
      {"sqrt", [](const TensorList& v) { return sqrt(v[0]); }},
      {"clamp", [](const TensorList& v) { return clamp(v[0], 0.5, 1.5); }},
      {"pow_scalar", [](const TensorList& v) { return pow(v[0], 2.5); }},
      {"rpow", [](const TensorList& v) { return pow(3.0, v[0]); }},
      {"rsub", [](const TensorList& v) { return 1.0 - v[0]; }},
      {"rdiv", [](const TensorList& v) { return 2.0 / v[0]; }},
      {"inplace_chain", [](const TensorList& v) {
         Tensor t = v[0] * 1;  // a non-leaf, so in-place ops are recorded
         t.mul_(v[0]).add_(2).exp_();
         return t;
       }},
  };
  for (auto& [name, fn] : unary) EXPECT_TRUE(gradcheck(fn, {x()})) << name;
}

TEST(ElementwiseGrad, InPlaceOnLeafRequiringGradIsAnError) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_THROW(w.add_(1), AutogradError);
  {
    NoGradGuard guard;  // an optimizer-style update is fine
    w.add_(1);
  }
  EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{2, 2}));
}

TEST(ElementwiseGrad, ModifyingASavedTensorIsDetected) {
  Tensor a = f64({1, 2}, {2}).requires_grad_();
  Tensor b = a * 1;
  Tensor c = b * b;  // saves b
  b.add_(1);
  EXPECT_THROW(c.sum().backward(), AutogradError);
}
