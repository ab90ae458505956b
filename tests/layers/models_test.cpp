// The model zoo: parameter counts and state_dict layout (every key, in order,
// with its shape) equal torchvision's — read from
// tests/reference/data/models/*.txt, written by tests/reference/gen_models.py —
// output shapes (one 224×224 forward per family, small inputs otherwise),
// torchvision's initialisation, options, and loading weights by name.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "striate/striate.h"
#include "support/npy.h"

using namespace striate;
using namespace striate::models;

namespace {

struct Layout {
  int64_t params = -1;
  std::vector<std::pair<std::string, Shape>> entries;
};

Layout torchvision_layout(const std::string& model) {
  const std::string path = striate::testing::reference_path("models/" + model + ".txt");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Layout layout;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, shape;
    fields >> key >> shape;
    if (key == "params") {
      layout.params = std::stoll(shape);
      continue;
    }
    Shape sizes;
    if (shape != "scalar") {
      std::istringstream dims(shape);
      std::string d;
      while (std::getline(dims, d, 'x')) sizes.push_back(std::stoll(d));
    }
    layout.entries.emplace_back(key, sizes);
  }
  return layout;
}

// Every state_dict key of `model`, in order, with the shape torchvision has.
void expect_torchvision_layout(const nn::Module& model, const std::string& name) {
  const Layout expected = torchvision_layout(name);
  EXPECT_EQ(model.parameter_count(), expected.params) << name;
  const nn::StateDict state = model.state_dict();
  ASSERT_EQ(state.size(), expected.entries.size()) << name;
  for (size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(state[i].first, expected.entries[i].first) << name << " entry " << i;
    EXPECT_EQ(state[i].second.sizes(), expected.entries[i].second) << name << " " << state[i].first;
  }
}

Tensor input(const Shape& shape, uint64_t seed = 1) {
  Generator gen(seed);
  return randn(shape, {}, &gen);
}

// Runs a forward pass in eval mode without recording history.
Tensor infer(nn::Module& model, const Tensor& x) {
  model.eval();
  NoGradGuard no_grad;
  return model(x);
}

double stddev(const Tensor& t) { return std::sqrt(t.to(kDouble).var().item<double>()); }

TEST(LeNet5, BothLayoutsAndInputSizes) {
  for (auto variant : {LeNet5Variant::Original, LeNet5Variant::ReLUMaxPool}) {
    LeNet5 net(LeNet5Options().variant(variant));
    EXPECT_EQ(net->parameter_count(), 61706);
    EXPECT_EQ(infer(*net, input({2, 1, 32, 32})).sizes(), (Shape{2, 10}));
    LeNet5 mnist(LeNet5Options().variant(variant).input_size(28));
    EXPECT_EQ(mnist->parameter_count(), 61706);
    EXPECT_EQ(infer(*mnist, input({2, 1, 28, 28})).sizes(), (Shape{2, 10}));
    LeNet5 rgb(LeNet5Options().variant(variant).in_channels(3).num_classes(7));
    EXPECT_EQ(rgb->parameter_count(), 61706 + 2 * 150 - 3 * 85);
    EXPECT_EQ(infer(*rgb, input({1, 3, 32, 32})).sizes(), (Shape{1, 7}));
  }
  EXPECT_THROW(LeNet5(LeNet5Options().input_size(30)), ValueError);
  // A 28×28 image into the 32×32 layout does not fit C5/F6.
  EXPECT_THROW(infer(*LeNet5(), input({1, 1, 28, 28})), Error);
}

TEST(LeNet5, OriginalLayoutPrintsAsDocumented) {
  std::ostringstream os;
  os << *LeNet5();
  EXPECT_EQ(os.str(),
            "LeNet5(\n"
            "  (features): Sequential(\n"
            "    (0): Conv2d(1, 6, kernel_size=[5, 5], stride=[1, 1])\n"
            "    (1): Tanh()\n"
            "    (2): AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])\n"
            "    (3): Conv2d(6, 16, kernel_size=[5, 5], stride=[1, 1])\n"
            "    (4): Tanh()\n"
            "    (5): AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])\n"
            "    (6): Conv2d(16, 120, kernel_size=[5, 5], stride=[1, 1])\n"
            "    (7): Tanh()\n"
            "  )\n"
            "  (classifier): Sequential(\n"
            "    (0): Linear(in_features=120, out_features=84, bias=true)\n"
            "    (1): Tanh()\n"
            "    (2): Linear(in_features=84, out_features=10, bias=true)\n"
            "  )\n"
            ")");
}

TEST(AlexNet, MatchesTorchvision) {
  AlexNet net;
  expect_torchvision_layout(*net, "alexnet");
  EXPECT_EQ(infer(*net, input({1, 3, 224, 224})).sizes(), (Shape{1, 1000}));
  AlexNet small(AlexNetOptions().num_classes(10).in_channels(1));
  EXPECT_EQ(small->named_parameters()[0].second.sizes(), (Shape{64, 1, 11, 11}));
  EXPECT_EQ(infer(*small, input({2, 1, 64, 64})).sizes(), (Shape{2, 10}));
}

// SkipInitGuard skips the random draws (the layout does not depend on them),
// which keeps these big models quick to build.
TEST(VGG, ElevenAndSixteenMatchTorchvision) {
  nn::init::SkipInitGuard skip;
  {
    VGG net = vgg11();
    expect_torchvision_layout(*net, "vgg11");
    EXPECT_EQ(infer(*net, input({1, 3, 224, 224})).sizes(), (Shape{1, 1000}));
  }
  expect_torchvision_layout(*vgg11_bn(), "vgg11_bn");
  {
    VGG net = vgg16();
    expect_torchvision_layout(*net, "vgg16");
    EXPECT_EQ(infer(*net, input({1, 3, 32, 32})).sizes(), (Shape{1, 1000}));
  }
  expect_torchvision_layout(*vgg16_bn(), "vgg16_bn");
  VGG bn = vgg16_bn(VGGOptions().num_classes(10).in_channels(1));
  EXPECT_EQ(bn->parameter_count(), 138365992 - 4097 * 990 - 2 * 64 * 9);
  EXPECT_EQ(infer(*bn, input({2, 1, 32, 32})).sizes(), (Shape{2, 10}));
}

TEST(VGG, TorchvisionInitialisation) {
  manual_seed(3);
  VGG net(std::vector<int64_t>{32, kVGGMaxPool, 64, kVGGMaxPool}, VGGOptions().batch_norm(true));
  auto& conv = net->features->at<nn::Conv2dImpl>(4);  // 32 -> 64: fan_out 64 * 9
  EXPECT_NEAR(stddev(conv.weight), std::sqrt(2.0 / (64 * 9)), 0.03 * std::sqrt(2.0 / (64 * 9)));
  EXPECT_EQ(conv.bias.abs().max().item<float>(), 0);
  auto& bn = net->features->at<nn::BatchNorm2dImpl>(1);
  EXPECT_TRUE(equal(bn.weight, ones({32})));
  auto& fc = net->classifier->at<nn::LinearImpl>(0);
  EXPECT_EQ(fc.weight.size(1), 64 * 7 * 7);
  EXPECT_NEAR(stddev(fc.weight), 0.01, 0.0002);
  EXPECT_EQ(fc.bias.abs().max().item<float>(), 0);
  EXPECT_EQ(infer(*net, input({1, 3, 32, 32})).sizes(), (Shape{1, 1000}));

  // init_weights(false): PyTorch's default layer initialisation instead.
  VGG plain(std::vector<int64_t>{8, kVGGMaxPool}, VGGOptions().init_weights(false).num_classes(2));
  EXPECT_GT(plain->features->at<nn::Conv2dImpl>(0).bias.abs().max().item<float>(), 0);
}

TEST(ResNet, EighteenMatchesTorchvisionAt224AndSummarises) {
  ResNet net = resnet18();
  expect_torchvision_layout(*net, "resnet18");
  EXPECT_EQ(infer(*net, input({1, 3, 224, 224})).sizes(), (Shape{1, 1000}));

  nn::ModelSummary s = nn::summary(net, {3, 32, 32});
  EXPECT_EQ(s.total_params, 11689512);
  EXPECT_EQ(s.layers.front().name, "conv1");
  EXPECT_EQ(s.layers.back().name, "fc");
  EXPECT_EQ(s.layers.back().output_shape, (Shape{1, 1000}));
  // A block's one ReLU appears once per call.
  int relu_rows = 0, downsample_rows = 0;
  for (const auto& l : s.layers) {
    relu_rows += l.name == "layer1.0.relu";
    downsample_rows += l.name.find("downsample") != std::string::npos;
  }
  EXPECT_EQ(relu_rows, 2);
  EXPECT_EQ(downsample_rows, 6);  // conv + bn in layer2..4
  EXPECT_NE(s.table.find("layer2.0.downsample.0 (Conv2d)"), std::string::npos);
  EXPECT_NE(s.table.find("Total params: 11,689,512"), std::string::npos);
}

TEST(ResNet, ThirtyFourAndFiftyMatchTorchvision) {
  nn::init::SkipInitGuard skip;  // shapes only; initialisation is checked below
  {
    ResNet r34 = resnet34();
    expect_torchvision_layout(*r34, "resnet34");
    EXPECT_EQ(infer(*r34, input({2, 3, 32, 32})).sizes(), (Shape{2, 1000}));
  }
  ResNet r50 = resnet50();
  expect_torchvision_layout(*r50, "resnet50");
  EXPECT_EQ(infer(*r50, input({1, 3, 32, 32})).sizes(), (Shape{1, 1000}));

  // v1.5: a Bottleneck strides on its 3×3 conv, and so does its projection.
  auto* b = dynamic_cast<BottleneckImpl*>((*r50->layer2)[0].get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->named_children().size(), 8u);  // conv1 bn1 conv2 bn2 conv3 bn3 relu downsample
  EXPECT_EQ(b->conv1->options.stride(), ExpandingArray<2>(1));
  EXPECT_EQ(b->conv2->options.stride(), ExpandingArray<2>(2));
  EXPECT_EQ(b->downsample->at<nn::Conv2dImpl>(0).options.stride(), ExpandingArray<2>(2));
  EXPECT_EQ(r50->fc->weight.sizes(), (Shape{1000, 2048}));
}

// One block per stage: the same code paths as ResNet-18, quicker to build.
ResNet tiny_resnet(const ResNetOptions& options) {
  return ResNet(ResNetBlock::Basic, std::vector<int64_t>{1, 1, 1, 1}, options);
}

TEST(ResNet, OptionsAndInitialisation) {
  manual_seed(4);
  ResNet net = tiny_resnet(ResNetOptions().in_channels(1).num_classes(10).zero_init_residual(true));
  EXPECT_EQ(net->conv1->weight.sizes(), (Shape{64, 1, 7, 7}));
  EXPECT_EQ(net->fc->weight.sizes(), (Shape{10, 512}));
  EXPECT_EQ(infer(*net, input({2, 1, 32, 32})).sizes(), (Shape{2, 10}));
  // kaiming_normal_(fan_out, relu): layer1's 3×3 convs have fan_out 64 * 9.
  auto* block = dynamic_cast<BasicBlockImpl*>((*net->layer1)[0].get());
  ASSERT_NE(block, nullptr);
  const double expected = std::sqrt(2.0 / (64 * 9));
  EXPECT_NEAR(stddev(block->conv1->weight), expected, 0.03 * expected);
  EXPECT_TRUE(equal(block->bn1->weight, ones({64})));
  EXPECT_TRUE(equal(block->bn2->weight, zeros({64})));  // zero_init_residual
  EXPECT_TRUE(block->downsample.is_empty());
  EXPECT_THROW(ResNet(ResNetBlock::Basic, std::vector<int64_t>{2, 2, 2}), ValueError);
  EXPECT_THROW(resnet18(ResNetOptions().groups(32)), ValueError);
}

TEST(ResNet, WeightsLoadByName) {
  manual_seed(5);
  ResNet a = tiny_resnet(ResNetOptions().num_classes(10));
  manual_seed(6);
  ResNet b = tiny_resnet(ResNetOptions().num_classes(10));
  {
    // Non-trivial running statistics, so buffers matter.
    NoGradGuard no_grad;
    for (auto& [name, t] : a->named_buffers())
      if (t.is_floating_point()) t.copy_(rand_like(t) + 0.5);
  }
  Tensor x = input({2, 3, 32, 32}, 9);
  EXPECT_FALSE(allclose(infer(*a, x), infer(*b, x)));
  b->load_state_dict(a->state_dict());
  EXPECT_TRUE(equal(infer(*a, x), infer(*b, x)));

  nn::StateDict other_head = a->state_dict();
  for (auto& [name, t] : other_head)
    if (name == "fc.weight") t = zeros({7, 512});
  EXPECT_THROW(b->load_state_dict(other_head), ValueError);
}

TEST(Summary, LeNet5Table) {
  LeNet5 net;
  net->train();
  nn::ModelSummary s = nn::summary(net, {1, 32, 32});
  EXPECT_TRUE(net->is_training());  // restored
  ASSERT_EQ(s.layers.size(), 11u);
  EXPECT_EQ(s.layers[0].name, "features.0");
  EXPECT_EQ(s.layers[0].type, "Conv2d");
  EXPECT_EQ(s.layers[0].output_shape, (Shape{1, 6, 28, 28}));
  EXPECT_EQ(s.layers[6].params, 48120);
  EXPECT_EQ(s.layers[10].name, "classifier.2");
  EXPECT_EQ(s.total_params, 61706);
  EXPECT_EQ(s.trainable_params, 61706);
  EXPECT_EQ(s.non_trainable_params, 0);
  // Leaf outputs: 2 * 6*28*28 + 6*14*14 + 2 * 16*10*10 + 16*5*5 + 2 * 120 + 2 * 84 + 10 floats.
  const double activations = (2 * 4704 + 1176 + 2 * 1600 + 400 + 240 + 168 + 10) * 4.0;
  EXPECT_DOUBLE_EQ(s.forward_backward_mb, 2 * activations / (1 << 20));
  EXPECT_DOUBLE_EQ(s.params_mb, 61706 * 4.0 / (1 << 20));
  EXPECT_DOUBLE_EQ(s.input_mb, 32 * 32 * 4.0 / (1 << 20));
  EXPECT_DOUBLE_EQ(s.total_mb, s.input_mb + s.forward_backward_mb + s.params_mb);
  EXPECT_EQ(s.table,
            "-------------------------------------------------------\n"
            "Layer (type)             Output Shape           Param #\n"
            "=======================================================\n"
            "features.0 (Conv2d)      [-1, 6, 28, 28]            156\n"
            "features.1 (Tanh)        [-1, 6, 28, 28]              0\n"
            "features.2 (AvgPool2d)   [-1, 6, 14, 14]              0\n"
            "features.3 (Conv2d)      [-1, 16, 10, 10]         2,416\n"
            "features.4 (Tanh)        [-1, 16, 10, 10]             0\n"
            "features.5 (AvgPool2d)   [-1, 16, 5, 5]               0\n"
            "features.6 (Conv2d)      [-1, 120, 1, 1]         48,120\n"
            "features.7 (Tanh)        [-1, 120, 1, 1]              0\n"
            "classifier.0 (Linear)    [-1, 84]                10,164\n"
            "classifier.1 (Tanh)      [-1, 84]                     0\n"
            "classifier.2 (Linear)    [-1, 10]                   850\n"
            "=======================================================\n"
            "Total params: 61,706\n"
            "Trainable params: 61,706\n"
            "Non-trainable params: 0\n"
            "-------------------------------------------------------\n"
            "Input size (MB): 0.00\n"
            "Forward/backward pass size (MB): 0.11\n"
            "Params size (MB): 0.24\n"
            "Estimated Total Size (MB): 0.35\n"
            "-------------------------------------------------------\n");
}

TEST(Summary, FrozenParametersAndBadShapes) {
  nn::Sequential net(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  net->at<nn::LinearImpl>(0).weight.requires_grad_(false);
  nn::ModelSummary s = nn::summary(net, {4});
  EXPECT_EQ(s.total_params, 23);
  EXPECT_EQ(s.trainable_params, 11);
  EXPECT_EQ(s.non_trainable_params, 12);
  EXPECT_NE(s.table.find("Non-trainable params: 12"), std::string::npos);
  EXPECT_THROW(nn::summary(net, {0}), ShapeError);
  EXPECT_THROW(nn::summary(net, {5}), Error);  // the forward itself fails
  EXPECT_TRUE(net->is_training());
}

TEST(Summary, FormatsThousands) {
  EXPECT_EQ(nn::format_thousands(0), "0");
  EXPECT_EQ(nn::format_thousands(999), "999");
  EXPECT_EQ(nn::format_thousands(1000), "1,000");
  EXPECT_EQ(nn::format_thousands(61100840), "61,100,840");
  EXPECT_EQ(nn::format_thousands(-1234567), "-1,234,567");
}

}  // namespace
