// Transforms: torchvision reference values (fixtures/make_fixtures.py), direct
// checks of the geometry, reproducibility of the random ones, bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "data/data_test_util.h"
#include "support/npy.h"

namespace striate::data::test {
namespace {

Tensor load(const std::string& name) { return striate::testing::load_npy(fixture(name + ".npy")); }

// A [C, H, W] f32 image whose pixel (c, y, x) is c * 10000 + y * 100 + x.
Tensor coordinate_image(int64_t c, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(static_cast<float>(k * 10000 + y * 100 + x));
  return from_vector(v, {c, h, w});
}

float at(const Tensor& t, int64_t c, int64_t y, int64_t x) { return t[c][y][x].item<float>(); }

TEST(Transforms, MatchTorchvisionReferenceValues) {
  const Tensor x = load("transform_input");  // [2, 3, 7, 9]: leading dims are a batch
  EXPECT_TRUE(allclose(Resize(4, 5)(x), load("resize_4x5"), 1e-6, 1e-6));
  EXPECT_TRUE(allclose(Resize(13, 11)(x), load("resize_13x11"), 1e-6, 1e-6));
  const Tensor short5 = Resize(5)(x);
  EXPECT_EQ(short5.sizes(), (Shape{2, 3, 5, 6}));  // int(5 * 9 / 7) = 6
  EXPECT_TRUE(allclose(short5, load("resize_short5"), 1e-6, 1e-6));
  EXPECT_TRUE(allclose(CenterCrop(4, 6)(x), load("center_crop_4x6"), 0, 0));
  EXPECT_TRUE(allclose(CenterCrop(10, 12)(x), load("center_crop_10x12"), 0, 0));  // zero-padded
  EXPECT_TRUE(allclose(Normalize({0.5, 0.25, 0.125}, {0.2, 0.3, 0.4})(x), load("normalize"), 1e-6, 1e-6));
  // One sample at a time gives the same as the batch.
  EXPECT_TRUE(allclose(Resize(4, 5)(x[1]), load("resize_4x5")[1], 1e-6, 1e-6));
}

TEST(Transforms, ResizeBilinearByHand) {
  // 1x2 -> 1x4: half-pixel centres map x' = (x + 0.5) / 2 - 0.5, clamped at 0.
  Tensor img = from_vector(std::vector<float>{0, 8}, {1, 1, 2});
  EXPECT_EQ(resize(img, 1, 4).to_vector<float>(), (std::vector<float>{0, 2, 6, 8}));
  // Identity size is the identity; f64 is kept.
  Tensor d = coordinate_image(2, 3, 4).to(kDouble);
  Tensor same = resize(d, 3, 4);
  EXPECT_EQ(same.dtype(), kDouble);
  EXPECT_TRUE(allclose(same, d, 0, 0));
  EXPECT_THROW(resize(coordinate_image(1, 2, 2).to(kByte), 4, 4), DTypeError);
  EXPECT_THROW(Resize(0), ValueError);
}

TEST(Transforms, CropPadAndFlipGeometry) {
  const Tensor img = coordinate_image(2, 4, 5);
  Tensor c = crop(img, 1, 2, 2, 3);
  EXPECT_EQ(c.sizes(), (Shape{2, 2, 3}));
  EXPECT_EQ(at(c, 1, 0, 0), 10102.0f);
  EXPECT_EQ(at(c, 0, 1, 2), 204.0f);
  // Outside the image is zero.
  Tensor o = crop(img, -1, 3, 3, 4);
  EXPECT_EQ(at(o, 0, 0, 0), 0.0f);
  EXPECT_EQ(at(o, 0, 1, 0), 3.0f);
  EXPECT_EQ(at(o, 0, 1, 1), 4.0f);
  EXPECT_EQ(at(o, 0, 1, 2), 0.0f);
  Tensor p = pad(img, 2, -1.0);
  EXPECT_EQ(p.sizes(), (Shape{2, 8, 9}));
  EXPECT_EQ(at(p, 0, 0, 0), -1.0f);
  EXPECT_EQ(at(p, 1, 2, 2), 10000.0f);
  Tensor f = horizontal_flip(img);
  EXPECT_EQ(at(f, 1, 3, 0), 10304.0f);
  EXPECT_EQ(at(f, 1, 3, 4), 10300.0f);
  // Crops and flips work on any dtype.
  Tensor u8 = from_vector(std::vector<uint8_t>{1, 2, 3, 4, 5, 6}, {1, 2, 3});
  EXPECT_EQ(horizontal_flip(u8).to_vector<int>(), (std::vector<int>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(center_crop(u8, 2, 1).to_vector<int>(), (std::vector<int>{2, 5}));
  // Python's round: (4 - 1) / 2 = 1.5 -> 2, (5 - 2) / 2 = 1.5 -> 2, (6 - 1) / 2 = 2.5 -> 2.
  EXPECT_EQ(at(center_crop(coordinate_image(1, 4, 6), 1, 1), 0, 0, 0), 202.0f);
}

TEST(Transforms, RandomCropPicksEveryValidWindowReproducibly) {
  const Tensor img = coordinate_image(1, 4, 4);
  const RandomCrop t(4, 1);  // pad 1 each side: offsets -1, 0, 1 in each direction
  std::set<std::pair<float, float>> seen;
  for (uint64_t index = 0; index < 200; ++index) {
    SampleRandom r1(7, 2, index), r2(7, 2, index);
    Tensor a = t(img, r1), b = t(img, r2);
    ASSERT_TRUE(allclose(a, b, 0, 0));
    ASSERT_EQ(a.sizes(), (Shape{1, 4, 4}));
    // The window's offset, from where pixel (1, 1) of the output came from.
    const float v = at(a, 0, 1, 1);
    seen.insert({std::floor(v / 100) - 1, std::fmod(v, 100) - 1});
  }
  EXPECT_EQ(seen.size(), 9u);
  for (auto [dy, dx] : seen) EXPECT_TRUE(std::abs(dy) <= 1 && std::abs(dx) <= 1);
  EXPECT_THROW(RandomCrop(6, 0)(img), ShapeError);
  EXPECT_THROW(RandomCrop(3, -1), ValueError);
}

TEST(Transforms, RandomHorizontalFlipProbability) {
  const Tensor img = coordinate_image(1, 2, 3);
  const Tensor flipped = horizontal_flip(img);
  int flips = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    SampleRandom r(1, 0, i);
    if (allclose(RandomHorizontalFlip(0.3)(img, r), flipped, 0, 0)) ++flips;
  }
  EXPECT_GT(flips, 240);
  EXPECT_LT(flips, 360);
  SampleRandom r(0, 0, 0);
  EXPECT_TRUE(allclose(RandomHorizontalFlip(0.0)(img, r), img, 0, 0));
  EXPECT_TRUE(allclose(RandomHorizontalFlip(1.0)(img, r), flipped, 0, 0));
  EXPECT_THROW(RandomHorizontalFlip(1.5), ValueError);
}

TEST(Transforms, RandomResizedCropSizeAndDeterminism) {
  const Tensor img = coordinate_image(3, 20, 30);
  const RandomResizedCrop t(8);
  bool differ = false;
  Tensor first;
  for (uint64_t i = 0; i < 50; ++i) {
    SampleRandom r1(3, 0, i), r2(3, 0, i);
    Tensor a = t(img, r1);
    ASSERT_EQ(a.sizes(), (Shape{3, 8, 8}));
    ASSERT_TRUE(allclose(a, t(img, r2), 0, 0));
    if (i == 0) first = a;
    else if (!allclose(a, first, 0, 0)) differ = true;
  }
  EXPECT_TRUE(differ);
  // scale = (1, 1), ratio = (1.5, 1.5) on a 20 x 30 image: the whole image.
  SampleRandom r(0, 0, 0);
  EXPECT_TRUE(allclose(RandomResizedCrop(20, 30, {1.0, 1.0}, {1.5, 1.5})(img, r), img, 1e-4, 1e-3));
  // An impossible ratio falls back to the centred crop of the nearest ratio:
  // ratio 1 on 20 x 30 -> the centre 20 x 20, columns 5..24.
  Tensor centre = RandomResizedCrop(20, 20, {1.0, 1.0}, {1.0, 1.0})(img, r);
  EXPECT_TRUE(allclose(centre, crop(img, 0, 5, 20, 20), 1e-4, 1e-3));
  EXPECT_THROW(RandomResizedCrop(8, {0.5, 0.1}), ValueError);
}

TEST(Transforms, ToTensorAndNormalize) {
  Tensor hwc = from_vector(std::vector<uint8_t>{0, 255, 51, 102, 153, 204}, {1, 2, 3});  // H=1, W=2, C=3
  Tensor chw = ToTensor()(hwc);
  EXPECT_EQ(chw.sizes(), (Shape{3, 1, 2}));
  EXPECT_EQ(chw.dtype(), kFloat);
  EXPECT_TRUE(allclose(chw, from_vector(std::vector<float>{0, 0.4f, 1, 0.6f, 0.2f, 0.8f}, {3, 1, 2}), 0, 1e-7));
  EXPECT_EQ(image_to_tensor(from_vector(std::vector<uint8_t>{1, 2}, {1, 2})).sizes(), (Shape{1, 1, 2}));
  EXPECT_TRUE(ToTensor()(chw).is_same(chw));  // floating input passes through

  Tensor n = Normalize({0.5}, {0.5})(chw);
  EXPECT_NEAR(n[0][0][0].item<float>(), -1.0f, 1e-6);
  EXPECT_NEAR(n[1][0][0].item<float>(), 1.0f, 1e-6);
  EXPECT_THROW(Normalize({0.1, 0.2}, {1, 1})(chw), ShapeError);  // 2 values, 3 channels
  EXPECT_THROW(Normalize({0.1}, {0.0}), ValueError);
  EXPECT_THROW(Normalize({0.1}, {1.0})(hwc), DTypeError);
  EXPECT_THROW(Normalize({0.1}, {1.0})(zeros({4, 4})), ShapeError);
  EXPECT_THROW(ToTensor()(zeros({2, 2}, kInt)), DTypeError);
}

TEST(Transforms, ComposeChainsAndDescribesItself) {
  const Compose t({RandomCrop(4, 2), RandomHorizontalFlip(), Normalize({0.5}, {0.25})});
  const Tensor img = coordinate_image(1, 4, 4).div(10000.0);
  SampleRandom r1(11, 1, 5), r2(11, 1, 5), r3(11, 2, 5);
  Tensor a = t(img, r1);
  EXPECT_TRUE(allclose(a, t(img, r2), 0, 0));
  EXPECT_EQ(a.sizes(), (Shape{1, 4, 4}));
  EXPECT_NE(t.description().find("RandomCrop(size=(4, 4), padding=2)"), std::string::npos) << t.description();
  EXPECT_NE(t.description().find("Normalize(mean=[0.5], std=[0.25])"), std::string::npos) << t.description();
  (void)r3;
}

}  // namespace
}  // namespace striate::data::test
