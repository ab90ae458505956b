// softmax and log_softmax against a naive long-double oracle along every dim
// (inner strided dims included), gradcheck in f64, PyTorch reference values
// (large inputs, -inf entries), the dtype argument and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> sample(int64_t n, uint64_t seed, double scale = 3.0) {
  std::vector<double> v(n);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = (static_cast<double>((s >> 11) % 1000000) / 1000000.0 * 2 - 1) * scale;
  }
  return v;
}

Tensor make(const Shape& sizes, uint64_t seed, DType dtype = kDouble, double scale = 3.0) {
  return from_vector(sample(shape_numel(sizes), seed, scale), sizes, TensorOptions(dtype));
}

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

void expect_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << what << " at " << i << ": expected NaN, got " << a[i];
    } else if (std::isinf(e[i])) {
      EXPECT_EQ(a[i], e[i]) << what << " at " << i;
    } else {
      EXPECT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
    }
  }
}

Tensor ref(const std::string& c, const std::string& name) {
  return striate::testing::load_npy(striate::testing::reference_path("activation/" + c + "/" + name + ".npy"));
}

// The naive oracle: y and grad_input of sum(y * gout), in long double, for a
// contiguous tensor of `sizes` along `dim`.
struct NaiveSoftmax {
  std::vector<double> y, gx;
};

NaiveSoftmax naive_softmax(const std::vector<double>& x, const std::vector<double>& g, const Shape& sizes,
                           int64_t dim, bool log) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= sizes[d];
  for (size_t d = dim + 1; d < sizes.size(); ++d) inner *= sizes[d];
  const int64_t n = sizes[dim];
  NaiveSoftmax r{std::vector<double>(x.size()), std::vector<double>(x.size())};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + i; };
      long double total = 0;
      for (int64_t k = 0; k < n; ++k) total += std::exp(static_cast<long double>(x[at(k)]));
      std::vector<long double> p(n);
      for (int64_t k = 0; k < n; ++k) p[k] = std::exp(static_cast<long double>(x[at(k)])) / total;
      // d y_k / d x_j = p_k (delta_kj - p_j) for softmax; delta_kj - p_j for log_softmax.
      for (int64_t j = 0; j < n; ++j) {
        long double acc = 0;
        for (int64_t k = 0; k < n; ++k) {
          const long double jac = log ? (k == j) - p[j] : p[k] * ((k == j) - p[j]);
          acc += g[at(k)] * jac;
        }
        r.gx[at(j)] = static_cast<double>(acc);
        r.y[at(j)] = static_cast<double>(log ? std::log(p[j]) : p[j]);
      }
    }
  return r;
}

using SoftmaxFn = Tensor (*)(const Tensor&, int64_t, std::optional<DType>);

}  // namespace

TEST(Softmax, MatchesNaiveOracleAlongEveryDim) {
  const Shape sizes{2, 3, 4, 5};
  for (bool log : {false, true})
    for (DType dtype : {kDouble, kFloat})
      for (int64_t dim = -4; dim < 4; ++dim) {
        const SoftmaxFn fn = log ? log_softmax : softmax;
        const Tensor x = make(sizes, 1 + dim + 10, dtype), g = make(sizes, 2 + dim + 10, dtype);
        const int64_t d = dim < 0 ? dim + 4 : dim;
        const NaiveSoftmax want = naive_softmax(x.to_vector<double>(), g.to_vector<double>(), sizes, d, log);
        Tensor xl = leaf(x);
        Tensor y = fn(xl, dim, std::nullopt);
        ASSERT_EQ(y.dtype(), dtype);
        y.backward(g);
        const double tol = dtype == kDouble ? 1e-13 : 3e-6;
        const std::string what = std::string(log ? "log_softmax" : "softmax") + " dim " + std::to_string(dim);
        expect_close(y, from_vector(want.y, sizes), tol, what + " y");
        expect_close(xl.grad(), from_vector(want.gx, sizes), tol, what + " gx");
      }
}

TEST(Softmax, NonContiguousInputs) {
  // A permuted view: softmax along a dim whose stride is not 1 in memory.
  const Tensor base = make({4, 3, 5}, 30);
  const Tensor x = base.permute({2, 0, 1});  // [5, 4, 3]
  for (int64_t dim = 0; dim < 3; ++dim) {
    expect_close(softmax(x, dim), softmax(x.contiguous(), dim), 1e-15, "softmax permuted");
    expect_close(log_softmax(x, dim), log_softmax(x.contiguous(), dim), 1e-15, "log_softmax permuted");
  }
  // ChannelsLast input.
  const Tensor cl = make({2, 3, 4, 5}, 31).contiguous(MemoryFormat::ChannelsLast);
  expect_close(softmax(cl, 1), softmax(cl.contiguous(), 1), 1e-15, "softmax channels last");
}

TEST(Softmax, Gradcheck) {
  for (bool log : {false, true}) {
    const SoftmaxFn fn = log ? log_softmax : softmax;
    for (int64_t dim : {0, 1, 2, -1}) {
      Tensor x = make({3, 4, 2}, 40 + dim).requires_grad_(true);
      EXPECT_TRUE(gradcheck([&](const TensorList& in) { return fn(in[0], dim, std::nullopt); }, {x}))
          << log << " dim " << dim;
    }
    Tensor xt = make({4, 3}, 50).t().requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return fn(in[0], 1, std::nullopt); }, {xt}));
    Tensor v = make({6}, 51, kDouble, 20.0).requires_grad_(true);
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return fn(in[0], 0, std::nullopt); }, {v}));
  }
}

TEST(Softmax, MatchesPyTorch) {
  for (const std::string op : {"softmax", "log_softmax"})
    for (const auto& [suffix, dim] : std::vector<std::pair<std::string, int64_t>>{
             {"_dim1", 1}, {"_3d_dim1", 1}, {"_3d_dim0", 0}, {"_3d_dim-1", -1}, {"_large", 1}, {"_neg_inf", 1}}) {
      const std::string name = op + suffix;
      Tensor x = ref(name, "x").requires_grad_(true);
      Tensor y = op == "softmax" ? softmax(x, dim) : log_softmax(x, dim);
      expect_close(y, ref(name, "y"), 1e-13, name + " y");
      y.backward(ref(name, "gout"));
      expect_close(x.grad(), ref(name, "gx"), 1e-13, name + " gx");
    }
}

TEST(Softmax, NumericalStability) {
  // exp(1000) overflows; the shifted form does not.
  const Tensor big = tensor({1000.0f, 1000.0f, 990.0f});
  const auto p = softmax(big, 0).to_vector<float>();
  EXPECT_NEAR(p[0], 0.5f / (1 + 0.5f * std::exp(-10.0f)), 1e-6);
  EXPECT_NEAR(p[2], std::exp(-10.0f) / (2 + std::exp(-10.0f)), 1e-9);
  const auto lp = log_softmax(tensor({-1000.0f, 1000.0f}), 0).to_vector<float>();
  EXPECT_EQ(lp[1], 0.0f);
  EXPECT_EQ(lp[0], -2000.0f);
  // -inf entries get probability 0 (log: -inf) and no gradient through softmax.
  Tensor x = tensor({0.0, -kInf, 1.0}, TensorOptions(kDouble)).requires_grad_(true);
  Tensor y = softmax(x, 0);
  EXPECT_EQ(y.to_vector<double>()[1], 0.0);
  y.backward(tensor({1.0, 2.0, 3.0}, TensorOptions(kDouble)));
  EXPECT_EQ(x.grad().to_vector<double>()[1], 0.0);
  EXPECT_EQ(log_softmax(x.detach(), 0).to_vector<double>()[1], -kInf);
  // An all -inf slice is NaN, as in PyTorch.
  EXPECT_TRUE(std::isnan(softmax(tensor({-kInf, -kInf}), 0).to_vector<double>()[0]));
  // Rows sum to 1 and gradients of the sum vanish.
  Tensor r = make({4, 7}, 60, kDouble, 30.0).requires_grad_(true);
  Tensor s = softmax(r, 1);
  for (double v : sum(s, {1}).to_vector<double>()) EXPECT_NEAR(v, 1.0, 1e-14);
  sum(s).backward();
  for (double v : r.grad().to_vector<double>()) EXPECT_NEAR(v, 0.0, 1e-15);
}

TEST(Softmax, DTypesAndShapes) {
  const Tensor x = make({3, 5}, 70, kFloat);
  // dtype converts first.
  const Tensor y64 = softmax(x, 1, kDouble);
  EXPECT_EQ(y64.dtype(), kDouble);
  expect_close(y64, softmax(x.to(kDouble), 1), 1e-15, "dtype argument");
  EXPECT_EQ(log_softmax(tensor({1, 2, 3}, TensorOptions(kLong)), 0, kFloat).dtype(), kFloat);
  // Half precision is computed in float and returned in the input dtype.
  for (DType t : {kHalf, kBFloat16}) {
    const Tensor yh = softmax(x.to(t), 1);
    EXPECT_EQ(yh.dtype(), t);
    expect_close(yh.to(kDouble), softmax(x.to(t).to(kFloat), 1).to(kDouble), t == kHalf ? 1e-3 : 8e-3, "half");
  }
  Tensor h = make({2, 4}, 71, kHalf).requires_grad_(true);
  sum(log_softmax(h, 1) * make({2, 4}, 72, kHalf)).backward();
  EXPECT_EQ(h.grad().dtype(), kHalf);
  // A 0-dim tensor is a single element along dim 0 or -1.
  EXPECT_EQ(softmax(scalar_tensor(3.5, TensorOptions(kDouble)), 0).item<double>(), 1.0);
  EXPECT_EQ(log_softmax(scalar_tensor(3.5, TensorOptions(kDouble)), -1).item<double>(), 0.0);
  // Empty tensors.
  EXPECT_EQ(softmax(empty({0, 4}), 1).sizes(), (Shape{0, 4}));
  EXPECT_EQ(softmax(empty({3, 0}), 1).sizes(), (Shape{3, 0}));
}

TEST(Softmax, BadArguments) {
  const Tensor x = make({2, 3}, 80);
  EXPECT_THROW(softmax(x, 2), IndexError);
  EXPECT_THROW(log_softmax(x, -3), IndexError);
  EXPECT_THROW(softmax(scalar_tensor(1.0), 1), IndexError);
  EXPECT_THROW(softmax(tensor({1, 2}, TensorOptions(kLong)), 0), DTypeError);
  EXPECT_THROW(softmax(x, 0, kLong), DTypeError);
  EXPECT_THROW(softmax(Tensor(), 0), Error);
  try {
    softmax(x, 5);
    FAIL();
  } catch (const IndexError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("softmax"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[-2, 1]"), std::string::npos) << msg;
  }
}
