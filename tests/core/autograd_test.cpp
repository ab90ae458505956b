// The autograd engine: backward and its seeds, accumulation, retain_graph,
// detach/NoGradGuard, gradients through views and broadcasting, graphs that
// fan out and in, retain_grad, saved tensors (release and version checks),
// in-place rules, and autograd::grad.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "striate/striate.h"

using namespace striate;
using autograd::SavedTensor;

namespace {

Tensor f64(std::vector<double> v, const Shape& shape) { return from_vector(v, shape); }
Tensor leaf(std::vector<double> v, const Shape& shape) { return f64(std::move(v), shape).requires_grad_(); }
std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

bool message_contains(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
  } catch (const Error& e) {
    const bool found = std::string(e.what()).find(needle) != std::string::npos;
    if (!found) ADD_FAILURE() << "message: " << e.what();
    return found;
  }
  ADD_FAILURE() << "no exception";
  return false;
}

// out = scale * in, with a backward written here, so that engine tests do not
// depend on any op's formula. Saves `in` to exercise SavedTensor.
Tensor scaled(const Tensor& in, double scale) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = in.clone();
    out.mul_(scale);
  }
  if (autograd::any_requires_grad({in})) {
    SavedTensor saved(in);
    autograd::record("ScaledBackward", {in}, {out}, [saved, scale](const TensorList& g) {
      saved.unpack("scaled");  // checks the version
      return TensorList{g[0] * scale};
    });
  }
  return out;
}

}  // namespace

// ---- backward and its seed ----------------------------------------------------------

TEST(Autograd, BackwardOnAScalarNeedsNoGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = (x * x).sum();
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  y.backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(x.grad().dtype(), kDouble);

  // A one-element tensor of any shape counts as a scalar; views only, no arithmetic.
  Tensor s = leaf({5}, {1, 1});
  s.view({}).backward();
  EXPECT_EQ(values(s.grad()), (std::vector<double>{1}));
}

TEST(Autograd, NonScalarOutputsNeedAnExplicitGradient) {
  Tensor x = leaf({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor y = x.t();  // [3, 2]
  EXPECT_TRUE(message_contains([&] { y.backward(); }, "[3, 2]"));
  EXPECT_THROW(y.backward(), AutogradError);
  EXPECT_THROW(y.backward(zeros({2, 3}, kDouble)), ShapeError);  // the gradient must have y's shape
  y.backward(f64({10, 11, 12, 13, 14, 15}, {3, 2}));
  // x.grad[i][j] = g[j][i]
  EXPECT_EQ(values(x.grad()), (std::vector<double>{10, 12, 14, 11, 13, 15}));
  EXPECT_EQ(x.grad().sizes(), (Shape{2, 3}));
}

TEST(Autograd, BackwardNeedsATensorThatRequiresGrad) {
  Tensor c = f64({1, 2}, {2});
  EXPECT_THROW(c.backward(ones({2}, kDouble)), AutogradError);
  EXPECT_THROW(autograd::grad({c}, {c}), AutogradError);
}

TEST(Autograd, BackwardOnALeafWritesACopyOfTheGradient) {
  Tensor x = leaf({1, 2}, {2});
  Tensor g = f64({3, 4}, {2});
  x.backward(g);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 4}));
  g.fill_(0);  // the caller's seed is not aliased by .grad()
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 4}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, 2, 3}, {3});
  x.clone().backward(f64({1, 1, 1}, {3}));
  x.clone().backward(f64({0.5, 2, -1}, {3}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1.5, 3, 0}));
  // Zeroing the gradient, as an optimizer does, starts afresh.
  x.mutable_grad().zero_();
  x.clone().backward(f64({1, 2, 3}, {3}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 2, 3}));
  x.mutable_grad() = Tensor();
  x.clone().backward(f64({7, 7, 7}, {3}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{7, 7, 7}));
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * x;
  Tensor g = ones({2}, kDouble);
  y.backward(g, /*retain_graph=*/true);
  y.backward(g);
  EXPECT_EQ(values(x.grad()), (std::vector<double>{4, 8}));
  EXPECT_TRUE(message_contains([&] { y.backward(g); }, "a second time"));
  EXPECT_THROW(y.backward(g), AutogradError);

  // The same through the engine alone.
  Tensor a = leaf({1}, {1});
  Tensor b = scaled(a, 3);
  b.backward(ones({1}, kDouble), true);
  b.backward(ones({1}, kDouble));
  EXPECT_EQ(values(a.grad()), (std::vector<double>{6}));
  EXPECT_THROW(b.backward(ones({1}, kDouble)), AutogradError);
}

// ---- detach, NoGradGuard, requires_grad_ --------------------------------------------

TEST(Autograd, DetachSharesDataButNotHistory) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x.narrow(0, 1, 2);
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_EQ(d.storage(), x.storage());
  EXPECT_EQ(d.storage_offset(), 1);
  EXPECT_EQ(values(d), (std::vector<double>{2, 3}));
  EXPECT_FALSE((d * 2).requires_grad());
  // detach_() cuts a non-leaf (not a view) from its graph in place.
  Tensor z = x * 2;
  z.detach_();
  EXPECT_FALSE(z.requires_grad());
  EXPECT_TRUE(z.is_leaf());
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_TRUE(GradMode::is_enabled());
  {
    NoGradGuard guard;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor v = x.view({2, 1});
    Tensor c = x.clone();
    Tensor m = x * x;
    for (const Tensor& t : {v, c, m}) {
      EXPECT_FALSE(t.requires_grad());
      EXPECT_EQ(t.grad_fn(), nullptr);
      EXPECT_TRUE(t.is_leaf());
    }
    {
      NoGradGuard nested;
    }
    EXPECT_FALSE(GradMode::is_enabled());  // the inner guard restores "off"
    x.mul_(2);  // a leaf may be updated in place with recording off
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_EQ(values(x), (std::vector<double>{2, 4}));
  EXPECT_TRUE(x.view({2, 1}).requires_grad());
}

TEST(Autograd, RequiresGradFlags) {
  Tensor x = f64({1, 2}, {2});
  EXPECT_FALSE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  x.requires_grad_();
  EXPECT_TRUE(x.requires_grad());
  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
  x.set_requires_grad(true);
  Tensor y = x.clone();
  EXPECT_FALSE(y.is_leaf());
  EXPECT_NE(y.grad_fn(), nullptr);
  EXPECT_FALSE(y.grad_fn()->name().empty());
  EXPECT_THROW(y.requires_grad_(false), AutogradError);  // only leaves can change the flag
  EXPECT_NO_THROW(y.requires_grad_(true));                // a no-op, as in PyTorch
  EXPECT_THROW(zeros({2}, kLong).requires_grad_(), DTypeError);
  EXPECT_THROW(zeros({2}, kBool).requires_grad_(), DTypeError);
  EXPECT_NO_THROW(zeros({2}, kHalf).requires_grad_());
  // Ops on tensors that need no grad record nothing.
  EXPECT_EQ((f64({1}, {1}) * 2).grad_fn(), nullptr);
}

// ---- gradients through views and broadcasting ---------------------------------------

TEST(Autograd, GradientsFlowThroughViewChains) {
  // x[i][j][k] (2x3x4) -> permute(2,0,1)[k][i][j] -> every other k from 1
  // -> j == 1 -> [a][i] = x[i][1][1 + 2a] -> unsqueeze + expand to 3 copies.
  std::vector<double> xv(24);
  for (int i = 0; i < 24; ++i) xv[i] = i;
  Tensor x = leaf(xv, {2, 3, 4});
  Tensor w = x.permute({2, 0, 1}).slice(0, 1, 4, 2).select(2, 1);  // [2 (a), 2 (i)]
  EXPECT_EQ(values(w), (std::vector<double>{5, 17, 7, 19}));
  Tensor e = w.unsqueeze(0).expand({3, 2, 2});
  std::vector<double> gv(12);
  for (int r = 0; r < 3; ++r)
    for (int a = 0; a < 2; ++a)
      for (int i = 0; i < 2; ++i) gv[r * 4 + a * 2 + i] = 100 * r + 10 * a + i + 1;
  e.backward(f64(gv, {3, 2, 2}));
  std::vector<double> expected(24, 0);
  for (int i = 0; i < 2; ++i)
    for (int a = 0; a < 2; ++a) {
      double sum = 0;
      for (int r = 0; r < 3; ++r) sum += gv[r * 4 + a * 2 + i];
      expected[i * 12 + 1 * 4 + (1 + 2 * a)] = sum;
    }
  EXPECT_EQ(values(x.grad()), expected);
}

TEST(Autograd, GradientsFlowThroughReshapesAndSplits) {
  Tensor x = leaf({0, 1, 2, 3, 4, 5}, {2, 3});
  // reshape of a transpose copies; the gradient still comes back in x's layout.
  Tensor r = x.t().reshape({6});  // x00 x10 x01 x11 x02 x12
  r.backward(f64({1, 2, 3, 4, 5, 6}, {6}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 3, 5, 2, 4, 6}));

  Tensor y = leaf({0, 1, 2, 3, 4, 5}, {6});
  auto parts = y.split(4);  // [0..3], [4, 5]
  parts[1].backward(f64({7, 8}, {2}));
  EXPECT_EQ(values(y.grad()), (std::vector<double>{0, 0, 0, 0, 7, 8}));
  y.view({2, 3}).narrow(1, 1, 1).squeeze().flatten().backward(f64({1, 1}, {2}));
  EXPECT_EQ(values(y.grad()), (std::vector<double>{0, 1, 0, 0, 8, 8}));
  // Overlapping windows add up.
  Tensor z = leaf({1, 2, 3, 4}, {4});
  z.as_strided({3, 2}, {1, 1}).backward(ones({3, 2}, kDouble));
  EXPECT_EQ(values(z.grad()), (std::vector<double>{1, 2, 2, 1}));
  // Channels-last copies and dtype conversions route the gradient back too.
  Tensor c = leaf(std::vector<double>(24, 1), {1, 2, 3, 4});
  Tensor nhwc = c.contiguous(MemoryFormat::ChannelsLast).to(kFloat);
  std::vector<double> gv(24);
  for (int i = 0; i < 24; ++i) gv[i] = i;
  nhwc.backward(f64(gv, {1, 2, 3, 4}).to(kFloat));
  EXPECT_EQ(c.grad().dtype(), kDouble);
  EXPECT_EQ(values(c.grad()), gv);
}

TEST(Autograd, BroadcastingSumsTheGradientBack) {
  Tensor b = leaf({1, 2, 3}, {3});
  Tensor m = f64({1, 10, 100, 2, 20, 200}, {2, 3});
  Tensor y = b * m;  // b broadcast over rows
  y.backward(ones({2, 3}, kDouble));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{3, 30, 300}));

  Tensor s = leaf({2}, {1});
  s.expand({2, 3}).backward(f64({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(values(s.grad()), (std::vector<double>{21}));
}

// ---- graph shapes ----------------------------------------------------------------------

TEST(Autograd, ATensorUsedTwiceGetsTheSumOfBothGradients) {
  Tensor x = leaf({0.5, -1, 2}, {3});
  Tensor y = x * 3;
  Tensor z = y.exp() + y * y;  // dz/dx = 3 exp(3x) + 18 x
  z.backward(ones({3}, kDouble));
  std::vector<double> got = values(x.grad());
  const double xs[] = {0.5, -1, 2};
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(got[i], 3 * std::exp(3 * xs[i]) + 18 * xs[i], 1e-9);

  // The same diamond built from views: both halves share x[1].
  Tensor v = leaf({1, 2, 3}, {3});
  Tensor w = v.clone();
  autograd::run_backward({w.narrow(0, 0, 2), w.narrow(0, 1, 2)}, {f64({1, 10}, {2}), f64({100, 1000}, {2})}, false);
  EXPECT_EQ(values(v.grad()), (std::vector<double>{1, 110, 1000}));
}

TEST(Autograd, APathThatYieldsNoGradientDoesNotBlockOthers) {
  // cut(b) passes no gradient to b, so b's node receives nothing; x must
  // still get the gradient of the direct path once that node is passed.
  Tensor x = leaf({1, 2}, {2});
  Tensor b = x.clone();
  Tensor cut;
  {
    NoGradGuard no_grad;
    cut = b.clone();
  }
  autograd::record("CutBackward", {b}, {cut}, [](const TensorList&) { return TensorList{Tensor()}; });
  Tensor out = cut + x;
  out.backward(ones({2}, kDouble));
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(values(x.grad()), (std::vector<double>{1, 1}));
}

TEST(Autograd, UnusedOutputsOfAMultiOutputNodeGetZeroGradients) {
  Tensor x = leaf({1, 2}, {2});
  Tensor first, second;
  {
    NoGradGuard no_grad;
    first = x.clone();
    second = x.clone();
  }
  Tensor seen_second;
  autograd::record("TwoOutputsBackward", {x}, {first, second}, [&seen_second](const TensorList& g) {
    seen_second = g[1];
    return TensorList{g[0] + g[1] * 2};
  });
  first.backward(f64({3, 4}, {2}));
  ASSERT_TRUE(seen_second.defined());
  EXPECT_EQ(values(seen_second), (std::vector<double>{0, 0}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 4}));
}

TEST(Autograd, GradientsHaveTheDTypeOfTheirTensor) {
  Tensor x = from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
  Tensor y = x.to(kDouble);
  y.backward(f64({0.5, 0.25}, {2}));
  EXPECT_EQ(x.grad().dtype(), kFloat);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0.5f, 0.25f}));
  // A seed of another dtype is converted to the root's.
  Tensor z = leaf({1, 2}, {2});
  z.clone().backward(from_vector(std::vector<float>{1, 2}, {2}));
  EXPECT_EQ(z.grad().dtype(), kDouble);
}

// ---- retain_grad ----------------------------------------------------------------------

TEST(Autograd, RetainGradKeepsANonLeafGradient) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x * 2;
  Tensor u = x * 3;  // not retained
  EXPECT_FALSE(y.retains_grad());
  y.retain_grad();
  EXPECT_TRUE(y.retains_grad());
  Tensor z = (y * y + u).sum();
  z.backward();
  EXPECT_EQ(values(y.grad()), (std::vector<double>{4, 8, 12}));  // 2y
  EXPECT_EQ(values(x.grad()), (std::vector<double>{11, 19, 27}));  // 4y + 3
  EXPECT_FALSE(u.grad().defined());
  EXPECT_FALSE(z.grad().defined());
  EXPECT_THROW(f64({1}, {1}).retain_grad(), AutogradError);
  Tensor l = leaf({1}, {1});
  l.retain_grad();  // a leaf keeps its gradient anyway
  EXPECT_FALSE(l.retains_grad());
}

// ---- saved tensors ----------------------------------------------------------------------

TEST(Autograd, SavedTensorsAreReleasedAfterBackward) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor a = x.clone();
  std::weak_ptr<Storage> saved_storage = a.storage();
  Tensor z = a * a;  // the product saves its operands for backward
  a = Tensor();
  EXPECT_FALSE(saved_storage.expired()) << "the graph holds what backward needs";
  z.backward(ones({3}, kDouble));
  EXPECT_TRUE(saved_storage.expired()) << "backward freed the saved operands";
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 4, 6}));

  // With retain_graph they stay until the graph itself goes.
  Tensor b = x.clone();
  std::weak_ptr<Storage> kept = b.storage();
  Tensor w = b * b;
  b = Tensor();
  w.backward(ones({3}, kDouble), /*retain_graph=*/true);
  EXPECT_FALSE(kept.expired());
  w = Tensor();
  EXPECT_TRUE(kept.expired());

  // The same through the engine alone.
  Tensor big = zeros({1 << 16}, kDouble).requires_grad_();
  Tensor mid = big.clone();
  std::weak_ptr<Storage> mid_storage = mid.storage();
  Tensor out = scaled(mid, 2);
  mid = Tensor();
  EXPECT_FALSE(mid_storage.expired());
  out.backward(ones({1 << 16}, kDouble));
  EXPECT_TRUE(mid_storage.expired());
}

TEST(Autograd, DroppingTheOutputFreesTheWholeGraph) {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = x;
  std::vector<std::weak_ptr<Storage>> intermediates;
  for (int i = 0; i < 200; ++i) {
    h = h * 1.01 + h.exp() * 0;  // every step saves something
    intermediates.push_back(h.storage());
  }
  std::weak_ptr<autograd::Node> root = h.grad_fn();
  EXPECT_FALSE(root.expired());
  h = Tensor();
  EXPECT_TRUE(root.expired());
  for (const auto& w : intermediates) EXPECT_TRUE(w.expired());
}

TEST(Autograd, ModifyingASavedTensorInPlaceIsDetected) {
  Tensor x = leaf({1, 2}, {2});
  {
    Tensor y = x.clone();
    Tensor z = y * y;  // saves y
    {
      NoGradGuard no_grad;
      y.add_(1);
    }
    EXPECT_TRUE(message_contains([&] { z.backward(ones({2}, kDouble)); }, "modified by an in-place operation"));
  }
  {
    // Through a view and through a detached alias: they share the version counter.
    Tensor y = x.clone();
    Tensor z = y * y;
    y.detach().narrow(0, 0, 1).zero_();
    EXPECT_THROW(z.backward(ones({2}, kDouble)), AutogradError);
  }
  {
    // A recorded in-place op on the saved tensor itself.
    Tensor y = x.clone();
    Tensor z = y * y;
    y.mul_(2);
    EXPECT_THROW(z.backward(ones({2}, kDouble)), AutogradError);
  }
  {
    // The engine alone, with fill_.
    Tensor y = x.clone();
    Tensor z = scaled(y, 2);
    y.detach().fill_(0);
    EXPECT_THROW(z.backward(ones({2}, kDouble)), AutogradError);
  }
  {
    // Writes to another tensor are fine.
    Tensor y = x.clone();
    Tensor z = scaled(y, 2);
    x.clone().detach().fill_(0);
    EXPECT_NO_THROW(z.backward(ones({2}, kDouble)));
  }
}

TEST(Autograd, InPlaceOnALeafThatRequiresGradIsAnError) {
  Tensor w = leaf({1, 2}, {2});
  EXPECT_THROW(w.fill_(0), AutogradError);
  EXPECT_THROW(w.zero_(), AutogradError);
  EXPECT_THROW(w.copy_(f64({3, 4}, {2})), AutogradError);
  EXPECT_THROW(w.mul_(2), AutogradError);
  EXPECT_THROW(w.narrow(0, 0, 1).fill_(0), Error);  // nor through a view of it
  EXPECT_EQ(values(w), (std::vector<double>{1, 2}));
  {
    NoGradGuard no_grad;  // an optimizer step
    w.fill_(5);
  }
  EXPECT_EQ(values(w), (std::vector<double>{5, 5}));
  // A non-leaf may be overwritten: copy_ records the source's history.
  Tensor src = leaf({3, 4}, {2});
  Tensor buf = zeros({2}, kDouble);
  buf.copy_(src);
  EXPECT_TRUE(buf.requires_grad());
  buf.backward(f64({1, 2}, {2}));
  EXPECT_EQ(values(src.grad()), (std::vector<double>{1, 2}));
}

// ---- autograd::grad ------------------------------------------------------------------

TEST(Autograd, GradReturnsGradientsWithoutTouchingDotGrad) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x * x;
  TensorList g = autograd::grad({y}, {x}, {ones({3}, kDouble)});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(values(g[0]), (std::vector<double>{2, 4, 6}));
  EXPECT_FALSE(x.grad().defined());

  // Implicit seed for a scalar; gradients for an intermediate and a leaf at once.
  Tensor a = leaf({1, 2}, {2});
  Tensor b = a * 3;
  Tensor c = (b * b).sum();
  TensorList gs = autograd::grad({c}, {b, a}, {}, /*retain_graph=*/true);
  EXPECT_EQ(values(gs[0]), (std::vector<double>{6, 12}));   // 2b
  EXPECT_EQ(values(gs[1]), (std::vector<double>{18, 36}));  // 18a
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  // The retained graph can still be backpropagated.
  c.backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{18, 36}));
}

TEST(Autograd, GradErrors) {
  Tensor x = leaf({1, 2}, {2});
  Tensor unused = leaf({1}, {1});
  Tensor y = x * 2;
  EXPECT_THROW(autograd::grad({y}, {x}), AutogradError);  // non-scalar without grad_outputs
  EXPECT_THROW(autograd::grad({y}, {x, unused}, {ones({2}, kDouble)}, true), AutogradError);
  TensorList g = autograd::grad({y}, {x, unused}, {ones({2}, kDouble)}, true, /*allow_unused=*/true);
  EXPECT_EQ(values(g[0]), (std::vector<double>{2, 2}));
  EXPECT_FALSE(g[1].defined());
  EXPECT_THROW(autograd::grad({y}, {f64({1}, {1})}, {ones({2}, kDouble)}), AutogradError);
  EXPECT_THROW(autograd::grad({y}, {x}, {ones({3}, kDouble)}), ShapeError);
  EXPECT_THROW(autograd::run_backward({y}, {}, false), ValueError);
}
