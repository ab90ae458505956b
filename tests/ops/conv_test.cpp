// conv1d/conv2d against a direct 7-loop convolution, gradcheck, and errors.
#include <gtest/gtest.h>

#include "striate/core/gradcheck.h"
#include "striate/core/ops/conv.h"
#include "striate/striate.h"

using namespace striate;

namespace {

struct Case {
  Shape input;   // [N, C, H, W]
  Shape weight;  // [O, C/g, kH, kW]
  std::array<int64_t, 2> stride{1, 1}, pad{0, 0}, dilation{1, 1};
  int64_t groups = 1;
  bool bias = true;
  PaddingMode mode = PaddingMode::Explicit;
};

// The definition, with explicit (top, bottom, left, right) padding.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, std::array<int64_t, 2> s,
                    std::array<int64_t, 4> p, std::array<int64_t, 2> d, int64_t groups) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0), kh = w.size(2),
                kw = w.size(3);
  const int64_t oh = (H + p[0] + p[1] - d[0] * (kh - 1) - 1) / s[0] + 1;
  const int64_t ow = (W + p[2] + p[3] - d[1] * (kw - 1) - 1) / s[1] + 1;
  const int64_t cg = C / groups, og = O / groups;
  auto xv = x.contiguous().to_vector<double>(), wv = w.contiguous().to_vector<double>();
  std::vector<double> bv = b.defined() ? b.to_vector<double>() : std::vector<double>(O, 0.0);
  std::vector<double> out(N * O * oh * ow);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bv[o];
          const int64_t grp = o / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ki = 0; ki < kh; ++ki)
              for (int64_t kj = 0; kj < kw; ++kj) {
                const int64_t y = i * s[0] - p[0] + ki * d[0], xx = j * s[1] - p[2] + kj * d[1];
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                acc += xv[((n * C + grp * cg + c) * H + y) * W + xx] * wv[((o * cg + c) * kh + ki) * kw + kj];
              }
          out[((n * O + o) * oh + i) * ow + j] = acc;
        }
  return from_vector(out, {N, O, oh, ow});
}

std::array<int64_t, 4> explicit_padding(const Case& c) {
  if (c.mode == PaddingMode::Valid) return {0, 0, 0, 0};
  if (c.mode == PaddingMode::Same) {
    const int64_t th = c.dilation[0] * (c.weight[2] - 1), tw = c.dilation[1] * (c.weight[3] - 1);
    return {th / 2, th - th / 2, tw / 2, tw - tw / 2};
  }
  return {c.pad[0], c.pad[0], c.pad[1], c.pad[1]};
}

ConvPadding<2> padding_of(const Case& c) {
  if (c.mode != PaddingMode::Explicit) return c.mode;
  return ConvPadding<2>(std::vector<int64_t>{c.pad[0], c.pad[1]});
}

std::vector<Case> sweep() {
  std::vector<Case> cases = {
      {{2, 3, 7, 7}, {4, 3, 3, 3}},                                        // plain
      {{1, 3, 7, 7}, {2, 3, 3, 3}, {2, 2}},                                // stride 2, batch 1
      {{1, 2, 7, 7}, {2, 2, 3, 3}, {3, 3}},                                // stride 3
      {{2, 2, 9, 6}, {3, 2, 2, 3}, {3, 1}, {1, 0}},                        // rectangular, asymmetric stride
      {{1, 2, 8, 8}, {2, 2, 3, 3}, {1, 1}, {2, 1}, {2, 2}},                // dilation 2
      {{2, 4, 6, 5}, {6, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2},             // groups 2
      {{1, 4, 5, 5}, {4, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 4},             // depthwise
      {{2, 5, 4, 3}, {3, 5, 1, 1}},                                        // 1x1 (GEMM path)
      {{1, 3, 5, 5}, {2, 3, 1, 1}, {2, 2}, {0, 0}, {1, 1}, 1, false},      // strided 1x1, no bias
      {{1, 2, 6, 6}, {2, 2, 4, 4}, {1, 1}, {0, 0}, {1, 1}, 1, true, PaddingMode::Same},   // even kernel, same
      {{1, 2, 7, 5}, {3, 2, 3, 2}, {1, 1}, {0, 0}, {2, 1}, 1, true, PaddingMode::Same},   // same with dilation
      {{1, 2, 6, 6}, {2, 2, 3, 3}, {1, 1}, {0, 0}, {1, 1}, 1, true, PaddingMode::Valid},
      {{1, 3, 23, 23}, {2, 3, 11, 11}, {4, 4}, {2, 2}},                    // AlexNet-style first layer
  };
  return cases;
}

}  // namespace

TEST(Conv2d, ForwardMatchesDirectConvolution) {
  manual_seed(1);
  for (const auto& c : sweep()) {
    Tensor x = randn(c.input, kDouble), w = randn(c.weight, kDouble);
    Tensor b = c.bias ? randn({c.weight[0]}, kDouble) : Tensor();
    Tensor got = conv2d(x, w, b, std::vector<int64_t>{c.stride[0], c.stride[1]}, padding_of(c),
                        std::vector<int64_t>{c.dilation[0], c.dilation[1]}, c.groups);
    Tensor want = naive_conv2d(x, w, b, c.stride, explicit_padding(c), c.dilation, c.groups);
    ASSERT_EQ(got.sizes(), want.sizes()) << shape_str(c.input) << " * " << shape_str(c.weight);
    EXPECT_TRUE(allclose(got, want, 1e-10, 1e-10)) << shape_str(c.input) << " * " << shape_str(c.weight);
    // f32 through BLAS sgemm agrees to float precision.
    Tensor got32 = conv2d(x.to(kFloat), w.to(kFloat), c.bias ? b.to(kFloat) : Tensor(),
                          std::vector<int64_t>{c.stride[0], c.stride[1]}, padding_of(c),
                          std::vector<int64_t>{c.dilation[0], c.dilation[1]}, c.groups);
    EXPECT_EQ(got32.dtype(), kFloat);
    EXPECT_TRUE(allclose(got32.to(kDouble), want, 1e-4, 1e-4));
  }
}

TEST(Conv2d, GradcheckOverTheSweep) {
  manual_seed(2);
  for (const auto& c : sweep()) {
    if (c.weight[2] > 5) continue;  // the 11x11 case is covered by the forward test
    Tensor x = randn(c.input, kDouble).requires_grad_();
    Tensor w = randn(c.weight, kDouble).requires_grad_();
    TensorList inputs{x, w};
    if (c.bias) inputs.push_back(randn({c.weight[0]}, kDouble).requires_grad_());
    auto fn = [&](const TensorList& v) {
      return conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), std::vector<int64_t>{c.stride[0], c.stride[1]},
                    padding_of(c), std::vector<int64_t>{c.dilation[0], c.dilation[1]}, c.groups);
    };
    EXPECT_TRUE(gradcheck(fn, inputs)) << shape_str(c.input) << " * " << shape_str(c.weight);
  }
}

TEST(Conv2d, ChannelsLastNonContiguousAndUnbatchedInputs) {
  manual_seed(3);
  Tensor x = randn({2, 3, 6, 5}, kDouble), w = randn({4, 3, 3, 3}, kDouble), b = randn({4}, kDouble);
  Tensor ref = conv2d(x, w, b, 1, 1);
  Tensor nhwc = conv2d(x.contiguous(MemoryFormat::ChannelsLast), w, b, 1, 1);
  EXPECT_TRUE(nhwc.is_contiguous(MemoryFormat::ChannelsLast));
  EXPECT_TRUE(allclose(nhwc, ref, 1e-12, 1e-12));
  Tensor transposed = x.transpose(2, 3).contiguous().transpose(2, 3);  // same values, odd strides
  EXPECT_TRUE(allclose(conv2d(transposed, w, b, 1, 1), ref, 1e-12, 1e-12));
  Tensor single = conv2d(x[0], w, b, 1, 1);
  EXPECT_EQ(single.sizes(), (Shape{4, 6, 5}));
  EXPECT_TRUE(allclose(single, ref[0], 1e-12, 1e-12));
  EXPECT_EQ(conv2d(x.to(kHalf), w.to(kHalf), b.to(kHalf), 1, 1).dtype(), kHalf);
  EXPECT_TRUE(allclose(conv2d(x.to(kBFloat16), w.to(kBFloat16), {}, 1, 1).to(kDouble),
                       conv2d(x.to(kBFloat16).to(kDouble), w.to(kBFloat16).to(kDouble), {}, 1, 1), 2e-2, 5e-2));
}

// Channels last runs the kernels' NHWC path (not a conversion at the op):
// the same values and gradients as NCHW over the sweep, NHWC output and
// input gradient, and the weight gradient in the weight's own layout.
TEST(Conv2d, ChannelsLastMatchesNchwOverTheSweep) {
  manual_seed(4);
  for (const auto& c : sweep())
    for (bool weight_channels_last : {false, true}) {
      SCOPED_TRACE(shape_str(c.input) + " * " + shape_str(c.weight) + (weight_channels_last ? ", OHWI weight" : ""));
      const Tensor x0 = randn(c.input, kDouble), w0 = randn(c.weight, kDouble);
      const Tensor b0 = c.bias ? randn({c.weight[0]}, kDouble) : Tensor();
      const auto run = [&](bool channels_last, TensorList& grads) {
        Tensor x = (channels_last ? x0.contiguous(MemoryFormat::ChannelsLast) : x0.clone()).requires_grad_();
        Tensor w = (weight_channels_last ? w0.contiguous(MemoryFormat::ChannelsLast) : w0.clone()).requires_grad_();
        Tensor b = c.bias ? b0.clone().requires_grad_() : Tensor();
        Tensor y = conv2d(x, w, b, std::vector<int64_t>{c.stride[0], c.stride[1]}, padding_of(c),
                          std::vector<int64_t>{c.dilation[0], c.dilation[1]}, c.groups);
        manual_seed(5);
        y.backward(randn(y.sizes(), kDouble));
        grads = {x.grad(), w.grad(), c.bias ? b.grad() : Tensor()};
        return y;
      };
      TensorList want, got;
      const Tensor y_want = run(false, want), y_got = run(true, got);
      EXPECT_TRUE(y_got.is_contiguous(MemoryFormat::ChannelsLast));
      EXPECT_TRUE(allclose(y_got, y_want, 1e-12, 1e-12));
      EXPECT_TRUE(got[0].is_contiguous(MemoryFormat::ChannelsLast));
      // By its strides too (a batch of one is NHWC-contiguous whatever its batch stride).
      if (c.input[1] > 1) EXPECT_EQ(got[0].suggest_memory_format(), MemoryFormat::ChannelsLast);
      EXPECT_TRUE(allclose(got[0], want[0], 1e-12, 1e-12)) << "grad input";
      EXPECT_TRUE(got[1].is_contiguous(weight_channels_last ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous));
      EXPECT_TRUE(allclose(got[1], want[1], 1e-12, 1e-12)) << "grad weight";
      if (c.bias) EXPECT_TRUE(allclose(got[2], want[2], 1e-12, 1e-12)) << "grad bias";
    }
}

TEST(Conv2d, ChannelsLastGradcheck) {
  manual_seed(6);
  Tensor x = randn({2, 4, 5, 6}, kDouble).contiguous(MemoryFormat::ChannelsLast).requires_grad_();
  Tensor w = randn({6, 2, 3, 2}, kDouble).contiguous(MemoryFormat::ChannelsLast).requires_grad_();
  Tensor b = randn({6}, kDouble).requires_grad_();
  auto fn = [](const TensorList& v) { return conv2d(v[0], v[1], v[2], std::vector<int64_t>{2, 1}, 1, 1, 2); };
  EXPECT_TRUE(gradcheck(fn, {x, w, b}));
}

TEST(Conv2d, StringPaddingAndOutputSizeArithmetic) {
  Tensor x = ones({1, 1, 32, 32}), w = ones({1, 1, 5, 5});
  EXPECT_EQ(conv2d(x, w, {}, 1, "same").sizes(), (Shape{1, 1, 32, 32}));
  EXPECT_EQ(conv2d(x, w, {}, 1, 2).sizes(), (Shape{1, 1, 32, 32}));
  EXPECT_EQ(conv2d(x, w, {}, 1, "valid").sizes(), (Shape{1, 1, 28, 28}));
  // 7x7 input, 3x3 filter: stride 1 -> 5, stride 2 -> 3, stride 3 -> 2.
  EXPECT_EQ(conv_output_size(7, 3, 1), 5);
  EXPECT_EQ(conv_output_size(7, 3, 2), 3);
  EXPECT_EQ(conv_output_size(7, 3, 3), 2);
  EXPECT_EQ(conv_output_size(227, 11, 4), 55);
  EXPECT_EQ(conv_output_size(224, 7, 2, 3), 112);
  EXPECT_THROW(conv_output_size(3, 5), ShapeError);
}

TEST(Conv1d, MatchesConv2dOverAHeightOfOne) {
  manual_seed(4);
  Tensor x = randn({2, 4, 11}, kDouble).requires_grad_(), w = randn({6, 2, 3}, kDouble).requires_grad_();
  Tensor b = randn({6}, kDouble).requires_grad_();
  Tensor y = conv1d(x, w, b, 2, 1, 2, 2);
  Tensor ref = conv2d(x.unsqueeze(2), w.unsqueeze(2), b, std::vector<int64_t>{1, 2}, std::vector<int64_t>{0, 1},
                      std::vector<int64_t>{1, 2}, 2)
                   .squeeze(2);
  EXPECT_EQ(y.sizes(), (Shape{2, 6, 5}));
  EXPECT_TRUE(allclose(y, ref, 1e-12, 1e-12));
  EXPECT_TRUE(gradcheck([](const TensorList& v) { return conv1d(v[0], v[1], v[2], 2, 1, 2, 2); }, {x, w, b}));
  Tensor x1 = randn({1, 2, 9}, kDouble).requires_grad_(), w1 = randn({3, 2, 4}, kDouble).requires_grad_();
  EXPECT_EQ(conv1d(x1, w1, {}, 1, "same").sizes(), (Shape{1, 3, 9}));
  EXPECT_TRUE(gradcheck([](const TensorList& v) { return conv1d(v[0], v[1], {}, 1, kSame); }, {x1, w1}));
  EXPECT_EQ(conv1d(randn({2, 9}), randn({3, 2, 4})).sizes(), (Shape{3, 6}));  // unbatched
}

TEST(Conv2d, BadArgumentsRaiseClearErrors) {
  Tensor x = ones({1, 3, 8, 8}), w = ones({4, 3, 3, 3});
  EXPECT_THROW(conv2d(ones({3, 8}), w), ShapeError);                    // wrong rank
  EXPECT_THROW(conv2d(x, ones({4, 3, 3})), ShapeError);                 // weight rank
  EXPECT_THROW(conv2d(ones({1, 2, 8, 8}), w), ShapeError);              // channel mismatch
  EXPECT_THROW(conv2d(x, ones({4, 1, 3, 3}), {}, 1, 0, 1, 2), ShapeError);  // 3 channels, groups 2
  EXPECT_THROW(conv2d(x, ones({4, 1, 3, 3}), {}, 1, 0, 1, 3), ValueError);  // 4 outputs, groups 3
  EXPECT_THROW(conv2d(x, w, {}, 1, -1), ValueError);                    // negative padding
  EXPECT_THROW(conv2d(x, w, {}, 0), ValueError);                        // zero stride
  EXPECT_THROW(conv2d(x, w, {}, 2, "same"), ValueError);                // same + stride
  EXPECT_THROW(conv2d(ones({1, 3, 2, 2}), w), ShapeError);              // kernel larger than input
  EXPECT_THROW(conv2d(x, w, ones({3})), ShapeError);                    // bias shape
  EXPECT_THROW(conv2d(x, w.to(kDouble)), DTypeError);                   // dtype mismatch
  EXPECT_THROW(conv2d(x, w, {}, 1, "full"), ValueError);                // unknown padding mode
  try {
    conv2d(ones({1, 1, 32, 32}), w);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("to have 3 channels, but got 1"), std::string::npos) << e.what();
  }
}
