// Losses: cross_entropy, nll_loss, mse_loss, l1_loss and
// binary_cross_entropy_with_logits against naive loops (forward and
// backward), gradcheck over sweeps of weight / ignore_index / label
// smoothing / reduction / shape, PyTorch reference values, and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "striate/core/gradcheck.h"
#include "striate/core/ops/activation.h"
#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;

namespace {

// Deterministic values in [-3, 3) on a 1/32 grid.
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

// Labels in [0, classes), with `ignore_index` at every position in `ignored`.
Tensor labels(const Shape& sizes, int64_t classes, uint64_t seed, int64_t ignore_index = -100,
              const std::vector<int64_t>& ignored = {}) {
  std::vector<int64_t> v(shape_numel(sizes));
  uint64_t s = seed;
  for (auto& y : v) {
    s = s * 2862933555777941757ull + 3037000493ull;
    y = static_cast<int64_t>((s >> 33) % static_cast<uint64_t>(classes));
    if (y == ignore_index) y = (y + 1) % classes;  // only the listed positions are ignored
  }
  for (int64_t k : ignored) v[k] = ignore_index;
  return from_vector(v, sizes);
}

void expect_close(const Tensor& actual, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
}

Tensor ref(const std::string& family_case, const std::string& name) {
  return striate::testing::load_npy(striate::testing::reference_path(family_case + "/" + name + ".npy"));
}

const char* reduction_name(Reduction r) { return r == kNone ? "none" : r == kMean ? "mean" : "sum"; }

// ---- the naive oracle for class losses ------------------------------------------

// Input [C] or [N, C, d...] as (outer, classes, inner); per-sample losses and
// the gradient of sum_i g_i * loss_i, all by direct loops in double.
struct NaiveClassLoss {
  std::vector<double> loss, weight_of_sample, grad;  // grad w.r.t. input for g_i = upstream[i]
};

NaiveClassLoss naive_class_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                                int64_t ignore_index, double smoothing, bool from_logits,
                                const std::vector<double>& upstream) {
  const int64_t classes = input.dim() == 1 ? input.size(0) : input.size(1);
  const int64_t outer = input.dim() == 1 ? 1 : input.size(0);
  const int64_t inner = input.numel() / (outer * classes);
  const auto x = input.to(kDouble).contiguous().to_vector<double>();
  const auto y = target.contiguous().to_vector<int64_t>();
  std::vector<double> w(classes, 1.0);
  if (weight.defined()) w = weight.to_vector<double>();
  NaiveClassLoss r;
  r.loss.assign(outer * inner, 0);
  r.weight_of_sample.assign(outer * inner, 0);
  r.grad.assign(x.size(), 0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t s = o * inner + i;
      if (y[s] == ignore_index) continue;
      auto at = [&](int64_t c) { return (o * classes + c) * inner + i; };
      std::vector<double> logp(classes), prob(classes);
      if (from_logits) {
        double z = 0;
        for (int64_t c = 0; c < classes; ++c) z += std::exp(x[at(c)]);
        for (int64_t c = 0; c < classes; ++c) {
          logp[c] = x[at(c)] - std::log(z);
          prob[c] = std::exp(x[at(c)]) / z;
        }
      } else {
        for (int64_t c = 0; c < classes; ++c) logp[c] = x[at(c)];
      }
      double l = -(1 - smoothing) * w[y[s]] * logp[y[s]];
      for (int64_t c = 0; c < classes; ++c) l -= smoothing / classes * w[c] * logp[c];
      r.loss[s] = l;
      r.weight_of_sample[s] = w[y[s]];
      // d(-log p_k)/dx_c = p_c - [c == k] for logits, -[c == k] for log-probabilities.
      for (int64_t c = 0; c < classes; ++c) {
        auto dneg = [&](int64_t k) { return (from_logits ? prob[c] : 0.0) - (c == k ? 1.0 : 0.0); };
        double d = (1 - smoothing) * w[y[s]] * dneg(y[s]);
        for (int64_t k = 0; k < classes; ++k) d += smoothing / classes * w[k] * dneg(k);
        r.grad[at(c)] = upstream[s] * d;
      }
    }
  return r;
}

struct ClassCase {
  Shape input_sizes;
  bool weighted;
  bool with_ignored;
  double smoothing;
};

std::vector<ClassCase> class_cases() {
  std::vector<ClassCase> cases;
  for (const Shape& sizes : {Shape{5}, Shape{4, 3}, Shape{3, 4, 2, 3}, Shape{1, 2}})
    for (bool weighted : {false, true})
      for (bool ignored : {false, true})
        for (double smoothing : {0.0, 0.2}) cases.push_back({sizes, weighted, ignored, smoothing});
  return cases;
}

Shape target_sizes(const Shape& input_sizes) {
  if (input_sizes.size() == 1) return {};
  Shape t{input_sizes[0]};
  t.insert(t.end(), input_sizes.begin() + 2, input_sizes.end());
  return t;
}

void check_class_loss_against_naive(bool from_logits, DType dtype, double tol) {
  uint64_t seed = 11;
  for (const ClassCase& cc : class_cases()) {
    if (!from_logits && cc.smoothing > 0) continue;
    const int64_t classes = cc.input_sizes.size() == 1 ? cc.input_sizes[0] : cc.input_sizes[1];
    const Shape ts = target_sizes(cc.input_sizes);
    const int64_t samples = shape_numel(ts);
    std::vector<int64_t> ignored;
    if (cc.with_ignored && samples > 1) ignored = {samples - 1};
    const Tensor target = labels(ts, classes, ++seed, -100, ignored);
    const Tensor weight = cc.weighted ? make({classes}, ++seed).abs() + 0.25 : Tensor();
    const Tensor input = make(cc.input_sizes, ++seed, dtype);
    for (Reduction red : {kNone, kMean, kSum}) {
      const std::string what = std::string(from_logits ? "cross_entropy" : "nll_loss") + " input " +
                               shape_str(cc.input_sizes) + " weighted " + std::to_string(cc.weighted) +
                               " ignored " + std::to_string(ignored.size()) + " smoothing " +
                               std::to_string(cc.smoothing) + " reduction " + reduction_name(red);
      Tensor x = leaf(input);
      const Tensor w = weight.defined() ? weight.to(dtype) : weight;
      Tensor out = from_logits ? cross_entropy(x, target, w, red, -100, cc.smoothing) : nll_loss(x, target, w, red);
      EXPECT_EQ(out.dtype(), dtype) << what;
      // Upstream gradient: varied per sample for kNone, a scalar otherwise.
      std::vector<double> up(samples, 0.75);
      if (red == kNone) up = sample(samples, seed + 100);
      const NaiveClassLoss naive = naive_class_loss(input, target, weight, -100, cc.smoothing, from_logits,
                                                    red == kNone ? up : std::vector<double>(samples, 1.0));
      double total = 0, total_weight = 0;
      for (int64_t s = 0; s < samples; ++s) {
        total += naive.loss[s];
        total_weight += naive.weight_of_sample[s];
      }
      if (red == kNone) {
        expect_close(out, from_vector(naive.loss, ts), tol, what + " forward");
        out.backward(from_vector(up, ts, TensorOptions(dtype)));
        expect_close(x.grad(), from_vector(naive.grad, cc.input_sizes), tol, what + " backward");
      } else {
        const double scale = red == kMean ? 1 / total_weight : 1.0;
        EXPECT_NEAR(out.item<double>(), total * scale, tol * (1 + std::abs(total * scale))) << what;
        out.backward(full({}, 0.75, TensorOptions(dtype)));
        std::vector<double> g = naive.grad;
        for (auto& v : g) v *= 0.75 * scale;
        expect_close(x.grad(), from_vector(g, cc.input_sizes), tol, what + " backward");
      }
    }
  }
}

}  // namespace

// ---- cross_entropy -----------------------------------------------------------------

TEST(CrossEntropy, MatchesNaiveLoopsInDouble) { check_class_loss_against_naive(true, kDouble, 1e-12); }
TEST(CrossEntropy, MatchesNaiveLoopsInFloat) { check_class_loss_against_naive(true, kFloat, 2e-5); }

TEST(CrossEntropy, GradcheckOverWeightIgnoreSmoothingAndReductions) {
  uint64_t seed = 200;
  for (const ClassCase& cc : class_cases()) {
    const int64_t classes = cc.input_sizes.size() == 1 ? cc.input_sizes[0] : cc.input_sizes[1];
    const Shape ts = target_sizes(cc.input_sizes);
    const int64_t samples = shape_numel(ts);
    const int64_t ignore_index = 1;  // also a valid class: ignored samples carry a real label value
    std::vector<int64_t> ignored;
    if (cc.with_ignored && samples > 1) ignored = {0};
    const Tensor target = labels(ts, classes, ++seed, ignore_index, ignored);
    const Tensor weight = cc.weighted ? make({classes}, ++seed).abs() + 0.5 : Tensor();
    for (Reduction red : {kNone, kMean, kSum}) {
      SCOPED_TRACE(shape_str(cc.input_sizes) + " weighted " + std::to_string(cc.weighted) + " smoothing " +
                   std::to_string(cc.smoothing) + " reduction " + reduction_name(red));
      EXPECT_TRUE(gradcheck(
          [&](const TensorList& in) { return cross_entropy(in[0], target, weight, red, ignore_index, cc.smoothing); },
          {leaf(make(cc.input_sizes, ++seed))}));
    }
  }
}

TEST(CrossEntropy, MatchesPyTorch) {
  for (const std::string name : {"ce_plain", "ce_weight_ignore", "ce_smoothing", "ce_weight_ignore_smoothing",
                                 "ce_spatial", "ce_unbatched"}) {
    const std::string c = "loss/" + name;
    const Tensor input = ref(c, "input"), target = ref(c, "target");
    const bool weighted = name.find("weight") != std::string::npos || name == "ce_spatial" || name == "ce_unbatched";
    const Tensor weight = weighted ? ref(c, "weight") : Tensor();
    const int64_t ignore_index = name == "ce_spatial" ? 2 : -100;
    const double smoothing = name == "ce_smoothing"                 ? 0.25
                             : name == "ce_weight_ignore_smoothing" ? 0.15
                             : name == "ce_spatial"                 ? 0.1
                             : name == "ce_unbatched"               ? 0.05
                                                                    : 0.0;
    for (Reduction red : {kNone, kMean, kSum}) {
      const std::string r = reduction_name(red);
      SCOPED_TRACE(name + " " + r);
      Tensor x = leaf(input);
      Tensor out = cross_entropy(x, target, weight, red, ignore_index, smoothing);
      expect_close(out, ref(c, "out_" + r), 1e-12, "forward");
      (out * ref(c, "gout_" + r)).sum().backward();
      expect_close(x.grad(), ref(c, "grad0_" + r), 1e-12, "backward");
      // The same case in float32.
      Tensor xf = leaf(input.to(kFloat));
      Tensor outf = cross_entropy(xf, target, weight.defined() ? weight.to(kFloat) : weight, red, ignore_index,
                                  smoothing);
      expect_close(outf, ref(c, "out_" + r), 1e-5, "forward f32");
      (outf * ref(c, "gout_" + r).to(kFloat)).sum().backward();
      expect_close(xf.grad(), ref(c, "grad0_" + r), 1e-5, "backward f32");
    }
  }
}

TEST(CrossEntropy, StableForHugeLogits) {
  // exp(1000) overflows; the loss must equal that of the shifted logits.
  const Tensor base = from_vector(std::vector<double>{0.5, -1.0, 2.0, 0.0, 1.5, -0.5}, {2, 3});
  const Tensor target = from_vector(std::vector<int64_t>{2, 0}, {2});
  for (DType dtype : {kFloat, kDouble}) {
    Tensor x = leaf((base + 1000).to(dtype));
    Tensor out = cross_entropy(x, target, {}, kMean, -100, 0.1);
    const Tensor expected = cross_entropy(base.to(dtype), target, {}, kMean, -100, 0.1);
    EXPECT_TRUE(std::isfinite(out.item<double>()));
    EXPECT_NEAR(out.item<double>(), expected.item<double>(), 1e-4);
    out.backward();
    for (double g : x.grad().to_vector<double>()) EXPECT_TRUE(std::isfinite(g));
  }
}

TEST(CrossEntropy, EveryLabelIgnoredGivesNaNMeanAndZeroSum) {
  const Tensor input = make({3, 4}, 5);
  const Tensor target = from_vector(std::vector<int64_t>{-100, -100, -100}, {3});
  EXPECT_TRUE(std::isnan(cross_entropy(input, target).item<double>()));
  EXPECT_EQ(cross_entropy(input, target, {}, kSum).item<double>(), 0.0);
  Tensor x = leaf(input);
  cross_entropy(x, target, {}, kSum).backward();
  for (double g : x.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
}

TEST(CrossEntropy, AcceptsHalfAndBFloat16Inputs) {
  const Tensor input = make({4, 5}, 9), target = labels({4}, 5, 3);
  const double expected = cross_entropy(input, target).item<double>();
  for (DType dtype : {kHalf, kBFloat16}) {
    Tensor x = leaf(input.to(dtype));
    Tensor out = cross_entropy(x, target);
    EXPECT_EQ(out.dtype(), dtype);
    EXPECT_NEAR(out.item<double>(), expected, 2e-2);
    out.backward();
    EXPECT_EQ(x.grad().dtype(), dtype);
  }
}

TEST(CrossEntropy, NonContiguousInput) {
  const Tensor base = make({4, 3}, 21);  // used transposed: [3, 4] with strides (1, 3)
  const Tensor target = labels({3}, 4, 8);
  Tensor x = leaf(base);
  Tensor out = cross_entropy(x.t(), target, {}, kSum);
  EXPECT_NEAR(out.item<double>(), cross_entropy(base.t().contiguous(), target, {}, kSum).item<double>(), 1e-12);
  out.backward();
  EXPECT_EQ(x.grad().sizes(), (Shape{4, 3}));
}

TEST(CrossEntropy, RejectsBadArguments) {
  const Tensor input = make({3, 4}, 1);
  const Tensor good = from_vector(std::vector<int64_t>{0, 3, 1}, {3});
  // A label out of range names the label.
  try {
    cross_entropy(input, from_vector(std::vector<int64_t>{0, 4, 1}, {3}));
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("label 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cross_entropy(input, from_vector(std::vector<int64_t>{0, -1, 1}, {3})), IndexError);
  EXPECT_THROW(cross_entropy(input, from_vector(std::vector<int64_t>{0, -100, 1}, {3}), {}, kMean, 5), IndexError);
  // Soft (float) targets are a DTypeError that says why.
  try {
    cross_entropy(input, make({3, 4}, 2));
    FAIL() << "expected DTypeError";
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("class-probability"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cross_entropy(input, good.to(kInt)), DTypeError);
  EXPECT_THROW(cross_entropy(input.to(kLong), good), DTypeError);
  EXPECT_THROW(cross_entropy(input, from_vector(std::vector<int64_t>{0, 1}, {2})), ShapeError);
  EXPECT_THROW(cross_entropy(input, good.reshape({3, 1})), ShapeError);
  EXPECT_THROW(cross_entropy(make({2, 3, 4}, 1), labels({2, 5}, 3, 1)), ShapeError);
  EXPECT_THROW(cross_entropy(full({}, 1.0, kDouble), from_vector(std::vector<int64_t>{0}, {})), ShapeError);
  EXPECT_THROW(cross_entropy(input, good, make({3}, 3)), ShapeError);
  EXPECT_THROW(cross_entropy(input, good, from_vector(std::vector<int64_t>{1, 1, 1, 1}, {4})), DTypeError);
  EXPECT_THROW(cross_entropy(input, good, {}, kMean, -100, -0.1), ValueError);
  EXPECT_THROW(cross_entropy(input, good, {}, kMean, -100, 1.5), ValueError);
  EXPECT_THROW(cross_entropy(Tensor(), good), Error);
}

// ---- nll_loss ------------------------------------------------------------------------

TEST(NllLoss, MatchesNaiveLoops) {
  check_class_loss_against_naive(false, kDouble, 1e-12);
  check_class_loss_against_naive(false, kFloat, 1e-5);
}

TEST(NllLoss, Gradcheck) {
  const Tensor target = from_vector(std::vector<int64_t>{2, -100, 0, 1}, {4});
  const Tensor weight = from_vector(std::vector<double>{0.5, 2.0, 1.5}, {3});
  for (Reduction red : {kNone, kMean, kSum})
    for (bool weighted : {false, true})
      EXPECT_TRUE(gradcheck(
          [&](const TensorList& in) { return nll_loss(in[0], target, weighted ? weight : Tensor(), red); },
          {leaf(make({4, 3}, 31))}));
  const Tensor spatial_target = labels({2, 3}, 4, 5, 3, {1});
  EXPECT_TRUE(gradcheck([&](const TensorList& in) { return nll_loss(in[0], spatial_target, {}, kMean, 3); },
                        {leaf(make({2, 4, 3}, 32))}));
}

TEST(NllLoss, MatchesPyTorch) {
  const std::string c = "loss/nll_weight_ignore";
  for (Reduction red : {kNone, kMean, kSum}) {
    const std::string r = reduction_name(red);
    Tensor x = leaf(ref(c, "input"));
    Tensor out = nll_loss(x, ref(c, "target"), ref(c, "weight"), red);
    expect_close(out, ref(c, "out_" + r), 1e-12, "nll forward " + r);
    (out * ref(c, "gout_" + r)).sum().backward();
    expect_close(x.grad(), ref(c, "grad0_" + r), 1e-12, "nll backward " + r);
  }
}

TEST(NllLoss, OfLogSoftmaxEqualsCrossEntropy) {
  const Tensor input = make({3, 4, 2}, 33), target = labels({3, 2}, 4, 34, -100, {2});
  const Tensor weight = make({4}, 35).abs() + 0.5;
  for (Reduction red : {kNone, kMean, kSum}) {
    Tensor a = leaf(input), b = leaf(input);
    const Tensor fused = cross_entropy(a, target, weight, red);
    const Tensor composed = nll_loss(log_softmax(b, 1), target, weight, red);
    expect_close(fused, composed, 1e-12, std::string("forward ") + reduction_name(red));
    fused.sum().backward();
    composed.sum().backward();
    expect_close(a.grad(), b.grad(), 1e-12, std::string("backward ") + reduction_name(red));
  }
}

TEST(NllLoss, RejectsBadArguments) {
  const Tensor input = make({2, 3}, 3);
  EXPECT_THROW(nll_loss(input, from_vector(std::vector<int64_t>{0, 3}, {2})), IndexError);
  EXPECT_THROW(nll_loss(input, from_vector(std::vector<double>{0, 1}, {2})), DTypeError);
  EXPECT_THROW(nll_loss(input, from_vector(std::vector<int64_t>{0, 1, 2}, {3})), ShapeError);
}

// ---- mse_loss and l1_loss -------------------------------------------------------------

TEST(DistanceLosses, MatchNaiveLoops) {
  const Tensor a = make({3, 5}, 41), b = make({3, 5}, 42);
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (bool absolute : {false, true}) {
    auto fn = [&](const Tensor& x, const Tensor& y, Reduction r) { return absolute ? l1_loss(x, y, r) : mse_loss(x, y, r); };
    std::vector<double> per(av.size()), slope(av.size());
    double total = 0;
    for (size_t i = 0; i < av.size(); ++i) {
      const double d = av[i] - bv[i];
      per[i] = absolute ? std::abs(d) : d * d;
      slope[i] = absolute ? (d > 0) - (d < 0) : 2 * d;
      total += per[i];
    }
    expect_close(fn(a, b, kNone), from_vector(per, {3, 5}), 1e-12, "per element");
    EXPECT_NEAR(fn(a, b, kSum).item<double>(), total, 1e-12);
    EXPECT_NEAR(fn(a, b, kMean).item<double>(), total / 15, 1e-12);
    Tensor x = leaf(a), y = leaf(b);
    fn(x, y, kMean).backward();
    for (auto& s : slope) s /= 15;
    expect_close(x.grad(), from_vector(slope, {3, 5}), 1e-12, "grad input");
    expect_close(y.grad(), -from_vector(slope, {3, 5}), 1e-12, "grad target");
  }
}

TEST(DistanceLosses, GradcheckBothArguments) {
  for (Reduction red : {kNone, kMean, kSum}) {
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return mse_loss(in[0], in[1], red); },
                          {leaf(make({2, 3, 2}, 51)), leaf(make({2, 3, 2}, 52))}));
    // l1 is not differentiable where input == target; the 1/32 grid keeps them apart here.
    EXPECT_TRUE(gradcheck([&](const TensorList& in) { return l1_loss(in[0], in[1], red); },
                          {leaf(make({4, 3}, 53)), leaf(make({4, 3}, 54) + 1.0 / 64)}));
  }
}

TEST(DistanceLosses, MatchPyTorch) {
  for (const std::string name : {"mse", "l1"}) {
    const std::string c = "loss/" + name;
    for (Reduction red : {kNone, kMean, kSum}) {
      const std::string r = reduction_name(red);
      Tensor x = leaf(ref(c, "input")), y = leaf(ref(c, "target"));
      Tensor out = name == "mse" ? mse_loss(x, y, red) : l1_loss(x, y, red);
      expect_close(out, ref(c, "out_" + r), 1e-12, name + " forward " + r);
      (out * ref(c, "gout_" + r)).sum().backward();
      expect_close(x.grad(), ref(c, "grad0_" + r), 1e-12, name + " grad input " + r);
      expect_close(y.grad(), ref(c, "grad1_" + r), 1e-12, name + " grad target " + r);
    }
  }
}

TEST(DistanceLosses, RejectBadArguments) {
  EXPECT_THROW(mse_loss(make({3}, 1), make({3, 1}, 2)), ShapeError);
  EXPECT_THROW(l1_loss(make({2, 3}, 1), make({3, 2}, 2)), ShapeError);
  EXPECT_THROW(mse_loss(make({3}, 1), from_vector(std::vector<int64_t>{1, 2, 3}, {3})), DTypeError);
}

// ---- binary_cross_entropy_with_logits ---------------------------------------------------

TEST(BinaryCrossEntropyWithLogits, MatchesNaiveFormulaAndIsStable) {
  std::vector<double> xv = sample(12, 61);
  xv[0] = 100;
  xv[1] = -100;
  xv[2] = 800;  // exp(800) overflows a double
  const Tensor x = from_vector(xv, {4, 3});
  const Tensor t = (make({4, 3}, 62) + 3) / 6;  // in [0, 1)
  const Tensor pw = from_vector(std::vector<double>{0.5, 1.0, 3.0}, {3});
  const auto tv = t.to_vector<double>();
  for (bool with_pos_weight : {false, true}) {
    std::vector<double> expected(12), grad(12);
    for (int i = 0; i < 12; ++i) {
      const double p = with_pos_weight ? pw.to_vector<double>()[i % 3] : 1.0;
      const double lw = 1 + (p - 1) * tv[i];
      const double softplus_neg = std::max(-xv[i], 0.0) + std::log1p(std::exp(-std::abs(xv[i])));
      expected[i] = (1 - tv[i]) * xv[i] + lw * softplus_neg;
      grad[i] = (1 - tv[i]) - lw / (1 + std::exp(xv[i]));
    }
    Tensor xl = leaf(x);
    Tensor out = binary_cross_entropy_with_logits(xl, t, {}, with_pos_weight ? pw : Tensor(), kNone);
    expect_close(out, from_vector(expected, {4, 3}), 1e-12, "bce forward");
    out.sum().backward();
    expect_close(xl.grad(), from_vector(grad, {4, 3}), 1e-12, "bce backward");
  }
  // Without pos_weight the formula is max(x, 0) - x t + log(1 + exp(-|x|)).
  const Tensor out = binary_cross_entropy_with_logits(x, t, {}, {}, kNone);
  for (int i = 0; i < 12; ++i)
    EXPECT_NEAR(out.to_vector<double>()[i],
                std::max(xv[i], 0.0) - xv[i] * tv[i] + std::log1p(std::exp(-std::abs(xv[i]))), 1e-9);
}

TEST(BinaryCrossEntropyWithLogits, Gradcheck) {
  const Tensor weight = make({3, 1}, 71).abs() + 0.5;
  const Tensor pos_weight = make({4}, 72).abs() + 0.25;
  for (Reduction red : {kNone, kMean, kSum})
    for (int variant = 0; variant < 4; ++variant) {
      const Tensor w = variant & 1 ? weight : Tensor(), pw = variant & 2 ? pos_weight : Tensor();
      EXPECT_TRUE(gradcheck(
          [&](const TensorList& in) { return binary_cross_entropy_with_logits(in[0], in[1], w, pw, red); },
          {leaf(make({3, 4}, 73)), leaf((make({3, 4}, 74) + 3) / 6)}));
    }
}

TEST(BinaryCrossEntropyWithLogits, MatchesPyTorch) {
  for (const std::string name : {"bce_weight_pos_weight", "bce_plain"}) {
    const std::string c = "loss/" + name;
    const bool weighted = name == "bce_weight_pos_weight";
    for (Reduction red : {kNone, kMean, kSum}) {
      const std::string r = reduction_name(red);
      Tensor x = leaf(ref(c, "input")), t = leaf(ref(c, "target"));
      Tensor out = binary_cross_entropy_with_logits(x, t, weighted ? ref(c, "weight") : Tensor(),
                                                    weighted ? ref(c, "pos_weight") : Tensor(), red);
      expect_close(out, ref(c, "out_" + r), 1e-12, name + " forward " + r);
      (out * ref(c, "gout_" + r)).sum().backward();
      expect_close(x.grad(), ref(c, "grad0_" + r), 1e-12, name + " grad input " + r);
      expect_close(t.grad(), ref(c, "grad1_" + r), 1e-12, name + " grad target " + r);
    }
  }
}

TEST(BinaryCrossEntropyWithLogits, RejectsBadArguments) {
  const Tensor x = make({2, 3}, 1);
  EXPECT_THROW(binary_cross_entropy_with_logits(x, make({3, 2}, 2)), ShapeError);
  EXPECT_THROW(binary_cross_entropy_with_logits(x, make({2, 3}, 2), make({4}, 3)), ShapeError);
  EXPECT_THROW(binary_cross_entropy_with_logits(x, make({2, 3}, 2), {}, make({2}, 3)), ShapeError);
  EXPECT_THROW(binary_cross_entropy_with_logits(x, from_vector(std::vector<int64_t>{0, 1, 0, 1, 1, 0}, {2, 3})),
               DTypeError);
}
