#include "striate/models/lenet.h"

namespace striate::models {

LeNet5Impl::LeNet5Impl(const LeNet5Options& o) : nn::Module("LeNet5"), options(o) {
  STRIATE_CHECK(o.input_size() == 32 || o.input_size() == 28, ValueError,
                "LeNet5: input_size must be 32 or 28, got ", o.input_size());
  STRIATE_CHECK(o.num_classes() > 0 && o.in_channels() > 0, ValueError,
                "LeNet5: num_classes and in_channels must be positive, got ", o.num_classes(), " and ",
                o.in_channels());
  const int64_t first_pad = o.input_size() == 28 ? 2 : 0;
  auto c1 = nn::Conv2d(nn::Conv2dOptions(o.in_channels(), 6, 5).padding(first_pad));
  nn::Sequential f, c;
  if (o.variant() == LeNet5Variant::Original) {
    f = nn::Sequential(c1, nn::Tanh(), nn::AvgPool2d(2), nn::Conv2d(6, 16, 5), nn::Tanh(), nn::AvgPool2d(2),
                       nn::Conv2d(16, 120, 5), nn::Tanh());
    c = nn::Sequential(nn::Linear(120, 84), nn::Tanh(), nn::Linear(84, o.num_classes()));
  } else {
    f = nn::Sequential(c1, nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5), nn::ReLU(), nn::MaxPool2d(2));
    c = nn::Sequential(nn::Linear(16 * 5 * 5, 120), nn::ReLU(), nn::Linear(120, 84), nn::ReLU(),
                       nn::Linear(84, o.num_classes()));
  }
  features = register_module("features", f);
  classifier = register_module("classifier", c);
}

Tensor LeNet5Impl::forward(const Tensor& input) { return classifier(features(input).flatten(1)); }

}  // namespace striate::models
