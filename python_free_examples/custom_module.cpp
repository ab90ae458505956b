// Write your own layer and train it.
//
// A module is a class deriving from nn::Module that registers its parameters
// and sub-modules by name in its constructor and says what forward does.
// Here: a residual block whose branch is scaled by a learnable number,
//   y = x + alpha * conv2(relu(conv1(x))),
// with alpha starting at 0, so the block starts as the identity and learns
// how much of the branch to let through. STRIATE_MODULE(ScaledResidual)
// makes the value-like holder `ScaledResidual` for `ScaledResidualImpl`.
//
// The network then learns to tell 8×8 images of a bright square from images
// of a bright ring (with noise), and this program exits non-zero unless it
// gets every training image right.
#include <cstdio>
#include <iostream>

#include <striate/striate.h>

using namespace striate;

struct ScaledResidualImpl : nn::Module {
  explicit ScaledResidualImpl(int64_t channels) {
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).padding(1)));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).padding(1)));
    alpha = register_parameter("alpha", zeros({1}));
  }
  Tensor forward(const Tensor& x) override { return x + alpha * conv2(relu(conv1(x))); }

  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  Tensor alpha;
};
STRIATE_MODULE(ScaledResidual);

// 2 classes: a filled 4×4 square (0) or the 4×4 square's outline (1), at a
// random place, plus noise.
std::pair<Tensor, Tensor> make_data(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> pos = randint(0, 5, {n, 2}, TensorOptions(kLong), &gen).to_vector<int64_t>();
  std::vector<float> pixels(n * 64, 0.0f);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = i % 2;
    const int64_t top = pos[2 * i], left = pos[2 * i + 1];
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 4; ++x) {
        const bool edge = y == 0 || y == 3 || x == 0 || x == 3;
        if (labels[i] == 0 || edge) pixels[i * 64 + (top + y) * 8 + (left + x)] = 1.0f;
      }
  }
  Tensor images = from_vector(pixels, {n, 1, 8, 8}) + randn({n, 1, 8, 8}, {}, &gen) * 0.2;
  return {images, from_vector(labels, {n})};
}

int main() {
  manual_seed(0);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::ReLU(), ScaledResidual(8),
                       nn::MaxPool2d(2), nn::Flatten(), nn::Linear(8 * 4 * 4, 2));
  std::cout << *model << "\n\n";
  for (const auto& [name, p] : model->named_parameters())
    std::cout << "  " << name << " " << shape_str(p.sizes()) << "\n";

  auto [images, labels] = make_data(64, 1);
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.01));
  nn::CrossEntropyLoss criterion;
  double acc = 0;
  for (int step = 1; step <= 200 && acc < 1.0; ++step) {
    optimizer.zero_grad();
    Tensor loss = criterion(model(images), labels);
    loss.backward();
    optimizer.step();
    NoGradGuard no_grad;
    acc = accuracy(model(images), labels);
    if (step % 10 == 0 || acc == 1.0)
      std::printf("step %3d  loss %.4f  train accuracy %.3f\n", step, loss.item<double>(), acc);
  }
  // The block's own parameter moved away from 0: the branch is in use.
  auto& block = model->at<ScaledResidualImpl>(2);
  std::printf("learned alpha = %.4f\n", block.alpha.item<double>());
  if (acc < 1.0) {
    std::fprintf(stderr, "custom_module: training accuracy %.3f, expected 1.0\n", acc);
    return 1;
  }
  return 0;
}
