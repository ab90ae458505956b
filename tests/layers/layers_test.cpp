// Layers and losses as modules: each forward equals the functional op with
// the module's options, default initialisation has PyTorch's bounds, batch
// norm's running statistics update in training and serve in eval, dropout is
// the identity in eval, and the init:: functions have the right statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "striate/core/ops/conv.h"
#include "striate/striate.h"

using namespace striate;

namespace {

Tensor random(const Shape& shape, uint64_t seed, DType dtype = kFloat) {
  Generator gen(seed);
  return randn(shape, TensorOptions(dtype), &gen);
}

std::string printed(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

// Mean and (population) standard deviation of every element.
std::pair<double, double> moments(const Tensor& t) {
  const auto v = t.to_vector<double>();
  double mean = 0, sq = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / static_cast<double>(v.size()))};
}

double max_abs(const Tensor& t) { return t.abs().max().item<double>(); }

TEST(Linear, ForwardIsTheLinearOp) {
  nn::Linear fc(5, 3);
  Tensor x = random({4, 5}, 1);
  EXPECT_TRUE(allclose(fc(x), linear(x, fc->weight, fc->bias)));
  EXPECT_EQ(fc->weight.sizes(), (Shape{3, 5}));
  EXPECT_EQ(fc->bias.sizes(), (Shape{3}));
  // Extra leading dims pass through.
  EXPECT_EQ(fc(random({2, 4, 5}, 2)).sizes(), (Shape{2, 4, 3}));

  nn::Linear no_bias(nn::LinearOptions(5, 3).bias(false));
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_EQ(no_bias->parameters().size(), 1u);
  EXPECT_TRUE(allclose(no_bias(x), linear(x, no_bias->weight)));
  EXPECT_EQ(printed(*no_bias), "Linear(in_features=5, out_features=3, bias=false)");
  EXPECT_THROW(nn::Linear(0, 3), ValueError);
}

TEST(Linear, GradientsReachTheParameters) {
  nn::Linear fc(3, 2);
  fc(random({4, 3}, 3)).sum().backward();
  ASSERT_TRUE(fc->weight.grad().defined());
  EXPECT_EQ(fc->weight.grad().sizes(), (Shape{2, 3}));
  // d(sum)/d(bias) is the batch size for every output.
  EXPECT_TRUE(allclose(fc->bias.grad(), full({2}, 4.0)));
}

TEST(Conv, ForwardIsTheConvOp) {
  auto opts = nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding(1).dilation({1, 2}).groups(2);
  nn::Conv2d conv(opts);
  EXPECT_EQ(conv->weight.sizes(), (Shape{6, 2, 3, 2}));
  Tensor x = random({2, 4, 7, 8}, 4);
  EXPECT_TRUE(allclose(conv(x), conv2d(x, conv->weight, conv->bias, {2, 1}, 1, {1, 2}, 2)));
  EXPECT_EQ(printed(*conv),
            "Conv2d(4, 6, kernel_size=[3, 2], stride=[2, 1], padding=[1, 1], dilation=[1, 2], groups=2)");

  nn::Conv2d same(nn::Conv2dOptions(3, 5, 3).padding(kSame).bias(false));
  Tensor y = random({1, 3, 6, 5}, 5);
  EXPECT_EQ(same(y).sizes(), (Shape{1, 5, 6, 5}));
  EXPECT_TRUE(allclose(same(y), conv2d(y, same->weight, {}, 1, kSame)));
  EXPECT_EQ(printed(*same), "Conv2d(3, 5, kernel_size=[3, 3], stride=[1, 1], padding='same', bias=false)");

  nn::Conv1d conv1(nn::Conv1dOptions(3, 4, 3).stride(2).padding("valid"));
  Tensor z = random({2, 3, 9}, 6);
  EXPECT_EQ(conv1->weight.sizes(), (Shape{4, 3, 3}));
  EXPECT_TRUE(allclose(conv1(z), conv1d(z, conv1->weight, conv1->bias, 2)));
  EXPECT_EQ(conv1(z).sizes(), (Shape{2, 4, 4}));
}

TEST(Conv, ChainedOptionsAndBadArguments) {
  nn::Conv2d stem(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false));
  EXPECT_EQ(stem->parameter_count(), 64 * 3 * 7 * 7);
  EXPECT_EQ(stem(zeros({1, 3, 32, 32})).sizes(), (Shape{1, 64, 16, 16}));
  EXPECT_THROW(nn::Conv2d(nn::Conv2dOptions(3, 6, 3).groups(2)), ValueError);
  EXPECT_THROW(nn::Conv2d(0, 6, 3), ValueError);
  EXPECT_THROW(stem(zeros({1, 4, 32, 32})), Error);  // channel mismatch, from conv2d
}

TEST(DefaultInit, KaimingUniformBoundIsOneOverSqrtFanIn) {
  // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / 6), bound = sqrt(3) * gain / sqrt(fan_in) = 1 / sqrt(fan_in).
  manual_seed(11);
  nn::Linear fc(400, 300);
  const double bound = 1 / std::sqrt(400.0);
  EXPECT_LE(max_abs(fc->weight), bound);
  EXPECT_GT(max_abs(fc->weight), 0.99 * bound);
  auto [mean, sd] = moments(fc->weight);
  EXPECT_NEAR(mean, 0, 0.01 * bound);
  EXPECT_NEAR(sd, bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_LE(max_abs(fc->bias), bound);
  EXPECT_GT(max_abs(fc->bias), 0.9 * bound);

  nn::Conv2d conv(nn::Conv2dOptions(16, 256, 3));
  const double conv_bound = 1 / std::sqrt(16.0 * 9);
  EXPECT_LE(max_abs(conv->weight), conv_bound);
  EXPECT_GT(max_abs(conv->weight), 0.99 * conv_bound);
  EXPECT_NEAR(moments(conv->weight).second, conv_bound / std::sqrt(3.0), 0.02 * conv_bound);
  EXPECT_LE(max_abs(conv->bias), conv_bound);
  EXPECT_GT(max_abs(conv->bias), 0.9 * conv_bound);
}

TEST(DefaultInit, SeedMakesItReproducible) {
  manual_seed(5);
  nn::Linear a(8, 8);
  manual_seed(5);
  nn::Linear b(8, 8);
  EXPECT_TRUE(equal(a->weight, b->weight));
  EXPECT_TRUE(equal(a->bias, b->bias));
}

TEST(Pooling, ForwardIsThePoolingOp) {
  Tensor x = random({2, 3, 9, 8}, 7);
  nn::MaxPool2d mp(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
  EXPECT_TRUE(equal(mp(x), max_pool2d(x, 3, 2, 1, 1, true)));
  nn::MaxPool2d mp2(2);
  EXPECT_TRUE(equal(mp2(x), max_pool2d(x, 2)));
  EXPECT_EQ(mp2(x).sizes(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(printed(*mp2), "MaxPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0], dilation=[1, 1], ceil_mode=false)");

  nn::AvgPool2d ap(nn::AvgPool2dOptions({3, 2}).stride(1).padding({1, 0}).count_include_pad(false));
  EXPECT_TRUE(allclose(ap(x), avg_pool2d(x, {3, 2}, 1, {1, 0}, false, false)));
  nn::AvgPool2d ap2(2);
  EXPECT_TRUE(allclose(ap2(x), avg_pool2d(x, 2)));

  nn::AdaptiveAvgPool2d aap(ExpandingArray<2>{3, 1});
  EXPECT_TRUE(allclose(aap(x), adaptive_avg_pool2d(x, {3, 1})));
  EXPECT_EQ(aap(x).sizes(), (Shape{2, 3, 3, 1}));
  nn::AdaptiveMaxPool2d amp(2);
  EXPECT_TRUE(equal(amp(x), std::get<0>(adaptive_max_pool2d(x, 2))));

  Tensor s = random({2, 3, 10}, 8);
  nn::MaxPool1d mp1(nn::MaxPool1dOptions(3).stride(2).dilation(2));
  EXPECT_TRUE(equal(mp1(s), max_pool1d(s, 3, 2, 0, 2)));
}

TEST(Activations, EachModuleIsItsFunction) {
  Tensor x = random({3, 4, 5}, 9) * 3.0;
  EXPECT_TRUE(equal(nn::ReLU()(x), relu(x)));
  EXPECT_TRUE(equal(nn::ReLU6()(x), relu6(x)));
  EXPECT_TRUE(equal(nn::SELU()(x), selu(x)));
  EXPECT_TRUE(equal(nn::SiLU()(x), silu(x)));
  EXPECT_TRUE(equal(nn::Tanh()(x), striate::tanh(x)));
  EXPECT_TRUE(equal(nn::Sigmoid()(x), sigmoid(x)));
  EXPECT_TRUE(equal(nn::Softsign()(x), softsign(x)));
  EXPECT_TRUE(equal(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2))(x), leaky_relu(x, 0.2)));
  EXPECT_TRUE(equal(nn::ELU(nn::ELUOptions().alpha(0.5))(x), elu(x, 0.5)));
  EXPECT_TRUE(equal(nn::GELU()(x), gelu(x)));
  EXPECT_TRUE(equal(nn::GELU(nn::GELUOptions().approximate("tanh"))(x), gelu(x, "tanh")));
  EXPECT_TRUE(equal(nn::Softplus(nn::SoftplusOptions().beta(2).threshold(5))(x), softplus(x, 2, 5)));
  EXPECT_TRUE(equal(nn::Hardtanh(nn::HardtanhOptions().min_val(-2).max_val(0.5))(x), hardtanh(x, -2, 0.5)));
  EXPECT_THROW(nn::Hardtanh(nn::HardtanhOptions().min_val(1).max_val(0)), ValueError);
  EXPECT_TRUE(equal(nn::Softmax(1)(x), softmax(x, 1)));
  EXPECT_TRUE(equal(nn::LogSoftmax(-1)(x), log_softmax(x, -1)));
  EXPECT_EQ(printed(*nn::LeakyReLU()), "LeakyReLU(negative_slope=0.01)");
  EXPECT_EQ(printed(*nn::Softmax(1)), "Softmax(dim=1)");
}

TEST(Activations, PReLUHasALearnableSlope) {
  nn::PReLU shared;
  EXPECT_EQ(shared->weight.sizes(), (Shape{1}));
  EXPECT_FLOAT_EQ(shared->weight.item<float>(), 0.25f);
  nn::PReLU per_channel(nn::PReLUOptions().num_parameters(4).init(0.1));
  Tensor x = random({2, 4, 3}, 10);
  EXPECT_TRUE(equal(per_channel(x), prelu(x, per_channel->weight)));
  per_channel(x).sum().backward();
  EXPECT_EQ(per_channel->weight.grad().sizes(), (Shape{4}));
}

TEST(Flatten, IdentityAndDropout) {
  Tensor x = random({2, 3, 4, 5}, 11);
  EXPECT_EQ(nn::Flatten()(x).sizes(), (Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1))(x).sizes(), (Shape{6, 4, 5}));
  EXPECT_TRUE(nn::Identity()(x).is_same(x));

  nn::Dropout drop(0.25);
  drop->eval();
  EXPECT_TRUE(equal(drop(x), x));
  drop->train();
  Tensor big = ones({100, 100});
  const auto v = drop(big).to_vector<float>();
  int zeros_seen = 0;
  for (float e : v) {
    if (e == 0) ++zeros_seen;
    else EXPECT_FLOAT_EQ(e, 1 / 0.75f);
  }
  EXPECT_NEAR(zeros_seen / 10000.0, 0.25, 0.03);
  EXPECT_THROW(nn::Dropout(1.5), ValueError);
  EXPECT_EQ(printed(*drop), "Dropout(p=0.25)");
}

TEST(BatchNorm, RunningStatisticsUpdateInTrainingAndServeInEval) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(3).momentum(0.2));
  EXPECT_EQ(bn->parameter_count(), 6);
  Tensor x = random({4, 3, 5, 5}, 12, kDouble) * 2.0 + 1.0;
  bn->to(kDouble);
  Tensor y = bn(x);
  // Training: normalised with the batch statistics (biased variance).
  Tensor mean = x.mean({0, 2, 3});
  Tensor var_biased = x.var({0, 2, 3}, /*correction=*/0);
  Tensor var_unbiased = x.var({0, 2, 3}, /*correction=*/1);
  Tensor expected = (x - mean.view({1, 3, 1, 1})) / (var_biased.view({1, 3, 1, 1}) + 1e-5).sqrt();
  EXPECT_TRUE(allclose(y, expected, 1e-9, 1e-9));
  EXPECT_TRUE(allclose(bn->running_mean, mean * 0.2, 1e-12, 1e-12));
  EXPECT_TRUE(allclose(bn->running_var, var_unbiased * 0.2 + 0.8, 1e-12, 1e-12));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);

  // Eval: the running statistics, which no longer change.
  bn->eval();
  Tensor rm = bn->running_mean.clone(), rv = bn->running_var.clone();
  Tensor z = bn(x);
  EXPECT_TRUE(allclose(z, batch_norm(x, rm, rv, bn->weight, bn->bias, false, 0.2, 1e-5)));
  EXPECT_TRUE(allclose(z, (x - rm.view({1, 3, 1, 1})) / (rv.view({1, 3, 1, 1}) + 1e-5).sqrt(), 1e-9, 1e-9));
  EXPECT_TRUE(equal(bn->running_mean, rm));
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);

  bn->reset_running_stats();
  EXPECT_TRUE(equal(bn->running_var, ones({3}, TensorOptions(kDouble))));
  EXPECT_THROW(bn(zeros({3, 5, 5}, TensorOptions(kDouble))), ShapeError);
  EXPECT_EQ(printed(*bn), "BatchNorm2d(3, eps=1e-05, momentum=0.2, affine=true, track_running_stats=true)");
}

TEST(BatchNorm, WithoutRunningStatisticsOrAffine) {
  nn::BatchNorm1d bn(nn::BatchNorm1dOptions(4).affine(false).track_running_stats(false));
  EXPECT_EQ(bn->parameters().size(), 0u);
  EXPECT_EQ(bn->buffers().size(), 0u);
  Tensor x = random({8, 4}, 13);
  bn->eval();  // batch statistics even in eval, as PyTorch
  EXPECT_TRUE(allclose(bn(x), batch_norm(x, {}, {}, {}, {}, true), 1e-5, 1e-6));
  EXPECT_EQ(bn(random({8, 4, 3}, 14)).sizes(), (Shape{8, 4, 3}));
  EXPECT_THROW(bn(zeros({8})), ShapeError);
}

TEST(LayerNorm, AndLocalResponseNorm) {
  nn::LayerNorm ln(nn::LayerNormOptions({4, 5}).eps(1e-6));
  EXPECT_EQ(ln->weight.sizes(), (Shape{4, 5}));
  Tensor x = random({3, 4, 5}, 15);
  EXPECT_TRUE(allclose(ln(x), layer_norm(x, {4, 5}, ln->weight, ln->bias, 1e-6)));
  nn::LayerNorm plain(nn::LayerNormOptions({5}).elementwise_affine(false));
  EXPECT_EQ(plain->parameters().size(), 0u);
  EXPECT_TRUE(allclose(plain(x), layer_norm(x, {5})));

  nn::LocalResponseNorm lrn(nn::LocalResponseNormOptions(3).alpha(1e-3).k(2));
  Tensor y = random({2, 6, 4, 4}, 16);
  EXPECT_TRUE(allclose(lrn(y), local_response_norm(y, 3, 1e-3, 0.75, 2)));
}

TEST(Losses, ModulesAreTheirFunctions) {
  Tensor logits = random({6, 4}, 17);
  Tensor target = from_vector<int64_t>({0, 3, 1, 1, 2, 0}, {6});
  Tensor weight = from_vector<float>({1, 2, 0.5, 1}, {4});

  EXPECT_TRUE(allclose(nn::CrossEntropyLoss()(logits, target), cross_entropy(logits, target)));
  nn::CrossEntropyLoss ce(nn::CrossEntropyLossOptions().weight(weight).label_smoothing(0.1).ignore_index(3));
  EXPECT_TRUE(allclose(ce(logits, target), cross_entropy(logits, target, weight, kMean, 3, 0.1)));
  EXPECT_EQ(ce->buffers().size(), 1u);  // the class weight moves with to()
  ce->to(kDouble);
  EXPECT_EQ(ce->weight.dtype(), kDouble);

  Tensor logp = log_softmax(logits, 1);
  nn::NLLLoss nll(nn::NLLLossOptions().reduction(kSum));
  EXPECT_TRUE(allclose(nll(logp, target), nll_loss(logp, target, {}, kSum)));

  Tensor a = random({3, 5}, 18), b = random({3, 5}, 19);
  EXPECT_TRUE(allclose(nn::MSELoss()(a, b), mse_loss(a, b)));
  EXPECT_TRUE(allclose(nn::MSELoss(kNone)(a, b), mse_loss(a, b, kNone)));
  EXPECT_TRUE(allclose(nn::L1Loss(kSum)(a, b), l1_loss(a, b, kSum)));

  Tensor t = rand({3, 5}, {}, nullptr);
  Tensor pos = from_vector<float>({1, 2, 3, 4, 5}, {5});
  nn::BCEWithLogitsLoss bce(nn::BCEWithLogitsLossOptions().pos_weight(pos));
  EXPECT_TRUE(allclose(bce(a, t), binary_cross_entropy_with_logits(a, t, {}, pos)));
}

TEST(Losses, GradientReachesALayer) {
  nn::Linear fc(4, 3);
  nn::CrossEntropyLoss loss;
  loss(fc(random({5, 4}, 20)), from_vector<int64_t>({0, 1, 2, 1, 0}, {5})).backward();
  EXPECT_TRUE(fc->weight.grad().defined());
  EXPECT_GT(max_abs(fc->weight.grad()), 0);
}

TEST(Init, GainsAndFans) {
  using nn::init::Nonlinearity;
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::Tanh), 5.0 / 3);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::LeakyReLU, 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::SELU), 0.75);
  EXPECT_DOUBLE_EQ(nn::init::calculate_gain(Nonlinearity::Sigmoid), 1.0);
  auto [fan_in, fan_out] = nn::init::calculate_fan_in_and_fan_out(empty({32, 16, 3, 5}));
  EXPECT_EQ(fan_in, 16 * 15);
  EXPECT_EQ(fan_out, 32 * 15);
  EXPECT_THROW(nn::init::calculate_fan_in_and_fan_out(empty({7})), ShapeError);
}

TEST(Init, DistributionsHaveTheirStatistics) {
  using namespace nn::init;
  Generator gen(42);
  Tensor w = empty({512, 256});  // fan_in 256, fan_out 512: 131072 samples

  kaiming_normal_(w, 0, FanMode::FanIn, Nonlinearity::ReLU, &gen);
  auto [m1, s1] = moments(w);
  EXPECT_NEAR(m1, 0, 0.002);
  EXPECT_NEAR(s1, std::sqrt(2.0 / 256), 0.01 * std::sqrt(2.0 / 256));

  kaiming_normal_(w, 0, FanMode::FanOut, Nonlinearity::ReLU, &gen);
  EXPECT_NEAR(moments(w).second, std::sqrt(2.0 / 512), 0.01 * std::sqrt(2.0 / 512));

  kaiming_uniform_(w, 0, FanMode::FanIn, Nonlinearity::ReLU, &gen);
  const double ku = std::sqrt(6.0 / 256);
  EXPECT_LE(max_abs(w), ku);
  EXPECT_GT(max_abs(w), 0.999 * ku);
  EXPECT_NEAR(moments(w).second, ku / std::sqrt(3.0), 0.01 * ku);

  xavier_uniform_(w, 1, &gen);
  const double xu = std::sqrt(6.0 / (256 + 512));
  EXPECT_LE(max_abs(w), xu);
  EXPECT_GT(max_abs(w), 0.999 * xu);
  EXPECT_NEAR(moments(w).second, xu / std::sqrt(3.0), 0.01 * xu);

  xavier_normal_(w, 2.0, &gen);
  EXPECT_NEAR(moments(w).second, 2.0 * std::sqrt(2.0 / (256 + 512)), 0.02 * std::sqrt(2.0 / 768));

  nn::init::normal_(w, 3, 0.5, &gen);
  auto [m2, s2] = moments(w);
  EXPECT_NEAR(m2, 3, 0.01);
  EXPECT_NEAR(s2, 0.5, 0.005);

  nn::init::uniform_(w, -1, 3, &gen);
  EXPECT_GE(w.min().item<double>(), -1);
  EXPECT_LT(w.max().item<double>(), 3);
  EXPECT_NEAR(moments(w).first, 1, 0.02);

  zeros_(w);
  EXPECT_EQ(max_abs(w), 0);
  ones_(w);
  EXPECT_TRUE(equal(w, ones({512, 256})));
  constant_(w, -2.5);
  EXPECT_TRUE(equal(w, full({512, 256}, -2.5)));

  // The same generator state gives the same values.
  Generator g1(7), g2(7);
  Tensor a = empty({64, 64}), b = empty({64, 64});
  xavier_uniform_(a, 1, &g1);
  xavier_uniform_(b, 1, &g2);
  EXPECT_TRUE(equal(a, b));
}

TEST(Init, SkipInitGuardZeroesInsteadOfDrawing) {
  Generator gen(1);
  const uint64_t offset = gen.offset();
  {
    nn::init::SkipInitGuard skip;
    EXPECT_TRUE(nn::init::SkipInitGuard::active());
    nn::Linear fc(4, 3);
    EXPECT_EQ(max_abs(fc->weight), 0);
    EXPECT_EQ(max_abs(fc->bias), 0);
    Tensor t = empty({3, 3});
    nn::init::kaiming_normal_(t, 0, nn::init::FanMode::FanIn, nn::init::Nonlinearity::ReLU, &gen);
    EXPECT_EQ(max_abs(t), 0);
    EXPECT_EQ(gen.offset(), offset);  // nothing drawn
    nn::init::ones_(t);               // deterministic initialisers still work
    EXPECT_TRUE(equal(t, ones({3, 3})));
    nn::BatchNorm2d bn(3);
    EXPECT_TRUE(equal(bn->weight, ones({3})));
  }
  EXPECT_FALSE(nn::init::SkipInitGuard::active());
  EXPECT_GT(max_abs(nn::Linear(4, 3)->weight), 0);
}

TEST(Init, WorksOnParametersWithoutRecordingHistory) {
  nn::Linear fc(3, 3);
  nn::init::kaiming_normal_(fc->weight);
  nn::init::zeros_(fc->bias);
  EXPECT_TRUE(fc->weight.is_leaf());
  EXPECT_TRUE(fc->weight.requires_grad());
  EXPECT_EQ(max_abs(fc->bias), 0);
}

}  // namespace
