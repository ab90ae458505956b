// Tensor metadata, dtype conversions, copy_/fill_, host data in and out, and
// the factories, each against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "striate/striate.h"

using namespace striate;

namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

std::vector<uint16_t> half_bits(const Tensor& t) {
  std::vector<uint16_t> bits;
  for (Half h : t.to_vector<Half>()) bits.push_back(h.bits);
  return bits;
}

std::vector<uint16_t> bf16_bits(const Tensor& t) {
  std::vector<uint16_t> bits;
  for (BFloat16 h : t.to_vector<BFloat16>()) bits.push_back(h.bits);
  return bits;
}

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

// ---- metadata -------------------------------------------------------------------

TEST(TensorMeta, SizesStridesAndOptions) {
  Tensor t = zeros({2, 3, 4}, kDouble);
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.ndimension(), 3);
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.shape(), t.sizes());
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.stride(-2), 4);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.element_size(), 8u);
  EXPECT_EQ(t.nbytes(), 192u);
  EXPECT_EQ(t.dtype(), kDouble);
  EXPECT_EQ(t.scalar_type(), kDouble);
  EXPECT_TRUE(t.is_floating_point());
  EXPECT_TRUE(t.is_cpu());
  EXPECT_FALSE(t.is_cuda());
  EXPECT_EQ(t.device(), Device::cpu());
  EXPECT_EQ(t.options().dtype(), kDouble);
  EXPECT_EQ(t.options().device(), Device::cpu());
  EXPECT_EQ(t.storage_offset(), 0);
  EXPECT_FALSE(zeros({2}, kLong).is_floating_point());

  EXPECT_THROW(t.size(3), IndexError);
  EXPECT_THROW(t.stride(-4), IndexError);
  Tensor s = scalar_tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_THROW(s.size(0), IndexError);  // a 0-dim tensor has no size 0
  EXPECT_THROW(s.stride(0), IndexError);
}

TEST(TensorMeta, UndefinedTensorsAndWrongDataPtrTypes) {
  Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_THROW(u.dim(), ValueError);
  EXPECT_THROW(u.sizes(), ValueError);
  EXPECT_THROW(u.numel(), ValueError);
  EXPECT_THROW(u.to_vector<float>(), ValueError);
  EXPECT_THROW(zeros({2}).copy_(u), ValueError);

  Tensor f = zeros({2});
  EXPECT_NO_THROW(f.data_ptr<float>());
  EXPECT_THROW(f.data_ptr<double>(), DTypeError);
  EXPECT_THROW(f.data_ptr<int32_t>(), DTypeError);
  EXPECT_EQ(static_cast<void*>(f.data_ptr<float>()), f.data_ptr());
  // A view's data pointer starts at its first element.
  Tensor a = arange(6, TensorOptions(kFloat));
  EXPECT_EQ(a.narrow(0, 2, 3).data_ptr<float>(), a.data_ptr<float>() + 2);
  EXPECT_EQ(*a.narrow(0, 2, 3).data_ptr<float>(), 2.0f);
  // An empty slice of an empty tensor has no memory; its pointer is null, not garbage.
  EXPECT_EQ(zeros({0, 4}).slice(1, 2).data_ptr(), nullptr);
}

TEST(TensorMeta, VersionCounterIsSharedByViewsAndDetach) {
  Tensor a = zeros({4});
  Tensor v = a.narrow(0, 1, 2);
  Tensor d = a.detach();
  const uint32_t start = a._version();
  v.fill_(1);
  EXPECT_EQ(a._version(), start + 1);
  d.zero_();
  EXPECT_EQ(v._version(), start + 2);
  a.copy_(ones({4}));
  EXPECT_EQ(d._version(), start + 3);
  EXPECT_EQ(a.clone()._version(), 0u);  // a copy starts afresh
}

// ---- dtype conversions ------------------------------------------------------------

TEST(TensorConvert, ToSameDTypeAliasesUnlessCopyIsAsked) {
  Tensor a = arange(4, TensorOptions(kFloat));
  EXPECT_TRUE(a.to(kFloat).is_same(a));
  Tensor c = a.to(kFloat, /*copy=*/true);
  EXPECT_FALSE(c.storage() == a.storage());
  EXPECT_EQ(values(c), values(a));
  EXPECT_TRUE(a.to(Device::cpu()).is_same(a));
  EXPECT_TRUE(a.to(TensorOptions(kFloat)).is_same(a));
  EXPECT_EQ(a.to(TensorOptions(kDouble)).dtype(), kDouble);
  EXPECT_TRUE(a.cpu().is_same(a));
}

TEST(TensorConvert, FloatToIntegerTruncatesTowardZero) {
  Tensor f = tensor({2.7f, -2.7f, 0.5f, -0.5f, 100.0f});
  EXPECT_EQ(f.to(kLong).to_vector<int64_t>(), (std::vector<int64_t>{2, -2, 0, 0, 100}));
  EXPECT_EQ(f.to(kInt).to_vector<int32_t>(), (std::vector<int32_t>{2, -2, 0, 0, 100}));
  EXPECT_EQ(tensor({0.0, 1.0, 255.0}).to(kByte).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 255}));
  // Integers wrap modulo 256 into uint8, as in PyTorch.
  EXPECT_EQ(tensor({300, -1}).to(kByte).to_vector<uint8_t>(), (std::vector<uint8_t>{44, 255}));
}

TEST(TensorConvert, BoolConversions) {
  Tensor f = tensor({0.0f, 0.5f, -3.0f, kNaN, -0.0f});
  EXPECT_EQ(f.to(kBool).to_vector<bool>(), (std::vector<bool>{false, true, true, true, false}));
  EXPECT_EQ(tensor({0, 7, -1}).to(kBool).to_vector<bool>(), (std::vector<bool>{false, true, true}));
  Tensor b = tensor({true, false, true});
  EXPECT_EQ(b.dtype(), kBool);
  EXPECT_EQ(b.to(kFloat).to_vector<float>(), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(b.to(kLong).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
}

TEST(TensorConvert, WideIntegersRoundIntoFloat) {
  const int64_t big = (int64_t{1} << 24) + 1;  // not representable in float32
  Tensor t = tensor({big, int64_t{-7}});
  EXPECT_EQ(t.to(kFloat).to_vector<float>(), (std::vector<float>{16777216.0f, -7.0f}));
  EXPECT_EQ(t.to(kDouble).to_vector<double>(), (std::vector<double>{16777217.0, -7.0}));
  EXPECT_EQ(t.to(kDouble).to(kLong).to_vector<int64_t>(), (std::vector<int64_t>{big, -7}));
}

TEST(TensorConvert, HalfRoundsToNearestEven) {
  const float sub = std::ldexp(1.0f, -24);  // the smallest half subnormal
  Tensor f = tensor({1.0f, -2.0f, 1.0f / 3.0f, 65504.0f, 65519.0f, 65520.0f, 1e6f, std::ldexp(1.0f, -14),
                     sub, sub / 2, sub * 1.5f, sub * 2.5f, sub / 4, kInf, -kInf, -0.0f,
                     1.0f + std::ldexp(1.0f, -11),                          // tie: rounds down to even 1.0
                     1.0f + 3 * std::ldexp(1.0f, -11),                      // tie: rounds up to even
                     1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)}  // just above the tie: rounds up
  );
  std::vector<uint16_t> expected = {0x3c00, 0xc000, 0x3555, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x0400,
                                    0x0001, 0x0000, 0x0002, 0x0002, 0x0000, 0x7c00, 0xfc00, 0x8000,
                                    0x3c00, 0x3c02, 0x3c01};
  EXPECT_EQ(half_bits(f.to(kHalf)), expected);
  // f64 sources give the same half values.
  EXPECT_EQ(half_bits(f.to(kDouble).to(kHalf)), expected);
  Tensor nan = tensor({kNaN}).to(kHalf);
  EXPECT_TRUE(std::isnan(nan.to(kFloat).item<float>()));
  // Back to float exactly, subnormals included.
  Tensor back = f.to(kHalf).to(kFloat);
  EXPECT_EQ(back.to_vector<float>()[2], 0.333251953125f);
  EXPECT_EQ(back.to_vector<float>()[8], sub);
  EXPECT_EQ(back.to_vector<float>()[13], kInf);
  EXPECT_TRUE(std::signbit(back.to_vector<float>()[15]));
}

TEST(TensorConvert, BFloat16KnownValues) {
  Tensor f = tensor({1.0f, 3.14159274f, 1.0f / 3.0f, -2.5f, kInf, -kInf, std::numeric_limits<float>::max(),
                     1.0f + std::ldexp(1.0f, -8),                      // tie between 1 and 1+2^-7: to even 1.0
                     1.0f + 3 * std::ldexp(1.0f, -8),                  // tie: up to even
                     std::ldexp(1.0f, -130), -0.0f});
  std::vector<uint16_t> expected = {0x3f80, 0x4049, 0x3eab, 0xc020, 0x7f80, 0xff80, 0x7f80,
                                    0x3f80, 0x3f82, 0x0008, 0x8000};
  EXPECT_EQ(bf16_bits(f.to(kBFloat16)), expected);
  Tensor nan = tensor({kNaN}).to(kBFloat16);
  EXPECT_TRUE(std::isnan(nan.to(kFloat).item<float>()));
  EXPECT_EQ(tensor({3.14159274f}).to(kBFloat16).to(kFloat).item<float>(), 3.140625f);
  // bf16 <-> f16 goes through float: 1/3 in bf16 is 0.333984375, which f16 holds exactly.
  EXPECT_EQ(tensor({1.0f / 3.0f}).to(kBFloat16).to(kHalf).to(kFloat).item<float>(), 0.333984375f);
}

TEST(TensorConvert, NonContiguousConversionsKeepLogicalOrder) {
  Tensor a = arange(6, TensorOptions(kDouble)).reshape({2, 3}).t();
  EXPECT_EQ(a.to(kInt).to_vector<int32_t>(), (std::vector<int32_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(a.to(kHalf).to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

// ---- copy_ / fill_ / zero_ ----------------------------------------------------------

TEST(TensorCopy, CopyBroadcastsAndConverts) {
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({int64_t{1}, int64_t{2}, int64_t{3}}));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  dst.copy_(tensor({0.25, -1.5}).reshape({2, 1}));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{0.25, 0.25, 0.25, -1.5, -1.5, -1.5}));
  dst.copy_(scalar_tensor(7, kLong));
  EXPECT_EQ(dst.to_vector<float>(), std::vector<float>(6, 7));
  EXPECT_EQ(dst.dtype(), kFloat);  // copy_ keeps the destination's dtype

  Tensor ints = zeros({3}, kInt);
  ints.copy_(tensor({1.9f, -1.9f, 3.0f}));
  EXPECT_EQ(ints.to_vector<int32_t>(), (std::vector<int32_t>{1, -1, 3}));
  Tensor halves = zeros({2}, kHalf);
  halves.copy_(tensor({65520.0, 1.0 / 3.0}));
  EXPECT_EQ(half_bits(halves), (std::vector<uint16_t>{0x7c00, 0x3555}));

  EXPECT_THROW(dst.copy_(zeros({4})), ShapeError);
  EXPECT_THROW(dst.copy_(zeros({3, 3})), ShapeError);
  EXPECT_THROW(dst.copy_(zeros({1, 2, 3})), ShapeError);  // the source may not add dims
  // copy_ returns self, for chaining.
  EXPECT_TRUE(&dst.copy_(ones({3})) == &dst);
}

TEST(TensorCopy, FillAndZero) {
  Tensor f = empty({2, 2});
  f.fill_(1.5);
  EXPECT_EQ(f.to_vector<float>(), std::vector<float>(4, 1.5f));
  f.zero_();
  EXPECT_EQ(f.to_vector<float>(), std::vector<float>(4, 0.0f));
  Tensor i = zeros({3}, kLong);
  i.fill_(2.7);  // truncated, as PyTorch does
  EXPECT_EQ(i.to_vector<int64_t>(), std::vector<int64_t>(3, 2));
  i.fill_(int64_t{1} << 40);  // exact: integers do not pass through double
  EXPECT_EQ(i.to_vector<int64_t>()[0], int64_t{1} << 40);
  Tensor b = zeros({2}, kBool);
  b.fill_(0.5);  // nonzero is true
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, true}));
  b.fill_(false);
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{false, false}));
  Tensor h = zeros({1}, kHalf);
  h.fill_(1.0 / 3.0);
  EXPECT_EQ(half_bits(h), (std::vector<uint16_t>{0x3555}));
  Tensor bf = zeros({1}, kBFloat16);
  bf.fill_(1.0 / 3.0);
  EXPECT_EQ(bf16_bits(bf), (std::vector<uint16_t>{0x3eab}));
  // Filling a strided view touches only its elements.
  Tensor m = zeros({3, 3});
  m.select(1, 1).fill_(5);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{0, 5, 0, 0, 5, 0, 0, 5, 0}));
}

// ---- host data in and out -----------------------------------------------------------

TEST(TensorHost, FromVectorAndTensor) {
  Tensor a = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.dtype(), kFloat);
  EXPECT_EQ(a.sizes(), (Shape{2, 3}));
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor d = from_vector(std::vector<int>{1, 2, 3}, {3}, TensorOptions(kDouble));
  EXPECT_EQ(d.dtype(), kDouble);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1, 2, 3}));
  Tensor b = from_vector(std::vector<bool>{true, false}, {2});
  EXPECT_EQ(b.dtype(), kBool);
  EXPECT_EQ(b.to_vector<bool>(), (std::vector<bool>{true, false}));
  Tensor h = from_vector(std::vector<Half>{Half(0.5f), Half(-1.0f)}, {2});
  EXPECT_EQ(h.dtype(), kHalf);
  EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{0.5f, -1.0f}));
  Tensor s = from_vector(std::vector<double>{4.0}, {});
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(from_vector(std::vector<float>{}, {0, 3}).numel(), 0);

  EXPECT_EQ(tensor({1.f, 2.f}).dtype(), kFloat);
  EXPECT_EQ(tensor({1.0, 2.0}).dtype(), kDouble);
  EXPECT_EQ(tensor({1, 2}).dtype(), kInt);
  EXPECT_EQ(tensor({int64_t{1}}).dtype(), kLong);
  EXPECT_EQ(tensor({1.5, 2.5}, kFloat).to_vector<float>(), (std::vector<float>{1.5f, 2.5f}));
  EXPECT_EQ(tensor({1.0, 2.0}, TensorOptions(kDouble).requires_grad(true)).requires_grad(), true);
  EXPECT_EQ(tensor({1, 2}).sizes(), (Shape{2}));

  EXPECT_THROW(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
  EXPECT_THROW(from_vector(std::vector<float>{1, 2}, {-1, 2}), ShapeError);
  // The tensor owns a copy: changing the vector afterwards does not matter.
  std::vector<float> v = {1, 2};
  Tensor owned = from_vector(v, {2});
  v[0] = 100;
  EXPECT_EQ(owned.to_vector<float>()[0], 1.0f);
}

TEST(TensorHost, FromBlobSharesCallerMemory) {
  float buffer[6] = {0, 1, 2, 3, 4, 5};
  Tensor t = from_blob(buffer, {2, 3});
  EXPECT_EQ(t.data_ptr<float>(), buffer);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  buffer[4] = 40;
  EXPECT_EQ(t[1][1].item<float>(), 40.0f);
  t[0].fill_(-1);
  EXPECT_EQ(buffer[2], -1.0f);
  EXPECT_EQ(buffer[3], 3.0f);

  double column_major[6] = {0, 3, 1, 4, 2, 5};  // a 2x3 matrix stored by columns
  Tensor c = from_blob(column_major, {2, 3}, {1, 2}, kDouble);
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(c.is_contiguous());

  EXPECT_THROW(from_blob(nullptr, {2}), ValueError);
  EXPECT_NO_THROW(from_blob(nullptr, {0}));
  EXPECT_THROW(from_blob(buffer, {2, 3}, {3}), ShapeError);
  EXPECT_THROW(from_blob(buffer, {2}, {-1}), ShapeError);
}

TEST(TensorHost, ToVectorAndItem) {
  Tensor a = tensor({1.5, -2.25, 3.0});
  EXPECT_EQ(a.to_vector<double>(), (std::vector<double>{1.5, -2.25, 3.0}));
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(a.to_vector<bool>(), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(a[1].item<double>(), -2.25);
  EXPECT_EQ(a[1].item<float>(), -2.25f);
  EXPECT_EQ(a[1].item<int>(), -2);
  EXPECT_EQ(a.reshape({3, 1})[2].item<double>(), 3.0);  // any one-element shape
  EXPECT_EQ(a.slice(0, 0, 1).item<double>(), 1.5);

  Scalar sf = a[0].item();
  EXPECT_TRUE(sf.is_floating_point());
  EXPECT_EQ(sf.to_double(), 1.5);
  Scalar si = tensor({int64_t{9}})[0].item();
  EXPECT_TRUE(si.is_integral());
  EXPECT_EQ(si.to_long(), 9);
  Scalar sb = tensor({true}).item();
  EXPECT_TRUE(sb.is_bool());

  EXPECT_THROW(a.item<double>(), ValueError);  // three elements
  EXPECT_THROW(a.item(), ValueError);
  EXPECT_THROW(zeros({0}).item<float>(), ValueError);
  try {
    zeros({2, 2}).item<float>();
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("4 elements"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(zeros({0, 2}).to_vector<float>().empty());
}

// ---- factories --------------------------------------------------------------------------

TEST(TensorFactory, FilledFactories) {
  EXPECT_EQ(empty({2, 3}).sizes(), (Shape{2, 3}));
  EXPECT_EQ(empty({2, 3}).dtype(), kFloat);  // the default dtype
  EXPECT_EQ(empty({}).numel(), 1);
  EXPECT_EQ(empty({0}).numel(), 0);
  EXPECT_EQ(zeros({2, 2}, kLong).to_vector<int64_t>(), std::vector<int64_t>(4, 0));
  EXPECT_EQ(ones({3}, kDouble).to_vector<double>(), std::vector<double>(3, 1));
  EXPECT_EQ(ones({2}, kBool).to_vector<bool>(), (std::vector<bool>{true, true}));
  EXPECT_EQ(full({2}, 2.5).to_vector<float>(), std::vector<float>(2, 2.5f));
  EXPECT_EQ(full({2}, -3, kInt).to_vector<int32_t>(), std::vector<int32_t>(2, -3));
  EXPECT_EQ(scalar_tensor(4, kLong).item<int64_t>(), 4);
  EXPECT_EQ(scalar_tensor(4).dim(), 0);

  Tensor like = zeros({2, 3}, kDouble);
  EXPECT_EQ(ones_like(like).dtype(), kDouble);
  EXPECT_EQ(ones_like(like).sizes(), (Shape{2, 3}));
  EXPECT_EQ(full_like(like, 7).to_vector<double>(), std::vector<double>(6, 7));
  EXPECT_EQ(zeros_like(like, kInt).dtype(), kInt);
  EXPECT_EQ(empty_like(like).sizes(), like.sizes());

  EXPECT_THROW(zeros({2, -1}), ShapeError);
  EXPECT_THROW(empty(Shape(17, 1)), ShapeError);  // more dims than kMaxDims
  EXPECT_THROW(empty_strided({2, 2}, {2}), ShapeError);
  EXPECT_THROW(empty_strided({2, 2}, {-2, 1}), ShapeError);
  EXPECT_EQ(empty_strided({2, 3}, {1, 2}).strides(), (Shape{1, 2}));

  Tensor g = zeros({2}, TensorOptions(kDouble).requires_grad(true));
  EXPECT_TRUE(g.requires_grad());
  EXPECT_TRUE(g.is_leaf());
  EXPECT_THROW(zeros({2}, TensorOptions(kLong).requires_grad(true)), DTypeError);
}

TEST(TensorFactory, Arange) {
  Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), kLong);  // integer arguments give int64, as in PyTorch
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(5.0).dtype(), kFloat);
  EXPECT_EQ(arange(5, kDouble).to_vector<double>(), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(2, 6).to_vector<int64_t>(), (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(arange(10, 0, -3).to_vector<int64_t>(), (std::vector<int64_t>{10, 7, 4, 1}));

  Tensor f = arange(0, 1, 0.25);
  EXPECT_EQ(f.dtype(), kFloat);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{0, 0.25f, 0.5f, 0.75f}));
  // ceil((0 - 5) / -1.5) = 4 values.
  EXPECT_EQ(arange(5, 0, -1.5).to_vector<float>(), (std::vector<float>{5, 3.5f, 2, 0.5f}));
  EXPECT_EQ(arange(0, 1, 0.3, kDouble).numel(), 4);  // 0, .3, .6, .9
  EXPECT_EQ(arange(3, 3).numel(), 0);
  EXPECT_EQ(arange(-3, 0).to_vector<int64_t>(), (std::vector<int64_t>{-3, -2, -1}));

  EXPECT_THROW(arange(0, 5, 0), ValueError);
  EXPECT_THROW(arange(5, 0, 1), ValueError);   // the step goes the wrong way
  EXPECT_THROW(arange(0, 5, -1), ValueError);
  EXPECT_THROW(arange(0, std::numeric_limits<double>::infinity(), 1), ValueError);
  EXPECT_THROW(arange(0, std::nan(""), 1), ValueError);
}

TEST(TensorFactory, LinspaceAndEye) {
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1}));
  EXPECT_EQ(linspace(2, 3, 1).to_vector<float>(), (std::vector<float>{2}));  // the start, as PyTorch
  EXPECT_EQ(linspace(2, 3, 0).numel(), 0);
  EXPECT_EQ(linspace(1, -1, 3, kDouble).to_vector<double>(), (std::vector<double>{1, 0, -1}));
  // Both endpoints are exact.
  std::vector<double> l = linspace(0.1, 0.7, 7, kDouble).to_vector<double>();
  EXPECT_EQ(l.front(), 0.1);
  EXPECT_EQ(l.back(), 0.7);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(l[i], 0.1 + 0.1 * i, 1e-15);
  EXPECT_THROW(linspace(0, 1, -1), ValueError);

  EXPECT_EQ(eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(eye(2, kLong).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_EQ(eye(0).sizes(), (Shape{0, 0}));
  EXPECT_EQ(eye(1).to_vector<float>(), (std::vector<float>{1}));
  EXPECT_THROW(eye(-1), ShapeError);
}
