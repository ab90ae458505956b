#include "striate/models/vgg.h"

namespace striate::models {

std::vector<int64_t> vgg_layers(VGGConfig config) {
  constexpr int64_t M = kVGGMaxPool;
  switch (config) {
    case VGGConfig::A: return {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    case VGGConfig::B: return {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    case VGGConfig::D: return {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
    case VGGConfig::E:
      return {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M};
  }
  throw ValueError("vgg_layers: unknown configuration");
}

VGGImpl::VGGImpl(const std::vector<int64_t>& layers, const VGGOptions& o) : nn::Module("VGG"), options(o) {
  STRIATE_CHECK(o.num_classes() > 0 && o.in_channels() > 0, ValueError,
                "VGG: num_classes and in_channels must be positive, got ", o.num_classes(), " and ", o.in_channels());
  nn::Sequential f;
  int64_t channels = o.in_channels();
  for (int64_t v : layers) {
    if (v == kVGGMaxPool) {
      f->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    STRIATE_CHECK(v > 0, ValueError, "VGG: a layer entry must be a channel count or kVGGMaxPool, got ", v);
    f->push_back(nn::Conv2d(nn::Conv2dOptions(channels, v, 3).padding(1)));
    if (o.batch_norm()) f->push_back(nn::BatchNorm2d(v));
    f->push_back(nn::ReLU());
    channels = v;
  }
  features = register_module("features", f);
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(7));
  classifier = register_module(
      "classifier", nn::Sequential(nn::Linear(channels * 7 * 7, 4096), nn::ReLU(), nn::Dropout(o.dropout()),
                                   nn::Linear(4096, 4096), nn::ReLU(), nn::Dropout(o.dropout()),
                                   nn::Linear(4096, o.num_classes())));
  if (!o.init_weights()) return;
  apply([](nn::Module& m) {
    if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(&m)) {
      nn::init::kaiming_normal_(conv->weight, 0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = dynamic_cast<nn::BatchNormImpl*>(&m)) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* linear = dynamic_cast<nn::LinearImpl*>(&m)) {
      nn::init::normal_(linear->weight, 0, 0.01);
      nn::init::zeros_(linear->bias);
    }
  });
}

Tensor VGGImpl::forward(const Tensor& input) { return classifier(avgpool(features(input)).flatten(1)); }

static VGG make(VGGConfig config, VGGOptions options, bool batch_norm) {
  if (batch_norm) options.batch_norm(true);
  return VGG(config, options);
}

VGG vgg11(VGGOptions options) { return make(VGGConfig::A, options, false); }
VGG vgg11_bn(VGGOptions options) { return make(VGGConfig::A, options, true); }
VGG vgg13(VGGOptions options) { return make(VGGConfig::B, options, false); }
VGG vgg13_bn(VGGOptions options) { return make(VGGConfig::B, options, true); }
VGG vgg16(VGGOptions options) { return make(VGGConfig::D, options, false); }
VGG vgg16_bn(VGGOptions options) { return make(VGGConfig::D, options, true); }
VGG vgg19(VGGOptions options) { return make(VGGConfig::E, options, false); }
VGG vgg19_bn(VGGOptions options) { return make(VGGConfig::E, options, true); }

}  // namespace striate::models
