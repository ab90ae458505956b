// batch_norm, layer_norm and local_response_norm against naive loops
// (forward, running statistics, backward), gradcheck over train/eval, ranks,
// layouts and affine parameters, PyTorch reference values, and bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"
#include "support/npy.h"

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
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const auto a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], e[i], tol * (1 + std::abs(e[i]))) << what << " at flat index " << i;
}

Tensor ref(const std::string& c, const std::string& name) {
  return striate::testing::load_npy(striate::testing::reference_path("normalization/" + c + "/" + name + ".npy"));
}

// ---- the naive batch norm --------------------------------------------------------

struct NaiveBatchNorm {
  std::vector<double> out, grad_input, grad_weight, grad_bias, running_mean, running_var;
};

// x: [N, C, S...] row-major; gradients of sum(out * gout).
NaiveBatchNorm naive_batch_norm(const Tensor& input, const std::vector<double>& w, const std::vector<double>& b,
                                const std::vector<double>& rm, const std::vector<double>& rv, bool training,
                                double momentum, double eps, const std::vector<double>& gout) {
  const int64_t n = input.size(0), channels = input.size(1), rest = input.numel() / (n * channels);
  const auto x = input.to(kDouble).contiguous().to_vector<double>();
  const double m = static_cast<double>(n * rest);
  NaiveBatchNorm r;
  r.out.resize(x.size());
  r.grad_input.resize(x.size());
  r.running_mean = rm;
  r.running_var = rv;
  for (int64_t c = 0; c < channels; ++c) {
    std::vector<int64_t> at;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t s = 0; s < rest; ++s) at.push_back((i * channels + c) * rest + s);
    double mean = 0, var = 0;
    for (int64_t k : at) mean += x[k] / m;
    for (int64_t k : at) var += (x[k] - mean) * (x[k] - mean) / m;
    if (training) {
      r.running_mean[c] = (1 - momentum) * rm[c] + momentum * mean;
      r.running_var[c] = (1 - momentum) * rv[c] + momentum * var * m / (m - 1);
    } else {
      mean = rm[c];
      var = rv[c];
    }
    const double invstd = 1 / std::sqrt(var + eps);
    double sum_g = 0, sum_g_xhat = 0;
    for (int64_t k : at) {
      const double xhat = (x[k] - mean) * invstd;
      r.out[k] = xhat * w[c] + b[c];
      sum_g += gout[k];
      sum_g_xhat += gout[k] * xhat;
    }
    r.grad_weight.push_back(sum_g_xhat);
    r.grad_bias.push_back(sum_g);
    for (int64_t k : at) {
      const double xhat = (x[k] - mean) * invstd;
      r.grad_input[k] = training ? w[c] * invstd * (gout[k] - sum_g / m - xhat * sum_g_xhat / m)
                                 : w[c] * invstd * gout[k];
    }
  }
  return r;
}

struct BatchNormCase {
  Shape sizes;
  bool channels_last;
};

std::vector<BatchNormCase> batch_norm_cases() {
  return {{{5, 3}, false}, {{2, 3, 4}, false}, {{2, 3, 2, 3}, false}, {{1, 2, 3, 3}, false},
          {{3, 4, 2, 2}, true}, {{2, 2, 1, 3, 2}, false}};
}

Tensor layout(const Tensor& t, bool channels_last) {
  return channels_last ? t.contiguous(MemoryFormat::ChannelsLast) : t;
}

}  // namespace

// ---- batch_norm ------------------------------------------------------------------

TEST(BatchNorm, MatchesNaiveLoopsInTrainingAndEval) {
  uint64_t seed = 1;
  for (DType dtype : {kDouble, kFloat})
    for (const BatchNormCase& bc : batch_norm_cases())
      for (bool training : {true, false})
        for (bool affine : {false, true}) {
          const std::string what = shape_str(bc.sizes) + (bc.channels_last ? " channels-last" : "") +
                                   (training ? " training" : " eval") + (affine ? " affine" : "") + " " +
                                   dtype_name(dtype);
          const int64_t c = bc.sizes[1];
          const Tensor input = make(bc.sizes, ++seed, dtype) * 1.5 + 0.25;
          std::vector<double> w(c, 1.0), b(c, 0.0);
          if (affine) {
            w = sample(c, ++seed);
            b = sample(c, ++seed);
          }
          const std::vector<double> rm = sample(c, ++seed);
          std::vector<double> rv = sample(c, ++seed);
          for (auto& v : rv) v = std::abs(v) + 0.5;
          const std::vector<double> gout = sample(input.numel(), ++seed);
          const NaiveBatchNorm naive = naive_batch_norm(input, w, b, rm, rv, training, 0.1, 1e-5, gout);

          Tensor x = leaf(layout(input, bc.channels_last));
          Tensor weight = affine ? leaf(from_vector(w, {c}, TensorOptions(dtype))) : Tensor();
          Tensor bias = affine ? leaf(from_vector(b, {c}, TensorOptions(dtype))) : Tensor();
          Tensor running_mean = from_vector(rm, {c}, TensorOptions(dtype));
          Tensor running_var = from_vector(rv, {c}, TensorOptions(dtype));
          Tensor out = batch_norm(x, running_mean, running_var, weight, bias, training, 0.1, 1e-5);
          const double tol = dtype == kDouble ? 1e-12 : 2e-5;
          ASSERT_EQ(out.dtype(), dtype);
          if (bc.channels_last) EXPECT_TRUE(out.is_contiguous(MemoryFormat::ChannelsLast)) << what;
          expect_close(out, from_vector(naive.out, bc.sizes), tol, what + " forward");
          expect_close(running_mean, from_vector(naive.running_mean, {c}), tol, what + " running_mean");
          expect_close(running_var, from_vector(naive.running_var, {c}), tol, what + " running_var");
          (out * from_vector(gout, bc.sizes, TensorOptions(dtype))).sum().backward();
          expect_close(x.grad(), from_vector(naive.grad_input, bc.sizes), tol * 10, what + " grad input");
          if (affine) {
            expect_close(weight.grad(), from_vector(naive.grad_weight, {c}), tol * 10, what + " grad weight");
            expect_close(bias.grad(), from_vector(naive.grad_bias, {c}), tol * 10, what + " grad bias");
          }
        }
}

TEST(BatchNorm, GradcheckTrainingAndEval) {
  uint64_t seed = 100;
  for (const BatchNormCase& bc : batch_norm_cases())
    for (bool training : {true, false})
      for (bool affine : {false, true}) {
        SCOPED_TRACE(shape_str(bc.sizes) + (bc.channels_last ? " channels-last" : "") +
                     (training ? " training" : " eval") + (affine ? " affine" : ""));
        const int64_t c = bc.sizes[1];
        const Tensor running_mean = make({c}, ++seed);
        const Tensor running_var = make({c}, ++seed).abs() + 0.5;
        TensorList inputs{leaf(layout(make(bc.sizes, ++seed), bc.channels_last))};
        if (affine) {
          inputs.push_back(leaf(make({c}, ++seed)));
          inputs.push_back(leaf(make({c}, ++seed)));
        }
        EXPECT_TRUE(gradcheck(
            [&](const TensorList& in) {
              // Training updates copies, so every evaluation sees the same starting statistics.
              return batch_norm(in[0], running_mean.clone(), running_var.clone(), affine ? in[1] : Tensor(),
                                affine ? in[2] : Tensor(), training, 0.1, 1e-5);
            },
            inputs));
      }
  // Training without running statistics.
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return batch_norm(in[0], {}, {}, in[1], {}, true); },
                        {leaf(make({4, 3}, 7)), leaf(make({3}, 8))}));
}

TEST(BatchNorm, MatchesPyTorch) {
  struct Case {
    const char* name;
    bool training;
    double momentum, eps;
  };
  for (const Case& cs : {Case{"bn_train_4d", true, 0.1, 1e-5}, Case{"bn_train_3d", true, 0.25, 1e-3},
                         Case{"bn_train_2d", true, 0.1, 1e-5}, Case{"bn_eval_4d", false, 0.1, 1e-5}}) {
    SCOPED_TRACE(cs.name);
    for (DType dtype : {kDouble, kFloat}) {
      const double tol = dtype == kDouble ? 1e-12 : 2e-5;
      Tensor x = leaf(ref(cs.name, "input").to(dtype));
      Tensor w = leaf(ref(cs.name, "weight").to(dtype)), b = leaf(ref(cs.name, "bias").to(dtype));
      Tensor rm = ref(cs.name, "running_mean").to(dtype, true), rv = ref(cs.name, "running_var").to(dtype, true);
      Tensor out = batch_norm(x, rm, rv, w, b, cs.training, cs.momentum, cs.eps);
      expect_close(out, ref(cs.name, "out"), tol, "forward");
      expect_close(rm, ref(cs.name, "running_mean_after"), tol, "running_mean");
      expect_close(rv, ref(cs.name, "running_var_after"), tol, "running_var");
      (out * ref(cs.name, "gout").to(dtype)).sum().backward();
      expect_close(x.grad(), ref(cs.name, "grad_input"), tol * 10, "grad input");
      expect_close(w.grad(), ref(cs.name, "grad_weight"), tol * 10, "grad weight");
      expect_close(b.grad(), ref(cs.name, "grad_bias"), tol * 10, "grad bias");
    }
  }
}

TEST(BatchNorm, FloatStatisticsSurviveALargeMean) {
  // Values near 1e4 with unit spread: E[x^2] - E[x]^2 in float would be noise.
  const Tensor x64 = (make({8, 2, 4, 4}, 3) + 10000).to(kFloat).to(kDouble);
  const Tensor expected = batch_norm(x64, {}, {}, {}, {}, true);
  const Tensor out = batch_norm(x64.to(kFloat), {}, {}, {}, {}, true);
  expect_close(out, expected, 2e-3, "normalised");
}

TEST(BatchNorm, AcceptsHalfAndBFloat16Inputs) {
  const Tensor input = make({4, 3, 2, 2}, 13);
  const Tensor expected = batch_norm(input, {}, {}, {}, {}, true);
  for (DType dtype : {kHalf, kBFloat16}) {
    Tensor x = leaf(input.to(dtype));
    Tensor rm = zeros({3}), rv = ones({3});
    Tensor out = batch_norm(x, rm, rv, {}, {}, true);
    EXPECT_EQ(out.dtype(), dtype);
    expect_close(out.to(kDouble), expected, 3e-2, "half forward");
    out.sum().backward();
    EXPECT_EQ(x.grad().dtype(), dtype);
  }
}

TEST(BatchNorm, RejectsBadArguments) {
  const Tensor x = make({4, 3, 2}, 1);
  const Tensor stats = ones({3}, kDouble);
  EXPECT_THROW(batch_norm(make({3}, 1), stats, stats), ShapeError);
  EXPECT_THROW(batch_norm(x, ones({4}, kDouble), stats), ShapeError);
  EXPECT_THROW(batch_norm(x, stats, stats, ones({2}, kDouble)), ShapeError);
  EXPECT_THROW(batch_norm(x, stats, stats, {}, ones({3, 1}, kDouble)), ShapeError);
  EXPECT_THROW(batch_norm(x, {}, {}, {}, {}, /*training=*/false), ValueError);
  EXPECT_THROW(batch_norm(x, stats, {}, {}, {}, true), ValueError);
  EXPECT_THROW(batch_norm(make({1, 3}, 1), stats.clone(), stats.clone(), {}, {}, true), ValueError);
  EXPECT_THROW(batch_norm(x.to(kLong), stats, stats), DTypeError);
}

// ---- layer_norm --------------------------------------------------------------------

namespace {

struct NaiveLayerNorm {
  std::vector<double> out, grad_input, grad_weight, grad_bias;
};

NaiveLayerNorm naive_layer_norm(const Tensor& input, int64_t cols, const std::vector<double>& w,
                                const std::vector<double>& b, double eps, const std::vector<double>& gout) {
  const auto x = input.to(kDouble).to_vector<double>();
  const int64_t rows = static_cast<int64_t>(x.size()) / cols;
  NaiveLayerNorm r;
  r.out.resize(x.size());
  r.grad_input.resize(x.size());
  r.grad_weight.assign(cols, 0);
  r.grad_bias.assign(cols, 0);
  for (int64_t i = 0; i < rows; ++i) {
    const double* row = x.data() + i * cols;
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j) mean += row[j] / cols;
    for (int64_t j = 0; j < cols; ++j) var += (row[j] - mean) * (row[j] - mean) / cols;
    const double rstd = 1 / std::sqrt(var + eps);
    double mean_gh = 0, mean_gh_xhat = 0;
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (row[j] - mean) * rstd, g = gout[i * cols + j];
      r.out[i * cols + j] = xhat * w[j] + b[j];
      r.grad_weight[j] += g * xhat;
      r.grad_bias[j] += g;
      mean_gh += g * w[j] / cols;
      mean_gh_xhat += g * w[j] * xhat / cols;
    }
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (row[j] - mean) * rstd;
      r.grad_input[i * cols + j] = rstd * (gout[i * cols + j] * w[j] - mean_gh - xhat * mean_gh_xhat);
    }
  }
  return r;
}

}  // namespace

TEST(LayerNorm, MatchesNaiveLoops) {
  uint64_t seed = 300;
  struct Case {
    Shape sizes, normalized;
  };
  for (DType dtype : {kDouble, kFloat})
    for (const Case& lc : {Case{{3, 4, 5}, {4, 5}}, Case{{2, 3, 6}, {6}}, Case{{7}, {7}}, Case{{2, 1, 3}, {2, 1, 3}}})
      for (bool affine : {false, true}) {
        const std::string what = shape_str(lc.sizes) + " over " + shape_str(lc.normalized) + (affine ? " affine" : "");
        const int64_t cols = shape_numel(lc.normalized);
        std::vector<double> w(cols, 1.0), b(cols, 0.0);
        if (affine) {
          w = sample(cols, ++seed);
          b = sample(cols, ++seed);
        }
        const Tensor input = make(lc.sizes, ++seed, dtype);
        const std::vector<double> gout = sample(input.numel(), ++seed);
        const NaiveLayerNorm naive = naive_layer_norm(input, cols, w, b, 1e-5, gout);
        Tensor x = leaf(input);
        Tensor weight = affine ? leaf(from_vector(w, lc.normalized, TensorOptions(dtype))) : Tensor();
        Tensor bias = affine ? leaf(from_vector(b, lc.normalized, TensorOptions(dtype))) : Tensor();
        Tensor out = layer_norm(x, lc.normalized, weight, bias);
        const double tol = dtype == kDouble ? 1e-12 : 2e-5;
        expect_close(out, from_vector(naive.out, lc.sizes), tol, what + " forward");
        (out * from_vector(gout, lc.sizes, TensorOptions(dtype))).sum().backward();
        expect_close(x.grad(), from_vector(naive.grad_input, lc.sizes), tol * 10, what + " grad input");
        if (affine) {
          expect_close(weight.grad(), from_vector(naive.grad_weight, lc.normalized), tol * 10, what + " grad weight");
          expect_close(bias.grad(), from_vector(naive.grad_bias, lc.normalized), tol * 10, what + " grad bias");
        }
      }
}

TEST(LayerNorm, GradcheckOverOneAndTwoTrailingDims) {
  uint64_t seed = 400;
  for (const Shape& normalized : {Shape{4}, Shape{3, 4}})
    for (int params = 0; params < 4; ++params) {
      SCOPED_TRACE(shape_str(normalized) + " params " + std::to_string(params));
      const bool with_weight = params & 1, with_bias = params & 2;
      TensorList inputs{leaf(make({2, 3, 4}, ++seed))};
      if (with_weight) inputs.push_back(leaf(make(normalized, ++seed)));
      if (with_bias) inputs.push_back(leaf(make(normalized, ++seed)));
      EXPECT_TRUE(gradcheck(
          [&](const TensorList& in) {
            const Tensor weight = with_weight ? in[1] : Tensor();
            const Tensor bias = with_bias ? in.back() : Tensor();
            return layer_norm(in[0], normalized, weight, bias, 1e-3);
          },
          inputs));
    }
}

TEST(LayerNorm, MatchesPyTorch) {
  struct Case {
    const char* name;
    Shape normalized;
    bool affine;
    double eps;
  };
  for (const Case& cs : {Case{"ln_two_dims", {4, 5}, true, 1e-5}, Case{"ln_one_dim", {6}, true, 1e-3},
                         Case{"ln_no_affine", {7}, false, 1e-5}}) {
    SCOPED_TRACE(cs.name);
    Tensor x = leaf(ref(cs.name, "input"));
    Tensor w = cs.affine ? leaf(ref(cs.name, "weight")) : Tensor();
    Tensor b = cs.affine ? leaf(ref(cs.name, "bias")) : Tensor();
    Tensor out = layer_norm(x, cs.normalized, w, b, cs.eps);
    expect_close(out, ref(cs.name, "out"), 1e-12, "forward");
    (out * ref(cs.name, "gout")).sum().backward();
    expect_close(x.grad(), ref(cs.name, "grad_input"), 1e-11, "grad input");
    if (cs.affine) {
      expect_close(w.grad(), ref(cs.name, "grad_weight"), 1e-11, "grad weight");
      expect_close(b.grad(), ref(cs.name, "grad_bias"), 1e-11, "grad bias");
    }
  }
}

TEST(LayerNorm, RejectsBadArguments) {
  const Tensor x = make({2, 3, 4}, 1);
  EXPECT_THROW(layer_norm(x, {3}), ShapeError);
  EXPECT_THROW(layer_norm(x, {2, 3, 4, 1}), ShapeError);
  EXPECT_THROW(layer_norm(x, {}), ValueError);
  EXPECT_THROW(layer_norm(x, {3, 4}, ones({4}, kDouble)), ShapeError);
  EXPECT_THROW(layer_norm(x, {4}, {}, ones({3}, kDouble)), ShapeError);
  EXPECT_THROW(layer_norm(x.to(kInt), {4}), DTypeError);
}

// ---- local_response_norm ------------------------------------------------------------

namespace {

std::vector<double> naive_lrn(const Tensor& input, int64_t size, double alpha, double beta, double k) {
  const int64_t n = input.size(0), channels = input.size(1), rest = input.numel() / (n * channels);
  const auto x = input.to(kDouble).to_vector<double>();
  std::vector<double> out(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t s = 0; s < rest; ++s) {
        double sum = 0;
        for (int64_t j = c - size / 2; j <= c + (size - 1) / 2; ++j)
          if (j >= 0 && j < channels) sum += std::pow(x[(i * channels + j) * rest + s], 2);
        const int64_t e = (i * channels + c) * rest + s;
        out[e] = x[e] / std::pow(k + alpha * sum / size, beta);
      }
  return out;
}

}  // namespace

TEST(LocalResponseNorm, MatchesNaiveLoops) {
  uint64_t seed = 500;
  for (DType dtype : {kDouble, kFloat})
    for (const Shape& sizes : {Shape{2, 6, 3, 3}, Shape{1, 4, 5}, Shape{2, 3, 2, 1, 2}})
      for (int64_t size : {1, 2, 3, 5, 9})
        for (double beta : {0.75, 0.5}) {
          const Tensor input = make(sizes, ++seed, dtype);
          const Tensor out = local_response_norm(input, size, 0.2, beta, 1.5);
          expect_close(out, from_vector(naive_lrn(input, size, 0.2, beta, 1.5), sizes), dtype == kDouble ? 1e-12 : 1e-5,
                       shape_str(sizes) + " size " + std::to_string(size) + " beta " + std::to_string(beta));
        }
}

TEST(LocalResponseNorm, Gradcheck) {
  uint64_t seed = 600;
  for (const Shape& sizes : {Shape{2, 5, 2, 2}, Shape{1, 4, 3}, Shape{1, 3, 2, 1, 2}})
    for (int64_t size : {1, 2, 3, 5})
      for (double beta : {0.75, 0.6}) {
        SCOPED_TRACE(shape_str(sizes) + " size " + std::to_string(size) + " beta " + std::to_string(beta));
        EXPECT_TRUE(gradcheck(
            [&](const TensorList& in) { return local_response_norm(in[0], size, 0.3, beta, 1.2); },
            {leaf(make(sizes, ++seed))}));
      }
}

TEST(LocalResponseNorm, MatchesPyTorch) {
  struct Case {
    const char* name;
    int64_t size;
    double alpha, beta, k;
  };
  for (const Case& cs : {Case{"lrn_alexnet", 5, 1e-2, 0.75, 2.0}, Case{"lrn_even_size_3d", 4, 0.3, 0.6, 1.0}}) {
    SCOPED_TRACE(cs.name);
    for (DType dtype : {kDouble, kFloat}) {
      const double tol = dtype == kDouble ? 1e-12 : 1e-5;
      Tensor x = leaf(ref(cs.name, "input").to(dtype));
      Tensor out = local_response_norm(x, cs.size, cs.alpha, cs.beta, cs.k);
      expect_close(out, ref(cs.name, "out"), tol, "forward");
      (out * ref(cs.name, "gout").to(dtype)).sum().backward();
      expect_close(x.grad(), ref(cs.name, "grad_input"), tol, "grad input");
    }
  }
}

TEST(LocalResponseNorm, RejectsBadArguments) {
  EXPECT_THROW(local_response_norm(make({3, 4}, 1), 2), ShapeError);
  EXPECT_THROW(local_response_norm(make({1, 3, 4}, 1), 0), ValueError);
  EXPECT_THROW(local_response_norm(make({1, 3, 4}, 1).to(kLong), 2), DTypeError);
}
