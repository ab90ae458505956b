#include "datasets.h"

#include <algorithm>
#include <numeric>

#include "striate/core/error.h"
#include "striate/core/generator.h"
#include "striate/core/ops/factory.h"
#include "striate/data/cifar.h"
#include "striate/data/idx.h"
#include "striate/data/transforms.h"

namespace striate::tools {

const std::vector<DatasetInfo>& dataset_catalog() {
  static const std::vector<DatasetInfo> catalog = {
      {"fashion-mnist", "Zalando's Fashion-MNIST, 1x28x28, 10 classes (default root: Debian's dataset-fashion-mnist)"},
      {"mnist", "MNIST digits, 1x28x28, 10 classes (IDX files in --data-root)"},
      {"cifar10", "CIFAR-10 binary version, 3x32x32, 10 classes (in --data-root)"},
      {"cifar100", "CIFAR-100 binary version, 3x32x32, 100 classes (in --data-root)"},
      {"fake", "synthetic 1x28x28 images of 10 learnable classes (1024 train, 256 test), for smoke tests"},
  };
  return catalog;
}

std::string dataset_names_joined(const std::string& separator) {
  std::string out;
  for (const DatasetInfo& d : dataset_catalog()) out += (out.empty() ? "" : separator) + d.name;
  return out;
}

bool is_known_dataset(const std::string& name) {
  for (const DatasetInfo& d : dataset_catalog())
    if (d.name == name) return true;
  return false;
}

namespace {

data::DatasetPtr first_n(data::DatasetPtr dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset->size()) return dataset;
  std::vector<int64_t> indices(static_cast<size_t>(limit));
  std::iota(indices.begin(), indices.end(), 0);
  return std::make_shared<data::Subset>(std::move(dataset), std::move(indices));
}

// Ten classes, each a fixed random template, seen through noise: a CNN
// separates them within an epoch, and nothing needs to be downloaded.
data::DatasetPtr fake_split(bool train) {
  Generator templates_gen(20240601);
  const Tensor templates = randn({10, 1, 28, 28}, {}, &templates_gen);
  Generator gen(train ? 1 : 2);
  const int64_t n = train ? 1024 : 256;
  const Tensor labels = randint(0, 10, {n}, TensorOptions(kLong), &gen);
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  Tensor images = randn({n, 1, 28, 28}, {}, &gen);
  for (int64_t i = 0; i < n; ++i) images[i].add_(templates[y[static_cast<size_t>(i)]]);
  return std::make_shared<data::TensorDataset>(images * 0.5, labels);
}

}  // namespace

DatasetSplits load_dataset(const DatasetRequest& request) {
  DatasetSplits splits;
  data::DatasetPtr train, test;
  std::vector<double> mean, std;
  int64_t crop_padding = 0;
  if (request.name == "fashion-mnist" || request.name == "mnist") {
    const bool fashion = request.name == "fashion-mnist";
    std::string root = request.root.empty() && fashion ? data::kDebianFashionMnistDir : request.root;
    STRIATE_CHECK(!root.empty(), ValueError, "--dataset mnist needs --data-root: the folder with the MNIST IDX files");
    std::shared_ptr<data::MNIST> test_set = fashion ? std::make_shared<data::FashionMNIST>(root, false)
                                                    : std::make_shared<data::MNIST>(root, false);
    splits.classes = test_set->classes();
    test = test_set;
    if (request.train)
      train = fashion ? std::make_shared<data::FashionMNIST>(root, true) : std::make_shared<data::MNIST>(root, true);
    splits.root = root;
    splits.channels = 1;
    splits.image_size = 28;
    // The training set's pixel mean and standard deviation.
    mean = {fashion ? 0.2860 : 0.1307};
    std = {fashion ? 0.3530 : 0.3081};
    crop_padding = 2;
  } else if (request.name == "cifar10" || request.name == "cifar100") {
    STRIATE_CHECK(!request.root.empty(), ValueError, "--dataset ", request.name,
                  " needs --data-root: the folder with the binary version's batch files");
    if (request.name == "cifar10") {
      auto test_set = std::make_shared<data::CIFAR10>(request.root, false);
      splits.classes = test_set->classes();
      test = test_set;
      if (request.train) train = std::make_shared<data::CIFAR10>(request.root, true);
      mean = {0.4914, 0.4822, 0.4465};
      std = {0.2470, 0.2435, 0.2616};
    } else {
      test = std::make_shared<data::CIFAR100>(request.root, false);
      if (request.train) train = std::make_shared<data::CIFAR100>(request.root, true);
      for (int i = 0; i < 100; ++i) splits.classes.push_back(std::to_string(i));
      mean = {0.5071, 0.4865, 0.4409};
      std = {0.2673, 0.2564, 0.2762};
    }
    splits.root = request.root;
    splits.channels = 3;
    splits.image_size = 32;
    crop_padding = 4;
  } else if (request.name == "fake") {
    test = fake_split(false);
    if (request.train) train = fake_split(true);
    for (int i = 0; i < 10; ++i) splits.classes.push_back("class " + std::to_string(i));
    splits.channels = 1;
    splits.image_size = 28;
    crop_padding = 2;
  } else {
    throw ValueError("unknown dataset '" + request.name + "' (known: " + dataset_names_joined() + ")");
  }
  splits.num_classes = static_cast<int64_t>(splits.classes.size());

  std::vector<data::Transform> test_transforms, train_transforms;
  if (request.augment) {
    train_transforms.push_back(data::RandomCrop(splits.image_size, crop_padding));
    train_transforms.push_back(data::RandomHorizontalFlip());
  }
  if (!mean.empty()) {
    test_transforms.push_back(data::Normalize(mean, std));
    train_transforms.push_back(data::Normalize(mean, std));
  }
  splits.test = first_n(test, request.limit);
  if (!test_transforms.empty()) splits.test = data::transformed(splits.test, data::Compose(test_transforms));
  if (train) {
    splits.train = first_n(train, request.limit);
    if (!train_transforms.empty()) splits.train = data::transformed(splits.train, data::Compose(train_transforms));
  }
  return splits;
}

}  // namespace striate::tools
