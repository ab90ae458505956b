// End to end: a small CNN (Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear)
// learns a synthetic, separable problem — 8×8 images of a horizontal,
// vertical, diagonal or anti-diagonal stroke at a random place, plus noise —
// to 100% training accuracy with an optimizer from striate::optim.
#include <gtest/gtest.h>

#include <random>

#include "striate/striate.h"

using namespace striate;

namespace {

constexpr int64_t kClasses = 4, kPerClass = 24, kSize = 8;

// Images [N, 1, 8, 8] and labels [N] (int64), from a fixed seed.
std::pair<Tensor, Tensor> strokes(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int64_t> offset(1, kSize - 2), shift(-3, 3);
  const int64_t n = kClasses * kPerClass;
  std::vector<float> pixels(n * kSize * kSize, 0.0f);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % kClasses;
    labels[i] = label;
    float* img = pixels.data() + i * kSize * kSize;
    const int64_t at = offset(rng), d = shift(rng);
    for (int64_t y = 0; y < kSize; ++y)
      for (int64_t x = 0; x < kSize; ++x) {
        const bool on = (label == 0 && y == at) || (label == 1 && x == at) || (label == 2 && x - y == d) ||
                        (label == 3 && x + y == kSize - 1 + d);
        if (on) img[y * kSize + x] = 1.0f;
      }
  }
  Generator gen(seed);
  Tensor images = from_vector(pixels, {n, 1, kSize, kSize}) + randn({n, 1, kSize, kSize}, {}, &gen) * 0.2;
  return {images, from_vector(labels, {n})};
}

TEST(Training, SmallCNNReachesFullAccuracyOnSeparableData) {
  manual_seed(2024);
  auto [images, labels] = strokes(7);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), nn::Linear(8 * 4 * 4, kClasses));
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.02));
  nn::CrossEntropyLoss criterion;

  double first_loss = -1, last_loss = -1, acc = 0;
  int steps = 0;
  for (; steps < 200 && acc < 1.0; ++steps) {
    optimizer.zero_grad();
    Tensor logits = model(images);
    Tensor loss = criterion(logits, labels);
    loss.backward();
    optimizer.step();
    last_loss = loss.item<double>();
    if (first_loss < 0) first_loss = last_loss;
    NoGradGuard no_grad;
    acc = accuracy(model(images), labels);
  }
  EXPECT_EQ(acc, 1.0) << "after " << steps << " steps, loss " << last_loss;
  EXPECT_LT(last_loss, 0.5 * first_loss);

  // The model generalises to fresh strokes drawn the same way.
  auto [test_images, test_labels] = strokes(8);
  model->eval();
  NoGradGuard no_grad;
  EXPECT_GE(accuracy(model(test_images), test_labels), 0.9);
}

// The same with plain SGD with momentum, written as a user would without an
// optimizer object for the update itself.
TEST(Training, HandWrittenSGDLoopAlsoLearns) {
  manual_seed(7);
  auto [images, labels] = strokes(11);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), nn::Linear(8 * 4 * 4, kClasses));
  double acc = 0;
  for (int step = 0; step < 300 && acc < 1.0; ++step) {
    model->zero_grad();
    nn::CrossEntropyLoss()(model(images), labels).backward();
    {
      NoGradGuard no_grad;
      for (auto& p : model->parameters()) p.sub_(p.grad() * 0.5);
      acc = accuracy(model(images), labels);
    }
  }
  EXPECT_EQ(acc, 1.0);
}

}  // namespace
