// Strided views: geometry (sizes, strides, offset), storage sharing, and the
// errors of every view op; contiguous() and the channels-last layout.
#include <gtest/gtest.h>

#include "striate/striate.h"

using namespace striate;

namespace {

// 0, 1, 2, ... laid out row-major in `sizes`, as float64 so values compare exactly.
Tensor iota(const Shape& sizes, DType dtype = kDouble) {
  return arange(shape_numel(sizes), TensorOptions(dtype)).reshape(sizes);
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

bool shares_storage(const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); }

}  // namespace

// ---- view / reshape ----------------------------------------------------------

TEST(Views, ViewInfersOneDimAndSharesStorage) {
  Tensor a = iota({2, 3, 4});
  Tensor v = a.view({4, -1});
  EXPECT_EQ(v.sizes(), (Shape{4, 6}));
  EXPECT_EQ(v.strides(), (Shape{6, 1}));
  EXPECT_TRUE(shares_storage(a, v));
  EXPECT_EQ(values(v), values(a));
  EXPECT_EQ(a.view({-1}).sizes(), (Shape{24}));
  EXPECT_EQ(a.view({2, 1, -1, 1}).sizes(), (Shape{2, 1, 12, 1}));
  EXPECT_EQ(a.view_as(zeros({6, 4})).sizes(), (Shape{6, 4}));
  // A one-element tensor views as 0-dim and back.
  Tensor one = iota({1, 1});
  EXPECT_EQ(one.view({}).dim(), 0);
  EXPECT_EQ(one.view({}).view({1}).sizes(), (Shape{1}));
}

TEST(Views, ViewErrors) {
  Tensor a = iota({2, 3, 4});
  EXPECT_THROW(a.view({-1, -1}), ShapeError);   // two inferred dims
  EXPECT_THROW(a.view({5, -1}), ShapeError);    // 24 is not a multiple of 5
  EXPECT_THROW(a.view({5, 5}), ShapeError);     // wrong element count
  EXPECT_THROW(a.view({-2, 12}), ShapeError);   // negative size
  EXPECT_THROW(a.reshape({7}), ShapeError);
  // A transposed tensor's dims cannot be merged without a copy.
  Tensor t = a.transpose(1, 2);
  EXPECT_THROW(t.view({24}), ShapeError);
  try {
    t.view({24});
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("reshape"), std::string::npos) << e.what();  // says what to do instead
  }
  // ... but dims that stay contiguous with one another can.
  EXPECT_EQ(t.view({2, 4, 3}).sizes(), (Shape{2, 4, 3}));
  EXPECT_EQ(a.transpose(0, 1).view({3, 2, 2, 2}).strides(), (Shape{4, 12, 2, 1}));
}

TEST(Views, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  Tensor a = iota({2, 3});
  Tensor r = a.reshape({3, 2});
  EXPECT_TRUE(shares_storage(a, r));

  Tensor t = a.t();  // [[0, 3], [1, 4], [2, 5]]
  Tensor flat = t.reshape({-1});
  EXPECT_FALSE(shares_storage(t, flat));
  EXPECT_TRUE(flat.is_contiguous());
  EXPECT_EQ(values(flat), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // The copy is independent of the original.
  flat.fill_(7);
  EXPECT_EQ(values(a), (std::vector<double>{0, 1, 2, 3, 4, 5}));

  // Columns 0..3 of a 4x6 matrix: rows can be split or regrouped as a view,
  // but merging a row with the next needs a copy.
  Tensor s = iota({4, 6}).narrow(1, 0, 4);  // strides [6, 1]
  Tensor split = s.reshape({2, 2, 2, 2});
  EXPECT_TRUE(shares_storage(s, split));
  EXPECT_EQ(split.strides(), (Shape{12, 6, 2, 1}));
  EXPECT_EQ(values(split), values(s));
  EXPECT_FALSE(shares_storage(s, s.reshape({16})));
  EXPECT_EQ(values(s.reshape({16})), values(s));
  // Every other column of a 4x6 matrix is evenly strided: a view even when flattened.
  Tensor even = iota({4, 6}).slice(1, 0, 6, 2);  // [4, 3], strides [6, 2]
  EXPECT_TRUE(shares_storage(even, even.reshape({12})));
  EXPECT_EQ(even.reshape({12}).strides(), (Shape{2}));
  EXPECT_EQ(values(even.reshape({12})), values(even));
}

TEST(Views, ReshapeOfEmptyTensors) {
  Tensor e = zeros({0, 3});
  EXPECT_EQ(e.reshape({3, 0}).sizes(), (Shape{3, 0}));
  EXPECT_EQ(e.view({0}).sizes(), (Shape{0}));
  EXPECT_THROW(e.view({-1, 0}), ShapeError);  // the inferred size would be ambiguous
}

// ---- permute / transpose / t -------------------------------------------------

TEST(Views, PermuteReordersSizesAndStrides) {
  Tensor a = iota({2, 3, 4});
  Tensor p = a.permute({2, 0, 1});
  EXPECT_EQ(p.sizes(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_TRUE(shares_storage(a, p));
  EXPECT_FALSE(p.is_contiguous());
  // p[k][i][j] == a[i][j][k]
  std::vector<double> got = values(p), expected;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) expected.push_back(i * 12 + j * 4 + k);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(a.permute({-1, 0, 1}).sizes(), (Shape{4, 2, 3}));
  EXPECT_EQ(permute(a, {0, 2, 1}).sizes(), (Shape{2, 4, 3}));

  EXPECT_THROW(a.permute({0, 1}), ShapeError);
  EXPECT_THROW(a.permute({0, 1, 1}), ShapeError);
  EXPECT_THROW(a.permute({0, 1, 3}), IndexError);
}

TEST(Views, TransposeAndT) {
  Tensor a = iota({2, 3});
  Tensor t = a.t();
  EXPECT_EQ(t.sizes(), (Shape{3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
  EXPECT_EQ(values(t), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(values(a.transpose(-1, -2)), values(t));
  EXPECT_EQ(values(transpose(a, 1, 0)), values(t));
  EXPECT_EQ(a.transpose(0, 0).strides(), a.strides());
  EXPECT_EQ(iota({3}).t().sizes(), (Shape{3}));  // t() of a 1-D tensor is itself
  EXPECT_EQ(scalar_tensor(1.0).t().dim(), 0);
  EXPECT_THROW(iota({2, 2, 2}).t(), ShapeError);
  EXPECT_THROW(a.transpose(0, 2), IndexError);
  EXPECT_THROW(scalar_tensor(1.0).transpose(0, 3), IndexError);
}

// ---- narrow / slice / select --------------------------------------------------

TEST(Views, NarrowTakesARangeOfOneDim) {
  Tensor a = iota({4, 3});
  Tensor n = a.narrow(0, 1, 2);
  EXPECT_EQ(n.sizes(), (Shape{2, 3}));
  EXPECT_EQ(n.storage_offset(), 3);
  EXPECT_EQ(values(n), (std::vector<double>{3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(values(a.narrow(-1, 1, 1)), (std::vector<double>{1, 4, 7, 10}));
  EXPECT_EQ(values(a.narrow(0, -1, 1)), (std::vector<double>{9, 10, 11}));  // negative start counts from the end
  EXPECT_EQ(a.narrow(0, 4, 0).sizes(), (Shape{0, 3}));
  EXPECT_EQ(values(narrow(a, 1, 2, 1)), (std::vector<double>{2, 5, 8, 11}));

  EXPECT_THROW(a.narrow(0, 3, 2), IndexError);   // runs past the end
  EXPECT_THROW(a.narrow(0, 5, 0), IndexError);   // starts past the end
  EXPECT_THROW(a.narrow(0, -5, 1), IndexError);
  EXPECT_THROW(a.narrow(0, 0, -1), IndexError);
  EXPECT_THROW(a.narrow(2, 0, 1), IndexError);
  EXPECT_THROW(scalar_tensor(1.0).narrow(0, 0, 1), ShapeError);
}

TEST(Views, SliceLikePython) {
  Tensor a = iota({10});
  auto sl = [&](int64_t start, int64_t end, int64_t step) { return values(a.slice(0, start, end, step)); };
  EXPECT_EQ(sl(2, 5, 1), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(sl(1, 10, 3), (std::vector<double>{1, 4, 7}));
  EXPECT_EQ(sl(0, 10, 4), (std::vector<double>{0, 4, 8}));
  EXPECT_EQ(sl(-3, INT64_MAX, 1), (std::vector<double>{7, 8, 9}));   // x[-3:]
  EXPECT_EQ(sl(0, -7, 1), (std::vector<double>{0, 1, 2}));           // x[:-7]
  EXPECT_EQ(sl(-100, 2, 1), (std::vector<double>{0, 1}));            // start clamps to 0
  EXPECT_EQ(sl(8, 100, 1), (std::vector<double>{8, 9}));             // end clamps to the size
  EXPECT_EQ(sl(6, 3, 1), std::vector<double>{});                     // start past end: empty
  EXPECT_EQ(sl(20, 30, 1), std::vector<double>{});
  EXPECT_EQ(a.slice(0).sizes(), (Shape{10}));

  Tensor s = a.slice(0, 1, 10, 3);
  EXPECT_EQ(s.strides(), (Shape{3}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_TRUE(shares_storage(a, s));

  Tensor m = iota({3, 4});
  EXPECT_EQ(values(m.slice(1, 1, 4, 2)), (std::vector<double>{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ(values(m.slice(-2, 1)), (std::vector<double>{4, 5, 6, 7, 8, 9, 10, 11}));

  EXPECT_THROW(a.slice(0, 0, 5, 0), ValueError);
  EXPECT_THROW(a.slice(0, 0, 5, -1), ValueError);
  EXPECT_THROW(a.slice(1, 0, 5), IndexError);
  EXPECT_THROW(scalar_tensor(1.0).slice(0, 0, 1), ShapeError);
}

TEST(Views, SelectDropsADim) {
  Tensor a = iota({2, 3, 4});
  Tensor s = a.select(1, 2);
  EXPECT_EQ(s.sizes(), (Shape{2, 4}));
  EXPECT_EQ(s.strides(), (Shape{12, 1}));
  EXPECT_EQ(s.storage_offset(), 8);
  EXPECT_EQ(values(s), (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(values(a.select(-1, -1)), (std::vector<double>{3, 7, 11, 15, 19, 23}));
  EXPECT_EQ(values(a[1][2]), (std::vector<double>{20, 21, 22, 23}));
  EXPECT_EQ(a[1][2][3].dim(), 0);
  EXPECT_EQ(a[1][2][3].item<double>(), 23);

  EXPECT_THROW(a.select(1, 3), IndexError);
  EXPECT_THROW(a.select(1, -4), IndexError);
  EXPECT_THROW(a.select(3, 0), IndexError);
  EXPECT_THROW(scalar_tensor(1.0).select(0, 0), IndexError);
}

// ---- squeeze / unsqueeze / expand / flatten ----------------------------------

TEST(Views, SqueezeAndUnsqueeze) {
  Tensor a = iota({1, 3, 1, 2});
  EXPECT_EQ(a.squeeze().sizes(), (Shape{3, 2}));
  EXPECT_EQ(a.squeeze().strides(), (Shape{2, 1}));
  EXPECT_EQ(a.squeeze(2).sizes(), (Shape{1, 3, 2}));
  EXPECT_EQ(a.squeeze(-4).sizes(), (Shape{3, 1, 2}));
  EXPECT_EQ(a.squeeze(1).sizes(), a.sizes());  // not of size 1: unchanged
  EXPECT_TRUE(shares_storage(a, a.squeeze()));
  EXPECT_EQ(squeeze(iota({1, 1})).dim(), 0);
  EXPECT_THROW(a.squeeze(4), IndexError);
  EXPECT_THROW(scalar_tensor(1.0).squeeze(2), IndexError);

  Tensor b = iota({2, 3});
  EXPECT_EQ(b.unsqueeze(0).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(b.unsqueeze(1).sizes(), (Shape{2, 1, 3}));
  EXPECT_EQ(b.unsqueeze(1).strides(), (Shape{3, 3, 1}));
  EXPECT_EQ(b.unsqueeze(2).strides(), (Shape{3, 1, 1}));
  EXPECT_EQ(b.unsqueeze(-1).sizes(), (Shape{2, 3, 1}));
  EXPECT_EQ(b.unsqueeze(-3).sizes(), (Shape{1, 2, 3}));
  EXPECT_EQ(unsqueeze(scalar_tensor(1.0), 0).sizes(), (Shape{1}));
  EXPECT_THROW(b.unsqueeze(3), IndexError);
  EXPECT_THROW(b.unsqueeze(-4), IndexError);
  EXPECT_TRUE(b.unsqueeze(1).is_contiguous());
}

TEST(Views, ExpandBroadcastsWithStrideZero) {
  Tensor a = iota({3, 1});
  Tensor e = a.expand({2, 3, 4});
  EXPECT_EQ(e.sizes(), (Shape{2, 3, 4}));
  EXPECT_EQ(e.strides(), (Shape{0, 1, 0}));
  EXPECT_TRUE(shares_storage(a, e));
  std::vector<double> expected;
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) expected.push_back(i);
  EXPECT_EQ(values(e), expected);
  EXPECT_EQ(a.expand({-1, 5}).sizes(), (Shape{3, 5}));
  EXPECT_EQ(a.expand_as(zeros({3, 2})).sizes(), (Shape{3, 2}));
  EXPECT_EQ(scalar_tensor(2.0).expand({2, 2}).strides(), (Shape{0, 0}));
  EXPECT_EQ(a.expand({3, 0}).numel(), 0);

  EXPECT_THROW(a.expand({4, 4}), ShapeError);      // 3 is not 1 and not 4
  EXPECT_THROW(a.expand({4}), ShapeError);         // fewer dims than the tensor
  EXPECT_THROW(a.expand({-1, 3, 4}), ShapeError);  // -1 for a new leading dim
  EXPECT_THROW(a.expand({3, -2}), ShapeError);
  auto broadcast = broadcast_tensors({iota({3, 1}), iota({4}), scalar_tensor(1.0)});
  for (const auto& t : broadcast) EXPECT_EQ(t.sizes(), (Shape{3, 4}));
  EXPECT_THROW(broadcast_tensors({iota({3}), iota({4})}), ShapeError);
}

TEST(Views, FlattenMergesARangeOfDims) {
  Tensor a = iota({2, 3, 4, 5});
  EXPECT_EQ(a.flatten().sizes(), (Shape{120}));
  EXPECT_EQ(a.flatten(1).sizes(), (Shape{2, 60}));
  EXPECT_EQ(a.flatten(1, 2).sizes(), (Shape{2, 12, 5}));
  EXPECT_EQ(a.flatten(-2, -1).sizes(), (Shape{2, 3, 20}));
  EXPECT_EQ(a.flatten(2, 2).sizes(), a.sizes());
  EXPECT_TRUE(shares_storage(a, a.flatten(1)));
  EXPECT_EQ(scalar_tensor(3.0).flatten().sizes(), (Shape{1}));
  // Not viewable: a copy with the values in row-major order of the view.
  Tensor t = iota({2, 3}).t();
  EXPECT_EQ(values(flatten(t)), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(a.flatten(2, 1), ValueError);
  EXPECT_THROW(a.flatten(0, 4), IndexError);
}

TEST(Views, AsStridedSeesAnyWindow) {
  Tensor a = iota({6});
  // Overlapping sliding windows of 3 with step 1.
  Tensor w = a.as_strided({4, 3}, {1, 1});
  EXPECT_EQ(values(w), (std::vector<double>{0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5}));
  EXPECT_TRUE(shares_storage(a, w));
  EXPECT_EQ(values(a.as_strided({2}, {2}, 1)), (std::vector<double>{1, 3}));
  // The offset defaults to the tensor's own.
  EXPECT_EQ(values(a.narrow(0, 2, 2).as_strided({2}, {1})), (std::vector<double>{2, 3}));

  EXPECT_THROW(a.as_strided({4, 3}, {1}), ShapeError);
  EXPECT_THROW(a.as_strided({4}, {2}), IndexError);       // reaches element 6 of 6
  EXPECT_THROW(a.as_strided({2}, {1}, 5), IndexError);
  EXPECT_THROW(a.as_strided({2}, {-1}, 3), ShapeError);
  EXPECT_EQ(a.as_strided({0}, {100}, 6).numel(), 0);
}

TEST(Views, SplitAndChunk) {
  Tensor a = iota({5, 2});
  auto parts = a.split(2);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].sizes(), (Shape{2, 2}));
  EXPECT_EQ(parts[2].sizes(), (Shape{1, 2}));
  EXPECT_EQ(values(parts[1]), (std::vector<double>{4, 5, 6, 7}));
  for (const auto& p : parts) EXPECT_TRUE(shares_storage(a, p));

  auto cols = a.split(1, -1);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(values(cols[1]), (std::vector<double>{1, 3, 5, 7, 9}));

  auto chunks = a.chunk(3);  // ceil(5 / 3) = 2 rows each, the last gets 1
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].size(0), 1);
  EXPECT_EQ(iota({6}).chunk(4).size(), 3u);  // as PyTorch: chunks of 2
  EXPECT_EQ(iota({2}).chunk(5).size(), 2u);
  EXPECT_EQ(zeros({0}).split(3).size(), 1u);

  EXPECT_THROW(a.split(0), ValueError);
  EXPECT_THROW(a.chunk(0), ValueError);
  EXPECT_THROW(a.split(1, 2), IndexError);
}

// ---- writes through views -----------------------------------------------------

TEST(Views, WritesThroughEveryViewReachTheBase) {
  auto check = [](const char* what, auto&& make_view, std::vector<double> expected) {
    Tensor base = iota({3, 4});
    Tensor v = make_view(base);
    EXPECT_TRUE(v.storage() == base.storage()) << what;
    v.fill_(-1);
    EXPECT_EQ(values(base), expected) << what;
  };
  check("view", [](Tensor b) { return b.view({2, 6})[1]; }, {0, 1, 2, 3, 4, 5, -1, -1, -1, -1, -1, -1});
  check("reshape", [](Tensor b) { return b.reshape({4, 3}).select(1, 0); }, {-1, 1, 2, -1, 4, 5, -1, 7, 8, -1, 10, 11});
  check("transpose", [](Tensor b) { return b.t()[3]; }, {0, 1, 2, -1, 4, 5, 6, -1, 8, 9, 10, -1});
  check("permute", [](Tensor b) { return b.permute({1, 0}).narrow(0, 0, 1); }, {-1, 1, 2, 3, -1, 5, 6, 7, -1, 9, 10, 11});
  check("narrow", [](Tensor b) { return b.narrow(1, 1, 2); }, {0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11});
  check("slice", [](Tensor b) { return b.slice(1, 0, 4, 3); }, {-1, 1, 2, -1, -1, 5, 6, -1, -1, 9, 10, -1});
  check("select", [](Tensor b) { return b.select(0, -1); }, {0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1, -1});
  check("squeeze", [](Tensor b) { return b.narrow(0, 1, 1).squeeze(); }, {0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11});
  check("unsqueeze", [](Tensor b) { return b[0].unsqueeze(0); }, {-1, -1, -1, -1, 4, 5, 6, 7, 8, 9, 10, 11});
  check("flatten", [](Tensor b) { return b.flatten().narrow(0, 10, 2); }, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1});
  check("as_strided", [](Tensor b) { return b.as_strided({3}, {5}, 0); }, {-1, 1, 2, 3, 4, -1, 6, 7, 8, 9, -1, 11});
  check("split", [](Tensor b) { return b.split(2, 1)[1]; }, {0, 1, -1, -1, 4, 5, -1, -1, 8, 9, -1, -1});
  check("chunk", [](Tensor b) { return b.chunk(3, 0)[1]; }, {0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11});
  check("detach", [](Tensor b) { return b.detach()[0]; }, {-1, -1, -1, -1, 4, 5, 6, 7, 8, 9, 10, 11});

  // copy_ into a view writes the source's values in the view's order.
  Tensor base = zeros({2, 3}, kDouble);
  base.t().copy_(iota({3, 2}));
  EXPECT_EQ(values(base), (std::vector<double>{0, 2, 4, 1, 3, 5}));
  // Writes into the base show in every view.
  Tensor b = iota({2, 3});
  Tensor col = b.select(1, 1);
  b.zero_();
  EXPECT_EQ(values(col), (std::vector<double>{0, 0}));
}

TEST(Views, WritingIntoAnExpandedTensorIsAnError) {
  Tensor e = zeros({1, 3}).expand({2, 3});
  EXPECT_THROW(e.fill_(1), ValueError);
  EXPECT_THROW(e.copy_(ones({2, 3})), ValueError);
  EXPECT_NO_THROW(zeros({1, 3}).expand({1, 3}).fill_(1));  // stride 0 on a size-1 dim is harmless
}

TEST(Views, CopyBetweenOverlappingViewsReadsBeforeWriting) {
  // x[1:] = x[:-1] shifts right; a naive forward loop would smear x[0].
  Tensor x = iota({6});
  x.slice(0, 1).copy_(x.slice(0, 0, 5));
  EXPECT_EQ(values(x), (std::vector<double>{0, 0, 1, 2, 3, 4}));
  Tensor y = iota({6});
  y.slice(0, 0, 5).copy_(y.slice(0, 1));
  EXPECT_EQ(values(y), (std::vector<double>{1, 2, 3, 4, 5, 5}));
  // A square matrix transposed in place through a copy.
  Tensor m = iota({3, 3});
  m.copy_(m.t());
  EXPECT_EQ(values(m), (std::vector<double>{0, 3, 6, 1, 4, 7, 2, 5, 8}));
  // Copying a view onto itself changes nothing.
  Tensor z = iota({4});
  z.copy_(z);
  EXPECT_EQ(values(z), (std::vector<double>{0, 1, 2, 3}));
}

// ---- contiguous and channels-last --------------------------------------------

TEST(Views, ContiguousCopiesOnlyWhenNeeded) {
  Tensor a = iota({2, 3});
  EXPECT_TRUE(a.contiguous().is_same(a));
  Tensor t = a.t();
  Tensor c = t.contiguous();
  EXPECT_FALSE(shares_storage(c, t));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Shape{2, 1}));
  EXPECT_EQ(values(c), values(t));
  EXPECT_EQ(values(contiguous(t)), values(t));
  // Size-1 dims and empty tensors are contiguous whatever their strides.
  EXPECT_TRUE(iota({3, 1}).expand({3, 1}).as_strided({3, 1}, {1, 77}).is_contiguous());
  EXPECT_TRUE(zeros({0, 4}).t().is_contiguous());
}

TEST(Views, ChannelsLastLayout) {
  const int64_t N = 2, C = 3, H = 4, W = 5;
  Tensor a = iota({N, C, H, W});
  Tensor cl = a.contiguous(MemoryFormat::ChannelsLast);
  EXPECT_EQ(cl.sizes(), (Shape{N, C, H, W}));
  EXPECT_EQ(cl.strides(), (Shape{H * W * C, 1, W * C, C}));
  EXPECT_TRUE(cl.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_FALSE(cl.is_contiguous());
  EXPECT_FALSE(a.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_EQ(cl.suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(a.suggest_memory_format(), MemoryFormat::Contiguous);
  // Same logical values, stored NHWC: element (n, c, h, w) at n*HWC + h*WC + w*C + c.
  EXPECT_EQ(values(cl), values(a));
  const double* p = cl.data_ptr<double>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          ASSERT_EQ(p[n * H * W * C + h * W * C + w * C + c], ((n * C + c) * H + h) * W + w);
  // NHWC is a permute of an NHWC-contiguous tensor.
  Tensor nhwc = iota({N, H, W, C}).permute({0, 3, 1, 2});
  EXPECT_TRUE(nhwc.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_TRUE(nhwc.contiguous(MemoryFormat::ChannelsLast).is_same(nhwc));

  // clone() preserves the layout unless asked otherwise.
  EXPECT_EQ(cl.clone().strides(), cl.strides());
  EXPECT_EQ(cl.clone(MemoryFormat::Contiguous).strides(), a.strides());
  EXPECT_EQ(a.clone(MemoryFormat::ChannelsLast).strides(), cl.strides());
  EXPECT_EQ(cl.to(kFloat).strides(), cl.strides());
  EXPECT_EQ(empty_like(cl).strides(), cl.strides());
  // Back to row-major.
  Tensor back = cl.contiguous();
  EXPECT_EQ(back.strides(), a.strides());
  EXPECT_EQ(values(back), values(a));
  EXPECT_EQ(empty({N, C, H, W}, {}, MemoryFormat::ChannelsLast).strides(), cl.strides());

  // With C == 1 or H == W == 1 both layouts describe the same memory.
  EXPECT_TRUE(iota({2, 1, 3, 3}).is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_TRUE(iota({2, 4, 1, 1}).is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_EQ(iota({2, 1, 3, 3}).suggest_memory_format(), MemoryFormat::Contiguous);
  // There the strides decide, as in PyTorch: NHWC-ordered ones suggest channels last.
  EXPECT_EQ(iota({2, 3, 3, 1}).permute({0, 3, 1, 2}).suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(iota({2, 1, 1, 4}).permute({0, 3, 1, 2}).suggest_memory_format(), MemoryFormat::ChannelsLast);
  EXPECT_EQ(iota({2, 4, 1, 1}).suggest_memory_format(), MemoryFormat::Contiguous);
  EXPECT_EQ(iota({1, 1, 1, 1}).suggest_memory_format(), MemoryFormat::Contiguous);  // ambiguous: NCHW
  EXPECT_EQ(iota({2, 1, 3, 3}).expand({2, 4, 3, 3}).suggest_memory_format(), MemoryFormat::Contiguous);
  // A slice of a channels-last tensor stays channels last.
  EXPECT_EQ(cl.narrow(1, 0, 2).suggest_memory_format(), MemoryFormat::ChannelsLast);
  // Channels-last is a 4-D notion.
  EXPECT_FALSE(iota({2, 3}).is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_THROW(iota({2, 3, 4}).contiguous(MemoryFormat::ChannelsLast), ShapeError);
}

// ---- dims and broadcasting helpers --------------------------------------------

TEST(Views, WrapDimAndBroadcastShapes) {
  EXPECT_EQ(wrap_dim(-1, 3, "op"), 2);
  EXPECT_EQ(wrap_dim(-3, 3, "op"), 0);
  EXPECT_EQ(wrap_dim(2, 3, "op"), 2);
  EXPECT_EQ(wrap_dim(0, 0, "op"), 0);   // a 0-dim tensor accepts 0 and -1
  EXPECT_EQ(wrap_dim(-1, 0, "op"), 0);
  EXPECT_THROW(wrap_dim(3, 3, "op"), IndexError);
  EXPECT_THROW(wrap_dim(-4, 3, "op"), IndexError);
  EXPECT_THROW(wrap_dim(1, 0, "op"), IndexError);
  try {
    wrap_dim(5, 2, "myop");
    FAIL();
  } catch (const IndexError& e) {
    EXPECT_NE(std::string(e.what()).find("myop"), std::string::npos) << e.what();
  }

  EXPECT_EQ(broadcast_shapes({3, 1}, {4}, "op"), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({5, 1, 3}, {4, 1}, "op"), (Shape{5, 4, 3}));
  EXPECT_EQ(broadcast_shapes({0}, {1}, "op"), (Shape{0}));
  EXPECT_THROW(broadcast_shapes({3}, {4}, "op"), ShapeError);
  EXPECT_THROW(broadcast_shapes({2, 3}, {3, 3}, "op"), ShapeError);
  try {
    broadcast_shapes({2, 3}, {4, 3}, "add");
    FAIL();
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
  }

  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({2, 0, 4}), (Shape{4, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), Shape{});
  EXPECT_EQ(channels_last_strides({2, 3, 4, 5}), (Shape{60, 1, 15, 3}));
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({2, 0}), 0);
  EXPECT_EQ(shape_str({2, 3}), "[2, 3]");
}
