// LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998), in two layouts.
//
// Original (the 1998 paper's layer sizes), for a 1×32×32 input:
//   features:   0 Conv2d(1, 6, 5)    C1   -> [6, 28, 28]        156 params
//               1 Tanh
//               2 AvgPool2d(2)       S2   -> [6, 14, 14]
//               3 Conv2d(6, 16, 5)   C3   -> [16, 10, 10]     2,416
//               4 Tanh
//               5 AvgPool2d(2)       S4   -> [16, 5, 5]
//               6 Conv2d(16, 120, 5) C5   -> [120, 1, 1]     48,120
//               7 Tanh
//   classifier: 0 Linear(120, 84)    F6                      10,164
//               1 Tanh
//               2 Linear(84, 10)     output                     850
//   61,706 parameters. Simplifications of the paper, as in most modern
//   re-implementations: C3 connects to all 6 S2 maps (the paper's sparse
//   connection table gives 1,516 weights instead of 2,416); S2/S4 are plain
//   averages (the paper's have a trainable coefficient and bias per map);
//   tanh instead of 1.7159·tanh(2x/3); a Linear output instead of the
//   Euclidean RBF units.
//
// ReLUMaxPool (the common modern variant), for a 1×32×32 input:
//   features:   0 Conv2d(1, 6, 5), 1 ReLU, 2 MaxPool2d(2),
//               3 Conv2d(6, 16, 5), 4 ReLU, 5 MaxPool2d(2)   -> [16, 5, 5]
//   classifier: 0 Linear(400, 120), 1 ReLU, 2 Linear(120, 84), 3 ReLU,
//               4 Linear(84, 10)
//   also 61,706 parameters (C5 as a Linear on the flattened 16×5×5 maps).
//
// For 28×28 inputs (MNIST), set input_size(28): the first conv then pads by 2,
// so every later shape is as above.
#pragma once

#include "striate/layers/layers.h"

namespace striate::models {

enum class LeNet5Variant { Original, ReLUMaxPool };

struct LeNet5Options {
  STRIATE_ARG(LeNet5Variant, variant) = LeNet5Variant::Original;
  STRIATE_ARG(int64_t, num_classes) = 10;
  STRIATE_ARG(int64_t, in_channels) = 1;
  STRIATE_ARG(int64_t, input_size) = 32;  // 32, or 28 (first conv padded by 2)
};

class LeNet5Impl : public nn::Module {
 public:
  explicit LeNet5Impl(const LeNet5Options& options = {});
  Tensor forward(const Tensor& input) override;

  LeNet5Options options;
  nn::Sequential features{nullptr};
  nn::Sequential classifier{nullptr};
};
STRIATE_MODULE(LeNet5);

}  // namespace striate::models
