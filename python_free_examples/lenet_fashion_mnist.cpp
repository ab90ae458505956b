// lenet_fashion_mnist: LeNet-5 learns Fashion-MNIST, the training loop
// written out in plain C++ (the `striate train` command runs the same loop,
// with checkpoints and plots: see docs/cli.md).
//
//   lenet_fashion_mnist [--quick] [--epochs N] [--data-root DIR]
//
// --quick trains one epoch on the first 512 images (a smoke test). Without
// the dataset (Debian: apt-get install dataset-fashion-mnist) it exits 77.
#include <striate/striate.h>
#include <striate/data/data.h>

#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>

using namespace striate;

int main(int argc, char** argv) {
  bool quick = false;
  int epochs = 10;
  std::string root = data::kDebianFashionMnistDir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--data-root") && i + 1 < argc) root = argv[++i];
  }
  if (quick) epochs = 1;
  manual_seed(0);

  // Pixels in [0, 1], then standardised with the training set's mean and std.
  data::DatasetPtr train_set, test_set;
  try {
    train_set = std::make_shared<data::FashionMNIST>(root, /*train=*/true);
    test_set = std::make_shared<data::FashionMNIST>(root, /*train=*/false);
  } catch (const IOError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 77;  // ctest: skipped
  }
  if (quick) {
    std::vector<int64_t> first(512);
    std::iota(first.begin(), first.end(), 0);
    train_set = std::make_shared<data::Subset>(train_set, first);
    test_set = std::make_shared<data::Subset>(test_set, first);
  }
  const data::Normalize normalize({0.2860}, {0.3530});
  data::DataLoader train_loader(data::transformed(train_set, normalize),
                                data::DataLoaderOptions(64).shuffle(true).seed(0).num_workers(1));
  data::DataLoader test_loader(data::transformed(test_set, normalize), data::DataLoaderOptions(256));

  // 28×28 inputs: the first convolution pads by 2, as LeNet-5 saw 32×32.
  models::LeNet5 model(models::LeNet5Options().variant(models::LeNet5Variant::ReLUMaxPool).input_size(28));
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));

  double test_accuracy = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model->train();
    double loss_sum = 0;
    int64_t seen = 0;
    for (const data::Batch& batch : train_loader) {
      optimizer.zero_grad();                                       // forget the last batch's gradients
      Tensor loss = cross_entropy(model(batch.data), batch.target);  // forward
      loss.backward();                                             // gradients of every parameter
      optimizer.step();                                            // one Adam update
      loss_sum += loss.item<double>() * batch.size();
      seen += batch.size();
    }

    model->eval();  // (LeNet-5 has no dropout or batch norm, but this is the habit)
    NoGradGuard no_grad;
    int64_t correct = 0, total = 0;
    for (const data::Batch& batch : test_loader) {
      Tensor predicted = model(batch.data).argmax(1);
      correct += predicted.eq(batch.target).sum().item<int64_t>();
      total += batch.size();
    }
    test_accuracy = static_cast<double>(correct) / total;
    std::printf("epoch %d/%d  train loss %.4f  test accuracy %.2f%% (%lld/%lld)\n", epoch, epochs,
                loss_sum / seen, 100 * test_accuracy, static_cast<long long>(correct), static_cast<long long>(total));
  }

  io::save_state_dict(*model, "lenet_fashion_mnist.safetensors");  // loads into PyTorch's LeNet by name
  std::printf("weights saved to lenet_fashion_mnist.safetensors\n");
  // One epoch on 512 images is far from done, but well above chance (10%).
  const double expected = quick ? 0.30 : 0.85;
  if (test_accuracy < expected) {
    std::printf("test accuracy %.2f%% is below the expected %.0f%%\n", 100 * test_accuracy, 100 * expected);
    return 1;
  }
  return 0;
}
