// The kernel benchmarks' suites: the shapes each holds, the FLOPs and bytes
// each case is counted as, and GEMM parameters that compute what they claim
// (checked with the CPU GEMM).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "striate/striate.h"
#include "suites.h"

namespace striate::bench {
namespace {

int64_t count_if_params(const std::vector<ConvCase>& cases, bool (*pred)(const kernels::ConvParams&)) {
  return std::count_if(cases.begin(), cases.end(), [&](const ConvCase& c) { return pred(c.params); });
}

TEST(BenchSuites, ConvParamsFollowTheOutputSizeRule) {
  const kernels::ConvParams p = conv_params(32, 3, 224, 64, 7, 2, 3);
  EXPECT_EQ(p.dtype, DType::F32);
  EXPECT_EQ(p.out_h, 112);
  EXPECT_EQ(p.out_w, 112);
  EXPECT_EQ(p.dilation_h, 1);
  EXPECT_EQ(p.groups, 1);
  EXPECT_EQ(conv_params(1, 8, 14, 8, 3, 2, 1).out_h, 7);
  EXPECT_EQ(conv_params(1, 3, 224, 64, 11, 4, 2).out_h, 55);
  EXPECT_EQ(conv_shape(p), "32x3x224x224 * 64x3x7x7 /2 p3");
  EXPECT_EQ(conv_shape(conv_params(2, 96, 56, 96, 3, 2, 1, 96)), "2x96x56x56 * 96x1x3x3 /2 p1 g96");
}

TEST(BenchSuites, ConvFlopsCountTwoPerMultiplyAdd) {
  // ResNet-50's stem at batch 32: 2 * 32 * 64 * 112 * 112 * 3 * 7 * 7.
  EXPECT_DOUBLE_EQ(conv_flops(conv_params(32, 3, 224, 64, 7, 2, 3)), 7552892928.0);
  // Groups divide the input channels each output sees: a depthwise 3x3 is 9 multiply-adds an output.
  EXPECT_DOUBLE_EQ(conv_flops(conv_params(1, 16, 8, 16, 3, 1, 1, 16)), 2.0 * 16 * 8 * 8 * 9);
  EXPECT_DOUBLE_EQ(conv_flops(conv_params(2, 4, 5, 6, 1, 1, 0)), 2.0 * 2 * 6 * 25 * 4);
}

TEST(BenchSuites, ResNet50HoldsEveryDistinctConvolutionOnce) {
  const std::vector<ConvCase> cases = conv_suite("resnet50");
  EXPECT_EQ(cases.size(), 23u);
  std::set<std::string> names;
  for (const ConvCase& c : cases) {
    EXPECT_EQ(c.suite, "resnet50");
    EXPECT_EQ(c.params.batch, 32);
    EXPECT_TRUE(names.insert(c.name).second) << "repeated name " << c.name;
  }
  EXPECT_EQ(count_if_params(cases, [](const kernels::ConvParams& p) { return p.kernel_h == 7; }), 1);
  EXPECT_EQ(count_if_params(cases, [](const kernels::ConvParams& p) { return p.kernel_h == 3; }), 7);
  EXPECT_EQ(count_if_params(cases, [](const kernels::ConvParams& p) { return p.kernel_h == 3 && p.stride_h == 2; }),
            3);
  // The projections of layer2..4 (1x1 stride 2); layer1's is the same convolution as its conv3.
  EXPECT_EQ(count_if_params(cases, [](const kernels::ConvParams& p) { return p.kernel_h == 1 && p.stride_h == 2; }),
            3);
  EXPECT_EQ(cases[0].name, "stem 7x7/2 3-64 @224");
  const auto layer1_conv3 = std::find_if(cases.begin(), cases.end(), [](const ConvCase& c) {
    return c.params.channels == 64 && c.params.out_channels == 256 && c.params.height == 56;
  });
  ASSERT_NE(layer1_conv3, cases.end());
  EXPECT_NE(layer1_conv3->name.find("downsample"), std::string::npos) << layer1_conv3->name;
  // The last stage works at 7x7 with 2048 channels out of its conv3.
  const auto last = std::find_if(cases.begin(), cases.end(), [](const ConvCase& c) {
    return c.params.channels == 512 && c.params.out_channels == 2048;
  });
  ASSERT_NE(last, cases.end());
  EXPECT_EQ(last->params.height, 7);
  for (const ConvCase& c : cases) {
    const kernels::ConvParams& p = c.params;
    EXPECT_EQ(p.pad_top, p.kernel_h / 2) << c.name;
    EXPECT_EQ(p.out_h, (p.height + 2 * p.pad_top - p.kernel_h) / p.stride_h + 1) << c.name;
  }
}

TEST(BenchSuites, FullAddsResNet50AtBatch256) {
  const std::vector<ConvCase> cases = conv_suite("resnet50", /*full=*/true);
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(std::count_if(cases.begin(), cases.end(), [](const ConvCase& c) { return c.params.batch == 256; }), 23);
  EXPECT_EQ(conv_suite("vgg16", true).size(), conv_suite("vgg16").size());
}

TEST(BenchSuites, VggLeNetAlexNetAndDepthwiseShapes) {
  const std::vector<ConvCase> vgg = conv_suite("vgg16");
  ASSERT_EQ(vgg.size(), 9u);  // 13 layers, of which 9 distinct
  const int64_t sizes[] = {224, 224, 112, 112, 56, 56, 28, 28, 14};
  for (size_t i = 0; i < vgg.size(); ++i) {
    EXPECT_EQ(vgg[i].params.height, sizes[i]) << vgg[i].name;
    EXPECT_EQ(vgg[i].params.kernel_h, 3);
    EXPECT_EQ(vgg[i].params.out_h, sizes[i]);
  }
  EXPECT_EQ(vgg[0].params.channels, 3);
  EXPECT_EQ(vgg.back().params.channels, 512);

  const std::vector<ConvCase> lenet = conv_suite("lenet5");
  ASSERT_EQ(lenet.size(), 3u);
  EXPECT_EQ(lenet[0].params.batch, 64);
  EXPECT_EQ(lenet[0].params.out_h, 28);
  EXPECT_EQ(lenet[1].params.out_h, 10);
  EXPECT_EQ(lenet[2].params.out_h, 1);

  const std::vector<ConvCase> alex = conv_suite("alexnet");
  ASSERT_EQ(alex.size(), 5u);
  EXPECT_EQ(alex[0].params.kernel_h, 11);
  EXPECT_EQ(alex[0].params.stride_h, 4);
  EXPECT_EQ(alex[0].params.out_h, 55);
  EXPECT_EQ(alex[1].params.out_h, 27);

  const std::vector<ConvCase> dw = conv_suite("depthwise");
  EXPECT_EQ(dw.size(), 10u);
  for (const ConvCase& c : dw) {
    EXPECT_EQ(c.params.groups, c.params.channels) << c.name;
    EXPECT_EQ(c.params.out_channels, c.params.channels) << c.name;
    EXPECT_EQ(c.params.kernel_h, 3);
  }
}

TEST(BenchSuites, NamesAndSelection) {
  EXPECT_THROW(conv_suite("resnet18"), ValueError);
  const std::vector<std::string> all = all_suite_names();
  EXPECT_EQ(all.size(), conv_suite_names().size() + 4);
  for (const std::string& s : conv_suite_names()) {
    EXPECT_TRUE(is_conv_suite(s));
    EXPECT_FALSE(conv_suite(s).empty()) << s;
  }
  EXPECT_FALSE(is_conv_suite("gemm"));
  EXPECT_STREQ(pass_name(ConvPass::GradWeight), "grad weight");
  EXPECT_STREQ(pass_tag(ConvPass::GradInput), "dgrad");
}

TEST(BenchSuites, LayoutsRepeatEverySuiteNchwThenNhwc) {
  const std::vector<ConvCase> cases = conv_suite("lenet5");
  const std::vector<ConvCase> both = in_layouts(cases, true, true);
  ASSERT_EQ(both.size(), 2 * cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_STREQ(layout_name(both[i].params), "NCHW");
    EXPECT_STREQ(layout_name(both[cases.size() + i].params), "NHWC");
    EXPECT_EQ(both[cases.size() + i].name, cases[i].name);
    EXPECT_EQ(conv_shape(both[cases.size() + i].params), conv_shape(cases[i].params));
  }
  EXPECT_EQ(in_layouts(cases, false, true).size(), cases.size());
  EXPECT_TRUE(in_layouts(cases, false, false).empty());
}

TEST(BenchSuites, MathsRepeatTheCasesF32ThenTf32) {
  const std::vector<ConvCase> cases = in_layouts(conv_suite("alexnet"), true, true);
  const std::vector<ConvCase> both = in_maths(cases, true, true);
  ASSERT_EQ(both.size(), 2 * cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_STREQ(math_name(both[i].params), "f32");
    EXPECT_STREQ(math_name(both[cases.size() + i].params), "tf32");
    EXPECT_STREQ(layout_name(both[cases.size() + i].params), layout_name(cases[i].params));
    EXPECT_EQ(conv_shape(both[cases.size() + i].params), conv_shape(cases[i].params));
  }
  EXPECT_EQ(in_maths(cases, true, false).size(), cases.size());
  EXPECT_TRUE(in_maths(cases, false, false).empty());
}

TEST(BenchSuites, GemmCasesAndFlops) {
  const std::vector<GemmCase> cases = gemm_cases();
  ASSERT_EQ(cases.size(), 8u);
  EXPECT_EQ(cases.front().m, 512);
  EXPECT_EQ(cases[4].k, 8192);
  EXPECT_DOUBLE_EQ(gemm_flops(cases[4]), 2.0 * 8192 * 8192 * 8192);
  const GemmCase& fc = cases[5];
  EXPECT_EQ(fc.m, 256);
  EXPECT_EQ(fc.n, 1000);
  EXPECT_EQ(fc.k, 2048);
  EXPECT_TRUE(fc.trans_b);
  const kernels::GemmParams p = gemm_params(fc, nullptr, nullptr, nullptr);
  EXPECT_EQ(p.a.ld, 2048);
  EXPECT_EQ(p.b.ld, 2048);  // the weight is stored [1000, 2048]
  EXPECT_EQ(p.ldc, 1000);
  EXPECT_EQ(gemm_b_elements(fc), 2048 * 1000);
}

// Each transpose combination's parameters give op(A) op(B) over the stored layouts.
TEST(BenchSuites, GemmParamsComputeTheProductTheyDescribe) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const GemmCase c{"t", 3, 5, 4, ta, tb};
      std::vector<double> a(gemm_a_elements(c)), b(gemm_b_elements(c)), out(gemm_c_elements(c), -1);
      for (size_t i = 0; i < a.size(); ++i) a[i] = 0.5 + static_cast<double>(i);
      for (size_t i = 0; i < b.size(); ++i) b[i] = 1.0 - 0.25 * static_cast<double>(i);
      kernels::GemmParams p = gemm_params(c, a.data(), b.data(), out.data());
      p.dtype = DType::F64;
      kernels::cpu::gemm(p);
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          double want = 0;
          for (int64_t l = 0; l < c.k; ++l)
            want += (ta ? a[l * c.m + i] : a[i * c.k + l]) * (tb ? b[j * c.k + l] : b[l * c.n + j]);
          EXPECT_DOUBLE_EQ(out[i * c.n + j], want) << ta << tb << " at " << i << "," << j;
        }
    }
}

TEST(BenchSuites, MemoryBytesCountEachTensorOncePerPass) {
  const std::vector<MemorySpec> specs = memory_suite();
  ASSERT_EQ(specs.size(), 15u);  // 11 cases, the 4 on the ResNet stem's activations in NHWC too
  const auto find = [&](MemoryOp op) {
    const auto it = std::find_if(specs.begin(), specs.end(), [&](const MemorySpec& s) { return s.op == op; });
    EXPECT_NE(it, specs.end());
    return *it;
  };
  EXPECT_EQ(find(MemoryOp::Relu).bytes, int64_t{536870912});  // 64M floats read + written
  EXPECT_EQ(find(MemoryOp::ReluBackward).bytes, 3 * int64_t{4} * kMemoryElements);
  EXPECT_EQ(find(MemoryOp::Add).bytes, 3 * int64_t{4} * kMemoryElements);
  EXPECT_EQ(find(MemoryOp::MaxPool).shape, (std::vector<int64_t>{32, 64, 112, 112}));
  EXPECT_EQ(find(MemoryOp::MaxPool).bytes, int64_t{4} * (32 * 64 * 112 * 112 + 32 * 64 * 56 * 56));
  EXPECT_EQ(find(MemoryOp::MaxPoolBackward).bytes, int64_t{179830784});  // f32 grads + int64 indices
  EXPECT_EQ(find(MemoryOp::BatchNorm).bytes, int64_t{12} * 32 * 64 * 112 * 112);
  EXPECT_EQ(find(MemoryOp::BatchNormBackward).bytes, int64_t{20} * 32 * 64 * 112 * 112);
  EXPECT_EQ(find(MemoryOp::Softmax).bytes, int64_t{8} * 65536 * 1000);
  EXPECT_EQ(find(MemoryOp::SoftmaxBackward).bytes, int64_t{12} * 65536 * 1000);
  EXPECT_EQ(find(MemoryOp::Sgd).bytes, int64_t{511140640});  // 5 floats a ResNet-50 parameter
  EXPECT_EQ(find(MemoryOp::Adam).bytes, int64_t{28} * kResNet50Parameters);
  const std::vector<MemorySpec> small = memory_suite(1000);
  EXPECT_EQ(std::find_if(small.begin(), small.end(), [](const MemorySpec& s) { return s.op == MemoryOp::Adam; })->bytes,
            28000);
  for (const MemorySpec& s : specs) {
    if (!s.channels_last) continue;
    EXPECT_NE(s.name.find("NHWC"), std::string::npos) << s.name;
    const auto nchw = std::find_if(specs.begin(), specs.end(),
                                   [&](const MemorySpec& o) { return o.op == s.op && !o.channels_last; });
    ASSERT_NE(nchw, specs.end()) << s.name;
    EXPECT_EQ(s.bytes, nchw->bytes) << s.name;
    EXPECT_EQ(s.shape, nchw->shape) << s.name;
  }
  for (const MemorySpec& s : specs) {
    EXPECT_FALSE(s.traffic.empty()) << s.name;
    EXPECT_GT(s.bytes, int64_t{64} << 20) << s.name << " would fit in a large L2";
  }
}

TEST(BenchSuites, MemoryLayoutsFilterOnlyTheFourDimensionalCases) {
  const std::vector<MemorySpec> all = memory_suite();
  const auto count = [](const std::vector<MemorySpec>& v, bool four_d, bool channels_last) {
    return std::count_if(v.begin(), v.end(), [&](const MemorySpec& s) {
      return (s.shape.size() == 4) == four_d && s.channels_last == channels_last;
    });
  };
  EXPECT_EQ(in_layouts(all, true, true).size(), all.size());
  const std::vector<MemorySpec> nchw = in_layouts(all, true, false), nhwc = in_layouts(all, false, true);
  EXPECT_EQ(count(nchw, true, false), 4);
  EXPECT_EQ(count(nchw, true, true), 0);
  EXPECT_EQ(count(nhwc, true, true), 4);
  EXPECT_EQ(count(nhwc, true, false), 0);
  EXPECT_EQ(count(nchw, false, false), 7);
  EXPECT_EQ(count(nhwc, false, false), 7);
}

TEST(BenchSuites, ResNet50ParameterCountMatchesTheModel) {
  EXPECT_EQ(models::resnet50()->parameter_count(), kResNet50Parameters);
}

}  // namespace
}  // namespace striate::bench
