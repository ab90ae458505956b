#include "striate/models/resnet.h"

namespace striate::models {

using nn::Conv2dOptions;

static nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1, int64_t groups = 1) {
  return nn::Conv2d(Conv2dOptions(in, out, 3).stride(stride).padding(1).groups(groups).bias(false));
}

static nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride = 1) {
  return nn::Conv2d(Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, nn::Sequential ds)
    : nn::Module("BasicBlock") {
  // Registration order is torchvision's, so state_dict order matches too.
  conv1 = register_module("conv1", conv3x3(inplanes, planes, stride));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  relu = register_module("relu", nn::ReLU());
  conv2 = register_module("conv2", conv3x3(planes, planes));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  if (!ds.is_empty()) downsample = register_module("downsample", ds);
}

Tensor BasicBlockImpl::forward(const Tensor& x) {
  Tensor out = relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  return relu(out + (downsample.is_empty() ? x : downsample(x)));
}

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, nn::Sequential ds, int64_t groups,
                               int64_t base_width)
    : nn::Module("Bottleneck") {
  const int64_t width = planes * base_width / 64 * groups;
  conv1 = register_module("conv1", conv1x1(inplanes, width));
  bn1 = register_module("bn1", nn::BatchNorm2d(width));
  conv2 = register_module("conv2", conv3x3(width, width, stride, groups));
  bn2 = register_module("bn2", nn::BatchNorm2d(width));
  conv3 = register_module("conv3", conv1x1(width, planes * expansion));
  bn3 = register_module("bn3", nn::BatchNorm2d(planes * expansion));
  relu = register_module("relu", nn::ReLU());
  if (!ds.is_empty()) downsample = register_module("downsample", ds);
}

Tensor BottleneckImpl::forward(const Tensor& x) {
  Tensor out = relu(bn1(conv1(x)));
  out = relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  return relu(out + (downsample.is_empty() ? x : downsample(x)));
}

ResNetImpl::ResNetImpl(ResNetBlock block, const std::vector<int64_t>& layers, const ResNetOptions& o)
    : nn::Module("ResNet"), options(o) {
  STRIATE_CHECK(layers.size() == 4, ValueError, "ResNet: expected 4 stage sizes, got ", layers);
  for (int64_t n : layers) STRIATE_CHECK(n > 0, ValueError, "ResNet: stage sizes must be positive, got ", layers);
  STRIATE_CHECK(o.num_classes() > 0 && o.in_channels() > 0, ValueError,
                "ResNet: num_classes and in_channels must be positive, got ", o.num_classes(), " and ",
                o.in_channels());
  STRIATE_CHECK(block == ResNetBlock::Bottleneck || (o.groups() == 1 && o.width_per_group() == 64), ValueError,
                "ResNet: BasicBlock only supports groups=1 and width_per_group=64, got ", o.groups(), " and ",
                o.width_per_group());
  conv1 = register_module("conv1", nn::Conv2d(Conv2dOptions(o.in_channels(), 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  relu = register_module("relu", nn::ReLU());
  maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  layer1 = register_module("layer1", make_layer(block, 64, layers[0], 1));
  layer2 = register_module("layer2", make_layer(block, 128, layers[1], 2));
  layer3 = register_module("layer3", make_layer(block, 256, layers[2], 2));
  layer4 = register_module("layer4", make_layer(block, 512, layers[3], 2));
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(1));
  const int64_t expansion = block == ResNetBlock::Basic ? BasicBlockImpl::expansion : BottleneckImpl::expansion;
  fc = register_module("fc", nn::Linear(512 * expansion, o.num_classes()));

  apply([](nn::Module& m) {
    if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(&m)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
    } else if (auto* bn = dynamic_cast<nn::BatchNormImpl*>(&m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  });
  // Each residual branch then starts as zero, so every block begins as the
  // identity (https://arxiv.org/abs/1706.02677).
  if (o.zero_init_residual())
    apply([](nn::Module& m) {
      if (auto* b = dynamic_cast<BottleneckImpl*>(&m)) nn::init::zeros_(b->bn3->weight);
      else if (auto* b = dynamic_cast<BasicBlockImpl*>(&m)) nn::init::zeros_(b->bn2->weight);
    });
}

nn::Sequential ResNetImpl::make_layer(ResNetBlock block, int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t expansion = block == ResNetBlock::Basic ? BasicBlockImpl::expansion : BottleneckImpl::expansion;
  nn::Sequential downsample = nullptr;
  if (stride != 1 || inplanes_ != planes * expansion)
    downsample = nn::Sequential(conv1x1(inplanes_, planes * expansion, stride), nn::BatchNorm2d(planes * expansion));
  nn::Sequential stage;
  auto add = [&](int64_t s, nn::Sequential ds) {
    if (block == ResNetBlock::Basic)
      stage->push_back(BasicBlock(inplanes_, planes, s, ds));
    else
      stage->push_back(Bottleneck(inplanes_, planes, s, ds, options.groups(), options.width_per_group()));
    inplanes_ = planes * expansion;
  };
  add(stride, downsample);
  for (int64_t i = 1; i < blocks; ++i) add(1, nullptr);
  return stage;
}

Tensor ResNetImpl::forward(const Tensor& input) {
  Tensor x = maxpool(relu(bn1(conv1(input))));
  x = layer4(layer3(layer2(layer1(x))));
  return fc(avgpool(x).flatten(1));
}

ResNet resnet18(const ResNetOptions& o) { return ResNet(ResNetBlock::Basic, std::vector<int64_t>{2, 2, 2, 2}, o); }
ResNet resnet34(const ResNetOptions& o) { return ResNet(ResNetBlock::Basic, std::vector<int64_t>{3, 4, 6, 3}, o); }
ResNet resnet50(const ResNetOptions& o) {
  return ResNet(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 4, 6, 3}, o);
}
ResNet resnet101(const ResNetOptions& o) {
  return ResNet(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 4, 23, 3}, o);
}
ResNet resnet152(const ResNetOptions& o) {
  return ResNet(ResNetBlock::Bottleneck, std::vector<int64_t>{3, 8, 36, 3}, o);
}

}  // namespace striate::models
