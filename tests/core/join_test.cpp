// cat and stack: values against hand-built expectations, dim wrapping, dtype
// promotion, PyTorch's skipping of legacy 1-D empty tensors, non-contiguous
// inputs, gradients (by hand and by finite differences) and the errors.
#include <gtest/gtest.h>

#include <functional>

#include "striate/striate.h"

using namespace striate;

namespace {

Tensor iota(const Shape& sizes, double start = 0, DType dtype = kDouble) {
  return arange(start, start + static_cast<double>(shape_numel(sizes)), 1.0, TensorOptions(dtype)).reshape(sizes);
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

template <typename E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

// ---- cat -------------------------------------------------------------------------

TEST(Cat, AlongEachDim) {
  Tensor a = iota({2, 3});        // 0..5
  Tensor b = iota({1, 3}, 10);    // 10..12
  Tensor c = cat({a, b});
  EXPECT_EQ(c.sizes(), (Shape{3, 3}));
  EXPECT_EQ(values(c), (std::vector<double>{0, 1, 2, 3, 4, 5, 10, 11, 12}));

  Tensor d = iota({2, 2}, 20);  // 20..23
  Tensor e = cat({a, d}, 1);
  EXPECT_EQ(e.sizes(), (Shape{2, 5}));
  EXPECT_EQ(values(e), (std::vector<double>{0, 1, 2, 20, 21, 3, 4, 5, 22, 23}));
  EXPECT_EQ(values(cat({a, d}, -1)), values(e));
  EXPECT_EQ(values(cat({a, b}, -2)), values(c));

  // Three inputs, one of them empty along the cat dim.
  Tensor f = cat({a, empty({2, 0}, kDouble), d, a}, 1);
  EXPECT_EQ(f.sizes(), (Shape{2, 8}));
  EXPECT_EQ(values(f), (std::vector<double>{0, 1, 2, 20, 21, 0, 1, 2, 3, 4, 5, 22, 23, 3, 4, 5}));
  // A single tensor is copied, not aliased.
  Tensor g = cat({a});
  EXPECT_EQ(values(g), values(a));
  EXPECT_NE(g.storage(), a.storage());
}

TEST(Cat, ThreeDimsMiddleDim) {
  Tensor a = iota({2, 1, 2});       // [[[0, 1]], [[2, 3]]]
  Tensor b = iota({2, 2, 2}, 10);   // 10..17
  Tensor c = cat({a, b}, 1);
  EXPECT_EQ(c.sizes(), (Shape{2, 3, 2}));
  EXPECT_EQ(values(c), (std::vector<double>{0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}));
}

TEST(Cat, NonContiguousInputs) {
  Tensor a = iota({3, 2}).t();                     // [[0, 2, 4], [1, 3, 5]]
  Tensor b = scalar_tensor(7.0, kDouble).expand({2, 2});  // stride 0
  Tensor c = iota({2, 6}, 100).slice(1, 0, 6, 3);  // [[100, 103], [106, 109]]
  ASSERT_FALSE(a.is_contiguous());
  Tensor out = cat({a, b, c}, 1);
  EXPECT_TRUE(out.is_contiguous());
  EXPECT_EQ(values(out), (std::vector<double>{0, 2, 4, 7, 7, 100, 103, 1, 3, 5, 7, 7, 106, 109}));
}

TEST(Cat, DtypesPromote) {
  Tensor l = from_vector<int64_t>({1, 2}, {2});
  Tensor f = from_vector<float>({0.5f}, {1});
  Tensor r = cat({l, f});
  EXPECT_EQ(r.dtype(), kFloat);
  EXPECT_EQ(values(r), (std::vector<double>{1, 2, 0.5}));
  EXPECT_EQ(cat({from_vector<int32_t>({1}, {1}), l}).dtype(), kLong);
  Tensor b = from_vector<bool>({true, false}, {2});
  Tensor u = from_vector<uint8_t>({7}, {1});
  Tensor bu = cat({b, u});
  EXPECT_EQ(bu.dtype(), kByte);
  EXPECT_EQ(values(bu), (std::vector<double>{1, 0, 7}));
  EXPECT_EQ(cat({f.to(kHalf), f.to(kBFloat16)}).dtype(), kFloat);
  EXPECT_EQ(cat({f, f.to(kDouble)}).dtype(), kDouble);
}

TEST(Cat, SkipsLegacyEmptyTensors) {
  Tensor a = iota({2, 3});
  Tensor legacy = empty({0}, kDouble);
  Tensor r = cat({legacy, a, legacy}, 1);  // dim wraps against a, not the [0]s
  EXPECT_EQ(r.sizes(), (Shape{2, 3}));
  EXPECT_EQ(values(r), values(a));
  EXPECT_EQ(cat({legacy, a, iota({2, 1}, 9)}, -1).sizes(), (Shape{2, 4}));
  Tensor only = cat({legacy, empty({0}, kDouble)});
  EXPECT_EQ(only.sizes(), (Shape{0}));
  // A [0, 3] tensor is not legacy: it is joined like any other.
  EXPECT_EQ(cat({empty({0, 3}, kDouble), a}).sizes(), (Shape{2, 3}));
  EXPECT_THROW(cat({empty({0, 2}, kDouble), a}), ShapeError);
}

TEST(Cat, Gradients) {
  Tensor a = iota({2, 3}).requires_grad_();
  Tensor b = iota({2, 1}, 6).requires_grad_();
  Tensor c = iota({2, 2}, 8);  // no grad
  Tensor out = cat({a, b, c}, 1);
  ASSERT_TRUE(out.grad_fn());
  EXPECT_EQ(out.grad_fn()->name(), "CatBackward");
  out.backward(iota({2, 6}, 100));  // row 0: 100..105, row 1: 106..111
  EXPECT_EQ(values(a.grad()), (std::vector<double>{100, 101, 102, 106, 107, 108}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{103, 109}));
  EXPECT_FALSE(c.grad().defined());

  // A promoted input gets its gradient back in its own dtype; a skipped one a [0] gradient.
  Tensor f = from_vector<float>({1, 2}, {2}).requires_grad_();
  Tensor d = from_vector<double>({3}, {1}).requires_grad_();
  Tensor legacy = empty({0}, TensorOptions(kFloat).requires_grad(true));
  Tensor y = cat({f, legacy, d});
  EXPECT_EQ(y.dtype(), kDouble);
  y.backward(from_vector<double>({5, 6, 7}, {3}));
  EXPECT_EQ(f.grad().dtype(), kFloat);
  EXPECT_EQ(values(f.grad()), (std::vector<double>{5, 6}));
  EXPECT_EQ(values(d.grad()), (std::vector<double>{7}));
  EXPECT_EQ(legacy.grad().sizes(), (Shape{0}));
}

TEST(Cat, GradcheckWithNonContiguousInputs) {
  Tensor a = rand({3, 4}, kDouble).t().requires_grad_();  // [4, 3], transposed
  Tensor b = rand({4, 2}, kDouble).requires_grad_();
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return cat({in[0], in[1]}, 1) * cat({in[0], in[1]}, 1); },
                        {a, b}));
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return cat({in[0].t(), in[1].t()}, 0); }, {a, b}));
}

TEST(Cat, Errors) {
  Tensor a = iota({2, 3});
  EXPECT_THROW(cat({}), ValueError);
  EXPECT_THROW(cat({a, Tensor()}), ValueError);
  EXPECT_THROW(cat({a, scalar_tensor(1.0)}), ShapeError);
  EXPECT_THROW(cat({a, iota({2, 3, 1})}), ShapeError);
  EXPECT_THROW(cat({a, iota({2, 3})}, 2), IndexError);
  EXPECT_THROW(cat({a, iota({2, 3})}, -3), IndexError);
  const std::string msg = message_of<ShapeError>([&] { cat({a, iota({2, 3}), iota({3, 3})}, 1); });
  EXPECT_NE(msg.find("cat"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3, 3]"), std::string::npos) << msg;
  const std::string rank = message_of<ShapeError>([&] { cat({a, iota({6})}); });
  EXPECT_NE(rank.find("[6]"), std::string::npos) << rank;
  EXPECT_NE(rank.find("tensor 1"), std::string::npos) << rank;
}

// ---- stack -----------------------------------------------------------------------

TEST(Stack, AlongEachDim) {
  Tensor a = iota({2, 2});       // 0..3
  Tensor b = iota({2, 2}, 10);   // 10..13
  Tensor s0 = stack({a, b});
  EXPECT_EQ(s0.sizes(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(s0), (std::vector<double>{0, 1, 2, 3, 10, 11, 12, 13}));
  Tensor s1 = stack({a, b}, 1);
  EXPECT_EQ(s1.sizes(), (Shape{2, 2, 2}));
  EXPECT_EQ(values(s1), (std::vector<double>{0, 1, 10, 11, 2, 3, 12, 13}));
  Tensor s2 = stack({a, b, a}, -1);
  EXPECT_EQ(s2.sizes(), (Shape{2, 2, 3}));
  EXPECT_EQ(values(s2), (std::vector<double>{0, 10, 0, 1, 11, 1, 2, 12, 2, 3, 13, 3}));
  EXPECT_EQ(values(stack({a, b}, -3)), values(s0));
  // 0-dim tensors stack into a vector.
  Tensor v = stack({scalar_tensor(1.0), scalar_tensor(2.0)});
  EXPECT_EQ(v.sizes(), (Shape{2}));
  EXPECT_EQ(values(v), (std::vector<double>{1, 2}));
}

TEST(Stack, NonContiguousAndPromotion) {
  Tensor a = iota({2, 3}).t();  // [[0, 3], [1, 4], [2, 5]]
  Tensor b = from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor s = stack({a, b}, 2);
  EXPECT_EQ(s.dtype(), kDouble);
  EXPECT_EQ(s.sizes(), (Shape{3, 2, 2}));
  EXPECT_EQ(values(s), (std::vector<double>{0, 1, 3, 2, 1, 3, 4, 4, 2, 5, 5, 6}));
}

TEST(Stack, Gradients) {
  Tensor a = iota({3}).requires_grad_();
  Tensor b = from_vector<float>({1, 2, 3}, {3}).requires_grad_();
  Tensor s = stack({a, b}, 1);  // [3, 2], f64
  EXPECT_EQ(s.grad_fn()->name(), "StackBackward");
  s.backward(iota({3, 2}, 100));  // [[100, 101], [102, 103], [104, 105]]
  EXPECT_EQ(values(a.grad()), (std::vector<double>{100, 102, 104}));
  EXPECT_EQ(b.grad().dtype(), kFloat);
  EXPECT_EQ(values(b.grad()), (std::vector<double>{101, 103, 105}));

  Tensor x = rand({2, 3}, kDouble).requires_grad_();
  Tensor y = rand({3, 2}, kDouble).t().requires_grad_();
  EXPECT_TRUE(gradcheck([](const TensorList& in) { return stack({in[0], in[1] * in[0]}, 1); }, {x, y}));
}

TEST(Stack, Errors) {
  EXPECT_THROW(stack({}), ValueError);
  Tensor a = iota({2, 3});
  EXPECT_THROW(stack({a, iota({2, 3}).reshape({3, 2})}), ShapeError);
  EXPECT_THROW(stack({a, a}, 3), IndexError);
  EXPECT_THROW(stack({a, a}, -4), IndexError);
  const std::string msg = message_of<ShapeError>([&] { stack({a, a, iota({2, 4})}); });
  EXPECT_NE(msg.find("stack"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3] at entry 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 4] at entry 2"), std::string::npos) << msg;
}
