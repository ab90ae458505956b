// Activations against scalar formulas written here (forward and derivative),
// gradcheck in f64 around (not on) the kinks, PyTorch reference values that
// include the kinks, NaN and infinities, the in-place forms, dtypes, layouts
// and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Deterministic values in [-lo, hi] that keep `gap` away from every kink.
std::vector<double> sample(int64_t n, uint64_t seed, double scale = 3.0, std::vector<double> kinks = {0.0},
                           double gap = 1e-2) {
  std::vector<double> v(n);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = (static_cast<double>((s >> 11) % 1000000) / 1000000.0 * 2 - 1) * scale;
    for (double k : kinks)
      if (std::abs(x - k) < gap) x = k + (x < k ? -gap : gap);
  }
  return v;
}

Tensor make(const Shape& sizes, uint64_t seed, DType dtype = kDouble, double scale = 3.0,
            std::vector<double> kinks = {0.0}) {
  return from_vector(sample(shape_numel(sizes), seed, scale, std::move(kinks)), sizes, TensorOptions(dtype));
}

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

// Equal NaNs and equal infinities match; otherwise |a - e| <= tol * (1 + |e|).
void expect_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << what << " at " << i << ": expected NaN, got " << a[i];
      continue;
    }
    if (std::isinf(e[i])) {
      EXPECT_EQ(a[i], e[i]) << what << " at " << i;
      continue;
    }
    EXPECT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
  }
}

Tensor ref(const std::string& c, const std::string& name) {
  return striate::testing::load_npy(striate::testing::reference_path("activation/" + c + "/" + name + ".npy"));
}

// ---- the scalar oracle --------------------------------------------------------------

struct Scalar1 {
  std::function<double(double)> f, df;  // value and derivative (PyTorch's side at kinks)
};

double sigmoid_ref(double x) { return 0.5 * (1 + std::tanh(x / 2)); }
double phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

struct Case {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  Scalar1 oracle;
  std::vector<double> kinks;  // where gradcheck must not sample
};

std::vector<Case> cases() {
  const double sa = 1.6732632423543772848170429916717, ss = 1.0507009873554804934193349852946;
  const double c = std::sqrt(2 / M_PI);
  auto elu_f = [](double a, double s, double is) {
    return Scalar1{[=](double x) { return x > 0 ? s * x : s * a * (std::exp(is * x) - 1); },
                   [=](double x) { return x > 0 ? s : s * a * is * std::exp(is * x); }};
  };
  auto hardtanh_f = [](double lo, double hi) {
    return Scalar1{[=](double x) { return std::min(hi, std::max(lo, x)); },
                   [=](double x) { return (x > lo && x < hi) ? 1.0 : 0.0; }};
  };
  auto softplus_f = [](double b, double t) {
    return Scalar1{[=](double x) { return b * x > t ? x : std::log(1 + std::exp(b * x)) / b; },
                   [=](double x) { return b * x > t ? 1.0 : sigmoid_ref(b * x); }};
  };
  return {
      {"relu", [](const Tensor& x) { return relu(x); },
       {[](double x) { return x > 0 ? x : 0; }, [](double x) { return x > 0 ? 1.0 : 0.0; }}, {0}},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x); },
       {[](double x) { return x > 0 ? x : 0.01 * x; }, [](double x) { return x > 0 ? 1.0 : 0.01; }}, {0}},
      {"leaky_relu_0.3", [](const Tensor& x) { return leaky_relu(x, 0.3); },
       {[](double x) { return x > 0 ? x : 0.3 * x; }, [](double x) { return x > 0 ? 1.0 : 0.3; }}, {0}},
      {"elu", [](const Tensor& x) { return elu(x); }, elu_f(1, 1, 1), {0}},
      {"elu_1.5_2_0.5", [](const Tensor& x) { return elu(x, 1.5, 2.0, 0.5); }, elu_f(1.5, 2.0, 0.5), {0}},
      {"selu", [](const Tensor& x) { return selu(x); }, elu_f(sa, ss, 1), {0}},
      {"gelu", [](const Tensor& x) { return gelu(x); },
       {[](double x) { return x * phi(x); },
        [](double x) { return phi(x) + x * std::exp(-x * x / 2) / std::sqrt(2 * M_PI); }}, {}},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); },
       {[=](double x) { return 0.5 * x * (1 + std::tanh(c * (x + 0.044715 * x * x * x))); },
        [=](double x) {
          const double t = std::tanh(c * (x + 0.044715 * x * x * x));
          return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
        }}, {}},
      {"silu", [](const Tensor& x) { return silu(x); },
       {[](double x) { return x * sigmoid_ref(x); },
        [](double x) { return sigmoid_ref(x) + x * sigmoid_ref(x) * (1 - sigmoid_ref(x)); }}, {}},
      {"tanh", [](const Tensor& x) { return striate::tanh(x); },
       {[](double x) { return std::tanh(x); }, [](double x) { return 1 - std::tanh(x) * std::tanh(x); }}, {}},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); },
       {[](double x) { return sigmoid_ref(x); }, [](double x) { return sigmoid_ref(x) * (1 - sigmoid_ref(x)); }}, {}},
      {"softplus", [](const Tensor& x) { return softplus(x); }, softplus_f(1, 20), {}},
      {"softplus_2_1", [](const Tensor& x) { return softplus(x, 2, 1); }, softplus_f(2, 1), {0.5}},
      {"softsign", [](const Tensor& x) { return softsign(x); },
       {[](double x) { return x / (1 + std::abs(x)); },
        [](double x) { return 1 / ((1 + std::abs(x)) * (1 + std::abs(x))); }}, {}},
      {"hardtanh", [](const Tensor& x) { return hardtanh(x); }, hardtanh_f(-1, 1), {-1, 1}},
      {"hardtanh_-2_0.5", [](const Tensor& x) { return hardtanh(x, -2, 0.5); }, hardtanh_f(-2, 0.5), {-2, 0.5}},
      {"relu6", [](const Tensor& x) { return relu6(x); }, hardtanh_f(0, 6), {0, 6}},
  };
}

}  // namespace

TEST(Activation, ForwardAndBackwardMatchScalarOracle) {
  for (const Case& c : cases())
    for (DType dtype : {kDouble, kFloat}) {
      const Tensor x = make({3, 7, 5}, 1, dtype, 8.0, c.kinks);
      const Tensor gout = make({3, 7, 5}, 2, dtype);
      const Tensor xl = leaf(x);
      const Tensor y = c.op(xl);
      ASSERT_EQ(y.dtype(), dtype) << c.name;
      y.backward(gout);
      const auto xv = x.to_vector<double>(), gv = gout.to_vector<double>();
      std::vector<double> want_y(xv.size()), want_g(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        want_y[i] = c.oracle.f(xv[i]);
        want_g[i] = gv[i] * c.oracle.df(xv[i]);
      }
      const double tol = dtype == kDouble ? 1e-12 : 2e-6;
      expect_close(y, from_vector(want_y, x.sizes()), tol, c.name + " forward");
      expect_close(xl.grad(), from_vector(want_g, x.sizes()), tol, c.name + " backward");
    }
}

TEST(Activation, GradcheckAwayFromKinks) {
  for (const Case& c : cases()) {
    const Tensor x = make({2, 3, 4}, 3, kDouble, 4.0, c.kinks).requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return c.op(in[0]); }, {x})) << c.name;
    // A transposed (non-contiguous) input walks the strided kernel path.
    const Tensor xt = make({4, 5}, 4, kDouble, 4.0, c.kinks).t().requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return c.op(in[0]); }, {xt})) << c.name << " transposed";
  }
}

TEST(Activation, GradientAtTheKinksFollowsPyTorch) {
  auto grad_at = [](const std::function<Tensor(const Tensor&)>& f, std::vector<double> at) {
    Tensor x = from_vector(at, {static_cast<int64_t>(at.size())}).requires_grad_(true);
    sum(f(x)).backward();
    return x.grad().to_vector<double>();
  };
  EXPECT_EQ(grad_at([](const Tensor& x) { return relu(x); }, {0.0, -0.0}), (std::vector<double>{0, 0}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return leaky_relu(x, 0.2); }, {0.0}), (std::vector<double>{0.2}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return hardtanh(x); }, {-1.0, 1.0, 0.0}), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return relu6(x); }, {0.0, 6.0, 3.0}), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return elu(x, 2.0); }, {0.0}), (std::vector<double>{2.0}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return elu(x, 1.5, 2.0, 0.5); }, {0.0}), (std::vector<double>{1.5}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return softplus(x, 1, 2); }, {2.0})[0], 1 / (1 + std::exp(-2.0)));
  // NaN inputs take the "else" side of PyTorch's conditions.
  EXPECT_EQ(grad_at([](const Tensor& x) { return relu(x); }, {kNaN}), (std::vector<double>{1}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return leaky_relu(x, 0.2); }, {kNaN}), (std::vector<double>{0.2}));
  EXPECT_EQ(grad_at([](const Tensor& x) { return hardtanh(x); }, {kNaN}), (std::vector<double>{1}));
  Tensor w = tensor({0.25}, TensorOptions(kDouble)).requires_grad_(true);
  Tensor x = tensor({0.0, -2.0, 3.0}, TensorOptions(kDouble)).requires_grad_(true);
  sum(prelu(x, w)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.25, 0.25, 1}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{-2.0}));
}

TEST(Activation, MatchesPyTorchIncludingKinksNanAndInfinities) {
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> table = {
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"leaky_relu_default", [](const Tensor& x) { return leaky_relu(x); }},
      {"leaky_relu_0.2", [](const Tensor& x) { return leaky_relu(x, 0.2); }},
      {"elu_default", [](const Tensor& x) { return elu(x); }},
      {"elu_alpha1.5_scale2_input_scale0.5", [](const Tensor& x) { return elu(x, 1.5, 2.0, 0.5); }},
      {"selu", [](const Tensor& x) { return selu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"tanh", [](const Tensor& x) { return striate::tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"softplus_default", [](const Tensor& x) { return softplus(x); }},
      {"softplus_beta2_threshold5", [](const Tensor& x) { return softplus(x, 2.0, 5.0); }},
      {"softsign", [](const Tensor& x) { return softsign(x); }},
      {"hardtanh_default", [](const Tensor& x) { return hardtanh(x); }},
      {"hardtanh_-2_3", [](const Tensor& x) { return hardtanh(x, -2.0, 3.0); }},
      {"relu6", [](const Tensor& x) { return relu6(x); }},
  };
  for (const auto& [name, op] : table) {
    Tensor x = ref(name, "x").requires_grad_(true);
    Tensor y = op(x);
    expect_close(y, ref(name, "y"), 1e-12, name + " y");
    y.backward(ref(name, "gout"));
    Tensor gx = ref(name, "gx");
    if (name == "softsign") {
      // PyTorch differentiates x / (1 + |x|) as a composite and gets inf / inf
      // = NaN at +-inf; the kernel's 1 / (1 + |x|)^2 gives the limit, 0.
      const auto xv = x.detach().to_vector<double>();
      auto gv = gx.to_vector<double>();
      for (size_t i = 0; i < xv.size(); ++i)
        if (std::isinf(xv[i])) gv[i] = 0;
      gx = from_vector(gv, gx.sizes());
    }
    expect_close(x.grad(), gx, 1e-12, name + " gx");
  }
}

TEST(Activation, PreluMatchesOracleGradcheckAndPyTorch) {
  // Oracle: per-channel weights along dim 1 of [2, 3, 4, 5].
  const Tensor x = make({2, 3, 4, 5}, 5), w = tensor({0.25, -0.5, 1.5}, TensorOptions(kDouble));
  const Tensor gout = make({2, 3, 4, 5}, 6);
  Tensor xl = leaf(x), wl = leaf(w);
  Tensor y = prelu(xl, wl);
  y.backward(gout);
  const auto xv = x.to_vector<double>(), gv = gout.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> want_y(xv.size()), want_gx(xv.size()), want_gw(3, 0.0);
  for (size_t i = 0; i < xv.size(); ++i) {
    const int64_t ch = static_cast<int64_t>(i / 20) % 3;
    want_y[i] = xv[i] > 0 ? xv[i] : wv[ch] * xv[i];
    want_gx[i] = xv[i] > 0 ? gv[i] : wv[ch] * gv[i];
    if (xv[i] <= 0) want_gw[ch] += xv[i] * gv[i];
  }
  expect_close(y, from_vector(want_y, x.sizes()), 1e-14, "prelu y");
  expect_close(xl.grad(), from_vector(want_gx, x.sizes()), 1e-14, "prelu gx");
  expect_close(wl.grad(), from_vector(want_gw, {3}), 1e-12, "prelu gw");

  auto check = [](Tensor input, Tensor weight, const std::string& what) {
    EXPECT_TRUE(gradcheck([](const TensorList& in) { return prelu(in[0], in[1]); },
                          {input.requires_grad_(true), weight.requires_grad_(true)}))
        << what;
  };
  check(make({2, 3, 4}, 7), make({3}, 8), "per channel");
  check(make({2, 3, 2, 2}, 9), make({1}, 10), "shared");
  check(make({5}, 11), make({1}, 12), "1-D input");
  check(make({4, 3}, 13), make({3}, 14), "2-D input");
  check(make({3, 4, 2}, 15).permute({0, 2, 1}), make({2}, 16), "permuted input");

  for (const std::string name : {"prelu_per_channel", "prelu_shared", "prelu_1d", "prelu_2d_input"}) {
    Tensor rx = ref(name, "x").requires_grad_(true), rw = ref(name, "w").requires_grad_(true);
    Tensor ry = prelu(rx, rw);
    expect_close(ry, ref(name, "y"), 1e-12, name + " y");
    ry.backward(ref(name, "gout"));
    expect_close(rx.grad(), ref(name, "gx"), 1e-12, name + " gx");
    expect_close(rw.grad(), ref(name, "gw"), 1e-12, name + " gw");
  }
}

TEST(Activation, InPlaceFormsMatchOutOfPlace) {
  const std::vector<std::pair<std::function<Tensor&(Tensor&)>, std::function<Tensor(const Tensor&)>>> pairs = {
      {[](Tensor& t) -> Tensor& { return relu_(t); }, [](const Tensor& t) { return relu(t); }},
      {[](Tensor& t) -> Tensor& { return leaky_relu_(t, 0.1); }, [](const Tensor& t) { return leaky_relu(t, 0.1); }},
      {[](Tensor& t) -> Tensor& { return elu_(t, 0.7); }, [](const Tensor& t) { return elu(t, 0.7); }},
      {[](Tensor& t) -> Tensor& { return selu_(t); }, [](const Tensor& t) { return selu(t); }},
      {[](Tensor& t) -> Tensor& { return silu_(t); }, [](const Tensor& t) { return silu(t); }},
      {[](Tensor& t) -> Tensor& { return tanh_(t); }, [](const Tensor& t) { return striate::tanh(t); }},
      {[](Tensor& t) -> Tensor& { return sigmoid_(t); }, [](const Tensor& t) { return sigmoid(t); }},
      {[](Tensor& t) -> Tensor& { return hardtanh_(t, -0.5, 2); }, [](const Tensor& t) { return hardtanh(t, -0.5, 2); }},
      {[](Tensor& t) -> Tensor& { return relu6_(t); }, [](const Tensor& t) { return relu6(t); }},
  };
  for (size_t k = 0; k < pairs.size(); ++k) {
    const auto& [inplace_op, op] = pairs[k];
    // Without autograd the kernel writes straight into the tensor (here a strided view).
    Tensor base = make({4, 6}, 20 + k, kDouble, 8.0);
    Tensor view = base.t();
    const Tensor expected = op(view);
    Tensor& result = inplace_op(view);
    EXPECT_TRUE(result.is_same(view)) << k;
    expect_close(view, expected, 0, "in-place value " + std::to_string(k));

    // With autograd: a non-leaf is overwritten and its history continues.
    Tensor a = make({3, 5}, 40 + k, kDouble, 8.0).requires_grad_(true);
    Tensor b = a * 2.0;
    inplace_op(b);
    b.backward(ones({3, 5}, TensorOptions(kDouble)));
    Tensor a2 = leaf(a);
    op(a2 * 2.0).backward(ones({3, 5}, TensorOptions(kDouble)));
    expect_close(a.grad(), a2.grad(), 1e-15, "in-place grad " + std::to_string(k));
  }
  Tensor l = make({3}, 60).requires_grad_(true);
  EXPECT_THROW(relu_(l), AutogradError);
  Tensor ints = tensor({-3, 0, 4}, TensorOptions(kLong));
  relu_(ints);
  EXPECT_EQ(ints.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 4}));
}

TEST(Activation, DTypesAndLayouts) {
  const Tensor x64 = make({2, 3, 4, 5}, 70, kDouble, 5.0);
  for (const Case& c : cases()) {
    const Tensor y64 = c.op(x64);
    for (DType t : {kFloat, kHalf, kBFloat16}) {
      const Tensor y = c.op(x64.to(t));
      ASSERT_EQ(y.dtype(), t) << c.name;
      const double tol = t == kFloat ? 1e-6 : t == kHalf ? 4e-3 : 3e-2;
      expect_close(y.to(kDouble), c.op(x64.to(t).to(kDouble)), tol, c.name + " in " + dtype_name(t));
    }
    // ChannelsLast stays ChannelsLast, with the same values.
    const Tensor cl = x64.contiguous(MemoryFormat::ChannelsLast);
    const Tensor ycl = c.op(cl);
    EXPECT_TRUE(ycl.is_contiguous(MemoryFormat::ChannelsLast)) << c.name;
    expect_close(ycl, y64, 0, c.name + " channels last");
  }
  // Half-precision gradients flow (computed in float, stored in the input dtype).
  Tensor h = make({8}, 71, kHalf).requires_grad_(true);
  sum(gelu(h)).backward();
  EXPECT_EQ(h.grad().dtype(), kHalf);
  // relu keeps integers; the others need floating inputs.
  EXPECT_EQ(relu(tensor({-2, 5}, TensorOptions(kInt))).to_vector<int32_t>(), (std::vector<int32_t>{0, 5}));
  EXPECT_THROW(sigmoid(tensor({1, 2}, TensorOptions(kLong))), DTypeError);
  EXPECT_THROW(relu(tensor({true, false})), DTypeError);
  EXPECT_THROW(gelu(tensor({1, 2}, TensorOptions(kInt))), DTypeError);
  // Empty tensors pass through.
  EXPECT_EQ(silu(empty({0, 3})).sizes(), (Shape{0, 3}));
}

TEST(Activation, BadArguments) {
  const Tensor x = make({2, 3, 4}, 80);
  EXPECT_THROW(prelu(x, make({4}, 81)), ShapeError);        // 4 weights, 3 channels
  EXPECT_THROW(prelu(x, make({3, 1}, 82)), ShapeError);     // weight of 2 dims
  EXPECT_THROW(prelu(make({5}, 83), make({5}, 84)), ShapeError);  // a 1-D input has one channel
  EXPECT_THROW(prelu(x, tensor({1, 2, 3}, TensorOptions(kLong))), DTypeError);
  EXPECT_THROW(gelu(x, "erf"), ValueError);
  EXPECT_THROW(hardtanh(x, 1.0, -1.0), ValueError);
  EXPECT_THROW(softplus(x, 0.0), ValueError);
  EXPECT_THROW(relu(Tensor()), Error);
  try {
    prelu(x, make({4}, 81));
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("prelu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
  }
}
