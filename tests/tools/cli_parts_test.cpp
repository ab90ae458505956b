// The pieces of the striate command: progress output, shapes, the model
// zoo, datasets and the run folder's files.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "datasets.h"
#include "outputs.h"
#include "progress.h"
#include "striate/data/image.h"
#include "striate/striate.h"
#include "zoo.h"

namespace striate::tools {
namespace {

namespace fs = std::filesystem;

TEST(Progress, DurationsAndCounts) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(754), "12:34");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999.4), "999");
  EXPECT_EQ(format_count(12345.6), "12,346");
  EXPECT_EQ(format_count(1234567), "1,234,567");
}

TEST(Progress, PlainOutputIsAboutTenLinesPerPass) {
  std::ostringstream out;
  {
    ProgressBar bar(out, /*interactive=*/false, "epoch 1/5", 938);
    for (int64_t b = 1; b <= 938; ++b) bar.update(b, b * 64, 0.5);
    bar.finish();
  }
  const std::string text = out.str();
  const auto lines = std::count(text.begin(), text.end(), '\n');
  EXPECT_GE(lines, 10);
  EXPECT_LE(lines, 11);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("epoch 1/5  batch 938/938  loss 0.5000"), std::string::npos);
  EXPECT_NE(text.find("img/s  ETA"), std::string::npos);
}

TEST(Progress, TerminalOutputRedrawsOneLine) {
  std::ostringstream out;
  ProgressBar bar(out, /*interactive=*/true, "epoch 2/5", 4);
  for (int64_t b = 1; b <= 4; ++b) bar.update(b, b * 10, 1.25);
  bar.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_NE(text.find("\r\033[K"), std::string::npos);
  EXPECT_NE(text.find("[#"), std::string::npos);
  EXPECT_NE(text.find("4/4  loss 1.2500"), std::string::npos);
}

TEST(Shapes, ParseSizesJoinedByX) {
  EXPECT_EQ(parse_shape("3x224x224", "--input"), (Shape{3, 224, 224}));
  EXPECT_EQ(parse_shape("1", "--input"), (Shape{1}));
  for (const char* bad : {"", "x", "3x", "3xx4", "3x-4", "3x0x2", "a", "3X4", "99999999999"})
    EXPECT_THROW(parse_shape(bad, "--input"), UsageError) << bad;
}

TEST(Zoo, BuildsModelsForTheDatasetShape) {
  for (const char* name : {"lenet5", "lenet5-original", "small-vgg"}) {
    auto model = make_model(name, 1, 10, 28);
    model->eval();
    EXPECT_EQ((*model)(zeros({2, 1, 28, 28})).sizes(), (Shape{2, 10})) << name;
    ASSERT_NE(first_conv(*model), nullptr) << name;
    EXPECT_EQ(first_conv(*model)->weight.size(1), 1) << name;
  }
  auto cifar = make_model("small-vgg", 3, 100, 32);
  cifar->eval();
  EXPECT_EQ((*cifar)(zeros({1, 3, 32, 32})).sizes(), (Shape{1, 100}));
  EXPECT_EQ(make_model("lenet5", 1, 10, 28)->parameter_count(), 61706);
  EXPECT_THROW(make_model("lenet7", 1, 10, 28), ValueError);
  EXPECT_THROW(make_model("lenet5", 1, 10, 64), ValueError);
  EXPECT_TRUE(is_known_model("resnet50"));
  EXPECT_FALSE(is_known_model("resnet51"));
  EXPECT_NE(model_names_joined().find("small-vgg"), std::string::npos);
}

TEST(Datasets, FakeDataIsDeterministicAndLimited) {
  const DatasetSplits a = load_dataset({"fake", "", true, false, 0});
  EXPECT_EQ(a.train->size(), 1024);
  EXPECT_EQ(a.test->size(), 256);
  EXPECT_EQ(a.num_classes, 10);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.image_size, 28);
  const DatasetSplits b = load_dataset({"fake", "", true, true, 100});
  EXPECT_EQ(b.train->size(), 100);
  EXPECT_EQ(b.test->size(), 100);
  EXPECT_TRUE(equal(a.test->get(5).data, b.test->get(5).data));
  EXPECT_EQ(a.test->get(5).target.item<int64_t>(), b.test->get(5).target.item<int64_t>());
  EXPECT_EQ(a.test->get(0).data.sizes(), (Shape{1, 28, 28}));
  const DatasetSplits test_only = load_dataset({"fake", "", false, false, 0});
  EXPECT_EQ(test_only.train, nullptr);
  EXPECT_THROW(load_dataset({"imagenet22k", "", true, false, 0}), ValueError);
  EXPECT_THROW(load_dataset({"cifar10", "", true, false, 0}), ValueError);  // needs --data-root
  EXPECT_THROW(load_dataset({"mnist", "/nonexistent", true, false, 0}), IOError);
}

class RunFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("striate_cli_parts_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const char* name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

train::EpochResult result(int64_t epoch, double loss, double acc) {
  train::EpochResult r;
  r.epoch = epoch;
  r.lr = 1e-3;
  r.train = {loss, acc, 1000, 10, 2.0};
  r.test = {loss + 0.1, acc - 0.02, 200, 1, 0.5};
  return r;
}

TEST_F(RunFolder, MetricsCsvHasAHeaderAndARowPerEpoch) {
  write_metrics_csv(file("metrics.csv"), {result(1, 0.5, 0.8)});
  append_metrics_csv(file("metrics.csv"), result(2, 0.25, 0.9));
  std::ifstream in(file("metrics.csv"));
  std::string header, row1, row2, extra;
  std::getline(in, header);
  std::getline(in, row1);
  std::getline(in, row2);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header, metrics_csv_header());
  EXPECT_EQ(row1, "1,0.001,0.500000,0.800000,0.600000,0.780000,2.000,0.500,500.0");
  EXPECT_EQ(row2.substr(0, 10), "2,0.001,0.");
}

TEST_F(RunFolder, PicturesAreWritten) {
  write_learning_curves(file("curves.png"), {result(1, 0.5, 0.8), result(2, 0.3, 0.85), result(3, 0.25, 0.88)});
  const Tensor curves = data::read_image(file("curves.png"));
  EXPECT_EQ(curves.sizes(), (Shape{360, 960, 3}));

  auto model = make_model("lenet5", 1, 10, 28);
  ASSERT_TRUE(write_filters(file("filters.png"), *model));
  EXPECT_EQ(data::read_image(file("filters.png")).size(2), 1);  // gray: one input channel
  model->train();
  ASSERT_TRUE(write_feature_maps(file("input.png"), file("maps.png"), *model, randn({1, 28, 28})));
  EXPECT_TRUE(model->is_training());
  const Tensor maps = data::read_image(file("maps.png"));
  EXPECT_GT(maps.size(0), 28);  // six 28×28 maps, upscaled

  nn::Sequential no_conv(nn::Flatten(), nn::Linear(4, 2));
  EXPECT_FALSE(write_filters(file("none.png"), *no_conv));
  EXPECT_FALSE(fs::exists(file("none.png")));
}

}  // namespace
}  // namespace striate::tools
