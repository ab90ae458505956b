// nn::Module: names of parameters, buffers and children through nested
// containers, state_dict order and strict loading, train/eval, to(dtype),
// to(ChannelsLast), zero_grad, printing, containers, and a user-defined module.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "striate/striate.h"

using namespace striate;

namespace {

std::vector<std::string> keys(const nn::NamedList<Tensor>& list) {
  std::vector<std::string> out;
  for (const auto& [name, t] : list) out.push_back(name);
  return out;
}

// A user-defined module, LibTorch style: members are holders, registered in
// the constructor; forward composes them.
struct NetImpl : nn::Module {
  NetImpl() {
    features = register_module("features", nn::Sequential(nn::Linear(4, 3), nn::ReLU(),
                                                          nn::Sequential(nn::Linear(3, 2), nn::BatchNorm1d(2))));
    classifier = register_module("classifier", nn::Linear(2, 1));
  }
  Tensor forward(const Tensor& x) override { return classifier(features(x)); }
  nn::Sequential features{nullptr};
  nn::Linear classifier{nullptr};
};
STRIATE_MODULE(Net);

// Registers a child before its own parameter and buffer, to pin the order.
struct OrderImpl : nn::Module {
  OrderImpl() : nn::Module("Order") {
    child = register_module("child", nn::BatchNorm1d(2));
    scale = register_parameter("scale", ones({2}));
    register_buffer("steps", zeros({}, TensorOptions(kLong)));
  }
  nn::BatchNorm1d child{nullptr};
  Tensor scale;
};
STRIATE_MODULE(Order);

TEST(Module, NamedParametersThroughNestedSequentials) {
  Net net;
  EXPECT_EQ(keys(net->named_parameters()),
            (std::vector<std::string>{"features.0.weight", "features.0.bias", "features.2.0.weight",
                                      "features.2.0.bias", "features.2.1.weight", "features.2.1.bias",
                                      "classifier.weight", "classifier.bias"}));
  EXPECT_EQ(keys(net->named_buffers()),
            (std::vector<std::string>{"features.2.1.running_mean", "features.2.1.running_var",
                                      "features.2.1.num_batches_tracked"}));
  EXPECT_EQ(net->parameters().size(), 8u);
  EXPECT_EQ(net->parameters(/*recurse=*/false).size(), 0u);
  EXPECT_EQ(net->parameter_count(), 4 * 3 + 3 + 3 * 2 + 2 + 2 + 2 + 2 + 1);
  EXPECT_EQ(net->named_children().size(), 2u);
  EXPECT_TRUE(net->named_parameters()[0].second.is_same(net->features->at<nn::LinearImpl>(0).weight));

  std::vector<std::string> module_names;
  for (const auto& [name, m] : net->named_modules()) module_names.push_back(name + ":" + m->type_name());
  EXPECT_EQ(module_names, (std::vector<std::string>{"" ":Net", "features:Sequential", "features.0:Linear",
                                                    "features.1:ReLU", "features.2:Sequential",
                                                    "features.2.0:Linear", "features.2.1:BatchNorm1d",
                                                    "classifier:Linear"}));
}

TEST(Module, TypeNameComesFromTheClassWhenNotGiven) {
  Net net;
  EXPECT_EQ(net->type_name(), "Net");
  Order order;
  EXPECT_EQ(order->type_name(), "Order");
}

TEST(Module, StateDictOrderIsOwnParametersThenOwnBuffersThenChildren) {
  Order m;
  EXPECT_EQ(keys(m->state_dict()),
            (std::vector<std::string>{"scale", "steps", "child.weight", "child.bias", "child.running_mean",
                                      "child.running_var", "child.num_batches_tracked"}));
  // named_parameters is pre-order too: own first, then children.
  EXPECT_EQ(keys(m->named_parameters()), (std::vector<std::string>{"scale", "child.weight", "child.bias"}));
  // The state_dict shares storage with the module (as PyTorch's does).
  EXPECT_TRUE(m->state_dict()[0].second.is_same(m->scale));
}

TEST(Module, SharedLayersAreListedOnceButKeepEveryStateDictKey) {
  nn::Linear shared(2, 2);
  nn::Sequential seq(shared, nn::ReLU(), shared);
  EXPECT_EQ(keys(seq->named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(seq->parameter_count(), 6);
  EXPECT_EQ(keys(seq->state_dict()), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(seq->named_modules().size(), 3u);  // the Sequential, the Linear once, the ReLU
}

TEST(Module, LoadStateDictCopiesValuesByName) {
  manual_seed(1);
  Net a, b;
  {
    NoGradGuard g;
    a->features->at<nn::SequentialImpl>(2).at<nn::BatchNorm1dImpl>(1).running_mean.fill_(0.5);
  }
  b->load_state_dict(a->state_dict());
  auto sa = a->state_dict(), sb = b->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(equal(sa[i].second, sb[i].second)) << sa[i].first;
    EXPECT_FALSE(sa[i].second.is_same(sb[i].second));
  }
  // Values are copied in place: b's parameters keep their identity.
  Tensor w = b->classifier->weight;
  b->load_state_dict(Net()->state_dict());
  EXPECT_TRUE(w.is_same(b->classifier->weight));
  EXPECT_TRUE(w.requires_grad());
}

TEST(Module, LoadStateDictConvertsDtype) {
  nn::Linear a(3, 2), b(3, 2);
  a->to(kDouble);
  b->load_state_dict(a->state_dict());
  EXPECT_EQ(b->weight.dtype(), kFloat);
  EXPECT_TRUE(allclose(b->weight.to(kDouble), a->weight));
}

// to(ChannelsLast) relays the conv weights (OHWI), leaves 1-D and 2-D
// tensors alone, computes what the NCHW model computes, and training keeps
// the layout: the weight gradients come back channels last, and so do the
// updated weights. A checkpoint of it loads into an NCHW model.
TEST(Module, ToChannelsLastRelaysConvWeightsAndTrainsInPlace) {
  manual_seed(8);
  const auto make = [] {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).padding(1)), nn::BatchNorm2d(8), nn::ReLU(),
                          nn::Conv2d(nn::Conv2dOptions(8, 4, 3).stride(2)), nn::Flatten(), nn::Linear(4 * 3 * 3, 5));
  };
  nn::Sequential nchw = make(), cl = make();
  cl->load_state_dict(nchw->state_dict());
  const Tensor conv_weight = cl->named_parameters()[0].second;
  cl->to(MemoryFormat::ChannelsLast);
  for (const auto& [name, t] : cl->named_parameters()) {
    if (t.dim() == 4) EXPECT_TRUE(t.is_contiguous(MemoryFormat::ChannelsLast)) << name;
    else EXPECT_TRUE(t.is_contiguous()) << name;
  }
  EXPECT_TRUE(conv_weight.is_contiguous(MemoryFormat::ChannelsLast)) << "relaid in place, not replaced";

  const Tensor x = randn({2, 3, 7, 7}), labels = tensor<int64_t>({1, 4});
  optim::SGD opt_nchw(nchw->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::SGD opt_cl(cl->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  for (int step = 0; step < 2; ++step) {
    opt_nchw.zero_grad();
    opt_cl.zero_grad();
    const Tensor loss_nchw = cross_entropy(nchw(x), labels);
    const Tensor loss_cl = cross_entropy(cl(x.contiguous(MemoryFormat::ChannelsLast)), labels);
    EXPECT_NEAR(loss_cl.item<double>(), loss_nchw.item<double>(), 1e-5);
    loss_nchw.backward();
    loss_cl.backward();
    EXPECT_TRUE(conv_weight.grad().is_contiguous(MemoryFormat::ChannelsLast));
    opt_nchw.step();
    opt_cl.step();
  }
  EXPECT_TRUE(conv_weight.is_contiguous(MemoryFormat::ChannelsLast));
  const auto trained = nchw->state_dict();
  const auto trained_cl = cl->state_dict();
  for (size_t i = 0; i < trained.size(); ++i)
    EXPECT_TRUE(allclose(trained_cl[i].second, trained[i].second, 1e-4, 1e-5)) << trained[i].first;

  nn::Sequential reloaded = make();
  reloaded->load_state_dict(cl->state_dict());
  EXPECT_TRUE(allclose(reloaded->named_parameters()[0].second, conv_weight));
  cl->to(MemoryFormat::Contiguous);
  EXPECT_TRUE(conv_weight.is_contiguous());
  EXPECT_THROW(cl->to(MemoryFormat::Preserve), ValueError);
}

TEST(Module, StrictLoadListsEveryProblemAndChangesNothing) {
  nn::Sequential model(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  const Tensor before = model->state_dict()[0].second.clone();
  nn::StateDict state = model->state_dict();
  for (auto& [name, t] : state) t = t.detach().clone().fill_(7);
  state.erase(state.begin() + 1);                                    // 0.bias missing
  state.emplace_back("extra.weight", zeros({1}));                     // unexpected
  auto entry = [&](const std::string& key) -> Tensor& {
    for (auto& [name, t] : state)
      if (name == key) return t;
    throw std::runtime_error("no key " + key);
  };
  entry("2.weight") = zeros({2, 4});  // the wrong shape
  try {
    model->load_state_dict(state);
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing key(s): \"0.bias\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected key(s): \"extra.weight\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("size mismatch for \"2.weight\": [2, 4] in the state dict, [2, 3] in the model"),
              std::string::npos)
        << msg;
  }
  EXPECT_TRUE(equal(model->state_dict()[0].second, before));  // 0.weight was valid, but nothing is copied

  // Non-strict: missing and unexpected keys are ignored, the rest is loaded;
  // a shape mismatch is still an error (as in PyTorch).
  EXPECT_THROW(model->load_state_dict(state, /*strict=*/false), ValueError);
  entry("2.weight") = full({2, 3}, 7.0);
  model->load_state_dict(state, /*strict=*/false);
  EXPECT_TRUE(equal(model->state_dict()[0].second, full({3, 4}, 7.0)));
  EXPECT_FALSE(equal(model->state_dict()[1].second, full({3}, 7.0)));  // 0.bias untouched
  EXPECT_THROW(model->load_state_dict(state), ValueError);              // strict again
}

TEST(Module, TrainAndEvalPropagate) {
  Net net;
  EXPECT_TRUE(net->is_training());
  net->eval();
  for (const auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  for (const auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  net->features->eval();
  EXPECT_TRUE(net->is_training());
  EXPECT_FALSE((*net->features)[2]->is_training());
  EXPECT_TRUE(net->classifier->is_training());
}

TEST(Module, ToDtypeKeepsHandlesValid) {
  Net net;
  Tensor w = net->classifier->weight;  // obtained before to()
  Tensor running = net->named_buffers()[0].second;
  const std::vector<float> values = w.to_vector<float>();
  net->to(kDouble);
  EXPECT_EQ(w.dtype(), kDouble);
  EXPECT_EQ(running.dtype(), kDouble);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  EXPECT_EQ(net->named_buffers()[2].second.dtype(), kLong);  // num_batches_tracked stays an integer
  const std::vector<double> converted = w.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(converted[i], static_cast<double>(values[i]));
  for (const auto& p : net->parameters()) EXPECT_EQ(p.dtype(), kDouble);

  // A forward and backward in f64 reach the same tensors.
  net->eval();
  Tensor out = net(ones({2, 4}, TensorOptions(kDouble)));
  EXPECT_EQ(out.dtype(), kDouble);
  out.sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().dtype(), kDouble);
  EXPECT_THROW(net->to(kLong), DTypeError);
}

TEST(Module, ToDtypeConvertsExistingGradients) {
  nn::Linear fc(2, 2);
  fc(ones({1, 2})).sum().backward();
  fc->to(kDouble);
  EXPECT_EQ(fc->weight.grad().dtype(), kDouble);
}

TEST(Module, ZeroGrad) {
  Net net;
  net->eval();
  net(ones({3, 4})).sum().backward();
  for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  net->zero_grad(/*set_to_none=*/false);
  for (const auto& p : net->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
  }
  net->zero_grad();
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, PrintsLikePyTorch) {
  Net net;
  std::ostringstream os;
  os << *net;
  EXPECT_EQ(os.str(),
            "Net(\n"
            "  (features): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=3, bias=true)\n"
            "    (1): ReLU()\n"
            "    (2): Sequential(\n"
            "      (0): Linear(in_features=3, out_features=2, bias=true)\n"
            "      (1): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)\n"
            "    )\n"
            "  )\n"
            "  (classifier): Linear(in_features=2, out_features=1, bias=true)\n"
            ")");
}

TEST(Module, RegistrationErrors) {
  struct BadImpl : nn::Module {
    void add(const std::string& name) { register_parameter(name, zeros({1})); }
    void add_child(const std::string& name) { register_module(name, nn::ReLU()); }
  };
  BadImpl bad;
  bad.add("w");
  EXPECT_THROW(bad.add("w"), ValueError);
  EXPECT_THROW(bad.add_child("w"), ValueError);
  EXPECT_THROW(bad.add("a.b"), ValueError);
  EXPECT_THROW(bad.add(""), ValueError);
}

TEST(Module, NonTrainableParametersAreCountedApart) {
  struct FrozenImpl : nn::Module {
    FrozenImpl() {
      register_parameter("frozen", zeros({5}), /*requires_grad=*/false);
      register_parameter("live", zeros({3}));
    }
  };
  FrozenImpl m;
  EXPECT_EQ(m.parameter_count(), 8);
  EXPECT_EQ(m.parameter_count(/*trainable_only=*/true), 3);
}

TEST(Sequential, AcceptsModulesAndLambdas) {
  nn::Sequential seq(nn::Linear(2, 2), [](const Tensor& x) { return x * 2.0; }, nn::ReLU());
  ASSERT_EQ(seq->size(), 3u);
  EXPECT_EQ((*seq)[1]->type_name(), "Functional");
  auto& fc = seq->at<nn::LinearImpl>(0);
  Tensor x = from_vector<float>({1, -2, 3, 0.5}, {2, 2});
  Tensor expected = relu(linear(x, fc.weight, fc.bias) * 2.0);
  EXPECT_TRUE(allclose(seq(x), expected));
  EXPECT_THROW(seq->at<nn::ReLUImpl>(0), ValueError);
  EXPECT_THROW((*seq)[3], IndexError);

  seq->push_back("named", nn::Tanh());
  EXPECT_EQ(seq->named_children().back().first, "named");
  int calls = 0;
  for (const auto& m : *seq) calls += m != nullptr;
  EXPECT_EQ(calls, 4);
}

TEST(Sequential, EmptyIsTheIdentity) {
  nn::Sequential seq;
  Tensor x = ones({2});
  EXPECT_TRUE(seq(x).is_same(x));
}

TEST(ModuleList, HoldsAndNamesModules) {
  nn::ModuleList list;
  list->push_back(nn::Linear(2, 3));
  list->push_back(nn::Linear(3, 1));
  EXPECT_EQ(keys(list->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  EXPECT_THROW((*list)[2], IndexError);
  // A ModuleList has no forward of its own.
  EXPECT_THROW(list(ones({1, 2})), NotImplementedError);
}

TEST(ModuleHolder, ValueSyntaxSharesTheImplementation) {
  nn::Linear a(2, 2);
  nn::Linear b = a;  // a copy of the holder, not of the module
  EXPECT_EQ(a.ptr(), b.ptr());
  nn::Linear empty = nullptr;
  EXPECT_TRUE(empty.is_empty());
  std::shared_ptr<nn::Module> base = a;
  EXPECT_EQ(base->type_name(), "Linear");
}

TEST(ForwardObserver, SeesEveryCallInnermostFirst) {
  Net net;
  net->eval();
  std::vector<std::string> seen;
  {
    nn::ForwardObserverGuard guard(
        [&](const nn::Module& m, const Tensor&, const Tensor& out) { seen.push_back(m.type_name()); });
    net(ones({1, 4}));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Linear", "ReLU", "Linear", "BatchNorm1d", "Sequential", "Sequential",
                                            "Linear", "Net"}));
  seen.clear();
  net(ones({1, 4}));
  EXPECT_TRUE(seen.empty());  // the guard is gone
}

// A module whose forward takes two tensors: losses work this way.
TEST(Module, LossModulesTakeInputAndTarget) {
  nn::MSELoss loss;
  Tensor a = from_vector<float>({1, 2}, {2}), b = from_vector<float>({0, 0}, {2});
  EXPECT_FLOAT_EQ(loss(a, b).item<float>(), 2.5f);
  // The one-tensor forward (what Sequential would call) says it is not defined.
  EXPECT_THROW(static_cast<nn::Module&>(*loss)(a), NotImplementedError);
}

}  // namespace
