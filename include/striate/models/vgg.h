// VGG (Simonyan & Zisserman, 2014) as torchvision builds it, with and without
// batch norm; the same state_dict keys (features.N.*, classifier.N.*) and
// parameter counts (VGG-11 132,863,336; VGG-11-BN 132,868,840;
// VGG-16 138,357,544; VGG-16-BN 138,365,992 for 1000 classes).
//
//   features:   per configuration entry, Conv2d(c, v, 3, pad 1) [+ BatchNorm2d(v)]
//               + ReLU, or MaxPool2d(2, 2) for an 'M'
//   avgpool:    AdaptiveAvgPool2d(7)
//   classifier: 0 Linear(25088, 4096), 1 ReLU, 2 Dropout,
//               3 Linear(4096, 4096), 4 ReLU, 5 Dropout, 6 Linear(4096, classes)
// torchvision's initialisation: convs kaiming_normal_(fan_out, relu) with
// zero bias, batch norm ones/zeros, Linear normal(0, 0.01) with zero bias.
// Any input of at least 32×32 works (the adaptive pool makes 7×7).
#pragma once

#include <vector>

#include "striate/layers/layers.h"

namespace striate::models {

// Configurations "A" (VGG-11), "B" (VGG-13), "D" (VGG-16), "E" (VGG-19).
enum class VGGConfig { A, B, D, E };
// The layer list of a configuration: output channels, or kVGGMaxPool.
inline constexpr int64_t kVGGMaxPool = -1;
std::vector<int64_t> vgg_layers(VGGConfig config);

struct VGGOptions {
  STRIATE_ARG(int64_t, num_classes) = 1000;
  STRIATE_ARG(int64_t, in_channels) = 3;
  STRIATE_ARG(bool, batch_norm) = false;
  STRIATE_ARG(double, dropout) = 0.5;
  STRIATE_ARG(bool, init_weights) = true;  // false: PyTorch's default layer init
};

class VGGImpl : public nn::Module {
 public:
  VGGImpl(const std::vector<int64_t>& layers, const VGGOptions& options = {});
  VGGImpl(VGGConfig config, const VGGOptions& options = {}) : VGGImpl(vgg_layers(config), options) {}
  Tensor forward(const Tensor& input) override;

  VGGOptions options;
  nn::Sequential features{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Sequential classifier{nullptr};
};
STRIATE_MODULE(VGG);

// torchvision's constructors; the _bn forms set batch_norm(true).
VGG vgg11(VGGOptions options = {});
VGG vgg11_bn(VGGOptions options = {});
VGG vgg13(VGGOptions options = {});
VGG vgg13_bn(VGGOptions options = {});
VGG vgg16(VGGOptions options = {});
VGG vgg16_bn(VGGOptions options = {});
VGG vgg19(VGGOptions options = {});
VGG vgg19_bn(VGGOptions options = {});

}  // namespace striate::models
