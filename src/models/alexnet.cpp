#include "striate/models/alexnet.h"

namespace striate::models {

using nn::Conv2dOptions;
using nn::MaxPool2dOptions;

AlexNetImpl::AlexNetImpl(const AlexNetOptions& o) : nn::Module("AlexNet"), options(o) {
  STRIATE_CHECK(o.num_classes() > 0 && o.in_channels() > 0, ValueError,
                "AlexNet: num_classes and in_channels must be positive, got ", o.num_classes(), " and ",
                o.in_channels());
  auto pool = [] { return nn::MaxPool2d(MaxPool2dOptions(3).stride(2)); };
  features = register_module(
      "features",
      nn::Sequential(nn::Conv2d(Conv2dOptions(o.in_channels(), 64, 11).stride(4).padding(2)), nn::ReLU(), pool(),
                     nn::Conv2d(Conv2dOptions(64, 192, 5).padding(2)), nn::ReLU(), pool(),
                     nn::Conv2d(Conv2dOptions(192, 384, 3).padding(1)), nn::ReLU(),
                     nn::Conv2d(Conv2dOptions(384, 256, 3).padding(1)), nn::ReLU(),
                     nn::Conv2d(Conv2dOptions(256, 256, 3).padding(1)), nn::ReLU(), pool()));
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(6));
  classifier = register_module(
      "classifier", nn::Sequential(nn::Dropout(o.dropout()), nn::Linear(256 * 6 * 6, 4096), nn::ReLU(),
                                   nn::Dropout(o.dropout()), nn::Linear(4096, 4096), nn::ReLU(),
                                   nn::Linear(4096, o.num_classes())));
}

Tensor AlexNetImpl::forward(const Tensor& input) {
  return classifier(avgpool(features(input)).flatten(1));
}

}  // namespace striate::models
