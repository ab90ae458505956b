// CIFAR-10/100 binary batches on generated files.
#include <gtest/gtest.h>

#include "data/data_test_util.h"

namespace striate::data::test {
namespace {

TEST(Cifar, ReadsCifar10Batch) {
  ScratchDir dir;
  const auto path = dir.write("b.bin", cifar_records({{3}, {9}, {0}}));
  CifarBatch b = read_cifar_batch(path, CifarKind::Cifar10);
  EXPECT_EQ(b.images.sizes(), (Shape{3, 3, 32, 32}));
  EXPECT_EQ(b.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 9, 0}));
  EXPECT_FALSE(b.coarse_labels.defined());
  // Record 2, channel 1 (green), row 4, column 5: pixel index 1024 + 4 * 32 + 5.
  const int i = 1024 + 4 * 32 + 5;
  EXPECT_EQ(b.images[2][1][4][5].item<int>(), (2 * 31 + i) % 256);
}

TEST(Cifar, ReadsCifar100BatchWithCoarseAndFineLabels) {
  ScratchDir dir;
  const auto path = dir.write("train.bin", cifar_records({{19, 99}, {0, 42}}));
  CifarBatch b = read_cifar_batch(path, CifarKind::Cifar100);
  EXPECT_EQ(b.coarse_labels.to_vector<int64_t>(), (std::vector<int64_t>{19, 0}));
  EXPECT_EQ(b.labels.to_vector<int64_t>(), (std::vector<int64_t>{99, 42}));

  CIFAR100 fine(dir.path().string(), true);
  EXPECT_EQ(fine.get(1).target.item<int64_t>(), 42);
  CIFAR100 coarse(dir.path().string(), true, /*coarse=*/true);
  EXPECT_EQ(coarse.get(0).target.item<int64_t>(), 19);
  EXPECT_EQ(coarse.get(0).data.sizes(), (Shape{3, 32, 32}));
}

TEST(Cifar, Cifar10DatasetConcatenatesTheFiveTrainBatches) {
  ScratchDir dir;
  for (int k = 1; k <= 5; ++k)
    dir.write("cifar-10-batches-bin/data_batch_" + std::to_string(k) + ".bin",
              cifar_records({{static_cast<uint8_t>(k)}, {static_cast<uint8_t>(k + 4)}}));
  dir.write("cifar-10-batches-bin/test_batch.bin", cifar_records({{1}}));
  CIFAR10 train(dir.path().string(), true);
  ASSERT_EQ(train.size(), 10);
  EXPECT_EQ(train.targets().to_vector<int64_t>(), (std::vector<int64_t>{1, 5, 2, 6, 3, 7, 4, 8, 5, 9}));
  Example e = train.get(3);
  EXPECT_EQ(e.target.item<int64_t>(), 6);
  EXPECT_FLOAT_EQ(e.data.to_vector<float>()[100], static_cast<float>((1 * 31 + 100) % 256) / 255.0f);
  EXPECT_EQ(CIFAR10(dir.file("cifar-10-batches-bin"), false).size(), 1);
  EXPECT_EQ(train.classes()[0], "airplane");
}

TEST(Cifar, MalformedAndMissingFilesAreIOErrors) {
  ScratchDir dir;
  Bytes truncated = cifar_records({{1}, {2}});
  truncated.pop_back();
  const auto trunc = dir.write("trunc.bin", truncated);
  try {
    read_cifar_batch(trunc, CifarKind::Cifar10);
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(trunc), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("3073"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_cifar_batch(cifar_records({{10}}), CifarKind::Cifar10), IOError);     // label 10
  EXPECT_THROW(decode_cifar_batch(cifar_records({{20, 5}}), CifarKind::Cifar100), IOError);  // coarse 20
  EXPECT_THROW(decode_cifar_batch(Bytes{}, CifarKind::Cifar10), IOError);
  try {
    CIFAR10 missing(dir.file("nowhere"), true);
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("cifar-10-binary.tar.gz"), std::string::npos) << e.what();
  }
  // data_batch_1 present, the others missing: the message names the first missing one.
  dir.write("partial/data_batch_1.bin", cifar_records({{1}}));
  try {
    CIFAR10 partial(dir.file("partial"), true);
    FAIL() << "expected an IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("data_batch_2.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace striate::data::test
