// The kernel benchmarks' derived figures (ratios, rates, peaks, versions),
// the PyTorch-overhead merge and the command line.
#include <gtest/gtest.h>

#include "options.h"
#include "report.h"
#include "striate/core/error.h"

namespace striate::bench {
namespace {

Measurement timed(double median_ms) {
  Measurement m;
  m.time = summarize({median_ms});
  return m;
}

Measurement failed(const std::string& why) {
  Measurement m;
  m.error = why;
  return m;
}

TEST(BenchReport, RatioIsLibraryTimeOverNativeTime) {
  // Native twice as slow as cuDNN: 0.5; native faster: above 1.
  EXPECT_DOUBLE_EQ(*speed_ratio(timed(2), timed(1)), 0.5);
  EXPECT_DOUBLE_EQ(*speed_ratio(timed(1), timed(3)), 3);
  EXPECT_FALSE(speed_ratio(failed("boom"), timed(1)));
  EXPECT_FALSE(speed_ratio(timed(1), failed("cuDNN is not in this build")));
  EXPECT_FALSE(speed_ratio(Measurement{}, timed(1)));  // never timed
}

TEST(BenchReport, RatesFromTheMedian) {
  Measurement m;
  m.time = summarize({2, 1, 100});  // median 2 ms
  EXPECT_DOUBLE_EQ(*tflops(4e12, m), 2000);
  EXPECT_DOUBLE_EQ(*gigabytes_per_second(2'000'000'000, m), 1000);
  EXPECT_FALSE(tflops(1e9, failed("x")));
  EXPECT_FALSE(gigabytes_per_second(1, Measurement{}));
}

TEST(BenchReport, PeakIsTheNonTensorCoreF32Rate) {
  EXPECT_EQ(fp32_lanes_per_sm(9, 0), 128);  // H100, H200
  EXPECT_EQ(fp32_lanes_per_sm(8, 0), 64);   // A100
  EXPECT_EQ(fp32_lanes_per_sm(8, 6), 128);
  EXPECT_EQ(fp32_lanes_per_sm(8, 9), 128);
  EXPECT_EQ(fp32_lanes_per_sm(7, 0), 64);
  EXPECT_EQ(fp32_lanes_per_sm(0, 0), 0);
  // H100 SXM: 132 SMs at 1980 MHz, 66.9 TFLOP/s; A100: 108 SMs at 1410 MHz, 19.5 TFLOP/s.
  EXPECT_DOUBLE_EQ(peak_f32_flops(132, 1'980'000, 128), 66908160000000.0);
  EXPECT_DOUBLE_EQ(peak_f32_flops(108, 1'410'000, 64), 19491840000000.0);
}

TEST(BenchReport, VersionStrings) {
  EXPECT_EQ(format_cuda_version(12040), "12.4");
  EXPECT_EQ(format_cuda_version(12080), "12.8");
  EXPECT_EQ(format_cuda_version(13000), "13.0");
  EXPECT_EQ(format_cuda_version(0), "unknown");
  EXPECT_EQ(format_cudnn_version(90100), "9.1.0");
  EXPECT_EQ(format_cudnn_version(91002), "9.10.2");
  EXPECT_EQ(format_cudnn_version(8906), "8.9.6");
  EXPECT_EQ(format_cudnn_version(0), "unknown");
  EXPECT_EQ(
      parse_driver_release("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar 5 22:23:56 UTC 2024"),
      "550.54.15");
  EXPECT_EQ(parse_driver_release("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build"),
            "570.86.15");
  EXPECT_EQ(parse_driver_release(""), "unknown");
  EXPECT_EQ(parse_driver_release("NVRM version: NVIDIA UNIX x86_64 Kernel Module"), "unknown");
}

TEST(BenchReport, RatioSummariesPerSuite) {
  std::vector<ConvResult> results;
  const ConvCase a{"resnet50", "a", conv_params(1, 1, 4, 1, 1, 1, 0)};
  const ConvCase b{"vgg16", "b", conv_params(1, 1, 4, 1, 1, 1, 0)};
  results.push_back({a, ConvPass::Forward, timed(1), timed(1)});    // 1
  results.push_back({a, ConvPass::GradInput, timed(4), timed(1)});  // 0.25
  results.push_back({a, ConvPass::GradWeight, timed(1), timed(2)}); // 2
  results.push_back({b, ConvPass::Forward, failed("x"), timed(1)}); // not counted
  const std::vector<RatioSummary> s = conv_ratio_summaries(results);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].suite, "resnet50");
  EXPECT_EQ(s[0].cases, 3);
  EXPECT_DOUBLE_EQ(s[0].median, 1);
  EXPECT_DOUBLE_EQ(s[0].min, 0.25);
  EXPECT_EQ(s[0].below_half, 1);
  EXPECT_EQ(s[1].suite, "vgg16");
  EXPECT_EQ(s[1].cases, 0);
}

TEST(BenchReport, RatioSummariesKeepTheLayoutsApart) {
  const ConvCase nchw{"resnet50", "a", conv_params(1, 1, 4, 1, 1, 1, 0)};
  const ConvCase nhwc = in_layouts({nchw}, false, true)[0];
  const std::vector<RatioSummary> s = conv_ratio_summaries(
      {{nchw, ConvPass::Forward, timed(1), timed(2)}, {nhwc, ConvPass::Forward, timed(2), timed(1)}});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].layout, "NCHW");
  EXPECT_DOUBLE_EQ(s[0].median, 2);
  EXPECT_EQ(s[1].suite, "resnet50");
  EXPECT_EQ(s[1].layout, "NHWC");
  EXPECT_DOUBLE_EQ(s[1].median, 0.5);
}

TEST(BenchReport, RatioSummariesKeepTheMathsApart) {
  const ConvCase f32{"vgg16", "a", conv_params(1, 1, 4, 1, 1, 1, 0)};
  const ConvCase tf32 = in_maths({f32}, false, true)[0];
  const std::vector<RatioSummary> s = conv_ratio_summaries(
      {{f32, ConvPass::Forward, timed(1), timed(3)}, {tf32, ConvPass::Forward, timed(4), timed(1)}});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].math, "f32");
  EXPECT_DOUBLE_EQ(s[0].median, 3);
  EXPECT_EQ(s[1].math, "tf32");
  EXPECT_EQ(s[1].layout, "NCHW");
  EXPECT_DOUBLE_EQ(s[1].median, 0.25);
}

TEST(BenchReport, Tf32PeakPerArchitectureAndPerCase) {
  EXPECT_EQ(tf32_flops_per_sm_clock(9, 0), 2048);  // H100, H200
  EXPECT_EQ(tf32_flops_per_sm_clock(8, 0), 1024);  // A100
  EXPECT_EQ(tf32_flops_per_sm_clock(8, 6), 256);
  EXPECT_EQ(tf32_flops_per_sm_clock(8, 9), 256);
  EXPECT_EQ(tf32_flops_per_sm_clock(7, 5), 0);     // no TF32
  EXPECT_EQ(tf32_flops_per_sm_clock(12, 0), 0);    // not known here
  DeviceFacts d;
  d.peak_f32_flops = 60e12;
  d.peak_tf32_flops = 500e12;
  const ConvCase f32{"vgg16", "a", conv_params(1, 1, 4, 1, 1, 1, 0)};
  EXPECT_DOUBLE_EQ(conv_peak_flops(d, f32.params), 60e12);
  EXPECT_DOUBLE_EQ(conv_peak_flops(d, in_maths({f32}, false, true)[0].params), 500e12);
}

TEST(BenchReport, FailuresLeaveOutLibrariesMissingFromTheBuildAndFallbacks) {
  Report r;
  const ConvCase c{"lenet5", "c", conv_params(1, 1, 4, 1, 1, 1, 0)};
  r.conv.push_back({c, ConvPass::Forward, timed(1), failed("cuDNN is not in this build")});
  r.conv.push_back({c, ConvPass::GradWeight, timed(1), failed(kLibraryFellBack)});
  EXPECT_EQ(failure_count(r), 0);
  EXPECT_FALSE(is_not_a_failure("cuDNN error CUDNN_STATUS_EXECUTION_FAILED"));
  r.conv.push_back({c, ConvPass::GradInput, failed("CUDA error: an illegal memory access"), timed(1)});
  r.memory.push_back({memory_suite().front(), failed("out of memory")});
  EXPECT_EQ(failure_count(r), 2);
  r.allocator = AllocatorResult{};
  r.allocator->training_error = "boom";
  r.suites.push_back({"gemm", 1.0, "stopped"});
  EXPECT_EQ(failure_count(r), 4);
}

TEST(BenchReport, TorchOverheadMerge) {
  OverheadResult o;
  apply_torch_overhead(o, R"({"torch_version": "2.5.1", "us_per_op": 6.25, "calls": 10000})");
  ASSERT_TRUE(o.torch_us);
  EXPECT_DOUBLE_EQ(*o.torch_us, 6.25);
  EXPECT_EQ(o.torch_version, "2.5.1");

  OverheadResult missing;
  apply_torch_overhead(missing, R"({"error": "torch.cuda.is_available() is False"})");
  EXPECT_FALSE(missing.torch_us);
  EXPECT_EQ(missing.torch_note, "torch.cuda.is_available() is False");

  OverheadResult garbage;
  apply_torch_overhead(garbage, "Traceback (most recent call last):");
  EXPECT_FALSE(garbage.torch_us);
  EXPECT_NE(garbage.torch_note.find("unreadable"), std::string::npos);
  OverheadResult no_number;
  apply_torch_overhead(no_number, R"({"torch_version": "2.5.1"})");
  EXPECT_FALSE(no_number.torch_us);
  EXPECT_FALSE(no_number.torch_note.empty());
}

TEST(BenchOptions, DefaultsToEverySuite) {
  const Options o = parse_options({});
  EXPECT_EQ(o.suites, all_suite_names());
  EXPECT_EQ(o.mode(), "default");
  EXPECT_EQ(o.out_dir, ".");
  EXPECT_EQ(o.policy().max_reps, default_policy().max_reps);
}

TEST(BenchOptions, SuitesInOrderWithoutRepeats) {
  const Options o = parse_options({"--suite", "gemm,resnet50", "--suite", "gemm", "--quick", "--out", "/tmp/x",
                                   "--commit", "abc123", "--torch-overhead", "t.json"});
  EXPECT_EQ(o.suites, (std::vector<std::string>{"gemm", "resnet50"}));
  EXPECT_TRUE(o.quick);
  EXPECT_EQ(o.mode(), "quick");
  EXPECT_EQ(o.policy().max_reps, quick_policy().max_reps);
  EXPECT_EQ(o.out_dir, "/tmp/x");
  EXPECT_EQ(o.commit, "abc123");
  EXPECT_EQ(o.torch_overhead, "t.json");
  EXPECT_EQ(parse_options({"--suite", "conv"}).suites, conv_suite_names());
  EXPECT_EQ(parse_options({"--suite", "memory", "--suite", "all"}).suites.front(), "memory");
  EXPECT_EQ(parse_options({"--suite", "all"}).suites.size(), all_suite_names().size());
  EXPECT_TRUE(parse_options({"--full"}).full);
  EXPECT_TRUE(parse_options({"--list"}).list);
  EXPECT_TRUE(parse_options({"-h"}).help);
  const Options both = parse_options({});
  EXPECT_TRUE(both.nchw && both.nhwc);
  const Options nhwc = parse_options({"--layout", "nhwc"});
  EXPECT_TRUE(!nhwc.nchw && nhwc.nhwc);
  const Options nchw = parse_options({"--layout", "nchw"});
  EXPECT_TRUE(nchw.nchw && !nchw.nhwc);
  EXPECT_TRUE(both.f32 && !both.tf32);  // f32 only unless asked
  const Options tf32 = parse_options({"--math", "tf32"});
  EXPECT_TRUE(!tf32.f32 && tf32.tf32);
  const Options maths = parse_options({"--math", "both"});
  EXPECT_TRUE(maths.f32 && maths.tf32);
}

TEST(BenchOptions, BadArgumentsSayWhatWasExpected) {
  try {
    parse_options({"--suite", "resnet18"});
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet50"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_options({"--out"}), ValueError);
  EXPECT_THROW(parse_options({"--fast"}), ValueError);
  EXPECT_THROW(parse_options({"--quick", "--full"}), ValueError);
  EXPECT_THROW(parse_options({"--layout", "chw"}), ValueError);
  EXPECT_THROW(parse_options({"--math", "fp16"}), ValueError);
  EXPECT_NE(usage().find("--suite"), std::string::npos);
}

}  // namespace
}  // namespace striate::bench
