// ResNet (He et al., 2015) as torchvision builds it: "v1.5", where a
// Bottleneck strides on its 3×3 conv. Same state_dict keys
// (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, ..., fc) and parameter
// counts (ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032
// for 1000 classes).
//
//   conv1 Conv2d(in, 64, 7, stride 2, pad 3, no bias), bn1, relu,
//   maxpool MaxPool2d(3, stride 2, pad 1),
//   layer1..layer4: blocks of 64, 128, 256, 512 planes (the first block of
//     layer2..4 strides by 2), avgpool AdaptiveAvgPool2d(1), fc Linear.
// BasicBlock (18/34): conv1 3×3 (stride), bn1, relu, conv2 3×3, bn2, + identity, relu.
// Bottleneck (50/101/152): conv1 1×1, bn1, conv2 3×3 (stride), bn2, conv3 1×1
//   (4× planes), bn3, + identity, relu.
// The identity goes through `downsample` (Sequential: 0 Conv2d 1×1 with the
// stride, no bias; 1 BatchNorm2d) when the shape changes.
// torchvision's initialisation: convs kaiming_normal_(fan_out, relu), batch
// norm ones/zeros (with zero_init_residual, each block's last bn weight is 0),
// fc PyTorch's default. Any input of at least 32×32 works.
#pragma once

#include <vector>

#include "striate/layers/layers.h"

namespace striate::models {

class BasicBlockImpl : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;
  // downsample may be empty (nullptr) when the identity needs no projection.
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::Sequential downsample = nullptr);
  Tensor forward(const Tensor& input) override;

  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::ReLU relu{nullptr};
  nn::Sequential downsample{nullptr};
};
STRIATE_MODULE(BasicBlock);

class BottleneckImpl : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;
  // width = planes * base_width / 64 * groups (ResNeXt / wide ResNet).
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride = 1, nn::Sequential downsample = nullptr,
                 int64_t groups = 1, int64_t base_width = 64);
  Tensor forward(const Tensor& input) override;

  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  nn::ReLU relu{nullptr};
  nn::Sequential downsample{nullptr};
};
STRIATE_MODULE(Bottleneck);

enum class ResNetBlock { Basic, Bottleneck };

struct ResNetOptions {
  STRIATE_ARG(int64_t, num_classes) = 1000;
  STRIATE_ARG(int64_t, in_channels) = 3;
  STRIATE_ARG(bool, zero_init_residual) = false;
  STRIATE_ARG(int64_t, groups) = 1;             // Bottleneck only
  STRIATE_ARG(int64_t, width_per_group) = 64;   // Bottleneck only
};

class ResNetImpl : public nn::Module {
 public:
  // layers: blocks per stage, e.g. {2, 2, 2, 2} for ResNet-18.
  ResNetImpl(ResNetBlock block, const std::vector<int64_t>& layers, const ResNetOptions& options = {});
  Tensor forward(const Tensor& input) override;

  ResNetOptions options;
  nn::Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  nn::ReLU relu{nullptr};
  nn::MaxPool2d maxpool{nullptr};
  nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Linear fc{nullptr};

 private:
  nn::Sequential make_layer(ResNetBlock block, int64_t planes, int64_t blocks, int64_t stride);
  int64_t inplanes_ = 64;
};
STRIATE_MODULE(ResNet);

ResNet resnet18(const ResNetOptions& options = {});
ResNet resnet34(const ResNetOptions& options = {});
ResNet resnet50(const ResNetOptions& options = {});
ResNet resnet101(const ResNetOptions& options = {});
ResNet resnet152(const ResNetOptions& options = {});

}  // namespace striate::models
