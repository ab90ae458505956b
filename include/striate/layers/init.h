// Parameter initialisers with PyTorch's formulas (torch.nn.init). Each works
// in place under NoGradGuard and returns its argument.
#pragma once

#include <string>

#include "striate/core/generator.h"
#include "striate/core/tensor.h"

namespace striate::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

// The recommended gain for a nonlinearity (param: LeakyReLU's negative slope).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// While one is alive (on this thread), the random initialisers below —
// uniform_, normal_, xavier_*, kaiming_* — fill zeros instead of drawing, so
// building a model whose weights will be loaded from a checkpoint, or whose
// shapes only are wanted (summary()), skips the random draws (seconds for
// VGG). constant_, zeros_ and ones_ work as usual. As torch.nn.utils.skip_init.
class SkipInitGuard {
 public:
  SkipInitGuard();
  ~SkipInitGuard();
  SkipInitGuard(const SkipInitGuard&) = delete;
  SkipInitGuard& operator=(const SkipInitGuard&) = delete;
  static bool active();

 private:
  bool previous_;
};

Tensor& uniform_(Tensor& tensor, double a = 0, double b = 1, Generator* gen = nullptr);
Tensor& normal_(Tensor& tensor, double mean = 0, double std = 1, Generator* gen = nullptr);
Tensor& constant_(Tensor& tensor, double value);
Tensor& zeros_(Tensor& tensor);
Tensor& ones_(Tensor& tensor);
Tensor& xavier_uniform_(Tensor& tensor, double gain = 1, Generator* gen = nullptr);
Tensor& xavier_normal_(Tensor& tensor, double gain = 1, Generator* gen = nullptr);
// `a` is the negative slope of the following leaky ReLU (0 for ReLU).
Tensor& kaiming_uniform_(Tensor& tensor, double a = 0, FanMode mode = FanMode::FanIn,
                         Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
Tensor& kaiming_normal_(Tensor& tensor, double a = 0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU, Generator* gen = nullptr);

}  // namespace striate::nn::init
