// A program built outside Striate's tree against the installed package:
// a small CNN learns to tell horizontal from vertical stripes. Exits non-zero
// unless it classifies every test image correctly.
#include <striate/striate.h>

#include <cstdio>

using namespace striate;

// n 12x12 images; label 0: a horizontal bar, 1: a vertical bar, at a random
// position, with noise.
std::pair<Tensor, Tensor> stripes(int64_t n, Generator& gen) {
  Tensor images = randn({n, 1, 12, 12}, {}, &gen) * 0.3;
  Tensor labels = randint(0, 2, {n}, TensorOptions(kLong), &gen);
  Tensor where = randint(1, 11, {n}, TensorOptions(kLong), &gen);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t at = where[i].item<int64_t>();
    Tensor bar = labels[i].item<int64_t>() == 0 ? images[i][0].narrow(0, at, 1) : images[i][0].narrow(1, at, 1);
    bar.add_(2.0);
  }
  return {images, labels};
}

int main() {
  manual_seed(0);
  Generator gen(1);
  auto [train_x, train_y] = stripes(256, gen);
  auto [test_x, test_y] = stripes(128, gen);

  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), nn::Linear(4 * 6 * 6, 2));
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.01));
  for (int epoch = 0; epoch < 30; ++epoch) {
    optimizer.zero_grad();
    Tensor loss = cross_entropy(model(train_x), train_y);
    loss.backward();
    optimizer.step();
  }

  model->eval();
  NoGradGuard no_grad;
  const double test_accuracy = accuracy(model(test_x), test_y);
  std::printf("Striate %s: test accuracy %.1f%% on %lld images\n", cuda::is_compiled() ? "(CUDA build)" : "(CPU build)",
              100 * test_accuracy, static_cast<long long>(test_x.size(0)));
  return test_accuracy == 1.0 ? 0 : 1;
}
