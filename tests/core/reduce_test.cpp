// Reductions: values against naive loops over every element, dims in every
// combination, keepdim both ways, non-contiguous inputs, every dtype, empty
// and 0-dim tensors; hand-derived gradients; error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"

using namespace striate;

namespace {

// Deterministic values in [-2, 2) on a 1/64 grid (exact in f16/bf16 too).
std::vector<double> sample(int64_t n, uint64_t seed = 1) {
  std::vector<double> v(n);
  uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<double>(static_cast<int64_t>((s >> 33) % 256) - 128) / 64.0;
  }
  return v;
}

// Integer dtypes get values scaled to [-40, 40) (u8: [0, 80)), with ties.
Tensor make(const Shape& sizes, DType dtype = kFloat, uint64_t seed = 1) {
  std::vector<double> v = sample(shape_numel(sizes), seed);
  if (!is_floating_point(dtype))
    for (auto& x : v) x = std::floor(x * 20) + (dtype == kByte ? 40 : 0);
  return from_vector(v, sizes, TensorOptions(dtype));
}

// The input's elements grouped by the output element they reduce into, in
// row-major order of the reduced dims (so a position in a group is the index
// max/argmax report).
struct Groups {
  Shape out_sizes;
  std::vector<std::vector<double>> values;
};

Groups group(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  const Shape sizes = t.sizes();
  const int64_t nd = t.dim();
  std::vector<bool> reduced(nd, dims.empty());
  for (int64_t d : dims) reduced[d < 0 ? d + nd : d] = true;
  Groups g;
  Shape kept_sizes;
  for (int64_t d = 0; d < nd; ++d) {
    if (!reduced[d]) kept_sizes.push_back(sizes[d]);
    if (!reduced[d]) g.out_sizes.push_back(sizes[d]);
    else if (keepdim) g.out_sizes.push_back(1);
  }
  g.values.resize(shape_numel(kept_sizes));
  const std::vector<double> x = t.to_vector<double>();
  Shape idx(nd, 0);
  for (size_t flat = 0; flat < x.size(); ++flat) {
    int64_t out = 0;
    for (int64_t d = 0; d < nd; ++d)
      if (!reduced[d]) out = out * sizes[d] + idx[d];
    g.values[out].push_back(x[flat]);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < sizes[d]) break;
      idx[d] = 0;
    }
  }
  return g;
}

double naive_sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }
double naive_var(const std::vector<double>& v, int64_t correction) {
  const double mean = naive_sum(v) / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return sq / static_cast<double>(std::max<int64_t>(0, static_cast<int64_t>(v.size()) - correction));
}

void expect_values(const Tensor& got, const Shape& sizes, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.sizes(), sizes);
  const auto v = got.to_vector<double>();
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(v[i])) << "at " << i;
    else EXPECT_NEAR(v[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
  }
}

// Every subset of the dims of a tensor of rank n, as dim lists, some negative.
std::vector<Shape> dim_subsets(int64_t n) {
  std::vector<Shape> out;
  for (int64_t bits = 1; bits < (1 << n); ++bits) {
    Shape dims;
    for (int64_t d = 0; d < n; ++d)
      if (bits & (1 << d)) dims.push_back(d % 2 ? d - n : d);
    out.push_back(dims);
  }
  return out;
}

// Contiguous, transposed, strided-slice and expanded versions of one shape.
std::vector<Tensor> layouts(DType dtype) {
  return {
      make({3, 4, 5}, dtype),
      make({5, 4, 3}, dtype).permute({2, 1, 0}),
      make({3, 8, 5}, dtype).slice(1, 0, 8, 2),
      make({3, 1, 5}, dtype).expand({3, 4, 5}),
  };
}

}  // namespace

TEST(Reduce, SumOverEveryDimSubsetAndLayout) {
  for (const Tensor& t : layouts(kFloat))
    for (const Shape& dims : dim_subsets(3))
      for (bool keepdim : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "dims " << shape_str(dims) << " keepdim " << keepdim << " strides "
                                          << shape_str(t.strides()));
        Groups g = group(t, dims, keepdim);
        std::vector<double> want;
        for (auto& v : g.values) want.push_back(naive_sum(v));
        Tensor s = sum(t, dims, keepdim);
        EXPECT_EQ(s.dtype(), kFloat);
        expect_values(s, g.out_sizes, want);
      }
}

TEST(Reduce, SumAllAndEmptyDimList) {
  Tensor t = make({4, 6});
  const double want = naive_sum(t.to_vector<double>());
  expect_values(sum(t), {}, {want});
  expect_values(t.sum(Shape{}, true), {1, 1}, {want});
}

TEST(Reduce, SumDtypes) {
  std::vector<int32_t> ints{1, -2, 3, 4, 5, 6};
  Tensor i32 = from_vector(ints, {2, 3});
  Tensor s = sum(i32, {1});
  EXPECT_EQ(s.dtype(), kLong);
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{2, 15}));
  Tensor u8 = from_vector(std::vector<uint8_t>{200, 100, 7}, {3});
  EXPECT_EQ(sum(u8).dtype(), kLong);  // no wrap at 255
  EXPECT_EQ(sum(u8).item<int64_t>(), 307);

  Tensor b = from_vector(std::vector<bool>{true, false, true, true}, {4});
  EXPECT_EQ(sum(b).dtype(), kLong);
  EXPECT_EQ(sum(b).item<int64_t>(), 3);

  // Integer sums wrap like two's complement rather than crash.
  Tensor big = full({2}, INT64_MAX, TensorOptions(kLong));
  EXPECT_EQ(sum(big).item<int64_t>(), -2);

  // dtype= converts before summing.
  Tensor f = sum(i32, {}, false, kFloat);
  EXPECT_EQ(f.dtype(), kFloat);
  EXPECT_EQ(f.item<float>(), 17.f);
  Tensor as_int = sum(from_vector(std::vector<float>{1.5f, 2.5f}, {2}), {}, false, kInt);
  EXPECT_EQ(as_int.dtype(), kInt);
  EXPECT_EQ(as_int.item<int32_t>(), 3);  // 1 + 2 after truncation
  EXPECT_EQ(sum(make({3}), kDouble).dtype(), kDouble);

  for (DType dt : {kHalf, kBFloat16, kDouble}) {
    Tensor t = make({6, 7}, dt);
    Groups g = group(t, {0}, false);
    std::vector<double> want;
    for (auto& v : g.values) want.push_back(naive_sum(v));
    Tensor r = sum(t, {0});
    EXPECT_EQ(r.dtype(), dt);
    expect_values(r, {7}, want, dt == kDouble ? 1e-12 : 1e-2);
  }
}

TEST(Reduce, SumIsAccurate) {
  EXPECT_EQ(sum(ones({1000000})).item<float>(), 1e6f);
  EXPECT_EQ(sum(ones({1000, 1000}), {0}).to_vector<float>(), std::vector<float>(1000, 1000.f));
  // f16 accumulates in f32: 2048 + 1 is not representable mid-way in f16.
  EXPECT_EQ(sum(ones({3000}, TensorOptions(kHalf))).item<float>(), 3000.f);
  // 0.1 a million times: a naive f32 loop drifts by ~1e3 ulps.
  EXPECT_NEAR(sum(full({1000000}, 0.1f)).item<double>(), 100000.0, 1e-2);
  EXPECT_NEAR(sum(full({1000000, 2}, 0.1f), {0}).to_vector<double>()[1], 100000.0, 1e-2);
}

TEST(Reduce, EmptyAndZeroDim) {
  Tensor e = zeros({0, 3});
  expect_values(sum(e), {}, {0});
  expect_values(sum(e, {0}), {3}, {0, 0, 0});
  EXPECT_EQ(sum(e, {1}).sizes(), (Shape{0}));
  EXPECT_TRUE(std::isnan(mean(e).item<float>()));
  EXPECT_EQ(std::get<0>(max(e, 1)).sizes(), (Shape{0}));
  EXPECT_EQ(amax(e, {1}).sizes(), (Shape{0}));
  EXPECT_EQ(sum(zeros({0}, TensorOptions(kInt))).item<int64_t>(), 0);

  Tensor s = scalar_tensor(2.5);
  expect_values(sum(s), {}, {2.5});
  expect_values(sum(s, {0}), {}, {2.5});
  expect_values(sum(s, {-1}, true), {}, {2.5});
  expect_values(mean(s), {}, {2.5});
  expect_values(max(s), {}, {2.5});
  auto [v, i] = max(s, 0);
  expect_values(v, {}, {2.5});
  EXPECT_EQ(i.item<int64_t>(), 0);
  EXPECT_EQ(argmax(s).item<int64_t>(), 0);
  expect_values(amin(s, {}), {}, {2.5});
}

TEST(Reduce, MeanAndVar) {
  for (const Tensor& t : layouts(kFloat))
    for (const Shape& dims : dim_subsets(3))
      for (bool keepdim : {false, true}) {
        Groups g = group(t, dims, keepdim);
        std::vector<double> want_mean, want_var0, want_var1;
        for (auto& v : g.values) {
          want_mean.push_back(naive_sum(v) / static_cast<double>(v.size()));
          want_var0.push_back(naive_var(v, 0));
          want_var1.push_back(naive_var(v, 1));
        }
        expect_values(mean(t, dims, keepdim), g.out_sizes, want_mean);
        expect_values(var(t, dims, 0, keepdim), g.out_sizes, want_var0);
        expect_values(var(t, dims, 1, keepdim), g.out_sizes, want_var1);
      }
  // Hand values: var of {1, 2, 3, 4} is 5/3 (unbiased) and 5/4 (biased).
  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4}, {4});
  EXPECT_DOUBLE_EQ(var(x).item<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(x.var(0).item<double>(), 1.25);
  EXPECT_DOUBLE_EQ(var(x, {0}, 2).item<double>(), 2.5);
  EXPECT_DOUBLE_EQ(mean(x).item<double>(), 2.5);
  // n - correction <= 0 gives NaN (0/0) as in PyTorch.
  EXPECT_TRUE(std::isnan(var(from_vector(std::vector<float>{3}, {1})).item<float>()));
  // Large offset: a one-pass formula would cancel catastrophically.
  Tensor shifted = from_vector(std::vector<float>{1e4f + 1, 1e4f + 2, 1e4f + 3, 1e4f + 4}, {4});
  EXPECT_NEAR(var(shifted).item<double>(), 5.0 / 3.0, 1e-4);
  for (DType dt : {kHalf, kBFloat16}) {
    Tensor h = x.to(dt);
    EXPECT_EQ(mean(h).dtype(), dt);
    EXPECT_FLOAT_EQ(mean(h).item<float>(), 2.5f);
    EXPECT_NEAR(var(h).item<float>(), 5.0 / 3.0, 1e-2);
  }
}

TEST(Reduce, MaxMinAlongDim) {
  for (DType dt : {kFloat, kDouble, kHalf, kBFloat16, kInt, kLong, kByte})
    for (const Tensor& t : layouts(dt))
      for (int64_t dim : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
          SCOPED_TRACE(::testing::Message() << dt << " dim " << dim << " keepdim " << keepdim);
          const Tensor& src = t;
          Groups g = group(src, {dim}, keepdim);
          std::vector<double> vmax, imax, vmin, imin;
          for (auto& v : g.values) {
            const auto mx = std::max_element(v.begin(), v.end()), mn = std::min_element(v.begin(), v.end());
            vmax.push_back(*mx);
            imax.push_back(static_cast<double>(mx - v.begin()));  // the first of ties
            vmin.push_back(*mn);
            imin.push_back(static_cast<double>(mn - v.begin()));
          }
          auto [values, indices] = max(src, dim, keepdim);
          EXPECT_EQ(values.dtype(), dt);
          EXPECT_EQ(indices.dtype(), kLong);
          expect_values(values, g.out_sizes, vmax);
          expect_values(indices, g.out_sizes, imax);
          auto [mvalues, mindices] = src.min(dim, keepdim);
          expect_values(mvalues, g.out_sizes, vmin);
          expect_values(mindices, g.out_sizes, imin);
          expect_values(argmax(src, dim, keepdim), g.out_sizes, imax);
          expect_values(argmin(src, dim, keepdim), g.out_sizes, imin);
        }
}

TEST(Reduce, TiesAndNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor t = from_vector(std::vector<double>{1, 3, 3, 0, nan, 2, nan, 5, 1, 1, 0, 0}, {3, 4});
  auto [v, i] = max(t, 1);
  expect_values(v, {3}, {3, nan, 1});
  expect_values(i, {3}, {1, 0, 0});  // the first NaN; the first of ties
  auto [mv, mi] = min(t, 1);
  expect_values(mv, {3}, {0, nan, 0});
  expect_values(mi, {3}, {3, 0, 2});
  EXPECT_TRUE(std::isnan(max(t).item<double>()));
  EXPECT_TRUE(std::isnan(min(t).item<double>()));
  EXPECT_EQ(argmax(t).item<int64_t>(), 4);
  expect_values(amax(t, {0}), {4}, {nan, 3, nan, 5});
  Tensor b = from_vector(std::vector<bool>{false, true, true}, {3});
  EXPECT_EQ(argmax(b).item<int64_t>(), 1);
  EXPECT_EQ(max(b).item<bool>(), true);
  EXPECT_EQ(min(b).item<bool>(), false);
}

TEST(Reduce, AmaxAminAndAllElements) {
  for (const Tensor& t : layouts(kFloat)) {
    for (const Shape& dims : dim_subsets(3))
      for (bool keepdim : {false, true}) {
        Groups g = group(t, dims, keepdim);
        std::vector<double> vmax, vmin;
        for (auto& v : g.values) {
          vmax.push_back(*std::max_element(v.begin(), v.end()));
          vmin.push_back(*std::min_element(v.begin(), v.end()));
        }
        expect_values(amax(t, dims, keepdim), g.out_sizes, vmax);
        expect_values(amin(t, dims, keepdim), g.out_sizes, vmin);
      }
    const auto all = t.to_vector<double>();
    const auto mx = std::max_element(all.begin(), all.end()), mn = std::min_element(all.begin(), all.end());
    expect_values(max(t), {}, {*mx});
    expect_values(t.min(), {}, {*mn});
    EXPECT_EQ(argmax(t).item<int64_t>(), mx - all.begin());  // into the flattened tensor
    EXPECT_EQ(argmin(t).item<int64_t>(), mn - all.begin());
    Tensor kept = argmax(t, std::nullopt, true);
    EXPECT_EQ(kept.sizes(), (Shape{1, 1, 1}));
    EXPECT_EQ(kept.item<int64_t>(), mx - all.begin());
  }
}

TEST(Reduce, HigherRank) {
  Tensor t = make({2, 3, 4, 5}).permute({0, 2, 3, 1});  // NHWC-like strides
  for (const Shape& dims : dim_subsets(4)) {
    Groups g = group(t, dims, false);
    std::vector<double> want;
    for (auto& v : g.values) want.push_back(naive_sum(v));
    expect_values(sum(t, dims), g.out_sizes, want);
  }
}

TEST(Reduce, SumTo) {
  Tensor g = make({2, 3, 4});
  EXPECT_TRUE(sum_to(g, {2, 3, 4}).is_same(g));
  Groups lead = group(g, {0, 2}, false);
  std::vector<double> want;
  for (auto& v : lead.values) want.push_back(naive_sum(v));
  expect_values(sum_to(g, {3, 1}), {3, 1}, want);
  Groups inner = group(g, {0, 1}, false);
  want.clear();
  for (auto& v : inner.values) want.push_back(naive_sum(v));
  expect_values(sum_to(g, {4}), {4}, want);
  expect_values(sum_to(g, {}), {}, {naive_sum(g.to_vector<double>())});
  expect_values(sum_to(make({1, 3}), {3}), {3}, make({3}).to_vector<double>());
  EXPECT_EQ(sum_to(make({2, 3}, kDouble), {1, 3}).dtype(), kDouble);
  EXPECT_THROW(sum_to(g, {5}), ShapeError);
  EXPECT_THROW(sum_to(g, {1, 2, 3, 4}), ShapeError);
}

TEST(Reduce, Errors) {
  Tensor t = make({2, 3});
  EXPECT_THROW(sum(t, {0, -2}), ValueError);  // repeated after wrapping
  EXPECT_THROW(sum(t, {2}), IndexError);
  EXPECT_THROW(amax(t, {1, 1}), ValueError);
  EXPECT_THROW(mean(t.to(kInt)), DTypeError);
  EXPECT_THROW(var(t.to(kLong), {0}), DTypeError);
  EXPECT_THROW(max(zeros({0, 3})), ShapeError);
  EXPECT_THROW(argmin(zeros({0})), ShapeError);
  EXPECT_THROW(max(zeros({0, 3}), 0), IndexError);
  EXPECT_THROW(argmax(zeros({2, 0}), 1), IndexError);
  EXPECT_THROW(amin(zeros({0, 3}), {}), ShapeError);
  EXPECT_THROW(amin(zeros({0, 3}), {0}), IndexError);
  EXPECT_THROW(max(t, 3), IndexError);
  EXPECT_THROW(sum(Tensor()), ValueError);
  try {
    mean(t.to(kInt));
  } catch (const DTypeError& e) {
    EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos) << e.what();
  }
}

// ---- backward --------------------------------------------------------------

namespace {
Tensor leaf(const std::vector<double>& v, const Shape& sizes) {
  return from_vector(v, sizes).requires_grad_();
}
}  // namespace

TEST(ReduceBackward, SumAndMean) {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = from_vector(std::vector<double>{1, 10}, {2});
  (sum(x, {1}) * w).sum().backward();
  expect_values(x.grad(), {2, 3}, {1, 1, 1, 10, 10, 10});

  Tensor y = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  sum(y, {0}, true).sum().backward();
  expect_values(y.grad(), {2, 3}, {1, 1, 1, 1, 1, 1});

  Tensor z = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  (mean(z, {-1}) * w).sum().backward();
  expect_values(z.grad(), {2, 3}, {1. / 3, 1. / 3, 1. / 3, 10. / 3, 10. / 3, 10. / 3});

  Tensor f = from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
  sum(f, kDouble).backward();  // the gradient comes back in f's dtype
  EXPECT_EQ(f.grad().dtype(), kFloat);
  expect_values(f.grad(), {2}, {1, 1});
}

TEST(ReduceBackward, Var) {
  Tensor x = leaf({1, 2, 3, 4}, {4});
  var(x).backward();
  // 2 (x - 2.5) / 3
  expect_values(x.grad(), {4}, {-1.0, -1.0 / 3, 1.0 / 3, 1.0});
  Tensor y = leaf({1, 2, 4, 8}, {2, 2});
  var(y, {1}, 0).sum().backward();
  // per row: 2 (x - mean) / 2
  expect_values(y.grad(), {2, 2}, {-0.5, 0.5, -2, 2});
}

TEST(ReduceBackward, MaxMin) {
  Tensor x = leaf({1, 5, 5, 2, 0, 0}, {2, 3});
  max(x).backward();  // ties share evenly
  expect_values(x.grad(), {2, 3}, {0, 0.5, 0.5, 0, 0, 0});

  Tensor y = leaf({1, 5, 5, 2, 0, 0}, {2, 3});
  Tensor w = from_vector(std::vector<double>{1, 10}, {2});
  (std::get<0>(min(y, 1)) * w).sum().backward();  // only the first of ties
  expect_values(y.grad(), {2, 3}, {1, 0, 0, 0, 10, 0});

  Tensor z = leaf({1, 5, 5, 2, 0, 0}, {2, 3});
  (std::get<0>(max(z, 0, true)) * from_vector(std::vector<double>{1, 2, 3}, {1, 3})).sum().backward();
  expect_values(z.grad(), {2, 3}, {0, 2, 3, 1, 0, 0});

  Tensor a = leaf({1, 5, 5, 2, 0, 0}, {2, 3});
  amin(a, {1}).sum().backward();  // amin shares ties evenly
  expect_values(a.grad(), {2, 3}, {1, 0, 0, 0, 0.5, 0.5});

  Tensor b = leaf({1, 5, 5, 2, 0, 5}, {2, 3});
  amax(b, {0, 1}).backward();
  expect_values(b.grad(), {2, 3}, {0, 1. / 3, 1. / 3, 0, 0, 1. / 3});

  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor n = leaf({1, nan, 3}, {3});
  max(n).backward();
  expect_values(n.grad(), {3}, {0, 1, 0});
}

TEST(ReduceBackward, Gradcheck) {
  auto input = [](const Shape& sizes, uint64_t seed) { return make(sizes, kDouble, seed).requires_grad_(); };
  Tensor x = input({3, 4, 2}, 3);
  Tensor nc = make({4, 3}, kDouble, 4).t().requires_grad_();  // non-contiguous
  // Distinct values, 0.1 apart, so that max/min have no ties (no smooth gradient there).
  std::vector<double> spread(24);
  for (int i = 0; i < 24; ++i) spread[i] = ((i * 7) % 24) * 0.1 - 1.0;
  Tensor distinct = from_vector(spread, {4, 3, 2}).requires_grad_();
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return sum(in[0], {0, 2}); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return sum(in[0], {1}, true); }, {nc}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return mean(in[0], {-1}); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return mean(in[0]); }, {nc}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return var(in[0], {0, 1}); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return var(in[0], {1}, 0, true); }, {nc}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return sum_to(in[0], {4, 1}); }, {x}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return max(in[0]); }, {distinct}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return min(in[0]); }, {distinct}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return std::get<0>(max(in[0], 1)); }, {distinct}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return std::get<0>(min(in[0], -1, true)); }, {distinct}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return amax(in[0], {0, 2}); }, {distinct}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return amin(in[0], {1}, true); }, {distinct}));
}
