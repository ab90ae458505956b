// gradcheck itself: it passes correct gradients (views, copies, conversions,
// arithmetic), it FAILS wrong ones with a message that locates the error,
// it restores its inputs exactly, and it rejects inputs it cannot check.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "striate/striate.h"

using namespace striate;

namespace {

using Fn = std::function<Tensor(const TensorList&)>;

Tensor f64(std::vector<double> v, const Shape& shape) { return from_vector(v, shape); }

// Distinct, non-round values, so that a transposed or shifted gradient shows.
Tensor input(const Shape& shape, double offset = 0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.3 + offset + 0.17 * static_cast<double>(i) - 0.011 * (i % 5) * i;
  return from_vector(v, shape).requires_grad_();
}

// y = x * x with a backward chosen by the test: `factor` * g * x (2 is right).
Tensor square_with_backward(const Tensor& x, double factor) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = x * x;
  }
  if (autograd::any_requires_grad({x})) {
    autograd::SavedTensor saved(x);
    autograd::record("SquareBackward", {x}, {y}, [saved, factor](const TensorList& g) {
      return TensorList{g[0] * saved.unpack("square") * factor};
    });
  }
  return y;
}

std::string failure_message(const Fn& fn, const TensorList& inputs) {
  try {
    gradcheck(fn, inputs);
  } catch (const AutogradError& e) {
    return e.what();
  }
  ADD_FAILURE() << "gradcheck did not throw";
  return "";
}

std::vector<uint64_t> bit_patterns(const Tensor& t) {
  std::vector<uint64_t> bits;
  for (double v : t.to_vector<double>()) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    bits.push_back(b);
  }
  return bits;
}

}  // namespace

// ---- correct gradients pass -------------------------------------------------------

TEST(Gradcheck, PassesEveryViewOp) {
  std::vector<std::pair<const char*, Fn>> views = {
      {"view", [](const TensorList& v) { return v[0].view({4, -1}); }},
      {"reshape_copy", [](const TensorList& v) { return v[0].transpose(0, 2).reshape({-1}); }},
      {"permute", [](const TensorList& v) { return v[0].permute({2, 0, 1}); }},
      {"transpose", [](const TensorList& v) { return v[0].transpose(-1, 0); }},
      {"t", [](const TensorList& v) { return v[0][1].t(); }},
      {"narrow", [](const TensorList& v) { return v[0].narrow(2, 1, 2); }},
      {"slice_step", [](const TensorList& v) { return v[0].slice(2, 0, 4, 3); }},
      {"slice_negative", [](const TensorList& v) { return v[0].slice(1, -2); }},
      {"select", [](const TensorList& v) { return v[0].select(1, -1); }},
      {"squeeze", [](const TensorList& v) { return v[0].narrow(1, 0, 1).squeeze(); }},
      {"squeeze_dim", [](const TensorList& v) { return v[0].narrow(1, 2, 1).squeeze(1); }},
      {"unsqueeze", [](const TensorList& v) { return v[0].unsqueeze(1); }},
      {"expand", [](const TensorList& v) { return v[0].narrow(1, 0, 1).expand({3, 2, 3, 4}); }},
      {"flatten", [](const TensorList& v) { return v[0].flatten(1); }},
      {"as_strided", [](const TensorList& v) { return v[0].as_strided({5, 3}, {2, 1}, 1); }},
      {"split", [](const TensorList& v) { return v[0].split(2, 2)[1]; }},
      {"chunk", [](const TensorList& v) { return v[0].chunk(3, 1)[2]; }},
      {"clone", [](const TensorList& v) { return v[0].clone(); }},
      {"contiguous", [](const TensorList& v) { return v[0].transpose(0, 1).contiguous(); }},
      {"identity", [](const TensorList& v) { return v[0]; }},
  };
  for (auto& [name, fn] : views) EXPECT_TRUE(gradcheck(fn, {input({2, 3, 4})})) << name;
  Fn channels_last = [](const TensorList& v) { return v[0].contiguous(MemoryFormat::ChannelsLast); };
  EXPECT_TRUE(gradcheck(channels_last, {input({2, 3, 2, 2})}));
}

TEST(Gradcheck, PassesConversionsAndCopies) {
  // f64 -> f32 -> f64 loses precision: a larger step keeps the difference meaningful.
  GradcheckOptions coarse;
  coarse.eps = 1e-3;
  coarse.atol = 1e-3;
  coarse.rtol = 1e-2;
  Fn round_trip = [](const TensorList& v) { return v[0].to(kFloat).to(kDouble); };
  EXPECT_TRUE(gradcheck(round_trip, {input({3, 2})}, coarse));
  Fn to_float = [](const TensorList& v) { return v[0].t().to(kFloat); };  // an f32 output
  EXPECT_TRUE(gradcheck(to_float, {input({3, 2})}, coarse));
  Fn copy_into = [](const TensorList& v) {
    Tensor buf = zeros({2, 3}, kDouble);
    buf.copy_(v[0]);  // broadcast over rows
    return buf;
  };
  EXPECT_TRUE(gradcheck(copy_into, {input({3})}));
}

TEST(Gradcheck, PassesArithmeticThroughViewsAndBroadcasting) {
  Fn f = [](const TensorList& v) {
    Tensor a = v[0].permute({1, 0});           // [3, 2]
    Tensor b = v[1].unsqueeze(1);              // [3, 1], broadcast
    return (a * b).exp() / (a * a + 1) - b.expand({3, 2}) * 0.5;
  };
  EXPECT_TRUE(gradcheck(f, {input({2, 3}), input({3}, 0.1)}));
  Fn reduce = [](const TensorList& v) { return (v[0] * v[0].slice(1, 1)).sum({0}); };
  EXPECT_TRUE(gradcheck(reduce, {input({4, 2})}));
  Fn scalar_out = [](const TensorList& v) { return (v[0].t() * v[1]).sum(); };
  EXPECT_TRUE(gradcheck(scalar_out, {input({2, 2}), input({2}, 0.2)}));
}

TEST(Gradcheck, HandlesNonContiguousInputs) {
  Fn square = [](const TensorList& v) { return v[0] * v[0] + v[0].select(0, 0).unsqueeze(0); };
  // A non-contiguous view of a leaf, used as the input itself.
  Tensor base = input({3, 4});
  EXPECT_TRUE(gradcheck(square, {base.t()}));
  // A non-contiguous leaf: a detached transpose.
  EXPECT_TRUE(gradcheck(square, {input({3, 4}).detach().t().requires_grad_()}));
  // A strided slice with gaps between its elements.
  EXPECT_TRUE(gradcheck(square, {input({4, 6}).detach().slice(1, 0, 6, 2).requires_grad_()}));
  // A channels-last input.
  Tensor cl = input({1, 3, 2, 2}).detach().contiguous(MemoryFormat::ChannelsLast).requires_grad_();
  EXPECT_TRUE(gradcheck(square, {cl}));
}

TEST(Gradcheck, RestoresInputsBitForBit) {
  Tensor x = input({3, 4});
  Tensor view = x.detach().slice(1, 1, 4, 2).requires_grad_();
  const auto before = bit_patterns(x.detach());
  Fn fn = [](const TensorList& v) { return v[0].exp() * 3; };
  EXPECT_TRUE(gradcheck(fn, {view}));
  EXPECT_EQ(bit_patterns(x.detach()), before);
  // Also when the check fails midway.
  Fn wrong = [](const TensorList& v) { return square_with_backward(v[0], 1); };
  EXPECT_THROW(gradcheck(wrong, {view}), AutogradError);
  EXPECT_EQ(bit_patterns(x.detach()), before);
}

TEST(Gradcheck, LeavesGradAndGradModeAlone) {
  Tensor x = input({3});
  Fn fn = [](const TensorList& v) { return v[0] * v[0]; };
  EXPECT_TRUE(gradcheck(fn, {x}));
  EXPECT_FALSE(x.grad().defined());
  {
    NoGradGuard no_grad;  // gradcheck records its own graph regardless
    EXPECT_TRUE(gradcheck(fn, {x}));
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(Gradcheck, InputsThatDoNotMatter) {
  // The output ignores the input: both Jacobians are zero.
  Fn constant = [](const TensorList&) { return ones({2}, kDouble); };
  EXPECT_TRUE(gradcheck(constant, {input({3})}));
  // Only some inputs are checked; the others may be anything.
  Fn partial = [](const TensorList& v) { return v[0] * v[1].to(kDouble) + v[2]; };
  Tensor ints = tensor({int64_t{2}, int64_t{-3}});
  EXPECT_TRUE(gradcheck(partial, {input({2}), ints, input({2}, 1)}));
  EXPECT_TRUE(gradcheck(partial, {input({2}), ints, f64({1, 2}, {2})}));
  Fn zero_dim = [](const TensorList& v) { return v[0] * v[0]; };
  EXPECT_TRUE(gradcheck(zero_dim, {f64({1.5}, {}).requires_grad_()}));
  Fn empty_out = [](const TensorList& v) { return v[0].narrow(0, 0, 0); };
  EXPECT_TRUE(gradcheck(empty_out, {input({3})}));
}

// ---- wrong gradients fail -------------------------------------------------------------

TEST(Gradcheck, ASquareWithTheRightBackwardPasses) {
  Fn right = [](const TensorList& v) { return square_with_backward(v[0], 2); };
  EXPECT_TRUE(gradcheck(right, {f64({0.5, -3, 1.25}, {3}).requires_grad_()}));
}

TEST(Gradcheck, AWrongBackwardFailsAndIsLocated) {
  Fn wrong = [](const TensorList& v) { return square_with_backward(v[0], 1); };  // g * x instead of 2 g x
  Tensor x = f64({0.5, -3, 1.25}, {3}).requires_grad_();
  GradcheckOptions quiet;
  quiet.raise_exception = false;
  EXPECT_FALSE(gradcheck(wrong, {x}, quiet));
  EXPECT_THROW(gradcheck(wrong, {x}), AutogradError);
  // The worst entry is where |x| is largest: d y1 / d x1 = -6, but the backward says -3.
  const std::string msg = failure_message(wrong, {x});
  for (const char* part : {"input 0", "output element 1 [1]", "input element 1 [1]", "numerical -6", "analytical -3",
                           "3 of 9"})
    EXPECT_NE(msg.find(part), std::string::npos) << "missing \"" << part << "\" in: " << msg;
}

TEST(Gradcheck, NamesTheInputWhoseGradientIsWrong) {
  Fn f = [](const TensorList& v) { return v[0] * 2 + square_with_backward(v[1].t(), 1.5); };
  Tensor a = input({2, 3}), b = input({3, 2}, 0.5);
  const std::string msg = failure_message(f, {a, b});
  EXPECT_NE(msg.find("input 1 (shape [3, 2])"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("input 0"), std::string::npos) << msg;
  GradcheckOptions quiet;
  quiet.raise_exception = false;
  EXPECT_FALSE(gradcheck(f, {a, b}, quiet));
  // With b not requiring grad, only a is checked, and a's gradient is right.
  EXPECT_TRUE(gradcheck(f, {a, b.detach()}));
}

TEST(Gradcheck, ToleranceIsAtolPlusRtolTimesNumeric) {
  // A backward 0.5% off: outside rtol 1e-3, inside rtol 1e-2.
  Fn slightly_off = [](const TensorList& v) { return square_with_backward(v[0], 2 * 1.005); };
  Tensor x = f64({1, 2}, {2}).requires_grad_();
  GradcheckOptions strict, loose;
  strict.raise_exception = false;
  loose.rtol = 1e-2;
  EXPECT_FALSE(gradcheck(slightly_off, {x}, strict));
  EXPECT_TRUE(gradcheck(slightly_off, {x}, loose));
  // A backward that misses a small term (0.01, against a tolerance of about
  // 0.002 here) is caught.
  Fn missing_term = [](const TensorList& v) {
    return square_with_backward(v[0], 2) + v[0].detach() * 1e-2;  // the detached term has no gradient
  };
  EXPECT_FALSE(gradcheck(missing_term, {x}, strict));
  // A NaN gradient never matches.
  Fn nan_backward = [](const TensorList& v) {
    return square_with_backward(v[0], std::numeric_limits<double>::quiet_NaN());
  };
  EXPECT_FALSE(gradcheck(nan_backward, {x}, strict));
}

TEST(Gradcheck, AGradientOfTheWrongShapeIsAnError) {
  Fn bad_shape = [](const TensorList& v) {
    Tensor y;
    {
      NoGradGuard no_grad;
      y = v[0].clone();
    }
    autograd::record("BadShapeBackward", {v[0]}, {y},
                     [](const TensorList& g) { return TensorList{g[0].unsqueeze(0)}; });
    return y;
  };
  EXPECT_THROW(gradcheck(bad_shape, {input({3})}), Error);
}

// ---- misuse ------------------------------------------------------------------------------

TEST(Gradcheck, RejectsInputsItCannotCheck) {
  Fn id = [](const TensorList& v) { return v[0] * 1; };
  EXPECT_THROW(gradcheck(id, {f64({1, 2}, {2})}), ValueError);  // nothing requires grad
  EXPECT_THROW(gradcheck(id, {}), ValueError);
  Tensor f32 = from_vector(std::vector<float>{1, 2}, {2}).requires_grad_();
  EXPECT_THROW(gradcheck(id, {f32}), DTypeError);
  Fn compare = [](const TensorList& v) { return v[0] > 0; };
  EXPECT_THROW(gradcheck(compare, {input({2})}), DTypeError);
  Fn undefined = [](const TensorList&) { return Tensor(); };
  EXPECT_THROW(gradcheck(undefined, {input({2})}), ValueError);
  // Several elements share memory: one cannot be moved alone.
  Tensor expanded = input({1}).detach().expand({3}).requires_grad_();
  EXPECT_THROW(gradcheck(id, {expanded}), ValueError);
  // Two checked inputs over the same memory.
  Tensor shared = input({4}).detach();
  Tensor lo = shared.narrow(0, 0, 3).requires_grad_(), hi = shared.narrow(0, 2, 2).requires_grad_();
  Fn two = [](const TensorList& v) { return v[0].sum() + v[1].sum(); };
  EXPECT_THROW(gradcheck(two, {lo, hi}), ValueError);
  EXPECT_TRUE(gradcheck(two, {shared.narrow(0, 0, 2).requires_grad_(), shared.narrow(0, 2, 2).requires_grad_()}));
  GradcheckOptions bad_eps;
  bad_eps.eps = 0;
  EXPECT_THROW(gradcheck(id, {input({2})}, bad_eps), ValueError);
  GradcheckOptions bad_tol;
  bad_tol.atol = -1;
  EXPECT_THROW(gradcheck(id, {input({2})}, bad_tol), ValueError);
}
