#include "zoo.h"

#include "striate/core/error.h"
#include "striate/models/models.h"

namespace striate::tools {

const std::vector<ModelInfo>& model_catalog() {
  static const std::vector<ModelInfo> catalog = {
      {"lenet5", "LeNet-5, ReLU and max pooling (61,706 parameters)"},
      {"lenet5-original", "LeNet-5 as in 1998: tanh and average pooling"},
      {"small-vgg", "a small VGG-style CNN with batch norm (the stronger Fashion-MNIST setting)"},
      {"alexnet", "AlexNet (torchvision's layout)"},
      {"vgg11", "VGG-11"},
      {"vgg11-bn", "VGG-11 with batch norm"},
      {"vgg13", "VGG-13"},
      {"vgg13-bn", "VGG-13 with batch norm"},
      {"vgg16", "VGG-16"},
      {"vgg16-bn", "VGG-16 with batch norm"},
      {"vgg19", "VGG-19"},
      {"vgg19-bn", "VGG-19 with batch norm"},
      {"resnet18", "ResNet-18"},
      {"resnet34", "ResNet-34"},
      {"resnet50", "ResNet-50"},
      {"resnet101", "ResNet-101"},
      {"resnet152", "ResNet-152"},
  };
  return catalog;
}

std::string model_names_joined(const std::string& separator) {
  std::string out;
  for (const ModelInfo& m : model_catalog()) out += (out.empty() ? "" : separator) + m.name;
  return out;
}

bool is_known_model(const std::string& name) {
  for (const ModelInfo& m : model_catalog())
    if (m.name == name) return true;
  return false;
}

SmallVGGImpl::SmallVGGImpl(int64_t in_channels, int64_t num_classes, int64_t image_size) : nn::Module("SmallVGG") {
  STRIATE_CHECK(image_size >= 8, ValueError, "small-vgg: images must be at least 8x8, got ", image_size, "x",
                image_size);
  nn::Sequential f;
  int64_t channels = in_channels;
  auto conv_bn_relu = [&](int64_t out) {
    f->push_back(nn::Conv2d(nn::Conv2dOptions(channels, out, 3).padding(1).bias(false)));
    f->push_back(nn::BatchNorm2d(out));
    f->push_back(nn::ReLU());
    channels = out;
  };
  for (int64_t width : {32, 64}) {
    conv_bn_relu(width);
    conv_bn_relu(width);
    f->push_back(nn::MaxPool2d(2));
  }
  conv_bn_relu(128);
  f->push_back(nn::MaxPool2d(2));
  const int64_t side = image_size / 2 / 2 / 2;
  nn::Sequential c(nn::Flatten(), nn::Dropout(0.3), nn::Linear(channels * side * side, 256), nn::BatchNorm1d(256),
                   nn::ReLU(), nn::Dropout(0.3), nn::Linear(256, num_classes));
  features = register_module("features", f);
  classifier = register_module("classifier", c);
}

Tensor SmallVGGImpl::forward(const Tensor& input) { return classifier(features(input)); }

std::shared_ptr<nn::Module> make_model(const std::string& name, int64_t in_channels, int64_t num_classes,
                                       int64_t image_size) {
  using namespace striate::models;
  if (name == "lenet5" || name == "lenet5-original") {
    STRIATE_CHECK(image_size == 28 || image_size == 32, ValueError, "model ", name,
                  " takes 28x28 or 32x32 images, got ", image_size, "x", image_size);
    return LeNet5(LeNet5Options()
                      .variant(name == "lenet5" ? LeNet5Variant::ReLUMaxPool : LeNet5Variant::Original)
                      .in_channels(in_channels)
                      .num_classes(num_classes)
                      .input_size(image_size))
        .ptr();
  }
  if (name == "small-vgg") return SmallVGG(in_channels, num_classes, image_size).ptr();
  if (name == "alexnet") return AlexNet(AlexNetOptions().in_channels(in_channels).num_classes(num_classes)).ptr();
  const VGGOptions vgg = VGGOptions().in_channels(in_channels).num_classes(num_classes);
  if (name == "vgg11") return vgg11(vgg).ptr();
  if (name == "vgg11-bn") return vgg11_bn(vgg).ptr();
  if (name == "vgg13") return vgg13(vgg).ptr();
  if (name == "vgg13-bn") return vgg13_bn(vgg).ptr();
  if (name == "vgg16") return vgg16(vgg).ptr();
  if (name == "vgg16-bn") return vgg16_bn(vgg).ptr();
  if (name == "vgg19") return vgg19(vgg).ptr();
  if (name == "vgg19-bn") return vgg19_bn(vgg).ptr();
  const ResNetOptions resnet = ResNetOptions().in_channels(in_channels).num_classes(num_classes);
  if (name == "resnet18") return resnet18(resnet).ptr();
  if (name == "resnet34") return resnet34(resnet).ptr();
  if (name == "resnet50") return resnet50(resnet).ptr();
  if (name == "resnet101") return resnet101(resnet).ptr();
  if (name == "resnet152") return resnet152(resnet).ptr();
  throw ValueError("unknown model '" + name + "' (known: " + model_names_joined() + ")");
}

nn::Conv2dImpl* first_conv(nn::Module& model) {
  if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(&model)) return conv;
  for (const auto& [name, child] : model.named_children())
    if (nn::Conv2dImpl* conv = first_conv(*child)) return conv;
  return nullptr;
}

}  // namespace striate::tools
