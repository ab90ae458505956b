// AlexNet as torchvision builds it (the one-GPU variant of "One weird trick",
// without local response norm): 61,100,840 parameters for 1000 classes, and
// the same state_dict keys (features.0.weight ... classifier.6.bias).
//
//   features:   0 Conv2d(3, 64, 11, stride 4, pad 2), 1 ReLU, 2 MaxPool2d(3, 2),
//               3 Conv2d(64, 192, 5, pad 2), 4 ReLU, 5 MaxPool2d(3, 2),
//               6 Conv2d(192, 384, 3, pad 1), 7 ReLU,
//               8 Conv2d(384, 256, 3, pad 1), 9 ReLU,
//               10 Conv2d(256, 256, 3, pad 1), 11 ReLU, 12 MaxPool2d(3, 2)
//   avgpool:    AdaptiveAvgPool2d(6)
//   classifier: 0 Dropout, 1 Linear(9216, 4096), 2 ReLU,
//               3 Dropout, 4 Linear(4096, 4096), 5 ReLU, 6 Linear(4096, classes)
// PyTorch's default initialisation. Inputs of at least 63×63.
#pragma once

#include "striate/layers/layers.h"

namespace striate::models {

struct AlexNetOptions {
  STRIATE_ARG(int64_t, num_classes) = 1000;
  STRIATE_ARG(int64_t, in_channels) = 3;
  STRIATE_ARG(double, dropout) = 0.5;
};

class AlexNetImpl : public nn::Module {
 public:
  explicit AlexNetImpl(const AlexNetOptions& options = {});
  Tensor forward(const Tensor& input) override;

  AlexNetOptions options;
  nn::Sequential features{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Sequential classifier{nullptr};
};
STRIATE_MODULE(AlexNet);

}  // namespace striate::models
