// The real Fashion-MNIST from Debian's dataset-fashion-mnist, when installed.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/data_test_util.h"

namespace striate::data::test {
namespace {

bool fashion_mnist_installed() {
  return std::filesystem::exists(std::string(kDebianFashionMnistDir) + "/train-images-idx3-ubyte.gz") ||
         std::filesystem::exists(std::string(kDebianFashionMnistDir) + "/train-images-idx3-ubyte");
}

TEST(FashionMnistReal, CountsShapesLabelsAndFirstImages) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)";
  if (!built_with_zlib()) GTEST_SKIP() << "built without zlib: the Debian files are gzip-compressed";
  FashionMNIST train;  // Debian's folder is the default root
  FashionMNIST test(kDebianFashionMnistDir, false);
  ASSERT_EQ(train.size(), 60000);
  ASSERT_EQ(test.size(), 10000);
  EXPECT_EQ(train.images().sizes(), (Shape{60000, 28, 28}));
  EXPECT_EQ(test.images().sizes(), (Shape{10000, 28, 28}));

  // Labels cover 0..9, exactly 6000 (train) and 1000 (test) of each.
  for (const auto* ds : {&train, &test}) {
    std::vector<int64_t> counts(10, 0);
    for (int64_t label : ds->targets().to_vector<int64_t>()) {
      ASSERT_TRUE(label >= 0 && label < 10) << label;
      ++counts[static_cast<size_t>(label)];
    }
    for (int64_t c : counts) EXPECT_EQ(c, ds->size() / 10);
  }

  // Known values (computed with numpy from the same files).
  const auto first_train = train.targets().to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(first_train.begin(), first_train.begin() + 10),
            (std::vector<int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  const auto first_test = test.targets().to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(first_test.begin(), first_test.begin() + 10),
            (std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_EQ(train.images()[0].sum().item<int64_t>(), 76247);
  EXPECT_EQ(test.images()[0].sum().item<int64_t>(), 33456);
  const std::vector<int> row14{0,   0,   1,   4,   6,   7,   2,   0,   0,   0,   0,   0,   237, 226,
                               217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77,  0};
  EXPECT_EQ(train.images()[0][14].to_vector<int>(), row14);

  Example e = train.get(0);
  EXPECT_EQ(e.data.sizes(), (Shape{1, 28, 28}));
  EXPECT_EQ(e.target.item<int64_t>(), 9);
  EXPECT_FLOAT_EQ(e.data.to_vector<float>()[14 * 28 + 25], 1.0f);
  EXPECT_FLOAT_EQ(e.data.to_vector<float>()[14 * 28 + 12], 237.0f / 255.0f);
  EXPECT_EQ(train.classes()[9], "Ankle boot");
}

}  // namespace
}  // namespace striate::data::test
