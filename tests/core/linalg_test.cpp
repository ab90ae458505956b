// Matrix products against a naive triple loop in double: many shapes (across
// the blocking boundaries, with empty dims), every supported dtype,
// transposed / strided / expanded operands; every matmul case; gradients by
// hand and by finite differences; error messages.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>

#include "striate/core/gradcheck.h"
#include "striate/striate.h"

using namespace striate;

namespace {

// Deterministic small integers / 8 in [-2, 2): products are exact in f32
// and, for small k, in f16/bf16.
std::vector<double> sample(int64_t n, uint64_t seed) {
  std::vector<double> v(n);
  uint64_t s = seed * 2862933555777941757ull + 3037000493ull;
  for (auto& x : v) {
    s = s * 2862933555777941757ull + 3037000493ull;
    x = static_cast<double>(static_cast<int64_t>((s >> 35) % 32) - 16) / 8.0;
  }
  return v;
}

Tensor make(const Shape& sizes, DType dtype = kFloat, uint64_t seed = 1) {
  std::vector<double> v = sample(shape_numel(sizes), seed);
  if (!is_floating_point(dtype))
    for (auto& x : v) x = x * 8 + (dtype == kByte ? 16 : 0);  // integers; u8 non-negative
  return from_vector(v, sizes, TensorOptions(dtype));
}

// [..., n, k] x [..., k, m] over equal leading dims, in double.
std::vector<double> naive_bmm(const Tensor& a, const Tensor& b) {
  const auto x = a.to_vector<double>(), y = b.to_vector<double>();
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  const int64_t batch = shape_numel(Shape(a.sizes().begin(), a.sizes().end() - 2));
  std::vector<double> out(batch * n * m, 0.0);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += x[(z * n + i) * k + p] * y[(z * k + p) * m + j];
        out[(z * n + i) * m + j] = s;
      }
  return out;
}

void expect_values(const Tensor& got, const Shape& sizes, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.sizes(), sizes);
  const auto v = got.to_vector<double>();
  ASSERT_EQ(v.size(), want.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(want[i])) EXPECT_TRUE(std::isnan(v[i])) << "at " << i;
    else ASSERT_NEAR(v[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
  }
}

template <typename Fn>
std::string message_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Linalg, MmShapesAcrossBlocks) {
  const std::vector<std::array<int64_t, 3>> shapes{{1, 1, 1}, {3, 4, 5}, {17, 33, 9}, {70, 130, 300},
                                                   {65, 1, 257}, {2, 0, 3}, {0, 4, 3}, {3, 4, 0}};
  for (auto [n, k, m] : shapes) {
    SCOPED_TRACE(::testing::Message() << n << "x" << k << "x" << m);
    for (DType dt : {kFloat, kDouble}) {
      Tensor a = make({n, k}, dt, 1), b = make({k, m}, dt, 2);
      Tensor c = mm(a, b);
      EXPECT_EQ(c.dtype(), dt);
      expect_values(c, {n, m}, naive_bmm(a, b));
    }
  }
}

TEST(Linalg, MmDtypes) {
  for (DType dt : {kHalf, kBFloat16, kInt, kLong, kByte}) {
    SCOPED_TRACE(::testing::Message() << dt);
    Tensor a = make({5, 7}, dt, 3), b = make({7, 6}, dt, 4);
    Tensor c = a.mm(b);
    EXPECT_EQ(c.dtype(), dt);
    std::vector<double> want = naive_bmm(a, b);
    if (dt == kByte)
      for (auto& w : want) w = std::fmod(w, 256.0);  // u8 wraps
    // f16/bf16 round the result (computed in f32) once.
    expect_values(c, {5, 6}, want, dt == kBFloat16 ? 1e-2 : dt == kHalf ? 1e-3 : 0);
  }
  // Large integer products wrap instead of being undefined.
  Tensor big = full({1, 1}, int64_t{1} << 62, TensorOptions(kLong));
  EXPECT_EQ(mm(big, full({1, 1}, 4, TensorOptions(kLong))).item<int64_t>(), 0);
}

TEST(Linalg, MmStridedOperands) {
  Tensor a = make({6, 5}, kFloat, 5), b = make({5, 4}, kFloat, 6);
  const auto want = naive_bmm(a, b);
  // Transposed views (no copy: passed with the transpose flag).
  Tensor at = a.t().contiguous().t();
  expect_values(mm(at, b), {6, 4}, want);
  expect_values(mm(a, b.t().contiguous().t()), {6, 4}, want);
  expect_values(mm(at, b.t().contiguous().t()), {6, 4}, want);
  // Row-strided slices, column-strided slices (copied) and expanded operands.
  Tensor wide = make({6, 10}, kFloat, 7);
  Tensor sliced = wide.slice(1, 0, 10, 2);  // stride (10, 2): copied
  expect_values(mm(sliced, b), {6, 4}, naive_bmm(sliced.contiguous(), b));
  Tensor rows = make({12, 5}, kFloat, 8).slice(0, 0, 12, 2);  // stride (10, 1): ld = 10
  expect_values(mm(rows, b), {6, 4}, naive_bmm(rows.contiguous(), b));
  Tensor expanded = make({1, 5}, kFloat, 9).expand({6, 5});
  expect_values(mm(expanded, b), {6, 4}, naive_bmm(expanded.contiguous(), b));
  Tensor col = make({5, 1}, kFloat, 10).expand({5, 4});
  expect_values(mm(a, col), {6, 4}, naive_bmm(a, col.contiguous()));
  // Single rows / columns with arbitrary strides.
  Tensor row = make({3, 5}, kFloat, 11).select(0, 1).unsqueeze(0);
  expect_values(mm(row, b), {1, 4}, naive_bmm(row.contiguous(), b));
  Tensor column = make({5, 3}, kFloat, 12).select(1, 2).unsqueeze(1);
  expect_values(mm(a, column), {6, 1}, naive_bmm(a, column.contiguous()));
}

TEST(Linalg, Bmm) {
  Tensor a = make({4, 3, 5}, kFloat, 1), b = make({4, 5, 2}, kFloat, 2);
  expect_values(bmm(a, b), {4, 3, 2}, naive_bmm(a, b));
  Tensor at = make({4, 5, 3}, kFloat, 1).transpose(1, 2);
  expect_values(bmm(at, b), {4, 3, 2}, naive_bmm(at.contiguous(), b));
  Tensor shared = make({1, 5, 2}, kFloat, 3).expand({4, 5, 2});  // batch stride 0
  expect_values(a.bmm(shared), {4, 3, 2}, naive_bmm(a, shared.contiguous()));
  Tensor batch_last = make({3, 5, 4}, kDouble, 4).permute({2, 0, 1});  // batch not outermost
  Tensor bd = make({4, 5, 2}, kDouble, 5);
  expect_values(bmm(batch_last, bd), {4, 3, 2}, naive_bmm(batch_last.contiguous(), bd));
  EXPECT_EQ(bmm(zeros({0, 3, 5}), zeros({0, 5, 2})).sizes(), (Shape{0, 3, 2}));
  expect_values(bmm(zeros({2, 3, 0}), zeros({2, 0, 2})), {2, 3, 2}, std::vector<double>(12, 0.0));
}

TEST(Linalg, DotMvAndMatmulCases) {
  Tensor v = make({5}, kFloat, 1), w = make({5}, kFloat, 2);
  Tensor m = make({3, 5}, kFloat, 3), n = make({5, 4}, kFloat, 4);
  const double vw = naive_bmm(v.reshape({1, 5}), w.reshape({5, 1}))[0];
  expect_values(dot(v, w), {}, {vw});
  expect_values(matmul(v, w), {}, {vw});
  expect_values(dot(zeros({0}), zeros({0})), {}, {0});
  expect_values(mv(m, v), {3}, naive_bmm(m, v.reshape({5, 1})));
  expect_values(matmul(m, v), {3}, naive_bmm(m, v.reshape({5, 1})));
  expect_values(matmul(v, n), {4}, naive_bmm(v.reshape({1, 5}), n));
  expect_values(m.matmul(n), {3, 4}, naive_bmm(m, n));
  // Strided 1-D operands.
  Tensor vs = make({10}, kFloat, 5).slice(0, 0, 10, 2);
  expect_values(dot(vs, w), {}, naive_bmm(vs.contiguous().reshape({1, 5}), w.reshape({5, 1})));
  expect_values(mv(m, vs), {3}, naive_bmm(m, vs.contiguous().reshape({5, 1})));

  // N-D x 2-D and N-D x 1-D fold the batch into rows.
  Tensor a = make({2, 3, 5}, kFloat, 6);
  std::vector<double> want;
  for (int64_t z = 0; z < 2; ++z)
    for (double x : naive_bmm(a.select(0, z), n)) want.push_back(x);
  expect_values(matmul(a, n), {2, 3, 4}, want);
  want.clear();
  for (int64_t z = 0; z < 2; ++z)
    for (double x : naive_bmm(a.select(0, z), v.reshape({5, 1}))) want.push_back(x);
  expect_values(matmul(a, v), {2, 3}, want);
  // 1-D x N-D and 2-D x N-D.
  Tensor bt = make({2, 5, 4}, kFloat, 7);
  want.clear();
  for (int64_t z = 0; z < 2; ++z)
    for (double x : naive_bmm(v.reshape({1, 5}), bt.select(0, z))) want.push_back(x);
  expect_values(matmul(v, bt), {2, 4}, want);
  want.clear();
  for (int64_t z = 0; z < 2; ++z)
    for (double x : naive_bmm(m, bt.select(0, z))) want.push_back(x);
  expect_values(matmul(m, bt), {2, 3, 4}, want);
  // Broadcast batch dims: [2, 1, 3, 5] x [4, 5, 2] -> [2, 4, 3, 2].
  Tensor x = make({2, 1, 3, 5}, kDouble, 8), y = make({4, 5, 2}, kDouble, 9);
  want.clear();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (double r : naive_bmm(x.select(0, i).select(0, 0), y.select(0, j))) want.push_back(r);
  expect_values(matmul(x, y), {2, 4, 3, 2}, want, 1e-12);
  EXPECT_EQ(matmul(zeros({2, 0, 3}), zeros({3, 4})).sizes(), (Shape{2, 0, 4}));
  expect_values(matmul(zeros({2, 3, 0}), zeros({0, 4})), {2, 3, 4}, std::vector<double>(24, 0.0));
}

TEST(Linalg, AddmmAndLinear) {
  Tensor m1 = make({3, 4}, kDouble, 1), m2 = make({4, 5}, kDouble, 2);
  const auto prod = naive_bmm(m1, m2);
  Tensor bias = make({5}, kDouble, 3);
  const auto bv = bias.to_vector<double>();
  std::vector<double> want(15);
  for (int i = 0; i < 15; ++i) want[i] = 0.5 * bv[i % 5] + 2 * prod[i];
  expect_values(addmm(bias, m1, m2, 0.5, 2), {3, 5}, want, 1e-12);
  Tensor full_in = make({3, 5}, kDouble, 4);
  const auto fv = full_in.to_vector<double>();
  for (int i = 0; i < 15; ++i) want[i] = fv[i] + prod[i];
  expect_values(addmm(full_in, m1, m2), {3, 5}, want, 1e-12);
  // beta = 0 ignores the input, NaN included, as BLAS does.
  Tensor nan_in = full({3, 5}, std::numeric_limits<double>::quiet_NaN(), TensorOptions(kDouble));
  expect_values(addmm(nan_in, m1, m2, 0), {3, 5}, prod, 1e-12);
  Tensor ints = addmm(full({1}, 10, TensorOptions(kLong)), make({2, 2}, kLong, 5), make({2, 2}, kLong, 6), 2, 3);
  const auto iv = naive_bmm(make({2, 2}, kLong, 5), make({2, 2}, kLong, 6));
  expect_values(ints, {2, 2}, {20 + 3 * iv[0], 20 + 3 * iv[1], 20 + 3 * iv[2], 20 + 3 * iv[3]}, 0);

  // linear: x @ w^T + b for x of rank 1, 2 and 3.
  Tensor weight = make({5, 4}, kDouble, 7);
  Tensor x2 = make({3, 4}, kDouble, 8);
  const auto xw = naive_bmm(x2, weight.t().contiguous());
  for (int i = 0; i < 15; ++i) want[i] = xw[i] + bv[i % 5];
  expect_values(linear(x2, weight, bias), {3, 5}, want, 1e-12);
  expect_values(linear(x2, weight), {3, 5}, xw, 1e-12);
  expect_values(linear(x2.reshape({3, 1, 4}), weight, bias), {3, 1, 5}, want, 1e-12);
  expect_values(linear(x2.select(0, 1), weight, bias), {5}, std::vector<double>(want.begin() + 5, want.begin() + 10),
                1e-12);
  expect_values(linear(x2.t().contiguous().t(), weight, bias), {3, 5}, want, 1e-12);
}

TEST(Linalg, Errors) {
  EXPECT_EQ(message_of([] { matmul(zeros({2, 3}), zeros({4, 5})); }),
            "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)");
  EXPECT_THROW(matmul(zeros({2, 3}), zeros({4, 5})), ShapeError);
  EXPECT_THROW(mm(zeros({2, 3}), zeros({4, 5})), ShapeError);
  EXPECT_THROW(mm(zeros({2, 3, 1}), zeros({1, 5})), ShapeError);
  EXPECT_THROW(bmm(zeros({2, 3, 4}), zeros({3, 4, 5})), ShapeError);
  EXPECT_THROW(bmm(zeros({2, 3, 4}), zeros({2, 3, 5})), ShapeError);
  EXPECT_THROW(dot(zeros({3}), zeros({4})), ShapeError);
  EXPECT_THROW(dot(zeros({3, 1}), zeros({3})), ShapeError);
  EXPECT_THROW(mv(zeros({2, 3}), zeros({4})), ShapeError);
  EXPECT_THROW(matmul(scalar_tensor(1.0), zeros({2})), ShapeError);
  EXPECT_THROW(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), ShapeError);  // batch 2 vs 3
  EXPECT_THROW(matmul(zeros({2, 3}), zeros({3, 2}, TensorOptions(kDouble))), DTypeError);
  const std::string msg = message_of([] { mm(zeros({2, 3}), zeros({3, 2}, TensorOptions(kDouble))); });
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float64"), std::string::npos) << msg;
  EXPECT_THROW(mm(zeros({2, 2}, TensorOptions(kBool)), zeros({2, 2}, TensorOptions(kBool))), DTypeError);
  EXPECT_THROW(addmm(zeros({2}), zeros({2, 3}), zeros({3, 3})), ShapeError);
  EXPECT_THROW(addmm(zeros({3}, TensorOptions(kDouble)), zeros({2, 3}), zeros({3, 3})), DTypeError);
  EXPECT_THROW(addmm(zeros({3}, TensorOptions(kLong)), zeros({2, 3}, TensorOptions(kLong)),
                     zeros({3, 3}, TensorOptions(kLong)), 0.5),
               ValueError);
  EXPECT_THROW(linear(zeros({2, 3}), zeros({4, 5})), ShapeError);
  EXPECT_THROW(linear(zeros({2, 3}), zeros({4, 3}), zeros({5})), ShapeError);
  EXPECT_THROW(linear(scalar_tensor(1.f), zeros({4, 3})), ShapeError);
  EXPECT_THROW(mm(Tensor(), zeros({2, 2})), ValueError);
}

// ---- backward --------------------------------------------------------------

TEST(LinalgBackward, MmByHand) {
  // d(sum(A B))/dA = 1 B^T, d/dB = A^T 1.
  Tensor a = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor b = from_vector(std::vector<double>{1, 0, -1, 2, 3, 1}, {3, 2}).requires_grad_();
  mm(a, b).sum().backward();
  expect_values(a.grad(), {2, 3}, {1, 1, 4, 1, 1, 4});
  expect_values(b.grad(), {3, 2}, {5, 5, 7, 7, 9, 9});
  // Only one side requires grad.
  Tensor c = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor d = from_vector(std::vector<double>{1, 0, -1, 2, 3, 1}, {3, 2}).requires_grad_();
  matmul(c, d).sum().backward();
  expect_values(d.grad(), {3, 2}, {5, 5, 7, 7, 9, 9});
}

TEST(LinalgBackward, BroadcastAndLinearByHand) {
  // A [2, 1, 1, 2] batch-broadcast against B [3, 2, 1]: A's gradient sums over B's batch.
  Tensor a = from_vector(std::vector<double>{1, 2, 3, 4}, {2, 1, 1, 2}).requires_grad_();
  Tensor b = from_vector(std::vector<double>{1, 1, 2, 0, 0, 3}, {3, 2, 1}).requires_grad_();
  Tensor out = matmul(a, b);
  EXPECT_EQ(out.sizes(), (Shape{2, 3, 1, 1}));
  out.sum().backward();
  // dA[i] = sum_j B[j]^T = [3, 4]; dB[j] = sum_i A[i]^T = [4, 6].
  expect_values(a.grad(), {2, 1, 1, 2}, {3, 4, 3, 4});
  expect_values(b.grad(), {3, 2, 1}, {4, 6, 4, 6, 4, 6});

  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}).requires_grad_();
  Tensor w = from_vector(std::vector<double>{1, -1, 0, 2, 5, 1}, {3, 2}).requires_grad_();
  Tensor bias = from_vector(std::vector<double>{0, 0, 0}, {3}).requires_grad_();
  linear(x, w, bias).sum().backward();
  expect_values(bias.grad(), {3}, {2, 2, 2});
  expect_values(w.grad(), {3, 2}, {4, 6, 4, 6, 4, 6});
  expect_values(x.grad(), {2, 2}, {6, 2, 6, 2});

  Tensor in = from_vector(std::vector<double>{1}, {1}).requires_grad_();
  addmm(in, x.detach(), w.detach().t(), 3, 2).sum().backward();
  expect_values(in.grad(), {1}, {18});  // beta times the 6 output elements
}

TEST(LinalgBackward, Gradcheck) {
  auto input = [](const Shape& sizes, uint64_t seed) { return make(sizes, kDouble, seed).requires_grad_(); };
  Tensor a = input({3, 4}, 1), b = input({4, 2}, 2);
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return mm(in[0], in[1]); }, {a, b}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return mm(in[0].t(), in[1].t()); },
                        {input({4, 3}, 3), input({2, 4}, 4)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return bmm(in[0], in[1]); },
                        {input({2, 3, 4}, 5), input({2, 4, 2}, 6)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return dot(in[0], in[1]); }, {input({5}, 7), input({5}, 8)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return mv(in[0], in[1]); }, {input({3, 5}, 9), input({5}, 10)}));
  const std::vector<std::pair<Shape, Shape>> cases{
      {{4}, {4, 3}}, {{2, 3, 4}, {4, 2}}, {{2, 3, 4}, {4}}, {{4}, {2, 4, 3}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{3, 4}, {2, 4, 2}}};
  for (const auto& [sa, sb] : cases)
    EXPECT_TRUE(gradcheck([](const TensorList& in) { return matmul(in[0], in[1]); }, {input(sa, 11), input(sb, 12)}))
        << shape_str(sa) << " x " << shape_str(sb);
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return addmm(in[0], in[1], in[2], 0.5, -2); },
                        {input({2}, 13), input({3, 4}, 14), input({4, 2}, 15)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return linear(in[0], in[1], in[2]); },
                        {input({2, 3, 4}, 16), input({5, 4}, 17), input({5}, 18)}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return linear(in[0], in[1]); }, {input({4}, 19), input({5, 4}, 20)}));
}
