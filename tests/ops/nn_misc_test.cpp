// dropout, pad, one_hot, accuracy, and the CNN uses of linear and flatten:
// naive oracles, gradcheck, reproducibility from a seed, and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"

using namespace striate;

namespace {

std::vector<double> sample(int64_t n, uint64_t seed) {
  std::vector<double> v(n);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(static_cast<int64_t>((s >> 33) % 192) - 96) / 32.0;
  }
  return v;
}

Tensor make(const Shape& sizes, uint64_t seed, DType dtype = kDouble) {
  return from_vector(sample(shape_numel(sizes), seed), sizes, TensorOptions(dtype));
}

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

void expect_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
}

}  // namespace

// ---- dropout -----------------------------------------------------------------------

TEST(Dropout, EvalAndZeroProbabilityAreTheIdentity) {
  const Tensor x = make({3, 4}, 1);
  EXPECT_TRUE(dropout(x, 0.5, /*training=*/false).is_same(x));
  EXPECT_TRUE(dropout(x, 0.0, true).is_same(x));
  EXPECT_TRUE(dropout(x, 1.0, false).is_same(x));
}

TEST(Dropout, ProbabilityOneGivesZerosAndZeroGradient) {
  Tensor x = leaf(make({5, 2}, 2));
  Tensor out = dropout(x, 1.0);
  for (double v : out.to_vector<double>()) EXPECT_EQ(v, 0.0);
  out.sum().backward();
  for (double g : x.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
}

TEST(Dropout, KeepsAboutOneMinusPAndScalesTheRest) {
  manual_seed(123);
  const int64_t n = 20000;
  const double p = 0.3;
  const Tensor x = full({n}, 2.0, kFloat);
  const auto out = dropout(x, p).to_vector<double>();
  int64_t zeros = 0;
  for (double v : out) {
    if (v == 0) ++zeros;
    else EXPECT_NEAR(v, 2.0 / (1 - p), 1e-5);
  }
  // 20000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0032.
  EXPECT_NEAR(static_cast<double>(zeros) / n, p, 0.02);
}

TEST(Dropout, SameSeedSameMaskAndBackwardUsesIt) {
  const Tensor ones_in = ones({64}, kDouble);
  manual_seed(7);
  const Tensor a = dropout(ones_in, 0.5);
  manual_seed(7);
  Tensor x = leaf(ones_in);
  const Tensor b = dropout(x, 0.5);
  EXPECT_TRUE(equal(a, b.detach()));
  const Tensor c = dropout(ones_in, 0.5);  // the generator moved on: a different mask
  EXPECT_FALSE(equal(a, c));
  // With input 1, the output is the mask itself, and so is the gradient of its sum.
  b.sum().backward();
  EXPECT_TRUE(equal(x.grad(), b.detach()));
  // An explicit generator gives the same stream as the default one with the same seed.
  Generator gen(7);
  EXPECT_TRUE(equal(dropout(ones_in, 0.5, true, &gen), a));
}

TEST(Dropout, AcceptsEveryFloatingDtype) {
  for (DType dtype : {kFloat, kDouble, kHalf, kBFloat16}) {
    Tensor x = leaf(ones({200}, dtype));
    Tensor out = dropout(x, 0.5);
    EXPECT_EQ(out.dtype(), dtype);
    for (double v : out.to_vector<double>()) EXPECT_TRUE(v == 0 || v == 2) << v;
    out.sum().backward();
    EXPECT_TRUE(equal(x.grad(), out.detach()));
  }
}

TEST(Dropout, Gradcheck) {
  for (double p : {0.2, 0.5, 0.9})
    EXPECT_TRUE(gradcheck(
        [p](const TensorList& in) {
          manual_seed(99);  // the same mask at every evaluation
          return dropout(in[0], p);
        },
        {leaf(make({4, 5}, 3))}));
}

TEST(Dropout, RejectsBadArguments) {
  const Tensor x = make({3}, 1);
  EXPECT_THROW(dropout(x, -0.1), ValueError);
  EXPECT_THROW(dropout(x, 1.5), ValueError);
  EXPECT_THROW(dropout(x, 2.0, false), ValueError);  // checked in eval mode too
  EXPECT_THROW(dropout(x.to(kLong), 0.5), DTypeError);
}

// ---- pad ----------------------------------------------------------------------------

namespace {

// Every output element looked up directly in the input (or `value` outside it).
Tensor naive_pad(const Tensor& input, const std::vector<int64_t>& pads, double value) {
  const int64_t nd = input.dim();
  Shape out_sizes = input.sizes(), before(nd, 0);
  for (size_t k = 0; k < pads.size() / 2; ++k) {
    const int64_t d = nd - 1 - static_cast<int64_t>(k);
    before[d] = pads[2 * k];
    out_sizes[d] += pads[2 * k] + pads[2 * k + 1];
  }
  const auto x = input.to(kDouble).to_vector<double>();
  const Shape in_strides = contiguous_strides(input.sizes());
  std::vector<double> out(shape_numel(out_sizes), value);
  Shape idx(nd, 0);
  for (size_t flat = 0; flat < out.size(); ++flat) {
    int64_t rem = static_cast<int64_t>(flat), src = 0;
    bool inside = true;
    for (int64_t d = nd - 1; d >= 0; --d) {
      const int64_t i = rem % out_sizes[d] - before[d];
      rem /= out_sizes[d];
      inside = inside && i >= 0 && i < input.size(d);
      src += i * in_strides[d];
    }
    if (inside) out[flat] = x[src];
  }
  return from_vector(out, out_sizes);
}

const std::vector<std::vector<int64_t>> kPadConfigs = {
    {1, 2}, {0, 0}, {2, 0, 0, 1}, {-1, 1}, {1, -2, 2, 0}, {-1, -1, -1, 0, 1, 1}, {0, 0, 0, 0, 1, 0}, {-3, 0}};

}  // namespace

TEST(Pad, MatchesNaiveLookupIncludingCrops) {
  const Tensor input = make({2, 3, 3}, 5);
  for (const auto& pads : kPadConfigs)
    for (double value : {0.0, -1.5}) {
      const Tensor out = pad(input, pads, "constant", value);
      expect_close(out, naive_pad(input, pads, value), 0, "pads " + shape_str(pads));
    }
  // Integer tensors and non-contiguous inputs.
  const Tensor ints = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(pad(ints, {1, 0}, "constant", 9).to_vector<int64_t>(),
            (std::vector<int64_t>{9, 1, 2, 3, 9, 4, 5, 6}));
  const Tensor transposed = make({3, 4}, 6).t();
  expect_close(pad(transposed, {1, 1, 0, 2}), naive_pad(transposed.contiguous(), {1, 1, 0, 2}, 0), 0, "transposed");
}

TEST(Pad, KeepsChannelsLastLayout) {
  const Tensor input = make({2, 3, 4, 4}, 7).contiguous(MemoryFormat::ChannelsLast);
  const Tensor out = pad(input, {1, 1, 2, 0});
  EXPECT_EQ(out.sizes(), (Shape{2, 3, 6, 6}));
  EXPECT_TRUE(out.is_contiguous(MemoryFormat::ChannelsLast));
  expect_close(out, naive_pad(input.contiguous(), {1, 1, 2, 0}, 0), 0, "channels last");
}

TEST(Pad, Gradcheck) {
  for (const auto& pads : kPadConfigs)
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return pad(in[0], pads, "constant", 0.5); },
                          {leaf(make({2, 3, 3}, 8))}))
        << shape_str(pads);
}

TEST(Pad, RejectsBadArguments) {
  const Tensor x = make({2, 3}, 1);
  EXPECT_THROW(pad(x, {1}), ValueError);
  EXPECT_THROW(pad(x, {1, 1, 1, 1, 1, 1}), ShapeError);
  EXPECT_THROW(pad(x, {-2, -2}), ShapeError);
  EXPECT_THROW(pad(x, {1, 1}, "reflect"), NotImplementedError);
  EXPECT_THROW(pad(x, {1, 1}, "wrap"), ValueError);
  EXPECT_EQ(pad(x, {-2, -1}).sizes(), (Shape{2, 0}));  // an empty result is fine
}

// ---- one_hot ---------------------------------------------------------------------------

TEST(OneHot, EncodesIndicesAlongANewLastDim) {
  const Tensor labels = from_vector(std::vector<int64_t>{2, 0, 1, 2}, {2, 2});
  const Tensor out = one_hot(labels, 4);
  EXPECT_EQ(out.dtype(), kLong);
  EXPECT_EQ(out.sizes(), (Shape{2, 2, 4}));
  EXPECT_EQ(out.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(one_hot(labels).sizes(), (Shape{2, 2, 3}));  // inferred: max + 1
  EXPECT_EQ(one_hot(from_vector(std::vector<int64_t>{}, {0}), 5).sizes(), (Shape{0, 5}));
  EXPECT_EQ(one_hot(from_vector(std::vector<int64_t>{1}, {}), 2).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(OneHot, RejectsBadArguments) {
  const Tensor labels = from_vector(std::vector<int64_t>{0, 3}, {2});
  EXPECT_THROW(one_hot(labels, 3), IndexError);
  EXPECT_THROW(one_hot(from_vector(std::vector<int64_t>{0, -1}, {2})), IndexError);
  EXPECT_THROW(one_hot(labels.to(kFloat), 4), DTypeError);
  EXPECT_THROW(one_hot(from_vector(std::vector<int64_t>{}, {0})), ValueError);
  EXPECT_THROW(one_hot(labels, -2), ValueError);
}

// ---- accuracy ------------------------------------------------------------------------------

TEST(Accuracy, CountsArgmaxMatches) {
  const Tensor logits = from_vector(std::vector<float>{0.1f, 0.9f, 0.0f,   // 1
                                                       2.0f, 1.0f, 0.0f,   // 0
                                                       0.0f, 0.0f, 5.0f,   // 2
                                                       1.0f, 3.0f, 2.0f},  // 1
                                    {4, 3});
  EXPECT_DOUBLE_EQ(accuracy(logits, from_vector(std::vector<int64_t>{1, 0, 2, 1}, {4})), 1.0);
  EXPECT_DOUBLE_EQ(accuracy(logits, from_vector(std::vector<int64_t>{1, 1, 2, 0}, {4})), 0.5);
  EXPECT_DOUBLE_EQ(accuracy(logits, from_vector(std::vector<int64_t>{0, 1, 0, 0}, {4})), 0.0);
}

TEST(Accuracy, RejectsBadArguments) {
  const Tensor logits = make({4, 3}, 1);
  EXPECT_THROW(accuracy(logits, from_vector(std::vector<int64_t>{1, 0}, {2})), ShapeError);
  EXPECT_THROW(accuracy(make({4}, 1), from_vector(std::vector<int64_t>{1, 0, 1, 1}, {4})), ShapeError);
  EXPECT_THROW(accuracy(logits, make({4}, 2)), DTypeError);
  EXPECT_THROW(accuracy(make({0, 3}, 1), from_vector(std::vector<int64_t>{}, {0})), ValueError);
}

// ---- linear and flatten, as a CNN's classifier head uses them ------------------------------

TEST(Linear, MatchesNaiveLoopsAndGradcheck) {
  const Tensor x = make({3, 4}, 11), w = make({5, 4}, 12), b = make({5}, 13);
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<double> expected(15);
  for (int i = 0; i < 3; ++i)
    for (int o = 0; o < 5; ++o) {
      double s = bv[o];
      for (int k = 0; k < 4; ++k) s += xv[i * 4 + k] * wv[o * 4 + k];
      expected[i * 5 + o] = s;
    }
  expect_close(linear(x, w, b), from_vector(expected, {3, 5}), 1e-12, "linear");
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return linear(in[0], in[1], in[2]); },
                        {leaf(x), leaf(w), leaf(b)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return linear(in[0], in[1]); },
                        {leaf(make({2, 3, 4}, 14)), leaf(w)}));
  EXPECT_THROW(linear(x, make({5, 3}, 1)), ShapeError);
}

TEST(Flatten, CollapsesTheFeatureDimsAndPassesGradients) {
  const Tensor x = make({2, 3, 4, 5}, 21);
  EXPECT_EQ(x.flatten(1).sizes(), (Shape{2, 60}));
  EXPECT_EQ(flatten(x, 1, 2).sizes(), (Shape{2, 12, 5}));
  EXPECT_EQ(flatten(x).sizes(), (Shape{120}));
  EXPECT_EQ(x.flatten(1).to_vector<double>(), x.to_vector<double>());
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return in[0].flatten(1); }, {leaf(make({2, 3, 2}, 22))}));
  // A head: flatten then linear then a loss, end to end.
  Tensor features = leaf(make({2, 2, 2, 2}, 23));
  Tensor w = leaf(make({3, 8}, 24));
  const Tensor target = from_vector(std::vector<int64_t>{2, 0}, {2});
  cross_entropy(linear(features.flatten(1), w), target).backward();
  EXPECT_EQ(features.grad().sizes(), features.sizes());
  EXPECT_EQ(w.grad().sizes(), w.sizes());
}
